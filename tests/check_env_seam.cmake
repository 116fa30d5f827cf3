# Fails when the core or the sync (till and HQ) reaches the clock, sleeps, randomness or files
# directly instead of through env/env.h (docs/architecture.md, "The Env"): only plugin/src/env
# may. Direct calls would put tests back on the real clock, sleeping.
set(folders plugin/src sync)
set(banned
  "system_clock" "sleep_for" "sleep_until" "usleep\\(" "RAND_bytes" "random_device"
  "(^|[^A-Za-z_])rename\\(" "(^|[^A-Za-z_])stat\\(" "fstream")

set(broken "")
foreach(folder ${folders})
  file(GLOB_RECURSE sources ${SOURCE_DIR}/${folder}/*.h ${SOURCE_DIR}/${folder}/*.cc)
  foreach(source ${sources})
    file(RELATIVE_PATH shown ${SOURCE_DIR} ${source})
    if(shown MATCHES "^plugin/src/env/")
      continue()
    endif()
    foreach(pattern ${banned})
      file(STRINGS ${source} lines REGEX "${pattern}")
      foreach(line IN LISTS lines)
        string(STRIP "${line}" line)
        string(REPLACE ";" "," line "${line}")  # a list separator in CMake
        list(APPEND broken "${shown}: ${line}")
      endforeach()
    endforeach()
  endforeach()
endforeach()
if(broken)
  list(REMOVE_DUPLICATES broken)
  list(JOIN broken "\n" text)
  message(FATAL_ERROR "A direct clock, sleep, random or file call outside env/ "
                      "(use the Env, docs/architecture.md):\n${text}")
endif()
message(STATUS "Env seam: no direct clock, sleep, random or file calls in plugin/src, sync")
