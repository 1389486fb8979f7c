# The host emulation of cuda/gpu.h (trainer/gpu_emul/gpu_emul.c in hp_trainer_emul), built in every
# build, CPU-only ones included:
#   test_gpu_emul          the emulation's own checks (pointer registry, protection, NaN fill) and
#                          a few ops against the CPU kernels
#   test_cudnn_rules       the device layout's descriptors and the cuDNN support matrix measured on
#                          a GPU; the emulation refuses the old CNHW layout with the GPU's error
#   test_cuda_layers_emul  the GPU parity test (every gpu.h op against its CPU kernel) run on the
#                          emulation, so that the test and the emulation keep each other honest
if(HPSWEEP_TESTS)
  hp_add_test(test_gpu_emul SOURCES test_gpu_emul.c LIBS hp_trainer_emul LABELS cuda)
  hp_add_test(test_cudnn_rules SOURCES test_cudnn_rules.c LIBS hp_trainer_emul LABELS cuda)
  hp_add_test(test_cuda_layers_emul SOURCES test_cuda_layers.c LIBS hp_trainer_emul LABELS cuda)
endif()
