/*
 * plot_timeseries: the timeseries family, drawn from timeseries.csv (`capsim run --out`):
 * waiting requests and the running batch (left axis) and KV cache occupancy (%, right
 * axis) over time. The file holds the replications one after another; only the first is
 * drawn, which ends where time_s stops increasing. Past TS_MAX_POINTS samples each point is
 * the mean of a window of samples; with several replicas the counts are their sums (the
 * title and labels say which). The model and replicas come from the summary.csv beside.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "plots/gp.h"

typedef struct ts_row {
    double time_s, waiting, running, kv_pct;
} ts_row;

/* Past this many samples the series are drawn as means over windows of several samples:
 * a line through thousands of one-second samples is a solid band of noise. */
#define TS_MAX_POINTS 300

/* Writes the rows as means over windows of w samples (w = 1: the rows themselves). */
static void timeseries_data(FILE *fp, const ts_row *rows, size_t n, size_t w)
{
    for (size_t i = 0; i < n; i += w) {
        size_t end = i + w < n ? i + w : n;
        double sum[4] = {0, 0, 0, 0};
        for (size_t k = i; k < end; k++) {
            sum[0] += rows[k].time_s;
            sum[1] += rows[k].waiting;
            sum[2] += rows[k].running;
            sum[3] += rows[k].kv_pct;
        }
        for (int j = 0; j < 4; j++)
            gp_dat_num(fp, sum[j] / (double)(end - i));
        fputc('\n', fp);
    }
}

/* The plot of rows[0..n): the model in the title, the counts named as sums over the
 * replicas when there are several, and means over windows when there are many samples. */
static int timeseries_plot(gp_ctx *c, const ts_row *rows, size_t n)
{
    char replicas_text[32], title[512], what[256];
    gp_folder_value(c, "summary.csv", "replicas", replicas_text, sizeof replicas_text);
    long replicas = replicas_text[0] ? strtol(replicas_text, NULL, 10) : 1;
    size_t w = n > TS_MAX_POINTS ? (n + TS_MAX_POINTS - 1) / TS_MAX_POINTS : 1;
    double span_s = n > 1 ? (rows[n - 1].time_s - rows[0].time_s) / (double)(n - 1) * (double)w : 0;
    /* The title names the model; the x label says what each point is. */
    if (w > 1)
        snprintf(what, sizeof what, "time (s); first replication, each point a mean over %.3g s",
                 span_s);
    else
        snprintf(what, sizeof what, "time (s); first replication");
    gp_folder_title(c, "summary.csv", "Queue, batch and KV cache over time", title, sizeof title);
    gp_plot o;
    if (gp_begin(c, &o, "timeseries", "queue, running batch and KV cache over time", title) != 0)
        return -1;
    fprintf(o.dat,
            "# columns: time (s), waiting requests, running batch (requests), "
            "KV cache occupancy (%%)%s%s\n",
            replicas > 1 ? "; the counts are sums over the replicas, the KV cache their pool" : "",
            w > 1 ? "; each row is the mean of a window of samples" : "");
    gp_dat_block(&o, "first replication");
    timeseries_data(o.dat, rows, n, w);
    char sum[64] = "", label[128];
    if (replicas > 1)
        snprintf(sum, sizeof sum, ", sum over %ld replicas", replicas);
    gp_set_text(&o, "xlabel", what);
    snprintf(label, sizeof label, "requests%s", sum);
    gp_set_text(&o, "ylabel", label);
    gp_set_text(&o, "y2label",
                replicas > 1 ? "KV cache occupancy, all replicas (%)" : "KV cache occupancy (%)");
    fputs("set yrange [0:*]\n"
          "set y2range [0:100]\n"
          "set ytics nomirror\n"
          "set y2tics 0, 10\n"
          "set autoscale xfix\n"
          "set key below horizontal maxrows 1 width -2 nobox noopaque\n"
          "set bmargin 5.5\n",
          o.gp);
    gp_draw_begin(&o);
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:2 with lines lw 2 lc 1", o.gp);
    snprintf(label, sizeof label, "waiting requests%s", sum);
    gp_title(&o, label);
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:3 with lines lw 2 lc 2", o.gp);
    snprintf(label, sizeof label, "running batch%s", sum);
    gp_title(&o, label);
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:4 axes x1y2 with lines lw 2 lc 7 dt 2", o.gp);
    gp_title(&o, "KV cache (%, right axis)");
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

static int draw_timeseries(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {"time_s", "waiting", "running", "kv_occupancy"};
    int idx[4];
    ts_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = gp_input_columns(c, in, cols, idx, 4);
    /* Replications follow each other in the file; the first ends where time goes back. */
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        ts_row r;
        if (gp_input_num(c, in, idx[0], &r.time_s) != 0 ||
            gp_input_num(c, in, idx[1], &r.waiting) != 0 ||
            gp_input_num(c, in, idx[2], &r.running) != 0 ||
            gp_input_num(c, in, idx[3], &r.kv_pct) != 0) {
            rc = -1;
            break;
        }
        rc = 0;
        if (n > 0 && r.time_s <= rows[n - 1].time_s)
            break;
        ts_row *p = gp_grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = gp_oom(c);
            break;
        }
        rows = p;
        r.kv_pct *= 100;
        rows[n++] = r;
    }
    if (rc < 0 || n == 0) {
        free(rows);
        return rc < 0 ? -1 : 0;
    }

    int rc2 = timeseries_plot(c, rows, n);
    free(rows);
    return rc2;
}

static const plot_source SOURCES[] = {
    {"timeseries.csv", "capsim run --out",
     "waiting requests, running batch and KV cache occupancy over time, first replication",
     "timeseries", draw_timeseries},
};

const plot_family plot_family_timeseries = {"timeseries", SOURCES,
                                            sizeof SOURCES / sizeof SOURCES[0]};
