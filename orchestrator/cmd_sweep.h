/* cmd_sweep.h - the driver shared by `hpsweep run` (cmd_run.c) and `hpsweep resume`
 * (cmd_resume.c): MPI start, spec, data, the results file (new, continued or overwritten),
 * the coordinator or worker loop, signals, exit codes. */
#ifndef HP_CMD_SWEEP_H
#define HP_CMD_SWEEP_H

typedef struct hp_sweep_args {
    const char *cmd;          /* "run" or "resume", for messages */
    const char *spec_path;    /* run: the spec file; resume: NULL (the spec is in the file) */
    const char *output;       /* run: -o (NULL: NAME.h5); resume: the results file */
    int force;                /* run: overwrite an existing output */
    int resume;               /* run --resume, or resume: continue an existing output */
    int quiet;
    long long threads;        /* 0: automatic */
    long long pack;           /* trials a training process trains at once; 0: automatic (lanes.h) */
    long long checkpoint_every; /* -1: default (run: 1; resume: the file's) */
} hp_sweep_args;

/* Parse the common options (--threads, --pack, --quiet, --checkpoint-every) at argv[*i]. Returns 1 if
 * it was one, 0 if not, -1 on a bad value (error printed when `loud`). */
int hp_sweep_common_opt(int argc, char **argv, int *i, int loud, hp_sweep_args *a);

/* Fill `a` from the command line; returns -1 to go on, else the exit code to stop with (help
 * printed: HP_EXIT_OK; bad arguments: HP_EXIT_USAGE). Prints only when `loud` (rank 0). */
typedef int (*hp_sweep_parse_fn)(int argc, char **argv, int loud, hp_sweep_args *a);

/* MPI_Init, parse, run the sweep on every rank, MPI_Finalize; returns the exit code (cli.h). */
int hp_sweep_main(int argc, char **argv, hp_sweep_parse_fn parse);

#endif
