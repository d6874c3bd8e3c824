/*
 * kernels_eval: leave-out and pruning accuracy of the kernel tables (see kernels_eval.h).
 */
#include "models/kernels_eval.h"

#include <math.h>
#include <stdlib.h>

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* The q-quantile of sorted x[0..n) by the nearest-rank rule. */
static double quantile(const double *x, size_t n, double q)
{
    size_t i = (size_t)ceil(q * (double)n);
    return x[i > 0 ? i - 1 : 0];
}

int kernels_eval_predict(const ktable *model, const ktable *probe, const unsigned char *pick,
                         kernels_eval *out)
{
    size_t n = ktable_nrows(probe);
    double *err = malloc((n ? n : 1) * sizeof *err);
    if (err == NULL)
        return -1;
    *out = (kernels_eval){0, 0, 0, 0, NAN, NAN, NAN};
    for (size_t i = 0; i < n; i++) {
        if (pick != NULL && !pick[i])
            continue;
        const char *keys[KTABLE_MAX_KEYS];
        double axes[KTABLE_MAX_AXES], measured;
        ktable_result r;
        ktable_row(probe, i, keys, axes, &measured);
        out->rows++;
        ktable_status st = ktable_lookup(model, keys, axes, &r);
        if (st != KTABLE_OK) {
            out->extrapolated += st == KTABLE_EXTRAPOLATED;
            out->no_key += st == KTABLE_NO_KEY;
            continue;
        }
        err[out->inside++] = 100.0 * fabs(r.latency_ms - measured) / measured;
    }
    if (out->inside > 0) {
        qsort(err, out->inside, sizeof *err, cmp_double);
        out->median_pct = quantile(err, out->inside, 0.5);
        out->p90_pct = quantile(err, out->inside, 0.9);
        out->max_pct = err[out->inside - 1];
    }
    free(err);
    return 0;
}

/* splitmix64: a small self-contained generator, so that the held-out rows depend on the seed
 * alone and not on any other module's stream. */
static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

int kernels_eval_leave_out(const ktable *t, double frac, uint64_t seed, kernels_eval *out)
{
    size_t n = ktable_nrows(t);
    unsigned char *drop = calloc(n ? n : 1, 1);
    if (drop == NULL)
        return -1;
    uint64_t s = seed;
    for (size_t i = 0; i < n; i++)
        drop[i] = (double)(splitmix64(&s) >> 11) * 0x1.0p-53 < frac;
    ktable *rest = ktable_subset(t, drop);
    int rc = -1;
    if (rest != NULL)
        rc = kernels_eval_predict(rest, t, drop, out);
    ktable_free(rest);
    free(drop);
    return rc;
}
