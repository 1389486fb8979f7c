/* test_train_features.c - what the training loop adds around the model and the optimizer:
 * the learning-rate schedule is applied per epoch (and its plateau state survives a
 * checkpoint), augmentation is deterministic and actually changes the batches, early stopping
 * fires after `patience` epochs without improvement, and the update/weight ratio is
 * ||p_after - p_before|| / ||p_before|| of the epoch's last step. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "check.h"
#include "train.h"

enum { NC = 4, C = 2, H = 2, W = 4, NTRAIN = 256, NVAL = 128 };

static hp_model_spec mlp(void) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = 3;
    s.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 12, .bias = 1};
    s.layers[1] = (hp_layer_spec){.type = HP_LAYER_RELU};
    s.layers[2] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = NC, .bias = 1};
    return s;
}

static hp_dataset train, val;

/* Run `epochs` epochs; metrics into m. Returns 0 or -1. */
static int run(const hp_optim_spec *o, const hp_train_spec *ts, int epochs, hp_epoch_metrics *m) {
    hp_model_spec ms = mlp();
    hp_trainer *t = NULL;
    hp_err err;
    if (!CHECK(hp_trainer_create(&ms, o, ts, &train, &val, 42, &t, &err) == 0, "create: %s", err.msg)) return -1;
    for (int e = 0; e < epochs; e++)
        if (!CHECK(hp_trainer_epoch(t, &m[e], &err) == 0, "epoch: %s", err.msg)) break;
    hp_trainer_free(t);
    return 0;
}

static void schedule(void) {
    hp_optim_spec o = {.type = HP_OPTIM_SGD, .lr = 0.08, .momentum = 0.9};
    hp_train_spec ts = {.batch_size = 32, .epochs = 4};
    ts.schedule = (hp_sched_spec){.type = HP_SCHED_STEP, .step_size = 1, .gamma = 0.5};
    hp_epoch_metrics m[4];
    if (run(&o, &ts, 4, m) != 0) return;
    for (int e = 0; e < 4; e++) CHECK_CLOSE(m[e].lr, 0.08 * pow(0.5, e), 0, 1e-15, "step schedule lr per epoch");
    ts.schedule = (hp_sched_spec){.type = HP_SCHED_COSINE, .warmup_epochs = 1};
    if (run(&o, &ts, 4, m) != 0) return;
    CHECK_CLOSE(m[0].lr, 0.08 / 2, 0, 1e-15, "warm-up epoch 0: base * 1/2");
    CHECK_CLOSE(m[1].lr, 0.08, 0, 1e-15, "cosine starts at the base after warm-up");
    CHECK(m[3].lr < m[2].lr && m[2].lr < m[1].lr, "cosine decreases: %g %g %g", m[1].lr, m[2].lr, m[3].lr);
}

static void augmentation(void) {
    hp_optim_spec o = {.type = HP_OPTIM_SGD, .lr = 0.05, .momentum = 0.9};
    hp_train_spec ts = {.batch_size = 32, .epochs = 3};
    hp_epoch_metrics plain[3], a[3], b[3];
    if (run(&o, &ts, 3, plain) != 0) return;
    ts.augment = (hp_augment_spec){.flip = 1, .shift = 1};
    if (run(&o, &ts, 3, a) != 0 || run(&o, &ts, 3, b) != 0) return;
    int same = 1, differs = 0;
    for (int e = 0; e < 3; e++) {
        same &= a[e].train_loss == b[e].train_loss && a[e].val_acc == b[e].val_acc;
        differs |= a[e].train_loss != plain[e].train_loss;
    }
    CHECK(same, "augmented runs with the same seed are bit-identical");
    CHECK(differs, "augmentation changes the training batches (train loss differs from the plain run)");
    /* mixup needs soft targets: refused with a message, not silently ignored */
    ts.augment = (hp_augment_spec){.mixup = 0.2};
    hp_model_spec ms = mlp();
    hp_trainer *t = NULL;
    hp_err err = {{0}};
    CHECK(hp_trainer_create(&ms, &o, &ts, &train, &val, 1, &t, &err) != 0 && strstr(err.msg, "mixup"),
          "mixup refused with a message naming it: '%s'", err.msg);
    hp_trainer_free(t);
}

static void patience(void) {
    /* A learning rate so small that nothing changes after epoch 1: no improvement, so with
     * patience 2 the trainer asks to stop after epoch 3 (epochs 2 and 3 did not improve). */
    hp_optim_spec o = {.type = HP_OPTIM_SGD, .lr = 1e-30};
    hp_train_spec ts = {.batch_size = 64, .epochs = 6, .patience = 2};
    hp_epoch_metrics m[6];
    if (run(&o, &ts, 3, m) != 0) return;
    CHECK(!m[0].stop_early && !m[1].stop_early && m[2].stop_early, "stop_early after epoch 3: %d %d %d",
          m[0].stop_early, m[1].stop_early, m[2].stop_early);
    ts.patience = 0;
    if (run(&o, &ts, 3, m) != 0) return;
    CHECK(!m[2].stop_early, "patience 0 never stops early");
}

static void update_ratio(void) {
    /* One step per epoch (batch = whole set) of plain SGD: the epoch's last update is the epoch's
     * only update, so the ratio is ||p1 - p0|| / ||p0|| over the parameters. */
    hp_optim_spec o = {.type = HP_OPTIM_SGD, .lr = 0.1};
    hp_train_spec ts = {.batch_size = NTRAIN, .epochs = 1};
    hp_model_spec ms = mlp();
    hp_trainer *t = NULL;
    hp_err err;
    if (!CHECK(hp_trainer_create(&ms, &o, &ts, &train, &val, 5, &t, &err) == 0, "%s", err.msg)) return;
    hp_model *m = hp_trainer_model(t);
    int64_t np = hp_model_param_count(m);
    float *p0 = malloc(sizeof(float) * (size_t)np);
    memcpy(p0, hp_model_state(m), sizeof(float) * (size_t)np);
    hp_epoch_metrics em;
    CHECK(hp_trainer_epoch(t, &em, &err) == 0, "%s", err.msg);
    const float *p1 = hp_model_state(m);
    double d2 = 0, w2 = 0, dw2 = 0, ww2 = 0;
    const hp_tensor_info *ti;
    hp_model_layout(m, &ti);
    for (int64_t i = 0; i < np; i++) {
        double d = (double)p1[i] - p0[i];
        d2 += d * d;
        w2 += (double)p0[i] * p0[i];
    }
    for (int64_t i = ti[0].offset; i < ti[0].offset + ti[0].size; i++) { /* dense0.weight */
        double d = (double)p1[i] - p0[i];
        dw2 += d * d;
        ww2 += (double)p0[i] * p0[i];
    }
    CHECK_CLOSE(em.update_ratio, sqrt(d2 / w2), 0, 1e-9, "global update/weight ratio");
    CHECK(em.nratios == 2, "one ratio per weight tensor (2 dense layers), got %d", em.nratios);
    CHECK_CLOSE(em.layer_ratio[0], sqrt(dw2 / ww2), 0, 1e-6, "dense0.weight update/weight ratio");
    CHECK(em.update_ratio > 1e-4 && em.update_ratio < 1, "a plausible ratio: %g", em.update_ratio);
    free(p0);
    hp_trainer_free(t);
}

static void plateau_checkpoint(void) {
    /* Reduce-on-plateau with patience 0 reduces after every epoch that does not improve the
     * validation loss; its state must travel in the checkpoint so that 2 + 3 epochs (save,
     * load into a fresh trainer) equal 5 straight, learning rates included. */
    hp_optim_spec o = {.type = HP_OPTIM_SGD, .lr = 0.5, .momentum = 0.9};
    hp_train_spec ts = {.batch_size = 32, .epochs = 5};
    ts.schedule = (hp_sched_spec){.type = HP_SCHED_PLATEAU, .gamma = 0.5, .patience = 0, .threshold = 1e-4};
    hp_epoch_metrics straight[5], resumed[5];
    if (run(&o, &ts, 5, straight) != 0) return;
    hp_model_spec ms = mlp();
    hp_trainer *a = NULL, *b = NULL;
    hp_err err;
    if (!CHECK(hp_trainer_create(&ms, &o, &ts, &train, &val, 42, &a, &err) == 0 &&
                   hp_trainer_create(&ms, &o, &ts, &train, &val, 42, &b, &err) == 0,
               "%s", err.msg))
        goto done;
    for (int e = 0; e < 2; e++) hp_trainer_epoch(a, &resumed[e], &err);
    int64_t n = hp_trainer_checkpoint_size(a);
    float *vec = malloc(sizeof(float) * (size_t)n);
    hp_train_ckpt meta;
    hp_trainer_checkpoint_save(a, vec, &meta);
    CHECK(hp_trainer_checkpoint_load(b, vec, n, &meta, &err) == 0, "%s", err.msg);
    free(vec);
    for (int e = 2; e < 5; e++) hp_trainer_epoch(b, &resumed[e], &err);
    int same = 1, reduced = 0;
    for (int e = 0; e < 5; e++) {
        same &= straight[e].lr == resumed[e].lr && straight[e].val_loss == resumed[e].val_loss;
        reduced |= straight[e].lr < 0.5;
    }
    CHECK(reduced, "the plateau schedule reduced the learning rate at least once in 5 epochs");
    CHECK(same, "2 epochs + checkpoint + 3 epochs == 5 epochs (learning rates and losses)");
done:
    hp_trainer_free(a);
    hp_trainer_free(b);
}

int main(void) {
    if (hp_test_blobs(&train, NTRAIN, NC, C, H, W, 1) != 0 || hp_test_blobs(&val, NVAL, NC, C, H, W, 2) != 0) {
        fprintf(stderr, "out of memory\n");
        return 1;
    }
    schedule();
    augmentation();
    patience();
    update_ratio();
    plateau_checkpoint();
    hp_test_blobs_free(&train);
    hp_test_blobs_free(&val);
    return hp_check_summary("test_train_features");
}
