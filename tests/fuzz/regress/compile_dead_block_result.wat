;; Fuzzer finding (make fuzz, first seed; fixed in a1ddb48): compiling this module
;; evaluates &c->vals[pos] with c->vals == NULL in materialize()
;; (src/engine/compile.c), "applying zero offset to null pointer" under
;; clang's UBSan. The end of a block with a result in dead code materializes
;; a value slot before any slot was ever allocated. Same as spec module
;; unreachable.0.wasm. Checked by tests/engine/test_regress.c.
(module (func (export "f") (result i32) (block (result i32) unreachable)))
