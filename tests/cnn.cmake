# CNN model tests (CNN-MODEL): conv and pooling kernels, residual models, whole CNNs.
hp_add_test(test_conv SOURCES test_conv.c fixture.c LIBS hp_trainer)
hp_add_test(test_residual SOURCES test_residual.c model_check.c fixture.c LIBS hp_trainer)
hp_add_test(test_pool SOURCES test_pool.c fixture.c LIBS hp_trainer)
hp_add_test(test_cnn SOURCES test_cnn.c model_check.c fixture.c LIBS hp_trainer)
