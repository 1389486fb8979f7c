/* optim.h - optimizers over flat parameter and gradient vectors.
 *
 * Formulas follow PyTorch's torch.optim exactly, so that a learning rate found by hpsweep
 * means the same thing in PyTorch. SGD with momentum m, dampening 0, L2 weight decay wd:
 *     g   = grad + wd * p
 *     buf = g                 (first step)
 *     buf = m * buf + g       (later steps)
 *     p  -= lr * buf          (Nesterov: p -= lr * (g + m * buf))
 * The optimizer's state (momentum buffers, step count) is one flat vector too, so it can be
 * checkpointed as a row.
 */
#ifndef HP_OPTIM_H
#define HP_OPTIM_H

#include <stdint.h>

#include "hp_err.h"

typedef enum hp_optim_type {
    HP_OPTIM_SGD = 0,  /* momentum, nesterov, coupled L2 weight decay */
    HP_OPTIM_ADAM,     /* betas, eps; coupled L2 weight decay (torch.optim.Adam) */
    HP_OPTIM_ADAMW,    /* betas, eps; decoupled weight decay p -= lr*wd*p (torch.optim.AdamW) */
    HP_OPTIM_RMSPROP,  /* alpha (smoothing), eps, momentum; coupled L2 (torch.optim.RMSprop) */
    HP_OPTIM_ADAGRAD,  /* eps, initial_accumulator 0; coupled L2 (torch.optim.Adagrad) */
    HP_OPTIM_COUNT_
} hp_optim_type;

const char *hp_optim_type_name(hp_optim_type t);
int hp_optim_type_parse(const char *s); /* -1 if unknown */

typedef struct hp_optim_spec {
    hp_optim_type type;
    double lr;           /* base learning rate (> 0) */
    double momentum;     /* [0, 1) */
    int nesterov;        /* 0 or 1; needs momentum > 0 */
    double weight_decay; /* >= 0; coupled L2 except for AdamW (decoupled) */
    double beta1, beta2; /* Adam/AdamW (defaults 0.9, 0.999) */
    double eps;          /* Adam/AdamW 1e-8, RMSProp 1e-8, AdaGrad 1e-10 (PyTorch's defaults) */
    double alpha;        /* RMSProp smoothing constant (default 0.99) */
} hp_optim_spec;

/* Fill the type's PyTorch defaults into the fields a spec left at 0 (beta1/beta2/eps/alpha). */
void hp_optim_spec_defaults(hp_optim_spec *spec);

typedef struct hp_optim hp_optim;

int hp_optim_create(const hp_optim_spec *spec, int64_t nparams, hp_optim **out, hp_err *err);
void hp_optim_free(hp_optim *o);

/* The same, but the momentum buffer is also kept in double for hp_optim_step64 (reference
 * tests against float64 PyTorch). The float state below is then not used. */
int hp_optim_create64(const hp_optim_spec *spec, int64_t nparams, hp_optim **out, hp_err *err);

/* Check a spec without creating anything: lr > 0 and finite, momentum in [0, 1), weight
 * decay >= 0, Nesterov only with momentum. */
int hp_optim_spec_check(const hp_optim_spec *spec, hp_err *err);

/* One update: params[i] -= ... using grads[i], at learning rate lr (the schedule's value). */
void hp_optim_step(hp_optim *o, float *params, const float *grads, double lr);
/* The same in double, for reference tests (momentum in double if made by hp_optim_create64,
 * else in the float state). */
void hp_optim_step64(hp_optim *o, double *params, const double *grads, double lr);

/* Updates taken so far. */
int64_t hp_optim_steps(const hp_optim *o);

/* Flat optimizer state for checkpoints: size in floats, pointer to it. Layout (version 1):
 * [0, nparams) the momentum buffer (absent when momentum is 0), then one float holding the
 * number of steps taken, saturated at 2^24 (only "0 or not" matters: the first step sets
 * buf = g). Restoring means copying a saved row back into this pointer. */
int64_t hp_optim_state_size(const hp_optim *o);
float *hp_optim_state(hp_optim *o);

#endif
