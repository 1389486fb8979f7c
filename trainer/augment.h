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

/* 1 if the spec changes anything. */
int hp_augment_active(const hp_augment_spec *spec);

/* Augment x [B, C, H, W] in place. `scratch` holds at least C*H*W floats. */
void hp_augment_batch(const hp_augment_spec *spec, float *x, int B, int C, int H, int W, hp_rng *rng,
                      float *scratch);

#endif
