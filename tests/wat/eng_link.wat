;; tests/engine/test_api.c: links against the exports of eng_api.wat.
(module
  (import "prov" "double" (func $double (param i32) (result i32)))
  (import "prov" "memory" (memory 1))
  (import "prov" "table" (table 2 funcref))
  (import "prov" "counter" (global $c (mut i32)))
  (func (export "quad") (param i32) (result i32) (call $double (call $double (local.get 0))))
  (func (export "peek") (param i32) (result i32) (i32.load8_u (local.get 0)))
  (func (export "poke") (param i32 i32) (i32.store8 (local.get 0) (local.get 1)))
  (func (export "via_table") (param i32 i32) (result i32)
    (call_indirect (param i32) (result i32) (local.get 1) (local.get 0)))
  (func (export "counter") (result i32) (global.get $c))
  (func (export "set_counter") (param i32) (global.set $c (local.get 0))))
