/* norm.c - batch normalisation in float and double, from one template (norm_tmpl.h). */
#include "norm.h"

#include <math.h>
#include <omp.h>
#include <stddef.h>
#include <stdint.h>

/* Interleaved accumulators per channel: enough independent add chains to hide the FP-add
 * latency; fixed, so the summation order never depends on the machine or thread count. */
#define HP_BN_LANES 8
/* At most this many channels per group (stack arrays of 2 * 64 * 8 doubles; no allocation). */
#define HP_BN_GROUP 64
/* Below this many values a layer runs on the calling thread (a parallel region costs a few us). */
#define HP_BN_PARALLEL_MIN (1 << 16)

/* Channels per group: C spread evenly over the threads for a large layer, at most HP_BN_GROUP.
 * The grouping only decides who computes a channel, never how (see norm_tmpl.h). */
static int bn_group_size(int C, int64_t total) {
    int t = total >= HP_BN_PARALLEL_MIN ? omp_get_max_threads() : 1;
    if (t < 1) t = 1;
    int g = (C + t - 1) / t;
    return g < 1 ? 1 : g > HP_BN_GROUP ? HP_BN_GROUP : g;
}

#define REAL float
#define SFX(name) name##_f32
#include "norm_tmpl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX(name) name##_f64
#include "norm_tmpl.h"
#undef REAL
#undef SFX
