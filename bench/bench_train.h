/* bench_train.h - what the trainer benchmarks share: argument parsing, clocks, and the timed
 * training loop (random 1x28x28 examples gathered into a batch as hp_trainer does, forward,
 * backward, SGD update; warm-up steps first, then timed steps). */
#ifndef HP_BENCH_TRAIN_H
#define HP_BENCH_TRAIN_H

#include <time.h>

#include "model.h"

/* Seconds on a clock (CLOCK_MONOTONIC for wall time, CLOCK_PROCESS_CPUTIME_ID for CPU time). */
double hp_bench_clock(clockid_t id);
/* The positive integer after `name`, or def; exits 2 with a message on a bad value. */
int hp_bench_arg_int(int argc, char **argv, const char *name, int def, const char *prog);

typedef struct hp_bench_result {
    double wall, cpu; /* seconds of the timed steps */
    double loss;      /* mean loss of the last step */
} hp_bench_result;

/* Train `spec` (1x28x28 inputs, 10 classes) with SGD momentum 0.9 at batch B, on batches drawn
 * from a pool of `pool` random examples. Returns 0, or 1 with a message on stderr naming `prog`. */
int hp_bench_train(const hp_model_spec *spec, int B, int pool, int warmup, int steps, const char *prog,
                   hp_bench_result *out);

#endif
