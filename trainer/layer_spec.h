/* layer_spec.h - the layer vocabulary: what a model is made of, as specs, results files and
 * both backends name it.
 *
 * hp_layer_type and hp_init (with their names as written in specs and files), hp_layer_spec
 * (one layer's fields), hp_model_spec (a layer list of at most HP_MAX_LAYERS), and
 * hp_tensor_info (one named tensor of a model's state vector, as /model/layout stores it).
 * Plain data and names only: code that builds or runs a model includes model.h (the CPU
 * model), model_plan.h (shapes and layout) or cuda/gpu_model.h.
 */
#ifndef HP_LAYER_SPEC_H
#define HP_LAYER_SPEC_H

#include <stdint.h>

typedef enum hp_layer_type {
    HP_LAYER_DENSE = 0, /* units; weight [units, in] (PyTorch's Linear layout), bias [units];
                           flattens a [C, H, W] input */
    HP_LAYER_RELU,
    /* Issue 4: the CNN toolbox. Shapes, parameter layouts and the input are PyTorch's NCHW
       (the CPU model keeps its activations channel-major inside: model_plan.h). */
    HP_LAYER_CONV,        /* filters, kernel, stride, padding; weight [filters, C, k, k], bias [filters] */
    HP_LAYER_BATCHNORM,   /* per channel (per feature after a dense layer); weight, bias [C];
                             buffers running_mean, running_var [C]; momentum 0.1, eps 1e-5 */
    HP_LAYER_MAXPOOL,     /* kernel, stride (default = kernel), padding */
    HP_LAYER_AVGPOOL,     /* kernel, stride (default = kernel), padding (count_include_pad, as PyTorch) */
    HP_LAYER_GLOBALAVGPOOL, /* [C, H, W] -> [C, 1, 1] */
    HP_LAYER_DROPOUT,     /* p: inverted dropout (scaled by 1/(1-p) in training, identity in evaluation) */
    HP_LAYER_FLATTEN,     /* [C, H, W] -> [C*H*W] in PyTorch's (c, h, w) order; a dense layer flattens
                             an image input implicitly, so this is optional before one */
    HP_LAYER_ADD,         /* residual: output = input + output of layer `from` (same shape) */
    HP_LAYER_LEAKY_RELU,  /* slope (default 0.01) */
    HP_LAYER_ELU,         /* alpha (default 1) */
    HP_LAYER_GELU,        /* exact (erf) form, PyTorch's default */
    HP_LAYER_TANH,
    HP_LAYER_SIGMOID,
    HP_LAYER_COUNT_
} hp_layer_type;

typedef enum hp_init {
    HP_INIT_DEFAULT = 0,     /* Kaiming-uniform for layers followed by ReLU; fan-in-uniform for the last
                                (logits) layer, so that the initial loss starts near ln(classes);
                                Xavier-uniform otherwise */
    HP_INIT_KAIMING_UNIFORM, /* U(-b, b), b = sqrt(6 / fan_in)       (gain sqrt(2)) */
    HP_INIT_KAIMING_NORMAL,  /* N(0, 2 / fan_in) */
    HP_INIT_XAVIER_UNIFORM,  /* U(-b, b), b = sqrt(6 / (fan_in + fan_out)) */
    HP_INIT_XAVIER_NORMAL,   /* N(0, 2 / (fan_in + fan_out)) */
    HP_INIT_ZERO,            /* all zeros (e.g. a zero-initialised last layer) */
    HP_INIT_FAN_IN_UNIFORM,  /* U(-b, b), b = 1 / sqrt(fan_in): PyTorch's nn.Linear default */
    HP_INIT_COUNT_
} hp_init;

/* Names as written in specs and files ("dense", "relu"; "kaiming_uniform", ...). */
const char *hp_layer_type_name(hp_layer_type t);
const char *hp_init_name(hp_init i);
/* Parse a name; returns -1 if unknown. */
int hp_layer_type_parse(const char *s);
int hp_init_parse(const char *s);

typedef struct hp_layer_spec {
    hp_layer_type type;
    int units;    /* dense: output features */
    hp_init init; /* dense, conv: weight initialisation; biases start at 0 */
    int filters;  /* conv: output channels */
    int kernel;   /* conv, pools: square kernel size */
    int stride;   /* conv (default 1), pools (default = kernel) */
    int padding;  /* conv, pools: zero padding on each side (default 0) */
    int bias;     /* dense, conv: HP_BIAS_ON (1) or HP_BIAS_DEFAULT (0): with a bias (PyTorch's default);
                     HP_BIAS_OFF (-1): none, e.g. for a conv followed by batch norm. 0 means "the
                     default" so that a zero-initialised spec keeps its biases; the spec parser
                     writes 1 or -1. */
    double p;     /* dropout probability in [0, 1) */
    /* For the four fields below 0 means the default (a zeroed spec gets PyTorch's values). */
    double slope; /* leaky_relu negative slope (default 0.01) */
    double alpha; /* elu alpha (default 1) */
    double momentum; /* batchnorm running-statistics momentum in (0, 1] (default 0.1, PyTorch's
                        convention: running = (1 - momentum) * running + momentum * batch) */
    double eps;   /* batchnorm epsilon (default 1e-5) */
    int from;     /* add: index (0-based, in this list) of the layer whose output is added; -1 = the
                     model input */
    int line;     /* where the layer was declared in the spec (1-based, 0 if unknown) */
    char name[32]; /* the spec's optional label ("" if none): search paths may say model.layers.NAME.p;
                      the model itself does not use it */
} hp_layer_spec;

/* hp_layer_spec.bias */
enum { HP_BIAS_OFF = -1, HP_BIAS_DEFAULT = 0, HP_BIAS_ON = 1 };

#define HP_MAX_LAYERS 64

typedef struct hp_model_spec {
    int nlayers;
    hp_layer_spec layers[HP_MAX_LAYERS];
} hp_model_spec;

/* One named tensor of the state vector. */
typedef struct hp_tensor_info {
    char name[48];    /* "dense0.weight", "dense0.bias", ... (layer type + index among that type) */
    int ndim;
    int64_t shape[4];
    int64_t offset;   /* in elements, from the start of the state vector */
    int64_t size;     /* product of shape */
    int is_buffer;    /* 1 for non-trainable state (running statistics) */
} hp_tensor_info;

#endif
