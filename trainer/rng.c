/* rng.c - see rng.h */
#include "rng.h"

#include <math.h>

uint64_t hp_rng_below(hp_rng *r, uint64_t n) {
    /* Lemire (2019): multiply-shift with a rejection zone of (2^64 mod n). */
    __uint128_t m = (__uint128_t)hp_rng_u64(r) * n;
    uint64_t low = (uint64_t)m;
    if (low < n) {
        uint64_t threshold = (0 - n) % n;
        while (low < threshold) {
            m = (__uint128_t)hp_rng_u64(r) * n;
            low = (uint64_t)m;
        }
    }
    return (uint64_t)(m >> 64);
}

double hp_rng_normal(hp_rng *r) {
    double u1 = hp_rng_uniform(r);
    double u2 = hp_rng_uniform(r);
    /* 1 - u1 lies in (0, 1], so the log is finite. */
    return sqrt(-2.0 * log(1.0 - u1)) * cos(6.283185307179586476925 * u2);
}

void hp_rng_shuffle(hp_rng *r, int32_t *idx, int64_t n) {
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)hp_rng_below(r, (uint64_t)i + 1);
        int32_t t = idx[i];
        idx[i] = idx[j];
        idx[j] = t;
    }
}
