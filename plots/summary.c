/*
 * summary: summary.csv from `capsim sweep` read into configurations and points, and the
 * plots of its figures against offered load (see summary.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "plots/summary.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const SWEEP_METRIC_COL[SW_N] = {
    "p50_ttft_ms", "p99_ttft_ms",       "p50_e2el_ms",        "p99_e2el_ms",       "p50_tpot_ms",
    "p99_tpot_ms", "output_throughput", "request_throughput", "slo_attainment_pct"};

static int in_list(const char *s, const char *const *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, list[i]) == 0)
            return 1;
    return 0;
}

/* The settings columns end where the derived figures begin; the first of these marks it. */
static const char *const SWEEP_END_COLS[] = {"kv_blocks", "kv_tokens", "weight_gb_per_gpu",
                                             "cost_per_hour_usd", "request_throughput"};
/* Columns that differ between points without making a different configuration. */
static const char *const SWEEP_SKIP_COLS[] = {"point", "status", "reason", "seed"};

void summary_free(summary_set *sw)
{
    for (size_t i = 0; i < sw->n; i++) {
        if (sw->rows[i].set != NULL)
            for (size_t k = 0; k < sw->n_set; k++)
                free(sw->rows[i].set[k]);
        free(sw->rows[i].set);
    }
    free(sw->rows);
    free(sw->set_col);
    free(sw->set_name);
    free(sw->set_name_buf);
    for (size_t i = 0; i < sw->n_config; i++)
        free(sw->config[i]);
    free(sw->config);
}

/* Finds the "rate=" item of an arrival spec ("poisson:rate=10", "gamma:rate=5,cv=2").
 * Returns a pointer to it, or NULL; *end is set to just past its value. */
static const char *arrival_rate_item(const char *spec, const char **end)
{
    for (const char *p = strstr(spec, "rate="); p != NULL; p = strstr(p + 1, "rate=")) {
        if (p != spec && p[-1] != ':' && p[-1] != ',')
            continue;
        const char *e = strchr(p, ',');
        *end = e ? e : p + strlen(p);
        return p;
    }
    return NULL;
}

static double arrival_rate(const char *spec)
{
    const char *end;
    const char *p = arrival_rate_item(spec, &end);
    if (p == NULL)
        return NAN;
    char *stop;
    double v = strtod(p + 5, &stop);
    return stop != p + 5 && stop == end && isfinite(v) ? v : NAN;
}

/* The arrival spec without its rate ("gamma:cv=2" for "gamma:rate=5,cv=2"), so that a sweep
 * of arrival processes still tells its configurations apart. Returns a malloc'd string. */
static char *arrival_without_rate(const char *spec)
{
    const char *end;
    const char *p = arrival_rate_item(spec, &end);
    size_t n = strlen(spec);
    char *out = malloc(n + 1);
    if (out == NULL)
        return NULL;
    if (p == NULL) {
        memcpy(out, spec, n + 1);
        return out;
    }
    size_t head = (size_t)(p - spec);
    memcpy(out, spec, head);
    const char *tail = *end == ',' ? end + 1 : end;
    memcpy(out + head, tail, strlen(tail) + 1);
    size_t len = strlen(out);
    if (len > 0 && (out[len - 1] == ':' || out[len - 1] == ','))
        out[len - 1] = '\0';
    return out;
}

/* Picks the settings columns out of the header: from `model` (or after `reason`) up to the
 * first derived figure, less those in SWEEP_SKIP_COLS. */
static int sweep_columns(gp_ctx *c, const csvin *in, size_t ncols, summary_set *sw)
{
    size_t first = 0, end = ncols;
    int model = csvin_column(in, "model"), reason = csvin_column(in, "reason");
    if (model >= 0)
        first = (size_t)model;
    else if (reason >= 0)
        first = (size_t)reason + 1;
    for (size_t j = first; j < ncols; j++)
        if (in_list(csvin_header(in, j), SWEEP_END_COLS,
                    sizeof SWEEP_END_COLS / sizeof SWEEP_END_COLS[0])) {
            end = j;
            break;
        }
    size_t names_len = 0;
    for (size_t j = first; j < end; j++)
        names_len += strlen(csvin_header(in, j)) + 1;
    sw->set_col = malloc((end - first + 1) * sizeof *sw->set_col);
    sw->set_name = malloc((end - first + 1) * sizeof *sw->set_name);
    sw->set_name_buf = malloc(names_len + 1);
    if (sw->set_col == NULL || sw->set_name == NULL || sw->set_name_buf == NULL)
        return gp_oom(c);
    char *buf = sw->set_name_buf;
    for (size_t j = first; j < end; j++) {
        const char *name = csvin_header(in, j);
        if (in_list(name, SWEEP_SKIP_COLS, sizeof SWEEP_SKIP_COLS / sizeof SWEEP_SKIP_COLS[0]))
            continue;
        size_t len = strlen(name);
        memcpy(buf, name, len + 1);
        sw->set_col[sw->n_set] = (int)j;
        sw->set_name[sw->n_set] = buf;
        sw->n_set++;
        buf += len + 1;
    }
    return 0;
}

/* Reads the ok rows: their settings, offered rate and the figures the plots draw. */
static int sweep_read(gp_ctx *c, csvin *in, size_t ncols, summary_set *sw)
{
    if (sweep_columns(c, in, ncols, sw) != 0)
        return -1;
    int status = csvin_column(in, "status");
    int arrival = csvin_column(in, "arrival");
    int slo = csvin_column(in, "slo");
    int saturated = csvin_column(in, "saturated");
    int col[SW_N], ci_col[SW_N];
    for (int m = 0; m < SW_N; m++) {
        char name[64];
        col[m] = csvin_column(in, SWEEP_METRIC_COL[m]);
        snprintf(name, sizeof name, "%s_ci95", SWEEP_METRIC_COL[m]);
        ci_col[m] = csvin_column(in, name);
    }
    int rc;
    while ((rc = gp_input_next(c, in, ncols)) == 1) {
        /* An error row has empty figures; a run's summary has no status column. */
        if (status >= 0 && strcmp(csvin_field(in, (size_t)status), "ok") != 0)
            continue;
        summary_row *rows = gp_grow(sw->rows, sw->n, &sw->cap, sizeof *rows);
        if (rows == NULL)
            return gp_oom(c);
        sw->rows = rows;
        summary_row *r = &sw->rows[sw->n];
        memset(r, 0, sizeof *r);
        r->order = sw->n;
        sw->n++; /* counted now so that summary_free releases a half-read row */
        r->set = calloc(sw->n_set + 1, sizeof *r->set);
        if (r->set == NULL)
            return gp_oom(c);
        r->rate_req_s = arrival >= 0 ? arrival_rate(csvin_field(in, (size_t)arrival)) : NAN;
        sw->any_slo |= slo >= 0 && csvin_field(in, (size_t)slo)[0] != '\0';
        r->saturated = saturated >= 0 && strcmp(csvin_field(in, (size_t)saturated), "1") == 0;
        sw->any_saturated |= r->saturated;
        for (int m = 0; m < SW_N; m++)
            if (gp_input_num(c, in, col[m], &r->v[m]) != 0 ||
                gp_input_num(c, in, ci_col[m], &r->ci[m]) != 0)
                return -1;
        for (size_t k = 0; k < sw->n_set; k++) {
            const char *f = csvin_field(in, (size_t)sw->set_col[k]);
            r->set[k] =
                strcmp(sw->set_name[k], "arrival") == 0 ? arrival_without_rate(f) : strdup(f);
            if (r->set[k] == NULL)
                return gp_oom(c);
        }
    }
    return rc;
}

/* Appends "name=value" to buf[len] after a space when buf is not empty. */
static void label_append(char *buf, size_t len, const char *name, const char *value)
{
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    snprintf(buf + used, len - used, "%s%s=%s", used ? " " : "", name, value);
}

/* Names each row's configuration by the settings that vary among the rows, and notes
 * whether the offered rate varies and which settings every row shares. */
static int sweep_configs(gp_ctx *c, summary_set *sw)
{
    int *varies = calloc(sw->n_set + 1, sizeof *varies);
    if (varies == NULL)
        return gp_oom(c);
    for (size_t k = 0; k < sw->n_set; k++)
        for (size_t i = 1; i < sw->n && !varies[k]; i++)
            varies[k] = strcmp(sw->rows[i].set[k], sw->rows[0].set[k]) != 0;

    const char *model = NULL, *gpu = NULL;
    for (size_t k = 0; k < sw->n_set; k++) {
        if (varies[k])
            continue;
        const char *v = sw->rows[0].set[k];
        if (strcmp(sw->set_name[k], "model") == 0 && *v)
            model = v;
        else if (strcmp(sw->set_name[k], "gpu") == 0 && *v)
            gpu = v;
        else if (strcmp(sw->set_name[k], "slo") == 0)
            snprintf(sw->slo, sizeof sw->slo, "%s", v);
    }
    if (model && gpu)
        snprintf(sw->fixed, sizeof sw->fixed, "%s on %s", model, gpu);
    else if (model || gpu)
        snprintf(sw->fixed, sizeof sw->fixed, "%s", model ? model : gpu);

    double rate0 = NAN;
    for (size_t i = 0; i < sw->n && !sw->rate_varies; i++) {
        double r = sw->rows[i].rate_req_s;
        if (isnan(r))
            continue;
        if (isnan(rate0))
            rate0 = r;
        else if (r != rate0)
            sw->rate_varies = 1;
    }

    char label[512];
    size_t cap = 0;
    for (size_t i = 0; i < sw->n; i++) {
        label[0] = '\0';
        for (size_t k = 0; k < sw->n_set; k++)
            if (varies[k])
                label_append(label, sizeof label, sw->set_name[k], sw->rows[i].set[k]);
        size_t j = 0;
        while (j < sw->n_config && strcmp(sw->config[j], label) != 0)
            j++;
        if (j == sw->n_config) {
            char **cfg = gp_grow(sw->config, sw->n_config, &cap, sizeof *cfg);
            if (cfg == NULL || (cfg[j] = strdup(label)) == NULL) {
                if (cfg != NULL)
                    sw->config = cfg;
                free(varies);
                return gp_oom(c);
            }
            sw->config = cfg;
            sw->n_config++;
        }
        sw->rows[i].config = j;
    }
    free(varies);
    return 0;
}

/* Orders rows by configuration, then offered rate (rows without one last), then position. */
static int sweep_row_cmp(const void *a, const void *b)
{
    const summary_row *x = a, *y = b;
    if (x->config != y->config)
        return x->config < y->config ? -1 : 1;
    int xn = isnan(x->rate_req_s), yn = isnan(y->rate_req_s);
    if (xn != yn)
        return xn - yn;
    if (!xn && x->rate_req_s != y->rate_req_s)
        return x->rate_req_s < y->rate_req_s ? -1 : 1;
    return x->order < y->order ? -1 : x->order > y->order;
}

void summary_title(const summary_set *sw, const char *title, char *out, size_t len)
{
    if (sw->fixed[0])
        snprintf(out, len, "%s (%s)", title, sw->fixed);
    else
        snprintf(out, len, "%s", title);
}

/* The y axis of a plot against load: its range, unit and scale, from the figures it draws
 * and the SLO limits it marks. */
typedef struct load_axis {
    int n_metrics, n_slo, log_y;
    const char *pct[2]; /* the percentile of each SLO limit ("p50", "p99") */
    double limit[2];    /* each limit, in the axis unit */
    double div;         /* ms per axis unit for latencies (1 or 1000), else 1 */
    const char *unit;   /* the axis unit, for latencies */
    double lo, hi;      /* the range; lo is also where a log axis clips error bars */
} load_axis;

/* Finds the axis of lp from sw; returns 0 when there is nothing to draw. */
static int load_axis_of(const summary_set *sw, const summary_load_plot *lp, load_axis *ax)
{
    memset(ax, 0, sizeof *ax);
    ax->n_metrics = lp->metric[1] < 0 ? 1 : 2;
    gp_axis yr;
    gp_axis_init(&yr);
    double hi = 0;
    int any = 0;
    for (size_t i = 0; i < sw->n; i++) {
        if (isnan(sw->rows[i].rate_req_s))
            continue;
        for (int m = 0; m < ax->n_metrics; m++) {
            double v = sw->rows[i].v[lp->metric[m]];
            double top = v + gp_ci_or_zero(sw->rows[i].ci[lp->metric[m]]);
            any |= isfinite(v);
            gp_axis_add(&yr, v);
            hi = isfinite(top) && top > hi ? top : hi;
        }
    }
    if (!any)
        return 0;
    double limit_max = NAN;
    static const char *const pcts[2] = {"p50", "p99"};
    for (int k = 0; k < 2 && lp->slo_metric && sw->slo[0]; k++) {
        double l = gp_slo_limit_ms(sw->slo, lp->slo_metric, pcts[k]);
        if (isfinite(l)) {
            ax->pct[ax->n_slo] = pcts[k];
            ax->limit[ax->n_slo++] = l;
            limit_max = isfinite(limit_max) && limit_max > l ? limit_max : l;
        }
    }
    ax->div = 1;
    if (lp->latency) {
        double top = isfinite(limit_max) && limit_max > hi ? limit_max : hi;
        ax->div = gp_latency_unit(top, &ax->unit);
    }
    for (int k = 0; k < ax->n_slo; k++)
        ax->limit[k] /= ax->div;
    hi /= ax->div;
    limit_max /= ax->div;
    ax->log_y = lp->log_ok && gp_axis_wants_log(&yr);
    if (lp->metric[0] == SW_SLO_PCT) {
        ax->lo = 0;
        ax->hi = 105;
    } else if (ax->log_y) {
        ax->lo = pow(10, floor(log10(yr.min_pos / ax->div)));
        double top = isfinite(limit_max) && 1.25 * limit_max > hi ? 1.25 * limit_max : hi;
        ax->hi = 1.5 * top;
    } else {
        ax->lo = 0;
        ax->hi = gp_top_with_limit(hi, limit_max);
    }
    return 1;
}

/* The script's settings of a plot against load: labels, ranges, ticks and key. */
static void load_settings(gp_plot *o, const summary_set *sw, const summary_load_plot *lp,
                          const load_axis *ax)
{
    char yl[160];
    if (lp->latency)
        snprintf(yl, sizeof yl, "%s (%s%s)", lp->ylabel, ax->unit, ax->log_y ? ", log scale" : "");
    else
        snprintf(yl, sizeof yl, "%s%s", lp->ylabel, ax->log_y ? ", log scale" : "");
    gp_set_text(o, "xlabel", "offered load (req/s)");
    gp_set_text(o, "ylabel", yl);
    if (ax->log_y)
        fputs("set logscale y\n", o->gp);
    fprintf(o->gp, "set yrange [%.9g:%.9g]\n", ax->lo, ax->hi);
    gp_tick_format(o, "y", ax->hi);
    fputs("set autoscale xfix\nset offsets graph 0.03, graph 0.03, 0, 0\n", o->gp);
    gp_key(o, (int)sw->n_config * ax->n_metrics + ax->n_slo + sw->any_saturated, lp->key_where);
}

/* The data rows of one configuration, rows [i, j): the rate, then each figure with the low
 * and high ends of its 95% interval, in the axis unit. On a log axis a low end at or below
 * zero is drawn from the bottom of the axis. */
static void load_rows(gp_plot *o, const summary_set *sw, const summary_load_plot *lp,
                      const load_axis *ax, size_t i, size_t j)
{
    for (size_t k = i; k < j; k++) {
        const summary_row *r = &sw->rows[k];
        gp_dat_num(o->dat, r->rate_req_s);
        for (int m = 0; m < ax->n_metrics; m++) {
            double v = r->v[lp->metric[m]] / ax->div;
            double ci = gp_ci_or_zero(r->ci[lp->metric[m]]) / ax->div;
            double low = v - ci;
            if (ax->log_y && !(low > ax->lo))
                low = ax->lo;
            gp_dat_num(o->dat, v);
            gp_dat_num(o->dat, low);
            gp_dat_num(o->dat, v + ci);
        }
        /* The last figure again where the point is saturated, for its mark. */
        if (sw->any_saturated)
            gp_dat_num(o->dat, r->saturated ? r->v[lp->metric[ax->n_metrics - 1]] / ax->div : NAN);
        fputc('\n', o->dat);
    }
}

/* The SLO limits as lines across the plot. */
static void load_limits(gp_plot *o, const summary_load_plot *lp, const load_axis *ax)
{
    for (int s = 0; s < ax->n_slo; s++) {
        char series[128], metric_up[16];
        size_t k = 0;
        for (; lp->slo_metric[k] && k + 1 < sizeof metric_up; k++)
            metric_up[k] = (char)(lp->slo_metric[k] - 'a' + 'A');
        metric_up[k] = '\0';
        snprintf(series, sizeof series, "SLO: %s %s <= %g %s", ax->pct[s],
                 strcmp(metric_up, "E2EL") == 0 ? "E2E" : metric_up, ax->limit[s], ax->unit);
        gp_clause(o);
        fprintf(o->gp, "%.9g with lines lc rgb '#c00000' lw 2 dt %d", ax->limit[s],
                strcmp(ax->pct[s], "p99") == 0 ? 3 : 4);
        gp_title(o, series);
    }
}

/* Crosses on the saturated points of one configuration (rows [i, j), in data block
 * `block`), titled once for the whole plot. */
static void load_saturated_marks(gp_plot *o, const summary_set *sw, const summary_load_plot *lp,
                                 const load_axis *ax, int block, size_t i, size_t j)
{
    int first = 1;
    for (size_t k = 0; k < i; k++)
        first &= !(sw->rows[k].saturated && !isnan(sw->rows[k].rate_req_s));
    int any = 0;
    for (size_t k = i; k < j; k++)
        any |= sw->rows[k].saturated;
    if (!any)
        return;
    gp_clause(o);
    fprintf(o->gp, "'%s.dat' index %d using 1:%d with points lc rgb '#c00000' pt 2 ps 2.5 lw 2",
            lp->name, block, 2 + 3 * ax->n_metrics);
    if (first)
        gp_title(o, "saturated: carried < 0.95 x offered, latencies not steady-state");
    else
        fputs(" notitle", o->gp);
}

/* One plot against offered load. */
static int draw_against_load(gp_ctx *c, const summary_set *sw, const summary_load_plot *lp)
{
    load_axis ax;
    /* Requests meeting the SLO mean nothing without an SLO. */
    if (lp->metric[0] == SW_SLO_PCT && !sw->any_slo)
        return 0;
    if (!load_axis_of(sw, lp, &ax))
        return 0;
    char title[512];
    summary_title(sw, lp->title, title, sizeof title);
    gp_plot o;
    if (gp_begin(c, &o, lp->name, lp->what, title) != 0)
        return -1;
    load_settings(&o, sw, lp, &ax);
    fputs("# columns: offered load (req/s)", o.dat);
    for (int m = 0; m < ax.n_metrics; m++)
        fprintf(o.dat, ", %s%s%s%s, the low and high ends of its 95%% CI%s",
                SWEEP_METRIC_COL[lp->metric[m]], lp->latency ? " (in " : "",
                lp->latency ? ax.unit : "", lp->latency ? ")" : "",
                ax.log_y ? " (a low end at or below 0 drawn from the bottom of the axis)" : "");
    if (sw->any_saturated)
        fputs(", the last figure again at a saturated point (NaN elsewhere)", o.dat);
    fputc('\n', o.dat);

    gp_draw_begin(&o);
    size_t i = 0;
    while (i < sw->n) {
        size_t cfg = sw->rows[i].config, j = i;
        while (j < sw->n && sw->rows[j].config == cfg && !isnan(sw->rows[j].rate_req_s))
            j++;
        if (j > i) {
            int block = gp_dat_block(&o, sw->config[cfg][0] ? sw->config[cfg] : "all points");
            load_rows(&o, sw, lp, &ax, i, j);
            for (int m = 0; m < ax.n_metrics; m++) {
                /* One colour per configuration; p50 dashed with open points. */
                int dashed = ax.n_metrics == 2 && m == 0;
                gp_clause(&o);
                fprintf(o.gp,
                        "'%s.dat' index %d using 1:%d:%d:%d with yerrorlines lc %zu lw 2 dt %d "
                        "pt %d ps 1.2",
                        lp->name, block, 2 + 3 * m, 3 + 3 * m, 4 + 3 * m, cfg + 1, dashed ? 2 : 1,
                        dashed ? 6 : 7);
                char series[600];
                const char *cl = sw->config[cfg];
                if (ax.n_metrics == 1 && !cl[0] && lp->metric[0] == SW_SLO_PCT && sw->slo[0])
                    snprintf(series, sizeof series, "%s (%s)", lp->series[0], sw->slo);
                else if (ax.n_metrics == 1)
                    snprintf(series, sizeof series, "%s", cl[0] ? cl : lp->series[0]);
                else if (cl[0])
                    snprintf(series, sizeof series, "%s, %s", lp->series[m], cl);
                else
                    snprintf(series, sizeof series, "%s", lp->series[m]);
                gp_title(&o, series);
            }
            if (sw->any_saturated)
                load_saturated_marks(&o, sw, lp, &ax, block, i, j);
        }
        while (j < sw->n && sw->rows[j].config == cfg)
            j++;
        i = j;
    }
    load_limits(&o, lp, &ax);
    gp_draw_end(&o);
    return gp_commit(c, &o);
}

int summary_draw_against_load(gp_ctx *c, const summary_set *sw, const summary_load_plot *plots,
                              size_t n)
{
    for (size_t p = 0; p < n; p++)
        if (draw_against_load(c, sw, &plots[p]) != 0)
            return -1;
    return 0;
}

int summary_read(gp_ctx *c, csvin *in, size_t ncols, summary_set *sw)
{
    memset(sw, 0, sizeof *sw);
    int rc = sweep_read(c, in, ncols, sw);
    if (rc == 0 && sw->n > 1)
        rc = sweep_configs(c, sw);
    if (rc == 0 && sw->n > 1)
        qsort(sw->rows, sw->n, sizeof *sw->rows, sweep_row_cmp);
    return rc;
}
