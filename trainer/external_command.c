/* external_command.c - a trainer command checked and its placeholders substituted (external.h's
 * hp_ext_check, hp_ext_env_name, hp_ext_maximize; external_impl.h). */
#include "external_impl.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

const char *const ext_builtin_names[EXT_NBUILTIN] = {"trial",      "seed",     "epochs",      "resume_epoch", "workdir",
                                                   "checkpoint", "snapshot", "params_json", "mode"};

const char *ext_objective(const hp_ext_command *cmd) {
    return cmd->objective && cmd->objective[0] ? cmd->objective : "val_acc";
}

int hp_ext_maximize(const hp_ext_command *cmd) {
    return cmd->maximize == 0 ? 1 : cmd->maximize > 0;
}

const char *ext_prog(const hp_ext_command *cmd) {
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
int ext_check_names(const char *prog, int n, const char *const *names, hp_err *err) {
    char a[256], b[256];
    for (int i = 0; i < n; i++) {
        const char *nm = names[i];
        if (!nm || !nm[0])
            return hp_errf(err, "trainer program '%s': parameter %d has no name: name every parameter", prog, i);
        if (strpbrk(nm, "{}"))
            return hp_errf(err, "trainer program '%s': parameter name '%s' contains a brace: rename it", prog, nm);
        for (int k = 0; k < EXT_NBUILTIN; k++)
            if (strcmp(nm, ext_builtin_names[k]) == 0)
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
int ext_subst(const char *tmpl, int nk, const char *const *keys, const char *const *vals, char *dst,
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
int ext_resolve_program(const char *prog, char *out, size_t n, hp_err *err) {
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
    if (ext_resolve_program(prog, path, sizeof path, err) != 0) return -1;
    if (!(cmd->epoch_timeout_s >= 0) || isinf(cmd->epoch_timeout_s))
        return hp_errf(err, "trainer program '%s': epoch_timeout %g is not a number of seconds >= 0 (0: none)", prog,
                       cmd->epoch_timeout_s);
    if (!(cmd->grace_s >= 0) || isinf(cmd->grace_s))
        return hp_errf(err, "trainer program '%s': grace %g is not a number of seconds >= 0 (0: the default, 10)",
                       prog, cmd->grace_s);
    const char *obj = ext_objective(cmd);
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
    if (ext_check_names(prog, nnames, names, err) != 0) return -1;
    int nk = nnames + EXT_NBUILTIN;
    const char **keys = hp_calloc((size_t)nk, sizeof *keys, "placeholder names", err);
    if (!keys) return -1;
    for (int i = 0; i < EXT_NBUILTIN; i++) keys[i] = ext_builtin_names[i];
    for (int i = 0; i < nnames; i++) keys[EXT_NBUILTIN + i] = names[i];
    int rc = 0;
    for (int a = 1; a < cmd->argc && rc == 0; a++) {
        char why[160];
        size_t len;
        if (!cmd->argv[a]) {
            rc = hp_errf(err, "trainer program '%s': argument %d is missing (NULL)", prog, a);
        } else if (ext_subst(cmd->argv[a], nk, keys, NULL, NULL, &len, why, sizeof why) != 0) {
            rc = hp_errf(err,
                         "trainer program '%s': argument %d '%.200s': %s (placeholders: a parameter's name or "
                         "trial, seed, epochs, resume_epoch, workdir, checkpoint, snapshot, params_json, mode)",
                         prog, a, cmd->argv[a], why);
        }
    }
    free(keys);
    return rc;
}

