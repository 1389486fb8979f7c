/* dropout.h - CPU inverted dropout (nn.Dropout in training mode), float and double.
 *
 * A forward/backward pair over caller-owned arrays of n values, outputs first; nothing here
 * allocates. Both precisions are compiled from one source, dropout_tmpl.h.
 *
 * The draw (reproducible from the key alone, in any order or split): element i uses the i-th
 * draw of the stream hp_rng_make(key), i.e. u_i = (hp_rng_at(key, i) >> 11) * 2^-53, the value
 * hp_rng_uniform returns on its (i+1)-th call, and
 *     mask[i] = (u_i >= p)        (kept with probability 1 - p)
 *     out[i]  = inp[i] * (mask[i] ? scale : 0),   scale = 1 / (1 - p) rounded to REAL
 * (a multiply, as PyTorch's input * noise: a dropped NaN/Inf input still gives NaN, so that a
 * diverging trial stays visible). The comparison is done exactly on the 53-bit integer
 * (u_i >= p  <=>  bits >= ceil(p * 2^53), p * 2^53 being exact).
 * The caller derives a fresh key per step and layer (e.g. hp_key3(trial_seed, HP_STREAM_DROPOUT,
 * step * HP_MAX_LAYERS + layer)); the same key gives the same mask.
 * p = 0 is the identity (all kept, scale 1, out = inp exactly); a negative or NaN p is treated as
 * 0. p >= 1 drops everything (out = inp * 0, as PyTorch does for p = 1). Evaluation mode is the
 * identity and needs no call.
 *
 * hp_dropout_forward:  out [n]; mask [n] (1 = kept, 0 = dropped); inp [n]. out may be inp.
 * hp_dropout_backward: dinp [n] = dout [n] * mask [n] * scale, with the forward's p. dinp may be dout.
 */
#ifndef HP_CPU_DROPOUT_H
#define HP_CPU_DROPOUT_H

#include <stdint.h>

#define HP_DROPOUT_DECLARE(REAL, SFX)                                                                       \
    void hp_dropout_forward_##SFX(REAL *out, uint8_t *mask, const REAL *inp, int64_t n, double p,            \
                                  uint64_t key);                                                            \
    void hp_dropout_backward_##SFX(REAL *dinp, const REAL *dout, const uint8_t *mask, int64_t n, double p);

HP_DROPOUT_DECLARE(float, f32)
HP_DROPOUT_DECLARE(double, f64)

#undef HP_DROPOUT_DECLARE

#endif
