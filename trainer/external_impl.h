/* external_impl.h - private to the external-trainer runner (external.h): what its three files
 * share. external.c runs a program (spawn, the metrics pipe, verdicts, signals, reaping);
 * external_command.c checks a command (names, placeholders, finding the program) and
 * substitutes its placeholders; external_json.c writes params.json and parses metrics lines.
 * Uses: external.c -> external_command.c, external_json.c; nothing points back. */
#ifndef HP_EXTERNAL_IMPL_H
#define HP_EXTERNAL_IMPL_H

#include <stddef.h>

#include "external.h"

#define EXT_LINE_MAX 4096     /* a metrics line longer than this (without its newline) is a fault */
#define EXT_PATH_MAX 4096
#define EXT_KEY_MAX 128       /* a key longer than this is a fault */
#define EXT_TAIL 4096         /* bytes of stderr.log read for the last line */
#define EXT_METRICS_FD 3

/* The built-in placeholders ({trial}, {seed}, ...), in the order the runner fills their values. */
extern const char *const ext_builtin_names[];
#define EXT_NBUILTIN 9

/* ---- external_command.c ---- */
/* The command's objective ("val_acc" unless set) and its program's name for messages. */
const char *ext_objective(const hp_ext_command *cmd);
const char *ext_prog(const hp_ext_command *cmd);
/* Parameter names: valid, distinct, none a built-in's, distinct as HPSWEEP_P_ variables. */
int ext_check_names(const char *prog, int n, const char *const *names, hp_err *err);
/* Substitute {name} in tmpl: keys[i] -> vals[i]. dst NULL: only measure and validate (vals may
 * be NULL then). *len: the result's length. On a bad template fills why and returns -1. */
int ext_subst(const char *tmpl, int nk, const char *const *keys, const char *const *vals, char *dst, size_t *len,
              char *why, size_t nwhy);
/* The program's path: prog itself when it has a '/', else the first executable in PATH. */
int ext_resolve_program(const char *prog, char *out, size_t n, hp_err *err);

/* ---- external_json.c ---- */
/* workdir/params.json for trial t, written under a temporary name and renamed. */
int ext_write_params(const char *prog, const hp_ext_trial *t, const char *path, hp_err *err);
/* One metrics line, parsed strictly. */
typedef struct ext_line {
    int has_epoch, has_obj, has_test_loss, has_test_acc; /* which keys the line had */
    double epoch, obj, test_loss, test_acc;
    hp_ext_epoch e;
} ext_line;
/* Parse s[0..n) into L; the objective's key is `objective`. -1 with why filled on a bad line. */
int ext_parse_line(const char *s, size_t n, const char *objective, ext_line *L, char *why, size_t nwhy);

#endif
