/*
 * plot_latency: the latency family, drawn from summary.csv (`capsim sweep`) when the
 * offered rate varies: p50 and p99 TTFT, end-to-end latency and TPOT against offered load,
 * one line per configuration, with the SLO's targets as dotted lines when every row shares
 * the SLO.
 */
#include <stddef.h>

#include "plots/gp.h"
#include "plots/summary.h"

static const summary_load_plot LATENCY_PLOTS[] = {
    {"latency_vs_load",
     "p50 and p99 time to first token against offered load",
     "Time to first token vs offered load",
     "TTFT",
     1,
     {SW_P50_TTFT, SW_P99_TTFT},
     {"p50 TTFT", "p99 TTFT"},
     "ttft",
     1,
     "top left"},
    {"e2e_vs_load",
     "p50 and p99 end-to-end latency against offered load",
     "End-to-end latency vs offered load",
     "end-to-end latency",
     1,
     {SW_P50_E2E, SW_P99_E2E},
     {"p50 E2E", "p99 E2E"},
     "e2el",
     1,
     "top left"},
    {"tpot_vs_load",
     "p50 and p99 time per output token against offered load",
     "Time per output token vs offered load",
     "TPOT",
     1,
     {SW_P50_TPOT, SW_P99_TPOT},
     {"p50 TPOT", "p99 TPOT"},
     "tpot",
     1,
     "top left"},
};

static int draw_latency(gp_ctx *c, csvin *in, size_t ncols)
{
    summary_set sw;
    int rc = summary_read(c, in, ncols, &sw);
    if (rc == 0 && sw.n > 1 && sw.rate_varies)
        rc = summary_draw_against_load(c, &sw, LATENCY_PLOTS,
                                       sizeof LATENCY_PLOTS / sizeof LATENCY_PLOTS[0]);
    summary_free(&sw);
    return rc;
}

static const plot_source SOURCES[] = {
    {"summary.csv", "capsim sweep",
     "where the offered rate varies, p50 and p99 TTFT, end-to-end latency and TPOT against "
     "offered load, one line per configuration",
     "latency_vs_load, e2e_vs_load, tpot_vs_load", draw_latency},
};

const plot_family plot_family_latency = {"latency", SOURCES, sizeof SOURCES / sizeof SOURCES[0]};
