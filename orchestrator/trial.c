/* trial.c - see trial.h */
#include "trial.h"

#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "hp_time.h"
#include "results.h"

/* Sleep `ms` milliseconds in slices of at most 10 ms; returns 1 early if *cancel got set. */
static int sleep_ms(int ms, const volatile sig_atomic_t *cancel) {
    for (int left = ms; left > 0;) {
        if (cancel && *cancel) return 1;
        int step = left < 10 ? left : 10;
        struct timespec ts = {0, (long)step * 1000000L};
        while (nanosleep(&ts, &ts) != 0) {
        }
        left -= step;
    }
    return cancel && *cancel;
}

static int checkpoint_due(const hp_trial_start *st, const hp_trial_plan *plan, const hp_trial_hooks *hooks,
                          int epoch) {
    return hooks->on_checkpoint && st->checkpoint_every > 0 && epoch % st->checkpoint_every == 0 &&
           epoch < plan->epochs;
}

/* Whether the trial's final state is kept for a promote stage after its own (docs/search.md,
 * "Promotion"): a checkpoint after its last epoch too, when it finished every planned epoch. */
static int final_checkpoint_due(const hp_spec *spec, const hp_trial_plan *plan, const hp_trial_start *st,
                                const hp_trial_hooks *hooks, int status, int epochs_done) {
    int next = plan->stage + 1;
    return hooks->on_checkpoint && st->checkpoint_every > 0 && spec->has_search && next < spec->search.nstages &&
           next < HP_MAX_STAGES && spec->search.stages[next].method == HP_METHOD_PROMOTE &&
           status == HP_TRIAL_DONE && epochs_done == plan->epochs;
}

int hp_trial_send_bare_checkpoint(const hp_trial_plan *plan, const hp_trial_hooks *hooks, const hp_trial_result *res,
                                  int epoch, double lr, double seconds, hp_err *err) {
    hp_train_ckpt ck;
    memset(&ck, 0, sizeof ck);
    ck.version = HP_TRAIN_CKPT_VERSION;
    ck.epochs_done = epoch;
    ck.best_epoch = res->best_epoch;
    ck.best_val_acc = res->best_val_acc;
    ck.best_val_loss = res->best_val_loss;
    ck.initial_loss = res->initial_loss;
    ck.lr = lr;
    return hooks->on_checkpoint(hooks->ctx, plan, &ck, NULL, 0, seconds, err);
}

/* The synthetic trainer (train.synthetic_ms > 0): each epoch sleeps that long and reports an
 * accuracy that is a smooth function of log10(lr) and log10(wd), peaking at lr 1e-2, wd 1e-4.
 * It exercises dispatch, recording and narrowing without training anything (benchmarks and
 * orchestration tests); lr > 1 "diverges". Its checkpoints carry no vector. */
static int synthetic_trial(const hp_spec *spec, const hp_trial_plan *plan, const hp_trial_start *st,
                           const hp_trial_hooks *hooks, hp_trial_result *res, double t0, int *cancelled,
                           hp_err *err) {
    double a = log10(plan->values[HP_PARAM_LR]) + 2.0, b = log10(plan->values[HP_PARAM_WD] + 1e-12) + 4.0;
    /* Each other searched parameter costs a little away from 30% of its initial range (the first
     * choice of a list scores best), so that narrowing has something to find. */
    double extra = 0;
    for (int p = HP_NFIXED_PARAMS; p < spec->search.nparams; p++) {
        const hp_param_range *r = &spec->search.params[p];
        double x = r->high > r->low ? (plan->values[p] - r->low) / (r->high - r->low) : 0;
        extra += r->scale == HP_SCALE_CHOICE ? 0.01 * x : 0.02 * (x - 0.3) * (x - 0.3);
    }
    res->initial_loss = log((double)spec->data.nclasses);
    int first = 1;
    if (st->resume && st->resume->epochs_done >= 0 && st->resume->epochs_done <= plan->epochs) {
        first = st->resume->epochs_done + 1;
        res->epochs_done = st->resume->epochs_done;
        res->best_epoch = st->resume->best_epoch;
        if (res->best_epoch > 0) {
            res->best_val_acc = st->resume->best_val_acc;
            res->best_val_loss = st->resume->best_val_loss;
        }
    }
    for (int e = first; e <= plan->epochs; e++) {
        if (sleep_ms(spec->train.synthetic_ms, st->cancel)) return *cancelled = 1, 0;
        hp_epoch_metrics m = {0};
        m.epoch = e;
        m.lr = plan->values[HP_PARAM_LR];
        m.val_acc = (0.9 - 0.02 * (a * a + 0.25 * b * b) - extra) * (1.0 - 0.5 / (e + 1));
        m.val_loss = 1.0 - m.val_acc;
        m.train_acc = m.val_acc;
        m.train_loss = m.val_loss;
        m.seconds = spec->train.synthetic_ms / 1000.0;
        m.diverged = plan->values[HP_PARAM_LR] > 1.0;
        int v = hooks->on_epoch(hooks->ctx, plan, &m, err);
        if (v < 0) return -1;
        if (v == HP_VERDICT_ABORT) return *cancelled = 1, 0;
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
        if (checkpoint_due(st, plan, hooks, e) &&
            hp_trial_send_bare_checkpoint(plan, hooks, res, e, m.lr, st->seconds_before + hp_now_seconds() - t0,
                                          err) != 0)
            return -1;
    }
    if (final_checkpoint_due(spec, plan, st, hooks, res->status, res->epochs_done) &&
        hp_trial_send_bare_checkpoint(plan, hooks, res, res->epochs_done, plan->values[HP_PARAM_LR],
                                      st->seconds_before + hp_now_seconds() - t0, err) != 0)
        return -1;
    res->seconds = st->seconds_before + hp_now_seconds() - t0;
    /* No model, so no snapshot: the coordinator skips the test evaluation of synthetic sweeps. */
    return hooks->on_result(hooks->ctx, plan, res, NULL, 0, err);
}

/* Hand the trainer's checkpoint to the hook; *vec is allocated on first use (once a trial). */
static int send_checkpoint(hp_trainer *t, const hp_trial_plan *plan, const hp_trial_start *st,
                           const hp_trial_hooks *hooks, float **vec, double t0, hp_err *err) {
    int64_t n = hp_trainer_checkpoint_size(t);
    if (!*vec && !(*vec = hp_calloc((size_t)n, sizeof(float), "the checkpoint", err))) return -1;
    hp_train_ckpt ck;
    hp_trainer_checkpoint_save(t, *vec, &ck);
    return hooks->on_checkpoint(hooks->ctx, plan, &ck, *vec, n, st->seconds_before + hp_now_seconds() - t0, err);
}

/* A trial's result before it runs: done, no best epoch yet. */
static hp_trial_result new_result(const hp_trial_plan *plan) {
    hp_trial_result res;
    memset(&res, 0, sizeof res);
    res.trial = plan->id;
    res.status = HP_TRIAL_DONE;
    res.best_val_acc = NAN;
    res.best_val_loss = NAN;
    return res;
}

/* One trial on a trainer: what the steps below share. */
typedef struct trial_run {
    const hp_spec *spec;
    const hp_trial_plan *plan;
    const hp_trial_hooks *hooks;
    hp_trial_start eff; /* the start; its seconds_before count only once its checkpoint loaded */
    double t0;          /* when the trial began in this process */
    hp_trainer *t;
    hp_trial_result res;
    float *vec;         /* the checkpoint vector sent, allocated on first use */
    hp_err terr;        /* the trainer's errors: they become res.message */
} trial_run;

/* The trainer could not be built: the trial failed, and says why. */
static int report_unbuilt(trial_run *r, hp_err *err) {
    r->res.status = HP_TRIAL_FAILED;
    snprintf(r->res.message, sizeof r->res.message, "%.127s", r->terr.msg); /* cut to the field */
    r->res.seconds = r->eff.seconds_before + hp_now_seconds() - r->t0;
    return r->hooks->on_result(r->hooks->ctx, r->plan, &r->res, NULL, 0, err);
}

/* Whether epoch m, with the coordinator's verdict v, ends the trial: 1 with res's status and
 * message set, 0 when it goes on. */
static int epoch_ends_trial(const hp_spec *spec, const hp_epoch_metrics *m, int v, hp_trial_result *res) {
    if (m->diverged) {
        res->status = HP_TRIAL_DIVERGED;
        snprintf(res->message, sizeof res->message, "train loss %.4g against %.4g at the start", m->train_loss,
                 res->initial_loss);
        return 1;
    }
    if (v == HP_VERDICT_STOP) {
        res->status = HP_TRIAL_PRUNED;
        snprintf(res->message, sizeof res->message, "stopped by the coordinator after epoch %d", m->epoch);
        return 1;
    }
    if (m->stop_early) { /* patience ran out: the trial is done, its best snapshot kept */
        snprintf(res->message, sizeof res->message, "stopped early after epoch %d (patience %d)", m->epoch,
                 spec->train.patience);
        return 1;
    }
    return 0;
}

/* The epochs left, each followed by the coordinator's verdict and a checkpoint when one is due:
 * 0 when the trial ended (res says how), 1 when it was cancelled (*cancelled), -1 when a hook
 * failed (err). */
static int train_epochs(trial_run *r, int *cancelled, hp_err *err) {
    for (int e = hp_trainer_epochs_done(r->t); e < r->plan->epochs; e++) {
        hp_epoch_metrics m;
        if (hp_trainer_epoch(r->t, &m, &r->terr) != 0) {
            r->res.status = HP_TRIAL_FAILED;
            snprintf(r->res.message, sizeof r->res.message, "epoch %d: %.100s", e + 1, r->terr.msg);
            return 0;
        }
        if (m.cancelled) return *cancelled = 1, 1;
        r->res.epochs_done = m.epoch;
        int v = r->hooks->on_epoch(r->hooks->ctx, r->plan, &m, err);
        if (v < 0) return -1;
        if (v == HP_VERDICT_ABORT) return *cancelled = 1, 1;
        if (epoch_ends_trial(r->spec, &m, v, &r->res)) return 0;
        if (checkpoint_due(&r->eff, r->plan, r->hooks, m.epoch) &&
            send_checkpoint(r->t, r->plan, &r->eff, r->hooks, &r->vec, r->t0, err) != 0)
            return -1;
    }
    return 0;
}

/* The trial ended: its outcome and best snapshot (if it had a best epoch) to the hook. */
static int report_result(trial_run *r, hp_err *err) {
    r->res.epochs_done = hp_trainer_epochs_done(r->t);
    int best_epoch = 0;
    double acc = NAN, loss = NAN;
    const float *best = hp_trainer_best_state(r->t, &best_epoch, &acc, &loss);
    r->res.best_epoch = best_epoch;
    if (best_epoch > 0) {
        r->res.best_val_acc = acc;
        r->res.best_val_loss = loss;
    }
    r->res.seconds = r->eff.seconds_before + hp_now_seconds() - r->t0;
    hp_model *model = hp_trainer_model(r->t);
    return r->hooks->on_result(r->hooks->ctx, r->plan, &r->res, best_epoch > 0 ? best : NULL,
                               hp_model_state_size(model), err);
}

static int run_trainer(const hp_spec *spec, const hp_splits *data, const hp_trial_plan *plan,
                       const hp_trial_start *st, const hp_trial_hooks *hooks, double t0, hp_trial_result res,
                       int *cancelled, hp_err *err);

int hp_trial_execute(const hp_spec *spec, const hp_splits *data, const hp_trial_plan *plan,
                     const hp_trial_start *start, const hp_trial_hooks *hooks, int *cancelled, hp_err *err) {
    static const hp_trial_start fresh = {0};
    const hp_trial_start *st = start ? start : &fresh;
    double t0 = hp_now_seconds();
    *cancelled = 0;
    hp_trial_result res = new_result(plan);
    if (spec->train.synthetic_ms > 0) return synthetic_trial(spec, plan, st, hooks, &res, t0, cancelled, err);
    if (spec->ext.enabled) return hp_trial_external(spec, plan, st, hooks, &res, cancelled, err);

    /* The trial's own spec: every searched parameter at its value (search.params). */
    hp_spec tspec;
    trial_run r = {spec, plan, hooks, *st, t0, NULL, res, NULL, {{0}}};
    if (hp_spec_for_trial(spec, plan->values, &tspec, &r.terr) != 0) return report_unbuilt(&r, err);
    int rc = run_trainer(&tspec, data, plan, st, hooks, t0, res, cancelled, err);
    hp_spec_free(&tspec);
    return rc;
}

/* hp_trial_execute with the trial's spec (its values set). */
static int run_trainer(const hp_spec *spec, const hp_splits *data, const hp_trial_plan *plan,
                       const hp_trial_start *st, const hp_trial_hooks *hooks, double t0, hp_trial_result res,
                       int *cancelled, hp_err *err) {
    hp_optim_spec optim = spec->optim;
    hp_train_spec train = spec->train;
    train.epochs = plan->epochs;
    /* A stage may train on the first N examples of the training split only (cheap coarse stages);
     * the view borrows the split's memory and lives as long as the trainer below. */
    hp_dataset subset = data->train;
    int64_t n = spec->has_search ? spec->search.stages[plan->stage].train_subset : 0;
    if (n > 0 && n < subset.n) subset.n = n;

    trial_run r = {spec, plan, hooks, *st, t0, NULL, res, NULL, {{0}}};
    if (hp_trainer_create_on(st->gpu, &spec->model, &optim, &train, &subset, &data->val, plan->seed, &r.t, &r.terr) !=
        0)
        return report_unbuilt(&r, err);
    /* A checkpoint that does not load leaves the trainer untouched: start from the beginning. */
    r.eff.seconds_before = 0;
    if (st->resume && hp_trainer_checkpoint_load(r.t, st->resume_vec, st->resume_n, st->resume, &r.terr) == 0)
        r.eff.seconds_before = st->seconds_before;
    hp_trainer_set_cancel(r.t, st->cancel);
    r.res.initial_loss = hp_trainer_initial_loss(r.t);
    int rc = train_epochs(&r, cancelled, err);
    if (rc == 0 && final_checkpoint_due(spec, plan, &r.eff, hooks, r.res.status, hp_trainer_epochs_done(r.t)))
        rc = send_checkpoint(r.t, plan, &r.eff, hooks, &r.vec, t0, err); /* for the promote stage after this one */
    if (rc == 0) rc = report_result(&r, err);
    else if (rc > 0) rc = 0; /* cancelled: nothing to report */
    free(r.vec);
    hp_trainer_free(r.t);
    return rc;
}

int hp_trial_device_bytes(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, int64_t *bytes,
                          hp_err *err) {
    *bytes = 0;
    if (!gpu || spec->train.synthetic_ms > 0 || spec->ext.enabled) return 0;
    hp_trainer *t = NULL;
    if (hp_trainer_create_on(gpu, &spec->model, &spec->optim, &spec->train, &data->train, &data->val, 1, &t, err) != 0)
        return -1;
    *bytes = hp_trainer_device_bytes(t);
    hp_trainer_free(t);
    return 0;
}
