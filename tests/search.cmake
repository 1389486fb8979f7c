# Search planner tests (orchestrator/search.c). search.c is compiled into the test directly so
# that the test does not depend on the rest of hp_orchestrator (spec parser, MPI); hp_results
# for the one ranking rule of trials (results.h).
hp_add_test(test_search
  SOURCES test_search.c ${CMAKE_SOURCE_DIR}/orchestrator/search.c ${CMAKE_SOURCE_DIR}/orchestrator/search_promote.c
  LIBS hp_results hp_trainer)
target_include_directories(test_search PRIVATE ${CMAKE_SOURCE_DIR}/orchestrator)
