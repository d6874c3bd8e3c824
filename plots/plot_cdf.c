/*
 * plot_cdf: the cdf family, drawn from requests.csv (`capsim run --per-request --out`):
 * empirical CDFs of TTFT and end-to-end latency on a log axis, pooling all replications
 * and leaving out requests with no latency (rejected ones).
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
static void write_cdf(FILE *fp, const double *v, size_t n)
{
    size_t tail = n > CDF_MAX_POINTS ? n - CDF_TAIL_POINTS : 0;
    size_t body = CDF_MAX_POINTS - CDF_TAIL_POINTS - 1;
    size_t step = tail > 0 ? (tail + body - 1) / body : 1;
    for (size_t i = 0; i < n; i++) {
        if (i < tail && i % step != 0)
            continue;
        if (!(v[i] > 0))
            continue;
        gp_dat_num(fp, v[i]);
        gp_dat_num(fp, i + 1 == n ? 1.0 : (double)(i + 1) / (double)n);
        fputc('\n', fp);
    }
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
    if (rc < 0 || (d[0].n == 0 && d[1].n == 0)) {
        free(d[0].v);
        free(d[1].v);
        return rc < 0 ? -1 : 0;
    }

    gp_plot o;
    rc = gp_begin(c, &o, "latency_cdf", "empirical CDFs of TTFT and end-to-end latency",
                  "Latency distribution (empirical CDF, all replications)");
    if (rc == 0) {
        fputs("# columns: latency (ms), fraction of requests at or below it\n", o.dat);
        gp_set_text(&o, "xlabel", "latency (ms, log scale)");
        gp_set_text(&o, "ylabel", "fraction of requests at or below (CDF)");
        fputs("set logscale x\n"
              "set rmargin 5\n"
              "set yrange [0:1]\n"
              "set ytics 0, 0.1\n"
              "set key inside bottom right\n",
              o.gp);
        gp_draw_begin(&o);
        static const char *const what[2] = {"TTFT", "end-to-end latency"};
        for (int k = 0; k < 2; k++) {
            if (d[k].n == 0)
                continue;
            qsort(d[k].v, d[k].n, sizeof *d[k].v, dbl_cmp);
            int block = gp_dat_block(&o, cols[k]);
            write_cdf(o.dat, d[k].v, d[k].n);
            char series[128];
            snprintf(series, sizeof series, "%s (%zu requests)", what[k], d[k].n);
            gp_clause(&o);
            fprintf(o.gp, "'latency_cdf.dat' index %d using 1:2 with lines lw 2 lc %d", block,
                    k + 1);
            gp_title(&o, series);
        }
        gp_draw_end(&o);
        rc = gp_commit(c, &o);
    }
    free(d[0].v);
    free(d[1].v);
    return rc;
}

static const plot_source SOURCES[] = {
    {"requests.csv", "capsim run --per-request --out",
     "empirical CDFs of TTFT and end-to-end latency over all replications", "latency_cdf",
     draw_requests},
};

const plot_family plot_family_cdf = {"cdf", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
