/*
 * calibrate: fitting the step-time coefficients to latencies a client measured (a
 * benchmark of the user's own deployment, read by bench.h), rather than to per-step
 * timings.
 *
 * A client sees, per request, when it was sent, its time to first token, its time per
 * output token and its end-to-end latency. The engine's steps are not visible, so each
 * run's timeline is rebuilt from the requests:
 *   - send times: from the file; else, with a concurrency limit, the client's own rule
 *     (the next request goes out when one of the C in flight finishes); else, at a fixed
 *     rate, evenly spaced at 1/rate (an approximation, reported); else all at once;
 *   - a request decodes from its first token to its last; over that stretch the other
 *     requests decoding with it and the prompts prefilled meanwhile are counted, as time
 *     averages. Its time per output token is then one step of that average shape;
 *   - a request's time to first token is a step that prefills it beside the requests
 *     decoding when it arrived, plus half a decode step on average (the step in flight
 *     when it arrived). Requests that arrived behind a queue also waited for their turn,
 *     which a client cannot see: they are left out of the fit (and reported).
 * These points go to fit_run (robust relative least squares), which gives the
 * coefficients and their 95% intervals. The noise spread is the robust spread of the
 * residuals of single-step points (TTFT of requests that found the engine idle).
 */
#ifndef CAPSIM_CALIBRATE_H
#define CAPSIM_CALIBRATE_H

#include <stddef.h>

#include "models/bench.h"
#include "models/fit.h"
#include "models/kcalib.h"
#include "models/steptime.h"

enum { CAL_TTFT, CAL_TPOT, CAL_E2E, CAL_NMETRIC };
extern const char *const calib_metric_names[CAL_NMETRIC]; /* "ttft", "tpot", "e2e" */

/* One request: measured and predicted (NAN where the fit predicts nothing: a TTFT that
 * includes queueing, a TPOT of a one-token answer). */
typedef struct calib_row {
    size_t run, index;
    double start_s;
    double prompt, output;
    double measured_s[CAL_NMETRIC];
    double predicted_s[CAL_NMETRIC];
    int queued; /* arrived behind a queue: its TTFT is not a fit point */
} calib_row;

typedef struct calib_result {
    fit_result fit;
    step_coeffs coeffs; /* the fitted coefficients with the noise spread */
    int noise_from_data; /* 0: too few single-step points; noise_cv kept from the start */
    size_t n_noise_points;
    calib_row *rows; /* every successful request of every run (owned) */
    size_t n_rows;
    fit_point *pts; /* the fit points (owned) */
    size_t n_pts;
    size_t n_fitted; /* points the solver saw: all, or every k-th of many */
    double median_ape[CAL_NMETRIC], worst_ape[CAL_NMETRIC];
    size_t n_ape[CAL_NMETRIC];
    size_t runs_start_guessed; /* runs whose send times were spaced at 1/rate */
    size_t n_queued;
    int kernels;     /* 1: the measured-kernel model's coefficients were fitted (kfit) */
    kcalib_fit kfit; /* their fit (calib_run_kernels) */
} calib_result;

/* Fits the coefficients of step model sm (its architecture, GPU, precision and tp are
 * those of the benchmarked deployment) to the runs of b, starting from start. Returns 0,
 * or -1 with a one-line message (too few usable requests, the solver failed). */
int calib_run(const bench_set *b, const step_model *sm, const step_coeffs *start,
              calib_result *res, char *err, size_t errlen);

/* The same timeline and points, with the coefficients of the measured-kernel model that
 * prices sm's steps (sm->kernels) fitted by linear least squares from start (kcalib.h);
 * res->kernels is set, res->kfit holds the fit and res->coeffs sm's own with the noise
 * spread of the data. Bit k of hold holds coefficient k at its start (kcalib_solve). */
int calib_run_kernels(const bench_set *b, const step_model *sm, const kstep_coeffs *start,
                      unsigned hold, calib_result *res, char *err, size_t errlen);

void calib_result_free(calib_result *res);

/* When a fit is called poor: the largest median absolute percentage error of each figure
 * that a fit which explains the data stays under.
 *
 * The defaults come from what the step-time model reaches when it is right: on simulated
 * benchmarks of known coefficients (tests/test_calibrate.sh) calibration recovers TPOT to
 * a median error of a few percent and TTFT to under ten, and on the Splitwise measurements
 * the shipped profiles are fitted to, to about 5% (TPOT) and 15% (TTFT); see
 * models/profiles/fit-*-report.txt. TPOT is a sum of many decode steps, so a model that
 * explains the steps explains it closely: 15% leaves room for engine behaviour the model
 * does not have (scheduling pauses, CUDA-graph padding) but not for a wrong deployment
 * (tp, precision or GPU off by a factor). TTFT also carries the queueing and chunking that
 * the timeline reconstruction only approximates, hence the wider 25%. A user who knows
 * their measurements are noisier may widen both (capsim calibrate --poor-fit). */
#define CALIB_POOR_TPOT_PCT 15.0
#define CALIB_POOR_TTFT_PCT 25.0

typedef struct calib_poor_limits {
    double tpot_pct; /* median |error| of TPOT above this is poor */
    double ttft_pct; /* median |error| of TTFT above this is poor */
} calib_poor_limits;

/* The defaults above. */
calib_poor_limits calib_poor_default(void);

/* The fit is poor when the model cannot explain the data: the median error of TPOT or of
 * TTFT above its limit. Returns 1 with the reason. (A solver that stopped at its
 * iteration limit with small errors is reported, not called poor.) */
int calib_is_poor(const calib_result *res, const calib_poor_limits *lim, char *why,
                  size_t len);

#endif
