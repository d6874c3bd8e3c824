/*
 * histo: log-bucketed histogram for percentiles (see histo.h).
 */
#include "sim/base/histo.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define N_OCTAVES ((size_t)(HISTO_MAX_EXP - HISTO_MIN_EXP))
#define N_SUB     ((size_t)1 << HISTO_SUB_BITS)

int histo_init(histo *h)
{
    h->n_buckets = N_OCTAVES * N_SUB;
    h->counts = calloc(h->n_buckets, sizeof *h->counts);
    h->zeros = h->total = 0;
    return h->counts ? 0 : -1;
}

void histo_fini(histo *h)
{
    free(h->counts);
    h->counts = NULL;
}

void histo_reset(histo *h)
{
    memset(h->counts, 0, h->n_buckets * sizeof *h->counts);
    h->zeros = h->total = 0;
}

void histo_add(histo *h, double v)
{
    histo_add_n(h, v, 1);
}

void histo_add_n(histo *h, double v, uint64_t n)
{
    assert(v >= 0.0);
    h->total += n;
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    /* Biased IEEE-754 exponent; values below 2^HISTO_MIN_EXP (and subnormals) count as
     * zero. */
    int64_t e = (int64_t)((bits >> 52) & 0x7ff) - 1023;
    if (e < HISTO_MIN_EXP) {
        h->zeros += n;
        return;
    }
    size_t idx;
    if (e >= HISTO_MAX_EXP) {
        idx = h->n_buckets - 1;
    } else {
        size_t sub = (size_t)((bits >> (52 - HISTO_SUB_BITS)) & (N_SUB - 1));
        idx = (size_t)(e - HISTO_MIN_EXP) * N_SUB + sub;
    }
    h->counts[idx] += n;
}

/* Midpoint of bucket idx: octave 2^e, slice [1 + s/N, 1 + (s+1)/N). */
static double bucket_mid(size_t idx)
{
    int e = (int)(idx / N_SUB) + HISTO_MIN_EXP;
    double s = (double)(idx % N_SUB);
    return ldexp(1.0 + (s + 0.5) / (double)N_SUB, e);
}

double histo_quantile(const histo *h, double q)
{
    if (h->total == 0 || !(q > 0.0 && q <= 1.0))
        return NAN;
    /* The small slack keeps q * total from rounding up past an exact integer rank
     * (0.99 * 100 is 99.00000000000001 in binary floating point). */
    uint64_t rank = (uint64_t)ceil(q * (double)h->total - 1e-9);
    if (rank < 1)
        rank = 1;
    uint64_t cum = h->zeros;
    if (cum >= rank)
        return 0.0;
    for (size_t i = 0; i < h->n_buckets; i++) {
        cum += h->counts[i];
        if (cum >= rank)
            return bucket_mid(i);
    }
    return bucket_mid(h->n_buckets - 1);
}
