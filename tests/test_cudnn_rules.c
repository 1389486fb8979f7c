/* test_cudnn_rules.c - the device layout and the cuDNN support matrix (trainer/cuda/cudnn_rules.h),
 * and the host emulation holding convolutions to it.
 *
 * Asserts the facts measured on an H200 with cuDNN 9.19 (docs/measured/cudnn-probe-h200.txt) for
 * the two fashion_cnn convolution shapes: with the CPU's channel-major order described through
 * strides ("CNHW"), forward has algorithms, backward data has none, backward filter has some only
 * while the input is effectively packed (C = 1); packed NCHW has deterministic algorithms in all
 * three directions; packed NHWC has 0/1. Then that the emulation, given the old CNHW layout
 * (hp_gpu_emul_set_layout), refuses a convolution with the GPU's message, and accepts the device
 * layout (packed NCHW), computing the CPU kernel's values. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/conv.h"
#include "cpu/pool.h"
#include "cuda/cudnn_rules.h"
#include "gpu_emul/gpu_emul.h"
#include "gpu_test.h"

static int has_algo(const hp_cudnn_algo *a, int n, int algo, int det) {
    for (int i = 0; i < n; i++)
        if (a[i].algo == algo && a[i].deterministic == det) return 1;
    return 0;
}

static void test_classify(void) {
    hp_tdesc d;
    hp_tdesc_make(&d, HP_GPU_LAYOUT_NCHW, 128, 32, 14, 14);
    CHECK(hp_tdesc_classify(&d) == HP_TDESC_PACKED_NCHW, "NCHW [128, 32, 14, 14] is packed NCHW");
    CHECK(d.sn == 32 * 196 && d.sc == 196 && d.sh == 14 && d.sw == 1, "NCHW strides");
    hp_tdesc_make(&d, HP_GPU_LAYOUT_NHWC, 128, 32, 14, 14);
    CHECK(hp_tdesc_classify(&d) == HP_TDESC_PACKED_NHWC, "NHWC is packed NHWC");
    hp_tdesc_make(&d, HP_GPU_LAYOUT_CNHW, 128, 32, 14, 14);
    CHECK(hp_tdesc_classify(&d) == HP_TDESC_STRIDED, "CNHW [128, 32, ...] is strided");
    CHECK(d.sn == 196 && d.sc == 128 * 196, "CNHW strides: n one plane, c B planes");
    hp_tdesc_make(&d, HP_GPU_LAYOUT_CNHW, 128, 1, 28, 28);
    CHECK(hp_tdesc_classify(&d) == HP_TDESC_PACKED_NCHW, "CNHW with C = 1 is packed NCHW (extent-1 strides ignored)");
    hp_tdesc_make(&d, HP_GPU_LAYOUT_CNHW, 1, 32, 14, 14);
    CHECK(hp_tdesc_classify(&d) == HP_TDESC_PACKED_NCHW, "CNHW with B = 1 is packed NCHW");
    d = (hp_tdesc){2, 3, 4, 5, 60, 20, 5, 2};
    CHECK(hp_tdesc_classify(&d) == HP_TDESC_STRIDED, "a w-stride of 2 is strided");
}

/* The probe's two shapes in every layout: the matrix gives what the H200 gave. */
static void test_matrix(void) {
    hp_conv_geom g1, g2;
    CHECK(hp_conv_geom_make(&g1, 1, 28, 28, 32, 3, 1, 1) == 0 && hp_conv_geom_make(&g2, 32, 14, 14, 64, 3, 1, 1) == 0,
          "geometries");
    hp_tdesc x, y;
    hp_cudnn_algo a[8];
    int n;
    for (int s = 0; s < 2; s++) {
        const hp_conv_geom *g = s ? &g2 : &g1;
        const char *shape = s ? "C32 14x14 -> 64" : "C1 28x28 -> 32";
        hp_conv_tdescs(HP_GPU_LAYOUT_CNHW, 128, g, &x, &y);
        n = hp_cudnn_conv_algos(HP_CONV_FWD, &x, &y, a, 8);
        CHECK(n == 4 && has_algo(a, n, 0, 1) && has_algo(a, n, 1, 1) && has_algo(a, n, 2, 1) && has_algo(a, n, 7, 1),
              "CNHW %s forward: algorithms 0 1 2 7 (got %d)", shape, n);
        n = hp_cudnn_conv_algos(HP_CONV_BWD_DATA, &x, &y, a, 8);
        CHECK(n == 0, "CNHW %s backward data: none (got %d)", shape, n);
        n = hp_cudnn_conv_algos(HP_CONV_BWD_FILTER, &x, &y, a, 8);
        if (s == 0)
            CHECK(n == 4 && has_algo(a, n, 1, 1) && has_algo(a, n, 5, 1) && has_algo(a, n, 0, 0) && has_algo(a, n, 3, 0),
                  "CNHW C1 backward filter: 1 5 and non-deterministic 0 3 (got %d)", n);
        else
            CHECK(n == 0, "CNHW C32 backward filter: none (got %d)", n);

        hp_conv_tdescs(HP_GPU_LAYOUT_NCHW, 128, g, &x, &y);
        n = hp_cudnn_conv_algos(HP_CONV_FWD, &x, &y, a, 8);
        CHECK(n == 6 && has_algo(a, n, 1, 1) && has_algo(a, n, 4, 1), "NCHW %s forward: 6 algorithms (got %d)", shape, n);
        n = hp_cudnn_conv_algos(HP_CONV_BWD_DATA, &x, &y, a, 8);
        CHECK(n == 5 && has_algo(a, n, 1, 1) && has_algo(a, n, 0, 0) && !has_algo(a, n, 4, 1),
              "NCHW %s backward data: 0 (non-det) 1 2 3 5 (got %d)", shape, n);
        n = hp_cudnn_conv_algos(HP_CONV_BWD_FILTER, &x, &y, a, 8);
        CHECK(n == 5 && has_algo(a, n, 1, 1) && has_algo(a, n, 3, 0), "NCHW %s backward filter: 5 (got %d)", shape, n);

        hp_conv_tdescs(HP_GPU_LAYOUT_NHWC, 128, g, &x, &y);
        for (int d = HP_CONV_FWD; d <= HP_CONV_BWD_FILTER; d++) {
            n = hp_cudnn_conv_algos((hp_conv_dir)d, &x, &y, a, 8);
            CHECK(n == 2 && has_algo(a, n, 1, 1), "NHWC %s %s: algorithms 0 and 1 (got %d)", shape,
                  hp_conv_dir_name((hp_conv_dir)d), n);
        }
    }
    // The rule picks a deterministic algorithm in every direction for the device layout, and
    // names the direction, the layout and the fix when there is none.
    hp_err err = {{0}};
    int algo = -1;
    for (int s = 0; s < 2; s++) {
        const hp_conv_geom *g = s ? &g2 : &g1;
        hp_conv_tdescs(HP_GPU_ACT_LAYOUT, 128, g, &x, &y);
        CHECK(hp_tdesc_classify(&x) == HP_TDESC_PACKED_NCHW && hp_tdesc_classify(&y) == HP_TDESC_PACKED_NCHW,
              "the device layout's descriptors are packed NCHW");
        for (int d = HP_CONV_FWD; d <= HP_CONV_BWD_FILTER; d++) {
            int rc = hp_cudnn_conv_pick((hp_conv_dir)d, &x, &y, 1, 128, g, 0, &algo, &err);
            CHECK(rc == 0 && algo >= 0, "device layout, %s, deterministic: an algorithm (%s)",
                  hp_conv_dir_name((hp_conv_dir)d), err.msg);
        }
    }
    hp_conv_tdescs(HP_GPU_LAYOUT_CNHW, 128, &g2, &x, &y);
    int rc = hp_cudnn_conv_pick(HP_CONV_BWD_DATA, &x, &y, 0, 128, &g2, 0, &algo, &err);
    CHECK(rc == -1 && strstr(err.msg, "no cuDNN convolution algorithm fits for backward data") &&
              strstr(err.msg, "strided") && strstr(err.msg, "B 128, C 32, 14x14, F 64"),
          "CNHW backward data, even non-deterministic: refused with the GPU's message (%s)", err.msg);
}

/* The emulation: the old layout is refused at the first call of a shape (where the real backend
 * chooses all three algorithms), with the GPU's message; the device layout computes the CPU's
 * values exactly (same kernel, operands transposed there and back). */
static void test_emulation(void) {
    enum { B = 4, C = 3, H = 6, W = 5, F = 2 };
    hp_conv_geom g;
    CHECK(hp_conv_geom_make(&g, C, H, W, F, 3, 1, 1) == 0, "geometry");
    const int64_t HW = H * W, ni = (int64_t)B * C * HW, no = (int64_t)B * F * HW, nw = F * C * 9;
    float *x = malloc(sizeof(float) * (size_t)ni), *w = malloc(sizeof(float) * (size_t)nw);
    float *xc = malloc(sizeof(float) * (size_t)ni), *yc = malloc(sizeof(float) * (size_t)no);
    float *y = malloc(sizeof(float) * (size_t)no), *got = malloc(sizeof(float) * (size_t)no);
    float *work = malloc(sizeof(float) * (size_t)hp_conv_work_size(&g, B, 1));
    if (!x || !w || !xc || !yc || !y || !got || !work) exit(1);
    for (int64_t i = 0; i < ni; i++) x[i] = (float)(2 * hp_rng_uniform(&g_rng) - 1);
    for (int64_t i = 0; i < nw; i++) w[i] = (float)(2 * hp_rng_uniform(&g_rng) - 1);
    float *gx = devf(x, ni), *gw = devf(w, nw), *gy = devf(NULL, no), *gdx = devf(NULL, ni), *gdw = devf(NULL, nw);

    hp_gpu_emul_set_layout(g_ctx, HP_GPU_LAYOUT_CNHW);
    g_err.msg[0] = 0;
    int rc = hp_gpu_conv_forward(g_ctx, gy, gx, gw, NULL, B, &g, &g_err);
    CHECK(rc == -1 && strstr(g_err.msg, "no cuDNN convolution algorithm fits for backward data") != NULL,
          "CNHW layout: the first conv call fails as on the GPU (got %d: %s)", rc, g_err.msg);
    rc = hp_gpu_conv_backward(g_ctx, gdx, gdw, NULL, gy, gx, gw, B, &g, &g_err);
    CHECK(rc == -1 && strstr(g_err.msg, "backward data"), "CNHW layout: backward fails too (got %d)", rc);

    hp_gpu_emul_set_layout(g_ctx, HP_GPU_ACT_LAYOUT);
    OK(hp_gpu_conv_forward(g_ctx, gy, gx, gw, NULL, B, &g, &g_err));
    OK(hp_gpu_conv_backward(g_ctx, gdx, gdw, NULL, gy, gx, gw, B, &g, &g_err));
    OK(hp_gpu_download(g_ctx, got, gy, sizeof(float) * (size_t)no, &g_err));
    hp_nchw_to_cnhw_f32(xc, x, B, C, HW);
    hp_conv_forward_f32(yc, xc, w, NULL, B, &g, work, 1);
    hp_cnhw_to_nchw_f32(y, yc, B, F, HW);
    CHECK(memcmp(got, y, sizeof(float) * (size_t)no) == 0, "NCHW layout: the CPU kernel's output, bit for bit");
    hp_gpu_free(gx), hp_gpu_free(gw), hp_gpu_free(gy), hp_gpu_free(gdx), hp_gpu_free(gdw);
    free(x), free(w), free(xc), free(yc), free(y), free(got), free(work);
}

int main(void) {
    g_rng = hp_rng_make(hp_key2(2026, 10));
    const hp_gpu_opts opts = {.deterministic = 1};
    OK(hp_gpu_ctx_create(&g_ctx, &opts, &g_err));
    test_classify();
    test_matrix();
    test_emulation();
    hp_gpu_ctx_free(g_ctx);
    return hp_check_summary("test_cudnn_rules");
}
