/*
 * plot_capacity: the capacity family, drawn from the files of the capacity searches:
 * frontier.csv (`capsim capacity deploy`) gives cost_frontier, the cost per replica
 * against the capacity per replica of every ok deployment candidate, with the frontier
 * joined by a line and the cheapest candidate ringed; search.csv (`capsim capacity rate`)
 * gives rate_search, each SLO metric at every rate the search tried, with its limit.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gp.h"

/* ---------------------------------------------------------------------------------------
 * frontier.csv from `capsim capacity deploy`
 * ------------------------------------------------------------------------------------- */

typedef struct frontier_row {
    double rate_req_s, rate_fail_req_s, usd_per_h;
    int on_frontier, cheapest;
    char label[128];
} frontier_row;

static int frontier_rate_cmp(const void *a, const void *b)
{
    const frontier_row *x = a, *y = b;
    return (x->rate_req_s > y->rate_req_s) - (x->rate_req_s < y->rate_req_s);
}

/* Writes the data blocks of cost_frontier: every candidate, then the frontier and the
 * cheapest candidate when there are any (their block numbers in *b_front and *b_cheap,
 * else -1). Returns the block of every candidate. */
static int frontier_data(gp_plot *o, const frontier_row *rows, size_t n, int *b_front, int *b_cheap)
{
    fputs("# columns: capacity per replica (req/s under the SLOs), cost per replica (USD/h), "
          "label, lowest rate found to fail (req/s)\n",
          o->dat);
    int any_frontier = 0, any_cheapest = 0;
    int b_all = gp_dat_block(o, "every ok candidate");
    for (size_t i = 0; i < n; i++) {
        gp_dat_num(o->dat, rows[i].rate_req_s);
        gp_dat_num(o->dat, rows[i].usd_per_h);
        fputc(' ', o->dat);
        gp_dat_quote(o->dat, rows[i].label);
        gp_dat_num(o->dat, rows[i].rate_fail_req_s);
        fputc('\n', o->dat);
        any_frontier |= rows[i].on_frontier;
        any_cheapest |= rows[i].cheapest;
    }
    *b_front = *b_cheap = -1;
    if (any_frontier) {
        *b_front = gp_dat_block(o, "the cost frontier, by capacity");
        for (size_t i = 0; i < n; i++)
            if (rows[i].on_frontier) {
                gp_dat_num(o->dat, rows[i].rate_req_s);
                gp_dat_num(o->dat, rows[i].usd_per_h);
                fputc('\n', o->dat);
            }
    }
    if (any_cheapest) {
        *b_cheap = gp_dat_block(o, "the cheapest deployment that meets the target");
        for (size_t i = 0; i < n; i++)
            if (rows[i].cheapest) {
                gp_dat_num(o->dat, rows[i].rate_req_s);
                gp_dat_num(o->dat, rows[i].usd_per_h);
                fputc('\n', o->dat);
            }
    }
    return b_all;
}

/* Writes cost_frontier from the ok candidates rows[0..n), sorted by capacity. */
static int frontier_plot(gp_ctx *c, const frontier_row *rows, size_t n)
{
    gp_plot o;
    if (gp_begin(c, &o, "cost_frontier", "cost against capacity of each deployment candidate",
                 "Cost vs capacity per replica (deployment candidates)") != 0)
        return -1;
    int b_front, b_cheap;
    int b_all = frontier_data(&o, rows, n, &b_front, &b_cheap);
    gp_set_text(&o, "xlabel", "capacity per replica (req/s under the SLOs)");
    gp_set_text(&o, "ylabel", "cost per replica (USD/h)");
    fputs("set xrange [0:*]\n"
          "set yrange [0:*]\n"
          "set offsets 0, graph 0.25, graph 0.1, 0\n",
          o.gp);
    /* Candidates can sit anywhere, so the key goes below the plot. */
    gp_key(&o, 3, NULL);
    gp_draw_begin(&o);
    if (b_front >= 0) {
        gp_clause(&o);
        fprintf(o.gp, "'cost_frontier.dat' index %d using 1:2 with lines lc 2 lw 2.5 dt 1",
                b_front);
        gp_title(&o, "cost frontier");
    }
    gp_clause(&o);
    fprintf(o.gp, "'cost_frontier.dat' index %d using 1:2 with points lc 1 pt 7 ps 1.6", b_all);
    gp_title(&o, "candidate (gpu precision tp)");
    gp_clause(&o);
    fprintf(o.gp,
            "'cost_frontier.dat' index %d using 1:2:3 with labels left offset char 1,0.8 "
            "font ',10' notitle",
            b_all);
    if (b_cheap >= 0) {
        gp_clause(&o);
        fprintf(o.gp,
                "'cost_frontier.dat' index %d using 1:2 with points lc rgb '#d00000' pt 6 ps 3.5 "
                "lw 3",
                b_cheap);
        gp_title(&o, "cheapest meeting the target");
    }
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

static int draw_frontier(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {
        "gpu",         "precision",        "tp",
        "status",      "rate_per_replica", "cost_per_hour_usd_per_replica",
        "on_frontier", "cheapest"};
    int idx[8];
    int fail_col = csvin_column(in, "rate_per_replica_fail");
    frontier_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = gp_input_columns(c, in, cols, idx, 8);
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        rc = 0;
        if (strcmp(csvin_field(in, (size_t)idx[3]), "ok") != 0)
            continue;
        frontier_row r;
        double on, cheap;
        if (gp_input_num(c, in, idx[4], &r.rate_req_s) != 0 ||
            gp_input_num(c, in, fail_col, &r.rate_fail_req_s) != 0 ||
            gp_input_num(c, in, idx[5], &r.usd_per_h) != 0 ||
            gp_input_num(c, in, idx[6], &on) != 0 || gp_input_num(c, in, idx[7], &cheap) != 0) {
            rc = -1;
            break;
        }
        if (!isfinite(r.rate_req_s) || !isfinite(r.usd_per_h))
            continue;
        r.on_frontier = on == 1;
        r.cheapest = cheap == 1;
        snprintf(r.label, sizeof r.label, "%s %s tp%s", csvin_field(in, (size_t)idx[0]),
                 csvin_field(in, (size_t)idx[1]), csvin_field(in, (size_t)idx[2]));
        frontier_row *p = gp_grow(rows, n, &cap, sizeof *rows);
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
    qsort(rows, n, sizeof *rows, frontier_rate_cmp);
    rc = frontier_plot(c, rows, n);
    free(rows);
    return rc;
}

/* ---------------------------------------------------------------------------------------
 * search.csv from `capsim capacity rate`
 * ------------------------------------------------------------------------------------- */

typedef struct search_row {
    size_t metric; /* index into the metric names */
    size_t order;
    double rate_req_s, value_ms, ci_ms, limit_ms;
} search_row;

static int search_row_cmp(const void *a, const void *b)
{
    const search_row *x = a, *y = b;
    if (x->metric != y->metric)
        return x->metric < y->metric ? -1 : 1;
    if (x->rate_req_s != y->rate_req_s)
        return x->rate_req_s < y->rate_req_s ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

/* Writes rate_search: one line per SLO metric (metric[0..n_metric)) with its limit as a
 * dashed line, from rows[0..n) sorted by metric and rate. */
static int search_plot(gp_ctx *c, const search_row *rows, size_t n, char *const *metric,
                       size_t n_metric)
{
    gp_axis yr;
    gp_axis_init(&yr);
    for (size_t i = 0; i < n; i++) {
        gp_axis_add(&yr, rows[i].value_ms);
        gp_axis_add(&yr, rows[i].limit_ms);
    }
    gp_plot o;
    int rc = gp_begin(c, &o, "rate_search", "SLO metrics at each rate the capacity search tried",
                      "SLO metrics at each rate tried by the capacity search");
    if (rc == 0) {
        int log_y = gp_axis_wants_log(&yr);
        gp_set_text(&o, "xlabel", "offered rate (req/s)");
        gp_set_text(&o, "ylabel", log_y ? "latency (ms, log scale)" : "latency (ms)");
        if (log_y)
            gp_log_y(&o, &yr);
        else
            fputs("set yrange [0:*]\n", o.gp);
        fputs("set autoscale xfix\nset offsets graph 0.03, graph 0.03, 0, 0\n", o.gp);
        gp_key(&o, 2 * (int)n_metric, "top left");
        fputs("# columns: offered rate (req/s), value (ms), its 95% CI half-width (ms)\n", o.dat);
        gp_draw_begin(&o);
        size_t i = 0;
        while (i < n) {
            size_t m = rows[i].metric, j = i;
            double limit = NAN;
            int block = gp_dat_block(&o, metric[m]);
            for (; j < n && rows[j].metric == m; j++) {
                gp_dat_num(o.dat, rows[j].rate_req_s);
                gp_dat_num(o.dat, rows[j].value_ms);
                gp_dat_num(o.dat, gp_ci_or_zero(rows[j].ci_ms));
                fputc('\n', o.dat);
                if (isnan(limit) && isfinite(rows[j].limit_ms))
                    limit = rows[j].limit_ms;
            }
            gp_clause(&o);
            fprintf(o.gp,
                    "'rate_search.dat' index %d using 1:2:3 with yerrorlines lc %zu lw 2 "
                    "pt 7 ps 1.3",
                    block, m + 1);
            gp_title(&o, metric[m]);
            if (isfinite(limit)) {
                char series[160];
                snprintf(series, sizeof series, "%s limit (%g ms)", metric[m], limit);
                gp_clause(&o);
                fprintf(o.gp, "%.9g with lines lc %zu lw 2 dt 2", limit, m + 1);
                gp_title(&o, series);
            }
            i = j;
        }
        gp_draw_end(&o);
        rc = gp_commit(c, &o);
    }
    return rc;
}

static int draw_search(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {"rate_req_s", "slo_metric", "value_ms", "ci95_ms",
                                       "limit_ms"};
    int idx[5];
    search_row *rows = NULL;
    size_t n = 0, cap = 0;
    char **metric = NULL;
    size_t n_metric = 0, metric_cap = 0;
    int rc = gp_input_columns(c, in, cols, idx, 5);
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        rc = 0;
        search_row r;
        if (gp_input_num(c, in, idx[0], &r.rate_req_s) != 0 ||
            gp_input_num(c, in, idx[2], &r.value_ms) != 0 ||
            gp_input_num(c, in, idx[3], &r.ci_ms) != 0 ||
            gp_input_num(c, in, idx[4], &r.limit_ms) != 0) {
            rc = -1;
            break;
        }
        if (!isfinite(r.rate_req_s) || !isfinite(r.value_ms))
            continue;
        const char *name = csvin_field(in, (size_t)idx[1]);
        size_t m = 0;
        while (m < n_metric && strcmp(metric[m], name) != 0)
            m++;
        if (m == n_metric) {
            char **p = gp_grow(metric, n_metric, &metric_cap, sizeof *metric);
            if (p == NULL || (p[m] = strdup(name)) == NULL) {
                if (p != NULL)
                    metric = p;
                rc = gp_oom(c);
                break;
            }
            metric = p;
            n_metric++;
        }
        search_row *p = gp_grow(rows, n, &cap, sizeof *rows);
        if (p == NULL) {
            rc = gp_oom(c);
            break;
        }
        rows = p;
        r.metric = m;
        r.order = n;
        rows[n++] = r;
    }
    if (rc == 0 && n > 0) {
        qsort(rows, n, sizeof *rows, search_row_cmp);
        rc = search_plot(c, rows, n, metric, n_metric);
    }
    free(rows);
    for (size_t m = 0; m < n_metric; m++)
        free(metric[m]);
    free(metric);
    return rc < 0 ? -1 : 0;
}

static const plot_source SOURCES[] = {
    {"frontier.csv", "capsim capacity deploy",
     "cost against capacity per replica of every deployment candidate, with the cost "
     "frontier and the cheapest candidate",
     "cost_frontier", draw_frontier},
    {"search.csv", "capsim capacity rate",
     "each SLO metric, with its limit, at every rate the capacity search tried", "rate_search",
     draw_search},
};

const plot_family plot_family_capacity = {"capacity", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
