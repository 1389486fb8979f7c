/* conv.h - CPU 2-D convolution (nn.Conv2d, groups 1, dilation 1), float and double.
 *
 * Layout: channel-major, [C, B, H, W] ("CNHW"): the planes of one channel for the whole batch
 * are contiguous. In this layout a convolution over a block of images is ONE matrix product
 * whose output lands in place (no transposes), batch-norm statistics of a channel are one
 * contiguous run, and pools work plane by plane. The model keeps its spatial activations in
 * this layout and transposes only where PyTorch's NCHW order is visible (the model input when
 * c > 1 and flattening into a dense layer); see pool.h for those transposes.
 *
 * Method (im2col + GEMM, Chellapilla et al. 2006): the batch is cut into blocks of g->G images
 * (G depends on the shape only). For block j with nb images starting at b0:
 *   col [C*k*k, nb*Ho*Wo] = im2col(inp block)          row (c*k + ki)*k + kj, column
 *                                                      (b - b0)*Ho*Wo + oh*Wo + ow
 *   out [F, block] = weight [F, C*k*k] @ col           (+ bias [F])
 *   dweight_q [F, C*k*k] += dout [F, block] @ col^T    (one partial per group q of consecutive
 *                                                      blocks, accumulated in block order)
 *   dcol = weight^T @ dout [F, block];  dinp block = col2im(dcol)
 *   dweight = sum over q of dweight_q (in group order), dbias = sum of dout per filter.
 * Blocks (forward) and groups (backward) run in parallel (OpenMP), each block's products
 * single-threaded in BLAS; the blocks, the groups (at most 32) and every reduction order are
 * functions of the shape alone, so results are bit-identical for any number of threads (the
 * property of gemm.h). A 1x1 kernel with stride 1 and no padding skips im2col (col is the
 * input itself); stride 1 with "same" padding (2*pad = k - 1) builds each column row as one
 * contiguous shifted copy of the plane.
 *
 * Sizes follow PyTorch: Ho = (H + 2*pad - k) / stride + 1 (floor), zero padding; the geometry
 * (hp_conv_geom: sizes and the block G) is geometry.h's.
 */
#ifndef HP_CPU_CONV_H
#define HP_CPU_CONV_H

#include <stdint.h>

#include "geometry.h" /* hp_conv_geom, hp_conv_geom_make */

/* Elements of the workspace forward and backward need for batches up to max_batch when up to
 * `nslots` threads run blocks at once (a column buffer per thread, a dweight partial per group). */
int64_t hp_conv_work_size(const hp_conv_geom *g, int max_batch, int nslots);

/* hp_conv_forward:  out [F, B, Ho, Wo]; inp [C, B, H, W]; weight [F, C, k, k]; bias [F] or NULL.
 * hp_conv_backward: dinp [C, B, H, W] (NULL: not computed); dweight [F, C, k, k] and dbias [F]
 *                   (NULL: no bias) OVERWRITTEN; dout [F, B, Ho, Wo]; inp, weight as forward.
 * work: hp_conv_work_size(g, >= B, nslots) elements; nslots as given there (threads beyond it
 * are not used). out/dinp must not alias any input. */
#define HP_CONV_DECLARE(REAL, SFX)                                                                        \
    void hp_conv_forward_##SFX(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias, int B,   \
                               const hp_conv_geom *g, REAL *work, int nslots);                            \
    void hp_conv_backward_##SFX(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *inp, \
                                const REAL *weight, int B, const hp_conv_geom *g, REAL *work, int nslots);

HP_CONV_DECLARE(float, f32)
HP_CONV_DECLARE(double, f64)

#undef HP_CONV_DECLARE

#endif
