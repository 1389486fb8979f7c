/* gpu_train.c - see gpu_train.h: one trial's model, optimizer moments and data on the GPU. */
#include "cuda/gpu_train.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cuda/gpu_model.h"

struct hp_gpu_train {
    hp_gpu_ctx *ctx; /* borrowed */
    hp_gpu_model *model;
    hp_optim_spec optim;
    int nmom;                 /* moment blocks of the optimizer (optim.h) */
    int64_t nparams, nstate;
    float *moments;           // [nmom * nparams] device, optim.h's blocks in order
    float *xtrain, *xval;     // [ntrain, dim], [nval, dim] device
    int32_t *ytrain, *yval;   // [ntrain], [nval] device
    int64_t ntrain, nval;
    int32_t *perm;            // [ntrain] device: the epoch's order
    hp_augment_draw *draws;   // [ntrain] device: the epoch's augmentation (NULL: none)
    int augment, cutout;
    float *xb;                // [max_batch, dim] device: the gathered batch
    int32_t *yb;              // [max_batch] device
    int c, h, w, dim, max_batch;
    size_t bytes;             /* device memory allocated by create */
};

static int upload_set(hp_gpu_train *g, const hp_dataset *d, const char *what, float **x, int32_t **y, hp_err *err) {
    size_t nx = (size_t)d->n * (size_t)g->dim * sizeof(float), ny = (size_t)d->n * sizeof(int32_t);
    if (hp_gpu_alloc((void **)x, nx, what, err) != 0 || hp_gpu_alloc((void **)y, ny, what, err) != 0 ||
        hp_gpu_upload(g->ctx, *x, d->x, nx, err) != 0 || hp_gpu_upload(g->ctx, *y, d->y, ny, err) != 0)
        return -1;
    return 0;
}

int hp_gpu_train_create(hp_gpu_ctx *ctx, const hp_model_spec *model, const hp_optim_spec *optim,
                        const hp_augment_spec *augment, const hp_dataset *train, const hp_dataset *val, int max_batch,
                        hp_gpu_train **out, hp_err *err) {
    *out = NULL;
    const size_t before = hp_gpu_thread_allocated();
    hp_gpu_train *g = hp_calloc(1, sizeof *g, "the GPU trainer", err);
    if (!g) return -1;
    g->ctx = ctx;
    g->optim = *optim;
    g->nmom = hp_optim_moment_count(optim);
    g->c = train->c;
    g->h = train->h;
    g->w = train->w;
    g->dim = (int)hp_dataset_dim(train);
    g->max_batch = max_batch;
    g->ntrain = train->n;
    g->nval = val->n;
    g->augment = augment && (augment->flip || augment->shift > 0 || augment->cutout > 0);
    g->cutout = augment ? augment->cutout : 0;
    if (hp_gpu_model_create(ctx, model, train->c, train->h, train->w, train->nclasses, max_batch, &g->model, err) != 0)
        goto fail;
    const hp_plan *p = hp_gpu_model_plan(g->model);
    g->nparams = p->nparams;
    g->nstate = p->nstate;
    size_t mom = (size_t)g->nmom * (size_t)g->nparams * sizeof(float);
    if (hp_gpu_alloc((void **)&g->moments, mom, "the optimizer state", err) != 0 ||
        hp_gpu_zero(ctx, g->moments, mom, err) != 0 ||
        upload_set(g, train, "the training set", &g->xtrain, &g->ytrain, err) != 0 ||
        upload_set(g, val, "the validation set", &g->xval, &g->yval, err) != 0 ||
        hp_gpu_alloc((void **)&g->perm, (size_t)g->ntrain * sizeof(int32_t), "the epoch order", err) != 0 ||
        (g->augment && hp_gpu_alloc((void **)&g->draws, (size_t)g->ntrain * sizeof(hp_augment_draw),
                                    "the augmentation draws", err) != 0) ||
        hp_gpu_alloc((void **)&g->xb, (size_t)max_batch * (size_t)g->dim * sizeof(float), "the batch", err) != 0 ||
        hp_gpu_alloc((void **)&g->yb, (size_t)max_batch * sizeof(int32_t), "the batch labels", err) != 0 ||
        hp_gpu_sync(ctx, err) != 0)
        goto fail;
    g->bytes = hp_gpu_thread_allocated() - before;
    *out = g;
    return 0;
fail:
    hp_gpu_train_free(g);
    return -1;
}

void hp_gpu_train_free(hp_gpu_train *g) {
    if (!g) return;
    hp_gpu_model_free(g->model);
    hp_gpu_free(g->moments);
    hp_gpu_free(g->xtrain);
    hp_gpu_free(g->ytrain);
    hp_gpu_free(g->xval);
    hp_gpu_free(g->yval);
    hp_gpu_free(g->perm);
    hp_gpu_free(g->draws);
    hp_gpu_free(g->xb);
    hp_gpu_free(g->yb);
    free(g);
}

size_t hp_gpu_train_bytes(const hp_gpu_train *g) { return g->bytes; }

static int check_count(const hp_gpu_train *g, int64_t n, hp_err *err) {
    if (n < 0 || n > g->nstate)
        return hp_errf(err, "GPU trainer: %lld state floats asked for; the model has %lld", (long long)n,
                       (long long)g->nstate);
    return 0;
}

int hp_gpu_train_put_state(hp_gpu_train *g, const float *state, int64_t n, const float *moments, hp_err *err) {
    if (check_count(g, n, err) != 0 ||
        hp_gpu_upload(g->ctx, hp_gpu_model_state(g->model), state, (size_t)n * sizeof(float), err) != 0)
        return -1;
    if (moments && g->nmom > 0 &&
        hp_gpu_upload(g->ctx, g->moments, moments, (size_t)g->nmom * (size_t)g->nparams * sizeof(float), err) != 0)
        return -1;
    return 0;
}

int hp_gpu_train_get_state(hp_gpu_train *g, float *state, int64_t n, float *moments, hp_err *err) {
    if (check_count(g, n, err) != 0 ||
        hp_gpu_download(g->ctx, state, hp_gpu_model_state(g->model), (size_t)n * sizeof(float), err) != 0)
        return -1;
    if (moments && g->nmom > 0 &&
        hp_gpu_download(g->ctx, moments, g->moments, (size_t)g->nmom * (size_t)g->nparams * sizeof(float), err) != 0)
        return -1;
    return 0;
}

int hp_gpu_train_set_epoch(hp_gpu_train *g, const int32_t *perm, const hp_augment_draw *draws, hp_err *err) {
    if (hp_gpu_upload(g->ctx, g->perm, perm, (size_t)g->ntrain * sizeof(int32_t), err) != 0) return -1;
    if (g->augment && draws &&
        hp_gpu_upload(g->ctx, g->draws, draws, (size_t)g->ntrain * sizeof(hp_augment_draw), err) != 0)
        return -1;
    return 0;
}

int hp_gpu_train_step(hp_gpu_train *g, int64_t start, int B, uint64_t drop_key, uint64_t drop_step,
                      double *loss_sum, int64_t *correct, hp_err *err) {
    *loss_sum = NAN;
    *correct = 0;
    if (start < 0 || B <= 0 || B > g->max_batch || start + B > g->ntrain)
        return hp_errf(err, "GPU trainer: batch [%lld, %lld) outside the %lld training examples or above %d",
                       (long long)start, (long long)start + B, (long long)g->ntrain, g->max_batch);
    // xb [B, c, h, w], yb [B]: the batch's examples, augmented as the CPU trainer would.
    if (hp_gpu_gather(g->ctx, g->xb, g->yb, g->xtrain, g->ytrain, g->perm + start,
                      g->augment ? g->draws + start : NULL, g->cutout, B, g->c, g->h, g->w, err) != 0)
        return -1;
    return hp_gpu_model_step(g->model, g->xb, g->yb, B, drop_key, drop_step, loss_sum, correct, err);
}

int hp_gpu_train_update(hp_gpu_train *g, double lr, int64_t t, hp_err *err) {
    hp_gpu_ctx *ctx = g->ctx;
    const hp_optim_spec *s = &g->optim;
    float *params = hp_gpu_model_state(g->model); // the parameters lead the state vector
    const float *grads = hp_gpu_model_grad(g->model);
    float *m1 = g->moments, *m2 = g->nmom > 1 ? g->moments + g->nparams : NULL; // optim.h's blocks
    int64_t n = g->nparams;
    switch (s->type) {
    case HP_OPTIM_SGD: return hp_gpu_sgd_step(ctx, params, grads, g->nmom ? m1 : NULL, n, s, lr, t, err);
    case HP_OPTIM_ADAM:
    case HP_OPTIM_ADAMW: return hp_gpu_adam_step(ctx, params, grads, m1, m2, n, s, lr, t, err);
    case HP_OPTIM_RMSPROP: return hp_gpu_rmsprop_step(ctx, params, grads, m1, m2, n, s, lr, t, err);
    case HP_OPTIM_ADAGRAD: return hp_gpu_adagrad_step(ctx, params, grads, m1, n, s, lr, t, err);
    case HP_OPTIM_COUNT_: break;
    }
    return hp_errf(err, "GPU trainer: optimizer type %d is unknown", (int)s->type);
}

int hp_gpu_train_eval_val(hp_gpu_train *g, int64_t start, int B, double *loss_sum, int64_t *correct, hp_err *err) {
    if (start < 0 || B <= 0 || start + B > g->nval)
        return hp_errf(err, "GPU trainer: validation batch [%lld, %lld) outside the %lld examples", (long long)start,
                       (long long)start + B, (long long)g->nval);
    return hp_gpu_model_eval(g->model, g->xval + start * g->dim, g->yval + start, B, loss_sum, correct, err);
}

int hp_gpu_train_eval_host(hp_gpu_train *g, const float *x, const int32_t *y, int B, double *loss_sum,
                           int64_t *correct, hp_err *err) {
    if (B <= 0 || B > g->max_batch)
        return hp_errf(err, "GPU trainer: batch of %d; at most %d", B, g->max_batch);
    if (hp_gpu_upload(g->ctx, g->xb, x, (size_t)B * (size_t)g->dim * sizeof(float), err) != 0 ||
        hp_gpu_upload(g->ctx, g->yb, y, (size_t)B * sizeof(int32_t), err) != 0)
        return -1;
    return hp_gpu_model_eval(g->model, g->xb, g->yb, B, loss_sum, correct, err);
}
