/* gpu_emul.c - cuda/gpu.h emulated on the host with the CPU kernels (tests only: hp_trainer_emul):
 * the device-memory registry, the context, memory and transfers; the ops are in gpu_emul_ops.c.
 *
 * Runs the GPU trainer's host code (gpu_model.c, gpu_train.c) where no GPU exists, with the
 * checks a real GPU enforces by crashing or by computing garbage:
 *   - "Device" memory is registered in a table. Every pointer an op gets must lie, for all the
 *     bytes the op touches, inside ONE live block, aligned to its element; if not, the op
 *     returns -1 naming the argument (a host pointer, a buffer too small, a freed block).
 *   - Under AddressSanitizer (the CI's sanitizer build) device memory is poisoned between ops:
 *     host code that dereferences a device pointer gets an ASan report with its stack, as a GPU
 *     would fault. An op unpoisons exactly the argument ranges it checked while it runs (cheap:
 *     shadow bytes, no system call), so a kernel reading past its checked range is reported too.
 *   - New blocks hold 0xFF bytes: NaN as float and double, -1 as int32 (cudaMalloc: garbage).
 *   - Also refused: aliasing the op does not allow, a label or gather index out of range, a
 *     max-pool `out` that is not the forward's output for `inp`, a missing momentum buffer,
 *     an optimizer spec of another type, t < 1, and the real ops' own shape and eps checks. A bad hp_gpu_free (double
 *     free, host pointer) is reported by the next hp_gpu_sync/hp_gpu_download (sticky error).
 *   - Convolutions are held to cuDNN's rules: the descriptors the real backend builds for the
 *     device layout (cudnn_rules.h) must have an algorithm in every direction in the support
 *     matrix measured on a GPU, under the context's determinism, or the op fails with the
 *     message the GPU gives (the CPU's channel-major order, which cuDNN cannot run backward,
 *     fails so: hp_gpu_emul_set_layout lets a test try it).
 * Results are the CPU kernels' (float32; conv with one slot), computed in the CPU's
 * channel-major order (operands transposed there and back: exact), so whole GPU trials on the
 * emulation equal CPU trials bit for bit where the kernels are shared. Batch-norm backward recomputes
 * xhat = (x - mean) * invstd with the CPU forward's float operations (bit-identical to its
 * xhat); max-pool backward recomputes the argmax from inp (the CPU's rule: first maximum wins,
 * NaN propagates). Scratch lives in the context and only grows. The registry is locked, so
 * several contexts may run ops from several threads at once (lanes, orchestrator/lanes.h); one
 * context belongs to one thread at a time, as a CUDA stream would.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpu_emul/gpu_emul_impl.h"

#define EMUL_ALIGN 256       /* cudaMalloc's alignment */

/* ---- the device-memory registry ---------------------------------------------------------- */

typedef struct emul_blk {
    char *base;     /* the pointer hp_gpu_alloc returned (EMUL_ALIGN-aligned) */
    size_t size;    /* bytes asked for */
    size_t rounded; /* bytes allocated: size rounded up to EMUL_ALIGN, at least EMUL_ALIGN */
    char what[64];
} emul_blk;

static emul_blk *g_blk; /* live blocks, unordered */
static int g_nblk, g_capblk;
static char g_pending[HP_ERR_MAX]; /* a deferred error (bad hp_gpu_free), reported by the next sync */

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER; /* guards g_blk, g_nblk, g_capblk, g_pending */

static int find_blk_locked(const void *p) {
    const uintptr_t a = (uintptr_t)p;
    for (int i = 0; i < g_nblk; i++)
        if (a >= (uintptr_t)g_blk[i].base && a - (uintptr_t)g_blk[i].base < g_blk[i].rounded) return i;
    return -1;
}

/* The live block p points into, copied to *out; 0, or -1 when there is none. */
static int find_blk(const void *p, emul_blk *out) {
    pthread_mutex_lock(&g_mu);
    const int i = find_blk_locked(p);
    if (i >= 0) *out = g_blk[i];
    pthread_mutex_unlock(&g_mu);
    return i < 0 ? -1 : 0;
}


/* "gpu emulation: FN: message"; returns -1. */
int emul_fail(emul_op *o, const char *fmt, ...) {
    int k = snprintf(o->err->msg, sizeof o->err->msg, "gpu emulation: %s: ", o->fn);
    if (k < 0 || (size_t)k >= sizeof o->err->msg) return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o->err->msg + k, sizeof o->err->msg - (size_t)k, fmt, ap);
    va_end(ap);
    return -1;
}

/* p [bytes] must lie inside one live block, aligned to `align`; NULL only when bytes == 0. */
int emul_use(emul_op *o, const char *arg, const void *p, size_t bytes, size_t align) {
    if (bytes == 0) return 0;
    if (!p) return emul_fail(o, "argument '%s' is NULL, but %zu bytes of it are used", arg, bytes);
    emul_blk blk;
    if (find_blk(p, &blk) != 0)
        return emul_fail(o, "argument '%s' (%p) is not inside a device allocation (a host pointer passed to a GPU op, or "
                       "a freed block?)", arg, p);
    const emul_blk *b = &blk;
    const size_t off = (size_t)((const char *)p - b->base), left = off < b->size ? b->size - off : 0;
    if (bytes > left)
        return emul_fail(o, "argument '%s' (%p) needs %zu bytes, but only %zu remain in the device allocation '%s' of %zu "
                       "bytes it points into (a buffer too small for the shape?)", arg, p, bytes, left, b->what,
                    b->size);
    if (align > 1 && (uintptr_t)p % align != 0)
        return emul_fail(o, "argument '%s' (%p) is not aligned to its %zu-byte elements", arg, p, align);
    if (o->nuse == EMUL_MAX_USES) return emul_fail(o, "internal: more than %d arguments in one op", EMUL_MAX_USES);
    o->use[o->nuse] = p;
    o->use_bytes[o->nuse++] = bytes;
    return 0;
}

int emul_op_open(emul_op *o) {
    for (int k = 0; k < o->nuse; k++) UNPOISON(o->use[k], o->use_bytes[k]);
    return 0;
}
/* Poison the op's ranges again; returns rc. */
int emul_op_end(emul_op *o, int rc) {
    for (int k = 0; k < o->nuse; k++) POISON(o->use[k], o->use_bytes[k]);
    return rc;
}

int emul_no_alias(emul_op *o, const char *an, const void *a, size_t na, const char *bn, const void *b, size_t nb) {
    if (!a || !b || na == 0 || nb == 0) return 0;
    const uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
    if (x < y + nb && y < x + na)
        return emul_fail(o, "'%s' (%p) overlaps '%s' (%p), which this op does not allow", an, a, bn, b);
    return 0;
}
int emul_check_n(emul_op *o, int64_t n, const char *what) {
    if (n >= 0 && n <= INT32_MAX) return 0;
    return emul_fail(o, "%s = %lld is outside [0, 2^31): split the call", what, (long long)n);
}


size_t emul_left(const void *p, char *what, size_t len) {
    emul_blk blk;
    if (find_blk(p, &blk) != 0) {
        snprintf(what, len, "?");
        return 0;
    }
    const emul_blk *b = &blk;
    snprintf(what, len, "%s", b->what);
    const size_t off = (size_t)((const char *)p - b->base);
    return off < b->size ? b->size - off : 0;
}

/* ---- the context: scratch that only grows ------------------------------------------------- */


void *emul_grow(emul_op *o, emul_buf *b, size_t bytes, const char *what) {
    if (bytes <= b->cap && b->p) return b->p;
    void *p = realloc(b->p, bytes ? bytes : 1);
    if (!p) {
        emul_fail(o, "out of memory growing the %s scratch to %zu bytes", what, bytes);
        return NULL;
    }
    b->p = p;
    b->cap = bytes;
    return p;
}

int hp_gpu_device_count(void) { return 1; } /* the emulated device */

int hp_gpu_bind(int local_rank, int *device, char *name, size_t len, hp_err *err) {
    if (local_rank < 0)
        return hp_errf(err, "hp_gpu_bind: local rank %d is negative: pass the node-local rank", local_rank);
    if (device) *device = 0;
    if (name && len > 0) snprintf(name, len, "%s", "host emulation of cuda/gpu.h");
    return 0;
}

int hp_gpu_use_device(int device, hp_err *err) {
    if (device != 0) return hp_errf(err, "gpu emulation: hp_gpu_use_device(%d): the emulation has device 0 only", device);
    return 0;
}

int hp_gpu_ctx_create(hp_gpu_ctx **out, const hp_gpu_opts *opts, hp_err *err) {
    *out = NULL;
    hp_gpu_ctx *c = hp_calloc(1, sizeof *c, "the emulated GPU context", err);
    if (!c) return -1;
    if (opts) c->opts = *opts;
    if (c->opts.workspace_max == 0) c->opts.workspace_max = (size_t)256 << 20;
    c->layout = HP_GPU_ACT_LAYOUT;
    *out = c;
    return 0;
}

void hp_gpu_ctx_free(hp_gpu_ctx *c) {
    if (!c) return;
    emul_buf *bufs[] = {&c->conv_work, &c->xhat, &c->pool_out, &c->pool_idx, &c->aug, &c->moments,
                        &c->chw[0], &c->chw[1], &c->chw[2]};
    for (size_t i = 0; i < sizeof bufs / sizeof *bufs; i++) free(bufs[i]->p);
    free(c);
}

void hp_gpu_emul_set_layout(hp_gpu_ctx *ctx, hp_gpu_layout layout) { ctx->layout = layout; }

int hp_gpu_sync(hp_gpu_ctx *ctx, hp_err *err) {
    OP("hp_gpu_sync");
    pthread_mutex_lock(&g_mu);
    int rc = 0;
    if (g_pending[0]) { // reported once, like an asynchronous error at the next synchronisation
        hp_errf(err, "%s", g_pending);
        g_pending[0] = 0;
        rc = -1;
    }
    pthread_mutex_unlock(&g_mu);
    return rc;
}

/* ---- device memory ------------------------------------------------------------------------ */

static _Thread_local size_t g_allocated; /* hp_gpu_thread_allocated */

size_t hp_gpu_thread_allocated(void) { return g_allocated; }

int hp_gpu_mem_info(size_t *free_bytes, size_t *total_bytes, hp_err *err) {
    (void)err;
    /* The emulated device: 16 GiB (HPSWEEP_EMUL_GPU_MIB sets another size, for tests), less what
     * is allocated. */
    const char *env = getenv("HPSWEEP_EMUL_GPU_MIB");
    long long mib = env ? atoll(env) : 0;
    *total_bytes = mib > 0 && mib < (1LL << 30) ? (size_t)mib << 20 : (size_t)16 << 30;
    size_t used = 0;
    pthread_mutex_lock(&g_mu);
    for (int i = 0; i < g_nblk; i++) used += g_blk[i].rounded;
    pthread_mutex_unlock(&g_mu);
    *free_bytes = used < *total_bytes ? *total_bytes - used : 0;
    return 0;
}

int hp_gpu_alloc(void **dptr, size_t bytes, const char *what, hp_err *err) {
    *dptr = NULL;
    emul_op o_ = {"hp_gpu_alloc", err, {0}, {0}, 0};
    if (!what) what = "(unnamed)";
    if (bytes > SIZE_MAX - EMUL_ALIGN) return emul_fail(&o_, "%zu bytes for %s: too large", bytes, what);
    const size_t rounded = bytes == 0 ? EMUL_ALIGN : (bytes + EMUL_ALIGN - 1) / EMUL_ALIGN * EMUL_ALIGN;
    void *p = aligned_alloc(EMUL_ALIGN, rounded);
    if (!p) return emul_fail(&o_, "out of memory allocating %zu bytes for %s: use a smaller batch or model", bytes, what);
    memset(p, 0xFF, rounded); // NaN as float and double: reads of unwritten memory show up
    POISON(p, rounded);       // only ops may touch it
    pthread_mutex_lock(&g_mu);
    if (g_nblk == g_capblk) {
        int cap = g_capblk ? 2 * g_capblk : 64;
        emul_blk *nb = realloc(g_blk, (size_t)cap * sizeof *nb);
        if (!nb) {
            pthread_mutex_unlock(&g_mu);
            UNPOISON(p, rounded);
            free(p);
            return emul_fail(&o_, "out of memory for the allocation table (%d blocks)", cap);
        }
        g_blk = nb;
        g_capblk = cap;
    }
    emul_blk *b = &g_blk[g_nblk++];
    b->base = p;
    b->size = bytes;
    b->rounded = rounded;
    snprintf(b->what, sizeof b->what, "%s", what);
    pthread_mutex_unlock(&g_mu);
    g_allocated += bytes;
    *dptr = p;
    return 0;
}

void hp_gpu_free(void *dptr) {
    if (!dptr) return;
    pthread_mutex_lock(&g_mu);
    const int i = find_blk_locked(dptr);
    if (i < 0 || g_blk[i].base != (char *)dptr) {
        if (!g_pending[0])
            snprintf(g_pending, sizeof g_pending, "gpu emulation: hp_gpu_free(%p): not the start of a live device "
                     "allocation (a double free, a host pointer or a pointer into a block?)", dptr);
        pthread_mutex_unlock(&g_mu);
        return;
    }
    emul_blk b = g_blk[i];
    g_blk[i] = g_blk[--g_nblk];
    pthread_mutex_unlock(&g_mu);
    UNPOISON(b.base, b.rounded);
    free(b.base);
}

/* The host side of a transfer must not be device memory. */
static int host_side(emul_op *o, const char *arg, const void *p, size_t bytes) {
    if (!p) return emul_fail(o, "argument '%s' is NULL", arg);
    emul_blk blk;
    if (find_blk(p, &blk) == 0 || find_blk((const char *)p + bytes - 1, &blk) == 0)
        return emul_fail(o, "argument '%s' (%p) lies in the device allocation '%s': it must be host memory (hp_gpu_copy "
                       "copies between device buffers)", arg, p, blk.what);
    return 0;
}

static int transfer(emul_op *o, void *dst, const void *src, size_t bytes, int to_device) {
    if (bytes == 0) return 0;
    TRY(to_device ? emul_use(o, "dst", dst, bytes, 1) : emul_use(o, "src", src, bytes, 1));
    TRY(to_device ? host_side(o, "src", src, bytes) : host_side(o, "dst", dst, bytes));
    TRY(emul_op_open(o));
    memcpy(dst, src, bytes);
    return emul_op_end(o, 0);
}

int hp_gpu_upload(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err) {
    OP("hp_gpu_upload");
    return transfer(&o_, dst, src, bytes, 1);
}

int hp_gpu_download(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err) {
    OP("hp_gpu_download");
    TRY(hp_gpu_sync(ctx, err)); // synchronises, so reports a pending error
    return transfer(&o_, dst, src, bytes, 0);
}

int hp_gpu_copy(hp_gpu_ctx *ctx, void *dst, const void *src, size_t bytes, hp_err *err) {
    OP("hp_gpu_copy");
    TRY(emul_use(&o_, "dst", dst, bytes, 1));
    TRY(emul_use(&o_, "src", src, bytes, 1));
    if (dst == src || bytes == 0) return 0;
    TRY(emul_no_alias(&o_, "dst", dst, bytes, "src", src, bytes)); // cudaMemcpy: undefined for overlaps
    TRY(emul_op_open(&o_));
    memcpy(dst, src, bytes);
    return emul_op_end(&o_, 0);
}

int hp_gpu_zero(hp_gpu_ctx *ctx, void *dst, size_t bytes, hp_err *err) {
    OP("hp_gpu_zero");
    TRY(emul_use(&o_, "dst", dst, bytes, 1));
    if (bytes == 0) return 0;
    TRY(emul_op_open(&o_));
    memset(dst, 0, bytes);
    return emul_op_end(&o_, 0);
}
