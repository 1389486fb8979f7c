/* model_plan.h - the precision-independent part of a model: validated layer chain, the
 * state-vector layout, the order of operations and initialisation draws.
 *
 * hp_model (float) and hp_model64 (double) each hold one plan; model_tmpl.h runs it. A ReLU
 * that directly follows a dense layer is fused into that layer's operation (bias, ReLU and the
 * output write happen in one pass; backward masks the gradient in place), which is why the
 * plan has operations rather than layers.
 */
#ifndef HP_CPU_MODEL_PLAN_H
#define HP_CPU_MODEL_PLAN_H

#include <stdint.h>

#include "hp_err.h"
#include "model.h"
#include "rng.h"

typedef struct hp_plan_op {
    hp_layer_type type; /* HP_LAYER_DENSE or HP_LAYER_RELU */
    int layer;          /* index of the (first) spec layer it runs */
    int relu;           /* dense only: a following ReLU is fused */
    int in, out;        /* features in and out, per example */
    int64_t w_off;      /* dense: weight [out, in] offset in state and gradient */
    int64_t b_off;      /* dense: bias [out] offset */
    int64_t act_off;    /* output [max_batch, out] offset in the activation arena */
} hp_plan_op;

typedef struct hp_plan {
    int nops;
    hp_plan_op ops[HP_MAX_LAYERS];
    int first_param_op; /* backward stops here: nothing below it has parameters */
    int in_dim, nclasses, max_batch, max_width;
    int64_t nparams, nstate; /* equal until layers with buffers exist */
    int64_t act_size;        /* elements of the activation arena (all op outputs) */
    int ntensors;
    hp_tensor_info tensors[2 * HP_MAX_LAYERS];
    hp_model_spec spec; /* a copy, for initialisation */
} hp_plan;

/* Validate `spec` for inputs of c*h*w features and build the plan. */
int hp_plan_build(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch, hp_plan *plan,
                  hp_err *err);

/* The initialisation of dense layer `layer` (HP_INIT_DEFAULT resolved) and its scale: the
 * bound b of U(-b, b) or the standard deviation of N(0, s^2); *normal tells which. */
hp_init hp_plan_init_rule(const hp_plan *plan, int layer, double *scale, int *normal);

#endif
