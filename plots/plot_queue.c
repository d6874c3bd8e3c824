/*
 * plot_queue: the queue family, drawn from load.csv (`capsim queue --load`): the simulated
 * mean and p99 waits with their 95% intervals against utilisation, and the exact values of
 * queueing theory as lines where the file has them.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "plots/gp.h"

enum { QL_RHO, QL_MEAN, QL_MEAN_CI, QL_P99, QL_P99_CI, QL_EXACT_MEAN, QL_EXACT_P99, QL_N };

typedef struct queue_row {
    double v[QL_N];
} queue_row;

static int queue_row_cmp(const void *a, const void *b)
{
    const queue_row *x = a, *y = b;
    return (x->v[QL_RHO] > y->v[QL_RHO]) - (x->v[QL_RHO] < y->v[QL_RHO]);
}

static int draw_queue_load(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[QL_N] = {"rho",           "mean_wait",     "mean_wait_ci95",
                                           "p99_wait",      "p99_wait_ci95", "exact_mean_wait",
                                           "exact_p99_wait"};
    static const char *const required[] = {"rho", "mean_wait", "p99_wait"};
    int idx[QL_N], required_idx[3];
    for (int k = 0; k < QL_N; k++)
        idx[k] = csvin_column(in, cols[k]); /* the CIs and exact values are optional */
    int rc = gp_input_columns(c, in, required, required_idx, 3);
    queue_row *rows = NULL;
    size_t n = 0, cap = 0;
    int any_exact[2] = {0, 0};
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        rc = 0;
        queue_row r;
        for (int k = 0; k < QL_N && rc == 0; k++)
            rc = gp_input_num(c, in, idx[k], &r.v[k]);
        if (rc != 0)
            break;
        if (!isfinite(r.v[QL_RHO]))
            continue;
        any_exact[0] |= isfinite(r.v[QL_EXACT_MEAN]);
        any_exact[1] |= isfinite(r.v[QL_EXACT_P99]);
        queue_row *p = gp_grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = gp_oom(c);
            break;
        }
        rows = p;
        rows[n++] = r;
    }
    if (rc < 0 || n == 0) {
        free(rows);
        return rc < 0 ? -1 : 0;
    }
    qsort(rows, n, sizeof *rows, queue_row_cmp);

    gp_plot o;
    if (gp_begin(c, &o, "queue_load", "simulated and exact waiting times against utilisation",
                 "Waiting time vs utilisation") != 0) {
        free(rows);
        return -1;
    }
    fputs("# columns: rho, mean wait (s), CI, p99 wait (s), CI, exact mean wait (s), "
          "exact p99 wait (s)\n",
          o.dat);
    gp_dat_block(&o, "one row per load");
    for (size_t i = 0; i < n; i++) {
        for (int k = 0; k < QL_N; k++)
            gp_dat_num(o.dat, k == QL_MEAN_CI || k == QL_P99_CI ? gp_ci_or_zero(rows[i].v[k])
                                                                : rows[i].v[k]);
        fputc('\n', o.dat);
    }
    free(rows);
    gp_set_text(&o, "xlabel", "utilisation rho (offered load / capacity)");
    gp_set_text(&o, "ylabel", "waiting time (s)");
    fputs("set yrange [0:*]\n"
          "set offsets graph 0.02, graph 0.02, 0, 0\n"
          "set key inside top left\n",
          o.gp);
    gp_draw_begin(&o);
    static const char *const sim_title[2] = {"simulated mean wait (95% CI)",
                                             "simulated p99 wait (95% CI)"};
    static const char *const exact_title[2] = {"exact mean wait (theory)",
                                               "exact p99 wait (theory)"};
    for (int k = 0; k < 2; k++) {
        gp_clause(&o);
        fprintf(o.gp, "'queue_load.dat' using 1:%d:%d with yerrorbars lc %d pt 7 ps 1.3 lw 1.5",
                k ? QL_P99 + 1 : QL_MEAN + 1, k ? QL_P99_CI + 1 : QL_MEAN_CI + 1, k + 1);
        gp_title(&o, sim_title[k]);
    }
    for (int k = 0; k < 2; k++) {
        if (!any_exact[k])
            continue;
        gp_clause(&o);
        fprintf(o.gp, "'queue_load.dat' using 1:%d with lines lc %d lw 2 dt 2",
                k ? QL_EXACT_P99 + 1 : QL_EXACT_MEAN + 1, k + 1);
        gp_title(&o, exact_title[k]);
    }
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

static const plot_source SOURCES[] = {
    {"load.csv", "capsim queue --load",
     "simulated (with 95% intervals) and exact mean and p99 waits against utilisation",
     "queue_load", draw_queue_load},
};

const plot_family plot_family_queue = {"queue", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
