# Resume area (issue 5): trainer checkpoints, results checkpoints, resume, signals, kill tests.
hp_add_test(test_train_ckpt SOURCES test_train_ckpt.c LIBS hp_trainer LABELS resume)
hp_add_test(test_results_ckpt SOURCES test_results_ckpt.c LIBS hp_results LABELS resume)
