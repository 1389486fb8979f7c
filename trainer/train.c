/* train.c - see train.h. One trial: shuffled mini-batch SGD, validation, best snapshot. */
#include "train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hp_time.h"
#include "rng.h"
#include "train_impl.h"
#if HP_TRAINER_GPU
#include "cuda/gpu_api.h"
#endif

/* Labels in range and a shape the model accepts; `what` names the set in messages. */
static int check_dataset(const hp_dataset *d, const char *what, int dim, int nclasses, hp_err *err) {
    if (!d || d->n <= 0 || !d->x || !d->y)
        return hp_errf(err, "trainer: the %s set is empty; it needs at least one example", what);
    if (d->n > INT32_MAX)
        return hp_errf(err, "trainer: the %s set has %lld examples; at most %d are supported", what,
                       (long long)d->n, INT32_MAX);
    if (hp_dataset_dim(d) != dim || d->nclasses != nclasses)
        return hp_errf(err,
                       "trainer: the %s set has examples of %dx%dx%d with %d classes, but the "
                       "model was built for %d features and %d classes",
                       what, d->c, d->h, d->w, d->nclasses, dim, nclasses);
    for (int64_t i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= nclasses)
            return hp_errf(err, "trainer: the %s set's example %lld has label %d, outside [0, %d)", what,
                           (long long)i, (int)d->y[i], nclasses);
    return 0;
}

/* The epoch's order: identity, shuffled by a stream that depends only on (seed, epoch), so
 * epoch e's order is the same whether or not earlier epochs ran in this process (resume). */
static void epoch_order(hp_trainer *t, int epoch) {
    int64_t n = t->train->n;
    for (int64_t i = 0; i < n; i++) t->perm[i] = (int32_t)i;
    hp_rng r = hp_rng_make(hp_key3(t->seed, HP_STREAM_SHUFFLE, (uint64_t)epoch));
    hp_rng_shuffle(&r, t->perm, n);
}

/* Copy examples perm[start .. start+B) into the batch buffers. */
static void gather(hp_trainer *t, int64_t start, int B) {
    const hp_dataset *d = t->train;
    size_t row = (size_t)t->dim * sizeof(float);
    for (int b = 0; b < B; b++) {
        int64_t i = t->perm[start + b];
        memcpy(t->xb + (int64_t)b * t->dim, d->x + i * t->dim, row);
        t->yb[b] = d->y[i];
    }
}

/* ||p - p_before|| / ||p_before|| over all parameters and per weight tensor (ndim >= 2): how big
 * the epoch's last update was relative to the weights. */
static void update_ratios(hp_trainer *t, const float *p, hp_epoch_metrics *m) {
    // p [nparams] the parameters after the update; t->before [nparams] those before it
    const hp_tensor_info *ti = NULL;
    int nt = hp_model_layout(t->model, &ti);
    double du = 0, pw = 0;
    m->nratios = 0;
    for (int k = 0; k < nt; k++) {
        if (ti[k].is_buffer) continue;
        double d2 = 0, w2 = 0;
        for (int64_t i = ti[k].offset; i < ti[k].offset + ti[k].size; i++) {
            double d = (double)p[i] - (double)t->before[i];
            d2 += d * d;
            w2 += (double)t->before[i] * (double)t->before[i];
        }
        du += d2;
        pw += w2;
        if (ti[k].ndim >= 2 && m->nratios < HP_MAX_RATIOS)
            m->layer_ratio[m->nratios++] = w2 > 0 ? (float)sqrt(d2 / w2) : (float)NAN;
    }
    m->update_ratio = pw > 0 ? sqrt(du / pw) : NAN;
}

/* ---- the device: every computation of the loop goes through these ----------------------- *
 * On the CPU they call the model and optimizer directly; on a GPU, cuda/gpu_train.h, with
 * t->model and t->optim as host mirrors. A CPU-only build never has t->g. */

#if HP_TRAINER_GPU
#define ON_GPU(t) ((t)->g != NULL)
#else
#define ON_GPU(t) 0
#endif

/* GPU: the epoch's order, and its augmentation draws one per position of the order (the same
 * draws, in the same order, as hp_augment_batch takes batch after batch on the CPU). */
static int dev_begin_epoch(hp_trainer *t, hp_rng *aug, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t)) {
        if (t->draws)
            for (int64_t i = 0; i < t->train->n; i++)
                hp_augment_sample(&t->spec.augment, t->h, t->w, aug, &t->draws[i]);
        return t->api->train_set_epoch(t->g, t->perm, t->draws, err);
    }
#endif
    (void)t, (void)aug, (void)err;
    return 0;
}

/* Forward and backward on the epoch's batch perm[s .. s+B), augmented. */
static int dev_step(hp_trainer *t, int64_t s, int B, hp_rng *aug, double *loss, int64_t *hits, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t)) {
        uint64_t key, step;
        hp_model_rng_state(t->model, &key, &step);
        if (t->api->train_step(t->g, s, B, key, step, loss, hits, err) != 0) return -1;
        hp_model_set_rng_state(t->model, key, step + 1); // as hp_model_step counts its steps
        return 0;
    }
#endif
    gather(t, s, B);
    if (t->aug) hp_augment_batch(&t->spec.augment, t->xb, B, t->c, t->h, t->w, aug, t->aug);
    hp_model_step(t->model, t->xb, t->yb, B, loss, hits);
    (void)err;
    return 0;
}

/* The optimizer's update with the step's gradients. */
static int dev_update(hp_trainer *t, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t)) {
        int64_t step = hp_optim_steps(t->optim) + 1; // the mirror keeps the count (optim.h)
        if (t->api->train_update(t->g, t->lr, step, err) != 0) return -1;
        hp_optim_set_steps(t->optim, step);
        return 0;
    }
#endif
    hp_optim_step(t->optim, hp_model_state(t->model), hp_model_grad(t->model), t->lr);
    (void)err;
    return 0;
}

/* The first n floats of the live state vector, on the host: a pointer into the model on the
 * CPU, a download into buf [n] on a GPU. */
static const float *dev_state(hp_trainer *t, float *buf, int64_t n, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t)) return t->api->train_get_state(t->g, buf, n, NULL, err) == 0 ? buf : NULL;
#endif
    (void)buf, (void)n, (void)err;
    return hp_model_state(t->model);
}

/* Evaluation mode on d's examples [s, s+B). */
static int dev_eval(hp_trainer *t, const hp_dataset *d, int64_t s, int B, double *loss, int64_t *hits, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t))
        return d == t->val ? t->api->train_eval_val(t->g, s, B, loss, hits, err)
                           : t->api->train_eval_host(t->g, d->x + s * t->dim, d->y + s, B, loss, hits, err);
#endif
    hp_model_eval(t->model, d->x + s * t->dim, d->y + s, B, loss, hits);
    (void)err;
    return 0;
}

/* GPU: refresh the host mirrors (model state with its buffers, optimizer moments). */
static int pull_state(hp_trainer *t, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t))
        return t->api->train_get_state(t->g, hp_model_state(t->model), hp_model_state_size(t->model),
                                      hp_optim_state(t->optim), err);
#endif
    (void)t, (void)err;
    return 0;
}

/* GPU: copy the model mirror, and with_moments the optimizer's moments too, to the device. */
static int push_mirrors(hp_trainer *t, int with_moments, hp_err *err) {
#if HP_TRAINER_GPU
    if (ON_GPU(t))
        return t->api->train_put_state(t->g, hp_model_state(t->model), hp_model_state_size(t->model),
                                      with_moments ? hp_optim_state(t->optim) : NULL, err);
#endif
    (void)t, (void)with_moments, (void)err;
    return 0;
}

int hp_trainer_push_state_(hp_trainer *t, hp_err *err) { return push_mirrors(t, 1, err); }

/* Mean loss and accuracy of the model's current state on d, in batches. */
static int evaluate_current(hp_trainer *t, const hp_dataset *d, double *loss, double *acc, hp_err *err) {
    double sum = 0;
    int64_t hits = 0;
    int maxb = t->batch;
    for (int64_t s = 0; s < d->n; s += maxb) {
        if (t->cancel && *t->cancel) break; /* a signal: the caller discards this epoch (train.h) */
        int B = d->n - s < maxb ? (int)(d->n - s) : maxb;
        double l;
        int64_t c;
        if (dev_eval(t, d, s, B, &l, &c, err) != 0) return -1;
        sum += l;
        hits += c;
    }
    *loss = sum / (double)d->n;
    *acc = (double)hits / (double)d->n;
    return 0;
}

int hp_trainer_create(const hp_model_spec *model, const hp_optim_spec *optim, const hp_train_spec *train_spec,
                      const hp_dataset *train, const hp_dataset *val, uint64_t seed, hp_trainer **out,
                      hp_err *err) {
    return hp_trainer_create_on(NULL, model, optim, train_spec, train, val, seed, out, err);
}

/* The settings and the training set, checked before anything is allocated. */
static int check_create_args(const hp_gpu_device *gpu, const hp_optim_spec *optim, const hp_train_spec *train_spec,
                             const hp_dataset *train, hp_err *err) {
    if (train_spec->batch_size <= 0)
        return hp_errf(err, "trainer: batch_size %d is invalid; it must be > 0", train_spec->batch_size);
    if (train_spec->epochs <= 0)
        return hp_errf(err, "trainer: epochs %d is invalid; it must be > 0", train_spec->epochs);
    if (!(train_spec->diverge_factor >= 0) || !isfinite(train_spec->diverge_factor))
        return hp_errf(err, "trainer: diverge_factor %g is invalid; it must be >= 0 (0: the default, 4)",
                       train_spec->diverge_factor);
    if (!train || train->n <= 0 || !train->x)
        return hp_errf(err, "trainer: the training set is empty; it needs at least one example");
    if (hp_optim_spec_check(optim, err) != 0) return -1;
#if !HP_TRAINER_GPU
    if (gpu) return hp_errf(err, "trainer: this build has no CUDA backend; use the CPU (no device)");
#endif
    (void)gpu;
    return 0;
}

/* The model, the data sets checked against it, the optimizer and the schedule. */
static int build_model(hp_trainer *t, const hp_model_spec *model, const hp_optim_spec *optim, hp_err *err) {
    const hp_dataset *train = t->train;
    /* On a GPU the host model only mirrors the state (layout, initialisation, checkpoints): it
     * needs no activations for a whole batch. */
    if (hp_model_create(model, train->c, train->h, train->w, train->nclasses, t->gpu ? 1 : t->batch, &t->model,
                        err) != 0 ||
        check_dataset(train, "training", t->dim, train->nclasses, err) != 0 ||
        check_dataset(t->val, "validation", t->dim, train->nclasses, err) != 0 ||
        hp_optim_create(optim, hp_model_param_count(t->model), &t->optim, err) != 0)
        return -1;
    if (t->spec.augment.mixup > 0)
        return hp_errf(err, "trainer: train.augment.mixup %g is not supported by this trainer yet (the loss would "
                            "need soft targets); set it to 0",
                       t->spec.augment.mixup);
    return hp_sched_create(&t->spec.schedule, optim->lr, t->spec.epochs, &t->sched, err) != 0 ? -1 : 0;
}

/* The loop's buffers, allocated once for the whole trial (fresh memory is slow: docs/design.md). */
static int alloc_buffers(hp_trainer *t, hp_err *err) {
    int augmenting = hp_augment_active(&t->spec.augment);
    if (augmenting && !t->gpu &&
        !(t->aug = hp_calloc((size_t)t->dim, sizeof(float), "the augmentation scratch", err)))
        return -1;
    if (augmenting && t->gpu &&
        !(t->draws = hp_calloc((size_t)t->train->n, sizeof(hp_augment_draw), "the augmentation draws", err)))
        return -1;
    int64_t ns = hp_model_state_size(t->model);
    if (!(t->before = hp_calloc((size_t)hp_model_param_count(t->model), sizeof(float), "the update-ratio copy",
                                err)) ||
        !(t->perm = hp_calloc((size_t)t->train->n, sizeof(int32_t), "the epoch order", err)) ||
        !(t->xb = hp_calloc((size_t)t->batch * (size_t)t->dim, sizeof(float), "the batch", err)) ||
        !(t->yb = hp_calloc((size_t)t->batch, sizeof(int32_t), "the batch labels", err)) ||
        !(t->best = hp_calloc((size_t)ns, sizeof(float), "the best snapshot", err)) ||
        !(t->scratch = hp_calloc((size_t)ns, sizeof(float), "the evaluation scratch state", err)))
        return -1;
    return 0;
}

/* The initial state (the best snapshot until an epoch beats it), and on a GPU the device's
 * trainer holding a copy of it. */
static int init_state(hp_trainer *t, const hp_model_spec *model, const hp_optim_spec *optim, hp_err *err) {
    hp_model_init(t->model, hp_key2(t->seed, HP_STREAM_INIT));
    memcpy(t->best, hp_model_state(t->model), (size_t)hp_model_state_size(t->model) * sizeof(float));
    t->best_loss = NAN;
#if HP_TRAINER_GPU
    if (t->gpu && !(t->api = hp_gpu_device_api(t->gpu)))
        return hp_errf(err, "trainer: the GPU device has no backend loaded (open it with hp_gpu_open)");
    if (t->gpu && (t->api->train_create(hp_gpu_device_ctx(t->gpu), model, optim, &t->spec.augment, t->train, t->val,
                                        t->batch, &t->g, err) != 0 ||
                   hp_trainer_push_state_(t, err) != 0))
        return -1;
#endif
    (void)model, (void)optim, (void)err;
    return 0;
}

/* Initial loss: the fresh model on epoch 1's first batch (about ln(nclasses) when the
 * initialisation is sound). It is the reference for divergence. */
static int measure_initial_loss(hp_trainer *t, hp_err *err) {
    epoch_order(t, 1);
    gather(t, 0, t->batch);
    double l;
    int64_t c;
    hp_dataset first = {.x = t->xb, .y = t->yb, .n = t->batch}; // a host batch: never the resident val set
    if (dev_eval(t, &first, 0, t->batch, &l, &c, err) != 0) return -1;
    t->initial_loss = l / t->batch;
    return 0;
}

int hp_trainer_create_on(hp_gpu_device *gpu, const hp_model_spec *model, const hp_optim_spec *optim,
                         const hp_train_spec *train_spec, const hp_dataset *train, const hp_dataset *val,
                         uint64_t seed, hp_trainer **out, hp_err *err) {
    *out = NULL;
    if (check_create_args(gpu, optim, train_spec, train, err) != 0) return -1;
    hp_trainer *t = hp_calloc(1, sizeof *t, "the trainer", err);
    if (!t) return -1;
    t->spec = *train_spec;
    if (t->spec.diverge_factor == 0) t->spec.diverge_factor = 4;
    t->lr = optim->lr;
    t->train = train;
    t->val = val;
    t->seed = seed;
    t->gpu = gpu;
    t->batch = train->n < train_spec->batch_size ? (int)train->n : train_spec->batch_size;
    t->dim = (int)hp_dataset_dim(train);
    if (build_model(t, model, optim, err) != 0) goto fail;
    t->c = train->c;
    t->h = train->h;
    t->w = train->w;
    if (alloc_buffers(t, err) != 0 || init_state(t, model, optim, err) != 0 || measure_initial_loss(t, err) != 0)
        goto fail;
    *out = t;
    return 0;
fail:
    hp_trainer_free(t);
    return -1;
}

void hp_trainer_free(hp_trainer *t) {
    if (!t) return;
#if HP_TRAINER_GPU
    if (t->g) t->api->train_free(t->g);
#endif
    hp_model_free(t->model);
    hp_optim_free(t->optim);
    hp_sched_free(t->sched);
    free(t->aug);
    free(t->draws);
    free(t->before);
    free(t->perm);
    free(t->xb);
    free(t->yb);
    free(t->best);
    free(t->scratch);
    free(t);
}

double hp_trainer_initial_loss(const hp_trainer *t) { return t->initial_loss; }
int hp_trainer_epochs_done(const hp_trainer *t) { return t->epochs_done; }
hp_model *hp_trainer_model(hp_trainer *t) { return t->model; }
hp_optim *hp_trainer_optim(hp_trainer *t) { return t->optim; }
hp_gpu_device *hp_trainer_gpu(const hp_trainer *t) { return t->gpu; }
int64_t hp_trainer_device_bytes(const hp_trainer *t) {
#if HP_TRAINER_GPU
    if (ON_GPU(t)) return (int64_t)t->api->train_bytes(t->g);
#endif
    (void)t;
    return 0;
}

const float *hp_trainer_best_state(const hp_trainer *t, int *epoch, double *val_acc, double *val_loss) {
    if (epoch) *epoch = t->best_epoch;
    if (val_acc) *val_acc = t->best_acc;
    if (val_loss) *val_loss = t->best_loss;
    return t->best;
}

int hp_trainer_epoch(hp_trainer *t, hp_epoch_metrics *m, hp_err *err) {
    double t0 = hp_now_seconds();
    int epoch = t->epochs_done + 1;
    memset(m, 0, sizeof *m);
    m->epoch = epoch;
    t->lr = hp_sched_lr(t->sched, epoch - 1); /* schedules count epochs from 0 */
    m->lr = t->lr;

    epoch_order(t, epoch);
    /* Augmentation draws from a stream keyed by (seed, epoch), like the shuffle: no state. */
    hp_rng aug = hp_rng_make(hp_key3(t->seed, HP_STREAM_AUGMENT, (uint64_t)epoch));
    if (dev_begin_epoch(t, &aug, err) != 0) return -1;
    int64_t np = hp_model_param_count(t->model);
    double limit = t->spec.diverge_factor * t->initial_loss;
    double loss_sum = 0;
    int64_t hits = 0, seen = 0, n = t->train->n;
    for (int64_t s = 0; s < n; s += t->batch) {
        if (t->cancel && *t->cancel) { // a signal asked to stop: the epoch is abandoned (train.h)
            m->cancelled = 1;
            return 0;
        }
        int B = n - s < t->batch ? (int)(n - s) : t->batch; // the last partial batch is kept
        double l;
        int64_t c;
        if (dev_step(t, s, B, &aug, &l, &c, err) != 0) return -1;
        loss_sum += l;
        hits += c;
        seen += B;
        double mean = l / B;
        // Divergence: a non-finite loss, or one far above where training started. Stop at
        // once, before the update, so the state keeps its last finite values.
        if (!isfinite(mean) || mean > limit) {
            m->diverged = 1;
            break;
        }
        int last = s + t->batch >= n;
        if (last) {
            const float *p = dev_state(t, t->before, np, err);
            if (!p) return -1;
            if (p != t->before) memcpy(t->before, p, (size_t)np * sizeof(float));
        }
        if (dev_update(t, err) != 0) return -1;
        if (last) {
            const float *p = dev_state(t, t->scratch, np, err);
            if (!p) return -1;
            update_ratios(t, p, m);
        }
    }
    m->train_loss = loss_sum / (double)seen;
    m->train_acc = (double)hits / (double)seen;
    if (m->diverged) {
        // A diverged trial is stopped by the caller; validating its broken state is wasted time.
        m->val_loss = NAN;
        m->val_acc = 0;
        if (pull_state(t, err) != 0) return -1;
    } else {
        if (evaluate_current(t, t->val, &m->val_loss, &m->val_acc, err) != 0) return -1;
        if (t->cancel && *t->cancel) { /* stopped during validation: the epoch is abandoned */
            m->cancelled = 1;
            return 0;
        }
        if (pull_state(t, err) != 0) return -1; // the host mirrors, for the snapshot and checkpoints
        if (t->best_epoch == 0 || m->val_acc > t->best_acc) {
            memcpy(t->best, hp_model_state(t->model), (size_t)hp_model_state_size(t->model) * sizeof(float));
            t->best_epoch = epoch;
            t->best_acc = m->val_acc;
            t->best_loss = m->val_loss;
        }
        hp_sched_observe(t->sched, epoch - 1, m->val_loss);
        /* Early stopping: `patience` epochs in a row without a better validation accuracy. */
        if (t->spec.patience > 0 && epoch - t->best_epoch >= t->spec.patience) m->stop_early = 1;
    }
    t->epochs_done = epoch;
    m->seconds = hp_now_seconds() - t0;
    return 0;
}

int hp_trainer_evaluate(hp_trainer *t, const hp_dataset *d, const float *state, double *loss, double *acc,
                        hp_err *err) {
    if (check_dataset(d, "evaluation", t->dim, hp_model_nclasses(t->model), err) != 0) return -1;
    float *live = hp_model_state(t->model);
    int64_t ns = hp_model_state_size(t->model);
    size_t bytes = (size_t)ns * sizeof(float);
    int rc = 0;
    if (!state || state == live) {
        rc = evaluate_current(t, d, loss, acc, err);
    } else {
        // Swap the given state in, evaluate, swap the live state back. (On a GPU the mirror is
        // current between epochs, which is when this is called.)
        memcpy(t->scratch, live, bytes);
        memcpy(live, state, bytes);
        rc = push_mirrors(t, 0, err); // the model state only: the optimizer is not involved
        if (rc == 0) rc = evaluate_current(t, d, loss, acc, err);
        memcpy(live, t->scratch, bytes);
        if (push_mirrors(t, 0, rc == 0 ? err : &(hp_err){{0}}) != 0) rc = -1;
    }
    if (rc != 0) return -1;
    if (t->cancel && *t->cancel) return hp_errf(err, "trainer: evaluation interrupted by a signal");
    return 0;
}
