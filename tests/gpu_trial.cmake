# The GPU trainer's whole trials against the CPU trainer (test_gpu_trial.c): on the host
# emulation of cuda/gpu.h in every build, and on the real backend in CUDA builds (skipped,
# exit 77, where no GPU is visible).
hp_add_test(test_gpu_trial SOURCES test_gpu_trial.c blobs.c LIBS hp_trainer_emul LABELS cuda)
if(HPSWEEP_HAVE_CUDA)
  hp_add_test(test_gpu_trial_cuda SOURCES test_gpu_trial.c blobs.c LIBS hp_trainer LABELS cuda)
endif()

# hpsweep itself on the host emulation of the GPU backend (tests only): the same sources as the
# hpsweep target, linked with hp_trainer_emul instead of hp_trainer, so that a whole sweep with
# `device: cuda` runs where there is no GPU. integration_gpu_sweep (integration/gpu_sweep.sh)
# checks the device wiring end to end: every rank binds its "GPU", /trials records it, alone
# and mpirun agree, the emulated GPU gives the CPU's results, and a killed GPU sweep resumes.
get_target_property(hp_emul_orch hp_orchestrator SOURCES)
get_target_property(hp_emul_res hp_results SOURCES)
get_target_property(hp_emul_main hpsweep SOURCES)
list(TRANSFORM hp_emul_orch PREPEND ${PROJECT_SOURCE_DIR}/orchestrator/)
list(TRANSFORM hp_emul_main PREPEND ${PROJECT_SOURCE_DIR}/orchestrator/)
list(TRANSFORM hp_emul_res PREPEND ${PROJECT_SOURCE_DIR}/results/)
add_executable(hpsweep_gpuemul ${hp_emul_main} ${hp_emul_orch} ${hp_emul_res})
target_include_directories(hpsweep_gpuemul PRIVATE ${PROJECT_SOURCE_DIR}/orchestrator ${PROJECT_SOURCE_DIR}/results)
target_link_libraries(hpsweep_gpuemul PRIVATE hp_trainer_emul PkgConfig::YAML MPI::MPI_C PkgConfig::HDF5 Threads::Threads ${M_LIB})
add_test(NAME integration_gpu_sweep
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/gpu_sweep.sh $<TARGET_FILE:hpsweep_gpuemul>
                 $<TARGET_FILE:hpsweep> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_gpu_sweep PROPERTIES LABELS "integration;cuda" TIMEOUT 300)

# --pack (orchestrator/lanes.h): packed sweeps on the CPU and on the emulated GPU equal unpacked
# ones, alone and under mpirun, also when stopped at any write and resumed with another --pack.
add_test(NAME integration_pack
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/integration/pack.sh $<TARGET_FILE:hpsweep>
                 $<TARGET_FILE:hpsweep_gpuemul> ${CMAKE_CURRENT_SOURCE_DIR})
set_tests_properties(integration_pack PROPERTIES LABELS "integration;resume" TIMEOUT 400)
