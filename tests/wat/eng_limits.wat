;; tests/engine/test_limits.c: loops, recursion and memory growth to be
;; stopped by fuel, interrupts and store limits.
(module
  (memory (export "memory") 1)
  (table $t 1 funcref)
  (func (export "spin") (loop $l (br $l)))
  ;; count(n) = n, after n loop iterations
  (func (export "count") (param $n i32) (result i32)
    (local $i i32)
    (block $done
      (loop $l
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $l)))
    (local.get $i))
  (func $rec (export "rec") (param i32) (result i32)
    (if (result i32) (i32.eqz (local.get 0))
      (then (i32.const 0))
      (else (i32.add (call $rec (i32.sub (local.get 0) (i32.const 1))) (i32.const 1)))))
  (func (export "grow") (param i32) (result i32) (memory.grow (local.get 0)))
  (func (export "table_grow") (param i32) (result i32)
    (table.grow $t (ref.null func) (local.get 0))))
