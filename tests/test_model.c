/* test_model.c - model construction (model.h): shape validation with messages naming the
 * layer and its spec line, the state layout, and initialisation (bounds and spread of each
 * rule, the default rule, determinism, float and double drawing the same values). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "model.h"

static hp_model_spec spec_of(int n, const hp_layer_type *types, const int *units, const hp_init *inits) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = n;
    for (int i = 0; i < n; i++) {
        s.layers[i].type = types[i];
        s.layers[i].units = units[i];
        s.layers[i].init = inits ? inits[i] : HP_INIT_DEFAULT;
        s.layers[i].line = 10 + i;
    }
    return s;
}

static const hp_layer_type D = HP_LAYER_DENSE, R = HP_LAYER_RELU;

static void expect_error(const hp_model_spec *s, int nclasses, const char *n1, const char *n2) {
    hp_err err = {{0}};
    hp_model *m = NULL;
    int rc = hp_model_create(s, 1, 28, 28, nclasses, 16, &m, &err);
    CHECK(rc == -1 && m == NULL, "invalid model rejected (expecting '%s')", n1);
    CHECK(strstr(err.msg, n1) != NULL, "message '%s' contains '%s'", err.msg, n1);
    if (n2) CHECK(strstr(err.msg, n2) != NULL, "message '%s' contains '%s'", err.msg, n2);
}

static void validation(void) {
    {
        int un[] = {128, 0, 12};
        hp_model_spec s = spec_of(3, (hp_layer_type[]){D, R, D}, un, NULL);
        expect_error(&s, 10, "model layer 2 (dense, spec line 12)", "set its units to 10");
    }
    {
        int un[] = {128, 0, 0, 10};
        hp_model_spec s = spec_of(4, (hp_layer_type[]){D, R, D, D}, un, NULL);
        expect_error(&s, 10, "model layer 2 (dense, spec line 12)", "units 0");
    }
    {
        int un[] = {10, 0};
        hp_model_spec s = spec_of(2, (hp_layer_type[]){D, R}, un, NULL);
        expect_error(&s, 10, "model layer 1 (relu, spec line 11)", "must end with a dense layer");
    }
    {
        hp_model_spec s = spec_of(0, NULL, NULL, NULL);
        expect_error(&s, 10, "0 layers", NULL);
    }
    {
        int un[] = {10};
        hp_model_spec s = spec_of(1, (hp_layer_type[]){D}, un, NULL);
        s.layers[0].line = 0;
        expect_error(&s, 9, "model layer 0 (dense):", "9 classes");
        hp_err err = {{0}};
        hp_model *m = NULL;
        CHECK(hp_model_create(&s, 1, 28, 28, 10, 0, &m, &err) == -1 && strstr(err.msg, "batch size 0"),
              "batch 0 rejected: %s", err.msg);
        CHECK(hp_model_create(&s, 0, 28, 28, 10, 4, &m, &err) == -1 && strstr(err.msg, "0x28x28"),
              "empty input rejected: %s", err.msg);
        s.layers[0].type = HP_LAYER_COUNT_;
        expect_error(&s, 10, "unknown layer type", "valid types: dense, relu");
    }
    CHECK(hp_layer_type_parse("dense") == HP_LAYER_DENSE && hp_layer_type_parse("relu") == HP_LAYER_RELU &&
              hp_layer_type_parse("conv") == -1,
          "layer names parse");
    CHECK(hp_init_parse("kaiming_uniform") == HP_INIT_KAIMING_UNIFORM &&
              hp_init_parse("zero") == HP_INIT_ZERO && hp_init_parse("xavier") == -1,
          "init names parse");
    for (int i = 0; i < HP_INIT_COUNT_; i++)
        CHECK(hp_init_parse(hp_init_name((hp_init)i)) == i, "init name %d round-trips", i);
}

static void layout(void) {
    int un[] = {512, 0, 256, 0, 10};
    hp_model_spec s = spec_of(5, (hp_layer_type[]){D, R, D, R, D}, un, NULL);
    hp_err err;
    hp_model *m = NULL;
    if (!CHECK(hp_model_create(&s, 1, 28, 28, 10, 128, &m, &err) == 0, "%s", err.msg)) return;
    CHECK(hp_model_param_count(m) == 784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10,
          "reference MLP has 535818 parameters (got %lld)", (long long)hp_model_param_count(m));
    CHECK(hp_model_state_size(m) == hp_model_param_count(m), "no buffers in an MLP");
    const hp_tensor_info *t;
    int nt = hp_model_layout(m, &t);
    const char *names[] = {"dense0.weight", "dense0.bias",   "dense1.weight",
                           "dense1.bias",   "dense2.weight", "dense2.bias"};
    int64_t sizes[] = {784 * 512, 512, 512 * 256, 256, 2560, 10};
    if (CHECK(nt == 6, "6 tensors (got %d)", nt)) {
        int64_t off = 0;
        for (int k = 0; k < 6; k++) {
            CHECK(strcmp(t[k].name, names[k]) == 0, "tensor %d is %s (got %s)", k, names[k], t[k].name);
            CHECK(t[k].offset == off && t[k].size == sizes[k] && !t[k].is_buffer, "%s: offset %lld size %lld",
                  names[k], (long long)t[k].offset, (long long)t[k].size);
            off += sizes[k];
        }
        CHECK(t[0].ndim == 2 && t[0].shape[0] == 512 && t[0].shape[1] == 784, "dense0.weight is [512, 784]");
        CHECK(t[5].ndim == 1 && t[5].shape[0] == 10, "dense2.bias is [10]");
    }
    CHECK(hp_model_input_dim(m) == 784 && hp_model_nclasses(m) == 10 && hp_model_max_batch(m) == 128,
          "shape accessors");
    // a batch beyond max_batch computes nothing (no overrun; ASan would see one) and says so
    float xd[1] = {0};
    int32_t yd[1] = {0};
    double l = 0;
    int64_t c = -1;
    hp_model_step(m, xd, yd, 129, &l, &c);
    CHECK(isnan(l) && c == 0, "batch 129 > max_batch 128: NaN loss (got %g, %lld correct)", l, (long long)c);
    hp_model_eval(m, xd, yd, 0, &l, &c);
    CHECK(isnan(l) && c == 0, "batch 0: NaN loss");
    hp_model_free(m);
}

/* Statistics of dense layer k's weight after init with key. */
static void weight_stats(const hp_model *m, int k, double *mn, double *mx, double *sd) {
    const hp_tensor_info *t;
    hp_model_layout(m, &t);
    const float *w = hp_model_state((hp_model *)m) + t[2 * k].offset;
    double s = 0, s2 = 0;
    *mn = INFINITY, *mx = -INFINITY;
    for (int64_t i = 0; i < t[2 * k].size; i++) {
        s += w[i], s2 += (double)w[i] * w[i];
        if (w[i] < *mn) *mn = w[i];
        if (w[i] > *mx) *mx = w[i];
    }
    double n = (double)t[2 * k].size;
    *sd = sqrt(s2 / n - (s / n) * (s / n));
}

static void initialisation(void) {
    // 400 inputs, 300 then 200 units: large enough for tight statistics.
    int un[] = {300, 0, 200, 0, 10};
    hp_init in_default[] = {0, 0, 0, 0, 0};
    hp_model_spec s = spec_of(5, (hp_layer_type[]){D, R, D, R, D}, un, in_default);
    hp_err err;
    hp_model *m = NULL, *m2 = NULL;
    hp_model64 *m64 = NULL;
    if (!CHECK(hp_model_create(&s, 1, 20, 20, 10, 4, &m, &err) == 0 &&
                   hp_model_create(&s, 1, 20, 20, 10, 4, &m2, &err) == 0 &&
                   hp_model64_create(&s, 1, 20, 20, 10, 4, &m64, &err) == 0,
               "%s", err.msg))
        goto done;
    int64_t np = hp_model_param_count(m);
    float *p = hp_model_state(m);
    for (int64_t i = 0; i < np; i++) p[i] = 7; // init must overwrite everything, biases too
    hp_model_init(m, 1234);
    double mn, mx, sd;
    // default before a ReLU: Kaiming-uniform, b = sqrt(6/fan_in), sd = b/sqrt(3) = sqrt(2/fan_in)
    weight_stats(m, 0, &mn, &mx, &sd);
    double b = sqrt(6.0 / 400);
    CHECK(mn >= -b && mx <= b && mx > 0.99 * b && mn < -0.99 * b,
          "dense0 Kaiming-uniform in [-%g, %g]: [%g, %g]", b, b, mn, mx);
    CHECK_CLOSE(sd, sqrt(2.0 / 400), 0, 0.02, "dense0 Kaiming-uniform std");
    // default for the last (logits) layer: fan-in-uniform, b = 1/sqrt(200)
    weight_stats(m, 2, &mn, &mx, &sd);
    b = 1.0 / sqrt(200.0);
    CHECK(mn >= -b && mx <= b && mx > 0.9 * b, "dense2 fan-in-uniform in [-%g, %g]: [%g, %g]", b, b, mn, mx);
    const hp_tensor_info *t;
    hp_model_layout(m, &t);
    int zero_bias = 1;
    for (int k = 1; k < 6; k += 2)
        for (int64_t i = 0; i < t[k].size; i++) zero_bias &= p[t[k].offset + i] == 0;
    CHECK(zero_bias, "biases start at 0");

    // determinism, key sensitivity, float and double agree
    hp_model_init(m2, 1234);
    CHECK(memcmp(hp_model_state(m2), p, (size_t)np * sizeof(float)) == 0, "same key, same parameters");
    hp_model64_init(m64, 1234);
    int same = 1;
    for (int64_t i = 0; i < np; i++) same &= (float)hp_model64_state(m64)[i] == p[i];
    CHECK(same, "float and double models draw the same initial values");
    hp_model_init(m2, 1235);
    int64_t differ = 0;
    for (int64_t i = 0; i < np; i++) differ += hp_model_state(m2)[i] != p[i];
    CHECK(differ > np / 2, "another key gives other parameters (%lld of %lld differ)", (long long)differ,
          (long long)np);
    hp_model_free(m);
    m = NULL;

    // explicit rules
    hp_init rules[] = {HP_INIT_KAIMING_NORMAL, 0, HP_INIT_XAVIER_NORMAL, 0, HP_INIT_ZERO};
    s = spec_of(5, (hp_layer_type[]){D, R, D, R, D}, un, rules);
    if (!CHECK(hp_model_create(&s, 1, 20, 20, 10, 4, &m, &err) == 0, "%s", err.msg)) goto done;
    hp_model_init(m, 99);
    weight_stats(m, 0, &mn, &mx, &sd);
    CHECK_CLOSE(sd, sqrt(2.0 / 400), 0, 0.02, "Kaiming-normal std sqrt(2/fan_in)");
    CHECK(mx > 3 * sd, "normal draws have tails beyond 3 sd (max %g, sd %g)", mx, sd);
    weight_stats(m, 1, &mn, &mx, &sd);
    CHECK_CLOSE(sd, sqrt(2.0 / 500), 0, 0.02, "Xavier-normal std sqrt(2/(fan_in+fan_out))");
    weight_stats(m, 2, &mn, &mx, &sd);
    CHECK(mn == 0 && mx == 0, "zero init gives zeros");
done:
    hp_model_free(m);
    hp_model_free(m2);
    hp_model64_free(m64);
}

int main(void) {
    validation();
    layout();
    initialisation();
    return hp_check_summary("test_model");
}
