/* model.h - feed-forward models built from a layer list, with one flat state vector.
 *
 * A model is a chain of layers ending in logits [B, nclasses] (the loss, softmax
 * cross-entropy, is applied by hp_model_step / hp_model_eval). All parameters live in one
 * contiguous state vector (parameters first, then buffers such as batch-norm running
 * statistics); all gradients in one contiguous vector of the parameters' size, in the same
 * order. hp_model_layout() names every tensor in the state vector with its shape and offset,
 * which is what the results file stores as /model/layout and what snapshots are rows of.
 *
 * Activations and scratch are allocated once at creation for `max_batch` examples and
 * reused by every step (fresh pages are expensive; see docs/design.md).
 *
 * The model exists in two precisions compiled from one source: float (hp_model_*) for
 * training, and double (hp_model64_*) for gradient checks against finite differences.
 */
#ifndef HP_MODEL_H
#define HP_MODEL_H

#include <stdint.h>

#include "hp_err.h"

typedef enum hp_layer_type {
    HP_LAYER_DENSE = 0, /* units; weight [units, in] (PyTorch's Linear layout), bias [units];
                           flattens a [C, H, W] input */
    HP_LAYER_RELU,
    /* Issue 4: the CNN toolbox. Shapes, parameter layouts and the input are PyTorch's NCHW
       (the CPU model keeps its activations channel-major inside: cpu/model_plan.h). */
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

/* ------------------------------------------------------------------------------------------ */
/* float model                                                                                 */
typedef struct hp_model hp_model;

/* Build a model for inputs of shape [c, h, w] (flattened for dense layers) and `nclasses`
 * outputs. Fails with a message naming the layer (index, type, spec line), the shape it
 * receives and what it expected when shapes do not fit, e.g. a conv kernel larger than its
 * padded input, or a last layer whose width differs from nclasses. */
int hp_model_create(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch,
                    hp_model **out, hp_err *err);
void hp_model_free(hp_model *m);

int64_t hp_model_state_size(const hp_model *m);  /* parameters + buffers */
int64_t hp_model_param_count(const hp_model *m); /* trainable parameters (= gradient size) */
float *hp_model_state(hp_model *m);              /* [state_size] */
float *hp_model_grad(hp_model *m);               /* [param_count] */
int hp_model_layout(const hp_model *m, const hp_tensor_info **tensors); /* returns the count */

/* Initialise every parameter from the counter-based stream `key` (see rng.h): weights by their
 * rule, biases 0, batch-norm weight 1 and bias 0, running mean 0 and running variance 1. Also
 * sets the dropout stream (hp_model_rng_state) to key hp_key2(key, HP_STREAM_DROPOUT), step 0. */
void hp_model_init(hp_model *m, uint64_t key);

/* Dropout randomness: the mask of training step s (the count of hp_model_step calls that
 * computed something) in spec layer i comes from the stream hp_key3(key, s, i). A checkpoint
 * saves (key, step); restoring them (and the state) makes the next steps draw the same masks. */
void hp_model_rng_state(const hp_model *m, uint64_t *key, uint64_t *step);
void hp_model_set_rng_state(hp_model *m, uint64_t key, uint64_t step);

/* One training step's forward and backward pass on a batch: x [B, c*h*w] (NCHW), y [B].
 * Training mode: batch norm normalises with the batch statistics and updates its running
 * statistics (state buffers); dropout draws masks (see hp_model_rng_state).
 * Overwrites the gradient vector with d(mean loss)/d(params). Returns the summed (not mean)
 * loss over the batch in *loss_sum and the number of correct argmax predictions in *correct.
 * Needs 1 <= B <= max_batch and labels in [0, nclasses); a B outside that range computes
 * nothing and returns a NaN loss. */
void hp_model_step(hp_model *m, const float *x, const int32_t *y, int B, double *loss_sum,
                   int64_t *correct);

/* Forward only, in evaluation mode (batch norm uses its running statistics, dropout is the
 * identity; nothing in the state changes); same outputs as hp_model_step, no gradients. */
void hp_model_eval(hp_model *m, const float *x, const int32_t *y, int B, double *loss_sum,
                   int64_t *correct);

/* Logits of the last forward pass: [B, nclasses]. */
const float *hp_model_logits(const hp_model *m);

/* Shape the model was built for: features per example, classes, largest batch. */
int hp_model_input_dim(const hp_model *m);
int hp_model_nclasses(const hp_model *m);
int hp_model_max_batch(const hp_model *m);

/* ------------------------------------------------------------------------------------------ */
/* double twin, for gradient checks: identical semantics, double everywhere. */
typedef struct hp_model64 hp_model64;
int hp_model64_create(const hp_model_spec *spec, int c, int h, int w, int nclasses, int max_batch,
                      hp_model64 **out, hp_err *err);
void hp_model64_free(hp_model64 *m);
int64_t hp_model64_state_size(const hp_model64 *m);
int64_t hp_model64_param_count(const hp_model64 *m);
double *hp_model64_state(hp_model64 *m);
double *hp_model64_grad(hp_model64 *m);
void hp_model64_init(hp_model64 *m, uint64_t key);
void hp_model64_rng_state(const hp_model64 *m, uint64_t *key, uint64_t *step);
void hp_model64_set_rng_state(hp_model64 *m, uint64_t key, uint64_t step);
void hp_model64_step(hp_model64 *m, const double *x, const int32_t *y, int B, double *loss_sum,
                     int64_t *correct);
void hp_model64_eval(hp_model64 *m, const double *x, const int32_t *y, int B, double *loss_sum,
                     int64_t *correct);
int hp_model64_layout(const hp_model64 *m, const hp_tensor_info **tensors);
const double *hp_model64_logits(const hp_model64 *m);
int hp_model64_input_dim(const hp_model64 *m);
int hp_model64_nclasses(const hp_model64 *m);
int hp_model64_max_batch(const hp_model64 *m);

#endif
