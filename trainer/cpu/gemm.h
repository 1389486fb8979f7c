/* gemm.h - matrix products whose results do not depend on the number of threads.
 *
 * OpenBLAS's threaded sgemm rounds differently for different thread counts (measured here:
 * every shape of the reference MLP differs between 1 and 2 threads), which would make a
 * sweep's metrics depend on how many ranks share a node. So the trainer runs OpenBLAS with
 * one thread and parallelises itself: the output C is cut into blocks by a rule that looks
 * only at the shape (M, N, K), each block is one single-threaded BLAS call, and OpenMP threads
 * share out the blocks. Any thread count then gives bit-identical results.
 *
 * Same arguments as cblas_?gemm; only CblasRowMajor is supported.
 */
#ifndef HP_GEMM_H
#define HP_GEMM_H

#include <cblas.h>

void hp_gemm_f32(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, float alpha,
                 const float *A, int lda, const float *B, int ldb, float beta, float *C, int ldc);
void hp_gemm_f64(CBLAS_ORDER order, CBLAS_TRANSPOSE ta, CBLAS_TRANSPOSE tb, int M, int N, int K, double alpha,
                 const double *A, int lda, const double *B, int ldb, double beta, double *C, int ldc);

/* How a product of this shape is cut: `blocks` pieces along M (split_m = 1) or N. Exposed for
 * tests. Depends on (M, N, K) only. */
void hp_gemm_partition(int M, int N, int K, int *blocks, int *split_m);

#endif
