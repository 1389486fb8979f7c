/* act.c - elementwise activations in float and double, from one template (act_tmpl.h). */
#include "act.h"

#include <math.h>
#include <stddef.h>

/* 1/sqrt(2) and 1/sqrt(2 pi), to double precision (M_SQRT1_2 is not ISO C). */
#define HP_SQRT1_2 0.70710678118654752440
#define HP_INV_SQRT_2PI 0.39894228040143267794
/* Values per block of work (a thread takes whole blocks; 16 KiB of floats). */
#define HP_ACT_BLOCK 4096

/* Below this size a call runs on the calling thread: a parallel region costs a few us, worth it
 * only over ~64K cheap (memory-bound) values or ~8K transcendental ones. */
static int64_t hp_act_parallel_min(hp_layer_type type) {
    return type == HP_LAYER_RELU || type == HP_LAYER_LEAKY_RELU ? (int64_t)1 << 16 : (int64_t)1 << 13;
}

int hp_act_supported(hp_layer_type type) {
    switch (type) {
    case HP_LAYER_RELU:
    case HP_LAYER_LEAKY_RELU:
    case HP_LAYER_ELU:
    case HP_LAYER_GELU:
    case HP_LAYER_TANH:
    case HP_LAYER_SIGMOID:
        return 1;
    default:
        return 0;
    }
}

#define REAL float
#define SFX(name) name##_f32
#define EXP expf
#define EXPM1 expm1f
#define ERF erff
#define TANH tanhf
#include "act_tmpl.h"
#undef REAL
#undef SFX
#undef EXP
#undef EXPM1
#undef ERF
#undef TANH

#define REAL double
#define SFX(name) name##_f64
#define EXP exp
#define EXPM1 expm1
#define ERF erf
#define TANH tanh
#include "act_tmpl.h"
#undef REAL
#undef SFX
#undef EXP
#undef EXPM1
#undef ERF
#undef TANH
