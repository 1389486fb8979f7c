/* optim.c - see optim.h. SGD, Adam, AdamW, RMSProp and AdaGrad in torch.optim's conventions;
 * the update loops, one fused pass each, are in optim_tmpl.h (float, double, and double
 * parameters over float moments). This file owns creation, validation and the flat state. */
#include "optim.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct hp_optim {
    hp_optim_spec spec;
    int64_t n;       /* parameters */
    int nmom;        /* [n] moment blocks in the state (0, 1 or 2) */
    int64_t nstate;  /* floats in state: nmom * n + 2 */
    float *state;    /* [nstate]: moments (layout in optim.h), then the step count lo, hi */
    double *state64; /* [nmom * n] double moments for hp_optim_step64, or NULL */
};

/* Every type has a name; the compiler checks the count matches the enum. */
static const char *const optim_names[] = {"sgd", "adam", "adamw", "rmsprop", "adagrad"};
_Static_assert(sizeof optim_names / sizeof optim_names[0] == HP_OPTIM_COUNT_, "a name per optimizer type");

const char *hp_optim_type_name(hp_optim_type t) {
    return (unsigned)t < HP_OPTIM_COUNT_ ? optim_names[t] : "unknown";
}

int hp_optim_type_parse(const char *s) {
    for (int i = 0; s && i < HP_OPTIM_COUNT_; i++)
        if (strcmp(s, optim_names[i]) == 0) return i;
    return -1;
}

/* PyTorch's defaults (torch.optim 1.13 constructors). */
void hp_optim_spec_defaults(hp_optim_spec *s) {
    switch (s->type) {
    case HP_OPTIM_ADAM:
    case HP_OPTIM_ADAMW:
        if (s->beta1 == 0) s->beta1 = 0.9;
        if (s->beta2 == 0) s->beta2 = 0.999;
        if (s->eps == 0) s->eps = 1e-8;
        break;
    case HP_OPTIM_RMSPROP:
        if (s->alpha == 0) s->alpha = 0.99;
        if (s->eps == 0) s->eps = 1e-8;
        break;
    case HP_OPTIM_ADAGRAD:
        if (s->eps == 0) s->eps = 1e-10;
        break;
    case HP_OPTIM_SGD:
    case HP_OPTIM_COUNT_:
        break;
    }
}

static int in_unit(double x) { return x >= 0 && x < 1; } // [0, 1); false for NaN

/* Which fields each type reads. */
static int uses_momentum(hp_optim_type t) { return t == HP_OPTIM_SGD || t == HP_OPTIM_RMSPROP; }
static int uses_betas(hp_optim_type t) { return t == HP_OPTIM_ADAM || t == HP_OPTIM_ADAMW; }
static int uses_eps(hp_optim_type t) { return t != HP_OPTIM_SGD; }

int hp_optim_spec_check(const hp_optim_spec *s, hp_err *err) {
    if ((unsigned)s->type >= HP_OPTIM_COUNT_)
        return hp_errf(err, "optimizer: unknown type %d; valid types: sgd, adam, adamw, rmsprop, adagrad",
                       (int)s->type);
    const char *name = optim_names[s->type];
    if (!(s->lr > 0) || !isfinite(s->lr))
        return hp_errf(err, "optimizer: lr %g is invalid; it must be a finite number > 0", s->lr);
    if (!(s->weight_decay >= 0) || !isfinite(s->weight_decay))
        return hp_errf(err, "optimizer: weight_decay %g is invalid; it must be a finite number >= 0",
                       s->weight_decay);
    if (uses_momentum(s->type) && !in_unit(s->momentum))
        return hp_errf(err, "optimizer: momentum %g is invalid; it must lie in [0, 1)", s->momentum);
    if (!uses_momentum(s->type) && s->momentum != 0)
        return hp_errf(err, "optimizer: momentum %g is not used by %s; it applies to sgd and rmsprop only "
                            "(set it to 0, or use beta1 for adam/adamw)", s->momentum, name);
    if (s->nesterov != 0 && s->nesterov != 1)
        return hp_errf(err, "optimizer: nesterov %d is invalid; it must be 0 or 1", s->nesterov);
    if (s->nesterov && s->type != HP_OPTIM_SGD)
        return hp_errf(err, "optimizer: nesterov 1 is not available for %s; it applies to sgd only", name);
    if (s->nesterov && s->momentum == 0)
        return hp_errf(err, "optimizer: nesterov needs momentum > 0 (as in PyTorch); set momentum or "
                            "drop nesterov");
    if (uses_betas(s->type) && !in_unit(s->beta1))
        return hp_errf(err, "optimizer: beta1 %g is invalid for %s; it must lie in [0, 1) (PyTorch's default 0.9)",
                       s->beta1, name);
    if (uses_betas(s->type) && !in_unit(s->beta2))
        return hp_errf(err, "optimizer: beta2 %g is invalid for %s; it must lie in [0, 1) (PyTorch's default "
                            "0.999)", s->beta2, name);
    if (uses_eps(s->type) && (!(s->eps > 0) || !isfinite(s->eps)))
        return hp_errf(err, "optimizer: eps %g is invalid for %s; it must be a finite number > 0 (PyTorch's "
                            "default %g; hp_optim_spec_defaults fills it)",
                       s->eps, name, s->type == HP_OPTIM_ADAGRAD ? 1e-10 : 1e-8);
    if (s->type == HP_OPTIM_RMSPROP && !in_unit(s->alpha))
        return hp_errf(err, "optimizer: alpha %g is invalid for rmsprop; it must lie in [0, 1) (PyTorch's "
                            "default 0.99)", s->alpha);
    return 0;
}

/* Number of [n] moment blocks the type keeps (layout in optim.h). */
int hp_optim_moment_count(const hp_optim_spec *s) {
    switch (s->type) {
    case HP_OPTIM_SGD: return s->momentum > 0 ? 1 : 0;
    case HP_OPTIM_ADAM:
    case HP_OPTIM_ADAMW: return 2;
    case HP_OPTIM_RMSPROP: return s->momentum > 0 ? 2 : 1;
    case HP_OPTIM_ADAGRAD: return 1;
    case HP_OPTIM_COUNT_: break;
    }
    return 0;
}

static int create(const hp_optim_spec *spec, int64_t nparams, int want64, hp_optim **out, hp_err *err) {
    *out = NULL;
    if (hp_optim_spec_check(spec, err) != 0) return -1;
    if (nparams <= 0) return hp_errf(err, "optimizer: %lld parameters; need at least 1", (long long)nparams);
    int nmom = hp_optim_moment_count(spec);
    if (nparams > (INT64_MAX / 8 - 2) / (nmom > 0 ? nmom : 1))
        return hp_errf(err, "optimizer: %lld parameters is too many for the optimizer state", (long long)nparams);
    hp_optim *o = hp_calloc(1, sizeof *o, "the optimizer", err);
    if (!o) return -1;
    o->spec = *spec;
    o->n = nparams;
    o->nmom = nmom;
    o->nstate = nmom * nparams + 2;
    o->state = hp_calloc((size_t)o->nstate, sizeof(float), "the optimizer state", err);
    if (!o->state) {
        hp_optim_free(o);
        return -1;
    }
    if (want64 && nmom > 0) {
        o->state64 = hp_calloc((size_t)(nmom * nparams), sizeof(double), "the double optimizer moments", err);
        if (!o->state64) {
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
    free(o->state64);
    free(o);
}

int64_t hp_optim_state_size(const hp_optim *o) { return o->nstate; }
float *hp_optim_state(hp_optim *o) { return o->state; }

/* The step count is two floats at the end of the state, t = lo + 2^24 * hi, so that a restored
 * row restores it and it stays exact (floats hold every whole number up to 2^24). A corrupt
 * row (negative, NaN, fractional) reads as the nearest valid count rather than as UB. */
#define STEP_RADIX 16777216.0 // 2^24

static double count_part(float x) {
    double d = floor((double)x);
    return d >= 0 ? (d < STEP_RADIX ? d : STEP_RADIX - 1) : 0; // NaN -> 0
}

int64_t hp_optim_steps(const hp_optim *o) {
    const float *c = o->state + o->nstate - 2;
    return (int64_t)count_part(c[0]) + (int64_t)count_part(c[1]) * (int64_t)STEP_RADIX;
}

void hp_optim_set_steps(hp_optim *o, int64_t t) {
    float *c = o->state + o->nstate - 2;
    c[0] = (float)(t % (int64_t)STEP_RADIX);
    c[1] = (float)(t / (int64_t)STEP_RADIX);
}

/* float parameters, float moments */
#define REAL float
#define BUF float
#define SQRT sqrtf
#define SFX f32
#include "optim_tmpl.h"
#undef REAL
#undef BUF
#undef SQRT
#undef SFX

/* double parameters, double moments (hp_optim_create64) */
#define REAL double
#define BUF double
#define SQRT sqrt
#define SFX f64
#include "optim_tmpl.h"
#undef REAL
#undef BUF
#undef SQRT
#undef SFX

/* double parameters over the float moments (an optimizer made by hp_optim_create) */
#define REAL double
#define BUF float
#define SQRT sqrt
#define SFX f64f32
#include "optim_tmpl.h"
#undef REAL
#undef BUF
#undef SQRT
#undef SFX

void hp_optim_step(hp_optim *o, float *params, const float *grads, double lr) {
    int64_t t = hp_optim_steps(o) + 1;
    dispatch_f32(&o->spec, o->n, params, grads, o->state, lr, t); // state [nmom * n] moments
    hp_optim_set_steps(o, t);
}

void hp_optim_step64(hp_optim *o, double *params, const double *grads, double lr) {
    int64_t t = hp_optim_steps(o) + 1;
    if (o->state64)
        dispatch_f64(&o->spec, o->n, params, grads, o->state64, lr, t); // state64 [nmom * n]
    else
        dispatch_f64f32(&o->spec, o->n, params, grads, o->state, lr, t); // float moments
    hp_optim_set_steps(o, t);
}

void hp_optim_update_f32(const hp_optim_spec *s, int64_t n, float *params, const float *grads, float *moments,
                         double lr, int64_t t) {
    dispatch_f32(s, n, params, grads, moments, lr, t); // moments [moment_count * n]
}
