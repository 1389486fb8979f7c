/* search_probe.c - what the searched values can make one trial hold (search_probe.h). */
#include "search_probe.h"

#include <stdio.h>
#include <string.h>

#include "model.h"
#include "train.h"

/* What one probe of the search's values measures (probe_search): the trial's spec in, *key out,
 * the quantity whose largest picks a parameter's end or choice; the rest is the callback's own. */
typedef int (*probe_fn)(const hp_spec *trial, void *ctx, int64_t *key, hp_err *err);

/* Searched values may change what a trial holds: model.layers.0.units its model's size, an
 * optimizer.type its checkpoints (adam keeps two moments where sgd keeps one), a batch_size its
 * GPU memory. The probes: every searched parameter at its lowest (lr and weight decay, which
 * change no size, at their lowest too); each parameter other than those at its ends (every
 * choice) with the others at their lowest; then each at the end or choice that gave the
 * largest *key, together. The largest of these bounds a trial; one whose size grows only in a
 * combination not tried is larger still (coord_record.c keeps no snapshot of it). `what`, when
 * not NULL, names the probe of the largest key ("search.params name = value, ..."), or is ""
 * when no searched value makes a trial larger than the lowest values do. */
static int probe_search(const hp_spec *spec, probe_fn fn, void *ctx, char *what, size_t cap, hp_err *err) {
    const hp_search_spec *ss = &spec->search;
    double values[HP_MAX_PARAMS] = {0}, big[HP_MAX_PARAMS];
    for (int p = 0; p < ss->nparams; p++)
        values[p] = ss->params[p].enabled ? ss->params[p].low : p == HP_PARAM_LR ? spec->optim.lr : spec->optim.weight_decay;
    memcpy(big, values, sizeof big);
    int64_t top = -1;
    char text[64];
    /* p = -1: all at their lowest; p (not lr or weight decay): its ends or choices i; p = nparams:
     * every parameter at its largest, together */
    for (int p = -1; p < ss->nparams + 1; p++) {
        int together = p == ss->nparams;
        if (p >= 0 && p < HP_NFIXED_PARAMS) continue;
        if (together && ss->nparams <= HP_NFIXED_PARAMS + 1) break; /* nothing to combine */
        const hp_param_range *r = p >= 0 && !together ? &ss->params[p] : NULL;
        int nv = !r ? 1 : r->scale == HP_SCALE_CHOICE ? r->nchoices : 2;
        int64_t best = -1;
        for (int i = 0; i < nv; i++) {
            const double *v = together ? big : values;
            double keep = r ? values[p] : 0;
            if (r) values[p] = r->scale == HP_SCALE_CHOICE ? i : i ? r->high : r->low;
            hp_spec t;
            int64_t key = 0;
            int rc = hp_spec_for_trial(spec, v, &t, err);
            if (rc == 0) {
                rc = fn(&t, ctx, &key, err);
                hp_spec_free(&t);
            }
            if (r) hp_param_text(r, values[p], text, sizeof text);
            if (rc != 0)
                return r ? hp_err_prefix(err, "%s: search.params.%s = %s", spec->path, r->name, text)
                         : hp_err_prefix(err, together ? "%s: the searched values' largest together" : "%s",
                                         spec->path);
            if (r && key > best) best = key, big[p] = values[p];
            if (key > top && what) {
                top = key;
                if (!r && !together) {
                    what[0] = '\0';
                } else if (r) {
                    snprintf(what, cap, "search.params %s = %s", r->name, text);
                } else {
                    size_t used = (size_t)snprintf(what, cap, "search.params");
                    for (int q = HP_NFIXED_PARAMS; q < ss->nparams && used < cap; q++)
                        used += (size_t)snprintf(what + used, cap - used, "%s %s = %s", q > HP_NFIXED_PARAMS ? "," : "",
                                                 ss->params[q].name, hp_param_text(&ss->params[q], big[q], text, sizeof text));
                }
            }
            if (r) values[p] = keep;
        }
    }
    return 0;
}

/* probe_search for the results file's rows: the largest trainer state and checkpoint, and
 * whether any value changes the model's size. */
typedef struct size_probe {
    const hp_splits *data;
    int64_t state_width, ckpt_width, first_state;
    int probes, varies;
} size_probe;

static int probe_sizes(const hp_spec *t, void *ctx, int64_t *key, hp_err *err) {
    size_probe *sp = ctx;
    const hp_splits *d = sp->data;
    hp_model *m = NULL;
    int64_t ck = 0;
    int rc = hp_model_create(&t->model, d->train.c, d->train.h, d->train.w, t->data.nclasses, 1, &m, err);
    if (rc == 0)
        rc = hp_trainer_checkpoint_size_for(&t->model, &t->optim, d->train.c, d->train.h, d->train.w,
                                            t->data.nclasses, &ck, err);
    if (rc == 0) {
        int64_t size = hp_model_state_size(m);
        if (sp->probes++ == 0) sp->first_state = size;
        if (size != sp->first_state) sp->varies = 1;
        if (size > sp->state_width) sp->state_width = size;
        if (ck > sp->ckpt_width) sp->ckpt_width = ck;
        *key = ck; /* the largest checkpoint: model, optimizer state and best snapshot */
    }
    hp_model_free(m);
    return rc;
}

/* probe_search on a GPU: the most device memory one trial holds. */
typedef struct mem_probe {
    const hp_splits *data;
    hp_gpu_device *gpu;
    int64_t most;
} mem_probe;

static int probe_memory(const hp_spec *t, void *ctx, int64_t *key, hp_err *err) {
    mem_probe *mp = ctx;
    if (hp_trial_device_bytes(t, mp->data, mp->gpu, key, err) != 0) return -1;
    if (*key > mp->most) mp->most = *key;
    return 0;
}

int hp_search_sizes(const hp_spec *spec, const hp_splits *data, int64_t *state_width, int64_t *ckpt_width,
                    int *varies, hp_err *err) {
    size_probe sp = {.data = data};
    if (probe_search(spec, probe_sizes, &sp, NULL, 0, err) != 0) return -1;
    *state_width = sp.state_width;
    *ckpt_width = sp.ckpt_width;
    *varies = sp.varies;
    return 0;
}

int hp_search_device_bytes(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, int64_t *bytes,
                           char *largest, size_t cap, hp_err *err) {
    mem_probe mp = {.data = data, .gpu = gpu};
    int rc = probe_search(spec, probe_memory, &mp, largest, cap, err);
    *bytes = mp.most;
    return rc;
}
