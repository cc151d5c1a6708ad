// node seq_compare.mjs SHOAL COMPONENT.wasm BINDINGS.js CASES.mjs [--link P.wasm]...
// Runs every call of CASES, in order, through jco's JS bindings (the
// reference) and in one `shoal call [--link P.wasm]... COMPONENT.wasm CALL...`;
// prints the differences and exits 1 unless every line matches. Resource
// handles are named $1, $2, ... in the order results carry them, on both
// sides; `[resource-drop]R($N)` disposes of a handle.
import { execFileSync } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import { Parser, print } from './wave.mjs';

const [shoal, comp, bindings, casesFile, ...links] = process.argv.slice(2);
const m = await import(pathToFileURL(bindings).href);
const { funcs, calls } = await import(pathToFileURL(casesFile).href);

const handles = [];
class HandleParser extends Parser {
  value(t) {
    if (t && (t.own || t.borrow)) {
      this.ws();
      const mm = /^\$([0-9]+)/.exec(this.s.slice(this.i));
      if (!mm) throw new Error(`handle expected at ${this.i} in ${this.s}`);
      this.i += mm[0].length;
      return handles[Number(mm[1]) - 1];
    }
    if (t && t.result) {  // wave.mjs reads no results: ok(v), err(v), ok, err
      const tag = this.label();
      const pt = t.result[tag === 'ok' ? 0 : 1];
      if (!pt) return { tag };
      this.eat('(');
      const val = this.value(pt);
      this.eat(')');
      return { tag, val };
    }
    return super.value(t);
  }
}
const show = (t, v) => (t && (t.own || t.borrow) ? (handles.push(v), `$${handles.length}`) : print(t, v));

function reference(call) {
  const name = call.slice(0, call.indexOf('(')).trim();
  const [path, params, result] = funcs[name];
  const p = new HandleParser(call);
  p.i = call.indexOf('(') + 1;
  const args = p.seq(')', (k) => p.value(params[k]));
  try {
    let v;
    if (path.length >= 3) {
      const cls = m[path[0]][path[1]];
      if (path[2] === 'new') v = new cls(...args);
      else if (path[2] === 'static') v = cls[path[3]](...args);
      else if (path[2] === 'drop') v = args[0][Symbol.dispose]();
      else v = args[0][path[2]](...args.slice(1));
    } else {
      let fn = m;
      for (const k of path) fn = fn[k];
      v = fn(...args);
    }
    return result === null ? '()' : result.result ? show(result, { ok: true, val: v }) : show(result, v);
  } catch (e) {
    if (e && e.constructor && e.constructor.name === 'ComponentError' && result && result.result)
      return show(result, { ok: false, val: e.payload });
    return 'trap';
  }
}

const want = calls.map(reference);
const linkArgs = links;
let got;
try {
  got = execFileSync(shoal, ['call', ...linkArgs, comp, ...calls], { encoding: 'utf8' }).split('\n');
} catch (e) {
  got = (e.stdout || '').split('\n');
  console.log(`shoal exited ${e.status}: ${e.stderr}`);
}
let failed = 0;
calls.forEach((c, k) => {
  const g = got[k] === undefined || got[k] === '' ? '(no output)' : got[k];
  if (g !== want[k]) {
    failed++;
    console.log(`  ${c}\n    shoal:    ${g}\n    expected: ${want[k]}`);
  }
});
if (failed) {
  console.log(`FAIL: ${failed} of ${calls.length} calls differ`);
  process.exit(1);
}
console.log(`ok: ${calls.length} calls of ${comp} match node`);
