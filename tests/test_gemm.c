/* test_gemm.c - the trainer's matrix product: correct for every transpose and blocking, and
 * bit-identical for any number of threads (the property that makes a sweep's metrics
 * independent of how many ranks share a node). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cpu/gemm.h"
#include "rng.h"

static void fill(float *a, long n, uint64_t key) {
    hp_rng r = hp_rng_make(key);
    for (long i = 0; i < n; i++) a[i] = (float)(hp_rng_uniform(&r) - 0.5);
}

/* C = alpha op(A) op(B) + beta C0 in double, as the reference; S = the same sum of absolute
 * values, the scale that float rounding errors are proportional to. */
static void reference(int ta, int tb, int M, int N, int K, double alpha, const float *A, const float *B,
                      double beta, const float *C0, double *C, double *S) {
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = 0, sa = 0;
            for (int k = 0; k < K; k++) {
                double a = ta ? A[(long)k * M + i] : A[(long)i * K + k];
                double b = tb ? B[(long)j * K + k] : B[(long)k * N + j];
                s += a * b;
                sa += fabs(a * b);
            }
            C[(long)i * N + j] = alpha * s + beta * C0[(long)i * N + j];
            S[(long)i * N + j] = fabs(alpha) * sa + fabs(beta * C0[(long)i * N + j]);
        }
}

int main(void) {
    /* Shapes of the reference MLP's products, plus ragged and tiny ones. */
    int shapes[][3] = {{128, 512, 784}, {512, 784, 128}, {128, 784, 512}, {10, 256, 128},
                       {77, 300, 33},   {300, 77, 65},   {1, 1, 1},      {5, 3, 2}, {1000, 17, 9}};
    for (size_t s = 0; s < sizeof shapes / sizeof shapes[0]; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2];
        int nb, split_m;
        hp_gemm_partition(M, N, K, &nb, &split_m);
        CHECK(nb >= 1 && nb <= 32, "partition of %dx%dx%d: %d blocks", M, N, K, nb);
        float *A = malloc(sizeof(float) * (size_t)M * K), *B = malloc(sizeof(float) * (size_t)K * N);
        float *C0 = malloc(sizeof(float) * (size_t)M * N), *C1 = malloc(sizeof(float) * (size_t)M * N);
        float *C2 = malloc(sizeof(float) * (size_t)M * N);
        double *R = malloc(sizeof(double) * (size_t)M * N), *S = malloc(sizeof(double) * (size_t)M * N);
        fill(A, (long)M * K, 1 + s);
        fill(B, (long)K * N, 100 + s);
        fill(C0, (long)M * N, 200 + s);
        for (int t = 0; t < 4; t++) {
            int ta = t & 1, tb = t >> 1;
            float alpha = 1.0f, beta = t == 3 ? 0.5f : 0.0f;
            CBLAS_TRANSPOSE TA = ta ? CblasTrans : CblasNoTrans, TB = tb ? CblasTrans : CblasNoTrans;
            int lda = ta ? M : K, ldb = tb ? K : N;
            reference(ta, tb, M, N, K, alpha, A, B, beta, C0, R, S);
            memcpy(C1, C0, sizeof(float) * (size_t)M * N);
            omp_set_num_threads(1);
            hp_gemm_f32(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C1, N);
            double worst = 0;
            for (long i = 0; i < (long)M * N; i++) {
                double e = fabs(C1[i] - R[i]) / (1e-30 + S[i]); /* float: ~1e-7 per term */
                if (e > worst) worst = e;
            }
            CHECK(worst < 1e-5, "%dx%dx%d ta %d tb %d: worst error %g (relative to sum |a b|) against double", M, N, K, ta, tb,
                  worst);
            for (int threads = 2; threads <= 3; threads++) {
                memcpy(C2, C0, sizeof(float) * (size_t)M * N);
                omp_set_num_threads(threads);
                hp_gemm_f32(CblasRowMajor, TA, TB, M, N, K, alpha, A, lda, B, ldb, beta, C2, N);
                CHECK(memcmp(C1, C2, sizeof(float) * (size_t)M * N) == 0,
                      "%dx%dx%d ta %d tb %d: %d threads give other bits than 1 thread", M, N, K, ta, tb, threads);
            }
        }
        free(A), free(B), free(C0), free(C1), free(C2), free(R), free(S);
    }
    return hp_check_summary("test_gemm");
}
