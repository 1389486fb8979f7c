/* worker.c - see worker.h */
#include "worker.h"

#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "hp_time.h"
#include "lanes.h"
#include "mpi_util.h"
#include "signals.h"

typedef struct worker_ctx {
    MPI_Comm comm;
} worker_ctx;

static int send_floats(const float *v, int64_t n, int tag, MPI_Comm comm, hp_err *err) {
    if (n > INT_MAX / (int64_t)sizeof(float))
        return hp_errf(err, "a state of %lld floats is too large for one MPI message", (long long)n);
    return hp_mpi_send_bytes(v, (int)(n * (int64_t)sizeof(float)), 0, tag, comm, err);
}

static int verdict_of(int32_t v) {
    return v == HP_VERDICT_STOP ? HP_VERDICT_STOP : v == HP_VERDICT_ABORT ? HP_VERDICT_ABORT : HP_VERDICT_CONTINUE;
}

static int send_epoch(void *vctx, const hp_trial_plan *plan, const hp_epoch_metrics *m, hp_err *err) {
    worker_ctx *ctx = vctx;
    hp_msg_epoch msg;
    memset(&msg, 0, sizeof msg);
    msg.trial = plan->id;
    msg.metrics = *m;
    if (hp_mpi_send_bytes(&msg, (int)sizeof msg, 0, HP_TAG_EPOCH, ctx->comm, err) != 0) return -1;
    hp_msg_verdict v;
    if (hp_mpi_recv_bytes(&v, (int)sizeof v, 0, HP_TAG_VERDICT, ctx->comm, err) != 0) return -1;
    if (v.trial != plan->id)
        return hp_errf(err, "the coordinator's verdict is for trial %lld, not %lld", (long long)v.trial,
                       (long long)plan->id);
    return verdict_of(v.verdict);
}

static int send_checkpoint(void *vctx, const hp_trial_plan *plan, const hp_train_ckpt *ck, const float *vec,
                           int64_t n, double seconds, hp_err *err) {
    worker_ctx *ctx = vctx;
    hp_msg_checkpoint msg;
    memset(&msg, 0, sizeof msg);
    msg.trial = plan->id;
    msg.ckpt = *ck;
    msg.seconds = seconds;
    msg.floats = vec ? n : 0;
    if (hp_mpi_send_bytes(&msg, (int)sizeof msg, 0, HP_TAG_CHECKPOINT, ctx->comm, err) != 0) return -1;
    return msg.floats > 0 ? send_floats(vec, msg.floats, HP_TAG_CKPT_STATE, ctx->comm, err) : 0;
}

static int send_result(void *vctx, const hp_trial_plan *plan, const hp_trial_result *r, const float *snapshot,
                       int64_t state_size, hp_err *err) {
    (void)plan;
    worker_ctx *ctx = vctx;
    hp_msg_result msg;
    memset(&msg, 0, sizeof msg);
    msg.result = *r;
    msg.snapshot_size = snapshot ? state_size : 0;
    if (msg.snapshot_size > INT_MAX / (int64_t)sizeof(float))
        return hp_errf(err, "snapshot of %lld floats is too large for one MPI message", (long long)state_size);
    if (hp_mpi_send_bytes(&msg, (int)sizeof msg, 0, HP_TAG_RESULT, ctx->comm, err) != 0) return -1;
    return msg.snapshot_size > 0 ? send_floats(snapshot, msg.snapshot_size, HP_TAG_SNAPSHOT, ctx->comm, err) : 0;
}

/* Receive STOP; *interrupted says whether the sweep stopped early. */
static int recv_stop(MPI_Comm comm, int *interrupted, hp_err *err) {
    int32_t code = 0;
    if (hp_mpi_recv_bytes(&code, (int)sizeof code, 0, HP_TAG_STOP, comm, err) != 0) return -1;
    *interrupted = code == HP_STOP_INTERRUPTED;
    return 0;
}

/* A signal stopped this rank: say so, then wait for the coordinator's STOP (or its abort). */
static int say_bye(MPI_Comm comm, int *interrupted, hp_err *err) {
    if (hp_mpi_send_bytes(NULL, 0, 0, HP_TAG_BYE, comm, err) != 0) return -1;
    for (;;) {
        MPI_Status st;
        if (hp_mpi_wait_probe(0, MPI_ANY_TAG, comm, &st, err) != 0) return -1;
        int count = 0;
        if (hp_mpi_check(MPI_Get_count(&st, MPI_BYTE, &count), "MPI_Get_count", err) != 0) return -1;
        if (st.MPI_TAG == HP_TAG_STOP) return recv_stop(comm, interrupted, err);
        char *buf = count > 0 ? malloc((size_t)count) : NULL;
        if (count > 0 && !buf) return hp_errf(err, "out of memory receiving %d bytes", count);
        int rc = hp_mpi_check(MPI_Recv(buf, count, MPI_BYTE, 0, st.MPI_TAG, comm, MPI_STATUS_IGNORE), "MPI_Recv",
                              err);
        free(buf);
        if (rc != 0) return -1;
        /* anything else (a trial sent meanwhile) is dropped */
    }
}

/* Receive a TRIAL (probed) and its checkpoint vector into *vec [*cap] (grown as needed). */
static int recv_trial(MPI_Comm comm, hp_msg_trial *msg, float **vec, int64_t *cap, hp_err *err) {
    if (hp_mpi_recv_bytes(msg, (int)sizeof *msg, 0, HP_TAG_TRIAL, comm, err) != 0) return -1;
    if (msg->ckpt_floats < 0 || msg->ckpt_floats > INT_MAX / (int64_t)sizeof(float))
        return hp_errf(err, "trial %lld: checkpoint of %lld floats", (long long)msg->plan.id,
                       (long long)msg->ckpt_floats);
    if (msg->ckpt_floats > *cap) {
        free(*vec);
        *cap = 0;
        if (!(*vec = hp_calloc((size_t)msg->ckpt_floats, sizeof(float), "the checkpoint", err))) return -1;
        *cap = msg->ckpt_floats;
    }
    if (msg->ckpt_floats > 0 &&
        hp_mpi_recv_bytes(*vec, (int)(msg->ckpt_floats * (int64_t)sizeof(float)), 0, HP_TAG_RESUME_STATE, comm,
                          err) != 0)
        return -1;
    return 0;
}

static hp_trial_start start_of(const hp_msg_trial *msg, const float *vec, hp_gpu_device *gpu) {
    hp_trial_start start = {msg->checkpoint_every, msg->has_checkpoint ? &msg->ckpt : NULL, vec, msg->ckpt_floats,
                            msg->seconds_before, &hp_stop_signal, gpu};
    return start;
}

/* One trial at a time, in this thread. */
static int run_one(const hp_spec *spec, const hp_splits *data, hp_gpu_device *gpu, MPI_Comm comm, int *interrupted,
                   hp_err *err) {
    worker_ctx ctx = {comm};
    hp_trial_hooks hooks = {send_epoch, send_result, &ctx, send_checkpoint};
    float *resume_vec = NULL;
    int64_t resume_cap = 0;
    int rc = -1;
    for (;;) {
        MPI_Status st;
        int got = hp_mpi_wait_probe_until(0, MPI_ANY_TAG, comm, &hp_stop_signal, &st, err);
        if (got < 0) goto out;
        if (got == 0) { /* a signal, while idle */
            rc = say_bye(comm, interrupted, err);
            goto out;
        }
        if (st.MPI_TAG == HP_TAG_STOP) {
            rc = recv_stop(comm, interrupted, err);
            goto out;
        }
        if (st.MPI_TAG != HP_TAG_TRIAL) {
            hp_errf(err, "unexpected message with tag %d from the coordinator", st.MPI_TAG);
            goto out;
        }
        hp_msg_trial msg;
        if (recv_trial(comm, &msg, &resume_vec, &resume_cap, err) != 0) goto out;
        hp_trial_start start = start_of(&msg, resume_vec, gpu);
        int cancelled = 0;
        if (hp_trial_execute(spec, data, &msg.plan, &start, &hooks, &cancelled, err) != 0) goto out;
        if (cancelled) { /* a signal, or the coordinator is stopping (ABORT) */
            rc = say_bye(comm, interrupted, err);
            goto out;
        }
    }
out:
    free(resume_vec);
    return rc;
}

/* ---- several trials at once (lanes.h) ------------------------------------------------------ *
 * The lanes' hooks post their message in a mailbox and wait; this thread, the only one that
 * calls MPI, sends the posted messages one after another (a message and its payload together,
 * with nonblocking sends, so that a coordinator sending us a large checkpoint meanwhile cannot
 * deadlock with us), routes each VERDICT to the lane waiting for its trial, and starts the
 * trials the coordinator hands out on idle lanes. */

enum { BOX_EMPTY = 0, BOX_POSTED, BOX_SENDING, BOX_AWAIT_VERDICT, BOX_DONE };

typedef struct mailbox {
    int state;
    int64_t seq;            /* posting order: sent first come, first served */
    int64_t trial;
    int tag, payload_tag;
    union {
        hp_msg_epoch epoch;
        hp_msg_checkpoint ckpt;
        hp_msg_result result;
    } msg;
    int bytes;
    const float *payload;   /* the hook's, valid while it waits */
    int64_t payload_n;
    int rc;                 /* 0, or -1 (err) */
    int verdict;
    hp_err err;
} mailbox;

typedef struct pending_trial {
    hp_msg_trial msg;
    float *vec;             /* [cap] its checkpoint vector, msg.ckpt_floats of it */
    int64_t cap;
} pending_trial;

typedef struct lanes_ctx {
    pthread_mutex_t mu;
    pthread_cond_t cv;      /* a mailbox became DONE */
    mailbox box[HP_MAX_PACK]; /* a lane waits on at most one message */
    int64_t seq;
    int failed;             /* this thread gave up: every hook returns -1 */
} lanes_ctx;

/* In a lane thread: post the message, wait until it is sent (and, for an epoch, answered). */
static int post(lanes_ctx *lc, mailbox *m, int *verdict, hp_err *err) {
    pthread_mutex_lock(&lc->mu);
    mailbox *b = NULL;
    for (int i = 0; i < HP_MAX_PACK && !b; i++)
        if (lc->box[i].state == BOX_EMPTY) b = &lc->box[i];
    if (!b || lc->failed) {
        pthread_mutex_unlock(&lc->mu);
        return hp_errf(err, "trial %lld: this rank stopped sending", (long long)m->trial);
    }
    *b = *m;
    b->seq = lc->seq++;
    b->state = BOX_POSTED;
    while (b->state != BOX_DONE) pthread_cond_wait(&lc->cv, &lc->mu);
    int rc = b->rc;
    if (rc != 0) *err = b->err;
    if (verdict) *verdict = b->verdict;
    b->state = BOX_EMPTY;
    pthread_mutex_unlock(&lc->mu);
    return rc;
}

static int post_epoch(void *vctx, const hp_trial_plan *plan, const hp_epoch_metrics *m, hp_err *err) {
    mailbox b;
    memset(&b, 0, sizeof b);
    b.trial = plan->id;
    b.tag = HP_TAG_EPOCH;
    b.msg.epoch.trial = plan->id;
    b.msg.epoch.metrics = *m;
    b.bytes = (int)sizeof b.msg.epoch;
    int verdict = 0;
    if (post(vctx, &b, &verdict, err) != 0) return -1;
    return verdict_of(verdict);
}

static int post_checkpoint(void *vctx, const hp_trial_plan *plan, const hp_train_ckpt *ck, const float *vec,
                           int64_t n, double seconds, hp_err *err) {
    mailbox b;
    memset(&b, 0, sizeof b);
    b.trial = plan->id;
    b.tag = HP_TAG_CHECKPOINT;
    b.msg.ckpt.trial = plan->id;
    b.msg.ckpt.ckpt = *ck;
    b.msg.ckpt.seconds = seconds;
    b.msg.ckpt.floats = vec ? n : 0;
    b.bytes = (int)sizeof b.msg.ckpt;
    b.payload = vec;
    b.payload_n = b.msg.ckpt.floats;
    b.payload_tag = HP_TAG_CKPT_STATE;
    return post(vctx, &b, NULL, err);
}

static int post_result(void *vctx, const hp_trial_plan *plan, const hp_trial_result *r, const float *snapshot,
                       int64_t state_size, hp_err *err) {
    mailbox b;
    memset(&b, 0, sizeof b);
    b.trial = plan->id;
    b.tag = HP_TAG_RESULT;
    b.msg.result.result = *r;
    b.msg.result.snapshot_size = snapshot ? state_size : 0;
    b.bytes = (int)sizeof b.msg.result;
    b.payload = snapshot;
    b.payload_n = b.msg.result.snapshot_size;
    b.payload_tag = HP_TAG_SNAPSHOT;
    return post(vctx, &b, NULL, err);
}

/* Reap the lanes whose trial ended, waiting up to `seconds` for the first; 1 if any, 0 if none,
 * -1 when a trial's hook failed (err). A cancelled trial (ABORT, a signal) raises *cancel. */
static int reap(hp_lanes *lanes, double seconds, volatile sig_atomic_t *cancel, hp_err *err) {
    int64_t trial;
    int trc, cancelled, any = 0;
    hp_err terr = {{0}};
    while (hp_lanes_reap(lanes, any ? 0 : seconds, &trial, &trc, &cancelled, &terr) == 1) {
        any = 1;
        if (trc != 0) {
            *err = terr;
            return -1;
        }
        if (cancelled) *cancel = 1; /* every lane stops, then BYE */
    }
    return any;
}

/* The lanes' loop's state: the mailboxes, the lanes, the message being sent and the trials
 * received that wait for a lane. */
typedef struct lanes_loop {
    lanes_ctx lc;
    volatile sig_atomic_t cancel; /* the lanes' flag: a signal, or an ABORT verdict */
    hp_trial_hooks hooks;         /* the lanes keep a pointer to it */
    hp_lanes *lanes;
    int pack;
    MPI_Comm comm;
    int *interrupted;
    mailbox *sending;             /* its message and payload are in flight in req */
    MPI_Request req[2];
    pending_trial pend[HP_MAX_PACK]; /* received, waiting for a lane, in order */
    int npend;
    int stop;                     /* STOP received, at stop_at */
    double stop_at;
} lanes_loop;

/* 1a. Claim the oldest posted message and start sending it with its payload; 1 if there was
 * one, 0 if not, -1 on an error. */
static int send_oldest(lanes_loop *L, hp_err *err) {
    pthread_mutex_lock(&L->lc.mu);
    for (int i = 0; i < HP_MAX_PACK; i++)
        if (L->lc.box[i].state == BOX_POSTED && (!L->sending || L->lc.box[i].seq < L->sending->seq))
            L->sending = &L->lc.box[i];
    if (L->sending) L->sending->state = BOX_SENDING;
    pthread_mutex_unlock(&L->lc.mu);
    mailbox *s = L->sending;
    if (!s) return 0;
    if (s->payload_n > INT_MAX / (int64_t)sizeof(float))
        return hp_errf(err, "trial %lld: %lld floats are too many for one MPI message", (long long)s->trial,
                       (long long)s->payload_n);
    if (hp_mpi_check(MPI_Isend(&s->msg, s->bytes, MPI_BYTE, 0, s->tag, L->comm, &L->req[0]), "MPI_Isend", err) != 0 ||
        (s->payload_n > 0 &&
         hp_mpi_check(MPI_Isend(s->payload, (int)(s->payload_n * (int64_t)sizeof(float)), MPI_BYTE, 0, s->payload_tag,
                                L->comm, &L->req[1]),
                      "MPI_Isend", err) != 0))
        return -1;
    return 1;
}

/* 1b. Whether the message in flight has gone: then its lane goes on (or waits for its verdict).
 * 1 if it has, 0 if not, -1 on an error. */
static int finish_sending(lanes_loop *L, hp_err *err) {
    int sent = 0;
    if (hp_mpi_check(MPI_Testall(2, L->req, &sent, MPI_STATUSES_IGNORE), "MPI_Testall", err) != 0) return -1;
    if (!sent) return 0;
    pthread_mutex_lock(&L->lc.mu);
    L->sending->state = L->sending->tag == HP_TAG_EPOCH ? BOX_AWAIT_VERDICT : BOX_DONE;
    pthread_cond_broadcast(&L->lc.cv);
    pthread_mutex_unlock(&L->lc.mu);
    L->sending = NULL;
    return 1;
}

/* TRIAL: queued, since the lane whose RESULT made room for it may not have returned yet. */
static int queue_trial(lanes_loop *L, hp_err *err) {
    if (L->npend == HP_MAX_PACK)
        return hp_errf(err, "the coordinator sent more trials than this rank's %d lanes", L->pack);
    pending_trial *q = &L->pend[L->npend];
    if (recv_trial(L->comm, &q->msg, &q->vec, &q->cap, err) != 0) return -1;
    if (!L->cancel) L->npend++; /* stopping: dropped; the coordinator learns it from BYE */
    return 0;
}

/* VERDICT: handed to the lane that waits for its trial's. */
static int route_verdict(lanes_loop *L, hp_err *err) {
    hp_msg_verdict v;
    if (hp_mpi_recv_bytes(&v, (int)sizeof v, 0, HP_TAG_VERDICT, L->comm, err) != 0) return -1;
    pthread_mutex_lock(&L->lc.mu);
    mailbox *b = NULL;
    for (int i = 0; i < HP_MAX_PACK && !b; i++)
        if (L->lc.box[i].state == BOX_AWAIT_VERDICT && L->lc.box[i].trial == v.trial) b = &L->lc.box[i];
    if (b) {
        b->verdict = v.verdict;
        b->state = BOX_DONE;
        pthread_cond_broadcast(&L->lc.cv);
    }
    pthread_mutex_unlock(&L->lc.mu);
    if (!b) return hp_errf(err, "a verdict for trial %lld, which waits for none here", (long long)v.trial);
    return 0;
}

/* 2. What the coordinator says: 1 if it said something, 0 if not, -1 on an error. */
static int take_message(lanes_loop *L, hp_err *err) {
    int flag = 0;
    MPI_Status st;
    if (hp_mpi_probe(0, MPI_ANY_TAG, L->comm, &flag, &st, err) != 0) return -1;
    if (!flag) return 0;
    if (st.MPI_TAG == HP_TAG_TRIAL) return queue_trial(L, err) != 0 ? -1 : 1;
    if (st.MPI_TAG == HP_TAG_VERDICT) return route_verdict(L, err) != 0 ? -1 : 1;
    if (st.MPI_TAG == HP_TAG_STOP) {
        /* Every trial has reported its end; the lanes may still be returning (check_stop). */
        if (recv_stop(L->comm, L->interrupted, err) != 0) return -1;
        L->stop = 1;
        L->stop_at = hp_now_seconds();
        return 1;
    }
    return hp_errf(err, "unexpected message with tag %d from the coordinator", st.MPI_TAG);
}

/* 3b. Start the queued trials on idle lanes, oldest first: 1 if any started, 0 if none, -1 on
 * an error. */
static int start_pending(lanes_loop *L, hp_err *err) {
    int started = 0;
    while (L->npend > 0 && hp_lanes_busy(L->lanes) < L->pack) {
        pending_trial *p = L->pend;
        hp_trial_start start = start_of(&p[0].msg, p[0].vec, NULL);
        if (hp_lanes_start(L->lanes, &p[0].msg.plan, &start, err) != 0) return -1; /* copies the vector */
        pending_trial first = p[0];
        memmove(p, p + 1, (size_t)(L->npend - 1) * sizeof *p);
        p[--L->npend] = first; /* keeps its buffer for reuse */
        started = 1;
    }
    return started;
}

/* One turn of steps 1 to 3 (see run_lanes): 1 if it did anything, 0 if not, -1 on an error. */
static int lanes_turn(lanes_loop *L, hp_err *err) {
    int acted = 0, r;
    if (!L->sending) {
        if ((r = send_oldest(L, err)) < 0) return -1;
        acted |= r;
    }
    if (L->sending) {
        if ((r = finish_sending(L, err)) < 0) return -1;
        acted |= r;
    }
    if ((r = take_message(L, err)) < 0) return -1;
    acted |= r;
    /* 3. Trials that ended, and the queued ones that can start. */
    if ((r = reap(L->lanes, 0, &L->cancel, err)) < 0) return -1;
    acted |= r;
    if (L->cancel) L->npend = 0;
    if ((r = start_pending(L, err)) < 0) return -1;
    return acted | r;
}

/* After STOP: 1 once every lane has returned and nothing is being sent, 0 while some still
 * return, -1 when a trial was never started or the lanes take over 60 s. */
static int check_stop(lanes_loop *L, hp_err *err) {
    if (L->npend > 0) return hp_errf(err, "STOP with %d trials not started here", L->npend);
    if (hp_lanes_busy(L->lanes) == 0 && !L->sending) return 1;
    if (hp_now_seconds() - L->stop_at > 60)
        return hp_errf(err, "STOP, but %d trials still run here after 60 s", hp_lanes_busy(L->lanes));
    return 0;
}

/* The loop itself: 0 after STOP (every lane returned) or BYE, -1 on an error. */
static int serve_lanes(lanes_loop *L, hp_err *err) {
    long backoff = 0;
    for (;;) {
        if (hp_stop_signal) L->cancel = 1;
        int acted = lanes_turn(L, err);
        if (acted < 0) return -1;
        if (L->stop) {
            int done = check_stop(L, err);
            if (done < 0) return -1;
            if (done) return 0;
        }
        /* 4. Stopping: once every lane has stopped and said what it had to, BYE. */
        if (L->cancel && !L->sending && hp_lanes_busy(L->lanes) == 0) return say_bye(L->comm, L->interrupted, err);
        if (acted) {
            backoff = 0;
        } else { /* poll, do not spin: the lanes need the cores (and the GPU, this thread's launches) */
            backoff = backoff < 20 ? 20 : (backoff < 500 ? backoff * 2 : 500);
            hp_sleep_us(backoff);
        }
    }
}

/* Unblock every waiting hook (failed: with an error for all later ones too) and stop the trials. */
static void release_hooks(lanes_loop *L, int failed) {
    L->cancel = 1;
    pthread_mutex_lock(&L->lc.mu);
    L->lc.failed = failed;
    for (int i = 0; i < HP_MAX_PACK; i++)
        if (L->lc.box[i].state != BOX_EMPTY && L->lc.box[i].state != BOX_DONE) {
            L->lc.box[i].rc = -1;
            hp_errf(&L->lc.box[i].err, "this rank is stopping");
            L->lc.box[i].state = BOX_DONE;
        }
    pthread_cond_broadcast(&L->lc.cv);
    pthread_mutex_unlock(&L->lc.mu);
}

/* The lanes' loop; see above. Each turn: 1. send the oldest posted message, one at a time;
 * 2. take what the coordinator says; 3. reap the trials that ended and start the queued ones;
 * 4. when stopping, BYE once every lane has stopped. Returns 0 after STOP or BYE, -1 on an error
 * (lanes stopped). */
static int run_lanes(const hp_spec *spec, const hp_splits *data, hp_gpu_device *const *gpus, int pack, int threads,
                     MPI_Comm comm, int *interrupted, hp_err *err) {
    lanes_loop L;
    memset(&L, 0, sizeof L);
    if (pthread_mutex_init(&L.lc.mu, NULL) != 0) return hp_errf(err, "cannot create the lanes' lock");
    if (pthread_cond_init(&L.lc.cv, NULL) != 0) {
        pthread_mutex_destroy(&L.lc.mu);
        return hp_errf(err, "cannot create the lanes' condition variable");
    }
    L.hooks = (hp_trial_hooks){post_epoch, post_result, &L.lc, post_checkpoint};
    L.pack = pack;
    L.comm = comm;
    L.interrupted = interrupted;
    L.req[0] = L.req[1] = MPI_REQUEST_NULL;
    int rc = -1;
    if (hp_lanes_create(pack, gpus, threads, spec, data, &L.hooks, &L.cancel, &L.lanes, err) == 0)
        rc = serve_lanes(&L, err);
    if (rc != 0 || !L.stop) release_hooks(&L, rc != 0);
    hp_lanes_free(L.lanes);
    for (int i = 0; i < 2; i++)
        if (L.req[i] != MPI_REQUEST_NULL) (void)MPI_Request_free(&L.req[i]); /* teardown */
    pthread_cond_destroy(&L.lc.cv);
    pthread_mutex_destroy(&L.lc.mu);
    for (int i = 0; i < HP_MAX_PACK; i++) free(L.pend[i].vec);
    return rc;
}

int hp_worker_run(const hp_spec *spec, const hp_splits *data, const hp_msg_ready *me, hp_gpu_device *const *gpus,
                  int threads, MPI_Comm comm, int *interrupted, hp_err *err) {
    *interrupted = 0;
    if (me->lanes < 1 || me->lanes > HP_MAX_PACK)
        return hp_errf(err, "%d lanes: use 1 to %d trials at once", me->lanes, HP_MAX_PACK);
    if (hp_mpi_send_bytes(me, (int)sizeof *me, 0, HP_TAG_READY, comm, err) != 0) return -1;
    if (me->lanes == 1) return run_one(spec, data, gpus ? gpus[0] : NULL, comm, interrupted, err);
    return run_lanes(spec, data, gpus, me->lanes, threads, comm, interrupted, err);
}
