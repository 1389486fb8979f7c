/* coord_dispatch.c - handing the stage's trials out and taking their reports in (coord_impl.h):
 * alone, one after another in this process or in its lanes (lanes.h), or under MPI by dynamic
 * dispatch to the lanes of trainer ranks (protocol.h); the stop of the trainer ranks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "coord_impl.h"
#include "device_pick.h"
#include "mpi_util.h"
#include "trial.h"

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
    if (hp_coord_record_epoch(ctx, p->id, m, err) < 0) return -1;
    int v = hp_coord_prune_verdict(ctx, p->id, m->epoch);
    /* One trial at a time in id order: every lower-id trial has finished (coord_prune.c). */
    if (v == HP_VERDICT_WAIT)
        return hp_errf(err, "internal error: trial %lld's verdict waits, but no other trial runs", (long long)p->id);
    return v;
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
static hp_gpu_device *own_gpu(const coord *c) { return c->opts->gpus ? c->opts->gpus[0] : NULL; }

/* Who trains when alone: this process, on its GPU or the CPU (slot 0 is otherwise unused). */
void hp_coord_describe_self(coord *c) {
    hp_msg_ready *me = &c->slots[0].info;
    me->lanes = c->opts->pack > 1 ? c->opts->pack : 1;
    char host[64] = "localhost";
    if (gethostname(host, sizeof host) != 0) snprintf(host, sizeof host, "unknown");
    host[sizeof host - 1] = '\0';
    snprintf(me->host, sizeof me->host, "%.*s", (int)sizeof me->host - 1, host);
    me->gpu = hp_device_gpu_index(own_gpu(c));
    snprintf(me->device_name, sizeof me->device_name, "%.*s", (int)sizeof me->device_name - 1,
             hp_device_label(own_gpu(c)));
    hp_device_describe(own_gpu(c), me->device, sizeof me->device);
}

/* How trial p starts: from its checkpoint on resume, or a promoted trial from its parent's final
 * state (ck is filled then), else from the start. -1 if that state cannot be read. */
static int trial_start(coord *c, const hp_trial_plan *p, hp_train_ckpt *ck, hp_trial_start *out, hp_err *err) {
    hp_trial_start start = {c->ckpt.every, NULL, NULL, 0, 0, c->opts->stop, own_gpu(c)};
    int failed = 0;
    const hp_resume_ckpt *rc = hp_coord_start_ckpt(c, p->id, &failed, err);
    if (failed) return -1;
    if (rc) {
        ckpt_from_record(&rc->rec, ck);
        start.resume = ck;
        start.resume_vec = rc->vec;
        start.resume_n = rc->n;
        start.seconds_before = rc->rec.seconds;
    }
    *out = start;
    return 0;
}

int hp_coord_run_stage_alone(coord *c, hp_err *err) {
    hp_trial_hooks hooks = {direct_epoch, direct_result, c, direct_checkpoint};
    for (int i = 0; i < c->plan.stage.ntrials; i++) {
        const hp_trial_plan *p = &c->plan.trials[i];
        if (hp_trial_finished(c->plan.recs[p->id].status)) continue;
        if (hp_coord_stop_requested(c)) return 0;
        hp_train_ckpt ck;
        hp_trial_start start;
        if (trial_start(c, p, &ck, &start, err) != 0) return -1;
        if (hp_coord_start_trial(c, p, 0, &c->slots[0].info, err) != 0) return -1;
        int cancelled = 0;
        if (hp_trial_execute(c->spec, c->data, p, &start, &hooks, &cancelled, err) != 0) return -1;
        if (cancelled && !hp_coord_stop_requested(c)) c->stopping = -1;
    }
    return 0;
}

/* ---- alone with lanes: opts->pack trials at once in this process (lanes.h) ------------------ *
 * The hooks run on the lane threads and take c->lanes.mu; the dispatching thread holds it whenever it
 * touches c, and lets go only to wait for a lane. */

/* A lane's epoch: recorded, then its verdict, which may wait (coord_prune.c) for lower-id
 * trials in other lanes: the lane sleeps on prune.cond, which every recorded epoch and result
 * signals, and gives up (ABORT) when the sweep is stopping. */
static int locked_epoch(void *ctx, const hp_trial_plan *p, const hp_epoch_metrics *m, hp_err *err) {
    coord *c = ctx;
    pthread_mutex_lock(&c->lanes.mu);
    int v = hp_coord_record_epoch(c, p->id, m, err);
    if (v >= 0) {
        pthread_cond_broadcast(&c->prune.cond);
        while ((v = hp_coord_prune_verdict(c, p->id, m->epoch)) == HP_VERDICT_WAIT && !c->lanes.cancel) {
            struct timespec until;
            clock_gettime(CLOCK_REALTIME, &until);
            until.tv_nsec += 50 * 1000000L; /* wake now and then to see a stop */
            if (until.tv_nsec >= 1000000000L) until.tv_sec++, until.tv_nsec -= 1000000000L;
            pthread_cond_timedwait(&c->prune.cond, &c->lanes.mu, &until);
        }
        if (v == HP_VERDICT_WAIT) v = HP_VERDICT_ABORT;
    }
    pthread_mutex_unlock(&c->lanes.mu);
    return v;
}

static int locked_checkpoint(void *ctx, const hp_trial_plan *p, const hp_train_ckpt *ck, const float *vec, int64_t n,
                             double seconds, hp_err *err) {
    coord *c = ctx;
    pthread_mutex_lock(&c->lanes.mu);
    int rc = direct_checkpoint(ctx, p, ck, vec, n, seconds, err);
    pthread_mutex_unlock(&c->lanes.mu);
    return rc;
}

static int locked_result(void *ctx, const hp_trial_plan *p, const hp_trial_result *r, const float *snapshot,
                         int64_t n, hp_err *err) {
    coord *c = ctx;
    pthread_mutex_lock(&c->lanes.mu);
    int rc = direct_result(ctx, p, r, snapshot, n, err);
    pthread_cond_broadcast(&c->prune.cond); /* a lane may wait for this trial (locked_epoch) */
    pthread_mutex_unlock(&c->lanes.mu);
    return rc;
}

int hp_coord_lanes_open(coord *c, hp_err *err) {
    const hp_trial_hooks hooks = {locked_epoch, locked_result, c, locked_checkpoint};
    c->lanes.hooks = hooks;
    if (pthread_mutex_init(&c->lanes.mu, NULL) != 0) return hp_errf(err, "cannot create the coordinator's lock");
    c->lanes.mu_made = 1;
    if (pthread_cond_init(&c->prune.cond, NULL) != 0) return hp_errf(err, "cannot create the pruning condition");
    c->prune.cond_made = 1;
    return hp_lanes_create(c->opts->pack, c->opts->gpus, c->opts->threads, c->spec, c->data, &c->lanes.hooks,
                           &c->lanes.cancel, &c->lanes.set, err);
}

int hp_coord_run_stage_lanes(coord *c, hp_err *err) {
    int rc = 0, next = 0;
    pthread_mutex_lock(&c->lanes.mu);
    for (;;) {
        if (hp_coord_stop_requested(c) || rc != 0) c->lanes.cancel = 1; /* running trials stop at their next batch */
        while (!c->lanes.cancel && next < c->plan.stage.ntrials &&
               hp_lanes_busy(c->lanes.set) < hp_lanes_count(c->lanes.set)) {
            const hp_trial_plan *p = &c->plan.trials[next++];
            if (hp_trial_finished(c->plan.recs[p->id].status)) continue;
            hp_train_ckpt ck;
            hp_trial_start start;
            if (trial_start(c, p, &ck, &start, err) != 0 ||
                hp_coord_start_trial(c, p, 0, &c->slots[0].info, err) != 0 ||
                hp_lanes_start(c->lanes.set, p, &start, err) != 0) {
                rc = -1;
                c->lanes.cancel = 1;
            }
        }
        if (hp_lanes_busy(c->lanes.set) == 0) break;
        pthread_mutex_unlock(&c->lanes.mu);
        int64_t trial = -1;
        int trc = 0, cancelled = 0;
        hp_err terr = {{0}};
        int got = hp_lanes_reap(c->lanes.set, 0.05, &trial, &trc, &cancelled, &terr);
        pthread_mutex_lock(&c->lanes.mu);
        if (got && trc != 0 && rc == 0) {
            *err = terr;
            rc = -1;
        }
        if (got && cancelled && !hp_coord_stop_requested(c)) c->stopping = -1;
    }
    pthread_mutex_unlock(&c->lanes.mu);
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
int hp_coord_collect_ready(coord *c, hp_err *err) {
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
    msg.checkpoint_every = c->ckpt.every;
    int failed = 0;
    const hp_resume_ckpt *rc = hp_coord_start_ckpt(c, p->id, &failed, err);
    if (failed) return -1;
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
            const hp_trial_plan *p = &c->plan.trials[todo[*next]];
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
            if (hp_coord_record_epoch(c, msg.trial, &msg.metrics, err) < 0) return -1;
            int v = hp_coord_prune_verdict(c, msg.trial, msg.metrics.epoch);
            /* lower-id trials have not all reached this epoch: answered by hp_coord_prune_flush */
            if (v == HP_VERDICT_WAIT) return hp_coord_prune_defer(c, rank, msg.trial, msg.metrics.epoch, err);
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
        if (msg.floats < 0 || msg.floats > c->ckpt.floats)
            return hp_errf(err, "rank %d: checkpoint of %lld floats, expected at most %lld", rank,
                           (long long)msg.floats, (long long)c->ckpt.floats);
        if (msg.floats > 0 && recv_floats(c, c->ckpt.buf, msg.floats, rank, HP_TAG_CKPT_STATE, err) != 0) return -1;
        return live ? hp_coord_record_checkpoint(c, msg.trial, &msg.ckpt, c->ckpt.buf, msg.floats, msg.seconds, err)
                    : 0;
    }
    case HP_TAG_RESULT: {
        hp_msg_result msg;
        if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, rank, HP_TAG_RESULT, comm, err) != 0) return -1;
        if (!slot_has(s, msg.result.trial, 0))
            return hp_errf(err, "rank %d sent a result for trial %lld, which it was not given", rank,
                           (long long)msg.result.trial);
        const float *snap = NULL;
        if (msg.snapshot_size > 0 && msg.snapshot_size <= c->snap.state_size) {
            if (recv_floats(c, c->snap.buf, msg.snapshot_size, rank, HP_TAG_SNAPSHOT, err) != 0) return -1;
            snap = c->snap.buf;
        } else if (msg.snapshot_size > 0) { /* wider than the file's rows: taken off the wire, not kept */
            if (msg.snapshot_size > INT32_MAX / (int64_t)sizeof(float))
                return hp_errf(err, "rank %d: a snapshot of %lld floats", rank, (long long)msg.snapshot_size);
            float *drop = hp_calloc((size_t)msg.snapshot_size, sizeof(float), "a snapshot too wide to keep", err);
            int rc = drop ? recv_floats(c, drop, msg.snapshot_size, rank, HP_TAG_SNAPSHOT, err) : -1;
            free(drop);
            if (rc != 0) return -1;
            snap = NULL;
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

int hp_coord_run_stage_mpi(coord *c, hp_err *err) {
    int *todo = hp_calloc((size_t)c->plan.stage.ntrials + 1, sizeof *todo, "the stage's trials", err);
    if (!todo) return -1;
    int ntodo = 0, next = 0, finished = 0, rc = -1;
    for (int i = 0; i < c->plan.stage.ntrials; i++)
        if (!hp_trial_finished(c->plan.recs[c->plan.trials[i].id].status)) todo[ntodo++] = i;
    long backoff = 0;
    while (finished < ntodo) {
        if (hp_coord_stop_requested(c)) break;
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
        if (handle_message(c, &st, 1, &finished, err) != 0 || hp_coord_prune_flush(c, 0, err) != 0) goto out;
    }
    rc = 0;
out:
    free(todo);
    return rc;
}

/* After a stop: let busy ranks finish their message exchange (ABORT verdicts, dropped
 * checkpoints and results) until every rank is idle or gone, then send STOP to all. Returns 1
 * if that happened within `seconds`, 0 if not (the caller aborts the job), -1 on error. */
int hp_coord_drain_workers(coord *c, double seconds, hp_err *err) {
    double deadline = hp_now_seconds() + seconds;
    if (hp_coord_prune_flush(c, 1, err) != 0) return -1; /* verdicts still waiting: ABORT */
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

int hp_coord_stop_workers(coord *c, hp_err *err) {
    for (int rank = 1; rank <= c->opts->nworkers; rank++) {
        if (!c->slots[rank].ready && recv_ready(c, rank, err) != 0) return -1;
        int32_t code = HP_STOP_DONE;
        if (hp_mpi_send_bytes(&code, (int)sizeof code, rank, HP_TAG_STOP, c->opts->comm, err) != 0) return -1;
    }
    return 0;
}
