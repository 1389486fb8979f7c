# Trainer tests: layers (finite differences + PyTorch fixtures), model, optimizer, training loop.
hp_add_test(test_dense SOURCES test_dense.c fixture.c LIBS hp_trainer)
hp_add_test(test_relu SOURCES test_relu.c fixture.c LIBS hp_trainer)
hp_add_test(test_softmax_xent SOURCES test_softmax_xent.c fixture.c LIBS hp_trainer)
hp_add_test(test_mlp SOURCES test_mlp.c fixture.c LIBS hp_trainer)
hp_add_test(test_optim SOURCES test_optim.c fixture.c LIBS hp_trainer)
hp_add_test(test_model SOURCES test_model.c LIBS hp_trainer)
hp_add_test(test_train SOURCES test_train.c LIBS hp_trainer)
hp_add_test(test_gemm SOURCES test_gemm.c LIBS hp_trainer)
