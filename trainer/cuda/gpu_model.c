/* gpu_model.c - see gpu_model.h. The CPU model's forward and backward (cpu/model_tmpl.h), op
 * for op, with the gpu.h twin of every kernel. Any change to the plan's semantics must be made
 * in both files; test_gpu_trial compares the two on every layer type.
 *
 * Layout: the plan's sizes and offsets are the CPU's, but image tensors are stored in the device
 * layout, packed NCHW [B, c, h, w] (cudnn_rules.h), not the CPU's [c, B, h, w]. So the model
 * input (NCHW already) is never transposed, flatten is always an alias (NCHW rows are PyTorch's
 * flatten order), batch norm over images is cuDNN's [B, c, h*w], pools and global pooling run
 * over B*c planes in either order, and dropout draws each value at its CPU position so that
 * masks match the CPU's. */
#include "cuda/gpu_model.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "rng.h"

struct hp_gpu_model {
    hp_plan plan;
    hp_gpu_ctx *ctx;  /* borrowed */
    float *state;     // [nstate] parameters, then buffers
    float *grad;      // [nparams]
    float *acts;      // [act_size] op outputs; batch norm [out | mean | invstd] slots
    float *dbuf0;     // [dbuf_size] gradient ping-pong buffers
    float *dbuf1;     // [dbuf_size]
    float *dskip;     // [dskip_size] gradients arriving through add layers (may be unused)
    uint8_t *mask;    // [mask_size] dropout masks
    float *losses;    // [max_batch] per-example cross-entropy
    double *stats;    // [2] loss sum, hits (device)
    float *relu_out;  // [relu_size] outputs of the ReLUs fused after max pools (see relu_off)
    int64_t relu_off[HP_MAX_OPS]; // max pool with a fused ReLU: its ReLU output in relu_out; else -1
    const float *xs;               // the input as images in the last forward pass
    const float *outp[HP_MAX_OPS]; // each op's output in the last forward pass
};

/* What this build's backend cannot run: without cuDNN, conv, batch norm and pools. */
static int gpu_unsupported(const hp_plan *p, hp_err *err) {
#if !(defined(HPSWEEP_HAVE_CUDNN) && HPSWEEP_HAVE_CUDNN)
    for (int k = 0; k < p->nops; k++) {
        const hp_plan_op *op = &p->ops[k];
        if (op->type == HP_LAYER_CONV || op->type == HP_LAYER_BATCHNORM || op->type == HP_LAYER_MAXPOOL ||
            op->type == HP_LAYER_AVGPOOL)
            return hp_errf(err,
                           "model layer %d (%s) needs cuDNN, which this build's CUDA backend lacks: install cuDNN 9 "
                           "next to CUDA and rebuild, or use device: cpu",
                           op->layer + 1, hp_layer_type_name(op->type));
    }
#else
    (void)p, (void)err;
#endif
    return 0;
}

int hp_gpu_model_create(hp_gpu_ctx *ctx, const hp_model_spec *spec, int c, int h, int w, int nclasses,
                        int max_batch, hp_gpu_model **out, hp_err *err) {
    *out = NULL;
    hp_gpu_model *m = hp_calloc(1, sizeof *m, "the GPU model", err);
    if (!m) return -1;
    m->ctx = ctx;
    if (hp_plan_build(spec, c, h, w, nclasses, max_batch, &m->plan, err) != 0 || gpu_unsupported(&m->plan, err) != 0) {
        free(m);
        return -1;
    }
    const hp_plan *p = &m->plan;
    size_t nb = (size_t)p->max_batch, f = sizeof(float);
    /* A max pool whose plan runs the preceding ReLU on its output: cuDNN's backward needs the
     * pool's own output intact, so the ReLU writes a separate buffer here (the CPU keeps an
     * argmax index instead and runs the ReLU in place). */
    int64_t relu_size = 0;
    for (int k = 0; k < p->nops; k++) {
        m->relu_off[k] = -1;
        if (p->ops[k].type == HP_LAYER_MAXPOOL && p->ops[k].relu) {
            m->relu_off[k] = relu_size;
            relu_size += (int64_t)p->max_batch * p->ops[k].out_n;
        }
    }
    // Allocated once per trial; nothing is allocated per step.
    if (hp_gpu_alloc((void **)&m->state, (size_t)p->nstate * f, "the model state", err) != 0 ||
        hp_gpu_alloc((void **)&m->grad, (size_t)p->nparams * f, "the gradients", err) != 0 ||
        hp_gpu_alloc((void **)&m->acts, (size_t)p->act_size * f, "the activations", err) != 0 ||
        hp_gpu_alloc((void **)&m->dbuf0, (size_t)p->dbuf_size * f, "the activation gradients", err) != 0 ||
        hp_gpu_alloc((void **)&m->dbuf1, (size_t)p->dbuf_size * f, "the activation gradients", err) != 0 ||
        hp_gpu_alloc((void **)&m->dskip, (size_t)p->dskip_size * f, "the residual gradients", err) != 0 ||
        hp_gpu_alloc((void **)&m->mask, (size_t)p->mask_size, "the dropout masks", err) != 0 ||
        hp_gpu_alloc((void **)&m->losses, nb * f, "the losses", err) != 0 ||
        hp_gpu_alloc((void **)&m->stats, 2 * sizeof(double), "the loss sums", err) != 0 ||
        hp_gpu_alloc((void **)&m->relu_out, (size_t)relu_size * f, "the pooled activations", err) != 0) {
        hp_gpu_model_free(m);
        return -1;
    }
    *out = m;
    return 0;
}

void hp_gpu_model_free(hp_gpu_model *m) {
    if (!m) return;
    hp_gpu_free(m->state);
    hp_gpu_free(m->grad);
    hp_gpu_free(m->acts);
    hp_gpu_free(m->dbuf0);
    hp_gpu_free(m->dbuf1);
    hp_gpu_free(m->dskip);
    hp_gpu_free(m->mask);
    hp_gpu_free(m->losses);
    hp_gpu_free(m->stats);
    hp_gpu_free(m->relu_out);
    free(m);
}

const hp_plan *hp_gpu_model_plan(const hp_gpu_model *m) { return &m->plan; }
float *hp_gpu_model_state(hp_gpu_model *m) { return m->state; }
float *hp_gpu_model_grad(hp_gpu_model *m) { return m->grad; }

/* Dropout's [B, C, HW] view of a tensor in the device layout (gpu.h): flat [B, c] is (B, 1, c);
 * images [B, c, h, w] are (B, c, h*w). */
static void nchw_dims(const hp_shape *s, int *C, int64_t *hw) {
    *C = s->flat ? 1 : s->c;
    *hw = s->flat ? s->c : (int64_t)s->h * s->w;
}

/* A batch norm's slots in the activation arena: where it writes its output, and its saved
 * mean and 1/std [c]. In place on the CPU means "over the conv output"; here the output goes
 * to the xhat slot instead, because cuDNN's backward reads the input. */
static float *bn_out(hp_gpu_model *m, const hp_plan_op *op) {
    return op->in_place ? m->acts + op->aux_off : m->acts + op->act_off;
}
static float *bn_mean(hp_gpu_model *m, const hp_plan_op *op) {
    return m->acts + op->aux_off + (int64_t)m->plan.max_batch * op->in_n;
}

/* Forward through every op and the loss (dloss = d(loss)/d(each example's loss): 1/B to train,
 * 0 to evaluate; the logits' gradient lands in dbuf0). */
static int forward(hp_gpu_model *m, const float *x, const int32_t *y, int B, int train, uint64_t drop_key,
                   uint64_t drop_step, hp_err *err) {
    const hp_plan *p = &m->plan;
    hp_gpu_ctx *ctx = m->ctx;
    if (B <= 0 || B > p->max_batch)
        return hp_errf(err, "GPU model: batch of %d examples; this model was built for 1..%d", B, p->max_batch);
    m->xs = x; // xs [B, c, h, w]: the device layout as given
    for (int k = 0; k < p->nops; k++) {
        const hp_plan_op *op = &p->ops[k];
        const float *in = k == 0 ? m->xs : m->outp[k - 1];             // in [B * in_n], the op's layout
        float *o = op->act_off >= 0 ? m->acts + op->act_off : NULL;    // o [B * out_n]
        const float *wt = m->state + op->w_off, *bias = op->b_off >= 0 ? m->state + op->b_off : NULL;
        const int64_t n = (int64_t)B * op->out_n;
        const int64_t planes = (int64_t)op->in.c * B; // images: [B, c] planes of [h, w]
        int rc = 0;
        switch (op->type) {
        case HP_LAYER_DENSE:
            rc = hp_gpu_dense_forward(ctx, o, in, wt, bias, B, (int)op->in_n, (int)op->out_n, op->relu, err);
            break;
#if defined(HPSWEEP_HAVE_CUDNN) && HPSWEEP_HAVE_CUDNN
        case HP_LAYER_CONV: rc = hp_gpu_conv_forward(ctx, o, in, wt, bias, B, &op->conv, err); break;
        case HP_LAYER_BATCHNORM: {
            const int hw = op->in.flat ? 1 : op->in.h * op->in.w; // in [B, c, hw]
            o = bn_out(m, op);
            float *mean = bn_mean(m, op), *invstd = mean + op->in.c; // [c], [c]
            float *rm = m->state + op->rm_off, *rv = m->state + op->rv_off;
            if (train)
                rc = hp_gpu_bn_forward_train(ctx, o, mean, invstd, rm, rv, in, wt, bias, B, op->in.c, hw,
                                             op->momentum, op->eps, err);
            else
                rc = hp_gpu_bn_forward_eval(ctx, o, in, wt, bias, rm, rv, B, op->in.c, hw, op->eps, err);
            if (rc == 0 && op->relu) rc = hp_gpu_act_forward(ctx, o, o, n, HP_LAYER_RELU, 0, err);
            break;
        }
        case HP_LAYER_MAXPOOL:
            rc = hp_gpu_pool_forward(ctx, o, in, planes, &op->pool, 1, err);
            if (rc == 0 && op->relu) { // r [B * out_n] = relu(o); o stays for the backward
                float *r = m->relu_out + m->relu_off[k];
                rc = hp_gpu_act_forward(ctx, r, o, n, HP_LAYER_RELU, 0, err);
                o = r;
            }
            break;
        case HP_LAYER_AVGPOOL: rc = hp_gpu_pool_forward(ctx, o, in, planes, &op->pool, 0, err); break;
#endif
        case HP_LAYER_GLOBALAVGPOOL:
            rc = hp_gpu_gap_forward(ctx, o, in, planes, (int64_t)op->in.h * op->in.w, err);
            break;
        case HP_LAYER_DROPOUT:
            if (train) {
                uint64_t key = hp_key3(drop_key, drop_step, (uint64_t)op->layer);
                int C;
                int64_t hw;
                nchw_dims(&op->in, &C, &hw);
                rc = hp_gpu_dropout_forward(ctx, o, m->mask + op->idx_off, in, B, C, hw, op->p, key, err);
            } else {
                o = (float *)in; // the identity in evaluation: read-only alias
            }
            break;
        case HP_LAYER_FLATTEN: o = (float *)in; break; // NCHW images are the flat rows already
        case HP_LAYER_ADD: rc = hp_gpu_add(ctx, o, in, op->from >= 0 ? m->outp[op->from] : m->xs, n, err); break;
        default: rc = hp_gpu_act_forward(ctx, o, in, n, op->type, op->param, err); break; // relu and the others
        }
        if (rc != 0) return -1;
        m->outp[k] = o;
    }
    const float *logits = m->outp[p->nops - 1]; // logits [B, nclasses]
    float dloss = train ? 1.0f / (float)B : 0.0f;
    return hp_gpu_xent(ctx, m->dbuf0, m->losses, m->stats, logits, y, dloss, B, p->nclasses, err);
}

/* Wait for the loss sums: the only host synchronisation of a step. */
static int read_stats(hp_gpu_model *m, double *loss_sum, int64_t *correct, hp_err *err) {
    double s[2];
    if (hp_gpu_download(m->ctx, s, m->stats, sizeof s, err) != 0) return -1;
    *loss_sum = s[0];
    *correct = (int64_t)s[1];
    return 0;
}

static int backward(hp_gpu_model *m, int B, hp_err *err) {
    const hp_plan *p = &m->plan;
    hp_gpu_ctx *ctx = m->ctx;
    float *d = m->dbuf0, *spare = m->dbuf1; // d [B * out_n of the current op], its layout
    for (int k = 0; k < p->nops; k++)
        if (p->ops[k].dskip_off >= 0 &&
            hp_gpu_zero(ctx, m->dskip + p->ops[k].dskip_off, sizeof(float) * (size_t)B * (size_t)p->ops[k].out_n,
                        err) != 0)
            return -1;
    for (int k = p->nops - 1; k >= p->first_param_op; k--) {
        const hp_plan_op *op = &p->ops[k];
        const float *o = m->outp[k];                       // o [B * out_n]
        const float *in = k == 0 ? m->xs : m->outp[k - 1]; // in [B * in_n]
        const int64_t n = (int64_t)B * op->out_n;
        const int64_t planes = (int64_t)op->in.c * B;
        if (op->dskip_off >= 0 && hp_gpu_add(ctx, d, d, m->dskip + op->dskip_off, n, err) != 0) return -1;
        // The first op with parameters needs no input gradient: nothing below it learns.
        float *dinp = k == p->first_param_op ? NULL : spare; // dinp [B * in_n]
        const float *wt = m->state + op->w_off;
        float *gw = m->grad + op->w_off, *gb = op->b_off >= 0 ? m->grad + op->b_off : NULL;
        int swap = 1, rc = 0; // swap: the gradient moved to spare
        switch (op->type) {
        case HP_LAYER_DENSE:
            if (op->relu) rc = hp_gpu_act_backward(ctx, d, d, NULL, o, n, HP_LAYER_RELU, 0, err); // in-place mask
            if (rc == 0) rc = hp_gpu_dense_backward(ctx, dinp, gw, gb, d, in, wt, B, (int)op->in_n, (int)op->out_n, err);
            break;
#if defined(HPSWEEP_HAVE_CUDNN) && HPSWEEP_HAVE_CUDNN
        case HP_LAYER_CONV: rc = hp_gpu_conv_backward(ctx, dinp, gw, gb, d, in, wt, B, &op->conv, err); break;
        case HP_LAYER_BATCHNORM: {
            const int hw = op->in.flat ? 1 : op->in.h * op->in.w; // [B, c, hw]
            const float *mean = bn_mean(m, op), *invstd = mean + op->in.c;
            if (op->relu) rc = hp_gpu_act_backward(ctx, d, d, NULL, o, n, HP_LAYER_RELU, 0, err);
            // The GPU backward is not in place: its input gradient goes to spare. (Below the first
            // parameter nothing needs it, but cuDNN always computes it.)
            if (rc == 0)
                rc = hp_gpu_bn_backward(ctx, spare, gw, gb, d, in, mean, invstd, wt, B, op->in.c, hw, op->eps, err);
            break;
        }
        case HP_LAYER_MAXPOOL:
            if (op->relu) rc = hp_gpu_act_backward(ctx, d, d, NULL, o, n, HP_LAYER_RELU, 0, err); // o: after ReLU
            if (rc == 0) // the pool's own output, before the ReLU
                rc = hp_gpu_pool_backward(ctx, spare, d, m->acts + op->act_off, in, planes, &op->pool, 1, err);
            break;
        case HP_LAYER_AVGPOOL: rc = hp_gpu_pool_backward(ctx, spare, d, o, in, planes, &op->pool, 0, err); break;
#endif
        case HP_LAYER_GLOBALAVGPOOL:
            rc = hp_gpu_gap_backward(ctx, spare, d, planes, (int64_t)op->in.h * op->in.w, err);
            break;
        case HP_LAYER_DROPOUT:
            rc = hp_gpu_dropout_backward(ctx, d, d, m->mask + op->idx_off, n, op->p, err);
            swap = 0;
            break;
        case HP_LAYER_FLATTEN: swap = 0; break; // an alias: the gradient passes unchanged
        case HP_LAYER_ADD:
            // d(in + other) passes unchanged to both: to the input here, to `from` through its
            // accumulator (nothing to do when `from` is below every parameter).
            if (op->from >= p->first_param_op) {
                float *a = m->dskip + p->ops[op->from].dskip_off;
                rc = hp_gpu_add(ctx, a, a, d, n, err);
            }
            swap = 0;
            break;
        case HP_LAYER_RELU:
            rc = hp_gpu_act_backward(ctx, d, d, NULL, o, n, HP_LAYER_RELU, 0, err);
            swap = 0;
            break;
        default:
            rc = hp_gpu_act_backward(ctx, d, d, in, o, n, op->type, op->param, err);
            swap = 0;
            break;
        }
        if (rc != 0) return -1;
        if (swap) {
            float *t = d;
            d = spare;
            spare = t;
        }
    }
    return 0;
}

int hp_gpu_model_step(hp_gpu_model *m, const float *x, const int32_t *y, int B, uint64_t drop_key,
                      uint64_t drop_step, double *loss_sum, int64_t *correct, hp_err *err) {
    *loss_sum = NAN;
    *correct = 0;
    if (forward(m, x, y, B, 1, drop_key, drop_step, err) != 0 || backward(m, B, err) != 0) return -1;
    return read_stats(m, loss_sum, correct, err);
}

int hp_gpu_model_eval(hp_gpu_model *m, const float *x, const int32_t *y, int B, double *loss_sum, int64_t *correct,
                      hp_err *err) {
    *loss_sum = NAN;
    *correct = 0;
    if (forward(m, x, y, B, 0, 0, 0, err) != 0) return -1;
    return read_stats(m, loss_sum, correct, err);
}
