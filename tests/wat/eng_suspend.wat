;; tests/engine/test_suspend.c: a loop around a host function that may
;; suspend the execution; the wasm frames in between must survive.
(module
  (import "env" "tick" (func $tick (param i32) (result i32)))
  (func $step (param $i i32) (result i32)
    (i32.add (call $tick (local.get $i)) (i32.const 1)))
  ;; run(n) = sum over i < n of (tick(i) + 1)
  (func $run (export "run") (param $n i32) (result i32)
    (local $i i32) (local $sum i32)
    (block $done
      (loop $next
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $sum (i32.add (local.get $sum) (call $step (local.get $i))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $next)))
    (local.get $sum))
  (func (export "plain") (param i32) (result i32) (i32.mul (local.get 0) (i32.const 3))))
