/*
 * plot_compare: the compare family, drawn from summary.csv (`capsim sweep`) when every row
 * has the same offered rate and there are several configurations: p99 TTFT, p99 TPOT and
 * request throughput of each configuration, as three panels of bars side by side (on linear
 * axes from 0; a latency panel in seconds once its values pass 10 s).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>

#include "plots/gp.h"
#include "plots/summary.h"

/* p99 TTFT, p99 TPOT and request throughput of each configuration, side by side. */
static int compare_plot(gp_ctx *c, const summary_set *sw)
{
    char title[512];
    summary_title(sw, "p99 TTFT, p99 TPOT and request throughput per configuration", title,
                  sizeof title);
    gp_plot o;
    if (gp_begin(c, &o, "compare_configs", "p99 latencies and throughput per configuration",
                 title) != 0)
        return -1;
    static const int shown[3] = {SW_P99_TTFT, SW_P99_TPOT, SW_REQ_TPUT};
    /* Each latency panel in ms, or in s once its largest value passes 10 s. */
    double div[3] = {1, 1, 1};
    const char *unit[3] = {"ms", "ms", ""};
    for (int m = 0; m < 2; m++) {
        double top = 0;
        for (size_t i = 0; i < sw->n; i++)
            if (sw->rows[i].v[shown[m]] > top)
                top = sw->rows[i].v[shown[m]];
        div[m] = gp_latency_unit(top, &unit[m]);
    }
    fprintf(o.dat,
            "# columns: configuration, p99_ttft_ms (in %s), CI, p99_tpot_ms (in %s), CI, "
            "request_throughput, CI (95%% half-widths)\n",
            unit[0], unit[1]);
    gp_dat_block(&o, "one row per point, in configuration order");
    for (size_t i = 0; i < sw->n; i++) {
        const summary_row *r = &sw->rows[i];
        gp_dat_quote(o.dat, sw->config[r->config]);
        for (int m = 0; m < 3; m++) {
            gp_dat_num(o.dat, r->v[shown[m]] / div[m]);
            gp_dat_num(o.dat, gp_ci_or_zero(r->ci[shown[m]]) / div[m]);
        }
        fputc('\n', o.dat);
    }
    fprintf(o.gp,
            "set style fill solid 0.65 border -1\n"
            "set boxwidth 0.6\n"
            "set xrange [-0.6:%.1f]\n"
            "set yrange [0:*]\n"
            "set offsets 0, 0, graph 0.15, 0\n"
            "set xtics rotate by 45 right font ',10'\n"
            "set key inside top center font ',10'\n"
            "unset title\n",
            (double)sw->n - 0.4);
    /* The panels share fixed margins so that they get the same width; the bottom one
     * grows with the longest configuration label, which is written at 45 degrees. */
    size_t longest = 0;
    for (size_t k = 0; k < sw->n_config; k++)
        if (strlen(sw->config[k]) > longest)
            longest = strlen(sw->config[k]);
    double bottom = 0.08 + 0.009 * (double)longest;
    bottom = bottom < 0.15 ? 0.15 : bottom > 0.5 ? 0.5 : bottom;
    gp_draw_begin(&o);
    fprintf(o.gp, "    set multiplot layout 1,3 margins 0.1,0.98,%.3f,0.88 spacing 0.1,0 title ",
            bottom);
    gp_quote(o.gp, title);
    fputs(" font ',15'\n", o.gp);
    char ylabel[3][64];
    snprintf(ylabel[0], sizeof ylabel[0], "p99 TTFT (%s)", unit[0]);
    snprintf(ylabel[1], sizeof ylabel[1], "p99 TPOT (%s)", unit[1]);
    snprintf(ylabel[2], sizeof ylabel[2], "request throughput (req/s)");
    static const char *const series[3] = {"p99 TTFT", "p99 TPOT", "request throughput"};
    for (int m = 0; m < 3; m++) {
        fputs("    set ylabel ", o.gp);
        gp_quote(o.gp, ylabel[m]);
        fprintf(o.gp,
                "\n    plot 'compare_configs.dat' using 0:%d:%d:xtic(1) with boxerrorbars "
                "lc %d",
                2 + 2 * m, 3 + 2 * m, m + 1);
        gp_title(&o, series[m]);
        fputc('\n', o.gp);
    }
    fputs("    unset multiplot", o.gp);
    gp_draw_end(&o);
    return gp_commit(c, &o);
}
static int draw_compare(gp_ctx *c, csvin *in, size_t ncols)
{
    summary_set sw;
    int rc = summary_read(c, in, ncols, &sw);
    if (rc == 0 && sw.n > 1 && !sw.rate_varies && sw.n_config > 1)
        rc = compare_plot(c, &sw);
    summary_free(&sw);
    return rc;
}

static const plot_source SOURCES[] = {
    {"summary.csv", "capsim sweep",
     "where every point has the same offered rate, p99 TTFT, p99 TPOT and request throughput "
     "per configuration, as bars",
     "compare_configs", draw_compare},
};

const plot_family plot_family_compare = {"compare", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
