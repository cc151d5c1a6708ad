# component.wasi02.NAME: a WASI 0.2 command component run by `shoal run` and
# by `jco run` (node's preview2-shim) must print the same stdout and exit
# with the same status. MODE:
#   plain    no files, no input
#   fs       a fresh directory tree for each side (existing.txt), pre-opened
#            as /sandbox (shoal: --dir; jco: _addPreopen in a generated
#            --jco-import module); the trees left behind must match too
#   sandbox  like fs with inner/file.txt and symlinks out -> /, up -> ..;
#            nothing may print ESCAPED or appear next to the tree
#   stdin    INPUT_BYTES bytes of text on stdin through a pipe; stdout must
#            equal the input on both sides
#   extra    shoal only, like fs, against the expectation below: the calls
#            of wasi02_direct.c's `extra` mode, which node's preview2-shim
#            0.26 gets wrong (see there)
#   contains shoal only: exit 0 and every |-separated line of EXPECT in
#            stdout (where node grants what shoal must deny, or errs)
# SHOAL_OPTS: more `shoal run` options (e.g. --allow-net 127.0.0.1).
# Variables: SHOAL, JCO, NODE_MODULES, COMP, OUT, MODE, ARGS, INPUT_BYTES.
cmake_policy(SET CMP0009 NEW)  # GLOB_RECURSE does not follow the symlinks out of the tree
separate_arguments(args UNIX_COMMAND "${ARGS}")
string(REPLACE ";" " " jco_cmd "${JCO}")
separate_arguments(jco_list UNIX_COMMAND "${jco_cmd}")
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}")

# A fresh tree for one side; ROOT/box is what the guest sees as /sandbox.
function(make_tree root)
  file(MAKE_DIRECTORY "${root}/box")
  if(MODE STREQUAL "fs" OR MODE STREQUAL "extra")
    file(WRITE "${root}/box/existing.txt" "seed\n")
  elseif(MODE STREQUAL "sandbox")
    file(WRITE "${root}/box/inner/file.txt" "inside\n")
    file(CREATE_LINK "/" "${root}/box/out" SYMBOLIC)
    file(CREATE_LINK ".." "${root}/box/up" SYMBOLIC)
  endif()
endfunction()

# Everything under ROOT as relative paths (with sizes of regular files).
function(tree_listing root outvar)
  file(GLOB_RECURSE items LIST_DIRECTORIES true RELATIVE "${root}" "${root}/*")
  list(SORT items)
  set(lines "")
  foreach(it IN LISTS items)
    if(IS_SYMLINK "${root}/${it}")
      file(READ_SYMLINK "${root}/${it}" t)
      string(APPEND lines "${it} -> ${t}\n")
    elseif(IS_DIRECTORY "${root}/${it}")
      string(APPEND lines "${it}/\n")
    else()
      file(SIZE "${root}/${it}" sz)
      file(READ "${root}/${it}" content)
      string(APPEND lines "${it} ${sz}: ${content}\n")
    endif()
  endforeach()
  set(${outvar} "${lines}" PARENT_SCOPE)
endfunction()

set(shoal_opts "")
set(jco_opts "")
separate_arguments(more_opts UNIX_COMMAND "${SHOAL_OPTS}")
if(MODE STREQUAL "contains")
  execute_process(COMMAND ${SHOAL} run ${more_opts} ${COMP} ${args} INPUT_FILE /dev/null
                  OUTPUT_VARIABLE ours ERROR_VARIABLE ours_err RESULT_VARIABLE ours_rc)
  string(REPLACE "|" ";" lines "${EXPECT}")
  foreach(line IN LISTS lines)
    string(FIND "${ours}" "${line}\n" at)
    if(at EQUAL -1 OR NOT ours_rc EQUAL 0)
      message(FATAL_ERROR "FAIL: (exit ${ours_rc}) no line `${line}` in\n${ours}${ours_err}")
    endif()
  endforeach()
  message("ok: (exit 0)\n${ours}")
  return()
endif()

if(MODE STREQUAL "extra")
  make_tree("${OUT}/ours")
  execute_process(COMMAND ${SHOAL} run --dir "${OUT}/ours/box::/sandbox" ${COMP} ${args} INPUT_FILE /dev/null
                  OUTPUT_VARIABLE ours ERROR_VARIABLE ours_err RESULT_VARIABLE ours_rc)
  # splice.txt holds "hello, splice\n"; a stream from offset 0 skips 2 bytes,
  # then 7, 0 and the remaining 5 bytes are spliced into stdout, then closed.
  set(expect [=[
check-write: ok, permits > 0: 1
direct blocking-write-and-flush
flush: ok
pre-opens: 1, found /sandbox: 1
is-same-object: 1 0
read-directory: 2 entries, splice.txt type 6
blocking-skip: ok 2
read 0: ok 0
llo, sp| blocking-splice 7: ok 7
splice 0: ok 0
lice
blocking-splice 100: ok 5
blocking-splice at the end: closed
splice at the end: closed
]=])
  string(STRIP "${expect}" expect)
  string(STRIP "${ours}" ours_s)
  if(NOT ours_s STREQUAL expect OR NOT ours_rc EQUAL 0)
    message(FATAL_ERROR "FAIL: (exit ${ours_rc})\n--- shoal\n${ours}${ours_err}\n--- expected\n${expect}")
  endif()
  message("ok: as expected:\n${ours}")
  return()
endif()

if(MODE STREQUAL "fs" OR MODE STREQUAL "sandbox")
  make_tree("${OUT}/ours")
  make_tree("${OUT}/ref")
  set(shoal_opts --dir "${OUT}/ours/box::/sandbox")
  file(WRITE "${OUT}/preopen.mjs"
    "import { _setPreopens, _addPreopen } from 'file://${NODE_MODULES}/@bytecodealliance/preview2-shim/dist/nodejs/filesystem.js';\n"
    "_setPreopens({});\n_addPreopen('/sandbox', '${OUT}/ref/box');\n")
  set(jco_opts --jco-import "${OUT}/preopen.mjs")
endif()

if(MODE STREQUAL "stdin")
  # Text input: hex of a repeated counter line, INPUT_BYTES long.
  set(line "")
  foreach(i RANGE 0 63)
    string(APPEND line "line ${i} of the wasi02 stdin test, padded........\n")
  endforeach()
  set(text "")
  string(LENGTH "${line}" ll)
  math(EXPR reps "${INPUT_BYTES} / ${ll} + 1")
  foreach(i RANGE 1 ${reps})
    string(APPEND text "${line}")
  endforeach()
  string(SUBSTRING "${text}" 0 ${INPUT_BYTES} text)
  file(WRITE "${OUT}/input.txt" "${text}")
  execute_process(COMMAND sh -c "cat '${OUT}/input.txt' | ${SHOAL} run '${COMP}' ${ARGS} > '${OUT}/ours.out'"
                  ERROR_VARIABLE ours_err RESULT_VARIABLE ours_rc)
  execute_process(COMMAND sh -c "cat '${OUT}/input.txt' | ${jco_cmd} run '${COMP}' ${ARGS} > '${OUT}/ref.out'"
                  ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc)
  file(SHA256 "${OUT}/input.txt" h_in)
  file(SHA256 "${OUT}/ours.out" h_ours)
  file(SHA256 "${OUT}/ref.out" h_ref)
  if(NOT h_ours STREQUAL h_ref OR NOT ours_rc STREQUAL ref_rc OR NOT ours_err STREQUAL ref_err)
    message(FATAL_ERROR "FAIL: shoal run differs from jco run\n--- shoal (exit ${ours_rc}) ${h_ours}\n${ours_err}\n--- jco (exit ${ref_rc}) ${h_ref}\n${ref_err}")
  endif()
  if(NOT h_ours STREQUAL h_in)
    message(FATAL_ERROR "FAIL: stdout is not the input (both sides agree)")
  endif()
  message("ok: shoal run == jco run == input (${INPUT_BYTES} bytes, exit ${ours_rc}): ${ours_err}")
  return()
endif()

execute_process(COMMAND ${SHOAL} run ${shoal_opts} ${more_opts} ${COMP} ${args} INPUT_FILE /dev/null
                OUTPUT_VARIABLE ours ERROR_VARIABLE ours_err RESULT_VARIABLE ours_rc)
execute_process(COMMAND ${jco_list} run ${jco_opts} ${COMP} ${args} INPUT_FILE /dev/null
                OUTPUT_VARIABLE ref ERROR_VARIABLE ref_err RESULT_VARIABLE ref_rc)
if(NOT ours STREQUAL ref OR NOT ours_rc STREQUAL ref_rc)
  message(FATAL_ERROR "FAIL: shoal run differs from jco run\n--- shoal (exit ${ours_rc})\n${ours}${ours_err}\n--- jco (exit ${ref_rc})\n${ref}${ref_err}")
endif()
if(MODE STREQUAL "fs" OR MODE STREQUAL "sandbox")
  tree_listing("${OUT}/ours" t_ours)
  tree_listing("${OUT}/ref" t_ref)
  if(NOT t_ours STREQUAL t_ref)
    message(FATAL_ERROR "FAIL: the trees left behind differ\n--- shoal\n${t_ours}--- jco\n${t_ref}")
  endif()
  if(MODE STREQUAL "sandbox")
    string(FIND "${ours}" "ESCAPED" esc)
    file(GLOB outside RELATIVE "${OUT}/ours" "${OUT}/ours/*")
    if(NOT esc EQUAL -1 OR NOT outside STREQUAL "box" OR NOT ours_rc EQUAL 0)
      message(FATAL_ERROR "FAIL: the guest left its pre-open\n${ours}\nnext to the tree: ${outside}")
    endif()
  endif()
  message("ok: trees after the run:\n${t_ours}")
endif()
message("ok: shoal run == jco run (exit ${ours_rc}):\n${ours}")
