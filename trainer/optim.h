/* optim.h - optimizers over flat parameter and gradient vectors.
 *
 * Formulas follow PyTorch's torch.optim exactly (torch 1.13, single-tensor path), so that a
 * learning rate found by hpsweep means the same thing in PyTorch. t is the 1-based step, g the
 * gradient, wd the weight decay; "coupled" means g = grad + wd * p first (L2 in the loss).
 *   SGD (momentum m, dampening 0, coupled):
 *     buf = g (first step), m * buf + g (later);  p -= lr * buf   (Nesterov: p -= lr * (g + m * buf))
 *   Adam (coupled; amsgrad off) and AdamW (decoupled: p *= 1 - lr * wd first, g = grad):
 *     m1 = b1 * m1 + (1 - b1) g;  m2 = b2 * m2 + (1 - b2) g^2
 *     p -= lr / (1 - b1^t) * m1 / (sqrt(m2) / sqrt(1 - b2^t) + eps)
 *   RMSProp (coupled; centered off): sq = alpha * sq + (1 - alpha) g^2;  d = g / (sqrt(sq) + eps)
 *     momentum 0: p -= lr * d;  else buf = m * buf + d (buf starts at 0), p -= lr * buf
 *   AdaGrad (coupled; lr_decay 0, initial accumulator 0): sum += g^2;  p -= lr * g / (sqrt(sum) + eps)
 * Each step is one fused pass over the flat vectors. The optimizer's state (moments, step
 * count) is one flat vector too, so it can be checkpointed as a row.
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

/* Fill the type's PyTorch defaults into the fields it uses that a spec left at 0: Adam/AdamW
 * beta1 0.9, beta2 0.999, eps 1e-8; RMSProp alpha 0.99, eps 1e-8; AdaGrad eps 1e-10; SGD none.
 * (So beta1 = 0 or alpha = 0 cannot be asked for through this call; set them after it.)
 * lr, momentum and weight_decay are left alone (AdamW's PyTorch default wd 0.01 is not applied). */
void hp_optim_spec_defaults(hp_optim_spec *spec);

typedef struct hp_optim hp_optim;

int hp_optim_create(const hp_optim_spec *spec, int64_t nparams, hp_optim **out, hp_err *err);
void hp_optim_free(hp_optim *o);

/* The same, but the moments are also kept in double for hp_optim_step64 (reference tests
 * against float64 PyTorch). The float moments below are then not used by hp_optim_step64
 * (the step count still lives in the float state). */
int hp_optim_create64(const hp_optim_spec *spec, int64_t nparams, hp_optim **out, hp_err *err);

/* Check a spec without creating anything: a known type; lr > 0 and finite; weight decay
 * finite and >= 0; momentum in [0, 1) and only for SGD/RMSProp (0 otherwise); nesterov 0 or 1,
 * SGD only, needs momentum > 0; Adam/AdamW: beta1, beta2 in [0, 1); Adam/AdamW/RMSProp/AdaGrad:
 * eps finite and > 0 (call hp_optim_spec_defaults first to get PyTorch's); RMSProp: alpha in
 * [0, 1). Fields a type does not use (betas, eps, alpha) are ignored. One-line error naming
 * the field, its value and the valid range. */
int hp_optim_spec_check(const hp_optim_spec *spec, hp_err *err);

/* One update: params[i] -= ... using grads[i], at learning rate lr (the schedule's value). */
void hp_optim_step(hp_optim *o, float *params, const float *grads, double lr);
/* The same in double, for reference tests (moments in double if made by hp_optim_create64,
 * else in the float state). */
void hp_optim_step64(hp_optim *o, double *params, const double *grads, double lr);

/* Updates taken so far (read from the flat state, so a restored state restores it). */
int64_t hp_optim_steps(const hp_optim *o);

/* Flat optimizer state for checkpoints: size in floats, pointer to it. Layout (version 2),
 * n = nparams, each moment an [n] block in this order:
 *   SGD      [buf] (only when momentum > 0)
 *   Adam     [m1, m2]          AdamW  [m1, m2]
 *   RMSProp  [sq, buf] (buf only when momentum > 0)
 *   AdaGrad  [sum]
 * then two floats holding the number of steps taken, t = lo + 2^24 * hi (both whole numbers,
 * lo < 2^24, so t is exact up to 2^48; Adam's bias corrections need the exact t). Restoring
 * means copying a saved row back into this pointer; hp_optim_steps then reads the restored
 * count. (Version 1, SGD only, had a single saturating step-count float.) */
#define HP_OPTIM_STATE_VERSION 2
int64_t hp_optim_state_size(const hp_optim *o);
float *hp_optim_state(hp_optim *o);

/* For an optimizer whose moments live elsewhere (the GPU trainer keeps them on the device and
 * this object as their host mirror): the number of [n] moment blocks of the type (0..2, the
 * layout above), and setting the step count the flat state holds. */
int hp_optim_moment_count(const hp_optim_spec *spec);
void hp_optim_set_steps(hp_optim *o, int64_t t);
/* The float update of hp_optim_step on raw vectors: moments are the type's [n] blocks in the
 * layout above (no step count), t the 1-based number of this step. (The GPU emulation runs
 * the optimizers through this, so it rounds exactly as the CPU trainer.) */
void hp_optim_update_f32(const hp_optim_spec *spec, int64_t n, float *params, const float *grads, float *moments,
                         double lr, int64_t t);

#endif
