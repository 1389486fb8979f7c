/* model.c - see model.h. Validates a layer list into a plan (cpu/model_plan.h) and runs it
 * with the CPU layers (cpu/layers.h) in float and double, from one template (cpu/model_tmpl.h). */
#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cpu/layers.h"
#include "cpu/model_plan.h"
#include "rng.h"

/* ---- names ------------------------------------------------------------------------------- */

static const char *const layer_names[HP_LAYER_COUNT_] = {"dense", "relu"};
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

/* ---- plan: validation and layout --------------------------------------------------------- */

/* "layer 3 (dense, spec line 12)" or "layer 3 (dense)" when the line is unknown. */
static const char *layer_where(const hp_model_spec *spec, int i, char *buf, size_t len) {
    const hp_layer_spec *l = &spec->layers[i];
    if (l->line > 0)
        snprintf(buf, len, "model layer %d (%s, spec line %d)", i, hp_layer_type_name(l->type), l->line);
    else
        snprintf(buf, len, "model layer %d (%s)", i, hp_layer_type_name(l->type));
    return buf;
}

/* Largest width of one tensor dimension: GEMM sizes are C ints, and 2^24 features is far
 * beyond any model this trainer is for. */
#define HP_MAX_WIDTH (1 << 24)

int hp_plan_build(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch, hp_plan *plan,
                  hp_err *err) {
    memset(plan, 0, sizeof *plan);
    char where[96];
    if (c <= 0 || h <= 0 || w <= 0 || (int64_t)c * h * w > HP_MAX_WIDTH)
        return hp_errf(err,
                       "model input shape %dx%dx%d is invalid: each dimension must be > 0 and "
                       "c*h*w at most %d",
                       c, h, w, HP_MAX_WIDTH);
    if (nclasses < 2 || nclasses > HP_MAX_WIDTH)
        return hp_errf(err, "model: nclasses %d is invalid; a classifier needs at least 2 classes", nclasses);
    if (max_batch <= 0 || max_batch > HP_MAX_WIDTH)
        return hp_errf(err, "model: batch size %d is invalid; it must be in [1, %d]", max_batch,
                       HP_MAX_WIDTH);
    if (spec->nlayers <= 0 || spec->nlayers > HP_MAX_LAYERS)
        return hp_errf(err,
                       "model: %d layers given; a model needs 1 to %d layers ending in a dense "
                       "layer of %d units",
                       spec->nlayers, HP_MAX_LAYERS, nclasses);
    plan->spec = *spec;
    plan->in_dim = c * h * w;
    plan->nclasses = nclasses;
    plan->max_batch = max_batch;
    plan->max_width = plan->in_dim;

    int width = plan->in_dim, ndense = 0;
    int64_t off = 0, act = 0;
    plan->first_param_op = -1;
    for (int i = 0; i < spec->nlayers; i++) {
        const hp_layer_spec *l = &spec->layers[i];
        hp_plan_op *op = &plan->ops[plan->nops];
        if (l->type == HP_LAYER_DENSE) {
            if (l->units <= 0 || l->units > HP_MAX_WIDTH)
                return hp_errf(err, "%s: units %d is invalid; it must be in [1, %d]",
                               layer_where(spec, i, where, sizeof where), l->units, HP_MAX_WIDTH);
            if ((unsigned)l->init >= HP_INIT_COUNT_)
                return hp_errf(err, "%s: unknown initialisation %d",
                               layer_where(spec, i, where, sizeof where), (int)l->init);
            op->type = HP_LAYER_DENSE;
            op->layer = i;
            op->in = width;
            op->out = l->units;
            // Fuse a directly following ReLU (its output is the dense output, masked).
            op->relu = i + 1 < spec->nlayers && spec->layers[i + 1].type == HP_LAYER_RELU;
            if (plan->first_param_op < 0) plan->first_param_op = plan->nops;

            hp_tensor_info *t = &plan->tensors[plan->ntensors++];
            snprintf(t->name, sizeof t->name, "dense%d.weight", ndense);
            t->ndim = 2;
            t->shape[0] = op->out;
            t->shape[1] = op->in;
            t->size = (int64_t)op->out * op->in;
            t->offset = op->w_off = off;
            off += t->size;
            t = &plan->tensors[plan->ntensors++];
            snprintf(t->name, sizeof t->name, "dense%d.bias", ndense);
            t->ndim = 1;
            t->shape[0] = op->out;
            t->size = op->out;
            t->offset = op->b_off = off;
            off += t->size;
            ndense++;
            width = l->units;
            if (op->relu) i++; // the fused ReLU is consumed
        } else if (l->type == HP_LAYER_RELU) {
            op->type = HP_LAYER_RELU;
            op->layer = i;
            op->in = op->out = width;
        } else {
            return hp_errf(err, "model layer %d: unknown layer type %d; valid types: dense, relu", i,
                           (int)l->type);
        }
        op->act_off = act;
        act += (int64_t)max_batch * op->out;
        if (op->out > plan->max_width) plan->max_width = op->out;
        plan->nops++;
    }
    int last = spec->nlayers - 1;
    if (spec->layers[last].type != HP_LAYER_DENSE)
        return hp_errf(err,
                       "%s: a model must end with a dense layer producing the %d logits (the loss "
                       "applies the softmax); remove this layer or add 'dense %d' after it",
                       layer_where(spec, last, where, sizeof where), nclasses, nclasses);
    if (width != nclasses)
        return hp_errf(err,
                       "%s: the last dense layer has %d units but the data has %d classes; set its "
                       "units to %d",
                       layer_where(spec, last, where, sizeof where), width, nclasses, nclasses);
    plan->nparams = plan->nstate = off;
    plan->act_size = act;
    return 0;
}

hp_init hp_plan_init_rule(const hp_plan *plan, int layer, double *scale, int *normal) {
    const hp_model_spec *spec = &plan->spec;
    hp_init init = spec->layers[layer].init;
    if (init == HP_INIT_DEFAULT) {
        /* The logits layer is drawn small (variance 1/(3 fan_in)) so that the first softmax is
         * nearly uniform and the initial loss is near ln(classes), as the recipe's sanity check
         * expects; Xavier there starts at ~1.4x ln(classes) on Fashion-MNIST. */
        int last = 1;
        for (int k = layer + 1; k < spec->nlayers; k++) last &= spec->layers[k].type != HP_LAYER_DENSE;
        if (layer + 1 < spec->nlayers && spec->layers[layer + 1].type == HP_LAYER_RELU)
            init = HP_INIT_KAIMING_UNIFORM;
        else
            init = last ? HP_INIT_FAN_IN_UNIFORM : HP_INIT_XAVIER_UNIFORM;
    }
    double fan_out = spec->layers[layer].units, fan_in = 0;
    for (int k = 0; k < plan->nops; k++)
        if (plan->ops[k].layer == layer) fan_in = plan->ops[k].in;
    *normal = init == HP_INIT_KAIMING_NORMAL || init == HP_INIT_XAVIER_NORMAL;
    // He et al. (2015) for ReLU, gain sqrt(2): U(-b, b) with b = gain * sqrt(3 / fan_in), or
    // N(0, gain^2 / fan_in). Glorot & Bengio (2010): variance 2 / (fan_in + fan_out).
    switch (init) {
    case HP_INIT_KAIMING_UNIFORM: *scale = sqrt(6.0 / fan_in); break;
    case HP_INIT_KAIMING_NORMAL: *scale = sqrt(2.0 / fan_in); break;
    case HP_INIT_XAVIER_UNIFORM: *scale = sqrt(6.0 / (fan_in + fan_out)); break;
    case HP_INIT_XAVIER_NORMAL: *scale = sqrt(2.0 / (fan_in + fan_out)); break;
    case HP_INIT_FAN_IN_UNIFORM: *scale = 1.0 / sqrt(fan_in); break;
    default: *scale = 0; break; // HP_INIT_ZERO
    }
    return init;
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
