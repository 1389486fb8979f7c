/* test_model.c - model construction (model.h): shape validation with messages naming the
 * layer and its spec line (and, for CNN layers, the shape received and the one expected), the
 * state layout (parameters, then batch-norm buffers), and initialisation (bounds and spread of
 * each rule, the default rule through batch norm, conv fans, determinism, float and double
 * drawing the same values). */
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
              hp_layer_type_parse("conv") == HP_LAYER_CONV && hp_layer_type_parse("convolution") == -1,
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

/* ---- CNN layers ------------------------------------------------------------------------ */

static hp_layer_spec L(hp_layer_type t) {
    hp_layer_spec l;
    memset(&l, 0, sizeof l);
    l.type = t;
    return l;
}
static hp_layer_spec conv(int f, int k, int s, int p) {
    hp_layer_spec l = L(HP_LAYER_CONV);
    l.filters = f, l.kernel = k, l.stride = s, l.padding = p;
    return l;
}
static hp_layer_spec pool(hp_layer_type t, int k, int s, int p) {
    hp_layer_spec l = L(t);
    l.kernel = k, l.stride = s, l.padding = p;
    return l;
}
static hp_layer_spec dense(int units) {
    hp_layer_spec l = L(HP_LAYER_DENSE);
    l.units = units;
    return l;
}
static hp_model_spec spec_list(int n, const hp_layer_spec *l) {
    hp_model_spec s;
    memset(&s, 0, sizeof s);
    s.nlayers = n;
    for (int i = 0; i < n; i++) s.layers[i] = l[i], s.layers[i].line = 20 + i;
    return s;
}

/* Expect hp_model_create of (n layers, input c x h x w) to fail with every string given. */
static void expect_cnn_error(int n, const hp_layer_spec *l, int c, int h, int w, const char *s1, const char *s2,
                             const char *s3) {
    hp_model_spec s = spec_list(n, l);
    hp_err err = {{0}};
    hp_model *m = NULL;
    int rc = hp_model_create(&s, c, h, w, 10, 8, &m, &err);
    CHECK(rc == -1 && m == NULL, "invalid CNN rejected (expecting '%s')", s1);
    const char *want[3] = {s1, s2, s3};
    for (int i = 0; i < 3; i++)
        if (want[i]) CHECK(strstr(err.msg, want[i]) != NULL, "message '%s' contains '%s'", err.msg, want[i]);
}

static void cnn_validation(void) {
    hp_layer_spec big[] = {conv(4, 5, 1, 0), dense(10)};
    expect_cnn_error(2, big, 1, 4, 6, "model layer 0 (conv, spec line 20)", "kernel 5 is larger than the padded input",
                     "receives [1, 4, 6], 4x6 with padding 0");
    hp_layer_spec deep[] = {conv(4, 3, 1, 1), pool(HP_LAYER_MAXPOOL, 2, 0, 0), pool(HP_LAYER_MAXPOOL, 2, 0, 0),
                            conv(4, 3, 1, 0), dense(10)};
    expect_cnn_error(5, deep, 1, 9, 9, "model layer 3 (conv, spec line 23)", "receives [4, 2, 2]", "expected height");
    hp_layer_spec flat[] = {dense(32), conv(4, 3, 1, 1), dense(10)};
    expect_cnn_error(3, flat, 1, 8, 8, "model layer 1 (conv, spec line 21)", "needs an image input [C, H, W]",
                     "flat [32]");
    hp_layer_spec padp[] = {pool(HP_LAYER_AVGPOOL, 3, 1, 2), dense(10)};
    expect_cnn_error(2, padp, 1, 8, 8, "model layer 0 (avgpool, spec line 20)",
                     "padding 2 is more than half the kernel 3", NULL);
    hp_layer_spec drop[] = {L(HP_LAYER_DROPOUT), dense(10)};
    drop[0].p = 1;
    expect_cnn_error(2, drop, 1, 8, 8, "model layer 0 (dropout, spec line 20)", "p 1 is invalid", NULL);
    hp_layer_spec zf[] = {conv(0, 3, 1, 1), dense(10)};
    expect_cnn_error(2, zf, 1, 8, 8, "model layer 0 (conv, spec line 20)", "filters 0", NULL);
    hp_layer_spec negs[] = {conv(2, 3, -1, 1), dense(10)};
    expect_cnn_error(2, negs, 1, 8, 8, "stride -1 is invalid", NULL, NULL);
    hp_layer_spec bn[] = {L(HP_LAYER_BATCHNORM), dense(10)};
    bn[0].momentum = 1.5;
    expect_cnn_error(2, bn, 1, 8, 8, "model layer 0 (batchnorm, spec line 20)", "momentum 1.5", NULL);
    hp_layer_spec gp[] = {L(HP_LAYER_FLATTEN), L(HP_LAYER_GLOBALAVGPOOL), dense(10)};
    expect_cnn_error(3, gp, 2, 4, 4, "model layer 1 (globalavgpool, spec line 21)", "flat [32]", NULL);
    hp_layer_spec bias[] = {dense(10)};
    bias[0].bias = 2;
    expect_cnn_error(1, bias, 1, 8, 8, "bias 2 is invalid", NULL, NULL);
    hp_layer_spec endc[] = {conv(10, 3, 1, 1)};
    expect_cnn_error(1, endc, 1, 8, 8, "must end with a dense layer", NULL, NULL);
}

/* The fashion_cnn layout: parameters in layer order, then the batch-norm buffers. */
static void cnn_layout(void) {
    hp_layer_spec l[] = {conv(32, 3, 1, 1), L(HP_LAYER_BATCHNORM), L(HP_LAYER_RELU), pool(HP_LAYER_MAXPOOL, 2, 0, 0),
                         conv(64, 3, 1, 1), L(HP_LAYER_BATCHNORM), L(HP_LAYER_RELU), pool(HP_LAYER_MAXPOOL, 2, 0, 0),
                         dense(128), L(HP_LAYER_RELU), L(HP_LAYER_DROPOUT), dense(10)};
    l[0].bias = l[4].bias = HP_BIAS_OFF;
    l[10].p = 0.5;
    hp_model_spec s = spec_list(12, l);
    hp_err err;
    hp_model *m = NULL;
    if (!CHECK(hp_model_create(&s, 1, 28, 28, 10, 16, &m, &err) == 0, "%s", err.msg)) return;
    struct {
        const char *name;
        int ndim;
        int64_t d0, d1, d2, d3;
        int buffer;
    } want[] = {{"conv0.weight", 4, 32, 1, 3, 3, 0},           {"batchnorm0.weight", 1, 32, 0, 0, 0, 0},
                {"batchnorm0.bias", 1, 32, 0, 0, 0, 0},        {"conv1.weight", 4, 64, 32, 3, 3, 0},
                {"batchnorm1.weight", 1, 64, 0, 0, 0, 0},      {"batchnorm1.bias", 1, 64, 0, 0, 0, 0},
                {"dense0.weight", 2, 128, 64 * 7 * 7, 0, 0, 0}, {"dense0.bias", 1, 128, 0, 0, 0, 0},
                {"dense1.weight", 2, 10, 128, 0, 0, 0},         {"dense1.bias", 1, 10, 0, 0, 0, 0},
                {"batchnorm0.running_mean", 1, 32, 0, 0, 0, 1}, {"batchnorm0.running_var", 1, 32, 0, 0, 0, 1},
                {"batchnorm1.running_mean", 1, 64, 0, 0, 0, 1}, {"batchnorm1.running_var", 1, 64, 0, 0, 0, 1}};
    const hp_tensor_info *t;
    int nt = hp_model_layout(m, &t);
    if (CHECK(nt == 14, "fashion_cnn has 14 tensors (got %d)", nt)) {
        int64_t off = 0;
        for (int k = 0; k < 14; k++) {
            int64_t dims[4] = {want[k].d0, want[k].d1, want[k].d2, want[k].d3}, size = 1;
            int shape_ok = t[k].ndim == want[k].ndim;
            for (int d = 0; d < want[k].ndim; d++) shape_ok &= t[k].shape[d] == dims[d], size *= dims[d];
            CHECK(strcmp(t[k].name, want[k].name) == 0 && shape_ok && t[k].size == size && t[k].offset == off &&
                      t[k].is_buffer == want[k].buffer,
                  "tensor %d: %s, offset %lld (got %s, offset %lld, size %lld, buffer %d)", k, want[k].name,
                  (long long)off, t[k].name, (long long)t[k].offset, (long long)t[k].size, t[k].is_buffer);
            off += size;
        }
        int64_t np = 288 + 64 + 18432 + 128 + 3136 * 128 + 128 + 1290;
        CHECK(hp_model_param_count(m) == np && hp_model_state_size(m) == np + 192,
              "parameters %lld (want %lld), state %lld (+192 buffers)", (long long)hp_model_param_count(m),
              (long long)np, (long long)hp_model_state_size(m));
    }
    // initialisation: conv Kaiming through the batch norm (fan_in = C*k*k), batch norm identity
    float *p = hp_model_state(m);
    for (int64_t i = 0; i < hp_model_state_size(m); i++) p[i] = 7;
    hp_model_init(m, 5);
    double b0 = sqrt(6.0 / 9), b1 = sqrt(6.0 / 288), mx0 = 0, mx1 = 0;
    for (int i = 0; i < 288; i++) mx0 = fmax(mx0, fabs(p[t[0].offset + i]));
    for (int i = 0; i < 18432; i++) mx1 = fmax(mx1, fabs(p[t[3].offset + i]));
    CHECK(mx0 <= b0 && mx0 > 0.95 * b0, "conv0 Kaiming-uniform, fan_in 9: max |w| %g of bound %g", mx0, b0);
    CHECK(mx1 <= b1 && mx1 > 0.99 * b1, "conv1 Kaiming-uniform, fan_in 288: max |w| %g of bound %g", mx1, b1);
    int bn_ok = 1;
    for (int i = 0; i < 32; i++)
        bn_ok &= p[t[1].offset + i] == 1 && p[t[2].offset + i] == 0 && p[t[10].offset + i] == 0 &&
                 p[t[11].offset + i] == 1;
    CHECK(bn_ok, "batch norm starts at weight 1, bias 0, running mean 0, running var 1");
    double bl = 1 / sqrt(128.0), mxl = 0;
    for (int i = 0; i < 1280; i++) mxl = fmax(mxl, fabs(p[t[8].offset + i]));
    CHECK(mxl <= bl && mxl > 0.95 * bl, "logits layer fan-in-uniform: max %g of %g", mxl, bl);
    hp_model_free(m);

    // a conv followed by a plain (not ReLU) layer gets Xavier with fan_out = F*k*k
    hp_layer_spec x[] = {conv(16, 5, 1, 2), L(HP_LAYER_TANH), dense(10)};
    s = spec_list(3, x);
    if (!CHECK(hp_model_create(&s, 4, 8, 8, 10, 2, &m, &err) == 0, "%s", err.msg)) return;
    hp_model_init(m, 6);
    nt = hp_model_layout(m, &t);
    double bx = sqrt(6.0 / (4 * 25 + 16 * 25)), mxx = 0;
    for (int64_t i = 0; i < t[0].size; i++) mxx = fmax(mxx, fabs(hp_model_state(m)[t[0].offset + i]));
    CHECK(mxx <= bx && mxx > 0.99 * bx, "conv before tanh: Xavier-uniform bound %g (max %g)", bx, mxx);
    CHECK(nt == 4 && strcmp(t[1].name, "conv0.bias") == 0 && t[1].size == 16, "a default conv has a bias");
    hp_model_free(m);
}

int main(void) {
    validation();
    layout();
    initialisation();
    cnn_validation();
    cnn_layout();
    return hp_check_summary("test_model");
}
