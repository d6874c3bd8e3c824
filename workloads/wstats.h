/*
 * wstats: summary statistics of a request stream in constant memory, for
 * `capsim workload describe`: request count, duration, mean and peak rate, inter-arrival
 * coefficient of variation, and exact percentiles of prompt and output lengths.
 *
 * Lengths below WSTATS_EXACT tokens are counted exactly (one counter per value), so their
 * percentiles are exact order statistics, interpolated linearly between neighbours as
 * numpy's default does; longer ones fall into a log-bucketed histogram (relative error
 * HISTO_REL_ERROR). The caller owns the struct (init/fini).
 *
 * Shared prefixes (request.prefix_id, issue 13): the share of prompt tokens a perfect cache
 * would serve, an unbounded cache of full blocks of block_tokens tokens that keeps every
 * block any earlier request had. A request of stream p sharing s tokens finds the first L_p
 * tokens of p cached, L_p the longest shared_tokens of an earlier request of p, and is
 * served min(floor(min(s, L_p) / B), floor((prompt - 1) / B)) blocks of B tokens (the last
 * prompt token is always computed, as vLLM does). This needs one entry per distinct
 * prefix_id, so its memory grows with the streams (none when nothing is shared).
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
    /* the perfect cache: */
    uint32_t block_tokens; /* B, 16 unless set */
    uint64_t *stream_id;   /* open-addressing table of prefix_id -> L_p (0: empty) */
    uint32_t *stream_len;
    size_t stream_cap, streams;
    uint64_t shared_requests; /* requests with a prefix_id */
    uint64_t cached_tokens;   /* prompt tokens the perfect cache serves */
    int cache_oom;            /* the table could not grow: the figure is unknown */
} wstats;

/* window_s: width of the windows over which the peak rate is taken. Returns 0 or -1. */
int wstats_init(wstats *w, double window_s);
void wstats_fini(wstats *w);
void wstats_add(wstats *w, const request *r);

/* The block size of the perfect cache (before the first wstats_add). */
void wstats_set_block(wstats *w, uint32_t block_tokens);

/* Prompt tokens a perfect cache serves / prompt tokens (0 with no requests). */
double wstats_cached_share(const wstats *w);

/* q-quantile (0..1) of a length: linear interpolation between order statistics. */
double wstats_len_quantile(const wstats_len *l, double q);

double wstats_mean_rate(const wstats *w); /* (n - 1) / (last - first), per second */
double wstats_peak_rate(const wstats *w); /* most arrivals in one window / window */
double wstats_gap_cv(const wstats *w);    /* inter-arrival coefficient of variation */

#endif
