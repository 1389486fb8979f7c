/* coordinator.c - see coordinator.h. Planning (and replanning on resume), the stage loop,
 * stopping on a signal, the final test evaluation. Handing trials out (alone, in lanes, under
 * MPI): coord_dispatch.c. Recording: coord_record.c. */
#include "coordinator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "coord_impl.h"
#include "search.h"
#include "trial.h"

int hp_coord_stop_requested(coord *c) {
    if (!c->stopping && c->opts->stop && *c->opts->stop) c->stopping = *c->opts->stop;
    return c->stopping != 0;
}

/* ---- stages and the final evaluation --------------------------------------------------------- */

static void print_stage(coord *c, const hp_stage_record *sr, int replanned) {
    if (c->opts->quiet) return;
    hp_coord_clear_status(c);
    printf("stage %d/%d: %s, %d trials x %d epochs; lr [%.3g, %.3g] %s, weight decay [%.3g, %.3g] %s%s\n",
           sr->stage + 1, c->spec->search.nstages, sr->method, sr->trials, sr->epochs, sr->lr_low, sr->lr_high,
           sr->lr_derivation, sr->wd_low, sr->wd_high, sr->wd_derivation, replanned ? " (from the file)" : "");
    for (int p = 0; p < HP_NPARAMS && !replanned; p++) {
        hp_derivation d = c->stage.derivation[p];
        if (d == HP_DERIV_WIDENED_LOW || d == HP_DERIV_WIDENED_HIGH)
            printf("  note: the best %s of stage %d lay at the %s edge of its range, so the range was widened "
                   "there instead of narrowed\n",
                   hp_param_name((hp_param)p), sr->stage, d == HP_DERIV_WIDENED_LOW ? "low" : "high");
    }
    fflush(stdout);
}

/* Write a newly planned stage: its trial rows (rewriting rows a kill left behind, then
 * appending), then its stage row. */
static int write_stage(coord *c, const hp_stage_record *sr, hp_err *err) {
    int64_t first = c->stage.first_trial_id, n = c->stage.ntrials, i = 0;
    for (; i < n && first + i < c->trial_rows; i++)
        if (hp_results_update_trial(c->res, &c->recs[first + i], err) != 0) return -1;
    if (hp_results_add_stage(c->res, sr, &c->recs[first + i], (int)(n - i), err) != 0) return -1;
    if (first + n > c->trial_rows) c->trial_rows = first + n;
    return 0;
}

static int plan_stage(coord *c, int s, hp_err *err) {
    hp_stage_plan prev = c->stage;
    hp_trial_outcome *outcomes = NULL;
    int n = 0;
    if (s > 0) {
        n = prev.ntrials;
        outcomes = hp_calloc((size_t)n, sizeof *outcomes, "stage outcomes", err);
        if (!outcomes) return -1;
        for (int i = 0; i < n; i++) {
            const hp_trial_record *r = &c->recs[prev.first_trial_id + i];
            outcomes[i].values[HP_PARAM_LR] = r->lr;
            outcomes[i].values[HP_PARAM_WD] = r->weight_decay;
            outcomes[i].score = r->best_val_acc;
            outcomes[i].trial = r->id;
            outcomes[i].usable = r->status == HP_TRIAL_DONE && isfinite(r->best_val_acc);
        }
    }
    int rc = hp_search_plan_stage(c->spec, s, s > 0 ? &prev : NULL, outcomes, n, &c->stage, err);
    free(outcomes);
    if (rc != 0) return -1;
    /* Stages the file already holds are replanned (the same pure function of the spec, the seed
     * and finished results) and must agree with their rows. */
    int replay = c->opts->resume && s < c->opts->resume->nstages;
    if (c->stage.first_trial_id != (replay ? c->opts->resume->stages[s].first_trial : c->nrecs))
        return hp_errf(err, "stage %d starts at trial %lld but %lld trials were planned before it", s,
                       (long long)c->stage.first_trial_id, (long long)c->nrecs);

    free(c->plans);
    c->plans = hp_calloc((size_t)c->stage.ntrials, sizeof *c->plans, "trial plans", err);
    if (!c->plans) return -1;
    for (int i = 0; i < c->stage.ntrials; i++) {
        hp_trial_plan *p = &c->plans[i];
        hp_search_trial(c->spec, &c->stage, i, p);
        hp_trial_record *r = &c->recs[p->id];
        if (replay) {
            if (r->id != p->id || r->stage != s || r->lr != p->values[HP_PARAM_LR] ||
                r->weight_decay != p->values[HP_PARAM_WD] || r->seed != p->seed || r->epochs_planned != p->epochs)
                return hp_errf(err,
                               "results file %s: trial %lld was planned with lr %.17g, weight decay %.17g, seed %llu, "
                               "%d epochs, but this hpsweep plans lr %.17g, weight decay %.17g, seed %llu, %d epochs; "
                               "continue the file with the hpsweep version that started it",
                               c->opts->path, (long long)p->id, r->lr, r->weight_decay, (unsigned long long)r->seed,
                               r->epochs_planned, p->values[HP_PARAM_LR], p->values[HP_PARAM_WD],
                               (unsigned long long)p->seed, p->epochs);
            continue;
        }
        memset(r, 0, sizeof *r);
        r->id = p->id;
        r->stage = s;
        r->status = HP_TRIAL_PENDING;
        r->lr = p->values[HP_PARAM_LR];
        r->weight_decay = p->values[HP_PARAM_WD];
        r->seed = p->seed;
        r->epochs_planned = p->epochs;
        r->best_val_acc = NAN;
        r->best_val_loss = NAN;
        r->initial_loss = NAN;
        r->update_ratio = NAN;
        r->rank = -1;
        r->gpu = -1; /* device "": not run yet */
        r->snapshot_row = -1;
    }
    if (!replay) c->nrecs += c->stage.ntrials;

    hp_stage_record sr;
    memset(&sr, 0, sizeof sr);
    sr.stage = s;
    snprintf(sr.method, sizeof sr.method, "%s", c->stage.method == HP_METHOD_GRID ? "grid" : "random");
    sr.trials = c->stage.ntrials;
    sr.epochs = c->stage.epochs;
    sr.first_trial = c->stage.first_trial_id;
    sr.lr_low = c->stage.low[HP_PARAM_LR];
    sr.lr_high = c->stage.high[HP_PARAM_LR];
    snprintf(sr.lr_derivation, sizeof sr.lr_derivation, "%s", hp_derivation_name(c->stage.derivation[HP_PARAM_LR]));
    sr.wd_low = c->stage.low[HP_PARAM_WD];
    sr.wd_high = c->stage.high[HP_PARAM_WD];
    snprintf(sr.wd_derivation, sizeof sr.wd_derivation, "%s", hp_derivation_name(c->stage.derivation[HP_PARAM_WD]));
    if (!replay && write_stage(c, &sr, err) != 0) return -1;
    print_stage(c, &sr, replay);
    return 0;
}

static int final_evaluation(coord *c, hp_err *err) {
    if (c->best_trial < 0) {
        c->no_result = 1; /* the caller reports it and exits non-zero */
        return 0;
    }
    const hp_trial_record *r = &c->recs[c->best_trial];
    hp_optim_spec optim = c->spec->optim;
    optim.lr = r->lr;
    optim.weight_decay = r->weight_decay;
    /* On the CPU, whatever device the trials trained on: under mpirun the coordinator holds no
     * GPU (only trainer ranks open one), one pass over the test split of one snapshot is cheap,
     * and a snapshot is a host-side state vector that any device's trainer reads the same way. */
    hp_trainer *t = NULL;
    if (hp_trainer_create(&c->spec->model, &optim, &c->spec->train, &c->data->train, &c->data->val, r->seed, &t,
                          err) != 0)
        return hp_err_prefix(err, "test evaluation of trial %lld", (long long)c->best_trial);
    double loss = 0, acc = 0;
    int rc = hp_trainer_evaluate(t, &c->data->test, c->best_state, &loss, &acc, err);
    hp_trainer_free(t);
    if (rc != 0) return hp_err_prefix(err, "test evaluation of trial %lld", (long long)c->best_trial);
    hp_final_record f;
    memset(&f, 0, sizeof f);
    snprintf(f.kind, sizeof f.kind, "best");
    f.trial = c->best_trial;
    f.val_acc = r->best_val_acc;
    f.test_loss = loss;
    f.test_acc = acc;
    if (hp_results_set_final(c->res, &f, 1, err) != 0) return -1;
    if (!c->opts->quiet)
        printf("best trial %lld: lr %.4g, weight decay %.4g, val acc %.4f (epoch %d); test acc %.4f, test loss "
               "%.4f (test split read once)\n",
               (long long)r->id, r->lr, r->weight_decay, r->best_val_acc, r->best_epoch, acc, loss);
    return 0;
}

/* ---- setup, including what a resumed file holds ---------------------------------------------- */

static int setup(coord *c, hp_err *err) {
    const hp_spec *spec = c->spec;
    const hp_splits *d = c->data;
    hp_model *probe = NULL;
    if (hp_model_create(&spec->model, d->train.c, d->train.h, d->train.w, spec->data.nclasses, 1, &probe, err) != 0)
        return -1;
    c->state_size = hp_model_state_size(probe);
    hp_model_free(probe);
    if (hp_trainer_checkpoint_size_for(&spec->model, &spec->optim, d->train.c, d->train.h, d->train.w,
                                       spec->data.nclasses, &c->ckpt_floats, err) != 0)
        return -1;
    int64_t width = hp_results_checkpoint_width(c->res);
    c->checkpoint_every = c->opts->checkpoint_every;
    if (c->checkpoint_every > 0 && (width == 0 || (spec->train.synthetic_ms == 0 && width < c->ckpt_floats))) {
        if (!c->opts->quiet)
            printf("note: %s cannot hold checkpoints of this model (%lld floats per row, %lld needed): running "
                   "trials will restart if this sweep is interrupted\n",
                   c->opts->path, (long long)width, (long long)c->ckpt_floats);
        c->checkpoint_every = 0;
    }
    c->recs = hp_calloc((size_t)c->total + 1, sizeof *c->recs, "trial records", err);
    c->snapshot_buf = hp_calloc((size_t)c->state_size, sizeof(float), "snapshot buffer", err);
    c->best_state = hp_calloc((size_t)c->state_size, sizeof(float), "best snapshot", err);
    c->ckpt_buf = hp_calloc((size_t)c->ckpt_floats + 1, sizeof(float), "checkpoint buffer", err);
    c->slots = hp_calloc((size_t)c->opts->nworkers + 1, sizeof *c->slots, "worker slots", err);
    c->kept_trial = hp_calloc((size_t)spec->search.keep_snapshots + 1, sizeof *c->kept_trial, "kept snapshots", err);
    if (!c->recs || !c->snapshot_buf || !c->best_state || !c->ckpt_buf || !c->slots || !c->kept_trial) return -1;

    const hp_resume *rs = c->opts->resume;
    c->trial_rows = hp_results_ntrials(c->res);
    if (!rs) return 0;
    if (rs->ntrials > c->total || rs->nstages > spec->search.nstages)
        return hp_errf(err, "results file %s holds %lld trials in %lld stages, but its spec plans %lld in %d",
                       c->opts->path, (long long)rs->ntrials, (long long)rs->nstages, (long long)c->total,
                       spec->search.nstages);
    if (rs->state_size != c->state_size)
        return hp_errf(err, "results file %s: snapshots of %lld floats, but the spec's model has %lld", c->opts->path,
                       (long long)rs->state_size, (long long)c->state_size);
    memcpy(c->recs, rs->trials, (size_t)rs->ntrials * sizeof *c->recs);
    c->nrecs = rs->ntrials;
    c->resume_ckpt = rs->ckpt;
    c->resume_ntrials = rs->ntrials;
    c->curve_rows = hp_calloc((size_t)c->total + 1, sizeof *c->curve_rows, "curve rows", err);
    c->free_curves = hp_calloc((size_t)rs->ncurves + 1, sizeof *c->free_curves, "curve rows", err);
    if (!c->curve_rows || !c->free_curves) return -1;
    for (int64_t i = 0; i < rs->ntrials; i++) {
        const hp_trial_record *r = &c->recs[i];
        if (hp_trial_finished(r->status)) {
            c->done++;
            c->epochs_done += r->epochs_done;
            c->epochs_total -= r->epochs_planned - r->epochs_done;
            /* A kill between recording the result and freeing the checkpoint leaves a stale one. */
            if (hp_results_checkpoint_width(c->res) > 0 && hp_results_drop_checkpoint(c->res, i, err) != 0) return -1;
        } else if (r->epochs_planned > 0) {
            c->curve_rows[i] = hp_calloc((size_t)r->epochs_planned + 1, sizeof(int64_t), "curve rows", err);
            if (!c->curve_rows[i]) return -1;
            for (int e = 0; e <= r->epochs_planned; e++) c->curve_rows[i][e] = -1;
        }
    }
    for (int64_t row = rs->ncurves - 1; row >= 0; row--) {
        const hp_curve_record *cr = &rs->curves[row];
        if (cr->epoch < 1 || cr->trial < 0 || cr->trial >= c->total) {
            c->free_curves[c->nfree_curves++] = row; /* never written: reused first-come */
        } else if (c->curve_rows[cr->trial] && cr->epoch <= c->recs[cr->trial].epochs_planned) {
            if (c->curve_rows[cr->trial][cr->epoch] < 0) c->curve_rows[cr->trial][cr->epoch] = row;
            else c->free_curves[c->nfree_curves++] = row; /* a duplicate (cannot happen; reuse it) */
        }
    }
    int keep = spec->search.keep_snapshots;
    c->kept = rs->nsnapshots;
    for (int64_t row = 0; keep > 0 && row < keep; row++) c->kept_trial[row] = row < rs->nsnapshots ? rs->snapshot_owner[row] : -1;
    if (keep > 0 && c->kept > keep) c->kept = keep;
    if (rs->best_trial >= 0) {
        c->best_trial = rs->best_trial;
        memcpy(c->best_state, rs->best_state, (size_t)c->state_size * sizeof(float));
    }
    return 0;
}

static void count_states(const coord *c, hp_coord_stats *st) {
    st->finished = st->running = 0;
    for (int64_t i = 0; i < c->nrecs; i++) {
        if (hp_trial_finished(c->recs[i].status)) st->finished++;
        else if (c->recs[i].status == HP_TRIAL_RUNNING) st->running++;
    }
    st->pending = c->total - st->finished - st->running;
}

int hp_coordinate(const hp_spec *spec, const hp_splits *data, hp_results **res, const hp_coord_opts *opts,
                  hp_coord_stats *stats, hp_err *err) {
    coord c;
    memset(&c, 0, sizeof c);
    c.spec = spec;
    c.data = data;
    c.res = *res;
    c.opts = opts;
    c.best_trial = -1;
    c.total = hp_search_total_trials(spec);
    for (int s = 0; s < spec->search.nstages; s++)
        c.epochs_total += hp_search_stage_trials(spec, s) * (int64_t)spec->search.stages[s].epochs;
    hp_coord_stats local;
    if (!stats) stats = &local;
    memset(stats, 0, sizeof *stats);

    int rc = -1;
    hp_coord_fault_setup(&c);
    if (setup(&c, err) != 0) goto done;
    if (opts->nworkers == 0) hp_coord_describe_self(&c);
    else if (hp_coord_collect_ready(&c, err) != 0) goto done;
    if (opts->nworkers == 0 && opts->pack > 1 && hp_coord_lanes_open(&c, err) != 0) goto done;

    c.t0 = hp_now_seconds();
    int64_t done_before = c.done;
    for (int s = 0; s < spec->search.nstages && !hp_coord_stop_requested(&c); s++) {
        if (plan_stage(&c, s, err) != 0) goto done;
        int stage_rc = opts->nworkers > 0 ? hp_coord_run_stage_mpi(&c, err)
                       : c.lanes         ? hp_coord_run_stage_lanes(&c, err)
                                         : hp_coord_run_stage_alone(&c, err);
        if (stage_rc != 0) goto done;
    }
    double wall = hp_now_seconds() - c.t0;
    hp_coord_clear_status(&c);
    if (c.stopping) {
        /* Stop: every event is flushed already; closing clears the file's "being written" flag. */
        double t = hp_now_seconds();
        count_states(&c, stats);
        hp_err cerr = {{0}};
        int crc = hp_results_close(*res, &cerr);
        *res = NULL;
        c.res = NULL;
        stats->stop_seconds = hp_now_seconds() - t;
        if (crc != 0) {
            *err = cerr;
            goto done;
        }
        stats->workers_stopped = 1;
        if (opts->nworkers > 0) {
            int drained = hp_coord_drain_workers(&c, 1.5, err);
            if (drained < 0) goto done;
            stats->workers_stopped = drained;
        }
        rc = 0;
    } else {
        if (opts->nworkers > 0 && hp_coord_stop_workers(&c, err) != 0) goto done;
        int has_final = opts->resume && opts->resume->nfinal > 0 && done_before == c.total;
        if (spec->train.synthetic_ms == 0 && !has_final && final_evaluation(&c, err) != 0) goto done;
        count_states(&c, stats);
        rc = 0;
    }
    stats->trials = c.done - done_before;
    stats->wall = wall;
    int nranks = 0; /* lanes in all: trials that can run at once */
    for (int rank = 1; rank <= opts->nworkers; rank++) nranks += c.slots[rank].info.lanes > 0 ? c.slots[rank].info.lanes : 1;
    if (opts->nworkers == 0) nranks = c.lanes ? hp_lanes_count(c.lanes) : 1;
    stats->busy = c.trial_seconds;
    stats->utilisation = wall > 0 ? stats->busy / (wall * nranks) : 0;
    stats->lanes = nranks;
    stats->record = c.record_seconds;
    stats->interrupted = c.stopping;
    stats->no_result = c.no_result;
done:
    if (c.lanes) { /* after an error, trials may still run: stop them before the threads are joined */
        c.lanes_cancel = 1;
        hp_lanes_free(c.lanes);
    }
    if (c.mu_made) pthread_mutex_destroy(&c.mu);
    hp_coord_clear_status(&c);
    if (c.curve_rows)
        for (int64_t i = 0; i < c.total; i++) free(c.curve_rows[i]);
    free(c.curve_rows);
    free(c.free_curves);
    free(c.recs);
    free(c.plans);
    free(c.snapshot_buf);
    free(c.best_state);
    free(c.ckpt_buf);
    free(c.slots);
    free(c.kept_trial);
    return rc;
}
