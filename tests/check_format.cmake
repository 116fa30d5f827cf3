# Fails when a tracked C/C++ source is not formatted as .clang-format says.
file(GLOB_RECURSE sources
  ${SOURCE_DIR}/plugin/*.h ${SOURCE_DIR}/plugin/*.cc ${SOURCE_DIR}/config/*.h
  ${SOURCE_DIR}/config/*.cc ${SOURCE_DIR}/sync/*.h ${SOURCE_DIR}/sync/*.cc
  ${SOURCE_DIR}/pos-adapters/*.h ${SOURCE_DIR}/pos-adapters/*.cc ${SOURCE_DIR}/pos-adapters/*.c
  ${SOURCE_DIR}/tests/*.h ${SOURCE_DIR}/tests/*.cc ${SOURCE_DIR}/tests/*.c
  ${SOURCE_DIR}/bench/*.cc ${SOURCE_DIR}/bench/*.h)
execute_process(COMMAND ${CLANG_FORMAT} --dry-run --Werror ${sources}
                RESULT_VARIABLE result ERROR_VARIABLE errors)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "clang-format: these files need formatting (run clang-format -i):\n${errors}")
endif()
