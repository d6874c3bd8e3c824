/*
 * calibration: a hardware profile from the user's own serving benchmarks (vLLM, AIPerf,
 * genai-perf, GuideLLM or a plain CSV; models/bench.h reads them), as a library call. The
 * deployment measured is a scenario (run_spec). Where the measured kernels price its steps
 * (models/kstep.h), the coefficients on top of them are fitted (calib_run_kernels) and
 * written as kernel_coeffs.csv (models/kcoeffs.h); else the roofline's are fitted from its
 * profile (calib_run) and written as profile.csv. Both are reported with a self-check (a
 * parametric bootstrap through the serving simulation, which also holds the kernel
 * coefficients it finds unstable), write fit.csv and coefficients.csv, and are optionally
 * validated by replaying every run through the serving simulation with what was written
 * (replay.csv). `capsim calibrate` calls it (per-step timings go to
 * fitrun.h instead).
 *
 * Failures end as experiment.h says: a plan_status, the reason in a plan_error. A poor
 * fit is not a failure of the calibration but its finding: calibration_outcome says so.
 */
#ifndef CAPSIM_CALIBRATION_H
#define CAPSIM_CALIBRATION_H

#include <stdio.h>

#include "models/bench.h"
#include "models/calibrate.h"
#include "sim/plan/experiment.h"
#include "sim/plan/runspec.h"

#define CALIBRATION_MAX_FILES 16

typedef struct calibration_options {
    const char *data[CALIBRATION_MAX_FILES]; /* the benchmark files */
    int n_data;
    bench_format format;    /* BENCH_AUTO: each file's own */
    int validate;           /* replay every run with the profile written (needs out_dir) */
    int force;              /* write the profile (and validate) even when the fit is poor */
    calib_poor_limits poor; /* what a poor fit is */
} calibration_options;

typedef struct calibration_outcome {
    int reported; /* the fit was reported and its files written */
    int poor;     /* the fit is poor: no profile unless forced, no replay */
} calibration_outcome;

/* Calibrates r (whose time series it turns off) on the files of o, printing the report to
 * out and warnings about the files to err, and with r->out_dir writing the files. A
 * scenario that does not resolve, the linear step model or a file that cannot
 * be read is PLAN_BAD_INPUT; a fit, file or replay that fails is PLAN_FAILED. */
plan_status calibration_run(const calibration_options *o, run_spec *r, FILE *out, FILE *err,
                            calibration_outcome *oc, plan_error *e);

#endif
