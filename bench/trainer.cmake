# Trainer benchmarks: bench_mlp (our throughput on the reference MLP); run_bench_mlp.sh
# runs it beside PyTorch (bench_mlp_torch.py) and prints the ratio.
add_executable(bench_mlp ${CMAKE_CURRENT_LIST_DIR}/bench_mlp.c ${CMAKE_CURRENT_LIST_DIR}/bench_train.c)
target_link_libraries(bench_mlp PRIVATE hp_trainer)
# bench_cnn: the fashion_cnn network; run_bench_cnn.sh runs it beside PyTorch (bench_cnn_torch.py).
add_executable(bench_cnn ${CMAKE_CURRENT_LIST_DIR}/bench_cnn.c ${CMAKE_CURRENT_LIST_DIR}/bench_train.c)
target_link_libraries(bench_cnn PRIVATE hp_trainer)
# bench_gpu: the same network on the GPU trainer (exits 77 without a GPU); run_bench_gpu.sh runs
# it beside PyTorch on the same GPU.
add_executable(bench_gpu ${CMAKE_CURRENT_LIST_DIR}/bench_gpu.c ${CMAKE_CURRENT_LIST_DIR}/bench_train.c)
target_link_libraries(bench_gpu PRIVATE hp_trainer)
if(TARGET hpsweep_cuda)
  add_dependencies(bench_gpu hpsweep_cuda)
endif()
