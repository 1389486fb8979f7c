/* dropout_tmpl.h - the dropout bodies, written once for both precisions.
 *
 * Included by dropout.c twice, with REAL (float or double) and SFX(name) (name##_f32 or
 * name##_f64) defined. No include guard on purpose. See dropout.h for the contract and the draw.
 *
 * Element i depends only on (key, i), so any split of [0, n) over threads gives the same mask.
 * Work goes in blocks of HP_DROPOUT_BLOCK values: the mask of a block is drawn first (integer
 * hashing), then applied in a second loop that stays in L1 and vectorises; the factor is
 * (REAL)mask * scale, i.e. scale or 0 exactly, without a branch.
 */

static void SFX(dropout_block)(REAL *out, uint8_t *mask, const REAL *inp, int64_t first, int64_t n, uint64_t thr,
                               REAL scale, uint64_t key) {
    // keep  <=>  u_i = bits_i * 2^-53 >= p  <=>  bits_i >= thr = ceil(p * 2^53)
    for (int64_t i = 0; i < n; i++) mask[i] = (hp_rng_at(key, (uint64_t)(first + i)) >> 11) >= thr;
    for (int64_t i = 0; i < n; i++) out[i] = inp[i] * ((REAL)mask[i] * scale);
}

void SFX(hp_dropout_forward)(REAL *out, uint8_t *mask, const REAL *inp, int64_t n, double p, uint64_t key) {
    // out [n], mask [n], inp [n]; out may be inp.
    if (!(p > 0)) { // p = 0 (or negative, NaN): the identity
        memset(mask, 1, (size_t)n);
        if (out != inp) memcpy(out, inp, (size_t)n * sizeof *out);
        return;
    }
    if (p >= 1) { // everything dropped; inp * 0 keeps NaN/Inf visible, as PyTorch's input * 0 does
        memset(mask, 0, (size_t)n);
        for (int64_t i = 0; i < n; i++) out[i] = inp[i] * (REAL)0;
        return;
    }
    const uint64_t thr = (uint64_t)ceil(p * 0x1.0p53); // p * 2^53 is exact (a power-of-two scaling)
    const REAL scale = (REAL)(1.0 / (1.0 - p));
    const int64_t nb = (n + HP_DROPOUT_BLOCK - 1) / HP_DROPOUT_BLOCK;
#pragma omp parallel for schedule(static) if (n >= HP_DROPOUT_PARALLEL_MIN)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t s = b * HP_DROPOUT_BLOCK, len = n - s < HP_DROPOUT_BLOCK ? n - s : HP_DROPOUT_BLOCK;
        SFX(dropout_block)(out + s, mask + s, inp + s, s, len, thr, scale, key);
    }
}

static void SFX(dropout_backward_block)(REAL *dinp, const REAL *dout, const uint8_t *mask, int64_t n, REAL scale) {
    for (int64_t i = 0; i < n; i++) dinp[i] = dout[i] * ((REAL)mask[i] * scale);
}

void SFX(hp_dropout_backward)(REAL *dinp, const REAL *dout, const uint8_t *mask, int64_t n, double p) {
    // dinp [n], dout [n], mask [n]; dinp may be dout. dinp = dout * mask * scale.
    if (!(p > 0)) {
        if (dinp != dout) memcpy(dinp, dout, (size_t)n * sizeof *dinp);
        return;
    }
    const REAL scale = p >= 1 ? (REAL)0 : (REAL)(1.0 / (1.0 - p));
    const int64_t nb = (n + HP_DROPOUT_BLOCK - 1) / HP_DROPOUT_BLOCK;
#pragma omp parallel for schedule(static) if (n >= HP_DROPOUT_PARALLEL_MIN_CHEAP)
    for (int64_t b = 0; b < nb; b++) {
        const int64_t s = b * HP_DROPOUT_BLOCK, len = n - s < HP_DROPOUT_BLOCK ? n - s : HP_DROPOUT_BLOCK;
        SFX(dropout_backward_block)(dinp + s, dout + s, mask + s, len, scale);
    }
}
