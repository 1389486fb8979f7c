/* trial.c - see trial.h */
#include "trial.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "results.h"

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The synthetic trainer (train.synthetic_ms > 0): each epoch sleeps that long and reports an
 * accuracy that is a smooth function of log10(lr) and log10(wd), peaking at lr 1e-2, wd 1e-4.
 * It exercises dispatch, recording and narrowing without training anything (benchmarks and
 * orchestration tests); lr > 1 "diverges". */
static int synthetic_trial(const hp_spec *spec, const hp_trial_plan *plan, const hp_trial_hooks *hooks,
                           hp_trial_result *res, double t0, hp_err *err) {
    double a = log10(plan->values[HP_PARAM_LR]) + 2.0, b = log10(plan->values[HP_PARAM_WD] + 1e-12) + 4.0;
    res->initial_loss = log((double)spec->data.nclasses);
    for (int e = 1; e <= plan->epochs; e++) {
        struct timespec ts = {spec->train.synthetic_ms / 1000, (long)(spec->train.synthetic_ms % 1000) * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
        hp_epoch_metrics m = {0};
        m.epoch = e;
        m.lr = plan->values[HP_PARAM_LR];
        m.val_acc = (0.9 - 0.02 * (a * a + 0.25 * b * b)) * (1.0 - 0.5 / (e + 1));
        m.val_loss = 1.0 - m.val_acc;
        m.train_acc = m.val_acc;
        m.train_loss = m.val_loss;
        m.seconds = spec->train.synthetic_ms / 1000.0;
        m.diverged = plan->values[HP_PARAM_LR] > 1.0;
        int v = hooks->on_epoch(hooks->ctx, plan, &m, err);
        if (v < 0) return -1;
        res->epochs_done = e;
        if (m.diverged) {
            res->status = HP_TRIAL_DIVERGED;
            snprintf(res->message, sizeof res->message, "synthetic divergence (lr > 1)");
            break;
        }
        if (!(m.val_acc <= res->best_val_acc)) {
            res->best_val_acc = m.val_acc;
            res->best_val_loss = m.val_loss;
            res->best_epoch = e;
        }
        if (v == HP_VERDICT_STOP) {
            res->status = HP_TRIAL_PRUNED;
            break;
        }
    }
    res->seconds = now_seconds() - t0;
    /* No model, so no snapshot: the coordinator skips the test evaluation of synthetic sweeps. */
    return hooks->on_result(hooks->ctx, plan, res, NULL, 0, err);
}

int hp_trial_execute(const hp_spec *spec, const hp_splits *data, const hp_trial_plan *plan,
                     const hp_trial_hooks *hooks, hp_err *err) {
    double t0 = now_seconds();
    hp_trial_result res;
    memset(&res, 0, sizeof res);
    res.trial = plan->id;
    res.status = HP_TRIAL_DONE;
    res.best_val_acc = NAN;
    res.best_val_loss = NAN;
    if (spec->train.synthetic_ms > 0) return synthetic_trial(spec, plan, hooks, &res, t0, err);

    hp_optim_spec optim = spec->optim;
    optim.lr = plan->values[HP_PARAM_LR];
    optim.weight_decay = plan->values[HP_PARAM_WD];
    hp_train_spec train = spec->train;
    train.epochs = plan->epochs;

    hp_trainer *t = NULL;
    hp_err terr = {{0}};
    if (hp_trainer_create(&spec->model, &optim, &train, &data->train, &data->val, plan->seed, &t, &terr) != 0) {
        res.status = HP_TRIAL_FAILED;
        snprintf(res.message, sizeof res.message, "%.127s", terr.msg); /* cut to the field */
        res.seconds = now_seconds() - t0;
        return hooks->on_result(hooks->ctx, plan, &res, NULL, 0, err);
    }
    res.initial_loss = hp_trainer_initial_loss(t);
    for (int e = 0; e < plan->epochs; e++) {
        hp_epoch_metrics m;
        if (hp_trainer_epoch(t, &m, &terr) != 0) {
            res.status = HP_TRIAL_FAILED;
            snprintf(res.message, sizeof res.message, "epoch %d: %.100s", e + 1, terr.msg);
            break;
        }
        res.epochs_done = m.epoch;
        int v = hooks->on_epoch(hooks->ctx, plan, &m, err);
        if (v < 0) {
            hp_trainer_free(t);
            return -1;
        }
        if (m.diverged) {
            res.status = HP_TRIAL_DIVERGED;
            snprintf(res.message, sizeof res.message, "train loss %.4g against %.4g at the start", m.train_loss,
                     res.initial_loss);
            break;
        }
        if (v == HP_VERDICT_STOP) {
            res.status = HP_TRIAL_PRUNED;
            snprintf(res.message, sizeof res.message, "stopped by the coordinator after epoch %d", m.epoch);
            break;
        }
    }
    int best_epoch = 0;
    double acc = NAN, loss = NAN;
    const float *best = hp_trainer_best_state(t, &best_epoch, &acc, &loss);
    res.best_epoch = best_epoch;
    if (best_epoch > 0) {
        res.best_val_acc = acc;
        res.best_val_loss = loss;
    }
    res.seconds = now_seconds() - t0;
    hp_model *model = hp_trainer_model(t);
    int rc = hooks->on_result(hooks->ctx, plan, &res, best_epoch > 0 ? best : NULL,
                              hp_model_state_size(model), err);
    hp_trainer_free(t);
    return rc;
}
