/* act_tmpl.h - the activation bodies, written once for both precisions.
 *
 * Included by act.c twice, with these macros defined:
 *   REAL                      float or double
 *   SFX(name)                 name##_f32 or name##_f64
 *   EXP, EXPM1, ERF, TANH     expf/expm1f/erff/tanhf or exp/expm1/erf/tanh
 * No include guard on purpose. See act.h for the contracts and formulas.
 *
 * Each public function cuts [0, n) into blocks of HP_ACT_BLOCK values and runs a serial kernel
 * on each, over threads for large n (any split gives the same values: there is no reduction).
 * The kernels take every operand as a parameter: inside an OpenMP-outlined loop a captured
 * scalar lives in a struct that a REAL store may alias, which stops GCC from vectorising.
 * Piecewise-linear functions are written with selects of a value or 0, then arithmetic on both
 * parts: pos + slope * neg with pos = x > 0 ? x : 0, neg = x > 0 ? 0 : x (exact: one of the two
 * is 0), not x > 0 ? x : x * slope: GCC (without fast-math) if-converts and vectorises the first
 * form but leaves a branch in the second.
 */

/* out [n] = act(inp [n]); a = slope (leaky) or alpha (elu). */
static void SFX(act_forward_block)(REAL *out, const REAL *inp, int64_t n, hp_layer_type type, REAL a) {
    switch (type) {
    case HP_LAYER_RELU:
        for (int64_t i = 0; i < n; i++) out[i] = inp[i] < (REAL)0 ? (REAL)0 : inp[i]; // NaN stays NaN
        return;
    case HP_LAYER_LEAKY_RELU: // y = x > 0 ? x : slope * x = pos + slope * neg (exact; NaN stays NaN)
        for (int64_t i = 0; i < n; i++) {
            REAL x = inp[i];
            REAL pos = x > (REAL)0 ? x : (REAL)0, neg = x > (REAL)0 ? (REAL)0 : x;
            out[i] = pos + a * neg;
        }
        return;
    case HP_LAYER_ELU: // y = x > 0 ? x : alpha * (e^x - 1), with expm1 for accuracy near 0
        for (int64_t i = 0; i < n; i++) {
            REAL x = inp[i];
            out[i] = x > (REAL)0 ? x : a * EXPM1(x);
        }
        return;
    case HP_LAYER_GELU: // y = x * Phi(x) = x/2 * (1 + erf(x / sqrt 2))
        for (int64_t i = 0; i < n; i++) {
            REAL x = inp[i];
            out[i] = (REAL)0.5 * x * ((REAL)1 + ERF(x * (REAL)HP_SQRT1_2));
        }
        return;
    case HP_LAYER_TANH:
        for (int64_t i = 0; i < n; i++) out[i] = TANH(inp[i]);
        return;
    case HP_LAYER_SIGMOID: // e = exp(-|x|) <= 1 never overflows: y = 1/(1+e) for x >= 0, e/(1+e) else
        for (int64_t i = 0; i < n; i++) {
            REAL x = inp[i];
            REAL e = EXP(x < (REAL)0 ? x : -x);
            REAL r = (REAL)1 / ((REAL)1 + e);
            out[i] = r * (x >= (REAL)0 ? (REAL)1 : e);
        }
        return;
    default:
        for (int64_t i = 0; i < n; i++) out[i] = (REAL)NAN; // not an activation: loud, not silent
        return;
    }
}

/* dinp [n] = dout [n] * act'(x); x from inp [n] or out [n] as act.h says. */
static void SFX(act_backward_block)(REAL *dinp, const REAL *dout, const REAL *inp, const REAL *out, int64_t n,
                                    hp_layer_type type, REAL a) {
    switch (type) {
    case HP_LAYER_RELU:
    case HP_LAYER_LEAKY_RELU: {
        // dy/dx = x > 0 ? 1 : slope (relu: slope 0); out > 0 exactly where x > 0 (slope >= 0).
        const REAL *x = inp ? inp : out;
        const REAL lo = type == HP_LAYER_RELU ? (REAL)0 : a;
        for (int64_t i = 0; i < n; i++) {
            REAL g = dout[i];
            REAL gp = x[i] > (REAL)0 ? g : (REAL)0, gn = x[i] > (REAL)0 ? (REAL)0 : g;
            dinp[i] = gp + lo * gn;
        }
        return;
    }
    case HP_LAYER_ELU:
        if (inp) { // dy/dx = alpha * e^x for x <= 0
            for (int64_t i = 0; i < n; i++) {
                REAL x = inp[i], g = dout[i];
                dinp[i] = x > (REAL)0 ? g : g * a * EXP(x);
            }
        } else { // from the output: alpha * e^x = y + alpha for x <= 0
            for (int64_t i = 0; i < n; i++) {
                REAL y = out[i], g = dout[i];
                REAL gp = y > (REAL)0 ? g : (REAL)0, gn = y > (REAL)0 ? (REAL)0 : g;
                REAL yn = y > (REAL)0 ? (REAL)0 : y;
                dinp[i] = gp + gn * (yn + a);
            }
        }
        return;
    case HP_LAYER_GELU: // dy/dx = Phi(x) + x * phi(x)
        for (int64_t i = 0; i < n; i++) {
            REAL x = inp[i];
            REAL cdf = (REAL)0.5 * ((REAL)1 + ERF(x * (REAL)HP_SQRT1_2));
            REAL pdf = EXP((REAL)-0.5 * x * x) * (REAL)HP_INV_SQRT_2PI;
            dinp[i] = dout[i] * (cdf + x * pdf);
        }
        return;
    case HP_LAYER_TANH: // dy/dx = 1 - y^2
        for (int64_t i = 0; i < n; i++) {
            REAL y = out[i];
            dinp[i] = dout[i] * ((REAL)1 - y * y);
        }
        return;
    case HP_LAYER_SIGMOID: // dy/dx = y (1 - y)
        for (int64_t i = 0; i < n; i++) {
            REAL y = out[i];
            dinp[i] = dout[i] * ((REAL)1 - y) * y;
        }
        return;
    default:
        for (int64_t i = 0; i < n; i++) dinp[i] = (REAL)NAN;
        return;
    }
}

void SFX(hp_act_forward)(REAL *out, const REAL *inp, int64_t n, hp_layer_type type, double param) {
    // out [n], inp [n]; out may be inp.
    const REAL a = (REAL)param;
    const int64_t nb = (n + HP_ACT_BLOCK - 1) / HP_ACT_BLOCK;
    if (n < hp_act_parallel_min(type)) {
        SFX(act_forward_block)(out, inp, n, type, a);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t s = b * HP_ACT_BLOCK, len = n - s < HP_ACT_BLOCK ? n - s : HP_ACT_BLOCK;
        SFX(act_forward_block)(out + s, inp + s, len, type, a);
    }
}

void SFX(hp_act_backward)(REAL *dinp, const REAL *dout, const REAL *inp, const REAL *out, int64_t n,
                          hp_layer_type type, double param) {
    // dinp, dout, inp, out [n]; dinp may be dout. What each type reads: see act.h.
    const REAL a = (REAL)param;
    const int64_t nb = (n + HP_ACT_BLOCK - 1) / HP_ACT_BLOCK;
    if (n < hp_act_parallel_min(type)) {
        SFX(act_backward_block)(dinp, dout, inp, out, n, type, a);
        return;
    }
#pragma omp parallel for schedule(static)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t s = b * HP_ACT_BLOCK, len = n - s < HP_ACT_BLOCK ? n - s : HP_ACT_BLOCK;
        SFX(act_backward_block)(dinp + s, dout + s, inp ? inp + s : NULL, out ? out + s : NULL, len, type, a);
    }
}
