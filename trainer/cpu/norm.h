/* norm.h - CPU batch normalisation (nn.BatchNorm1d / nn.BatchNorm2d), float and double.
 *
 * Forward/backward functions over caller-owned arrays, outputs first, in the style of llm.c;
 * nothing here allocates. Every function exists in float (_f32) and double (_f64), compiled from
 * one source, norm_tmpl.h. Layout NCHW with HW = H*W: inp [B, C, HW]; the statistics of channel
 * c are over its n = B*HW values. A dense layer's output is C = features, HW = 1.
 *
 * Formulas (Ioffe and Szegedy, 2015; PyTorch's conventions):
 *   mean_c   = (1/n) sum x                          var_c = (1/n) sum (x - mean_c)^2  (biased)
 *   invstd_c = 1 / sqrt(var_c + eps)                xhat  = (x - mean_c) * invstd_c
 *   out      = xhat * weight_c + bias_c
 *   running_mean = (1 - momentum) * running_mean + momentum * mean_c
 *   running_var  = (1 - momentum) * running_var  + momentum * var_c * n / (n - 1)  (unbiased)
 * Evaluation normalises with the running statistics instead:
 *   out = (x - running_mean_c) / sqrt(running_var_c + eps) * weight_c + bias_c
 * Backward (training mode, statistics depend on the batch), with g = dout * weight_c:
 *   dbias_c   = sum dout                            dweight_c = sum dout * xhat
 *   dinp      = invstd_c * (g - mean(g) - xhat * mean(g * xhat))
 *             = weight_c * invstd_c / n * (n * dout - dbias_c - xhat * dweight_c)
 *
 * Statistics are accumulated in double in both precisions, in a fixed order (so results never
 * depend on thread count), from one pass over the data shifted by the channel's first value
 * (the "shifted data" variance, robust to a large mean); mean and invstd are rounded to REAL
 * only when stored.
 *
 * hp_bn_forward_train:  out, xhat [B, C, HW]; mean, invstd [C] (saved for backward);
 *                       running_mean, running_var [C] updated in place (either may be NULL: not
 *                       updated); inp [B, C, HW]; weight, bias [C] or NULL (affine off: weight 1,
 *                       bias 0). In place: out may be inp, and xhat may be inp, but out != xhat.
 *                       n = 1 (B = 1 and HW = 1): PyTorch refuses to train on it ("expected more
 *                       than 1 value per channel"); here var = 0, xhat = 0, out = bias, and
 *                       running_var is left unchanged (n/(n-1) is undefined; one value says nothing
 *                       about the spread) while running_mean is updated. B = 1 with HW > 1 is an
 *                       ordinary case (statistics over the HW positions of the one example).
 * hp_bn_forward_eval:   out [B, C, HW]; inp [B, C, HW]; weight, bias [C] or NULL;
 *                       running_mean, running_var [C]. out may be inp.
 * hp_bn_backward:       dinp [B, C, HW] (NULL: not computed); dweight, dbias [C] OVERWRITTEN, not
 *                       accumulated (NULL: not stored, e.g. affine off); dout, xhat [B, C, HW];
 *                       invstd [C] from forward_train; weight [C] or NULL (affine off).
 *                       In place: dinp may be dout or xhat.
 */
#ifndef HP_CPU_NORM_H
#define HP_CPU_NORM_H

#define HP_NORM_DECLARE(REAL, SFX)                                                                          \
    void hp_bn_forward_train_##SFX(REAL *out, REAL *xhat, REAL *mean, REAL *invstd, REAL *running_mean,     \
                                   REAL *running_var, const REAL *inp, const REAL *weight, const REAL *bias, \
                                   int B, int C, int HW, double momentum, double eps);                      \
    void hp_bn_forward_eval_##SFX(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias,          \
                                  const REAL *running_mean, const REAL *running_var, int B, int C, int HW,  \
                                  double eps);                                                              \
    void hp_bn_backward_##SFX(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *xhat,     \
                              const REAL *invstd, const REAL *weight, int B, int C, int HW);

HP_NORM_DECLARE(float, f32)
HP_NORM_DECLARE(double, f64)

#undef HP_NORM_DECLARE

#endif
