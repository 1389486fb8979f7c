/* show.c - `hpsweep show`: summarise a results file as text or JSON; see show.h.
 *
 * Reading and summarising (counts, ranking, warnings) happen once into a `summary`; the text
 * and JSON printers only format it, so both always say the same thing.
 */
#include "show.h"

#include <stdint.h>

#include "hp_checked.h"

#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "results.h"

#define MAX_WARN 24
#define MAX_LISTED 3 /* diverged / failed trials listed by name before "and N more" */

typedef struct summary {
    const char *path;
    const hp_results_header *h;
    char name[96];
    hp_trial_record *trials;
    int64_t ntrials;
    hp_stage_record *stages;
    int64_t nstages;
    hp_final_record *final;
    int64_t nfinal;
    int64_t counts[HP_TRIAL_PRUNED + 1];
    const hp_trial_record **ranked; /* done and running trials with a score, best first */
    int64_t nranked;
    char warn[MAX_WARN][400];
    int nwarn;
    double trial_seconds, wall_seconds; /* wall_seconds < 0: unknown */
    int synthetic;                      /* the spec says a synthetic sweep: 1 yes, 0 no, -1 unknown */
} summary;

static void warnf(summary *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warnf(summary *s, const char *fmt, ...) {
    if (s->nwarn >= MAX_WARN) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->warn[s->nwarn++], sizeof s->warn[0], fmt, ap);
    va_end(ap);
}

/* The spec's top-level `name:` value, unquoted, or "" when it has none. */
static void spec_name(const char *spec, char *dst, size_t n) {
    dst[0] = '\0';
    for (const char *line = spec; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
        if (strncmp(line, "name:", 5) != 0) continue;
        const char *v = line + 5;
        while (*v == ' ' || *v == '\t') v++;
        size_t len = strcspn(v, "\r\n#");
        while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t')) len--;
        if (len >= 2 && (v[0] == '"' || v[0] == '\'') && v[len - 1] == v[0]) {
            v++;
            len -= 2;
        }
        if (len >= n) len = n - 1;
        memcpy(dst, v, len);
        dst[len] = '\0';
        return;
    }
}

/* Seconds since the epoch of "YYYY-MM-DDTHH:MM:SSZ" (days-from-civil, proleptic Gregorian),
 * or -1 if it does not parse. timegm() is not POSIX. */
static double parse_utc(const char *s) {
    int y, mo, d, hh, mm, ss;
    if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ", &y, &mo, &d, &hh, &mm, &ss) != 6) return -1;
    if (mo < 1 || mo > 12 || d < 1 || d > 31) return -1;
    y -= mo <= 2;
    long era = (y >= 0 ? y : y - 399) / 400;
    long yoe = y - era * 400;
    long doy = (153L * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    long doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    double days = (double)(era * 146097 + doe - 719468);
    return days * 86400.0 + hh * 3600.0 + mm * 60.0 + ss;
}

static int by_score(const void *a, const void *b) {
    const hp_trial_record *x = *(const hp_trial_record *const *)a;
    const hp_trial_record *y = *(const hp_trial_record *const *)b;
    if (x->best_val_acc != y->best_val_acc) return x->best_val_acc > y->best_val_acc ? -1 : 1;
    return (x->id > y->id) - (x->id < y->id);
}

/* Where v lies in [lo, hi] as a fraction of the width: log10 scale when the range is
 * positive (the search samples log-uniformly), linear otherwise. */
static double range_fraction(double v, double lo, double hi) {
    if (lo > 0 && v > 0) return (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
    return (v - lo) / (hi - lo);
}

static void edge_warning(summary *s, const hp_trial_record *best, const hp_stage_record *st,
                         const char *param, double v, double lo, double hi) {
    if (!(hi > lo) || !isfinite(v)) return; /* fixed parameter */
    double f = range_fraction(v, lo, hi);
    const char *side = f <= HP_SHOW_EDGE_FRACTION ? "low" : f >= 1 - HP_SHOW_EDGE_FRACTION ? "high" : NULL;
    if (!side) return;
    warnf(s, "best trial %lld of stage %d (the last) has %s = %.3g at the %s edge of the stage's "
             "range [%.3g, %.3g]: the optimum may lie beyond it; widen the range on that side",
          (long long)best->id, st->stage, param, v, side, lo, hi);
}

static void make_warnings(summary *s) {
    /* The best trial of the last stage that has a scored trial. */
    const hp_trial_record *best = NULL;
    for (int64_t i = 0; i < s->nranked; i++)
        if (!best || s->ranked[i]->stage > best->stage) best = s->ranked[i];
    /* ranked is best first, so the first trial of the highest stage is that stage's best */
    for (int64_t i = 0; best && i < s->nranked; i++)
        if (s->ranked[i]->stage == best->stage) { best = s->ranked[i]; break; }
    const hp_stage_record *st = NULL;
    for (int64_t i = 0; best && i < s->nstages; i++)
        if (s->stages[i].stage == best->stage) st = &s->stages[i];
    if (best && st && st->stage == s->stages[s->nstages - 1].stage) {
        edge_warning(s, best, st, "lr", best->lr, st->lr_low, st->lr_high);
        edge_warning(s, best, st, "weight_decay", best->weight_decay, st->wd_low, st->wd_high);
    }

    const hp_trial_status bad[2] = {HP_TRIAL_DIVERGED, HP_TRIAL_FAILED};
    for (int b = 0; b < 2; b++) {
        int64_t listed = 0;
        for (int64_t i = 0; i < s->ntrials; i++) {
            const hp_trial_record *t = &s->trials[i];
            if (t->status != (int32_t)bad[b]) continue;
            if (listed++ < MAX_LISTED)
                warnf(s, "trial %lld (stage %d, lr %.3g, weight_decay %.3g) %s at epoch %d: %s",
                      (long long)t->id, t->stage, t->lr, t->weight_decay,
                      hp_trial_status_name(bad[b]), t->epochs_done,
                      t->message[0] ? t->message : "(no message)");
        }
        if (listed > MAX_LISTED)
            warnf(s, "... and %lld more %s trials", (long long)(listed - MAX_LISTED),
                  hp_trial_status_name(bad[b]));
    }
    int64_t open = s->counts[HP_TRIAL_PENDING] + s->counts[HP_TRIAL_RUNNING];
    if (open > 0)
        warnf(s, "%lld trials not finished (%lld running, %lld pending): the sweep is still "
                 "running or was interrupted (`hpsweep resume %s` continues it)",
              (long long)open, (long long)s->counts[HP_TRIAL_RUNNING],
              (long long)s->counts[HP_TRIAL_PENDING], s->path);
    if (s->ntrials > 0 && s->nranked == 0 && open == 0)
        warnf(s, "no trial finished with a validation score: check the spec's ranges and data");
    if (s->ntrials > 0 && open == 0 && s->nfinal == 0 && s->nranked > 0) {
        /* The spec says whether the sweep trained models; only when it cannot be read is a best
         * trial without a snapshot taken for a synthetic sweep (a real one can lose its best
         * trial's snapshot row to keep_snapshots when show's ranking and the sweep's differ). */
        int synthetic = s->synthetic >= 0 ? s->synthetic : s->ranked[0]->snapshot_row < 0;
        if (synthetic)
            warnf(s, "no test-set result in /final: a synthetic sweep (train.synthetic_ms > 0) trains no model, "
                     "so nothing was evaluated on the test split");
        else
            warnf(s, "no test-set result in /final: the sweep stopped before its final evaluation "
                     "(`hpsweep resume %s` runs it)", s->path);
    }
}

static int summarise(hp_results_reader *rd, const char *path, const hp_show_opts *opts, summary *s, hp_err *err) {
    memset(s, 0, sizeof *s);
    s->path = path;
    s->h = hp_results_reader_header(rd);
    s->synthetic = opts && opts->spec_synthetic ? opts->spec_synthetic(s->h->meta.spec_yaml, s->h->meta.spec_len) : -1;
    /* The resolved name the writer stored (files since resume exist), else the spec's name: line. */
    if (s->h->meta.spec_name[0]) snprintf(s->name, sizeof s->name, "%s", s->h->meta.spec_name);
    else spec_name(s->h->meta.spec_yaml, s->name, sizeof s->name);
    if (hp_results_read_trials(rd, &s->trials, &s->ntrials, err) < 0 ||
        hp_results_read_stages(rd, &s->stages, &s->nstages, err) < 0 ||
        hp_results_read_final(rd, &s->final, &s->nfinal, err) < 0)
        return -1;
    s->ranked = hp_calloc((size_t)s->ntrials, sizeof *s->ranked, "the trial ranking", err);
    if (!s->ranked) return -1;
    for (int64_t i = 0; i < s->ntrials; i++) {
        const hp_trial_record *t = &s->trials[i];
        s->counts[t->status]++; /* the reader checked the range */
        s->trial_seconds += isfinite(t->seconds) ? t->seconds : 0;
        if ((t->status == HP_TRIAL_DONE || t->status == HP_TRIAL_RUNNING) &&
            isfinite(t->best_val_acc))
            s->ranked[s->nranked++] = t;
    }
    qsort(s->ranked, (size_t)s->nranked, sizeof *s->ranked, by_score);
    double created = parse_utc(s->h->created_utc);
    time_t now = time(NULL);
    s->wall_seconds = created >= 0 && now != (time_t)-1 ? (double)now - created : -1;
    make_warnings(s);
    return 0;
}

static void summary_free(summary *s) {
    free(s->trials);
    free(s->stages);
    free(s->final);
    free(s->ranked);
}

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

static void print_text(const summary *s, int top_n, FILE *o) {
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
        char lr[48], wd[48];
        snprintf(lr, sizeof lr, "[%.3g, %.3g]", st->lr_low, st->lr_high);
        snprintf(wd, sizeof wd, "[%.3g, %.3g]", st->wd_low, st->wd_high);
        fprintf(o, "  %-5d  %-7s  %6d  %6d  %-21s  %-13s  %-21s  %s\n", st->stage, st->method,
                st->trials, st->epochs, lr, st->lr_derivation, wd, st->wd_derivation);
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
    fprintf(o, "  %4s  %6s  %5s  %10s  %12s  %12s  %10s  %9s  %-8s  %s\n", "#", "trial", "stage", "lr",
            "weight_decay", "best_val_acc", "best_epoch", "seconds", "status", "device");
    for (int64_t i = 0; i < shown; i++) {
        const hp_trial_record *t = s->ranked[i];
        char device[96];
        trial_device(t, device, sizeof device);
        fprintf(o, "  %4lld  %6lld  %5d  %10.3e  %12.3e  %12.4f  %10d  %9.1f  %-8s  %s\n",
                (long long)(i + 1), (long long)t->id, t->stage, t->lr, t->weight_decay,
                t->best_val_acc, t->best_epoch, t->seconds,
                hp_trial_status_name((hp_trial_status)t->status), device);
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

/* "stages": [{...}, ...], one object per stage row. */
static void js_stages(const summary *s, FILE *o) {
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

/* "counts": {status: n, ..., "total": n}. */
static void js_counts(const summary *s, FILE *o) {
    fputc('{', o);
    int g = 1;
    for (int st = HP_TRIAL_PENDING; st <= HP_TRIAL_PRUNED; st++)
        js_key(o, hp_trial_status_name((hp_trial_status)st), &g),
            fprintf(o, "%lld", (long long)s->counts[st]);
    js_key(o, "total", &g), fprintf(o, "%lld", (long long)s->ntrials);
    fputc('}', o);
}

/* "top": the first top_n ranked trials, best first. */
static void js_top(const summary *s, int top_n, FILE *o) {
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
        js_key(o, "best_val_acc", &g), js_num(o, t->best_val_acc);
        js_key(o, "best_val_loss", &g), js_num(o, t->best_val_loss);
        js_key(o, "best_epoch", &g), fprintf(o, "%d", t->best_epoch);
        js_key(o, "seconds", &g), js_num(o, t->seconds);
        js_key(o, "gpu", &g), fprintf(o, "%d", (int)t->gpu);
        js_key(o, "device", &g), js_str(o, t->device);
        fputc('}', o);
    }
    fputc(']', o);
}

/* "final": the /final rows. */
static void js_final(const summary *s, FILE *o) {
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

static void print_json(const summary *s, int top_n, FILE *o) {
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
    summary s;
    int rc = summarise(rd, path, opts, &s, err);
    if (rc == 0) {
        clearerr(out);
        if (opts && opts->json) print_json(&s, top_n, out);
        else print_text(&s, top_n, out);
        if (fflush(out) != 0 || ferror(out))
            rc = hp_errf(err, "show %s: writing the summary failed: %s", path, strerror(errno));
    }
    summary_free(&s);
    return rc;
}

int hp_show(const char *path, const hp_show_opts *opts, FILE *out, hp_err *err) {
    hp_results_reader *rd = NULL;
    if (hp_results_open_read(path, &rd, err) < 0) return -1;
    int rc = hp_show_reader(rd, path, opts, out, err);
    hp_results_close_read(rd);
    return rc;
}
