# Tests of the orchestrator's own modules and of the hpsweep command as a whole.
hp_add_test(test_sha256 SOURCES test_sha256.c LIBS hp_orchestrator)
add_test(NAME integration_sweep
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/run_sweep.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_sweep PROPERTIES LABELS integration TIMEOUT 600)
add_test(NAME integration_check
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/check_cmd.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_check PROPERTIES LABELS integration TIMEOUT 120)
add_test(NAME integration_external
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/external.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_external PROPERTIES LABELS integration TIMEOUT 400)
