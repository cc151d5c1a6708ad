// Calls of component.call.calc: each is run by `shoal call calc.wasm CALL`
// and through `jco transpile` + node (call_reference.mjs); outputs must match.
const point = { record: [['x', 's32'], ['y', 's32']] };
const color = { enum: ['red', 'green', 'blue'] };
const perms = { flags: ['read', 'write', 'exec'] };
const shape = { variant: [['circle', 'u32'], ['rect', point], ['empty', null]] };

// name -> [export path in the JS bindings, param types, result type]
export const funcs = {
  'add': [['api', 'add'], ['s32', 's32'], 's32'],
  'greet': [['api', 'greet'], ['string'], 'string'],
  'sum': [['api', 'sum'], [{ list: 'u32' }], 'u64'],
  'move-point': [['api', 'movePoint'], [point, 's32', 's32'], point],
  'color-name': [['api', 'colorName'], [color], 'string'],
  'toggle': [['api', 'toggle'], [perms], perms],
  'area': [['api', 'area'], [shape], 'u64'],
  'find': [['api', 'find'], [{ list: 'string' }, 'string'], { option: 'u32' }],
  'parse': [['api', 'parse'], ['string'], { result: ['s64', 'string'] }],
  'minmax': [['api', 'minmax'], [{ list: 'f64' }], { tuple: ['f64', 'f64'] }],
  'is-upper': [['api', 'isUpper'], ['char'], 'bool'],
  'mix': [['api', 'mix'], ['u8', 's16', 'u64', 'f32'], 'f64'],
  'version': [['version'], [], 'string'],
};

export const calls = [
  'add(1, 2)',
  'add(-2147483648, -1)',
  'add(2147483647, 1)',
  'greet("world")',
  'greet("")',
  'greet("tab\\there \\"quoted\\" \\u{1F600} é")',
  'sum([])',
  'sum([1, 2, 3, 4000000000])',
  'move-point({x: 1, y: 2}, 10, 20)',
  'move-point({y: -5, x: 7}, -7, 5)',
  'color-name(red)',
  'color-name(green)',
  'color-name(blue)',
  'toggle({})',
  'toggle({read, exec})',
  'toggle({read, write, exec})',
  'area(circle(3))',
  'area(circle(4294967295))',
  'area(rect({x: 4, y: 5}))',
  'area(empty)',
  'find(["a", "bb", "c"], "c")',
  'find(["a", "bb", "c"], "bb")',
  'find([], "x")',
  'parse("-42")',
  'parse("9223372036854775807")',
  'parse("x1")',
  'parse("")',
  'minmax([1.5, -2.25, 1e300])',
  'minmax([0.1])',
  'minmax([])',
  "is-upper('Q')",
  "is-upper('q')",
  "is-upper('\\u{10FFFF}')",
  'mix(255, -300, 18446744073709551615, 0.5)',
  'mix(0, 0, 0, 0.1)',
  'mix(1, -1, 1, -0.75)',
  'version()',
];
