/* protocol.h - the messages between the coordinator (rank 0) and trainer ranks.
 *
 *   worker -> coordinator   READY     hp_msg_ready      once, at start: who I am, what I compute on
 *                           EPOCH     hp_msg_epoch      after each epoch; the worker then waits for VERDICT
 *                           RESULT    hp_msg_result     at the end of a trial; followed by SNAPSHOT if has_snapshot
 *                           SNAPSHOT  float[state_size] the best-on-validation state
 *   coordinator -> worker   TRIAL     hp_trial_plan     train this trial
 *                           VERDICT   int32             HP_VERDICT_CONTINUE or HP_VERDICT_STOP
 *                           STOP      (empty)           no more work: exit
 *
 * A worker that finished a trial (RESULT sent) is idle until it gets TRIAL or STOP; the
 * coordinator hands the next trial to whichever worker is idle first (dynamic dispatch).
 * Payloads are fixed-size structs sent as bytes: every rank runs the same hpsweep binary
 * (READY carries the protocol version and the struct sizes, and the coordinator refuses a
 * mismatch).
 */
#ifndef HP_PROTOCOL_H
#define HP_PROTOCOL_H

#include <stdint.h>

#include "search.h"
#include "train.h"
#include "trial.h"

#define HP_PROTOCOL_VERSION 1

enum hp_tag {
    HP_TAG_READY = 101,
    HP_TAG_EPOCH = 102,
    HP_TAG_RESULT = 103,
    HP_TAG_SNAPSHOT = 104,
    HP_TAG_TRIAL = 201,
    HP_TAG_VERDICT = 202,
    HP_TAG_STOP = 203
};

typedef struct hp_msg_ready {
    int32_t protocol_version;
    int32_t sizeof_plan, sizeof_epoch, sizeof_result; /* layout check across ranks */
    int32_t blas_threads;
    int32_t gpu;              /* GPU index bound, -1 for CPU */
    char host[32];
    char device[96];          /* what it computes on, one line */
} hp_msg_ready;

typedef struct hp_msg_epoch {
    int64_t trial;
    hp_epoch_metrics metrics;
} hp_msg_epoch;

typedef struct hp_msg_result {
    hp_trial_result result;
    int64_t snapshot_size;    /* floats in the SNAPSHOT message that follows; 0: none follows */
} hp_msg_result;

#endif
