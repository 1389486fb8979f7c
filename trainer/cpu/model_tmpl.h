/* model_tmpl.h - hp_model (float) and hp_model64 (double), written once.
 *
 * Included by model.c twice, with these macros defined:
 *   REAL       float or double
 *   MODEL      hp_model or hp_model64 (the struct tag)
 *   MFN(name)  hp_model_##name or hp_model64_##name
 *   LFN(name)  name##_f32 or name##_f64 (the layers of layers.h)
 * No include guard on purpose.
 */

struct MODEL {
    hp_plan plan;
    REAL *state;  // [nstate]  parameters, then buffers
    REAL *grad;   // [nparams] same order as the parameters
    REAL *acts;   // [act_size] every op's output [max_batch, out], one arena
    REAL *probs;  // [max_batch, nclasses] softmax of the logits
    REAL *losses; // [max_batch] per-example cross-entropy
    REAL *dbuf0;  // [max_batch, max_width] gradient ping-pong buffers
    REAL *dbuf1;  // [max_batch, max_width]
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
    int64_t dsize = (int64_t)p->max_batch * p->max_width;
    // Allocated once here, reused by every step (fresh pages are expensive; see DESIGN.md).
    if (!(m->state = hp_calloc((size_t)p->nstate, sizeof(REAL), "the model state", err)) ||
        !(m->grad = hp_calloc((size_t)p->nparams, sizeof(REAL), "the model gradients", err)) ||
        !(m->acts = hp_calloc((size_t)p->act_size, sizeof(REAL), "the activations", err)) ||
        !(m->probs = hp_calloc((size_t)p->max_batch * p->nclasses, sizeof(REAL), "the softmax", err)) ||
        !(m->losses = hp_calloc((size_t)p->max_batch, sizeof(REAL), "the losses", err)) ||
        !(m->dbuf0 = hp_calloc((size_t)dsize, sizeof(REAL), "the activation gradients", err)) ||
        !(m->dbuf1 = hp_calloc((size_t)dsize, sizeof(REAL), "the activation gradients", err))) {
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

void MFN(init)(struct MODEL *m, uint64_t key) {
    const hp_plan *p = &m->plan;
    for (int k = 0; k < p->nops; k++) {
        const hp_plan_op *op = &p->ops[k];
        if (op->type != HP_LAYER_DENSE) continue;
        double scale;
        int normal;
        hp_plan_init_rule(p, op->layer, &scale, &normal);
        // Drawn in double in row-major [out, in] order, so both precisions get the same values.
        hp_rng r = hp_rng_make(hp_key2(key, (uint64_t)op->layer));
        REAL *wt = m->state + op->w_off; // wt [out, in]
        int64_t n = (int64_t)op->out * op->in;
        for (int64_t i = 0; i < n; i++) {
            double v = normal ? scale * hp_rng_normal(&r) : scale * (2.0 * hp_rng_uniform(&r) - 1.0);
            wt[i] = (REAL)v;
        }
        REAL *bias = m->state + op->b_off; // bias [out]
        for (int o = 0; o < op->out; o++) bias[o] = 0;
    }
}

/* Forward through every op and the loss; returns the summed loss, *correct the hits. */
static double MFN(forward_)(struct MODEL *m, const REAL *x, const int32_t *y, int B, int64_t *correct) {
    const hp_plan *p = &m->plan;
    if (B <= 0 || B > p->max_batch) { // a caller's bug; report a NaN loss rather than overrun buffers
        *correct = 0;
        return NAN;
    }
    const REAL *h = x; // h [B, in of op k]
    for (int k = 0; k < p->nops; k++) {
        const hp_plan_op *op = &p->ops[k];
        REAL *o = m->acts + op->act_off; // o [B, op->out]
        if (op->type == HP_LAYER_DENSE) {
            const REAL *wt = m->state + op->w_off, *bias = m->state + op->b_off; // [out, in], [out]
            LFN(hp_dense_forward)(o, h, wt, bias, B, op->in, op->out, op->relu);
        } else {
            LFN(hp_relu_forward)(o, h, (int64_t)B * op->out);
        }
        h = o;
    }
    // h = logits [B, nclasses]
    *correct = LFN(hp_xent_forward)(m->probs, m->losses, h, y, B, p->nclasses);
    double sum = 0;
    for (int b = 0; b < B; b++) sum += (double)m->losses[b];
    return sum;
}

void MFN(step)(struct MODEL *m, const REAL *x, const int32_t *y, int B, double *loss_sum, int64_t *correct) {
    const hp_plan *p = &m->plan;
    int64_t hits = 0;
    double sum = MFN(forward_)(m, x, y, B, &hits);
    *loss_sum = sum;
    *correct = hits;
    if (B <= 0 || B > p->max_batch) return;
    // d(mean loss)/d(loss_b) = 1/B
    REAL *d = m->dbuf0, *spare = m->dbuf1; // d [B, width of the current op's output]
    LFN(hp_xent_backward)(d, m->probs, y, (REAL)1 / (REAL)B, B, p->nclasses);
    for (int k = p->nops - 1; k >= p->first_param_op; k--) {
        const hp_plan_op *op = &p->ops[k];
        const REAL *o = m->acts + op->act_off;                          // o [B, out]
        const REAL *inp = k == 0 ? x : m->acts + p->ops[k - 1].act_off; // inp [B, in]
        if (op->type == HP_LAYER_RELU) {
            LFN(hp_relu_backward)(d, d, o, (int64_t)B * op->out); // in-place mask
            continue;
        }
        if (op->relu) LFN(hp_relu_backward)(d, d, o, (int64_t)B * op->out);
        // The first op with parameters needs no input gradient: nothing below it learns.
        REAL *dinp = k == p->first_param_op ? NULL : spare; // dinp [B, in]
        REAL *dwt = m->grad + op->w_off, *dbias = m->grad + op->b_off; // [out, in], [out]
        LFN(hp_dense_backward)(dinp, dwt, dbias, d, inp, m->state + op->w_off, B, op->in, op->out);
        spare = d;
        d = dinp;
    }
}

void MFN(eval)(struct MODEL *m, const REAL *x, const int32_t *y, int B, double *loss_sum, int64_t *correct) {
    // No layer behaves differently in evaluation mode yet (no dropout, no batch norm).
    int64_t hits = 0;
    *loss_sum = MFN(forward_)(m, x, y, B, &hits);
    *correct = hits;
}
