/* gpu_emul_impl.h - inside the host emulation of cuda/gpu.h only (gpu_emul.c: the device-memory
 * registry, the context, memory and transfers; gpu_emul_ops.c: the layer and optimizer ops).
 *
 * An op declares itself with OP(name), checks each pointer argument with USE (it must lie in a
 * live device block for the bytes the op touches), opens the checked ranges (emul_op_open:
 * unpoisoned under ASan), runs the CPU kernel and closes them again (emul_op_end). */
#ifndef HP_CUDA_GPU_EMUL_IMPL_H
#define HP_CUDA_GPU_EMUL_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "cuda/cudnn_rules.h"
#include "cuda/gpu.h"
#include "gpu_emul/gpu_emul.h"

#if defined(__SANITIZE_ADDRESS__)
#include <sanitizer/asan_interface.h>
#define POISON(p, n) ASAN_POISON_MEMORY_REGION((p), (n))
#define UNPOISON(p, n) ASAN_UNPOISON_MEMORY_REGION((p), (n))
#else
#define POISON(p, n) ((void)(p), (void)(n))
#define UNPOISON(p, n) ((void)(p), (void)(n))
#endif

#define EMUL_MAX_USES 12     /* argument ranges one op may touch */

/* One op: its name, error sink and the checked argument ranges (unpoisoned while it runs). */
typedef struct emul_op {
    const char *fn;
    hp_err *err;
    const void *use[EMUL_MAX_USES];
    size_t use_bytes[EMUL_MAX_USES];
    int nuse;
} emul_op;

/* "gpu emulation: FN: message"; returns -1. */
__attribute__((format(printf, 2, 3))) int emul_fail(emul_op *o, const char *fmt, ...);
/* p [bytes] must lie inside one live block, aligned to `align`; NULL only when bytes == 0. */
int emul_use(emul_op *o, const char *arg, const void *p, size_t bytes, size_t align);
/* Open the op's checked ranges (ASan: unpoison); 0. */
int emul_op_open(emul_op *o);
/* Close them again; returns rc. */
int emul_op_end(emul_op *o, int rc);
/* Refuse overlapping [a, a+na) and [b, b+nb). */
int emul_no_alias(emul_op *o, const char *an, const void *a, size_t na, const char *bn, const void *b, size_t nb);
/* Refuse counts the real 32-bit kernels cannot index. */
int emul_check_n(emul_op *o, int64_t n, const char *what);
/* Bytes from p to the end of the live block it points into (0 outside any), and the block's name
 * (what [len]; "?" outside any). */
size_t emul_left(const void *p, char *what, size_t len);

/* OP declares the op and refuses a NULL context; USE/USE_OPT check a typed argument of n elements. */
#define OP(name)                                                                                           \
    emul_op o_ = {name, err, {0}, {0}, 0};                                                                 \
    if (!ctx) return emul_fail(&o_, "the context is NULL: call hp_gpu_ctx_create first")
#define TRY(call) do { if ((call) != 0) return -1; } while (0)
#define USE(p, n) TRY(emul_use(&o_, #p, (p), (size_t)(n) * sizeof *(p), sizeof *(p)))
#define USE_OPT(p, n) do { if (p) USE(p, n); } while (0)
#define FLOATS(n) ((size_t)(n) * sizeof(float))

/* ---- the context: scratch that only grows ---- */

typedef struct emul_buf { void *p; size_t cap; } emul_buf; /* a scratch buffer of cap bytes */

struct hp_gpu_ctx {
    hp_gpu_opts opts;
    hp_gpu_layout layout; /* how image tensors are laid out and described to "cuDNN": HP_GPU_ACT_LAYOUT
                             unless a test asks for another (hp_gpu_emul_set_layout) */
    emul_buf conv_work; /* hp_conv_work_size(g, B, 1) floats */
    emul_buf chw[3];    /* conv, batch norm, dropout over NCHW: operands in the CPU's channel-major order */
    emul_buf xhat;      /* batch norm: [B, C, HW] */
    emul_buf pool_out;  /* max-pool backward: the recomputed out [P, Ho, Wo] */
    emul_buf pool_idx;  /* and its argmax [P, Ho, Wo] */
    emul_buf aug;       /* gather: one example [C, H, W] */
    emul_buf moments;   /* optimizers: two [n] blocks made adjacent */
};

/* b grown to at least `bytes` (never per call once large enough); NULL and an error if out of memory. */
void *emul_grow(emul_op *o, emul_buf *b, size_t bytes, const char *what);

#endif
