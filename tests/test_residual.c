/* test_residual.c - the residual add layer inside whole models (model.h):
 *   1. central finite differences in double of every parameter of ResNet-style models in
 *      training mode: identity shortcuts from the model input and from an inner layer, a
 *      shortcut whose source is a conv followed by batch norm (which must then not normalise in
 *      place), two adds reading the same source, and adds of flat (dense) tensors (one dense
 *      layer without a bias);
 *   2. PyTorch fixture (tests/fixtures/residual.txt): a two-block model's logits, loss,
 *      gradients, running statistics, evaluation-mode logits and 3 SGD steps, double and float;
 *   3. validation: a shape mismatch and a bad `from` name the layer and the shapes. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "model_check.h"

#define N(a) ((int)(sizeof(a) / sizeof(a)[0]))

static const hp_layer_type BN = HP_LAYER_BATCHNORM, RELU = HP_LAYER_RELU;

/* The fixture's model (gen_conv.py RESIDUAL). */
static hp_model_spec residual_spec(void) {
    hp_layer_spec l[] = {mc_conv(3, 3, 1, 1, 1), mc_layer(BN),  mc_layer(RELU),
                         mc_conv(3, 3, 1, 1, 0), mc_layer(BN),  mc_add(-1),
                         mc_layer(RELU),         mc_conv(3, 3, 1, 1, 1), mc_add(6),
                         mc_layer(HP_LAYER_GLOBALAVGPOOL), mc_dense(4)};
    return mc_spec(N(l), l);
}

static void finite_differences(void) {
    hp_model_spec s = residual_spec();
    mc_finite_differences("two residual blocks", &s, 3, 6, 6, 4, 4, 51);
    {
        // the add's source is a conv followed by batch norm; a second add reads it again
        hp_layer_spec l[] = {mc_conv(4, 3, 1, 1, 1), mc_layer(BN), mc_layer(RELU), mc_conv(4, 3, 2, 1, 1),
                             mc_layer(BN),           mc_add(3),    mc_layer(RELU), mc_add(3),
                             mc_pool(HP_LAYER_MAXPOOL, 2, 0, 0), mc_dense(3)};
        s = mc_spec(N(l), l);
        mc_finite_differences("shortcut from a conv before batch norm", &s, 2, 7, 6, 3, 3, 52);
    }
    {
        // flat residuals: dense-relu-dense + shortcut, on a single-channel input
        hp_layer_spec l[] = {mc_dense(6), mc_layer(RELU), mc_dense(6), mc_add(1), mc_layer(RELU),
                             mc_dense(6), mc_layer(BN), mc_add(4), mc_dense(3)};
        s = mc_spec(N(l), l);
        s.layers[2].bias = HP_BIAS_OFF; // a dense layer without a bias too
        mc_finite_differences("dense residuals", &s, 1, 3, 4, 3, 5, 53);
    }
    {
        // a shortcut from the model input (c = 1) straight into a conv stack with avg pooling
        hp_layer_spec l[] = {mc_conv(1, 3, 1, 1, 1), mc_layer(HP_LAYER_TANH), mc_add(-1),
                             mc_pool(HP_LAYER_AVGPOOL, 3, 2, 1), mc_dense(2)};
        s = mc_spec(N(l), l);
        mc_finite_differences("shortcut from a one-channel input", &s, 1, 5, 6, 2, 3, 54);
    }
}

static void validation(void) {
    hp_err err = {{0}};
    hp_model *m = NULL;
    {
        hp_layer_spec l[] = {mc_conv(4, 3, 1, 1, 1), mc_layer(RELU), mc_conv(5, 3, 1, 1, 1), mc_add(0), mc_dense(3)};
        hp_model_spec s = mc_spec(N(l), l);
        CHECK(hp_model_create(&s, 2, 6, 6, 3, 4, &m, &err) == -1 && m == NULL, "add of mismatched shapes rejected");
        CHECK(strstr(err.msg, "model layer 3 (add, spec line 103)") && strstr(err.msg, "receives [5, 6, 6]") &&
                  strstr(err.msg, "model layer 0 (conv, spec line 100), [4, 6, 6]"),
              "message names the layer, both shapes and the source: %s", err.msg);
    }
    {
        hp_layer_spec l[] = {mc_conv(4, 3, 1, 1, 1), mc_add(-1), mc_dense(3)};
        hp_model_spec s = mc_spec(N(l), l);
        CHECK(hp_model_create(&s, 2, 6, 6, 3, 4, &m, &err) == -1 && strstr(err.msg, "the model input, [2, 6, 6]"),
              "add of the input with another channel count rejected: %s", err.msg);
        s.layers[1].from = 1;
        CHECK(hp_model_create(&s, 2, 6, 6, 3, 4, &m, &err) == -1 && strstr(err.msg, "from 1 is invalid") &&
                  strstr(err.msg, "0 to 0"),
              "add from itself rejected: %s", err.msg);
        s.layers[1].from = -2;
        CHECK(hp_model_create(&s, 2, 6, 6, 3, 4, &m, &err) == -1 && strstr(err.msg, "from -2 is invalid"),
              "add from -2 rejected: %s", err.msg);
    }
    {
        // [4] flat vs [4, 1, 1] images: PyTorch would not add these either
        hp_layer_spec l[] = {mc_conv(4, 3, 1, 0, 1), mc_dense(4), mc_add(0), mc_dense(3)};
        hp_model_spec s = mc_spec(N(l), l);
        CHECK(hp_model_create(&s, 1, 3, 3, 3, 4, &m, &err) == -1 && strstr(err.msg, "receives [4] but adds"),
              "add of a flat and an image tensor rejected: %s", err.msg);
    }
}

int main(void) {
    finite_differences();
    hp_model_spec s = residual_spec();
    mc_pytorch_fixture("residual.txt", &s, 3, 6, 6, 4, 4, 3);
    validation();
    return hp_check_summary("test_residual");
}
