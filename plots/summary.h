/*
 * summary: summary.csv from `capsim sweep` read into configurations and points, for the
 * plot families that draw it (latency, throughput, compare; internal to plots/).
 *
 * Only rows with status ok are kept (a run's summary has no status column: all its rows
 * are). Saturated rows (the saturated column) are kept and drawn, each marked with a cross,
 * so that a latency that grows with the run's length is not read as a steady-state one.
 * The offered rate of a row is the number after `rate=` in its arrival column. A
 * configuration is the set of setting columns (from `model` up to the first derived
 * figure) whose values differ between rows, less the seed and the rate itself; it is
 * named "name=value ..." by those settings. After summary_read the rows are sorted by
 * configuration, then offered rate (rows without one last), then position in the file.
 */
#ifndef CAPSIM_PLOTS_SUMMARY_H
#define CAPSIM_PLOTS_SUMMARY_H

#include "plots/gp.h"

/* The figures read from each row, each with its `X_ci95` half-width when there is one. */
enum {
    SW_P50_TTFT,
    SW_P99_TTFT,
    SW_P50_E2E,
    SW_P99_E2E,
    SW_P50_TPOT,
    SW_P99_TPOT,
    SW_OUT_TPUT,
    SW_REQ_TPUT,
    SW_SLO_PCT,
    SW_N
};

typedef struct summary_row {
    double rate_req_s; /* offered rate from the arrival column; NaN when it names none */
    int saturated;     /* the saturated column says 1 (sim/serve/result.h) */
    double v[SW_N];
    double ci[SW_N];
    char **set;    /* value of each settings column (owned) */
    size_t config; /* index into summary_set.config */
    size_t order;  /* position in the file, so that sorting keeps ties in order */
} summary_row;

typedef struct summary_set {
    summary_row *rows;
    size_t n, cap;
    size_t n_set;
    int *set_col;          /* settings columns: index in the header */
    const char **set_name; /* and name (pointing into set_name_buf) */
    char *set_name_buf;
    char **config; /* label of each distinct configuration ("precision=fp8"), owned */
    size_t n_config;
    int rate_varies;
    char fixed[256];   /* model and GPU when every row shares them, for titles */
    char slo[256];     /* the SLO text when every row shares it */
    int any_slo;       /* some row has an SLO (a file without the slo column has none) */
    int any_saturated; /* some row is saturated: the plots mark those points */
} summary_set;

/* Reads the ok rows of the summary.csv whose header in has read into sw (which it
 * initialises) and, when there are at least two, names their configurations and sorts
 * them. Returns 0 or -1 with a message; free sw with summary_free either way. */
int summary_read(gp_ctx *c, csvin *in, size_t ncols, summary_set *sw);
void summary_free(summary_set *sw);

/* Title with the shared model and GPU appended, when there are any. */
void summary_title(const summary_set *sw, const char *title, char *out, size_t len);

/* A plot of figures against offered load, one line per configuration and metric. */
typedef struct summary_load_plot {
    const char *name;
    const char *what; /* for the script's head comment */
    const char *title;
    const char *ylabel; /* with its unit, or without one for a latency */
    int latency;        /* figures in ms, drawn in ms or, past 10 s, in s */
    int metric[2];      /* metric[1] < 0: one metric */
    const char *series[2];
    const char *slo_metric; /* "ttft": draw the p50/p99 targets of the SLO; NULL: none */
    int log_ok;             /* a wide range may get a log y axis */
    const char *key_where;  /* NULL: below the plot, as no corner is reliably empty */
} summary_load_plot;

/* Draws each of plots[0..n) from sw, whose offered rate varies, in turn; a plot whose
 * figures are all missing is left out. Returns 0 or -1 with a message. */
int summary_draw_against_load(gp_ctx *c, const summary_set *sw, const summary_load_plot *plots,
                              size_t n);

#endif
