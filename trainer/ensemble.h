/* ensemble.h - a model ensemble's loss and accuracy: the predicted class probabilities of
 * several state vectors of one model, averaged, on a data set.
 *
 * What a sweep's `final: {ensemble: K}` evaluates on the test split (once, on the coordinator's
 * CPU, beside the best single model): for each example, p = (1/K) sum_k softmax(logits_k); the
 * loss is the mean of -log p[label] (p clamped below at DBL_MIN), the accuracy the share of
 * examples whose largest p (the lowest class index on ties) is the label. Members are evaluated
 * one after another in the order given, in evaluation mode (batch norm's running statistics,
 * no dropout), so the result depends only on the states and the data.
 */
#ifndef HP_ENSEMBLE_H
#define HP_ENSEMBLE_H

#include <stdint.h>

#include "data.h"
#include "hp_err.h"
#include "layer_spec.h"

/* states: nstates >= 1 state vectors [state_size] of the model `spec` builds for d's image shape
 * and classes (state_size must be that model's); batch: examples per forward pass (>= 1). */
int hp_ensemble_evaluate(const hp_model_spec *spec, const hp_dataset *d, int batch, const float *const *states,
                         int nstates, int64_t state_size, double *loss, double *acc, hp_err *err);

#endif
