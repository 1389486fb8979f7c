/* model.c - see model.h. The model is a plan (model_plan.c validates the layer list into ops)
 * run by the CPU kernels (cpu/layers.h, conv.h, pool.h, norm.h, act.h, dropout.h) in float and
 * double, from one template (cpu/model_tmpl.h). The layer names are layer_spec.c's. */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/act.h"
#include "cpu/conv.h"
#include "cpu/dropout.h"
#include "cpu/layers.h"
#include "cpu/norm.h"
#include "cpu/pool.h"
#include "model_plan.h"
#include "rng.h"

/* ---- the two precisions ------------------------------------------------------------------ */

#define REAL float
#define MODEL hp_model
#define MFN(name) hp_model_##name
#define LFN(name) name##_f32
#include "cpu/model_tmpl.h"
#undef REAL
#undef MODEL
#undef MFN
#undef LFN

#define REAL double
#define MODEL hp_model64
#define MFN(name) hp_model64_##name
#define LFN(name) name##_f64
#include "cpu/model_tmpl.h"
#undef REAL
#undef MODEL
#undef MFN
#undef LFN
