/* nodedata.c - see nodedata.h */
#include "nodedata.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "hp_checked.h"
#include "mpi_util.h"

/* What the loading rank tells the others: its outcome, then the shapes and the norm. */
typedef struct node_header {
    int32_t ok;           /* 1: loaded; 0: failed (msg says why) */
    int32_t window;       /* 1: the window holds the data */
    int64_t n[2];         /* train, val examples */
    int32_t c, h, w, nclasses;
    hp_norm norm;
    char msg[HP_ERR_MAX];
} node_header;

/* Bytes of one split's features and labels in the window, each part 64-byte aligned. */
static int64_t round64(int64_t b) { return (b + 63) / 64 * 64; }
static int split_bytes(int64_t n, int64_t dim, int64_t *x, int64_t *y) {
    int64_t fx, fy;
    if (hp_checked_mul(n, dim, &fx) != 0 || hp_checked_mul(fx, (int64_t)sizeof(float), &fx) != 0 ||
        hp_checked_mul(n, (int64_t)sizeof(int32_t), &fy) != 0)
        return -1;
    *x = round64(fx);
    *y = round64(fy);
    return 0;
}

static void point_into(hp_dataset *d, char *base, int64_t *off, int64_t n, const node_header *h) {
    int64_t bx = 0, by = 0;
    (void)split_bytes(n, (int64_t)h->c * h->h * h->w, &bx, &by); /* checked by the loader */
    d->n = n;
    d->c = h->c;
    d->h = h->h;
    d->w = h->w;
    d->nclasses = h->nclasses;
    d->x = (float *)(base + *off);
    d->y = (int32_t *)(base + *off + bx);
    *off += bx + by;
}

/* Whether this rank shares the splits with others of its node: 1 with nd->node split from comm
 * and *nrank its rank there, 0 when it loads alone (alone in comm or on its node, or
 * HPSWEEP_NO_SHARE), -1 on an error. Collective over comm where it splits. */
static int split_node(MPI_Comm comm, hp_node_data *nd, int *nrank, hp_err *err) {
    int size = 1;
    if (comm != MPI_COMM_NULL && hp_mpi_check(MPI_Comm_size(comm, &size), "MPI_Comm_size", err) != 0) return -1;
    if (size == 1) return 0; /* alone: nothing to share */
    const char *no = getenv("HPSWEEP_NO_SHARE"); /* the benchmark's reference (set on every rank) */
    if (no && no[0] && strcmp(no, "0") != 0) return 0;
    if (hp_mpi_check(MPI_Comm_split_type(comm, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &nd->node),
                     "MPI_Comm_split_type", err) != 0)
        return -1;
    int nsize = 1;
    MPI_Comm_rank(nd->node, nrank);
    MPI_Comm_size(nd->node, &nsize);
    return nsize > 1;
}

/* 1. On the node's first rank: load train and val into *out and describe them in *h (h->ok 0
 * with h->msg when that failed); *bytes is the window they need. */
static void load_first(const hp_spec *spec, hp_splits *out, node_header *h, int64_t *bytes) {
    hp_err lerr = {{0}};
    h->ok = hp_splits_load(spec, 0, out, &lerr) == 0;
    if (h->ok) {
        int64_t dim = hp_dataset_dim(&out->train), tx = 0, ty = 0, vx = 0, vy = 0;
        h->n[0] = out->train.n;
        h->n[1] = out->val.n;
        h->c = out->train.c, h->h = out->train.h, h->w = out->train.w, h->nclasses = out->train.nclasses;
        h->norm = out->norm;
        if (split_bytes(h->n[0], dim, &tx, &ty) != 0 || split_bytes(h->n[1], dim, &vx, &vy) != 0)
            h->ok = 0, hp_errf(&lerr, "%s: the data set is too large to share", spec->path);
        else
            *bytes = tx + ty + vx + vy;
    }
    if (!h->ok) snprintf(h->msg, sizeof h->msg, "%s", lerr.msg);
}

/* 2. The window of wsize bytes on this rank (*base), allocated by every rank of the node
 * together; 1 when every rank has it, else 0 (and none keeps one). */
static int open_window(MPI_Aint wsize, hp_node_data *nd, void **base) {
    int win_ok = MPI_Win_allocate_shared(wsize, 1, MPI_INFO_NULL, nd->node, base, &nd->win) == MPI_SUCCESS;
    if (!win_ok) nd->win = MPI_WIN_NULL;
    int all_ok = win_ok;
    if (MPI_Allreduce(&win_ok, &all_ok, 1, MPI_INT, MPI_MIN, nd->node) != MPI_SUCCESS) all_ok = 0;
    if (!all_ok && nd->win != MPI_WIN_NULL) {
        MPI_Win_free(&nd->win);
        nd->win = MPI_WIN_NULL;
    }
    return all_ok;
}

/* 3. On the first rank: copy train and val into the window at base, then point at it and drop
 * the private copy. */
static void move_into_window(hp_splits *out, hp_node_data *nd, char *base, const node_header *h) {
    MPI_Win_lock_all(MPI_MODE_NOCHECK, nd->win);
    nd->shared = 1;
    int64_t off = 0;
    hp_dataset *sets[2] = {&out->train, &out->val};
    for (int i = 0; i < 2; i++) {
        int64_t bx = 0, by = 0;
        (void)split_bytes(sets[i]->n, hp_dataset_dim(sets[i]), &bx, &by);
        memcpy(base + off, sets[i]->x, (size_t)(sets[i]->n * hp_dataset_dim(sets[i])) * sizeof(float));
        memcpy(base + off + bx, sets[i]->y, (size_t)sets[i]->n * sizeof(int32_t));
        off += bx + by;
    }
    hp_dataset_free(&out->train);
    hp_dataset_free(&out->val);
    off = 0;
    point_into(&out->train, base, &off, h->n[0], h);
    point_into(&out->val, base, &off, h->n[1], h);
    out->norm = h->norm;
    out->shared = 1;
    nd->shared = 1;
    MPI_Win_sync(nd->win); /* the copies are visible before the others read (after the Bcast) */
}

/* 4. On the other ranks: point train and val at the first rank's window. */
static int map_window(hp_splits *out, hp_node_data *nd, const node_header *h, hp_err *err) {
    MPI_Win_lock_all(MPI_MODE_NOCHECK, nd->win);
    MPI_Win_sync(nd->win);
    MPI_Aint qsize = 0;
    int disp = 1;
    void *qbase = NULL;
    nd->shared = 1; /* locked: hp_splits_free_node unlocks */
    if (MPI_Win_shared_query(nd->win, 0, &qsize, &disp, &qbase) != MPI_SUCCESS || !qbase)
        return hp_errf(err, "MPI_Win_shared_query on the node's data failed");
    int64_t off = 0;
    point_into(&out->train, qbase, &off, h->n[0], h);
    point_into(&out->val, qbase, &off, h->n[1], h);
    out->norm = h->norm;
    out->shared = 1;
    nd->shared = 1;
    return 0;
}

/* The collective calls, in the same order on every rank: split_node (MPI_Comm_split_type),
 * open_window (MPI_Win_allocate_shared, MPI_Allreduce, MPI_Win_free if not all have it),
 * MPI_Bcast of the header; the first rank's window lock and sync come before the Bcast, the
 * others' after it. */
int hp_splits_load_node(const hp_spec *spec, int with_test, MPI_Comm comm, hp_splits *out, hp_node_data *nd,
                        hp_err *err) {
    memset(out, 0, sizeof *out);
    nd->node = MPI_COMM_NULL;
    nd->win = MPI_WIN_NULL;
    nd->shared = 0;
    int nrank = 0;
    int share = split_node(comm, nd, &nrank, err);
    if (share < 0) return -1;
    if (!share) return hp_splits_load(spec, with_test, out, err);
    node_header h;
    memset(&h, 0, sizeof h);
    int64_t bytes = 0;
    if (nrank == 0) load_first(spec, out, &h, &bytes);
    void *base = NULL; /* the first rank's memory holds it all */
    h.window = open_window(nrank == 0 && h.ok ? (MPI_Aint)bytes : 0, nd, &base);
    if (nrank == 0 && h.ok && h.window) move_into_window(out, nd, base, &h);
    if (MPI_Bcast(&h, (int)sizeof h, MPI_BYTE, 0, nd->node) != MPI_SUCCESS)
        return hp_errf(err, "MPI_Bcast of the node's data header failed");
    if (!h.ok) return hp_errf(err, "%s", h.msg);
    if (nrank != 0 && h.window) {
        if (map_window(out, nd, &h, err) != 0) return -1;
    } else if (nrank != 0 && !h.window) {
        /* No shared memory: a private copy, as without this module. */
        if (hp_splits_load(spec, 0, out, err) != 0) return -1;
    }
    if (with_test && hp_splits_load_test(spec, out, err) != 0) return -1;
    return 0;
}

void hp_splits_free_node(hp_splits *s, hp_node_data *nd) {
    hp_splits_free(s);
    if (nd->win != MPI_WIN_NULL) {
        if (nd->shared) MPI_Win_unlock_all(nd->win);
        MPI_Win_free(&nd->win); /* collective: every rank of the node frees together */
    }
    nd->win = MPI_WIN_NULL;
    nd->shared = 0;
    if (nd->node != MPI_COMM_NULL) MPI_Comm_free(&nd->node);
}
