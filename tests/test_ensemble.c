/* test_ensemble.c - a model ensemble's loss and accuracy (trainer/ensemble.h): against values
 * computed by hand for two small dense models, against the single model's own evaluation
 * (one member), and its refusals. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "blobs.h"
#include "check.h"
#include "ensemble.h"
#include "model.h"

/* Two members of a 2-input, 2-class dense model (weight [2, 2] row-major, then bias [2]) on
 * three examples. Member A: W = [[2, 0], [0, 1]], b = 0; member B: W = [[0, 1], [1, 0]],
 * b = [0.5, 0]. Logits: x0 = (1, 0): A (2, 0), B (0.5, 1); x1 = (0, 1): A (0, 1), B (1.5, 0);
 * x2 = (1, 1): A (2, 1), B (1.5, 1). With two classes softmax is p1 = 1 / (1 + e^(z0 - z1)). */
static void test_by_hand(void) {
    hp_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.nlayers = 1;
    spec.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 2};
    float x[6] = {1, 0, 0, 1, 1, 1};
    int32_t y[3] = {0, 1, 1};
    hp_dataset d = {.n = 3, .c = 1, .h = 1, .w = 2, .nclasses = 2, .x = x, .y = y};
    const float a[6] = {2, 0, 0, 1, 0, 0}, b[6] = {0, 1, 1, 0, 0.5f, 0};
    const float *both[2] = {a, b};
    double p1[2][3] = {{1 / (1 + exp(2.0)), 1 / (1 + exp(-1.0)), 1 / (1 + exp(1.0))},
                       {1 / (1 + exp(-0.5)), 1 / (1 + exp(1.5)), 1 / (1 + exp(0.5))}};
    /* average p of the true class: x0 (class 0), x1 and x2 (class 1) */
    double pt[3] = {1 - (p1[0][0] + p1[1][0]) / 2, (p1[0][1] + p1[1][1]) / 2, (p1[0][2] + p1[1][2]) / 2};
    double want_loss = -(log(pt[0]) + log(pt[1]) + log(pt[2])) / 3;
    /* predicted: x0 class 0 (0.629), x1 class 0 (p1 0.457), x2 class 0 (p1 0.323): 1 of 3 right */
    double loss = 0, acc = 0;
    hp_err err = {{0}};
    CHECK(hp_ensemble_evaluate(&spec, &d, 2, both, 2, 6, &loss, &acc, &err) == 0, "two members: %s", err.msg);
    CHECK_CLOSE(loss, want_loss, 0, 1e-12, "ensemble loss = mean -log of the averaged true-class probability");
    CHECK_CLOSE(acc, 1.0 / 3, 0, 1e-15, "ensemble accuracy: 1 of 3 (x1 and x2 go to class 0 on average)");
    /* member A alone gets x0 and x1 right (x2: logits (2, 1), class 0): 2 of 3, better than
     * the pair, whose average, not its best member, decides */
    CHECK(hp_ensemble_evaluate(&spec, &d, 3, both, 1, 6, &loss, &acc, &err) == 0, "member A: %s", err.msg);
    CHECK_CLOSE(acc, 2.0 / 3, 0, 1e-15, "member A alone: 2 of 3");
    CHECK_CLOSE(loss, -(log(1 - p1[0][0]) + log(p1[0][1]) + log(p1[0][2])) / 3, 0, 1e-12, "member A alone: loss");

    /* refusals */
    CHECK(hp_ensemble_evaluate(&spec, &d, 2, both, 0, 6, &loss, &acc, &err) == -1 && strstr(err.msg, "members"),
          "no member refused: %s", err.msg);
    CHECK(hp_ensemble_evaluate(&spec, &d, 2, both, 2, 7, &loss, &acc, &err) == -1 && strstr(err.msg, "does not fit"),
          "a state of the wrong size refused: %s", err.msg);
    y[2] = 2;
    CHECK(hp_ensemble_evaluate(&spec, &d, 2, both, 2, 6, &loss, &acc, &err) == -1 && strstr(err.msg, "label 2"),
          "a label outside the classes refused: %s", err.msg);
}

/* One member is the model's own evaluation (hp_model_eval's mean loss and accuracy); two equal
 * members give exactly the same as one. */
static void test_one_member(void) {
    hp_model_spec spec;
    memset(&spec, 0, sizeof spec);
    spec.nlayers = 3;
    spec.layers[0] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 16};
    spec.layers[1] = (hp_layer_spec){.type = HP_LAYER_RELU};
    spec.layers[2] = (hp_layer_spec){.type = HP_LAYER_DENSE, .units = 4};
    hp_dataset d;
    if (!CHECK(hp_test_blobs(&d, 300, 4, 1, 2, 4, 11) == 0, "blobs")) return;
    hp_model *m = NULL;
    hp_err err = {{0}};
    if (!CHECK(hp_model_create(&spec, 1, 2, 4, 4, 64, &m, &err) == 0, "model: %s", err.msg)) return;
    hp_model_init(m, 5);
    double sum = 0;
    int64_t hits = 0;
    for (int64_t s = 0; s < d.n; s += 64) {
        int B = d.n - s < 64 ? (int)(d.n - s) : 64;
        double l = 0;
        int64_t h = 0;
        hp_model_eval(m, d.x + s * 8, d.y + s, B, &l, &h);
        sum += l, hits += h;
    }
    const float *st[2] = {hp_model_state(m), hp_model_state(m)};
    int64_t size = hp_model_state_size(m);
    double loss = 0, acc = 0, loss2 = 0, acc2 = 0;
    CHECK(hp_ensemble_evaluate(&spec, &d, 50, st, 1, size, &loss, &acc, &err) == 0, "one member: %s", err.msg);
    CHECK_CLOSE(loss, sum / (double)d.n, 0, 1e-6, "one member: the model's own mean loss");
    CHECK_CLOSE(acc, (double)hits / (double)d.n, 0, 0, "one member: the model's own accuracy");
    CHECK(acc > 0.1 && loss > 0.5, "an untrained model: acc %.3f, loss %.3f", acc, loss);
    /* the same batch: a product's blocking, so its rounding, follows the batch's shape */
    CHECK(hp_ensemble_evaluate(&spec, &d, 50, st, 2, size, &loss2, &acc2, &err) == 0, "two: %s", err.msg);
    CHECK(loss2 == loss && acc2 == acc, "two equal members = one, bit for bit (%.17g vs %.17g)", loss2, loss);
    hp_model_free(m);
    hp_test_blobs_free(&d);
}

int main(void) {
    test_by_hand();
    test_one_member();
    return hp_check_summary("test_ensemble");
}
