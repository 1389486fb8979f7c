/* test_cnn.c - whole CNNs (model.h) with every layer type:
 *   1. central finite differences in double of every parameter of a small fashion_cnn in
 *      training mode (batch norm on batch statistics, dropout off), of a CNN with dropout on
 *      (the dropout stream restored before every evaluation) and every activation, and of
 *      models with strided/padded convs, average and global average pooling;
 *   2. PyTorch fixture (tests/fixtures/cnn.txt): conv-BN-ReLU-maxpool x2, flatten,
 *      dense-BN1d-ReLU, dense: logits, loss, gradients, running statistics, evaluation-mode
 *      logits and 3 SGD steps, in double and float;
 *   3. training and evaluation modes: evaluation changes nothing and ignores dropout; a step
 *      updates the buffers only; the dropout stream (key, step) restores exactly;
 *   4. a step of a 28x28 CNN gives identical bits on 1, 2 and 3 threads;
 *   5. N steps, save (state, dropout stream, optimizer), N more == restore into fresh objects,
 *      N more (bit for bit). */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "model_check.h"
#include "optim.h"
#include "rng.h"

#define N(a) ((int)(sizeof(a) / sizeof(a)[0]))

static const hp_layer_type BN = HP_LAYER_BATCHNORM, RELU = HP_LAYER_RELU, MAXP = HP_LAYER_MAXPOOL;

/* The fixture's model (gen_conv.py CNN), with an optional dropout before the last layer. */
static hp_model_spec cnn_spec(double dropout) {
    hp_layer_spec l[] = {mc_conv(4, 3, 1, 1, 0), mc_layer(BN), mc_layer(RELU), mc_pool(MAXP, 2, 0, 0),
                         mc_conv(6, 3, 1, 1, 0), mc_layer(BN), mc_layer(RELU), mc_pool(MAXP, 2, 0, 0),
                         mc_layer(HP_LAYER_FLATTEN), mc_dense(8), mc_layer(BN), mc_layer(RELU),
                         mc_dropout(dropout), mc_dense(3)};
    hp_model_spec s = mc_spec(N(l), l);
    if (dropout == 0) { // drop the dropout layer
        s.layers[12] = s.layers[13];
        s.nlayers--;
    }
    return s;
}

static void finite_differences(void) {
    hp_model_spec s = cnn_spec(0);
    mc_finite_differences("small fashion_cnn", &s, 1, 8, 8, 3, 6, 61);
    s = cnn_spec(0.4);
    mc_finite_differences("small fashion_cnn with dropout 0.4", &s, 1, 8, 8, 3, 6, 62);
    {
        // every activation, strided and padded convs without batch norm, 2-channel input
        hp_layer_spec l[] = {mc_conv(3, 3, 2, 1, 1),   mc_layer(HP_LAYER_LEAKY_RELU), mc_conv(4, 1, 1, 0, 1),
                             mc_layer(HP_LAYER_ELU),   mc_pool(HP_LAYER_AVGPOOL, 3, 1, 1), mc_layer(HP_LAYER_GELU),
                             mc_conv(4, 3, 1, 0, 0),   mc_layer(BN),                  mc_layer(HP_LAYER_TANH),
                             mc_layer(HP_LAYER_GLOBALAVGPOOL), mc_dense(5), mc_dropout(0.3),
                             mc_layer(HP_LAYER_SIGMOID), mc_dense(3)};
        s = mc_spec(N(l), l);
        s.layers[1].slope = 0.2;
        s.layers[3].alpha = 0.7;
        mc_finite_differences("activations, strides, avg and global pools", &s, 2, 9, 8, 3, 4, 63);
    }
    {
        // a conv after a maxpool with padding and an odd size; dense straight on images
        hp_layer_spec l[] = {mc_conv(3, 5, 1, 2, 1), mc_pool(MAXP, 3, 2, 1), mc_layer(RELU), mc_conv(2, 2, 1, 0, 1),
                             mc_layer(BN), mc_dense(3)};
        s = mc_spec(N(l), l);
        mc_finite_differences("padded maxpool, dense on images", &s, 3, 7, 5, 3, 3, 64);
    }
}

/* ---- 3. modes ------------------------------------------------------------------------------ */

static void fill_batch(float *x, int32_t *y, int n, int dim, int nc, uint64_t seed) {
    hp_rng r = hp_rng_make(seed);
    for (int64_t i = 0; i < (int64_t)n * dim; i++) x[i] = (float)(2 * hp_rng_uniform(&r) - 1);
    for (int b = 0; b < n; b++) y[b] = (int32_t)hp_rng_below(&r, (uint64_t)nc);
}

static void modes(void) {
    enum { B = 6, DIM = 64 };
    hp_model_spec sd = cnn_spec(0.5), s0 = cnn_spec(0);
    hp_err err;
    hp_model *m = NULL, *m0 = NULL;
    float x[B * DIM], *snap = NULL, *g1 = NULL;
    int32_t y[B];
    if (!CHECK(hp_model_create(&sd, 1, 8, 8, 3, B, &m, &err) == 0 &&
                   hp_model_create(&s0, 1, 8, 8, 3, B, &m0, &err) == 0,
               "%s", err.msg))
        goto done;
    fill_batch(x, y, B, DIM, 3, 5);
    hp_model_init(m, 42);
    uint64_t key, step;
    hp_model_rng_state(m, &key, &step);
    CHECK(key == hp_key2(42, HP_STREAM_DROPOUT) && step == 0, "init sets the dropout stream (key, 0)");
    int64_t ns = hp_model_state_size(m), np = hp_model_param_count(m);
    CHECK(hp_model_state_size(m0) == ns, "dropout adds no state");
    snap = malloc(sizeof(float) * ns);
    g1 = malloc(sizeof(float) * np);
    if (!CHECK(snap && g1, "allocation")) goto done;
    // a few steps so that the running statistics are not the fresh (0, 1)
    double l, le, l0;
    int64_t c;
    for (int i = 0; i < 3; i++) hp_model_step(m, x, y, B, &l, &c);
    memcpy(snap, hp_model_state(m), sizeof(float) * ns);
    hp_model_eval(m, x, y, B, &le, &c);
    CHECK(memcmp(snap, hp_model_state(m), sizeof(float) * ns) == 0, "evaluation changes no state (buffers included)");
    hp_model_rng_state(m, &key, &step);
    CHECK(step == 3, "three steps counted (got %llu)", (unsigned long long)step);
    // the same state without the dropout layer evaluates identically: dropout is the identity
    memcpy(hp_model_state(m0), snap, sizeof(float) * ns);
    hp_model_eval(m0, x, y, B, &l0, &c);
    CHECK(l0 == le && memcmp(hp_model_logits(m0), hp_model_logits(m), sizeof(float) * B * 3) == 0,
          "evaluation ignores dropout (%g vs %g)", le, l0);
    // a training step moves the buffers, not the parameters
    hp_model_step(m, x, y, B, &l, &c);
    CHECK(memcmp(snap, hp_model_state(m), sizeof(float) * np) == 0, "a step leaves the parameters alone");
    int64_t moved = 0;
    for (int64_t i = np; i < ns; i++) moved += hp_model_state(m)[i] != snap[i];
    CHECK(moved > (ns - np) / 2, "a step updates the running statistics (%lld of %lld moved)", (long long)moved,
          (long long)(ns - np));
    CHECK(l != le, "training mode (batch statistics, dropout) differs from evaluation: %g vs %g", l, le);
    // the dropout stream: restoring (key, step) and the state reproduces a step exactly
    memcpy(g1, hp_model_grad(m), sizeof(float) * np);
    double l2;
    memcpy(hp_model_state(m), snap, sizeof(float) * ns);
    hp_model_set_rng_state(m, key, step);
    hp_model_step(m, x, y, B, &l2, &c);
    CHECK(l2 == l && memcmp(g1, hp_model_grad(m), sizeof(float) * np) == 0, "restored stream: identical step");
    memcpy(hp_model_state(m), snap, sizeof(float) * ns);
    hp_model_set_rng_state(m, key, step + 1);
    hp_model_step(m, x, y, B, &l2, &c);
    CHECK(l2 != l, "the next step's masks differ (loss %g vs %g)", l2, l);
    memcpy(hp_model_state(m), snap, sizeof(float) * ns);
    hp_model_set_rng_state(m, key + 1, step);
    hp_model_step(m, x, y, B, &l2, &c);
    CHECK(l2 != l, "another key's masks differ (loss %g vs %g)", l2, l);
done:
    free(snap), free(g1);
    hp_model_free(m);
    hp_model_free(m0);
}

/* ---- 4. threads ---------------------------------------------------------------------------- */

static hp_model_spec fashion_spec(void) {
    hp_layer_spec l[] = {mc_conv(8, 3, 1, 1, 0), mc_layer(BN), mc_layer(RELU), mc_pool(MAXP, 2, 0, 0),
                         mc_conv(16, 3, 1, 1, 0), mc_layer(BN), mc_layer(RELU), mc_pool(MAXP, 2, 0, 0),
                         mc_dense(32), mc_layer(RELU), mc_dropout(0.5), mc_dense(10)};
    return mc_spec(N(l), l);
}

static void threads(void) {
    enum { B = 12, DIM = 784 };
    hp_model_spec s = fashion_spec();
    hp_err err;
    hp_model *m = NULL;
    float *x = malloc(sizeof(float) * B * DIM), *res = NULL;
    int32_t y[B];
    if (!CHECK(x && hp_model_create(&s, 1, 28, 28, 10, B, &m, &err) == 0, "%s", err.msg)) goto done;
    int64_t ns = hp_model_state_size(m), np = hp_model_param_count(m);
    res = malloc(sizeof(float) * 3 * (ns + np + 1));
    if (!CHECK(res != NULL, "allocation")) goto done;
    fill_batch(x, y, B, DIM, 10, 9);
    int keep = omp_get_max_threads();
    for (int t = 1; t <= 3; t++) {
        omp_set_num_threads(t);
        hp_model_init(m, 3);
        double l;
        int64_t c;
        hp_model_step(m, x, y, B, &l, &c);
        float *r = res + (t - 1) * (ns + np + 1);
        memcpy(r, hp_model_state(m), sizeof(float) * ns);
        memcpy(r + ns, hp_model_grad(m), sizeof(float) * np);
        r[ns + np] = (float)l;
    }
    omp_set_num_threads(keep);
    CHECK(memcmp(res, res + (ns + np + 1), sizeof(float) * (ns + np + 1)) == 0,
          "a CNN step: 1 and 2 threads give identical loss, gradients and running statistics");
    CHECK(memcmp(res, res + 2 * (ns + np + 1), sizeof(float) * (ns + np + 1)) == 0,
          "a CNN step: 1 and 3 threads give identical bits");
done:
    free(x), free(res);
    hp_model_free(m);
}

/* ---- 5. save and restore ------------------------------------------------------------------- */

static void resume(void) {
    enum { B = 8, DIM = 64, STEPS = 3, POOL = 2 * STEPS };
    hp_model_spec s = cnn_spec(0.5);
    hp_optim_spec os = {.type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9, .weight_decay = 5e-4};
    hp_err err;
    hp_model *a = NULL, *b = NULL;
    hp_optim *oa = NULL, *ob = NULL;
    float x[POOL * B * DIM], *saved = NULL, *osaved = NULL;
    int32_t y[POOL * B];
    fill_batch(x, y, POOL * B, DIM, 3, 11);
    if (!CHECK(hp_model_create(&s, 1, 8, 8, 3, B, &a, &err) == 0 && hp_model_create(&s, 1, 8, 8, 3, B, &b, &err) == 0,
               "%s", err.msg))
        goto done;
    if (!CHECK(hp_optim_create(&os, hp_model_param_count(a), &oa, &err) == 0 &&
                   hp_optim_create(&os, hp_model_param_count(b), &ob, &err) == 0,
               "%s", err.msg))
        goto done;
    int64_t ns = hp_model_state_size(a), nos = hp_optim_state_size(oa);
    saved = malloc(sizeof(float) * ns);
    osaved = malloc(sizeof(float) * nos);
    if (!CHECK(saved && osaved, "allocation")) goto done;
    hp_model_init(a, 17);
    hp_model_init(b, 99); // different, to be overwritten by the restore
    double l;
    int64_t c;
    uint64_t key = 0, step = 0;
    for (int i = 0; i < 2 * STEPS; i++) {
        if (i == STEPS) {
            memcpy(saved, hp_model_state(a), sizeof(float) * ns);
            memcpy(osaved, hp_optim_state(oa), sizeof(float) * nos);
            hp_model_rng_state(a, &key, &step);
        }
        hp_model_step(a, x + i * B * DIM, y + i * B, B, &l, &c);
        hp_optim_step(oa, hp_model_state(a), hp_model_grad(a), os.lr);
    }
    memcpy(hp_model_state(b), saved, sizeof(float) * ns);
    memcpy(hp_optim_state(ob), osaved, sizeof(float) * nos);
    hp_model_set_rng_state(b, key, step);
    for (int i = STEPS; i < 2 * STEPS; i++) {
        hp_model_step(b, x + i * B * DIM, y + i * B, B, &l, &c);
        hp_optim_step(ob, hp_model_state(b), hp_model_grad(b), os.lr);
    }
    CHECK(memcmp(hp_model_state(a), hp_model_state(b), sizeof(float) * ns) == 0,
          "2N steps straight == N steps, save, restore, N steps (state and buffers, bit for bit)");
done:
    free(saved), free(osaved);
    hp_optim_free(oa), hp_optim_free(ob);
    hp_model_free(a), hp_model_free(b);
}

int main(void) {
    finite_differences();
    hp_model_spec s = cnn_spec(0);
    mc_pytorch_fixture("cnn.txt", &s, 1, 8, 8, 3, 6, 3);
    modes();
    threads();
    resume();
    return hp_check_summary("test_cnn");
}
