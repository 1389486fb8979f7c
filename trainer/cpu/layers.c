/* layers.c - the CPU layers in float and double, from one template (layers_tmpl.h). */
#include "layers.h"

#include "gemm.h"
#include <math.h>

#define REAL float
#define SFX(name) name##_f32
#define GEMM hp_gemm_f32
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
#define GEMM hp_gemm_f64
#define EXP exp
#define LOG log
#include "layers_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM
#undef EXP
#undef LOG
