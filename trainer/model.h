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
 *
 * The layer vocabulary it is built from (layer types, hp_layer_spec, hp_model_spec,
 * hp_tensor_info) is layer_spec.h's, included here.
 */
#ifndef HP_MODEL_H
#define HP_MODEL_H

#include <stdint.h>

#include "hp_err.h"
#include "layer_spec.h" /* the layer vocabulary: hp_model_spec, hp_tensor_info, ... */

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
