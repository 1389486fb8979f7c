/* test_augment.c - flip, shift and cutout against hand-made expectations and against the
 * definitions in augment.h applied to the draws each example took; reproducibility; the Gamma
 * and Beta samplers against their moments and (Kolmogorov-Smirnov) their CDFs; mixup exactly
 * against lambda * x + (1 - lambda) * x[perm]. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "check.h"

/* An image whose every value is distinct and nonzero, so zeros can only come from padding or
 * cutout and any misplaced pixel shows. */
static void fill_distinct(float *x, int64_t n, float base) {
    for (int64_t i = 0; i < n; i++) x[i] = base + 1.0f + (float)i;
}

static int64_t count_diff(const float *a, const float *b, int64_t n) {
    int64_t bad = 0;
    for (int64_t i = 0; i < n; i++)
        if (a[i] != b[i]) bad++;
    return bad;
}

/* The definition in augment.h, written out plainly: flip, then shift with zeros, then cutout. */
static void reference(const hp_augment_spec *s, const hp_augment_draw *d, const float *in, float *out, int C,
                      int H, int W) {
    for (int c = 0; c < C; c++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sy = y + d->dy, sx = x + d->dx;
                if (d->flip) sx = W - 1 - sx;
                float v = 0.0f;
                if (sy >= 0 && sy < H && sx >= 0 && sx < W) v = in[(c * H + sy) * W + sx];
                int h = s->cutout / 2;
                if (s->cutout > 0 && y >= d->cy - h && y < d->cy - h + s->cutout && x >= d->cx - h &&
                    x < d->cx - h + s->cutout)
                    v = 0.0f;
                out[(c * H + y) * W + x] = v;
            }
}

static void test_identity(void) {
    enum { B = 6, C = 3, H = 5, W = 4, N = B * C * H * W };
    float x[N], x0[N], scratch[C * H * W];
    fill_distinct(x, N, 0.0f);
    memcpy(x0, x, sizeof x);
    hp_augment_spec none = {0, 0, 0, 0.0};
    hp_rng r = hp_rng_make(42);
    r.counter = 7;
    CHECK(!hp_augment_active(&none), "an empty spec is inactive");
    hp_augment_batch(&none, x, B, C, H, W, &r, scratch);
    CHECK(count_diff(x, x0, N) == 0, "an empty spec leaves the batch untouched");
    CHECK(r.counter == 7 + HP_AUGMENT_DRAWS * B, "the stream advances by %d per example even when inactive (%llu)",
          HP_AUGMENT_DRAWS, (unsigned long long)r.counter);
    hp_augment_spec mix = {0, 0, 0, 0.4};
    CHECK(hp_augment_active(&mix), "mixup alone counts as active");
    hp_augment_batch(&mix, x, B, C, H, W, &r, scratch);
    CHECK(count_diff(x, x0, N) == 0, "mixup is not applied by hp_augment_batch");
    /* Active spec, but the draws say: no flip, zero offset, and cutout 0: identity too. */
    hp_augment_spec shift = {1, 2, 0, 0.0};
    hp_augment_draw d0 = {0, 0, 0, 0, 0};
    hp_augment_example(&shift, &d0, x, C, H, W, scratch);
    CHECK(count_diff(x, x0, C * H * W) == 0, "zero offset without flip is the identity");
}

/* Hand-made cases of each operation on one [1, 3, 4] image (values 1..12):
 *    1  2  3  4
 *    5  6  7  8
 *    9 10 11 12 */
static void test_by_hand(void) {
    float x[12], scratch[12];
    hp_augment_spec flip = {1, 0, 0, 0.0}, shift = {0, 2, 0, 0.0}, both = {1, 2, 0, 0.0}, cut = {0, 0, 2, 0.0};
    fill_distinct(x, 12, 0.0f);
    hp_augment_draw d = {1, 0, 0, 0, 0};
    hp_augment_example(&flip, &d, x, 1, 3, 4, scratch);
    const float want_flip[12] = {4, 3, 2, 1, 8, 7, 6, 5, 12, 11, 10, 9};
    CHECK(count_diff(x, want_flip, 12) == 0, "flip mirrors every row");

    /* dy = 1, dx = -2: out[y][x] = in[y + 1][x - 2]; content moves up 1 and right 2. */
    fill_distinct(x, 12, 0.0f);
    hp_augment_draw ds = {0, 1, -2, 0, 0};
    hp_augment_example(&shift, &ds, x, 1, 3, 4, scratch);
    const float want_shift[12] = {0, 0, 5, 6, 0, 0, 9, 10, 0, 0, 0, 0};
    CHECK(count_diff(x, want_shift, 12) == 0, "shift (1, -2): [%g %g %g %g / %g %g %g %g / %g %g %g %g]", x[0],
          x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11]);

    /* flip, then shift (-1, 1): out[y][x] = flipped[y - 1][x + 1]. */
    fill_distinct(x, 12, 0.0f);
    hp_augment_draw db = {1, -1, 1, 0, 0};
    hp_augment_example(&both, &db, x, 1, 3, 4, scratch);
    const float want_both[12] = {0, 0, 0, 0, 3, 2, 1, 0, 7, 6, 5, 0};
    CHECK(count_diff(x, want_both, 12) == 0, "flip + shift (-1, 1): [%g %g %g %g / %g %g %g %g / %g %g %g %g]",
          x[0], x[1], x[2], x[3], x[4], x[5], x[6], x[7], x[8], x[9], x[10], x[11]);

    /* cutout 2 at centre (1, 3): rows [0, 2), columns [2, 4). */
    fill_distinct(x, 12, 0.0f);
    hp_augment_draw dc = {0, 0, 0, 1, 3};
    hp_augment_example(&cut, &dc, x, 1, 3, 4, scratch);
    const float want_cut[12] = {1, 2, 0, 0, 5, 6, 0, 0, 9, 10, 11, 12};
    CHECK(count_diff(x, want_cut, 12) == 0, "cutout 2 at (1, 3)");

    /* odd side: cutout 3 at centre (1, 2) covers rows [0, 3), columns [1, 4) (centred exactly). */
    fill_distinct(x, 12, 0.0f);
    hp_augment_spec cut3 = {0, 0, 3, 0.0};
    hp_augment_draw dc3 = {0, 0, 0, 1, 2};
    hp_augment_example(&cut3, &dc3, x, 1, 3, 4, scratch);
    const float want_cut3[12] = {1, 0, 0, 0, 5, 0, 0, 0, 9, 0, 0, 0};
    CHECK(count_diff(x, want_cut3, 12) == 0, "cutout 3 at (1, 2)");

    /* Shift past the whole image: all zeros. */
    fill_distinct(x, 12, 0.0f);
    hp_augment_spec far = {0, 9, 0, 0.0};
    hp_augment_draw dfar = {0, 0, 5, 0, 0};
    hp_augment_example(&far, &dfar, x, 1, 3, 4, scratch);
    const float zeros[12] = {0};
    CHECK(count_diff(x, zeros, 12) == 0, "an offset beyond the width leaves only padding");
}

/* Flip alone: each example is either untouched or its exact mirror, as its draw says, and the
 * mirror happens at rate 1/2 within 6 standard deviations. */
static void test_flip_rate(void) {
    enum { B = 4000, C = 2, H = 3, W = 5, D = C * H * W };
    float *x = malloc(sizeof(float) * B * D), *x0 = malloc(sizeof(float) * B * D), scratch[D];
    if (!x || !x0) {
        CHECK(0, "out of memory in the test");
        free(x), free(x0);
        return;
    }
    fill_distinct(x, (int64_t)B * D, 0.0f);
    memcpy(x0, x, sizeof(float) * B * D);
    hp_augment_spec s = {1, 0, 0, 0.0};
    hp_rng r = hp_rng_make(hp_key2(7, HP_STREAM_AUGMENT)), r2 = r;
    hp_augment_batch(&s, x, B, C, H, W, &r, scratch);
    int flipped = 0, wrong = 0, disagree = 0;
    for (int b = 0; b < B; b++) {
        const float *o = x + b * D, *in = x0 + b * D;
        int same = count_diff(o, in, D) == 0, mirror = 1;
        for (int row = 0; row < C * H; row++)
            for (int k = 0; k < W; k++)
                if (o[row * W + k] != in[row * W + W - 1 - k]) mirror = 0;
        if (mirror) flipped++;
        if (!same && !mirror) wrong++;
        hp_augment_draw d;
        hp_augment_sample(&s, H, W, &r2, &d);
        if (d.flip != mirror) disagree++;
    }
    CHECK(wrong == 0, "%d examples are neither untouched nor mirrored", wrong);
    CHECK(disagree == 0, "%d examples disagree with their draw", disagree);
    double sd = sqrt(B * 0.25);
    CHECK(fabs(flipped - B / 2.0) <= 6 * sd, "flip rate %d / %d, want %d +- %.0f", flipped, B, B / 2, 6 * sd);
    CHECK(r.counter == r2.counter && r.counter == (uint64_t)HP_AUGMENT_DRAWS * B, "stream position %llu",
          (unsigned long long)r.counter);
    free(x), free(x0);
}

/* All three together on many examples, each against the plain definition applied to its own
 * draws; the offsets cover exactly [-shift, shift] and the cutout squares have the clipped size. */
static void test_against_definition(void) {
    enum { B = 600, C = 3, H = 7, W = 6, D = C * H * W, SHIFT = 3, CUT = 4 };
    static float x[B * D], x0[B * D], want[D], scratch[D];
    fill_distinct(x, (int64_t)B * D, 0.0f);
    memcpy(x0, x, sizeof x);
    hp_augment_spec s = {1, SHIFT, CUT, 0.0};
    hp_rng r = hp_rng_make(99), r2 = r;
    hp_augment_batch(&s, x, B, C, H, W, &r, scratch);
    int bad = 0, seen_dy[2 * SHIFT + 1] = {0}, seen_dx[2 * SHIFT + 1] = {0}, out_of_range = 0, badcut = 0;
    int full_squares = 0;
    for (int b = 0; b < B; b++) {
        hp_augment_draw d;
        hp_augment_sample(&s, H, W, &r2, &d);
        reference(&s, &d, x0 + b * D, want, C, H, W);
        if (count_diff(x + b * D, want, D) != 0) bad++;
        if (d.dy < -SHIFT || d.dy > SHIFT || d.dx < -SHIFT || d.dx > SHIFT || d.cy < 0 || d.cy >= H || d.cx < 0 ||
            d.cx >= W) {
            out_of_range++;
            continue;
        }
        seen_dy[d.dy + SHIFT]++;
        seen_dx[d.dx + SHIFT]++;
        /* Zeros of channel 0 inside the cutout square: exactly its clipped area. */
        int y0 = d.cy - CUT / 2, x0c = d.cx - CUT / 2;
        int rows = (y0 + CUT < H ? y0 + CUT : H) - (y0 > 0 ? y0 : 0);
        int cols = (x0c + CUT < W ? x0c + CUT : W) - (x0c > 0 ? x0c : 0);
        int zeros_in = 0;
        for (int y = 0; y < H; y++)
            for (int xx = 0; xx < W; xx++)
                if (y >= y0 && y < y0 + CUT && xx >= x0c && xx < x0c + CUT && x[b * D + y * W + xx] == 0.0f)
                    zeros_in++;
        if (zeros_in != rows * cols) badcut++;
        if (rows * cols == CUT * CUT) full_squares++;
    }
    CHECK(bad == 0, "%d of %d examples differ from the definition applied to their draws", bad, B);
    CHECK(out_of_range == 0, "%d draws outside their ranges", out_of_range);
    CHECK(badcut == 0, "%d cutouts do not zero exactly the clipped square", badcut);
    CHECK(full_squares > 0, "some cutout squares lie wholly inside (%d)", full_squares);
    for (int k = 0; k <= 2 * SHIFT; k++) /* each offset has p = 1/7: expect ~86, sd ~8.6 */
        CHECK(seen_dy[k] > 30 && seen_dx[k] > 30, "offset %d drawn %d (dy) and %d (dx) times of %d", k - SHIFT,
              seen_dy[k], seen_dx[k], B);
}

/* The same stream gives the same batch; another key another batch; turning cutout on does not
 * change which examples are flipped or how they are shifted. */
static void test_reproducible(void) {
    enum { B = 50, C = 3, H = 8, W = 8, D = C * H * W };
    static float a[B * D], b[B * D], c[B * D], scratch[D];
    hp_augment_spec s = {1, 2, 3, 0.0};
    fill_distinct(a, (int64_t)B * D, 0.0f);
    memcpy(b, a, sizeof a);
    memcpy(c, a, sizeof a);
    hp_rng r1 = hp_rng_make(hp_key2(5, 4)), r2 = r1, r3 = hp_rng_make(hp_key2(6, 4));
    hp_augment_batch(&s, a, B, C, H, W, &r1, scratch);
    hp_augment_batch(&s, b, B, C, H, W, &r2, scratch);
    hp_augment_batch(&s, c, B, C, H, W, &r3, scratch);
    CHECK(memcmp(a, b, sizeof a) == 0, "same stream, same result");
    CHECK(count_diff(a, c, (int64_t)B * D) > 0, "another stream, another result");
    hp_augment_spec no_cut = {1, 2, 0, 0.0};
    hp_rng q1 = hp_rng_make(3), q2 = q1;
    int differ = 0;
    for (int e = 0; e < 200; e++) {
        hp_augment_draw d1, d2;
        hp_augment_sample(&s, H, W, &q1, &d1);
        hp_augment_sample(&no_cut, H, W, &q2, &d2);
        if (d1.flip != d2.flip || d1.dy != d2.dy || d1.dx != d2.dx) differ++;
    }
    CHECK(differ == 0, "enabling cutout changed %d flips or shifts", differ);
}

/* ---- samplers ---- */

/* Regularised incomplete beta I_x(a, b) by its continued fraction (modified Lentz), the
 * reference CDF of the Beta tests; checked below against closed forms. */
static double betacf(double a, double b, double x) {
    const double tiny = 1e-300;
    double c = 1.0, d = 1.0 - (a + b) * x / (a + 1.0);
    if (fabs(d) < tiny) d = tiny;
    d = 1.0 / d;
    double h = d;
    for (int m = 1; m < 10000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1.0) * (a + m2));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1.0));
        d = 1.0 + num * d;
        c = 1.0 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1.0 / d;
        double delta = d * c;
        h *= delta;
        if (fabs(delta - 1.0) < 1e-15) break;
    }
    return h;
}

static double beta_cdf(double x, double a, double b) {
    if (x <= 0.0) return 0.0;
    if (x >= 1.0) return 1.0;
    double lfront = a * log(x) + b * log1p(-x) + lgamma(a + b) - lgamma(a) - lgamma(b);
    if (x < (a + 1.0) / (a + b + 2.0)) return exp(lfront) * betacf(a, b, x) / a;
    return 1.0 - exp(lfront) * betacf(b, a, 1.0 - x) / b;
}

static int cmp_double(const void *p, const void *q) {
    double a = *(const double *)p, b = *(const double *)q;
    return (a > b) - (a < b);
}

/* Kolmogorov-Smirnov statistic of sorted v [n] against Beta(a, b). */
static double ks_beta(double *v, int n, double a, double b) {
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    double dmax = 0.0;
    for (int i = 0; i < n; i++) {
        double F = beta_cdf(v[i], a, b);
        double lo = F - (double)i / n, hi = (double)(i + 1) / n - F;
        if (lo > dmax) dmax = lo;
        if (hi > dmax) dmax = hi;
    }
    return dmax;
}

static void test_reference_cdf(void) {
    const double xs[] = {0.01, 0.2, 0.5, 0.77, 0.99};
    for (int i = 0; i < 5; i++) {
        double x = xs[i];
        CHECK_CLOSE(beta_cdf(x, 1, 1), x, 1e-12, 0, "I_x(1, 1) = x");
        CHECK_CLOSE(beta_cdf(x, 0.5, 0.5), 2.0 / acos(-1.0) * asin(sqrt(x)), 1e-10, 0, "I_x(1/2, 1/2) = 2/pi asin sqrt x");
        CHECK_CLOSE(beta_cdf(x, 2, 1), x * x, 1e-12, 0, "I_x(2, 1) = x^2");
        CHECK_CLOSE(beta_cdf(x, 0.2, 0.2) + beta_cdf(1 - x, 0.2, 0.2), 1.0, 1e-10, 0, "symmetry of I_x(a, a)");
    }
}

static void test_gamma_moments(void) {
    enum { N = 40000 };
    const double shapes[] = {0.2, 1.0, 2.5};
    for (int s = 0; s < 3; s++) {
        double k = shapes[s], sum = 0, sum2 = 0;
        hp_rng r = hp_rng_make(hp_key2(11, (uint64_t)s));
        int negative = 0;
        for (int i = 0; i < N; i++) {
            double g = hp_gamma_sample(&r, k);
            if (!(g >= 0.0)) negative++;
            sum += g;
            sum2 += g * g;
        }
        double mean = sum / N, var = sum2 / N - mean * mean;
        /* Gamma(k, 1): mean k, variance k; the sample mean has sd sqrt(k / N); the sample variance
         * sd sqrt((mu4 - k^2) / N) with mu4 = 3k^2 + 6k (excess kurtosis 6 / k). */
        double sd_mean = sqrt(k / N), sd_var = sqrt((2.0 * k * k + 6.0 * k) / N);
        char what[96];
        snprintf(what, sizeof what, "Gamma(%.1f) mean", k);
        CHECK_CLOSE(mean, k, 6 * sd_mean, 0, what);
        snprintf(what, sizeof what, "Gamma(%.1f) variance", k);
        CHECK_CLOSE(var, k, 6 * sd_var, 0, what);
        CHECK(negative == 0, "Gamma(%.1f): %d draws not >= 0", k, negative);
    }
}

static void test_beta(void) {
    enum { N = 20000 };
    static double v[N];
    const double alphas[] = {0.2, 1.0};
    for (int s = 0; s < 2; s++) {
        double a = alphas[s], sum = 0, sum2 = 0;
        hp_rng r = hp_rng_make(hp_key2(12, (uint64_t)s));
        int outside = 0;
        for (int i = 0; i < N; i++) {
            v[i] = hp_beta_sample(&r, a, a);
            if (!(v[i] >= 0.0 && v[i] <= 1.0)) outside++;
            sum += v[i];
            sum2 += v[i] * v[i];
        }
        CHECK(outside == 0, "Beta(%.1f): %d draws outside [0, 1]", a, outside);
        /* Beta(a, a): mean a / (2a) = 1/2, variance 1 / (4 (2a + 1)), excess kurtosis -6 / (2a + 3). */
        double mean = sum / N, var = sum2 / N - mean * mean;
        double var_true = 1.0 / (4.0 * (2.0 * a + 1.0));
        double mu4 = var_true * var_true * (3.0 - 6.0 / (2.0 * a + 3.0));
        char what[96];
        snprintf(what, sizeof what, "Beta(%.1f, %.1f) mean", a, a);
        CHECK_CLOSE(mean, a / (2 * a), 6 * sqrt(var_true / N), 0, what);
        snprintf(what, sizeof what, "Beta(%.1f, %.1f) variance", a, a);
        CHECK_CLOSE(var, var_true, 6 * sqrt((mu4 - var_true * var_true) / N), 0, what);
        /* KS against the Beta CDF (for a = 1, the uniform); 1.95 / sqrt(N) is the 0.1% level. */
        double D = ks_beta(v, N, a, a), crit = 1.95 / sqrt((double)N);
        CHECK(D < crit, "Beta(%.1f, %.1f): KS statistic %.4f >= %.4f (p < 0.001)", a, a, D, crit);
        if (a == 1.0) {
            double Du = 0; /* the uniform CDF directly, without the reference function */
            for (int i = 0; i < N; i++) {
                double lo = v[i] - (double)i / N, hi = (double)(i + 1) / N - v[i];
                if (lo > Du) Du = lo;
                if (hi > Du) Du = hi;
            }
            CHECK(Du < crit, "Beta(1, 1) against U(0, 1): KS %.4f >= %.4f", Du, crit);
        }
    }
    /* A sampler that ignored alpha would pass neither: Beta(0.2) mass near the ends. */
    hp_rng r = hp_rng_make(77);
    int ends = 0;
    for (int i = 0; i < 2000; i++) {
        double b = hp_beta_sample(&r, 0.2, 0.2);
        if (b < 0.05 || b > 0.95) ends++;
    }
    double p_ends = 2.0 * beta_cdf(0.05, 0.2, 0.2);
    CHECK_CLOSE(ends / 2000.0, p_ends, 6 * sqrt(p_ends * (1 - p_ends) / 2000), 0, "Beta(0.2) mass outside [0.05, 0.95]");
    /* Very small shapes stay finite and inside [0, 1] (the log-space evaluation). */
    int bad = 0;
    for (int i = 0; i < 1000; i++) {
        double b = hp_beta_sample(&r, 0.01, 0.01);
        if (!(b >= 0.0 && b <= 1.0)) bad++;
    }
    CHECK(bad == 0, "Beta(0.01): %d draws not in [0, 1]", bad);
}

static void test_mixup(void) {
    enum { B = 37, DIM = 1100 }; /* DIM > the 512-column block, and not a multiple of it */
    static float x[B * DIM], x0[B * DIM], want[B * DIM];
    for (int64_t i = 0; i < (int64_t)B * DIM; i++) x[i] = (float)sin(0.37 * (double)i) * 3.0f;
    memcpy(x0, x, sizeof x);
    int32_t perm[B], perm_want[B];
    double lambda = -1;
    hp_rng r = hp_rng_make(hp_key2(21, HP_STREAM_AUGMENT)), r2 = r;
    hp_mixup_batch(x, B, DIM, 0.4, &r, perm, &lambda);
    /* The draws, replayed: lambda first, then the permutation. */
    double lam_want = hp_beta_sample(&r2, 0.4, 0.4);
    for (int i = 0; i < B; i++) perm_want[i] = i;
    hp_rng_shuffle(&r2, perm_want, B);
    CHECK(lambda == lam_want, "lambda %.17g, want %.17g", lambda, lam_want);
    CHECK(lambda > 0.0 && lambda < 1.0, "lambda %.17g in (0, 1)", lambda);
    CHECK(r.counter == r2.counter, "stream position %llu, want %llu", (unsigned long long)r.counter,
          (unsigned long long)r2.counter);
    int seen[B] = {0}, perm_bad = 0, fixed = 0;
    for (int i = 0; i < B; i++) {
        if (perm[i] < 0 || perm[i] >= B || seen[perm[i]]++) perm_bad++;
        if (perm[i] != perm_want[i]) perm_bad++;
        if (perm[i] == i) fixed++;
    }
    CHECK(perm_bad == 0, "perm is not the replayed permutation of [0, %d)", B);
    CHECK(fixed < B, "perm is not the identity");
    const float lf = (float)lambda, mf = (float)(1.0 - lambda);
    for (int i = 0; i < B; i++)
        for (int k = 0; k < DIM; k++) want[i * DIM + k] = lf * x0[i * DIM + k] + mf * x0[perm[i] * DIM + k];
    CHECK(count_diff(x, want, (int64_t)B * DIM) == 0, "mixup equals lambda x + (1 - lambda) x[perm] exactly");
    /* The same through a different view: close to the double-precision mix (catches a formula
     * that matches the reference above by accident of both being wrong the same way). */
    double maxerr = 0;
    for (int i = 0; i < B; i++)
        for (int k = 0; k < DIM; k++) {
            double e = fabs(x[i * DIM + k] - (lambda * x0[i * DIM + k] + (1 - lambda) * x0[perm[i] * DIM + k]));
            if (e > maxerr) maxerr = e;
        }
    CHECK(maxerr < 3e-6, "mixup against the double-precision mix: max error %.3g", maxerr);

    /* alpha = 0: off. No draws, identity permutation, lambda 1, x unchanged. */
    memcpy(x, x0, sizeof x);
    hp_rng q = hp_rng_make(1);
    hp_mixup_batch(x, B, DIM, 0.0, &q, perm, &lambda);
    int ident = 1;
    for (int i = 0; i < B; i++) ident &= perm[i] == i;
    CHECK(lambda == 1.0 && ident && q.counter == 0 && count_diff(x, x0, (int64_t)B * DIM) == 0,
          "alpha 0 is the identity without draws");
    /* alpha = inf: lambda is exactly 1/2, the limit of Beta(a, a). */
    hp_mixup_batch(x, B, DIM, INFINITY, &q, perm, &lambda);
    CHECK(lambda == 0.5, "alpha inf gives lambda %.17g, want 0.5", lambda);
    /* Batches of 1 and 2, dim 1: the cycle walk at its smallest. */
    float one[1] = {5.0f}, two[2] = {1.0f, 3.0f};
    int32_t p2[2];
    hp_mixup_batch(one, 1, 1, 1.0, &q, p2, &lambda);
    CHECK(p2[0] == 0 && one[0] == (float)lambda * 5.0f + (float)(1.0 - lambda) * 5.0f, "B = 1 mixes with itself");
    hp_mixup_batch(two, 2, 1, 1.0, &q, p2, &lambda);
    float lf2 = (float)lambda, mf2 = (float)(1.0 - lambda);
    CHECK(two[0] == lf2 * 1.0f + mf2 * (p2[0] == 0 ? 1.0f : 3.0f) &&
              two[1] == lf2 * 3.0f + mf2 * (p2[1] == 0 ? 1.0f : 3.0f),
          "B = 2: [%g %g] with perm [%d %d]", two[0], two[1], p2[0], p2[1]);
}

int main(void) {
    test_identity();
    test_by_hand();
    test_flip_rate();
    test_against_definition();
    test_reproducible();
    test_reference_cdf();
    test_gamma_moments();
    test_beta();
    test_mixup();
    return hp_check_summary("test_augment");
}
