/* lanes.c - see lanes.h. One mutex and two condition variables guard every lane's state:
 *   IDLE --hp_lanes_start--> RUNNING --the trial ends--> DONE --hp_lanes_reap--> IDLE
 * A lane thread sleeps while its lane is not RUNNING; hp_lanes_reap sleeps until one is DONE. */
#include "lanes.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cpu_threads.h"

enum { LANE_IDLE = 0, LANE_RUNNING, LANE_DONE };

typedef struct lane {
    struct hp_lanes *owner;
    pthread_t thread;
    int started;              /* the thread exists (to join) */
    int state;
    hp_gpu_device *gpu;      /* borrowed; NULL: the CPU */
    hp_trial_plan plan;
    hp_trial_start start;
    hp_train_ckpt resume;     /* a copy of the job's checkpoint */
    float *resume_vec;        /* [resume_cap] a copy of its vector */
    int64_t resume_cap;
    int rc, cancelled;        /* the outcome, while DONE */
    hp_err err;
} lane;

struct hp_lanes {
    int n, threads, quit;
    const hp_spec *spec;
    const hp_splits *data;
    const hp_trial_hooks *hooks;
    const volatile sig_atomic_t *cancel;
    pthread_mutex_t mu;
    pthread_cond_t work; /* a lane became RUNNING, or quit */
    pthread_cond_t done; /* a lane became DONE */
    int sync_made;       /* mu, work and done exist */
    lane lanes[HP_MAX_PACK];
};

static void *lane_main(void *arg) {
    lane *ln = arg;
    hp_lanes *l = ln->owner;
    if (!ln->gpu) hp_cpu_set_thread_threads(l->threads);
    pthread_mutex_lock(&l->mu);
    for (;;) {
        while (ln->state != LANE_RUNNING && !l->quit) pthread_cond_wait(&l->work, &l->mu);
        if (ln->state != LANE_RUNNING) break; /* quit, with nothing to run */
        pthread_mutex_unlock(&l->mu);
        /* The trial runs without the lock: the hooks serialise what they share (lanes.h). */
        hp_err err = {{0}};
        int cancelled = 0;
        int rc = ln->gpu ? hp_gpu_use(ln->gpu, &err) : 0; /* the current device is per thread */
        if (rc == 0) rc = hp_trial_execute(l->spec, l->data, &ln->plan, &ln->start, l->hooks, &cancelled, &err);
        pthread_mutex_lock(&l->mu);
        ln->rc = rc;
        ln->cancelled = cancelled;
        ln->err = err;
        ln->state = LANE_DONE;
        pthread_cond_broadcast(&l->done);
    }
    pthread_mutex_unlock(&l->mu);
    return NULL;
}

int hp_lanes_create(int n, hp_gpu_device *const *gpus, int threads, const hp_spec *spec, const hp_splits *data,
                    const hp_trial_hooks *hooks, const volatile sig_atomic_t *cancel, hp_lanes **out, hp_err *err) {
    *out = NULL;
    if (n < 1 || n > HP_MAX_PACK) return hp_errf(err, "--pack %d: use 1 to %d trials at once per process", n, HP_MAX_PACK);
    hp_lanes *l = hp_calloc(1, sizeof *l, "the lanes", err);
    if (!l) return -1;
    l->n = n;
    l->threads = threads < 1 ? 1 : threads;
    l->spec = spec;
    l->data = data;
    l->hooks = hooks;
    l->cancel = cancel;
    int rc = pthread_mutex_init(&l->mu, NULL);
    if (rc == 0 && (rc = pthread_cond_init(&l->work, NULL)) != 0) pthread_mutex_destroy(&l->mu);
    if (rc == 0 && (rc = pthread_cond_init(&l->done, NULL)) != 0) {
        pthread_cond_destroy(&l->work);
        pthread_mutex_destroy(&l->mu);
    }
    if (rc != 0) {
        free(l);
        return hp_errf(err, "cannot create the lanes' mutex: %s", strerror(rc));
    }
    l->sync_made = 1;
    for (int i = 0; i < n; i++) {
        lane *ln = &l->lanes[i];
        ln->owner = l;
        ln->gpu = gpus ? gpus[i] : NULL;
        if ((rc = pthread_create(&ln->thread, NULL, lane_main, ln)) != 0) {
            hp_lanes_free(l);
            return hp_errf(err, "cannot start lane %d of %d: pthread_create: %s; use a smaller --pack", i + 1, n,
                           strerror(rc));
        }
        ln->started = 1;
    }
    *out = l;
    return 0;
}

void hp_lanes_free(hp_lanes *l) {
    if (!l) return;
    if (l->sync_made) {
        pthread_mutex_lock(&l->mu);
        l->quit = 1;
        pthread_cond_broadcast(&l->work);
        pthread_mutex_unlock(&l->mu);
    }
    for (int i = 0; i < l->n; i++) {
        if (l->lanes[i].started) (void)pthread_join(l->lanes[i].thread, NULL); /* teardown: nothing to do */
        free(l->lanes[i].resume_vec);
    }
    if (l->sync_made) {
        pthread_cond_destroy(&l->done);
        pthread_cond_destroy(&l->work);
        pthread_mutex_destroy(&l->mu);
    }
    free(l);
}

int hp_lanes_count(const hp_lanes *l) { return l->n; }

int hp_lanes_busy(hp_lanes *l) {
    pthread_mutex_lock(&l->mu);
    int busy = 0;
    for (int i = 0; i < l->n; i++) busy += l->lanes[i].state != LANE_IDLE;
    pthread_mutex_unlock(&l->mu);
    return busy;
}

int hp_lanes_start(hp_lanes *l, const hp_trial_plan *plan, const hp_trial_start *start, hp_err *err) {
    pthread_mutex_lock(&l->mu);
    lane *ln = NULL;
    for (int i = 0; i < l->n && !ln; i++)
        if (l->lanes[i].state == LANE_IDLE) ln = &l->lanes[i];
    pthread_mutex_unlock(&l->mu);
    if (!ln) return hp_errf(err, "trial %lld: all %d lanes are busy", (long long)plan->id, l->n);
    /* The lane is IDLE, so its thread does not read it: fill it without the lock. */
    ln->plan = *plan;
    ln->start = *start;
    ln->start.gpu = ln->gpu;
    ln->start.cancel = l->cancel;
    if (start->resume) {
        ln->resume = *start->resume;
        ln->start.resume = &ln->resume;
    }
    if (start->resume_vec && start->resume_n > 0) {
        if (start->resume_n > ln->resume_cap) {
            free(ln->resume_vec);
            ln->resume_cap = 0;
            if (!(ln->resume_vec = hp_calloc((size_t)start->resume_n, sizeof(float), "a checkpoint's copy", err)))
                return -1;
            ln->resume_cap = start->resume_n;
        }
        memcpy(ln->resume_vec, start->resume_vec, (size_t)start->resume_n * sizeof(float));
        ln->start.resume_vec = ln->resume_vec;
    }
    pthread_mutex_lock(&l->mu);
    ln->state = LANE_RUNNING;
    pthread_cond_broadcast(&l->work);
    pthread_mutex_unlock(&l->mu);
    return 0;
}

int hp_lanes_reap(hp_lanes *l, double seconds, int64_t *trial, int *rc, int *cancelled, hp_err *err) {
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    if (seconds > 0) {
        long long ns = (long long)until.tv_nsec + (long long)(seconds * 1e9);
        until.tv_sec += (time_t)(ns / 1000000000LL);
        until.tv_nsec = (long)(ns % 1000000000LL);
    }
    pthread_mutex_lock(&l->mu);
    for (;;) {
        for (int i = 0; i < l->n; i++) {
            lane *ln = &l->lanes[i];
            if (ln->state != LANE_DONE) continue;
            *trial = ln->plan.id;
            *rc = ln->rc;
            *cancelled = ln->cancelled;
            if (ln->rc != 0) *err = ln->err;
            ln->state = LANE_IDLE;
            pthread_mutex_unlock(&l->mu);
            return 1;
        }
        if (seconds <= 0 || pthread_cond_timedwait(&l->done, &l->mu, &until) == ETIMEDOUT) break;
    }
    pthread_mutex_unlock(&l->mu);
    return 0;
}
