/* sample.c - see sample.h. */
#include "sample.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static const char sample_spec[] =
    "# results test spec\n"
    "name: \"results-test\"\n"
    "seed: 7\n"
    "search:\n"
    "  lr: {low: 1.0e-5, high: 1.0}\n";

static hp_trial_record planned(int64_t id, int stage, double lr, double wd, int epochs) {
    hp_trial_record t;
    memset(&t, 0, sizeof t);
    t.id = id;
    t.stage = stage;
    t.status = HP_TRIAL_PENDING;
    t.lr = lr;
    t.weight_decay = wd;
    t.seed = 0x9e3779b97f4a7c15ull ^ (uint64_t)id;
    t.epochs_planned = epochs;
    t.best_val_acc = NAN;
    t.best_val_loss = NAN;
    t.initial_loss = NAN;
    t.gpu = -1; /* device "": not run yet */
    t.snapshot_row = -1;
    t.parent = -1; /* not promoted */
    return t;
}

/* One epoch of trial `id`: a curve row, the trial row updated. */
static int epoch(hp_results *r, sample_expect *ex, int64_t id, int e, double val_acc,
                 hp_err *err) {
    hp_trial_record *t = &ex->trials[id];
    hp_curve_record c = {.trial = id, .epoch = e, .lr = t->lr, .train_loss = 1.5 / e,
                         .train_acc = val_acc + 0.01, .val_loss = 1.6 / e, .val_acc = val_acc,
                         .seconds = 0.25 * e};
    if (ex->ncurves >= SAMPLE_MAXCURVES) return hp_errf(err, "sample: too many curves");
    ex->curves[ex->ncurves++] = c;
    if (hp_results_append_curve(r, &c, err) < 0) return -1;
    t->epochs_done = e;
    t->seconds += c.seconds;
    if (!(val_acc <= t->best_val_acc)) { /* also when best is still NaN */
        t->best_val_acc = val_acc;
        t->best_val_loss = c.val_loss;
        t->best_epoch = e;
    }
    return hp_results_update_trial(r, t, err);
}

static int start(hp_results *r, sample_expect *ex, int64_t id, int rank, hp_err *err) {
    hp_trial_record *t = &ex->trials[id];
    t->status = HP_TRIAL_RUNNING;
    t->rank = rank;
    snprintf(t->host, sizeof t->host, "node-%c", 'a' + rank);
    /* rank 1 trains on a GPU, rank 2 on the CPU */
    t->gpu = rank == 1 ? 0 : -1;
    snprintf(t->device, sizeof t->device, "%s", rank == 1 ? SAMPLE_GPU_NAME : "cpu");
    t->initial_loss = 2.302585;
    return hp_results_update_trial(r, t, err);
}

static int finish(hp_results *r, sample_expect *ex, int64_t id, hp_trial_status st,
                  const char *msg, int keep_snapshot, hp_err *err) {
    hp_trial_record *t = &ex->trials[id];
    t->status = st;
    if (msg) snprintf(t->message, sizeof t->message, "%s", msg);
    if (keep_snapshot) {
        float *s = ex->snap[ex->nsnap];
        for (int i = 0; i < SAMPLE_STATE; i++) s[i] = (float)id + 0.001f * (float)i - 0.5f;
        if (hp_results_append_snapshot(r, s, &t->snapshot_row, err) < 0) return -1;
        if (t->snapshot_row != ex->nsnap) return hp_errf(err, "sample: snapshot row %lld, want %d",
                                                         (long long)t->snapshot_row, ex->nsnap);
        ex->nsnap++;
    }
    return hp_results_update_trial(r, t, err);
}

int sample_write(const char *path, sample_expect *ex, hp_err *err) {
    memset(ex, 0, sizeof *ex);
    if (unlink(path) < 0 && access(path, F_OK) == 0)
        return hp_errf(err, "sample: cannot remove old %s", path);
    ex->spec = sample_spec;
    ex->meta.spec_yaml = sample_spec;
    ex->meta.spec_len = strlen(sample_spec);
    snprintf(ex->meta.spec_sha256, sizeof ex->meta.spec_sha256, "%s",
             "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
    ex->meta.seed = 7;
    ex->meta.data_hash[0] = 0xfedcba9876543210ull; /* above INT64_MAX: unsigned all the way */
    ex->meta.data_hash[1] = 2;
    ex->meta.data_hash[2] = 3;
    hp_tensor_info lay[SAMPLE_NTENSORS] = {
        {.name = "dense0.weight", .ndim = 2, .shape = {4, 3}, .offset = 0, .size = 12},
        {.name = "dense0.bias", .ndim = 1, .shape = {4}, .offset = 12, .size = 4},
        {.name = "bn0.running_mean", .ndim = 1, .shape = {4}, .offset = 16, .size = 4,
         .is_buffer = 1}};
    memcpy(ex->layout, lay, sizeof lay);

    hp_results *r = NULL;
    if (hp_results_create(path, &ex->meta, ex->layout, SAMPLE_NTENSORS, &r, err) < 0) return -1;

    hp_stage_record s0 = {.stage = 0, .method = "random", .trials = 4, .epochs = 2,
                          .first_trial = 0, .lr_low = 1e-5, .lr_high = 1.0,
                          .lr_derivation = "initial", .wd_low = 1e-6, .wd_high = 1e-1,
                          .wd_derivation = "initial"};
    hp_stage_record s1 = {.stage = 1, .method = "grid", .trials = 3, .epochs = 3,
                          .first_trial = 4, .lr_low = 1e-3, .lr_high = 1e-1,
                          .lr_derivation = "narrowed", .wd_low = 1e-5, .wd_high = 1e-3,
                          .wd_derivation = "widened_high"};
    ex->stages[0] = s0;
    ex->stages[1] = s1;
    ex->trials[0] = planned(0, 0, 3e-3, 1e-4, 2);
    ex->trials[1] = planned(1, 0, 0.9, 1e-5, 2);
    ex->trials[2] = planned(2, 0, 1e-5, 1e-2, 2);
    ex->trials[3] = planned(3, 0, 1e-2, 1e-3, 2);
    ex->trials[4] = planned(4, 1, 0.099, 1e-4, 3);
    ex->trials[5] = planned(5, 1, 1e-2, 3e-4, 3);
    ex->trials[6] = planned(6, 1, 1e-3, 1e-4, 3);

    int ok = hp_results_add_stage(r, &s0, &ex->trials[0], 4, err) == 0 &&
             start(r, ex, 0, 1, err) == 0 && epoch(r, ex, 0, 1, 0.78, err) == 0 &&
             epoch(r, ex, 0, 2, 0.80, err) == 0 &&
             finish(r, ex, 0, HP_TRIAL_DONE, NULL, 1, err) == 0 &&
             start(r, ex, 1, 2, err) == 0 && epoch(r, ex, 1, 1, 0.10, err) == 0 &&
             finish(r, ex, 1, HP_TRIAL_DIVERGED, "loss 4.1e+07 exceeds 10 x initial loss 2.30",
                    0, err) == 0 &&
             start(r, ex, 2, 1, err) == 0 &&
             finish(r, ex, 2, HP_TRIAL_FAILED, "out of memory allocating 123 bytes for activations",
                    0, err) == 0 &&
             start(r, ex, 3, 2, err) == 0 && epoch(r, ex, 3, 1, 0.70, err) == 0 &&
             epoch(r, ex, 3, 2, 0.75, err) == 0 &&
             finish(r, ex, 3, HP_TRIAL_DONE, NULL, 1, err) == 0 &&
             hp_results_add_stage(r, &s1, &ex->trials[4], 3, err) == 0 &&
             start(r, ex, 4, 1, err) == 0 && start(r, ex, 5, 2, err) == 0 &&
             epoch(r, ex, 4, 1, 0.83, err) == 0 && epoch(r, ex, 5, 1, 0.82, err) == 0 &&
             epoch(r, ex, 4, 2, 0.86, err) == 0 && epoch(r, ex, 5, 2, 0.84, err) == 0 &&
             epoch(r, ex, 4, 3, 0.85, err) == 0 && epoch(r, ex, 5, 3, 0.83, err) == 0 &&
             finish(r, ex, 4, HP_TRIAL_DONE, NULL, 1, err) == 0 &&
             finish(r, ex, 5, HP_TRIAL_DONE, NULL, 1, err) == 0 &&
             start(r, ex, 6, 1, err) == 0 && epoch(r, ex, 6, 1, 0.40, err) == 0 &&
             finish(r, ex, 6, HP_TRIAL_PRUNED, "pruned: below the stage median after epoch 1", 0,
                    err) == 0;
    hp_final_record f = {.kind = "best", .trial = 4, .val_acc = 0.86, .test_loss = 0.3125,
                         .test_acc = 0.8525};
    ex->final = f;
    /* Set twice: /final is replaced as a whole, not appended to. */
    ok = ok && hp_results_set_final(r, &f, 1, err) == 0 && hp_results_set_final(r, &f, 1, err) == 0;
    if (!ok) {
        hp_err ignored;
        hp_results_close(r, &ignored);
        return -1;
    }
    return hp_results_close(r, err);
}

int sample_copy_file(const char *from, const char *to) {
    FILE *a = fopen(from, "rb"), *b = fopen(to, "wb");
    char buf[1 << 14];
    size_t n;
    int rc = a && b ? 0 : -1;
    while (rc == 0 && (n = fread(buf, 1, sizeof buf, a)) > 0)
        if (fwrite(buf, 1, n, b) != n) rc = -1;
    if (a && ferror(a)) rc = -1;
    if (a) fclose(a);
    if (b && fclose(b) != 0) rc = -1;
    return rc;
}
