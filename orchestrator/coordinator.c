/* coordinator.c - see coordinator.h */
#include "coordinator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "mpi_util.h"
#include "protocol.h"
#include "search.h"
#include "trial.h"

typedef struct worker_slot {
    int ready;          /* READY received */
    int busy;           /* a trial is out on it */
    int64_t trial;
    hp_msg_ready info;
} worker_slot;

typedef struct coord {
    const hp_spec *spec;
    const hp_splits *data;
    hp_results *res;
    const hp_coord_opts *opts;

    hp_trial_record *recs;   /* every trial planned so far, indexed by id */
    int64_t nrecs;
    hp_stage_plan stage;     /* the stage being run */
    hp_trial_plan *plans;    /* its trials */

    int64_t state_size;      /* floats in a snapshot */
    float *snapshot_buf;     /* [state_size] receive buffer */
    float *best_state;       /* [state_size] best snapshot of any trial so far */
    int64_t best_trial;      /* -1 until a trial finished with a snapshot */
    double best_acc;
    int64_t kept;            /* snapshot rows written */
    int64_t *kept_trial;     /* [keep_snapshots] trial whose snapshot each row holds (top-N mode) */

    worker_slot *slots;      /* [nworkers + 1], index = rank */
    int64_t done, total;
    int64_t epochs_done, epochs_total;
    double t0;
    double trial_seconds;    /* sum of the trials' own wall times */
    double record_seconds;   /* time spent writing the results file */
    int status_shown;
} coord;

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* ---- progress ------------------------------------------------------------------------------ */

static void clear_status(coord *c) {
    if (c->status_shown) {
        fprintf(stderr, "\r\033[K");
        c->status_shown = 0;
    }
}

static void fmt_duration(double s, char *buf, size_t len) {
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, len, "%ld:%02ld:%02ld", t / 3600, (t / 60) % 60, t % 60);
    else
        snprintf(buf, len, "%ld:%02ld", t / 60, t % 60);
}

static void show_status(coord *c) {
    if (!c->opts->progress) return;
    double elapsed = now_seconds() - c->t0;
    char el[32], eta[32] = "?";
    fmt_duration(elapsed, el, sizeof el);
    if (c->epochs_done > 0)
        fmt_duration(elapsed * (double)(c->epochs_total - c->epochs_done) / (double)c->epochs_done, eta,
                     sizeof eta);
    char best[64] = "none yet";
    if (c->best_trial >= 0) snprintf(best, sizeof best, "%.4f (trial %lld)", c->best_acc, (long long)c->best_trial);
    fprintf(stderr, "\r\033[K[stage %d/%d] %lld/%lld trials  best val acc %s  elapsed %s  ETA %s",
            c->stage.stage + 1, c->spec->search.nstages, (long long)c->done, (long long)c->total, best, el, eta);
    c->status_shown = 1;
}

/* ---- recording ----------------------------------------------------------------------------- */

static int start_trial(coord *c, const hp_trial_plan *p, int rank, const char *host, hp_err *err) {
    double t = now_seconds();
    hp_trial_record *r = &c->recs[p->id];
    r->status = HP_TRIAL_RUNNING;
    r->rank = rank;
    snprintf(r->host, sizeof r->host, "%.31s", host);
    int rc = hp_results_update_trial(c->res, r, err);
    c->record_seconds += now_seconds() - t;
    return rc;
}

static int record_epoch(coord *c, int64_t trial, const hp_epoch_metrics *m, hp_err *err) {
    if (trial < c->stage.first_trial_id || trial >= c->stage.first_trial_id + c->stage.ntrials)
        return hp_errf(err, "epoch report for trial %lld, which is not in the running stage", (long long)trial);
    double t = now_seconds();
    hp_trial_record *r = &c->recs[trial];
    r->epochs_done = m->epoch;
    hp_curve_record cr = {trial, m->epoch, m->lr, m->train_loss, m->train_acc,
                          m->val_loss, m->val_acc, m->seconds};
    if (hp_results_append_curve(c->res, &cr, err) != 0) return -1;
    if (hp_results_update_trial(c->res, r, err) != 0) return -1;
    c->record_seconds += now_seconds() - t;
    c->epochs_done++;
    show_status(c);
    return HP_VERDICT_CONTINUE;
}

/* keep_snapshots 0 keeps every trial's snapshot. keep_snapshots N keeps the N best by validation
 * accuracy: once N rows exist, a better trial overwrites the row of the worst kept one, whose
 * snapshot_row becomes -1. */
static int keep_snapshot(coord *c, hp_trial_record *r, const float *snapshot, hp_err *err) {
    int keep = c->spec->search.keep_snapshots;
    if (keep == 0 || c->kept < keep) {
        if (hp_results_append_snapshot(c->res, snapshot, &r->snapshot_row, err) != 0) return -1;
        if (keep > 0) c->kept_trial[c->kept] = r->id;
        c->kept++;
        return 0;
    }
    int64_t worst = 0;
    for (int64_t row = 1; row < keep; row++)
        if (c->recs[c->kept_trial[row]].best_val_acc < c->recs[c->kept_trial[worst]].best_val_acc) worst = row;
    hp_trial_record *old = &c->recs[c->kept_trial[worst]];
    if (!(r->best_val_acc > old->best_val_acc)) return 0;
    if (hp_results_write_snapshot(c->res, worst, snapshot, err) != 0) return -1;
    old->snapshot_row = -1;
    if (hp_results_update_trial(c->res, old, err) != 0) return -1;
    r->snapshot_row = worst;
    c->kept_trial[worst] = r->id;
    return 0;
}

static int record_result(coord *c, int rank, const hp_trial_result *res, const float *snapshot, int64_t n,
                         hp_err *err) {
    int64_t id = res->trial;
    if (id < c->stage.first_trial_id || id >= c->stage.first_trial_id + c->stage.ntrials)
        return hp_errf(err, "result for trial %lld, which is not in the running stage", (long long)id);
    double t = now_seconds();
    hp_trial_record *r = &c->recs[id];
    r->status = res->status;
    r->epochs_done = res->epochs_done;
    r->best_epoch = res->best_epoch;
    r->best_val_acc = res->best_val_acc;
    r->best_val_loss = res->best_val_loss;
    r->initial_loss = res->initial_loss;
    r->seconds = res->seconds;
    snprintf(r->message, sizeof r->message, "%s", res->message);
    /* Epochs a trial skipped (diverged, failed, stopped) no longer count towards the ETA. */
    c->epochs_total -= r->epochs_planned - res->epochs_done;

    if (snapshot && n != c->state_size)
        return hp_errf(err, "trial %lld: snapshot of %lld floats, expected %lld", (long long)id, (long long)n,
                       (long long)c->state_size);
    if (snapshot && keep_snapshot(c, r, snapshot, err) != 0) return -1;
    if (hp_results_update_trial(c->res, r, err) != 0) return -1;
    if (snapshot && res->status == HP_TRIAL_DONE && (c->best_trial < 0 || res->best_val_acc > c->best_acc)) {
        memcpy(c->best_state, snapshot, (size_t)n * sizeof(float));
        c->best_trial = id;
        c->best_acc = res->best_val_acc;
    }
    c->done++;
    c->trial_seconds += res->seconds;
    c->record_seconds += now_seconds() - t;
    if (!c->opts->quiet) {
        clear_status(c);
        char outcome[160];
        if (res->status == HP_TRIAL_DONE)
            snprintf(outcome, sizeof outcome, "val acc %.4f (epoch %d)", res->best_val_acc, res->best_epoch);
        else
            snprintf(outcome, sizeof outcome, "%s: %s", hp_trial_status_name((hp_trial_status)res->status),
                     res->message);
        printf("trial %4lld  stage %d  rank %2d  lr %.3e  wd %.3e  %s  %.1f s\n", (long long)id, r->stage, rank,
               r->lr, r->weight_decay, outcome, res->seconds);
        fflush(stdout);
    }
    show_status(c);
    return 0;
}

/* ---- alone: this process trains ------------------------------------------------------------ */

static int direct_epoch(void *ctx, const hp_trial_plan *p, const hp_epoch_metrics *m, hp_err *err) {
    return record_epoch(ctx, p->id, m, err);
}

static int direct_result(void *ctx, const hp_trial_plan *p, const hp_trial_result *r, const float *snapshot,
                         int64_t n, hp_err *err) {
    (void)p;
    return record_result(ctx, 0, r, snapshot, n, err);
}

static int run_stage_alone(coord *c, const char *host, hp_err *err) {
    hp_trial_hooks hooks = {direct_epoch, direct_result, c};
    for (int i = 0; i < c->stage.ntrials; i++) {
        if (start_trial(c, &c->plans[i], 0, host, err) != 0) return -1;
        if (hp_trial_execute(c->spec, c->data, &c->plans[i], &hooks, err) != 0) return -1;
    }
    return 0;
}

/* ---- under MPI: dynamic dispatch ----------------------------------------------------------- */

static int recv_ready(coord *c, int rank, hp_err *err) {
    worker_slot *s = &c->slots[rank];
    if (hp_mpi_recv_bytes(&s->info, (int)sizeof s->info, rank, HP_TAG_READY, c->opts->comm, err) != 0) return -1;
    if (s->info.protocol_version != HP_PROTOCOL_VERSION || s->info.sizeof_plan != (int)sizeof(hp_trial_plan) ||
        s->info.sizeof_epoch != (int)sizeof(hp_msg_epoch) || s->info.sizeof_result != (int)sizeof(hp_msg_result))
        return hp_errf(err,
                       "rank %d speaks protocol %d with other message sizes than rank 0 (protocol %d): run the "
                       "same hpsweep build on every node",
                       rank, s->info.protocol_version, HP_PROTOCOL_VERSION);
    s->info.host[sizeof s->info.host - 1] = '\0';
    s->info.device[sizeof s->info.device - 1] = '\0';
    s->ready = 1;
    return 0;
}

static int dispatch_idle(coord *c, int *next, hp_err *err) {
    for (int rank = 1; rank <= c->opts->nworkers && *next < c->stage.ntrials; rank++) {
        worker_slot *s = &c->slots[rank];
        if (!s->ready || s->busy) continue;
        const hp_trial_plan *p = &c->plans[*next];
        if (hp_mpi_send_bytes(p, (int)sizeof *p, rank, HP_TAG_TRIAL, c->opts->comm, err) != 0) return -1;
        s->busy = 1;
        s->trial = p->id;
        (*next)++;
        if (start_trial(c, p, rank, s->info.host, err) != 0) return -1;
    }
    return 0;
}

static int run_stage_mpi(coord *c, hp_err *err) {
    MPI_Comm comm = c->opts->comm;
    int next = 0, finished = 0;
    long backoff = 0;
    while (finished < c->stage.ntrials) {
        if (dispatch_idle(c, &next, err) != 0) return -1;
        int flag = 0;
        MPI_Status st;
        if (hp_mpi_probe(MPI_ANY_SOURCE, MPI_ANY_TAG, comm, &flag, &st, err) != 0) return -1;
        if (!flag) {
            /* Poll, do not block: a blocking receive busy-waits on a core a trainer needs. */
            backoff = backoff < 20 ? 20 : (backoff < 250 ? backoff * 2 : 250);
            hp_sleep_us(backoff);
            continue;
        }
        backoff = 0;
        int rank = st.MPI_SOURCE;
        if (rank < 1 || rank > c->opts->nworkers) return hp_errf(err, "message from unknown rank %d", rank);
        worker_slot *s = &c->slots[rank];
        switch (st.MPI_TAG) {
        case HP_TAG_READY:
            if (recv_ready(c, rank, err) != 0) return -1;
            break;
        case HP_TAG_EPOCH: {
            hp_msg_epoch msg;
            if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, rank, HP_TAG_EPOCH, comm, err) != 0) return -1;
            if (!s->busy || msg.trial != s->trial)
                return hp_errf(err, "rank %d reported an epoch of trial %lld, which it was not given", rank,
                               (long long)msg.trial);
            int v = record_epoch(c, msg.trial, &msg.metrics, err);
            if (v < 0) return -1;
            int32_t verdict = v;
            if (hp_mpi_send_bytes(&verdict, (int)sizeof verdict, rank, HP_TAG_VERDICT, comm, err) != 0) return -1;
            break;
        }
        case HP_TAG_RESULT: {
            hp_msg_result msg;
            if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, rank, HP_TAG_RESULT, comm, err) != 0) return -1;
            if (!s->busy || msg.result.trial != s->trial)
                return hp_errf(err, "rank %d sent a result for trial %lld, which it was not given", rank,
                               (long long)msg.result.trial);
            const float *snap = NULL;
            if (msg.snapshot_size > 0) {
                if (msg.snapshot_size != c->state_size)
                    return hp_errf(err, "rank %d: snapshot of %lld floats, expected %lld", rank,
                                   (long long)msg.snapshot_size, (long long)c->state_size);
                if (hp_mpi_recv_bytes(c->snapshot_buf, (int)(c->state_size * (int64_t)sizeof(float)), rank,
                                      HP_TAG_SNAPSHOT, comm, err) != 0)
                    return -1;
                snap = c->snapshot_buf;
            }
            s->busy = 0;
            finished++;
            if (record_result(c, rank, &msg.result, snap, msg.snapshot_size, err) != 0) return -1;
            break;
        }
        default:
            return hp_errf(err, "unexpected message with tag %d from rank %d", st.MPI_TAG, rank);
        }
    }
    return 0;
}

static int stop_workers(coord *c, hp_err *err) {
    for (int rank = 1; rank <= c->opts->nworkers; rank++) {
        if (!c->slots[rank].ready && recv_ready(c, rank, err) != 0) return -1;
        if (hp_mpi_check(MPI_Send(NULL, 0, MPI_BYTE, rank, HP_TAG_STOP, c->opts->comm), "MPI_Send(STOP)", err) != 0)
            return -1;
    }
    return 0;
}

/* ---- stages and the final evaluation --------------------------------------------------------- */

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
            outcomes[i].usable = r->status == HP_TRIAL_DONE && isfinite(r->best_val_acc);
        }
    }
    int rc = hp_search_plan_stage(c->spec, s, s > 0 ? &prev : NULL, outcomes, n, &c->stage, err);
    free(outcomes);
    if (rc != 0) return -1;
    if (c->stage.first_trial_id != c->nrecs)
        return hp_errf(err, "stage %d starts at trial %lld but %lld trials were planned before it", s,
                       (long long)c->stage.first_trial_id, (long long)c->nrecs);

    free(c->plans);
    c->plans = hp_calloc((size_t)c->stage.ntrials, sizeof *c->plans, "trial plans", err);
    if (!c->plans) return -1;
    for (int i = 0; i < c->stage.ntrials; i++) {
        hp_trial_plan *p = &c->plans[i];
        hp_search_trial(c->spec, &c->stage, i, p);
        hp_trial_record *r = &c->recs[p->id];
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
        r->rank = -1;
        r->snapshot_row = -1;
    }
    c->nrecs += c->stage.ntrials;

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
    if (hp_results_add_stage(c->res, &sr, &c->recs[c->stage.first_trial_id], c->stage.ntrials, err) != 0) return -1;

    if (!c->opts->quiet) {
        clear_status(c);
        printf("stage %d/%d: %s, %d trials x %d epochs; lr [%.3g, %.3g] %s, weight decay [%.3g, %.3g] %s\n", s + 1,
               c->spec->search.nstages, sr.method, sr.trials, sr.epochs, sr.lr_low, sr.lr_high, sr.lr_derivation,
               sr.wd_low, sr.wd_high, sr.wd_derivation);
        for (int p = 0; p < HP_NPARAMS; p++) {
            hp_derivation d = c->stage.derivation[p];
            if (d == HP_DERIV_WIDENED_LOW || d == HP_DERIV_WIDENED_HIGH)
                printf("  note: the best %s of stage %d lay at the %s edge of its range, so the range was widened "
                       "there instead of narrowed\n",
                       hp_param_name((hp_param)p), s, d == HP_DERIV_WIDENED_LOW ? "low" : "high");
        }
        fflush(stdout);
    }
    return 0;
}

static int final_evaluation(coord *c, hp_err *err) {
    if (c->best_trial < 0) {
        if (!c->opts->quiet) printf("no trial finished with a snapshot: nothing to evaluate on the test split\n");
        return 0;
    }
    const hp_trial_record *r = &c->recs[c->best_trial];
    hp_optim_spec optim = c->spec->optim;
    optim.lr = r->lr;
    optim.weight_decay = r->weight_decay;
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

int hp_coordinate(const hp_spec *spec, const hp_splits *data, hp_results *res, const hp_coord_opts *opts,
                  hp_coord_stats *stats, hp_err *err) {
    coord c;
    memset(&c, 0, sizeof c);
    c.spec = spec;
    c.data = data;
    c.res = res;
    c.opts = opts;
    c.best_trial = -1;
    c.total = hp_search_total_trials(spec);
    for (int s = 0; s < spec->search.nstages; s++)
        c.epochs_total += hp_search_stage_trials(spec, s) * (int64_t)spec->search.stages[s].epochs;

    int rc = -1;
    hp_model *probe = NULL;
    const hp_splits *d = data;
    if (hp_model_create(&spec->model, d->train.c, d->train.h, d->train.w, spec->data.nclasses, 1, &probe, err) != 0)
        return -1;
    c.state_size = hp_model_state_size(probe);
    hp_model_free(probe);
    c.recs = hp_calloc((size_t)c.total, sizeof *c.recs, "trial records", err);
    c.snapshot_buf = hp_calloc((size_t)c.state_size, sizeof(float), "snapshot buffer", err);
    c.best_state = hp_calloc((size_t)c.state_size, sizeof(float), "best snapshot", err);
    c.slots = hp_calloc((size_t)opts->nworkers + 1, sizeof *c.slots, "worker slots", err);
    c.kept_trial = hp_calloc((size_t)spec->search.keep_snapshots + 1, sizeof *c.kept_trial, "kept snapshots", err);
    if (!c.recs || !c.snapshot_buf || !c.best_state || !c.slots || !c.kept_trial) goto done;

    char host[64] = "localhost";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';

    c.t0 = now_seconds();
    for (int s = 0; s < spec->search.nstages; s++) {
        if (plan_stage(&c, s, err) != 0) goto done;
        if ((opts->nworkers > 0 ? run_stage_mpi(&c, err) : run_stage_alone(&c, host, err)) != 0) goto done;
    }
    double wall = now_seconds() - c.t0;
    if (opts->nworkers > 0 && stop_workers(&c, err) != 0) goto done;
    clear_status(&c);
    if (spec->train.synthetic_ms == 0 && final_evaluation(&c, err) != 0) goto done;

    if (stats) {
        memset(stats, 0, sizeof *stats);
        stats->trials = c.done;
        stats->wall = wall;
        int nranks = opts->nworkers > 0 ? opts->nworkers : 1;
        stats->busy = c.trial_seconds;
        stats->utilisation = wall > 0 ? stats->busy / (wall * nranks) : 0;
        stats->record = c.record_seconds;
    }
    rc = 0;
done:
    clear_status(&c);
    free(c.recs);
    free(c.plans);
    free(c.snapshot_buf);
    free(c.best_state);
    free(c.slots);
    free(c.kept_trial);
    return rc;
}
