# Runs the C POS loop of pos-adapters/examples on a fresh ledger and checks what it prints:
# the fifth pack free on the third visit, due again after the void, and the error JSON.
# cmake -DPOS_LOOP=... -DCONFIG=... -DLEDGER=... -P pos_loop_test.cmake
file(REMOVE ${LEDGER} ${LEDGER}-wal ${LEDGER}-shm)
execute_process(COMMAND ${POS_LOOP} ${CONFIG} ${LEDGER}
                RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT status EQUAL 0)
  message(FATAL_ERROR "pos_loop exited with ${status}, expected 0")
endif()

function(expect pattern why)
  string(REGEX MATCH "${pattern}" found "${out}")
  if(NOT found)
    message(FATAL_ERROR "pos_loop's output lacks ${why}: /${pattern}/")
  endif()
endfunction()

set(free "  5th pack free: -12\\.90 EUR\n")
expect("enrolled: {\"customer\":{[^\n]*\"id\":\"c_" "the enrolled customer")
expect("visit 1 S001-T01-000001 committed: gross 28\\.25 EUR, discount 0\\.00 EUR, net 28\\.25 EUR\n  progress: 2 of 5 packs\n"
       "the first visit at full price, 2 of 5")
expect("visit 2 S001-T01-000002 committed: gross 28\\.25 EUR, discount 0\\.00 EUR, net 28\\.25 EUR\n  progress: 4 of 5 packs"
       "the second visit at full price, 4 of 5")
expect("visit 3 S001-T01-000003 \\(1 pack\\) proposed: gross 15\\.35 EUR, discount 12\\.90 EUR, net 2\\.45 EUR\n${free}"
       "the fifth pack proposed free on the third visit")
expect("visit 3 S001-T01-000003 committed: gross 15\\.35 EUR, discount 12\\.90 EUR, net 2\\.45 EUR\n${free}"
       "the fifth pack free once committed")
expect("void S001-T01-000003: give back 2\\.45 EUR\n  progress: 4 of 5 packs"
       "the void giving back what was paid (the bread) and the customer at 4 of 5 again")
expect("visit 4 S001-T01-000004 committed: gross 15\\.35 EUR, discount 12\\.90 EUR, net 2\\.45 EUR\n${free}"
       "the fifth pack free again after the void")
expect("regulars_void failed \\(-2\\): {\"error\":{[^\n]*\"code\":\"unknown_transaction\""
       "the error JSON of an unknown sale")
expect("\ndone\n$" "the end of the loop without unexpected errors")

# The ledger the example wrote is consistent.
execute_process(COMMAND sqlite3 ${LEDGER} "PRAGMA integrity_check" OUTPUT_VARIABLE check)
if(NOT check MATCHES "^ok")
  message(FATAL_ERROR "the ledger fails SQLite's integrity check: ${check}")
endif()
