/* protocol.h - the messages between the coordinator (rank 0) and trainer ranks.
 *
 *   worker -> coordinator   READY       hp_msg_ready       once, at start: who I am, what I compute on
 *                           EPOCH       hp_msg_epoch       after each epoch; the worker then waits for VERDICT
 *                           CHECKPOINT  hp_msg_checkpoint  after VERDICT continue, every checkpoint_every-th
 *                                                          epoch that is not the trial's last; followed by
 *                           CKPT_STATE  float[floats]      the checkpoint vector (train.h), if floats > 0
 *                           RESULT      hp_msg_result      at the end of a trial; followed by SNAPSHOT if has_snapshot
 *                           SNAPSHOT    float[state_size]  the best-on-validation state
 *                           BYE         (empty)            a signal stopped me (my trial, if any, is left to
 *                                                          its last checkpoint); I wait for STOP
 *   coordinator -> worker   TRIAL       hp_msg_trial       train this trial (from its checkpoint if it has one),
 *                           RESUME_STATE float[ckpt_floats] followed by the checkpoint vector if ckpt_floats > 0
 *                           VERDICT     hp_msg_verdict     for one trial: HP_VERDICT_CONTINUE, _STOP (prune) or
 *                                                          _ABORT (the sweep is stopping: drop the trial, send BYE)
 *                           STOP        int32              no more work: exit; HP_STOP_DONE (the sweep is
 *                                                          complete) or HP_STOP_INTERRUPTED (it stopped early)
 *
 * A worker trains up to `lanes` trials at once (READY; lanes.h); the coordinator hands the next
 * trial to whichever worker has an idle lane first (dynamic dispatch). A worker's messages about
 * one trial come in order, and a message with a payload (RESULT + SNAPSHOT, CHECKPOINT +
 * CKPT_STATE) is never interleaved with another lane's. BYE means all its lanes have stopped.
 * Payloads are fixed-size structs sent as bytes: every rank runs the same hpsweep binary
 * (READY carries the protocol version and the struct sizes, and the coordinator refuses a
 * mismatch).
 *
 * Version 2: TRIAL carries a checkpoint to continue from; CHECKPOINT, CKPT_STATE,
 * RESUME_STATE, BYE and the ABORT verdict are new.
 * Version 3: READY names the device the rank trains on (gpu, device_name for /trials;
 * device, a longer line for the log).
 * Version 4: READY says how many trials the rank trains at once (lanes); VERDICT
 * names its trial, so that a rank with several lanes can route it.
 */
#ifndef HP_PROTOCOL_H
#define HP_PROTOCOL_H

#include <stdint.h>

#include "search.h"
#include "train.h"
#include "trial.h"

#define HP_PROTOCOL_VERSION 5

enum hp_tag {
    HP_TAG_READY = 101,
    HP_TAG_EPOCH = 102,
    HP_TAG_RESULT = 103,
    HP_TAG_SNAPSHOT = 104,
    HP_TAG_CHECKPOINT = 105,
    HP_TAG_CKPT_STATE = 106,
    HP_TAG_BYE = 107,
    HP_TAG_TRIAL = 201,
    HP_TAG_VERDICT = 202,
    HP_TAG_STOP = 203,
    HP_TAG_RESUME_STATE = 204
};

enum hp_stop_code { HP_STOP_DONE = 0, HP_STOP_INTERRUPTED = 1 };

typedef struct hp_msg_ready {
    int32_t protocol_version;
    int32_t sizeof_plan, sizeof_epoch, sizeof_result; /* layout check across ranks */
    int32_t sizeof_trial, sizeof_checkpoint;
    int32_t blas_threads;
    int32_t gpu;              /* CUDA device index bound, -1 for the CPU (device_pick.h) */
    int32_t lanes;            /* trials it trains at once, 1..HP_MAX_PACK (lanes.h) */
    char host[32];
    char device_name[64];     /* what /trials records: the GPU's name, or "cpu" */
    char device[192];         /* what it computes on, one line for the log (device_pick.h's description,
                                 and the BLAS backend on the CPU) */
} hp_msg_ready;

typedef struct hp_msg_trial {
    hp_trial_plan plan;
    int32_t checkpoint_every; /* checkpoint after every N-th epoch; 0: never */
    int32_t has_checkpoint;   /* 1: continue from ckpt (its vector follows if ckpt_floats > 0) */
    hp_train_ckpt ckpt;
    double seconds_before;    /* the trial's wall time up to the checkpoint */
    int64_t ckpt_floats;
} hp_msg_trial;

typedef struct hp_msg_epoch {
    int64_t trial;
    hp_epoch_metrics metrics;
} hp_msg_epoch;

typedef struct hp_msg_verdict {
    int64_t trial;
    int32_t verdict;          /* hp_verdict */
    int32_t pad_;
} hp_msg_verdict;

typedef struct hp_msg_checkpoint {
    int64_t trial;
    hp_train_ckpt ckpt;
    double seconds;           /* the trial's wall time so far */
    int64_t floats;           /* floats in the CKPT_STATE message that follows; 0: none follows */
} hp_msg_checkpoint;

typedef struct hp_msg_result {
    hp_trial_result result;
    int64_t snapshot_size;    /* floats in the SNAPSHOT message that follows; 0: none follows */
} hp_msg_result;

#endif
