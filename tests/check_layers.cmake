# Fails when a folder includes one above it or beside it (docs/architecture.md, "Layers").
# Each product folder has a rank; a file may include its own folder's headers and those of
# folders of a lower rank, never one of its rank or above. Every include names its folder
# ("checkout/till.h", "till/outbox.h", "http/http_server.h"); only the core's "result.h"
# and headers the build generates sit at a root. The public header, "regulars/regulars.h",
# is the ABI's room (plugin/abi) seen from outside. Tests and benchmarks may include anything.
set(ranks
  "plugin/src/env=1" "plugin/src/json=1" "plugin/src/domain=2" "plugin/src/rewards=3" "plugin/src/store=3"
  "plugin/src/recognition=4" "plugin/src/config=5" "plugin/src/checkout=6"
  "plugin/abi=7"
  "sync/wire=8" "sync/till=9" "sync/hq=9"
  "pos-adapters/images=10" "pos-adapters/poslog=10" "pos-adapters/http=10"
  "pos-adapters/cli=11" "pos-adapters/examples=11")
# How an include names each folder.
set(prefixes
  "env=plugin/src/env" "json=plugin/src/json" "domain=plugin/src/domain" "rewards=plugin/src/rewards"
  "store=plugin/src/store" "recognition=plugin/src/recognition" "config=plugin/src/config"
  "checkout=plugin/src/checkout" "abi=plugin/abi"
  "regulars=plugin/abi"
  "wire=sync/wire" "till=sync/till" "hq=sync/hq"
  "images=pos-adapters/images" "poslog=pos-adapters/poslog" "http=pos-adapters/http"
  "cli=pos-adapters/cli")
set(root_headers "result.h" "regulars_version.h")

foreach(entry ${ranks})
  string(REPLACE "=" ";" pair ${entry})
  list(GET pair 0 folder)
  list(GET pair 1 rank)
  set(rank_of_${folder} ${rank})
endforeach()
foreach(entry ${prefixes})
  string(REPLACE "=" ";" pair ${entry})
  list(GET pair 0 prefix)
  list(GET pair 1 folder)
  set(folder_of_${prefix} ${folder})
endforeach()

set(broken "")
foreach(entry ${ranks})
  string(REPLACE "=" ";" pair ${entry})
  list(GET pair 0 folder)
  list(GET pair 1 rank)
  file(GLOB sources ${SOURCE_DIR}/${folder}/*.h ${SOURCE_DIR}/${folder}/*.cc
       ${SOURCE_DIR}/${folder}/*.c)
  foreach(source ${sources})
    file(STRINGS ${source} includes REGEX "^#include \"")
    foreach(line ${includes})
      string(REGEX REPLACE "^#include \"([^\"]+)\".*" "\\1" header "${line}")
      file(RELATIVE_PATH shown ${SOURCE_DIR} ${source})
      if(NOT header MATCHES "/")
        list(FIND root_headers ${header} at_root)
        if(at_root EQUAL -1)
          list(APPEND broken "${shown}: \"${header}\" does not name its folder")
        endif()
        continue()
      endif()
      string(REGEX REPLACE "/.*" "" prefix "${header}")
      if(NOT DEFINED folder_of_${prefix})
        list(APPEND broken "${shown}: \"${header}\" is in no folder of the layers")
        continue()
      endif()
      set(target ${folder_of_${prefix}})
      if(target STREQUAL folder)
        continue()
      endif()
      set(target_rank ${rank_of_${target}})
      if(NOT target_rank LESS rank)
        list(APPEND broken
             "${shown} (${folder}, rank ${rank}) includes ${header} (${target}, rank ${target_rank})")
      endif()
    endforeach()
  endforeach()
endforeach()
if(broken)
  list(JOIN broken "\n" text)
  message(FATAL_ERROR "A folder includes one above or beside it (docs/architecture.md):\n${text}")
endif()
message(STATUS "Layers: every include points down")
