/*
 * calibrate: step-time coefficients from client-side latencies (see calibrate.h).
 */
#include "models/calibrate.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/base/util.h"

const char *const calib_metric_names[CAL_NMETRIC] = {"ttft", "tpot", "e2e"};

/* Points whose measured time is one engine step: enough of them give the noise spread. */
#define CAL_MIN_NOISE_POINTS 8

/* The most points handed to the solver (see calib_run). */
#define CAL_MAX_FIT 4000

static void shape_add(step_shape *a, const step_shape *b, double w)
{
    a->prefill_tokens += w * b->prefill_tokens;
    a->prefill_seqs += w * b->prefill_seqs;
    a->prefill_attn += w * b->prefill_attn;
    a->prefill_ctx_read += w * b->prefill_ctx_read;
    a->decode_seqs += w * b->decode_seqs;
    a->decode_ctx += w * b->decode_ctx;
}

/* One request on the rebuilt timeline. */
typedef struct lane {
    double start, first, last;
    double prompt, output;
    double ttft, tpot, e2e;
} lane;

/* Send times of a run (see calibrate.h). Returns 1 if they were guessed from the rate. */
static int send_times(const bench_run *run, lane *L)
{
    size_t n = run->n;
    int known = 1;
    double t0 = INFINITY;
    for (size_t k = 0; k < n; k++) {
        known &= isfinite(run->req[k].start_s);
        if (isfinite(run->req[k].start_s) && run->req[k].start_s < t0)
            t0 = run->req[k].start_s;
    }
    if (known) {
        for (size_t k = 0; k < n; k++)
            L[k].start = run->req[k].start_s - t0;
        return 0;
    }
    uint32_t c = run->max_concurrency;
    double rate = run->request_rate;
    if (c > 0) {
        /* The client keeps c requests in flight: the next goes out when the earliest of
         * them finishes (and not before its slot in a rate schedule, if there is one). */
        double *free_at = calloc(c, sizeof *free_at);
        if (free_at == NULL)
            return -1;
        for (size_t k = 0; k < n; k++) {
            uint32_t best = 0;
            for (uint32_t s = 1; s < c; s++)
                if (free_at[s] < free_at[best])
                    best = s;
            double t = free_at[best];
            if (rate > 0 && (double)k / rate > t)
                t = (double)k / rate;
            L[k].start = t;
            free_at[best] = t + L[k].e2e;
        }
        free(free_at);
        return 0;
    }
    for (size_t k = 0; k < n; k++)
        L[k].start = rate > 0 ? (double)k / rate : 0.0;
    return rate > 0;
}

/* The context of request j at time t while it decodes: its prompt and the tokens made. */
static double ctx_at(const lane *j, double t)
{
    double f = j->last > j->first ? (t - j->first) / (j->last - j->first) : 1.0;
    if (f < 0)
        f = 0;
    if (f > 1)
        f = 1;
    return j->prompt + f * j->output;
}

/* The TPOT point of request k: over its decode stretch, the time-average batch of
 * decoders, and the prompts prefilled in it; steps with a prefill counted apart from the
 * plain decode steps (a prefill makes its step compute-bound). */
static void tpot_point(const lane *L, size_t n, size_t k, fit_point *p)
{
    const lane *a = &L[k];
    double span = a->last - a->first, steps = a->output - 1;
    double b = 1, ctx = a->prompt + a->output / 2;
    step_shape pre = {0};
    double m = 0;
    for (size_t j = 0; j < n; j++) {
        if (j == k)
            continue;
        const lane *o = &L[j];
        if (o->last <= a->first || o->first >= a->last)
            continue; /* neither decoding beside it nor prefilled during its decode */
        double lo = a->first > o->first ? a->first : o->first;
        double hi = a->last < o->last ? a->last : o->last;
        if (hi > lo) {
            double frac = (hi - lo) / span;
            b += frac;
            ctx += frac * ctx_at(o, 0.5 * (lo + hi));
        }
        if (o->first > a->first && o->first < a->last) {
            step_shape s = step_shape_prefill(1, o->prompt);
            shape_add(&pre, &s, 1);
            m += 1;
        }
    }
    step_shape dec = step_shape_decode(b, ctx / b);
    double mixed = m < steps ? m : steps;
    p->shape = dec;
    p->main_weight = (steps - mixed) / steps;
    if (mixed > 0) {
        /* The mixed steps: the decoders and the average prefill among them. */
        p->extra = dec;
        shape_add(&p->extra, &pre, 1.0 / mixed);
        p->extra_weight = mixed / steps;
    }
    if (p->main_weight <= 0)
        p->main_weight = 1e-12; /* every step had a prefill (0 would mean "once") */
    p->measured_s = a->tpot;
    p->phase = FIT_DECODE;
}

/* The TTFT point of request k, or 0 if it arrived behind a queue. */
static int ttft_point(const lane *L, size_t n, size_t k, fit_point *p, int *idle)
{
    const lane *a = &L[k];
    double same = 1e-3 * a->ttft + 1e-6; /* first tokens this close came from one step */
    step_shape dec = {0}, pre = {0};
    double b = 0, ctx = 0;
    int after_finish = 0; /* sent as another request finished: a closed-loop client */
    for (size_t j = 0; j < n; j++) {
        const lane *o = &L[j];
        if (j != k && a->start >= o->last && a->start - o->last <= same)
            after_finish = 1;
        int in_step = fabs(o->first - a->first) <= same && o->start <= a->first;
        if (in_step) {
            step_shape s = step_shape_prefill(1, o->prompt);
            shape_add(&pre, &s, 1);
            continue;
        }
        if (j == k)
            continue;
        if (o->start <= a->start && o->first > a->start)
            return 0; /* sent earlier and still waiting for its first token: a queue */
        if (o->first <= a->start && o->last > a->start) {
            b += 1;
            ctx += ctx_at(o, a->start);
        }
    }
    if (b > 0)
        dec = step_shape_decode(b, ctx / b);
    p->shape = pre;
    shape_add(&p->shape, &dec, 1);
    if (b > 0) {
        /* The step in flight when it arrived: on average half done, but a request sent
         * the moment another one's last token came finds the next step just started. */
        p->extra = dec;
        p->extra_weight = after_finish ? 1.0 : 0.5;
    }
    p->measured_s = a->ttft;
    p->phase = FIT_PREFILL;
    *idle = b == 0;
    return 1;
}

static double median_of(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    gsl_sort(v, 1, n);
    return gsl_stats_median_from_sorted_data(v, 1, n);
}

/* Rebuilds the timeline of run r (index r of the set) in L and appends its requests to
 * res->rows and their TTFT and TPOT points to res->pts (is_idle and row_pt as in
 * calib_run). Returns 0, or -1 when out of memory. */
static int run_points(const bench_run *run, size_t r, const step_model *sm, calib_result *res,
                      lane *L, int *is_idle, long *row_pt)
{
    for (size_t k = 0; k < run->n; k++) {
        const bench_request *q = &run->req[k];
        lane *l = &L[k];
        l->prompt = q->prompt_tokens;
        l->output = q->output_tokens;
        l->ttft = q->ttft_s;
        l->tpot = q->tpot_s;
        l->e2e = isfinite(q->e2e_s)    ? q->e2e_s
                 : isfinite(q->tpot_s) ? q->ttft_s + q->tpot_s * (q->output_tokens - 1)
                                       : q->ttft_s;
    }
    int guessed = send_times(run, L);
    if (guessed < 0)
        return -1;
    res->runs_start_guessed += (size_t)guessed;
    for (size_t k = 0; k < run->n; k++) {
        L[k].first = L[k].start + L[k].ttft;
        L[k].last = L[k].start + L[k].e2e;
    }
    for (size_t k = 0; k < run->n; k++) {
        calib_row *row = &res->rows[res->n_rows];
        row->run = r;
        row->index = k;
        row->start_s = L[k].start;
        row->prompt = L[k].prompt;
        row->output = L[k].output;
        row->measured_s[CAL_TTFT] = L[k].ttft;
        row->measured_s[CAL_TPOT] = L[k].tpot;
        row->measured_s[CAL_E2E] = L[k].e2e;
        for (int m = 0; m < CAL_NMETRIC; m++)
            row->predicted_s[m] = NAN;
        fit_point *p = &res->pts[res->n_pts];
        memset(p, 0, sizeof *p);
        p->model = *sm;
        int idle = 0;
        if (ttft_point(L, run->n, k, p, &idle)) {
            snprintf(p->label, sizeof p->label, "run %zu request %zu ttft", r, k);
            is_idle[res->n_pts] = idle;
            row_pt[2 * res->n_rows] = (long)res->n_pts++;
        } else {
            row->queued = 1;
            res->n_queued++;
        }
        if (L[k].output >= 2 && isfinite(L[k].tpot) && L[k].tpot > 0 && L[k].last > L[k].first) {
            p = &res->pts[res->n_pts];
            memset(p, 0, sizeof *p);
            p->model = *sm;
            tpot_point(L, run->n, k, p);
            snprintf(p->label, sizeof p->label, "run %zu request %zu tpot", r, k);
            row_pt[2 * res->n_rows + 1] = (long)res->n_pts++;
        }
        res->n_rows++;
    }
    return 0;
}

/* Fits the coefficients to the points and predicts every point with them. Many thousands
 * of points say no more than a few thousand spread evenly among them, and cost the solver
 * in proportion: fit on every k-th, predict them all. Returns 0 or -1 with a message. */
static int fit_points(calib_result *res, const step_coeffs *start, char *err, size_t errlen)
{
    size_t stride = (res->n_pts + CAL_MAX_FIT - 1) / CAL_MAX_FIT;
    if (stride <= 1) {
        res->n_fitted = res->n_pts;
        return fit_run(res->pts, res->n_pts, start, &res->fit, err, errlen);
    }
    size_t m = 0;
    fit_point *sub = malloc((res->n_pts / stride + 1) * sizeof *sub);
    if (sub == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < res->n_pts; i += stride)
        sub[m++] = res->pts[i];
    int rc = fit_run(sub, m, start, &res->fit, err, errlen);
    free(sub);
    res->n_fitted = m;
    for (size_t i = 0; rc == 0 && i < res->n_pts; i++) {
        res->pts[i].model.c = res->fit.coeffs;
        res->pts[i].predicted_s = fit_point_predict(&res->pts[i]);
    }
    return rc;
}

/* The noise: robust spread of the log residuals of single-step points (is_idle). */
static void noise_spread(calib_result *res, const int *is_idle)
{
    double *lr = malloc((res->n_pts + 1) * sizeof *lr);
    size_t m = 0;
    for (size_t i = 0; lr && i < res->n_pts; i++)
        if (is_idle[i])
            lr[m++] = log(res->pts[i].measured_s / res->pts[i].predicted_s);
    res->n_noise_points = m;
    if (lr && m >= CAL_MIN_NOISE_POINTS) {
        double med = median_of(lr, m);
        for (size_t i = 0; i < m; i++)
            lr[i] = fabs(lr[i] - med);
        double sigma = 1.4826 * median_of(lr, m);
        res->coeffs.noise_cv = sqrt(expm1(sigma * sigma));
        res->noise_from_data = 1;
    }
    free(lr);
}

/* Predictions per request (row_pt as in calib_run), and the errors per metric. */
static void prediction_errors(calib_result *res, const long *row_pt)
{
    double *ape[CAL_NMETRIC];
    for (int k = 0; k < CAL_NMETRIC; k++)
        ape[k] = malloc((res->n_rows + 1) * sizeof *ape[k]);
    for (size_t i = 0; i < res->n_rows; i++) {
        calib_row *row = &res->rows[i];
        for (int k = 0; k < 2; k++)
            if (row_pt[2 * i + (size_t)k] >= 0)
                row->predicted_s[k] = res->pts[row_pt[2 * i + (size_t)k]].predicted_s;
        if (isfinite(row->predicted_s[CAL_TTFT]))
            row->predicted_s[CAL_E2E] =
                row->output < 2 ? row->predicted_s[CAL_TTFT]
                : isfinite(row->predicted_s[CAL_TPOT])
                    ? row->predicted_s[CAL_TTFT] + (row->output - 1) * row->predicted_s[CAL_TPOT]
                    : NAN;
        for (int k = 0; k < CAL_NMETRIC; k++) {
            if (!ape[k] || !isfinite(row->predicted_s[k]) || !(row->measured_s[k] > 0))
                continue;
            double e = 100.0 * fabs(row->predicted_s[k] / row->measured_s[k] - 1.0);
            ape[k][res->n_ape[k]++] = e;
            if (e > res->worst_ape[k])
                res->worst_ape[k] = e;
        }
    }
    for (int k = 0; k < CAL_NMETRIC; k++) {
        res->median_ape[k] = ape[k] ? median_of(ape[k], res->n_ape[k]) : NAN;
        free(ape[k]);
    }
}

/* The requests of b as rows and fit points of res (see calib_run); *is_idle and *row_pt
 * (allocated) say which points are single steps and which point is each row's. Returns 0,
 * or -1 with a message (res freed). */
static int collect_points(const bench_set *b, const step_model *sm, calib_result *res,
                          int **is_idle, long **row_pt, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    size_t total = 0, longest = 0;
    for (size_t r = 0; r < b->n_runs; r++) {
        total += b->runs[r].n;
        if (b->runs[r].n > longest)
            longest = b->runs[r].n;
    }
    res->rows = calloc(total ? total : 1, sizeof *res->rows);
    res->pts = calloc(2 * total + 1, sizeof *res->pts);
    lane *L = calloc(longest ? longest : 1, sizeof *L);
    *is_idle = calloc(2 * total + 1, sizeof **is_idle);
    /* row_pt[2 i + metric]: the point of row i for TTFT (0) and TPOT (1), or -1. */
    *row_pt = malloc((2 * total + 1) * sizeof **row_pt);
    int rc = 0;
    if (res->rows == NULL || res->pts == NULL || L == NULL || *is_idle == NULL || *row_pt == NULL)
        rc = -1;
    for (size_t i = 0; rc == 0 && i < 2 * total + 1; i++)
        (*row_pt)[i] = -1;
    for (size_t r = 0; rc == 0 && r < b->n_runs; r++)
        rc = run_points(&b->runs[r], r, sm, res, L, *is_idle, *row_pt);
    if (rc != 0)
        util_errf(err, errlen, "out of memory");
    if (rc == 0 && res->n_pts < 8) {
        util_errf(err, errlen,
                  "only %zu usable latencies in %zu requests (need 8 or more: requests with "
                  "a time to first token that did not wait in a queue, or with 2 or more "
                  "output tokens)",
                  res->n_pts, res->n_rows);
        rc = -1;
    }
    free(L);
    if (rc != 0) {
        free(*is_idle);
        free(*row_pt);
        *is_idle = NULL;
        *row_pt = NULL;
        calib_result_free(res);
    }
    return rc;
}

/* The noise spread and the errors of the fitted predictions, then the arrays of
 * collect_points freed (and res too if rc is not 0). */
static int finish(calib_result *res, int rc, int *is_idle, long *row_pt)
{
    if (rc == 0) {
        noise_spread(res, is_idle);
        prediction_errors(res, row_pt);
    }
    free(is_idle);
    free(row_pt);
    if (rc != 0)
        calib_result_free(res);
    return rc;
}

int calib_run(const bench_set *b, const step_model *sm, const step_coeffs *start,
              calib_result *res, char *err, size_t errlen)
{
    int *is_idle;
    long *row_pt;
    if (collect_points(b, sm, res, &is_idle, &row_pt, err, errlen) != 0)
        return -1;
    int rc = fit_points(res, start, err, errlen);
    if (rc == 0)
        res->coeffs = res->fit.coeffs;
    return finish(res, rc, is_idle, row_pt);
}

/* A point's terms: its steps' terms (kstep_terms), weighted as fit_point_predict weighs
 * their times. */
static void point_terms(const kstep *k, const fit_point *p, double x[KSTEP_N_COEFFS])
{
    double e[KSTEP_N_COEFFS];
    kstep_terms(k, &p->shape, x);
    for (int j = 0; j < KSTEP_N_COEFFS; j++)
        x[j] *= p->main_weight > 0 ? p->main_weight : 1.0;
    if (p->extra_weight > 0) {
        kstep_terms(k, &p->extra, e);
        for (int j = 0; j < KSTEP_N_COEFFS; j++)
            x[j] += p->extra_weight * e[j];
    }
}

/* The kernel coefficients fitted to every k-th point (as fit_points does) and every point
 * predicted with them. Returns 0 or -1 with a message. */
static int fit_kernel_points(calib_result *res, const kstep *k, const kstep_coeffs *start,
                             unsigned hold, char *err, size_t errlen)
{
    size_t stride = (res->n_pts + CAL_MAX_FIT - 1) / CAL_MAX_FIT;
    if (stride < 1)
        stride = 1;
    double *x = malloc((res->n_pts + 1) * KSTEP_N_COEFFS * sizeof *x);
    double *y = malloc((res->n_pts / stride + 1) * sizeof *y);
    double *sub = malloc((res->n_pts / stride + 1) * KSTEP_N_COEFFS * sizeof *sub);
    int rc = x && y && sub ? 0 : -1;
    if (rc != 0)
        util_errf(err, errlen, "out of memory");
    size_t m = 0;
    for (size_t i = 0; rc == 0 && i < res->n_pts; i++) {
        point_terms(k, &res->pts[i], x + i * KSTEP_N_COEFFS);
        if (i % stride == 0 && res->pts[i].measured_s > 0) {
            memcpy(sub + m * KSTEP_N_COEFFS, x + i * KSTEP_N_COEFFS,
                   KSTEP_N_COEFFS * sizeof *x);
            y[m++] = res->pts[i].measured_s;
        }
    }
    res->n_fitted = m;
    if (rc == 0)
        rc = kcalib_solve(sub, y, m, start, hold, &res->kfit, err, errlen);
    for (size_t i = 0; rc == 0 && i < res->n_pts; i++) {
        double t = 0;
        for (int j = 0; j < KSTEP_N_COEFFS; j++)
            t += res->kfit.v[j] * x[i * KSTEP_N_COEFFS + (size_t)j];
        res->pts[i].predicted_s = t;
    }
    free(x);
    free(y);
    free(sub);
    return rc;
}

int calib_run_kernels(const bench_set *b, const step_model *sm, const kstep_coeffs *start,
                      unsigned hold, calib_result *res, char *err, size_t errlen)
{
    int *is_idle;
    long *row_pt;
    if (sm->kernels == NULL) {
        util_errf(err, errlen, "the deployment's steps are not priced by the measured kernels");
        return -1;
    }
    if (collect_points(b, sm, res, &is_idle, &row_pt, err, errlen) != 0)
        return -1;
    res->kernels = 1;
    res->coeffs = sm->c; /* the noise spread, from the start unless the data give it */
    int rc = fit_kernel_points(res, sm->kernels, start, hold, err, errlen);
    return finish(res, rc, is_idle, row_pt);
}

void calib_result_free(calib_result *res)
{
    free(res->rows);
    free(res->pts);
    res->rows = NULL;
    res->pts = NULL;
    res->n_rows = res->n_pts = 0;
}

calib_poor_limits calib_poor_default(void)
{
    return (calib_poor_limits){.tpot_pct = CALIB_POOR_TPOT_PCT, .ttft_pct = CALIB_POOR_TTFT_PCT};
}

int calib_is_poor(const calib_result *res, const calib_poor_limits *lim, char *why,
                  size_t len)
{
    if (res->n_ape[CAL_TPOT] && res->median_ape[CAL_TPOT] > lim->tpot_pct) {
        snprintf(why, len, "the median error of the time per output token is %.0f%% (a fit "
                           "that explains the data stays under %.3g%%)",
                 res->median_ape[CAL_TPOT], lim->tpot_pct);
        return 1;
    }
    if (res->n_ape[CAL_TTFT] && res->median_ape[CAL_TTFT] > lim->ttft_pct) {
        snprintf(why, len, "the median error of the time to first token is %.0f%% (a fit "
                           "that explains the data stays under %.3g%%)",
                 res->median_ape[CAL_TTFT], lim->ttft_pct);
        return 1;
    }
    return 0;
}
