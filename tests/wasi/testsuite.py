#!/usr/bin/python3
"""Runs WebAssembly/wasi-testsuite (preview 1) against a WASI runtime, following
the suite's specification.md. Last line: "N passed, M failed[, K skipped]".

  testsuite.py [--runtime CMD] [--known-failures FILE] [--timeout S] [-v] DIR...

DIR holds the test cases (*.wasm, each with an optional NAME.json). CMD is the
command that runs a module, given the options of `shoal run` (default
"shoal run"): CMD [--dir HOST::GUEST]... [--env K=V]... -- NAME.wasm ARGS...
Each test runs in a fresh copy of its directory. A test listed in the
known-failures file ("LANG/NAME: reason" lines) that fails counts as skipped;
one that passes is a failure, so the list cannot go stale.
"""
import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tempfile

# Defaults of the legacy format (specification.md, "Configuration Spec"). Like
# the reference executor, this checks only the streams a file names: passing
# tests print notes (rust/path_open_preopen on stdout, rust/stdio on stderr).
LEGACY_DEFAULTS = {"args": [], "root": None, "dirs": [], "env": {}, "exit_code": 0}


# The project's bar: all 72 tests pass, or at most this many are excused.
MAX_KNOWN_FAILURES = 2


class SpecError(Exception):
    pass


def load_operations(json_path):
    """The test's operations; a legacy specification is converted to run,
    wait and read operations, as the reference executor does."""
    spec = {}
    if os.path.exists(json_path):
        with open(json_path, encoding="utf-8") as f:
            spec = json.load(f)
    if "operations" in spec:
        ops = spec["operations"]
        if spec.get("proposals"):   # http, sockets: not in preview 1
            raise SpecError("needs proposals " + ", ".join(spec["proposals"]))
    else:
        cfg = dict(LEGACY_DEFAULTS, **spec)
        ops = [{"type": "run", "args": cfg["args"], "env": cfg["env"],
                "root": cfg["root"], "dirs": cfg["dirs"]},
               {"type": "wait", "exit_code": cfg["exit_code"]}]
        ops += [{"type": "read", "id": stream, "payload": cfg[stream]}
                for stream in ("stdout", "stderr") if stream in cfg]
    validate(ops)
    return ops


def validate(ops):
    """The rules of "Specification Validation" that apply without sockets."""
    running = ran = False
    for op in ops:
        kind = op.get("type")
        if kind == "run":
            if running:
                raise SpecError("run before the previous run's wait")
            running = ran = True
        elif kind == "wait":
            if not running:
                raise SpecError("wait without run")
            running = False
        elif kind == "read":
            if not ran:
                raise SpecError("read before run")
            if op.get("id", "stdout") not in ("stdout", "stderr"):
                raise SpecError("read of unknown stream %r" % op.get("id"))
        else:
            # connect/send/recv need the sockets or http proposals.
            raise SpecError("unsupported operation %r" % kind)
    if running:
        raise SpecError("run without wait")


def run_test(runtime, suite_dir, name, timeout, scratch_root):
    """Runs test NAME of suite_dir; returns a list of failure messages."""
    try:
        ops = load_operations(os.path.join(suite_dir, name + ".json"))
    except (SpecError, ValueError) as e:
        return ["bad specification: %s" % e]

    # A fresh copy of the test's directory, made writable (the shared copy is
    # read-only), without the artifacts of earlier runs.
    work = os.path.join(scratch_root, name)
    shutil.copytree(suite_dir, work, symlinks=True)
    for dirpath, dirnames, filenames in os.walk(work):
        os.chmod(dirpath, 0o755)
        for entry in dirnames + filenames:
            path = os.path.join(dirpath, entry)
            if entry.endswith(".cleanup"):
                if os.path.isdir(path) and not os.path.islink(path):
                    shutil.rmtree(path)
                else:
                    os.unlink(path)
            elif not os.path.islink(path) and os.path.isfile(path):
                os.chmod(path, 0o644)
    try:
        return run_operations(runtime, ops, name, work, timeout)
    finally:
        shutil.rmtree(work, ignore_errors=True)


def run_operations(runtime, ops, name, work, timeout):
    """Runs the operations of test NAME in directory work; returns a list of
    failure messages."""
    failures = []
    result = None
    for op in ops:
        kind = op["type"]
        if kind == "run":
            cmd = list(runtime)
            if op.get("root") is not None:
                cmd += ["--dir", "%s::/" % op["root"]]
            for d in op.get("dirs") or []:   # older suites: preopen under its own name
                cmd += ["--dir", "%s::%s" % (d, d)]
            for k, v in (op.get("env") or {}).items():
                cmd += ["--env", "%s=%s" % (k, v)]
            cmd += ["--", name + ".wasm"] + list(op.get("args") or [])
            # The WASI environment is exactly op["env"]: the runtime must not
            # pass the host environment on (shoal does so only on request).
            try:
                result = subprocess.run(cmd, cwd=work, stdin=subprocess.DEVNULL,
                                        capture_output=True, timeout=timeout)
            except subprocess.TimeoutExpired:
                return ["timed out after %g s" % timeout]
        elif kind == "wait":
            want = op.get("exit_code", 0)
            if result.returncode != want:
                err = result.stderr.decode("utf-8", "replace").strip()
                failures.append("exit code %d, expected %d%s" % (
                    result.returncode, want, "; stderr: " + clip(err, 600) if err else ""))
        elif kind == "read":
            stream = op.get("id", "stdout")
            got = getattr(result, stream).decode("utf-8", "replace")
            want = op.get("payload", "")
            if got != want:
                failures.append("%s %r, expected %r" % (stream, clip(got), clip(want)))
    return failures


def clip(s, n=400):
    return s if len(s) <= n else s[:n] + "..."


def read_known_failures(path):
    known = {}
    if not path:
        return known
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            test, sep, reason = line.partition(":")
            if not sep or not reason.strip():
                sys.exit("%s:%d: expected 'LANG/NAME: reason'" % (path, lineno))
            known[test.strip()] = reason.strip()
    if len(known) > MAX_KNOWN_FAILURES:
        sys.exit("%s: %d known failures; at most %d may be listed" % (path, len(known), MAX_KNOWN_FAILURES))
    return known


def suite_language(suite_dir):
    """"c" for .../tests/c/testsuite/wasm32-wasip1."""
    parts = os.path.normpath(os.path.abspath(suite_dir)).split(os.sep)
    if "testsuite" in parts:
        i = len(parts) - 1 - parts[::-1].index("testsuite")
        if i > 0:
            return parts[i - 1]
    return os.path.basename(suite_dir)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runtime", default="shoal run",
                    help="command that runs a module (default: %(default)s)")
    ap.add_argument("--known-failures", help="file of 'LANG/NAME: reason' lines")
    ap.add_argument("--timeout", type=float, default=60, help="seconds per test")
    ap.add_argument("-v", "--verbose", action="store_true", help="print passing tests too")
    ap.add_argument("dirs", nargs="+", metavar="DIR")
    opts = ap.parse_args()
    runtime = shlex.split(opts.runtime)
    runtime[0] = shutil.which(runtime[0]) or os.path.abspath(runtime[0])
    known = read_known_failures(opts.known_failures)

    passed = failed = skipped = 0
    with tempfile.TemporaryDirectory(prefix="wasi-testsuite.") as scratch:
        for suite_dir in opts.dirs:
            lang = suite_language(suite_dir)
            names = sorted(f[:-5] for f in os.listdir(suite_dir) if f.endswith(".wasm"))
            if not names:
                print("%s: no *.wasm test cases" % suite_dir)
                failed += 1
            for name in names:
                test = "%s/%s" % (lang, name)
                fails = run_test(runtime, suite_dir, name, opts.timeout, scratch)
                if test in known:
                    if fails:
                        skipped += 1
                        print("known failure %s (%s): %s" % (test, known[test], "; ".join(fails)))
                    else:
                        failed += 1
                        print("FAIL %s: passes but is listed as a known failure; "
                              "remove it from %s" % (test, opts.known_failures))
                elif fails:
                    failed += 1
                    print("FAIL %s: %s" % (test, "; ".join(fails)))
                else:
                    passed += 1
                    if opts.verbose:
                        print("ok %s" % test)
                sys.stdout.flush()
    line = "%d passed, %d failed" % (passed, failed)
    if skipped:
        line += ", %d skipped" % skipped
    print(line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
