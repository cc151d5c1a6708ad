# component.wasi02.badtype: a component importing a WASI 0.2 function with a
# type other than WASI's (get-random-bytes taking a string) must instantiate
# and trap cleanly when it calls it (exit 3, the function named), not crash.
# The component is written here in the text format and made by `jco parse`.
# Variables: SHOAL, JCO, OUT.
string(REPLACE ";" " " jco_cmd "${JCO}")
separate_arguments(jco_list UNIX_COMMAND "${jco_cmd}")
file(MAKE_DIRECTORY "${OUT}")
file(WRITE "${OUT}/badtype.wat" [=[
(component
  (import "wasi:random/random@0.2.3" (instance $r
    (export "get-random-bytes" (func (param "len" string) (result u64)))))
  (core module $memm (memory (export "mem") 1))
  (core instance $mm (instantiate $memm))
  (alias core export $mm "mem" (core memory $mem))
  (core func $lf (canon lower (func $r "get-random-bytes") (memory $mem)))
  (core module $m
    (import "r" "f" (func $f (param i32 i32) (result i64)))
    (func (export "go") (result i64) (call $f (i32.const 0) (i32.const 0))))
  (core instance $mi0 (instantiate $m (with "r" (instance (export "f" (func $lf))))))
  (func (export "go") (result u64) (canon lift (core func $mi0 "go")))
)
]=])
execute_process(COMMAND ${jco_list} parse "${OUT}/badtype.wat" -o "${OUT}/badtype.wasm" RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "jco parse failed: ${err}")
endif()
execute_process(COMMAND ${SHOAL} call "${OUT}/badtype.wasm" "go()"
                OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
string(FIND "${err}" "wasi:random/random@0.2.3#get-random-bytes: the component imports it with a type" at)
if(NOT rc EQUAL 3 OR at EQUAL -1)
  message(FATAL_ERROR "FAIL: exit ${rc}\n${out}${err}")
endif()
message("ok: exit 3: ${err}")
