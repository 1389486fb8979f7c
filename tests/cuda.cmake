# CUDA backend tests (trainer/cuda/gpu.h), built whenever the CUDA backend is.
#   test_cuda_bind    binding and error reporting; runs with or without a GPU
#   test_cuda_layers  every GPU op against its CPU kernel; exits 77 (skipped) without a GPU
if(HPSWEEP_HAVE_CUDA)
  hp_add_test(test_cuda_bind SOURCES test_cuda_bind.c LIBS hp_trainer LABELS cuda)
  hp_add_test(test_cuda_layers SOURCES test_cuda_layers.c LIBS hp_trainer LABELS cuda)
endif()
