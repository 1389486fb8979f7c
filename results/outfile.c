/* outfile.c - write a file under a temporary name, then rename it into place; see outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

int hp_outfile_open(hp_outfile *o, const char *path, hp_err *err) {
    memset(o, 0, sizeof o[0]);
    if (strlen(path) >= sizeof o->path) return hp_errf(err, "%s: the path is too long", path);
    snprintf(o->path, sizeof o->path, "%s", path);
    snprintf(o->tmp, sizeof o->tmp, "%s.tmp%ld", path, (long)getpid());
    o->f = fopen(o->tmp, "w");
    if (!o->f) return hp_errf(err, "%s: cannot create it: %s", path, strerror(errno));
    return 0;
}

int hp_outfile_commit(hp_outfile *o, hp_err *err) {
    errno = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        int e = errno;
        hp_outfile_abort(o);
        return hp_errf(err, "%s: writing failed: %s", o->path, e ? strerror(e) : "write error");
    }
    int rc = fclose(o->f);
    o->f = NULL;
    if (rc != 0) {
        int e = errno;
        hp_outfile_abort(o);
        return hp_errf(err, "%s: closing failed: %s", o->path, strerror(e));
    }
    if (rename(o->tmp, o->path) != 0) {
        int e = errno;
        hp_outfile_abort(o);
        return hp_errf(err, "%s: cannot rename it to %s: %s", o->tmp, o->path, strerror(e));
    }
    o->tmp[0] = '\0';
    return 0;
}

void hp_outfile_abort(hp_outfile *o) {
    if (o->f) fclose(o->f); /* its result does not matter: the file is removed */
    o->f = NULL;
    if (o->tmp[0]) unlink(o->tmp);
    o->tmp[0] = '\0';
}
