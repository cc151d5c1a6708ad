;; A consumer of shoal:link/math@0.2.0: link_provider.wat exports @0.1.2, not
;; a semver-compatible version, so linking fails naming both
;; (component.error.link_version).
(component
  (import "shoal:link/math@0.2.0" (instance $math
    (export "add" (func (param "a" s32) (param "b" s32) (result s32)))))
  (alias export $math "add" (func $add))
  (core func $add-low (canon lower (func $add)))
  (core module $main
    (import "math" "add" (func $add (param i32 i32) (result i32)))
    (func (export "twice") (param i32) (result i32) (call $add (local.get 0) (local.get 0))))
  (core instance $imath (export "add" (func $add-low)))
  (core instance $main (instantiate $main (with "math" (instance $imath))))
  (func (export "twice") (param "x" s32) (result s32) (canon lift (core func $main "twice")))
)
