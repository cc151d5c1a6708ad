// Preloaded into jco (node --import): preview2-shim 0.26 grants no preopens,
// so jco's own wasm-tools could not read WIT files without this one for '/'.
import { _setPreopens } from '@bytecodealliance/preview2-shim/filesystem';
_setPreopens({ '/': '/' });
