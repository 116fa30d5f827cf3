# Fails when code outside the store runs SQL (docs/architecture.md, "Where a behaviour
# lives"): the ledger's tables are written and read only through plugin/src/store (its
# families: customers, visits, counters, transactions, the event log, own_events,
# sync_state...). HQ's own database (sync/hq) is HQ's, not the ledger, and is left out.
# A line breaks the rule when it calls Database's SQL methods, SQLite's C API, includes
# <sqlite3.h> or holds an SQL statement in a string.
set(patterns
  "(\\.|->)(Prepare|Exec|QueryInt|QueryText)\\("
  "sqlite3_[a-z0-9_]+\\("
  "#include <sqlite3\\.h>"
  "\"(SELECT|INSERT INTO|INSERT OR|UPDATE|DELETE FROM|REPLACE INTO|PRAGMA|CREATE|ALTER TABLE|DROP) ")
list(JOIN patterns "|" any)

file(GLOB_RECURSE sources
     ${SOURCE_DIR}/plugin/*.h ${SOURCE_DIR}/plugin/*.cc ${SOURCE_DIR}/plugin/*.c
     ${SOURCE_DIR}/sync/*.h ${SOURCE_DIR}/sync/*.cc
     ${SOURCE_DIR}/pos-adapters/*.h ${SOURCE_DIR}/pos-adapters/*.cc ${SOURCE_DIR}/pos-adapters/*.c)
set(broken "")
set(checked 0)
foreach(source ${sources})
  file(RELATIVE_PATH shown ${SOURCE_DIR} ${source})
  if(shown MATCHES "^plugin/src/store/" OR shown MATCHES "^sync/hq/")
    continue()
  endif()
  math(EXPR checked "${checked} + 1")
  file(STRINGS ${source} lines REGEX "${any}")
  foreach(line ${lines})
    string(STRIP "${line}" line)
    string(REPLACE ";" "" line "${line}")  # a list separator in CMake
    list(APPEND broken "${shown}: ${line}")
  endforeach()
endforeach()
if(checked EQUAL 0)
  message(FATAL_ERROR "no sources found under ${SOURCE_DIR}")
endif()
if(broken)
  list(JOIN broken "\n" text)
  message(FATAL_ERROR "SQL outside plugin/src/store (ask the store's families instead):\n${text}")
endif()
message(STATUS "Ledger SQL: only the store runs it (${checked} files checked)")
