/* norm_tmpl.h - the batch-norm bodies, written once for both precisions.
 *
 * Included by norm.c twice, with these macros defined:
 *   REAL        float or double
 *   SFX(name)   name##_f32 or name##_f64
 * No include guard on purpose. See norm.h for the contracts and formulas.
 *
 * Layout: channel c of example b is the contiguous block inp + (b*C + c)*HW of HW values.
 * Channels are processed in groups of consecutive channels (one group per thread, at most
 * HP_BN_GROUP), and within a group example by example, so that each pass streams through
 * memory in order (the group's blocks of example b are adjacent): twice as fast as finishing
 * one channel before the next, whose blocks lie C*HW apart. Every channel is summed in the same
 * order (examples ascending, positions in HP_BN_LANES interleaved lanes) whatever group holds
 * it, so results never depend on the grouping or the thread count. When HW == 1 (after a dense
 * layer) rows [C] are swept instead, with the loops over channels innermost.
 */

/* Accumulate over one contiguous block x [len] the shifted sums
 *   s[l] += sum (x - K),  q[l] += sum (x - K)^2   over the indices i = l (mod HP_BN_LANES),
 * so that the adds of different lanes pipeline while the order stays fixed. */
static inline void SFX(bn_block_sums)(double *restrict s, double *restrict q, const REAL *x, int64_t len,
                                      double K) {
    int64_t i = 0;
    for (; i + HP_BN_LANES <= len; i += HP_BN_LANES) {
        for (int l = 0; l < HP_BN_LANES; l++) {
            double d = (double)x[i + l] - K;
            s[l] += d;
            q[l] += d * d;
        }
    }
    for (int l = 0; i < len; i++, l++) {
        double d = (double)x[i] - K;
        s[l] += d;
        q[l] += d * d;
    }
}

/* The same for the backward sums: s[l] += sum dout, q[l] += sum dout * xhat. */
static inline void SFX(bn_block_dsums)(double *restrict s, double *restrict q, const REAL *dout, const REAL *xhat,
                                       int64_t len) {
    int64_t i = 0;
    for (; i + HP_BN_LANES <= len; i += HP_BN_LANES) {
        for (int l = 0; l < HP_BN_LANES; l++) {
            double g = (double)dout[i + l];
            s[l] += g;
            q[l] += g * (double)xhat[i + l];
        }
    }
    for (int l = 0; i < len; i++, l++) {
        double g = (double)dout[i];
        s[l] += g;
        q[l] += g * (double)xhat[i];
    }
}

/* Statistics of a channel from its shifted sums s = sum (x - K), q = sum (x - K)^2 over n values;
 * stores mean and invstd and updates the running statistics (see norm.h). */
static inline void SFX(bn_finish_stats)(REAL *mean, REAL *invstd, REAL *running_mean, REAL *running_var, double s,
                                        double q, double K, int64_t n, double momentum, double eps) {
    double md = s / (double)n;            // mean - K
    double var = q / (double)n - md * md; // biased variance, shifted-data formula
    if (var < 0) var = 0;                 // rounding only
    double m = K + md;
    *mean = (REAL)m;
    *invstd = (REAL)(1.0 / sqrt(var + eps));
    if (running_mean) *running_mean = (REAL)((1.0 - momentum) * (double)*running_mean + momentum * m);
    // Unbiased variance (Bessel: n/(n-1)) for the running estimate; undefined for n = 1: unchanged.
    if (running_var && n > 1)
        *running_var = (REAL)((1.0 - momentum) * (double)*running_var + momentum * var * (double)n / (double)(n - 1));
}

/* ---- forward, training ------------------------------------------------------------------ */

/* Channels [c0, c0 + ng), ng <= HP_BN_GROUP, HW > 1. */
static void SFX(bn_train_group)(REAL *out, REAL *xhat, REAL *mean, REAL *invstd, REAL *running_mean,
                                REAL *running_var, const REAL *inp, const REAL *weight, const REAL *bias, int B,
                                int C, int HW, int c0, int ng, double momentum, double eps) {
    // Pass 1: shifted sums, shift K = the channel's first value (b = 0, position 0).
    double s[HP_BN_GROUP][HP_BN_LANES], q[HP_BN_GROUP][HP_BN_LANES], K[HP_BN_GROUP];
    for (int k = 0; k < ng; k++) {
        K[k] = (double)inp[(int64_t)(c0 + k) * HW];
        for (int l = 0; l < HP_BN_LANES; l++) s[k][l] = q[k][l] = 0;
    }
    for (int b = 0; b < B; b++)
        for (int k = 0; k < ng; k++) SFX(bn_block_sums)(s[k], q[k], inp + ((int64_t)b * C + c0 + k) * HW, HW, K[k]);
    const int64_t n = (int64_t)B * HW;
    REAL mu[HP_BN_GROUP], is[HP_BN_GROUP], w[HP_BN_GROUP], bb[HP_BN_GROUP];
    for (int k = 0; k < ng; k++) {
        const int c = c0 + k;
        double st = 0, qt = 0;
        for (int l = 0; l < HP_BN_LANES; l++) st += s[k][l], qt += q[k][l];
        SFX(bn_finish_stats)(mean + c, invstd + c, running_mean ? running_mean + c : NULL,
                             running_var ? running_var + c : NULL, st, qt, K[k], n, momentum, eps);
        mu[k] = mean[c], is[k] = invstd[c];
        w[k] = weight ? weight[c] : (REAL)1, bb[k] = bias ? bias[c] : (REAL)0;
    }
    // Pass 2: xhat = (x - mean) * invstd; out = xhat * weight + bias, element by element, so
    // out (or xhat) may overwrite inp.
    for (int b = 0; b < B; b++)
        for (int k = 0; k < ng; k++) {
            const int64_t off = ((int64_t)b * C + c0 + k) * HW;
            const REAL *x = inp + off; // x [HW]
            REAL *xh = xhat + off, *o = out + off;
            const REAL m = mu[k], sd = is[k], ww = w[k], bk = bb[k];
            for (int j = 0; j < HW; j++) {
                REAL v = (x[j] - m) * sd;
                xh[j] = v;
                o[j] = v * ww + bk;
            }
        }
}

void SFX(hp_bn_forward_train)(REAL *out, REAL *xhat, REAL *mean, REAL *invstd, REAL *running_mean,
                              REAL *running_var, const REAL *inp, const REAL *weight, const REAL *bias, int B,
                              int C, int HW, double momentum, double eps) {
    // out, xhat, inp [B, C, HW]; mean, invstd, running_mean, running_var, weight, bias [C]
    const int64_t n = (int64_t)B * HW;
    if (n <= 0 || C <= 0) return;
    if (HW > 1) {
        const int g = bn_group_size(C, n * C), ngroups = (C + g - 1) / g;
#pragma omp parallel for schedule(static) if (ngroups > 1)
        for (int gi = 0; gi < ngroups; gi++) {
            const int c0 = gi * g, ng = C - c0 < g ? C - c0 : g;
            SFX(bn_train_group)(out, xhat, mean, invstd, running_mean, running_var, inp, weight, bias, B, C, HW, c0,
                                ng, momentum, eps);
        }
        return;
    }
    // HW == 1: inp is [B, C] rows; statistics for HP_BN_GROUP channels at a time.
    for (int c0 = 0; c0 < C; c0 += HP_BN_GROUP) {
        const int nc = C - c0 < HP_BN_GROUP ? C - c0 : HP_BN_GROUP;
        double K[HP_BN_GROUP], s[HP_BN_GROUP] = {0}, q[HP_BN_GROUP] = {0};
        for (int k = 0; k < nc; k++) K[k] = (double)inp[c0 + k];
        for (int b = 0; b < B; b++) {
            const REAL *x = inp + (int64_t)b * C + c0; // x [nc]
            for (int k = 0; k < nc; k++) {
                double d = (double)x[k] - K[k];
                s[k] += d;
                q[k] += d * d;
            }
        }
        for (int k = 0; k < nc; k++)
            SFX(bn_finish_stats)(mean + c0 + k, invstd + c0 + k, running_mean ? running_mean + c0 + k : NULL,
                                 running_var ? running_var + c0 + k : NULL, s[k], q[k], K[k], n, momentum, eps);
        REAL w[HP_BN_GROUP], bb[HP_BN_GROUP];
        for (int k = 0; k < nc; k++) {
            w[k] = weight ? weight[c0 + k] : (REAL)1;
            bb[k] = bias ? bias[c0 + k] : (REAL)0;
        }
        for (int b = 0; b < B; b++) {
            const REAL *x = inp + (int64_t)b * C + c0; // x [nc]
            REAL *xh = xhat + (int64_t)b * C + c0, *o = out + (int64_t)b * C + c0;
            for (int k = 0; k < nc; k++) {
                REAL v = (x[k] - mean[c0 + k]) * invstd[c0 + k];
                xh[k] = v;
                o[k] = v * w[k] + bb[k];
            }
        }
    }
}

/* ---- forward, evaluation ---------------------------------------------------------------- */

/* out = x * scale + shift, scale = weight / sqrt(running_var + eps), shift = bias - running_mean *
 * scale (one multiply-add per value; the per-channel constants in double, rounded once), for
 * channels [c0, c0 + ng), ng <= HP_BN_GROUP; HW == 1 included. */
static void SFX(bn_eval_group)(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias,
                               const REAL *running_mean, const REAL *running_var, int B, int C, int HW, int c0,
                               int ng, double eps) {
    REAL scale[HP_BN_GROUP], shift[HP_BN_GROUP];
    for (int k = 0; k < ng; k++) {
        const int c = c0 + k;
        double sc = (weight ? (double)weight[c] : 1.0) / sqrt((double)running_var[c] + eps);
        scale[k] = (REAL)sc;
        shift[k] = (REAL)((bias ? (double)bias[c] : 0.0) - (double)running_mean[c] * sc);
    }
    if (HW == 1) {
        for (int b = 0; b < B; b++) {
            const REAL *x = inp + (int64_t)b * C + c0; // x [ng]
            REAL *o = out + (int64_t)b * C + c0;
            for (int k = 0; k < ng; k++) o[k] = x[k] * scale[k] + shift[k];
        }
        return;
    }
    for (int b = 0; b < B; b++)
        for (int k = 0; k < ng; k++) {
            const int64_t off = ((int64_t)b * C + c0 + k) * HW;
            const REAL *x = inp + off; // x [HW]
            REAL *o = out + off;
            const REAL sc = scale[k], sh = shift[k];
            for (int j = 0; j < HW; j++) o[j] = x[j] * sc + sh;
        }
}

void SFX(hp_bn_forward_eval)(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias,
                             const REAL *running_mean, const REAL *running_var, int B, int C, int HW, double eps) {
    // out, inp [B, C, HW]; weight, bias, running_mean, running_var [C].
    const int64_t n = (int64_t)B * HW;
    if (n <= 0 || C <= 0) return;
    const int g = HW > 1 ? bn_group_size(C, n * C) : HP_BN_GROUP, ngroups = (C + g - 1) / g;
#pragma omp parallel for schedule(static) if (ngroups > 1 && HW > 1)
    for (int gi = 0; gi < ngroups; gi++) {
        const int c0 = gi * g, ng = C - c0 < g ? C - c0 : g;
        SFX(bn_eval_group)(out, inp, weight, bias, running_mean, running_var, B, C, HW, c0, ng, eps);
    }
}

/* ---- backward --------------------------------------------------------------------------- */

/* dinp = a * dout + b0 + a1 * xhat, with a = weight * invstd, b0 = -a * dbias / n,
 * a1 = -a * dweight / n (norm.h's formula with the channel sums folded into constants).
 * Channels [c0, c0 + ng), ng <= HP_BN_GROUP; HW == 1 included. */
static void SFX(bn_backward_group)(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *xhat,
                                   const REAL *invstd, const REAL *weight, int B, int C, int HW, int c0, int ng) {
    const int64_t n = (int64_t)B * HW;
    double sum_g[HP_BN_GROUP], sum_gx[HP_BN_GROUP];
    if (HW == 1) {
        for (int k = 0; k < ng; k++) sum_g[k] = sum_gx[k] = 0;
        for (int b = 0; b < B; b++) {
            const REAL *g = dout + (int64_t)b * C + c0, *xh = xhat + (int64_t)b * C + c0; // [ng]
            for (int k = 0; k < ng; k++) {
                sum_g[k] += (double)g[k];
                sum_gx[k] += (double)g[k] * (double)xh[k];
            }
        }
    } else {
        double s[HP_BN_GROUP][HP_BN_LANES], q[HP_BN_GROUP][HP_BN_LANES];
        for (int k = 0; k < ng; k++)
            for (int l = 0; l < HP_BN_LANES; l++) s[k][l] = q[k][l] = 0;
        for (int b = 0; b < B; b++)
            for (int k = 0; k < ng; k++) {
                const int64_t off = ((int64_t)b * C + c0 + k) * HW;
                SFX(bn_block_dsums)(s[k], q[k], dout + off, xhat + off, HW);
            }
        for (int k = 0; k < ng; k++) {
            sum_g[k] = sum_gx[k] = 0;
            for (int l = 0; l < HP_BN_LANES; l++) sum_g[k] += s[k][l], sum_gx[k] += q[k][l];
        }
    }
    REAL ar[HP_BN_GROUP], b0[HP_BN_GROUP], a1[HP_BN_GROUP];
    for (int k = 0; k < ng; k++) {
        const int c = c0 + k;
        if (dbias) dbias[c] = (REAL)sum_g[k];
        if (dweight) dweight[c] = (REAL)sum_gx[k];
        const double a = (weight ? (double)weight[c] : 1.0) * (double)invstd[c];
        ar[k] = (REAL)a;
        b0[k] = (REAL)(-a * sum_g[k] / (double)n);
        a1[k] = (REAL)(-a * sum_gx[k] / (double)n);
    }
    if (!dinp) return;
    if (HW == 1) {
        for (int b = 0; b < B; b++) {
            const REAL *g = dout + (int64_t)b * C + c0, *xh = xhat + (int64_t)b * C + c0; // [ng]
            REAL *d = dinp + (int64_t)b * C + c0;
            for (int k = 0; k < ng; k++) d[k] = ar[k] * g[k] + b0[k] + a1[k] * xh[k];
        }
        return;
    }
    for (int b = 0; b < B; b++)
        for (int k = 0; k < ng; k++) {
            const int64_t off = ((int64_t)b * C + c0 + k) * HW;
            const REAL *g = dout + off, *xh = xhat + off; // [HW]
            REAL *d = dinp + off;
            const REAL a = ar[k], c = b0[k], e = a1[k];
            for (int j = 0; j < HW; j++) d[j] = a * g[j] + c + e * xh[j];
        }
}

void SFX(hp_bn_backward)(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *xhat,
                         const REAL *invstd, const REAL *weight, int B, int C, int HW) {
    // dinp, dout, xhat [B, C, HW]; dweight, dbias, invstd, weight [C]
    const int64_t n = (int64_t)B * HW;
    if (n <= 0 || C <= 0) return;
    const int g = HW > 1 ? bn_group_size(C, n * C) : HP_BN_GROUP, ngroups = (C + g - 1) / g;
#pragma omp parallel for schedule(static) if (ngroups > 1 && HW > 1)
    for (int gi = 0; gi < ngroups; gi++) {
        const int c0 = gi * g, ng = C - c0 < g ? C - c0 : g;
        SFX(bn_backward_group)(dinp, dweight, dbias, dout, xhat, invstd, weight, B, C, HW, c0, ng);
    }
}
