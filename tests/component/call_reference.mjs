// node call_reference.mjs BINDINGS.js CASES.mjs: runs every call of CASES
// through jco's JS bindings of the component; prints "CALL\tRESULT" lines,
// RESULT in WAVE (a trap prints "trap").
import { pathToFileURL } from 'node:url';
import { parseCall, print } from './wave.mjs';

const [bindings, casesFile] = process.argv.slice(2);
const m = await import(pathToFileURL(bindings).href);
const { funcs, calls } = await import(pathToFileURL(casesFile).href);
for (const call of calls) {
  const name = call.slice(0, call.indexOf('(')).trim();
  const [path, params, result] = funcs[name];
  const { args } = parseCall(call, params);
  let fn = m;
  for (const p of path) fn = fn[p];
  let out;
  try {
    const v = fn(...args);
    out = result === null ? '()' : result.result ? print(result, { ok: true, val: v }) : print(result, v);
  } catch (e) {
    if (e && e.constructor && e.constructor.name === 'ComponentError' && result && result.result) {
      out = print(result, { ok: false, val: e.payload });
    } else {
      out = 'trap';
    }
  }
  console.log(`${call}\t${out}`);
}
