;; tests/engine/test_trap.c: calls between instances with different
;; memories; out-of-bounds accesses must trap in whichever instance runs.
(module
  (import "prov" "load8" (func $prov_load8 (param i32) (result i32)))
  (import "prov" "call_table" (func $prov_call_table (param i32 i32) (result i32)))
  (memory 2)
  (func $own_load (param i32) (result i32) (i32.load8_u (local.get 0)))
  ;; (a, b): loads a from the provider's memory (1 page), then b from ours
  ;; (2 pages)
  (func $both (export "both") (param i32 i32) (result i32)
    (i32.add (call $prov_load8 (local.get 0)) (call $own_load (local.get 1))))
  ;; the same, the other way round
  (func $both_rev (export "both_rev") (param i32 i32) (result i32)
    (i32.add (call $own_load (local.get 1)) (call $prov_load8 (local.get 0))))
  (func $via_table (export "via_table") (param i32 i32) (result i32)
    (call $prov_call_table (local.get 0) (local.get 1)))
  ;; a call into the provider, a call of our own, then our own memory again
  ;; (test_trap.c: host_running_another_instance_leaves_the_caller_current)
  (func (export "nested_then_own") (param i32 i32) (result i32)
    (i32.add (i32.add (call $prov_load8 (local.get 0)) (call $own_load (local.get 1)))
             (i32.load8_u (local.get 1)))))
