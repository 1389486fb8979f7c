/* spec_model.c - the model section of a spec: model.layers, each layer type with its own keys,
 * defaults and ranges (docs/spec.md, "model"), and writing the layers back out. Shapes are
 * checked by the model when it is built (hp_model_create names the layer's spec line). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "spec_parts.h"

/* The keys each layer type takes ('*': required), in the order messages and dumps list them.
 * Every key here has a field in parse_layer's table. Every type takes `type` and `name` first
 * (COMMON; the dump writes those two itself). */
#define COMMON "type name "
static const char *const layer_keys[HP_LAYER_COUNT_] = {
    [HP_LAYER_DENSE] = COMMON "units* init bias",
    [HP_LAYER_RELU] = COMMON,
    [HP_LAYER_CONV] = COMMON "filters* kernel* stride padding bias init",
    [HP_LAYER_BATCHNORM] = COMMON "momentum eps",
    [HP_LAYER_MAXPOOL] = COMMON "kernel* stride padding",
    [HP_LAYER_AVGPOOL] = COMMON "kernel* stride padding",
    [HP_LAYER_GLOBALAVGPOOL] = COMMON,
    [HP_LAYER_DROPOUT] = COMMON "p",
    [HP_LAYER_FLATTEN] = COMMON,
    [HP_LAYER_ADD] = COMMON "from*",
    [HP_LAYER_LEAKY_RELU] = COMMON "slope",
    [HP_LAYER_ELU] = COMMON "alpha",
    [HP_LAYER_GELU] = COMMON,
    [HP_LAYER_TANH] = COMMON,
    [HP_LAYER_SIGMOID] = COMMON,
};

/* Defaults of every field, PyTorch's where it has one: a bias on dense and conv layers, conv
 * stride 1 (a pool's stride defaults to its kernel, set after reading), batch-norm momentum
 * 0.1 and eps 1e-5, dropout p 0.5, leaky ReLU slope 0.01, ELU alpha 1. */
static const hp_layer_spec layer_defaults = {
    .init = HP_INIT_DEFAULT, .stride = 1, .padding = 0, .bias = 1, .p = 0.5, .slope = 0.01, .alpha = 1,
    .momentum = 0.1, .eps = 1e-5, .from = 0};

static void layer_type_names(const char *out[HP_LAYER_COUNT_]) {
    for (int i = 0; i < HP_LAYER_COUNT_; i++) out[i] = hp_layer_type_name((hp_layer_type)i);
}

static void layer_variants(sy_variant v[HP_LAYER_COUNT_]) {
    for (int i = 0; i < HP_LAYER_COUNT_; i++) v[i] = (sy_variant){hp_layer_type_name((hp_layer_type)i), layer_keys[i]};
}

/* add: `from` must name an earlier layer of the list, or -1 for the model input. */
static int check_from(sy_doc *d, const sy_field *f, const char *where, int i, int nlayers, int from) {
    char range[64];
    if (i == 0)
        snprintf(range, sizeof range, "-1 (the model input): layer 0 has no earlier layer");
    else
        snprintf(range, sizeof range, "-1 (the model input) or an earlier layer, 0 to %d", i - 1);
    if (from < -1)
        return sy_fail(d, f->mark, "%s.from: '%d' is out of range; it must be %s", where, from, range);
    if (from >= nlayers)
        return sy_fail(d, f->mark, "%s.from: '%d' is out of range: there is no layer %d (the model has %d, 0 to %d); "
                       "it must be %s", where, from, from, nlayers, nlayers - 1, range);
    if (from == i)
        return sy_fail(d, f->mark, "%s.from: '%d' is this add layer itself; it must be %s", where, from, range);
    if (from > i)
        return sy_fail(d, f->mark, "%s.from: '%d' refers forward, to a later layer; a residual adds the output "
                       "of a layer before it, so it must be %s", where, from, range);
    return 0;
}

/* The first character of a layer's name (a letter or '_': never a digit, so a name is never
 * read as a number). */
static int name_start(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }

/* name: a label that a search path can use in place of the layer's index (model.layers.NAME.p):
 * a letter or '_' first (an index is digits), then letters, digits and '_'; one per layer. */
static int check_name(sy_doc *d, const sy_field *f, const char *where, const hp_layer_spec *layers, int i) {
    const char *name = layers[i].name;
    size_t n = strlen(name);
    int ok = n > 0 && name_start(name[0]);
    for (size_t k = 1; k < n && ok; k++) ok = name_start(name[k]) || (name[k] >= '0' && name[k] <= '9');
    if (!ok)
        return sy_fail(d, f->mark, "%s.name: '%s' is not a layer name; use a letter or '_' first, then letters, "
                       "digits and '_' (e.g. drop1), at most %zu characters", where, name,
                       sizeof layers[i].name - 1);
    for (int j = 0; j < i; j++)
        if (!strcmp(layers[j].name, name))
            return sy_fail(d, f->mark, "%s.name: '%s' is already the name of layer %d (line %d); each layer's name "
                           "must be its own", where, name, j, layers[j].line);
    return 0;
}

/* add: `from` may give an earlier layer's name instead of its number. A plain scalar that starts
 * like a name (a letter or '_') is looked up among layers 0..i-1 and replaced, in the document,
 * by that layer's number, which the integer field then reads and checks as if written so. */
static int resolve_from(sy_doc *d, yaml_node_t *n, const char *where, const hp_layer_spec *layers, int i) {
    if (n->type != YAML_MAPPING_NODE) return 0;
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = sy_node(d, p->key), *v = sy_node(d, p->value);
        if (!k || !v || k->type != YAML_SCALAR_NODE || sy_slen(k) != 4 || memcmp(sy_sval(k), "from", 4) != 0 ||
            v->type != YAML_SCALAR_NODE || sy_slen(v) == 0)
            continue;
        if (!name_start(sy_sval(v)[0])) return 0; /* a number: read as always */
        int at = -1;
        for (int j = 0; j < i && at < 0; j++)
            if (strlen(layers[j].name) == sy_slen(v) && memcmp(layers[j].name, sy_sval(v), sy_slen(v)) == 0) at = j;
        if (at < 0) {
            char names[200] = "";
            size_t used = 0;
            for (int j = 0; j < i && used < sizeof names; j++)
                if (layers[j].name[0])
                    used += (size_t)snprintf(names + used, sizeof names - used, "%s%s", used ? ", " : "", layers[j].name);
            return sy_fail(d, v->start_mark, "%s.from: '%.*s' is not the name of an earlier layer (%s%s); it must be "
                           "an earlier layer's name or number, or -1 for the model input", where, (int)sy_slen(v),
                           sy_sval(v), used ? "their names: " : "none has a name:", names);
        }
        char num[16];
        int len = snprintf(num, sizeof num, "%d", at);
        yaml_char_t *copy = malloc((size_t)len + 1);
        if (!copy) return sy_fail(d, v->start_mark, "%s.from: out of memory", where);
        memcpy(copy, num, (size_t)len + 1);
        free(v->data.scalar.value);
        v->data.scalar.value = copy;
        v->data.scalar.length = (size_t)len;
        return 0;
    }
    return 0;
}

static int parse_layer(sy_doc *d, yaml_node_t *n, int i, int nlayers, hp_layer_spec *layers, yaml_mark_t *units_mark) {
    hp_layer_spec *l = &layers[i];
    char where[48];
    snprintf(where, sizeof where, "model.layers[%d]", i);
    int type = 0, init = HP_INIT_DEFAULT;
    const char *types[HP_LAYER_COUNT_], *inits[HP_INIT_COUNT_];
    sy_variant variants[HP_LAYER_COUNT_];
    layer_type_names(types);
    layer_variants(variants);
    for (int k = 0; k < HP_INIT_COUNT_; k++) inits[k] = hp_init_name((hp_init)k);
    *l = layer_defaults;
    enum { K_TYPE, K_NAME, K_UNITS, K_FILTERS, K_KERNEL, K_STRIDE, K_PADDING, K_BIAS, K_INIT, K_MOMENTUM, K_EPS, K_P,
           K_SLOPE, K_ALPHA, K_FROM, K_COUNT };
    sy_field f[] = {
        [K_TYPE] = F_ENUM("type", &type, types, HP_LAYER_COUNT_, SY_REQUIRED),
        [K_NAME] = F_STR("name", l->name),
        [K_UNITS] = F_INT("units", &l->units, 1, SPEC_MAX_UNITS),
        [K_FILTERS] = F_INT("filters", &l->filters, 1, SPEC_MAX_UNITS),
        [K_KERNEL] = F_INT("kernel", &l->kernel, 1, SPEC_MAX_KERNEL),
        [K_STRIDE] = F_INT("stride", &l->stride, 1, SPEC_MAX_KERNEL),
        [K_PADDING] = F_INT("padding", &l->padding, 0, SPEC_MAX_KERNEL),
        [K_BIAS] = F_BOOL("bias", &l->bias),
        [K_INIT] = F_ENUM("init", &init, inits, HP_INIT_COUNT_, 0),
        [K_MOMENTUM] = F_NUM("momentum", &l->momentum, 0, 1, 0),
        [K_EPS] = F_NUM("eps", &l->eps, 0, INFINITY, SY_LO_OPEN),
        [K_P] = F_NUM("p", &l->p, 0, 1, SY_HI_OPEN),
        [K_SLOPE] = F_NUM("slope", &l->slope, 0, INFINITY, 0),
        [K_ALPHA] = F_NUM("alpha", &l->alpha, 0, INFINITY, 0),
        [K_FROM] = F_INT("from", &l->from, -INFINITY, INFINITY), /* checked against the list below */
    };
    _Static_assert(NELEM(f) == K_COUNT, "a field per layer key");
    if (sy_read_tag(d, n, where, &f[K_TYPE]) || (type == HP_LAYER_ADD && resolve_from(d, n, where, layers, i)))
        return -1;
    if (sy_read_variant(d, n, where, "type", variants, HP_LAYER_COUNT_, type, f, NELEM(f))) return -1;
    l->type = (hp_layer_type)type;
    l->init = (hp_init)init;
    l->line = (int)n->start_mark.line + 1;
    l->bias = l->bias ? HP_BIAS_ON : HP_BIAS_OFF; /* the YAML boolean, in layer_spec.h's terms */
    *units_mark = f[K_UNITS].mark;
    if (f[K_NAME].seen && check_name(d, &f[K_NAME], where, layers, i)) return -1;
    if (l->type == HP_LAYER_MAXPOOL || l->type == HP_LAYER_AVGPOOL) {
        if (!f[K_STRIDE].seen) l->stride = l->kernel;
        /* PyTorch's pools refuse padding > kernel / 2 (a window could then hold padding only) */
        if (l->padding > l->kernel / 2)
            return sy_fail(d, f[K_PADDING].mark, "%s.padding: '%d' is more than half the kernel (%d); %s layers "
                           "need padding <= kernel/2 = %d (as PyTorch)", where, l->padding, l->kernel,
                           types[type], l->kernel / 2);
    }
    if (l->type == HP_LAYER_ADD) return check_from(d, &f[K_FROM], where, i, nlayers, l->from);
    return 0;
}

int spec_parse_model(sy_doc *d, yaml_node_t *n, hp_model_spec *m, spec_marks *mk) {
    yaml_node_t *layers = NULL;
    sy_field f[] = {F_NODE("layers", &layers, SY_REQUIRED)};
    if (sy_read_map(d, n, "model", f, NELEM(f))) return -1;
    yaml_node_item_t *it;
    int count;
    if (sy_list(d, layers, "model.layers", 1, HP_MAX_LAYERS, "layers", &it, &count)) return -1;
    mk->layers = layers;
    m->nlayers = count;
    for (int i = 0; i < m->nlayers; i++)
        if (parse_layer(d, sy_node(d, it[i]), i, count, m->layers, &mk->units[i])) return -1;
    return 0;
}

/* ---- writing ------------------------------------------------------------------------------ */

static void put_layer(const void *spec, const char *key, size_t n, FILE *f) {
    const hp_layer_spec *l = spec;
    char a[32];
#define IS(k) (n == sizeof(k) - 1 && memcmp(key, k, n) == 0)
    if (IS("units")) fprintf(f, "%d", l->units);
    else if (IS("filters")) fprintf(f, "%d", l->filters);
    else if (IS("kernel")) fprintf(f, "%d", l->kernel);
    else if (IS("stride")) fprintf(f, "%d", l->stride);
    else if (IS("padding")) fprintf(f, "%d", l->padding);
    else if (IS("bias")) fputs(l->bias != HP_BIAS_OFF ? "true" : "false", f);
    else if (IS("init")) fputs(hp_init_name(l->init), f);
    else if (IS("momentum")) fputs(sy_fmt_num(l->momentum, a), f);
    else if (IS("eps")) fputs(sy_fmt_num(l->eps, a), f);
    else if (IS("p")) fputs(sy_fmt_num(l->p, a), f);
    else if (IS("slope")) fputs(sy_fmt_num(l->slope, a), f);
    else if (IS("alpha")) fputs(sy_fmt_num(l->alpha, a), f);
    else if (IS("from")) fprintf(f, "%d", l->from);
    else fputs("~", f); /* a key without a writer: the parse back fails loudly */
#undef IS
}

void spec_dump_layers(const hp_model_spec *m, FILE *f) {
    fputs("model:\n  layers:\n", f);
    for (int i = 0; i < m->nlayers; i++) {
        const hp_layer_spec *l = &m->layers[i];
        fprintf(f, "    - {type: %s", hp_layer_type_name(l->type));
        if (l->name[0]) fprintf(f, ", name: %s", l->name);
        sy_put_keys((unsigned)l->type < HP_LAYER_COUNT_ ? layer_keys[l->type] + strlen(COMMON) : "", ", ", l,
                    put_layer, f);
        fputs("}\n", f);
    }
}
