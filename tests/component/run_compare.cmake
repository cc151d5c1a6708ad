# component.run.NAME: `shoal run [--env KEY=VALUE] COMP ARGS...` prints the
# same stdout and exits with the same status as `KEY=VALUE jco run COMP ARGS...`.
separate_arguments(args UNIX_COMMAND "${ARGS}")
string(REPLACE ";" " " jco_cmd "${JCO}")
separate_arguments(jco_list UNIX_COMMAND "${jco_cmd}")
set(env_opt "")
set(env_set "")
if(ENVVAR)
  set(env_opt --env "${ENVVAR}")
  set(env_set "${ENVVAR}")
endif()
if(NOT INPUT)
  set(INPUT /dev/null)
endif()
execute_process(COMMAND ${SHOAL} run ${env_opt} ${COMP} ${args} INPUT_FILE ${INPUT}
                OUTPUT_VARIABLE ours ERROR_VARIABLE ours_err RESULT_VARIABLE ours_rc)
execute_process(COMMAND ${CMAKE_COMMAND} -E env ${env_set} ${jco_list} run ${COMP} ${args} INPUT_FILE ${INPUT}
                OUTPUT_VARIABLE ref ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc)
if(NOT ours STREQUAL ref OR NOT ours_rc STREQUAL ref_rc)
  message(FATAL_ERROR "FAIL: shoal run differs from jco run\n--- shoal (exit ${ours_rc})\n${ours}${ours_err}\n--- jco (exit ${ref_rc})\n${ref}${ref_err}")
endif()
message("ok: shoal run == jco run (exit ${ours_rc}):\n${ours}")
