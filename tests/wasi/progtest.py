#!/usr/bin/python3
"""Runs one of the WASI test programs (tests/wasi/progs/*.c, built to
wasm32-wasi) under `shoal run` and checks what it did; where node's WASI
runs the program correctly, also under node (tests/wasi/node-wasi.mjs), and
compares stdout and exit status. Last line: "N passed, M failed".

  progtest.py --shoal SHOAL --progs DIR [--examples DIR] [--node NODE] CASE

CASE is one of the functions named case_* below. Without --node (or when
node is missing) the comparisons are skipped with a note.
"""
import argparse
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
SECRET = "SECRET-CANARY-4711"


class Checker:
    def __init__(self, opts):
        self.shoal = opts.shoal
        self.progs = opts.progs
        self.node = opts.node
        self.examples = opts.examples
        self.passed = self.failed = 0
        self.tmp = tempfile.mkdtemp(prefix="wasi-progtest.")

    def check(self, cond, what, detail=""):
        if cond:
            self.passed += 1
            print("ok: " + what)
        else:
            self.failed += 1
            print("FAIL: " + what + (("\n  " + detail.replace("\n", "\n  ")) if detail else ""))
        sys.stdout.flush()
        return cond

    def wasm(self, name):
        return name if name.endswith(".wasm") else os.path.join(self.progs, name + ".wasm")

    def scratch(self, name):
        """A fresh empty directory."""
        path = os.path.join(self.tmp, name)
        if os.path.exists(path):
            shutil.rmtree(path)
        os.makedirs(path)
        return path

    def run(self, cmd, env=None, timeout=60, stdin=None, cwd=None):
        full_env = dict(os.environ)
        full_env.update(env or {})
        t0 = time.monotonic()
        try:
            p = subprocess.run(cmd, input=stdin, capture_output=True,
                               env=full_env, timeout=timeout, cwd=cwd)
        except subprocess.TimeoutExpired:
            return None, "", "timed out after %d s" % timeout, time.monotonic() - t0
        return (p.returncode, p.stdout.decode("utf-8", "replace"),
                p.stderr.decode("utf-8", "replace"), time.monotonic() - t0)

    def shoal_run(self, opts, prog, args=(), env=None, timeout=60, cwd=None):
        return self.run([self.shoal, "run"] + list(opts) + ["--", self.wasm(prog)] + list(args),
                        env, timeout, cwd=cwd)

    def node_run(self, opts, prog, args=()):
        cmd = [self.node, "--no-warnings", "--experimental-wasi-unstable-preview1",
               os.path.join(HERE, "node-wasi.mjs")] + list(opts) + ["--", self.wasm(prog)] + list(args)
        return self.run(cmd)

    def program(self, prog, args=(), dirs=(), opts=(), expect_exit=0, node=True, env=None):
        """Runs prog under shoal (each --dir spec in dirs is HOST::GUEST with a
        fresh HOST), checks the exit status, that every CHECK held and that
        nothing went to stderr; compares with node if asked. Returns stdout."""
        def dir_opts(tag):
            out = []
            for i, guest in enumerate(dirs):
                out += ["--dir", "%s::%s" % (self.scratch("%s-%s-%d" % (prog, tag, i)), guest)]
            return out
        rc, out, err, _ = self.shoal_run(dir_opts("shoal") + list(opts), prog, args, env)
        label = "%s %s" % (prog, " ".join(repr(a) for a in args)) if args else prog
        self.check(rc == expect_exit, "%s: shoal exits with %d" % (label, expect_exit),
                   "got %s\nstdout:\n%s\nstderr:\n%s" % (rc, out, err))
        fails = [l for l in out.splitlines() if l.startswith("FAIL")]
        self.check(not fails, "%s: every check in the program holds" % label, "\n".join(fails))
        self.check(err == "", "%s: nothing on stderr" % label, err)
        if node:
            self.compare_node(prog, args, dir_opts("node"), rc, out)
        return out

    def compare_node(self, prog, args, opts, rc, out):
        if not self.node:
            print("note: node not found, %s not compared with node's WASI" % prog)
            return
        nrc, nout, nerr, _ = self.node_run(opts, prog, args)
        self.check(nrc == rc and nout == out, "%s: same stdout and exit status as node" % prog,
                   "node exit %s, shoal %s\n%s" % (nrc, rc, diff(nout, out)) +
                   ("\nnode stderr:\n" + nerr[:1500] if nerr else ""))

    def finish(self):
        shutil.rmtree(self.tmp, ignore_errors=True)
        print("%d passed, %d failed" % (self.passed, self.failed))
        return 1 if self.failed else 0


def diff(a, b):
    al, bl = a.splitlines(), b.splitlines()
    for i in range(max(len(al), len(bl))):
        x = al[i] if i < len(al) else "<end>"
        y = bl[i] if i < len(bl) else "<end>"
        if x != y:
            return "first difference at line %d:\n  node:  %s\n  shoal: %s" % (i + 1, x, y)
    return ""


# {================================================================
# Cases
# =================================================================

def case_args(c):
    args = ["a b", "", 'q"uote', "\u00fc\u20ac", "--flag", "-", "x" * 3000]
    out = c.program("args", args)
    want = ["argc %d" % (len(args) + 1)] + [
        "argv[%d] = [%s] (%d bytes)" % (i + 1, a, len(a.encode())) for i, a in enumerate(args)]
    c.check(out.splitlines()[:len(want)] == want, "args: the guest sees every argument, bytes intact")
    c.program("args", [])


def case_environ(c):
    host = {"SHOAL_TEST_HOST_ONLY": "visible-only-when-inherited"}
    envs = ["A=1", "B=x y", "EMPTY=", "EQ=a=b", "U=\u00fc\u20ac"]
    opts = [o for kv in envs for o in ("--env", kv)]
    out = c.program("environ", envs + ["SHOAL_TEST_HOST_ONLY!", "PATH!"], opts=opts, node=False, env=host)
    want = ["%d variables" % len(envs)] + ["[%s]" % kv for kv in sorted(envs)]
    c.check(out.splitlines()[:len(want)] == want,
            "environ: the guest sees exactly the --env variables, none of the host's")
    if c.node:   # ASCII only: node's environ_sizes_get counts characters, not bytes
        envs = envs[:4]
        opts = [o for kv in envs for o in ("--env", kv)]
        c.compare_node("environ", envs, opts, 0, c.shoal_run(opts, "environ", envs)[1])
    out = c.program("environ", ["SHOAL_TEST_HOST_ONLY=visible-only-when-inherited", "A=2"],
                    opts=["--inherit-env", "--env", "A=2"], node=False, env=host)
    n = int(out.split(" ", 1)[0])
    c.check(n >= len(os.environ) + 1, "--inherit-env passes the host environment on (%d variables)" % n)
    # An empty environment (not compared: node's environ_get then fails).
    out = c.program("environ", [], node=False)
    c.check(out.startswith("0 variables\n"), "without --env the environment is empty")


def case_clocks(c):
    c.program("clocks")


def case_random(c):
    c.program("random")


def case_fileio(c):
    c.program("fileio", dirs=["/sandbox"])


def case_dirs(c):
    c.program("dirs", dirs=["/sandbox"])


def case_readdir(c):
    c.program("readdir", dirs=["/sandbox"])


def case_stdio(c):
    """Binary data through stdin and stdout (pipes), in odd-sized pieces."""
    data = os.urandom(300000) + bytes(range(256)) * 40
    cmd = [c.shoal, "run", c.wasm("cat"), "-v"]
    p = subprocess.run(cmd, input=data, capture_output=True, timeout=60)
    c.check(p.returncode == 0 and p.stdout == data, "cat: %d bytes through stdin and stdout intact" % len(data),
            "exit %s, %d bytes out\n%s" % (p.returncode, len(p.stdout), p.stderr.decode(errors="replace")))
    c.check(p.stderr == b"%d bytes\n" % len(data), "cat: its stderr is separate", p.stderr.decode(errors="replace"))
    p = subprocess.run([c.shoal, "run", c.wasm("cat")], stdin=subprocess.DEVNULL, capture_output=True, timeout=60)
    c.check(p.returncode == 0 and p.stdout == b"", "cat: stdin at end of file reads nothing")
    if c.node:
        p = subprocess.run([c.node, "--no-warnings", "--experimental-wasi-unstable-preview1",
                            os.path.join(HERE, "node-wasi.mjs"), c.wasm("cat")],
                           input=data, capture_output=True, timeout=60)
        c.check(p.returncode == 0 and p.stdout == data, "cat: node gives the same bytes")


def case_poll(c):
    # Not compared with node: node's WASI treats an absolute clock deadline
    # as relative, and so sleeps for weeks.
    c.program("poll", dirs=["/sandbox"], node=False)


def case_times(c):
    # Not compared with node: node sets "now" as time 0.
    c.program("times", dirs=["/sandbox"], node=False)


def case_cli(c):
    """`shoal run`'s options: pre-opens (names, order, read-only), --env
    inheriting one variable, usage errors, link errors."""
    root = c.scratch("cli")
    for d, f in (("x", "f1"), ("y", "g")):
        os.makedirs(os.path.join(root, d))
        open(os.path.join(root, d, f), "w").close()
    opts = ["--dir", "x", "--dir", os.path.join(root, "y") + "::/b", "--dir", ".::.",
            "--dir", os.path.join(root, "y") + "::/ro:readonly"]
    rc, out, err, _ = c.shoal_run(opts, "preopens", cwd=root)
    c.check(rc == 0 and out == "fd 3: x: f1\nfd 4: /b: g\nfd 5: .: x y\nfd 6: /ro: g\n",
            "--dir HOST, HOST::GUEST, ::., :readonly: fds 3.. in command-line order, named as given",
            "exit %s\n%s%s" % (rc, out, err))
    out = c.program("environ", ["SHOAL_TEST_ONE=from-host", "SHOAL_TEST_OTHER!"],
                    opts=["--env", "SHOAL_TEST_ONE"], node=False,
                    env={"SHOAL_TEST_ONE": "from-host", "SHOAL_TEST_OTHER": "x"})
    c.check(out.startswith("1 variables\n"), "--env NAME passes that one host variable on", out)
    for args, what in ((["--env", "=v"], "--env without a name"), (["--max-memory", "lots"], "a bad --max-memory"),
                       (["--timeout", "0"], "a zero --timeout"), (["--bogus"], "an unknown option"),
                       (["--dir"], "--dir without a directory")):
        rc, out, err, _ = c.run([c.shoal, "run"] + args + [c.wasm("preopens")])
        c.check(rc == 2 and err.startswith("shoal: "), "%s is a usage error (status 2)" % what,
                "exit %s\n%s" % (rc, err))
    rc, out, err, _ = c.run([c.shoal, "run", os.path.join(root, "missing.wasm")])
    c.check(rc == 1 and "missing.wasm" in err, "a missing module: status 1, named", err)
    rc, out, err, _ = c.shoal_run(["--dir", os.path.join(root, "nowhere") + "::/n"], "preopens")
    c.check(rc == 1 and "nowhere" in err, "a --dir that does not exist: status 1, named", err)
    rc, out, err, _ = c.shoal_run([], "badimport")
    c.check(rc == 1 and '"env"' in err and '"nope"' in err, "an unknown import: status 1, named", err)
    rc, out, err, _ = c.shoal_run([], "badtype")
    c.check(rc == 1 and "sched_yield" in err and "type" in err,
            "a WASI import of the wrong type: status 1, named", err)


def case_exit(c):
    for code, how in [(0, "return"), (1, "return"), (42, "return"), (7, "exit"),
                      (0, "proc_exit"), (3, "proc_exit"), (125, "proc_exit"), (255, "exit")]:
        out = c.program("exitcode", [str(code), how], expect_exit=code)
        c.check(out == "exiting with %d by %s\n" % (code, how), "exit %d by %s: output" % (code, how))
    # Statuses the OS cannot carry become 255 rather than their low byte.
    rc, _, _, _ = c.shoal_run([], "exitcode", ["256", "proc_exit"])
    c.check(rc == 255, "proc_exit(256) exits with 255, not 0", "got %s" % rc)
    # A trap: status 3, message and backtrace on stderr, output so far kept.
    rc, out, err, _ = c.shoal_run([], "exitcode", ["0", "trap"])
    c.check(rc == 3, "a trap exits with 3", "got %s" % rc)
    c.check(out == "exiting with 0 by trap\n", "output written before the trap is kept", out)
    c.check("unreachable" in err, "stderr names the trap", err)
    frames = [l for l in err.splitlines() if re.match(r"\s*#\d+ ", l)]
    c.check(len(frames) >= 3 and "deep_trap" in err and "main" in err,
            "stderr has a backtrace through deep_trap and main", err)


def make_sandbox(root):
    """root/outside (canary.txt, dir/) beside root/box (the pre-open) with
    symlinks that lead out. Outside, access times are set before the
    change times, so that a read would move them even on relatime mounts."""
    out, box = os.path.join(root, "outside"), os.path.join(root, "box")
    os.makedirs(os.path.join(out, "dir"))
    os.makedirs(os.path.join(box, "sub"))
    with open(os.path.join(out, "canary.txt"), "w") as f:
        f.write(SECRET + "\n")
    with open(os.path.join(box, "inside.txt"), "w") as f:
        f.write("inside\n")
    links = {"link_abs": os.path.join(out, "canary.txt"), "link_rel": "../outside/canary.txt",
             "sub/link_up": "../../outside/canary.txt", "link_dir": "../outside",
             "link_dir_abs": out, "link_root": "/", "link_chain": "link_rel",
             "link_new": "../outside/new.txt", "sub/link_in": "../inside.txt"}
    for name, target in links.items():
        os.symlink(target, os.path.join(box, name))
    for path in (os.path.join(out, "canary.txt"), os.path.join(out, "dir"), out, root):
        os.utime(path, ns=(1000000000 * 10**9, 1100000000 * 10**9))
    return out, box


def snapshot(root, skip, known=()):
    """Everything under root but skip: type, size, times, mode, content hash
    or link target. The metadata of root and of the known paths is taken
    before any directory is listed or file read, and the access times are
    put back afterwards, so taking a snapshot does not disturb the next."""
    def meta(path):
        st = os.lstat(path)
        return (st.st_mode, st.st_size, st.st_mtime_ns, st.st_atime_ns, st.st_nlink)
    snap = {p: meta(p) for p in [root] + [os.path.join(root, k) for k in known]}
    for dirpath, dirnames, filenames in os.walk(root):
        if dirpath == skip:
            dirnames[:] = []
            continue
        dirnames[:] = [d for d in dirnames if os.path.join(dirpath, d) != skip]
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            if p not in snap:
                snap[p] = meta(p)
    for p in list(snap):
        if os.path.islink(p):
            snap[p] += (os.readlink(p),)
        elif os.path.isfile(p):
            with open(p, "rb") as f:
                snap[p] += (hashlib.sha256(f.read()).hexdigest(),)
    for p, m in snap.items():
        if not os.path.islink(p):
            os.utime(p, ns=(m[3], m[2]))
    return snap


def case_sandbox(c):
    for mode, env in (("openat2", {}), ("portable walk", {"SHOAL_WASI_NO_OPENAT2": "1"})):
        root = c.scratch("sandbox-" + mode.replace(" ", "-"))
        out_dir, box = make_sandbox(root)
        known = ("outside", "outside/canary.txt", "outside/dir")
        before = snapshot(root, box, known)
        rc, out, err, _ = c.shoal_run(["--dir", box + "::/sandbox"], "sandbox", [out_dir], env)
        after = snapshot(root, box, known)
        tag = "sandbox (%s)" % mode
        c.check(rc == 0, "%s: every escape is refused with EPERM or ENOTCAPABLE" % tag,
                "exit %s\n%s%s" % (rc, "\n".join(l for l in out.splitlines() if not l.startswith("ok")), err))
        c.check(SECRET not in out + err, "%s: the canary's content never reached the guest" % tag)
        changed = sorted(p for p in set(before) | set(after) if before.get(p) != after.get(p))
        c.check(not changed, "%s: nothing outside the pre-open was read, created or changed" % tag,
                "\n".join("%s: %s -> %s" % (p, before.get(p), after.get(p)) for p in changed))
        with open(os.path.join(box, "inside.txt")) as f:
            c.check(f.read() == "inside\n", "%s: the sandbox's own file is intact" % tag)
    # node's WASI is not a sandbox (its documentation says so): it lets most
    # of these escapes through, so it is not compared.


def case_race(c):
    """Symlinks swapped between inside and outside while the guest opens
    them: no open may ever reach the outside canary."""
    for mode, env in (("openat2", {}), ("portable walk", {"SHOAL_WASI_NO_OPENAT2": "1"})):
        root = c.scratch("race-" + mode.replace(" ", "-"))
        out_dir, box = make_sandbox(root)
        with open(os.path.join(box, "sub", "canary.txt"), "w") as f:
            f.write("inside\n")
        links = {"flip": ("inside.txt", "../outside/canary.txt"), "flipdir": ("sub", "../outside")}
        for name, (target, _) in links.items():
            os.symlink(target, os.path.join(box, name))
        stop = threading.Event()
        flips = [0]

        def flipper():
            while not stop.is_set():
                for name, targets in links.items():
                    tmp = os.path.join(box, name + ".tmp")
                    os.symlink(targets[flips[0] % 2], tmp)
                    os.replace(tmp, os.path.join(box, name))   # atomic swap
                flips[0] += 1

        t = threading.Thread(target=flipper)
        t.start()
        try:
            rc, out, err, _ = c.shoal_run(["--dir", box + "::/sandbox"], "race", ["1.5"], env)
        finally:
            stop.set()
            t.join()
        m = re.match(r"(\d+) opened inside, (\d+) refused, (\d+) other errors, (\d+) leaks", out)
        tag = "race (%s, %d swaps)" % (mode, flips[0])
        c.check(rc == 0 and m and m.group(4) == "0" and SECRET not in out + err,
                "%s: no open through a swapped symlink reached outside" % tag, "exit %s\n%s%s" % (rc, out, err))
        c.check(m and int(m.group(1)) > 0 and int(m.group(2)) > 0,
                "%s: both outcomes happened, so the race was run: %s" % (tag, out.strip()))


def case_readonly(c):
    root = c.scratch("readonly")
    ro, rw = os.path.join(root, "ro"), os.path.join(root, "rw")
    os.makedirs(os.path.join(ro, "sub"))
    os.makedirs(os.path.join(ro, "empty"))
    os.makedirs(rw)
    for name, text in (("file.txt", "readonly\n"), ("sub/inner.txt", "inner\n")):
        with open(os.path.join(ro, name), "w") as f:
            f.write(text)
    for dirpath, dirnames, filenames in os.walk(ro):
        for n in [dirpath] + [os.path.join(dirpath, x) for x in filenames]:
            os.utime(n, ns=(1000000000 * 10**9, 1100000000 * 10**9))
    before = snapshot(ro, None)
    for mode, env in (("openat2", {}), ("portable walk", {"SHOAL_WASI_NO_OPENAT2": "1"})):
        rc, out, err, _ = c.shoal_run(["--dir", ro + "::/ro:readonly", "--dir", rw + "::/rw"],
                                      "readonly", [], env)
        c.check(rc == 0, "readonly (%s): every change is refused with EROFS, reads work" % mode,
                "exit %s\n%s%s" % (rc, "\n".join(l for l in out.splitlines() if not l.startswith("ok")), err))
        after = snapshot(ro, None)
        # Reading moves access times: compare everything else.
        strip = lambda s: {p: v[:3] + v[4:] for p, v in s.items()}
        changed = sorted(p for p in set(before) | set(after) if strip(before).get(p) != strip(after).get(p))
        c.check(not changed, "readonly (%s): the read-only directory is unchanged" % mode,
                "\n".join("%s: %s -> %s" % (p, before.get(p), after.get(p)) for p in changed))
        c.check(os.listdir(rw) == [], "readonly (%s): nothing was left in /rw" % mode, str(os.listdir(rw)))


def case_timeout(c):
    for mode in ("spin", "sleep"):
        rc, out, err, secs = c.shoal_run(["--timeout", "100"], "spin", [mode], timeout=30)
        what = "spinning" if mode == "spin" else "sleeping"
        c.check(rc == 3, "--timeout 100 stops a %s guest with status 3" % what, "got %s\n%s" % (rc, err))
        c.check(secs < 1.0, "within one second (took %.3f s)" % secs)
        c.check(secs >= 0.09, "but not before the 100 ms (took %.3f s)" % secs)
        c.check(out == "%s forever\n" % what, "the guest ran until then", out)
        c.check(re.search(r"interrupt|timeout", err) is not None and "Sanitizer" not in err,
                "stderr says why", err)
    rc, out, err, secs = c.shoal_run(["--timeout", "5000"], "exitcode", ["9"])
    c.check(rc == 9 and secs < 4, "a guest that ends before its --timeout is not interrupted",
            "got %s after %.3f s\n%s" % (rc, secs, err))


def case_memory(c):
    for limit, arg in ((4194304, "4194304"), (5000000, "5000000"), (4 << 20, "4M"), (10 << 20, "10M")):
        pages = limit // 65536
        rc, out, err, _ = c.shoal_run(["--max-memory", arg], "grow")
        want = ("memory.grow(1) failed at {p} pages ({b} bytes)\nmemory.size is {p} pages\n"
                "memory.grow(0) returns {p}\nlast byte holds 42\nmalloc(64 MiB) returned NULL\n"
                ).format(p=pages, b=pages * 65536)
        c.check(rc == 0 and out == want and err == "",
                "--max-memory %s: memory.grow fails past %d pages, malloc returns NULL, exit 0" % (arg, pages),
                "exit %s\nstdout:\n%s\nstderr:\n%s" % (rc, out, err))
    rc, out, err, _ = c.shoal_run([], "grow", ["200"])
    c.check(rc == 0 and "grew to 200 pages without failing" in out and "malloc(64 MiB) succeeded" in out,
            "without --max-memory the guest grows to 200 pages and mallocs 64 MiB", out + err)


def case_wordfreq(c):
    """examples/wordfreq.c (the `make demo` program) on examples/data."""
    data = os.path.join(HERE, "..", "..", "examples", "data")
    name = "gettysburg.txt"
    with open(os.path.join(data, name), encoding="utf-8") as f:
        words = [w.lower() for w in re.findall(r"[A-Za-z]+", f.read())]
    counts = {}
    for w in words:
        counts[w] = counts.get(w, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
    want = "/data/%s: %d words, %d distinct\n" % (name, len(words), len(counts)) + \
        "".join("%6d  %s\n" % (n, w) for w, n in ranked[:10])
    prog = os.path.join(c.examples, "wordfreq.wasm")
    rc, out, err, _ = c.shoal_run(["--dir", data + "::/data"], prog, ["/data/" + name])
    c.check(rc == 0 and out == want and err == "", "wordfreq counts the demo text's words",
            "exit %s\n%s\n%s" % (rc, diff(want, out), err))
    rc, out, err, _ = c.shoal_run(["--dir", data + "::/data"], prog, ["/data/missing.txt"])
    c.check(rc == 1 and "No such file" in err, "wordfreq on a missing file: exit 1 and a message", err)

# }================================================================


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--shoal", required=True)
    ap.add_argument("--progs", required=True, help="directory of the built *.wasm programs")
    ap.add_argument("--examples", help="directory of the built examples (wordfreq.wasm)")
    ap.add_argument("--node", help="node, to compare with its WASI")
    ap.add_argument("case", choices=sorted(n[5:] for n in globals() if n.startswith("case_")))
    opts = ap.parse_args()
    if opts.node and not shutil.which(opts.node):
        opts.node = None
    c = Checker(opts)
    if c.node:   # a node too old or broken to run WASI is no reference
        rc, out, err, _ = c.node_run([], "args", ["probe"])
        if rc != 0 or not out.startswith("argc 2\nargv[1] = [probe]"):
            print("note: node's WASI does not work here, so nothing is compared with it: "
                  "exit %s, %s" % (rc, (err.strip().splitlines() or ["no message"])[0]))
            c.node = None
    try:
        globals()["case_" + opts.case](c)
    except Exception:   # a broken case is a failure, counted as one
        import traceback
        c.check(False, "case %s ran to its end" % opts.case, traceback.format_exc())
    return c.finish()


if __name__ == "__main__":
    sys.exit(main())
