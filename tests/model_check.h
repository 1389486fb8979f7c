/* model_check.h - helpers shared by the whole-model CNN tests (test_residual.c, test_cnn.c):
 * building layer specs in one line, central finite differences of a whole model in double,
 * and the comparison with a PyTorch model fixture written by tests/fixtures/gen_conv.py. */
#ifndef HP_TEST_MODEL_CHECK_H
#define HP_TEST_MODEL_CHECK_H

#include <stdint.h>

#include "model.h"

/* Layer specs (every other field zero: the defaults). */
hp_layer_spec mc_layer(hp_layer_type t);
hp_layer_spec mc_dense(int units);
hp_layer_spec mc_conv(int filters, int kernel, int stride, int padding, int bias); /* bias 1 or 0 (off) */
hp_layer_spec mc_pool(hp_layer_type t, int kernel, int stride, int padding);
hp_layer_spec mc_add(int from);
hp_layer_spec mc_dropout(double p);
/* A model spec of n layers; layer i gets spec line 100 + i. */
hp_model_spec mc_spec(int n, const hp_layer_spec *layers);

/* d(mean loss)/d(every parameter) of hp_model64_step against central differences of the
 * training-mode loss (batch norm on batch statistics), on random inputs of shape [c, h, w] and
 * random labels. The dropout stream is restored before every evaluation, so that the masks
 * stay fixed and dropout may be on. Checks every tensor with rtol 1e-5. */
void mc_finite_differences(const char *name, const hp_model_spec *spec, int c, int h, int w, int nclasses, int B,
                           uint64_t seed);

/* The model against fixture `fname` (gen_conv.py's model_fixture), in double (rtol 1e-4) and
 * float (rtol 1e-3): one training step's logits, loss and gradients, the running statistics
 * after it, evaluation-mode logits and loss, and `steps` steps of SGD (state after each). */
void mc_pytorch_fixture(const char *fname, const hp_model_spec *spec, int c, int h, int w, int nclasses, int B,
                        int steps);

#endif
