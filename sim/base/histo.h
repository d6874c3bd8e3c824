/*
 * histo: percentiles in bounded memory with a stated relative error.
 *
 * Values are counted in log-spaced buckets taken straight from the bits of the double:
 * the exponent picks the octave and the top HISTO_SUB_BITS bits of the mantissa pick one
 * of 2^HISTO_SUB_BITS equal slices of it. A quantile is reported as the midpoint of its
 * bucket, so for values in [HISTO_MIN, HISTO_MAX) its relative error is at most
 * 2^-(HISTO_SUB_BITS + 1) (0.39%). Zero (and anything below HISTO_MIN) has a bucket of
 * its own and is reported as 0; values at or above HISTO_MAX are clamped into the top
 * bucket. Memory is fixed (about 70 KB) whatever the number of values.
 *
 * The caller owns the struct (init/fini); the histogram owns its counts.
 */
#ifndef CAPSIM_HISTO_H
#define CAPSIM_HISTO_H

#include <stddef.h>
#include <stdint.h>

#define HISTO_SUB_BITS  7
#define HISTO_MIN_EXP   (-30) /* smallest octave: 2^-30, about 0.93 ns in seconds */
#define HISTO_MAX_EXP   40    /* values >= 2^40 (about 35,000 years) are clamped */
#define HISTO_REL_ERROR (1.0 / (double)(1 << (HISTO_SUB_BITS + 1)))

typedef struct histo {
    uint64_t *counts; /* one per bucket */
    size_t n_buckets;
    uint64_t zeros; /* values below 2^HISTO_MIN_EXP, counted as 0 */
    uint64_t total;
} histo;

/* Returns 0, or -1 if out of memory. */
int histo_init(histo *h);
void histo_fini(histo *h);
void histo_reset(histo *h);

/* Counts one value; v must be >= 0 and not NaN. */
void histo_add(histo *h, double v);

/* Counts the value v n times. */
void histo_add_n(histo *h, double v, uint64_t n);

/* Nearest-rank quantile: the smallest bucket value v such that at least ceil(q * total)
 * values are <= v, for 0 < q <= 1. NAN when the histogram is empty. */
double histo_quantile(const histo *h, double q);

#endif
