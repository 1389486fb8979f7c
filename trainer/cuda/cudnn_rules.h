/* cudnn_rules.h - how the CUDA backend lays out image tensors for cuDNN, and what cuDNN accepts.
 *
 * One owner for two facts that must not drift apart:
 *   1. The device layout of image activations (HP_GPU_ACT_LAYOUT: packed NCHW, PyTorch's) and
 *      the 4-d descriptors (dims and strides, as cudnnSetTensor4dDescriptorEx takes them) that
 *      the real backend builds for a convolution (hp_conv_tdescs). gpu_conv.cu sets exactly these.
 *   2. The support matrix measured on a real GPU (an H200, cuDNN 9.19, CUDA 13: a probe of
 *      the _v7 heuristics per layout and math type, its output in
 *      docs/measured/cudnn-probe-h200.txt): which convolution algorithms
 *      cudnnGetConvolution*Algorithm_v7 reported with CUDNN_STATUS_SUCCESS for which layouts,
 *      and whether each is deterministic. The host emulation of gpu.h (trainer/gpu_emul/gpu_emul_ops.c) picks
 *      from this matrix for the descriptors of (1) exactly as gpu_conv.cu picks from the real
 *      heuristics, so a layout cuDNN refuses fails in CI as it fails on the GPU.
 *
 * The measured facts (FMA and default math alike; 1x28x28 -> 32 and 32x14x14 -> 64, k3 p1):
 *   packed NCHW    forward 0 1 2 4 5 7, backward data 1 2 3 5 (+0 non-det),
 *                  backward filter 1 2 5 (+0 3 non-det): every direction has deterministic ones
 *   packed NHWC    forward 0 1, backward data 1 (+0 non-det), backward filter 1 (+0 non-det)
 *   strided (CNHW  forward 0 1 2 7; backward data NONE (neither determinism, any math);
 *   as strides)    backward filter only while x is packed (C = 1: 1 5, +0 3 non-det), NONE for
 *                  a strided x (C = 32)
 * A dimension of extent 1 has no stride that matters (a [B, 1, H, W] tensor is packed NCHW
 * whatever its c-stride), as in cuDNN. Combinations the probe did not try (a packed x with a
 * differently packed y, strided y under backward data with a packed x of C > 1, TF32 tensor-op
 * math) are refused: the emulation allows only what was seen to work.
 */
#ifndef HP_CUDA_CUDNN_RULES_H
#define HP_CUDA_CUDNN_RULES_H

#include <stddef.h>

#include "geometry.h"
#include "hp_err.h"

/* Memory orders of an image tensor of logical shape (n, c, h, w). */
typedef enum hp_gpu_layout {
    HP_GPU_LAYOUT_NCHW, /* packed [n, c, h, w]: the device layout */
    HP_GPU_LAYOUT_NHWC, /* packed [n, h, w, c] */
    HP_GPU_LAYOUT_CNHW, /* [c, n, h, w] described by strides: the CPU's order, which cuDNN cannot
                           run backward (kept to describe, test and refuse it) */
} hp_gpu_layout;

/* The layout of image activations in device memory: what gpu.h's conv, batch norm, pool,
 * dropout and global pool ops take, and what gpu_model.c keeps. */
#define HP_GPU_ACT_LAYOUT HP_GPU_LAYOUT_NCHW

/* A 4-d tensor descriptor: logical dims (n, c, h, w) and the stride of each, in elements. */
typedef struct hp_tdesc {
    int n, c, h, w;
    int sn, sc, sh, sw;
} hp_tdesc;

typedef enum hp_tdesc_kind { HP_TDESC_PACKED_NCHW, HP_TDESC_PACKED_NHWC, HP_TDESC_STRIDED } hp_tdesc_kind;

/* d describes a tensor of dims (n, c, h, w) stored in layout l. */
void hp_tdesc_make(hp_tdesc *d, hp_gpu_layout l, int n, int c, int h, int w);
/* What memory order d's strides give (extent-1 dimensions' strides ignored; a tensor that is
 * packed both ways, e.g. C = 1, is reported as packed NCHW). */
hp_tdesc_kind hp_tdesc_classify(const hp_tdesc *d);
const char *hp_tdesc_kind_name(hp_tdesc_kind k);

/* The input x [B, C, H, W] and output y [B, F, Ho, Wo] descriptors of a convolution in layout l. */
void hp_conv_tdescs(hp_gpu_layout l, int B, const hp_conv_geom *g, hp_tdesc *x, hp_tdesc *y);

typedef enum hp_conv_dir { HP_CONV_FWD, HP_CONV_BWD_DATA, HP_CONV_BWD_FILTER } hp_conv_dir;
const char *hp_conv_dir_name(hp_conv_dir d); /* "forward", "backward data", "backward filter" */

/* One algorithm cuDNN offers: its cudnnConvolution*Algo_t value and determinism. */
typedef struct hp_cudnn_algo {
    int algo;
    int deterministic;
} hp_cudnn_algo;

/* The algorithms the measured matrix says cuDNN offers for direction d over x and y (y: the
 * output of the forward pass), at most max of them into out; returns how many (0: none). */
int hp_cudnn_conv_algos(hp_conv_dir d, const hp_tdesc *x, const hp_tdesc *y, hp_cudnn_algo *out, int max);

/* The backend's choice rule over the emulated matrix: the first algorithm offered, deterministic
 * ones only when `deterministic`. 0 with *algo set, or -1 with hp_conv_nofit's message. */
int hp_cudnn_conv_pick(hp_conv_dir d, const hp_tdesc *x, const hp_tdesc *y, int deterministic, int B,
                       const hp_conv_geom *g, size_t workspace_max, int *algo, hp_err *err);

/* The one message for "cuDNN offers no algorithm" (gpu_conv.cu and the emulation): names the
 * direction, the shape, the layout and the fix; returns -1. */
int hp_conv_nofit(hp_err *err, hp_conv_dir d, int B, const hp_conv_geom *g, const hp_tdesc *x,
                  int deterministic, size_t workspace_max);

#endif
