/* export.c - `hpsweep export --csv`: /trials and /curves as CSV files; see report.h. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"
#include "report.h"
#include "results.h"

/* A string field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
static void csv_str(FILE *o, const char *s) {
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, o);
        return;
    }
    fputc('"', o);
    for (const char *p = s; *p; p++) {
        if (*p == '"') fputc('"', o);
        fputc(*p, o);
    }
    fputc('"', o);
}

/* A double with the fewest digits (15 to 17) that read back to it; NaN empty. */
static void csv_num(FILE *o, double v) {
    if (isnan(v)) return;
    if (isinf(v)) {
        fputs(v > 0 ? "inf" : "-inf", o);
        return;
    }
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) { /* %g drops trailing zeros: 0.1 stays 0.1 */
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, o);
}

static void csv_float(FILE *o, float v) {
    if (isnan(v) || isinf(v)) {
        csv_num(o, v);
        return;
    }
    char buf[32];
    for (int digits = 6; digits <= 9; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, (double)v);
        if (strtof(buf, NULL) == v) break;
    }
    fputs(buf, o);
}

/* The file's parameter columns (names and kinds), after /trials' own, as in the file. */
typedef struct cols_t {
    const hp_param_column *c;
    int n;
} cols_t;

static void trial_header(FILE *o, cols_t cols) {
    fputs("id,stage,status,lr,weight_decay,seed,epochs_planned,epochs_done,best_val_acc,best_val_loss,best_epoch,"
          "initial_loss,update_ratio,seconds,rank,host,gpu,device,snapshot_row,message,parent", o);
    for (int k = 0; k < cols.n; k++) fputc(',', o), csv_str(o, cols.c[k].name);
    fputs("\r\n", o);
}

static void trial_row(FILE *o, const hp_trial_record *t, cols_t cols) {
    fprintf(o, "%lld,%d,%s,", (long long)t->id, t->stage, hp_trial_status_name((hp_trial_status)t->status));
    csv_num(o, t->lr), fputc(',', o);
    csv_num(o, t->weight_decay);
    fprintf(o, ",%llu,%d,%d,", (unsigned long long)t->seed, t->epochs_planned, t->epochs_done);
    csv_num(o, t->best_val_acc), fputc(',', o);
    csv_num(o, t->best_val_loss);
    fprintf(o, ",%d,", t->best_epoch);
    csv_num(o, t->initial_loss), fputc(',', o);
    csv_num(o, t->update_ratio), fputc(',', o);
    csv_num(o, t->seconds);
    fprintf(o, ",%d,", t->rank);
    csv_str(o, t->host);
    fprintf(o, ",%d,", t->gpu);
    csv_str(o, t->device);
    fprintf(o, ",%lld,", (long long)t->snapshot_row);
    csv_str(o, t->message);
    fprintf(o, ",%lld", (long long)t->parent);
    for (int k = 0; k < cols.n; k++) {
        fputc(',', o);
        if (cols.c[k].text) csv_str(o, t->xcol[k].text);
        else csv_num(o, t->xcol[k].num);
    }
    fputs("\r\n", o);
}

static void curve_header(FILE *o) {
    fputs("trial,epoch,lr,train_loss,train_acc,val_loss,val_acc,seconds,update_ratio", o);
    for (int k = 0; k < HP_CURVE_RATIOS; k++) fprintf(o, ",layer_update_ratio_%02d", k);
    fputs("\r\n", o);
}

static void curve_row(FILE *o, const hp_curve_record *c) {
    fprintf(o, "%lld,%d", (long long)c->trial, c->epoch);
    const double v[7] = {c->lr, c->train_loss, c->train_acc, c->val_loss, c->val_acc, c->seconds, c->update_ratio};
    for (int i = 0; i < 7; i++) fputc(',', o), csv_num(o, v[i]);
    for (int k = 0; k < HP_CURVE_RATIOS; k++) fputc(',', o), csv_float(o, c->layer_update_ratio[k]);
    fputs("\r\n", o);
}

/* DIR/NAME into buf; -1 when it does not fit. */
static int join(char *buf, size_t n, const char *dir, const char *name, hp_err *err) {
    if ((size_t)snprintf(buf, n, "%s/%s", dir, name) >= n) return hp_errf(err, "%s: the path is too long", dir);
    return 0;
}

static int write_trials(const char *dir, const hp_trial_record *t, int64_t n, cols_t cols, hp_err *err) {
    char path[4096];
    hp_outfile of;
    if (join(path, sizeof path, dir, "trials.csv", err) < 0 || hp_outfile_open(&of, path, err) < 0) return -1;
    trial_header(of.f, cols);
    for (int64_t i = 0; i < n && !ferror(of.f); i++) trial_row(of.f, &t[i], cols);
    return hp_outfile_commit(&of, err);
}

static int write_curves(const char *dir, const hp_curve_record *c, int64_t n, hp_err *err) {
    char path[4096];
    hp_outfile of;
    if (join(path, sizeof path, dir, "curves.csv", err) < 0 || hp_outfile_open(&of, path, err) < 0) return -1;
    curve_header(of.f);
    for (int64_t i = 0; i < n && !ferror(of.f); i++) curve_row(of.f, &c[i]);
    return hp_outfile_commit(&of, err);
}

/* One table of an open reader as CSV on o. */
static int table_csv(hp_results_reader *rd, int curves, FILE *o, hp_err *err) {
    hp_trial_record *t = NULL;
    hp_curve_record *c = NULL;
    int64_t n = 0;
    cols_t cols;
    cols.n = hp_results_reader_param_columns(rd, &cols.c);
    int rc = curves ? hp_results_read_curves(rd, &c, &n, err) : hp_results_read_trials(rd, &t, &n, err);
    if (rc == 0 && curves) curve_header(o);
    if (rc == 0 && !curves) trial_header(o, cols);
    for (int64_t i = 0; rc == 0 && i < n && !ferror(o); i++)
        curves ? curve_row(o, &c[i]) : trial_row(o, &t[i], cols);
    free(t);
    free(c);
    return rc;
}

int hp_export_csv_mem(const char *path, int curves, char **csv, size_t *len, hp_err *err) {
    *csv = NULL;
    *len = 0;
    hp_results_reader *rd = NULL;
    if (hp_results_open_read(path, &rd, err) < 0) return -1;
    FILE *o = open_memstream(csv, len);
    int rc = o ? table_csv(rd, curves, o, err) : hp_errf(err, "cannot open a memory stream: %s", strerror(errno));
    hp_results_close_read(rd);
    if (o) {
        int bad = fflush(o) != 0 || ferror(o);
        if (fclose(o) != 0 || bad) rc = rc ? rc : hp_errf(err, "writing %s's CSV in memory failed (out of memory?)", path);
    }
    if (rc != 0) {
        free(*csv);
        *csv = NULL;
    }
    return rc;
}

int hp_export_csv(const char *path, const char *dir, long long *ntrials, long long *ncurves, hp_err *err) {
    hp_results_reader *rd = NULL;
    if (hp_results_open_read(path, &rd, err) < 0) return -1;
    hp_trial_record *t = NULL;
    hp_curve_record *c = NULL;
    int64_t nt = 0, nc = 0;
    /* the columns' names are the reader's: copied before it closes */
    hp_param_column colv[HP_MAX_XCOLS];
    const hp_param_column *cp = NULL;
    cols_t cols = {colv, hp_results_reader_param_columns(rd, &cp)};
    for (int k = 0; k < cols.n; k++) colv[k] = cp[k];
    int rc = hp_results_read_trials(rd, &t, &nt, err);
    if (rc == 0) rc = hp_results_read_curves(rd, &c, &nc, err);
    hp_results_close_read(rd);
    if (rc == 0 && mkdir(dir, 0777) != 0 && errno != EEXIST)
        rc = hp_errf(err, "%s: cannot create the folder: %s", dir, strerror(errno));
    if (rc == 0) rc = write_trials(dir, t, nt, cols, err);
    if (rc == 0) rc = write_curves(dir, c, nc, err);
    if (rc == 0 && ntrials) *ntrials = nt;
    if (rc == 0 && ncurves) *ncurves = nc;
    free(t);
    free(c);
    return rc;
}
