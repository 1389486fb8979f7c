/* test_train.c - the training loop (train.h) on a small synthetic, separable data set:
 * it learns; same seed gives bit-identical metrics and state, another seed differs; the best
 * snapshot is the state of the best epoch (re-evaluated: same validation accuracy and loss)
 * and evaluating it leaves the live state alone; a huge learning rate is flagged as
 * divergence; the initial loss is ln(nclasses) when logits start at 0; the last partial
 * batch is trained on; bad data is rejected. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "check.h"
#include "rng.h"
#include "train.h"

enum { NC = 4, DIM = 8, NTRAIN = 600, NVAL = 200, EPOCHS = 6, BATCH = 32 };

static int make_blobs(hp_dataset *d, int64_t n, uint64_t key) { return hp_test_blobs(d, n, NC, 1, 2, 4, key); }
static void free_blobs(hp_dataset *d) { hp_test_blobs_free(d); }

static hp_model_spec mlp(hp_init last) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = 3;
    s.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 16, .line = 1};
    s.layers[1] = (hp_layer_spec){.type = HP_LAYER_RELU, .line = 2};
    s.layers[2] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC, .init = last, .line = 3};
    return s;
}

static const hp_optim_spec sgd = {.type = HP_OPTIM_SGD, .lr = 0.01, .momentum = 0.9, .weight_decay = 5e-4};
static const hp_train_spec tspec = {.batch_size = BATCH, .epochs = EPOCHS};

/* Train EPOCHS epochs; metrics into m[EPOCHS]. Returns the trainer (caller frees) or NULL. */
static hp_trainer *run(const hp_dataset *tr, const hp_dataset *va, uint64_t seed, hp_epoch_metrics *m) {
    hp_err err;
    hp_trainer *t = NULL;
    hp_model_spec s = mlp(HP_INIT_DEFAULT);
    if (!CHECK(hp_trainer_create(&s, &sgd, &tspec, tr, va, seed, &t, &err) == 0, "create: %s", err.msg))
        return NULL;
    for (int e = 0; e < EPOCHS; e++)
        if (!CHECK(hp_trainer_epoch(t, &m[e], &err) == 0, "epoch %d: %s", e + 1, err.msg)) {
            hp_trainer_free(t);
            return NULL;
        }
    return t;
}

static int same_metrics(const hp_epoch_metrics *a, const hp_epoch_metrics *b) {
    for (int e = 0; e < EPOCHS; e++)
        if (a[e].train_loss != b[e].train_loss || a[e].train_acc != b[e].train_acc ||
            a[e].val_loss != b[e].val_loss || a[e].val_acc != b[e].val_acc)
            return 0;
    return 1;
}

int main(void) {
    hp_dataset tr, va;
    if (!CHECK(make_blobs(&tr, NTRAIN, 1) == 0 && make_blobs(&va, NVAL, 2) == 0, "allocate the data"))
        return hp_check_summary("test_train");

    // learns
    hp_epoch_metrics m1[EPOCHS], m2[EPOCHS], m3[EPOCHS];
    hp_trainer *t1 = run(&tr, &va, 42, m1), *t2 = run(&tr, &va, 42, m2), *t3 = run(&tr, &va, 43, m3);
    if (!t1 || !t2 || !t3) goto done;
    for (int e = 0; e < EPOCHS; e++) {
        printf("epoch %d: train loss %.4f acc %.3f  val loss %.4f acc %.4f\n", m1[e].epoch, m1[e].train_loss,
               m1[e].train_acc, m1[e].val_loss, m1[e].val_acc);
        CHECK(m1[e].epoch == e + 1 && m1[e].lr == sgd.lr && !m1[e].diverged && m1[e].seconds >= 0,
              "epoch %d: number, lr, no divergence", e + 1);
    }
    CHECK(m1[EPOCHS - 1].val_acc > 0.8, "validation accuracy %.3f after %d epochs (chance 0.25)",
          m1[EPOCHS - 1].val_acc, EPOCHS);
    CHECK(m1[EPOCHS - 1].train_loss < 0.5 * m1[0].train_loss, "training loss falls (%.4f -> %.4f)",
          m1[0].train_loss, m1[EPOCHS - 1].train_loss);
    CHECK(hp_trainer_epochs_done(t1) == EPOCHS, "epochs done");
    // every example of every epoch trained, the last partial batch (600 = 18 * 32 + 24) too
    int64_t steps = hp_optim_steps(hp_trainer_optim(t1));
    CHECK(steps == EPOCHS * ((NTRAIN + BATCH - 1) / BATCH), "%lld optimizer steps, want %d", (long long)steps,
          EPOCHS * ((NTRAIN + BATCH - 1) / BATCH));

    // reproducible, seed-dependent
    CHECK(same_metrics(m1, m2), "same seed: bit-identical metrics");
    hp_model *mod1 = hp_trainer_model(t1), *mod2 = hp_trainer_model(t2);
    size_t bytes = (size_t)hp_model_state_size(mod1) * sizeof(float);
    CHECK(memcmp(hp_model_state(mod1), hp_model_state(mod2), bytes) == 0, "same seed: bit-identical state");
    CHECK(!same_metrics(m1, m3), "another seed: other metrics");
    CHECK(hp_trainer_initial_loss(t1) != hp_trainer_initial_loss(t3), "another seed: another initial loss");

    // best snapshot
    int best = 0;
    for (int e = 1; e < EPOCHS; e++)
        if (m1[e].val_acc > m1[best].val_acc) best = e;
    int be;
    double bacc, bloss;
    const float *bs = hp_trainer_best_state(t1, &be, &bacc, &bloss);
    CHECK(be == best + 1 && bacc == m1[best].val_acc && bloss == m1[best].val_loss,
          "best snapshot from epoch %d (acc %.4f), want epoch %d", be, bacc, best + 1);
    float *live = malloc(bytes);
    if (CHECK(live != NULL, "allocation")) {
        memcpy(live, hp_model_state(mod1), bytes);
        double l, a;
        hp_err err;
        if (CHECK(hp_trainer_evaluate(t1, &va, bs, &l, &a, &err) == 0, "%s", err.msg)) {
            CHECK(a == m1[best].val_acc && l == m1[best].val_loss,
                  "best snapshot re-evaluated: acc %.4f loss %.6f, want %.4f %.6f", a, l, m1[best].val_acc,
                  m1[best].val_loss);
        }
        CHECK(memcmp(live, hp_model_state(mod1), bytes) == 0, "evaluate() leaves the live state as it was");
        if (best + 1 < EPOCHS)
            CHECK(memcmp(live, bs, bytes) != 0, "the snapshot of epoch %d is not the live state", best + 1);
        if (CHECK(hp_trainer_evaluate(t1, &va, hp_model_state(mod1), &l, &a, &err) == 0, "%s", err.msg))
            CHECK(a == m1[EPOCHS - 1].val_acc && l == m1[EPOCHS - 1].val_loss,
                  "live state evaluates to the last epoch's metrics");
        free(live);
    }

    // initial loss: exactly ln(C) when the last layer starts at zero (all logits 0)
    {
        hp_err err;
        hp_trainer *t = NULL;
        hp_model_spec s = mlp(HP_INIT_ZERO);
        if (CHECK(hp_trainer_create(&s, &sgd, &tspec, &tr, &va, 5, &t, &err) == 0, "%s", err.msg))
            CHECK_CLOSE(hp_trainer_initial_loss(t), log((double)NC), 1e-6, 1e-6,
                        "initial loss = ln(4) with zero logits");
        hp_trainer_free(t);
        CHECK_CLOSE(hp_trainer_initial_loss(t1), log((double)NC), 0, 0.35,
                    "default init: initial loss near ln(4)");
    }

    // divergence
    {
        hp_err err;
        hp_trainer *t = NULL;
        hp_model_spec s = mlp(HP_INIT_DEFAULT);
        hp_optim_spec huge = sgd;
        huge.lr = 1e4;
        if (CHECK(hp_trainer_create(&s, &huge, &tspec, &tr, &va, 42, &t, &err) == 0, "%s", err.msg)) {
            hp_epoch_metrics m;
            CHECK(hp_trainer_epoch(t, &m, &err) == 0, "a diverging epoch is not an error");
            CHECK(m.diverged == 1, "lr 1e4 diverges (train loss %g, initial %g)", m.train_loss,
                  hp_trainer_initial_loss(t));
            int64_t st = hp_optim_steps(hp_trainer_optim(t));
            CHECK(st < (NTRAIN + BATCH - 1) / BATCH, "the epoch stopped at once (%lld steps taken)",
                  (long long)st);
            CHECK(isnan(m.val_loss) && m.val_acc == 0, "no validation after divergence");
            int be2;
            hp_trainer_best_state(t, &be2, NULL, NULL);
            CHECK(be2 == 0, "no best snapshot from a diverged epoch");
        }
        hp_trainer_free(t);
        // diverge_factor: a tiny factor flags the first batch whose loss rises above factor x initial
        hp_train_spec strict = tspec;
        strict.diverge_factor = 1e-3;
        t = NULL;
        if (CHECK(hp_trainer_create(&s, &sgd, &strict, &tr, &va, 42, &t, &err) == 0, "%s", err.msg)) {
            hp_epoch_metrics m;
            hp_trainer_epoch(t, &m, &err);
            CHECK(m.diverged == 1 && hp_optim_steps(hp_trainer_optim(t)) == 0,
                  "diverge_factor 1e-3 stops at the first batch");
        }
        hp_trainer_free(t);
    }

    // bad input
    {
        hp_err err = {{0}};
        hp_trainer *t = NULL;
        hp_model_spec s = mlp(HP_INIT_DEFAULT);
        va.y[7] = NC;
        CHECK(hp_trainer_create(&s, &sgd, &tspec, &tr, &va, 1, &t, &err) == -1 && t == NULL &&
                  strstr(err.msg, "validation set's example 7 has label 4"),
              "out-of-range label rejected: %s", err.msg);
        va.y[7] = 0;
        hp_train_spec zero = tspec;
        zero.batch_size = 0;
        CHECK(hp_trainer_create(&s, &sgd, &zero, &tr, &va, 1, &t, &err) == -1 &&
                  strstr(err.msg, "batch_size 0"),
              "batch 0 rejected: %s", err.msg);
        hp_model_spec wrong = mlp(HP_INIT_DEFAULT);
        wrong.layers[2].units = 3;
        CHECK(hp_trainer_create(&wrong, &sgd, &tspec, &tr, &va, 1, &t, &err) == -1 &&
                  strstr(err.msg, "has 3 units but the data has 4 classes"),
              "model/data mismatch rejected: %s", err.msg);
        hp_dataset other = va;
        other.w = 2; // 4 features
        double l, a;
        CHECK(hp_trainer_evaluate(t1, &other, NULL, &l, &a, &err) == -1 && strstr(err.msg, "1x2x2"),
              "evaluating data of another shape rejected: %s", err.msg);
    }
done:
    hp_trainer_free(t1);
    hp_trainer_free(t2);
    hp_trainer_free(t3);
    free_blobs(&tr);
    free_blobs(&va);
    return hp_check_summary("test_train");
}
