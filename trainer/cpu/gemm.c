/* gemm.c - see gemm.h */
#include "gemm.h"

#include <omp.h>

/* Blocks of at least ~2 MFLOP (smaller ones cost more in scheduling than they gain), at most
 * 32, cut along the longer of M and N in multiples of 16 rows/columns (the packing width of the
 * OpenBLAS kernels, so that no block gets a ragged edge it would not have had anyway). */
void hp_gemm_partition(int M, int N, int K, int *blocks, int *split_m) {
    double flops = 2.0 * M * N * K;
    int along = M >= N ? M : N;
    int nb = (int)(flops / 2.0e6);
    int max_by_width = along / 16;
    if (nb > 32) nb = 32;
    if (nb > max_by_width) nb = max_by_width;
    if (nb < 1) nb = 1;
    *blocks = nb;
    *split_m = M >= N;
}

/* Block b of nb along a dimension of length n: [start, start + len), multiples of 16 except
 * the last. */
static void block_range(int n, int nb, int b, int *start, int *len) {
    int units = (n + 15) / 16;
    int u0 = (int)((long long)units * b / nb), u1 = (int)((long long)units * (b + 1) / nb);
    int s = u0 * 16, e = u1 * 16;
    if (e > n) e = n;
    *start = s;
    *len = e > s ? e - s : 0;
}

#define GEMM_BODY(BLAS)                                                                             \
    int nb, split_m;                                                                                \
    /* OpenBLAS threads would change the rounding (and fight with ours): keep it at one. */        \
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);                              \
    hp_gemm_partition(M, N, K, &nb, &split_m);                                                      \
    if (nb == 1) {                                                                                  \
        BLAS(order, ta, tb, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);                          \
        return;                                                                                     \
    }                                                                                               \
    _Pragma("omp parallel for schedule(static)") for (int b = 0; b < nb; b++) {                    \
        int s, len;                                                                                 \
        if (split_m) {                                                                              \
            block_range(M, nb, b, &s, &len);                                                        \
            /* rows s.. of op(A): NoTrans A is [M, K] (row s at A + s*lda); Trans A is [K, M]. */   \
            const void *a = ta == CblasNoTrans ? (const void *)(A + (long)s * lda) : (const void *)(A + s); \
            if (len > 0)                                                                            \
                BLAS(order, ta, tb, len, N, K, alpha, a, lda, B, ldb, beta, C + (long)s * ldc, ldc); \
        } else {                                                                                    \
            block_range(N, nb, b, &s, &len);                                                        \
            /* columns s.. of op(B): NoTrans B is [K, N] (column s at B + s); Trans B is [N, K]. */ \
            const void *bb = tb == CblasNoTrans ? (const void *)(B + s) : (const void *)(B + (long)s * ldb); \
            if (len > 0) BLAS(order, ta, tb, M, len, K, alpha, A, lda, bb, ldb, beta, C + s, ldc);  \
        }                                                                                           \
    }

void hp_gemm_f32(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc) {
    GEMM_BODY(cblas_sgemm)
}

void hp_gemm_f64(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha,
                 const double *A, int lda, const double *B, int ldb, double beta, double *C, int ldc) {
    GEMM_BODY(cblas_dgemm)
}
