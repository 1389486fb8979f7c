/* pool.c - see pool.h. The geometry rule here; float and double bodies from pool_tmpl.h. */
#include "pool.h"

#include <math.h>
#include <string.h>

int hp_pool_geom_make(hp_pool_geom *g, int H, int W, int k, int stride, int pad) {
    if (H <= 0 || W <= 0 || k <= 0 || stride <= 0 || pad < 0 || pad > k / 2) return -1;
    if ((int64_t)H + 2 * (int64_t)pad < k || (int64_t)W + 2 * (int64_t)pad < k) return -1;
    hp_pool_geom r = {H, W, k, stride, pad, (H + 2 * pad - k) / stride + 1, (W + 2 * pad - k) / stride + 1};
    *g = r;
    return 0;
}

/* Planes below this many values in all run on one thread (a parallel region costs more). */
#define HP_POOL_PARALLEL_MIN (1 << 15)

#define REAL float
#define SFX(name) name##_f32
#include "pool_tmpl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX(name) name##_f64
#include "pool_tmpl.h"
#undef REAL
#undef SFX
