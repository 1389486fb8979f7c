/* worker.c - see worker.h */
#include "worker.h"

#include <limits.h>
#include <string.h>

#include "mpi_util.h"

typedef struct worker_ctx {
    MPI_Comm comm;
} worker_ctx;

static int send_epoch(void *vctx, const hp_trial_plan *plan, const hp_epoch_metrics *m, hp_err *err) {
    worker_ctx *ctx = vctx;
    hp_msg_epoch msg;
    memset(&msg, 0, sizeof msg);
    msg.trial = plan->id;
    msg.metrics = *m;
    if (hp_mpi_send_bytes(&msg, (int)sizeof msg, 0, HP_TAG_EPOCH, ctx->comm, err) != 0) return -1;
    int32_t verdict = 0;
    if (hp_mpi_recv_bytes(&verdict, (int)sizeof verdict, 0, HP_TAG_VERDICT, ctx->comm, err) != 0) return -1;
    return verdict == HP_VERDICT_STOP ? HP_VERDICT_STOP : HP_VERDICT_CONTINUE;
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
    if (msg.snapshot_size > 0 &&
        hp_mpi_send_bytes(snapshot, (int)(msg.snapshot_size * (int64_t)sizeof(float)), 0, HP_TAG_SNAPSHOT,
                          ctx->comm, err) != 0)
        return -1;
    return 0;
}

int hp_worker_run(const hp_spec *spec, const hp_splits *data, const hp_msg_ready *me, MPI_Comm comm,
                  hp_err *err) {
    if (hp_mpi_send_bytes(me, (int)sizeof *me, 0, HP_TAG_READY, comm, err) != 0) return -1;
    worker_ctx ctx = {comm};
    hp_trial_hooks hooks = {send_epoch, send_result, &ctx};
    for (;;) {
        MPI_Status st;
        if (hp_mpi_wait_probe(0, MPI_ANY_TAG, comm, &st, err) != 0) return -1;
        if (st.MPI_TAG == HP_TAG_STOP) {
            return hp_mpi_check(MPI_Recv(NULL, 0, MPI_BYTE, 0, HP_TAG_STOP, comm, MPI_STATUS_IGNORE),
                                "MPI_Recv(STOP)", err);
        }
        if (st.MPI_TAG != HP_TAG_TRIAL)
            return hp_errf(err, "unexpected message with tag %d from the coordinator", st.MPI_TAG);
        hp_trial_plan plan;
        if (hp_mpi_recv_bytes(&plan, (int)sizeof plan, 0, HP_TAG_TRIAL, comm, err) != 0) return -1;
        if (hp_trial_execute(spec, data, &plan, &hooks, err) != 0) return -1;
    }
}
