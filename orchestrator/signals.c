/* signals.c - see signals.h */
#include "signals.h"

#include <string.h>
#include <unistd.h>

#include "cli.h"

volatile sig_atomic_t hp_stop_signal = 0;
static volatile sig_atomic_t interrupts = 0;

static void on_signal(int sig) {
    if (sig == SIGINT && ++interrupts >= 2) {
        /* Only async-signal-safe calls here: write(2) and _exit(2). */
        static const char msg[] = "\nhpsweep: second interrupt: exiting now; every recorded event is in the "
                                  "results file ('hpsweep resume FILE' continues it)\n";
        ssize_t w = write(STDERR_FILENO, msg, sizeof msg - 1);
        (void)w;
        _exit(HP_EXIT_INTERRUPTED);
    }
    if (!hp_stop_signal) hp_stop_signal = sig;
}

int hp_signals_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    if (sigemptyset(&sa.sa_mask) != 0) return -1;
    const int sigs[] = {SIGTERM, SIGINT, SIGUSR1, SIGHUP}; /* SIGHUP: the terminal closed, ssh dropped */
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        if (sigaction(sigs[i], &sa, NULL) != 0) return -1;
    /* A file size limit (ulimit -f, a quota) makes write() fail with EFBIG, which the results
     * writer reports ("File too large"), instead of killing the process mid-write. */
    if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR) return -1;
    return 0;
}

const char *hp_signal_name(int sig) {
    switch (sig) {
    case SIGTERM: return "SIGTERM";
    case SIGINT: return "SIGINT";
    case SIGUSR1: return "SIGUSR1";
    case SIGHUP: return "SIGHUP";
    default: return "a signal";
    }
}
