/* rng.h - counter-based random numbers.
 *
 * Every random stream in hpsweep is a pure function of a key and a counter:
 *     value_i = mix(key, i)
 * so any draw can be reproduced from (key, i) alone, on any rank, in any order. Keys are
 * derived by hashing the identifiers of what the stream is for, e.g.
 *     hp_key3(sweep_seed, stage, trial)           -> a trial's hyperparameters
 *     hp_key2(trial_seed, HP_STREAM_SHUFFLE)      -> a trial's data order
 * The mixer is the SplitMix64 finaliser applied to key + i * golden-ratio, the generator of
 * Steele, Lea and Flood (2014), which passes BigCrush; checkpointing a stream means saving
 * its (key, counter) pair.
 */
#ifndef HP_RNG_H
#define HP_RNG_H

#include <stdint.h>

typedef struct hp_rng {
    uint64_t key;     /* which stream */
    uint64_t counter; /* how many 64-bit draws were taken */
} hp_rng;

/* Named sub-streams of a trial, so that adding a new use of randomness never shifts the others. */
enum {
    HP_STREAM_INIT = 1,    /* parameter initialisation */
    HP_STREAM_SHUFFLE = 2, /* per-epoch shuffle */
    HP_STREAM_DROPOUT = 3, /* dropout masks */
    HP_STREAM_AUGMENT = 4, /* data augmentation */
    HP_STREAM_SPLIT = 5,   /* train/validation split */
    HP_STREAM_SEARCH = 6   /* hyperparameter sampling */
};

static inline uint64_t hp_mix64(uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static inline uint64_t hp_key2(uint64_t a, uint64_t b) {
    return hp_mix64(hp_mix64(a + 0x9e3779b97f4a7c15ULL) ^ (b + 0x632be59bd9b4e019ULL));
}
static inline uint64_t hp_key3(uint64_t a, uint64_t b, uint64_t c) { return hp_key2(hp_key2(a, b), c); }

static inline hp_rng hp_rng_make(uint64_t key) {
    hp_rng r = {key, 0};
    return r;
}

/* The i-th raw draw of stream `key`, without state. */
static inline uint64_t hp_rng_at(uint64_t key, uint64_t i) {
    return hp_mix64(key + (i + 1) * 0x9e3779b97f4a7c15ULL);
}

static inline uint64_t hp_rng_u64(hp_rng *r) { return hp_rng_at(r->key, r->counter++); }

/* Uniform double in [0, 1) with 53 random bits. */
static inline double hp_rng_uniform(hp_rng *r) { return (double)(hp_rng_u64(r) >> 11) * 0x1.0p-53; }

/* Uniform integer in [0, n), n > 0, without modulo bias (Lemire's method with rejection). */
uint64_t hp_rng_below(hp_rng *r, uint64_t n);

/* Standard normal (Box-Muller, two uniforms per draw; the second value is discarded so that
 * the stream position stays a simple function of the number of draws). */
double hp_rng_normal(hp_rng *r);

/* Fisher-Yates shuffle of idx[0..n). */
void hp_rng_shuffle(hp_rng *r, int32_t *idx, int64_t n);

#endif
