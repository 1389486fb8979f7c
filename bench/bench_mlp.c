/* bench_mlp.c - training throughput of the CPU trainer on the reference MLP.
 *
 * 784-512-256-10 with ReLUs, softmax cross-entropy, SGD (momentum 0.9, weight decay 5e-4),
 * batch 128, on random data: each step gathers a random batch from an 8192-example pool into
 * the batch buffer (as hp_trainer does), runs forward and backward, and updates. After
 * --warmup steps, --steps steps are timed. Prints one line:
 *     hpsweep images/s 12345.6 cpu-images/s 12400.1 steps 200 batch 128 threads 1 core Haswell ...
 * Threads: --threads N, else OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (hp_cpu_default_threads). bench/run_bench_mlp.sh runs this beside
 * PyTorch (bench_mlp_torch.py) with the same threads and batch and prints the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h> /* openblas_get_corename */

#include "cpu_threads.h"
#include "bench_train.h"
#include "model.h"

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: bench_mlp [--steps N] [--warmup N] [--batch B] [--threads T]\n");
        return 0;
    }
    int steps = hp_bench_arg_int(argc, argv, "--steps", 200, "bench_mlp");
    int warmup = hp_bench_arg_int(argc, argv, "--warmup", 20, "bench_mlp");
    int B = hp_bench_arg_int(argc, argv, "--batch", 128, "bench_mlp");
    int threads = hp_bench_arg_int(argc, argv, "--threads", -1, "bench_mlp");
    hp_cpu_set_threads(threads > 0 ? threads : hp_cpu_default_threads());
    enum { IN = 784, NC = 10, POOL = 8192 };

    hp_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.nlayers = 5;
    spec.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 512};
    spec.layers[1] = (hp_layer_spec){.type = HP_LAYER_RELU};
    spec.layers[2] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 256};
    spec.layers[3] = (hp_layer_spec){.type = HP_LAYER_RELU};
    spec.layers[4] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC};
    hp_bench_result res;
    if (hp_bench_train(&spec, B, POOL, warmup, steps, "bench_mlp", &res) != 0) return 1;
    double dt = res.wall, cpu = res.cpu, loss = res.loss;
    // images per wall second (the figure), and per CPU second of the process (less sensitive to
    // other load on a shared machine; with several threads it also counts their spinning)
    printf("hpsweep images/s %.1f cpu-images/s %.1f steps %d batch %d threads %d core %s loss %.4f\n",
           (double)steps * B / dt, (double)steps * B / cpu, steps, B, hp_cpu_threads(),
           openblas_get_corename(), loss);
    return 0;
}
