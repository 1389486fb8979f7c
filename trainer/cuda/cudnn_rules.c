/* cudnn_rules.c - see cudnn_rules.h: descriptors of the device layout and the measured cuDNN
 * support matrix. */
#include "cuda/cudnn_rules.h"

void hp_tdesc_make(hp_tdesc *d, hp_gpu_layout l, int n, int c, int h, int w) {
    d->n = n, d->c = c, d->h = h, d->w = w;
    switch (l) {
    case HP_GPU_LAYOUT_NHWC: d->sn = h * w * c, d->sc = 1, d->sh = w * c, d->sw = c; break;
    case HP_GPU_LAYOUT_CNHW: d->sn = h * w, d->sc = n * h * w, d->sh = w, d->sw = 1; break;
    case HP_GPU_LAYOUT_NCHW:
    default: d->sn = c * h * w, d->sc = h * w, d->sh = w, d->sw = 1; break;
    }
}

/* Does dimension (extent, stride) match the wanted stride? Extent 1 matches any. */
static int dim_ok(int extent, int stride, int want) { return extent == 1 || stride == want; }

static int packed_nchw(const hp_tdesc *d) {
    return dim_ok(d->w, d->sw, 1) && dim_ok(d->h, d->sh, d->w) && dim_ok(d->c, d->sc, d->h * d->w) &&
           dim_ok(d->n, d->sn, d->c * d->h * d->w);
}
static int packed_nhwc(const hp_tdesc *d) {
    return dim_ok(d->c, d->sc, 1) && dim_ok(d->w, d->sw, d->c) && dim_ok(d->h, d->sh, d->w * d->c) &&
           dim_ok(d->n, d->sn, d->h * d->w * d->c);
}

hp_tdesc_kind hp_tdesc_classify(const hp_tdesc *d) {
    if (packed_nchw(d)) return HP_TDESC_PACKED_NCHW; /* C = 1 (or H = W = 1): also packed NHWC */
    if (packed_nhwc(d)) return HP_TDESC_PACKED_NHWC;
    return HP_TDESC_STRIDED;
}

const char *hp_tdesc_kind_name(hp_tdesc_kind k) {
    switch (k) {
    case HP_TDESC_PACKED_NCHW: return "packed NCHW";
    case HP_TDESC_PACKED_NHWC: return "packed NHWC";
    case HP_TDESC_STRIDED: break;
    }
    return "strided (not packed)";
}

void hp_conv_tdescs(hp_gpu_layout l, int B, const hp_conv_geom *g, hp_tdesc *x, hp_tdesc *y) {
    hp_tdesc_make(x, l, B, g->C, g->H, g->W);
    hp_tdesc_make(y, l, B, g->F, g->Ho, g->Wo);
}

const char *hp_conv_dir_name(hp_conv_dir d) {
    switch (d) {
    case HP_CONV_FWD: return "forward";
    case HP_CONV_BWD_DATA: return "backward data";
    case HP_CONV_BWD_FILTER: break;
    }
    return "backward filter";
}

/* The measured matrix (cudnn_rules.h), in the order the heuristics listed them on the H200. */
typedef struct algo_row {
    int n;
    hp_cudnn_algo a[8];
} algo_row;
static const algo_row NCHW_ROWS[3] = {
    {6, {{1, 1}, {0, 1}, {4, 1}, {2, 1}, {5, 1}, {7, 1}}},  /* forward */
    {5, {{0, 0}, {1, 1}, {3, 1}, {2, 1}, {5, 1}}},          /* backward data */
    {5, {{0, 0}, {3, 0}, {2, 1}, {1, 1}, {5, 1}}},          /* backward filter */
};
static const algo_row NHWC_ROWS[3] = {
    {2, {{1, 1}, {0, 1}}},
    {2, {{1, 1}, {0, 0}}},
    {2, {{0, 0}, {1, 1}}},
};
static const algo_row STRIDED_FWD = {4, {{1, 1}, {0, 1}, {2, 1}, {7, 1}}};
static const algo_row STRIDED_BWD_FILTER_PACKED_X = {4, {{3, 0}, {1, 1}, {5, 1}, {0, 0}}};

int hp_cudnn_conv_algos(hp_conv_dir d, const hp_tdesc *x, const hp_tdesc *y, hp_cudnn_algo *out, int max) {
    const algo_row *row = NULL;
    if (packed_nchw(x) && packed_nchw(y)) row = &NCHW_ROWS[d];
    else if (packed_nhwc(x) && packed_nhwc(y)) row = &NHWC_ROWS[d]; /* a C = 1 x is both */
    else if (d == HP_CONV_FWD) row = &STRIDED_FWD; /* forward ran on any strides */
    else if (d == HP_CONV_BWD_FILTER && packed_nchw(x)) row = &STRIDED_BWD_FILTER_PACKED_X;
    /* else: backward data over strided tensors, backward filter from a strided x: none */
    int n = 0;
    for (int i = 0; row && i < row->n && n < max; i++) out[n++] = row->a[i];
    return n;
}

int hp_conv_nofit(hp_err *err, hp_conv_dir d, int B, const hp_conv_geom *g, const hp_tdesc *x, int deterministic,
                  size_t workspace_max) {
    return hp_errf(err,
                   "no cuDNN convolution algorithm fits for %s (B %d, C %d, %dx%d, F %d, k %d, stride %d, pad %d; "
                   "activations %s, strides n %d c %d h %d w %d; deterministic %d, workspace limit %zu bytes): "
                   "cuDNN offers none for this layout and mode; set cuda: {deterministic: false} in the spec, or "
                   "use device: cpu; with packed NCHW activations this means this cuDNN differs from the support "
                   "matrix measured on a GPU (trainer/cuda/cudnn_rules.h): report it with the cuDNN version",
                   hp_conv_dir_name(d), B, g->C, g->H, g->W, g->F, g->k, g->stride, g->pad,
                   hp_tdesc_kind_name(hp_tdesc_classify(x)), x->sn, x->sc, x->sh, x->sw, deterministic, workspace_max);
}

int hp_cudnn_conv_pick(hp_conv_dir d, const hp_tdesc *x, const hp_tdesc *y, int deterministic, int B,
                       const hp_conv_geom *g, size_t workspace_max, int *algo, hp_err *err) {
    hp_cudnn_algo a[8];
    const int n = hp_cudnn_conv_algos(d, x, y, a, 8);
    for (int i = 0; i < n; i++)
        if (!deterministic || a[i].deterministic) {
            *algo = a[i].algo;
            return 0;
        }
    return hp_conv_nofit(err, d, B, g, x, deterministic, workspace_max);
}
