// A JavaScript component (componentize-js) of wit/jsapp/jsapp.wit: its 12 MB
// core module is the StarlingMonkey engine, a large real-world input.
import log from 'log';

export const api = {
  greet(name) {
    log('greeting ' + name);
    return `Hi ${name}`;
  },
  total(items) {
    return items.reduce((s, i) => s + BigInt(i.count), 0n);
  },
};
