/* file.c - the results file beneath the writer and the reader: the writer's lock and what
 * readers learn from it (a live writer; how often to retry HDF5's metadata reads), and the
 * writer's table primitives (create a table, write rows and flush, detach the file after a
 * failed write), which results.c (tables) and checkpoints.c (/checkpoints) both use. It uses
 * no other file of results/ but h5schema.c.
 */
#define _GNU_SOURCE /* F_OFD_SETLK */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "h5schema.h"
#include "results.h"
#include "results_impl.h"

/* ---- the writer's lock ------------------------------------------------------------------- */

/* One byte far past any real file size: the lock never covers data HDF5 reads or writes. */
#define LOCK_OFFSET ((off_t)1 << 62)

/* The writer's lock: a write lock on the one byte at LOCK_OFFSET. */
static struct flock lock_region(void) {
    struct flock fl;
    memset(&fl, 0, sizeof fl);
    fl.l_type = F_WRLCK;
    fl.l_whence = SEEK_SET;
    fl.l_start = LOCK_OFFSET;
    fl.l_len = 1;
    return fl;
}

int hp_results_lock(const char *path, int *fd, hp_err *err) {
    *fd = -1;
    int f = open(path, O_RDWR | O_CLOEXEC);
    if (f < 0)
        return hp_errf(err, "results file %s: cannot open it for writing: %s%s", path, strerror(errno),
                       errno == EACCES || errno == EROFS ? " (check the file's permissions)" : "");
    struct flock fl = lock_region();
#ifdef F_OFD_SETLK
    int rc = fcntl(f, F_OFD_SETLK, &fl);
#else
    int rc = fcntl(f, F_SETLK, &fl);
#endif
    if (rc < 0) {
        int e = errno;
        close(f);
        if (e == EAGAIN || e == EACCES)
            return hp_errf(err, "results file %s is being written by another hpsweep that is still running; "
                                "wait for it to finish or stop it (its results stay in the file), then resume",
                           path);
        if (e == ENOLCK || e == EINVAL || e == ENOSYS) return *fd = -1, 0; /* no locks here: go on */
        return hp_errf(err, "results file %s: cannot lock it: %s", path, strerror(e));
    }
    *fd = f;
    return 0;
}

void hp_results_unlock(int fd) {
    if (fd >= 0) close(fd); /* closing the description releases its lock */
}

int hp_results_writer_alive(const char *path) {
    int f = open(path, O_RDONLY | O_CLOEXEC);
    if (f < 0) return 0;
    struct flock fl = lock_region();
#ifdef F_OFD_GETLK
    int rc = fcntl(f, F_OFD_GETLK, &fl);
#else
    int rc = fcntl(f, F_GETLK, &fl);
#endif
    close(f);
    /* No lock support here: assume a writer may be live (the retries are bounded anyway). */
    if (rc < 0) return 1;
    return fl.l_type != F_UNLCK;
}

hid_t hp_results_read_fapl(const char *path) {
    hid_t fapl = hp_h5_fapl(0);
    if (fapl < 0) return -1;
    /* HDF5 retries a SWMR read whose metadata checksum fails, for a writer flushing meanwhile,
     * sleeping longer each time: by default 100 times, 15+ minutes on a damaged file. Without a
     * live writer nothing can change under the reader: one attempt. With one: a few (a flush is
     * milliseconds). */
    const unsigned attempts = hp_results_writer_alive(path) ? HP_SWMR_READ_ATTEMPTS_LIVE : 1;
    if (H5Pset_metadata_read_attempts(fapl, attempts) < 0) {
        H5Pclose(fapl);
        return -1;
    }
    return fapl;
}

/* ---- tables --------------------------------------------------------------------------------- */

hid_t hp_results_create_table(hp_results *r, const char *name, hid_t mtype, hsize_t rows,
                          hsize_t chunk, int extendible, hp_err *err) {
    hid_t ft = H5Tcopy(mtype);
    hsize_t dims = rows, maxd = extendible ? H5S_UNLIMITED : rows;
    hid_t space = H5Screate_simple(1, &dims, &maxd);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    hid_t ds = -1;
    if (ft >= 0 && H5Tpack(ft) >= 0 && space >= 0 && dcpl >= 0 &&
        (!extendible || H5Pset_chunk(dcpl, 1, &chunk) >= 0))
        ds = H5Dcreate2(r->file, name, ft, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    if (ds < 0) {
        char what[96];
        snprintf(what, sizeof what, "creating dataset %s", name);
        hp_h5_fail(err, r->path, what);
    }
    if (ft >= 0) H5Tclose(ft);
    if (space >= 0) H5Sclose(space);
    if (dcpl >= 0) H5Pclose(dcpl);
    return ds;
}

int hp_results_write_table(hp_results *r, hid_t ds, int64_t *rows, hid_t mtype, int64_t start, int64_t n,
                           const void *buf, const char *what, hp_err *err) {
    if (hp_results_check_usable(r, err) < 0) return -1;
    hsize_t end = (hsize_t)(start + n), off = (hsize_t)start, cnt = (hsize_t)n;
    hid_t fspace = -1, mspace = -1;
    int rc = -1;
    if (end > (hsize_t)*rows && H5Dset_extent(ds, &end) < 0) goto fail;
    if (n > 0) {
        if ((fspace = H5Dget_space(ds)) < 0 ||
            H5Sselect_hyperslab(fspace, H5S_SELECT_SET, &off, NULL, &cnt, NULL) < 0 ||
            (mspace = H5Screate_simple(1, &cnt, NULL)) < 0 ||
            H5Dwrite(ds, mtype, mspace, fspace, r->dxpl, buf) < 0)
            goto fail;
    }
    if (H5Dflush(ds) < 0) goto fail;
    if ((int64_t)end > *rows) *rows = (int64_t)end;
    rc = 0;
fail:
    if (fspace >= 0) H5Sclose(fspace);
    if (mspace >= 0) H5Sclose(mspace);
    if (rc < 0) {
        hp_h5_fail(err, r->path, what);
        hp_results_io_failed(r, err);
    }
    return rc;
}

void hp_results_io_failed(hp_results *r, hp_err *err) {
    if (r->failed) return;
    r->failed = 1;
    void *handle = NULL;
    int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
    if (null_fd < 0 || H5Fget_vfd_handle(r->file, H5P_DEFAULT, &handle) < 0 || !handle ||
        dup2(null_fd, *(int *)handle) < 0) {
        hp_h5_clear();
        if (err) hp_err_prefix(err, "(could not detach the file after the failed write)");
    }
    if (null_fd >= 0) close(null_fd);
}

int hp_results_check_usable(const hp_results *r, hp_err *err) {
    if (!r->failed) return 0;
    return hp_errf(err, "results file %s: an earlier write failed; the file keeps every row flushed before it "
                        "(fix the cause, then `hpsweep resume %s`)",
                   r->path, r->path);
}
