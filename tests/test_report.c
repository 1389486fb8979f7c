/* test_report.c - `hpsweep report` and `hpsweep export --csv` (results/report.h) on files of
 * known contents: the sample (tests/results/sample.h), a hostile file (NaN, infinities, zero and
 * negative values, HTML in its strings, a curve row naming no trial), and a large one (1,000
 * trials, 20,000 curve rows) that is timed; and the page comparing two of them.
 *
 * Leaves report_sample.h5, report_sample.html and report_sample_csv/ for
 * tests/integration/check_report.py (a real HTML parser, h5py and pandas).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "report.h"
#include "results/sample.h"

/* The whole file as a string (NULL if it cannot be read). */
static char *slurp(const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    size_t cap = 1 << 16, n = 0, got;
    char *s = malloc(cap + 1);
    while (s && (got = fread(s + n, 1, cap - n, f)) > 0) {
        n += got;
        if (n == cap) {
            char *t = realloc(s, 2 * cap + 1);
            if (!t) free(s);
            s = t;
            cap *= 2;
        }
    }
    fclose(f);
    if (s) s[n] = '\0';
    return s;
}

static long count(const char *hay, const char *needle) {
    long n = 0;
    for (const char *p = hay; p && (p = strstr(p, needle)) != NULL; p += strlen(needle)) n++;
    return n;
}

static void has(const char *text, const char *want) { CHECK(text && strstr(text, want), "page lacks '%s'", want); }
static void lacks(const char *text, const char *bad) { CHECK(text && !strstr(text, bad), "page has '%s'", bad); }

/* Every coordinate attribute holds numbers only (no nan, no inf): returns the bad ones. */
static long bad_coordinates(const char *html) {
    static const char *const attrs[] = {" x=\"", " y=\"", " x1=\"", " y1=\"", " x2=\"", " y2=\"", " cx=\"", " cy=\"",
                                        " r=\"", " width=\"", " height=\"", " points=\"", " d=\""};
    long bad = 0;
    for (size_t a = 0; a < sizeof attrs / sizeof attrs[0]; a++)
        for (const char *p = html; (p = strstr(p, attrs[a])) != NULL;) {
            p += strlen(attrs[a]);
            size_t len = strcspn(p, "\"");
            if (strspn(p, "0123456789.-, Mlm") < len) {
                if (bad++ < 3) printf("bad coordinate: %.40s\n", p - strlen(attrs[a]));
            }
            p += len;
        }
    return bad;
}

/* No reference to anything outside the page. */
static void self_contained(const char *html) {
    lacks(html, "http://");
    lacks(html, "https://");
    lacks(html, "<script");
    lacks(html, "@import");
    lacks(html, "<link");
    lacks(html, "src=");
    CHECK(bad_coordinates(html) == 0, "every coordinate is a number");
}

static void test_sample(void) {
    hp_err err = {{0}};
    sample_expect ex;
    CHECK(sample_write("report_sample.h5", &ex, &err) == 0, "sample_write: %s", err.msg);
    CHECK(hp_report("report_sample.h5", "report_sample.html", NULL, &err) == 0, "hp_report: %s", err.msg);
    char *h = slurp("report_sample.html");
    CHECK(h != NULL, "cannot read report_sample.html");
    if (!h) return;
    self_contained(h);
    /* the searched space: one mark per trial, by status */
    CHECK(count(h, "class=\"pt ") == SAMPLE_NTRIALS, "%ld trial marks, want %d", count(h, "class=\"pt "), SAMPLE_NTRIALS);
    has(h, "data-drawn=\"7\"");
    CHECK(count(h, "class=\"pt done\"") == 4, "4 done marks");
    CHECK(count(h, "class=\"pt diverged\" data-trial=\"1\"") == 1, "trial 1: a diverged mark");
    CHECK(count(h, "class=\"pt failed\" data-trial=\"2\"") == 1, "trial 2: a failed mark");
    CHECK(count(h, "class=\"pt pruned\" data-trial=\"6\"") == 1, "trial 6: a pruned mark");
    CHECK(count(h, "class=\"stage-range\"") == SAMPLE_NSTAGES, "a rectangle per stage");
    /* trial 4, stage 1's best, has lr 0.099 in [1e-3, 1e-1]: at the high edge; stage 0's best
     * (trial 0, lr 3e-3 in [1e-5, 1], weight decay 1e-4 in [1e-6, 0.1]) is mid-range */
    has(h, "stage 1&#39;s best trial 4 sits at the high lr edge of its stage&#39;s range");
    CHECK(count(h, "<circle class=\"callout\"") == 1, "one callout (%ld)", count(h, "<circle class=\"callout\""));
    has(h, "<circle class=\"callout\" data-trial=\"4\"");
    /* accuracy against each parameter: trials with a finite best accuracy (not trial 2), twice */
    CHECK(count(h, "class=\"pa\"") == 2 * 6, "%ld accuracy points, want 12", count(h, "class=\"pa\""));
    /* curves: the 4 scored trials (done), raw and smoothed, in 4 charts */
    has(h, "Learning curves of the top 4 trials");
    CHECK(count(h, "class=\"avg\" data-trial=\"4\"") == 4, "trial 4's smoothed curve in 4 charts");
    CHECK(count(h, "class=\"avg\" data-trial=\"6\"") == 0, "the pruned trial is not among the top");
    /* the wall: every trial, best first */
    CHECK(count(h, "<g class=\"cell ") == SAMPLE_NTRIALS, "a wall cell per trial");
    const char *c4 = strstr(h, "<g class=\"cell done\" data-trial=\"4\""), *c0 = strstr(h, "<g class=\"cell ");
    CHECK(c4 && c4 == c0, "the wall starts with trial 4, the best");
    /* show's summary */
    has(h, "best trial 4 of stage 1 (the last) has lr = 0.099 at the high edge");
    has(h, "<td data-status=\"done\">4</td>");
    has(h, "<td data-status=\"diverged\">1</td>");
    has(h, "<td>4</td><td>0.8600</td><td>0.8525</td><td>0.3125</td>");
    has(h, "widened_high");
    has(h, "results-test");
    free(h);

    hp_report_opts top2 = {.top_n = 2};
    CHECK(hp_report("report_sample.h5", "report_top2.html", &top2, &err) == 0, "hp_report --top 2: %s", err.msg);
    h = slurp("report_top2.html");
    has(h, "Learning curves of the top 2 trials");
    CHECK(h && count(h, "class=\"avg\"") == 2 * 4, "two trials' curves in 4 charts");
    free(h);
}

/* The page in memory (what `hpsweep serve` sends): the same page, with a refresh tag when asked. */
static void test_mem(void) {
    hp_err err = {{0}};
    char *page = NULL, *file = slurp("report_sample.html");
    size_t len = 0;
    CHECK(hp_report_mem("report_sample.h5", NULL, &page, &len, &err) == 0 && page && len == strlen(page),
          "hp_report_mem: %s", err.msg);
    CHECK(page && file && strcmp(page, file) == 0, "the page in memory equals the page written");
    lacks(page, "http-equiv");
    free(page);
    hp_report_opts o = {.refresh_s = 7};
    CHECK(hp_report_mem("report_sample.h5", &o, &page, &len, &err) == 0, "hp_report_mem: %s", err.msg);
    has(page, "<meta http-equiv=\"refresh\" content=\"7\"/>\n<title>");
    free(page);
    CHECK(hp_report_mem("report_missing.h5", NULL, &page, &len, &err) != 0 && page == NULL &&
              strstr(err.msg, "report_missing.h5"), "hp_report_mem of a missing file: %s", err.msg);
    free(file);
    /* each table as CSV in memory equals the file export --csv writes */
    CHECK(hp_export_csv("report_sample.h5", "report_sample_mem_csv", NULL, NULL, &err) == 0, "export: %s", err.msg);
    static const char *const names[2] = {"report_sample_mem_csv/trials.csv", "report_sample_mem_csv/curves.csv"};
    for (int k = 0; k < 2; k++) {
        file = slurp(names[k]);
        CHECK(hp_export_csv_mem("report_sample.h5", k, &page, &len, &err) == 0 && page && file &&
                  len == strlen(file) && strcmp(page, file) == 0, "%s in memory: %s", names[k], err.msg);
        free(page);
        free(file);
    }
    CHECK(hp_export_csv_mem("report_missing.h5", 1, &page, &len, &err) != 0 && page == NULL &&
              strstr(err.msg, "report_missing.h5"), "hp_export_csv_mem of a missing file: %s", err.msg);
}

static void test_errors(void) {
    hp_err err = {{0}};
    CHECK(hp_report("report_missing.h5", "report_missing.html", NULL, &err) != 0 &&
              strstr(err.msg, "report_missing.h5") && strstr(err.msg, "No such file"),
          "a missing file: %s", err.msg);
    CHECK(access("report_missing.html", F_OK) != 0, "no page for a missing file");
    CHECK(hp_report("report_sample.h5", "report_no_dir/x.html", NULL, &err) != 0 &&
              strstr(err.msg, "report_no_dir/x.html"), "an output that cannot be created: %s", err.msg);
    CHECK(hp_export_csv("report_missing.h5", "report_missing_csv", NULL, NULL, &err) != 0 &&
              strstr(err.msg, "report_missing.h5"), "export of a missing file: %s", err.msg);
}

/* ---- a hostile file -------------------------------------------------------------------------- */
/* Trial 3's accuracy of 1e305 (finite, but a range that wide would overflow when padded) must be
 * left out of the charts like NaN, and still give a colour scale and ranking without NaN. */

static hp_results *new_file(const char *path, const char *spec, hp_err *err) {
    hp_results_meta m = {.spec_yaml = spec, .spec_len = strlen(spec), .seed = 1};
    snprintf(m.spec_sha256, sizeof m.spec_sha256, "%064d", 0);
    hp_tensor_info lay[1] = {{.name = "w", .ndim = 2, .shape = {2, 2}, .offset = 0, .size = 4}};
    hp_results *r = NULL;
    unlink(path);
    return hp_results_create(path, &m, lay, 1, &r, err) == 0 ? r : NULL;
}

static hp_trial_record trial(int64_t id, int stage, int status, double lr, double wd, double acc) {
    hp_trial_record t;
    memset(&t, 0, sizeof t);
    t.id = id, t.stage = stage, t.status = status, t.lr = lr, t.weight_decay = wd;
    t.best_val_acc = acc, t.best_val_loss = NAN, t.initial_loss = NAN, t.update_ratio = NAN;
    t.epochs_planned = 3, t.gpu = -1, t.snapshot_row = -1;
    return t;
}

static int write_hostile(const char *path, hp_err *err) {
    hp_results *r = new_file(path, "name: hostile <b>&</b>\nseed: 1\n", err);
    if (!r) return -1;
    hp_trial_record t[7] = {
        trial(0, 0, HP_TRIAL_DONE, 1e-2, 1e-4, 0.9),       trial(1, 0, HP_TRIAL_DONE, NAN, 1e-4, 0.5),
        trial(2, 0, HP_TRIAL_DONE, 1e-2, INFINITY, 0.6),   trial(3, 0, HP_TRIAL_DONE, 1e-3, 0, 1e305),
        trial(4, 1, HP_TRIAL_DIVERGED, -1, 1e-5, NAN),     trial(5, 1, HP_TRIAL_DONE, 1e-1, 1e-3, INFINITY),
        trial(6, 1, HP_TRIAL_RUNNING, 3e-2, 3e-4, NAN)};
    snprintf(t[4].message, sizeof t[4].message, "%s", "<script>alert(\"x\")</script>, \"quoted\"");
    snprintf(t[6].host, sizeof t[6].host, "%s", "<b>host</b>");
    snprintf(t[6].device, sizeof t[6].device, "%s", "dev,\"x\"");
    hp_stage_record s0 = {.stage = 0, .method = "random", .trials = 4, .epochs = 3, .first_trial = 0,
                          .lr_low = 1e-3, .lr_high = NAN, .lr_derivation = "<i>", .wd_low = 0, .wd_high = 1e-2};
    hp_stage_record s1 = {.stage = 1, .method = "grid", .trials = 3, .epochs = 3, .first_trial = 4,
                          .lr_low = 1e-3, .lr_high = 1e-1, .wd_low = 1e-5, .wd_high = 1e-3};
    int ok = hp_results_add_stage(r, &s0, t, 4, err) == 0 && hp_results_add_stage(r, &s1, t + 4, 3, err) == 0;
    const double va[3] = {0.5, NAN, 0.9}, loss[3] = {1, INFINITY, -INFINITY}, ratio[3] = {-1, 0, 1e-3};
    for (int e = 0; ok && e < 3; e++) {
        hp_curve_record c = {.trial = 0, .epoch = e + 1, .lr = 1e-2, .train_loss = loss[e], .train_acc = va[e],
                             .val_loss = loss[e], .val_acc = va[e], .update_ratio = ratio[e]};
        ok = hp_results_append_curve(r, &c, err) == 0;
    }
    /* a row of all NaN (the writer refuses rows naming no trial; the report counts and skips
     * them, for damaged files) */
    hp_curve_record c6 = {.trial = 6, .epoch = 1, .lr = NAN, .train_loss = NAN, .train_acc = NAN,
                          .val_loss = NAN, .val_acc = NAN, .update_ratio = NAN};
    ok = ok && hp_results_append_curve(r, &c6, err) == 0;
    hp_err ignored;
    if (!ok) return hp_results_close(r, &ignored), -1;
    return hp_results_close(r, err);
}

static void test_hostile(void) {
    hp_err err = {{0}};
    CHECK(write_hostile("report_hostile.h5", &err) == 0, "write_hostile: %s", err.msg);
    CHECK(hp_report("report_hostile.h5", "report_hostile.html", NULL, &err) == 0, "hp_report: %s", err.msg);
    char *h = slurp("report_hostile.html");
    CHECK(h != NULL, "cannot read report_hostile.html");
    if (!h) return;
    self_contained(h);
    /* drawable: trials 0, 5 and 6 (1: lr NaN, 2: weight decay inf, 3: weight decay 0, 4: lr < 0) */
    CHECK(count(h, "class=\"pt ") == 3, "%ld trial marks, want 3", count(h, "class=\"pt "));
    has(h, "data-drawn=\"3\"");
    has(h, "3 of 7 trials drawn (the others have");
    lacks(h, "rows of /curves name no trial");
    has(h, "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;, &quot;quoted&quot;");
    has(h, "hostile &lt;b&gt;&amp;&lt;/b&gt;");
    lacks(h, "<b>");
    lacks(h, "<i>");
    CHECK(count(h, "<g class=\"cell ") == 7, "a wall cell per trial");
    free(h);

    long long nt = 0, nc = 0;
    CHECK(hp_export_csv("report_hostile.h5", "report_hostile_csv", &nt, &nc, &err) == 0, "export: %s", err.msg);
    CHECK(nt == 7 && nc == 4, "exported %lld trials, %lld curve rows; want 7, 4", nt, nc);
    char *t = slurp("report_hostile_csv/trials.csv");
    CHECK(t && count(t, "\r\n") == 8, "trials.csv: a header and 7 rows");
    has(t, "\"<script>alert(\"\"x\"\")</script>, \"\"quoted\"\"\",");  /* then parent */
    has(t, ",\"dev,\"\"x\"\"\",");
    has(t, "\n2,0,done,0.01,inf,0,3,0,0.6,,0,,,0,0,,-1,,-1,,"); /* NaN: empty; then the message and parent */
    free(t);
    char *c = slurp("report_hostile_csv/curves.csv");
    CHECK(c && count(c, "\r\n") == 5, "curves.csv: a header and 4 rows");
    has(c, "\n6,1,,,,,,0,,");
    has(c, "\n0,2,0.01,inf,,inf,,0,0,");
    has(c, "\n0,3,0.01,-inf,0.9,-inf,0.9,0,0.001,");
    free(c);
}

/* ---- two files side by side -------------------------------------------------------------------- */

/* Occurrences of needle between from and to (to NULL: the end). */
static long count_between(const char *from, const char *to, const char *needle) {
    long n = 0;
    for (const char *p = from; p && (p = strstr(p, needle)) != NULL && (!to || p < to); p += strlen(needle)) n++;
    return n;
}

/* The frame, grid, ticks and axis labels of the svg with this id (up to its clip group). */
static char *axes_part(const char *html, const char *id) {
    char key[64];
    snprintf(key, sizeof key, "<svg class=\"plot\" id=\"%s\"", id);
    const char *a = html ? strstr(html, key) : NULL, *f = a ? strstr(a, "<rect class=\"frame\"") : NULL;
    const char *g = f ? strstr(f, "<g clip-path") : NULL;
    return g ? strndup(f, (size_t)(g - f)) : NULL;
}

/* A is the hostile file, B the sample: A's own ranges are narrower than B's, so A's chart shows
 * B's lows only when the axes are shared. */
static void test_compare(void) {
    hp_err err = {{0}};
    CHECK(hp_report_compare("report_hostile.h5", "report_sample.h5", "report_compare.html", NULL, &err) == 0,
          "hp_report_compare: %s", err.msg);
    char *h = slurp("report_compare.html");
    CHECK(h != NULL, "cannot read report_compare.html");
    if (!h) return;
    self_contained(h);
    const char *a = strstr(h, "id=\"a-space\""), *b = strstr(h, "id=\"b-space\"");
    CHECK(a && b && a < b, "the two searched spaces, A first");
    CHECK(count_between(a, b, "class=\"pt ") == 3, "A's chart: %ld marks, want 3 (the hostile file's drawable)",
          count_between(a, b, "class=\"pt "));
    CHECK(count_between(b, NULL, "class=\"pt ") == SAMPLE_NTRIALS, "B's chart: %ld marks, want %d",
          count_between(b, NULL, "class=\"pt "), SAMPLE_NTRIALS);
    char *xa = axes_part(h, "a-space"), *xb = axes_part(h, "b-space");
    CHECK(xa && xb && strcmp(xa, xb) == 0, "both searched spaces have the same axes and ticks");
    has(xa, ">1e-5<"); /* B's lowest lr and weight decay, on A's axes */
    has(xa, ">1e-6<");
    free(xa), free(xb);
    xa = axes_part(h, "a-val-acc"), xb = axes_part(h, "b-val-acc");
    CHECK(xa && xb && strcmp(xa, xb) == 0, "both validation-accuracy charts have the same axes");
    free(xa), free(xb);
    has(h, "<td class=\"l\" data-file=\"a\" data-status=\"total\">7</td>");
    has(h, "<td class=\"l\" data-file=\"b\" data-status=\"total\">7</td>");
    has(h, "<td class=\"l\" data-file=\"b\" data-status=\"diverged\">1</td>");
    has(h, "<td data-file=\"b\" data-stage=\"1\">0.8600</td><td>4</td>"); /* sample: stage 1's best, trial 4 */
    has(h, "<td data-file=\"a\" data-stage=\"1\">-</td>");                 /* hostile: no finite score in stage 1 */
    has(h, "hostile &lt;b&gt;&amp;&lt;/b&gt;");
    lacks(h, "<b>hostile");
    CHECK(count(h, "class=\"avg\" data-trial=\"4\"") == 3, "B's trial 4 in the 3 curve charts");
    /* A's only stage best has an accuracy of 1e305, which no axis places: B's line alone */
    CHECK(count(h, "class=\"stage-line\"") == 1, "one per-stage line");
    free(h);
    CHECK(hp_report_compare("report_sample.h5", "report_missing.h5", "report_cmp_missing.html", NULL, &err) != 0 &&
              strstr(err.msg, "report_missing.h5") && access("report_cmp_missing.html", F_OK) != 0,
          "a missing second file: %s", err.msg);
}

/* ---- 1,000 trials, 20,000 curve rows: timed ------------------------------------------------- */

#define BIG_TRIALS 1000
#define BIG_EPOCHS 20

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Two stages (800 random trials, a 200-point grid), every trial 20 epochs; every 10th
 * diverged, every 17th pruned. Accuracy peaks at lr 1e-2, weight decay 1e-4. */
static int write_big(const char *path, hp_err *err) {
    hp_results *r = new_file(path, "name: big\n", err);
    if (!r) return -1;
    static hp_trial_record t[BIG_TRIALS];
    for (int i = 0; i < BIG_TRIALS; i++) {
        double lr = pow(10, -5 + 5.0 * ((i * 7919) % 1000) / 1000.0);
        double wd = pow(10, -6 + 5.0 * ((i * 104729) % 997) / 997.0);
        int st = i % 10 == 3 ? HP_TRIAL_DIVERGED : i % 17 == 5 ? HP_TRIAL_PRUNED : HP_TRIAL_DONE;
        double acc = 0.9 - 0.05 * pow(log10(lr) + 2, 2) - 0.02 * pow(log10(wd) + 4, 2);
        t[i] = trial(i, i < 800 ? 0 : 1, st, lr, wd, st == HP_TRIAL_DIVERGED ? NAN : acc);
        t[i].epochs_done = BIG_EPOCHS;
    }
    hp_stage_record s0 = {.stage = 0, .method = "random", .trials = 800, .epochs = BIG_EPOCHS, .lr_low = 1e-5,
                          .lr_high = 1, .wd_low = 1e-6, .wd_high = 0.1};
    hp_stage_record s1 = {.stage = 1, .method = "grid", .trials = 200, .epochs = BIG_EPOCHS, .first_trial = 800,
                          .lr_low = 1e-3, .lr_high = 1e-1, .wd_low = 1e-5, .wd_high = 1e-3};
    int ok = hp_results_add_stage(r, &s0, t, 800, err) == 0 && hp_results_add_stage(r, &s1, t + 800, 200, err) == 0;
    for (int i = 0; ok && i < BIG_TRIALS; i++)
        for (int e = 1; ok && e <= BIG_EPOCHS; e++) {
            double f = 1 - exp(-0.3 * e);
            hp_curve_record c = {.trial = i, .epoch = e, .lr = t[i].lr, .train_loss = 2.3 * (1 - f) + 0.1,
                                 .train_acc = t[i].best_val_acc * f + 0.02, .val_loss = 2.3 * (1 - f) + 0.2,
                                 .val_acc = t[i].best_val_acc * f, .update_ratio = t[i].lr * 0.1 / e};
            ok = hp_results_append_curve(r, &c, err) == 0;
        }
    hp_err ignored;
    if (!ok) return hp_results_close(r, &ignored), -1;
    return hp_results_close(r, err);
}

static void test_big(void) {
    hp_err err = {{0}};
    double t0 = now_s();
    CHECK(write_big("report_big.h5", &err) == 0, "write_big: %s", err.msg);
    double t1 = now_s();
    CHECK(hp_report("report_big.h5", "report_big.html", NULL, &err) == 0, "hp_report: %s", err.msg);
    double t2 = now_s();
    long long nt = 0, nc = 0;
    CHECK(hp_export_csv("report_big.h5", "report_big_csv", &nt, &nc, &err) == 0, "export: %s", err.msg);
    double t3 = now_s();
    CHECK(nt == BIG_TRIALS && nc == BIG_TRIALS * BIG_EPOCHS, "exported %lld trials, %lld curve rows", nt, nc);
    char *h = slurp("report_big.html");
    CHECK(h && count(h, "class=\"pt ") == BIG_TRIALS, "%ld trial marks", h ? count(h, "class=\"pt ") : -1L);
    CHECK(h && count(h, "<g class=\"cell ") == BIG_TRIALS, "a wall cell per trial");
    printf("1,000 trials, 20,000 curve rows: writing the file %.2f s, report %.3f s (%zu bytes), "
           "export --csv %.3f s\n", t1 - t0, t2 - t1, h ? strlen(h) : 0, t3 - t2);
    /* The target is under a second; the limit leaves room for a loaded test machine. */
    CHECK(t2 - t1 < 3.0, "report of 1,000 trials took %.2f s", t2 - t1);
    free(h);
}

/* Searched parameters beyond lr and weight decay: one accuracy chart per number column (log x
 * where /stage_params says log), none for a choice of words; the CSV lists every column. */
static void test_param_charts(void) {
    hp_err err = {{0}};
    const char *spec = "name: params\nseed: 1\n";
    hp_results_meta m = {.spec_yaml = spec, .spec_len = strlen(spec), .seed = 1, .nxcols = 3};
    snprintf(m.spec_sha256, sizeof m.spec_sha256, "%064d", 0);
    m.xcols[0] = (hp_param_column){.name = "optimizer.momentum", .text = 0};
    m.xcols[1] = (hp_param_column){.name = "optimizer.type", .text = 1};
    m.xcols[2] = (hp_param_column){.name = "train.batch_size", .text = 0};
    hp_tensor_info lay[1] = {{.name = "w", .ndim = 2, .shape = {2, 2}, .offset = 0, .size = 4}};
    hp_results *r = NULL;
    unlink("report_params.h5");
    CHECK(hp_results_create("report_params.h5", &m, lay, 1, &r, &err) == 0, "create: %s", err.msg);
    if (!r) return;
    hp_trial_record t[4];
    const double mom[4] = {0.5, 0.9, 0.7, NAN}, bs[4] = {32, 256, 64, 128};
    for (int i = 0; i < 4; i++) {
        t[i] = trial(i, 0, HP_TRIAL_DONE, 1e-2 * (i + 1), 1e-4, 0.5 + 0.1 * i);
        t[i].xcol[0].num = mom[i];
        snprintf(t[i].xcol[1].text, sizeof t[i].xcol[1].text, "%s", i % 2 ? "adam" : "sgd");
        t[i].xcol[2].num = bs[i];
    }
    hp_stage_param_record sp[2] = {{.stage = 0, .name = "optimizer.momentum", .scale = "linear", .low = 0.5, .high = 0.9},
                                   {.stage = 0, .name = "train.batch_size", .scale = "int_log", .low = 32, .high = 256}};
    hp_stage_record s0 = {.stage = 0, .method = "random", .trials = 4, .epochs = 3, .first_trial = 0,
                          .lr_low = 1e-2, .lr_high = 4e-2, .wd_low = 1e-4, .wd_high = 1e-4};
    int ok = hp_results_add_stage_params(r, sp, 2, &err) == 0 && hp_results_add_stage(r, &s0, t, 4, &err) == 0;
    CHECK(ok, "write: %s", err.msg);
    hp_err ignored;
    if (hp_results_close(r, ok ? &err : &ignored) != 0 || !ok) return;
    CHECK(hp_report("report_params.h5", "report_params.html", NULL, &err) == 0, "hp_report: %s", err.msg);
    char *h = slurp("report_params.html");
    if (!h) return;
    /* lr, wd and two number columns (momentum: 3 trials with a value; batch size: 4); not the text one */
    has(h, "id=\"acc-p0\"");
    has(h, "id=\"acc-p2\"");
    lacks(h, "id=\"acc-p1\"");
    CHECK(count(h, "class=\"pa\"") == 4 + 4 + 3 + 4, "%ld accuracy points, want 15", count(h, "class=\"pa\""));
    has(h, "<th>momentum</th><th>type</th><th>batch_size</th><th>best val acc</th>"); /* the top table */
    has(h, "<td>0.9</td><td>adam</td><td>256</td>");
    char *b = axes_part(h, "acc-p2"); /* batch size was searched on a log scale: decade ticks */
    CHECK(b && strstr(b, ">100<"), "batch size axis: log ticks (a 100 tick)");
    free(b);
    free(h);
    long long nt = 0, nc = 0;
    CHECK(hp_export_csv("report_params.h5", "report_params_csv", &nt, &nc, &err) == 0, "export: %s", err.msg);
    char *c = slurp("report_params_csv/trials.csv");
    has(c, ",parent,optimizer.momentum,optimizer.type,train.batch_size\r\n");
    has(c, ",0.9,adam,256\r\n");
    free(c);
}

int main(void) {
    test_param_charts();
    test_sample();
    test_mem();
    test_errors();
    test_hostile();
    test_compare();
    test_big();
    return hp_check_summary("test_report");
}
