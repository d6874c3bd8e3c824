/*
 * fitrun: the step-time coefficients of one GPU fitted to measured prefill and decode
 * times (Splitwise's profiling format; models/fit.h does the fit), printed with their
 * intervals and the error per setting, and written as a profile row and a table of
 * points. `capsim fit` calls it, and `capsim calibrate` on per-step timings.
 *
 * Failures end as experiment.h says: a plan_status, the reason in a plan_error.
 */
#ifndef CAPSIM_FITRUN_H
#define CAPSIM_FITRUN_H

#include <stdio.h>

#include "sim/plan/experiment.h"

typedef struct fitrun_options {
    const char *data;    /* the measurements */
    const char *gpu;     /* the catalog GPU whose rows are fitted */
    const char *out;     /* the profile row to write, or NULL */
    const char *points;  /* measured against predicted per setting to write, or NULL */
    const char *catalog; /* the folder with models.csv and gpus.csv */
    int include_pcap;    /* keep power-capped rows (hardware ending in -pcap) */
} fitrun_options;

/* Fits, prints the points and the coefficients to out, and writes the files asked for
 * (both or neither, atomically). A catalog or measurements file that cannot be read is
 * PLAN_BAD_INPUT; a fit that fails or a file that cannot be written is PLAN_FAILED. */
plan_status fitrun_run(const fitrun_options *o, FILE *out, plan_error *e);

#endif
