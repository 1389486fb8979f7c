# Trainer benchmarks: bench_mlp (our throughput on the reference MLP); run_bench_mlp.sh
# runs it beside PyTorch (bench_mlp_torch.py) and prints the ratio.
add_executable(bench_mlp ${CMAKE_CURRENT_LIST_DIR}/bench_mlp.c)
target_link_libraries(bench_mlp PRIVATE hp_trainer)
