/* train_ckpt.c - a trainer's checkpoints and cancellation flag; see train.h.
 *
 * The vector is [model state (ns) | optimizer state (os) | best snapshot (ns)] floats, copied
 * bit for bit, so a restored trainer continues exactly where the saved one stood.
 */
#include <stdlib.h>
#include <string.h>

#include "train.h"
#include "train_impl.h"

int64_t hp_trainer_checkpoint_size(const hp_trainer *t) {
    return 2 * hp_model_state_size(t->model) + hp_optim_state_size(t->optim);
}

int hp_trainer_checkpoint_size_for(const hp_model_spec *model, const hp_optim_spec *optim, int c, int h,
                                   int w, int nclasses, int64_t *out, hp_err *err) {
    hp_model *m = NULL;
    hp_optim *o = NULL;
    *out = 0;
    if (hp_model_create(model, c, h, w, nclasses, 1, &m, err) != 0) return -1;
    int rc = hp_optim_create(optim, hp_model_param_count(m), &o, err);
    if (rc == 0) *out = 2 * hp_model_state_size(m) + hp_optim_state_size(o);
    hp_optim_free(o);
    hp_model_free(m);
    return rc;
}

void hp_trainer_checkpoint_save(const hp_trainer *t, float *vec, hp_train_ckpt *meta) {
    hp_trainer *tm = (hp_trainer *)t; /* the accessors below only read */
    int64_t ns = hp_model_state_size(t->model), os = hp_optim_state_size(t->optim);
    memcpy(vec, hp_model_state(tm->model), (size_t)ns * sizeof(float));
    memcpy(vec + ns, hp_optim_state(tm->optim), (size_t)os * sizeof(float));
    memcpy(vec + ns + os, t->best, (size_t)ns * sizeof(float));
    memset(meta, 0, sizeof *meta);
    meta->version = HP_TRAIN_CKPT_VERSION;
    meta->epochs_done = t->epochs_done;
    meta->best_epoch = t->best_epoch;
    meta->best_val_acc = t->best_acc;
    meta->best_val_loss = t->best_loss;
    meta->initial_loss = t->initial_loss;
    meta->lr = t->lr;
    meta->model_floats = ns;
    meta->optim_floats = os;
    /* The dropout stream: its key and how many steps drew from it (model.h). */
    hp_model_rng_state(t->model, &meta->rng[0], &meta->rng[1]);
    meta->has_rng = 1;
    hp_sched_get_state(t->sched, meta->sched); /* plateau: best, bad epochs, lr (doubles, exact) */
}

int hp_trainer_checkpoint_load(hp_trainer *t, const float *vec, int64_t n, const hp_train_ckpt *meta,
                               hp_err *err) {
    int64_t ns = hp_model_state_size(t->model), os = hp_optim_state_size(t->optim);
    if (meta->version != HP_TRAIN_CKPT_VERSION)
        return hp_errf(err, "checkpoint: version %d, this build reads version %d; restart the trial",
                       (int)meta->version, HP_TRAIN_CKPT_VERSION);
    if (meta->model_floats != ns || meta->optim_floats != os || n != 2 * ns + os || !vec)
        return hp_errf(err,
                       "checkpoint: holds %lld model and %lld optimizer floats (%lld in all), but this trainer "
                       "has %lld and %lld; was the model or optimizer changed?",
                       (long long)meta->model_floats, (long long)meta->optim_floats, (long long)n, (long long)ns,
                       (long long)os);
    if (meta->epochs_done < 0 || meta->epochs_done > t->spec.epochs || meta->best_epoch < 0 ||
        meta->best_epoch > meta->epochs_done)
        return hp_errf(err, "checkpoint: epochs done %d and best epoch %d do not fit a trial of %d epochs",
                       (int)meta->epochs_done, (int)meta->best_epoch, t->spec.epochs);
    memcpy(hp_model_state(t->model), vec, (size_t)ns * sizeof(float));
    memcpy(hp_optim_state(t->optim), vec + ns, (size_t)os * sizeof(float));
    memcpy(t->best, vec + ns + os, (size_t)ns * sizeof(float));
    t->epochs_done = meta->epochs_done;
    t->best_epoch = meta->best_epoch;
    t->best_acc = meta->best_val_acc;
    t->best_loss = meta->best_val_loss;
    t->initial_loss = meta->initial_loss;
    if (meta->has_rng) hp_model_set_rng_state(t->model, meta->rng[0], meta->rng[1]);
    hp_sched_set_state(t->sched, meta->sched);
    return hp_trainer_push_state_(t, err); /* a GPU trainer continues from the restored mirrors */
}

void hp_trainer_set_cancel(hp_trainer *t, const volatile sig_atomic_t *flag) { t->cancel = flag; }
