# component.run.link_*: `shoal run --link PROVIDER COMP ARGS...` prints the
# same stdout and exits with the same status as `jco run --jco-map
# IMPORT=SHIM COMP ARGS...`, where SHIM re-exports PROVIDER's transpiled
# export (jco cannot link two components, so node passes values across).
separate_arguments(args UNIX_COMMAND "${ARGS}")
string(REPLACE ";" " " jco_cmd "${JCO}")
separate_arguments(jco_list UNIX_COMMAND "${jco_cmd}")
execute_process(COMMAND ${SHOAL} run --link ${PROVIDER} ${COMP} ${args} INPUT_FILE /dev/null
                OUTPUT_VARIABLE ours ERROR_VARIABLE ours_err RESULT_VARIABLE ours_rc)
# --jco-dir ends --jco-map's list of mappings
execute_process(COMMAND ${jco_list} run --jco-map "${MAP}" --jco-dir "${OUT}-jco" ${COMP} ${args} INPUT_FILE /dev/null
                OUTPUT_VARIABLE ref ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc)
if(NOT ours STREQUAL ref OR NOT ours_rc STREQUAL ref_rc)
  message(FATAL_ERROR "FAIL: shoal run --link differs from jco run\n--- shoal (exit ${ours_rc})\n${ours}${ours_err}\n--- jco (exit ${ref_rc})\n${ref}${ref_err}")
endif()
message("ok: shoal run --link == jco run (exit ${ours_rc}):\n${ours}")
