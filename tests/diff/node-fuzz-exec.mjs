// node-fuzz-exec.mjs: runs a binaryen translate-to-fuzz module under V8 the way
// diff_driver does (same lines, floats as bits), a third opinion for seeds
// diff.py calls NaN-dependent: V8, like shoal, keeps hardware NaN payloads.
//   node node-fuzz-exec.mjs MODULE.wasm
import { readFileSync } from 'node:fs';

const buf = new DataView(new ArrayBuffer(8));
function fmt(type, v) {
  switch (type) {
    case 'i32': return String(v | 0);
    case 'i64': return BigInt.asIntN(64, v).toString();
    case 'f32': buf.setFloat32(0, v); return 'f32:0x' + buf.getUint32(0).toString(16).padStart(8, '0');
    case 'f64': buf.setFloat64(0, v); return 'f64:0x' + buf.getBigUint64(0).toString(16).padStart(16, '0');
    default: return '<ref>';
  }
}

const out = [];
const mod = new WebAssembly.Module(readFileSync(process.argv[2]));
const imports = {};
for (const imp of WebAssembly.Module.imports(mod)) {
  if (imp.module !== 'fuzzing-support' || !imp.name.startsWith('log-')) {
    console.log(`[unsupported import ${imp.module}.${imp.name}]`);
    process.exit(3);
  }
  const type = imp.name.slice(4);
  imports[imp.module] ??= {};
  imports[imp.module][imp.name] = (...args) => {
    const parts = args.map((a) => {
      if (type !== 'i64') return fmt(type, a);
      return `${Number(BigInt.asIntN(32, a))} ${Number(BigInt.asIntN(32, a >> 32n))}`;
    });
    out.push(`[LoggingExternalInterface logging ${parts.join(' ')}]`);
  };
}
// Result types come from the type section, which the JS API does not show:
// read them from the binary (function exports only).
const types = readTypes(readFileSync(process.argv[2]));
let inst;
try {
  inst = new WebAssembly.Instance(mod, imports);
} catch (e) {
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
  process.exit(0);
}
const hang = inst.exports.hangLimitInitializer;
for (const exp of WebAssembly.Module.exports(mod)) {
  if (exp.kind !== 'function') continue;
  out.push(`[fuzz-exec] calling ${exp.name}`);
  const ft = types.exportResults.get(exp.name);
  try {
    if (hang) hang();
    const args = ft.params.map((t) => (t === 'i64' ? 0n : t === 'i32' || t[0] === 'f' ? 0 : null));
    let r = inst.exports[exp.name](...args);
    if (ft.results.length === 0) continue;
    if (ft.results.length === 1) r = [r];
    const vals = ft.results.map((t, i) => fmt(t, r[i]));
    out.push(`[fuzz-exec] note result: ${exp.name} => ` +
             (vals.length > 1 ? `(${vals.join(', ')})` : vals[0]));
  } catch (e) {
    out.push(`[trap ${String(e.message || e).split('\n')[0]}]`);
  }
}
process.stdout.write(out.join('\n') + '\n');

function readTypes(bytes) {
  let p = 8;
  const u = () => { let r = 0, s = 0, b; do { b = bytes[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80); return r >>> 0; };
  const vt = (b) => ({ 0x7f: 'i32', 0x7e: 'i64', 0x7d: 'f32', 0x7c: 'f64', 0x70: 'funcref', 0x6f: 'externref' }[b] || 'v128');
  const sigs = [], funcTypes = [], exportResults = new Map();
  let nimportedFuncs = 0;
  while (p < bytes.length) {
    const id = bytes[p++], size = u(), end = p + size;
    if (id === 1) {
      for (let n = u(); n > 0; n--) {
        p++; // 0x60
        const params = []; for (let k = u(); k > 0; k--) params.push(vt(bytes[p++]));
        const results = []; for (let k = u(); k > 0; k--) results.push(vt(bytes[p++]));
        sigs.push({ params, results });
      }
    } else if (id === 2) {
      for (let n = u(); n > 0; n--) {
        for (let k = 0; k < 2; k++) { const len = u(); p += len; } // module, name
        const kind = bytes[p++];
        if (kind === 0) { funcTypes.push(u()); nimportedFuncs++; }
        else if (kind === 1) { p++; const f = u(); u(); if (f & 1) u(); }
        else if (kind === 2) { const f = u(); u(); if (f & 1) u(); }
        else { p += 2; }
      }
    } else if (id === 3) {
      for (let n = u(); n > 0; n--) funcTypes.push(u());
    } else if (id === 7) {
      for (let n = u(); n > 0; n--) {
        const len = u(); const name = Buffer.from(bytes.subarray(p, p + len)).toString('utf8'); p += len;
        const kind = bytes[p++], idx = u();
        if (kind === 0) exportResults.set(name, sigs[funcTypes[idx]]);
      }
    }
    p = end;
  }
  return { exportResults };
}
