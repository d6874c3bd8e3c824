/*
 * plot_cdf: the cdf family, drawn from requests.csv (`capsim run --per-request --out`):
 * empirical CDFs of TTFT and end-to-end latency on a log axis, pooling all replications
 * and leaving out requests with no latency (rejected ones), and their tail view, 1 - CDF
 * on log axes, where the slowest percent of requests reads. The SLO's p99 limits on TTFT
 * and end-to-end latency, read from the summary.csv beside requests.csv, are drawn as
 * vertical lines.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gp.h"

/* A CDF curve keeps at most this many points, of which the last CDF_TAIL_POINTS values
 * (the slowest requests, where the interesting part of a latency CDF is) are all kept. */
#define CDF_MAX_POINTS  2000
#define CDF_TAIL_POINTS 500

static int dbl_cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Writes the empirical CDF of sorted v[0..n) as rows "value fraction", the fraction of
 * values at or below. Past CDF_MAX_POINTS it keeps every value of the tail and an evenly
 * spaced sample (by rank) of the rest, always including the smallest; the last row is the
 * largest value with fraction exactly 1. Values <= 0 cannot sit on the log axis: they count
 * in the fractions but get no row. */
static void write_cdf(FILE *fp, const double *v, size_t n, double div)
{
    size_t tail = n > CDF_MAX_POINTS ? n - CDF_TAIL_POINTS : 0;
    size_t body = CDF_MAX_POINTS - CDF_TAIL_POINTS - 1;
    size_t step = tail > 0 ? (tail + body - 1) / body : 1;
    for (size_t i = 0; i < n; i++) {
        if (i < tail && i % step != 0)
            continue;
        if (!(v[i] > 0))
            continue;
        gp_dat_num(fp, v[i] / div);
        gp_dat_num(fp, i + 1 == n ? 1.0 : (double)(i + 1) / (double)n);
        fputc('\n', fp);
    }
}

/* The SLO's p99 limits on TTFT and end-to-end latency (ms; NaN for none), read from the
 * summary.csv the same run wrote beside requests.csv. */
static void cdf_limits(gp_ctx *c, double limit_ms[2])
{
    char slo[512];
    gp_folder_value(c, "summary.csv", "slo", slo, sizeof slo);
    limit_ms[0] = gp_slo_limit_ms(slo, "ttft", "p99");
    limit_ms[1] = gp_slo_limit_ms(slo, "e2el", "p99");
}

/* Writes the empirical complementary CDF of sorted v[0..n) as rows "value fraction", the
 * fraction of values above it, in the same sample of points as write_cdf; the largest
 * value, with nothing above it, gets no row (a log axis has no 0). */
static void write_ccdf(FILE *fp, const double *v, size_t n, double div)
{
    size_t tail = n > CDF_MAX_POINTS ? n - CDF_TAIL_POINTS : 0;
    size_t body = CDF_MAX_POINTS - CDF_TAIL_POINTS - 1;
    size_t step = tail > 0 ? (tail + body - 1) / body : 1;
    for (size_t i = 0; i + 1 < n; i++) {
        if ((i < tail && i % step != 0) || !(v[i] > 0))
            continue;
        gp_dat_num(fp, v[i] / div);
        gp_dat_num(fp, 1.0 - (double)(i + 1) / (double)n);
        fputc('\n', fp);
    }
}

static const char *const CDF_WHAT[2] = {"TTFT", "end-to-end latency"};

/* latency_cdf (ccdf 0) or its tail view latency_ccdf (ccdf 1), from the sorted latencies
 * d[0] (TTFT) and d[1] (end-to-end), with the SLO's p99 limits as vertical lines. */
static int cdf_plot(gp_ctx *c, const gp_dvec d[2], const double limit_ms[2], int ccdf)
{
    double max_ms = 0;
    for (int k = 0; k < 2; k++)
        if (d[k].n && d[k].v[d[k].n - 1] > max_ms)
            max_ms = d[k].v[d[k].n - 1];
    const char *unit;
    double div = gp_latency_unit(max_ms, &unit);
    const char *name = ccdf ? "latency_ccdf" : "latency_cdf";
    gp_plot o;
    char title[512];
    gp_folder_title(c, "summary.csv",
                    ccdf ? "Latency tail over all replications (1 - CDF)"
                         : "Latency distribution over all replications (CDF)",
                    title, sizeof title);
    int rc = ccdf ? gp_begin(c, &o, name,
                             "tail view: the share of requests slower than each latency", title)
                  : gp_begin(c, &o, name, "empirical CDFs of TTFT and end-to-end latency", title);
    if (rc != 0)
        return -1;
    fprintf(o.dat, "# columns: latency (%s), fraction of requests %s it\n", unit,
            ccdf ? "above (1 - F)" : "at or below");
    char xl[64];
    snprintf(xl, sizeof xl, "latency (%s, log scale)", unit);
    gp_set_text(&o, "xlabel", xl);
    gp_tick_format(&o, "x", max_ms / div);
    if (ccdf) {
        gp_set_text(&o, "ylabel", "fraction of requests slower (1 - CDF, log scale)");
        size_t most = d[0].n > d[1].n ? d[0].n : d[1].n;
        fprintf(o.gp, "set logscale xy\nset yrange [%.9g:1.2]\nset key inside bottom left\n",
                pow(10, floor(log10(1.0 / (double)(most > 1 ? most : 2)))));
    } else {
        gp_set_text(&o, "ylabel", "fraction of requests at or below (CDF)");
        fputs("set logscale x\nset yrange [0:1]\nset ytics 0, 0.1\nset key inside bottom right\n",
              o.gp);
    }
    fputs("set rmargin 5\n", o.gp);
    int n_limits = 0;
    for (int k = 0; k < 2; k++) {
        if (!isfinite(limit_ms[k]) || d[k].n == 0)
            continue;
        /* A vertical line at the limit: the curve must cross it above 0.99 (below 0.01 in
         * the tail view) for the p99 to meet it. */
        fprintf(o.gp, "set arrow %d from %.9g, graph 0 to %.9g, graph 1 nohead lc %d lw 2 dt 3\n",
                ++n_limits, limit_ms[k] / div, limit_ms[k] / div, k + 1);
    }
    if (ccdf && n_limits)
        fputs("set arrow from graph 0, first 0.01 to graph 1, first 0.01 nohead lc rgb "
              "'#808080' lw 1 dt 2\n",
              o.gp);
    gp_draw_begin(&o);
    for (int k = 0; k < 2; k++) {
        if (d[k].n == 0)
            continue;
        int block = gp_dat_block(&o, k ? "e2el_ms" : "ttft_ms");
        if (ccdf)
            write_ccdf(o.dat, d[k].v, d[k].n, div);
        else
            write_cdf(o.dat, d[k].v, d[k].n, div);
        char series[160];
        snprintf(series, sizeof series, "%s (%zu requests)", CDF_WHAT[k], d[k].n);
        gp_clause(&o);
        fprintf(o.gp, "'%s.dat' index %d using 1:2 with lines lw 2 lc %d", name, block, k + 1);
        gp_title(&o, series);
        if (isfinite(limit_ms[k])) {
            snprintf(series, sizeof series, "SLO: p99 %s <= %g %s", CDF_WHAT[k], limit_ms[k] / div,
                     unit);
            gp_clause(&o);
            fprintf(o.gp, "NaN with lines lc %d lw 2 dt 3", k + 1);
            gp_title(&o, series);
        }
    }
    if (ccdf && n_limits) {
        gp_clause(&o);
        fputs("NaN with lines lc rgb '#808080' lw 1 dt 2", o.gp);
        gp_title(&o, "1% of requests (the p99)");
    }
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

static int draw_requests(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {"ttft_ms", "e2el_ms"};
    int idx[2];
    gp_dvec d[2];
    memset(d, 0, sizeof d);
    int rc = gp_input_columns(c, in, cols, idx, 2);
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        rc = 0;
        for (int k = 0; k < 2 && rc == 0; k++) {
            double x;
            /* A rejected request has no latency: its field is empty or nan. */
            if (gp_input_num(c, in, idx[k], &x) != 0)
                rc = -1;
            else if (isfinite(x) && gp_dvec_push(&d[k], x) != 0)
                rc = gp_oom(c);
        }
    }
    if (rc == 0 && (d[0].n > 0 || d[1].n > 0)) {
        double limit_ms[2];
        cdf_limits(c, limit_ms);
        for (int k = 0; k < 2; k++)
            qsort(d[k].v, d[k].n, sizeof *d[k].v, dbl_cmp);
        rc = cdf_plot(c, d, limit_ms, 0);
        if (rc == 0)
            rc = cdf_plot(c, d, limit_ms, 1);
    }
    free(d[0].v);
    free(d[1].v);
    return rc < 0 ? -1 : 0;
}

static const plot_source SOURCES[] = {
    {"requests.csv", "capsim run --per-request --out",
     "empirical CDFs of TTFT and end-to-end latency over all replications, and their tail "
     "(1 - CDF, log scale), with the SLO's p99 limits",
     "latency_cdf, latency_ccdf", draw_requests},
};

const plot_family plot_family_cdf = {"cdf", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
