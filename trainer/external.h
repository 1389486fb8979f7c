/* external.h - "bring your own trainer": one trial trained by an external program.
 *
 * hpsweep starts the program (any language) once per trial, tells it the trial through its
 * environment, its arguments ({name} placeholders) and a params.json file, and reads one JSON
 * line of metrics per epoch from a pipe on the program's fd 3. After each line the caller gives
 * a verdict (continue, stop); a stop, a cancellation or a timeout ends the program's process
 * group with SIGTERM, then SIGKILL after a grace period. docs/external.md is the protocol as a
 * trainer's author reads it; this header is the C side.
 *
 * The program is started with posix_spawn (never fork: the caller may be an MPI process), in
 * its own process group, with an empty signal mask and default SIGPIPE, SIGTERM, SIGINT,
 * SIGHUP, SIGUSR1, SIGQUIT; cwd the trial's folder; stdin /dev/null; stdout and stderr appended
 * to stdout.log and stderr.log there. Every fd this module opens is close-on-exec, so threads
 * that start other programs meanwhile do not inherit them. The caller must not set SIGCHLD to
 * SIG_IGN nor reap children it did not start (waitpid(-1)): the runner waits for its own pid.
 * It knows nothing of MPI, HDF5 or specs.
 */
#ifndef HP_EXTERNAL_H
#define HP_EXTERNAL_H

#include <signal.h>
#include <stdint.h>

#include "hp_err.h"

/* One hyperparameter of a trial, its value already formatted as text ("0.01", "64", "adam"). */
typedef struct hp_ext_param {
    const char *name;   /* non-empty; no '{' or '}'; not a built-in placeholder's name (below) */
    const char *value;
} hp_ext_param;

/* How to run the program; the same for every trial of a sweep. */
typedef struct hp_ext_command {
    int argc;              /* >= 1 */
    char *const *argv;     /* the program and its arguments, no shell. argv[0]: a path (with '/',
                              relative to the caller's cwd, not the trial's) or a name looked up in
                              PATH; taken literally. argv[1..]: {name} placeholders substituted per
                              trial: every parameter's name and the built-ins {trial} {seed}
                              {epochs} {resume_epoch} {workdir} {checkpoint} {snapshot}
                              {params_json} {mode}; "{{" and "}}" are literal braces */
    double epoch_timeout_s; /* > 0: a trial that reports no metrics line for this long (from the
                               start or from its previous line) is ended and failed; 0: no limit */
    double grace_s;         /* seconds between SIGTERM and SIGKILL when the program is ended
                               (0: the default, 10) */
    const char *objective;  /* the metric that is the trial's objective (NULL: "val_acc"); every
                               epoch line must carry it */
    int maximize;           /* 1: higher objective is better; -1: lower is better; 0: the default,
                               which exists only for val_acc (higher); hp_ext_check refuses 0 with
                               another objective. The runner only passes it on (hp_ext_maximize) */
} hp_ext_command;

/* One run of the program. Strings are borrowed for the call. */
typedef struct hp_ext_trial {
    int64_t id;            /* the trial's id (>= 0) */
    uint64_t seed;         /* the trial's seed */
    int epochs;            /* planned epochs (>= 1); a line with a later epoch is a fault */
    int resume_epoch;      /* epochs hpsweep already recorded (0 = fresh; < epochs in mode train); the program
                              continues from its checkpoint if it can; lines for epochs up to this
                              are ignored */
    const char *workdir;   /* the trial's folder: created if missing (mode 0755; its parent must
                              exist); the program's cwd, logs, params.json, checkpoint, snapshot.
                              Made absolute against the caller's cwd */
    int nparams;           /* >= 0 */
    const hp_ext_param *params;
    const char *cuda_visible; /* NULL: CUDA_VISIBLE_DEVICES as inherited; else set to this */
    const char *mode;      /* NULL or "train": train; "test": evaluate the snapshot once */
    int stay;              /* 1: the program runs in the caller's working folder (relative paths in
                              its arguments mean what they mean by hand); 0: in workdir */
} hp_ext_trial;

#define HP_EXT_NEXTRA 8
#define HP_EXT_HAS_TRAIN_LOSS 1u
#define HP_EXT_HAS_TRAIN_ACC 2u
#define HP_EXT_HAS_VAL_LOSS 4u
#define HP_EXT_HAS_VAL_ACC 8u
#define HP_EXT_NAME_MAX 32

/* One epoch's metrics line. */
typedef struct hp_ext_epoch {
    int epoch;             /* 1-based, resume_epoch + 1, + 2, ... in order */
    double objective;      /* the configured objective's value (may be NaN or infinite) */
    double train_loss, train_acc, val_loss, val_acc; /* NaN when the line lacks them; accuracies
                                                        are fractions in [0, 1] (or NaN) */
    double seconds;        /* wall time since the previous line (or the start), measured here */
    unsigned present;      /* which of the four the line has (a NaN written tells apart from absent):
                              HP_EXT_HAS_TRAIN_LOSS, _TRAIN_ACC, _VAL_LOSS, _VAL_ACC */
    int nextra;            /* entries of extra (<= HP_EXT_NEXTRA) */
    char extra_names[HP_EXT_NEXTRA][HP_EXT_NAME_MAX]; /* the line's other numeric keys, the first
                                                         8 in line order (names over 31 bytes are
                                                         not kept) */
    double extra[HP_EXT_NEXTRA];
} hp_ext_epoch;

/* Called for each epoch line as it arrives. Returns 0: continue; 1: stop the trial (pruned or
 * diverged: the caller knows which; the program is ended, its later lines ignored); -1: abort
 * now (the caller's own error, err filled; the program is ended and hp_ext_run returns -1). */
typedef int (*hp_ext_epoch_fn)(void *ctx, const hp_ext_epoch *e, hp_err *err);

enum {
    HP_EXT_DONE = 1,      /* exited 0 after >= 1 epoch (fewer than planned allowed) or, mode
                             test, after its test line */
    HP_EXT_STOPPED = 2,   /* on_epoch said stop; the program was ended */
    HP_EXT_FAILED = 3,    /* a fault: message says which */
    HP_EXT_CANCELLED = 4, /* *cancel became non-zero; the program was ended (or never started) */
};

typedef struct hp_ext_result {
    int status;           /* HP_EXT_DONE, HP_EXT_STOPPED, HP_EXT_FAILED, HP_EXT_CANCELLED */
    int epochs_reported;  /* epoch lines passed to on_epoch in this run */
    int last_epoch;       /* the last epoch recorded: resume_epoch + epochs_reported */
    int exit_code;        /* the exit status, or -1 when killed by a signal or never started */
    int term_signal;      /* the signal that ended it (ours included: SIGTERM, SIGKILL), or -1 */
    char message[128];    /* FAILED: the fault, one of (docs/external.md lists them):
                             "exited with status 3: <last stderr line>",
                             "killed by signal 11 (SIGSEGV): <last stderr line>",
                             "metrics line 2 is not a JSON object: <why>",
                             "metrics line 1 lacks the objective val_acc", "metrics line N ...",
                             "no metrics for 30 s (epoch_timeout)", "reported no epoch",
                             "reported no test metrics"; otherwise empty */
    double test_loss, test_acc; /* mode test: from its line {"test_loss": .., "test_acc": ..};
                                   else NaN */
} hp_ext_result;

/* Check a command before any trial: argv[0] exists and is an executable file (PATH lookup
 * when it has no '/'), every placeholder of argv[1..] names a built-in or one of the nnames
 * parameter names (which must be valid and distinct, also as HPSWEEP_P_ variables), the timeouts
 * are finite and >= 0, and the objective's direction is known. -1 with a message naming the
 * program and the fix. */
int hp_ext_check(const hp_ext_command *cmd, int nnames, const char *const *names, hp_err *err);

/* 1 if a higher objective is better for this command, 0 if lower is. */
int hp_ext_maximize(const hp_ext_command *cmd);

/* The variable HPSWEEP_P_<NAME> for a parameter: the name uppercased, every other character
 * than A-Z, 0-9 replaced by '_'. -1 when it does not fit in n bytes. */
int hp_ext_env_name(const char *param, char *out, size_t n, hp_err *err);

/* Run one trial: write workdir/params.json, start the program, call on_epoch for each epoch
 * line as it arrives, end it on a stop verdict, *cancel (polled at least every 0.1 s; NULL:
 * never) or the epoch timeout, reap it and everything left in its process group, fill *out.
 * Returns 0 with every outcome of a started program in *out (a fault is status FAILED), and -1
 * only when the program could not be started (bad arguments, folder or params.json not
 * writable, not found, not executable; out->status FAILED) or on_epoch returned -1. No fd or
 * child outlives the call. on_epoch may be NULL in mode test. */
int hp_ext_run(const hp_ext_command *cmd, const hp_ext_trial *t, hp_ext_epoch_fn on_epoch, void *ctx,
               const volatile sig_atomic_t *cancel, hp_ext_result *out, hp_err *err);

#endif
