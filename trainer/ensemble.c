/* ensemble.c - see ensemble.h */
#include "ensemble.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model.h"

/* probs[b, :] += softmax(logits[b, :]) for B rows of C classes, in double. */
static void add_softmax(const float *logits, int B, int C, double *probs) {
    for (int b = 0; b < B; b++) {
        const float *z = logits + (int64_t)b * C;
        double mx = z[0], sum = 0;
        for (int k = 1; k < C; k++)
            if (z[k] > mx) mx = z[k];
        for (int k = 0; k < C; k++) sum += exp((double)z[k] - mx);
        for (int k = 0; k < C; k++) probs[(int64_t)b * C + k] += exp((double)z[k] - mx) / sum;
    }
}

/* One member's probabilities added into probs [n, C]. */
static void add_member(hp_model *m, const hp_dataset *d, int batch, double *probs) {
    int64_t dim = hp_dataset_dim(d);
    for (int64_t s = 0; s < d->n; s += batch) {
        int B = d->n - s < batch ? (int)(d->n - s) : batch;
        double loss_sum = 0;
        int64_t hits = 0;
        hp_model_eval(m, d->x + s * dim, d->y + s, B, &loss_sum, &hits);
        add_softmax(hp_model_logits(m), B, d->nclasses, probs + s * d->nclasses);
    }
}

int hp_ensemble_evaluate(const hp_model_spec *spec, const hp_dataset *d, int batch, const float *const *states,
                         int nstates, int64_t state_size, double *loss, double *acc, hp_err *err) {
    if (nstates < 1 || !states) return hp_errf(err, "ensemble: %d members; it needs at least one", nstates);
    if (batch < 1) return hp_errf(err, "ensemble: batch %d is invalid; it must be >= 1", batch);
    if (!d || d->n < 1 || !d->x || !d->y || d->nclasses < 2)
        return hp_errf(err, "ensemble: the data set is empty; it needs at least one example of 2 or more classes");
    hp_model *m = NULL;
    if (hp_model_create(spec, d->c, d->h, d->w, d->nclasses, batch, &m, err) != 0) return -1;
    if (hp_model_state_size(m) != state_size) {
        int64_t want = hp_model_state_size(m);
        hp_model_free(m);
        return hp_errf(err, "ensemble: a state of %lld floats does not fit the model (%lld)", (long long)state_size,
                       (long long)want);
    }
    const int C = d->nclasses;
    double *probs = hp_calloc((size_t)d->n, (size_t)C * sizeof(double), "the ensemble's probabilities", err);
    if (!probs) {
        hp_model_free(m);
        return -1;
    }
    for (int64_t i = 0; i < d->n; i++)
        if (d->y[i] < 0 || d->y[i] >= C) {
            free(probs);
            hp_model_free(m);
            return hp_errf(err, "ensemble: example %lld has label %d, outside [0, %d)", (long long)i, (int)d->y[i], C);
        }
    for (int k = 0; k < nstates; k++) {
        memcpy(hp_model_state(m), states[k], (size_t)state_size * sizeof(float));
        add_member(m, d, batch, probs);
    }
    double nll = 0;
    int64_t hits = 0;
    for (int64_t i = 0; i < d->n; i++) {
        const double *p = probs + i * C;
        int best = 0;
        for (int k = 1; k < C; k++)
            if (p[k] > p[best]) best = k;
        hits += best == d->y[i];
        double pt = p[d->y[i]] / nstates;
        nll -= log(pt > DBL_MIN ? pt : DBL_MIN);
    }
    *loss = nll / (double)d->n;
    *acc = (double)hits / (double)d->n;
    free(probs);
    hp_model_free(m);
    return 0;
}
