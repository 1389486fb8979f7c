# Resume area: trainer checkpoints, results checkpoints, resume, signals, kill tests.
hp_add_test(test_train_ckpt SOURCES test_train_ckpt.c LIBS hp_trainer LABELS resume)
hp_add_test(test_results_ckpt SOURCES test_results_ckpt.c LIBS hp_results LABELS resume)
# Integration (label integration): fault injection at every write, random kills (>= 20), live
# reading, bad input, two runs racing on one output (10 rounds of 4 kinds), damaged files read
# in bounded time. Each makes its own
# small data set (make_idx.py) in a scratch folder.
foreach(t resume_faults kill_resume live_read bad_input race damaged nodedata prune params promote)
  add_test(NAME integration_${t}
           COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/${t}.sh $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
  set_tests_properties(integration_${t} PROPERTIES LABELS "integration;resume" TIMEOUT 400)
endforeach()
hp_add_test(test_resume SOURCES test_resume.c LIBS hp_orchestrator LABELS resume)
