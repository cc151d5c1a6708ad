;; A consumer whose import of shoal:link/math@0.1.0 declares `add` with
;; other types than link_provider.wat exports: linking them must fail naming
;; the import and both types (component.error.link_type).
(component
  (import "shoal:link/math@0.1.0" (instance $math
    (export "add" (func (param "a" s64) (param "b" s64) (result s64)))))
  (alias export $math "add" (func $add))
  (core func $add-low (canon lower (func $add)))
  (core module $main
    (import "math" "add" (func $add (param i64 i64) (result i64)))
    (func (export "twice") (param i64) (result i64) (call $add (local.get 0) (local.get 0))))
  (core instance $imath (export "add" (func $add-low)))
  (core instance $main (instantiate $main (with "math" (instance $imath))))
  (func (export "twice") (param "x" s64) (result s64) (canon lift (core func $main "twice")))
)
