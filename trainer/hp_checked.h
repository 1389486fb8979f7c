/* hp_checked.h - integer arithmetic and conversions on numbers read from files, checked: the one
 * place for them, so that a damaged or hostile file gives an error, never a wrapped
 * value that passes a later bounds check, nor undefined behaviour.
 *
 * Each returns 0 with the result in *out, or -1 (out untouched) when the exact result does not
 * fit (or, for conversions, the value is NaN or outside [lo, hi]). */
#ifndef HP_CHECKED_H
#define HP_CHECKED_H

#include <stdint.h>

static inline int hp_checked_add(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r)) return -1;
    *out = r;
    return 0;
}

static inline int hp_checked_mul(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r)) return -1;
    *out = r;
    return 0;
}

/* a * k + b, as the checkpoint sizes (2 * model_floats + optim_floats). */
static inline int hp_checked_muladd(int64_t a, int64_t k, int64_t b, int64_t *out) {
    int64_t p;
    return hp_checked_mul(a, k, &p) == 0 && hp_checked_add(p, b, out) == 0 ? 0 : -1;
}

/* A double to an integer in [lo, hi] (rounded toward zero). */
static inline int hp_checked_to_i64(double v, int64_t lo, int64_t hi, int64_t *out) {
    if (!(v >= (double)lo && v <= (double)hi)) return -1; /* NaN fails both */
    /* (double)hi may round up past hi (2^63 for INT64_MAX): keep below 2^63 before converting */
    if (v >= 9223372036854775807.0) return -1;
    int64_t r = (int64_t)v;
    if (r < lo || r > hi) return -1;
    *out = r;
    return 0;
}

#endif
