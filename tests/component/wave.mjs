// Type-directed WAVE for the node reference side of component.call.* tests:
// parse WAVE text into the JS values jco's bindings take, and print the JS
// values they return as WAVE, the way `shoal call` prints them.
// Types are small descriptors: 's32', {list: T}, {record: [[name, T], ...]},
// {variant: [[name, T|null], ...]}, {enum: [...]}, {flags: [...]},
// {option: T}, {result: [T|null, T|null]}, {tuple: [T, ...]}.

const camel = (s) => s.replace(/-([a-z0-9])/g, (_, c) => c.toUpperCase());
const INTS = { s8: 1, u8: 1, s16: 1, u16: 1, s32: 1, u32: 1 };
const TYPED = { u8: Uint8Array, s8: Int8Array, u16: Uint16Array, s16: Int16Array, u32: Uint32Array,
  s32: Int32Array, u64: BigUint64Array, s64: BigInt64Array, f32: Float32Array, f64: Float64Array };

export class Parser {
  constructor(text) { this.s = text; this.i = 0; }
  ws() { while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++; }
  peek(c) { this.ws(); return this.s[this.i] === c; }
  eat(c) { if (!this.peek(c)) throw new Error(`expected ${c} at ${this.i} in ${this.s}`); this.i++; }
  label() {
    this.ws();
    if (this.s[this.i] === '%') this.i++;
    const m = /^[A-Za-z0-9-]+/.exec(this.s.slice(this.i));
    if (!m) throw new Error(`label expected at ${this.i} in ${this.s}`);
    this.i += m[0].length;
    return m[0];
  }
  token() { this.ws(); const m = /^[-+0-9A-Za-z.]+/.exec(this.s.slice(this.i)); this.i += m[0].length; return m[0]; }
  chr() {
    let c = this.s[this.i];
    if (c !== '\\') { const cp = this.s.codePointAt(this.i); this.i += cp > 0xffff ? 2 : 1; return String.fromCodePoint(cp); }
    c = this.s[this.i + 1];
    this.i += 2;
    if (c === 'u') {
      const j = this.s.indexOf('}', this.i);
      const cp = parseInt(this.s.slice(this.i + 1, j), 16);
      this.i = j + 1;
      return String.fromCodePoint(cp);
    }
    return { n: '\n', t: '\t', r: '\r', '\\': '\\', "'": "'", '"': '"' }[c];
  }
  seq(close, f) {
    const out = [];
    while (!this.peek(close)) { out.push(f(out.length)); if (!this.peek(',')) break; this.i++; }
    this.eat(close);
    return out;
  }
  value(t) {
    if (typeof t === 'string') {
      if (t === 'bool') return this.label() === 'true';
      if (INTS[t]) return Number(this.token());
      if (t === 's64' || t === 'u64') return BigInt(this.token());
      if (t === 'f32' || t === 'f64') {
        const x = this.token();
        return x === 'nan' ? NaN : x === 'inf' ? Infinity : x === '-inf' ? -Infinity : Number(x);
      }
      if (t === 'char') { this.eat("'"); const c = this.chr(); this.eat("'"); return c; }
      if (t === 'string') { this.eat('"'); let s = ''; while (this.s[this.i] !== '"') s += this.chr(); this.i++; return s; }
    }
    if (t.list) { this.eat('['); const a = this.seq(']', () => this.value(t.list)); return TYPED[t.list] ? TYPED[t.list].from(a) : a; }
    if (t.tuple) { this.eat('('); return this.seq(')', (k) => this.value(t.tuple[k])); }
    if (t.record) {
      this.eat('{');
      const o = {};
      if (this.peek(':')) { this.i++; this.eat('}'); return o; }
      this.seq('}', () => { const l = this.label(); this.eat(':'); o[camel(l)] = this.value(t.record.find(([n]) => n === l)[1]); });
      return o;
    }
    if (t.flags) { this.eat('{'); const o = {}; this.seq('}', () => { o[camel(this.label())] = true; }); return o; }
    if (t.enum) return this.label();
    if (t.variant) {
      const l = this.label();
      const c = t.variant.find(([n]) => n === l);
      if (c[1]) { this.eat('('); const v = this.value(c[1]); this.eat(')'); return { tag: l, val: v }; }
      return { tag: l };
    }
    if (t.option !== undefined) {
      const save = this.i;
      this.ws();
      if (/[a-z]/.test(this.s[this.i] || '')) {
        const l = this.label();
        if (l === 'none') return undefined;
        if (l === 'some') { this.eat('('); const v = this.value(t.option); this.eat(')'); return v; }
        this.i = save;
      }
      return this.value(t.option);
    }
    throw new Error('unsupported type ' + JSON.stringify(t));
  }
}

// JavaScript's Number#toString with WAVE's spellings of the specials; f32
// values print with the fewest digits that round-trip through Math.fround.
function num(x, f32) {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (Object.is(x, -0)) return '-0';
  if (f32) for (let p = 1; p <= 9; p++) { const y = Number(x.toPrecision(p)); if (Math.fround(y) === x) return String(y); }
  return String(x);
}

function esc(s, q) {
  let o = '';
  for (const ch of s) {
    const cp = ch.codePointAt(0);
    if (ch === '\\') o += '\\\\';
    else if (ch === '\n') o += '\\n';
    else if (ch === '\t') o += '\\t';
    else if (ch === '\r') o += '\\r';
    else if (ch === q) o += '\\' + q;
    else if (cp < 0x20 || cp === 0x7f) o += `\\u{${cp.toString(16)}}`;
    else o += ch;
  }
  return o;
}

const KW = new Set(['true', 'false', 'inf', 'nan', 'some', 'none', 'ok', 'err']);
const lab = (l) => (KW.has(l) ? '%' : '') + l;

export function print(t, v) {
  if (typeof t === 'string') {
    if (t === 'bool') return v ? 'true' : 'false';
    if (INTS[t] || t === 's64' || t === 'u64') return String(v);
    if (t === 'f32' || t === 'f64') return num(v, t === 'f32');
    if (t === 'char') return `'${esc(v, "'")}'`;
    if (t === 'string') return `"${esc(v, '"')}"`;
  }
  if (t.list) return '[' + Array.from(v, (e) => print(t.list, e)).join(', ') + ']';
  if (t.tuple) return '(' + t.tuple.map((u, k) => print(u, v[k])).join(', ') + ')';
  if (t.record) return '{' + t.record.map(([n, u]) => `${lab(n)}: ${print(u, v[camel(n)])}`).join(', ') + '}';
  if (t.flags) return '{' + t.flags.filter((n) => v[camel(n)]).map(lab).join(', ') + '}';
  if (t.enum) return lab(v);
  if (t.variant) { const c = t.variant.find(([n]) => n === v.tag); return lab(v.tag) + (c[1] ? `(${print(c[1], v.val)})` : ''); }
  if (t.option !== undefined) return v === undefined ? 'none' : `some(${print(t.option, v)})`;
  if (t.result) {
    const [ok, err] = t.result;
    return v.ok ? 'ok' + (ok ? `(${print(ok, v.val)})` : '') : 'err' + (err ? `(${print(err, v.val)})` : '');
  }
  throw new Error('unsupported type ' + JSON.stringify(t));
}

// Splits "name(args)" and parses the args against the param types.
export function parseCall(text, params) {
  const open = text.indexOf('(');
  const name = text.slice(0, open).trim();
  const p = new Parser(text);
  p.i = open + 1;
  const args = p.seq(')', (k) => p.value(params[k]));
  return { name, args };
}
