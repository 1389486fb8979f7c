/* pool.c - see pool.h (the geometry, hp_pool_geom_make, is geometry.c's); float and double
 * bodies from pool_tmpl.h. */
#include "pool.h"

#include <math.h>
#include <string.h>

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
