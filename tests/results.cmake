# Results file tests (results/): writer, reader, show, SWMR, h5py/pandas and h5dump.
set(HP_RESULTS_SAMPLE ${CMAKE_CURRENT_SOURCE_DIR}/results/sample.c)
hp_add_test(test_results SOURCES test_results.c ${HP_RESULTS_SAMPLE} LIBS hp_results)
hp_add_test(test_results_swmr SOURCES test_results_swmr.c LIBS hp_results)
hp_add_test(test_results_show SOURCES test_results_show.c ${HP_RESULTS_SAMPLE} LIBS hp_results)
# Format version 1 files (no /trials gpu, device): read, shown, continued, recovered.
hp_add_test(test_results_v1 SOURCES test_results_v1.c ${HP_RESULTS_SAMPLE} LIBS hp_results)
# Format version 3's parameter columns in /trials and /stage_params: written, read, appended,
# recovered; files with none (and version 2) read as having none.
hp_add_test(test_results_params SOURCES test_results_params.c LIBS hp_results)
# test_results leaves results_sample.h5, test_results_show leaves results_show.json.
set_tests_properties(test_results PROPERTIES FIXTURES_SETUP results_sample)
set_tests_properties(test_results_show PROPERTIES FIXTURES_SETUP results_show_json)

add_test(NAME results_h5py
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/results/check_h5py.py results_sample.h5
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(results_h5py PROPERTIES FIXTURES_REQUIRED results_sample SKIP_RETURN_CODE 77)

find_program(HP_H5DUMP h5dump)
if(HP_H5DUMP)
  add_test(NAME results_h5dump COMMAND ${HP_H5DUMP} -H results_sample.h5
           WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
  set_tests_properties(results_h5dump PROPERTIES FIXTURES_REQUIRED results_sample)
endif()

add_test(NAME results_show_json
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/results/check_show_json.py results_show.json
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(results_show_json PROPERTIES FIXTURES_REQUIRED results_show_json)
