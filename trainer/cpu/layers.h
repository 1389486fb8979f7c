/* layers.h - CPU layers (OpenBLAS): dense, ReLU, softmax cross-entropy.
 *
 * Each layer is a forward/backward pair of plain functions over caller-owned arrays,
 * outputs first, in the style of llm.c; nothing here allocates. Every function exists in
 * float (suffix _f32, used for training) and double (suffix _f64, used for gradient checks),
 * compiled from one source, layers_tmpl.h.
 *
 * Shapes (row-major): B examples, n_in input and n_out output features, C classes.
 *   dense: out [B, n_out] = inp [B, n_in] @ weight [n_out, n_in]^T + bias [n_out]  (nn.Linear)
 *   relu:  out = max(inp, 0)
 *   xent:  loss_b = logsumexp(logits_b) - logits_b[y_b]          (softmax cross-entropy)
 *
 * Backward functions OVERWRITE their gradient outputs (they never accumulate), so no
 * gradient buffer needs to be zeroed before a step.
 *
 * dense_forward:   out [B, n_out]; inp [B, n_in]; weight [n_out, n_in]; bias [n_out] or NULL (none).
 *                  relu != 0 fuses a ReLU after the bias add (same pass).
 * dense_backward:  dinp [B, n_in] (NULL: not computed, e.g. for the first layer);
 *                  dweight [n_out, n_in]; dbias [n_out] (NULL: no bias); dout [B, n_out]; inp [B, n_in];
 *                  weight [n_out, n_in].
 * relu_forward:    out [n] = max(inp [n], 0); NaN propagates as in torch.relu; out may be inp.
 * relu_backward:   dinp [n] = dout [n] where out [n] > 0, else 0 (the subgradient PyTorch
 *                  takes at 0); dinp may be dout (an in-place mask).
 * xent_forward:    probs [B, C] = softmax(logits [B, C]); losses [B] = -log probs[b, y[b]],
 *                  from a max-shifted log-sum-exp. Returns how many argmax(logits[b]) == y[b]
 *                  (the first maximum wins). probs may be logits.
 * xent_backward:   dlogits [B, C] = dloss * (probs - onehot(y)), dloss = d(total)/d(loss_b),
 *                  e.g. 1/B for the batch mean. dlogits may be probs.
 */
#ifndef HP_CPU_LAYERS_H
#define HP_CPU_LAYERS_H

#include <stdint.h>

#define HP_LAYERS_DECLARE(REAL, SFX)                                                                        \
    void hp_dense_forward_##SFX(REAL *out, const REAL *inp, const REAL *weight, const REAL *bias, int B,    \
                                int n_in, int n_out, int relu);                                             \
    void hp_dense_backward_##SFX(REAL *dinp, REAL *dweight, REAL *dbias, const REAL *dout, const REAL *inp, \
                                 const REAL *weight, int B, int n_in, int n_out);                           \
    void hp_relu_forward_##SFX(REAL *out, const REAL *inp, int64_t n);                                      \
    void hp_relu_backward_##SFX(REAL *dinp, const REAL *dout, const REAL *out, int64_t n);                  \
    int64_t hp_xent_forward_##SFX(REAL *probs, REAL *losses, const REAL *logits, const int32_t *y, int B,   \
                                  int C);                                                                   \
    void hp_xent_backward_##SFX(REAL *dlogits, const REAL *probs, const int32_t *y, REAL dloss, int B, int C);

HP_LAYERS_DECLARE(float, f32)
HP_LAYERS_DECLARE(double, f64)

#undef HP_LAYERS_DECLARE

#endif
