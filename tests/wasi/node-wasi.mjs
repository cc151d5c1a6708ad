// node-wasi.mjs: runs a WASI preview 1 command module with node:wasi, taking
// the same options as `shoal run`, so the tests can use node as a reference.
//   node --experimental-wasi-unstable-preview1 node-wasi.mjs \
//        [--dir HOST[::GUEST]]... [--env K=V]... [--] app.wasm [args...]
// Only what the tests use is accepted; anything else is an error (exit 2).
import { WASI } from 'node:wasi';
import { readFileSync } from 'node:fs';

const argv = process.argv.slice(2);
const preopens = {};
const env = {};
let i = 0;
for (; i < argv.length; i++) {
  const a = argv[i];
  if (a === '--') { i++; break; }
  if (a === '--dir' && i + 1 < argv.length) {
    const spec = argv[++i];
    if (spec.endsWith(':readonly')) {
      console.error('node-wasi: node has no read-only pre-opens');
      process.exit(2);
    }
    const sep = spec.indexOf('::');
    if (sep >= 0) preopens[spec.slice(sep + 2)] = spec.slice(0, sep);
    else preopens[spec] = spec;
  } else if (a === '--env' && i + 1 < argv.length) {
    const kv = argv[++i];
    const eq = kv.indexOf('=');
    if (eq < 0) { console.error(`node-wasi: --env ${kv}: expected K=V`); process.exit(2); }
    env[kv.slice(0, eq)] = kv.slice(eq + 1);
  } else if (a.startsWith('--')) {
    console.error(`node-wasi: unknown option ${a}`);
    process.exit(2);
  } else break;
}
if (i >= argv.length) { console.error('node-wasi: missing app.wasm'); process.exit(2); }
const file = argv[i];
const args = argv.slice(i);   // argv[0] of the guest is the module path, as for shoal

let wasi;
try {
  wasi = new WASI({ version: 'preview1', args, env, preopens, returnOnExit: true });
} catch (e) {   // node 18 before the version option
  wasi = new WASI({ args, env, preopens, returnOnExit: true });
}
const mod = new WebAssembly.Module(readFileSync(file));
const inst = new WebAssembly.Instance(mod, { wasi_snapshot_preview1: wasi.wasiImport });
try {
  process.exitCode = wasi.start(inst);
} catch (e) {
  console.error(`node-wasi: trap: ${e && e.message}`);
  process.exitCode = 3;   // shoal's exit status for a trap
}
