/*
 * wstats: constant-memory workload statistics (see wstats.h).
 */
#include "workloads/wstats.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static int len_init(wstats_len *l)
{
    memset(l, 0, sizeof *l);
    l->exact = calloc(WSTATS_EXACT, sizeof *l->exact);
    l->min = UINT32_MAX;
    return l->exact && histo_init(&l->large) == 0 ? 0 : -1;
}

static void len_fini(wstats_len *l)
{
    free(l->exact);
    l->exact = NULL;
    histo_fini(&l->large);
}

static void len_add(wstats_len *l, uint32_t v)
{
    l->n++;
    l->sum += v;
    if (v < l->min)
        l->min = v;
    if (v > l->max)
        l->max = v;
    if (v < WSTATS_EXACT)
        l->exact[v]++;
    else
        histo_add(&l->large, (double)v);
}

int wstats_init(wstats *w, double window_s)
{
    memset(w, 0, sizeof *w);
    w->window_s = window_s > 0 ? window_s : 60.0;
    w->block_tokens = 16;
    if (len_init(&w->prompt) != 0 || len_init(&w->output) != 0) {
        wstats_fini(w);
        return -1;
    }
    return 0;
}

void wstats_fini(wstats *w)
{
    len_fini(&w->prompt);
    len_fini(&w->output);
    free(w->stream_id);
    free(w->stream_len);
    w->stream_id = NULL;
    w->stream_len = NULL;
}

void wstats_set_block(wstats *w, uint32_t block_tokens)
{
    w->block_tokens = block_tokens ? block_tokens : 1;
}

static size_t slot_of(const uint64_t *ids, size_t cap, uint64_t id)
{
    size_t i = (size_t)((id * UINT64_C(0x9E3779B97F4A7C15)) >> 20) & (cap - 1);
    while (ids[i] != 0 && ids[i] != id)
        i = (i + 1) & (cap - 1);
    return i;
}

/* Doubles the stream table (kept at most half full). Returns 0 or -1. */
static int streams_grow(wstats *w)
{
    size_t cap = w->stream_cap ? 2 * w->stream_cap : 1024;
    uint64_t *ids = calloc(cap, sizeof *ids);
    uint32_t *lens = calloc(cap, sizeof *lens);
    if (ids == NULL || lens == NULL) {
        free(ids);
        free(lens);
        return -1;
    }
    for (size_t i = 0; i < w->stream_cap; i++) {
        if (w->stream_id[i] == 0)
            continue;
        size_t j = slot_of(ids, cap, w->stream_id[i]);
        ids[j] = w->stream_id[i];
        lens[j] = w->stream_len[i];
    }
    free(w->stream_id);
    free(w->stream_len);
    w->stream_id = ids;
    w->stream_len = lens;
    w->stream_cap = cap;
    return 0;
}

/* The perfect cache's blocks for r, then r's stream is known up to its shared tokens. */
static void cache_add(wstats *w, const request *r)
{
    if (r->prefix_id == 0 || w->cache_oom)
        return;
    w->shared_requests++;
    if (2 * (w->streams + 1) > w->stream_cap && streams_grow(w) != 0) {
        w->cache_oom = 1;
        return;
    }
    size_t i = slot_of(w->stream_id, w->stream_cap, r->prefix_id);
    uint32_t known = w->stream_id[i] ? w->stream_len[i] : 0;
    if (w->stream_id[i] == 0) {
        w->stream_id[i] = r->prefix_id;
        w->streams++;
    }
    uint64_t b = w->block_tokens;
    uint64_t hit = r->shared_tokens < known ? r->shared_tokens : known;
    uint64_t blocks = hit / b, most = r->prompt_tokens ? (r->prompt_tokens - 1) / b : 0;
    w->cached_tokens += (blocks < most ? blocks : most) * b;
    if (r->shared_tokens > known)
        w->stream_len[i] = r->shared_tokens;
}

double wstats_cached_share(const wstats *w)
{
    return w->prompt.sum ? (double)w->cached_tokens / (double)w->prompt.sum : 0.0;
}

void wstats_add(wstats *w, const request *r)
{
    cache_add(w, r);
    double t = r->arrival_s;
    if (w->n == 0) {
        w->first_s = t;
        w->bin_start_s = t;
    } else {
        double gap = t - w->last_s;
        w->gaps++;
        double d = gap - w->gap_mean;
        w->gap_mean += d / (double)w->gaps;
        w->gap_m2 += d * (gap - w->gap_mean);
    }
    /* Fixed windows from the first arrival; close any that have ended. */
    if (t >= w->bin_start_s + w->window_s) {
        if (w->bin_count > w->peak_count)
            w->peak_count = w->bin_count;
        w->bin_start_s += floor((t - w->bin_start_s) / w->window_s) * w->window_s;
        w->bin_count = 0;
    }
    w->bin_count++;
    w->last_s = t;
    w->n++;
    len_add(&w->prompt, r->prompt_tokens);
    len_add(&w->output, r->output_tokens);
}

/* The k-th smallest value (0-based). */
static double order_stat(const wstats_len *l, uint64_t k)
{
    uint64_t cum = 0;
    for (uint32_t v = 0; v < WSTATS_EXACT; v++) {
        cum += l->exact[v];
        if (cum > k)
            return v;
    }
    /* Beyond the exact range: the histogram's quantile at the matching rank. */
    uint64_t above = l->large.total;
    double q = above ? (double)(k + 1 - cum) / (double)above : 1.0;
    return histo_quantile(&l->large, q > 1 ? 1 : q);
}

double wstats_len_quantile(const wstats_len *l, double q)
{
    if (l->n == 0)
        return NAN;
    double pos = q * (double)(l->n - 1);
    uint64_t lo = (uint64_t)floor(pos);
    double frac = pos - (double)lo;
    double a = order_stat(l, lo);
    if (frac == 0 || lo + 1 >= l->n)
        return a;
    return a + frac * (order_stat(l, lo + 1) - a);
}

double wstats_mean_rate(const wstats *w)
{
    double span = w->last_s - w->first_s;
    return w->n > 1 && span > 0 ? (double)(w->n - 1) / span : NAN;
}

double wstats_peak_rate(const wstats *w)
{
    uint64_t peak = w->bin_count > w->peak_count ? w->bin_count : w->peak_count;
    /* A workload shorter than one window: its windows are as long as the workload. */
    double span = w->last_s - w->first_s;
    double width = span < w->window_s ? span : w->window_s;
    return width > 0 ? (double)peak / width : NAN;
}

double wstats_gap_cv(const wstats *w)
{
    if (w->gaps < 2 || !(w->gap_mean > 0))
        return NAN;
    return sqrt(w->gap_m2 / (double)(w->gaps - 1)) / w->gap_mean;
}
