/*
 * wstats: summary statistics of a request stream in constant memory, for
 * `capsim workload describe`: request count, duration, mean and peak rate, inter-arrival
 * coefficient of variation, and exact percentiles of prompt and output lengths.
 *
 * Lengths below WSTATS_EXACT tokens are counted exactly (one counter per value), so their
 * percentiles are exact order statistics, interpolated linearly between neighbours as
 * numpy's default does; longer ones fall into a log-bucketed histogram (relative error
 * HISTO_REL_ERROR). The caller owns the struct (init/fini).
 */
#ifndef CAPSIM_WSTATS_H
#define CAPSIM_WSTATS_H

#include <stdint.h>

#include "sim/base/histo.h"
#include "workloads/reqsrc.h"

#define WSTATS_EXACT 262144u

typedef struct wstats_len {
    uint32_t *exact; /* counts of values 0 .. WSTATS_EXACT-1 */
    histo large;     /* values >= WSTATS_EXACT */
    uint64_t n, sum;
    uint32_t min, max;
} wstats_len;

typedef struct wstats {
    uint64_t n;
    double first_s, last_s;
    double gap_mean, gap_m2; /* Welford over inter-arrival gaps */
    uint64_t gaps;
    double window_s, bin_start_s;
    uint64_t bin_count, peak_count;
    wstats_len prompt, output;
} wstats;

/* window_s: width of the windows over which the peak rate is taken. Returns 0 or -1. */
int wstats_init(wstats *w, double window_s);
void wstats_fini(wstats *w);
void wstats_add(wstats *w, const request *r);

/* q-quantile (0..1) of a length: linear interpolation between order statistics. */
double wstats_len_quantile(const wstats_len *l, double q);

double wstats_mean_rate(const wstats *w); /* (n - 1) / (last - first), per second */
double wstats_peak_rate(const wstats *w); /* most arrivals in one window / window */
double wstats_gap_cv(const wstats *w);    /* inter-arrival coefficient of variation */

#endif
