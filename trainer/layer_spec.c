/* layer_spec.c - see layer_spec.h: the names of layer types and initialisations. */
#include "layer_spec.h"

#include <string.h>

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
