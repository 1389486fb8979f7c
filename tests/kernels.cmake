# CNN kernel tests: batch norm, dropout, activations (cpu/norm.h, cpu/dropout.h, cpu/act.h).
hp_add_test(test_batchnorm SOURCES test_batchnorm.c fixture.c LIBS hp_trainer)
hp_add_test(test_dropout SOURCES test_dropout.c LIBS hp_trainer)
hp_add_test(test_activations SOURCES test_activations.c fixture.c LIBS hp_trainer)
