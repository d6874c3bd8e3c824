/*
 * plot_throughput: the throughput family, drawn from summary.csv (`capsim sweep`) when the
 * offered rate varies: output throughput and the share of requests meeting the SLO against
 * offered load, one line per configuration. Without an SLO there is no share to draw.
 */
#include <stddef.h>

#include "plots/gp.h"
#include "plots/summary.h"

static const summary_load_plot THROUGHPUT_PLOTS[] = {
    {"throughput_vs_load",
     "output token throughput against offered load",
     "Output throughput vs offered load",
     "output throughput (tokens/s)",
     0,
     {SW_OUT_TPUT, -1},
     {"output tokens/s", NULL},
     NULL,
     0,
     "top left"},
    {"slo_attainment_vs_rate",
     "share of requests meeting the SLO against offered rate",
     "Requests meeting the SLO vs offered rate",
     "requests meeting the SLO (%)",
     0,
     {SW_SLO_PCT, -1},
     {"meeting the SLO", NULL},
     NULL,
     0,
     NULL},
};

static int draw_throughput(gp_ctx *c, csvin *in, size_t ncols)
{
    summary_set sw;
    int rc = summary_read(c, in, ncols, &sw);
    if (rc == 0 && sw.n > 1 && sw.rate_varies)
        rc = summary_draw_against_load(c, &sw, THROUGHPUT_PLOTS,
                                       sizeof THROUGHPUT_PLOTS / sizeof THROUGHPUT_PLOTS[0]);
    summary_free(&sw);
    return rc;
}

static const plot_source SOURCES[] = {
    {"summary.csv", "capsim sweep",
     "where the offered rate varies, output throughput and requests meeting the SLO against "
     "offered load, one line per configuration",
     "throughput_vs_load, slo_attainment_vs_rate", draw_throughput},
};

const plot_family plot_family_throughput = {"throughput", SOURCES,
                                            sizeof SOURCES / sizeof SOURCES[0]};
