/* bench_cnn.c - training throughput of the CPU trainer on the fashion_cnn network.
 *
 * conv3x3(32, pad 1, no bias)-BN-ReLU-maxpool2, conv3x3(64, pad 1, no bias)-BN-ReLU-maxpool2,
 * dense 128, ReLU, dropout 0.5, dense 10 on 1x28x28 inputs; softmax cross-entropy, SGD
 * (momentum 0.9, weight decay 5e-4), batch 128, random data: each step gathers a random batch
 * from a 4096-example pool into the batch buffer (as hp_trainer does), runs forward and
 * backward, and updates. --no-bn and --no-dropout drop those layers (the convs then have
 * biases), as bench_cnn_torch.py does. After --warmup steps, --steps steps are timed.
 *
 * Also measured in the same run: this machine's sgemm peak (the best of a few 1024^3
 * hp_gemm_f32 products on the same threads), so that the achieved rate of the training step
 * (its matrix-product FLOPs, counted from the shapes: forward, backward-data except for the
 * first layer, and backward-filter of every conv and dense layer) can be given as a fraction
 * of it; and the peak resident memory of the process. Prints one line:
 *     hpsweep images/s 1234.5 cpu-images/s ... gflops 80.1 sgemm-gflops 105.3 peak-fraction 0.76 maxrss-mib 60.2
 * Threads: --threads N, else OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (hp_cpu_default_threads).
 * bench/run_bench_cnn.sh runs this beside PyTorch with the same threads and batch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <cblas.h> /* openblas_get_corename */

#include "cpu_threads.h"
#include "cpu/gemm.h"
#include "bench_train.h"
#include "model.h"
#include "rng.h"

static int arg_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

/* Best sgemm rate of `reps` products of n^3 on the current threads, in GFLOP/s. */
static double sgemm_peak(int n, int reps) {
    float *a = malloc(sizeof(float) * n * n), *b = malloc(sizeof(float) * n * n), *c = malloc(sizeof(float) * n * n);
    if (!a || !b || !c) {
        free(a), free(b), free(c);
        return 0;
    }
    hp_rng r = hp_rng_make(3);
    for (long i = 0; i < (long)n * n; i++) a[i] = (float)hp_rng_uniform(&r), b[i] = (float)hp_rng_uniform(&r), c[i] = 0;
    double best = 0;
    for (int k = 0; k < reps + 1; k++) { // the first is a warm-up
        double t0 = hp_bench_clock(CLOCK_MONOTONIC);
        hp_gemm_f32(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, n, n, 1.0f, a, n, b, n, 0.0f, c, n);
        double rate = 2.0 * n * n * n / (hp_bench_clock(CLOCK_MONOTONIC) - t0) / 1e9;
        if (k > 0 && rate > best) best = rate;
    }
    free(a), free(b), free(c);
    return best;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: bench_cnn [--steps N] [--warmup N] [--batch B] [--threads T] [--no-bn] [--no-dropout]\n");
        return 0;
    }
    int steps = hp_bench_arg_int(argc, argv, "--steps", 50, "bench_cnn");
    int warmup = hp_bench_arg_int(argc, argv, "--warmup", 5, "bench_cnn");
    int B = hp_bench_arg_int(argc, argv, "--batch", 128, "bench_cnn");
    int threads = hp_bench_arg_int(argc, argv, "--threads", -1, "bench_cnn");
    int bn = !arg_flag(argc, argv, "--no-bn"), dropout = !arg_flag(argc, argv, "--no-dropout");
    hp_cpu_set_threads(threads > 0 ? threads : hp_cpu_default_threads());
    enum { IN = 784, NC = 10, POOL = 4096 };

    hp_model_spec spec;
    memset(&spec, 0, sizeof spec);
    int n = 0;
    for (int blk = 0; blk < 2; blk++) {
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_CONV, .filters = 32 << blk, .kernel = 3, .padding = 1,
                                           .bias = bn ? HP_BIAS_OFF : HP_BIAS_ON};
        if (bn) spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_BATCHNORM};
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_RELU};
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_MAXPOOL, .kernel = 2};
    }
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 128};
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_RELU};
    if (dropout) spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_DROPOUT, .p = 0.5};
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC};
    spec.nlayers = n;
    // Matrix-product FLOPs per image: 2*M*N*K of each forward product, times 3 (forward,
    // backward data, backward filter), except the first conv's backward data (not computed).
    double conv0 = 2.0 * 32 * 9 * 784, conv1 = 2.0 * 64 * 288 * 196, d0 = 2.0 * 3136 * 128, d1 = 2.0 * 128 * NC;
    double flops_per_image = 2 * conv0 + 3 * (conv1 + d0 + d1);

    hp_bench_result res;
    if (hp_bench_train(&spec, B, POOL, warmup, steps, "bench_cnn", &res) != 0) return 1;
    double dt = res.wall, cpu = res.cpu, loss = res.loss;
    struct rusage ru;
    double rss = getrusage(RUSAGE_SELF, &ru) == 0 ? ru.ru_maxrss / 1024.0 : 0; // before the sgemm's buffers
    double gflops = flops_per_image * steps * B / dt / 1e9, peak = sgemm_peak(1024, 3);
    printf("hpsweep images/s %.1f cpu-images/s %.1f steps %d batch %d threads %d bn %d dropout %d core %s "
           "loss %.4f gflops %.1f sgemm-gflops %.1f peak-fraction %.2f maxrss-mib %.1f\n",
           (double)steps * B / dt, (double)steps * B / cpu, steps, B, hp_cpu_threads(), bn, dropout,
           openblas_get_corename(), loss, gflops, peak, peak > 0 ? gflops / peak : 0, rss);
    return 0;
}
