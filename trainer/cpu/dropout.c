/* dropout.c - inverted dropout in float and double, from one template (dropout_tmpl.h). */
#include "dropout.h"

#include "rng.h"
#include <math.h>
#include <string.h>

/* Values per block of work (a thread takes whole blocks). */
#define HP_DROPOUT_BLOCK 4096
/* Below these sizes a call runs on the calling thread (a parallel region costs a few us; one
 * draw ~1 ns, applying a mask ~0.1 ns). */
#define HP_DROPOUT_PARALLEL_MIN (1 << 15)
#define HP_DROPOUT_PARALLEL_MIN_CHEAP (1 << 18)

#define REAL float
#define SFX(name) name##_f32
#include "dropout_tmpl.h"
#undef REAL
#undef SFX

#define REAL double
#define SFX(name) name##_f64
#include "dropout_tmpl.h"
#undef REAL
#undef SFX
