/* test_train_ckpt.c - trainer checkpoints (train.h, train_ckpt.c): a trial stopped after epoch
 * k and restored from its checkpoint into a fresh trainer continues bit-identically (metrics,
 * live state, best snapshot) to one that never stopped, for each optimizer this build has; the
 * size functions agree; a checkpoint of another model is refused with a message naming the
 * sizes; the cancellation flag stops an epoch before its next batch. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"
#include "train.h"

enum { NC = 3, NTRAIN = 300, NVAL = 90, EPOCHS = 5, SPLIT = 2, BATCH = 32 };

static int make_data(hp_dataset *d, int64_t n, uint64_t key) {
    memset(d, 0, sizeof *d);
    d->n = n;
    d->c = 1, d->h = 2, d->w = 3;
    d->nclasses = NC;
    d->x = calloc((size_t)n * 6, sizeof(float));
    d->y = calloc((size_t)n, sizeof(int32_t));
    if (!d->x || !d->y) return -1;
    hp_rng r = hp_rng_make(key);
    for (int64_t i = 0; i < n; i++) {
        int k = (int)hp_rng_below(&r, NC);
        d->y[i] = k;
        for (int j = 0; j < 6; j++) d->x[i * 6 + j] = (j % NC == k ? 1.0f : -0.5f) + (float)hp_rng_normal(&r);
    }
    return 0;
}

static hp_model_spec mlp(int hidden) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = 3;
    s.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = hidden, .line = 1};
    s.layers[1] = (hp_layer_spec){.type = HP_LAYER_RELU, .line = 2};
    s.layers[2] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC, .line = 3};
    return s;
}

static int same_metrics(const hp_epoch_metrics *a, const hp_epoch_metrics *b) {
    return a->epoch == b->epoch && a->train_loss == b->train_loss && a->train_acc == b->train_acc &&
           a->val_loss == b->val_loss && a->val_acc == b->val_acc && a->diverged == b->diverged;
}

/* dense -> batchnorm (running statistics: buffers in the state) -> relu -> dropout -> dense:
 * the checkpoint must carry the buffers and the dropout stream. */
static hp_model_spec mlp_bn_dropout(void) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = 5;
    s.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 12, .bias = 1, .line = 1};
    s.layers[1] = (hp_layer_spec){.type = HP_LAYER_BATCHNORM, .momentum = 0.1, .eps = 1e-5, .line = 2};
    s.layers[2] = (hp_layer_spec){.type = HP_LAYER_RELU, .line = 3};
    s.layers[3] = (hp_layer_spec){.type = HP_LAYER_DROPOUT, .p = 0.3, .line = 4};
    s.layers[4] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC, .bias = 1, .line = 5};
    return s;
}

/* Straight run vs. stop after SPLIT epochs + restore into a fresh trainer. */
static void check_resume_with(const hp_model_spec *model, const hp_train_spec *train, const hp_optim_spec *opt,
                              const char *what, const hp_dataset *tr, const hp_dataset *va) {
    hp_err err;
    hp_model_spec ms = *model;
    hp_train_spec ts = *train;
    hp_trainer *a = NULL, *b = NULL, *c = NULL;
    if (hp_trainer_create(&ms, opt, &ts, tr, va, 42, &a, &err) != 0) {
        printf("%s: not available in this build (%s): skipped\n", what, err.msg);
        return;
    }
    hp_epoch_metrics ma[EPOCHS], mb[EPOCHS];
    for (int e = 0; e < EPOCHS; e++) CHECK(hp_trainer_epoch(a, &ma[e], &err) == 0, "%s: epoch: %s", what, err.msg);

    CHECK(hp_trainer_create(&ms, opt, &ts, tr, va, 42, &b, &err) == 0, "%s: create b: %s", what, err.msg);
    for (int e = 0; e < SPLIT; e++) hp_trainer_epoch(b, &mb[e], &err);
    int64_t n = hp_trainer_checkpoint_size(b), n2 = 0;
    CHECK(hp_trainer_checkpoint_size_for(&ms, opt, 1, 2, 3, NC, &n2, &err) == 0 && n2 == n,
          "%s: size_for %lld == size %lld", what, (long long)n2, (long long)n);
    float *vec = calloc((size_t)n, sizeof(float));
    hp_train_ckpt meta;
    hp_trainer_checkpoint_save(b, vec, &meta);
    CHECK(meta.epochs_done == SPLIT && meta.version == HP_TRAIN_CKPT_VERSION, "%s: meta epochs %d", what,
          meta.epochs_done);
    hp_trainer_free(b); /* the process "dies" */

    CHECK(hp_trainer_create(&ms, opt, &ts, tr, va, 42, &c, &err) == 0, "%s: create c: %s", what, err.msg);
    CHECK(hp_trainer_checkpoint_load(c, vec, n, &meta, &err) == 0, "%s: load: %s", what, err.msg);
    CHECK(hp_trainer_epochs_done(c) == SPLIT, "%s: epochs done after load %d", what, hp_trainer_epochs_done(c));
    int same = 1;
    for (int e = SPLIT; e < EPOCHS; e++) {
        CHECK(hp_trainer_epoch(c, &mb[e], &err) == 0, "%s: resumed epoch: %s", what, err.msg);
        same &= same_metrics(&ma[e], &mb[e]);
    }
    CHECK(same, "%s: resumed epochs %d..%d have bit-identical metrics (val acc %.17g vs %.17g)", what, SPLIT + 1,
          EPOCHS, ma[EPOCHS - 1].val_acc, mb[EPOCHS - 1].val_acc);
    int64_t ns = hp_model_state_size(hp_trainer_model(a));
    CHECK(memcmp(hp_model_state(hp_trainer_model(a)), hp_model_state(hp_trainer_model(c)),
                 (size_t)ns * sizeof(float)) == 0,
          "%s: final live state bit-identical", what);
    int ea = 0, ec = 0;
    double acc_a = 0, acc_c = 0, la = 0, lc = 0;
    const float *ba = hp_trainer_best_state(a, &ea, &acc_a, &la), *bc = hp_trainer_best_state(c, &ec, &acc_c, &lc);
    CHECK(ea == ec && acc_a == acc_c && la == lc && memcmp(ba, bc, (size_t)ns * sizeof(float)) == 0,
          "%s: best snapshot (epoch %d vs %d) bit-identical", what, ea, ec);
    int64_t os = hp_optim_state_size(hp_trainer_optim(a));
    CHECK(memcmp(hp_optim_state(hp_trainer_optim(a)), hp_optim_state(hp_trainer_optim(c)),
                 (size_t)os * sizeof(float)) == 0,
          "%s: optimizer state bit-identical", what);

    /* A checkpoint of another model (wider hidden layer) is refused, naming the sizes. */
    hp_model_spec wide = mlp(13);
    hp_trainer *w = NULL;
    CHECK(hp_trainer_create(&wide, opt, &ts, tr, va, 42, &w, &err) == 0, "create wide: %s", err.msg);
    int rc = hp_trainer_checkpoint_load(w, vec, n, &meta, &err);
    CHECK(rc == -1 && strstr(err.msg, "changed"), "%s: mismatched checkpoint refused: %s", what, err.msg);
    hp_train_ckpt bad = meta;
    bad.version = HP_TRAIN_CKPT_VERSION + 1;
    CHECK(hp_trainer_checkpoint_load(c, vec, n, &bad, &err) == -1 && strstr(err.msg, "version"),
          "%s: newer checkpoint version refused: %s", what, err.msg);
    hp_trainer_free(w);
    free(vec);
    hp_trainer_free(a);
    hp_trainer_free(c);
}

static void check_resume(const hp_optim_spec *opt, const char *what, const hp_dataset *tr, const hp_dataset *va) {
    hp_model_spec ms = mlp(12);
    hp_train_spec ts = {.batch_size = BATCH, .epochs = EPOCHS};
    check_resume_with(&ms, &ts, opt, what, tr, va);
}

static void check_cancel(const hp_dataset *tr, const hp_dataset *va) {
    hp_err err;
    hp_model_spec ms = mlp(8);
    hp_optim_spec opt = {.type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9};
    hp_train_spec ts = {.batch_size = BATCH, .epochs = EPOCHS};
    hp_trainer *t = NULL;
    if (!CHECK(hp_trainer_create(&ms, &opt, &ts, tr, va, 1, &t, &err) == 0, "create: %s", err.msg)) return;
    static volatile sig_atomic_t flag = 0;
    hp_trainer_set_cancel(t, &flag);
    hp_epoch_metrics m;
    CHECK(hp_trainer_epoch(t, &m, &err) == 0 && !m.cancelled && m.epoch == 1, "flag clear: epoch runs");
    flag = 1;
    CHECK(hp_trainer_epoch(t, &m, &err) == 0 && m.cancelled == 1, "flag set: epoch cancelled (%d)", m.cancelled);
    CHECK(hp_trainer_epochs_done(t) == 1, "a cancelled epoch does not count (%d done)", hp_trainer_epochs_done(t));
    hp_trainer_set_cancel(t, NULL);
    CHECK(hp_trainer_epoch(t, &m, &err) == 0 && !m.cancelled && m.epoch == 2, "flag removed: epoch runs");
    hp_trainer_free(t);
}

int main(void) {
    hp_dataset tr, va;
    if (make_data(&tr, NTRAIN, 11) != 0 || make_data(&va, NVAL, 12) != 0) return 1;
    const hp_optim_spec opts[] = {
        {.type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9, .weight_decay = 1e-3},
        {.type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9, .nesterov = 1},
        {.type = HP_OPTIM_SGD, .lr = 0.1},
        {.type = HP_OPTIM_ADAM, .lr = 3e-3, .weight_decay = 1e-4, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
        {.type = HP_OPTIM_ADAMW, .lr = 3e-3, .weight_decay = 1e-2, .beta1 = 0.9, .beta2 = 0.999, .eps = 1e-8},
        {.type = HP_OPTIM_RMSPROP, .lr = 1e-3, .alpha = 0.99, .eps = 1e-8, .momentum = 0.5},
        {.type = HP_OPTIM_ADAGRAD, .lr = 0.05, .eps = 1e-10},
    };
    const char *names[] = {"sgd momentum", "sgd nesterov", "sgd plain", "adam", "adamw", "rmsprop", "adagrad"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++) check_resume(&opts[i], names[i], &tr, &va);
    /* Buffers (batch-norm running statistics), the dropout stream and a schedule with state
     * (reduce-on-plateau) continue exactly too. */
    hp_model_spec bd = mlp_bn_dropout();
    hp_train_spec plateau = {.batch_size = BATCH, .epochs = EPOCHS};
    plateau.schedule.type = HP_SCHED_PLATEAU;
    plateau.schedule.gamma = 0.5;
    plateau.schedule.patience = 0;
    plateau.schedule.threshold = 1e-4;
    hp_train_spec cosine = {.batch_size = BATCH, .epochs = EPOCHS};
    cosine.schedule.type = HP_SCHED_COSINE;
    check_resume_with(&bd, &plateau, &opts[0], "batchnorm + dropout + plateau schedule", &tr, &va);
    check_resume_with(&bd, &cosine, &opts[3], "batchnorm + dropout + cosine schedule, adam", &tr, &va);
    check_cancel(&tr, &va);
    free(tr.x), free(tr.y), free(va.x), free(va.y);
    return hp_check_summary("test_train_ckpt");
}
