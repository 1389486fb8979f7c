/* conv_tmpl.h - the convolution bodies, written once for both precisions.
 *
 * Included by conv.c twice, with these macros defined:
 *   REAL        float or double
 *   SFX(name)   name##_f32 or name##_f64
 *   GEMM        cblas_sgemm or cblas_dgemm (called single-threaded, one block per thread)
 * No include guard on purpose. See conv.h for the layout and the method.
 */

/* Output columns ow in [lo, hi) read inside the row for kernel column kj: iw = ow*s - pad + kj
 * in [0, W). Outside that range the padding contributes zeros. */
static void SFX(conv_ow_range)(const hp_conv_geom *g, int kj, int *lo, int *hi) {
    int a = 0, b = g->Wo;
    while (a < b && a * g->stride - g->pad + kj < 0) a++;
    while (b > a && (b - 1) * g->stride - g->pad + kj >= g->W) b--;
    *lo = a, *hi = b;
}

/* Stride 1 with "same" padding (2*pad = k - 1, so Ho = H and Wo = W): output position i of a
 * plane reads input position i + shift, shift = dy*W + dx with (dy, dx) = (ki - pad, kj - pad),
 * wherever row oh + dy and column ow + dx fall inside the plane. So a column row is one
 * contiguous copy of the plane, shifted, over the valid rows [oh0, oh1), with the dx columns
 * that wrapped around to a neighbouring row set to zero afterwards. */
static int SFX(conv_same)(const hp_conv_geom *g) { return g->stride == 1 && 2 * g->pad == g->k - 1; }

/* The valid output rows and the contiguous range [i0, i1) of a shifted copy (see above). */
static void SFX(conv_same_range)(const hp_conv_geom *g, int dy, int dx, int *oh0, int *oh1, int64_t *i0, int64_t *i1) {
    *oh0 = dy < 0 ? -dy : 0;
    *oh1 = dy > 0 ? g->H - dy : g->H;
    if (*oh1 < *oh0) *oh1 = *oh0;
    *i0 = (int64_t)*oh0 * g->W + (dx < 0 ? -dx : 0);
    *i1 = (int64_t)*oh1 * g->W - (dx > 0 ? dx : 0);
    if (*i1 < *i0) *i1 = *i0;
}

/* Zero the columns of rows [oh0, oh1) of dst [H, W] that read across the left (dx < 0) or
 * right (dx > 0) edge. */
static void SFX(conv_same_edges)(REAL *dst, const hp_conv_geom *g, int dx, int oh0, int oh1) {
    const int W = g->W, lo = dx < 0 ? 0 : W - dx, hi = dx < 0 ? -dx : W;
    if (dx == 0) return;
    for (int oh = oh0; oh < oh1; oh++)
        for (int ow = lo; ow < hi; ow++) dst[(int64_t)oh * W + ow] = 0;
}

static void SFX(conv_im2col_same)(REAL *col, const REAL *inp, int B, int b0, int nb, const hp_conv_geom *g) {
    const int k = g->k, p = g->pad;
    const int64_t HW = (int64_t)g->H * g->W, ncol = nb * HW;
    for (int c = 0; c < g->C; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const int dy = ki - p, dx = kj - p;
                const int64_t shift = (int64_t)dy * g->W + dx;
                int oh0, oh1;
                int64_t i0, i1;
                SFX(conv_same_range)(g, dy, dx, &oh0, &oh1, &i0, &i1);
                REAL *row = col + ((int64_t)(c * k + ki) * k + kj) * ncol; // row [nb*H*W]
                for (int bi = 0; bi < nb; bi++) {
                    const REAL *plane = inp + ((int64_t)c * B + b0 + bi) * HW; // plane [H*W]
                    REAL *dst = row + bi * HW;                                // dst [H*W]
                    for (int64_t i = 0; i < i0; i++) dst[i] = 0;
                    for (int64_t i = i0; i < i1; i++) dst[i] = plane[i + shift];
                    for (int64_t i = i1; i < HW; i++) dst[i] = 0;
                    SFX(conv_same_edges)(dst, g, dx, oh0, oh1);
                }
            }
}

/* col2im for the same case. The entries that read across an edge are cleared in col first
 * (col is scratch), then every valid row range is one contiguous shifted add. */
static void SFX(conv_col2im_same)(REAL *dinp, REAL *col, int B, int b0, int nb, const hp_conv_geom *g) {
    const int k = g->k, p = g->pad;
    const int64_t HW = (int64_t)g->H * g->W, ncol = nb * HW;
    for (int c = 0; c < g->C; c++) {
        for (int bi = 0; bi < nb; bi++) memset(dinp + ((int64_t)c * B + b0 + bi) * HW, 0, sizeof(REAL) * HW);
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const int dy = ki - p, dx = kj - p;
                const int64_t shift = (int64_t)dy * g->W + dx;
                int oh0, oh1;
                int64_t i0, i1;
                SFX(conv_same_range)(g, dy, dx, &oh0, &oh1, &i0, &i1);
                REAL *row = col + ((int64_t)(c * k + ki) * k + kj) * ncol; // row [nb*H*W]
                for (int bi = 0; bi < nb; bi++) {
                    REAL *plane = dinp + ((int64_t)c * B + b0 + bi) * HW; // plane [H*W]
                    REAL *src = row + bi * HW;                            // src [H*W]
                    SFX(conv_same_edges)(src, g, dx, oh0, oh1);
                    for (int64_t i = i0; i < i1; i++) plane[i + shift] += src[i];
                }
            }
    }
}

/* col [C*k*k, nb*Ho*Wo] = im2col of images [b0, b0 + nb) of inp [C, B, H, W]. */
static void SFX(conv_im2col)(REAL *col, const REAL *inp, int B, int b0, int nb, const hp_conv_geom *g) {
    const int k = g->k, s = g->stride, p = g->pad, H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo;
    const int64_t HW = (int64_t)H * W, HWo = (int64_t)Ho * Wo, ncol = nb * HWo;
    if (SFX(conv_same)(g)) {
        SFX(conv_im2col_same)(col, inp, B, b0, nb, g);
        return;
    }
    for (int c = 0; c < g->C; c++)
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                REAL *row = col + ((int64_t)(c * k + ki) * k + kj) * ncol; // row [nb*Ho*Wo]
                int lo, hi;
                SFX(conv_ow_range)(g, kj, &lo, &hi);
                for (int bi = 0; bi < nb; bi++) {
                    const REAL *plane = inp + ((int64_t)c * B + b0 + bi) * HW; // plane [H, W]
                    for (int oh = 0; oh < Ho; oh++) {
                        REAL *dst = row + bi * HWo + (int64_t)oh * Wo; // dst [Wo]
                        int ih = oh * s - p + ki;
                        if (ih < 0 || ih >= H) {
                            for (int ow = 0; ow < Wo; ow++) dst[ow] = 0;
                            continue;
                        }
                        const REAL *src = plane + (int64_t)ih * W; // src [W]
                        for (int ow = 0; ow < lo; ow++) dst[ow] = 0;
                        if (s == 1) {
                            const int sh = kj - p; // iw = ow + sh
                            for (int ow = lo; ow < hi; ow++) dst[ow] = src[ow + sh];
                        } else {
                            for (int ow = lo; ow < hi; ow++) dst[ow] = src[ow * s - p + kj];
                        }
                        for (int ow = hi; ow < Wo; ow++) dst[ow] = 0;
                    }
                }
            }
}

/* dinp images [b0, b0 + nb) of [C, B, H, W] = col2im(col): every column entry is added back to
 * the input position it was copied from (overlapping windows accumulate, in a fixed order).
 * col is scratch and may be modified. */
static void SFX(conv_col2im)(REAL *dinp, REAL *col, int B, int b0, int nb, const hp_conv_geom *g) {
    const int k = g->k, s = g->stride, p = g->pad, H = g->H, W = g->W, Ho = g->Ho, Wo = g->Wo;
    const int64_t HW = (int64_t)H * W, HWo = (int64_t)Ho * Wo, ncol = nb * HWo;
    if (SFX(conv_same)(g)) {
        SFX(conv_col2im_same)(dinp, col, B, b0, nb, g);
        return;
    }
    for (int c = 0; c < g->C; c++) {
        for (int bi = 0; bi < nb; bi++) memset(dinp + ((int64_t)c * B + b0 + bi) * HW, 0, sizeof(REAL) * HW);
        for (int ki = 0; ki < k; ki++)
            for (int kj = 0; kj < k; kj++) {
                const REAL *row = col + ((int64_t)(c * k + ki) * k + kj) * ncol; // row [nb*Ho*Wo]
                int lo, hi;
                SFX(conv_ow_range)(g, kj, &lo, &hi);
                for (int bi = 0; bi < nb; bi++) {
                    REAL *plane = dinp + ((int64_t)c * B + b0 + bi) * HW; // plane [H, W]
                    for (int oh = 0; oh < Ho; oh++) {
                        int ih = oh * s - p + ki;
                        if (ih < 0 || ih >= H) continue;
                        const REAL *src = row + bi * HWo + (int64_t)oh * Wo; // src [Wo]
                        REAL *dst = plane + (int64_t)ih * W;                 // dst [W]
                        if (s == 1) {
                            const int sh = kj - p;
                            for (int ow = lo; ow < hi; ow++) dst[ow + sh] += src[ow];
                        } else {
                            for (int ow = lo; ow < hi; ow++) dst[ow * s - p + kj] += src[ow];
                        }
                    }
                }
            }
    }
}

/* sum of x [n] in double, in 8 interleaved lanes (a fixed order that still vectorises). */
static double SFX(conv_sum)(const REAL *x, int64_t n) {
    double lane[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int l = 0; l < 8; l++) lane[l] += (double)x[i + l];
    for (int l = 0; i < n; i++, l++) lane[l] += (double)x[i];
    return ((lane[0] + lane[1]) + (lane[2] + lane[3])) + ((lane[4] + lane[5]) + (lane[6] + lane[7]));
}

void SFX(hp_conv_forward)(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias, int B,
                          const hp_conv_geom *g, REAL *work, int nslots) {
    // out [F, B, Ho, Wo]; inp [C, B, H, W]; weight [F, C*k*k]; bias [F]; work: column buffers
    const int G = g->G, nblk = (B + G - 1) / G, F = g->F, ckk = g->C * g->k * g->k;
    const int64_t HWo = (int64_t)g->Ho * g->Wo, colsize = (int64_t)ckk * G * HWo;
    const int ldo = (int)(B * HWo), direct = conv_direct(g);
    blas_one_thread();
#pragma omp parallel for schedule(static) num_threads(conv_threads(nblk, nslots))
    for (int j = 0; j < nblk; j++) {
        const int b0 = j * G, nb = B - b0 < G ? B - b0 : G, ncol = (int)(nb * HWo);
        const REAL *col = inp + b0 * HWo; // col [ckk, ncol], row stride ldcol
        int ldcol = ldo;
        if (!direct) {
            REAL *cw = work + omp_get_thread_num() * colsize;
            SFX(conv_im2col)(cw, inp, B, b0, nb, g);
            col = cw;
            ldcol = ncol;
        }
        // out[:, block] [F, ncol] = weight [F, ckk] @ col [ckk, ncol]
        REAL *o = out + b0 * HWo;
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, F, ncol, ckk, (REAL)1, weight, ckk, col, ldcol, (REAL)0, o,
             ldo);
        if (bias)
            for (int f = 0; f < F; f++) {
                REAL *row = o + (int64_t)f * ldo, bf = bias[f]; // row [ncol], still in cache
                for (int i = 0; i < ncol; i++) row[i] += bf;
            }
    }
}

void SFX(hp_conv_backward)(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *inp,
                           const REAL *weight, int B, const hp_conv_geom *g, REAL *work, int nslots) {
    // dinp, inp [C, B, H, W]; dweight, weight [F, C*k*k]; dbias [F]; dout [F, B, Ho, Wo]
    const int G = g->G, nblk = (B + G - 1) / G, ngrp = conv_groups(nblk), F = g->F, ckk = g->C * g->k * g->k;
    const int64_t HWo = (int64_t)g->Ho * g->Wo, colsize = (int64_t)ckk * G * HWo, fk = (int64_t)F * ckk;
    const int ldo = (int)(B * HWo), direct = conv_direct(g);
    const int cslots = nslots < nblk ? (nslots < 1 ? 1 : nslots) : nblk;
    REAL *partials = work + (direct ? 0 : cslots * colsize); // [ngrp, F, ckk] when ngrp > 1
    blas_one_thread();
#pragma omp parallel for schedule(static) num_threads(conv_threads(ngrp, nslots))
    for (int q = 0; q < ngrp; q++) {
        REAL *dw = ngrp == 1 ? dweight : partials + q * fk; // this group's dweight [F, ckk]
        REAL *cw = direct ? NULL : work + omp_get_thread_num() * colsize;
        const int j0 = (int)((int64_t)nblk * q / ngrp), j1 = (int)((int64_t)nblk * (q + 1) / ngrp);
        for (int j = j0; j < j1; j++) {
            const int b0 = j * G, nb = B - b0 < G ? B - b0 : G, ncol = (int)(nb * HWo);
            const REAL *col = inp + b0 * HWo; // col [ckk, ncol], row stride ldcol
            int ldcol = ldo;
            if (!direct) {
                SFX(conv_im2col)(cw, inp, B, b0, nb, g);
                col = cw;
                ldcol = ncol;
            }
            const REAL *d = dout + b0 * HWo; // d [F, ncol], row stride ldo
            // dw [F, ckk] (+)= d [F, ncol] @ col^T [ncol, ckk]: the group's first block assigns
            GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, F, ckk, ncol, (REAL)1, d, ldo, col, ldcol,
                 j == j0 ? (REAL)0 : (REAL)1, dw, ckk);
            if (!dinp) continue;
            // dcol [ckk, ncol] = weight^T [ckk, F] @ d [F, ncol]; then back to the image positions
            if (direct) {
                GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ncol, F, (REAL)1, weight, ckk, d, ldo, (REAL)0,
                     dinp + b0 * HWo, ldo);
            } else {
                GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, ckk, ncol, F, (REAL)1, weight, ckk, d, ldo, (REAL)0,
                     cw, ncol);
                SFX(conv_col2im)(dinp, cw, B, b0, nb, g);
            }
        }
    }
    if (ngrp > 1) {
        // dweight = sum of the group partials, always in group order
#pragma omp parallel for schedule(static)
        for (int64_t i = 0; i < fk; i++) {
            REAL sum = partials[i];
            for (int q = 1; q < ngrp; q++) sum += partials[q * fk + i];
            dweight[i] = sum;
        }
    }
    if (dbias) {
        // dbias [F] = sum of dout over the batch and positions, accumulated in double
#pragma omp parallel for schedule(static)
        for (int f = 0; f < F; f++) dbias[f] = (REAL)SFX(conv_sum)(dout + (int64_t)f * ldo, ldo);
    }
}
