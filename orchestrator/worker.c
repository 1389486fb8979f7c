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

/* The lanes' loop; see above. Returns 0 after STOP or BYE, -1 on an error (lanes stopped). */
static int run_lanes(const hp_spec *spec, const hp_splits *data, hp_gpu_device *const *gpus, int pack, int threads,
                     MPI_Comm comm, int *interrupted, hp_err *err) {
    lanes_ctx lc;
    memset(&lc, 0, sizeof lc);
    if (pthread_mutex_init(&lc.mu, NULL) != 0) return hp_errf(err, "cannot create the lanes' lock");
    if (pthread_cond_init(&lc.cv, NULL) != 0) {
        pthread_mutex_destroy(&lc.mu);
        return hp_errf(err, "cannot create the lanes' condition variable");
    }
    volatile sig_atomic_t cancel = 0; /* the lanes' flag: a signal, or an ABORT verdict */
    hp_trial_hooks hooks = {post_epoch, post_result, &lc, post_checkpoint};
    hp_lanes *lanes = NULL;
    mailbox *sending = NULL;
    MPI_Request req[2] = {MPI_REQUEST_NULL, MPI_REQUEST_NULL};
    pending_trial pend[HP_MAX_PACK]; /* received, waiting for a lane, in order */
    memset(pend, 0, sizeof pend);
    int npend = 0;
    double stop_at = 0;
    int rc = -1, stop = 0;
    long backoff = 0;
    if (hp_lanes_create(pack, gpus, threads, spec, data, &hooks, &cancel, &lanes, err) != 0) goto out;
    for (;;) {
        int acted = 0;
        if (hp_stop_signal) cancel = 1;
        /* 1. Send the oldest posted message, one at a time. */
        if (!sending) {
            pthread_mutex_lock(&lc.mu);
            for (int i = 0; i < HP_MAX_PACK; i++)
                if (lc.box[i].state == BOX_POSTED && (!sending || lc.box[i].seq < sending->seq)) sending = &lc.box[i];
            if (sending) sending->state = BOX_SENDING;
            pthread_mutex_unlock(&lc.mu);
            if (sending) {
                acted = 1;
                if (sending->payload_n > INT_MAX / (int64_t)sizeof(float)) {
                    hp_errf(err, "trial %lld: %lld floats are too many for one MPI message",
                            (long long)sending->trial, (long long)sending->payload_n);
                    goto out;
                }
                if (hp_mpi_check(MPI_Isend(&sending->msg, sending->bytes, MPI_BYTE, 0, sending->tag, comm, &req[0]),
                                 "MPI_Isend", err) != 0 ||
                    (sending->payload_n > 0 &&
                     hp_mpi_check(MPI_Isend(sending->payload, (int)(sending->payload_n * (int64_t)sizeof(float)),
                                            MPI_BYTE, 0, sending->payload_tag, comm, &req[1]),
                                  "MPI_Isend", err) != 0))
                    goto out;
            }
        }
        if (sending) {
            int sent = 0;
            if (hp_mpi_check(MPI_Testall(2, req, &sent, MPI_STATUSES_IGNORE), "MPI_Testall", err) != 0) goto out;
            if (sent) {
                acted = 1;
                pthread_mutex_lock(&lc.mu);
                sending->state = sending->tag == HP_TAG_EPOCH ? BOX_AWAIT_VERDICT : BOX_DONE;
                pthread_cond_broadcast(&lc.cv);
                pthread_mutex_unlock(&lc.mu);
                sending = NULL;
            }
        }
        /* 2. What the coordinator says. */
        int flag = 0;
        MPI_Status st;
        if (hp_mpi_probe(0, MPI_ANY_TAG, comm, &flag, &st, err) != 0) goto out;
        if (flag) {
            acted = 1;
            if (st.MPI_TAG == HP_TAG_TRIAL) {
                /* Queued: the lane whose RESULT made room for it may not have returned yet. */
                if (npend == HP_MAX_PACK) {
                    hp_errf(err, "the coordinator sent more trials than this rank's %d lanes", pack);
                    goto out;
                }
                pending_trial *q = &pend[npend];
                if (recv_trial(comm, &q->msg, &q->vec, &q->cap, err) != 0) goto out;
                if (!cancel) npend++; /* stopping: dropped; the coordinator learns it from BYE */
            } else if (st.MPI_TAG == HP_TAG_VERDICT) {
                hp_msg_verdict v;
                if (hp_mpi_recv_bytes(&v, (int)sizeof v, 0, HP_TAG_VERDICT, comm, err) != 0) goto out;
                pthread_mutex_lock(&lc.mu);
                mailbox *b = NULL;
                for (int i = 0; i < HP_MAX_PACK && !b; i++)
                    if (lc.box[i].state == BOX_AWAIT_VERDICT && lc.box[i].trial == v.trial) b = &lc.box[i];
                if (b) {
                    b->verdict = v.verdict;
                    b->state = BOX_DONE;
                    pthread_cond_broadcast(&lc.cv);
                }
                pthread_mutex_unlock(&lc.mu);
                if (!b) {
                    hp_errf(err, "a verdict for trial %lld, which waits for none here", (long long)v.trial);
                    goto out;
                }
            } else if (st.MPI_TAG == HP_TAG_STOP) {
                /* Every trial has reported its end; the lanes may still be returning (below). */
                if (recv_stop(comm, interrupted, err) != 0) goto out;
                stop = 1;
                stop_at = hp_now_seconds();
            } else {
                hp_errf(err, "unexpected message with tag %d from the coordinator", st.MPI_TAG);
                goto out;
            }
        }
        /* 3. Trials that ended, and the queued ones that can start. */
        int reaped = reap(lanes, 0, &cancel, err);
        if (reaped < 0) goto out;
        if (reaped) acted = 1;
        if (cancel) npend = 0;
        while (npend > 0 && hp_lanes_busy(lanes) < pack) {
            hp_trial_start start = start_of(&pend[0].msg, pend[0].vec, NULL);
            if (hp_lanes_start(lanes, &pend[0].msg.plan, &start, err) != 0) goto out; /* copies the vector */
            pending_trial first = pend[0];
            memmove(pend, pend + 1, (size_t)(npend - 1) * sizeof *pend);
            pend[--npend] = first; /* keeps its buffer for reuse */
            acted = 1;
        }
        if (stop) {
            if (npend > 0) {
                hp_errf(err, "STOP with %d trials not started here", npend);
                goto out;
            }
            if (hp_lanes_busy(lanes) == 0 && !sending) break;
            if (hp_now_seconds() - stop_at > 60) {
                hp_errf(err, "STOP, but %d trials still run here after 60 s", hp_lanes_busy(lanes));
                goto out;
            }
        }
        /* 4. Stopping: once every lane has stopped and said what it had to, BYE. */
        if (cancel && !sending && hp_lanes_busy(lanes) == 0) {
            rc = say_bye(comm, interrupted, err);
            goto out;
        }
        if (acted) {
            backoff = 0;
        } else { /* poll, do not spin: the lanes need the cores (and the GPU, this thread's launches) */
            backoff = backoff < 20 ? 20 : (backoff < 500 ? backoff * 2 : 500);
            hp_sleep_us(backoff);
        }
    }
    rc = 0;
out:
    if (rc != 0 || !stop) {
        /* Unblock every waiting hook, stop the trials, then join. */
        cancel = 1;
        pthread_mutex_lock(&lc.mu);
        lc.failed = rc != 0;
        for (int i = 0; i < HP_MAX_PACK; i++)
            if (lc.box[i].state != BOX_EMPTY && lc.box[i].state != BOX_DONE) {
                lc.box[i].rc = -1;
                hp_errf(&lc.box[i].err, "this rank is stopping");
                lc.box[i].state = BOX_DONE;
            }
        pthread_cond_broadcast(&lc.cv);
        pthread_mutex_unlock(&lc.mu);
    }
    hp_lanes_free(lanes);
    for (int i = 0; i < 2; i++)
        if (req[i] != MPI_REQUEST_NULL) (void)MPI_Request_free(&req[i]); /* teardown */
    pthread_cond_destroy(&lc.cv);
    pthread_mutex_destroy(&lc.mu);
    for (int i = 0; i < HP_MAX_PACK; i++) free(pend[i].vec);
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
