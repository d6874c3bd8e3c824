/*
 * plot_capacity: the capacity family, drawn from the files of the capacity searches:
 * frontier.csv (`capsim capacity deploy`) gives cost_frontier, the cost of the fleet that
 * carries the target rate against the capacity per replica (the low end of its 95% band,
 * with a bar to the high end) of every ok deployment candidate, the cheapest fleet ringed;
 * search.csv (`capsim capacity rate`) gives rate_search, each SLO metric at every rate the search
 * tried, with its limit.
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
    double rate_req_s, rate_fail_req_s, usd_per_h, replicas, fleet_usd_per_h;
    int on_frontier, cheapest;
    char label[128];
} frontier_row;

/* Cheapest fleet first, so that the key reads as a ranking. */
static int frontier_cost_cmp(const void *a, const void *b)
{
    const frontier_row *x = a, *y = b;
    return (x->fleet_usd_per_h > y->fleet_usd_per_h) - (x->fleet_usd_per_h < y->fleet_usd_per_h);
}

/* Writes cost_frontier from the ok candidates rows[0..n), sorted by fleet cost: each
 * candidate at the cost of the fleet that carries the target rate (x) and its capacity per
 * replica (y), the lower end of its 95% band, with a bar up to the upper end. Each
 * candidate has its own colour and key entry, so that no label lies over another. */
static int frontier_plot(gp_ctx *c, const frontier_row *rows, size_t n)
{
    gp_plot o;
    if (gp_begin(c, &o, "cost_frontier",
                 "fleet cost at the target rate against capacity per replica of each candidate",
                 "Deployment candidates: fleet cost at the target rate") != 0)
        return -1;
    fputs("# columns: fleet cost at the target rate (USD/h), capacity per replica: lower end of "
          "its 95% band (req/s the SLOs hold up to), the same again, upper end (req/s from which "
          "they fail), replicas, cost per replica (USD/h)\n",
          o.dat);
    double x_max = 0, y_max = 0;
    for (size_t i = 0; i < n; i++) {
        gp_dat_block(&o, rows[i].label);
        gp_dat_num(o.dat, rows[i].fleet_usd_per_h);
        gp_dat_num(o.dat, rows[i].rate_req_s);
        gp_dat_num(o.dat, rows[i].rate_req_s);
        double hi =
            isfinite(rows[i].rate_fail_req_s) && rows[i].rate_fail_req_s > rows[i].rate_req_s
                ? rows[i].rate_fail_req_s
                : rows[i].rate_req_s;
        gp_dat_num(o.dat, hi);
        gp_dat_num(o.dat, rows[i].replicas);
        gp_dat_num(o.dat, rows[i].usd_per_h);
        fputc('\n', o.dat);
        x_max = rows[i].fleet_usd_per_h > x_max ? rows[i].fleet_usd_per_h : x_max;
        y_max = hi > y_max ? hi : y_max;
    }
    gp_set_text(&o, "xlabel", "fleet cost at the target rate (USD/h): replicas x cost per replica");
    gp_set_text(&o, "ylabel", "req/s per replica, low end of its 95% band");
    fprintf(o.gp, "set xrange [0:%.9g]\nset yrange [0:%.9g]\n", 1.1 * x_max, 1.15 * y_max);
    gp_tick_format(&o, "x", x_max);
    fputs("set key below vertical maxrows 4 nobox noopaque font ',10'\nset bmargin 9\n", o.gp);
    gp_draw_begin(&o);
    static const int POINT_TYPES[] = {7, 5, 9, 11, 13, 15};
    for (size_t i = 0; i < n; i++) {
        char series[256];
        snprintf(series, sizeof series, "%s: %.0f x %.3g = %.4g USD/h", rows[i].label,
                 rows[i].replicas, rows[i].usd_per_h, rows[i].fleet_usd_per_h);
        gp_clause(&o);
        fprintf(o.gp,
                "'cost_frontier.dat' index %zu using 1:2:3:4 with yerrorbars lc %zu pt %d ps 1.8 "
                "lw 2",
                i, i % 8 + 1, POINT_TYPES[(i / 8) % 6]);
        gp_title(&o, series);
    }
    for (size_t i = 0; i < n; i++)
        if (rows[i].cheapest) {
            gp_clause(&o);
            fprintf(o.gp,
                    "'cost_frontier.dat' index %zu using 1:2 with points lc rgb '#d00000' pt 6 "
                    "ps 4 lw 3",
                    i);
            gp_title(&o, "cheapest fleet that carries the target");
        }
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

/* One ok row of frontier.csv; returns 1 when it is to be drawn, 0 when not, -1 on error. */
static int frontier_row_read(gp_ctx *c, const csvin *in, const int *idx, int fail_col,
                             frontier_row *r)
{
    double on, cheap;
    if (strcmp(csvin_field(in, (size_t)idx[3]), "ok") != 0)
        return 0;
    if (gp_input_num(c, in, idx[4], &r->rate_req_s) != 0 ||
        gp_input_num(c, in, fail_col, &r->rate_fail_req_s) != 0 ||
        gp_input_num(c, in, idx[5], &r->usd_per_h) != 0 || gp_input_num(c, in, idx[6], &on) != 0 ||
        gp_input_num(c, in, idx[7], &cheap) != 0 ||
        gp_input_num(c, in, idx[8], &r->replicas) != 0 ||
        gp_input_num(c, in, idx[9], &r->fleet_usd_per_h) != 0)
        return -1;
    /* A candidate that cannot carry the target at any fleet size has no fleet cost. */
    if (!isfinite(r->rate_req_s) || !isfinite(r->fleet_usd_per_h) || !isfinite(r->replicas))
        return 0;
    r->on_frontier = on == 1;
    r->cheapest = cheap == 1;
    snprintf(r->label, sizeof r->label, "%s %s tp%s", csvin_field(in, (size_t)idx[0]),
             csvin_field(in, (size_t)idx[1]), csvin_field(in, (size_t)idx[2]));
    return 1;
}

static int draw_frontier(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {"gpu",
                                       "precision",
                                       "tp",
                                       "status",
                                       "rate_per_replica",
                                       "cost_per_hour_usd_per_replica",
                                       "on_frontier",
                                       "cheapest",
                                       "replicas",
                                       "cost_per_hour_usd"};
    int idx[10];
    int fail_col = csvin_column(in, "rate_per_replica_fail");
    frontier_row *rows = NULL;
    size_t n = 0, cap = 0;
    int rc = gp_input_columns(c, in, cols, idx, 10);
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        frontier_row r;
        rc = frontier_row_read(c, in, idx, fail_col, &r);
        if (rc <= 0)
            continue;
        rc = 0;
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
    qsort(rows, n, sizeof *rows, frontier_cost_cmp);
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

/* The y axis of rate_search: log or linear, its unit and range, from the values (error
 * bars included) and the limits, so that every limit line sits inside the frame. */
typedef struct search_axis {
    int log_y;
    double div, lo, hi;
    const char *unit;
} search_axis;

static void search_axis_of(const search_row *rows, size_t n, search_axis *ax)
{
    gp_axis yr;
    gp_axis_init(&yr);
    double hi = 0, limit = NAN;
    for (size_t i = 0; i < n; i++) {
        gp_axis_add(&yr, rows[i].value_ms);
        gp_axis_add(&yr, rows[i].limit_ms);
        double top = rows[i].value_ms + gp_ci_or_zero(rows[i].ci_ms);
        hi = isfinite(top) && top > hi ? top : hi;
        if (isfinite(rows[i].limit_ms) && !(limit >= rows[i].limit_ms))
            limit = rows[i].limit_ms;
    }
    ax->log_y = gp_axis_wants_log(&yr);
    ax->div = gp_latency_unit(isfinite(limit) && limit > hi ? limit : hi, &ax->unit);
    hi /= ax->div;
    limit /= ax->div;
    if (ax->log_y) {
        ax->lo = pow(10, floor(log10(yr.min_pos / ax->div)));
        ax->hi = 1.5 * (isfinite(limit) && 1.25 * limit > hi ? 1.25 * limit : hi);
    } else {
        ax->lo = 0;
        ax->hi = gp_top_with_limit(hi, limit);
    }
}

/* Writes rate_search: one line per SLO metric (metric[0..n_metric)) with its limit as a
 * dashed line, from rows[0..n) sorted by metric and rate. */
static int search_plot(gp_ctx *c, const search_row *rows, size_t n, char *const *metric,
                       size_t n_metric)
{
    search_axis ax;
    search_axis_of(rows, n, &ax);
    gp_plot o;
    char title[512];
    gp_folder_title(c, "capacity.csv", "SLO metrics at each rate the capacity search tried", title,
                    sizeof title);
    int rc =
        gp_begin(c, &o, "rate_search", "SLO metrics at each rate the capacity search tried", title);
    if (rc != 0)
        return rc;
    char yl[64];
    snprintf(yl, sizeof yl, "latency (%s%s)", ax.unit, ax.log_y ? ", log scale" : "");
    gp_set_text(&o, "xlabel", "offered rate (req/s)");
    gp_set_text(&o, "ylabel", yl);
    if (ax.log_y)
        fputs("set logscale y\n", o.gp);
    fprintf(o.gp, "set yrange [%.9g:%.9g]\n", ax.lo, ax.hi);
    gp_tick_format(&o, "y", ax.hi);
    fputs("set autoscale xfix\nset offsets graph 0.03, graph 0.03, 0, 0\n", o.gp);
    /* Below the plot: the limits run across the top of it. */
    gp_key(&o, 2 * (int)n_metric, NULL);
    fprintf(o.dat,
            "# columns: offered rate (req/s), value (%s), the low and high ends of its "
            "95%% CI (%s%s)\n",
            ax.unit, ax.unit, ax.log_y ? "; a low end at or below 0 drawn from the bottom" : "");
    gp_draw_begin(&o);
    size_t i = 0;
    while (i < n) {
        size_t m = rows[i].metric, j = i;
        double limit = NAN;
        int block = gp_dat_block(&o, metric[m]);
        for (; j < n && rows[j].metric == m; j++) {
            double v = rows[j].value_ms / ax.div, ci = gp_ci_or_zero(rows[j].ci_ms) / ax.div;
            double low = ax.log_y && !(v - ci > ax.lo) ? ax.lo : v - ci;
            gp_dat_num(o.dat, rows[j].rate_req_s);
            gp_dat_num(o.dat, v);
            gp_dat_num(o.dat, low);
            gp_dat_num(o.dat, v + ci);
            fputc('\n', o.dat);
            if (isnan(limit) && isfinite(rows[j].limit_ms))
                limit = rows[j].limit_ms / ax.div;
        }
        gp_clause(&o);
        fprintf(o.gp,
                "'rate_search.dat' index %d using 1:2:3:4 with yerrorlines lc %zu lw 2 "
                "pt 7 ps 1.3",
                block, m + 1);
        gp_title(&o, metric[m]);
        if (isfinite(limit)) {
            char series[160];
            snprintf(series, sizeof series, "%s limit (%g %s)", metric[m], limit, ax.unit);
            gp_clause(&o);
            fprintf(o.gp, "%.9g with lines lc %zu lw 2 dt 2", limit, m + 1);
            gp_title(&o, series);
        }
        i = j;
    }
    gp_draw_end(&o);
    return gp_commit(c, &o);
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
     "fleet cost at the target rate against capacity per replica of every deployment "
     "candidate, with the cheapest fleet ringed",
     "cost_frontier", draw_frontier},
    {"search.csv", "capsim capacity rate",
     "each SLO metric, with its limit, at every rate the capacity search tried", "rate_search",
     draw_search},
};

const plot_family plot_family_capacity = {"capacity", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
