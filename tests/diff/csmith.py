#!/usr/bin/env python3
"""Differential test of shoal on compiled C: csmith programs (docs/fuzzing.md).

For each seed: `csmith --seed S` -> clang-19 --target=wasm32-wasi at -O0, -O2
and -Os, and the -O2 build again through `wasm-opt -O3` -> each run by
`shoal run` and by node's WASI (tests/wasi/node-wasi.mjs); the programs print
a checksum of their globals, which must agree. Seeds whose program node does
not finish within the timeout are skipped (csmith programs may loop long).

  csmith.py --shoal build/shoal [--seeds 0:100] [--jobs 2] [--work DIR]
Exit status: 0 if every seed agrees, 1 otherwise.
"""
import argparse
import concurrent.futures
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
NODE_WASI = os.path.join(HERE, "..", "wasi", "node-wasi.mjs")
CSMITH_INC = "/usr/include/csmith"
TIMEOUT = 20


def run(cmd, timeout=TIMEOUT):
    return subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          timeout=timeout, text=True)


def one_seed(args, seed):
    """None if the seed agrees (or is skipped), else what differs."""
    d = os.path.join(args.work, "csmith-%d" % seed)
    os.makedirs(d, exist_ok=True)
    src = os.path.join(d, "prog.c")
    r = run(["csmith", "--seed", str(seed), "-o", src])
    if r.returncode != 0:
        return "csmith failed: " + r.stderr[-300:]
    builds = []
    for opt in ("-O0", "-O2", "-Os"):
        out = os.path.join(d, "prog%s.wasm" % opt)
        r = run([args.cc, "--target=wasm32-wasi", opt, "-w", "-I" + CSMITH_INC, src, "-o", out],
                timeout=120)
        if r.returncode != 0:
            return "%s %s failed: %s" % (args.cc, opt, r.stderr[-300:])
        builds.append(out)
    o3 = os.path.join(d, "prog-O2-wasm-opt-O3.wasm")
    r = run(["wasm-opt", builds[1], "-O3", "-q", "-o", o3, "--enable-bulk-memory",
             "--enable-sign-ext", "--enable-nontrapping-float-to-int", "--enable-mutable-globals"],
            timeout=120)
    if r.returncode != 0:
        return "wasm-opt -O3 failed: " + r.stderr[-300:]
    builds.append(o3)
    try:
        ref = run([args.node, "--no-warnings", "--experimental-wasi-unstable-preview1",
                   NODE_WASI, "--", builds[1]])
    except subprocess.TimeoutExpired:
        shutil.rmtree(d, ignore_errors=True)
        return "skip"
    if ref.returncode != 0 or "checksum" not in ref.stdout:
        return "skip"
    for wasm in builds:
        try:
            ours = run([args.shoal, "run", wasm], timeout=TIMEOUT * 3)
        except subprocess.TimeoutExpired:
            return "%s: shoal timed out (node took < %d s)" % (os.path.basename(wasm), TIMEOUT)
        if ours.returncode != 0 or ours.stdout != ref.stdout:
            return "%s: shoal exit %d %r%s, node %r" % (
                os.path.basename(wasm), ours.returncode, ours.stdout[-200:],
                ours.stderr[-300:], ref.stdout[-200:])
    if not args.keep:
        shutil.rmtree(d, ignore_errors=True)
    return None


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--shoal", required=True)
    ap.add_argument("--seeds", default="0:100", help="A:B (B excluded)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--work")
    ap.add_argument("--keep", action="store_true")
    ap.add_argument("--cc", default="clang-19")
    ap.add_argument("--node", default="node")
    args = ap.parse_args()
    for tool in ("csmith", args.cc, args.node, "wasm-opt"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            print("0 passed, 0 failed, 1 skipped")
            return 77
    if not os.path.exists(os.path.join(CSMITH_INC, "csmith.h")):
        print("SKIP: no %s/csmith.h (Debian package libcsmith-dev)" % CSMITH_INC)
        print("0 passed, 0 failed, 1 skipped")
        return 77
    args.shoal = os.path.abspath(args.shoal)
    tmp = None
    if not args.work:
        tmp = args.work = tempfile.mkdtemp(prefix="shoal-csmith-")
    a, _, b = args.seeds.partition(":")
    seeds = range(int(a), int(b) if b else int(a) + 1)
    t0 = time.time()
    bad, skipped = [], []
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as ex:
        for seed, res in zip(seeds, ex.map(lambda s: one_seed(args, s), seeds)):
            if res == "skip":
                skipped.append(seed)
            elif res is not None:
                print("MISMATCH seed %d: %s" % (seed, res), flush=True)
                bad.append(seed)
    print("%d csmith seeds (%s) in %.1f s, mismatching: %s, skipped (node too slow): %s; files in %s"
          % (len(seeds), args.seeds, time.time() - t0, " ".join(map(str, bad)) or "none",
             " ".join(map(str, skipped)) or "none", args.work))
    print("%d passed, %d failed, %d skipped" % (len(seeds) - len(bad) - len(skipped), len(bad),
                                                len(skipped)))
    if tmp and not bad and not args.keep:
        shutil.rmtree(tmp, ignore_errors=True)
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
