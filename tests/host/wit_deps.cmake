# Makes a WIT folder for `jco embed`/componentize-js: WORLD (a .wit file) and
# deps/ copied from jco's WASI 0.2.12 WIT (SRC), renamed to VERSION when it
# differs (StarlingMonkey exports wasi:http@0.2.10). Usage: cmake -DSRC= -DWORLD= -DOUT= -DVERSION= -P
file(REMOVE_RECURSE "${OUT}")
file(MAKE_DIRECTORY "${OUT}/deps")
file(COPY "${WORLD}" DESTINATION "${OUT}")
file(GLOB dirs "${SRC}/wasi-*")
foreach(d IN LISTS dirs)
  get_filename_component(n "${d}" NAME)
  string(REPLACE "wasi-" "" n "${n}")
  file(GLOB wits "${d}/*.wit")
  foreach(w IN LISTS wits)
    file(READ "${w}" text)
    if(NOT VERSION STREQUAL "0.2.12")
      string(REPLACE "@0.2.12" "@${VERSION}" text "${text}")
      # StarlingMonkey's 0.2.10 has no network-error-code gate
      string(REGEX REPLACE "[ \t]*@unstable\\(feature = network-error-code\\)\n" "" text "${text}")
    endif()
    get_filename_component(wn "${w}" NAME)
    file(WRITE "${OUT}/deps/${n}/${wn}" "${text}")
  endforeach()
endforeach()
