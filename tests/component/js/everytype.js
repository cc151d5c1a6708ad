// A JavaScript component (componentize-js) exporting wit/everytype: every
// WIT value type, and a resource whose destructor is observable (live()).

export const types = {
  echoPoint(p) {
    return { x: p.x, y: p.y };
  },
  olderThan(people, age) {
    return people.filter((p) => p.age > age).map((p) => ({ ...p, tags: [...p.tags, 'older'] }));
  },
  swap([s, n, b]) {
    return [!b, n + 1, s + '!'];
  },
  describe(s) {
    switch (s.tag) {
      case 'circle': return `circle r=${s.val}`;
      case 'rect': return `rect ${s.val[0].x},${s.val[0].y}..${s.val[1].x},${s.val[1].y}`;
      case 'label': return `label «${s.val}»`;
      default: return 'nothing';
    }
  },
  scale(s, k) {
    switch (s.tag) {
      case 'circle': return { tag: 'circle', val: s.val * k };
      case 'rect': {
        const [a, b] = s.val;
        return { tag: 'rect', val: [a, { x: a.x + Math.round((b.x - a.x) * k), y: a.y + Math.round((b.y - a.y) * k) }] };
      }
      case 'label': return { tag: 'label', val: s.val.repeat(Math.max(0, Math.floor(k))) };
      default: return { tag: 'nothing' };
    }
  },
  nextColor(c) {
    const all = ['red', 'green', 'blue', 'dark-magenta'];
    return all[(all.indexOf(c) + 1) % all.length];
  },
  grant(p, extra) {
    const out = {};
    for (const k of ['read', 'write', 'exec', 'admin']) out[k] = !!(p[k] || extra[k]);
    if (out.admin) out.read = true;
    return out;
  },
  firstWord(s) {
    const w = s.trim().split(/\s+/)[0];
    return w ? w : undefined;
  },
  maybeDouble(x) {
    return x === undefined ? undefined : x * 2n;
  },
  safeDiv(a, b) {
    if (b === 0) throw `division of ${a} by zero`;
    return Math.trunc(a / b);
  },
  check(v) {
    if (v < 10) throw 'too-small';
    if (v > 100) throw 'too-big';
  },
  totals(items) {
    let n = 0;
    let sum = 0;
    for (const i of items) { n += i.count; sum += i.count * i.price; }
    return [n, sum];
  },
  reverse(s) {
    return [...s].reverse().join('');
  },
  charInfo(c) {
    return [c.codePointAt(0), c.toUpperCase() + c.toLowerCase()];
  },
  ints(a, b, c, d) {
    return BigInt64Array.of(BigInt(a), BigInt(b), c, BigInt.asIntN(64, d), BigInt.asIntN(64, c - BigInt(a)));
  },
  nested(x) {
    return x.map((o) => (o === undefined ? 'none' : o.tag === 'ok' ? `ok ${o.val}` : `err ${o.val}`));
  },
  bytes(b) {
    return Uint8Array.from(b, (v) => (v * 3 + 1) & 255).reverse();
  },
};

let live = 0;

class Counter {
  constructor(name, start) {
    this.n = name;
    this.v = start;
    live++;
  }
  increment(by) {
    this.v += by;
    return this.v;
  }
  get() {
    return this.v;
  }
  name() {
    return this.n;
  }
  static merge(a, b) {
    return new Counter(`${a.n}+${b.n}`, a.v + b.v);
  }
  [Symbol.dispose]() {
    live--;
  }
}

export const counters = {
  Counter,
  live() {
    return live;
  },
  take(c) {
    return c.v;
  },
  peek(c) {
    return [c.n, c.v];
  },
};
