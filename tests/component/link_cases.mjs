// Calls of component.call.link: link_consumer.wasm with its import
// shoal:link/math@0.1.0 served by link_provider.wasm's @0.1.2, in one
// `shoal call --link link_provider.wasm link_consumer.wasm CALL...`. The
// reference is node running both components' `jco transpile` bindings, the
// consumer's import mapped to the provider's export (jco has no command to
// compose two components, so JS passes the values across).
export const funcs = {
  'sum3': [['sum3'], ['s32', 's32', 's32'], 's32'],
  'hello': [['hello'], ['string'], 'string'],
  'tally': [['tally'], ['s32'], 's32'],
  'drops': [['drops'], [], 'u32'],
};

export const calls = [
  'sum3(1, 2, 3)',
  'sum3(2147483647, 1, -5)',
  'hello("")',
  'hello("wörld ☃ 😀")',
  'drops()',
  'tally(10)',
  'drops()',
  'tally(0)',
  'tally(1000)',
  'drops()',
];
