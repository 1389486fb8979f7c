/* show.c - `hpsweep show`: summarise a results file as text or JSON; see show.h.
 *
 * Reading and summarising (counts, ranking, warnings) happen once into an hp_summary
 * (summary.h, shared with report.c); the text and JSON printers only format it, so both always
 * say the same thing.
 */
#include "show.h"

#include "hp_checked.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "results.h"
#include "summary.h"

/* ---- text ----------------------------------------------------------------------------------- */

static void fmt_duration(double sec, char *buf, size_t n) {
    int64_t t = 0;
    if (!(sec >= 0) || hp_checked_to_i64(sec + 0.5, 0, INT64_MAX / 2, &t) != 0) { // NaN, negative, absurd
        snprintf(buf, n, "unknown");
        return;
    }
    if (t >= 3600) snprintf(buf, n, "%lldh %02lldm %02llds", (long long)(t / 3600), (long long)(t / 60 % 60), (long long)(t % 60));
    else if (t >= 60) snprintf(buf, n, "%lldm %02llds", (long long)(t / 60), (long long)(t % 60));
    else snprintf(buf, n, "%.1fs", sec);
}

/* Where a trial ran: "cpu", "cuda:0 NVIDIA H100 80GB HBM3", or "-" when the file does not say
 * (a version-1 file). */
static void trial_device(const hp_trial_record *t, char *buf, size_t n) {
    if (!t->device[0]) snprintf(buf, n, "-");
    else if (t->gpu >= 0) snprintf(buf, n, "cuda:%d %s", (int)t->gpu, t->device);
    else snprintf(buf, n, "%s", t->device);
}

static int col_width(const hp_summary *s, int k) {
    int n = (int)strlen(hp_param_column_title(s->cols, s->ncols, k));
    return n > 10 ? n : 10;
}

static void print_text(const hp_summary *s, int top_n, FILE *o) {
    const hp_results_header *h = s->h;
    fprintf(o, "hpsweep results: %s\n", s->path);
    if (s->name[0]) fprintf(o, "  name      %s\n", s->name);
    fprintf(o, "  created   %s by hpsweep %s (format version %d)\n", h->created_utc,
            h->hpsweep_version, h->format_version);
    fprintf(o, "  seed      %llu\n", (unsigned long long)h->meta.seed);
    fprintf(o, "  spec      sha256 %.16s...\n", h->meta.spec_sha256);

    fprintf(o, "\nstages (%lld)\n", (long long)s->nstages);
    fprintf(o, "  %-5s  %-7s  %6s  %6s  %-21s  %-13s  %-21s  %s\n", "stage", "method", "trials",
            "epochs", "lr range", "derivation", "weight_decay range", "derivation");
    for (int64_t i = 0; i < s->nstages; i++) {
        const hp_stage_record *st = &s->stages[i];
        char lr[48], wd[48]; /* "-": not searched and no value (an external trainer's own) */
        if (isnan(st->lr_low)) snprintf(lr, sizeof lr, "-");
        else snprintf(lr, sizeof lr, "[%.3g, %.3g]", st->lr_low, st->lr_high);
        if (isnan(st->wd_low)) snprintf(wd, sizeof wd, "-");
        else snprintf(wd, sizeof wd, "[%.3g, %.3g]", st->wd_low, st->wd_high);
        fprintf(o, "  %-5d  %-7s  %6d  %6d  %-21s  %-13s  %-21s  %s\n", st->stage, st->method,
                st->trials, st->epochs, lr, st->lr_derivation, wd, st->wd_derivation);
    }

    /* The other searched parameters, stage by stage (lr and weight decay are above). */
    int header = 0;
    for (int64_t i = 0; i < s->nsparams; i++) {
        const hp_stage_param_record *sp = &s->sparams[i];
        if (!strcmp(sp->name, "lr") || !strcmp(sp->name, "weight_decay")) continue;
        if (!header++)
            fprintf(o, "\nsearched parameters (besides lr and weight_decay)\n  %-5s  %-28s  %-8s  %-27s  %s\n", "stage",
                    "parameter", "scale", "range or choices", "derivation");
        char range[560];
        if (!strcmp(sp->scale, "choice")) snprintf(range, sizeof range, "{%s}", sp->choices);
        else if (!strcmp(sp->scale, "int") || !strcmp(sp->scale, "int_log"))
            snprintf(range, sizeof range, "[%.0f, %.0f]", sp->low, sp->high);
        else snprintf(range, sizeof range, "[%.3g, %.3g]", sp->low, sp->high);
        fprintf(o, "  %-5d  %-28s  %-8s  %-27s  %s\n", sp->stage, sp->name, sp->scale, range, sp->derivation);
    }

    fprintf(o, "\ntrials    %lld total: %lld done, %lld diverged, %lld failed, %lld pruned, "
               "%lld running, %lld pending\n",
            (long long)s->ntrials, (long long)s->counts[HP_TRIAL_DONE],
            (long long)s->counts[HP_TRIAL_DIVERGED], (long long)s->counts[HP_TRIAL_FAILED],
            (long long)s->counts[HP_TRIAL_PRUNED], (long long)s->counts[HP_TRIAL_RUNNING],
            (long long)s->counts[HP_TRIAL_PENDING]);

    int64_t shown = s->nranked < top_n ? s->nranked : top_n;
    fprintf(o, "\ntop %lld of %lld scored trials, by best validation accuracy\n", (long long)shown,
            (long long)s->nranked);
    fprintf(o, "  %4s  %6s  %5s  %10s  %12s", "#", "trial", "stage", "lr", "weight_decay");
    for (int k = 0; k < s->ncols; k++) fprintf(o, "  %*s", col_width(s, k), hp_param_column_title(s->cols, s->ncols, k));
    fprintf(o, "  %12s  %10s  %9s  %-8s  %s\n", "best_val_acc", "best_epoch", "seconds", "status", "device");
    for (int64_t i = 0; i < shown; i++) {
        const hp_trial_record *t = s->ranked[i];
        char device[96];
        trial_device(t, device, sizeof device);
        char from[48] = ""; /* a promoted trial: its epochs continue its parent's */
        if (t->parent >= 0) snprintf(from, sizeof from, "  (continues trial %lld)", (long long)t->parent);
        char lr[24] = "-", wd[24] = "-"; /* "-": no value (an external trainer's own, not searched) */
        if (!isnan(t->lr)) snprintf(lr, sizeof lr, "%.3e", t->lr);
        if (!isnan(t->weight_decay)) snprintf(wd, sizeof wd, "%.3e", t->weight_decay);
        fprintf(o, "  %4lld  %6lld  %5d  %10s  %12s", (long long)(i + 1), (long long)t->id, t->stage, lr, wd);
        for (int k = 0; k < s->ncols; k++) {
            if (s->cols[k].text) fprintf(o, "  %*s", col_width(s, k), t->xcol[k].text);
            else fprintf(o, "  %*.4g", col_width(s, k), t->xcol[k].num);
        }
        fprintf(o, "  %12.4f  %10d  %9.1f  %-8s  %s%s\n", t->best_val_acc, t->best_epoch, t->seconds,
                hp_trial_status_name((hp_trial_status)t->status), device, from);
    }

    fprintf(o, "\nwarnings (%d)\n", s->nwarn);
    for (int i = 0; i < s->nwarn; i++) fprintf(o, "  - %s\n", s->warn[i]);

    if (s->nfinal == 0) {
        fprintf(o, "\nfinal     no test-set result yet\n");
    } else {
        fprintf(o, "\nfinal (test split, evaluated once)\n");
        fprintf(o, "  %-10s  %6s  %8s  %8s  %9s\n", "kind", "trial", "val_acc", "test_acc",
                "test_loss");
        for (int64_t i = 0; i < s->nfinal; i++) {
            const hp_final_record *f = &s->final[i];
            fprintf(o, "  %-10s  %6lld  %8.4f  %8.4f  %9.4f\n", f->kind, (long long)f->trial,
                    f->val_acc, f->test_acc, f->test_loss);
        }
    }
    char train[32], wall[32];
    fmt_duration(s->trial_seconds, train, sizeof train);
    fmt_duration(s->wall_seconds, wall, sizeof wall);
    fprintf(o, "\nelapsed   %s of training (sum over trials), %s since the file was created\n",
            train, wall);
}

/* ---- JSON ----------------------------------------------------------------------------------- */

static void js_str(FILE *o, const char *s) {
    fputc('"', o);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\') fprintf(o, "\\%c", *p);
        else if (*p == '\n') fputs("\\n", o);
        else if (*p == '\t') fputs("\\t", o);
        else if (*p < 0x20) fprintf(o, "\\u%04x", *p);
        else fputc(*p, o);
    }
    fputc('"', o);
}

/* JSON has no NaN or Infinity: those become null. Finite values use the fewest digits
 * (15..17) that read back to the same double, so 0.1 prints as 0.1. */
static void js_num(FILE *o, double v) {
    if (!isfinite(v)) {
        fputs("null", o);
        return;
    }
    char buf[32];
    for (int digits = 15; digits <= 17; digits++) {
        snprintf(buf, sizeof buf, "%.*g", digits, v);
        if (strtod(buf, NULL) == v) break;
    }
    fputs(buf, o);
}

static void js_key(FILE *o, const char *k, int *first) {
    fputs(*first ? "" : ", ", o);
    *first = 0;
    js_str(o, k);
    fputs(": ", o);
}

static void js_stages(const hp_summary *s, FILE *o) {
    fputc('[', o);
    for (int64_t i = 0; i < s->nstages; i++) {
        const hp_stage_record *st = &s->stages[i];
        int g = 1;
        fputs(i ? ", {" : "{", o);
        js_key(o, "stage", &g), fprintf(o, "%d", st->stage);
        js_key(o, "method", &g), js_str(o, st->method);
        js_key(o, "trials", &g), fprintf(o, "%d", st->trials);
        js_key(o, "epochs", &g), fprintf(o, "%d", st->epochs);
        js_key(o, "first_trial", &g), fprintf(o, "%lld", (long long)st->first_trial);
        js_key(o, "lr_low", &g), js_num(o, st->lr_low);
        js_key(o, "lr_high", &g), js_num(o, st->lr_high);
        js_key(o, "lr_derivation", &g), js_str(o, st->lr_derivation);
        js_key(o, "wd_low", &g), js_num(o, st->wd_low);
        js_key(o, "wd_high", &g), js_num(o, st->wd_high);
        js_key(o, "wd_derivation", &g), js_str(o, st->wd_derivation);
        fputc('}', o);
    }
    fputc(']', o);
}

/* "stage_params": every searched parameter of every stage (/stage_params; [] in older files). */
static void js_stage_params(const hp_summary *s, FILE *o) {
    fputc('[', o);
    for (int64_t i = 0; i < s->nsparams; i++) {
        const hp_stage_param_record *sp = &s->sparams[i];
        int g = 1;
        fputs(i ? ", {" : "{", o);
        js_key(o, "stage", &g), fprintf(o, "%d", sp->stage);
        js_key(o, "name", &g), js_str(o, sp->name);
        js_key(o, "scale", &g), js_str(o, sp->scale);
        js_key(o, "low", &g), js_num(o, sp->low);
        js_key(o, "high", &g), js_num(o, sp->high);
        js_key(o, "derivation", &g), js_str(o, sp->derivation);
        js_key(o, "choices", &g), fputc('[', o);
        /* the comma-separated set as a list of strings */
        const char *c = sp->choices;
        for (int first = 1; *c; first = 0) {
            size_t n = strcspn(c, ",");
            char item[HP_XTEXT + 1];
            snprintf(item, sizeof item, "%.*s", (int)(n < HP_XTEXT ? n : HP_XTEXT), c);
            fputs(first ? "" : ", ", o);
            js_str(o, item);
            c += n;
            if (*c == ',') c++;
        }
        fputs("]}", o);
    }
    fputc(']', o);
}

/* "counts": {status: n, ..., "total": n}. */
static void js_counts(const hp_summary *s, FILE *o) {
    fputc('{', o);
    int g = 1;
    for (int st = HP_TRIAL_PENDING; st <= HP_TRIAL_PRUNED; st++)
        js_key(o, hp_trial_status_name((hp_trial_status)st), &g),
            fprintf(o, "%lld", (long long)s->counts[st]);
    js_key(o, "total", &g), fprintf(o, "%lld", (long long)s->ntrials);
    fputc('}', o);
}

/* "top": the first top_n ranked trials, best first. */
static void js_top(const hp_summary *s, int top_n, FILE *o) {
    fputc('[', o);
    for (int64_t i = 0; i < s->nranked && i < top_n; i++) {
        const hp_trial_record *t = s->ranked[i];
        int g = 1;
        fputs(i ? ", {" : "{", o);
        js_key(o, "rank", &g), fprintf(o, "%lld", (long long)(i + 1));
        js_key(o, "trial", &g), fprintf(o, "%lld", (long long)t->id);
        js_key(o, "stage", &g), fprintf(o, "%d", t->stage);
        js_key(o, "status", &g), js_str(o, hp_trial_status_name((hp_trial_status)t->status));
        js_key(o, "lr", &g), js_num(o, t->lr);
        js_key(o, "weight_decay", &g), js_num(o, t->weight_decay);
        js_key(o, "params", &g), fputc('{', o);
        int q = 1;
        for (int k = 0; k < s->ncols; k++) {
            js_key(o, s->cols[k].name, &q);
            if (s->cols[k].text) js_str(o, t->xcol[k].text);
            else js_num(o, t->xcol[k].num);
        }
        fputc('}', o);
        js_key(o, "best_val_acc", &g), js_num(o, t->best_val_acc);
        js_key(o, "best_val_loss", &g), js_num(o, t->best_val_loss);
        js_key(o, "best_epoch", &g), fprintf(o, "%d", t->best_epoch);
        js_key(o, "seconds", &g), js_num(o, t->seconds);
        js_key(o, "gpu", &g), fprintf(o, "%d", (int)t->gpu);
        js_key(o, "device", &g), js_str(o, t->device);
        js_key(o, "parent", &g), fprintf(o, "%lld", (long long)t->parent); /* -1: not promoted */
        fputc('}', o);
    }
    fputc(']', o);
}

/* "final": the /final rows. */
static void js_final(const hp_summary *s, FILE *o) {
    fputc('[', o);
    for (int64_t i = 0; i < s->nfinal; i++) {
        const hp_final_record *fr = &s->final[i];
        int g = 1;
        fputs(i ? ", {" : "{", o);
        js_key(o, "kind", &g), js_str(o, fr->kind);
        js_key(o, "trial", &g), fprintf(o, "%lld", (long long)fr->trial);
        js_key(o, "val_acc", &g), js_num(o, fr->val_acc);
        js_key(o, "test_acc", &g), js_num(o, fr->test_acc);
        js_key(o, "test_loss", &g), js_num(o, fr->test_loss);
        fputc('}', o);
    }
    fputc(']', o);
}

static void print_json(const hp_summary *s, int top_n, FILE *o) {
    const hp_results_header *h = s->h;
    int f = 1;
    fputc('{', o);
    js_key(o, "file", &f), js_str(o, s->path);
    js_key(o, "name", &f);
    if (s->name[0]) js_str(o, s->name);
    else fputs("null", o);
    js_key(o, "format_version", &f), fprintf(o, "%d", h->format_version);
    js_key(o, "hpsweep_version", &f), js_str(o, h->hpsweep_version);
    js_key(o, "created_utc", &f), js_str(o, h->created_utc);
    js_key(o, "seed", &f), fprintf(o, "%llu", (unsigned long long)h->meta.seed);
    js_key(o, "spec_sha256", &f), js_str(o, h->meta.spec_sha256);
    js_key(o, "stages", &f), js_stages(s, o);
    js_key(o, "stage_params", &f), js_stage_params(s, o);
    js_key(o, "counts", &f), js_counts(s, o);
    js_key(o, "top", &f), js_top(s, top_n, o);
    js_key(o, "final", &f), js_final(s, o);

    js_key(o, "warnings", &f), fputc('[', o);
    for (int i = 0; i < s->nwarn; i++) {
        if (i) fputs(", ", o);
        js_str(o, s->warn[i]);
    }
    fputc(']', o);

    js_key(o, "elapsed", &f), fputc('{', o);
    int g = 1;
    js_key(o, "trial_seconds", &g), js_num(o, s->trial_seconds);
    js_key(o, "wall_seconds", &g), js_num(o, s->wall_seconds >= 0 ? s->wall_seconds : NAN);
    fputs("}}\n", o);
}

int hp_show_reader(hp_results_reader *rd, const char *path, const hp_show_opts *opts, FILE *out, hp_err *err) {
    int top_n = opts && opts->top_n > 0 ? opts->top_n : 10;
    hp_summary s;
    int rc = hp_summary_read(rd, path, opts ? opts->spec_synthetic : NULL, &s, err);
    if (rc == 0) {
        clearerr(out);
        if (opts && opts->json) print_json(&s, top_n, out);
        else print_text(&s, top_n, out);
        if (fflush(out) != 0 || ferror(out))
            rc = hp_errf(err, "show %s: writing the summary failed: %s", path, strerror(errno));
    }
    hp_summary_free(&s);
    return rc;
}

int hp_show(const char *path, const hp_show_opts *opts, FILE *out, hp_err *err) {
    hp_results_reader *rd = NULL;
    if (hp_results_open_read(path, &rd, err) < 0) return -1;
    int rc = hp_show_reader(rd, path, opts, out, err);
    hp_results_close_read(rd);
    return rc;
}
