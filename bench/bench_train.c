/* bench_train.c - see bench_train.h */
#include "bench_train.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "optim.h"
#include "rng.h"

double hp_bench_clock(clockid_t id) {
    struct timespec ts;
    if (clock_gettime(id, &ts) != 0) return 0;
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

int hp_bench_arg_int(int argc, char **argv, const char *name, int def, const char *prog) {
    for (int i = 1; i + 1 < argc; i++)
        if (strcmp(argv[i], name) == 0) {
            char *end;
            long v = strtol(argv[i + 1], &end, 10);
            if (*end || v <= 0 || v > 1000000) { // also rejects a missing or negative value
                fprintf(stderr, "%s: %s %s: want a positive integer\n", prog, name, argv[i + 1]);
                exit(2);
            }
            return (int)v;
        }
    return def;
}

int hp_bench_train(const hp_model_spec *spec, int B, int POOL, int warmup, int steps, const char *prog,
                   hp_bench_result *out) {
    enum { IN = 784, NC = 10 };
    hp_optim_spec os = {.type = HP_OPTIM_SGD, .lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
    hp_err err;
    hp_model *m = NULL;
    hp_optim *o = NULL;
    int rc = 1;
    float *pool = NULL, *xb = NULL;
    int32_t *labels = NULL, *yb = NULL;
    if (hp_model_create(spec, 1, 28, 28, NC, B, &m, &err) != 0 ||
        hp_optim_create(&os, hp_model_param_count(m), &o, &err) != 0) {
        fprintf(stderr, "%s: %s\n", prog, err.msg);
        goto done;
    }
    hp_model_init(m, 1);
    pool = malloc(sizeof(float) * (size_t)POOL * IN);
    xb = malloc(sizeof(float) * (size_t)B * IN);
    labels = malloc(sizeof(int32_t) * (size_t)POOL);
    yb = malloc(sizeof(int32_t) * (size_t)B);
    if (!pool || !xb || !labels || !yb) {
        fprintf(stderr, "%s: out of memory\n", prog);
        goto done;
    }
    hp_rng r = hp_rng_make(7);
    for (int64_t i = 0; i < (int64_t)POOL * IN; i++) pool[i] = (float)hp_rng_normal(&r);
    for (int i = 0; i < POOL; i++) labels[i] = (int32_t)hp_rng_below(&r, NC);

    double t0 = 0, c0 = 0, l;
    int64_t c;
    for (int s = 0; s < warmup + steps; s++) {
        if (s == warmup) {
            t0 = hp_bench_clock(CLOCK_MONOTONIC);
            c0 = hp_bench_clock(CLOCK_PROCESS_CPUTIME_ID);
        }
        for (int b = 0; b < B; b++) {
            int64_t i = (int64_t)hp_rng_below(&r, (uint64_t)POOL);
            memcpy(xb + (int64_t)b * IN, pool + i * IN, sizeof(float) * IN);
            yb[b] = labels[i];
        }
        hp_model_step(m, xb, yb, B, &l, &c);
        hp_optim_step(o, hp_model_state(m), hp_model_grad(m), os.lr);
        out->loss = l / B;
    }
    out->wall = hp_bench_clock(CLOCK_MONOTONIC) - t0;
    out->cpu = hp_bench_clock(CLOCK_PROCESS_CPUTIME_ID) - c0;
    rc = 0;
done:
    free(pool), free(xb), free(labels), free(yb);
    hp_optim_free(o);
    hp_model_free(m);
    return rc;
}
