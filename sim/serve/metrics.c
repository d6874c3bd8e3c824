/*
 * metrics: the collector of a serving simulation (see metrics.h).
 */
#include "sim/serve/metrics.h"

#include <math.h>
#include <string.h>

#include "sim/serve/state.h"

int serve_metrics_init(serve_metrics *m, const serve_config *cfg)
{
    memset(m, 0, sizeof *m);
    m->cfg = cfg;
    m->window_mode = -1;
    if (histo_init(&m->h_ttft) != 0 || histo_init(&m->h_tpot) != 0 || histo_init(&m->h_itl) != 0 ||
        histo_init(&m->h_e2e) != 0 || histo_init(&m->h_queue) != 0)
        return -1;
    return 0;
}

void serve_metrics_fini(serve_metrics *m)
{
    histo_fini(&m->h_ttft);
    histo_fini(&m->h_tpot);
    histo_fini(&m->h_itl);
    histo_fini(&m->h_e2e);
    histo_fini(&m->h_queue);
}

void serve_metrics_reset(serve_metrics *m, uint64_t warm, int rep_index)
{
    m->warm = warm;
    m->rep_index = rep_index;
    m->t_start = m->t_end = INFINITY;
    m->t_last_done = 0;
    m->last_t = 0;
    m->in_system = m->busy_replicas = m->running_seqs = m->kv_used = 0;
    memset(&m->acc, 0, sizeof m->acc);
    memset(&m->snap, 0, sizeof m->snap);
    m->t_last_arrival = 0;
    m->snap_taken = 0;
    m->mid_done = m->mid_admitted = m->last_admitted = 0;
    m->mid_taken = 0;
    m->t_first_arrival = m->t_mid = 0;
    m->max_batch = m->max_kv = 0;
    histo_reset(&m->h_ttft);
    histo_reset(&m->h_tpot);
    histo_reset(&m->h_itl);
    histo_reset(&m->h_e2e);
    histo_reset(&m->h_queue);
    m->sum_ttft = m->sum_tpot = m->sum_itl = m->sum_e2e = m->sum_queue = 0;
    m->sq_ttft = m->sq_tpot = m->sq_itl = m->sq_e2e = 0;
    m->n_done = m->n_tpot = m->n_itl = m->n_slo_met = m->n_rejected = m->n_preempt = 0;
    m->n_measured_arrived = 0;
    memset(m->cls_done, 0, sizeof m->cls_done);
    memset(m->cls_met, 0, sizeof m->cls_met);
    m->ts_done = m->ts_tokens = m->ts_pc_prompt = m->ts_pc_hit = 0;
}

void serve_metrics_arrival(serve_metrics *m, uint64_t idx, uint64_t n_total, double now_s)
{
    if (idx == m->warm)
        m->t_start = now_s;
    if (idx == 0)
        m->t_first_arrival = now_s;
    if (idx == m->warm + (n_total - m->warm) / 2 && idx < n_total) {
        m->t_mid = now_s;
        m->mid_done = m->acc.done;
        m->mid_admitted = m->n_measured_arrived - m->n_rejected;
        m->mid_taken = 1;
    }
    if (idx + 1 == n_total) {
        m->last_admitted = m->n_measured_arrived - m->n_rejected;
        m->t_last_arrival = now_s;
        m->snap = m->acc; /* serve_metrics_advance() has brought acc up to now */
        m->snap_taken = 1;
    }
    m->n_measured_arrived += (uint64_t)(idx >= m->warm);
}

void serve_metrics_kv_held_late(serve_metrics *m, double from_s, double to_s)
{
    double a = from_s > m->t_start ? from_s : m->t_start;
    double b = to_s < m->t_end ? to_s : m->t_end;
    if (b > a)
        m->acc.area_kv += b - a;
    /* The part before the last arrival belongs in its snapshot too. */
    double snap_end = m->snap_taken && m->t_last_arrival < m->t_end ? m->t_last_arrival : b;
    if (m->snap_taken && snap_end > a)
        m->snap.area_kv += snap_end - a;
}

static void write_request_row(const serve_metrics *m, const serve_slot *q, double ttft, double tpot,
                              double e2e, double queue, int met)
{
    FILE *fp = m->cfg->requests_out;
    fprintf(fp, "%d,%llu,%u,%.9g,%u,%u,%u,%.9g,%.9g,", m->rep_index, (unsigned long long)q->index,
            q->cls, q->arrival_s, q->prompt, q->output, q->replica, 1e3 * queue, 1e3 * ttft);
    if (isfinite(tpot))
        fprintf(fp, "%.9g", 1e3 * tpot);
    fprintf(fp, ",%.9g,%u,%d\n", 1e3 * e2e, q->preemptions, met);
}

/* Whether a request met every per-request limit: --goodput's when given, else its class's
 * SLO (or the run's). */
static int slo_met(const serve_config *c, uint32_t cls, double ttft, double tpot, double e2e)
{
    const double *lim = c->slo.limit_s;
    const reqsrc_mix *mix = c->wl.mix;
    if (c->goodput_s[SLO_TTFT] > 0 || c->goodput_s[SLO_TPOT] > 0 || c->goodput_s[SLO_E2EL] > 0)
        lim = c->goodput_s;
    else if (mix && c->class_slo && cls < mix->n)
        lim = c->class_slo[cls].limit_s;
    return (lim[SLO_TTFT] <= 0 || ttft <= lim[SLO_TTFT]) &&
           (lim[SLO_E2EL] <= 0 || e2e <= lim[SLO_E2EL]) &&
           (lim[SLO_TPOT] <= 0 || !isfinite(tpot) || tpot <= lim[SLO_TPOT]);
}

/* The latencies of a measured request. */
static void record_done(serve_metrics *m, const serve_slot *q)
{
    double ttft = q->first_s - q->arrival_s;
    double e2e = q->last_s - q->arrival_s;
    double queue = q->sched_s - q->arrival_s;
    double tpot = q->output > 1 ? (e2e - ttft) / (q->output - 1) : NAN;
    m->n_done++;
    m->sum_ttft += ttft;
    m->sum_e2e += e2e;
    m->sum_queue += queue;
    m->sq_ttft += ttft * ttft;
    m->sq_e2e += e2e * e2e;
    histo_add(&m->h_ttft, ttft);
    histo_add(&m->h_e2e, e2e);
    histo_add(&m->h_queue, queue);
    if (isfinite(tpot)) {
        m->n_tpot++;
        m->sum_tpot += tpot;
        m->sq_tpot += tpot * tpot;
        histo_add(&m->h_tpot, tpot);
        /* The gaps between a request's tokens add up to last - first token. */
        m->n_itl += q->output - 1;
        m->sum_itl += q->last_s - q->first_s;
    }
    int met = slo_met(m->cfg, q->cls, ttft, tpot, e2e);
    m->n_slo_met += (uint64_t)met;
    if (q->cls < REQSRC_MAX_CLASSES) {
        m->cls_done[q->cls]++;
        m->cls_met[q->cls] += (uint64_t)met;
    }
    m->n_preempt += q->preemptions;
    if (m->cfg->requests_out)
        write_request_row(m, q, ttft, tpot, e2e, queue, met);
}

void serve_metrics_done(serve_metrics *m, const serve_slot *q, double now_s)
{
    if (serve_metrics_in_window(m, now_s))
        m->acc.done++;
    m->ts_done++;
    m->t_last_done = now_s;
    if (q->index >= m->warm)
        record_done(m, q);
}

void serve_metrics_sample(serve_metrics *m, FILE *fp, double now_s, uint64_t waiting,
                          uint64_t kv_blocks_total)
{
    double kv = (double)m->kv_used / (double)kv_blocks_total;
    double iv = m->cfg->sample_interval_s;
    fprintf(fp, "%.9g,%llu,%llu,%llu,%.6g,%.9g,%.9g", now_s, (unsigned long long)waiting,
            (unsigned long long)m->running_seqs, (unsigned long long)m->busy_replicas, kv,
            (double)m->ts_done / iv, (double)m->ts_tokens / iv);
    if (serve_prefix_active(m->cfg)) {
        /* the interval's first admissions; empty when none came */
        if (m->ts_pc_prompt)
            fprintf(fp, ",%.6g", (double)m->ts_pc_hit / (double)m->ts_pc_prompt);
        else
            fputs(",", fp);
    }
    fputc('\n', fp);
    m->ts_done = m->ts_tokens = m->ts_pc_prompt = m->ts_pc_hit = 0;
}

/* The standard deviation (of the population, as numpy.std and vLLM's benchmark compute it)
 * of n values with sum s and sum of squares sq, in ms. */
static double std_ms(double s, double sq, uint64_t n)
{
    if (n == 0)
        return NAN;
    double mean = s / (double)n, var = sq / (double)n - mean * mean;
    return 1e3 * sqrt(var > 0 ? var : 0);
}

/* The mean and p50, p90, p95, p99, p99.9 of a latency, in ms, into out[first..first+5]
 * (the metric list keeps them in that order). */
static void fill_latency(double *out, serve_metric first, double sum_s, uint64_t n, const histo *h)
{
    static const double q[5] = {0.50, 0.90, 0.95, 0.99, 0.999};
    out[first] = n ? 1e3 * sum_s / (double)n : NAN;
    for (unsigned i = 0; i < 5; i++)
        out[(unsigned)first + 1 + i] = 1e3 * histo_quantile(h, q[i]);
}

/* The measurement window runs to the last arrival when the arrivals span at least this
 * share of the time to the last completion, else to the last completion. The rule tells
 * an open workload, whose requests keep coming while the system serves (the arrivals then
 * span nearly all of the run: a share near 1), from a batch that arrives early and drains
 * for a long time (a share near 0). Any value well inside (0, 1) separates the two; one
 * half is the midpoint: a run that spends longer draining than taking requests is
 * measured as a batch, to its last completion, as vLLM's benchmark measures. */
#define SERVE_WINDOW_MIN_ARRIVAL_SHARE 0.5

void serve_metrics_fill(serve_metrics *m, double *out)
{
    const serve_config *c = m->cfg;
    /* Steady state: from the first measured arrival to the last arrival, as the queueing
     * mode does. When the arrivals take less than half the time to the last completion
     * (a batch sent at once, a short trace), the window runs to the last completion
     * instead, so that throughput is the batch's (vLLM's benchmark measures to the last
     * completion too). */
    double to_arrival = m->t_last_arrival - m->t_start;
    double to_done = m->t_last_done - m->t_start;
    /* Decided on the first replication and kept, so every replication measures the same
     * kind of window. */
    if (m->window_mode < 0)
        m->window_mode = to_arrival >= SERVE_WINDOW_MIN_ARRIVAL_SHARE * to_done;
    int steady = m->window_mode;
    const serve_window_acc *a = steady ? &m->snap : &m->acc;
    double window = steady ? to_arrival : to_done;
    double w = window > 0 ? window : NAN;
    out[SM_request_throughput] = (double)a->done / w;
    out[SM_output_throughput] = (double)a->out_tokens / w;
    out[SM_total_token_throughput] = (double)(a->out_tokens + a->in_tokens) / w;
    fill_latency(out, SM_mean_ttft_ms, m->sum_ttft, m->n_done, &m->h_ttft);
    fill_latency(out, SM_mean_tpot_ms, m->sum_tpot, m->n_tpot, &m->h_tpot);
    fill_latency(out, SM_mean_itl_ms, m->sum_itl, m->n_itl, &m->h_itl);
    fill_latency(out, SM_mean_e2el_ms, m->sum_e2e, m->n_done, &m->h_e2e);
    fill_latency(out, SM_mean_queue_ms, m->sum_queue, m->n_done, &m->h_queue);
    out[SM_std_ttft_ms] = std_ms(m->sum_ttft, m->sq_ttft, m->n_done);
    out[SM_std_tpot_ms] = std_ms(m->sum_tpot, m->sq_tpot, m->n_tpot);
    out[SM_std_itl_ms] = std_ms(m->sum_itl, m->sq_itl, m->n_itl);
    out[SM_std_e2el_ms] = std_ms(m->sum_e2e, m->sq_e2e, m->n_done);
    /* Goodput: completions per second that met every SLO. Attainment: the share of
     * requests that met every SLO, counting refused requests as misses. */
    double met_of_done = m->n_done ? (double)m->n_slo_met / (double)m->n_done : NAN;
    uint64_t asked = m->n_done + m->n_rejected;
    out[SM_goodput] = out[SM_request_throughput] * met_of_done;
    out[SM_slo_attainment_pct] = asked ? 100.0 * (double)m->n_slo_met / (double)asked : NAN;
    out[SM_gpu_utilization] = a->area_busy / (w * c->replicas);
    out[SM_mean_running_batch] = a->area_busy > 0 ? a->area_running / a->area_busy : 0.0;
    out[SM_max_running_batch] = m->max_batch;
    out[SM_mean_kv_occupancy] = a->area_kv / (w * (double)c->kv_blocks * c->replicas);
    out[SM_max_kv_occupancy] = m->max_kv;
    out[SM_preemptions_per_request] = m->n_done ? (double)m->n_preempt / (double)m->n_done : NAN;
    out[SM_rejected_fraction] =
        m->n_measured_arrived ? (double)m->n_rejected / (double)m->n_measured_arrived : NAN;
    double cost_per_s = c->price_usd_per_gpu_hour * c->gpus_per_replica * c->replicas / 3600.0;
    /* Each is the whole cost over that kind of token, as a price per token is quoted. */
    out[SM_cost_per_million_output_tokens] = cost_per_s / out[SM_output_throughput] * 1e6;
    out[SM_cost_per_million_input_tokens] = cost_per_s / ((double)a->in_tokens / w) * 1e6;
    out[SM_cost_per_million_total_tokens] = cost_per_s / out[SM_total_token_throughput] * 1e6;
    out[SM_mean_in_system] = a->area_in_system / w;
    out[SM_lambda_w] = m->n_done ? (double)(m->n_measured_arrived - m->n_rejected) / w *
                                       (m->sum_e2e / (double)m->n_done)
                                 : NAN;
}

double serve_metrics_carried_share(const serve_metrics *m, double *allowance, double *noise)
{
    *allowance = *noise = NAN;
    if (!m->mid_taken || !m->snap_taken || m->n_done == 0 ||
        m->last_admitted < m->mid_admitted + SERVE_SATURATED_MIN_HALF ||
        isnan(serve_metrics_offered_rate(m)))
        return NAN;
    double half = (double)(m->last_admitted - m->mid_admitted);
    double s = (m->sum_e2e - m->sum_queue) / (double)m->n_done;
    double tau = m->t_mid - m->t_first_arrival, h = m->t_last_arrival - m->t_mid;
    double fill = s > 0 && h > 0 ? s / h * (exp(-tau / s) - exp(-(tau + h) / s)) : 0;
    if (SERVE_SATURATED_FILL_MARGIN * fill > SERVE_SATURATED_MAX_ALLOWANCE)
        return NAN;
    *allowance = SERVE_SATURATED_FILL_MARGIN * fill;
    double span = m->t_last_arrival - m->t_start;
    double in_system = span > 0 ? m->snap.area_in_system / span : 0;
    *noise = sqrt(2 * (in_system > 1 ? in_system : 1)) / half;
    return (double)(m->snap.done - m->mid_done) / half;
}

double serve_metrics_offered_rate(const serve_metrics *m)
{
    double span_s = m->t_last_arrival - m->t_start;
    double run_s = m->t_last_done - m->t_start;
    uint64_t admitted = m->n_measured_arrived - m->n_rejected;
    if (m->cfg->wl.users > 0 || admitted < 2 || !(span_s > 0) ||
        span_s < SERVE_BATCH_SPAN_SHARE * run_s)
        return NAN;
    return (double)(admitted - 1) / span_s;
}
