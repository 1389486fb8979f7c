/* model_plan.h - the precision-independent part of a model: validated layer chain with the
 * shape of every tensor, the state-vector layout, the arenas, and the order of operations.
 *
 * Backend-neutral: hp_model (float) and hp_model64 (double) each hold one plan, which
 * cpu/model_tmpl.h runs on the CPU; the GPU model (cuda/gpu_model.h) holds one too and runs it
 * op by op on the device.
 *
 * Tensors. Every op output has a shape [c, h, w] per example and is either an image tensor
 * (PyTorch's [B, c, h, w]), stored channel-major [c, B, h, w] (see cpu/conv.h for why), or a
 * flat one ([B, c] after dense or flatten; h = w = 1), stored row-major [B, c]. The model input
 * is an image tensor given in NCHW order; it is transposed to [c, B, h, w] once per batch when
 * c > 1 and an op reads it as images (for c = 1 both orders coincide). A dense layer on an
 * image tensor gets an implicit flatten op in front (the plan inserts it; it transposes to
 * PyTorch's [B, c*h*w] order, or is a no-op alias when c = 1 or the input already is flat).
 *
 * Ops. A plan op runs one spec layer, sometimes with the next fused in:
 *   dense + ReLU   bias, ReLU and the output write in one pass; backward masks in place;
 *   batchnorm + ReLU   the ReLU runs in place on the batch-norm output;
 *   ReLU -> maxpool    the ReLU runs on the pooled output instead (max commutes with ReLU:
 *                      max relu(x) = relu(max x), and the gradient reaches the same argmax
 *                      exactly when it is positive), on k*k times fewer values;
 *   conv -> batchnorm  the batch norm writes its output over the conv output (the conv's
 *                      backward needs its input, not its output), so they share memory.
 * No fusion or in-place write touches a tensor that an add layer reads later (`from`), so the
 * output of every spec layer named by an add stays intact until the add runs.
 *
 * Residual gradients. An op whose output feeds an add owns a gradient accumulator (dskip).
 * Backward zeroes them, each add adds its output gradient into its source's accumulator, and
 * when the backward pass reaches the source op, the accumulator is added to the gradient
 * arriving from above before the op's own backward runs.
 */
#ifndef HP_MODEL_PLAN_H
#define HP_MODEL_PLAN_H

#include <stdint.h>

#include "geometry.h"
#include "hp_err.h"
#include "layer_spec.h"
#include "rng.h"

typedef struct hp_shape {
    int c, h, w; /* per example */
    int flat;    /* 1: [B, c] rows (h = w = 1); 0: images, stored [c, B, h, w] */
} hp_shape;

typedef struct hp_plan_op {
    hp_layer_type type; /* the layer type it runs (HP_LAYER_FLATTEN also for an implicit flatten) */
    int layer;          /* spec index of the layer (an implicit flatten: the dense layer it serves) */
    int relu;           /* dense, batchnorm: the next spec layer, a ReLU, is fused in; maxpool: the
                           ReLU before it runs on its output */
    int from;           /* add: op index of the tensor added (-1: the model input) */
    int alias;          /* the output is the input's memory unchanged (a no-op flatten) */
    int in_place;       /* batchnorm: writes its output over its input (the conv output) */
    hp_shape in, out;
    int64_t in_n, out_n; /* values per example */
    hp_conv_geom conv;   /* conv */
    hp_pool_geom pool;   /* maxpool, avgpool */
    double p;            /* dropout probability */
    double param;        /* leaky_relu slope, elu alpha */
    double momentum, eps; /* batchnorm */
    int64_t w_off, b_off;   /* parameters in state and gradient (b_off -1: no bias) */
    int64_t rm_off, rv_off; /* batchnorm running mean, running var [c] in the state */
    int64_t act_off;  /* output [max_batch * out_n] in the activation arena (-1: alias) */
    int64_t aux_off;  /* batchnorm: xhat [max_batch * out_n], mean [c], invstd [c], same arena */
    int64_t idx_off;  /* maxpool: argmax [max_batch * out_n] (index arena); dropout: mask (byte arena) */
    int64_t dskip_off; /* >= 0: gradient accumulator [max_batch * out_n] of an add source */
} hp_plan_op;

#define HP_MAX_OPS (2 * HP_MAX_LAYERS)

typedef struct hp_plan {
    int nops;
    hp_plan_op ops[HP_MAX_OPS];
    int layer_op[HP_MAX_LAYERS]; /* op whose output is spec layer i's output (-1: fused away) */
    int first_param_op;          /* backward stops here: nothing below it has parameters */
    int c, h, w, in_dim, nclasses, max_batch;
    int input_cnhw;          /* transpose the input to [c, B, h, w] (c > 1 and read as images) */
    int nslots;              /* threads that may run conv blocks at once */
    int64_t nparams, nstate; /* trainable parameters; parameters + buffers */
    int64_t act_size;        /* REAL elements of the activation arena (outputs and batch-norm saves) */
    int64_t idx_size;        /* int32 elements of the maxpool index arena */
    int64_t mask_size;       /* bytes of the dropout mask arena */
    int64_t dskip_size;      /* REAL elements of the residual gradient accumulators */
    int64_t dbuf_size;       /* REAL elements of each of the two gradient buffers */
    int64_t work_size;       /* REAL elements of the conv workspace */
    int ntensors;
    hp_tensor_info tensors[4 * HP_MAX_LAYERS];
    hp_model_spec spec; /* a copy, for initialisation */
} hp_plan;

/* Validate `spec` for inputs of shape [c, h, w] and build the plan. */
int hp_plan_build(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch, hp_plan *plan,
                  hp_err *err);

/* The initialisation of the dense or conv layer `layer` (HP_INIT_DEFAULT resolved) and its
 * scale: the bound b of U(-b, b) or the standard deviation of N(0, s^2); *normal tells which. */
hp_init hp_plan_init_rule(const hp_plan *plan, int layer, double *scale, int *normal);

#endif
