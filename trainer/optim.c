/* optim.c - see optim.h. SGD in torch.optim.SGD's convention, fused into one pass. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hp_optim {
    hp_optim_spec spec;
    int64_t n;      /* parameters */
    int64_t steps;  /* updates taken */
    int64_t nstate; /* floats in state */
    float *state;   /* [nstate]: momentum buffer [n] (if momentum > 0), then the step count */
    double *buf64;  /* [n] double momentum buffer for hp_optim_step64, or NULL */
};

static const char *const optim_names[HP_OPTIM_COUNT_] = {"sgd"};

const char *hp_optim_type_name(hp_optim_type t) {
    return (unsigned)t < HP_OPTIM_COUNT_ ? optim_names[t] : "unknown";
}

int hp_optim_type_parse(const char *s) {
    for (int i = 0; s && i < HP_OPTIM_COUNT_; i++)
        if (strcmp(s, optim_names[i]) == 0) return i;
    return -1;
}

int hp_optim_spec_check(const hp_optim_spec *s, hp_err *err) {
    if ((unsigned)s->type >= HP_OPTIM_COUNT_)
        return hp_errf(err, "optimizer: unknown type %d; valid types: sgd", (int)s->type);
    if (!(s->lr > 0) || !isfinite(s->lr))
        return hp_errf(err, "optimizer: lr %g is invalid; it must be a finite number > 0", s->lr);
    if (!(s->momentum >= 0 && s->momentum < 1))
        return hp_errf(err, "optimizer: momentum %g is invalid; it must lie in [0, 1)", s->momentum);
    if (!(s->weight_decay >= 0) || !isfinite(s->weight_decay))
        return hp_errf(err, "optimizer: weight_decay %g is invalid; it must be a finite number >= 0",
                       s->weight_decay);
    if (s->nesterov != 0 && s->nesterov != 1)
        return hp_errf(err, "optimizer: nesterov %d is invalid; it must be 0 or 1", s->nesterov);
    if (s->nesterov && s->momentum == 0)
        return hp_errf(err, "optimizer: nesterov needs momentum > 0 (as in PyTorch); set momentum or "
                            "drop nesterov");
    return 0;
}

static int create(const hp_optim_spec *spec, int64_t nparams, int want64, hp_optim **out, hp_err *err) {
    *out = NULL;
    if (hp_optim_spec_check(spec, err) != 0) return -1;
    if (nparams <= 0) return hp_errf(err, "optimizer: %lld parameters; need at least 1", (long long)nparams);
    hp_optim *o = hp_calloc(1, sizeof *o, "the optimizer", err);
    if (!o) return -1;
    o->spec = *spec;
    o->n = nparams;
    o->nstate = (spec->momentum > 0 ? nparams : 0) + 1;
    o->state = hp_calloc((size_t)o->nstate, sizeof(float), "the optimizer state", err);
    if (!o->state) {
        hp_optim_free(o);
        return -1;
    }
    if (want64 && spec->momentum > 0) {
        o->buf64 = hp_calloc((size_t)nparams, sizeof(double), "the double momentum buffer", err);
        if (!o->buf64) {
            hp_optim_free(o);
            return -1;
        }
    }
    *out = o;
    return 0;
}

int hp_optim_create(const hp_optim_spec *spec, int64_t nparams, hp_optim **out, hp_err *err) {
    return create(spec, nparams, 0, out, err);
}

int hp_optim_create64(const hp_optim_spec *spec, int64_t nparams, hp_optim **out, hp_err *err) {
    return create(spec, nparams, 1, out, err);
}

void hp_optim_free(hp_optim *o) {
    if (!o) return;
    free(o->state);
    free(o->buf64);
    free(o);
}

int64_t hp_optim_state_size(const hp_optim *o) { return o->nstate; }
float *hp_optim_state(hp_optim *o) { return o->state; }
int64_t hp_optim_steps(const hp_optim *o) { return o->steps; }

/* The step count lives in the state's last float so that a restored row restores it too. */
static int first_step(hp_optim *o) { return o->state[o->nstate - 1] == 0.0f; }
static void count_step(hp_optim *o) {
    o->steps++;
    float *c = &o->state[o->nstate - 1];
    if (*c < 16777216.0f) *c += 1.0f; // exact up to 2^24, then saturates
}

/* SGD (torch.optim.SGD, dampening 0):
 *   g = grad + wd * p;  buf = first ? g : m * buf + g;  p -= lr * (nesterov ? g + m * buf : buf)
 * in one pass over the flat vectors, in the precision of the parameters (like PyTorch, which
 * casts lr, wd and m to the tensor's type). */
#define SGD_BODY(REAL, buf)                                                                 \
    const REAL lr_ = (REAL)lr, wd = (REAL)o->spec.weight_decay, m = (REAL)o->spec.momentum; \
    const int64_t n = o->n;                                                                 \
    if (o->spec.momentum == 0) {                                                            \
        for (int64_t i = 0; i < n; i++) params[i] -= lr_ * (grads[i] + wd * params[i]);     \
    } else if (first_step(o)) {                                                             \
        for (int64_t i = 0; i < n; i++) {                                                   \
            REAL g = grads[i] + wd * params[i];                                             \
            buf[i] = g;                                                                     \
            params[i] -= lr_ * (o->spec.nesterov ? g + m * g : g);                          \
        }                                                                                   \
    } else if (o->spec.nesterov) {                                                          \
        for (int64_t i = 0; i < n; i++) {                                                   \
            REAL g = grads[i] + wd * params[i];                                             \
            REAL b = m * buf[i] + g;                                                        \
            buf[i] = b;                                                                     \
            params[i] -= lr_ * (g + m * b);                                                 \
        }                                                                                   \
    } else {                                                                                \
        for (int64_t i = 0; i < n; i++) {                                                   \
            REAL g = grads[i] + wd * params[i];                                             \
            REAL b = m * buf[i] + g;                                                        \
            buf[i] = b;                                                                     \
            params[i] -= lr_ * b;                                                           \
        }                                                                                   \
    }                                                                                       \
    count_step(o);

void hp_optim_step(hp_optim *o, float *params, const float *grads, double lr) {
    float *buf = o->state; // buf [n] momentum (unused when momentum is 0)
    SGD_BODY(float, buf)
}

void hp_optim_step64(hp_optim *o, double *params, const double *grads, double lr) {
    if (o->buf64) {
        double *buf = o->buf64; // buf [n]
        SGD_BODY(double, buf)
    } else {
        float *buf = o->state; // buf [n], float momentum
        SGD_BODY(double, buf)
    }
}
