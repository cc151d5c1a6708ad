// Calls of component.call.strings (wat/strings.wat), against jco + node.
export const funcs = {
  'echo8': [['echo8'], ['string'], 'string'],
  'echo16': [['echo16'], ['string'], 'string'],
  'units8': [['units8'], ['string'], 'u32'],
  'units16': [['units16'], ['string'], 'u32'],
};
export const calls = [
  'echo8("")',
  'echo8("héllo 😀")',
  'echo16("")',
  'echo16("héllo 😀")',
  'echo16("\\u{10FFFF}\\u{0}\\u{7f}")',
  'units8("héllo")',
  'units16("héllo")',
  'units16("😀😀")',
];
