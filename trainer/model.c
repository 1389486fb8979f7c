/* model.c - see model.h. The layer and initialisation names; the model itself is a plan
 * (cpu/model_plan.c validates the layer list into ops) run by the CPU kernels (cpu/layers.h,
 * conv.h, pool.h, norm.h, act.h, dropout.h) in float and double, from one template
 * (cpu/model_tmpl.h). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/act.h"
#include "cpu/conv.h"
#include "cpu/dropout.h"
#include "cpu/layers.h"
#include "cpu/model_plan.h"
#include "cpu/norm.h"
#include "cpu/pool.h"
#include "rng.h"

/* ---- names ------------------------------------------------------------------------------- */

/* Every type has a name; the compiler checks the count matches the enum. */
static const char *const layer_names[] = {"dense",   "relu",       "conv",    "batchnorm", "maxpool",
                                          "avgpool", "globalavgpool", "dropout", "flatten", "add",
                                          "leaky_relu", "elu", "gelu", "tanh", "sigmoid"};
_Static_assert(sizeof layer_names / sizeof layer_names[0] == HP_LAYER_COUNT_, "a name per layer type");
// clang-format off
static const char *const init_names[HP_INIT_COUNT_] = {
    "default", "kaiming_uniform", "kaiming_normal", "xavier_uniform", "xavier_normal", "zero",
    "fan_in_uniform"};
// clang-format on

const char *hp_layer_type_name(hp_layer_type t) {
    return (unsigned)t < HP_LAYER_COUNT_ ? layer_names[t] : "unknown";
}
const char *hp_init_name(hp_init i) { return (unsigned)i < HP_INIT_COUNT_ ? init_names[i] : "unknown"; }

int hp_layer_type_parse(const char *s) {
    for (int i = 0; s && i < HP_LAYER_COUNT_; i++)
        if (strcmp(s, layer_names[i]) == 0) return i;
    return -1;
}
int hp_init_parse(const char *s) {
    for (int i = 0; s && i < HP_INIT_COUNT_; i++)
        if (strcmp(s, init_names[i]) == 0) return i;
    return -1;
}

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
