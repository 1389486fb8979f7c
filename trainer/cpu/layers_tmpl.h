/* layers_tmpl.h - the layer bodies, written once for both precisions.
 *
 * Included by layers.c twice, with these macros defined:
 *   REAL        float or double
 *   SFX(name)   name##_f32 or name##_f64
 *   GEMM        cblas_sgemm or cblas_dgemm
 *   EXP, LOG    expf/logf or exp/log
 * No include guard on purpose. See layers.h for the contracts.
 */

/* ---- dense ------------------------------------------------------------------------------- */

void SFX(hp_dense_forward)(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias, int B, int n_in,
                           int n_out, int relu) {
    // out [B, n_out] = inp [B, n_in] @ weight [n_out, n_in]^T; beta = 0 so out needs no clearing.
    GEMM(CblasRowMajor, CblasNoTrans, CblasTrans, B, n_out, n_in, (REAL)1, inp, n_in, weight, n_in, (REAL)0,
         out, n_out);
    // out [B, n_out] += bias [n_out], then ReLU in the same pass while the row is in cache.
    if (!bias && !relu) return;
    for (int b = 0; b < B; b++) {
        REAL *row = out + (int64_t)b * n_out; // row [n_out]
        if (relu) {
            for (int o = 0; o < n_out; o++) {
                REAL v = bias ? row[o] + bias[o] : row[o];
                row[o] = v < (REAL)0 ? (REAL)0 : v; // NaN stays NaN (v < 0 is false)
            }
        } else {
            for (int o = 0; o < n_out; o++) row[o] += bias[o];
        }
    }
}

void SFX(hp_dense_backward)(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *inp,
                            const REAL *weight, int B, int n_in, int n_out) {
    // dbias [n_out] = sum over b of dout [B, n_out]; the first row assigns, so no clearing.
    if (dbias) for (int o = 0; o < n_out; o++) dbias[o] = dout[o];
    for (int b = 1; dbias && b < B; b++) {
        const REAL *row = dout + (int64_t)b * n_out; // row [n_out]
        for (int o = 0; o < n_out; o++) dbias[o] += row[o];
    }
    // dweight [n_out, n_in] = dout [B, n_out]^T @ inp [B, n_in]
    GEMM(CblasRowMajor, CblasTrans, CblasNoTrans, n_out, n_in, B, (REAL)1, dout, n_out, inp, n_in, (REAL)0,
         dweight, n_in);
    // dinp [B, n_in] = dout [B, n_out] @ weight [n_out, n_in]
    if (dinp)
        GEMM(CblasRowMajor, CblasNoTrans, CblasNoTrans, B, n_in, n_out, (REAL)1, dout, n_out, weight, n_in,
             (REAL)0, dinp, n_in);
}

/* ---- ReLU -------------------------------------------------------------------------------- */

void SFX(hp_relu_forward)(REAL *out, const REAL *inp, int64_t n) {
    // out [n], inp [n]
    for (int64_t i = 0; i < n; i++) out[i] = inp[i] < (REAL)0 ? (REAL)0 : inp[i];
}

void SFX(hp_relu_backward)(REAL *dinp, const REAL *dout, const REAL *out, int64_t n) {
    // dinp [n], dout [n], out [n]: d relu(x)/dx = 1 where x > 0 (out > 0 exactly there), else 0,
    // the subgradient 0 at x = 0 as PyTorch takes it.
    // Both loads are unconditional so the select compiles to a vector blend, not a branch
    // (a data-dependent branch mispredicts on about half the elements).
    for (int64_t i = 0; i < n; i++) {
        REAL d = dout[i];
        dinp[i] = out[i] > (REAL)0 ? d : (REAL)0;
    }
}

/* ---- softmax cross-entropy ---------------------------------------------------------------- */

int64_t SFX(hp_xent_forward)(REAL *probs, REAL *losses, const REAL *logits, const int32_t *y, int B, int C) {
    int64_t correct = 0;
    for (int b = 0; b < B; b++) {
        const REAL *z = logits + (int64_t)b * C; // z [C]
        REAL *p = probs + (int64_t)b * C;        // p [C]
        // Stable log-sum-exp: lse = m + log(sum_c exp(z_c - m)) with m = max_c z_c, so no exp
        // overflows and the largest term is exactly 1.
        REAL m = z[0];
        int argmax = 0;
        for (int c = 1; c < C; c++)
            if (z[c] > m) {
                m = z[c];
                argmax = c;
            }
        REAL zy = z[y[b]]; // read before p (which may alias z) is written
        REAL sum = 0;
        for (int c = 0; c < C; c++) {
            p[c] = EXP(z[c] - m);
            sum += p[c];
        }
        REAL inv = (REAL)1 / sum;
        for (int c = 0; c < C; c++) p[c] *= inv;
        // loss_b = lse - z_y = log(sum) - (z_y - m)
        losses[b] = LOG(sum) - (zy - m);
        correct += argmax == y[b];
    }
    return correct;
}

void SFX(hp_xent_backward)(REAL *dlogits, const REAL *probs, const int32_t *y, REAL dloss, int B, int C) {
    // d loss_b / d z_c = softmax(z)_c - [c == y_b]
    for (int b = 0; b < B; b++) {
        const REAL *p = probs + (int64_t)b * C; // p [C]
        REAL *d = dlogits + (int64_t)b * C;     // d [C]
        for (int c = 0; c < C; c++) d[c] = dloss * p[c];
        d[y[b]] -= dloss;
    }
}
