#!/usr/bin/env python3
"""make bench-http: `shoal serve` against `jco serve --isolate-requests instance`
(node) and a native libmicrohttpd server returning the same bytes, with wrk at
64 connections on 127.0.0.1; the instantiation rate (inst_bench); and a density
run (many requests in flight to a handler that waits on a wasi:clocks pollable).
Writes bench/http/RESULTS.md, bench/http/chart.svg and the bench-http section of
bench/RESULTS.md.

The native server and shoal serve with the C hello, whose ratio is the
headline, are measured in ROUNDS alternating rounds (native, shoal, native,
shoal, ...) and each reported by its median round, so that a slow spell of
a shared machine does not land on one of them alone.

usage: bench_http.py BUILD_DIR   (env: WRK_SECONDS=10, ROUNDS=3, DENSITY=10000, DENSITY_WORKERS=DENSITY,
                                  DENSITY_MS=3000)
"""
import asyncio
import collections
import datetime
import os
import platform
import re
import resource
import select
import signal
import socket
import subprocess
import sys
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build-bench")
SECS = int(os.environ.get("WRK_SECONDS", "10"))
ROUNDS = max(1, int(os.environ.get("ROUNDS", "3")))
DENSITY = int(os.environ.get("DENSITY", "10000"))
DENSITY_WORKERS = int(os.environ.get("DENSITY_WORKERS", str(DENSITY)))
DENSITY_MS = int(os.environ.get("DENSITY_MS", "3000"))  # long enough for the client to open them all
NODE = "node"
JCO = os.path.join(ROOT, "node_modules/@bytecodealliance/jco/dist/jco.js")
FS_ROOT = os.path.join(ROOT, "tests/component/fs-root.mjs")
SHOAL = os.path.join(BUILD, "shoal")
C_HELLO = os.path.join(BUILD, "host/http_hello.wasm")
JS_HELLO = os.path.join(BUILD, "host/http_hello_js.wasm")


def log(msg):
    print(msg, flush=True)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def wait_port(port, secs=120):
    end = time.time() + secs
    while time.time() < end:
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def start_listening(cmd):
    """Starts a server that prints 'listening on port N' first."""
    p = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, start_new_session=True)
    line = b""
    end = time.time() + 120
    while not line.endswith(b"\n") and time.time() < end:
        if select.select([p.stdout], [], [], 1)[0]:
            ch = os.read(p.stdout.fileno(), 1)
            if not ch:
                break
            line += ch
    m = re.match(rb"listening on port (\d+)(?:, metrics on port (\d+))?", line)
    if not m:
        stop(p)
        raise SystemExit("server did not start: %r" % cmd)
    if m.group(2):
        return p, int(m.group(1)), int(m.group(2))
    return p, int(m.group(1))


def stop(p):
    try:
        os.killpg(p.pid, signal.SIGTERM)
        p.wait(20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        try:
            os.killpg(p.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        p.wait()


def wrk(port, secs=SECS, conns=64):
    out = subprocess.run(["wrk", "-t2", "-c%d" % conns, "-d%ds" % secs, "--latency", "http://127.0.0.1:%d/" % port],
                         capture_output=True, text=True).stdout

    def ms(label):
        m = re.search(r"\s%s\s+([\d.]+)(us|ms|s)\b" % re.escape(label), out)
        if not m:
            return None
        v = float(m.group(1))
        return v / 1000 if m.group(2) == "us" else v * 1000 if m.group(2) == "s" else v

    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errs = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: (.*)", out)
    total = re.search(r"(\d+) requests in", out)
    return {"rps": float(rps.group(1)) if rps else 0.0, "p50": ms("50%"), "p99": ms("99%"),
            "requests": int(total.group(1)) if total else 0,
            "errors": (int(errs.group(1)) if errs else 0), "socket_errors": sock.group(1) if sock else "none"}


def rss_kib(pid):
    try:
        with open("/proc/%d/status" % pid) as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


async def gauge(admin):
    """shoal_instances_in_flight from the admin endpoint."""
    try:
        r, w = await asyncio.open_connection("127.0.0.1", admin)
        w.write(b"GET /metrics HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n")
        data = await r.read()
        w.close()
        m = re.search(rb"shoal_instances_in_flight (\d+)", data)
        return int(m.group(1)) if m else 0
    except OSError:
        return 0


async def density_run(port, n, ms, pid, admin):
    """n requests at once, each on its own connection; samples the server's RSS
    and its in-flight gauge."""
    peak = [0]
    peak_inflight = [0]
    failures = collections.Counter()
    done = [False]

    async def sampler():
        while not done[0]:
            peak[0] = max(peak[0], rss_kib(pid))
            peak_inflight[0] = max(peak_inflight[0], await gauge(admin))
            await asyncio.sleep(0.05)

    async def one(i):
        """One attempt, no retries: every failure counts."""
        try:
            r, w = await asyncio.open_connection("127.0.0.1", port)
            w.write(b"GET /sleep?ms=%d HTTP/1.1\r\nHost: b\r\nConnection: close\r\n\r\n" % ms)
            await w.drain()
            data = await asyncio.wait_for(r.read(), 600)
            w.close()
            body = data.split(b"\r\n\r\n", 1)[-1]  # a length or chunked (when streamed)
            ok = data.startswith(b"HTTP/1.1 200") and (body == b"slept\n" or body == b"6\r\nslept\n\r\n0\r\n\r\n")
            if not ok:
                failures[data[:12].decode("latin1") or "empty reply"] += 1
            return ok
        except (OSError, asyncio.TimeoutError) as e:
            failures["%s: %s" % (type(e).__name__, e)] += 1
            return False

    s = asyncio.ensure_future(sampler())
    t0 = time.time()
    results = await asyncio.gather(*(one(i) for i in range(n)))
    dt = time.time() - t0
    done[0] = True
    await s
    return sum(results), dt, peak[0], peak_inflight[0], failures


def machine():
    cpu = "?"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    commit = os.environ.get("SHOAL_COMMIT") or subprocess.run(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"],
                                                              capture_output=True, text=True).stdout.strip()
    wrkv = " ".join(subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split()[:2])
    mhd = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "libmicrohttpd12"], capture_output=True, text=True).stdout
    return {"cpu": cpu, "cores": os.cpu_count(), "mem": "%.0f GiB" % mem, "kernel": platform.release(),
            "commit": commit, "wrk": wrkv, "mhd": mhd, "load": "%.2f" % os.getloadavg()[0]}


def main():
    resource.setrlimit(resource.RLIMIT_NOFILE, (20000, 20000))
    for f in (SHOAL, C_HELLO, JS_HELLO, os.path.join(BUILD, "bench/http/inst_bench")):
        if not os.path.exists(f):
            raise SystemExit("missing %s (build first)" % f)
    m = machine()
    started = time.time()
    rows = []  # (label, wrk result)

    def measure(label, cmd, listening=True, keep=True):
        log("== %s" % label)
        if listening:
            p, port = start_listening(cmd)
        else:
            port = free_port()
            cmd = [c.replace("{port}", str(port)) for c in cmd]
            p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
            if not wait_port(port):
                stop(p)
                raise SystemExit("%s did not start" % label)
        try:
            wrk(port, 2)  # warm-up
            r = wrk(port)
        finally:
            stop(p)
        log("   %.0f req/s, p50 %s ms, p99 %s ms, non-2xx %d, socket errors %s" %
            (r["rps"], r["p50"], r["p99"], r["errors"], r["socket_errors"]))
        if keep:
            rows.append((label, r))
        return r

    jco = lambda comp: [NODE, "--import", FS_ROOT, JCO, "serve", "--host", "127.0.0.1", "--port", "{port}",
                        "--isolate-requests", "instance", comp]
    rounds = {"native": [], "shoal": []}
    for i in range(ROUNDS):
        rounds["native"].append(measure("native (libmicrohttpd, C), round %d" % (i + 1),
                                        [os.path.join(BUILD, "bench/http/native_hello"), "2"], keep=False))
        rounds["shoal"].append(measure("shoal serve, C hello, round %d" % (i + 1),
                                       [SHOAL, "serve", "--addr", "127.0.0.1:0", "--workers", "2", C_HELLO], keep=False))
    median = lambda rs: sorted(rs, key=lambda r: r["rps"])[len(rs) // 2]
    rows.append(("native (libmicrohttpd, C)", median(rounds["native"])))
    rows.append(("shoal serve, C hello", median(rounds["shoal"])))
    measure("jco serve, C hello", jco(C_HELLO), listening=False)
    measure("shoal serve, JS hello", [SHOAL, "serve", "--addr", "127.0.0.1:0", "--workers", "2", JS_HELLO])
    measure("jco serve, JS hello", jco(JS_HELLO), listening=False)

    inst = {}
    for name, comp in (("C", C_HELLO), ("JS", JS_HELLO)):
        out = subprocess.run([os.path.join(BUILD, "bench/http/inst_bench"), comp, "3"], capture_output=True,
                             text=True).stdout
        inst[name] = dict(re.findall(r"(\w+) ([\d.]+)", out))
        log("== instantiation %s: %s" % (name, inst[name]))

    log("== density: %d requests in flight, --workers %d" % (DENSITY, DENSITY_WORKERS))
    p, port, admin = start_listening([SHOAL, "serve", "--addr", "127.0.0.1:0", "--admin", "127.0.0.1:0", "--workers",
                                      str(DENSITY_WORKERS), "--max-instances", str(DENSITY), C_HELLO])
    try:
        time.sleep(1)
        idle = rss_kib(p.pid)
        ok, dt, peak, inflight, failures = asyncio.run(density_run(port, DENSITY, DENSITY_MS, p.pid, admin))
    finally:
        stop(p)
    dens = {"n": DENSITY, "ok": ok, "secs": dt, "idle": idle, "peak": peak, "workers": DENSITY_WORKERS,
            "inflight": inflight, "failures": failures}
    if failures:
        log("   failures: %s" % dict(failures))
    log("   %d/%d ok in %.1f s, RSS idle %d KiB, peak %d KiB, peak in flight %d" % (ok, DENSITY, dt, idle, peak, inflight))
    write(m, rows, rounds, inst, dens, time.time() - started)


def write(m, rows, rounds, inst, dens, took):
    by = dict(rows)
    native = by["native (libmicrohttpd, C)"]["rps"]
    now = datetime.datetime.utcnow().strftime("%Y-%m-%d %H:%M UTC")
    lines = ["## shoal serve (make bench-http)", "",
             "Measured by `make bench-http` on %s (%.0f s): shoal `%s` (a Release build), wrk `-t2 -c64 -d%ds "
             "--latency` after a 2 s warm-up, all on 127.0.0.1 on the same machine (%s, %d cores, %s, load %s, "
             "kernel %s; %s; libmicrohttpd %s). Every shoal request runs in a fresh instance (a new one, or its "
             "worker's last one put back as instantiation made it); jco serve runs with `--isolate-requests "
             "instance` (a fresh instance per request too). The native server and shoal with the C hello ran in "
             "%d alternating rounds; the table shows each one's median round." %
             (now, took, m["commit"], SECS, m["cpu"], m["cores"], m["mem"], m["load"], m["kernel"], m["wrk"], m["mhd"],
              ROUNDS),
             "", "![requests per second](http/chart.svg)", "",
             "| server | requests/s | p50 ms | p99 ms | of native | non-2xx |", "|---|---|---|---|---|---|"]
    # wrk's timeouts, when any
    timeouts = {label: re.search(r"timeout (\d+)", r["socket_errors"]) for label, r in rows}
    for label, r in rows:
        lines.append("| %s | %.0f | %s | %s | %.1f%% | %d |" % (
            label, r["rps"], "%.3f" % r["p50"] if r["p50"] else "-", "%.3f" % r["p99"] if r["p99"] else "-",
            100 * r["rps"] / native if native else 0, r["errors"]))
    t = ["%s: %s" % (label, m.group(1)) for label, m in timeouts.items() if m and m.group(1) != "0"]
    if t:
        lines += ["", "Requests wrk gave up on after its 2 s timeout: " + "; ".join(t) + "."]
    lines += ["", "Rounds (requests/s), native / shoal C hello: " + "; ".join(
        "%.0f / %.0f = %.1f%%" % (n["rps"], s["rps"], 100 * s["rps"] / n["rps"] if n["rps"] else 0)
        for n, s in zip(rounds["native"], rounds["shoal"])) + "."]
    sc, jc = by["shoal serve, C hello"]["rps"], by["jco serve, C hello"]["rps"]
    sj, jj = by["shoal serve, JS hello"]["rps"], by["jco serve, JS hello"]["rps"]
    lines += ["", "shoal / jco serve: C hello %.1f×, JS hello %.1f×; shoal / native: C hello %.1f%% (target: ≥ 50%% of "
              "native and ≥ 10× jco)." % (sc / jc if jc else 0, sj / jj if jj else 0, 100 * sc / native if native else 0),
              "", "### Instantiation (bench/http/inst_bench, one thread)", "",
              "| component | instantiate µs | put back µs | request µs | requests per second |",
              "|---|---|---|---|---|"]
    for name in ("C", "JS"):
        i = inst[name]
        lines.append("| %s hello | %s | %s | %s | %s |" % (name, i.get("instantiate_us"), i.get("reinit_us", "-"),
                                                         i.get("request_us"), i.get("requests_per_s")))
    lines += ["", "Instantiate = WASI context + a new component instance from the pre-linked component, in the "
              "worker's store, then freed and the store reset: what a request pays that starts from nothing "
              "(target ≤ 10 µs for the C hello). Put back = WASI context + the worker's instance returned to "
              "the state instantiation made (`shoal_cinstance_reinit`: memories zeroed, the pages touched learnt "
              "from faults; segments, globals and tables set again), then released: what a busy worker pays "
              "instead (-: not possible, the component's memory maps a module image, so each request gets a new "
              "instance). Request = a whole `GET /` through `shoal_proxy_handle` (put back, call, response).",
              "", "### Density", "",
              "%d requests sent at once (one connection each, from one asyncio client) to `GET /sleep?ms=%d` "
              "(the C hello blocks on a monotonic-clock pollable); `shoal serve --workers %d --max-instances %d`: "
              "each request first runs on a polling thread, then, as its guest has to wait, on a guest thread "
              "of its own in one of %d instance slots (stores sharing one pre-linked component, made at start; "
              "a pool this large gives its memory pages back between requests). Peak in flight is the highest "
              "`shoal_instances_in_flight` seen on the admin endpoint (sampled every 50 ms)." %
              (dens["n"], DENSITY_MS, dens["workers"], dens["n"], dens["workers"]),
              "", "| answered 200 | time s | peak in flight | RSS idle MiB | peak RSS MiB | idle RSS per slot KiB | "
              "(peak - idle) per in-flight instance KiB |", "|---|---|---|---|---|---|---|",
              "| %d / %d | %.1f | %d | %.1f | %.1f | %.0f | %.0f |" % (
                  dens["ok"], dens["n"], dens["secs"], dens["inflight"], dens["idle"] / 1024, dens["peak"] / 1024,
                  dens["idle"] / max(1, dens["workers"]), (dens["peak"] - dens["idle"]) / max(1, dens["inflight"]))]
    if dens["failures"]:
        lines += ["", "Failed requests (one attempt each, as the client saw them): " +
                  "; ".join("%s: %d" % (k, v) for k, v in dens["failures"].most_common()) + "."]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(ROOT, "bench/http/RESULTS.md"), "w") as f:
        f.write("# " + text.split("\n", 1)[0][3:] + "\n" + text.split("\n", 1)[1].replace("](http/chart.svg)", "](chart.svg)"))
    # the section in bench/RESULTS.md, between markers (make bench rewrites the rest)
    path = os.path.join(ROOT, "bench/RESULTS.md")
    old = open(path).read() if os.path.exists(path) else ""
    block = "<!-- bench-http -->\n" + text + "<!-- /bench-http -->\n"
    if "<!-- bench-http -->" in old:
        old = re.sub(r"<!-- bench-http -->.*<!-- /bench-http -->\n", lambda _: block, old, flags=re.S)
    else:
        old = old.rstrip("\n") + "\n\n" + block
    with open(path, "w") as f:
        f.write(old)
    chart(rows)
    log("wrote bench/http/RESULTS.md, bench/http/chart.svg and the bench-http section of bench/RESULTS.md")


def chart(rows):
    data = os.path.join(BUILD, "bench-http.dat")
    with open(data, "w") as f:
        for label, r in rows:
            f.write('"%s" %.0f\n' % (label.replace(" (libmicrohttpd, C)", ""), r["rps"]))
    svg = os.path.join(ROOT, "bench/http/chart.svg")
    script = """set terminal svg size 760,360 dynamic font 'sans,11' background '#ffffff'
set output '%s'
set title 'hello-world handler, requests/s at 64 connections (wrk, 127.0.0.1; higher is better)'
set style fill solid 0.8 border -1
set boxwidth 0.6
set yrange [0:*]
set grid ytics
set xtics rotate by -20 scale 0
set logscale y
set ylabel 'requests/s (log scale)'
unset key
plot '%s' using 0:2:xtic(1) with boxes lc rgb '#3b7dd8', '' using 0:2:(sprintf('%%.0f', $2)) with labels offset 0,0.8
""" % (svg, data)
    subprocess.run(["gnuplot"], input=script, text=True, check=True)


if __name__ == "__main__":
    main()
