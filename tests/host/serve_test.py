#!/usr/bin/env python3
"""End-to-end tests of `shoal serve` (ctest host.serve.CASE).

Every case starts its own `shoal serve` on 127.0.0.1 (port 0, the bound port
is read from its stdout) and stops it with SIGTERM. Where node's reference
implementation can answer (`jco serve --isolate-requests instance`, a fresh
instance per request as well), responses are compared with it: status, body,
and the headers the guest set. Traps, timeouts and limits are checked against
what `shoal serve` specifies (jco serve dies on a trap and has no limits).
"""
import argparse
import hashlib
import http.client
import http.server
import os
import random
import re
import select
import signal
import socket
import subprocess
import sys
import threading
import time

HOP = {"date", "connection", "keep-alive", "transfer-encoding", "content-length"}


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def check(cond, msg):
    if not cond:
        fail(msg)
    print("ok: " + msg)


class Shoal:
    def __init__(self, args, opts):
        os.makedirs(args.work, exist_ok=True)
        self.err_path = os.path.join(args.work, "serve.stderr")
        self.err = open(self.err_path, "w")
        cmd = [args.shoal, "serve", "--addr", "127.0.0.1:0"] + opts + [args.component]
        self.p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=self.err, start_new_session=True)
        line = b""
        end = time.time() + 60
        while not line.endswith(b"\n"):
            left = end - time.time()
            if left <= 0 or not select.select([self.p.stdout], [], [], left)[0]:
                self.stop()
                fail("shoal serve did not say it was listening: " + open(self.err_path).read())
            ch = os.read(self.p.stdout.fileno(), 1)  # unbuffered: select sees the rest
            if not ch:
                self.stop()
                fail("shoal serve exited: " + open(self.err_path).read())
            line += ch
        m = re.match(rb"listening on port (\d+)(?:, metrics on port (\d+))?", line)
        if not m:
            fail("unexpected first line %r" % line)
        self.port = int(m.group(1))
        self.admin = int(m.group(2)) if m.group(2) else None

    def stop(self, timeout=20):
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.p.pid, signal.SIGKILL)
                self.p.wait()
                fail("shoal serve did not stop on SIGTERM within %ds" % timeout)
        self.err.close()
        log = open(self.err_path).read()
        if "Sanitizer" in log or "runtime error" in log:
            print(log)
            fail("sanitizer report")
        return self.p.returncode


class Jco:
    """jco serve (node): the reference. Runs in its own process group."""

    def __init__(self, args):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.port = s.getsockname()[1]
        s.close()
        cmd = [args.node, "--import", args.fs_root, args.jco, "serve", "--host", "127.0.0.1", "--port",
               str(self.port), "--isolate-requests", "instance", args.component]
        self.p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                  start_new_session=True)
        end = time.time() + 90
        while time.time() < end:
            try:
                socket.create_connection(("127.0.0.1", self.port), 1).close()
                return
            except OSError:
                time.sleep(0.2)
        self.stop()
        fail("jco serve did not start")

    def stop(self):
        try:
            os.killpg(self.p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        self.p.wait()


def request(port, method, path, headers=None, body=None, timeout=30):
    c = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    c.request(method, path, body=body, headers=headers or {})
    r = c.getresponse()
    data = r.read()
    hs = {}
    for k, v in r.getheaders():
        hs.setdefault(k.lower(), []).append(v)
    c.close()
    return r.status, hs, data


def wait_in_flight(srv, n, secs=30):
    """Waits until the server runs n instances (its admin gauge), so timing
    on a loaded machine does not decide what a test sees."""
    end = time.time() + secs
    while time.time() < end:
        text = request(srv.admin, "GET", "/metrics")[2].decode()
        m = re.search(r"shoal_instances_in_flight (\d+)", text)
        if m and int(m.group(1)) >= n:
            return
        time.sleep(0.02)
    fail("the server never had %d instance(s) in flight" % n)


def guest_headers(hs):
    return {k: v for k, v in hs.items() if k not in HOP}


def compare(args, reqs):
    """Each request on shoal and on jco serve: same status, body, guest headers."""
    srv = Shoal(args, [])
    ref = Jco(args)
    try:
        for (method, path, headers, body) in reqs:
            what = "%s %s (%s body bytes)" % (method, path, len(body) if body is not None else "no")
            got = request(srv.port, method, path, headers, body)
            want = request(ref.port, method, path, headers, body)
            check(got[0] == want[0], "%s: status %d, jco %d" % (what, got[0], want[0]))
            check(got[2] == want[2], "%s: body of %d bytes (sha1 %s), jco %d bytes" %
                  (what, len(got[2]), hashlib.sha1(got[2]).hexdigest()[:10], len(want[2])))
            check(guest_headers(got[1]) == guest_headers(want[1]),
                  "%s: headers %s, jco %s" % (what, guest_headers(got[1]), guest_headers(want[1])))
    finally:
        ref.stop()
        check(srv.stop() == 0, "shoal serve exits 0 on SIGTERM")


def raw(port, data, timeout=30):
    s = socket.create_connection(("127.0.0.1", port), timeout)
    s.sendall(data)
    out = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        out += b
    s.close()
    return out


def case_basic(args):
    compare(args, [
        ("GET", "/", {}, None),
        ("GET", "/nope", {}, None),
        ("GET", "/headers", {"x-foo": "bar", "X-Mixed-Case": "Value 1", "other": "no"}, None),
        # more headers than a request's record holds itself
        ("GET", "/headers", {"x-h%d" % i: "v%d" % i for i in range(14)}, None),
        ("PUT", "/method", {}, None),
        ("DELETE", "/method?x=1", {}, None),
    ])


def case_bodies(args):
    rnd = random.Random(6)
    mb = bytes(rnd.getrandbits(8) for _ in range(1 << 20))
    compare(args, [
        ("POST", "/echo", {}, b""),
        ("POST", "/echo", {}, b"x"),
        ("POST", "/echo", {}, mb),
    ])
    # the guest's trailer (jco's host refuses trailers, so checked here alone)
    srv = Shoal(args, [])
    try:
        out = raw(srv.port, b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
        check(b"transfer-encoding: chunked" in out.lower(), "a body with trailers is sent chunked")
        check(out.endswith(b"\r\n0\r\nx-body-length: 5\r\n\r\n"), "trailer x-body-length: 5 follows the last chunk")
        # 1 MB streamed in with chunked transfer encoding, no content-length
        chunks = b"".join(b"%x\r\n%s\r\n" % (len(mb[i:i + 65536]), mb[i:i + 65536]) for i in range(0, len(mb), 65536))
        out = raw(srv.port, b"POST /echo HTTP/1.1\r\nHost: t\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
                  + chunks + b"0\r\n\r\n")
        check(b"x-body-length: 1048576\r\n" in out, "a chunked 1 MB request body arrives whole")
        # a small body is kept whole for a run on the polling thread; a guest
        # that then has to wait starts over on a thread of its own, given it again
        for n in (1, 1000, 65536):
            st, _, body = request(srv.port, "POST", "/echo?ms=30", {}, mb[:n])
            check(st == 200 and body == mb[:n], "a %d-byte body reaches a guest that waits before reading (%d, %d bytes)"
                  % (n, st, len(body)))
    finally:
        srv.stop()


def case_streaming(args):
    srv = Shoal(args, [])
    try:
        # the response goes out while the guest still writes it
        s = socket.create_connection(("127.0.0.1", srv.port), 30)
        t0 = time.time()
        s.sendall(b"GET /stream?n=4&ms=400 HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n")
        data = b""
        first = None
        while True:
            b = s.recv(65536)
            if not b:
                break
            data += b
            if first is None and b"chunk 0" in data:
                first = time.time() - t0
        total = time.time() - t0
        s.close()
        check(data.endswith(b"chunk 0\nchunk 1\nchunk 2\nchunk 3\n") or b"chunk 3" in data,
              "all four chunks arrive")
        check(b"transfer-encoding: chunked" in data.lower(), "the streamed body is sent chunked")
        # buffered, the first chunk would come with the last; streamed, 3 x 0.4 s earlier
        check(first is not None and first <= total - 0.6 and total >= 1.2,
              "the first chunk arrives after %.2f s, the whole body after %.2f s (guest sleeps 3 x 0.4 s)"
              % (first or -1, total))
        # the request body reaches the guest as it arrives: a 1 MB echo with a
        # 256 KB pipe each way needs the guest to read while the client sends
        mb = bytes(range(256)) * 4096
        st, _, body = request(srv.port, "POST", "/echo", {}, mb)
        check(st == 200 and body == mb, "a 1 MiB echo through the 256 KiB pipes")
    finally:
        srv.stop()


def case_trap(args):
    srv = Shoal(args, ["--access-log", "-"])
    try:
        first = request(srv.port, "GET", "/")
        check(first[0] == 200, "GET / answers 200")
        st, _, body = request(srv.port, "GET", "/trap")
        check(st == 500, "a trapping handler gives 500 (got %d)" % st)
        again = request(srv.port, "GET", "/")
        check(again[0] == 200 and again[2] == first[2], "the next request succeeds with the same response")
    finally:
        srv.stop()
    log = open(srv.err_path).read()
    check(re.search(r"GET /trap 500 .*trap: .*unreachable", log) is not None, "the access log names the trap")


def case_loop(args):
    srv = Shoal(args, ["--timeout", "300", "--access-log", "-"])
    try:
        t0 = time.time()
        st, _, _ = request(srv.port, "GET", "/loop")
        dt = time.time() - t0
        check(st == 504, "an infinite loop gives 504 (got %d)" % st)
        check(0.3 <= dt < 3, "within its limit: %.3f s for --timeout 300" % dt)
        check(request(srv.port, "GET", "/")[0] == 200, "the next request succeeds")
    finally:
        srv.stop()
    check("GET /loop 504" in open(srv.err_path).read(), "the access log has the 504")


def case_memory(args):
    srv = Shoal(args, ["--max-memory", "2M", "--access-log", "-"])
    try:
        st, _, _ = request(srv.port, "GET", "/grow")
        check(st == 500, "growing past --max-memory gives 500 (got %d)" % st)
        check(request(srv.port, "GET", "/")[0] == 200, "the next request succeeds")
    finally:
        srv.stop()
    check("GET /grow 500" in open(srv.err_path).read(), "the access log has the 500")


def case_limits(args):
    srv = Shoal(args, ["--workers", "2", "--max-instances", "1", "--timeout", "1500", "--admin", "127.0.0.1:0"])
    try:
        res = {}
        t = threading.Thread(target=lambda: res.setdefault("loop", request(srv.port, "GET", "/loop")))
        t.start()
        wait_in_flight(srv, 1)
        st = request(srv.port, "GET", "/")[0]
        check(st == 503, "a second instance beyond --max-instances 1 gets 503 (got %d)" % st)
        t.join()
        check(res["loop"][0] == 504, "the first request ends at its timeout (504)")
        check(request(srv.port, "GET", "/")[0] == 200, "then a request is served again (its slot is free)")
    finally:
        srv.stop()


class Upstream(http.server.ThreadingHTTPServer):
    """A local server for outbound calls: answers 203 with the path."""

    def __init__(self):
        self.hits = 0

        class H(http.server.BaseHTTPRequestHandler):
            def do_GET(h):
                self.hits += 1
                body = b"upstream says hi to " + h.path.encode() + b"\n"
                h.send_response(203)
                h.send_header("content-length", str(len(body)))
                h.end_headers()
                h.wfile.write(body)

            def log_message(h, *a):
                pass

        super().__init__(("127.0.0.1", 0), H)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def case_outbound(args):
    up, other = Upstream(), Upstream()
    allowed = "127.0.0.1:%d" % up.server_address[1]
    try:
        srv = Shoal(args, ["--allow-outbound", allowed])
        try:
            st, _, body = request(srv.port, "GET", "/fetch?authority=%s&path=/x" % allowed)
            check(st == 203 and body == b"upstream says hi to /x\n",
                  "an outbound call to an allowed local server works (%d %r)" % (st, body))
            check(up.hits == 1, "the allowed server got the request")
            st, _, body = request(srv.port, "GET", "/fetch?authority=127.0.0.1:%d&path=/y" % other.server_address[1])
            check(st == 502 and b"error-code 15" in body,
                  "a call to a non-allowed authority is refused with HTTP-request-denied (%d %r)" % (st, body))
            check(other.hits == 0, "the non-allowed server was never contacted")
        finally:
            srv.stop()
        # an allowed host (any port) cannot be used as user info in front of another host
        srv = Shoal(args, ["--allow-outbound", "127.0.0.1"])
        try:
            st, _, body = request(srv.port, "GET", "/fetch?authority=127.0.0.1:%d@localhost:%d&path=/z"
                                  % (up.server_address[1], other.server_address[1]))
            check(st == 502 and b"error-code 15" in body and other.hits == 0,
                  "an authority with user info is refused (%d %r)" % (st, body))
            st, _, body = request(srv.port, "GET", "/fetch?authority=127.0.0.1:%d&path=/w" % up.server_address[1])
            check(st == 203 and up.hits == 2, "--allow-outbound HOST allows any port of HOST (%d)" % st)
        finally:
            srv.stop()
    finally:
        up.shutdown()
        other.shutdown()


def case_keepalive(args):
    srv = Shoal(args, [])
    try:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        socks = set()
        for i in range(5):
            c.request("GET", "/count")
            r = c.getresponse()
            body = r.read()
            socks.add(id(c.sock))
            check(r.status == 200 and body == b"count 1\n",
                  "request %d on one connection: a fresh instance (%r)" % (i + 1, body))
            check(c.sock is not None and not r.will_close, "the connection stays open (HTTP/1.1 keep-alive)")
        check(len(socks) == 1, "all five requests used one connection")
        c.close()
    finally:
        srv.stop()


def case_isolation(args):
    """A request's memory is gone for the next: a body echoed (written into
    the guest's heap) is not there when the next request looks, though the
    same worker serves both (its instance put back, not made anew)."""
    srv = Shoal(args, ["--workers", "1"])
    try:
        c = http.client.HTTPConnection("127.0.0.1", srv.port, timeout=30)
        zeros = b"0" * 128 + b"\n"
        for i in range(6):
            body = bytes([0xab, i]) * 2048
            c.request("POST", "/echo", body=body)
            r = c.getresponse()
            check(r.status == 200 and r.read() == body, "round %d: the body comes back" % i)
            c.request("GET", "/peek")
            r = c.getresponse()
            seen = r.read()
            check(r.status == 200 and seen == zeros, "round %d: the heap the echo wrote reads zero (%r)" % (i, seen[:40]))
        c.close()
    finally:
        srv.stop()


def case_metrics(args):
    logf = os.path.join(args.work, "access.log")
    if os.path.exists(logf):
        os.remove(logf)
    srv = Shoal(args, ["--admin", "127.0.0.1:0", "--access-log", logf])
    try:
        for _ in range(3):
            request(srv.port, "GET", "/")
        request(srv.port, "GET", "/nope")
        st, _, text = request(srv.admin, "GET", "/metrics")
        text = text.decode()
        check(st == 200, "GET /metrics on the admin address")
        check('shoal_http_requests_total{code="2xx"} 3' in text, "3 requests counted as 2xx")
        check('shoal_http_requests_total{code="4xx"} 1' in text, "1 request counted as 4xx")
        check("shoal_http_request_duration_seconds_count 4" in text, "the latency histogram has 4 samples")
        check(re.search(r'_bucket\{le="\+Inf"\} 4', text) is not None, "the +Inf bucket holds all 4")
    finally:
        srv.stop()
    lines = open(logf).read().splitlines()
    check(len(lines) == 4, "one access log line per request (%d)" % len(lines))
    check(re.match(r"GET / 200 13 [0-9.]+ms$", lines[0]) is not None, "log line: %s" % lines[0])


def case_sigterm(args):
    srv = Shoal(args, ["--admin", "127.0.0.1:0"])
    res = {}
    t = threading.Thread(target=lambda: res.setdefault("r", request(srv.port, "GET", "/sleep?ms=800")))
    t.start()
    wait_in_flight(srv, 1)
    t0 = time.time()
    srv.p.send_signal(signal.SIGTERM)
    t.join()
    check(res.get("r", (0,))[0] == 200 and res["r"][2] == b"slept\n", "the in-flight request finishes after SIGTERM")
    rc = srv.stop()
    check(rc == 0 and time.time() - t0 < 5, "shoal serve exits 0 after draining (%.2f s)" % (time.time() - t0))


def case_fairness(args):
    """Requests without a body first run on a polling thread; guests that
    wait or loop must move off it, so quick requests on other connections
    are answered meanwhile (and the moved guests still finish)."""
    srv = Shoal(args, ["--workers", "8", "--timeout", "2500", "--admin", "127.0.0.1:0", "--access-log", "-"])
    try:
        res = {}
        slow = (("s1", "/sleep?ms=1500"), ("s2", "/sleep?ms=1500"), ("l1", "/loop"), ("l2", "/loop"))
        ts = [threading.Thread(target=lambda k=k, p=p: res.setdefault(k, request(srv.port, "GET", p))) for k, p in slow]
        for t in ts:
            t.start()
        wait_in_flight(srv, 4)
        t0 = time.time()
        first = request(srv.port, "GET", "/")
        for i in range(20):
            st, _, body = request(srv.port, "GET", "/")
            check(st == 200 and body == first[2], "quick request %d answered while 2 guests sleep and 2 loop" % (i + 1))
        dt = time.time() - t0
        check(dt < 1.2, "21 quick requests took %.2f s beside them (the slow ones take 1.5-2.5 s)" % dt)
        for t in ts:
            t.join()
        check(res["s1"][0] == 200 and res["s2"][0] == 200 and b"slept" in res["s1"][2],
              "the sleeping guests answer after moving off the polling thread (%d %r)" % (res["s1"][0], res["s1"][2]))
        check(res["l1"][0] == 504 and res["l2"][0] == 504, "the looping guests end at their timeout (504)")
    finally:
        srv.stop()
    log = open(srv.err_path).read()
    check(log.count("GET /sleep?ms=1500 200") == 2, "each sleeping request is logged once")


def case_js(args):
    compare(args, [
        ("GET", "/", {}, None),
        ("GET", "/nope", {}, None),
        ("GET", "/headers", {"x-foo": "bar", "x-two": "2"}, None),
        ("POST", "/echo", {}, b""),
        ("POST", "/echo", {}, b"x"),
        ("POST", "/echo", {}, bytes(range(256)) * 400),
    ])


def main():
    ap = argparse.ArgumentParser()
    for a in ("case", "shoal", "component", "node", "jco", "fs-root", "work"):
        ap.add_argument("--" + a, required=True)
    args = ap.parse_args()
    globals()["case_" + args.case](args)
    print("PASS")


if __name__ == "__main__":
    main()
