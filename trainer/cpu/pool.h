/* pool.h - CPU pooling (nn.MaxPool2d, nn.AvgPool2d, global average pooling) and the layout
 * changes between PyTorch's NCHW and the channel-major CNHW of conv.h, float and double.
 *
 * Pools treat every [H, W] plane alike, so they take P = C*B planes in whatever order the
 * caller keeps them (the model: [C, B, H, W]). PyTorch's definitions (ceil_mode False):
 *   Ho = (H + 2*pad - k) / stride + 1  (floor), pad <= k/2 (PyTorch's rule: every window then
 *   holds at least one input value), and likewise for W.
 *   max: padding counts as -inf; out = max over the window; NaN wins (propagates); among equal
 *        maxima the first in row-major order wins; idx = the winner's h*W + w in its plane;
 *        backward adds dout to the winner (overlapping windows accumulate).
 *   avg: count_include_pad=True (PyTorch's default): out = sum over the window's input values
 *        / (k*k), padding counting as zeros; backward spreads dout/(k*k) over the window.
 *   global average: out [P] = mean of each plane [H*W] (accumulated in double).
 * Every backward OVERWRITES dinp (never accumulates into it). Planes are split between OpenMP
 * threads; each plane's values are computed by one thread in one fixed order, so results do
 * not depend on the thread count.
 *
 * Layout changes (HW = H*W):
 *   hp_nchw_to_cnhw: out [C, B, HW] from inp [B, C, HW]   (model input, flatten backward)
 *   hp_cnhw_to_nchw: out [B, C, HW] from inp [C, B, HW]   (flatten forward: [B, C*H*W] rows)
 */
#ifndef HP_CPU_POOL_H
#define HP_CPU_POOL_H

#include <stdint.h>

#include "geometry.h" /* hp_pool_geom, hp_pool_geom_make */

/* maxpool_forward:  out [P, Ho, Wo]; idx [P, Ho, Wo] (argmax within the plane); inp [P, H, W].
 * maxpool_backward: dinp [P, H, W]; dout, idx [P, Ho, Wo].
 * avgpool_forward:  out [P, Ho, Wo]; inp [P, H, W].   avgpool_backward: dinp [P, H, W]; dout.
 * gap_forward:      out [P]; inp [P, HW].             gap_backward: dinp [P, HW]; dout [P]. */
#define HP_POOL_DECLARE(REAL, SFX)                                                                         \
    void hp_maxpool_forward_##SFX(REAL *out, int32_t *idx, const REAL *inp, int64_t P, const hp_pool_geom *g); \
    void hp_maxpool_backward_##SFX(REAL *dinp, const REAL *dout, const int32_t *idx, int64_t P,             \
                                   const hp_pool_geom *g);                                                  \
    void hp_avgpool_forward_##SFX(REAL *out, const REAL *inp, int64_t P, const hp_pool_geom *g);           \
    void hp_avgpool_backward_##SFX(REAL *dinp, const REAL *dout, int64_t P, const hp_pool_geom *g);        \
    void hp_gap_forward_##SFX(REAL *out, const REAL *inp, int64_t P, int64_t HW);                          \
    void hp_gap_backward_##SFX(REAL *dinp, const REAL *dout, int64_t P, int64_t HW);                       \
    void hp_nchw_to_cnhw_##SFX(REAL *out, const REAL *inp, int B, int C, int64_t HW);                      \
    void hp_cnhw_to_nchw_##SFX(REAL *out, const REAL *inp, int B, int C, int64_t HW);

HP_POOL_DECLARE(float, f32)
HP_POOL_DECLARE(double, f64)

#undef HP_POOL_DECLARE

#endif
