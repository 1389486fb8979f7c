/* coord_record.c - the coordinator records what trials report, shows progress, and notes stop
 * requests (asked by coordinator.c and coord_dispatch.c, so it sits below both).
 *
 * Write order per event (each write is flushed, so a kill -9 between two leaves a file that
 * resume understands):
 *   start:      /trials row -> running (rank, host, gpu, device)
 *   epoch:      /curves row (appended, or rewritten in place when the epoch ran before an
 *               interruption), then /trials epochs_done
 *   checkpoint: /checkpoints vector, its index row, the previous slot freed (results.h)
 *   result:     snapshot row, /trials row -> final status, then the checkpoint slot freed (or kept as
 *               the final state a promote stage continues: coord_promote.c)
 */
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "coord_impl.h"

/* ---- fault injection (tests only; see coord_impl.h) ------------------------------------------ */

void hp_coord_fault_setup(coord *c) {
    static const char *const events[] = {"epoch", "checkpoint", "snapshot", "result"};
    c->fault.event = HP_FAULT_NONE;
    const char *f = getenv("HPSWEEP_FAULT");
    if (!f || !*f) return;
    char ev[16] = "", sig[8] = "";
    long long n = 0;
    if (sscanf(f, "%15[a-z]:%lld:%7[a-z]", ev, &n, sig) != 3 || n < 1) return;
    for (int i = 0; i < HP_FAULT_NONE; i++)
        if (strcmp(ev, events[i]) == 0) c->fault.event = i;
    c->fault.sig = strcmp(sig, "kill") == 0 ? SIGKILL : strcmp(sig, "int") == 0 ? SIGINT : SIGTERM;
    c->fault.n = n;
}

void hp_coord_fault(coord *c, int event) {
    if (event != c->fault.event || ++c->fault.count[event] != c->fault.n) return;
    fflush(stdout);
    raise(c->fault.sig);
}

/* ---- stop requests ------------------------------------------------------------------------- */

int hp_coord_stop_requested(coord *c) {
    if (!c->stopping && c->opts->stop && *c->opts->stop) c->stopping = *c->opts->stop;
    return c->stopping != 0;
}

/* ---- progress ------------------------------------------------------------------------------ */

void hp_coord_clear_status(coord *c) {
    if (c->prog.status_shown) {
        fprintf(stderr, "\r\033[K");
        c->prog.status_shown = 0;
    }
}

static void fmt_duration(double s, char *buf, size_t len) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

void hp_coord_show_status(coord *c) {
    if (!c->opts->progress) return;
    double elapsed = hp_now_seconds() - c->timing.t0;
    char el[32], eta[32] = "?";
    fmt_duration(elapsed, el, sizeof el);
    if (c->prog.epochs_done > 0)
        fmt_duration(elapsed * (double)(c->prog.epochs_total - c->prog.epochs_done) / (double)c->prog.epochs_done, eta,
                     sizeof eta);
    char best[64] = "none yet";
    if (c->snap.best_trial >= 0)
        snprintf(best, sizeof best, "%.4f (trial %lld)", c->plan.recs[c->snap.best_trial].best_val_acc,
                 (long long)c->snap.best_trial);
    fprintf(stderr, "\r\033[K[stage %d/%d] %lld/%lld trials  best val acc %s  elapsed %s  ETA %s",
            c->plan.stage.stage + 1, c->spec->search.nstages, (long long)c->prog.done, (long long)c->prog.total, best,
            el, eta);
    c->prog.status_shown = 1;
}

/* ---- recording ----------------------------------------------------------------------------- */

int hp_coord_start_trial(coord *c, const hp_trial_plan *p, int rank, const hp_msg_ready *who, hp_err *err) {
    double t = hp_now_seconds();
    hp_trial_record *r = &c->plan.recs[p->id];
    r->status = HP_TRIAL_RUNNING;
    r->rank = rank;
    snprintf(r->host, sizeof r->host, "%.*s", (int)sizeof r->host - 1, who->host);
    r->gpu = who->gpu;
    snprintf(r->device, sizeof r->device, "%.*s", (int)sizeof r->device - 1, who->device_name);
    int rc = hp_results_update_trial(c->res, r, err);
    c->timing.record_seconds += hp_now_seconds() - t;
    return rc;
}

static int in_stage(const coord *c, int64_t trial) {
    return trial >= c->plan.stage.first_trial_id && trial < c->plan.stage.first_trial_id + c->plan.stage.ntrials;
}

_Static_assert(HP_CURVE_RATIOS == HP_MAX_RATIOS, "a curve row holds every per-layer ratio");

int hp_coord_record_epoch(coord *c, int64_t trial, const hp_epoch_metrics *m, hp_err *err) {
    if (!in_stage(c, trial))
        return hp_errf(err, "epoch report for trial %lld, which is not in the running stage", (long long)trial);
    double t = hp_now_seconds();
    hp_trial_record *r = &c->plan.recs[trial];
    if (m->epoch < 1 || m->epoch > r->epochs_planned)
        return hp_errf(err, "trial %lld reported epoch %d of %d", (long long)trial, m->epoch, r->epochs_planned);
    r->epochs_done = m->epoch;
    r->update_ratio = m->update_ratio;
    hp_curve_record cr = {trial, m->epoch, m->lr, m->train_loss, m->train_acc, m->val_loss, m->val_acc, m->seconds,
                          m->update_ratio, {0}};
    for (int k = 0; k < HP_CURVE_RATIOS; k++) cr.layer_update_ratio[k] = k < m->nratios ? m->layer_ratio[k] : NAN;
    /* One row per (trial, epoch): an epoch that ran before an interruption keeps its row. */
    int64_t row = c->resume.curve_rows && c->resume.curve_rows[trial] ? c->resume.curve_rows[trial][m->epoch] : -1;
    if (row < 0 && c->resume.nfree_curves > 0) row = c->resume.free_curves[--c->resume.nfree_curves];
    if ((row >= 0 ? hp_results_write_curve(c->res, row, &cr, err) : hp_results_append_curve(c->res, &cr, err)) != 0)
        return -1;
    if (hp_results_update_trial(c->res, r, err) != 0) return -1;
    hp_coord_prune_note(c, trial, m->epoch, m->val_acc);
    hp_coord_fault(c, HP_FAULT_EPOCH);
    c->timing.record_seconds += hp_now_seconds() - t;
    c->prog.epochs_done++;
    hp_coord_show_status(c);
    return HP_VERDICT_CONTINUE;
}

int hp_coord_record_checkpoint(coord *c, int64_t trial, const hp_train_ckpt *ck, const float *vec, int64_t n,
                               double seconds, hp_err *err) {
    if (!in_stage(c, trial))
        return hp_errf(err, "checkpoint of trial %lld, which is not in the running stage", (long long)trial);
    if (c->ckpt.every == 0) return 0; /* the file cannot hold them */
    double t = hp_now_seconds();
    hp_checkpoint_record rec;
    memset(&rec, 0, sizeof rec);
    rec.trial = trial;
    rec.epochs_done = ck->epochs_done;
    rec.best_epoch = ck->best_epoch;
    rec.best_val_acc = ck->best_val_acc;
    rec.best_val_loss = ck->best_val_loss;
    rec.initial_loss = ck->initial_loss;
    rec.lr = ck->lr;
    rec.seconds = seconds;
    rec.version = ck->version;
    rec.has_rng = ck->has_rng;
    memcpy(rec.rng, ck->rng, sizeof rec.rng);
    memcpy(rec.sched, ck->sched, sizeof rec.sched);
    rec.model_floats = n > 0 ? ck->model_floats : 0;
    rec.optim_floats = n > 0 ? ck->optim_floats : 0;
    int rc = hp_results_write_checkpoint(c->res, &rec, vec, n, err);
    if (rc == 0) hp_coord_fault(c, HP_FAULT_CHECKPOINT);
    c->timing.record_seconds += hp_now_seconds() - t;
    return rc;
}

/* keep_snapshots 0 keeps every trial's snapshot. keep_snapshots N keeps the N best in the
 * order of hp_trial_better: once N rows exist, a better trial overwrites the row of the worst
 * kept one (or a row nobody owns, left by an interruption), whose snapshot_row becomes -1. So
 * the best trial's snapshot is always in the file, whatever the order trials finished in. */
static int keep_snapshot(coord *c, hp_trial_record *r, const float *snapshot, hp_err *err) {
    int keep = c->spec->search.keep_snapshots;
    if (keep == 0 || c->snap.kept < keep) {
        if (hp_results_append_snapshot(c->res, snapshot, &r->snapshot_row, err) != 0) return -1;
        if (keep > 0) c->snap.kept_trial[c->snap.kept] = r->id;
        c->snap.kept++;
        return 0;
    }
    int64_t worst = -1;
    for (int64_t row = 0; row < keep && worst < 0; row++)
        if (c->snap.kept_trial[row] < 0) worst = row;
    if (worst < 0) {
        worst = 0;
        for (int64_t row = 1; row < keep; row++)
            if (hp_trial_better(&c->plan.recs[c->snap.kept_trial[worst]], &c->plan.recs[c->snap.kept_trial[row]]))
                worst = row;
    }
    hp_trial_record *old = c->snap.kept_trial[worst] >= 0 ? &c->plan.recs[c->snap.kept_trial[worst]] : NULL;
    if (old && !hp_trial_better(r, old)) return 0;
    if (hp_results_write_snapshot(c->res, worst, snapshot, err) != 0) return -1;
    if (old) {
        old->snapshot_row = -1;
        if (hp_results_update_trial(c->res, old, err) != 0) return -1;
    }
    r->snapshot_row = worst;
    c->snap.kept_trial[worst] = r->id;
    return 0;
}

int hp_coord_record_result(coord *c, int rank, const hp_trial_result *res, const float *snapshot, int64_t n,
                           hp_err *err) {
    int64_t id = res->trial;
    if (!in_stage(c, id))
        return hp_errf(err, "result for trial %lld, which is not in the running stage", (long long)id);
    double t = hp_now_seconds();
    hp_trial_record *r = &c->plan.recs[id];
    r->status = res->status;
    r->epochs_done = res->epochs_done;
    r->best_epoch = res->best_epoch;
    r->best_val_acc = res->best_val_acc;
    r->best_val_loss = res->best_val_loss;
    r->initial_loss = res->initial_loss;
    r->seconds = res->seconds;
    snprintf(r->message, sizeof r->message, "%s", res->message);
    /* Epochs a trial skipped (diverged, failed, stopped) no longer count towards the ETA. */
    c->prog.epochs_total -= r->epochs_planned - res->epochs_done;

    if (snapshot && n > c->snap.state_size) { /* a model larger than the file's rows (hp_search_sizes could not tell) */
        snprintf(r->message, sizeof r->message, "its model (%lld floats) is larger than the file's snapshot rows "
                 "(%lld): no snapshot kept", (long long)n, (long long)c->snap.state_size);
        snapshot = NULL;
    }
    if (snapshot && n < c->snap.state_size) { /* a smaller model: its state first, zeros after */
        if (snapshot != c->snap.buf) memmove(c->snap.buf, snapshot, (size_t)n * sizeof(float));
        memset(c->snap.buf + n, 0, (size_t)(c->snap.state_size - n) * sizeof(float));
        snapshot = c->snap.buf;
        n = c->snap.state_size;
    }
    if (snapshot && keep_snapshot(c, r, snapshot, err) != 0) return -1;
    if (snapshot) hp_coord_fault(c, HP_FAULT_SNAPSHOT);
    if (hp_results_update_trial(c->res, r, err) != 0) return -1;
    hp_coord_fault(c, HP_FAULT_RESULT);
    /* Only after the final status is recorded: a kill in between leaves a done trial with a
     * stale checkpoint, which resume ignores. */
    if (hp_results_checkpoint_width(c->res) > 0 && hp_coord_promote_after_result(c, r, err) != 0) return -1;
    if (snapshot && res->status == HP_TRIAL_DONE &&
        (c->snap.best_trial < 0 || hp_trial_better(r, &c->plan.recs[c->snap.best_trial]))) {
        memcpy(c->snap.best_state, snapshot, (size_t)n * sizeof(float));
        c->snap.best_trial = id;
    }
    c->prog.done++;
    /* A continued trial's seconds include the time before its checkpoint, spent in another run. */
    const hp_resume_ckpt *rc = c->resume.ckpt && id < c->resume.ntrials ? &c->resume.ckpt[id] : NULL;
    c->timing.trial_seconds += res->seconds - (rc && rc->rec.trial == id ? rc->rec.seconds : 0);
    c->timing.record_seconds += hp_now_seconds() - t;
    if (!c->opts->quiet) {
        hp_coord_clear_status(c);
        char outcome[160];
        if (res->status == HP_TRIAL_DONE)
            snprintf(outcome, sizeof outcome, "val acc %.4f (epoch %d)", res->best_val_acc, res->best_epoch);
        else if (res->status == HP_TRIAL_PRUNED && !res->message[0])
            snprintf(outcome, sizeof outcome, "pruned after epoch %d (best val acc %.4f)", res->epochs_done,
                     res->best_val_acc);
        else
            snprintf(outcome, sizeof outcome, "%s: %s", hp_trial_status_name((hp_trial_status)res->status),
                     res->message);
        /* The other searched parameters, by their short titles ("momentum 0.9"). */
        char extra[256] = "";
        const hp_search_spec *ss = &c->spec->search;
        hp_param_column cols[HP_MAX_XCOLS];
        int ncols = hp_search_param_columns(c->spec, cols);
        for (int p = HP_NFIXED_PARAMS, k = 0, o = 0; p < ss->nparams && k < ncols; p++, k++) {
            const char *shortname = hp_param_column_title(cols, ncols, k);
            int w = cols[k].text
                        ? snprintf(extra + o, sizeof extra - (size_t)o, "  %s %s", shortname, r->xcol[k].text)
                        : snprintf(extra + o, sizeof extra - (size_t)o, "  %s %.3g", shortname, r->xcol[k].num);
            if (w < 0 || (size_t)w >= sizeof extra - (size_t)o) break;
            o += w;
        }
        char lrwd[64] = ""; /* none when neither has a value (an external trainer's own) */
        if (!isnan(r->lr) || !isnan(r->weight_decay))
            snprintf(lrwd, sizeof lrwd, "  lr %.3e  wd %.3e", r->lr, r->weight_decay);
        printf("trial %4lld  stage %d  rank %2d%s%s  %s  %.1f s\n", (long long)id, r->stage, rank, lrwd, extra, outcome,
               res->seconds);
        fflush(stdout);
    }
    hp_coord_show_status(c);
    return 0;
}
