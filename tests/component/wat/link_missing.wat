;; A consumer importing a function link_provider.wat's shoal:link/math does
;; not export (`mul`): the link error names the import and its type
;; (component.error.link_missing).
(component
  (import "shoal:link/math@0.1.1" (instance $math
    (export "add" (func (param "a" s32) (param "b" s32) (result s32)))
    (export "mul" (func (param "a" s32) (param "b" s32) (result s32)))))
  (alias export $math "mul" (func $mul))
  (core func $mul-low (canon lower (func $mul)))
  (core module $main
    (import "math" "mul" (func $mul (param i32 i32) (result i32)))
    (func (export "square") (param i32) (result i32) (call $mul (local.get 0) (local.get 0))))
  (core instance $imath (export "mul" (func $mul-low)))
  (core instance $main (instantiate $main (with "math" (instance $imath))))
  (func (export "square") (param "x" s32) (result s32) (canon lift (core func $main "square")))
)
