/* augment.h - data augmentation of a training batch, in place, from a counter-based stream.
 *
 * Applied to the gathered batch [B, C, H, W] after standardisation, in training only (never
 * to validation or test data). Every random choice comes from the stream the caller passes,
 * so an epoch's augmentation is a pure function of (trial seed, epoch).
 */
#ifndef HP_AUGMENT_H
#define HP_AUGMENT_H

#include <stdint.h>

#include "rng.h"

typedef struct hp_augment_spec {
    int flip;          /* 1: horizontal flip with probability 1/2 */
    int shift;         /* > 0: pad by `shift` pixels (zeros: the standardised mean) and crop back to
                          H x W at a uniformly random offset in [-shift, shift]^2 */
    int cutout;        /* > 0: zero a cutout x cutout square at a uniformly random centre (clipped at
                          the borders), as DeVries & Taylor (2017) */
    double mixup;      /* > 0: mixup alpha; 0 = off (the loss side is in the trainer) */
} hp_augment_spec;

/* 1 if the spec changes anything (mixup included; hp_augment_batch itself ignores mixup). */
int hp_augment_active(const hp_augment_spec *spec);

/* Augment x [B, C, H, W] in place. `scratch` holds at least C*H*W floats.
 *
 * Per example, in this order: flip, then shift, then cutout, i.e. with (dy, dx) the drawn
 * offset and W' = W - 1 - (x + dx) when flipped, x + dx otherwise,
 *     out[c][y][x] = in[c][y + dy][W']     (0 where y + dy or W' falls outside the image)
 * and then out[c][y][x] = 0 for y in [cy - s/2, cy - s/2 + s), x in [cx - s/2, cx - s/2 + s),
 * clipped to the image (s = cutout; s/2 rounds down). (dy, dx) is where the H x W crop window
 * of the zero-padded image sits relative to the unshifted one, as torchvision's
 * RandomCrop(padding = shift): image content moves by (-dy, -dx).
 *
 * Draws: exactly HP_AUGMENT_DRAWS raw 64-bit draws per example, taken from the stream in
 * example order, whatever the spec enables (an unused draw is still consumed, so enabling
 * cutout never changes which examples are flipped): see hp_augment_sample. The stream's
 * counter therefore advances by exactly HP_AUGMENT_DRAWS * B, even for an inactive spec, which
 * leaves x untouched. Cost: at most one copy of each image into scratch and one gather back
 * (about 1.5 us per 3x32x32 image with flip and shift, measured). */
void hp_augment_batch(const hp_augment_spec *spec, float *x, int B, int C, int H, int W, hp_rng *rng,
                      float *scratch);

/* ---- one example at a time (hp_augment_batch is a loop over these; exposed for tests) ---- */

#define HP_AUGMENT_DRAWS 5

/* The random choices for one example. */
typedef struct hp_augment_draw {
    int flip;   /* 1: mirror left-right (spec->flip and a fair coin) */
    int dy, dx; /* crop offset, each uniform in [-shift, shift] (0 when shift is off) */
    int cy, cx; /* cutout centre, uniform in [0, H) x [0, W) (0 when cutout is off) */
} hp_augment_draw;

/* Take the HP_AUGMENT_DRAWS draws of one example, in this fixed order:
 *   u0: flip   = top bit of u0
 *   u1: dy     = floor(u1 * (2*shift + 1) / 2^64) - shift
 *   u2: dx     = the same with u2
 *   u3: cy     = floor(u3 * H / 2^64)
 *   u4: cx     = floor(u4 * W / 2^64)
 * (multiply-high maps to [0, n) with a bias below n / 2^64, negligible here, and keeps the
 * number of draws fixed, unlike rejection sampling). Fields of disabled augmentations are 0. */
void hp_augment_sample(const hp_augment_spec *spec, int H, int W, hp_rng *rng, hp_augment_draw *d);

/* Apply one example's draws to x [C, H, W] in place. `scratch` holds at least C*H*W floats. */
void hp_augment_example(const hp_augment_spec *spec, const hp_augment_draw *d, float *x, int C, int H,
                        int W, float *scratch);

/* ---- mixup (Zhang et al. 2018) ----
 *
 * The trainer calls hp_mixup_batch on the gathered (and augmented) batch when spec.mixup > 0.
 * It mixes every example with another one of the same batch:
 *     x[i] <- lambda * x[i] + (1 - lambda) * x[perm[i]],   lambda ~ Beta(alpha, alpha)
 * computed in float as lf * a + mf * b with lf = (float)lambda, mf = (float)(1 - lambda), one
 * lambda and one permutation per batch. The loss then becomes
 *     lambda * CE(logits, y) + (1 - lambda) * CE(logits, y[perm])
 * whose gradient with respect to the logits is softmax(logits) - (lambda * onehot(y) +
 * (1 - lambda) * onehot(y[perm])), i.e. the usual cross-entropy gradient against a soft target.
 * Accuracy on a mixed batch is not meaningful; report training accuracy without mixup.
 */

/* Mix x [B, dim] in place as above. Draws, in order: lambda (hp_beta_sample(rng, alpha, alpha)),
 * then perm (identity shuffled by hp_rng_shuffle). Outputs perm [B] (a permutation of [0, B)) and
 * *lambda. alpha <= 0 (or NaN): no draws, lambda = 1, perm = identity, x unchanged; alpha = +inf:
 * lambda = 1/2 (the limit) without a lambda draw. Allocates
 * nothing: the permutation's cycles are followed in place with a small stack buffer. */
void hp_mixup_batch(float *x, int B, int64_t dim, double alpha, hp_rng *rng, int32_t *perm, double *lambda);

/* Gamma(shape, 1) by Marsaglia & Tsang (2000): for shape >= 1, d = shape - 1/3, c = 1/sqrt(9 d);
 * repeat: z ~ N(0,1) (hp_rng_normal), v = (1 + c z)^3, u ~ U(0,1), until v > 0 and
 * log u < z^2/2 + d - d v + d log v (squeeze: u < 1 - 0.0331 z^4); return d v. For shape < 1,
 * Gamma(shape) = Gamma(shape + 1) * U^(1/shape), with U drawn after the loop. shape > 0. */
double hp_gamma_sample(hp_rng *rng, double shape);

/* Beta(a, b) = X / (X + Y), X ~ Gamma(a) drawn first, then Y ~ Gamma(b); evaluated from the
 * logarithms of X and Y so that small shapes (X, Y underflowing to 0) still give a value in
 * [0, 1]. a, b > 0. */
double hp_beta_sample(hp_rng *rng, double a, double b);

#endif
