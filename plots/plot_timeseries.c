/*
 * plot_timeseries: the timeseries family, drawn from timeseries.csv (`capsim run --out`):
 * waiting requests and the running batch (left axis) and KV cache occupancy (%, right
 * axis) over time. The file holds the replications one after another; only the first is
 * drawn, which ends where time_s stops increasing.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>

#include "plots/gp.h"

typedef struct ts_row {
    double time_s, waiting, running, kv_pct;
} ts_row;

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

    gp_plot o;
    if (gp_begin(c, &o, "timeseries", "queue, running batch and KV cache over time",
                 "Queue, running batch and KV cache "
                 "over time (first replication)") != 0) {
        free(rows);
        return -1;
    }
    fputs("# columns: time (s), waiting requests, running batch (requests), "
          "KV cache occupancy (%)\n",
          o.dat);
    gp_dat_block(&o, "first replication");
    for (size_t i = 0; i < n; i++) {
        gp_dat_num(o.dat, rows[i].time_s);
        gp_dat_num(o.dat, rows[i].waiting);
        gp_dat_num(o.dat, rows[i].running);
        gp_dat_num(o.dat, rows[i].kv_pct);
        fputc('\n', o.dat);
    }
    free(rows);
    gp_set_text(&o, "xlabel", "time (s)");
    gp_set_text(&o, "ylabel", "requests");
    gp_set_text(&o, "y2label", "KV cache occupancy (%)");
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
    gp_title(&o, "waiting requests");
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:3 with lines lw 2 lc 2", o.gp);
    gp_title(&o, "running batch (requests)");
    gp_clause(&o);
    fputs("'timeseries.dat' using 1:4 axes x1y2 with lines lw 2 lc 7 dt 2", o.gp);
    gp_title(&o, "KV cache (%, right axis)");
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

static const plot_source SOURCES[] = {
    {"timeseries.csv", "capsim run --out",
     "waiting requests, running batch and KV cache occupancy over time, first replication",
     "timeseries", draw_timeseries},
};

const plot_family plot_family_timeseries = {"timeseries", SOURCES,
                                            sizeof SOURCES / sizeof SOURCES[0]};
