/* coordinator.c - see coordinator.h. Planning (and replanning on resume), dispatch alone and
 * under MPI, stopping on a signal, the final test evaluation. Recording: coord_record.c. */
#include "coordinator.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "coord_impl.h"
#include "devsel.h"
#include "mpi_util.h"
#include "search.h"
#include "trial.h"

static int stop_requested(coord *c) {
    if (!c->stopping && c->opts->stop && *c->opts->stop) c->stopping = *c->opts->stop;
    return c->stopping != 0;
}

/* The checkpoint a trial continues from on resume, or NULL. */
static const hp_resume_ckpt *resume_ckpt(const coord *c, int64_t id) {
    if (!c->resume_ckpt || id >= c->resume_ntrials || c->resume_ckpt[id].rec.trial != id) return NULL;
    return &c->resume_ckpt[id];
}

static void ckpt_from_record(const hp_checkpoint_record *r, hp_train_ckpt *ck) {
    memset(ck, 0, sizeof *ck);
    ck->version = r->version;
    ck->epochs_done = r->epochs_done;
    ck->best_epoch = r->best_epoch;
    ck->has_rng = r->has_rng;
    ck->best_val_acc = r->best_val_acc;
    ck->best_val_loss = r->best_val_loss;
    ck->initial_loss = r->initial_loss;
    ck->lr = r->lr;
    memcpy(ck->rng, r->rng, sizeof ck->rng);
    memcpy(ck->sched, r->sched, sizeof ck->sched);
    ck->model_floats = r->model_floats;
    ck->optim_floats = r->optim_floats;
}

/* ---- alone: this process trains ------------------------------------------------------------ */

static int direct_epoch(void *ctx, const hp_trial_plan *p, const hp_epoch_metrics *m, hp_err *err) {
    return hp_coord_record_epoch(ctx, p->id, m, err);
}

static int direct_checkpoint(void *ctx, const hp_trial_plan *p, const hp_train_ckpt *ck, const float *vec, int64_t n,
                             double seconds, hp_err *err) {
    return hp_coord_record_checkpoint(ctx, p->id, ck, vec, n, seconds, err);
}

static int direct_result(void *ctx, const hp_trial_plan *p, const hp_trial_result *r, const float *snapshot,
                         int64_t n, hp_err *err) {
    (void)p;
    return hp_coord_record_result(ctx, 0, r, snapshot, n, err);
}

/* The device of lane 0 when alone (NULL: the CPU). */
static hp_cuda_device *own_gpu(const coord *c) { return c->opts->gpus ? c->opts->gpus[0] : NULL; }

/* Who trains when alone: this process, on its GPU or the CPU (slot 0 is otherwise unused). */
static void describe_self(coord *c) {
    hp_msg_ready *me = &c->slots[0].info;
    me->lanes = c->opts->pack > 1 ? c->opts->pack : 1;
    char host[64] = "localhost";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(me->host, sizeof me->host, "%.*s", (int)sizeof me->host - 1, host);
    me->gpu = hp_devsel_index(own_gpu(c));
    snprintf(me->device_name, sizeof me->device_name, "%.*s", (int)sizeof me->device_name - 1,
             hp_devsel_name(own_gpu(c)));
    hp_devsel_describe(own_gpu(c), me->device, sizeof me->device);
}

/* How trial p starts: from its checkpoint on resume (ck is filled then), else from the start. */
static hp_trial_start trial_start(const coord *c, const hp_trial_plan *p, hp_train_ckpt *ck) {
    hp_trial_start start = {c->checkpoint_every, NULL, NULL, 0, 0, c->opts->stop, own_gpu(c)};
    const hp_resume_ckpt *rc = resume_ckpt(c, p->id);
    if (rc) {
        ckpt_from_record(&rc->rec, ck);
        start.resume = ck;
        start.resume_vec = rc->vec;
        start.resume_n = rc->n;
        start.seconds_before = rc->rec.seconds;
    }
    return start;
}

static int run_stage_alone(coord *c, hp_err *err) {
    hp_trial_hooks hooks = {direct_epoch, direct_result, c, direct_checkpoint};
    for (int i = 0; i < c->stage.ntrials; i++) {
        const hp_trial_plan *p = &c->plans[i];
        if (hp_trial_finished(c->recs[p->id].status)) continue;
        if (stop_requested(c)) return 0;
        hp_train_ckpt ck;
        hp_trial_start start = trial_start(c, p, &ck);
        if (hp_coord_start_trial(c, p, 0, &c->slots[0].info, err) != 0) return -1;
        int cancelled = 0;
        if (hp_trial_execute(c->spec, c->data, p, &start, &hooks, &cancelled, err) != 0) return -1;
        if (cancelled && !stop_requested(c)) c->stopping = -1;
    }
    return 0;
}

/* ---- alone with lanes: opts->pack trials at once in this process (lanes.h) ------------------ *
 * The hooks run on the lane threads and take c->mu; the dispatching thread holds it whenever it
 * touches c, and lets go only to wait for a lane. */

static int locked_epoch(void *ctx, const hp_trial_plan *p, const hp_epoch_metrics *m, hp_err *err) {
    coord *c = ctx;
    pthread_mutex_lock(&c->mu);
    int v = direct_epoch(ctx, p, m, err);
    pthread_mutex_unlock(&c->mu);
    return v;
}

static int locked_checkpoint(void *ctx, const hp_trial_plan *p, const hp_train_ckpt *ck, const float *vec, int64_t n,
                             double seconds, hp_err *err) {
    coord *c = ctx;
    pthread_mutex_lock(&c->mu);
    int rc = direct_checkpoint(ctx, p, ck, vec, n, seconds, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static int locked_result(void *ctx, const hp_trial_plan *p, const hp_trial_result *r, const float *snapshot,
                         int64_t n, hp_err *err) {
    coord *c = ctx;
    pthread_mutex_lock(&c->mu);
    int rc = direct_result(ctx, p, r, snapshot, n, err);
    pthread_mutex_unlock(&c->mu);
    return rc;
}

static const hp_trial_hooks lane_hooks = {locked_epoch, locked_result, NULL, locked_checkpoint};

static int run_stage_lanes(coord *c, hp_err *err) {
    int rc = 0, next = 0;
    pthread_mutex_lock(&c->mu);
    for (;;) {
        if (stop_requested(c) || rc != 0) c->lanes_cancel = 1; /* running trials stop at their next batch */
        while (!c->lanes_cancel && next < c->stage.ntrials &&
               hp_lanes_busy(c->lanes) < hp_lanes_count(c->lanes)) {
            const hp_trial_plan *p = &c->plans[next++];
            if (hp_trial_finished(c->recs[p->id].status)) continue;
            hp_train_ckpt ck;
            hp_trial_start start = trial_start(c, p, &ck);
            if (hp_coord_start_trial(c, p, 0, &c->slots[0].info, err) != 0 ||
                hp_lanes_start(c->lanes, p, &start, err) != 0) {
                rc = -1;
                c->lanes_cancel = 1;
            }
        }
        if (hp_lanes_busy(c->lanes) == 0) break;
        pthread_mutex_unlock(&c->mu);
        int64_t trial = -1;
        int trc = 0, cancelled = 0;
        hp_err terr = {{0}};
        int got = hp_lanes_reap(c->lanes, 0.05, &trial, &trc, &cancelled, &terr);
        pthread_mutex_lock(&c->mu);
        if (got && trc != 0 && rc == 0) {
            *err = terr;
            rc = -1;
        }
        if (got && cancelled && !stop_requested(c)) c->stopping = -1;
    }
    pthread_mutex_unlock(&c->mu);
    return rc;
}

/* ---- under MPI: dynamic dispatch ----------------------------------------------------------- */

static int recv_ready(coord *c, int rank, hp_err *err) {
    worker_slot *s = &c->slots[rank];
    if (hp_mpi_recv_bytes(&s->info, (int)sizeof s->info, rank, HP_TAG_READY, c->opts->comm, err) != 0) return -1;
    if (s->info.protocol_version != HP_PROTOCOL_VERSION || s->info.sizeof_plan != (int)sizeof(hp_trial_plan) ||
        s->info.sizeof_epoch != (int)sizeof(hp_msg_epoch) || s->info.sizeof_result != (int)sizeof(hp_msg_result) ||
        s->info.sizeof_trial != (int)sizeof(hp_msg_trial) ||
        s->info.sizeof_checkpoint != (int)sizeof(hp_msg_checkpoint))
        return hp_errf(err,
                       "rank %d speaks protocol %d with other message sizes than rank 0 (protocol %d): run the "
                       "same hpsweep build on every node",
                       rank, s->info.protocol_version, HP_PROTOCOL_VERSION);
    s->info.host[sizeof s->info.host - 1] = '\0';
    s->info.device_name[sizeof s->info.device_name - 1] = '\0';
    s->info.device[sizeof s->info.device - 1] = '\0';
    if (s->info.lanes < 1 || s->info.lanes > HP_MAX_PACK)
        return hp_errf(err, "rank %d trains %d trials at once; this build allows 1 to %d", rank, s->info.lanes,
                       HP_MAX_PACK);
    s->ready = 1;
    return 0;
}

/* Every trainer rank announces itself (READY) as soon as it has its data and its device, so wait
 * for all of them before the first dispatch and say which device each trains on. A stop request
 * ends the wait; ranks not heard from yet are then handled by drain_workers. */
static int collect_ready(coord *c, hp_err *err) {
    for (int rank = 1; rank <= c->opts->nworkers; rank++) {
        MPI_Status st;
        int got = hp_mpi_wait_probe_until(rank, HP_TAG_READY, c->opts->comm, c->opts->stop, &st, err);
        if (got < 0) return -1;
        if (got == 0) return 0;
        if (recv_ready(c, rank, err) != 0) return -1;
    }
    if (c->opts->quiet) return 0;
    for (int rank = 1; rank <= c->opts->nworkers; rank++) {
        const hp_msg_ready *in = &c->slots[rank].info;
        if (in->lanes > 1)
            printf("  rank %d on %s: %s, %d trials at once\n", rank, in->host, in->device, in->lanes);
        else
            printf("  rank %d on %s: %s\n", rank, in->host, in->device);
    }
    fflush(stdout);
    return 0;
}

static int send_trial(coord *c, const hp_trial_plan *p, int rank, hp_err *err) {
    hp_msg_trial msg;
    memset(&msg, 0, sizeof msg);
    msg.plan = *p;
    msg.checkpoint_every = c->checkpoint_every;
    const hp_resume_ckpt *rc = resume_ckpt(c, p->id);
    if (rc) {
        msg.has_checkpoint = 1;
        ckpt_from_record(&rc->rec, &msg.ckpt);
        msg.seconds_before = rc->rec.seconds;
        msg.ckpt_floats = rc->n;
    }
    if (hp_mpi_send_bytes(&msg, (int)sizeof msg, rank, HP_TAG_TRIAL, c->opts->comm, err) != 0) return -1;
    if (msg.ckpt_floats > 0 &&
        hp_mpi_send_bytes(rc->vec, (int)(msg.ckpt_floats * (int64_t)sizeof(float)), rank, HP_TAG_RESUME_STATE,
                          c->opts->comm, err) != 0)
        return -1;
    return 0;
}

/* Hand the stage's next unfinished trials (todo[*next ...]) to ranks with an idle lane, one
 * trial per rank per round, so that a stage of fewer trials than lanes is spread over the ranks. */
static int dispatch_idle(coord *c, const int *todo, int ntodo, int *next, hp_err *err) {
    for (int sent = 1; sent && *next < ntodo;) {
        sent = 0;
        for (int rank = 1; rank <= c->opts->nworkers && *next < ntodo; rank++) {
            worker_slot *s = &c->slots[rank];
            if (!s->ready || s->busy >= s->info.lanes || s->gone) continue;
            const hp_trial_plan *p = &c->plans[todo[*next]];
            if (send_trial(c, p, rank, err) != 0) return -1;
            s->trial[s->busy++] = p->id;
            (*next)++;
            sent = 1;
            if (hp_coord_start_trial(c, p, rank, &s->info, err) != 0) return -1;
        }
    }
    return 0;
}

/* Whether trial is out on s; with `take`, it is no longer. */
static int slot_has(worker_slot *s, int64_t trial, int take) {
    for (int i = 0; i < s->busy; i++)
        if (s->trial[i] == trial) {
            if (take) s->trial[i] = s->trial[--s->busy];
            return 1;
        }
    return 0;
}

/* Receive a float vector of a probed message into buf [cap]; a size mismatch is an error. */
static int recv_floats(coord *c, float *buf, int64_t n, int rank, int tag, hp_err *err) {
    return hp_mpi_recv_bytes(buf, (int)(n * (int64_t)sizeof(float)), rank, tag, c->opts->comm, err);
}

/* One message from a trainer rank. `live`: record it; else (stopping) receive and drop it. */
static int handle_message(coord *c, const MPI_Status *st, int live, int *finished, hp_err *err) {
    MPI_Comm comm = c->opts->comm;
    int rank = st->MPI_SOURCE;
    if (rank < 1 || rank > c->opts->nworkers) return hp_errf(err, "message from unknown rank %d", rank);
    worker_slot *s = &c->slots[rank];
    switch (st->MPI_TAG) {
    case HP_TAG_READY:
        return recv_ready(c, rank, err);
    case HP_TAG_BYE:
        if (hp_mpi_recv_bytes(NULL, 0, rank, HP_TAG_BYE, comm, err) != 0) return -1;
        s->gone = 1;
        s->busy = 0; /* its trials, if any, stay running: they resume from their last checkpoints */
        if (!c->stopping) c->stopping = -1;
        return 0;
    case HP_TAG_EPOCH: {
        hp_msg_epoch msg;
        if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, rank, HP_TAG_EPOCH, comm, err) != 0) return -1;
        if (!slot_has(s, msg.trial, 0))
            return hp_errf(err, "rank %d reported an epoch of trial %lld, which it was not given", rank,
                           (long long)msg.trial);
        hp_msg_verdict verdict = {msg.trial, HP_VERDICT_ABORT, 0};
        if (live) {
            int v = hp_coord_record_epoch(c, msg.trial, &msg.metrics, err);
            if (v < 0) return -1;
            verdict.verdict = v;
        }
        return hp_mpi_send_bytes(&verdict, (int)sizeof verdict, rank, HP_TAG_VERDICT, comm, err);
    }
    case HP_TAG_CHECKPOINT: {
        hp_msg_checkpoint msg;
        if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, rank, HP_TAG_CHECKPOINT, comm, err) != 0) return -1;
        if (!slot_has(s, msg.trial, 0))
            return hp_errf(err, "rank %d sent a checkpoint of trial %lld, which it was not given", rank,
                           (long long)msg.trial);
        if (msg.floats < 0 || msg.floats > c->ckpt_floats)
            return hp_errf(err, "rank %d: checkpoint of %lld floats, expected at most %lld", rank,
                           (long long)msg.floats, (long long)c->ckpt_floats);
        if (msg.floats > 0 && recv_floats(c, c->ckpt_buf, msg.floats, rank, HP_TAG_CKPT_STATE, err) != 0) return -1;
        return live ? hp_coord_record_checkpoint(c, msg.trial, &msg.ckpt, c->ckpt_buf, msg.floats, msg.seconds, err)
                    : 0;
    }
    case HP_TAG_RESULT: {
        hp_msg_result msg;
        if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, rank, HP_TAG_RESULT, comm, err) != 0) return -1;
        if (!slot_has(s, msg.result.trial, 0))
            return hp_errf(err, "rank %d sent a result for trial %lld, which it was not given", rank,
                           (long long)msg.result.trial);
        const float *snap = NULL;
        if (msg.snapshot_size > 0) {
            if (msg.snapshot_size != c->state_size)
                return hp_errf(err, "rank %d: snapshot of %lld floats, expected %lld", rank,
                               (long long)msg.snapshot_size, (long long)c->state_size);
            if (recv_floats(c, c->snapshot_buf, c->state_size, rank, HP_TAG_SNAPSHOT, err) != 0) return -1;
            snap = c->snapshot_buf;
        }
        slot_has(s, msg.result.trial, 1);
        if (!live) return 0; /* the file is closed: the trial resumes from its last checkpoint */
        (*finished)++;
        return hp_coord_record_result(c, rank, &msg.result, snap, msg.snapshot_size, err);
    }
    default:
        return hp_errf(err, "unexpected message with tag %d from rank %d", st->MPI_TAG, rank);
    }
}

static int run_stage_mpi(coord *c, hp_err *err) {
    int *todo = hp_calloc((size_t)c->stage.ntrials + 1, sizeof *todo, "the stage's trials", err);
    if (!todo) return -1;
    int ntodo = 0, next = 0, finished = 0, rc = -1;
    for (int i = 0; i < c->stage.ntrials; i++)
        if (!hp_trial_finished(c->recs[c->plans[i].id].status)) todo[ntodo++] = i;
    long backoff = 0;
    while (finished < ntodo) {
        if (stop_requested(c)) break;
        if (dispatch_idle(c, todo, ntodo, &next, err) != 0) goto out;
        int flag = 0;
        MPI_Status st;
        if (hp_mpi_probe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->opts->comm, &flag, &st, err) != 0) goto out;
        if (!flag) {
            /* Poll, do not block: a blocking receive busy-waits on a core a trainer needs. */
            backoff = backoff < 20 ? 20 : (backoff < 250 ? backoff * 2 : 250);
            hp_sleep_us(backoff);
            continue;
        }
        backoff = 0;
        if (handle_message(c, &st, 1, &finished, err) != 0) goto out;
    }
    rc = 0;
out:
    free(todo);
    return rc;
}

/* After a stop: let busy ranks finish their message exchange (ABORT verdicts, dropped
 * checkpoints and results) until every rank is idle or gone, then send STOP to all. Returns 1
 * if that happened within `seconds`, 0 if not (the caller aborts the job), -1 on error. */
static int drain_workers(coord *c, double seconds, hp_err *err) {
    double deadline = hp_now_seconds() + seconds;
    for (;;) {
        int all = 1;
        for (int rank = 1; rank <= c->opts->nworkers; rank++) {
            const worker_slot *s = &c->slots[rank];
            if (!(s->gone || (s->ready && !s->busy))) all = 0;
        }
        if (all) break;
        if (hp_now_seconds() > deadline) return 0;
        int flag = 0, finished = 0;
        MPI_Status st;
        if (hp_mpi_probe(MPI_ANY_SOURCE, MPI_ANY_TAG, c->opts->comm, &flag, &st, err) != 0) return -1;
        if (!flag) {
            hp_sleep_us(200);
            continue;
        }
        if (handle_message(c, &st, 0, &finished, err) != 0) return -1;
    }
    int32_t code = HP_STOP_INTERRUPTED;
    for (int rank = 1; rank <= c->opts->nworkers; rank++)
        if (hp_mpi_send_bytes(&code, (int)sizeof code, rank, HP_TAG_STOP, c->opts->comm, err) != 0) return -1;
    return 1;
}

static int stop_workers(coord *c, hp_err *err) {
    for (int rank = 1; rank <= c->opts->nworkers; rank++) {
        if (!c->slots[rank].ready && recv_ready(c, rank, err) != 0) return -1;
        int32_t code = HP_STOP_DONE;
        if (hp_mpi_send_bytes(&code, (int)sizeof code, rank, HP_TAG_STOP, c->opts->comm, err) != 0) return -1;
    }
    return 0;
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
    if (opts->nworkers == 0) describe_self(&c);
    else if (collect_ready(&c, err) != 0) goto done;
    if (opts->nworkers == 0 && opts->pack > 1) {
        hp_trial_hooks hooks = lane_hooks;
        hooks.ctx = &c;
        c.lane_hooks = hooks;
        if (pthread_mutex_init(&c.mu, NULL) != 0) {
            hp_errf(err, "cannot create the coordinator's lock");
            goto done;
        }
        c.mu_made = 1;
        if (hp_lanes_create(opts->pack, opts->gpus, opts->threads, spec, data, &c.lane_hooks, &c.lanes_cancel,
                            &c.lanes, err) != 0)
            goto done;
    }

    c.t0 = hp_now_seconds();
    int64_t done_before = c.done;
    for (int s = 0; s < spec->search.nstages && !stop_requested(&c); s++) {
        if (plan_stage(&c, s, err) != 0) goto done;
        int stage_rc = opts->nworkers > 0 ? run_stage_mpi(&c, err)
                       : c.lanes         ? run_stage_lanes(&c, err)
                                         : run_stage_alone(&c, err);
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
            int drained = drain_workers(&c, 1.5, err);
            if (drained < 0) goto done;
            stats->workers_stopped = drained;
        }
        rc = 0;
    } else {
        if (opts->nworkers > 0 && stop_workers(&c, err) != 0) goto done;
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
