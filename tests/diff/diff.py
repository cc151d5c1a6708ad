#!/usr/bin/env python3
"""Differential test of shoal against binaryen's interpreter (docs/fuzzing.md).

For each seed: seeded random bytes -> `wasm-opt -ttf` (a valid module using only
the WebAssembly 2.0 features shoal supports) -> the module as is and optimised
(-O1..-O3, -Os, -Oz by seed). Each is run by `wasm-opt --fuzz-exec-before`
(binaryen's reference interpreter) and by diff_driver (shoal); their outputs,
exports' results, traps and fuzzing-support.log-* calls, must agree.
Floats are compared as bits; any NaN matches any NaN; trap kinds are not
compared (the messages differ), only that both trapped. Then each module,
its NaNs made 0 by `wasm-opt --denan`, is run again with seeded arguments
(diff_driver --spectest) and wabt's spectest-interp checks shoal's results.

  diff.py --driver build/tests/diff/diff_driver [--seeds 0:200] [--jobs 2]
          [--known tests/diff/known_failures.txt] [--work DIR] [--keep]
  diff.py --driver ... --module X.wasm [--seeds N]   compare one module (reduce.sh)
Exit status: 0 if every seed not listed as known agrees, 1 otherwise.
"""
import argparse
import concurrent.futures
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time

FEATURES = [
    "--disable-simd", "--disable-threads", "--disable-exception-handling",
    "--disable-tail-call", "--disable-gc", "--disable-memory64",
    "--disable-typed-function-references", "--disable-relaxed-simd",
    "--disable-extended-const", "--disable-gc-nn-locals",
    "--enable-sign-ext", "--enable-nontrapping-float-to-int",
    "--enable-bulk-memory", "--enable-multivalue", "--disable-reference-types",
    "--enable-mutable-globals",
]
OPT_LEVELS = ["-O1", "-O2", "-O3", "-Os", "-Oz", "-O3"]
TIMEOUT = 60


class Mismatch(Exception):
    pass


def parse_ref_float(tok, bits):
    """Bits (of width `bits`) of binaryen's printed float, or 'nan'."""
    t = tok
    if re.fullmatch(r"-?nan(:0x[0-9a-f]+)?", t):
        return "nan"
    if t in ("inf", "-inf"):
        v = float(t)
    elif re.fullmatch(r"-?0x[0-9a-fA-F]+", t):
        v = float(int(t, 16))
    else:
        v = float(t)
    if bits == 32:
        return struct.unpack("<I", struct.pack("<f", v))[0]
    return struct.unpack("<Q", struct.pack("<d", v))[0]


def same_value(ours, ref):
    """ours: the driver's token (ints in decimal, floats as f32:/f64: bits)."""
    if ours == "<ref>":
        return True
    m = re.fullmatch(r"f(32|64):0x([0-9a-f]+)", ours)
    if not m:
        return ours == ref
    width = int(m.group(1))
    b = int(m.group(2), 16)
    exp_mask = (0xff << 23) if width == 32 else (0x7ff << 52)
    frac_mask = (1 << 23) - 1 if width == 32 else (1 << 52) - 1
    is_nan = lambda x: (x & exp_mask) == exp_mask and (x & frac_mask) != 0
    ours_nan = is_nan(b)
    rm = re.fullmatch(r"f(32|64):0x([0-9a-f]+)", ref)  # node-fuzz-exec.mjs prints bits too
    try:
        r = parse_ref_float(ref, width) if not rm else int(rm.group(2), 16)
    except (ValueError, OverflowError):
        return False
    if rm and is_nan(r):
        r = "nan"
    if r == "nan" or ours_nan:
        return r == "nan" and ours_nan
    return r == b


def tokens(line):
    """Kind and value tokens of one output line."""
    if line.startswith("[trap"):
        return ("trap", [])
    m = re.fullmatch(r"\[LoggingExternalInterface logging(.*)\]", line)
    if m:
        return ("log", m.group(1).split())
    m = re.fullmatch(r"\[fuzz-exec\] note result: (.*?) => (.*)", line)
    if m:
        v = m.group(2)
        if v.startswith("(") and v.endswith(")"):
            vals = [x.strip() for x in v[1:-1].split(",")]
        else:
            vals = [v]
        return ("result " + m.group(1), vals)
    return ("line " + line, [])


def compare(ours, ref):
    """Raises Mismatch naming the first line that differs."""
    ours = [l for l in ours.splitlines() if l.strip()]
    ref = [l for l in ref.splitlines() if l.strip()]
    # binaryen gives up on a host limit (e.g. its own stack depth): compare up to it
    for i, l in enumerate(ref):
        if l.startswith("[host limit]") or "fuzzer can only send" in l:
            ref, ours = ref[:i], ours[:i]
            break
    for i in range(max(len(ours), len(ref))):
        a = ours[i] if i < len(ours) else "<end>"
        b = ref[i] if i < len(ref) else "<end>"
        ka, va = tokens(a)
        kb, vb = tokens(b)
        if ka != kb or len(va) != len(vb) or not all(map(same_value, va, vb)):
            ctx = ours[max(0, i - 3):i]
            raise Mismatch("line %d: shoal %r, binaryen %r (before: %r)" % (i + 1, a, b, ctx))


def run(cmd, **kw):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=TIMEOUT, text=True, **kw)


STUB_WAT = """(module
  (func (export "log-i32") (param i32))
  (func (export "log-i64") (param i64))
  (func (export "log-f32") (param f32))
  (func (export "log-f64") (param f64)))
"""


def with_args(args, path, seed):
    """Seeded arguments instead of zeros, NaNs made 0 (--denan), wabt as the
    reference: shoal's results become a wast2json script for spectest-interp."""
    d = os.path.dirname(path)
    stub = os.path.join(d, "fuzzing-support.wasm")
    if not os.path.exists(stub):
        with open(os.path.join(d, "fuzzing-support.wat"), "w") as f:
            f.write(STUB_WAT)
        r = run(["wat2wasm", os.path.join(d, "fuzzing-support.wat"), "-o", stub])
        if r.returncode != 0:
            raise Mismatch("wat2wasm stub failed: " + r.stderr[-300:])
    dn = path[:-5] + "-denan.wasm"
    r = run(["wasm-opt", path, "--denan", "-q", "-o", dn] + FEATURES)
    if r.returncode != 0:
        raise Mismatch("wasm-opt --denan failed: " + r.stderr[-300:])
    ours = run([args.driver, "--spectest", str(seed), dn])
    if ours.returncode != 0:
        raise Mismatch("driver --spectest exit %d: %s" % (ours.returncode, ours.stderr[-300:]))
    js = dn[:-5] + ".json"
    with open(js, "w") as f:
        f.write(ours.stdout)
    ref = run(["spectest-interp", js])
    m = re.search(r"^(\d+)/(\d+) tests passed", ref.stdout, re.M)
    if ref.returncode != 0 or not m or m.group(1) != m.group(2):
        bad = [l for l in ref.stdout.splitlines() if "expected" in l or "mismatch" in l]
        raise Mismatch("with arguments (%s, wabt's spectest-interp): %s%s" % (
            os.path.basename(js), "; ".join(bad[:3]) or ref.stdout[-300:], ref.stderr[-300:]))


def one_module(args, path, seed=None):
    if args.node:  # V8 as the reference instead (see NaN-dependent in docs/fuzzing.md)
        ref = run([args.node, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                           "node-fuzz-exec.mjs"), path])
    else:
        ref = run(["wasm-opt", path, "-q", "--fuzz-exec-before"] + FEATURES)
    if ref.returncode != 0:
        raise Mismatch("wasm-opt --fuzz-exec-before failed: " + ref.stderr[-500:])
    ours = run([args.driver, path])
    if ours.returncode != 0:
        raise Mismatch("driver exit %d: %s%s" % (ours.returncode, ours.stdout[-300:],
                                                  ours.stderr[-500:]))
    compare(ours.stdout, ref.stdout)
    if seed is not None and args.wabt:
        with_args(args, path, seed)


def one_seed(args, seed):
    """None if the seed agrees, else a description of the mismatch."""
    rng = random.Random(seed)
    data = bytes(rng.getrandbits(8) for _ in range(rng.randint(256, 12000)))
    d = os.path.join(args.work, "seed-%d" % seed)
    os.makedirs(d, exist_ok=True)
    inp = os.path.join(d, "input.dat")
    with open(inp, "wb") as f:
        f.write(data)
    ttf = os.path.join(d, "ttf.wasm")
    opt = os.path.join(d, "opt.wasm")
    level = OPT_LEVELS[seed % len(OPT_LEVELS)]
    failed = None
    try:
        r = run(["wasm-opt", inp, "-ttf", "-q", "-o", ttf] + FEATURES)
        if r.returncode != 0:
            return "wasm-opt -ttf failed: " + r.stderr[-500:]
        for variant, path in (("ttf", ttf), (level, opt)):
            if variant != "ttf":
                r = run(["wasm-opt", ttf, level, "-q", "-o", opt] + FEATURES)
                if r.returncode != 0:
                    return "wasm-opt %s failed: %s" % (level, r.stderr[-500:])
            try:
                one_module(args, path, seed)
            except Mismatch as e:
                failed = "%s: %s" % (variant, e)
                break
        if failed:
            # NaN payloads may differ (both are allowed by the spec) and flow into
            # integers through reinterpretations and memory: if the module with
            # every NaN turned into 0 at run time agrees, call it NaN-dependent.
            dn = os.path.join(d, "denan.wasm")
            r = run(["wasm-opt", path, "--denan", "-q", "-o", dn] + FEATURES)
            if r.returncode == 0:
                try:
                    one_module(args, dn, seed)
                    failed = "NAN " + failed
                except Mismatch:
                    pass
    except subprocess.TimeoutExpired as e:
        failed = "timeout: %s" % " ".join(e.cmd)
    except OSError as e:  # e.g. the driver being rebuilt: one seed, not the run
        failed = "error: %s" % e
    if failed is None and not args.keep:
        shutil.rmtree(d, ignore_errors=True)
    return failed


def parse_seeds(s):
    a, _, b = s.partition(":")
    return range(int(a), int(b)) if b else range(int(a), int(a) + 1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--driver", required=True)
    ap.add_argument("--seeds", default="0:200", help="A:B (B excluded) or one seed")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--known", help="known failing seeds: 'SEED reason' lines")
    ap.add_argument("--work", help="where seeds' files go (default: a temporary directory)")
    ap.add_argument("--keep", action="store_true", help="keep agreeing seeds' files too")
    ap.add_argument("--no-wabt", dest="wabt", action="store_false",
                    help="skip the second run with seeded arguments against wabt")
    ap.add_argument("--node", help="with --module: compare with V8 (node-fuzz-exec.mjs) "
                    "instead of binaryen, e.g. on a NaN-dependent seed")
    ap.add_argument("--module", help="compare just this .wasm (for wasm-reduce: prints "
                    "MISMATCH or ok); --seeds N picks the arguments of the wabt run")
    args = ap.parse_args()
    if not shutil.which("wasm-opt"):
        print("SKIP: binaryen's wasm-opt is not installed (scripts/deps.sh installs it)")
        print("0 passed, 0 failed, 1 skipped")
        return 77
    args.driver = os.path.abspath(args.driver)
    if args.module:  # files made for the wabt run go to a temporary directory
        tmp = tempfile.mkdtemp(prefix="shoal-diff-module-")
        path = os.path.join(tmp, os.path.basename(args.module))
        shutil.copyfile(args.module, path)
        try:
            one_module(args, path, parse_seeds(args.seeds)[0])
        except Mismatch as e:
            print("MISMATCH", e)
            return 1
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        print("ok")
        return 0
    known = {}
    if args.known and os.path.exists(args.known):
        for line in open(args.known):
            line = line.split("#", 1)[0].strip()
            if line:
                seed, _, why = line.partition(" ")
                known[int(seed)] = why.strip()
    tmp = None
    if not args.work:
        tmp = args.work = tempfile.mkdtemp(prefix="shoal-diff-")
    seeds = parse_seeds(args.seeds)
    t0 = time.time()
    bad = []
    nan = []
    fixed = []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for seed, res in zip(seeds, ex.map(lambda s: one_seed(args, s), seeds)):
            if res is None:
                if seed in known:
                    fixed.append(seed)
                continue
            if res.startswith("NAN "):
                # not counted as a failure: see NaN-dependent in docs/fuzzing.md
                print("NAN-DEPENDENT seed %d (agrees with --denan): %s" % (seed, res[4:]), flush=True)
                nan.append(seed)
                continue
            tag = "KNOWN" if seed in known else "MISMATCH"
            print("%s seed %d: %s" % (tag, seed, res), flush=True)
            if seed not in known:
                bad.append(seed)
    if fixed:
        print("seeds listed as known failures now agree (remove them from %s): %s"
              % (args.known, " ".join(map(str, fixed))))
    nknown = len([s for s in seeds if s in known])
    print("%d seeds (%s) in %.1f s, mismatching seeds: %s, NaN-dependent: %s; their files are in %s"
          % (len(seeds), args.seeds, time.time() - t0, " ".join(map(str, bad)) or "none",
             " ".join(map(str, nan)) or "none", args.work))
    # the summary line scripts/run-tests.sh reads: one count per seed
    print("%d passed, %d failed, %d skipped" % (len(seeds) - len(bad) - nknown, len(bad), nknown))
    if tmp and not bad and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
