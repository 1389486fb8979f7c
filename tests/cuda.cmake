# CUDA backend tests (trainer/cuda/gpu.h), built whenever the CUDA backend is.
#   test_cuda_bind    binding and error reporting; runs with or without a GPU
#   test_cuda_layers  every GPU op against its CPU kernel; exits 77 (skipped) without a GPU
if(HPSWEEP_HAVE_CUDA)
  hp_add_test(test_cuda_bind SOURCES test_cuda_bind.c LIBS hp_trainer hpsweep_cuda LABELS cuda)
  hp_add_test(test_cuda_layers SOURCES test_cuda_layers.c LIBS hp_trainer hpsweep_cuda LABELS cuda)
endif()
# The backend module, opened on first use (trainer/gpu_load.c): found in the build tree, and a
# missing module reported with the fix (test_cuda_load.c).
if(HPSWEEP_HAVE_CUDA)
  hp_add_test(test_cuda_load_found SOURCES test_cuda_load.c LIBS hp_trainer ARGS found LABELS cuda)
  hp_add_test(test_cuda_load_missing SOURCES test_cuda_load.c LIBS hp_trainer ARGS missing LABELS cuda)
endif()
