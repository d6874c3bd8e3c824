/*
 * plot_calibration: the calibration family: predicted against measured latency on log
 * axes, with the line predicted = measured, drawn from fit.csv (`capsim calibrate --out`,
 * TTFT and TPOT per request) or from fit_points.csv (`capsim fit --points`, one point per
 * prefill or decode step). Both give the plot calibration_fit; a folder with both files
 * gets the one of fit_points.csv, drawn last.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plots/gp.h"

/* Draws calibration_fit from pairs (measured, predicted): d[0], d[1] the first series,
 * d[2], d[3] the second, named what[0] and what[1]; frees the vectors. */
static int calibration_plot(gp_ctx *c, gp_dvec d[4], const gp_axis *ax, const char *const what[2])
{
    int rc = 0;
    if (d[0].n == 0 && d[2].n == 0)
        goto done;
    gp_plot o;
    rc = gp_begin(c, &o, "calibration_fit", "measured against predicted latency",
                  "Calibration: predicted against measured latency");
    if (rc == 0) {
        /* In ms, or in s once a time passes 10 s. */
        const char *unit;
        double div = gp_latency_unit(ax->max_pos, &unit);
        char label[96];
        fprintf(o.dat, "# columns: measured (%s), predicted (%s)\n", unit, unit);
        snprintf(label, sizeof label, "measured (%s, log scale)", unit);
        gp_set_text(&o, "xlabel", label);
        snprintf(label, sizeof label, "predicted by the fitted profile (%s, log scale)", unit);
        gp_set_text(&o, "ylabel", label);
        double lo = pow(10, floor(log10(ax->min_pos / div))),
               hi = pow(10, ceil(log10(ax->max_pos / div)));
        fprintf(o.gp,
                "set logscale xy\n"
                "set xrange [%g:%g]\n"
                "set yrange [%g:%g]\n"
                "set key inside top left\n",
                lo, hi, lo, hi);
        gp_draw_begin(&o);
        for (int k = 0; k < 2; k++) {
            if (d[2 * k].n == 0)
                continue;
            int block = gp_dat_block(&o, what[k]);
            for (size_t i = 0; i < d[2 * k].n; i++) {
                gp_dat_num(o.dat, d[2 * k].v[i] / div);
                fputc(' ', o.dat);
                gp_dat_num(o.dat, d[2 * k + 1].v[i] / div);
                fputc('\n', o.dat);
            }
            char series[128];
            snprintf(series, sizeof series, "%s (%zu)", what[k], d[2 * k].n);
            gp_clause(&o);
            fprintf(o.gp, "'calibration_fit.dat' index %d using 1:2 with points pt 7 ps 0.4 lc %d",
                    block, k + 1);
            gp_title(&o, series);
        }
        gp_clause(&o);
        fputs("x with lines dt 2 lc rgb 'black'", o.gp);
        gp_title(&o, "predicted = measured");
        gp_draw_end(&o);
        rc = gp_commit(c, &o);
    }
done:
    for (int k = 0; k < 4; k++)
        free(d[k].v);
    return rc;
}

/* Adds one (measured, predicted) pair to series k of d. */
static int calibration_pair(gp_ctx *c, gp_dvec d[4], gp_axis *ax, int k, double m, double p)
{
    if (!(isfinite(m) && isfinite(p) && m > 0 && p > 0))
        return 0;
    if (gp_dvec_push(&d[2 * k], m) != 0 || gp_dvec_push(&d[2 * k + 1], p) != 0)
        return gp_oom(c);
    gp_axis_add(ax, m);
    gp_axis_add(ax, p);
    return 0;
}

/* fit.csv from `capsim calibrate` on benchmark results: TTFT and TPOT per request. */
static int draw_requests(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {"ttft_ms", "ttft_pred_ms", "tpot_ms", "tpot_pred_ms"};
    int idx[4];
    gp_dvec d[4];
    memset(d, 0, sizeof d);
    gp_axis ax;
    gp_axis_init(&ax);
    int rc = gp_input_columns(c, in, cols, idx, 4);
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        rc = 0;
        for (int k = 0; k < 2 && rc == 0; k++) {
            double m, p;
            if (gp_input_num(c, in, idx[2 * k], &m) != 0 ||
                gp_input_num(c, in, idx[2 * k + 1], &p) != 0)
                rc = -1;
            else
                rc = calibration_pair(c, d, &ax, k, m, p);
        }
    }
    if (rc < 0) {
        for (int k = 0; k < 4; k++)
            free(d[k].v);
        return -1;
    }
    static const char *const what[2] = {"time to first token, requests",
                                        "time per output token, requests"};
    return calibration_plot(c, d, &ax, what);
}

/* fit_points.csv from `capsim fit --points` or calibrate on per-step timings. */
static int draw_steps(gp_ctx *c, csvin *in, size_t ncols)
{
    static const char *const cols[] = {"phase", "measured_ms", "predicted_ms"};
    int idx[3];
    gp_dvec d[4];
    memset(d, 0, sizeof d);
    gp_axis ax;
    gp_axis_init(&ax);
    int rc = gp_input_columns(c, in, cols, idx, 3);
    while (rc == 0 && (rc = gp_input_next(c, in, ncols)) == 1) {
        double m, p;
        int k = strcmp(csvin_field(in, (size_t)idx[0]), "decode") == 0;
        rc = gp_input_num(c, in, idx[1], &m) != 0 || gp_input_num(c, in, idx[2], &p) != 0
                 ? -1
                 : calibration_pair(c, d, &ax, k, m, p);
    }
    if (rc < 0) {
        for (int k = 0; k < 4; k++)
            free(d[k].v);
        return -1;
    }
    static const char *const what[2] = {"prefill steps", "decode steps"};
    return calibration_plot(c, d, &ax, what);
}

static const plot_source SOURCES[] = {
    {"fit.csv", "capsim calibrate --out",
     "predicted against measured TTFT and TPOT, one point per request", "calibration_fit",
     draw_requests},
    {"fit_points.csv", "capsim fit --points",
     "predicted against measured step times, one point per prefill or decode step",
     "calibration_fit", draw_steps},
};

const plot_family plot_family_calibration = {"calibration", SOURCES,
                                             sizeof SOURCES / sizeof SOURCES[0]};
