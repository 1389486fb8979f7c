/* gpu_emul_ops.c - the layer and optimizer ops of the host emulation of cuda/gpu.h (gpu_emul.c
 * says what it checks): each validates its arguments against the device-memory registry, then
 * runs the CPU kernel. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "augment.h"
#include "cpu/act.h"
#include "cpu/conv.h"
#include "cpu/dropout.h"
#include "cpu/layers.h"
#include "cpu/norm.h"
#include "cpu/pool.h"
#include "gpu_emul/gpu_emul_impl.h"
#include "optim.h"

/* ---- dense, softmax cross-entropy ------------------------------------------------------------ */

int hp_gpu_dense_forward(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight, const float *bias,
                         int B, int n_in, int n_out, int relu, hp_err *err) {
    // out [B, n_out], inp [B, n_in], weight [n_out, n_in], bias [n_out]
    OP("hp_gpu_dense_forward");
    if (B <= 0 || n_in <= 0 || n_out <= 0) return emul_fail(&o_, "B %d, n_in %d, n_out %d: all must be > 0", B, n_in, n_out);
    TRY(emul_check_n(&o_, (int64_t)B * n_out, "B * n_out"));
    USE(out, (int64_t)B * n_out); USE(inp, (int64_t)B * n_in); USE(weight, (int64_t)n_out * n_in);
    USE_OPT(bias, n_out);
    TRY(emul_op_open(&o_));
    hp_dense_forward_f32(out, inp, weight, bias, B, n_in, n_out, relu);
    return emul_op_end(&o_, 0);
}

int hp_gpu_dense_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                          const float *inp, const float *weight, int B, int n_in, int n_out, hp_err *err) {
    // dinp [B, n_in], dweight [n_out, n_in], dbias [n_out], dout [B, n_out], inp [B, n_in], weight [n_out, n_in]
    OP("hp_gpu_dense_backward");
    if (B <= 0 || n_in <= 0 || n_out <= 0) return emul_fail(&o_, "B %d, n_in %d, n_out %d: all must be > 0", B, n_in, n_out);
    USE_OPT(dinp, (int64_t)B * n_in); USE(dweight, (int64_t)n_out * n_in); USE_OPT(dbias, n_out);
    USE(dout, (int64_t)B * n_out); USE(inp, (int64_t)B * n_in);
    if (dinp) USE(weight, (int64_t)n_out * n_in); // read only for dinp
    TRY(emul_op_open(&o_));
    hp_dense_backward_f32(dinp, dweight, dbias, dout, inp, weight, B, n_in, n_out);
    return emul_op_end(&o_, 0);
}

int hp_gpu_xent(hp_gpu_ctx *ctx, float *dlogits, float *losses, double *stats, const float *logits,
                const int32_t *y, float dloss, int B, int C, hp_err *err) {
    // dlogits [B, C], losses [B], stats [2], logits [B, C], y [B]
    OP("hp_gpu_xent");
    if (B <= 0 || C <= 0) return emul_fail(&o_, "B = %d, C = %d: both must be > 0", B, C);
    USE(dlogits, (int64_t)B * C); USE(losses, B); USE(stats, 2); USE(logits, (int64_t)B * C);
    USE(y, B);
    TRY(emul_op_open(&o_));
    for (int b = 0; b < B; b++)
        if (y[b] < 0 || y[b] >= C)
            return emul_op_end(&o_, emul_fail(&o_, "y[%d] = %d is outside [0, %d): labels must index the classes", b,
                                    (int)y[b], C));
    // probs straight into dlogits (probs may be logits), then the backward in place (dlogits may be probs)
    const int64_t hits = hp_xent_forward_f32(dlogits, losses, logits, y, B, C);
    hp_xent_backward_f32(dlogits, dlogits, y, dloss, B, C);
    double sum = 0;
    for (int b = 0; b < B; b++) sum += (double)losses[b]; // in example order
    stats[0] = sum;
    stats[1] = (double)hits;
    return emul_op_end(&o_, 0);
}

/* ---- elementwise ------------------------------------------------------------------------------ */

int hp_gpu_act_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t n, hp_layer_type type, double param,
                       hp_err *err) {
    // out [n], inp [n]; out may be inp
    OP("hp_gpu_act_forward");
    TRY(emul_check_n(&o_, n, "n"));
    USE(out, n); USE(inp, n);
    TRY(emul_op_open(&o_));
    hp_act_forward_f32(out, inp, n, type, param);
    return emul_op_end(&o_, 0);
}

int hp_gpu_act_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *inp, const float *out,
                        int64_t n, hp_layer_type type, double param, hp_err *err) {
    // dinp, dout, inp, out [n]; dinp may be dout
    OP("hp_gpu_act_backward");
    TRY(emul_check_n(&o_, n, "n"));
    if (n == 0) return 0;
    const int gelu = type == HP_LAYER_GELU;
    if ((gelu && !inp) || ((type == HP_LAYER_TANH || type == HP_LAYER_SIGMOID) && !out) || (!inp && !out))
        return emul_fail(&o_, "%s needs %s, which is NULL: keep it from the forward pass", gelu ? "gelu" : "this activation",
                    gelu ? "inp" : "out");
    USE(dinp, n); USE(dout, n); USE_OPT(inp, n); USE_OPT(out, n);
    TRY(emul_op_open(&o_));
    hp_act_backward_f32(dinp, dout, inp, out, n, type, param);
    return emul_op_end(&o_, 0);
}

int hp_gpu_dropout_forward(hp_gpu_ctx *ctx, float *out, uint8_t *mask, const float *inp, int B, int C, int64_t HW,
                           double p, uint64_t key, hp_err *err) {
    // out, mask, inp [B, C, HW]; out may be inp
    OP("hp_gpu_dropout_forward");
    if (B < 0 || C < 0 || HW < 0) return emul_fail(&o_, "B %d, C %d, HW %lld: sizes must be >= 0", B, C, (long long)HW);
    const int64_t n = (int64_t)B * C * HW;
    TRY(emul_check_n(&o_, n, "B * C * HW"));
    USE(out, n); USE(mask, n); USE(inp, n);
    if (C <= 1 || B <= 1) { // the device order is the CPU's
        TRY(emul_op_open(&o_));
        hp_dropout_forward_f32(out, mask, inp, n, p, key);
        return emul_op_end(&o_, 0);
    }
    // Draw in the CPU's channel-major order: [C, B, HW] scratch, then back (exact copies).
    float *xc = emul_grow(&o_, &ctx->chw[0], FLOATS(n), "dropout input");
    float *yc = xc ? emul_grow(&o_, &ctx->chw[1], FLOATS(n), "dropout output") : NULL;
    uint8_t *mc = yc ? emul_grow(&o_, &ctx->chw[2], (size_t)n, "dropout mask") : NULL;
    if (!mc) return -1;
    TRY(emul_op_open(&o_));
    hp_nchw_to_cnhw_f32(xc, inp, B, C, HW);
    hp_dropout_forward_f32(yc, mc, xc, n, p, key);
    hp_cnhw_to_nchw_f32(out, yc, B, C, HW);
    for (int b = 0; b < B; b++)
        for (int c = 0; c < C; c++) memcpy(mask + ((int64_t)b * C + c) * HW, mc + ((int64_t)c * B + b) * HW, (size_t)HW);
    return emul_op_end(&o_, 0);
}

int hp_gpu_dropout_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const uint8_t *mask, int64_t n,
                            double p, hp_err *err) {
    // dinp [n] = dout [n] * mask [n] * scale; dinp may be dout
    OP("hp_gpu_dropout_backward");
    TRY(emul_check_n(&o_, n, "n"));
    USE(dinp, n); USE(dout, n);
    if (p > 0) USE(mask, n); // the identity (p <= 0) does not read the mask
    TRY(emul_op_open(&o_));
    hp_dropout_backward_f32(dinp, dout, mask, n, p);
    return emul_op_end(&o_, 0);
}

/* Global average pooling: forward out [P] from inp [P, HW]; backward dinp [P, HW] from dout [P]. */
static int gap(emul_op *o, float *plane, float *mean, int64_t P, int64_t HW, int fwd) {
    TRY(emul_check_n(o, P, "P"));
    TRY(emul_check_n(o, HW, "HW"));
    TRY(emul_check_n(o, P * HW, "P * HW"));
    TRY(emul_use(o, fwd ? "inp" : "dinp", plane, FLOATS(P * HW), sizeof(float)));
    TRY(emul_use(o, fwd ? "out" : "dout", mean, HW > 0 ? FLOATS(P) : 0, sizeof(float)));
    TRY(emul_op_open(o));
    if (P > 0 && HW > 0) {
        if (fwd) hp_gap_forward_f32(mean, plane, P, HW);
        else hp_gap_backward_f32(plane, mean, P, HW);
    }
    return emul_op_end(o, 0);
}
int hp_gpu_gap_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, int64_t HW, hp_err *err) {
    OP("hp_gpu_gap_forward");
    return gap(&o_, (float *)inp, out, P, HW, 1); // inp only read
}
int hp_gpu_gap_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, int64_t P, int64_t HW, hp_err *err) {
    OP("hp_gpu_gap_backward");
    return gap(&o_, dinp, (float *)dout, P, HW, 0); // dout only read
}

int hp_gpu_add(hp_gpu_ctx *ctx, float *out, const float *a, const float *b, int64_t n, hp_err *err) {
    // out [n] = a [n] + b [n]; out may be a or b
    OP("hp_gpu_add");
    TRY(emul_check_n(&o_, n, "n"));
    USE(out, n); USE(a, n); USE(b, n);
    TRY(emul_op_open(&o_));
    for (int64_t i = 0; i < n; i++) out[i] = a[i] + b[i];
    return emul_op_end(&o_, 0);
}

int hp_gpu_gather(hp_gpu_ctx *ctx, float *xb, int32_t *yb, const float *X, const int32_t *Y, const int32_t *idx,
                  const hp_augment_draw *draws, int cutout, int B, int C, int H, int W, hp_err *err) {
    // xb [B, C, H, W], yb [B], X [N, C, H, W], Y [N], idx [B], draws [B]
    OP("hp_gpu_gather");
    if (B <= 0 || C <= 0 || H <= 0 || W <= 0 || cutout < 0)
        return emul_fail(&o_, "B %d, C %d, H %d, W %d, cutout %d: need sizes > 0 and cutout >= 0", B, C, H, W, cutout);
    const int64_t chw = (int64_t)C * H * W;
    TRY(emul_check_n(&o_, B * chw, "B * C * H * W"));
    USE(xb, B * chw); USE(yb, B); USE(idx, B);
    USE(X, chw); USE(Y, 1); // at least one row; each row read is checked below
    if (draws) TRY(emul_use(&o_, "draws", draws, (size_t)B * sizeof *draws, _Alignof(hp_augment_draw)));
    // What X and Y hold from their start to the end of their blocks: the rows idx may pick.
    char xname[64], yname[64];
    const size_t xleft = emul_left(X, xname, sizeof xname), yleft = emul_left(Y, yname, sizeof yname);
    TRY(emul_no_alias(&o_, "xb", xb, FLOATS(B * chw), "X", X, xleft));
    float *scratch = draws ? emul_grow(&o_, &ctx->aug, FLOATS(chw), "augmentation") : NULL;
    if (draws && !scratch) return -1;
    const hp_augment_spec spec = {.cutout = cutout}; // hp_augment_example reads only the cutout size
    TRY(emul_op_open(&o_));
    for (int b = 0; b < B; b++) {
        const int64_t i = idx[b];
        if (i < 0 || (uint64_t)(i + 1) * FLOATS(chw) > xleft || (uint64_t)(i + 1) * sizeof *Y > yleft)
            return emul_op_end(&o_, emul_fail(&o_, "idx[%d] = %lld is out of range of X ('%s', %zu rows) or Y ('%s', %zu labels)",
                                    b, (long long)i, xname, xleft / FLOATS(chw), yname, yleft / sizeof *Y));
        float *x = xb + b * chw; // x [C, H, W]
        UNPOISON(X + i * chw, FLOATS(chw)); // rows beyond the checked first one: open one at a time
        UNPOISON(Y + i, sizeof *Y);
        memcpy(x, X + i * chw, FLOATS(chw));
        yb[b] = Y[i];
        POISON(X + i * chw, FLOATS(chw));
        POISON(Y + i, sizeof *Y);
        if (draws) hp_augment_example(&spec, &draws[b], x, C, H, W, scratch);
    }
    return emul_op_end(&o_, 0);
}

/* ---- optimizers: hp_optim_update_f32 on optim.h's moment layout ------------------------------ */

static int optim_check(emul_op *o, const hp_optim_spec *s, hp_optim_type want, int64_t n, int64_t t) {
    if (!s) return emul_fail(o, "the optimizer spec is NULL");
    if (s->type != want && !(want == HP_OPTIM_ADAM && s->type == HP_OPTIM_ADAMW))
        return emul_fail(o, "the spec is for %s: call that optimizer's step", hp_optim_type_name(s->type));
    if (t < 1) return emul_fail(o, "step t = %lld: steps count from 1", (long long)t);
    return emul_check_n(o, n, "n");
}

/* The update with moment blocks a [n] and b [n] (b NULL: one block), after params, grads and
 * the moments were checked. optim.h's layout wants them consecutive; when the caller's are
 * not, they pass through ctx scratch and back (plain copies: exact). */
static int optim_run(emul_op *o, hp_gpu_ctx *ctx, const hp_optim_spec *s, int64_t n, float *params,
                     const float *grads, float *a, float *b, double lr, int64_t t) {
    float *m = a;
    if (b && b != a + n && !(m = emul_grow(o, &ctx->moments, 2 * FLOATS(n), "optimizer moments"))) return -1;
    TRY(emul_op_open(o));
    if (m != a) memcpy(m, a, FLOATS(n)), memcpy(m + n, b, FLOATS(n));
    hp_optim_update_f32(s, n, params, grads, m, lr, t);
    if (m != a) memcpy(a, m, FLOATS(n)), memcpy(b, m + n, FLOATS(n));
    return emul_op_end(o, 0);
}

int hp_gpu_sgd_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *buf, int64_t n,
                    const hp_optim_spec *spec, double lr, int64_t t, hp_err *err) {
    // params, grads, buf [n]
    OP("hp_gpu_sgd_step");
    TRY(optim_check(&o_, spec, HP_OPTIM_SGD, n, t));
    const int mom = spec->momentum != 0;
    if (mom && !buf)
        return emul_fail(&o_, "momentum %g needs a momentum buffer, got NULL: allocate [n] floats", spec->momentum);
    if (n == 0) return 0;
    USE(params, n); USE(grads, n);
    if (mom) USE(buf, n);
    return optim_run(&o_, ctx, spec, n, params, grads, mom ? buf : NULL, NULL, lr, t);
}

int hp_gpu_adam_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *m1, float *m2, int64_t n,
                     const hp_optim_spec *spec, double lr, int64_t t, hp_err *err) {
    // params, grads, m1, m2 [n]
    OP("hp_gpu_adam_step");
    TRY(optim_check(&o_, spec, HP_OPTIM_ADAM, n, t)); // Adam or AdamW
    if (n == 0) return 0;
    USE(params, n); USE(grads, n); USE(m1, n); USE(m2, n);
    return optim_run(&o_, ctx, spec, n, params, grads, m1, m2, lr, t);
}

int hp_gpu_rmsprop_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *sq, float *buf, int64_t n,
                        const hp_optim_spec *spec, double lr, int64_t t, hp_err *err) {
    // params, grads, sq, buf [n]
    OP("hp_gpu_rmsprop_step");
    TRY(optim_check(&o_, spec, HP_OPTIM_RMSPROP, n, t));
    const int mom = spec->momentum > 0;
    if (mom && !buf)
        return emul_fail(&o_, "momentum %g needs a momentum buffer, got NULL: allocate [n] floats", spec->momentum);
    if (n == 0) return 0;
    USE(params, n); USE(grads, n); USE(sq, n);
    if (mom) USE(buf, n);
    return optim_run(&o_, ctx, spec, n, params, grads, sq, mom ? buf : NULL, lr, t);
}

int hp_gpu_adagrad_step(hp_gpu_ctx *ctx, float *params, const float *grads, float *sum, int64_t n,
                        const hp_optim_spec *spec, double lr, int64_t t, hp_err *err) {
    // params, grads, sum [n]
    OP("hp_gpu_adagrad_step");
    TRY(optim_check(&o_, spec, HP_OPTIM_ADAGRAD, n, t));
    if (n == 0) return 0;
    USE(params, n); USE(grads, n); USE(sum, n);
    return optim_run(&o_, ctx, spec, n, params, grads, sum, NULL, lr, t);
}

/* ---- convolution ------------------------------------------------------------------------------ */

/* Validate (B, g), hold the descriptors the real backend would build to the measured support
 * matrix (cudnn_rules.h: an algorithm in each of the three directions, chosen at the first call
 * of a shape as gpu_conv.cu chooses them, deterministic ones in deterministic mode), and size
 * the workspace. (The real context caches a plan per shape, reusing its slots in turn when the
 * table is full, so any number of shapes works there too.) */
static float *conv_prepare(emul_op *o, hp_gpu_ctx *ctx, int B, const hp_conv_geom *g) {
    if (!g || B <= 0 || g->C <= 0 || g->H <= 0 || g->W <= 0 || g->F <= 0 || g->k <= 0 || g->stride <= 0 ||
        g->pad < 0 || g->Ho <= 0 || g->Wo <= 0 || g->G <= 0) {
        emul_fail(o, "B %d or the geometry is invalid: need B > 0 and a geometry from hp_conv_geom_make", B);
        return NULL;
    }
    hp_tdesc x, y; // x [B, C, H, W], y [B, F, Ho, Wo] as described to cuDNN
    hp_conv_tdescs(ctx->layout, B, g, &x, &y);
    for (int d = HP_CONV_FWD; d <= HP_CONV_BWD_FILTER; d++) {
        int algo;
        if (hp_cudnn_conv_pick((hp_conv_dir)d, &x, &y, ctx->opts.deterministic, B, g, ctx->opts.workspace_max, &algo,
                               o->err) != 0)
            return NULL;
    }
    if (ctx->layout != HP_GPU_LAYOUT_NCHW && ctx->layout != HP_GPU_LAYOUT_CNHW) {
        emul_fail(o, "the emulation computes convolutions over NCHW or CNHW only");
        return NULL;
    }
    const int64_t nw = hp_conv_work_size(g, B, 1);
    return emul_grow(o, &ctx->conv_work, FLOATS(nw > 0 ? nw : 1), "convolution workspace");
}

/* The operand a [B, D, HW] of the device layout in the CPU's order [D, B, HW]: a copy in
 * `scratch` when the layout is NCHW, a itself when it is CNHW already. */
static float *to_cpu_order(hp_gpu_ctx *ctx, float *scratch, const float *a, int B, int D, int64_t HW) {
    if (ctx->layout == HP_GPU_LAYOUT_CNHW) return (float *)a;
    if (a) hp_nchw_to_cnhw_f32(scratch, a, B, D, HW);
    return scratch;
}
static void from_cpu_order(hp_gpu_ctx *ctx, float *out, const float *c, int B, int D, int64_t HW) {
    if (ctx->layout != HP_GPU_LAYOUT_CNHW && out) hp_cnhw_to_nchw_f32(out, c, B, D, HW);
}

int hp_gpu_conv_forward(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight, const float *bias, int B,
                        const struct hp_conv_geom *g, hp_err *err) {
    // out [B, F, Ho, Wo], inp [B, C, H, W], weight [F, C, k, k], bias [F]
    OP("hp_gpu_conv_forward");
    float *work = conv_prepare(&o_, ctx, B, g);
    if (!work) return -1;
    const int64_t HW = (int64_t)g->H * g->W, HWo = (int64_t)g->Ho * g->Wo;
    const int64_t no = (int64_t)g->F * B * HWo, ni = (int64_t)g->C * B * HW, nw = (int64_t)g->F * g->C * g->k * g->k;
    USE(out, no); USE(inp, ni); USE(weight, nw); USE_OPT(bias, g->F);
    TRY(emul_no_alias(&o_, "out", out, FLOATS(no), "inp", inp, FLOATS(ni)));
    TRY(emul_no_alias(&o_, "out", out, FLOATS(no), "weight", weight, FLOATS(nw)));
    TRY(emul_no_alias(&o_, "out", out, FLOATS(no), "bias", bias, FLOATS(g->F)));
    float *xs = emul_grow(&o_, &ctx->chw[0], FLOATS(ni), "conv input");
    float *ys = xs ? emul_grow(&o_, &ctx->chw[1], FLOATS(no), "conv output") : NULL;
    if (!ys) return -1;
    TRY(emul_op_open(&o_));
    const float *xc = to_cpu_order(ctx, xs, inp, B, g->C, HW);             // [C, B, H, W]
    float *yc = ctx->layout == HP_GPU_LAYOUT_CNHW ? out : ys;              // [F, B, Ho, Wo]
    hp_conv_forward_f32(yc, xc, weight, bias, B, g, work, 1);
    from_cpu_order(ctx, out, yc, B, g->F, HWo);
    return emul_op_end(&o_, 0);
}

int hp_gpu_conv_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout,
                         const float *inp, const float *weight, int B, const struct hp_conv_geom *g, hp_err *err) {
    // dinp [B, C, H, W], dweight [F, C, k, k], dbias [F], dout [B, F, Ho, Wo], inp, weight as forward
    OP("hp_gpu_conv_backward");
    float *work = conv_prepare(&o_, ctx, B, g);
    if (!work) return -1;
    const int64_t HW = (int64_t)g->H * g->W, HWo = (int64_t)g->Ho * g->Wo;
    const int64_t no = (int64_t)g->F * B * HWo, ni = (int64_t)g->C * B * HW, nw = (int64_t)g->F * g->C * g->k * g->k;
    USE_OPT(dinp, ni); USE(dweight, nw); USE_OPT(dbias, g->F); USE(dout, no);
    USE(inp, ni);
    if (dinp) USE(weight, nw); // read only for dinp
    const void *in[] = {dout, inp, weight}, *gr[] = {dinp, dweight, dbias};
    const size_t in_b[] = {FLOATS(no), FLOATS(ni), FLOATS(nw)}, gr_b[] = {FLOATS(ni), FLOATS(nw), FLOATS(g->F)};
    const char *in_n[] = {"dout", "inp", "weight"}, *gr_n[] = {"dinp", "dweight", "dbias"};
    for (int i = 0; i < 3; i++) // no gradient may alias an input
        for (int j = 0; j < 3; j++) TRY(emul_no_alias(&o_, gr_n[i], gr[i], gr_b[i], in_n[j], in[j], in_b[j]));
    float *xs = emul_grow(&o_, &ctx->chw[0], FLOATS(ni), "conv input");
    float *dys = xs ? emul_grow(&o_, &ctx->chw[1], FLOATS(no), "conv output gradient") : NULL;
    float *dxs = dys ? emul_grow(&o_, &ctx->chw[2], FLOATS(ni), "conv input gradient") : NULL;
    if (!dxs) return -1;
    TRY(emul_op_open(&o_));
    const float *xc = to_cpu_order(ctx, xs, inp, B, g->C, HW), *dyc = to_cpu_order(ctx, dys, dout, B, g->F, HWo);
    float *dxc = !dinp ? NULL : ctx->layout == HP_GPU_LAYOUT_CNHW ? dinp : dxs; // [C, B, H, W]
    hp_conv_backward_f32(dxc, dweight, dbias, dyc, xc, weight, B, g, work, 1);
    if (dinp) from_cpu_order(ctx, dinp, dxc, B, g->C, HW);
    return emul_op_end(&o_, 0);
}

/* ---- batch norm ------------------------------------------------------------------------------- */

/* The real op's checks (bn_desc in gpu_cudnn.cu), and the xhat scratch [B, C, HW]. */
static float *bn_prepare(emul_op *o, hp_gpu_ctx *ctx, int B, int C, int HW, double eps, int train) {
    if (B <= 0 || C <= 0 || HW <= 0 || (train && (int64_t)B * HW < 2)) {
        emul_fail(o, "B %d, C %d, HW %d: need B, C, HW > 0 and B*HW >= 2 values per channel", B, C, HW);
        return NULL;
    }
    if (!(eps > 0)) { /* CUDNN_BN_MIN_EPSILON is 0 in cuDNN 9 */
        emul_fail(o, "eps %g is invalid: use eps > 0", eps);
        return NULL;
    }
    if (train && B > 65535) { /* cuDNN's largest batch dimension (gpu_cudnn.cu) */
        emul_fail(o, "a batch of %d rows is over cuDNN's 65535: use a smaller batch_size", B);
        return NULL;
    }
    if (emul_check_n(o, (int64_t)B * C * HW, "B * C * HW") != 0) return NULL;
    return emul_grow(o, &ctx->xhat, train ? FLOATS((int64_t)B * C * HW) : 1, "batch-norm xhat");
}

int hp_gpu_bn_forward_train(hp_gpu_ctx *ctx, float *out, float *save_mean, float *save_invstd, float *running_mean,
                            float *running_var, const float *inp, const float *weight, const float *bias, int B, int C,
                            int HW, double momentum, double eps, hp_err *err) {
    // out, inp [B, C, HW]; save_mean, save_invstd, running_mean, running_var, weight, bias [C]
    OP("hp_gpu_bn_forward_train");
    float *xhat = bn_prepare(&o_, ctx, B, C, HW, eps, 1); // xhat [B, C, HW]
    if (!xhat) return -1;
    const int64_t n = (int64_t)B * C * HW;
    USE(out, n); USE(save_mean, C); USE(save_invstd, C); USE(running_mean, C);
    USE(running_var, C); USE(inp, n); USE(weight, C); USE(bias, C);
    if (B > 1 && HW > 1) { // images: summed per channel in the CPU model's order, [C, B*HW] (exact copies)
        float *xc = emul_grow(&o_, &ctx->chw[0], FLOATS(n), "batch-norm input");
        float *yc = xc ? emul_grow(&o_, &ctx->chw[1], FLOATS(n), "batch-norm output") : NULL;
        if (!yc) return -1;
        TRY(emul_op_open(&o_));
        hp_nchw_to_cnhw_f32(xc, inp, B, C, HW);
        hp_bn_forward_train_f32(yc, xhat, save_mean, save_invstd, running_mean, running_var, xc, weight, bias, 1, C,
                                B * HW, momentum, eps);
        hp_cnhw_to_nchw_f32(out, yc, B, C, HW);
        return emul_op_end(&o_, 0);
    }
    TRY(emul_op_open(&o_));
    hp_bn_forward_train_f32(out, xhat, save_mean, save_invstd, running_mean, running_var, inp, weight, bias, B, C, HW,
                            momentum, eps);
    return emul_op_end(&o_, 0);
}

int hp_gpu_bn_forward_eval(hp_gpu_ctx *ctx, float *out, const float *inp, const float *weight, const float *bias,
                           const float *running_mean, const float *running_var, int B, int C, int HW, double eps,
                           hp_err *err) {
    // out, inp [B, C, HW]; weight, bias, running_mean, running_var [C]
    OP("hp_gpu_bn_forward_eval");
    if (!bn_prepare(&o_, ctx, B, C, HW, eps, 0)) return -1;
    const int64_t n = (int64_t)B * C * HW;
    USE(out, n); USE(inp, n); USE(weight, C); USE(bias, C);
    USE(running_mean, C); USE(running_var, C);
    TRY(emul_op_open(&o_));
    hp_bn_forward_eval_f32(out, inp, weight, bias, running_mean, running_var, B, C, HW, eps);
    return emul_op_end(&o_, 0);
}

int hp_gpu_bn_backward(hp_gpu_ctx *ctx, float *dinp, float *dweight, float *dbias, const float *dout, const float *inp,
                       const float *save_mean, const float *save_invstd, const float *weight, int B, int C, int HW,
                       double eps, hp_err *err) {
    // dinp, dout, inp [B, C, HW]; dweight, dbias, save_mean, save_invstd, weight [C]
    OP("hp_gpu_bn_backward");
    float *xhat = bn_prepare(&o_, ctx, B, C, HW, eps, 1); // xhat [B, C, HW]
    if (!xhat) return -1;
    const int64_t n = (int64_t)B * C * HW;
    USE(dinp, n); USE(dweight, C); USE(dbias, C); USE(dout, n);
    USE(inp, n); USE(save_mean, C); USE(save_invstd, C); USE(weight, C);
    // Images are summed per channel in the CPU model's order: [C, B*HW] copies (exact).
    const int cm = B > 1 && HW > 1;
    float *xc = NULL, *dyc = NULL, *dxc = NULL;
    if (cm && (!(xc = emul_grow(&o_, &ctx->chw[0], FLOATS(n), "batch-norm input")) ||
               !(dyc = emul_grow(&o_, &ctx->chw[1], FLOATS(n), "batch-norm output gradient")) ||
               !(dxc = emul_grow(&o_, &ctx->chw[2], FLOATS(n), "batch-norm input gradient"))))
        return -1;
    TRY(emul_op_open(&o_));
    if (cm) {
        hp_nchw_to_cnhw_f32(xc, inp, B, C, HW);
        hp_nchw_to_cnhw_f32(dyc, dout, B, C, HW);
    }
    const float *x = cm ? xc : inp, *dy = cm ? dyc : dout;
    const int bb = cm ? 1 : B, hw = cm ? B * HW : HW; // x [bb, C, hw]
    // xhat as the CPU forward computes it: (x - mean) * invstd, two float operations (norm_tmpl.h)
    for (int b = 0; b < bb; b++)
        for (int c = 0; c < C; c++) {
            const int64_t off = ((int64_t)b * C + c) * hw;
            const float m = save_mean[c], sd = save_invstd[c];
            for (int j = 0; j < hw; j++) xhat[off + j] = (x[off + j] - m) * sd;
        }
    hp_bn_backward_f32(cm ? dxc : dinp, dweight, dbias, dy, xhat, save_invstd, weight, bb, C, hw);
    if (cm) hp_cnhw_to_nchw_f32(dinp, dxc, B, C, HW);
    return emul_op_end(&o_, 0);
}

/* ---- pools ------------------------------------------------------------------------------------ */

static int pool_check(emul_op *o, int64_t P, const hp_pool_geom *g) {
    if (P <= 0 || P > INT32_MAX) return emul_fail(o, "%lld planes: need 1 to 2^31 - 1", (long long)P);
    if (!g || g->H <= 0 || g->W <= 0 || g->k <= 0 || g->stride <= 0 || g->pad < 0 || g->Ho <= 0 || g->Wo <= 0)
        return emul_fail(o, "invalid pooling geometry: make it with hp_pool_geom_make");
    return 0;
}

int hp_gpu_pool_forward(hp_gpu_ctx *ctx, float *out, const float *inp, int64_t P, const struct hp_pool_geom *g,
                        int is_max, hp_err *err) {
    // out [P, Ho, Wo], inp [P, H, W]
    OP("hp_gpu_pool_forward");
    TRY(pool_check(&o_, P, g));
    const int64_t no = P * g->Ho * g->Wo, ni = P * g->H * g->W;
    USE(out, no); USE(inp, ni);
    TRY(emul_no_alias(&o_, "out", out, FLOATS(no), "inp", inp, FLOATS(ni)));
    int32_t *idx = is_max ? emul_grow(&o_, &ctx->pool_idx, (size_t)no * sizeof *idx, "max-pool index") : NULL;
    if (is_max && !idx) return -1;
    TRY(emul_op_open(&o_));
    if (is_max) hp_maxpool_forward_f32(out, idx, inp, P, g);
    else hp_avgpool_forward_f32(out, inp, P, g);
    return emul_op_end(&o_, 0);
}

int hp_gpu_pool_backward(hp_gpu_ctx *ctx, float *dinp, const float *dout, const float *out, const float *inp, int64_t P,
                         const struct hp_pool_geom *g, int is_max, hp_err *err) {
    // dinp, inp [P, H, W]; dout, out [P, Ho, Wo]
    OP("hp_gpu_pool_backward");
    TRY(pool_check(&o_, P, g));
    const int64_t no = P * g->Ho * g->Wo, ni = P * g->H * g->W;
    USE(dinp, ni); USE(dout, no);
    if (is_max) { // max pooling reads (inp, out) to find the winners
        USE(out, no); USE(inp, ni);
    } else { // avg pooling does not need them: checked when given
        USE_OPT(out, no); USE_OPT(inp, ni);
    }
    TRY(emul_no_alias(&o_, "dinp", dinp, FLOATS(ni), "dout", dout, FLOATS(no)));
    TRY(emul_no_alias(&o_, "dinp", dinp, FLOATS(ni), "out", out, FLOATS(no)));
    TRY(emul_no_alias(&o_, "dinp", dinp, FLOATS(ni), "inp", inp, FLOATS(ni)));
    float *rout = NULL;
    int32_t *idx = NULL;
    if (is_max && (!(rout = emul_grow(&o_, &ctx->pool_out, FLOATS(no), "max-pool output")) ||
                   !(idx = emul_grow(&o_, &ctx->pool_idx, (size_t)no * sizeof *idx, "max-pool index"))))
        return -1;
    TRY(emul_op_open(&o_));
    if (!is_max) {
        hp_avgpool_backward_f32(dinp, dout, P, g);
        return emul_op_end(&o_, 0);
    }
    // The argmax from inp; out must be the forward's output for this inp (cuDNN compares the two
    // to find the winners: after an in-place change of either, gradients land in wrong places).
    hp_maxpool_forward_f32(rout, idx, inp, P, g);
    if (memcmp(rout, out, FLOATS(no)) != 0)
        return emul_op_end(&o_, emul_fail(&o_, "'out' is not the max-pool forward's output for 'inp' (was either overwritten "
                                     "after the forward, e.g. by an in-place op?)"));
    hp_maxpool_backward_f32(dinp, dout, idx, P, g);
    return emul_op_end(&o_, 0);
}
