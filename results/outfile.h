/* outfile.h - an output file written whole or not at all (results/'s pages, plots and CSV files,
 * and the orchestrator's export --spec). The text goes
 * to a private temporary name beside the target; commit flushes, checks for write errors,
 * closes and renames it into place, so a reader (a browser reloading a report, a script
 * reading a CSV) never sees a half-written file, and a failed write leaves the old one.
 */
#ifndef HP_OUTFILE_H
#define HP_OUTFILE_H

#include <stdio.h>

#include "hp_err.h"

typedef struct hp_outfile {
    FILE *f;
    char path[4096];
    char tmp[4160];
} hp_outfile;

/* Open PATH's temporary file for writing; errors name the path. */
int hp_outfile_open(hp_outfile *o, const char *path, hp_err *err);
/* Flush, check, close and rename into place; on failure the temporary file is removed and
 * err names the path and the reason. */
int hp_outfile_commit(hp_outfile *o, hp_err *err);
/* Close and remove the temporary file (after an error elsewhere). Safe to call twice. */
void hp_outfile_abort(hp_outfile *o);

#endif
