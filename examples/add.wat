;; The module of examples/embed.c (docs/embedding.md): imports a host
;; function, exports a function and its memory.
(module
  (import "env" "log_i32" (func $log_i32 (param i32)))
  (memory (export "memory") 1)
  (data (i32.const 0) "hello from wasm\00")
  ;; add(a, b): logs a + b through the host, stores it at address 16, returns it.
  (func (export "add") (param $a i32) (param $b i32) (result i32)
    (local $sum i32)
    (local.set $sum (i32.add (local.get $a) (local.get $b)))
    (call $log_i32 (local.get $sum))
    (i32.store (i32.const 16) (local.get $sum))
    (local.get $sum)))
