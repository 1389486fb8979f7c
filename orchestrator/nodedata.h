/* nodedata.h - one copy of the training and validation splits per node.
 *
 * Under mpirun every rank used to load, decode and standardise the whole data set itself: 64
 * ranks on one node held 64 copies (Fashion-MNIST: 190 MB each). Here the ranks of a node
 * (MPI_COMM_TYPE_SHARED) share one: the node's first rank loads the splits exactly as
 * hp_splits_load does, copies them into an MPI-3 shared-memory window
 * (MPI_Win_allocate_shared) and frees its own copy; the others map the window and read it in
 * place, read-only. Results are bit-identical to private loading (the same bytes). Where the
 * window cannot be had (no shared memory, /dev/shm too small), every rank loads its own copy as
 * before. The test split stays private to the rank that asks for it (the coordinator:
 * with_test). HPSWEEP_NO_SHARE=1 (on every rank) turns sharing off, for bench/bench_memory.sh's
 * reference.
 */
#ifndef HP_NODEDATA_H
#define HP_NODEDATA_H

#include <mpi.h>

#include "dataload.h"
#include "hp_err.h"
#include "spec.h"

typedef struct hp_node_data {
    MPI_Comm node;   /* the node's ranks (MPI_COMM_NULL: not split) */
    MPI_Win win;     /* the shared splits (MPI_WIN_NULL: private copies) */
    int shared;      /* 1 when s->train and s->val point into win */
} hp_node_data;

/* Collective over comm (MPI_COMM_NULL: alone). Loads the splits into *out (train and val shared on the node when
 * possible; the test split as well when with_test, privately). On error every rank of the
 * node returns -1 with the loading rank's message. Either way, every rank later calls
 * hp_splits_free_node (the window is freed collectively). */
int hp_splits_load_node(const hp_spec *spec, int with_test, MPI_Comm comm, hp_splits *out, hp_node_data *nd,
                        hp_err *err);
/* Frees the splits and the window (collective over the node: every rank calls it). */
void hp_splits_free_node(hp_splits *s, hp_node_data *nd);

#endif
