/* external.c - see external.h and docs/external.md: running one trial's program (spawn, the
 * metrics pipe, verdicts, timeouts, signals, reaping). Commands: external_command.c; the JSON:
 * external_json.c. */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, pipe2, waitid */
#include "external.h"
#include "external_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <stdarg.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void sleep_ms(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

/* The last non-empty line that stderr.log gained since offset `from`, printable, in out. */
static void stderr_tail(const char *path, off_t from, char *out, size_t n) {
    out[0] = '\0';
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    struct stat st;
    if (fstat(fd, &st) == 0 && st.st_size > from) {
        off_t start = st.st_size - EXT_TAIL > from ? st.st_size - EXT_TAIL : from;
        char buf[EXT_TAIL + 1];
        ssize_t got = pread(fd, buf, EXT_TAIL, start);
        if (got > 0) {
            size_t end = (size_t)got;
            while (end > 0 && isspace((unsigned char)buf[end - 1])) end--;
            size_t beg = end;
            while (beg > 0 && buf[beg - 1] != '\n') beg--;
            while (beg < end && isspace((unsigned char)buf[beg])) beg++;
            size_t o = 0;
            for (size_t i = beg; i < end && o + 1 < n; i++) {
                unsigned char c = (unsigned char)buf[i];
                out[o++] = (char)(c >= 0x20 && c != 0x7f ? c : '?');
            }
            out[o] = '\0';
        }
    }
    close(fd);
}

/* ---- signals ----------------------------------------------------------------------------- */

static const char *signame(int sig) {
    switch (sig) {
    case SIGHUP: return "SIGHUP";
    case SIGINT: return "SIGINT";
    case SIGQUIT: return "SIGQUIT";
    case SIGILL: return "SIGILL";
    case SIGTRAP: return "SIGTRAP";
    case SIGABRT: return "SIGABRT";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGKILL: return "SIGKILL";
    case SIGUSR1: return "SIGUSR1";
    case SIGSEGV: return "SIGSEGV";
    case SIGUSR2: return "SIGUSR2";
    case SIGPIPE: return "SIGPIPE";
    case SIGALRM: return "SIGALRM";
    case SIGTERM: return "SIGTERM";
    case SIGXCPU: return "SIGXCPU";
    case SIGXFSZ: return "SIGXFSZ";
    case SIGSYS: return "SIGSYS";
    default: return "signal";
    }
}

/* Has pid exited? (not reaped: while it is a zombie its process group id cannot be reused) */
static int exited_peek(pid_t pid) {
    siginfo_t si;
    memset(&si, 0, sizeof si);
    for (;;) {
        if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) return si.si_pid == pid;
        if (errno == EINTR) continue;
        return 1; /* ECHILD: someone else reaped it (SIGCHLD ignored?): it is gone */
    }
}

/* Kill what is left of the group (the leader has exited and is not reaped yet) and reap the
 * leader. *status -1 when the status was lost. */
static void reap(pid_t pid, int *status) {
    if (kill(-pid, SIGKILL) != 0 && errno != ESRCH) { /* EPERM: a member changed its uid: nothing to do */
    }
    for (;;) {
        int st = 0;
        pid_t r = waitpid(pid, &st, 0);
        if (r == pid) {
            *status = st;
            return;
        }
        if (r < 0 && errno == EINTR) continue;
        *status = -1;
        return;
    }
}

/* End the program: SIGTERM to its group, up to grace seconds for the leader to exit, then
 * SIGKILL to the group; reap. */
static void terminate(pid_t pid, double grace, int *status) {
    (void)kill(-pid, SIGTERM);
    double deadline = now_s() + grace;
    while (!exited_peek(pid) && now_s() < deadline) sleep_ms(10);
    reap(pid, status);
}

/* ---- the run ----------------------------------------------------------------------------- */

typedef struct ext_run {
    const hp_ext_command *cmd;
    const hp_ext_trial *t;
    hp_ext_epoch_fn on_epoch;
    void *ctx;
    hp_ext_result *out;
    hp_err *err;
    const char *objective;
    int test_mode;
    char buf[EXT_LINE_MAX + 1];
    size_t len;
    int lineno;
    int last_epoch;
    int got_test;
    double t_last;  /* time of the start or of the previous line */
    int verdict;    /* 0: running; HP_EXT_STOPPED, HP_EXT_FAILED (message set), HP_EXT_CANCELLED; -1: abort */
} ext_run;

static void fault(ext_run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fault(ext_run *r, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->out->message, sizeof r->out->message, fmt, ap);
    va_end(ap);
    r->verdict = HP_EXT_FAILED;
}

/* out->message, cut to its size (the last stderr line may be long) */
static void msgf(hp_ext_result *out, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msgf(hp_ext_result *out, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(out->message, sizeof out->message, fmt, ap);
    va_end(ap);
}

static void take_line(ext_run *r, const char *s, size_t n) {
    r->lineno++;
    size_t k = 0;
    while (k < n && isspace((unsigned char)s[k])) k++;
    if (k == n) return; /* a blank line */
    double t = now_s();
    ext_line L;
    char why[96];
    if (ext_parse_line(s, n, r->objective, &L, why, sizeof why) != 0) {
        fault(r, "metrics line %d is not a JSON object: %s", r->lineno, why);
        return;
    }
    if (r->test_mode) {
        if (r->got_test) {
            fault(r, "metrics line %d: mode test reports one line, this is another", r->lineno);
        } else if (!L.has_test_loss || !L.has_test_acc) {
            fault(r, "metrics line %d lacks %s (mode test)", r->lineno, L.has_test_acc ? "test_loss" : "test_acc");
        } else if (!(isnan(L.test_acc) || (L.test_acc >= 0 && L.test_acc <= 1))) {
            fault(r, "metrics line %d: test_acc %g is outside [0, 1] (report a fraction)", r->lineno, L.test_acc);
        } else {
            r->got_test = 1;
            r->out->test_loss = L.test_loss;
            r->out->test_acc = L.test_acc;
        }
        r->t_last = t;
        return;
    }
    if (!L.has_epoch) {
        fault(r, "metrics line %d lacks \"epoch\" (an integer >= 1)", r->lineno);
        return;
    }
    if (!(L.epoch >= 1 && L.epoch <= INT_MAX && L.epoch == floor(L.epoch))) {
        fault(r, "metrics line %d: epoch %g is not an integer >= 1", r->lineno, L.epoch);
        return;
    }
    if (!L.has_obj) {
        fault(r, "metrics line %d lacks the objective %s", r->lineno, r->objective);
        return;
    }
    const char *accn[2] = {"train_acc", "val_acc"};
    double accv[2] = {L.e.train_acc, L.e.val_acc};
    for (int i = 0; i < 2; i++)
        if (!(isnan(accv[i]) || (accv[i] >= 0 && accv[i] <= 1))) {
            fault(r, "metrics line %d: %s %g is outside [0, 1] (report a fraction)", r->lineno, accn[i], accv[i]);
            return;
        }
    int ep = (int)L.epoch;
    if (ep <= r->last_epoch) { /* already recorded (a program that went back to an older state) */
        r->t_last = t;
        return;
    }
    if (ep > r->t->epochs) {
        fault(r, "metrics line %d: epoch %d is beyond the planned %d", r->lineno, ep, r->t->epochs);
        return;
    }
    if (ep != r->last_epoch + 1) {
        fault(r, "metrics line %d: epoch %d follows epoch %d (report every epoch, in order)", r->lineno, ep,
              r->last_epoch);
        return;
    }
    L.e.epoch = ep;
    L.e.objective = L.obj;
    L.e.seconds = t - r->t_last;
    r->t_last = t;
    r->last_epoch = ep;
    r->out->epochs_reported++;
    r->out->last_epoch = ep;
    int v = r->on_epoch(r->ctx, &L.e, r->err);
    if (v < 0) r->verdict = -1;
    else if (v > 0) r->verdict = HP_EXT_STOPPED;
}

/* Every complete line in the buffer; at_end: the rest too (the program ended without a final
 * newline). Nothing after a verdict. */
static void take_lines(ext_run *r, int at_end) {
    size_t start = 0;
    for (;;) {
        if (r->verdict) {
            r->len = 0;
            return;
        }
        char *nl = memchr(r->buf + start, '\n', r->len - start);
        if (!nl) break;
        take_line(r, r->buf + start, (size_t)(nl - (r->buf + start)));
        start = (size_t)(nl - r->buf) + 1;
    }
    memmove(r->buf, r->buf + start, r->len - start);
    r->len -= start;
    if (r->len > EXT_LINE_MAX && !r->verdict) {
        fault(r, "metrics line %d is longer than %d bytes", r->lineno + 1, EXT_LINE_MAX);
        r->len = 0;
    } else if (at_end && r->len > 0 && !r->verdict) {
        take_line(r, r->buf, r->len);
        r->len = 0;
    }
}

/* Read what the pipe has: 1 at EOF, 0 otherwise (a read error is a fault). */
static int read_some(ext_run *r, int fd) {
    for (;;) {
        ssize_t got = read(fd, r->buf + r->len, EXT_LINE_MAX + 1 - r->len);
        if (got > 0) {
            r->len += (size_t)got;
            take_lines(r, 0);
            return 0;
        }
        if (got == 0) return 1;
        if (errno == EINTR) continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
        fault(r, "reading the metrics pipe failed: %s", strerror(errno));
        return 1;
    }
}

static char *str_printf(hp_err *err, const char *what, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static char *str_printf(hp_err *err, const char *what, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) {
        hp_errf(err, "formatting %s failed", what);
        return NULL;
    }
    char *s = hp_calloc((size_t)n + 1, 1, what, err);
    if (!s) return NULL;
    va_start(ap, fmt);
    vsnprintf(s, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return s;
}

/* fd moved to >= 10 (close-on-exec), so that the child's dup2 onto 0..3 never meets it. */
static int fd_high(int *fd) {
    if (*fd >= 10) return 0;
    int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 10);
    if (nfd < 0) return -1;
    close(*fd);
    *fd = nfd;
    return 0;
}

extern char **environ;

int hp_ext_run(const hp_ext_command *cmd, const hp_ext_trial *t, hp_ext_epoch_fn on_epoch, void *ctx,
               const volatile sig_atomic_t *cancel, hp_ext_result *out, hp_err *err) {
    memset(out, 0, sizeof *out);
    out->status = HP_EXT_FAILED;
    out->exit_code = out->term_signal = -1;
    out->test_loss = out->test_acc = NAN;
    const char *prog = ext_prog(cmd);
    if (!cmd || cmd->argc < 1 || !cmd->argv || !cmd->argv[0])
        return hp_errf(err, "the trainer command is empty: give the program to run and its arguments");
    if (!t) return hp_errf(err, "trainer program '%s': no trial given", prog);
    long long tid = (long long)t->id;
    const char *mode = t->mode && t->mode[0] ? t->mode : "train";
    int test_mode = strcmp(mode, "test") == 0;
    if (!test_mode && strcmp(mode, "train") != 0)
        return hp_errf(err, "trainer program '%s', trial %lld: mode '%s' is neither train nor test", prog, tid, mode);
    if (t->epochs < 1 || t->resume_epoch < 0 || (!test_mode && t->resume_epoch >= t->epochs))
        return hp_errf(err, "trainer program '%s', trial %lld: epochs %d and resume_epoch %d: need epochs >= 1 and "
                            "0 <= resume_epoch < epochs", prog, tid, t->epochs, t->resume_epoch);
    if (!t->workdir || !t->workdir[0])
        return hp_errf(err, "trainer program '%s', trial %lld: no working folder given", prog, tid);
    if (!test_mode && !on_epoch)
        return hp_errf(err, "trainer program '%s', trial %lld: no epoch callback (needed in mode train)", prog, tid);
    if (t->nparams < 0 || (t->nparams > 0 && !t->params))
        return hp_errf(err, "trainer program '%s', trial %lld: %d parameters without a list", prog, tid, t->nparams);

    /* everything that is freed at the end */
    int rc = -1;
    const char **keys = NULL, **vals = NULL, **names = NULL;
    char **argv = NULL, **envp = NULL;
    int nenv = 0, nargv = 0;
    int out_fd = -1, err_fd = -1, pipe_fd[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t at;
    int fa_ok = 0, at_ok = 0;
    /* the folder's path has at most EXT_PATH_MAX - 1 bytes; its files' names fit in 16 more */
    char exe[EXT_PATH_MAX], wd[EXT_PATH_MAX], ckpt[EXT_PATH_MAX + 16], snap[EXT_PATH_MAX + 16];
    char pj[EXT_PATH_MAX + 16], outlog[EXT_PATH_MAX + 16], errlog[EXT_PATH_MAX + 16];
    char s_trial[24], s_seed[24], s_epochs[16], s_resume[16];
    off_t err_from = 0;
    pid_t pid = -1;

    if (cancel && *cancel) { /* nothing started */
        out->status = HP_EXT_CANCELLED;
        return 0;
    }
    names = hp_calloc((size_t)t->nparams + 1, sizeof *names, "parameter names", err);
    if (!names) goto fail;
    for (int i = 0; i < t->nparams; i++) {
        names[i] = t->params[i].name;
        if (!t->params[i].value) {
            hp_errf(err, "trainer program '%s', trial %lld: parameter '%s' has no value", prog, tid,
                    names[i] ? names[i] : "?");
            goto fail;
        }
    }
    if (ext_check_names(prog, t->nparams, names, err) != 0) goto fail;
    if (ext_resolve_program(cmd->argv[0], exe, sizeof exe, err) != 0) goto fail;

    /* the folder and its files */
    int w;
    if (t->workdir[0] == '/') {
        w = snprintf(wd, sizeof wd, "%s", t->workdir);
    } else {
        char cwd[EXT_PATH_MAX];
        if (!getcwd(cwd, sizeof cwd)) {
            hp_errf(err, "trainer program '%s', trial %lld: cannot read the current folder: %s", prog, tid,
                    strerror(errno));
            goto fail;
        }
        w = snprintf(wd, sizeof wd, "%s/%s", cwd, t->workdir);
    }
    if (w < 0 || (size_t)w >= sizeof wd) {
        hp_errf(err, "trainer program '%s', trial %lld: folder path '%.100s...' too long", prog, tid, t->workdir);
        goto fail;
    }
    while (w > 1 && wd[w - 1] == '/') wd[--w] = '\0';
    if (mkdir(wd, 0755) != 0) {
        struct stat st;
        if (errno != EEXIST || stat(wd, &st) != 0 || !S_ISDIR(st.st_mode)) {
            hp_errf(err, "trainer program '%s', trial %lld: cannot make the trial's folder %s: %s (its parent must "
                         "exist and be writable)", prog, tid, wd, errno == EEXIST ? "not a folder" : strerror(errno));
            goto fail;
        }
    }
    snprintf(ckpt, sizeof ckpt, "%s/checkpoint", wd);
    snprintf(snap, sizeof snap, "%s/best", wd);
    snprintf(pj, sizeof pj, "%s/params.json", wd);
    snprintf(outlog, sizeof outlog, "%s/stdout.log", wd);
    snprintf(errlog, sizeof errlog, "%s/stderr.log", wd);
    snprintf(s_trial, sizeof s_trial, "%lld", tid);
    snprintf(s_seed, sizeof s_seed, "%llu", (unsigned long long)t->seed);
    snprintf(s_epochs, sizeof s_epochs, "%d", t->epochs);
    snprintf(s_resume, sizeof s_resume, "%d", t->resume_epoch);
    if (ext_write_params(prog, t, pj, err) != 0) goto fail;

    /* arguments */
    int nk = EXT_NBUILTIN + t->nparams;
    keys = hp_calloc((size_t)nk, sizeof *keys, "placeholder names", err);
    vals = hp_calloc((size_t)nk, sizeof *vals, "placeholder values", err);
    argv = hp_calloc((size_t)cmd->argc + 1, sizeof *argv, "the program's arguments", err);
    if (!keys || !vals || !argv) goto fail;
    const char *bv[EXT_NBUILTIN] = {s_trial, s_seed, s_epochs, s_resume, wd, ckpt, snap, pj, mode};
    for (int i = 0; i < EXT_NBUILTIN; i++) {
        keys[i] = ext_builtin_names[i];
        vals[i] = bv[i];
    }
    for (int i = 0; i < t->nparams; i++) {
        keys[EXT_NBUILTIN + i] = t->params[i].name;
        vals[EXT_NBUILTIN + i] = t->params[i].value;
    }
    for (nargv = 0; nargv < cmd->argc; nargv++) {
        const char *a = cmd->argv[nargv];
        char why[160];
        size_t len = 0;
        if (!a) {
            hp_errf(err, "trainer program '%s': argument %d is missing (NULL)", prog, nargv);
            goto fail;
        }
        if (nargv == 0) {
            len = strlen(a);
        } else if (ext_subst(a, nk, keys, vals, NULL, &len, why, sizeof why) != 0) {
            hp_errf(err, "trainer program '%s', trial %lld: argument %d '%.200s': %s (hp_ext_check catches this)",
                    prog, tid, nargv, a, why);
            goto fail;
        }
        argv[nargv] = hp_calloc(len + 1, 1, "an argument", err);
        if (!argv[nargv]) goto fail;
        if (nargv == 0) memcpy(argv[0], a, len + 1);
        else ext_subst(a, nk, keys, vals, argv[nargv], &len, why, sizeof why);
    }

    /* environment: the inherited one without HPSWEEP_* (and CUDA_VISIBLE_DEVICES when set
     * here), then ours */
    int ninh = 0;
    for (char **e = environ; e && *e; e++) ninh++;
    envp = hp_calloc((size_t)ninh + (size_t)t->nparams + 16, sizeof *envp, "the environment", err);
    if (!envp) goto fail;
    for (char **e = environ; e && *e; e++) {
        if (strncmp(*e, "HPSWEEP_", 8) == 0) continue;
        if (t->cuda_visible && strncmp(*e, "CUDA_VISIBLE_DEVICES=", 21) == 0) continue;
        if (!(envp[nenv++] = str_printf(err, "the environment", "%s", *e))) goto fail;
    }
    {
        const char *kv[][2] = {{"HPSWEEP_TRIAL_ID", s_trial},   {"HPSWEEP_SEED", s_seed},
                               {"HPSWEEP_EPOCHS", s_epochs},    {"HPSWEEP_RESUME_EPOCH", s_resume},
                               {"HPSWEEP_WORKDIR", wd},         {"HPSWEEP_CHECKPOINT", ckpt},
                               {"HPSWEEP_SNAPSHOT", snap},      {"HPSWEEP_PARAMS", pj},
                               {"HPSWEEP_MODE", mode},          {"HPSWEEP_METRICS_FD", "3"}};
        for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
            if (!(envp[nenv++] = str_printf(err, "the environment", "%s=%s", kv[i][0], kv[i][1]))) goto fail;
        if (t->cuda_visible &&
            !(envp[nenv++] = str_printf(err, "the environment", "CUDA_VISIBLE_DEVICES=%s", t->cuda_visible)))
            goto fail;
        for (int i = 0; i < t->nparams; i++) {
            char en[256];
            if (hp_ext_env_name(t->params[i].name, en, sizeof en, err) != 0) goto fail;
            if (!(envp[nenv++] = str_printf(err, "the environment", "%s=%s", en, t->params[i].value))) goto fail;
        }
    }

    /* fds: logs appended; the metrics pipe */
    out_fd = open(outlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (out_fd < 0 || fd_high(&out_fd) != 0) {
        hp_errf(err, "trainer program '%s', trial %lld: cannot open %s: %s", prog, tid, outlog, strerror(errno));
        goto fail;
    }
    err_fd = open(errlog, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (err_fd < 0 || fd_high(&err_fd) != 0) {
        hp_errf(err, "trainer program '%s', trial %lld: cannot open %s: %s", prog, tid, errlog, strerror(errno));
        goto fail;
    }
    err_from = lseek(err_fd, 0, SEEK_END);
    if (err_from < 0) err_from = 0;
    if (pipe2(pipe_fd, O_CLOEXEC) != 0 || fd_high(&pipe_fd[0]) != 0 || fd_high(&pipe_fd[1]) != 0) {
        hp_errf(err, "trainer program '%s', trial %lld: cannot make the metrics pipe: %s (too many open files?)",
                prog, tid, strerror(errno));
        goto fail;
    }

    /* spawn */
    int e;
    if ((e = posix_spawn_file_actions_init(&fa)) != 0) goto spawn_setup;
    fa_ok = 1;
    if ((e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, out_fd, 1)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, err_fd, 2)) != 0 ||
        (e = posix_spawn_file_actions_adddup2(&fa, pipe_fd[1], EXT_METRICS_FD)) != 0 ||
        (!t->stay && (e = posix_spawn_file_actions_addchdir_np(&fa, wd)) != 0))
        goto spawn_setup;
    if ((e = posix_spawnattr_init(&at)) != 0) goto spawn_setup;
    at_ok = 1;
    sigset_t none, dfl;
    sigemptyset(&none);
    sigemptyset(&dfl);
    int dsig[] = {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGUSR1, SIGQUIT};
    for (size_t i = 0; i < sizeof dsig / sizeof dsig[0]; i++) sigaddset(&dfl, dsig[i]);
    if ((e = posix_spawnattr_setflags(&at, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF)) !=
            0 ||
        (e = posix_spawnattr_setpgroup(&at, 0)) != 0 || (e = posix_spawnattr_setsigmask(&at, &none)) != 0 ||
        (e = posix_spawnattr_setsigdefault(&at, &dfl)) != 0)
        goto spawn_setup;
    e = posix_spawnp(&pid, exe, &fa, &at, argv, envp);
    if (e != 0) {
        pid = -1;
        hp_errf(err, "trainer program '%s', trial %lld: cannot start %s: %s (check that it is an executable with a "
                     "valid #! line, and that %s is a folder you may enter)",
                prog, tid, exe, strerror(e), wd);
        goto fail;
    }
    close(pipe_fd[1]);
    pipe_fd[1] = -1;
    close(out_fd);
    out_fd = -1;
    close(err_fd);
    err_fd = -1;

    /* the loop: metrics lines, cancel, timeout, exit */
    ext_run *r = hp_calloc(1, sizeof *r, "the run's state", err);
    if (!r) { /* cannot follow it: end it */
        int st;
        terminate(pid, 0, &st);
        goto fail;
    }
    r->cmd = cmd;
    r->t = t;
    r->on_epoch = on_epoch;
    r->ctx = ctx;
    r->out = out;
    r->err = err;
    r->objective = ext_objective(cmd);
    r->test_mode = test_mode;
    r->last_epoch = test_mode ? 0 : t->resume_epoch;
    out->last_epoch = r->last_epoch;
    r->t_last = now_s();
    double grace = cmd->grace_s > 0 ? cmd->grace_s : 10;
    double timeout = cmd->epoch_timeout_s > 0 ? cmd->epoch_timeout_s : 0;
    int eof = 0, exited = 0, status = -1, eof_wait_ms = 1;
    while (!r->verdict) {
        if (cancel && *cancel) {
            r->verdict = HP_EXT_CANCELLED;
            break;
        }
        /* After the pipe's end the program is exiting: look again after 1, 2, 4 ... 20 ms, so a
         * trial is not charged a fixed wait for its exit (bench/external_overhead.sh). */
        int wait_ms = eof ? (eof_wait_ms < 20 ? eof_wait_ms : 20) : 100;
        if (eof) eof_wait_ms *= 2;
        if (timeout > 0) {
            double left = r->t_last + timeout - now_s();
            if (left <= 0) {
                fault(r, "no metrics for %g s (epoch_timeout)", timeout);
                break;
            }
            if (left * 1000 + 1 < wait_ms) wait_ms = (int)(left * 1000) + 1;
        }
        if (!eof) {
            struct pollfd pfd = {pipe_fd[0], POLLIN, 0};
            int pr = poll(&pfd, 1, wait_ms);
            if (pr < 0 && errno != EINTR) {
                fault(r, "polling the metrics pipe failed: %s", strerror(errno));
                break;
            }
            if (pr > 0) eof = read_some(r, pipe_fd[0]);
        } else {
            sleep_ms(wait_ms);
        }
        if (!r->verdict && exited_peek(pid)) {
            exited = 1;
            break;
        }
    }
    if (exited) {
        /* the program has exited: take what the pipe still holds (without waiting for a writer
         * that outlives it), then kill what is left of its group and reap it */
        int fl = fcntl(pipe_fd[0], F_GETFL);
        if (fl >= 0) (void)fcntl(pipe_fd[0], F_SETFL, fl | O_NONBLOCK);
        while (!eof && !r->verdict) {
            size_t before = r->len;
            int lines = r->lineno;
            eof = read_some(r, pipe_fd[0]);
            if (!eof && r->len == before && r->lineno == lines) break; /* EAGAIN: nothing more */
        }
        take_lines(r, 1);
        reap(pid, &status);
    } else {
        terminate(pid, grace, &status);
    }
    pid = -1;
    if (status != -1 && WIFEXITED(status)) out->exit_code = WEXITSTATUS(status);
    if (status != -1 && WIFSIGNALED(status)) out->term_signal = WTERMSIG(status);

    int verdict = r->verdict, got_test = r->got_test;
    free(r);
    if (verdict == -1) {
        msgf(out, "ended: the caller aborted");
        goto fail;
    }
    if (verdict == HP_EXT_STOPPED || verdict == HP_EXT_CANCELLED) {
        out->status = verdict;
    } else if (verdict == HP_EXT_FAILED) {
        out->status = HP_EXT_FAILED; /* message set */
    } else {
        char tail[128];
        stderr_tail(errlog, err_from, tail, sizeof tail);
        const char *sep = tail[0] ? ": " : "";
        if (status == -1) {
            msgf(out, "its exit status was lost (is SIGCHLD ignored?)");
        } else if (WIFSIGNALED(status)) {
            int sig = WTERMSIG(status);
            msgf(out, "killed by signal %d (%s)%s%s", sig, signame(sig), sep, tail);
        } else if (WEXITSTATUS(status) != 0) {
            msgf(out, "exited with status %d%s%s", WEXITSTATUS(status), sep, tail);
        } else if (test_mode && !got_test) {
            msgf(out, "reported no test metrics");
        } else if (!test_mode && out->epochs_reported == 0) {
            msgf(out, "reported no epoch");
        } else {
            out->status = HP_EXT_DONE;
        }
    }
    rc = 0;
    goto done;

spawn_setup:
    hp_errf(err, "trainer program '%s', trial %lld: setting up the start failed: %s", prog, tid, strerror(e));
fail:
    rc = -1;
    if (!out->message[0]) msgf(out, "not started: see the error");
done:
    if (fa_ok) posix_spawn_file_actions_destroy(&fa);
    if (at_ok) posix_spawnattr_destroy(&at);
    if (out_fd >= 0) close(out_fd);
    if (err_fd >= 0) close(err_fd);
    if (pipe_fd[0] >= 0) close(pipe_fd[0]);
    if (pipe_fd[1] >= 0) close(pipe_fd[1]);
    if (argv)
        for (int i = 0; i < nargv; i++) free(argv[i]);
    free(argv);
    for (int i = 0; i < nenv; i++) free(envp[i]);
    free(envp);
    free(keys);
    free(vals);
    free(names);
    return rc;
}

