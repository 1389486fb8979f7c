/* optim_tmpl.h - the update loops of optim.c in one precision; included by optim.c only.
 *
 * Before including, define REAL (type of parameters and gradients), BUF (type of the moment
 * buffers), SQRT (sqrt or sqrtf, so a float root is rounded once, as PyTorch's is) and SFX
 * (suffix of the generated function names). Each loop is one fused pass over
 * the flat vectors and follows the order of operations of PyTorch's single-tensor optimizer
 * code, with every constant rounded to REAL first as PyTorch rounds a Python scalar to the
 * tensor's dtype: so the double variant matches float64 PyTorch to the last bits and the float
 * variant float32 PyTorch to rounding. Loop-invariant branches (weight decay on or off, first
 * step) sit outside the loops or are unswitched by the compiler.
 */
#define OPT_CAT2_(a, b) a##_##b
#define OPT_CAT_(a, b) OPT_CAT2_(a, b)
#define OPT_FN(name) OPT_CAT_(name, SFX)

/* SGD (torch.optim.SGD, dampening 0):
 *   g = grad + wd * p;  buf = first ? g : m * buf + g;  p -= lr * (nesterov ? g + m * buf : buf)
 * buf [n] (unused when momentum is 0). */
static void OPT_FN(sgd_step)(const hp_optim_spec *s, int64_t n, REAL *params, const REAL *grads, BUF *buf,
                             double lr, int first) {
    const REAL lr_ = (REAL)lr, wd = (REAL)s->weight_decay, m = (REAL)s->momentum;
    if (s->momentum == 0) {
        for (int64_t i = 0; i < n; i++) params[i] -= lr_ * (grads[i] + wd * params[i]);
    } else if (first) {
        for (int64_t i = 0; i < n; i++) {
            REAL g = grads[i] + wd * params[i];
            buf[i] = (BUF)g;
            params[i] -= lr_ * (s->nesterov ? g + m * g : g);
        }
    } else if (s->nesterov) {
        for (int64_t i = 0; i < n; i++) {
            REAL g = grads[i] + wd * params[i];
            REAL b = m * (REAL)buf[i] + g;
            buf[i] = (BUF)b;
            params[i] -= lr_ * (g + m * b);
        }
    } else {
        for (int64_t i = 0; i < n; i++) {
            REAL g = grads[i] + wd * params[i];
            REAL b = m * (REAL)buf[i] + g;
            buf[i] = (BUF)b;
            params[i] -= lr_ * b;
        }
    }
}

/* Adam (torch.optim.Adam, amsgrad off) at step t (1-based), coupled: g = grad + wd * p;
 * AdamW (torch.optim.AdamW), decoupled: p *= 1 - lr * wd, then g = grad.
 *   m1 = b1 * m1 + (1 - b1) * g
 *   m2 = b2 * m2 + (1 - b2) * g * g
 *   p += -(lr / (1 - b1^t)) * (m1 / (sqrt(m2) / sqrt(1 - b2^t) + eps))
 * The bias corrections and the step size are computed once, in double, like PyTorch's Python
 * scalars. m1, m2 [n]. */
static void OPT_FN(adam_step)(const hp_optim_spec *s, int64_t n, REAL *params, const REAL *grads, BUF *m1,
                              BUF *m2, double lr, int64_t t, int decoupled) {
    const double bc1 = 1.0 - pow(s->beta1, (double)t), bc2 = 1.0 - pow(s->beta2, (double)t);
    const REAL neg_step = (REAL)(-(lr / bc1)), bc2_sqrt = (REAL)sqrt(bc2), eps = (REAL)s->eps;
    const REAL b1 = (REAL)s->beta1, b2 = (REAL)s->beta2;
    const REAL one_b1 = (REAL)(1.0 - s->beta1), one_b2 = (REAL)(1.0 - s->beta2);
    const REAL wd = (REAL)s->weight_decay, shrink = (REAL)(1.0 - lr * s->weight_decay);
    const int coupled = !decoupled && s->weight_decay != 0;
    for (int64_t i = 0; i < n; i++) {
        REAL p = params[i];
        if (decoupled) p *= shrink;
        REAL g = coupled ? grads[i] + wd * p : grads[i];
        REAL a = (REAL)m1[i] * b1 + one_b1 * g;
        REAL v = (REAL)m2[i] * b2 + one_b2 * g * g;
        m1[i] = (BUF)a;
        m2[i] = (BUF)v;
        REAL denom = SQRT(v) / bc2_sqrt + eps;
        params[i] = p + neg_step * (a / denom);
    }
}

/* RMSProp (torch.optim.RMSprop, centered off), coupled: g = grad + wd * p;
 *   sq = alpha * sq + (1 - alpha) * g * g;  d = g / (sqrt(sq) + eps)
 *   momentum 0: p += -lr * d;   momentum m: buf = m * buf + d (buf starts at 0), p += -lr * buf
 * sq [n], buf [n] (unused when momentum is 0). */
static void OPT_FN(rmsprop_step)(const hp_optim_spec *s, int64_t n, REAL *params, const REAL *grads, BUF *sq,
                                 BUF *buf, double lr) {
    const REAL neg_lr = (REAL)(-lr), wd = (REAL)s->weight_decay, eps = (REAL)s->eps;
    const REAL al = (REAL)s->alpha, one_al = (REAL)(1.0 - s->alpha), m = (REAL)s->momentum;
    const int coupled = s->weight_decay != 0, mom = s->momentum > 0;
    for (int64_t i = 0; i < n; i++) {
        REAL p = params[i];
        REAL g = coupled ? grads[i] + wd * p : grads[i];
        REAL q = (REAL)sq[i] * al + one_al * g * g;
        sq[i] = (BUF)q;
        REAL d = g / (SQRT(q) + eps);
        if (mom) {
            REAL b = (REAL)buf[i] * m + d;
            buf[i] = (BUF)b;
            params[i] = p + neg_lr * b;
        } else {
            params[i] = p + neg_lr * d;
        }
    }
}

/* AdaGrad (torch.optim.Adagrad, lr_decay 0 so the step's lr is lr, initial accumulator 0),
 * coupled: g = grad + wd * p;  sum += g * g;  p += -lr * (g / (sqrt(sum) + eps)).  sum [n]. */
static void OPT_FN(adagrad_step)(const hp_optim_spec *s, int64_t n, REAL *params, const REAL *grads, BUF *sum,
                                 double lr) {
    const REAL neg_lr = (REAL)(-lr), wd = (REAL)s->weight_decay, eps = (REAL)s->eps;
    const int coupled = s->weight_decay != 0;
    for (int64_t i = 0; i < n; i++) {
        REAL p = params[i];
        REAL g = coupled ? grads[i] + wd * p : grads[i];
        REAL acc = (REAL)sum[i] + g * g;
        sum[i] = (BUF)acc;
        params[i] = p + neg_lr * (g / (SQRT(acc) + eps));
    }
}

/* One step of whichever type: moments are consecutive [n] blocks of `state` (layout in optim.h);
 * t is the 1-based number of this step. */
static void OPT_FN(dispatch)(const hp_optim_spec *s, int64_t n, REAL *params, const REAL *grads, BUF *state,
                             double lr, int64_t t) {
    switch (s->type) {
    case HP_OPTIM_SGD: OPT_FN(sgd_step)(s, n, params, grads, state, lr, t == 1); break;
    case HP_OPTIM_ADAM: OPT_FN(adam_step)(s, n, params, grads, state, state + n, lr, t, 0); break;
    case HP_OPTIM_ADAMW: OPT_FN(adam_step)(s, n, params, grads, state, state + n, lr, t, 1); break;
    case HP_OPTIM_RMSPROP: OPT_FN(rmsprop_step)(s, n, params, grads, state, state + n, lr); break;
    case HP_OPTIM_ADAGRAD: OPT_FN(adagrad_step)(s, n, params, grads, state, lr); break;
    case HP_OPTIM_COUNT_: break; // rejected by hp_optim_spec_check at creation
    }
}

#undef OPT_FN
#undef OPT_CAT_
#undef OPT_CAT2_
