/* model_tmpl.h - hp_model (float) and hp_model64 (double), written once.
 *
 * Included by model.c twice, with these macros defined:
 *   REAL       float or double
 *   MODEL      hp_model or hp_model64 (the struct tag)
 *   MFN(name)  hp_model_##name or hp_model64_##name
 *   LFN(name)  name##_f32 or name##_f64 (the kernels of cpu/layers.h, conv.h, pool.h, norm.h,
 *              act.h, dropout.h)
 * No include guard on purpose. The plan (model_plan.h) says what runs and where every tensor
 * lives; this file only executes it.
 */

struct MODEL {
    hp_plan plan;
    REAL *state;   // [nstate]  parameters, then buffers
    REAL *grad;    // [nparams] same order as the parameters
    REAL *acts;    // [act_size] every op's output [max_batch * out_n], batch-norm saves
    REAL *probs;   // [max_batch, nclasses] softmax of the logits
    REAL *losses;  // [max_batch] per-example cross-entropy
    REAL *dbuf0;   // [dbuf_size] gradient ping-pong buffers
    REAL *dbuf1;   // [dbuf_size]
    REAL *dskip;   // [dskip_size] gradients arriving through add layers
    REAL *work;    // [work_size] conv column buffers and partial weight gradients
    REAL *xin;     // [max_batch * in_dim] the input as [c, B, h, w] (plan.input_cnhw only)
    int32_t *idx;  // [idx_size] maxpool argmax
    uint8_t *mask; // [mask_size] dropout masks
    const REAL *xs;               // the input as images in the last forward pass
    const REAL *outp[HP_MAX_OPS]; // each op's output in the last forward pass
    uint64_t drop_key, drop_step; // dropout stream (see hp_model_rng_state)
};

int MFN(create)(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch,
                struct MODEL **out, hp_err *err) {
    *out = NULL;
    struct MODEL *m = hp_calloc(1, sizeof *m, "the model", err);
    if (!m) return -1;
    if (hp_plan_build(spec, c, h, w, nclasses, max_batch, &m->plan, err) != 0) {
        free(m);
        return -1;
    }
    const hp_plan *p = &m->plan;
    size_t nb = (size_t)p->max_batch;
    // Allocated once here, reused by every step (fresh pages are expensive; see docs/design.md).
    if (!(m->state = hp_calloc((size_t)p->nstate, sizeof(REAL), "the model state", err)) ||
        !(m->grad = hp_calloc((size_t)p->nparams, sizeof(REAL), "the model gradients", err)) ||
        !(m->acts = hp_calloc((size_t)p->act_size, sizeof(REAL), "the activations", err)) ||
        !(m->probs = hp_calloc(nb * (size_t)p->nclasses, sizeof(REAL), "the softmax", err)) ||
        !(m->losses = hp_calloc(nb, sizeof(REAL), "the losses", err)) ||
        !(m->dbuf0 = hp_calloc((size_t)p->dbuf_size, sizeof(REAL), "the activation gradients", err)) ||
        !(m->dbuf1 = hp_calloc((size_t)p->dbuf_size, sizeof(REAL), "the activation gradients", err)) ||
        !(m->dskip = hp_calloc((size_t)p->dskip_size, sizeof(REAL), "the residual gradients", err)) ||
        !(m->work = hp_calloc((size_t)p->work_size, sizeof(REAL), "the convolution workspace", err)) ||
        !(m->xin = hp_calloc(p->input_cnhw ? nb * (size_t)p->in_dim : 0, sizeof(REAL), "the input", err)) ||
        !(m->idx = hp_calloc((size_t)p->idx_size, sizeof(int32_t), "the pooling indices", err)) ||
        !(m->mask = hp_calloc((size_t)p->mask_size, 1, "the dropout masks", err))) {
        MFN(free)(m);
        return -1;
    }
    *out = m;
    return 0;
}

void MFN(free)(struct MODEL *m) {
    if (!m) return;
    free(m->state);
    free(m->grad);
    free(m->acts);
    free(m->probs);
    free(m->losses);
    free(m->dbuf0);
    free(m->dbuf1);
    free(m->dskip);
    free(m->work);
    free(m->xin);
    free(m->idx);
    free(m->mask);
    free(m);
}

int64_t MFN(state_size)(const struct MODEL *m) { return m->plan.nstate; }
int64_t MFN(param_count)(const struct MODEL *m) { return m->plan.nparams; }
REAL *MFN(state)(struct MODEL *m) { return m->state; }
REAL *MFN(grad)(struct MODEL *m) { return m->grad; }
int MFN(layout)(const struct MODEL *m, const hp_tensor_info **tensors) {
    *tensors = m->plan.tensors;
    return m->plan.ntensors;
}
int MFN(input_dim)(const struct MODEL *m) { return m->plan.in_dim; }
int MFN(nclasses)(const struct MODEL *m) { return m->plan.nclasses; }
int MFN(max_batch)(const struct MODEL *m) { return m->plan.max_batch; }
const REAL *MFN(logits)(const struct MODEL *m) { return m->acts + m->plan.ops[m->plan.nops - 1].act_off; }

void MFN(rng_state)(const struct MODEL *m, uint64_t *key, uint64_t *step) {
    *key = m->drop_key;
    *step = m->drop_step;
}
void MFN(set_rng_state)(struct MODEL *m, uint64_t key, uint64_t step) {
    m->drop_key = key;
    m->drop_step = step;
}

void MFN(init)(struct MODEL *m, uint64_t key) {
    const hp_plan *p = &m->plan;
    for (int k = 0; k < p->nops; k++) {
        const hp_plan_op *op = &p->ops[k];
        if (op->type == HP_LAYER_BATCHNORM) { // identity transform, PyTorch's fresh statistics
            for (int c = 0; c < op->in.c; c++) {
                m->state[op->w_off + c] = 1;
                m->state[op->b_off + c] = 0;
                m->state[op->rm_off + c] = 0;
                m->state[op->rv_off + c] = 1;
            }
            continue;
        }
        if (op->type != HP_LAYER_DENSE && op->type != HP_LAYER_CONV) continue;
        double scale;
        int normal;
        hp_plan_init_rule(p, op->layer, &scale, &normal);
        // Drawn in double in row-major order ([out, in] or [F, C, k, k]), so both precisions
        // get the same values.
        hp_rng r = hp_rng_make(hp_key2(key, (uint64_t)op->layer));
        REAL *wt = m->state + op->w_off;
        int64_t n = op->type == HP_LAYER_DENSE ? op->out_n * op->in_n
                                               : (int64_t)op->conv.F * op->conv.C * op->conv.k * op->conv.k;
        for (int64_t i = 0; i < n; i++) {
            double v = normal ? scale * hp_rng_normal(&r) : scale * (2.0 * hp_rng_uniform(&r) - 1.0);
            wt[i] = (REAL)v;
        }
        if (op->b_off >= 0)
            for (int o = 0; o < op->out.c; o++) m->state[op->b_off + o] = 0; // bias [out]
    }
    m->drop_key = hp_key2(key, HP_STREAM_DROPOUT);
    m->drop_step = 0;
}

/* Elementwise passes over whole activations, split into fixed chunks between threads (each
 * value's result is the same on any thread, so nothing depends on the thread count). */
#define HP_CHUNK ((int64_t)1 << 15)
static void MFN(relu_)(REAL *out, const REAL *inp, int64_t n) {
    // out [n] = relu(inp [n]); out may be inp
#pragma omp parallel for schedule(static) if (n >= 2 * HP_CHUNK)
    for (int64_t s = 0; s < n; s += HP_CHUNK)
        LFN(hp_relu_forward)(out + s, inp + s, n - s < HP_CHUNK ? n - s : HP_CHUNK);
}
static void MFN(relu_back_)(REAL *d, const REAL *out, int64_t n) {
    // d [n] masked in place where out [n] <= 0
#pragma omp parallel for schedule(static) if (n >= 2 * HP_CHUNK)
    for (int64_t s = 0; s < n; s += HP_CHUNK)
        LFN(hp_relu_backward)(d + s, d + s, out + s, n - s < HP_CHUNK ? n - s : HP_CHUNK);
}
static void MFN(add_)(REAL *out, const REAL *a, const REAL *b, int64_t n) {
    // out [n] = a [n] + b [n]; out may be a or b
#pragma omp parallel for schedule(static) if (n >= 2 * HP_CHUNK)
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
}

/* Batch-norm kernel dimensions: its [B, C, HW] contract over our layouts. Flat [B, C] is
 * (B, C, 1); images [C, B, h, w] are one "example" of C channels of B*h*w values each. */
static void MFN(bn_dims_)(const hp_plan_op *op, int B, int *bb, int *hw) {
    *bb = op->in.flat ? B : 1;
    *hw = op->in.flat ? 1 : B * op->in.h * op->in.w;
}

/* Forward through every op and the loss; returns the summed loss, *correct the hits. */
static double MFN(forward_)(struct MODEL *m, const REAL *x, const int32_t *y, int B, int train,
                            int64_t *correct) {
    const hp_plan *p = &m->plan;
    if (B <= 0 || B > p->max_batch) { // a caller's bug; report a NaN loss rather than overrun buffers
        *correct = 0;
        return NAN;
    }
    m->xs = x; // xs [c, B, h, w]: NCHW is that already when c = 1
    if (p->input_cnhw) {
        LFN(hp_nchw_to_cnhw)(m->xin, x, B, p->c, (int64_t)p->h * p->w);
        m->xs = m->xin;
    }
    for (int k = 0; k < p->nops; k++) {
        const hp_plan_op *op = &p->ops[k];
        const REAL *in = k == 0 ? m->xs : m->outp[k - 1]; // in [B * in_n], the op's layout
        REAL *o = op->act_off >= 0 ? m->acts + op->act_off : NULL; // o [B * out_n]
        const REAL *wt = m->state + op->w_off, *bias = op->b_off >= 0 ? m->state + op->b_off : NULL;
        const int64_t n = (int64_t)B * op->out_n;
        const int64_t planes = (int64_t)op->in.c * B; // images: [c, B] planes of [h, w]
        switch (op->type) {
        case HP_LAYER_DENSE: LFN(hp_dense_forward)(o, in, wt, bias, B, (int)op->in_n, (int)op->out_n, op->relu); break;
        case HP_LAYER_CONV: LFN(hp_conv_forward)(o, in, wt, bias, B, &op->conv, m->work, p->nslots); break;
        case HP_LAYER_BATCHNORM: {
            int bb, hw;
            MFN(bn_dims_)(op, B, &bb, &hw);
            REAL *xhat = m->acts + op->aux_off;                        // xhat [B * in_n]
            REAL *mean = xhat + (int64_t)p->max_batch * op->in_n, *invstd = mean + op->in.c; // [c], [c]
            REAL *rm = m->state + op->rm_off, *rv = m->state + op->rv_off;                   // [c], [c]
            if (train)
                LFN(hp_bn_forward_train)(o, xhat, mean, invstd, rm, rv, in, wt, bias, bb, op->in.c, hw, op->momentum,
                                         op->eps);
            else
                LFN(hp_bn_forward_eval)(o, in, wt, bias, rm, rv, bb, op->in.c, hw, op->eps);
            if (op->relu) MFN(relu_)(o, o, n);
            break;
        }
        case HP_LAYER_MAXPOOL:
            LFN(hp_maxpool_forward)(o, m->idx + op->idx_off, in, planes, &op->pool);
            if (op->relu) MFN(relu_)(o, o, n);
            break;
        case HP_LAYER_AVGPOOL: LFN(hp_avgpool_forward)(o, in, planes, &op->pool); break;
        case HP_LAYER_GLOBALAVGPOOL: LFN(hp_gap_forward)(o, in, planes, (int64_t)op->in.h * op->in.w); break;
        case HP_LAYER_DROPOUT:
            if (train) {
                uint64_t key = hp_key3(m->drop_key, m->drop_step, (uint64_t)op->layer);
                LFN(hp_dropout_forward)(o, m->mask + op->idx_off, in, n, op->p, key);
            } else {
                o = (REAL *)in; // the identity in evaluation: read-only alias
            }
            break;
        case HP_LAYER_FLATTEN:
            if (op->alias)
                o = (REAL *)(k == 0 ? x : in); // the NCHW input is the flat rows already
            else
                LFN(hp_cnhw_to_nchw)(o, in, B, op->in.c, (int64_t)op->in.h * op->in.w);
            break;
        case HP_LAYER_ADD: MFN(add_)(o, in, op->from >= 0 ? m->outp[op->from] : m->xs, n); break;
        case HP_LAYER_RELU: MFN(relu_)(o, in, n); break;
        default: LFN(hp_act_forward)(o, in, n, op->type, op->param); break; // the other activations
        }
        m->outp[k] = o;
    }
    const REAL *logits = m->outp[p->nops - 1]; // logits [B, nclasses]
    *correct = LFN(hp_xent_forward)(m->probs, m->losses, logits, y, B, p->nclasses);
    double sum = 0;
    for (int b = 0; b < B; b++) sum += (double)m->losses[b];
    return sum;
}

void MFN(step)(struct MODEL *m, const REAL *x, const int32_t *y, int B, double *loss_sum, int64_t *correct) {
    const hp_plan *p = &m->plan;
    int64_t hits = 0;
    double sum = MFN(forward_)(m, x, y, B, 1, &hits);
    *loss_sum = sum;
    *correct = hits;
    if (B <= 0 || B > p->max_batch) return;
    m->drop_step++;
    // d(mean loss)/d(loss_b) = 1/B
    REAL *d = m->dbuf0, *spare = m->dbuf1; // d [B * out_n of the current op], its layout
    LFN(hp_xent_backward)(d, m->probs, y, (REAL)1 / (REAL)B, B, p->nclasses);
    for (int k = 0; k < p->nops; k++)
        if (p->ops[k].dskip_off >= 0) memset(m->dskip + p->ops[k].dskip_off, 0, sizeof(REAL) * B * p->ops[k].out_n);
    for (int k = p->nops - 1; k >= p->first_param_op; k--) {
        const hp_plan_op *op = &p->ops[k];
        const REAL *o = m->outp[k];                         // o [B * out_n]
        const REAL *in = k == 0 ? m->xs : m->outp[k - 1];   // in [B * in_n]
        const int64_t n = (int64_t)B * op->out_n;
        const int64_t planes = (int64_t)op->in.c * B;
        if (op->dskip_off >= 0) // gradient of this output through the add layers that read it
            MFN(add_)(d, d, m->dskip + op->dskip_off, n);
        // The first op with parameters needs no input gradient: nothing below it learns.
        REAL *dinp = k == p->first_param_op ? NULL : spare; // dinp [B * in_n]
        const REAL *wt = m->state + op->w_off;
        REAL *gw = m->grad + op->w_off, *gb = op->b_off >= 0 ? m->grad + op->b_off : NULL;
        int swap = 1; // the gradient moved to spare
        switch (op->type) {
        case HP_LAYER_DENSE:
            if (op->relu) LFN(hp_relu_backward)(d, d, o, n); // in-place mask
            LFN(hp_dense_backward)(dinp, gw, gb, d, in, wt, B, (int)op->in_n, (int)op->out_n);
            break;
        case HP_LAYER_CONV: LFN(hp_conv_backward)(dinp, gw, gb, d, in, wt, B, &op->conv, m->work, p->nslots); break;
        case HP_LAYER_BATCHNORM: {
            int bb, hw;
            MFN(bn_dims_)(op, B, &bb, &hw);
            const REAL *xhat = m->acts + op->aux_off;
            const REAL *invstd = xhat + (int64_t)p->max_batch * op->in_n + op->in.c;
            if (op->relu) MFN(relu_back_)(d, o, n);
            LFN(hp_bn_backward)(dinp ? d : NULL, gw, gb, d, xhat, invstd, wt, bb, op->in.c, hw); // in place
            swap = 0;
            break;
        }
        case HP_LAYER_MAXPOOL:
            if (op->relu) MFN(relu_back_)(d, o, n);
            LFN(hp_maxpool_backward)(spare, d, m->idx + op->idx_off, planes, &op->pool);
            break;
        case HP_LAYER_AVGPOOL: LFN(hp_avgpool_backward)(spare, d, planes, &op->pool); break;
        case HP_LAYER_GLOBALAVGPOOL: LFN(hp_gap_backward)(spare, d, planes, (int64_t)op->in.h * op->in.w); break;
        case HP_LAYER_DROPOUT:
            LFN(hp_dropout_backward)(d, d, m->mask + op->idx_off, n, op->p);
            swap = 0;
            break;
        case HP_LAYER_FLATTEN:
            if (op->alias)
                swap = 0;
            else
                LFN(hp_nchw_to_cnhw)(spare, d, B, op->in.c, (int64_t)op->in.h * op->in.w);
            break;
        case HP_LAYER_ADD:
            // d(in + other) passes unchanged to both: to the input here, to `from` through its
            // accumulator (nothing to do when `from` is below every parameter).
            if (op->from >= p->first_param_op) {
                REAL *a = m->dskip + p->ops[op->from].dskip_off;
                MFN(add_)(a, a, d, n);
            }
            swap = 0;
            break;
        case HP_LAYER_RELU:
            MFN(relu_back_)(d, o, n);
            swap = 0;
            break;
        default:
            LFN(hp_act_backward)(d, d, in, o, n, op->type, op->param);
            swap = 0;
            break;
        }
        if (swap) {
            REAL *t = d;
            d = spare;
            spare = t;
        }
    }
}

void MFN(eval)(struct MODEL *m, const REAL *x, const int32_t *y, int B, double *loss_sum, int64_t *correct) {
    int64_t hits = 0;
    *loss_sum = MFN(forward_)(m, x, y, B, 0, &hits);
    *correct = hits;
}
