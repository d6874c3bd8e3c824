/*
 * metrics: the collector of one serving simulation. The event loop, the schedulers and
 * decode stretches report what happens through the hooks below (a request arrives, a
 * token appears, blocks are held, a request finishes); every time average, peak, latency
 * distribution and the time series are computed here and nowhere else.
 *
 * The measurement window runs from the first measured arrival (after the warm-up) to the
 * last completion, so it holds every measured request whole: throughput is meaningful for
 * a batch that arrives at once, and Little's law holds over it. t_end stays infinite
 * while running (time averages after the last completion add nothing: the system is
 * empty). A snapshot of the accumulators is taken at the last arrival, for the steady
 * state window that ends there.
 *
 * A decode stretch is applied when it ends, after events that happened inside it may have
 * been handled (the snapshot at the last arrival, in particular): its hooks carry the
 * times at which things happened so that they land where step-by-step simulation would
 * have put them.
 *
 * The caller owns the struct (init/fini); it holds its histograms.
 */
#ifndef CAPSIM_SERVE_METRICS_H
#define CAPSIM_SERVE_METRICS_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/histo.h"
#include "sim/serve/serve.h"

struct serve_slot;

/* What is accumulated over the measurement window. */
typedef struct serve_window_acc {
    double area_in_system, area_busy, area_running, area_kv; /* time integrals */
    uint64_t done, out_tokens, in_tokens;                    /* completions and tokens */
} serve_window_acc;

typedef struct serve_metrics {
    const serve_config *cfg;
    uint64_t warm; /* requests of index below this are warm-up, not measured */
    int rep_index;
    /* The state the time averages integrate; the simulation keeps them current. */
    uint64_t in_system, busy_replicas, running_seqs, kv_used;
    double t_start, t_end, last_t, t_last_done, t_last_arrival;
    int snap_taken;
    /* At the arrival halfway through the measured ones: the window's completions and the
     * admitted measured arrivals so far (the saturation's second half, result.h). */
    uint64_t mid_done, mid_admitted, last_admitted; /* and before the last arrival */
    int mid_taken;
    double t_first_arrival, t_mid; /* of request 0 (warm-up or not), of the one halfway */
    int window_mode;       /* -1 undecided, 0 to the last completion, 1 to the last arrival */
    serve_window_acc acc;  /* since the first measured arrival */
    serve_window_acc snap; /* the same, at the last arrival */
    double max_batch, max_kv;
    /* per measured request */
    histo h_ttft, h_tpot, h_itl, h_e2e, h_queue;
    double sum_ttft, sum_tpot, sum_itl, sum_e2e, sum_queue;
    double sq_ttft, sq_tpot, sq_itl, sq_e2e; /* sums of squares, for standard deviations */
    uint64_t n_done, n_tpot, n_itl, n_slo_met, n_rejected, n_preempt, n_measured_arrived;
    uint64_t cls_done[REQSRC_MAX_CLASSES], cls_met[REQSRC_MAX_CLASSES];
    /* time series (replication 0): completions and tokens since the last sample, and the
     * prompt tokens and cache hits (both tiers) of first admissions since then */
    uint64_t ts_done, ts_tokens, ts_pc_prompt, ts_pc_hit;
} serve_metrics;

/* Returns 0, or -1 if out of memory. */
int serve_metrics_init(serve_metrics *m, const serve_config *cfg);
void serve_metrics_fini(serve_metrics *m);

/* Starts a replication whose first `warm` requests are warm-up. The kind of window chosen
 * on the first replication is kept, so every replication measures the same kind. */
void serve_metrics_reset(serve_metrics *m, uint64_t warm, int rep_index);

static inline int serve_metrics_in_window(const serve_metrics *m, double t_s)
{
    return t_s >= m->t_start && t_s <= m->t_end;
}

/* Integrates the state counters up to now_s; called before every event is handled. */
static inline void serve_metrics_advance(serve_metrics *m, double now_s)
{
    double lo = m->last_t > m->t_start ? m->last_t : m->t_start;
    double hi = now_s < m->t_end ? now_s : m->t_end;
    if (hi > lo) {
        double dt = hi - lo;
        m->acc.area_in_system += (double)m->in_system * dt;
        m->acc.area_busy += (double)m->busy_replicas * dt;
        m->acc.area_running += (double)m->running_seqs * dt;
        m->acc.area_kv += (double)m->kv_used * dt;
    }
    m->last_t = now_s;
}

/* Request number idx arrives at now_s (measured or not, refused or not). */
void serve_metrics_arrival(serve_metrics *m, uint64_t idx, uint64_t n_total, double now_s);

/* A measured-or-not request is refused: it can never run. */
static inline void serve_metrics_refused(serve_metrics *m, uint64_t idx)
{
    m->n_rejected += (uint64_t)(idx >= m->warm);
}

/* A step starts at now_s with batch sequences, leaving the replica's KV cache kv_fraction
 * full: the peaks. */
static inline void serve_metrics_step_start(serve_metrics *m, double now_s, double batch,
                                            double kv_fraction)
{
    if (serve_metrics_in_window(m, now_s) && batch > m->max_batch)
        m->max_batch = batch;
    if (serve_metrics_in_window(m, now_s) && kv_fraction > m->max_kv)
        m->max_kv = kv_fraction;
}

/* The KV cache of one replica was kv_fraction full from t_s on (a step of a stretch
 * that starts at t_s), recorded when the stretch is applied. */
static inline void serve_metrics_kv_peak_at(serve_metrics *m, double t_s, double kv_fraction)
{
    if (serve_metrics_in_window(m, t_s) && kv_fraction > m->max_kv)
        m->max_kv = kv_fraction;
}

/* One block was held from from_s to to_s but entered the state counters only at to_s
 * (a stretch takes its blocks when it is applied): adds its block-time. */
void serve_metrics_kv_held_late(serve_metrics *m, double from_s, double to_s);

/* n measured gaps of gap_s between consecutive tokens of a request. */
static inline void serve_metrics_itl(serve_metrics *m, double gap_s, uint64_t n)
{
    if (n > 0) {
        histo_add_n(&m->h_itl, gap_s, n);
        m->sq_itl += (double)n * gap_s * gap_s;
    }
}

/* The first token of a request with `prompt` tokens appears at now_s: its prompt counts
 * once for throughput, whatever was recomputed. */
static inline void serve_metrics_first_token(serve_metrics *m, double now_s, uint32_t prompt)
{
    if (serve_metrics_in_window(m, now_s))
        m->acc.in_tokens += prompt;
}

/* n output tokens appeared at t_s. late: they are recorded after the event at t_s, when
 * the snapshot at the last arrival may already have been taken without them. */
static inline void serve_metrics_tokens(serve_metrics *m, double t_s, uint64_t n, int late)
{
    m->ts_tokens += n;
    if (!serve_metrics_in_window(m, t_s))
        return;
    m->acc.out_tokens += n;
    if (late && m->snap_taken && t_s <= m->t_last_arrival)
        m->snap.out_tokens += n;
}

/* Request q finished at now_s: its latencies, SLO check and per-request row. */
void serve_metrics_done(serve_metrics *m, const struct serve_slot *q, double now_s);

/* Writes a time-series row at now_s: waiting requests, the state counters, KV use over
 * kv_blocks_total, and completions and tokens per second since the last row. */
void serve_metrics_sample(serve_metrics *m, FILE *fp, double now_s, uint64_t waiting,
                          uint64_t kv_blocks_total);

/* The replication's figures into out[SM_COUNT]. */
void serve_metrics_fill(serve_metrics *m, double *out);

/* The rate at which the replication offered its measured requests, req/s: the admitted
 * (not refused) ones less one over the span of their arrivals, which is unbiased for a
 * stream that starts at an arrival. NAN where saturation is not judged (result.h): a
 * closed loop, whose users wait for their answers, and a batch, whose requests arrive
 * within SERVE_BATCH_SPAN_SHARE of the time to the last completion. */
double serve_metrics_offered_rate(const serve_metrics *m);

/* The share of its offered requests the replication carried, over the second half of its
 * measured arrivals: the completions (of any request) from the arrival halfway through the
 * measured ones to the last arrival, over the requests admitted from the halfway one up to
 * the last. A stable system that has filled to its steady number of requests by the
 * halfway arrival carries about 1; a saturated one, whose queue or running batch grows
 * through the run, its service rate over its arrival rate (under continuous batching an
 * overload first grows the batch, not the queue: completions against arrivals is the
 * measure, not waits). NAN where offered_rate is, or with fewer than
 * SERVE_SATURATED_MIN_HALF requests in the half.
 *
 * Two sizes come with it, for the verdict (result.h):
 * - *allowance: what a stable system would lack because it is still filling. A system that
 *   starts empty at the first arrival, and serves at rate lambda requests whose service
 *   times S (arrival to last token, less the wait to be scheduled) have the tail of an
 *   exponential of the measured mean s, completes over a half from tau to tau + H after
 *   that arrival lambda H less lambda times the integral of P(S > u) over the half: a
 *   share short by (s / H) (exp(-tau / s) - exp(-(tau + H) / s)). The allowance is
 *   SERVE_SATURATED_FILL_MARGIN times that; NAN (the run cannot be judged) when it is
 *   above SERVE_SATURATED_MAX_ALLOWANCE, a run short against its requests' service.
 * - *noise: the change in the number in the system over the half that a stable system
 *   shows, for a number that varies as a Poisson count about its time average L:
 *   sqrt(2 L) over the half's requests (L at least 1), so that a run with few requests is
 *   not read as saturated. */
double serve_metrics_carried_share(const serve_metrics *m, double *allowance, double *noise);

/* A workload whose arrivals span less than this share of the time to its last completion
 * arrives a hundred times faster than it is served: a burst (a batch sent at once, as
 * workloads/document-batch.ini) rather than a stream, which drains and is not saturated in
 * the sense of result.h. */
#define SERVE_BATCH_SPAN_SHARE 0.01

/* The saturation's fill allowance (serve_metrics_carried_share): the margin over an
 * exponential tail (lognormal service times of cv 0.9, the chat workload's, fall below it
 * past twice their mean; 1.5 covers the cv 1.3 of a trace's), the largest allowance a
 * verdict is drawn with, and the fewest requests in the half. */
#define SERVE_SATURATED_FILL_MARGIN 1.5
#define SERVE_SATURATED_MAX_ALLOWANCE 0.5
#define SERVE_SATURATED_MIN_HALF 10

#endif
