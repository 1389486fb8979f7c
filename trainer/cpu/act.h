/* act.h - CPU elementwise activations, float and double.
 *
 * A forward/backward pair over caller-owned arrays of n values (any shape; NCHW in the model),
 * outputs first, in the style of llm.c; nothing here allocates. Both precisions are compiled
 * from one source, act_tmpl.h. `type` picks the function; `param` is the leaky ReLU negative
 * slope or the ELU alpha (ignored by the others). Formulas, as PyTorch defines them:
 *   HP_LAYER_RELU        y = max(x, 0)                           dy/dx = [x > 0]
 *   HP_LAYER_LEAKY_RELU  y = x > 0 ? x : slope * x                dy/dx = x > 0 ? 1 : slope
 *   HP_LAYER_ELU         y = x > 0 ? x : alpha * expm1(x)         dy/dx = x > 0 ? 1 : alpha * exp(x)
 *   HP_LAYER_GELU        y = x * Phi(x) = x/2 * (1 + erf(x/sqrt 2))   (exact form, approximate='none')
 *                        dy/dx = Phi(x) + x * phi(x),  phi(x) = exp(-x^2/2) / sqrt(2 pi)
 *   HP_LAYER_TANH        y = tanh(x)                              dy/dx = 1 - y^2
 *   HP_LAYER_SIGMOID     y = 1 / (1 + exp(-x)), evaluated with e = exp(-|x|) <= 1 (never
 *                        overflows) as 1/(1+e) for x >= 0, e/(1+e) for x < 0   dy/dx = y * (1 - y)
 * All are finite for any finite x (|x| = 1e4 included). Any other type writes NaN to out (dinp),
 * so that a caller's mistake cannot pass silently; hp_act_supported says which types work.
 *
 * hp_act_forward:  out [n]; inp [n]. out may be inp (in place) for every type.
 * hp_act_backward: dinp [n]; dout [n]; inp [n]; out [n] (the forward's output). dinp may be dout.
 *                  What each type reads, the other pointer may be NULL:
 *                    relu, leaky_relu   inp if non-NULL, else out (same sign as inp for slope > 0)
 *                    elu                inp if non-NULL (alpha * exp(x)), else out (out + alpha,
 *                                       valid for alpha > 0; loses relative accuracy for x << 0)
 *                    gelu               inp (required: gelu is not invertible)
 *                    tanh, sigmoid      out (required)
 *                  So a forward run in place (inp overwritten) can be differentiated for every
 *                  type but gelu, by passing inp = NULL.
 */
#ifndef HP_CPU_ACT_H
#define HP_CPU_ACT_H

#include "layer_spec.h"
#include <stdint.h>

/* 1 if hp_act_forward/backward implement `type` (relu, leaky_relu, elu, gelu, tanh, sigmoid). */
int hp_act_supported(hp_layer_type type);

#define HP_ACT_DECLARE(REAL, SFX)                                                                          \
    void hp_act_forward_##SFX(REAL *out, const REAL *inp, int64_t n, hp_layer_type type, double param);    \
    void hp_act_backward_##SFX(REAL *dinp, const REAL *dout, const REAL *inp, const REAL *out, int64_t n,  \
                               hp_layer_type type, double param);

HP_ACT_DECLARE(float, f32)
HP_ACT_DECLARE(double, f64)

#undef HP_ACT_DECLARE

#endif
