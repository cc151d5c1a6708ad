;; Guests that break the canonical ABI where traps.wat does not: a variant
;; tag past the last case, handles that were never made or already dropped,
;; a string past the end of memory. Each call must trap with a message
;; naming the fault (component.error.guest_*).
(component
  (core module $m
    (memory (export "memory") 1)
    (func (export "dtor") (param i32)))
  (core instance $m (instantiate $m))
  (alias core export $m "memory" (core memory $mem))
  (alias core export $m "dtor" (core func $dtor))
  (type $r (resource (rep i32) (dtor (core func $dtor))))
  (core func $new (canon resource.new $r))
  (core func $drop (canon resource.drop $r))
  (core module $g
    (import "env" "memory" (memory 1))
    (import "res" "new" (func $new (param i32) (result i32)))
    (import "res" "drop" (func $drop (param i32)))
    ;; variant { a, b(u32), c(string) }: through memory (string payload), tag 7
    (func (export "bad-variant") (result i32)
      (i32.store8 (i32.const 0) (i32.const 7))
      (i32.const 0))
    (func (export "never-made") (result i32) (i32.const 42))
    (func (export "dropped") (result i32) (local $h i32)
      (local.set $h (call $new (i32.const 1)))
      (call $drop (local.get $h))
      (local.get $h))
    ;; a string that ends one byte past the memory
    (func (export "string-past-end") (result i32)
      (i32.store (i32.const 0) (i32.const 65530))
      (i32.store (i32.const 4) (i32.const 7))
      (i32.const 0))
    (func (export "ok-handle") (result i32) (call $new (i32.const 9))))
  (core instance $res (export "new" (func $new)) (export "drop" (func $drop)))
  (core instance $g (instantiate $g (with "env" (instance $m)) (with "res" (instance $res))))
  (export $R "r" (type $r))
  (type $v (variant (case "a") (case "b" u32) (case "c" string)))
  (export $V "v" (type $v))
  (type $own (own $R))
  (func (export "bad-variant") (result $V) (canon lift (core func $g "bad-variant") (memory $mem)))
  (func (export "never-made") (result $own) (canon lift (core func $g "never-made")))
  (func (export "dropped") (result $own) (canon lift (core func $g "dropped")))
  (func (export "string-past-end") (result string) (canon lift (core func $g "string-past-end") (memory $mem)))
  (func (export "ok-handle") (result $own) (canon lift (core func $g "ok-handle")))
)
