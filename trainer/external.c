/* external.c - see external.h and docs/external.md */
#define _GNU_SOURCE /* posix_spawn_file_actions_addchdir_np, pipe2, waitid */
#include "external.h"

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

#define EXT_LINE_MAX 4096     /* a metrics line longer than this (without its newline) is a fault */
#define EXT_PATH_MAX 4096
#define EXT_KEY_MAX 128       /* a key longer than this is a fault */
#define EXT_TAIL 4096         /* bytes of stderr.log read for the last line */
#define EXT_METRICS_FD 3

static const char *const builtin_names[] = {"trial",      "seed",    "epochs",      "resume_epoch", "workdir",
                                            "checkpoint", "snapshot", "params_json", "mode"};
#define NBUILTIN ((int)(sizeof builtin_names / sizeof builtin_names[0]))

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

static const char *objective_of(const hp_ext_command *cmd) {
    return cmd->objective && cmd->objective[0] ? cmd->objective : "val_acc";
}

int hp_ext_maximize(const hp_ext_command *cmd) {
    return cmd->maximize == 0 ? 1 : cmd->maximize > 0;
}

static const char *prog_of(const hp_ext_command *cmd) {
    return cmd && cmd->argc >= 1 && cmd->argv && cmd->argv[0] ? cmd->argv[0] : "(none)";
}

/* ---- names ------------------------------------------------------------------------------- */

int hp_ext_env_name(const char *param, char *out, size_t n, hp_err *err) {
    static const char pre[] = "HPSWEEP_P_";
    size_t len = strlen(param);
    if (sizeof pre + len > n)
        return hp_errf(err, "parameter name '%.64s' is too long for an environment variable (at most %zu bytes)",
                       param, n - sizeof pre);
    memcpy(out, pre, sizeof pre - 1);
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)param[i];
        out[sizeof pre - 1 + i] = (char)(isalnum(c) && c < 128 ? toupper(c) : '_');
    }
    out[sizeof pre - 1 + len] = '\0';
    return 0;
}

/* Parameter names: non-empty, no braces, not a built-in, distinct, and distinct as variables. */
static int check_names(const char *prog, int n, const char *const *names, hp_err *err) {
    char a[256], b[256];
    for (int i = 0; i < n; i++) {
        const char *nm = names[i];
        if (!nm || !nm[0])
            return hp_errf(err, "trainer program '%s': parameter %d has no name: name every parameter", prog, i);
        if (strpbrk(nm, "{}"))
            return hp_errf(err, "trainer program '%s': parameter name '%s' contains a brace: rename it", prog, nm);
        for (int k = 0; k < NBUILTIN; k++)
            if (strcmp(nm, builtin_names[k]) == 0)
                return hp_errf(err,
                               "trainer program '%s': parameter name '%s' is also a built-in placeholder "
                               "({%s}): rename the parameter",
                               prog, nm, nm);
        if (hp_ext_env_name(nm, a, sizeof a, err) != 0) return hp_err_prefix(err, "trainer program '%s'", prog);
        for (int j = 0; j < i; j++) {
            if (strcmp(nm, names[j]) == 0)
                return hp_errf(err, "trainer program '%s': parameter '%s' is given twice", prog, nm);
            if (hp_ext_env_name(names[j], b, sizeof b, err) != 0) return -1;
            if (strcmp(a, b) == 0)
                return hp_errf(err,
                               "trainer program '%s': parameters '%s' and '%s' both become %s in the "
                               "environment: rename one",
                               prog, names[j], nm, a);
        }
    }
    return 0;
}

/* ---- placeholders ------------------------------------------------------------------------ */

/* Substitute {name} in tmpl: keys[i] -> vals[i]. dst NULL: only measure and validate (vals may
 * be NULL then). *len: the result's length. On a bad template fills why and returns -1. */
static int subst(const char *tmpl, int nk, const char *const *keys, const char *const *vals, char *dst,
                 size_t *len, char *why, size_t nwhy) {
    size_t o = 0;
    for (const char *p = tmpl; *p;) {
        if ((p[0] == '{' && p[1] == '{') || (p[0] == '}' && p[1] == '}')) {
            if (dst) dst[o] = p[0];
            o++;
            p += 2;
        } else if (p[0] == '}') {
            snprintf(why, nwhy, "a single '}' (write '}}' for a literal brace)");
            return -1;
        } else if (p[0] == '{') {
            const char *q = strchr(p + 1, '}');
            if (!q) {
                snprintf(why, nwhy, "a '{' without its '}' (write '{{' for a literal brace)");
                return -1;
            }
            size_t nl = (size_t)(q - p - 1);
            int found = -1;
            for (int k = 0; k < nk && found < 0; k++)
                if (strlen(keys[k]) == nl && memcmp(keys[k], p + 1, nl) == 0) found = k;
            if (found < 0) {
                snprintf(why, nwhy, "unknown placeholder {%.*s}", (int)(nl > 64 ? 64 : nl), p + 1);
                return -1;
            }
            if (vals) {
                size_t vl = strlen(vals[found]);
                if (dst) memcpy(dst + o, vals[found], vl);
                o += vl;
            }
            p = q + 1;
        } else {
            if (dst) dst[o] = *p;
            o++;
            p++;
        }
    }
    if (dst) dst[o] = '\0';
    *len = o;
    return 0;
}

/* ---- the program ------------------------------------------------------------------------- */

static int is_exec_file(const char *path, int *why_errno, int *is_dir) {
    struct stat st;
    *is_dir = 0;
    if (stat(path, &st) != 0) {
        *why_errno = errno;
        return 0;
    }
    if (S_ISDIR(st.st_mode)) {
        *is_dir = 1;
        *why_errno = EISDIR;
        return 0;
    }
    if (access(path, X_OK) != 0) {
        *why_errno = errno;
        return 0;
    }
    return 1;
}

/* argv[0] -> an absolute path: with a '/', against the caller's cwd (the program runs in the
 * trial's folder, so a relative path would otherwise change meaning); else the first executable
 * file of that name in PATH. */
static int resolve_program(const char *prog, char *out, size_t n, hp_err *err) {
    int e = 0, dir = 0;
    if (!prog || !prog[0]) return hp_errf(err, "the trainer command is empty: give the program to run");
    if (strchr(prog, '/')) {
        char cwd[EXT_PATH_MAX];
        int w;
        if (prog[0] == '/') {
            w = snprintf(out, n, "%s", prog);
        } else {
            if (!getcwd(cwd, sizeof cwd))
                return hp_errf(err, "trainer program '%s': cannot read the current folder: %s", prog, strerror(errno));
            w = snprintf(out, n, "%s/%s", cwd, prog);
        }
        if (w < 0 || (size_t)w >= n) return hp_errf(err, "trainer program '%.200s': path too long", prog);
        if (is_exec_file(out, &e, &dir)) return 0;
        if (dir) return hp_errf(err, "trainer program '%s' is a folder: give the program file inside it", prog);
        if (e == ENOENT || e == ENOTDIR)
            return hp_errf(err, "trainer program '%s' not found (%s): check the path (relative paths are "
                                "against the folder hpsweep runs in)", prog, out);
        if (e == EACCES)
            return hp_errf(err, "trainer program '%s' is not executable: chmod +x %s (and give it a #! line)",
                           prog, prog);
        return hp_errf(err, "trainer program '%s': %s", prog, strerror(e));
    }
    const char *path = getenv("PATH");
    if (!path || !path[0]) path = "/usr/local/bin:/usr/bin:/bin";
    int saw_noexec = 0;
    for (const char *p = path;;) {
        const char *c = strchr(p, ':');
        size_t dl = c ? (size_t)(c - p) : strlen(p);
        int w = dl == 0 ? snprintf(out, n, "./%s", prog) : snprintf(out, n, "%.*s/%s", (int)dl, p, prog);
        if (w > 0 && (size_t)w < n) {
            if (is_exec_file(out, &e, &dir)) {
                if (out[0] != '/') { /* an empty or relative PATH entry: against the cwd */
                    char cwd[EXT_PATH_MAX], rel[EXT_PATH_MAX];
                    snprintf(rel, sizeof rel, "%s", out);
                    if (!getcwd(cwd, sizeof cwd))
                        return hp_errf(err, "trainer program '%s': cannot read the current folder: %s", prog,
                                       strerror(errno));
                    w = snprintf(out, n, "%s/%s", cwd, rel);
                    if (w < 0 || (size_t)w >= n) return hp_errf(err, "trainer program '%.200s': path too long", prog);
                }
                return 0;
            }
            if (e == EACCES && !dir) saw_noexec = 1;
        }
        if (!c) break;
        p = c + 1;
    }
    if (saw_noexec)
        return hp_errf(err, "trainer program '%s' is in PATH but not executable: chmod +x it, or give its full path",
                       prog);
    return hp_errf(err, "trainer program '%s' not found in PATH (%.300s): install it, or give its full path", prog,
                   path);
}

int hp_ext_check(const hp_ext_command *cmd, int nnames, const char *const *names, hp_err *err) {
    if (!cmd || cmd->argc < 1 || !cmd->argv || !cmd->argv[0] || !cmd->argv[0][0])
        return hp_errf(err, "the trainer command is empty: give the program to run and its arguments");
    const char *prog = cmd->argv[0];
    if (strpbrk(prog, "{}"))
        return hp_errf(err, "trainer program '%s': the program itself cannot have placeholders: give its path", prog);
    char path[EXT_PATH_MAX];
    if (resolve_program(prog, path, sizeof path, err) != 0) return -1;
    if (!(cmd->epoch_timeout_s >= 0) || isinf(cmd->epoch_timeout_s))
        return hp_errf(err, "trainer program '%s': epoch_timeout %g is not a number of seconds >= 0 (0: none)", prog,
                       cmd->epoch_timeout_s);
    if (!(cmd->grace_s >= 0) || isinf(cmd->grace_s))
        return hp_errf(err, "trainer program '%s': grace %g is not a number of seconds >= 0 (0: the default, 10)",
                       prog, cmd->grace_s);
    const char *obj = objective_of(cmd);
    if (strlen(obj) >= EXT_KEY_MAX)
        return hp_errf(err, "trainer program '%s': objective '%.40s...' is longer than %d bytes", prog, obj,
                       EXT_KEY_MAX - 1);
    if (cmd->maximize < -1 || cmd->maximize > 1)
        return hp_errf(err, "trainer program '%s': maximize %d: use 1 (higher is better) or -1 (lower)", prog,
                       cmd->maximize);
    if (cmd->maximize == 0 && strcmp(obj, "val_acc") != 0)
        return hp_errf(err,
                       "trainer program '%s': objective '%s' has no default direction: say whether higher "
                       "(maximize 1) or lower (maximize -1) is better",
                       prog, obj);
    if (nnames < 0 || (nnames > 0 && !names))
        return hp_errf(err, "trainer program '%s': %d parameter names given without a list", prog, nnames);
    if (check_names(prog, nnames, names, err) != 0) return -1;
    int nk = nnames + NBUILTIN;
    const char **keys = hp_calloc((size_t)nk, sizeof *keys, "placeholder names", err);
    if (!keys) return -1;
    for (int i = 0; i < NBUILTIN; i++) keys[i] = builtin_names[i];
    for (int i = 0; i < nnames; i++) keys[NBUILTIN + i] = names[i];
    int rc = 0;
    for (int a = 1; a < cmd->argc && rc == 0; a++) {
        char why[160];
        size_t len;
        if (!cmd->argv[a]) {
            rc = hp_errf(err, "trainer program '%s': argument %d is missing (NULL)", prog, a);
        } else if (subst(cmd->argv[a], nk, keys, NULL, NULL, &len, why, sizeof why) != 0) {
            rc = hp_errf(err,
                         "trainer program '%s': argument %d '%.200s': %s (placeholders: a parameter's name or "
                         "trial, seed, epochs, resume_epoch, workdir, checkpoint, snapshot, params_json, mode)",
                         prog, a, cmd->argv[a], why);
        }
    }
    free(keys);
    return rc;
}

/* ---- files ------------------------------------------------------------------------------- */

/* Is s[0..n) a JSON number (RFC 8259)? */
static int json_number_len(const char *s, size_t n) {
    size_t i = 0;
    if (i < n && s[i] == '-') i++;
    if (i < n && s[i] == '0') {
        i++;
    } else if (i < n && s[i] >= '1' && s[i] <= '9') {
        while (i < n && isdigit((unsigned char)s[i])) i++;
    } else {
        return 0;
    }
    if (i < n && s[i] == '.') {
        i++;
        if (!(i < n && isdigit((unsigned char)s[i]))) return 0;
        while (i < n && isdigit((unsigned char)s[i])) i++;
    }
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < n && (s[i] == '+' || s[i] == '-')) i++;
        if (!(i < n && isdigit((unsigned char)s[i]))) return 0;
        while (i < n && isdigit((unsigned char)s[i])) i++;
    }
    return (int)i;
}

static int is_json_number(const char *s) {
    size_t n = strlen(s);
    return n > 0 && (size_t)json_number_len(s, n) == n;
}

static int put_json_string(FILE *f, const char *s) {
    if (fputc('"', f) == EOF) return -1;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        int r;
        if (*p == '"' || *p == '\\') r = fprintf(f, "\\%c", *p);
        else if (*p < 0x20) r = fprintf(f, "\\u%04x", *p);
        else r = fputc(*p, f) == EOF ? -1 : 1;
        if (r < 0) return -1;
    }
    return fputc('"', f) == EOF ? -1 : 0;
}

/* workdir/params.json, written under a temporary name and renamed. */
static int write_params(const char *prog, const hp_ext_trial *t, const char *path, hp_err *err) {
    char tmp[EXT_PATH_MAX + 32];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return hp_errf(err, "trainer program '%s', trial %lld: cannot write %s: %s (check the folder's permissions)",
                       prog, (long long)t->id, tmp, strerror(errno));
    FILE *f = fdopen(fd, "w");
    if (!f) {
        close(fd);
        unlink(tmp);
        return hp_errf(err, "trainer program '%s', trial %lld: fdopen %s: %s", prog, (long long)t->id, tmp,
                       strerror(errno));
    }
    int bad = fprintf(f, "{\"trial\": %lld, \"seed\": %llu, \"epochs\": %d, \"resume_epoch\": %d, \"mode\": ",
                      (long long)t->id, (unsigned long long)t->seed, t->epochs, t->resume_epoch) < 0;
    bad |= put_json_string(f, t->mode && t->mode[0] ? t->mode : "train") != 0;
    bad |= fputs(", \"params\": {", f) == EOF;
    for (int i = 0; i < t->nparams && !bad; i++) {
        if (i) bad |= fputs(", ", f) == EOF;
        bad |= put_json_string(f, t->params[i].name) != 0;
        bad |= fputs(": ", f) == EOF;
        if (is_json_number(t->params[i].value)) bad |= fputs(t->params[i].value, f) == EOF;
        else bad |= put_json_string(f, t->params[i].value) != 0;
    }
    bad |= fputs("}}\n", f) == EOF;
    int e = errno;
    if (fclose(f) != 0 && !bad) {
        bad = 1;
        e = errno;
    }
    if (bad) {
        unlink(tmp);
        return hp_errf(err, "trainer program '%s', trial %lld: writing %s failed: %s (is the disk full?)", prog,
                       (long long)t->id, tmp, strerror(e));
    }
    if (rename(tmp, path) != 0) {
        e = errno;
        unlink(tmp);
        return hp_errf(err, "trainer program '%s', trial %lld: cannot rename %s to %s: %s", prog, (long long)t->id,
                       tmp, path, strerror(e));
    }
    return 0;
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

/* ---- the metrics line parser --------------------------------------------------------------- */

typedef struct jp {
    const char *s;
    size_t n, i;
    char why[96];
} jp;

static void jp_ws(jp *p) {
    while (p->i < p->n && (p->s[p->i] == ' ' || p->s[p->i] == '\t' || p->s[p->i] == '\r' || p->s[p->i] == '\n'))
        p->i++;
}

static int jp_fail(jp *p, const char *what) {
    snprintf(p->why, sizeof p->why, "%s at byte %zu", what, p->i + 1);
    return -1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* A string at p->i (the opening quote). Decoded into out[n] when out; *toolong when it did not
 * fit (the parse goes on). \uXXXX escapes are validated and stored as UTF-8. */
static int jp_string(jp *p, char *out, size_t n, int *toolong) {
    size_t o = 0;
    *toolong = 0;
    p->i++; /* the quote */
    for (;;) {
        if (p->i >= p->n) return jp_fail(p, "unterminated string");
        unsigned char c = (unsigned char)p->s[p->i];
        char put[4];
        int np = 0;
        if (c == '"') {
            p->i++;
            break;
        } else if (c < 0x20) {
            return jp_fail(p, "control character in a string");
        } else if (c == '\\') {
            if (p->i + 1 >= p->n) return jp_fail(p, "unterminated string");
            char e = p->s[p->i + 1];
            const char *map = strchr("\"\\/bfnrt", e);
            if (e && map) {
                static const char to[] = "\"\\/\b\f\n\r\t";
                put[np++] = to[map - "\"\\/bfnrt"];
                p->i += 2;
            } else if (e == 'u') {
                unsigned v = 0;
                for (int k = 0; k < 4; k++) {
                    int h = p->i + 2 + (size_t)k < p->n ? hexval(p->s[p->i + 2 + (size_t)k]) : -1;
                    if (h < 0) return jp_fail(p, "bad \\u escape");
                    v = v * 16 + (unsigned)h;
                }
                p->i += 6;
                if (v < 0x80) {
                    put[np++] = (char)v;
                } else if (v < 0x800) {
                    put[np++] = (char)(0xc0 | (v >> 6));
                    put[np++] = (char)(0x80 | (v & 0x3f));
                } else {
                    put[np++] = (char)(0xe0 | (v >> 12));
                    put[np++] = (char)(0x80 | ((v >> 6) & 0x3f));
                    put[np++] = (char)(0x80 | (v & 0x3f));
                }
            } else {
                return jp_fail(p, "bad escape in a string");
            }
        } else {
            put[np++] = (char)c;
            p->i++;
        }
        for (int k = 0; k < np; k++) {
            if (out && o + 1 < n) out[o++] = put[k];
            else *toolong = 1;
        }
    }
    if (out) out[o] = '\0';
    return 0;
}

static int jp_word(jp *p, const char *w) {
    size_t l = strlen(w);
    if (p->n - p->i >= l && memcmp(p->s + p->i, w, l) == 0) {
        p->i += l;
        return 1;
    }
    return 0;
}

/* A value: *kind 1 number (in *v), 0 anything else (string, true, false, null). */
static int jp_value(jp *p, int *kind, double *v) {
    *kind = 0;
    if (p->i >= p->n) return jp_fail(p, "missing value");
    char c = p->s[p->i];
    int tl;
    if (c == '"') return jp_string(p, NULL, 0, &tl);
    if (jp_word(p, "true") || jp_word(p, "false") || jp_word(p, "null")) return 0;
    *kind = 1;
    if (jp_word(p, "NaN")) {
        *v = NAN;
        return 0;
    }
    if (jp_word(p, "Infinity")) {
        *v = INFINITY;
        return 0;
    }
    if (jp_word(p, "-Infinity")) {
        *v = -INFINITY;
        return 0;
    }
    if (c == '{' || c == '[') return jp_fail(p, "nested objects and arrays are not supported");
    int l = json_number_len(p->s + p->i, p->n - p->i);
    if (l == 0) return jp_fail(p, "not a JSON value");
    if (l > 80) return jp_fail(p, "number longer than 80 characters");
    char num[96];
    memcpy(num, p->s + p->i, (size_t)l);
    num[l] = '\0';
    errno = 0;
    *v = strtod(num, NULL);
    if (errno == ERANGE && isinf(*v)) return jp_fail(p, "number out of range");
    p->i += (size_t)l;
    return 0;
}

/* What a metrics line says. */
typedef struct ext_line {
    int has_epoch, has_obj, has_test_loss, has_test_acc; /* set below from `seen` */
    double epoch, obj, test_loss, test_acc;
    hp_ext_epoch e;
} ext_line;

static int parse_line(const char *s, size_t n, const char *objective, ext_line *L, char *why, size_t nwhy) {
    memset(L, 0, sizeof *L);
    L->e.train_loss = L->e.train_acc = L->e.val_loss = L->e.val_acc = NAN;
    L->test_loss = L->test_acc = NAN;
    jp p = {s, n, 0, ""};
    int rc = 0;
    unsigned seen = 0; /* standard keys met: a second one is a fault */
    jp_ws(&p);
    if (p.i >= n || s[p.i] != '{') {
        rc = jp_fail(&p, "expected '{'");
    } else {
        p.i++;
        jp_ws(&p);
        if (p.i < n && s[p.i] == '}') {
            p.i++;
        } else {
            for (;;) {
                char key[EXT_KEY_MAX];
                int toolong, kind;
                double v = 0;
                jp_ws(&p);
                if (p.i >= n || s[p.i] != '"') { rc = jp_fail(&p, "expected a string key"); break; }
                if (jp_string(&p, key, sizeof key, &toolong) != 0) { rc = -1; break; }
                if (toolong) { rc = jp_fail(&p, "key longer than 127 bytes"); break; }
                jp_ws(&p);
                if (p.i >= n || s[p.i] != ':') { rc = jp_fail(&p, "expected ':'"); break; }
                p.i++;
                jp_ws(&p);
                if (jp_value(&p, &kind, &v) != 0) { rc = -1; break; }
                if (!kind && strcmp(key, objective) == 0) {
                    snprintf(p.why, sizeof p.why, "the objective \"%.60s\" is not a number", key);
                    rc = -1;
                    break;
                }
                if (kind) {
                    static const char *const std_names[] = {"epoch", "train_loss", "train_acc", "val_loss",
                                                            "val_acc", "test_loss", "test_acc"};
                    int which = -1;
                    for (int k = 0; k < 7; k++)
                        if (strcmp(key, std_names[k]) == 0) which = k;
                    double *slot[7] = {&L->epoch, &L->e.train_loss, &L->e.train_acc, &L->e.val_loss,
                                       &L->e.val_acc, &L->test_loss, &L->test_acc};
                    if (which >= 0) {
                        if (seen & (1u << which)) {
                            snprintf(p.why, sizeof p.why, "key \"%.60s\" given twice", key);
                            rc = -1;
                            break;
                        }
                        seen |= 1u << which;
                        *slot[which] = v;
                    } else if (L->e.nextra < HP_EXT_NEXTRA && strlen(key) < HP_EXT_NAME_MAX) {
                        memcpy(L->e.extra_names[L->e.nextra], key, strlen(key) + 1);
                        L->e.extra[L->e.nextra++] = v;
                    }
                    if (strcmp(key, objective) == 0) {
                        L->has_obj = 1;
                        L->obj = v;
                    }
                }
                jp_ws(&p);
                if (p.i < n && s[p.i] == ',') { p.i++; continue; }
                if (p.i < n && s[p.i] == '}') { p.i++; break; }
                rc = jp_fail(&p, "expected ',' or '}'");
                break;
            }
        }
        if (rc == 0) {
            jp_ws(&p);
            if (p.i < n) rc = jp_fail(&p, "text after the object");
        }
        L->e.present = (seen >> 1) & 0xfu; /* train_loss, train_acc, val_loss, val_acc */
        L->has_epoch = !!(seen & 1u);
        L->has_test_loss = !!(seen & (1u << 5));
        L->has_test_acc = !!(seen & (1u << 6));
    }
    if (rc != 0) snprintf(why, nwhy, "%s", p.why);
    return rc;
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
    if (parse_line(s, n, r->objective, &L, why, sizeof why) != 0) {
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
    const char *prog = prog_of(cmd);
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
    if (check_names(prog, t->nparams, names, err) != 0) goto fail;
    if (resolve_program(cmd->argv[0], exe, sizeof exe, err) != 0) goto fail;

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
    if (write_params(prog, t, pj, err) != 0) goto fail;

    /* arguments */
    int nk = NBUILTIN + t->nparams;
    keys = hp_calloc((size_t)nk, sizeof *keys, "placeholder names", err);
    vals = hp_calloc((size_t)nk, sizeof *vals, "placeholder values", err);
    argv = hp_calloc((size_t)cmd->argc + 1, sizeof *argv, "the program's arguments", err);
    if (!keys || !vals || !argv) goto fail;
    const char *bv[NBUILTIN] = {s_trial, s_seed, s_epochs, s_resume, wd, ckpt, snap, pj, mode};
    for (int i = 0; i < NBUILTIN; i++) {
        keys[i] = builtin_names[i];
        vals[i] = bv[i];
    }
    for (int i = 0; i < t->nparams; i++) {
        keys[NBUILTIN + i] = t->params[i].name;
        vals[NBUILTIN + i] = t->params[i].value;
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
        } else if (subst(a, nk, keys, vals, NULL, &len, why, sizeof why) != 0) {
            hp_errf(err, "trainer program '%s', trial %lld: argument %d '%.200s': %s (hp_ext_check catches this)",
                    prog, tid, nargv, a, why);
            goto fail;
        }
        argv[nargv] = hp_calloc(len + 1, 1, "an argument", err);
        if (!argv[nargv]) goto fail;
        if (nargv == 0) memcpy(argv[0], a, len + 1);
        else subst(a, nk, keys, vals, argv[nargv], &len, why, sizeof why);
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
    r->objective = objective_of(cmd);
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
