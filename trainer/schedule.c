/* schedule.c - see schedule.h. Learning rate as a closed-form function of the epoch, plus
 * ReduceLROnPlateau's small state machine. PyTorch equivalents (stepped once per epoch) are
 * named beside each formula; tests/test_schedule.c checks the sequences against them. */
#include "schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hp_sched {
    hp_sched_spec spec;
    double base; /* base learning rate */
    int epochs;  /* total epochs, warm-up included */
    /* plateau state (ReduceLROnPlateau): */
    double best; /* lowest validation loss seen (+inf before the first) */
    int bad;     /* epochs since the last improvement */
    double cur;  /* learning rate in force after warm-up */
};

static const char *const sched_names[] = {"constant", "step",     "multistep", "cosine",
                                          "linear",   "inv_sqrt", "plateau"};
_Static_assert(sizeof sched_names / sizeof sched_names[0] == HP_SCHED_COUNT_, "a name per schedule type");

const char *hp_sched_type_name(hp_sched_type t) {
    return (unsigned)t < HP_SCHED_COUNT_ ? sched_names[t] : "unknown";
}

int hp_sched_type_parse(const char *s) {
    for (int i = 0; s && i < HP_SCHED_COUNT_; i++)
        if (strcmp(s, sched_names[i]) == 0) return i;
    return -1;
}

/* ReduceLROnPlateau skips a reduction smaller than this (its `eps` argument, default 1e-8). */
#define PLATEAU_MIN_CHANGE 1e-8
/* Python's math.pi (M_PI is not ISO C). */
static const double PI = 3.141592653589793;

static int check_gamma(const hp_sched_spec *s, int closed_one, hp_err *err) {
    const char *name = sched_names[s->type];
    if (!(s->gamma > 0 && (closed_one ? s->gamma <= 1 : s->gamma < 1)))
        return hp_errf(err, "schedule: gamma %g is invalid for %s; it must lie in (0, 1%s (PyTorch's default 0.1)",
                       s->gamma, name, closed_one ? "]" : ")");
    return 0;
}

static int check_min_lr(const hp_sched_spec *s, hp_err *err) {
    if (!(s->min_lr >= 0) || !isfinite(s->min_lr))
        return hp_errf(err, "schedule: min_lr %g is invalid for %s; it must be a finite number >= 0", s->min_lr,
                       sched_names[s->type]);
    return 0;
}

int hp_sched_spec_check(const hp_sched_spec *s, hp_err *err) {
    if ((unsigned)s->type >= HP_SCHED_COUNT_)
        return hp_errf(err, "schedule: unknown type %d; valid types: constant, step, multistep, cosine, linear, "
                            "inv_sqrt, plateau",
                       (int)s->type);
    if (s->warmup_epochs < 0)
        return hp_errf(err, "schedule: warmup_epochs %d is invalid; it must be >= 0", s->warmup_epochs);
    switch (s->type) {
    case HP_SCHED_STEP:
        if (s->step_size < 1)
            return hp_errf(err, "schedule: step_size %d is invalid for step; it must be >= 1", s->step_size);
        return check_gamma(s, 1, err);
    case HP_SCHED_MULTISTEP:
        if (s->nmilestones < 1 || s->nmilestones > HP_MAX_MILESTONES)
            return hp_errf(err, "schedule: %d milestones is invalid for multistep; give 1 to %d", s->nmilestones,
                           HP_MAX_MILESTONES);
        for (int i = 0; i < s->nmilestones; i++) {
            if (s->milestones[i] < 1)
                return hp_errf(err, "schedule: milestone %d is invalid; milestones are epochs after warm-up, >= 1",
                               s->milestones[i]);
            if (i > 0 && s->milestones[i] <= s->milestones[i - 1])
                return hp_errf(err, "schedule: milestone %d follows %d; milestones must be strictly increasing",
                               s->milestones[i], s->milestones[i - 1]);
        }
        return check_gamma(s, 1, err);
    case HP_SCHED_COSINE:
    case HP_SCHED_LINEAR: return check_min_lr(s, err);
    case HP_SCHED_PLATEAU:
        if (s->patience < 0)
            return hp_errf(err, "schedule: patience %d is invalid for plateau; it must be >= 0 (PyTorch's default 10)",
                           s->patience);
        if (!(s->threshold >= 0 && s->threshold < 1))
            return hp_errf(err, "schedule: threshold %g is invalid for plateau; it must lie in [0, 1) (relative; "
                                "PyTorch's default 1e-4)",
                           s->threshold);
        if (check_gamma(s, 0, err) != 0) return -1;
        return check_min_lr(s, err);
    case HP_SCHED_CONSTANT:
    case HP_SCHED_INV_SQRT:
    case HP_SCHED_COUNT_: break;
    }
    return 0;
}

int hp_sched_create(const hp_sched_spec *spec, double base_lr, int epochs, hp_sched **out, hp_err *err) {
    *out = NULL;
    if (hp_sched_spec_check(spec, err) != 0) return -1;
    if (!(base_lr > 0) || !isfinite(base_lr))
        return hp_errf(err, "schedule: base lr %g is invalid; it must be a finite number > 0", base_lr);
    if (epochs < 1) return hp_errf(err, "schedule: %d epochs is invalid; it must be >= 1", epochs);
    if (spec->warmup_epochs >= epochs)
        return hp_errf(err, "schedule: warmup_epochs %d leaves no epoch of the %s schedule in %d epochs; use fewer "
                            "than %d",
                       spec->warmup_epochs, sched_names[spec->type], epochs, epochs);
    hp_sched *s = hp_calloc(1, sizeof *s, "the learning-rate schedule", err);
    if (!s) return -1;
    s->spec = *spec;
    s->base = base_lr;
    s->epochs = epochs;
    s->best = INFINITY;
    s->bad = 0;
    s->cur = base_lr;
    *out = s;
    return 0;
}

void hp_sched_free(hp_sched *s) { free(s); }

double hp_sched_lr(const hp_sched *s, int epoch) {
    const hp_sched_spec *sp = &s->spec;
    const int w = sp->warmup_epochs;
    const double base = s->base;
    int e = epoch < 0 ? 0 : epoch;
    /* Warm-up, LinearLR(start_factor = 1/(w+1), end_factor = 1, total_iters = w):
     *   lr(e) = base * (e + 1) / (w + 1)   for e < w */
    if (e < w) return base * (double)(e + 1) / (double)(w + 1);
    /* The schedule proper runs on k = e - w over T = epochs - w epochs (SequentialLR with
     * milestone w restarts the second scheduler at 0). */
    const int k = e - w, T = s->epochs - w;
    switch (sp->type) {
    case HP_SCHED_CONSTANT: return base; // lr = base
    case HP_SCHED_STEP:
        // StepLR: lr = base * gamma^floor(k / step_size)
        return base * pow(sp->gamma, (double)(k / sp->step_size));
    case HP_SCHED_MULTISTEP: {
        // MultiStepLR: lr = base * gamma^(number of milestones <= k)
        int passed = 0;
        while (passed < sp->nmilestones && sp->milestones[passed] <= k) passed++;
        return base * pow(sp->gamma, (double)passed);
    }
    case HP_SCHED_COSINE: {
        // CosineAnnealingLR(T_max = T, eta_min = min_lr):
        //   lr = min_lr + (base - min_lr) * (1 + cos(pi * k / T)) / 2, held at min_lr for k >= T
        if (k >= T) return sp->min_lr;
        return sp->min_lr + (base - sp->min_lr) * (1.0 + cos(PI * (double)k / (double)T)) / 2.0;
    }
    case HP_SCHED_LINEAR: {
        // LinearLR(start_factor = 1, end_factor = min_lr / base, total_iters = T):
        //   lr = base * (1 - k / T) + min_lr * k / T, held at min_lr for k >= T
        if (k >= T) return sp->min_lr;
        double f = (double)k / (double)T;
        return base * (1.0 - f) + sp->min_lr * f;
    }
    case HP_SCHED_INV_SQRT:
        // LambdaLR(lambda k: 1 / sqrt(max(1, k))): lr = base / sqrt(max(1, k))
        return base / sqrt((double)(k > 1 ? k : 1));
    case HP_SCHED_PLATEAU: return s->cur; // set by hp_sched_observe
    case HP_SCHED_COUNT_: break;
    }
    return base;
}

/* ReduceLROnPlateau(mode 'min', threshold_mode 'rel', cooldown 0, eps 1e-8), one step per
 * epoch after warm-up:
 *   improved  = loss < best * (1 - threshold)        (NaN never improves)
 *   improved: best = loss, bad = 0;  else bad += 1
 *   bad > patience: new = max(lr * gamma, min_lr); lr = new if lr - new > 1e-8; bad = 0 */
void hp_sched_observe(hp_sched *s, int epoch, double val_loss) {
    const hp_sched_spec *sp = &s->spec;
    if (sp->type != HP_SCHED_PLATEAU || epoch < sp->warmup_epochs) return;
    if (val_loss < s->best * (1.0 - sp->threshold)) {
        s->best = val_loss;
        s->bad = 0;
    } else {
        s->bad++;
    }
    if (s->bad > sp->patience) {
        double next = fmax(s->cur * sp->gamma, sp->min_lr);
        if (s->cur - next > PLATEAU_MIN_CHANGE) s->cur = next;
        s->bad = 0;
    }
}

void hp_sched_get_state(const hp_sched *s, double state[3]) {
    state[0] = s->best;
    state[1] = (double)s->bad;
    state[2] = s->cur;
}

/* A corrupt row (NaN or negative counts, a non-positive lr) is read as the nearest valid
 * state rather than trusted: bad epochs clamp to [0, patience], a bad lr to the base lr. */
void hp_sched_set_state(hp_sched *s, const double state[3]) {
    s->best = isnan(state[0]) ? INFINITY : state[0];
    double bad = state[1];
    int cap = s->spec.patience > 0 ? s->spec.patience : 0;
    s->bad = bad >= 0 && bad <= cap ? (int)bad : (bad > cap ? cap : 0);
    s->cur = state[2] > 0 && isfinite(state[2]) ? state[2] : s->base;
}
