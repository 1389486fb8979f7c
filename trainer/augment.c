/* augment.c - training-batch augmentation (flip, shift, cutout) and mixup; see augment.h.
 *
 * Everything here runs on every training batch, so nothing allocates: an example is copied at
 * most once (into the caller's scratch) and gathered back with its flip and shift applied in the
 * same pass. The random choices of example b are the raw draws HP_AUGMENT_DRAWS * b ..
 * HP_AUGMENT_DRAWS * b + 4 after the stream's position on entry, so an epoch's augmentation is a
 * pure function of (key, counter).
 */
#include "augment.h"

#include <math.h>
#include <string.h>

int hp_augment_active(const hp_augment_spec *spec) {
    return spec && (spec->flip || spec->shift > 0 || spec->cutout > 0 || spec->mixup > 0);
}

/* floor(u * n / 2^64): uniform in [0, n) up to a bias below n / 2^64 (Lemire's multiply-shift
 * without the rejection step, so every example takes the same number of draws). */
static uint64_t below(uint64_t u, uint64_t n) { return (uint64_t)(((__uint128_t)u * n) >> 64); }

void hp_augment_sample(const hp_augment_spec *spec, int H, int W, hp_rng *rng, hp_augment_draw *d) {
    uint64_t u[HP_AUGMENT_DRAWS];
    for (int k = 0; k < HP_AUGMENT_DRAWS; k++) u[k] = hp_rng_u64(rng);
    memset(d, 0, sizeof *d);
    if (spec->flip) d->flip = (int)(u[0] >> 63);
    if (spec->shift > 0) {
        uint64_t n = 2 * (uint64_t)spec->shift + 1;
        d->dy = (int)((int64_t)below(u[1], n) - spec->shift);
        d->dx = (int)((int64_t)below(u[2], n) - spec->shift);
    }
    if (spec->cutout > 0) {
        d->cy = (int)below(u[3], (uint64_t)H);
        d->cx = (int)below(u[4], (uint64_t)W);
    }
}

/* One output row o [W] from source row s [W]: columns [x0, x1) read s at x + dx (mirrored when
 * flipped), the rest is padding. Plain loops rather than memcpy/memset: rows are short (32 floats
 * for CIFAR) and the compiler vectorises these, where a libc call per row costs more than the copy. */
static void put_row(float *restrict o, const float *restrict s, int W, int x0, int x1, int dx, int flip) {
    for (int xx = 0; xx < x0; xx++) o[xx] = 0.0f;
    if (!flip) {
        for (int xx = x0; xx < x1; xx++) o[xx] = s[xx + dx];
    } else {
        /* flipped[j] = s[W - 1 - j], read at j = xx + dx */
        const int base = W - 1 - dx;
        for (int xx = x0; xx < x1; xx++) o[xx] = s[base - xx];
    }
    for (int xx = x1; xx < W; xx++) o[xx] = 0.0f;
}

/* [lo, hi) clipped to [0, n); an empty range comes back as lo == hi. */
static void clip_range(int64_t lo, int64_t hi, int n, int *a, int *b) {
    if (lo < 0) lo = 0;
    if (hi > n) hi = n;
    if (hi < lo) hi = lo;
    if (lo > n) lo = hi = n;
    *a = (int)lo;
    *b = (int)hi;
}

void hp_augment_example(const hp_augment_spec *spec, const hp_augment_draw *d, float *x, int C, int H,
                        int W, float *scratch) {
    // x, scratch [C, H, W]
    if (d->flip || d->dy != 0 || d->dx != 0) {
        memcpy(scratch, x, (size_t)C * H * W * sizeof *x);
        /* Output columns whose source column x + dx lies inside the image. */
        int x0, x1;
        clip_range(-(int64_t)d->dx, (int64_t)W - d->dx, W, &x0, &x1);
        for (int c = 0; c < C; c++) {
            for (int y = 0; y < H; y++) {
                float *o = x + ((int64_t)c * H + y) * W; // o [W]
                int64_t sy = (int64_t)y + d->dy;
                if (sy < 0 || sy >= H) {
                    put_row(o, NULL, W, 0, 0, 0, 0); /* all padding */
                    continue;
                }
                put_row(o, scratch + ((int64_t)c * H + sy) * W, W, x0, x1, d->dx, d->flip);
            }
        }
    }
    if (spec->cutout > 0) {
        int half = spec->cutout / 2, y0, y1, c0, c1;
        clip_range((int64_t)d->cy - half, (int64_t)d->cy - half + spec->cutout, H, &y0, &y1);
        clip_range((int64_t)d->cx - half, (int64_t)d->cx - half + spec->cutout, W, &c0, &c1);
        if (c1 > c0)
            for (int c = 0; c < C; c++)
                for (int y = y0; y < y1; y++)
                    memset(x + ((int64_t)c * H + y) * W + c0, 0, (size_t)(c1 - c0) * sizeof *x);
    }
}

void hp_augment_batch(const hp_augment_spec *spec, float *x, int B, int C, int H, int W, hp_rng *rng,
                      float *scratch) {
    // x [B, C, H, W], scratch [C, H, W]
    if (!spec || B <= 0) return;
    if (!(spec->flip || spec->shift > 0 || spec->cutout > 0)) {
        rng->counter += (uint64_t)HP_AUGMENT_DRAWS * (uint64_t)B; /* same stream position as if applied */
        return;
    }
    int64_t chw = (int64_t)C * H * W;
    for (int b = 0; b < B; b++) {
        hp_augment_draw d;
        hp_augment_sample(spec, H, W, rng, &d);
        hp_augment_example(spec, &d, x + b * chw, C, H, W, scratch);
    }
}

/* ---- Gamma and Beta ---- */

/* log of a Gamma(shape, 1) draw (Marsaglia & Tsang 2000; the formulas stand in augment.h).
 * Kept in logs because U^(1/shape) underflows for small shapes (shape 0.01: U = 0.5 gives
 * 2^-100), and Beta only needs the difference of two logs. */
static double log_gamma_sample(hp_rng *rng, double shape) {
    double a = shape < 1.0 ? shape + 1.0 : shape;
    double d = a - 1.0 / 3.0, c = 1.0 / sqrt(9.0 * d), lg;
    for (;;) {
        double z = hp_rng_normal(rng);
        double v = 1.0 + c * z;
        if (v <= 0.0) continue;
        v = v * v * v;
        double u = hp_rng_uniform(rng);
        double z2 = z * z;
        /* Squeeze first (cheap), then the exact test; log(0) = -inf accepts, as it should. */
        if (u < 1.0 - 0.0331 * z2 * z2 || log(u) < 0.5 * z2 + d * (1.0 - v + log(v))) {
            lg = log(d) + log(v);
            break;
        }
    }
    if (shape < 1.0) {
        double u = 1.0 - hp_rng_uniform(rng); /* (0, 1]: finite log */
        lg += log(u) / shape;                  /* Gamma(s) = Gamma(s + 1) * U^(1/s) */
    }
    return lg;
}

double hp_gamma_sample(hp_rng *rng, double shape) { return exp(log_gamma_sample(rng, shape)); }

double hp_beta_sample(hp_rng *rng, double a, double b) {
    double lx = log_gamma_sample(rng, a);
    double ly = log_gamma_sample(rng, b);
    /* X / (X + Y) = 1 / (1 + exp(log Y - log X)); exp overflowing to inf gives 0, as it should. */
    return 1.0 / (1.0 + exp(ly - lx));
}

/* ---- mixup ---- */

void hp_mixup_batch(float *x, int B, int64_t dim, double alpha, hp_rng *rng, int32_t *perm, double *lambda) {
    // x [B, dim], perm [B]
    for (int i = 0; i < B; i++) perm[i] = i;
    *lambda = 1.0;
    if (!(alpha > 0.0) || B <= 0) return;
    /* Beta(a, a) concentrates at 1/2 as a grows; at a = inf the Gamma logs would give inf - inf. */
    double lam = isinf(alpha) ? 0.5 : hp_beta_sample(rng, alpha, alpha);
    hp_rng_shuffle(rng, perm, B);
    *lambda = lam;
    const float lf = (float)lam, mf = (float)(1.0 - lam);

    /* x[i] <- lf x[i] + mf x[perm[i]] in place: walk each cycle i0 -> perm[i0] -> ... -> i0 in
     * order, so every x[perm[i]] read is still original except the last one, x[i0], which was
     * saved first. Done in column blocks so the saved copy fits on the stack. Finished cycles are
     * marked by storing ~perm[i] (negative) and restored at the end. */
    enum { BLOCK = 512 };
    float save[BLOCK];
    for (int s = 0; s < B; s++) {
        if (perm[s] < 0) continue;
        for (int64_t k0 = 0; k0 < dim; k0 += BLOCK) {
            int64_t len = dim - k0 < BLOCK ? dim - k0 : BLOCK;
            memcpy(save, x + s * dim + k0, (size_t)len * sizeof *x);
            int i = s;
            for (;;) {
                int j = perm[i];
                float *xi = x + i * dim + k0;                         // xi [len]
                const float *xj = j == s ? save : x + j * dim + k0;   // xj [len]
                for (int64_t k = 0; k < len; k++) xi[k] = lf * xi[k] + mf * xj[k];
                if (j == s) break;
                i = j;
            }
        }
        int i = s;
        do {
            int j = perm[i];
            perm[i] = ~j;
            i = j;
        } while (i != s);
    }
    for (int i = 0; i < B; i++) perm[i] = ~perm[i];
}
