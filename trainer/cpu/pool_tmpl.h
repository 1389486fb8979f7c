/* pool_tmpl.h - the pooling and layout bodies, written once for both precisions.
 *
 * Included by pool.c twice, with REAL (float or double) and SFX(name) (name##_f32 or _f64)
 * defined. No include guard on purpose. See pool.h for the contracts.
 */

/* Window of output (oh, ow) clipped to the input: rows [h0, h1), columns [w0, w1). */
static inline void SFX(pool_window)(const hp_pool_geom *g, int oh, int ow, int *h0, int *h1, int *w0, int *w1) {
    int hs = oh * g->stride - g->pad, ws = ow * g->stride - g->pad;
    *h0 = hs < 0 ? 0 : hs;
    *w0 = ws < 0 ? 0 : ws;
    *h1 = hs + g->k < g->H ? hs + g->k : g->H;
    *w1 = ws + g->k < g->W ? ws + g->k : g->W;
}

/* One output row of the common 2x2 stride-2 unpadded case: the general rule (first maximum in
 * row-major order wins, the last NaN wins) as row 0's winner, row 1's winner, then row 1 over
 * row 0 only if greater or NaN. Written with selects and arithmetic only so that it vectorises
 * (the winner's index is recovered from the selected value: b replaced a iff m0 differs from a,
 * a not NaN, or b is NaN). Checked against the general loop on every pattern of ties, NaN and
 * -inf by tests/test_pool.c. */
__attribute__((noinline)) // one vectorised loop for every length (inlined, constant lengths went scalar)
static void SFX(maxpool_2x2_row)(REAL *restrict o, int32_t *restrict ix, const REAL *restrict r0,
                                 const REAL *restrict r1, int Wo, int32_t base, int32_t W) {
    for (int i = 0; i < Wo; i++) {
        REAL a = r0[2 * i], b = r0[2 * i + 1], c = r1[2 * i], d = r1[2 * i + 1];
        REAL m0 = (b > a || b != b) ? b : a;
        REAL m1 = (d > c || d != d) ? d : c;
        int32_t tb = ((m0 != a) & (a == a)) | (b != b), td = ((m1 != c) & (c == c)) | (d != d);
        int32_t t = (m1 > m0) | (m1 != m1);
        o[i] = t ? m1 : m0;
        int32_t k0 = tb, k1 = W + td;
        ix[i] = base + 2 * i + k0 + t * (k1 - k0);
    }
}

/* Rows are short (14, 7): rather than leave a scalar remainder (which compiles to branches), the
 * last HP_POOL_VEC outputs are computed once more by a full vector pass that overlaps the
 * previous one (the outputs are pure functions of the inputs, so rewriting them is harmless). */
#define HP_POOL_VEC 4
static void SFX(maxpool_2x2_rows)(REAL *o, int32_t *ix, const REAL *r0, const REAL *r1, int Wo, int32_t base,
                                  int32_t W) {
    if (Wo < HP_POOL_VEC) {
        SFX(maxpool_2x2_row)(o, ix, r0, r1, Wo, base, W);
        return;
    }
    int n = Wo / HP_POOL_VEC * HP_POOL_VEC, t = Wo - HP_POOL_VEC;
    SFX(maxpool_2x2_row)(o, ix, r0, r1, n, base, W);
    if (n < Wo) SFX(maxpool_2x2_row)(o + t, ix + t, r0 + 2 * t, r1 + 2 * t, HP_POOL_VEC, base + 2 * t, W);
}

void SFX(hp_maxpool_forward)(REAL *out, int32_t *idx, const REAL *inp, int64_t P, const hp_pool_geom *g) {
    const int64_t HW = (int64_t)g->H * g->W, HWo = (int64_t)g->Ho * g->Wo;
#pragma omp parallel for schedule(static) if (P * HW >= HP_POOL_PARALLEL_MIN)
    for (int64_t pl = 0; pl < P; pl++) {
        const REAL *x = inp + pl * HW; // x [H, W]
        REAL *o = out + pl * HWo;      // o [Ho, Wo]
        int32_t *ix = idx + pl * HWo;  // ix [Ho, Wo]
        if (g->k == 2 && g->stride == 2 && g->pad == 0) {
            for (int oh = 0; oh < g->Ho; oh++)
                SFX(maxpool_2x2_rows)(o + oh * g->Wo, ix + oh * g->Wo, x + 2 * oh * g->W, x + (2 * oh + 1) * g->W,
                                      g->Wo, 2 * oh * g->W, g->W);
            continue;
        }
        for (int oh = 0; oh < g->Ho; oh++)
            for (int ow = 0; ow < g->Wo; ow++) {
                int h0, h1, w0, w1;
                SFX(pool_window)(g, oh, ow, &h0, &h1, &w0, &w1);
                // -inf start, strict '>' (the first maximum wins), any NaN replaces (PyTorch)
                REAL best = -(REAL)INFINITY;
                int bi = h0 * g->W + w0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) {
                        REAL v = x[h * g->W + w];
                        if (v > best || isnan(v)) best = v, bi = h * g->W + w;
                    }
                o[oh * g->Wo + ow] = best;
                ix[oh * g->Wo + ow] = bi;
            }
    }
}

/* Backward of one 2x2 output row: the four input values of window i get d[i] where the
 * argmax points, 0 elsewhere (selects only, so that it vectorises). */
__attribute__((noinline)) // as maxpool_2x2_row
static void SFX(maxpool_2x2_back_row)(REAL *restrict x0, REAL *restrict x1, const REAL *restrict d,
                                      const int32_t *restrict ix, int Wo, int32_t base, int32_t W) {
    for (int i = 0; i < Wo; i++) {
        int32_t k = ix[i] - base - 2 * i; // 0, 1, W or W + 1
        REAL v = d[i];
        x0[2 * i] = k == 0 ? v : (REAL)0;
        x0[2 * i + 1] = k == 1 ? v : (REAL)0;
        x1[2 * i] = k == W ? v : (REAL)0;
        x1[2 * i + 1] = k == W + 1 ? v : (REAL)0;
    }
}

void SFX(hp_maxpool_backward)(REAL *dinp, const REAL *dout, const int32_t *idx, int64_t P, const hp_pool_geom *g) {
    const int64_t HW = (int64_t)g->H * g->W, HWo = (int64_t)g->Ho * g->Wo;
#pragma omp parallel for schedule(static) if (P * HW >= HP_POOL_PARALLEL_MIN)
    for (int64_t pl = 0; pl < P; pl++) {
        REAL *dx = dinp + pl * HW;                                  // dx [H, W]
        const REAL *d = dout + pl * HWo;                            // d [Ho, Wo]
        const int32_t *ix = idx + pl * HWo;                         // ix [Ho, Wo]
        if (g->k == 2 && g->stride == 2 && g->pad == 0 && g->H % 2 == 0 && g->W % 2 == 0) {
            // 2x2 windows tile the plane: each value is written once, no clearing pass
            const int Wo = g->Wo, n = Wo < HP_POOL_VEC ? Wo : Wo / HP_POOL_VEC * HP_POOL_VEC, t = Wo - HP_POOL_VEC;
            for (int oh = 0; oh < g->Ho; oh++) {
                REAL *x0 = dx + 2 * oh * g->W, *x1 = x0 + g->W;
                const REAL *dd = d + oh * Wo;
                const int32_t *ii = ix + oh * Wo, base = 2 * oh * g->W;
                SFX(maxpool_2x2_back_row)(x0, x1, dd, ii, n, base, g->W);
                if (n < Wo) // the remainder as one more overlapping vector pass (see maxpool_2x2_rows)
                    SFX(maxpool_2x2_back_row)(x0 + 2 * t, x1 + 2 * t, dd + t, ii + t, HP_POOL_VEC, base + 2 * t, g->W);
            }
            continue;
        }
        memset(dx, 0, sizeof(REAL) * (size_t)HW);
        for (int64_t i = 0; i < HWo; i++) dx[ix[i]] += d[i];
    }
}

void SFX(hp_avgpool_forward)(REAL *out, const REAL *inp, int64_t P, const hp_pool_geom *g) {
    const int64_t HW = (int64_t)g->H * g->W, HWo = (int64_t)g->Ho * g->Wo;
    const REAL inv = (REAL)1 / (REAL)(g->k * g->k); // count_include_pad: always k*k
#pragma omp parallel for schedule(static) if (P * HW >= HP_POOL_PARALLEL_MIN)
    for (int64_t pl = 0; pl < P; pl++) {
        const REAL *x = inp + pl * HW; // x [H, W]
        REAL *o = out + pl * HWo;      // o [Ho, Wo]
        for (int oh = 0; oh < g->Ho; oh++)
            for (int ow = 0; ow < g->Wo; ow++) {
                int h0, h1, w0, w1;
                SFX(pool_window)(g, oh, ow, &h0, &h1, &w0, &w1);
                REAL sum = 0;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) sum += x[h * g->W + w];
                o[oh * g->Wo + ow] = sum * inv;
            }
    }
}

void SFX(hp_avgpool_backward)(REAL *dinp, const REAL *dout, int64_t P, const hp_pool_geom *g) {
    const int64_t HW = (int64_t)g->H * g->W, HWo = (int64_t)g->Ho * g->Wo;
    const REAL inv = (REAL)1 / (REAL)(g->k * g->k);
#pragma omp parallel for schedule(static) if (P * HW >= HP_POOL_PARALLEL_MIN)
    for (int64_t pl = 0; pl < P; pl++) {
        REAL *dx = dinp + pl * HW;       // dx [H, W]
        const REAL *d = dout + pl * HWo; // d [Ho, Wo]
        memset(dx, 0, sizeof(REAL) * (size_t)HW);
        for (int oh = 0; oh < g->Ho; oh++)
            for (int ow = 0; ow < g->Wo; ow++) {
                int h0, h1, w0, w1;
                SFX(pool_window)(g, oh, ow, &h0, &h1, &w0, &w1);
                REAL v = d[oh * g->Wo + ow] * inv;
                for (int h = h0; h < h1; h++)
                    for (int w = w0; w < w1; w++) dx[h * g->W + w] += v;
            }
    }
}

void SFX(hp_gap_forward)(REAL *out, const REAL *inp, int64_t P, int64_t HW) {
#pragma omp parallel for schedule(static) if (P * HW >= HP_POOL_PARALLEL_MIN)
    for (int64_t pl = 0; pl < P; pl++) {
        const REAL *x = inp + pl * HW; // x [HW]
        double sum = 0;
        for (int64_t i = 0; i < HW; i++) sum += (double)x[i];
        out[pl] = (REAL)(sum / (double)HW);
    }
}

void SFX(hp_gap_backward)(REAL *dinp, const REAL *dout, int64_t P, int64_t HW) {
#pragma omp parallel for schedule(static) if (P * HW >= HP_POOL_PARALLEL_MIN)
    for (int64_t pl = 0; pl < P; pl++) {
        REAL v = (REAL)((double)dout[pl] / (double)HW);
        REAL *dx = dinp + pl * HW; // dx [HW]
        for (int64_t i = 0; i < HW; i++) dx[i] = v;
    }
}

void SFX(hp_nchw_to_cnhw)(REAL *out, const REAL *inp, int B, int C, int64_t HW) {
    // out [C, B, HW] <- inp [B, C, HW]: whole planes move, so each copy is contiguous
#pragma omp parallel for schedule(static) if ((int64_t)B * C * HW >= HP_POOL_PARALLEL_MIN)
    for (int c = 0; c < C; c++)
        for (int b = 0; b < B; b++)
            memcpy(out + ((int64_t)c * B + b) * HW, inp + ((int64_t)b * C + c) * HW, sizeof(REAL) * (size_t)HW);
}

void SFX(hp_cnhw_to_nchw)(REAL *out, const REAL *inp, int B, int C, int64_t HW) {
    // out [B, C, HW] <- inp [C, B, HW]
    if (HW == 1) { // a [C, B] -> [B, C] matrix transpose (after a global average pool)
        for (int b = 0; b < B; b++)
            for (int c = 0; c < C; c++) out[(int64_t)b * C + c] = inp[(int64_t)c * B + b];
        return;
    }
#pragma omp parallel for schedule(static) if ((int64_t)B * C * HW >= HP_POOL_PARALLEL_MIN)
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++)
            memcpy(out + ((int64_t)b * C + c) * HW, inp + ((int64_t)c * B + b) * HW, sizeof(REAL) * (size_t)HW);
}
