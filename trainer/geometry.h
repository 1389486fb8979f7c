/* geometry.h - the shape arithmetic of convolutions and pools, shared by the CPU kernels
 * (cpu/conv.h, cpu/pool.h), the model plan (model_plan.h) and the CUDA backend (cuda/).
 *
 * Sizes follow PyTorch (nn.Conv2d with groups 1 and dilation 1; nn.MaxPool2d and nn.AvgPool2d
 * with ceil_mode False): Ho = (H + 2*pad - k) / stride + 1 (floor), likewise Wo, zero padding
 * on each side. A geometry is made once, checked, and passed by pointer to every op on it.
 */
#ifndef HP_GEOMETRY_H
#define HP_GEOMETRY_H

typedef struct hp_conv_geom {
    int C, H, W;           /* input channels and plane size */
    int F, k, stride, pad; /* filters, square kernel, stride, zero padding on each side */
    int Ho, Wo;            /* output plane size */
    int G;                 /* images per block of the CPU kernel (cpu/conv.h); a function of the
                              shape alone; the CUDA backend ignores it */
} hp_conv_geom;

/* Fill g; returns -1 (g untouched) when the shape is invalid: a size <= 0, or a kernel larger
 * than the padded input (H + 2*pad < k or W + 2*pad < k). */
int hp_conv_geom_make(hp_conv_geom *g, int C, int H, int W, int F, int k, int stride, int pad);

typedef struct hp_pool_geom {
    int H, W;           /* input plane */
    int k, stride, pad; /* square window, stride, padding on each side */
    int Ho, Wo;         /* output plane */
} hp_pool_geom;

/* Fill g; returns -1 (g untouched) when invalid: a size <= 0, pad < 0, pad > k/2 (PyTorch's
 * rule: every window then holds at least one input value), or a window larger than the padded
 * input. */
int hp_pool_geom_make(hp_pool_geom *g, int H, int W, int k, int stride, int pad);

#endif
