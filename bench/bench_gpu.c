/* bench_gpu.c - training throughput of the GPU trainer on the fashion_cnn network, through the
 * trainer's public API (what a sweep's trial runs): hp_trainer_create_on a GPU, then epochs.
 *
 * The network, optimizer and batch are bench_cnn.c's: conv3x3(32, no bias)-BN-ReLU-maxpool2,
 * conv3x3(64, no bias)-BN-ReLU-maxpool2, dense 128, ReLU, dropout 0.5, dense 10 on 1x28x28,
 * SGD (momentum 0.9, weight decay 5e-4), batch 128. Data: --examples random examples (default
 * 12800, 100 batches; uploaded once, as in a trial), 128 validation examples. The first epoch
 * is a warm-up (cuDNN picks its algorithms per shape); the next --epochs are timed, validation
 * included (one batch). Prints one line:
 *     hpsweep-gpu images/s 45678.9 epochs 3 batch 128 examples 12800 device cuda:0 NVIDIA H100 ... loss 2.1
 * Exits 77 when no GPU is visible (or the build has no CUDA). --no-deterministic and --tf32
 * select the faster cuDNN/cuBLAS modes. bench/run_bench_gpu.sh runs it beside PyTorch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_train.h"
#include "gpu_device.h"
#include "rng.h"
#include "train.h"

static int arg_flag(int argc, char **argv, const char *name) {
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], name) == 0) return 1;
    return 0;
}

static int random_set(hp_dataset *d, int64_t n, uint64_t key) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = 1, d->h = 28, d->w = 28;
    d->nclasses = 10;
    d->x = malloc(sizeof(float) * (size_t)n * 784);
    d->y = malloc(sizeof(int32_t) * (size_t)n);
    if (!d->x || !d->y) return -1;
    hp_rng r = hp_rng_make(key);
    for (int64_t i = 0; i < n * 784; i++) d->x[i] = (float)hp_rng_normal(&r);
    for (int64_t i = 0; i < n; i++) d->y[i] = (int32_t)hp_rng_below(&r, 10);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        printf("usage: bench_gpu [--epochs N] [--examples N] [--batch B] [--no-deterministic] [--tf32]\n");
        return 0;
    }
    int epochs = hp_bench_arg_int(argc, argv, "--epochs", 3, "bench_gpu");
    int examples = hp_bench_arg_int(argc, argv, "--examples", 12800, "bench_gpu");
    int B = hp_bench_arg_int(argc, argv, "--batch", 128, "bench_gpu");
    hp_gpu_opts opts = {.deterministic = !arg_flag(argc, argv, "--no-deterministic"),
                         .allow_tf32 = arg_flag(argc, argv, "--tf32")};
    if (hp_gpu_visible() <= 0) {
        fprintf(stderr, "bench_gpu: no GPU visible (CUDA in this build: %s): nothing to measure\n",
                hp_gpu_built() ? "yes" : "no");
        return 77;
    }
    hp_err err;
    hp_gpu_device *gpu = NULL;
    if (hp_gpu_open(0, &opts, &gpu, &err) != 0) {
        fprintf(stderr, "bench_gpu: %s\n", err.msg);
        return 1;
    }
    hp_model_spec spec;
    memset(&spec, 0, sizeof spec);
    int n = 0;
    for (int blk = 0; blk < 2; blk++) {
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_CONV, .filters = 32 << blk, .kernel = 3, .padding = 1,
                                           .bias = HP_BIAS_OFF};
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_BATCHNORM};
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_RELU};
        spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_MAXPOOL, .kernel = 2};
    }
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 128};
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_RELU};
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_DROPOUT, .p = 0.5};
    spec.layers[n++] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 10};
    spec.nlayers = n;
    hp_optim_spec os = {.type = HP_OPTIM_SGD, .lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
    hp_train_spec ts = {.batch_size = B, .epochs = epochs + 1, .diverge_factor = 1e30};
    hp_dataset train, val;
    hp_trainer *t = NULL;
    int rc = 1;
    if (random_set(&train, examples, 1) != 0 || random_set(&val, B, 2) != 0) {
        fprintf(stderr, "bench_gpu: out of memory\n");
        goto done;
    }
    if (hp_trainer_create_on(gpu, &spec, &os, &ts, &train, &val, 7, &t, &err) != 0) {
        fprintf(stderr, "bench_gpu: %s\n", err.msg);
        goto done;
    }
    hp_epoch_metrics m;
    double wall = 0;
    for (int e = 0; e <= epochs; e++) {
        double t0 = hp_bench_clock(CLOCK_MONOTONIC);
        if (hp_trainer_epoch(t, &m, &err) != 0) {
            fprintf(stderr, "bench_gpu: %s\n", err.msg);
            goto done;
        }
        if (e > 0) wall += hp_bench_clock(CLOCK_MONOTONIC) - t0; // epoch 0: warm-up
    }
    char desc[256];
    hp_gpu_describe(gpu, desc, sizeof desc);
    printf("hpsweep-gpu images/s %.1f epochs %d batch %d examples %d loss %.4f device %s\n",
           (double)epochs * examples / wall, epochs, B, examples, m.train_loss, desc);
    rc = 0;
done:
    hp_trainer_free(t);
    free(train.x), free(train.y), free(val.x), free(val.y);
    hp_gpu_close(gpu);
    return rc;
}
