// Calls of component.call.linking (wat/linking.wat), against jco + node.
export const funcs = {
  'quad': [['quad'], ['u32'], 'u32'],
  'double': [['double'], ['u32'], 'u32'],
  'relay': [['relay'], ['string'], 'string'],
};
export const calls = [
  'quad(5)',
  'quad(1073741824)',
  'double(21)',
  'relay("hello, world")',
  'relay("")',
  'relay("mixed Case ünïcode 😀")',
];
