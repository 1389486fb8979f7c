/* test_data.c - split, truncate, standardisation and hashing of in-memory data sets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "data.h"
#include "rng.h"

/* A synthetic set: n examples of c x h x w. Feature 0 of example i is its id i (exact in float
 * below 2^24), so every example can be traced through a split; label i % 7. Other features are
 * uniform noise with a per-channel offset and scale, so channels have different statistics. */
static int make_set(hp_dataset *d, int64_t n, int c, int h, int w, uint64_t key) {
    hp_err err;
    int64_t dim = (int64_t)c * h * w;
    d->n = n;
    d->c = c;
    d->h = h;
    d->w = w;
    d->nclasses = 7;
    d->x = hp_calloc((size_t)(n * dim), sizeof *d->x, "test features", &err);
    d->y = hp_calloc((size_t)n, sizeof *d->y, "test labels", &err);
    if (!d->x || !d->y) return CHECK(0, "allocation: %s", err.msg);
    hp_rng r = hp_rng_make(key);
    for (int64_t i = 0; i < n; i++) {
        for (int ch = 0; ch < c; ch++)
            for (int64_t k = 0; k < (int64_t)h * w; k++)
                d->x[i * dim + ch * h * w + k] = (float)(3.0 * ch - 1.0 + (ch + 1) * hp_rng_uniform(&r));
        d->x[i * dim] = (float)i;
        d->y[i] = (int32_t)(i % 7);
    }
    return 1;
}

static int64_t id_of(const hp_dataset *d, int64_t j) { return (int64_t)d->x[j * hp_dataset_dim(d)]; }

static void test_split(void) {
    hp_dataset all = {0}, tr = {0}, va = {0}, tr2 = {0}, va2 = {0}, tr3 = {0}, va3 = {0};
    hp_err err = {{0}};
    const int64_t n = 1000, nv = 123;
    if (!make_set(&all, n, 2, 3, 4, 7)) return;
    uint64_t h_all = hp_dataset_hash(&all);
    int rc = hp_dataset_split(&all, nv, 99, &tr, &va, &err);
    CHECK(rc == 0, "split: %s", err.msg);
    if (rc != 0) return;
    CHECK(tr.n == n - nv && va.n == nv, "split sizes %lld + %lld, want %lld + %lld", (long long)tr.n,
          (long long)va.n, (long long)(n - nv), (long long)nv);
    CHECK(tr.c == 2 && tr.h == 3 && tr.w == 4 && va.c == 2 && va.h == 3 && va.w == 4 && tr.nclasses == 7 &&
              va.nclasses == 7,
          "split keeps shape and nclasses");
    CHECK(hp_dataset_hash(&all) == h_all, "split leaves the source untouched");

    /* Every example exactly once; whole rows and labels copied intact; both in original order. */
    int *seen = calloc((size_t)n, sizeof *seen);
    if (!CHECK(seen != NULL, "calloc")) return;
    int64_t dim = hp_dataset_dim(&all), row_bad = 0, order_bad = 0;
    const hp_dataset *parts[2] = {&tr, &va};
    for (int p = 0; p < 2; p++) {
        for (int64_t j = 0; j < parts[p]->n; j++) {
            int64_t id = id_of(parts[p], j);
            if (id < 0 || id >= n) {
                row_bad++;
                continue;
            }
            seen[id]++;
            if (memcmp(parts[p]->x + j * dim, all.x + id * dim, (size_t)dim * sizeof(float)) != 0 ||
                parts[p]->y[j] != all.y[id])
                row_bad++;
            if (j > 0 && id_of(parts[p], j - 1) >= id) order_bad++;
        }
    }
    int64_t not_once = 0;
    for (int64_t i = 0; i < n; i++) not_once += seen[i] != 1;
    CHECK(not_once == 0, "%lld examples not in exactly one split", (long long)not_once);
    CHECK(row_bad == 0, "%lld rows differ from their source", (long long)row_bad);
    CHECK(order_bad == 0, "%lld rows out of original order", (long long)order_bad);

    /* The validation set is the first nv entries of the documented permutation. */
    int32_t *perm = calloc((size_t)n, sizeof *perm);
    if (CHECK(perm != NULL, "calloc")) {
        for (int64_t i = 0; i < n; i++) perm[i] = (int32_t)i;
        hp_rng r = hp_rng_make(99);
        hp_rng_shuffle(&r, perm, n);
        int *in_val = calloc((size_t)n, sizeof *in_val);
        if (CHECK(in_val != NULL, "calloc")) {
            for (int64_t i = 0; i < nv; i++) in_val[perm[i]] = 1;
            int64_t mism = 0;
            for (int64_t j = 0; j < va.n; j++) mism += !in_val[id_of(&va, j)];
            CHECK(mism == 0, "%lld validation examples not among the permutation's first %lld",
                  (long long)mism, (long long)nv);
            free(in_val);
        }
        free(perm);
    }

    /* Determinism: same key, same split; another key, another split. */
    rc = hp_dataset_split(&all, nv, 99, &tr2, &va2, &err);
    CHECK(rc == 0 && hp_dataset_hash(&tr2) == hp_dataset_hash(&tr) &&
              hp_dataset_hash(&va2) == hp_dataset_hash(&va),
          "same key gives the same split");
    rc = hp_dataset_split(&all, nv, 100, &tr3, &va3, &err);
    CHECK(rc == 0, "split key 100: %s", err.msg);
    if (rc == 0) {
        int64_t same = 0;
        for (int64_t j = 0; j < nv; j++) same += id_of(&va3, j) == id_of(&va, j);
        /* Two random 123-subsets of 1000 in sorted order share few positions. */
        CHECK(same < nv / 2, "different keys give different splits (%lld of %lld positions agree)",
              (long long)same, (long long)nv);
        CHECK(hp_dataset_hash(&va3) != hp_dataset_hash(&va), "different keys: different validation hash");
    }

    /* Invalid sizes fail with a message naming the value and the rule; outputs untouched. */
    hp_dataset t4 = {0}, v4 = {0};
    const int64_t bad[] = {0, -5, n, n + 1};
    for (int b = 0; b < 4; b++) {
        err.msg[0] = 0;
        rc = hp_dataset_split(&all, bad[b], 1, &t4, &v4, &err);
        CHECK(rc == -1 && t4.x == NULL && v4.x == NULL, "n_val = %lld must fail", (long long)bad[b]);
        CHECK(strstr(err.msg, "0 < n_val < 1000") != NULL, "n_val = %lld message: \"%s\"", (long long)bad[b],
              err.msg);
    }
    free(seen);
    hp_dataset_free(&all);
    hp_dataset_free(&tr);
    hp_dataset_free(&va);
    hp_dataset_free(&tr2);
    hp_dataset_free(&va2);
    hp_dataset_free(&tr3);
    hp_dataset_free(&va3);
    hp_dataset z = {0};
    hp_dataset_free(&z); /* safe on a zeroed struct */
    hp_dataset_free(NULL);
    CHECK(z.x == NULL && z.n == 0, "free of a zeroed struct");
}

static void test_truncate(void) {
    hp_dataset d = {0}, ref = {0};
    hp_err err = {{0}};
    if (!make_set(&d, 50, 1, 2, 2, 3) || !make_set(&ref, 50, 1, 2, 2, 3)) return;
    int rc = hp_dataset_truncate(&d, 20, &err);
    CHECK(rc == 0 && d.n == 20, "truncate to 20: rc %d n %lld: %s", rc, (long long)d.n, err.msg);
    CHECK_ALLCLOSEF(d.x, ref.x, 20 * 4, 0, 0, "truncated features are the prefix");
    int ybad = 0;
    for (int i = 0; i < 20; i++) ybad += d.y[i] != ref.y[i];
    CHECK(ybad == 0, "truncated labels are the prefix");
    CHECK(hp_dataset_truncate(&d, 20, &err) == 0 && d.n == 20, "truncate to the same size is a no-op");
    rc = hp_dataset_truncate(&d, 21, &err);
    CHECK(rc == -1 && d.n == 20 && strstr(err.msg, "cannot keep 21 examples of 20") != NULL,
          "growing fails: \"%s\"", err.msg);
    rc = hp_dataset_truncate(&d, 0, &err);
    CHECK(rc == -1 && d.n == 20 && strstr(err.msg, "[1, 20]") != NULL, "n = 0 fails: \"%s\"", err.msg);
    hp_dataset_free(&d);
    hp_dataset_free(&ref);
}

static void test_norm(void) {
    hp_dataset d = {0};
    hp_err err = {{0}};
    const int c = 3, h = 5, w = 4;
    if (!make_set(&d, 400, c, h, w, 11)) return;
    int64_t dim = hp_dataset_dim(&d), hw = h * w;
    /* Channel 2 made constant: its std is 0 and must become 1. */
    for (int64_t i = 0; i < d.n; i++)
        for (int64_t k = 0; k < hw; k++) d.x[i * dim + 2 * hw + k] = 0.625f;
    hp_norm nm;
    memset(&nm, 0xFF, sizeof nm);
    int rc = hp_norm_fit(&d, &nm, &err);
    CHECK(rc == 0 && nm.c == c, "norm fit: %s", err.msg);
    /* Direct computation: textbook one-pass sums in long double, an independent formula. */
    for (int ch = 0; ch < 2; ch++) {
        long double s = 0, s2 = 0, cnt = (long double)d.n * hw;
        for (int64_t i = 0; i < d.n; i++)
            for (int64_t k = 0; k < hw; k++) {
                long double v = d.x[i * dim + ch * hw + k];
                s += v;
                s2 += v * v;
            }
        double mean = (double)(s / cnt), sd = (double)sqrtl(s2 / cnt - (s / cnt) * (s / cnt));
        CHECK_CLOSE(nm.mean[ch], mean, 0, 1e-6, "channel mean");
        CHECK_CLOSE(nm.std[ch], sd, 0, 1e-6, "channel population std");
    }
    CHECK(nm.mean[2] == 0.625f && nm.std[2] == 1.0f, "constant channel: mean %g std %g, want 0.625 and 1",
          nm.mean[2], nm.std[2]);
    /* Channel 0 holds the example ids 0..399 at k = 0, so its mean is not the noise mean. */
    CHECK(nm.mean[0] > 1.0f, "channel 0 includes the id feature (mean %g)", nm.mean[0]);

    hp_norm_apply(&nm, &d);
    hp_norm after;
    rc = hp_norm_fit(&d, &after, &err);
    CHECK(rc == 0, "refit: %s", err.msg);
    for (int ch = 0; ch < 2; ch++) {
        CHECK_CLOSE(after.mean[ch], 0.0, 1e-5, 0, "standardised mean");
        CHECK_CLOSE(after.std[ch], 1.0, 0, 1e-5, "standardised std");
    }
    CHECK(after.mean[2] == 0.0f && after.std[2] == 1.0f, "constant channel becomes 0 (mean %g, std %g)",
          after.mean[2], after.std[2]);
    /* Every element is exactly (x - mean) / std in float, as PyTorch's Normalize computes it. */
    hp_dataset raw = {0};
    if (make_set(&raw, 400, c, h, w, 11)) {
        int64_t differ = 0;
        for (int64_t i = 0; i < raw.n; i++)
            for (int ch = 0; ch < 2; ch++)
                for (int64_t k = 0; k < hw; k++) {
                    int64_t at = i * dim + ch * hw + k;
                    differ += d.x[at] != (raw.x[at] - nm.mean[ch]) / nm.std[ch];
                }
        CHECK(differ == 0, "%lld elements differ from (x - mean) / std", (long long)differ);
        hp_dataset_free(&raw);
    }

    /* More than 16 channels is an error, not an overflow; NaN features are reported. */
    hp_dataset wide = {0};
    if (make_set(&wide, 2, 17, 1, 1, 1)) {
        rc = hp_norm_fit(&wide, &after, &err);
        CHECK(rc == -1 && strstr(err.msg, "17 channels") != NULL, "17 channels: \"%s\"", err.msg);
        hp_dataset_free(&wide);
    }
    d.x[5] = NAN;
    rc = hp_norm_fit(&d, &after, &err);
    CHECK(rc == -1 && strstr(err.msg, "NaN") != NULL, "NaN feature: \"%s\"", err.msg);
    hp_dataset_free(&d);
}

static void test_hash(void) {
    hp_dataset a = {0}, b = {0};
    if (!make_set(&a, 30, 1, 4, 4, 5) || !make_set(&b, 30, 1, 4, 4, 5)) return;
    uint64_t h = hp_dataset_hash(&a);
    CHECK(h == hp_dataset_hash(&b), "equal data, equal hash");
    b.x[200] = nextafterf(b.x[200], 2.0f); /* one pixel, one ulp */
    CHECK(hp_dataset_hash(&b) != h, "one pixel changed by one ulp changes the hash");
    b.x[200] = a.x[200];
    b.y[29] = (b.y[29] + 1) % 7;
    CHECK(hp_dataset_hash(&b) != h, "one label changed changes the hash");
    b.y[29] = a.y[29];
    b.h = 2;
    b.w = 8;
    CHECK(hp_dataset_hash(&b) != h, "same bytes, other shape: other hash");
    b.h = 4;
    b.w = 4;
    CHECK(hp_dataset_hash(&b) == h, "restored data, same hash");
    /* Known answer: FNV-1a 64 of the empty shape (n = c = h = w = 0: 20 zero bytes), computed
     * independently with Python: h = 0xcbf29ce484222325; for each byte: h = ((h ^ b) * 0x100000001b3) %
     * 2**64. */
    hp_dataset z = {0};
    CHECK(hp_dataset_hash(&z) == 0xee85fafd354b0935ULL, "FNV-1a of 20 zero bytes: got %016llx",
          (unsigned long long)hp_dataset_hash(&z));
    /* Known answer with data: n=2, 1x1x1, x = {1, -0.5}, y = {3, 0}; Python:
     * struct.pack('<qiii', 2, 1, 1, 1) + struct.pack('<ff', 1.0, -0.5) + struct.pack('<ii', 3, 0). */
    float kx[2] = {1.0f, -0.5f};
    int32_t ky[2] = {3, 0};
    hp_dataset k = {2, 1, 1, 1, 4, kx, ky};
    CHECK(hp_dataset_hash(&k) == 0xb419bf3dbd6ff345ULL, "FNV-1a known answer: got %016llx",
          (unsigned long long)hp_dataset_hash(&k));
    hp_dataset_free(&a);
    hp_dataset_free(&b);
}

int main(void) {
    test_split();
    test_truncate();
    test_norm();
    test_hash();
    return hp_check_summary("test_data");
}
