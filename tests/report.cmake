# `hpsweep report` and `hpsweep export --csv` (results/report.h): the C test checks the page's
# content on known files and times a 1,000-trial one; check_report.py parses the sample's page
# with Python's HTML parser and reads the CSVs with pandas; integration/report.sh runs the
# commands on a finished sweep, one where every trial diverged, and a file being written.
hp_add_test(test_report SOURCES test_report.c ${CMAKE_CURRENT_SOURCE_DIR}/results/sample.c LIBS hp_results)
set_tests_properties(test_report PROPERTIES FIXTURES_SETUP report_sample)
add_test(NAME report_html_sample
         COMMAND /usr/bin/python3 ${CMAKE_CURRENT_SOURCE_DIR}/integration/check_report.py
                 report_sample.h5 report_sample.html
         WORKING_DIRECTORY ${CMAKE_CURRENT_BINARY_DIR})
set_tests_properties(report_html_sample PROPERTIES FIXTURES_REQUIRED report_sample SKIP_RETURN_CODE 77)
add_test(NAME integration_report
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/report.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_report PROPERTIES LABELS integration TIMEOUT 300)
add_test(NAME integration_browser
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/browser.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR}
                 ${CMAKE_BINARY_DIR}/artifacts)
set_tests_properties(integration_browser PROPERTIES LABELS integration TIMEOUT 300 SKIP_RETURN_CODE 77)
# `hpsweep serve`: the page over HTTP while a sweep writes the file (urllib), its errors and SIGTERM.
add_test(NAME integration_serve
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/serve.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_serve PROPERTIES LABELS integration TIMEOUT 300)
# `hpsweep plot` (results/chart.h): every chart in PNG, SVG and PDF, magic bytes, the PNG's size;
# after test_report, whose 1,000-trial and hostile files it also draws.
hp_add_test(test_chart SOURCES test_chart.c ${CMAKE_CURRENT_SOURCE_DIR}/results/sample.c LIBS hp_results)
set_tests_properties(test_chart PROPERTIES FIXTURES_REQUIRED report_sample ENVIRONMENT
                     "OPENBLAS_NUM_THREADS=1;LSAN_OPTIONS=suppressions=${CMAKE_CURRENT_SOURCE_DIR}/lsan_cairo.supp")
