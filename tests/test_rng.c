/* test_rng.c - the counter-based generator of rng.h: reproducibility, known answers, and
 * goodness of fit of uniform, bounded-integer and normal draws and of shuffles.
 *
 * Streams use fixed keys, so every statistic below is one deterministic number; the thresholds
 * are critical values at p = 1e-6 (chi-square, scipy.stats.chi2.isf(1e-6, df)) or 1e-4
 * (Kolmogorov-Smirnov), so a correct generator passes by a wide margin and a biased one (e.g.
 * modulo bias, a wrong Box-Muller constant, an off-by-one in Fisher-Yates) fails. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "rng.h"

/* Chi-square critical values, upper tail (scipy.stats.chi2.isf(p, df)). */
#define CHI2_DF63_P1E6 131.36970205168686
#define CHI2_DF2_P1E6 27.631021115928547
#define CHI2_DF9_P1E6 44.81093787068782
#define CHI2_DF5_P1E7 40.86302108810562
/* Kolmogorov distribution: sqrt(n) * D critical value at p = 1e-4 (scipy.stats.kstwobign.isf(1e-4)). */
#define KS_P1E4 2.2252513961950457

static double chi_square(const int64_t *count, int k, double expected) {
    double s = 0.0;
    for (int i = 0; i < k; i++) {
        double d = (double)count[i] - expected;
        s += d * d / expected;
    }
    return s;
}

static void test_reproducible(void) {
    /* SplitMix64 from state 0: its first outputs are the published reference values. */
    CHECK(hp_rng_at(0, 0) == 0xe220a8397b1dcdafULL, "SplitMix64(0) first output %016llx",
          (unsigned long long)hp_rng_at(0, 0));
    CHECK(hp_rng_at(0, 1) == 0x6e789e6aa1b965f4ULL, "SplitMix64(0) second output %016llx",
          (unsigned long long)hp_rng_at(0, 1));
    CHECK(hp_rng_at(1234567, 0) == 0x599ed017fb08fc85ULL, "SplitMix64(1234567) first output %016llx",
          (unsigned long long)hp_rng_at(1234567, 0));

    const uint64_t key = hp_key3(2024, 1, 17);
    hp_rng r = hp_rng_make(key);
    int bad = 0;
    for (uint64_t i = 0; i < 1000; i++) bad += hp_rng_u64(&r) != hp_rng_at(key, i);
    CHECK(bad == 0 && r.counter == 1000, "stream equals hp_rng_at(key, i) (%d mismatches, counter %llu)", bad,
          (unsigned long long)r.counter);
    /* Draws are a pure function of (key, counter): a restored state continues identically. */
    hp_rng saved = r;
    double u1 = hp_rng_uniform(&r), n1 = hp_rng_normal(&r);
    uint64_t b1 = hp_rng_below(&r, 10);
    hp_rng again = saved;
    CHECK(hp_rng_uniform(&again) == u1 && hp_rng_normal(&again) == n1 && hp_rng_below(&again, 10) == b1,
          "restored (key, counter) reproduces uniform, normal and below");
    CHECK(again.counter == r.counter, "same number of draws consumed");
    hp_rng c = hp_rng_make(5);
    (void)hp_rng_uniform(&c);
    CHECK(c.counter == 1, "uniform takes one draw (counter %llu)", (unsigned long long)c.counter);
    (void)hp_rng_normal(&c);
    CHECK(c.counter == 3, "normal takes two draws (counter %llu)", (unsigned long long)c.counter);
}

static void test_keys(void) {
    /* Different keys, different streams: no shared value in the first 2000 draws of neighbouring
     * keys, and no correlation between them. */
    const uint64_t keys[4] = {1, 2, hp_key2(7, HP_STREAM_INIT), hp_key2(7, HP_STREAM_SHUFFLE)};
    for (int a = 0; a < 4; a++)
        for (int b = a + 1; b < 4; b++) {
            int64_t equal = 0;
            double sxy = 0;
            const int n = 2000;
            for (int i = 0; i < n; i++) {
                equal += hp_rng_at(keys[a], (uint64_t)i) == hp_rng_at(keys[b], (uint64_t)i);
                /* Any lag within +-2 too: a shifted copy of a stream is not a new stream. */
                for (int lag = 1; lag <= 2; lag++)
                    equal +=
                        hp_rng_at(keys[a], (uint64_t)i + (uint64_t)lag) == hp_rng_at(keys[b], (uint64_t)i) ||
                        hp_rng_at(keys[a], (uint64_t)i) == hp_rng_at(keys[b], (uint64_t)i + (uint64_t)lag);
                double x = (double)(hp_rng_at(keys[a], (uint64_t)i) >> 11) * 0x1.0p-53 - 0.5;
                double y = (double)(hp_rng_at(keys[b], (uint64_t)i) >> 11) * 0x1.0p-53 - 0.5;
                sxy += x * y;
            }
            CHECK(equal == 0, "keys %d and %d share %lld draws", a, b, (long long)equal);
            /* corr = 12 * mean(x*y) for centred uniforms; its standard error is 1/sqrt(n). */
            double corr = 12.0 * sxy / n;
            CHECK(fabs(corr) < 5.0 / sqrt((double)n), "keys %d and %d correlate: %g", a, b, corr);
        }
    CHECK(hp_key2(1, 2) != hp_key2(2, 1), "hp_key2 is not symmetric");
    CHECK(hp_key3(1, 2, 3) != hp_key3(1, 3, 2) && hp_key3(1, 2, 3) != hp_key2(1, 2),
          "hp_key3 depends on every argument and its order");
}

static void test_uniform(void) {
    enum { N = 1000000, BINS = 64 };
    hp_rng r = hp_rng_make(hp_key2(42, HP_STREAM_SEARCH));
    int64_t count[BINS] = {0}, outside = 0;
    double s = 0, s2 = 0;
    for (int i = 0; i < N; i++) {
        double u = hp_rng_uniform(&r);
        if (!(u >= 0.0 && u < 1.0)) {
            outside++;
            continue;
        }
        s += u;
        s2 += (u - 0.5) * (u - 0.5);
        count[(int)(u * BINS)]++;
    }
    CHECK(outside == 0, "%lld uniforms outside [0, 1)", (long long)outside);
    /* mean 1/2 with SE sqrt(1/12/N); variance 1/12 with SE sqrt(Var[(U-1/2)^2] / N) = sqrt(1/180/N). */
    double mean = s / N, var = s2 / N;
    CHECK_CLOSE(mean, 0.5, 5.0 * sqrt(1.0 / 12.0 / N), 0, "uniform mean (5 SE)");
    CHECK_CLOSE(var, 1.0 / 12.0, 5.0 * sqrt(1.0 / 180.0 / N), 0, "uniform variance (5 SE)");
    double chi = chi_square(count, BINS, (double)N / BINS);
    CHECK(chi < CHI2_DF63_P1E6, "uniform chi-square over 64 bins %.2f >= %.2f (p = 1e-6)", chi,
          CHI2_DF63_P1E6);
    printf("uniform: mean %.6f var %.6f chi2(63) %.2f\n", mean, var, chi);
}

static void test_below(void) {
    const uint64_t ns[2] = {3, 10};
    const double crit[2] = {CHI2_DF2_P1E6, CHI2_DF9_P1E6};
    for (int t = 0; t < 2; t++) {
        enum { N = 300000 };
        int64_t count[10] = {0}, outside = 0;
        hp_rng r = hp_rng_make(hp_key2(77, ns[t]));
        for (int i = 0; i < N; i++) {
            uint64_t v = hp_rng_below(&r, ns[t]);
            if (v >= ns[t])
                outside++;
            else
                count[v]++;
        }
        CHECK(outside == 0, "below(%llu) returned %lld values >= n", (unsigned long long)ns[t],
              (long long)outside);
        double chi = chi_square(count, (int)ns[t], (double)N / (double)ns[t]);
        CHECK(chi < crit[t], "below(%llu) chi-square %.2f >= %.2f (p = 1e-6)", (unsigned long long)ns[t], chi,
              crit[t]);
        printf("below(%llu): chi2(%llu) %.2f\n", (unsigned long long)ns[t], (unsigned long long)(ns[t] - 1),
               chi);
    }
    /* A bound just above 2^63 rejects about half of all draws (2^64 mod n = 2^63 - 1): every
     * result stays below n, both halves of the range appear equally, and the rejection loop
     * really draws again (the counter runs ahead of the number of results). */
    const uint64_t big = (1ULL << 63) + 1;
    hp_rng r = hp_rng_make(9);
    int64_t outside = 0, high = 0;
    const int N = 20000;
    for (int i = 0; i < N; i++) {
        uint64_t v = hp_rng_below(&r, big);
        outside += v >= big;
        high += v >= (1ULL << 62);
    }
    CHECK(outside == 0, "below(2^63+1) out of range %lld times", (long long)outside);
    CHECK_CLOSE((double)high / N, 0.5, 5.0 * sqrt(0.25 / N), 0, "below(2^63+1) upper half fraction");
    CHECK(r.counter > (uint64_t)N * 5 / 4, "rejection draws again: %llu draws for %d results",
          (unsigned long long)r.counter, N);
    hp_rng one = hp_rng_make(3);
    CHECK(hp_rng_below(&one, 1) == 0, "below(1) is 0");
}

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void test_normal(void) {
    enum { N = 1000000, NKS = 200000 };
    hp_rng r = hp_rng_make(hp_key2(5, HP_STREAM_INIT));
    double s = 0, s2 = 0;
    int64_t nonfinite = 0;
    double *ks = malloc(NKS * sizeof *ks);
    if (!CHECK(ks != NULL, "malloc")) return;
    for (int i = 0; i < N; i++) {
        double z = hp_rng_normal(&r);
        if (!isfinite(z)) {
            nonfinite++;
            continue;
        }
        s += z;
        s2 += z * z;
        if (i < NKS) ks[i] = z;
    }
    CHECK(nonfinite == 0, "%lld non-finite normals", (long long)nonfinite);
    /* mean 0 with SE 1/sqrt(N); E[z^2] = 1 with SE sqrt(Var[z^2] / N) = sqrt(2/N). */
    CHECK_CLOSE(s / N, 0.0, 5.0 / sqrt((double)N), 0, "normal mean (5 SE)");
    CHECK_CLOSE(s2 / N, 1.0, 5.0 * sqrt(2.0 / N), 0, "normal variance (5 SE)");
    /* Kolmogorov-Smirnov against Phi(z) = erfc(-z / sqrt 2) / 2. */
    qsort(ks, NKS, sizeof *ks, cmp_double);
    double d = 0;
    for (int i = 0; i < NKS; i++) {
        double f = 0.5 * erfc(-ks[i] / sqrt(2.0));
        double lo = f - (double)i / NKS, hi = (double)(i + 1) / NKS - f;
        if (lo > d) d = lo;
        if (hi > d) d = hi;
    }
    double stat = d * sqrt((double)NKS);
    CHECK(stat < KS_P1E4, "normal KS sqrt(n) D = %.4f >= %.4f (p = 1e-4)", stat, KS_P1E4);
    printf("normal: mean %.5f var %.5f KS sqrt(n)D %.3f\n", s / N, s2 / N, stat);
    free(ks);
}

static void test_shuffle(void) {
    /* A permutation: every value once. */
    enum { M = 1000 };
    int32_t idx[M];
    for (int i = 0; i < M; i++) idx[i] = i;
    hp_rng r = hp_rng_make(hp_key2(3, HP_STREAM_SHUFFLE));
    hp_rng_shuffle(&r, idx, M);
    int seen[M] = {0}, bad = 0, fixed = 0;
    for (int i = 0; i < M; i++) {
        if (idx[i] < 0 || idx[i] >= M || seen[idx[i]]++) bad++;
        fixed += idx[i] == i;
    }
    CHECK(bad == 0, "shuffle of %d is not a permutation (%d bad entries)", M, bad);
    CHECK(fixed < 10, "shuffle leaves %d of %d in place (expect ~1)", fixed, M);
    int32_t one = 7;
    hp_rng_shuffle(&r, &one, 1);
    hp_rng_shuffle(&r, NULL, 0);
    CHECK(one == 7, "shuffle of one element");

    /* Each position's value is uniform over 6 values (Fisher-Yates gives all 720 orders equally;
     * Sattolo's off-by-one variant would never leave a value in place). */
    enum { K = 6, T = 60000 };
    int64_t count[K][K];
    memset(count, 0, sizeof count);
    for (int t = 0; t < T; t++) {
        int32_t p[K];
        for (int i = 0; i < K; i++) p[i] = i;
        hp_rng_shuffle(&r, p, K);
        for (int i = 0; i < K; i++) count[i][p[i]]++;
    }
    double worst = 0;
    for (int i = 0; i < K; i++) {
        double chi = chi_square(count[i], K, (double)T / K);
        if (chi > worst) worst = chi;
        CHECK(chi < CHI2_DF5_P1E7, "position %d chi-square %.2f >= %.2f (p = 1e-7 each, 6 positions)", i, chi,
              CHI2_DF5_P1E7);
    }
    printf("shuffle: worst position chi2(5) %.2f\n", worst);
}

int main(void) {
    test_reproducible();
    test_keys();
    test_uniform();
    test_below();
    test_normal();
    test_shuffle();
    return hp_check_summary("test_rng");
}
