;; Imports satisfied by the host: a world-level function taking a string
;; and a function of an imported interface (test_component.c: host_imports).
(component
  (import "log" (func $log (param "msg" string) (result u32)))
  (type $ops-t (instance (export "add" (func (param "a" s32) (param "b" s32) (result s32)))))
  (import "host:math/ops@1.0.0" (instance $ops (type $ops-t)))
  (alias export $ops "add" (func $add))
  (core module $mem
    (memory (export "memory") 1)
    (func (export "realloc") (param i32 i32 i32 i32) (result i32) (i32.const 4096)))
  (core instance $m (instantiate $mem))
  (alias core export $m "memory" (core memory $memory))
  (alias core export $m "realloc" (core func $realloc))
  (core func $log-low (canon lower (func $log) (memory $memory) (realloc $realloc)))
  (core func $add-low (canon lower (func $add)))
  (core module $main
    (import "env" "memory" (memory 1))
    (import "host" "log" (func $log (param i32 i32) (result i32)))
    (import "host" "add" (func $add (param i32 i32) (result i32)))
    (data (i32.const 100) "hello host")
    (func (export "run") (param i32) (result i32)
      (i32.add (call $log (i32.const 100) (i32.const 10)) (call $add (local.get 0) (i32.const 1000)))))
  (core instance $h (export "log" (func $log-low)) (export "add" (func $add-low)))
  (core instance $main (instantiate $main (with "env" (instance $m)) (with "host" (instance $h))))
  (func (export "run") (param "x" s32) (result s32) (canon lift (core func $main "run")))
)
