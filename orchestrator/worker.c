/* worker.c - see worker.h */
#include "worker.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

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

static int send_epoch(void *vctx, const hp_trial_plan *plan, const hp_epoch_metrics *m, hp_err *err) {
    worker_ctx *ctx = vctx;
    hp_msg_epoch msg;
    memset(&msg, 0, sizeof msg);
    msg.trial = plan->id;
    msg.metrics = *m;
    if (hp_mpi_send_bytes(&msg, (int)sizeof msg, 0, HP_TAG_EPOCH, ctx->comm, err) != 0) return -1;
    int32_t verdict = 0;
    if (hp_mpi_recv_bytes(&verdict, (int)sizeof verdict, 0, HP_TAG_VERDICT, ctx->comm, err) != 0) return -1;
    return verdict == HP_VERDICT_STOP ? HP_VERDICT_STOP : verdict == HP_VERDICT_ABORT ? HP_VERDICT_ABORT
                                                                                        : HP_VERDICT_CONTINUE;
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

int hp_worker_run(const hp_spec *spec, const hp_splits *data, const hp_msg_ready *me, hp_cuda_device *gpu,
                  MPI_Comm comm, int *interrupted, hp_err *err) {
    *interrupted = 0;
    if (hp_mpi_send_bytes(me, (int)sizeof *me, 0, HP_TAG_READY, comm, err) != 0) return -1;
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
        if (hp_mpi_recv_bytes(&msg, (int)sizeof msg, 0, HP_TAG_TRIAL, comm, err) != 0) goto out;
        if (msg.ckpt_floats < 0 || msg.ckpt_floats > INT_MAX / (int64_t)sizeof(float)) {
            hp_errf(err, "trial %lld: checkpoint of %lld floats", (long long)msg.plan.id, (long long)msg.ckpt_floats);
            goto out;
        }
        if (msg.ckpt_floats > resume_cap) {
            free(resume_vec);
            resume_cap = 0;
            if (!(resume_vec = hp_calloc((size_t)msg.ckpt_floats, sizeof(float), "the checkpoint", err))) goto out;
            resume_cap = msg.ckpt_floats;
        }
        if (msg.ckpt_floats > 0 &&
            hp_mpi_recv_bytes(resume_vec, (int)(msg.ckpt_floats * (int64_t)sizeof(float)), 0, HP_TAG_RESUME_STATE,
                              comm, err) != 0)
            goto out;
        hp_trial_start start = {msg.checkpoint_every, msg.has_checkpoint ? &msg.ckpt : NULL, resume_vec,
                                msg.ckpt_floats, msg.seconds_before, &hp_stop_signal, gpu};
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
