#!/usr/bin/env python3
"""make bench: times the bench suite (bench/src) and the calibration programs
(../shared/bench) on native, shoal and node, and writes bench/RESULTS.md and bench/chart.svg.

    bench.py BUILD_DIR        (BUILD_DIR from `cmake --build BUILD_DIR --target bench_all`)

Environment:
    BENCH_RUNS=5             runs per program and runtime (the median is reported)
    BENCH_TIMEOUT_RUNS=3     runs of `shoal run --timeout ...` (suite only; 0 = skip)
    BENCH_STARTUP_RUNS=50    runs of hello per runtime for the start-up figures
    BENCH_ONLY=a,b           only these programs (a partial run leaves bench/RESULTS.md alone)
    BENCH_NODE=node          the node binary ('' = no node runs)
    BENCH_TIMEOUT_ARGS='--timeout 100000'   the interrupt/timeout option measured
    BENCH_NICE=-10           run the measured programs at this nice value (root only), so that
                             other work on a shared machine disturbs them less

Every run is timed by BUILD_DIR/bench/launch (posix_spawn + wait4: wall time, peak RSS);
runtimes alternate within each program, and every run's output must equal native's.
"""
import math
import os
import platform
import shlex
import shutil
import statistics
import re
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(ROOT, 'bench')


def env_int(name, default):
    return int(os.environ.get(name, default))


RUNS = env_int('BENCH_RUNS', 5)
TIMEOUT_RUNS = env_int('BENCH_TIMEOUT_RUNS', 3)
STARTUP_RUNS = env_int('BENCH_STARTUP_RUNS', 50)
ONLY = [p for p in os.environ.get('BENCH_ONLY', '').split(',') if p]
NODE = os.environ.get('BENCH_NODE', 'node')
TIMEOUT_ARGS = shlex.split(os.environ.get('BENCH_TIMEOUT_ARGS', '--timeout 100000'))
NICE = os.environ.get('BENCH_NICE', '')
TARGET_VS_PEERS = 0.75     # shoal's ratio / best peer interpreter's ratio
TARGET_TIMEOUT_COST = 5.0  # percent
TARGET_BINARY = 1 << 20    # stripped shoal, bytes
TARGET_ENGINE = 250 * 1024  # text of the engine objects, bytes


class Program:
    def __init__(self, name, args, what, directory, peers=None):
        self.name, self.args, self.what, self.peers = name, args, what, peers
        self.native = os.path.join(directory, name + '.native')
        self.wasm = os.path.join(directory, name + '.wasm')
        self.runs = {}     # runtime -> [(wall, rss_kib, status, cpu)]
        self.wrong = {}    # runtime -> first differing output
        self.node_crashes = 0  # node runs retried after a crash that followed the right output


def read_tsv(path):
    """Rows of a tab-separated file as lists, without comment lines; the header too."""
    with open(path) as f:
        return [line.rstrip('\n').split('\t') for line in f if line.strip() and not line.startswith('#')]


def load_programs(bdir):
    suite = [Program(r[0], r[1].split(), r[3], bdir) for r in read_tsv(os.path.join(BENCH, 'programs.tsv'))]
    cal = []
    peers_tsv = os.path.join(ROOT, '..', 'shared', 'bench', 'PEERS.tsv')
    if os.path.exists(peers_tsv) and os.path.isdir(os.path.join(bdir, 'cal')):
        rows = read_tsv(peers_tsv)
        head = rows[0]
        for r in rows[1:]:
            d = dict(zip(head, r))
            cal.append(Program(d['bench'], d['args'].split(), 'calibration', os.path.join(bdir, 'cal'), d))
    if ONLY:
        suite = [p for p in suite if p.name in ONLY]
        cal = [p for p in cal if p.name in ONLY]
    return suite, cal


class Runner:
    def __init__(self, build):
        self.build = os.path.abspath(build)
        self.bdir = os.path.join(self.build, 'bench')
        self.launch = os.path.join(self.bdir, 'launch')
        self.shoal = os.path.join(self.build, 'shoal')
        self.node = shutil.which(NODE) if NODE else None
        self.tmp = tempfile.mkdtemp(prefix='shoal-bench-')
        self.node_cmd = []
        if self.node:
            major = int(self.run_text([self.node, '--version']).lstrip('v').split('.')[0])
            # --single-threaded-gc: node 20's concurrent marking segfaults, often, once a
            # wasm heap passes ~32 MiB (sieve, memory); these programs make no JS garbage.
            flags = ['--no-warnings', '--single-threaded-gc']
            flags += ['--experimental-wasi-unstable-preview1'] if major < 20 else []
            self.node_cmd = [self.node] + flags + [os.path.join(BENCH, 'node-wasi.mjs')]

    @staticmethod
    def run_text(argv):
        return subprocess.run(argv, capture_output=True, text=True, check=False).stdout.strip()

    def command(self, runtime, prog, wasm=None, native=None, args=None):
        wasm, native = wasm or prog.wasm, native or prog.native
        args = prog.args if args is None else args
        if runtime == 'native':
            return [native] + args
        if runtime == 'shoal':
            return [self.shoal, 'run', wasm] + args
        if runtime == 'shoal --timeout':
            return [self.shoal, 'run'] + TIMEOUT_ARGS + [wasm] + args
        if runtime == 'node':
            return self.node_cmd + [wasm] + args
        raise ValueError(runtime)

    def measure(self, argv, runs=1):
        """[(wall_s, rss_kib, status, cpu_s)] of `runs` runs, and the last run's stdout."""
        out = os.path.join(self.tmp, 'out.txt')
        nice = ['nice', '-n', NICE] if NICE else []
        res = subprocess.run(nice + [self.launch, '-n', str(runs), '-o', out, '--'] + argv,
                             capture_output=True, text=True, check=False)
        if res.returncode != 0:
            sys.exit(f'bench: launch failed on {shlex.join(argv)}: {res.stderr.strip()}')
        rows = [line.split() for line in res.stdout.splitlines()]
        with open(out, errors='replace') as f:
            text = f.read()
        self.last_stderr = res.stderr.strip()
        return [(float(w), int(m), int(s), float(c)) for w, m, s, c in rows], text


def median(xs):
    return statistics.median(xs) if xs else None


def geomean(xs):
    xs = [x for x in xs if x]
    return math.exp(sum(math.log(x) for x in xs) / len(xs)) if xs else None


def wall(prog, runtime, cpu=False):
    """Median wall (or user+system CPU) seconds of the runs, None if a run failed or was wrong."""
    runs = prog.runs.get(runtime)
    if not runs or runtime in prog.wrong:
        return None
    return median([r[3] if cpu else r[0] for r in runs])


def rss(prog, runtime):
    runs = prog.runs.get(runtime)
    return max(r[1] for r in runs) if runs and runtime not in prog.wrong else None


def ratio(prog, runtime, base='native', cpu=False):
    a, b = wall(prog, runtime, cpu), wall(prog, base, cpu)
    return a / b if a and b else None


def fmt(x, spec='.2f', suffix=''):
    return '—' if x is None else format(x, spec) + suffix


def bench_program(runner, prog, runtimes):
    """Runs prog RUNS times on each runtime, alternating; checks every output against native's."""
    expected = None
    for r in range(RUNS):
        for rt in runtimes:
            if rt == 'shoal --timeout' and r >= TIMEOUT_RUNS:
                continue
            if rt in prog.wrong:
                continue
            [(w, m, status, cpu)], text = runner.measure(runner.command(rt, prog))
            # Should node still segfault after the right output (see node_cmd), the run is
            # retried, and counted in RESULTS.md.
            tries = 0
            while rt == 'node' and status > 128 and text == expected and tries < 5:
                prog.node_crashes += 1
                tries += 1
                [(w, m, status, cpu)], text = runner.measure(runner.command(rt, prog))
            if rt == 'native' and expected is None:
                expected = text
                if status != 0 or not text:
                    sys.exit(f'bench: native {prog.name} failed (exit {status})')
            if status != 0 or text != expected:
                said = (text.strip().splitlines() or [''])[0][:120] + ' ' + runner.last_stderr[:200]
                prog.wrong[rt] = f'exit {status}: {said.strip()}'
                print(f'  {prog.name} on {rt}: WRONG ({prog.wrong[rt]}; native printed {expected.strip()[:120]})',
                      flush=True)
                continue
            prog.runs.setdefault(rt, []).append((w, m, status, cpu))
    parts = [f'{rt} {fmt(wall(prog, rt), ".3f", "s")} ({fmt(ratio(prog, rt), ".2f", "x")})' for rt in runtimes]
    print(f'{prog.name:11} ' + '  '.join(parts), flush=True)


def startup(runner):
    """Median wall time and peak RSS of hello on each runtime, STARTUP_RUNS runs in 5 alternating rounds."""
    hello = Program('hello', [], 'start-up', runner.bdir)
    rounds = 5
    per = max(1, STARTUP_RUNS // rounds)
    res = {}
    for _ in range(rounds):
        for rt in runtimes_of(runner, timeout=False):
            runs, text = runner.measure(runner.command(rt, hello), per)
            ok = all(s == 0 for _, _, s, _ in runs) and text.strip() == 'hello'
            res.setdefault(rt, []).extend(runs if ok else [])
            if not ok:
                hello.wrong[rt] = text.strip()[:120]
    out = {}
    for rt, runs in res.items():
        if runs and rt not in hello.wrong:
            out[rt] = (median([r[0] for r in runs]) * 1000, max(r[1] for r in runs) / 1024, len(runs))
    return out


def runtimes_of(runner, timeout=True):
    rts = ['native', 'shoal']
    if timeout and TIMEOUT_RUNS > 0:
        rts.append('shoal --timeout')
    if runner.node:
        rts.append('node')
    return rts


def sizes(runner):
    """(stripped shoal bytes, [(engine object, text bytes)])."""
    stripped = os.path.join(runner.tmp, 'shoal.stripped')
    shutil.copy(runner.shoal, stripped)
    subprocess.run(['strip', stripped], check=True)
    binary = os.path.getsize(stripped)
    objdir = os.path.join(runner.build, 'CMakeFiles', 'shoal_obj.dir', 'src', 'engine')
    objs = sorted(f for f in os.listdir(objdir) if f.endswith('.o')) if os.path.isdir(objdir) else []
    text = []
    if objs:
        out = runner.run_text(['size'] + [os.path.join(objdir, o) for o in objs])
        for line in out.splitlines()[1:]:
            f = line.split()
            text.append((os.path.basename(f[5]).replace('.c.o', '.c'), int(f[0])))
    return binary, text


def machine():
    cpu = 'unknown'
    with open('/proc/cpuinfo') as f:
        for line in f:
            if line.startswith('model name'):
                cpu = line.split(':', 1)[1].strip()
                break

    def first_line(argv):
        try:
            return Runner.run_text(argv).splitlines()[0]
        except (OSError, IndexError):
            return 'not found'
    return {
        'CPU': cpu,
        'cores': str(os.cpu_count()),
        'kernel': f'{platform.system()} {platform.release()}',
        'native compiler': first_line(['gcc', '--version']),
        'wasm compiler': first_line(['clang-19', '--version']),
        'node': first_line([NODE, '--version']) if NODE else 'not used',
        'shoal commit': first_line(['git', '-C', ROOT, 'describe', '--always', '--dirty']),
    }


def write_chart(suite, cal, path):
    """SVG bar chart (gnuplot) of shoal's, node's and the best peer interpreter's ratio to native."""
    if not shutil.which('gnuplot'):
        print('bench: gnuplot not found, no chart')
        return False
    dat = os.path.join(os.path.dirname(path), 'chart.dat.tmp')
    with open(dat, 'w') as f:
        for p in suite + cal:
            peer = float(p.peers['best_interp_ratio']) if p.peers else None
            label = p.name + ('*' if p.peers else '')
            f.write(f'"{label}" {fmt(ratio(p, "shoal"), ".3f").replace("—", "?")} '
                    f'{fmt(ratio(p, "node"), ".3f").replace("—", "?")} {fmt(peer, ".3f").replace("—", "?")}\n')
    script = f'''
set terminal svg size 1000,460 dynamic font "sans,12" background "#ffffff"
set output "{path}"
set title "Run time relative to native gcc -O2 (log scale, lower is better; * = calibration program)"
set datafile missing "?"
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.9 border -1
set boxwidth 0.9
set logscale y
set yrange [0.5:*]
set ytics ("0.5" 0.5, "1" 1, "2" 2, "5" 5, "10" 10, "20" 20, "50" 50, "100" 100)
set ylabel "time / native time"
set grid ytics
set xtics rotate by -30 nomirror
set key top left
plot "{dat}" using 2:xtic(1) title "shoal (interpreter)" lc rgb "#2166ac", \\
     "" using 3 title "node (V8 JIT)" lc rgb "#f4a582", \\
     "" using 4 title "best peer interpreter (wasm3 / WAMR)" lc rgb "#999999"
'''
    res = subprocess.run(['gnuplot'], input=script, text=True, capture_output=True, check=False)
    os.remove(dat)
    if res.returncode != 0:
        print('bench: gnuplot failed: ' + res.stderr.strip())
        return False
    return True


def results_md(runner, suite, cal, start, boot, binary, text, info, load, elapsed):
    rts = runtimes_of(runner)
    L = ['# shoal benchmark results', '',
         f'Measured by `make bench` on {start:%Y-%m-%d %H:%M} UTC: shoal `{info["shoal commit"]}` '
         f'(build-bench, {os.environ.get("BENCH_BUILD_TYPE", "Release")}). Each figure is the median of '
         f'{RUNS} runs (runtimes alternating), wall time from posix_spawn to wait4, peak RSS from wait4; '
         'every run printed the same checksum as native unless marked "wrong". '
         'Ratios (×) are to native (gcc -O2), lower is better: of wall time, and in the "(CPU)" columns of '
         'user+system CPU time, which a busy machine (see the load average) disturbs less for '
         'single-threaded programs; node also spends CPU in compiler and GC threads.', '',
         '![run time relative to native](chart.svg)', '',
         '## Machine', '', '| | |', '|---|---|']
    L += [f'| {k} | {v} |' for k, v in info.items()]
    L += [f'| load average (1 min) before / after | {load[0]:.2f} / {load[1]:.2f} |']
    L += [f'| nice value of the measured runs | {NICE} |'] if NICE else []
    L.append('')

    def table(progs, calibration):
        """Markdown rows: one per program, then the geometric means."""
        def secs(rt):
            return lambda p: 'wrong' if rt in p.wrong else fmt(wall(p, rt), '.3f')

        def times(rt, cpu=False):
            return (lambda p: fmt(ratio(p, rt, cpu=cpu), '.2f', '×'),
                    lambda ps: '**' + fmt(geomean([ratio(p, rt, cpu=cpu) for p in ps]), '.2f', '×') + '**')

        def vs_peer(cpu=False):
            def one(p):
                r = ratio(p, 'shoal', cpu=cpu)
                rel = r / float(p.peers['best_interp_ratio']) if r else None
                return fmt(rel, '.2f') + ('' if rel is None else ' ✓' if rel <= TARGET_VS_PEERS else ' ✗')

            def mean(ps):
                gs = geomean([ratio(p, 'shoal', cpu=cpu) for p in ps])
                gp = geomean([float(p.peers['best_interp_ratio']) for p in ps])
                return '**' + fmt(gs / gp if gs and gp else None, '.2f') + '**'
            return one, mean

        blank = lambda ps: ''  # noqa: E731
        cols = [('program', lambda p: p.name, lambda ps: '**geometric mean**'),
                ('args' if calibration else 'covers', (lambda p: ' '.join(p.args)) if calibration else (lambda p: p.what), blank),
                ('native s', secs('native'), blank), ('shoal s', secs('shoal'), blank)]
        if 'node' in rts:
            cols.append(('node s', secs('node'), blank))
        cols.append(('shoal ×', *times('shoal')))
        if 'node' in rts:
            cols.append(('node ×', *times('node')))
        cols.append(('shoal × (CPU)', *times('shoal', cpu=True)))
        if calibration:
            cols.append(('best peer ×', lambda p: f"{float(p.peers['best_interp_ratio']):.2f}×",
                         lambda ps: fmt(geomean([float(p.peers['best_interp_ratio']) for p in ps]), '.2f', '×')))
            cols.append(('shoal / peer', *vs_peer()))
            cols.append(('shoal / peer (CPU)', *vs_peer(cpu=True)))
        mem_rts = [rt for rt in ('native', 'shoal', 'node') if rt in rts]
        cols.append(('peak RSS MiB ' + ' / '.join(mem_rts),
                     lambda p: ' / '.join(fmt(rss(p, rt) / 1024 if rss(p, rt) else None, '.1f') for rt in mem_rts), blank))
        rows = ['| ' + ' | '.join(c[0] for c in cols) + ' |', '|' + '---|' * len(cols)]
        rows += ['| ' + ' | '.join(c[1](p) for c in cols) + ' |' for p in progs]
        rows.append('| ' + ' | '.join(c[2](progs) for c in cols) + ' |')
        return rows

    L += ['## The suite (bench/src)', '',
          'Eleven programs, each sized (bench/programs.tsv) to run about half a second natively; '
          'wasm32-wasi built with `clang-19 -O2`, native with `gcc -O2`.', '']
    L += table(suite, False) + ['']
    if cal:
        L += ['## Calibration programs (../shared/bench)', '',
              '"best peer ×" is the best C interpreter\'s ratio to native (wasm3 or WAMR fast interpreter, '
              'from PEERS.tsv); "shoal / peer" is shoal\'s ratio divided by it '
              f'(target ≤ {TARGET_VS_PEERS}, i.e. beat the best interpreter by a quarter).', '']
        L += table(cal, True) + ['']

    crashed = [f'{p.name} ({p.node_crashes}×)' for p in suite + cal if p.node_crashes]
    wrong = [f'{p.name} on {rt}: {why}' for p in suite + cal for rt, why in p.wrong.items()]
    if crashed or wrong:
        L += ['Notes:', '']
        L += [f'- wrong or failed: {w}' for w in wrong]
        if crashed:
            L += ['- node segfaulted after printing the right result, and the run was repeated, on '
                  + ', '.join(crashed) + ' (a V8 bug: see node_cmd in bench/bench.py).']
        L.append('')

    L += ['## Start-up', '',
          f'`hello` (prints one line and exits): median wall time of {STARTUP_RUNS} runs each.', '',
          '| runtime | median ms | peak RSS MiB |', '|---|---|---|']
    names = {'native': 'native exec', 'shoal': '`shoal run hello.wasm`', 'node': 'node (node:wasi, `--single-threaded-gc`)'}
    for rt in ('native', 'shoal', 'node'):
        if rt in boot:
            L.append(f'| {names[rt]} | {boot[rt][0]:.2f} | {boot[rt][1]:.1f} |')
        elif rt in rts:
            L.append(f'| {names[rt]} | failed | — |')
    L.append('')

    if 'shoal --timeout' in rts:
        L += ['## Cost of the interrupt/timeout mechanism', '',
              f'`shoal run {shlex.join(TIMEOUT_ARGS)}` against plain `shoal run` on the suite: median of the '
              f'{min(RUNS, TIMEOUT_RUNS)} runs each in which both ran, alternating (target ≤ '
              f'{TARGET_TIMEOUT_COST:.0f}% slower). The CPU-time column is the steadier one on a busy machine.', '',
              '| program | shoal s | with timeout s | cost (wall) | cost (CPU) |', '|---|---|---|---|---|']
        costs = ([], [])
        for p in suite:
            cells = [p.name]
            for k, cpu in enumerate((False, True)):
                a = median([r[3 if cpu else 0] for r in p.runs.get('shoal', [])[:TIMEOUT_RUNS]]) \
                    if 'shoal' not in p.wrong else None
                b = wall(p, 'shoal --timeout', cpu)
                if not cpu:
                    cells += [fmt(a, '.3f'), fmt(b, '.3f') if 'shoal --timeout' not in p.wrong else 'failed']
                cells.append(fmt((b / a - 1) * 100 if a and b else None, '+.1f', '%'))
                if a and b:
                    costs[k].append(b / a)
            L.append('| ' + ' | '.join(cells) + ' |')
        means = []
        for c in costs:
            g = geomean(c)
            g = (g - 1) * 100 if g else None
            means.append(f'**{fmt(g, "+.1f", "%")}**' + ('' if g is None else ' ✓' if g <= TARGET_TIMEOUT_COST else ' ✗'))
        L += [f'| **geometric mean** | | | {means[0]} | {means[1]} |', '']

    L += ['## Sizes', '',
          f'Stripped `shoal` binary: **{binary / 1024:.0f} KiB** ({binary} bytes; target ≤ 1 MiB'
          f'{" ✓" if binary <= TARGET_BINARY else " ✗"}).', '']
    if text:
        total = sum(t for _, t in text)
        L += [f'Engine code: `size` text of the src/engine objects, **{total / 1024:.0f} KiB** in all '
              f'(target ≤ 250 KiB{" ✓" if total <= TARGET_ENGINE else " ✗"}):', '',
              '| object | text bytes |', '|---|---|']
        L += [f'| {name} | {t} |' for name, t in text]
        L.append('')
    L += ['## Reproducing', '',
          '`make bench` (installs clang-19, wasi-libc, gnuplot, node if missing; builds build-bench). '
          f'This run took {elapsed / 60:.0f} minutes; on an idle machine of this kind about half that. '
          '`BENCH_RUNS=N`, `BENCH_ONLY=prog,...` and the other knobs: bench/README.md; `BENCH_ONLY` runs '
          'print their table but leave this file alone.', '']
    return '\n'.join(L)


def main():
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    runner = Runner(sys.argv[1])
    for f in (runner.launch, runner.shoal):
        if not os.path.exists(f):
            sys.exit(f'bench: {f} missing (cmake --build {sys.argv[1]} --target bench_all)')
    suite, cal = load_programs(runner.bdir)
    start = datetime.now(timezone.utc)
    load0 = os.getloadavg()[0]
    t0 = time.monotonic()
    print(f'bench: {len(suite)} suite + {len(cal)} calibration programs, {RUNS} runs each on '
          f'{", ".join(runtimes_of(runner))}', flush=True)
    for p in suite:
        bench_program(runner, p, runtimes_of(runner))
    for p in cal:
        bench_program(runner, p, runtimes_of(runner, timeout=False))
    boot = startup(runner)
    for rt, (ms, mib, n) in boot.items():
        print(f'start-up {rt:6} {ms:8.2f} ms  {mib:6.1f} MiB  ({n} runs)')
    binary, text = sizes(runner)
    info = machine()
    md = results_md(runner, suite, cal, start, boot, binary, text, info, (load0, os.getloadavg()[0]),
                    time.monotonic() - t0)
    outdir = runner.bdir if ONLY else BENCH
    path = os.path.join(outdir, 'RESULTS.md')
    # sections other benchmarks keep between markers (make bench-http's) stay
    kept = ''
    if os.path.exists(path):
        m = re.search(r'<!-- bench-http -->.*<!-- /bench-http -->\n', open(path).read(), flags=re.S)
        if m:
            kept = '\n' + m.group(0)
    with open(path, 'w') as f:
        f.write(md.rstrip('\n') + '\n' + kept)
    write_chart(suite, cal, os.path.join(outdir, 'chart.svg'))
    shutil.rmtree(runner.tmp, ignore_errors=True)
    print(md)
    print(f'bench: wrote {outdir}/RESULTS.md and chart.svg in {time.monotonic() - t0:.0f} s')
    wrong = [(p.name, rt) for p in suite + cal for rt in p.wrong]
    if wrong:
        sys.exit('bench: wrong or failed runs: ' + ', '.join(f'{n} on {rt}' for n, rt in wrong))


if __name__ == '__main__':
    main()
