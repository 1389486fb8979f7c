/* cli.h - the command line: subcommands, exit codes, option parsing helpers.
 *
 * Each subcommand lives in its own cmd_*.c file with the signature of hp_cmd_fn; main.c only
 * dispatches. Errors are printed once, here at the top, as "hpsweep CMD: message".
 */
#ifndef HP_CLI_H
#define HP_CLI_H

#include <stdint.h>

#include "hp_err.h"

/* Exit codes (documented in README.md and docs/exit-codes.md). */
enum {
    HP_EXIT_OK = 0,          /* success */
    HP_EXIT_FAILURE = 1,     /* a run-time failure: unreadable data, I/O error, out of memory */
    HP_EXIT_USAGE = 2,       /* bad command line or bad spec: nothing was written */
    HP_EXIT_EXISTS = 3,      /* the output file exists: use --force or resume */
    HP_EXIT_INTERRUPTED = 4  /* stopped by a signal; the results file is consistent: resume it */
};

typedef int (*hp_cmd_fn)(int argc, char **argv);

int hp_cmd_train(int argc, char **argv);
int hp_cmd_run(int argc, char **argv);
int hp_cmd_show(int argc, char **argv);
int hp_cmd_report(int argc, char **argv);
int hp_cmd_export(int argc, char **argv);
int hp_cmd_serve(int argc, char **argv);
int hp_cmd_plot(int argc, char **argv);
int hp_cmd_check(int argc, char **argv);
int hp_cmd_resume(int argc, char **argv);

/* Print "hpsweep CMD: MESSAGE" to stderr. */
void hp_cli_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Is argv[i] the option `name` (long form "--x", optional short form "-x")? If it takes a
 * value, *val points to it ("--x=V" or the next argument, consuming it). Returns 1 if it
 * matched, 0 if not, -1 if the value is missing (an error was printed). */
int hp_cli_opt(int argc, char **argv, int *i, const char *cmd, const char *long_name,
               const char *short_name, int takes_value, const char **val);

/* A command's one positional argument, its results file: a word starting with '-' is an
 * unknown option, a second file is one too many (each a message on stderr and -1); else *path
 * becomes arg and 0 is returned. */
int hp_cli_one_file(const char *cmd, const char *arg, const char **path);

/* Parse numbers given on the command line, with an error naming the option on failure. */
int hp_cli_double(const char *cmd, const char *opt, const char *s, double *out);
int hp_cli_int(const char *cmd, const char *opt, const char *s, long long lo, long long hi, long long *out);
int hp_cli_u64(const char *cmd, const char *opt, const char *s, uint64_t *out);

#endif
