/* bench_mlp.c - training throughput of the CPU trainer on the reference MLP.
 *
 * 784-512-256-10 with ReLUs, softmax cross-entropy, SGD (momentum 0.9, weight decay 5e-4),
 * batch 128, on random data: each step gathers a random batch from an 8192-example pool into
 * the batch buffer (as hp_trainer does), runs forward and backward, and updates. After
 * --warmup steps, --steps steps are timed. Prints one line:
 *     hpsweep images/s 12345.6 cpu-images/s 12400.1 steps 200 batch 128 threads 1 core Haswell ...
 * Threads: --threads N, else OPENBLAS_NUM_THREADS / OMP_NUM_THREADS (hp_backend_default_threads). bench/run_bench_mlp.sh runs this beside
 * PyTorch (bench_mlp_torch.py) with the same threads and batch and prints the ratio. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cblas.h> /* openblas_get_corename */

#include "backend.h"
#include "model.h"
#include "optim.h"
#include "rng.h"

static double clock_s(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int arg_int(int argc, char **argv, const char *name, int def) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v <= 0 || v > 1000000) { // also rejects a missing or negative value
                fprintf(stderr, "bench_mlp: %s %s: want a positive integer\n", name, argv[i + 1]);
                exit(2);
            }
            return (int)v;
        }
    return def;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: bench_mlp [--steps N] [--warmup N] [--batch B] [--threads T]\n");
        return 0;
    }
    int steps = arg_int(argc, argv, "--steps", 200), warmup = arg_int(argc, argv, "--warmup", 20);
    int B = arg_int(argc, argv, "--batch", 128), threads = arg_int(argc, argv, "--threads", -1);
    hp_backend_set_threads(threads > 0 ? threads : hp_backend_default_threads());
    enum { IN = 784, NC = 10, POOL = 8192 };

    hp_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.nlayers = 5;
    spec.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 512};
    spec.layers[1] = (hp_layer_spec){.type = HP_LAYER_RELU};
    spec.layers[2] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 256};
    spec.layers[3] = (hp_layer_spec){.type = HP_LAYER_RELU};
    spec.layers[4] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC};
    hp_optim_spec os = {.type = HP_OPTIM_SGD, .lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
    hp_err err;
    hp_model *m = NULL;
    hp_optim *o = NULL;
    if (hp_model_create(&spec, 1, 28, 28, NC, B, &m, &err) != 0 ||
        hp_optim_create(&os, hp_model_param_count(m), &o, &err) != 0) {
        fprintf(stderr, "bench_mlp: %s\n", err.msg);
        return 1;
    }
    hp_model_init(m, 1);
    float *pool = malloc(sizeof(float) * (size_t)POOL * IN), *xb = malloc(sizeof(float) * (size_t)B * IN);
    int32_t *labels = malloc(sizeof(int32_t) * POOL), *yb = malloc(sizeof(int32_t) * (size_t)B);
    if (!pool || !xb || !labels || !yb) {
        fprintf(stderr, "bench_mlp: out of memory\n");
        return 1;
    }
    hp_rng r = hp_rng_make(7);
    for (int64_t i = 0; i < (int64_t)POOL * IN; i++) pool[i] = (float)hp_rng_normal(&r);
    for (int i = 0; i < POOL; i++) labels[i] = (int32_t)hp_rng_below(&r, NC);

    double t0 = 0, c0 = 0, loss = 0, l;
    int64_t c;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) {
            t0 = clock_s(CLOCK_MONOTONIC);
            c0 = clock_s(CLOCK_PROCESS_CPUTIME_ID);
        }
        for (int b = 0; b < B; b++) {
            int64_t i = (int64_t)hp_rng_below(&r, POOL);
            memcpy(xb + (int64_t)b * IN, pool + i * IN, sizeof(float) * IN);
            yb[b] = labels[i];
        }
        hp_model_step(m, xb, yb, B, &l, &c);
        hp_optim_step(o, hp_model_state(m), hp_model_grad(m), os.lr);
        loss = l / B;
    }
    double dt = clock_s(CLOCK_MONOTONIC) - t0, cpu = clock_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    // images per wall second (the figure), and per CPU second of the process (less sensitive to
    // other load on a shared machine; with several threads it also counts their spinning)
    printf("hpsweep images/s %.1f cpu-images/s %.1f steps %d batch %d threads %d core %s loss %.4f\n",
           (double)steps * B / dt, (double)steps * B / cpu, steps, B, hp_backend_threads(),
           openblas_get_corename(), loss);
    free(pool), free(xb), free(labels), free(yb);
    hp_optim_free(o);
    hp_model_free(m);
    return 0;
}
