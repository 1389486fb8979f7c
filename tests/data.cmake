# Data area: the IDX reader, splits/standardisation/hashing, and the counter-based RNG.
hp_add_test(test_idx SOURCES test_idx.c LIBS hp_trainer LABELS data)
hp_add_test(test_data SOURCES test_data.c LIBS hp_trainer LABELS data)
hp_add_test(test_rng SOURCES test_rng.c LIBS hp_trainer ${M_LIB} LABELS data)
hp_add_test(test_checked SOURCES test_checked.c LIBS hp_trainer ${M_LIB} LABELS data)
