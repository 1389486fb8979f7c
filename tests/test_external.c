/* test_external.c - the external-trainer runner (trainer/external.h) against small shell
 * programs written to a temporary folder: a good trainer (every value, variable, argument,
 * params.json, logs, resume), each fault with its message (exit status, signal, bad JSON, a
 * missing objective, a long line, a gap, an accuracy out of range, no epoch, timeout), a stop
 * verdict on a program that ignores SIGTERM (SIGKILL after the grace), cancellation, test mode,
 * a caller's abort, programs not found or not executable, the placeholder checks, and that no fd
 * or process outlives a run. */
#define _GNU_SOURCE /* setenv, mkdtemp */
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "check.h"
#include "external.h"

static char dir[256];

static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int count_fds(void) {
    DIR *d = opendir("/proc/self/fd");
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* Writes dir/name with a #!/bin/sh line and body; returns its path (static, one per name). */
static const char *script(const char *name, const char *body, int mode) {
    static char paths[32][320];
    static int used;
    char *p = paths[used++ % 32];
    snprintf(p, 320, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    if (!f) {
        CHECK(0, "cannot write %s", p);
        return p;
    }
    fprintf(f, "#!/bin/sh\n%s", body);
    fclose(f);
    chmod(p, (mode_t)mode);
    return p;
}

static const char *slurp(const char *path) {
    static char buf[8192];
    buf[0] = '\n';
    FILE *f = fopen(path, "r");
    if (!f) {
        buf[1] = '\0';
        return buf;
    }
    size_t n = fread(buf + 1, 1, sizeof buf - 2, f);
    buf[n + 1] = '\0';
    fclose(f);
    return buf;
}

static int file_exists(const char *path) {
    struct stat st;
    return stat(path, &st) == 0;
}

/* The state letter of a process from /proc (0 when there is none); its process group in *pgrp. */
static char proc_state(long pid, long *pgrp) {
    char p[64];
    snprintf(p, sizeof p, "/proc/%ld/stat", pid);
    const char *s = slurp(p);
    const char *rp = strrchr(s, ')');
    long ppid = 0;
    char st = 0;
    if (!rp || sscanf(rp + 1, " %c %ld %ld", &st, &ppid, pgrp) != 3) return 0;
    return st;
}

/* No live (non-zombie) process is left in process group pgid; the SIGKILL may take a moment to
 * land, so this waits up to 1 s. Zombies count as gone: here init may not reap orphans. */
static int group_gone(long pgid) {
    for (int tries = 0; tries < 100; tries++) {
        int alive = 0;
        DIR *d = opendir("/proc");
        struct dirent *e;
        while (d && (e = readdir(d))) {
            long pid = atol(e->d_name), pg = -1;
            if (pid <= 0) continue;
            char st = proc_state(pid, &pg);
            if (st && st != 'Z' && pg == pgid) alive = 1;
        }
        if (d) closedir(d);
        if (!alive) return 1;
        usleep(10000);
    }
    return 0;
}

/* What the callback saw and what it answers. */
typedef struct rec {
    int n;
    hp_ext_epoch e[16];
    int stop_at;    /* answer 1 at this epoch */
    int abort_at;   /* answer -1 at this epoch */
    int cancel_at;  /* set *cancel at this epoch */
    volatile sig_atomic_t *cancel;
} rec;

static int on_epoch(void *ctx, const hp_ext_epoch *e, hp_err *err) {
    rec *r = ctx;
    if (r->n < 16) r->e[r->n] = *e;
    r->n++;
    if (r->cancel_at == e->epoch) *r->cancel = 1;
    if (r->abort_at == e->epoch) return hp_errf(err, "the results file is gone (test)");
    return r->stop_at == e->epoch;
}

static const char *wdir(const char *name) {
    static char p[8][320];
    static int used;
    char *s = p[used++ % 8];
    snprintf(s, 320, "%s/%s", dir, name);
    return s;
}

/* Runs prog (no arguments) for a fresh 3-epoch trial in dir/<wd>. */
static int run_simple(const char *prog, const char *wd, double timeout, double grace, rec *r,
                      const volatile sig_atomic_t *cancel, hp_ext_result *res, hp_err *err) {
    char *argv[] = {(char *)prog, NULL};
    hp_ext_command cmd = {.argc = 1, .argv = argv, .epoch_timeout_s = timeout, .grace_s = grace};
    hp_ext_trial t = {.id = 5, .seed = 9, .epochs = 3, .workdir = wdir(wd)};
    return hp_ext_run(&cmd, &t, on_epoch, r, cancel, res, err);
}

static void test_good(void) {
    const char *prog = script(
        "good.sh",
        "printf '%s\\n' \"$@\" > args.txt\n"
        "pwd > cwd.txt\n"
        "env | grep -E '^(HPSWEEP_|CUDA_VISIBLE_DEVICES=|HP_EXT_TEST_)' > env.txt\n"
        "echo \"out $HPSWEEP_RESUME_EPOCH\"\n"
        "echo \"err $HPSWEEP_RESUME_EPOCH\" >&2\n"
        "sleep 30 &\n" /* a straggler in the group that also holds fd 3: killed when the program exits */
        "echo $! > bg.txt\n"
        "i=$((HPSWEEP_RESUME_EPOCH + 1))\n"
        "while [ $i -le $HPSWEEP_EPOCHS ]; do\n"
        "  echo \"{\\\"epoch\\\": $i, \\\"train_loss\\\": 1.$i, \\\"train_acc\\\": 0.$i, \\\"val_loss\\\": NaN,"
        " \\\"val_acc\\\": 0.${i}5, \\\"lr\\\": 1e-2, \\\"note\\\": \\\"a\\\\u00e9\\\\\\\"b\\\", \\\"ok\\\": true,"
        " \\\"x\\\": null, \\\"gn\\\": -Infinity }\" >&3\n"
        "  echo >&3\n" /* blank lines are allowed */
        "  i=$((i + 1))\n"
        "done\n",
        0755);
    setenv("HPSWEEP_STALE", "from an outer run", 1);
    setenv("CUDA_VISIBLE_DEVICES", "0,1", 1);
    setenv("HP_EXT_TEST_INHERIT", "yes", 1);
    char *argv[] = {(char *)prog, "--lr={lr}", "{weight_decay}", "{{x}}", "{workdir}/out",
                    "{trial}-{seed}-{epochs}-{resume_epoch}-{mode}", "{checkpoint}", "{snapshot}", "{params_json}",
                    "{opt-name}", NULL};
    hp_ext_command cmd = {.argc = 10, .argv = argv, .epoch_timeout_s = 5};
    hp_ext_param ps[] = {{"lr", "0.01"}, {"weight_decay", "5e-4"}, {"opt-name", "sgd"}, {"tag", "a\"b"}, {"code", "007"}};
    const char *names[] = {"lr", "weight_decay", "opt-name", "tag", "code"};
    hp_err err = {{0}};
    CHECK(hp_ext_check(&cmd, 5, names, &err) == 0, "good command accepted: %s", err.msg);
    const char *wd = wdir("good");
    hp_ext_trial t = {.id = 17, .seed = 12345678901234ULL, .epochs = 3, .workdir = wd, .nparams = 5,
                      .params = ps, .cuda_visible = "7"};
    rec r = {0};
    hp_ext_result res;
    double t0 = now_s();
    int rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0, "good: run returns 0: %s", err.msg);
    CHECK(res.status == HP_EXT_DONE, "good: DONE (got %d: %s)", res.status, res.message);
    CHECK(now_s() - t0 < 3, "good: the straggler holding fd 3 did not keep the run waiting");
    CHECK(res.exit_code == 0 && res.term_signal == -1, "good: exit 0 (got %d, signal %d)", res.exit_code,
          res.term_signal);
    CHECK(res.epochs_reported == 3 && res.last_epoch == 3 && r.n == 3, "good: 3 epochs (got %d, %d)",
          res.epochs_reported, r.n);
    CHECK(isnan(res.test_acc) && isnan(res.test_loss), "good: no test metrics in mode train");
    for (int i = 0; i < 3 && i < r.n; i++) {
        const hp_ext_epoch *e = &r.e[i];
        CHECK(e->epoch == i + 1, "epoch %d numbered %d", i + 1, e->epoch);
        CHECK_CLOSE(e->train_loss, 1 + 0.1 * (i + 1), 0, 1e-15, "train_loss");
        CHECK_CLOSE(e->train_acc, 0.1 * (i + 1), 0, 1e-15, "train_acc");
        CHECK(isnan(e->val_loss), "val_loss NaN as written");
        CHECK_CLOSE(e->val_acc, 0.1 * (i + 1) + 0.05, 0, 1e-15, "val_acc");
        CHECK(e->objective == e->val_acc, "objective is val_acc by default");
        CHECK(e->seconds >= 0 && e->seconds < 3, "seconds %g", e->seconds);
        CHECK(e->nextra == 2 && strcmp(e->extra_names[0], "lr") == 0 && strcmp(e->extra_names[1], "gn") == 0,
              "extras: lr and gn (strings, booleans, null skipped): got %d", e->nextra);
        CHECK(e->extra[0] == 0.01 && e->extra[1] == -INFINITY, "extra values %g %g", e->extra[0], e->extra[1]);
    }
    char p[400], want[2048];
    snprintf(p, sizeof p, "%s/args.txt", wd);
    snprintf(want, sizeof want, "\n--lr=0.01\n5e-4\n{x}\n%s/out\n17-12345678901234-3-0-train\n%s/checkpoint\n%s/best\n"
             "%s/params.json\nsgd\n", wd, wd, wd, wd);
    CHECK(strcmp(slurp(p), want) == 0, "arguments substituted: got [%s] want [%s]", slurp(p), want);
    snprintf(p, sizeof p, "%s/cwd.txt", wd);
    snprintf(want, sizeof want, "\n%s\n", wd);
    CHECK(strcmp(slurp(p), want) == 0, "cwd is the trial's folder: %s", slurp(p));
    snprintf(p, sizeof p, "%s/params.json", wd);
    CHECK(strcmp(slurp(p), "\n{\"trial\": 17, \"seed\": 12345678901234, \"epochs\": 3, \"resume_epoch\": 0, \"mode\": "
                           "\"train\", \"params\": {\"lr\": 0.01, \"weight_decay\": 5e-4, \"opt-name\": \"sgd\", "
                           "\"tag\": \"a\\\"b\", \"code\": \"007\"}}\n") == 0,
          "params.json: %s", slurp(p));
    snprintf(p, sizeof p, "%s/env.txt", wd);
    const char *env = slurp(p);
    const char *lines[] = {"CUDA_VISIBLE_DEVICES=7", "HPSWEEP_TRIAL_ID=17", "HPSWEEP_SEED=12345678901234",
                           "HPSWEEP_EPOCHS=3", "HPSWEEP_RESUME_EPOCH=0", "HPSWEEP_MODE=train", "HPSWEEP_METRICS_FD=3",
                           "HPSWEEP_P_LR=0.01", "HPSWEEP_P_WEIGHT_DECAY=5e-4", "HPSWEEP_P_OPT_NAME=sgd",
                           "HPSWEEP_P_TAG=a\"b", "HPSWEEP_P_CODE=007", "HP_EXT_TEST_INHERIT=yes"};
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++) {
        snprintf(want, sizeof want, "\n%s\n", lines[i]);
        CHECK(strstr(env, want) != NULL, "environment has %s: %s", lines[i], env);
    }
    const char *paths[][2] = {{"HPSWEEP_WORKDIR", ""}, {"HPSWEEP_CHECKPOINT", "/checkpoint"},
                              {"HPSWEEP_SNAPSHOT", "/best"}, {"HPSWEEP_PARAMS", "/params.json"}};
    for (int i = 0; i < 4; i++) {
        snprintf(want, sizeof want, "\n%s=%s%s\n", paths[i][0], wd, paths[i][1]);
        CHECK(strstr(env, want) != NULL, "environment has %s", want + 1);
    }
    CHECK(!strstr(env, "HPSWEEP_STALE") && !strstr(env, "CUDA_VISIBLE_DEVICES=0,1"),
          "inherited HPSWEEP_* and CUDA_VISIBLE_DEVICES replaced: %s", env);
    snprintf(p, sizeof p, "%s/bg.txt", wd);
    long bg = atol(slurp(p) + 1), bg_pgrp = -1;
    (void)proc_state(bg, &bg_pgrp);
    CHECK(bg > 0 && (bg_pgrp == -1 || group_gone(bg_pgrp)),
          "the program's background child (pid %ld) was killed with its group", bg);

    /* resume: epochs 1 and 2 recorded; the logs are appended */
    t.resume_epoch = 2;
    t.cuda_visible = NULL;
    memset(&r, 0, sizeof r);
    rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE, "resume: DONE (%d: %s)", res.status, res.message);
    CHECK(res.epochs_reported == 1 && res.last_epoch == 3 && r.n == 1 && r.e[0].epoch == 3, "resume: epoch 3 only");
    snprintf(p, sizeof p, "%s/stdout.log", wd);
    CHECK(strcmp(slurp(p), "\nout 0\nout 2\n") == 0, "stdout.log appended: %s", slurp(p));
    snprintf(p, sizeof p, "%s/stderr.log", wd);
    CHECK(strcmp(slurp(p), "\nerr 0\nerr 2\n") == 0, "stderr.log appended: %s", slurp(p));
    snprintf(p, sizeof p, "%s/env.txt", wd);
    CHECK(strstr(slurp(p), "\nCUDA_VISIBLE_DEVICES=0,1\n") != NULL, "CUDA_VISIBLE_DEVICES inherited when not set");
    snprintf(p, sizeof p, "%s/bg.txt", wd);
    bg = atol(slurp(p) + 1);
    bg_pgrp = -1;
    (void)proc_state(bg, &bg_pgrp);
    CHECK(bg > 0 && (bg_pgrp == -1 || group_gone(bg_pgrp)), "resume: background child killed");
    unsetenv("HPSWEEP_STALE");

    /* a program that replays every epoch from 1: lines up to resume_epoch are ignored */
    const char *replay = script("replay.sh",
                                "for i in 1 2 3; do echo \"{\\\"epoch\\\": $i, \\\"val_acc\\\": 0.$i}\" >&3; done\n",
                                0755);
    char *av2[] = {(char *)replay, NULL};
    hp_ext_command c2 = {.argc = 1, .argv = av2};
    hp_ext_trial t2 = {.id = 1, .epochs = 3, .resume_epoch = 1, .workdir = wdir("replay")};
    memset(&r, 0, sizeof r);
    rc = hp_ext_run(&c2, &t2, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE && r.n == 2 && r.e[0].epoch == 2 && r.e[1].epoch == 3,
          "replay from 1 with resume_epoch 1: epochs 2, 3 (status %d, %d epochs: %s)", res.status, r.n, res.message);

    /* another objective, minimised, as an extra key */
    c2.objective = "val_loss";
    CHECK(hp_ext_check(&c2, 0, NULL, &err) == -1 && strstr(err.msg, "no default direction"),
          "val_loss without a direction refused: %s", err.msg);
    c2.maximize = -1;
    CHECK(hp_ext_check(&c2, 0, NULL, &err) == 0 && hp_ext_maximize(&c2) == 0, "val_loss minimised: %s", err.msg);
    const char *f1 = script("f1.sh", "echo '{\"epoch\": 1, \"f1\": 0.75}' >&3\n", 0755);
    av2[0] = (char *)f1;
    c2.objective = "f1";
    c2.maximize = 1;
    t2.resume_epoch = 0;
    memset(&r, 0, sizeof r);
    rc = hp_ext_run(&c2, &t2, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE && r.n == 1 && r.e[0].objective == 0.75 && isnan(r.e[0].val_acc),
          "objective f1 read (status %d: %s)", res.status, res.message);
}

/* A fault: status FAILED, the message contains want. */
static void expect_fail(const char *name, const char *body, const char *want, int want_epochs) {
    const char *prog = script(name, body, 0755);
    rec r = {0};
    hp_ext_result res;
    hp_err err = {{0}};
    double t0 = now_s();
    char wd[64];
    snprintf(wd, sizeof wd, "%s.d", name);
    int rc = run_simple(prog, wd, 5, 1, &r, NULL, &res, &err);
    CHECK(rc == 0, "%s: run returns 0: %s", name, err.msg);
    CHECK(res.status == HP_EXT_FAILED, "%s: FAILED (got %d)", name, res.status);
    CHECK(strstr(res.message, want) != NULL, "%s: message [%s] contains [%s]", name, res.message, want);
    CHECK(res.epochs_reported == want_epochs && r.n == want_epochs, "%s: %d epochs reported (got %d)", name,
          want_epochs, res.epochs_reported);
    CHECK(now_s() - t0 < 2.5, "%s: ended promptly", name);
}

static void test_faults(void) {
    expect_fail("exit3.sh", "echo noise >&2\necho 'CUDA out of memory' >&2\necho >&2\nexit 3\n",
                "exited with status 3: CUDA out of memory", 0);
    expect_fail("segv.sh", "echo '{\"epoch\": 1, \"val_acc\": 0.5}' >&3\necho 'about to crash' >&2\nkill -SEGV $$\n",
                "killed by signal 11 (SIGSEGV): about to crash", 1);
    expect_fail("badjson.sh", "echo '{\"epoch\": 1, \"val_acc\": 0.5}' >&3\necho '{\"epoch\": 2, \"val_acc\": 0.6,}' >&3\n",
                "metrics line 2 is not a JSON object: expected a string key", 1);
    expect_fail("nested.sh", "echo '{\"epoch\": 1, \"val_acc\": [0.5]}' >&3\n",
                "metrics line 1 is not a JSON object: nested objects and arrays", 0);
    expect_fail("notobj.sh", "echo 'epoch 1 acc 0.5' >&3\n", "metrics line 1 is not a JSON object: expected '{'", 0);
    expect_fail("noobj.sh", "echo '{\"epoch\": 1, \"train_loss\": 0.3}' >&3\n",
                "metrics line 1 lacks the objective val_acc", 0);
    expect_fail("noepoch.sh", "echo '{\"val_acc\": 0.3}' >&3\n", "metrics line 1 lacks \"epoch\"", 0);
    expect_fail("epochfrac.sh", "echo '{\"epoch\": 1.5, \"val_acc\": 0.3}' >&3\n", "epoch 1.5 is not an integer", 0);
    expect_fail("gap.sh", "echo '{\"epoch\": 1, \"val_acc\": 0.3}' >&3\necho '{\"epoch\": 3, \"val_acc\": 0.3}' >&3\n",
                "metrics line 2: epoch 3 follows epoch 1", 1);
    expect_fail("beyond.sh",
                "for i in 1 2 3 4; do echo \"{\\\"epoch\\\": $i, \\\"val_acc\\\": 0.3}\" >&3; done\n",
                "epoch 4 is beyond the planned 3", 3);
    expect_fail("percent.sh", "echo '{\"epoch\": 1, \"val_acc\": 86.5}' >&3\n", "val_acc 86.5 is outside [0, 1]", 0);
    expect_fail("twice.sh", "echo '{\"epoch\": 1, \"val_acc\": 0.1, \"val_acc\": 0.2}' >&3\n",
                "key \"val_acc\" given twice", 0);
    expect_fail("range.sh", "echo '{\"epoch\": 1, \"val_acc\": 0.1, \"big\": 1e999}' >&3\n", "number out of range", 0);
    expect_fail("long.sh", "head -c 5000 /dev/zero | tr '\\0' a >&3\n", "metrics line 1 is longer than 4096 bytes", 0);
    expect_fail("none.sh", "echo 'I forgot to report' >&2\n", "reported no epoch", 0);
    /* a last line without its newline still counts */
    const char *nonl = script("nonl.sh", "printf '{\"epoch\": 1, \"val_acc\": 0.5}' >&3\n", 0755);
    rec r = {0};
    hp_ext_result res;
    hp_err err = {{0}};
    CHECK(run_simple(nonl, "nonl.d", 5, 1, &r, NULL, &res, &err) == 0 && res.status == HP_EXT_DONE && r.n == 1,
          "a last line without newline is taken (status %d: %s)", res.status, res.message);
    /* a line of exactly 4096 bytes is allowed (the object padded with spaces) */
    const char *l4096 = script("l4096.sh",
                               "{ printf '{\"epoch\": 1, \"val_acc\": 0.5'; head -c 4068 /dev/zero | tr '\\0' ' ';"
                               " printf '}\\n'; } >&3\n",
                               0755);
    memset(&r, 0, sizeof r);
    CHECK(run_simple(l4096, "l4096.d", 5, 1, &r, NULL, &res, &err) == 0 && res.status == HP_EXT_DONE && r.n == 1,
          "a 4096-byte line is taken (status %d: %s)", res.status, res.message);
}

static void test_timeout(void) {
    const char *prog = script("slow.sh", "echo '{\"epoch\": 1, \"val_acc\": 0.5}' >&3\nsleep 20\n", 0755);
    rec r = {0};
    hp_ext_result res;
    hp_err err = {{0}};
    double t0 = now_s();
    int rc = run_simple(prog, "slow.d", 0.4, 2, &r, NULL, &res, &err);
    double dt = now_s() - t0;
    CHECK(rc == 0 && res.status == HP_EXT_FAILED, "timeout: FAILED (%d)", res.status);
    CHECK(strcmp(res.message, "no metrics for 0.4 s (epoch_timeout)") == 0, "timeout message: %s", res.message);
    CHECK(res.epochs_reported == 1, "timeout: the first epoch counted");
    CHECK(res.term_signal == SIGTERM, "timeout: ended by SIGTERM (got %d)", res.term_signal);
    CHECK(dt >= 0.4 && dt < 2, "timeout after about 0.4 s (took %.2f s)", dt);
}

static void test_stop_grace(void) {
    const char *prog = script("deaf.sh",
                              "trap '' TERM\necho $$ > pid.txt\n"
                              "i=1\nwhile [ $i -le 10 ]; do\n"
                              "  echo \"{\\\"epoch\\\": $i, \\\"val_acc\\\": 0.$i}\" >&3\n"
                              "  sleep 0.05\n  i=$((i + 1))\ndone\n",
                              0755);
    char *argv[] = {(char *)prog, NULL};
    hp_ext_command cmd = {.argc = 1, .argv = argv, .grace_s = 0.3};
    hp_ext_trial t = {.id = 2, .epochs = 10, .workdir = wdir("deaf")};
    rec r = {.stop_at = 2};
    hp_ext_result res;
    hp_err err = {{0}};
    double t0 = now_s();
    int rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    double dt = now_s() - t0;
    CHECK(rc == 0 && res.status == HP_EXT_STOPPED, "stop: STOPPED (%d: %s)", res.status, res.message);
    CHECK(res.epochs_reported == 2 && r.n == 2, "stop: lines after the verdict ignored (got %d)", r.n);
    CHECK(res.term_signal == SIGKILL, "stop: SIGTERM ignored, SIGKILL after the grace (got %d)", res.term_signal);
    CHECK(dt >= 0.3 && dt < 2, "stop: took the grace of 0.3 s, not much more (%.2f s)", dt);
    char p[400];
    snprintf(p, sizeof p, "%s/pid.txt", t.workdir);
    long pid = atol(slurp(p) + 1);
    CHECK(pid > 0 && group_gone(pid), "stop: the program's process group is gone");

    /* lines already in the pipe after a stop verdict are ignored */
    argv[0] = (char *)script("burst.sh",
                             "for i in 1 2 3 4 5; do echo \"{\\\"epoch\\\": $i, \\\"val_acc\\\": 0.5}\"; done >&3\n"
                             "sleep 5\n",
                             0755);
    memset(&r, 0, sizeof r);
    r.stop_at = 2;
    t.workdir = wdir("burst");
    rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_STOPPED && r.n == 2 && res.epochs_reported == 2,
          "burst: stop at 2, lines 3-5 ignored (status %d, %d epochs)", res.status, r.n);
    CHECK(res.term_signal == SIGTERM, "burst: ended by SIGTERM (%d)", res.term_signal);

    /* the caller aborts: -1 with its message, the program ended */
    memset(&r, 0, sizeof r);
    r.abort_at = 1;
    cmd.grace_s = 0.1;
    t.workdir = wdir("abort");
    rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == -1 && strstr(err.msg, "the results file is gone"), "abort: -1 with the caller's error: %s", err.msg);
    CHECK(r.n == 1, "abort: one epoch seen");
}

static void test_cancel(void) {
    const char *prog = script("many.sh",
                              "i=1\nwhile [ $i -le 100 ]; do echo \"{\\\"epoch\\\": $i, \\\"val_acc\\\": 0.5}\" >&3;"
                              " sleep 0.05; i=$((i + 1)); done\n",
                              0755);
    volatile sig_atomic_t cancel = 0;
    char *argv[] = {(char *)prog, NULL};
    hp_ext_command cmd = {.argc = 1, .argv = argv, .grace_s = 1};
    hp_ext_trial t = {.id = 3, .epochs = 100, .workdir = wdir("cancel")};
    rec r = {.cancel_at = 2, .cancel = &cancel};
    hp_ext_result res;
    hp_err err = {{0}};
    double t0 = now_s();
    int rc = hp_ext_run(&cmd, &t, on_epoch, &r, &cancel, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_CANCELLED, "cancel: CANCELLED (%d: %s)", res.status, res.message);
    CHECK(res.epochs_reported >= 2 && res.epochs_reported <= 3, "cancel: stopped near epoch 2 (%d)", res.epochs_reported);
    CHECK(res.term_signal == SIGTERM && now_s() - t0 < 1.5, "cancel: SIGTERM, promptly (%d)", res.term_signal);
    /* already cancelled: nothing started */
    t.workdir = wdir("cancel0");
    rc = hp_ext_run(&cmd, &t, on_epoch, &r, &cancel, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_CANCELLED && !file_exists(t.workdir), "cancelled before the start");
}

static void test_mode_test(void) {
    const char *prog = script("eval.sh",
                              "[ \"$HPSWEEP_MODE\" = test ] || exit 9\n"
                              "[ \"$1\" = test ] || exit 8\n"
                              "echo '{\"test_loss\": 0.31, \"test_acc\": 0.905}' >&3\n",
                              0755);
    char *argv[] = {(char *)prog, "{mode}", NULL};
    hp_ext_command cmd = {.argc = 2, .argv = argv};
    hp_ext_trial t = {.id = 4, .epochs = 3, .resume_epoch = 3, .workdir = wdir("test"), .mode = "test"};
    hp_ext_result res;
    hp_err err = {{0}};
    int rc = hp_ext_run(&cmd, &t, NULL, NULL, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE, "test mode: DONE (%d: %s / %s)", res.status, res.message, err.msg);
    CHECK(res.test_loss == 0.31 && res.test_acc == 0.905, "test mode: values %g %g", res.test_loss, res.test_acc);
    argv[0] = (char *)script("eval0.sh", "exit 0\n", 0755);
    rc = hp_ext_run(&cmd, &t, NULL, NULL, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_FAILED && strcmp(res.message, "reported no test metrics") == 0,
          "test mode without its line: %s", res.message);
    argv[0] = (char *)script("eval1.sh", "echo '{\"test_acc\": 0.9}' >&3\n", 0755);
    rc = hp_ext_run(&cmd, &t, NULL, NULL, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_FAILED && strstr(res.message, "lacks test_loss"),
          "test mode line without test_loss: %s", res.message);
    t.mode = "eval";
    CHECK(hp_ext_run(&cmd, &t, NULL, NULL, NULL, &res, &err) == -1 && strstr(err.msg, "neither train nor test"),
          "mode eval refused: %s", err.msg);
}

static void test_not_startable(void) {
    hp_err err = {{0}};
    hp_ext_result res;
    rec r = {0};
    char *argv[] = {"hpsweep-no-such-trainer", NULL};
    hp_ext_command cmd = {.argc = 1, .argv = argv};
    CHECK(hp_ext_check(&cmd, 0, NULL, &err) == -1 && strstr(err.msg, "'hpsweep-no-such-trainer' not found in PATH"),
          "not found in PATH: %s", err.msg);
    CHECK(run_simple("hpsweep-no-such-trainer", "nf", 0, 0, &r, NULL, &res, &err) == -1 &&
              strstr(err.msg, "not found") && res.status == HP_EXT_FAILED,
          "run: not found -> -1: %s", err.msg);
    char missing[300];
    snprintf(missing, sizeof missing, "%s/missing.sh", dir);
    argv[0] = missing;
    CHECK(hp_ext_check(&cmd, 0, NULL, &err) == -1 && strstr(err.msg, "not found"), "missing path: %s", err.msg);
    const char *noexec = script("noexec.sh", "exit 0\n", 0644);
    argv[0] = (char *)noexec;
    CHECK(hp_ext_check(&cmd, 0, NULL, &err) == -1 && strstr(err.msg, "is not executable: chmod +x"),
          "not executable: %s", err.msg);
    CHECK(run_simple(noexec, "nx", 0, 0, &r, NULL, &res, &err) == -1 && strstr(err.msg, "not executable"),
          "run: not executable -> -1: %s", err.msg);
    argv[0] = dir;
    CHECK(hp_ext_check(&cmd, 0, NULL, &err) == -1 && strstr(err.msg, "is a folder"), "a folder: %s", err.msg);
    /* PATH lookup finds sh */
    char *av[] = {"sh", "-c", "echo '{{\"epoch\": {trial}, \"val_acc\": 0.5}}' >&3", NULL}; /* braces doubled */
    hp_ext_command c2 = {.argc = 3, .argv = av};
    CHECK(hp_ext_check(&c2, 0, NULL, &err) == 0, "sh found in PATH: %s", err.msg);
    hp_ext_trial t = {.id = 1, .epochs = 1, .workdir = wdir("sh")};
    CHECK(hp_ext_run(&c2, &t, on_epoch, &r, NULL, &res, &err) == 0 && res.status == HP_EXT_DONE,
          "sh -c runs (%d: %s)", res.status, res.message);
    /* a folder that cannot be made */
    t.workdir = "/nonexistent-hpsweep/x/y";
    CHECK(hp_ext_run(&c2, &t, on_epoch, &r, NULL, &res, &err) == -1 && strstr(err.msg, "cannot make the trial's folder"),
          "folder without parent: %s", err.msg);
}

static void test_check_placeholders(void) {
    const char *names[] = {"lr", "batch-size"};
    hp_err err = {{0}};
    struct {
        const char *arg;
        const char *want; /* NULL: accepted */
    } cases[] = {
        {"--lr={lr}", NULL},
        {"{batch-size}{{}}{trial}{seed}{epochs}{resume_epoch}{workdir}{checkpoint}{snapshot}{params_json}{mode}", NULL},
        {"{momentum}", "unknown placeholder {momentum}"},
        {"{lr", "'{' without its '}'"},
        {"lr}", "a single '}'"},
        {"{}", "unknown placeholder {}"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char *argv[] = {"sh", (char *)cases[i].arg, NULL};
        hp_ext_command cmd = {.argc = 2, .argv = argv};
        int rc = hp_ext_check(&cmd, 2, names, &err);
        if (!cases[i].want)
            CHECK(rc == 0, "'%s' accepted: %s", cases[i].arg, err.msg);
        else
            CHECK(rc == -1 && strstr(err.msg, cases[i].want) && strstr(err.msg, "'sh'"), "'%s' refused: %s",
                  cases[i].arg, err.msg);
    }
    char *argv[] = {"sh", NULL};
    hp_ext_command cmd = {.argc = 1, .argv = argv};
    const char *clash[] = {"a-b", "a_b"};
    CHECK(hp_ext_check(&cmd, 2, clash, &err) == -1 && strstr(err.msg, "both become HPSWEEP_P_A_B"),
          "names that clash as variables refused: %s", err.msg);
    const char *builtin[] = {"seed"};
    CHECK(hp_ext_check(&cmd, 1, builtin, &err) == -1 && strstr(err.msg, "built-in placeholder"),
          "a parameter named like a built-in refused: %s", err.msg);
    cmd.epoch_timeout_s = -1;
    CHECK(hp_ext_check(&cmd, 0, NULL, &err) == -1 && strstr(err.msg, "epoch_timeout"), "negative timeout: %s", err.msg);
    char en[64];
    CHECK(hp_ext_env_name("weight.decay-2", en, sizeof en, &err) == 0 && strcmp(en, "HPSWEEP_P_WEIGHT_DECAY_2") == 0,
          "env name: %s", en);
}

/* The example trainer (examples/external/toy_trainer.py with hpsweep_report.py) through the
 * runner: the Python side of the protocol agrees with the C side. */
static void test_toy_example(void) {
    const char *py = "/usr/bin/python3";
    if (access(py, X_OK) != 0) {
        fprintf(stderr, "test_toy_example: no %s, skipped\n", py);
        return;
    }
    char *argv[] = {(char *)py, HP_TEST_DIR "/../examples/external/toy_trainer.py", "--lr", "{lr}", "--seconds",
                    "0.01", NULL};
    hp_ext_command cmd = {.argc = 6, .argv = argv, .epoch_timeout_s = 20};
    hp_ext_param ps[] = {{"lr", "0.01"}, {"weight_decay", "1e-4"}};
    hp_ext_trial t = {.id = 8, .seed = 3, .epochs = 3, .workdir = wdir("toy"), .nparams = 2, .params = ps};
    rec r = {0};
    hp_ext_result res;
    hp_err err = {{0}};
    int rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE && r.n == 3, "toy: DONE, 3 epochs (%d: %s / %s)", res.status,
          res.message, err.msg);
    CHECK(r.n == 3 && r.e[0].val_acc < r.e[2].val_acc && r.e[2].val_acc > 0.5 && r.e[2].val_acc <= 1,
          "toy: val_acc rises (%g .. %g)", r.e[0].val_acc, r.n == 3 ? r.e[2].val_acc : 0);
    double third = r.n == 3 ? r.e[2].val_acc : -1;
    /* resume after epoch 2 (its checkpoint says 3): epoch 3 replayed from the checkpoint, the same */
    t.resume_epoch = 2;
    memset(&r, 0, sizeof r);
    rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE && r.n == 1 && r.e[0].epoch == 3 && r.e[0].val_acc == third,
          "toy resume: epoch 3 again, same value (%d: %s)", res.status, res.message);
    /* test mode on its snapshot */
    t.mode = "test";
    rc = hp_ext_run(&cmd, &t, NULL, NULL, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_DONE && res.test_acc > 0.5 && res.test_acc < third,
          "toy test: %g (%d: %s)", res.test_acc, res.status, res.message);
    /* divergence: NaN losses pass through, the caller stops it */
    ps[0].value = "3";
    t.mode = NULL;
    t.resume_epoch = 0;
    t.workdir = wdir("toy_nan");
    memset(&r, 0, sizeof r);
    r.stop_at = 1;
    rc = hp_ext_run(&cmd, &t, on_epoch, &r, NULL, &res, &err);
    CHECK(rc == 0 && res.status == HP_EXT_STOPPED && r.n == 1 && isnan(r.e[0].train_loss),
          "toy lr 3: NaN loss, stopped (%d: %s)", res.status, res.message);
}

int main(void) {
    snprintf(dir, sizeof dir, "/tmp/hp_test_external_XXXXXX");
    if (!mkdtemp(dir)) return hp_check_skip("cannot make a temporary folder");
    int fds0 = count_fds();
    test_good();
    test_faults();
    test_timeout();
    test_stop_grace();
    test_cancel();
    test_mode_test();
    test_not_startable();
    test_check_placeholders();
    test_toy_example();
    int fds1 = count_fds();
    CHECK(fds0 > 0 && fds1 == fds0, "no fd leaked: %d open before, %d after", fds0, fds1);
    char cmdline[400];
    snprintf(cmdline, sizeof cmdline, "rm -rf '%s'", dir);
    if (system(cmdline) != 0) fprintf(stderr, "could not remove %s\n", dir);
    return hp_check_summary("test_external");
}
