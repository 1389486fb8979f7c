/* layers.c - the CPU layers in float and double, from one template (layers_tmpl.h). */
#include "layers.h"

#include <cblas.h>
#include <math.h>

#define REAL float
#define SFX(name) name##_f32
#define GEMM cblas_sgemm
#define EXP expf
#define LOG logf
#include "layers_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM
#undef EXP
#undef LOG

#define REAL double
#define SFX(name) name##_f64
#define GEMM cblas_dgemm
#define EXP exp
#define LOG log
#include "layers_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM
#undef EXP
#undef LOG
