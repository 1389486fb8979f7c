/* conv.c - see conv.h. The workspace rule here (the geometry, hp_conv_geom_make, is
 * geometry.c's); the float and double bodies come from one template, conv_tmpl.h. */
#include "conv.h"

#include <cblas.h> /* OpenBLAS: also openblas_get/set_num_threads */
#include <omp.h>
#include <string.h>

/* 1x1, stride 1, no padding: the input planes are the column matrix already. */
static int conv_direct(const hp_conv_geom *g) { return g->k == 1 && g->stride == 1 && g->pad == 0; }

/* The backward pass accumulates the weight gradient of consecutive blocks into one partial
 * per group (the blocks of a group run in order on one thread), then sums the groups in order:
 * at most HP_CONV_GROUPS groups, a function of the block count only. */
#define HP_CONV_GROUPS 32
static int conv_groups(int nblk) { return nblk < HP_CONV_GROUPS ? nblk : HP_CONV_GROUPS; }

int64_t hp_conv_work_size(const hp_conv_geom *g, int max_batch, int nslots) {
    int64_t ckk = (int64_t)g->C * g->k * g->k, hwo = (int64_t)g->Ho * g->Wo;
    int nblk = (max_batch + g->G - 1) / g->G, ngrp = conv_groups(nblk);
    if (nslots > nblk) nslots = nblk;
    if (nslots < 1) nslots = 1;
    int64_t cols = conv_direct(g) ? 0 : (int64_t)nslots * ckk * g->G * hwo;
    int64_t partials = ngrp > 1 ? ngrp * g->F * ckk : 0;
    return cols + partials;
}

/* Threads to run nblk blocks with at most nslots column buffers. */
static int conv_threads(int nblk, int nslots) {
    int nt = omp_get_max_threads();
    if (nt > nslots) nt = nslots;
    if (nt > nblk) nt = nblk;
    return nt < 1 ? 1 : nt;
}

/* Each block's products run on one OpenBLAS thread (ours share out the blocks). */
static void blas_one_thread(void) {
    if (openblas_get_num_threads() != 1) openblas_set_num_threads(1);
}

#define REAL float
#define SFX(name) name##_f32
#define GEMM cblas_sgemm
#include "conv_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM

#define REAL double
#define SFX(name) name##_f64
#define GEMM cblas_dgemm
#include "conv_tmpl.h"
#undef REAL
#undef SFX
#undef GEMM
