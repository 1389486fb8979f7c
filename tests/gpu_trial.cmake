# The GPU trainer's whole trials against the CPU trainer (test_gpu_trial.c): on the host
# emulation of cuda/gpu.h in every build, and on the real backend in CUDA builds (skipped,
# exit 77, where no GPU is visible).
hp_add_test(test_gpu_trial SOURCES test_gpu_trial.c blobs.c LIBS hp_trainer_emul LABELS cuda)
if(HPSWEEP_HAVE_CUDA)
  hp_add_test(test_gpu_trial_cuda SOURCES test_gpu_trial.c blobs.c LIBS hp_trainer LABELS cuda)
endif()
