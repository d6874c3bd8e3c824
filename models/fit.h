/*
 * fit: calibrating the step-time coefficients (mfu, mbu, t_layer, comm_scale, attn_scale) to
 * measured step times with GSL's nonlinear least squares.
 *
 * Input is a plain table of points: a deployment (its roofline step model), a batch shape
 * and a measured time. Residuals are relative (log of predicted over measured), so a 5 ms
 * decode step and a 5 s prefill weigh alike; outliers are down-weighted by iteratively
 * reweighted least squares with Huber weights, so a few bad rows cannot drag the fit.
 * Coefficients are fitted on a log scale (they must stay positive); their 95% intervals
 * come from the covariance of the final fit. mfu and mbu are shares of a peak: if the
 * best fit puts one above 1, it is held at 1 and the rest refitted, and the report says so.
 */
#ifndef CAPSIM_FIT_H
#define CAPSIM_FIT_H

#include <stddef.h>

#include "models/steptime.h"

typedef enum fit_phase { FIT_PREFILL, FIT_DECODE } fit_phase;

typedef struct fit_point {
    step_model model; /* the deployment; its coefficients are replaced during the fit */
    step_shape shape;
    /* A second step that is part of the measured time, counted extra_weight times (0:
     * none). Calibration from client-side latencies uses it for the wait for the step in
     * flight when a request arrived (half a step, on average). */
    step_shape extra;
    double extra_weight;
    double main_weight; /* how many times shape counts; 0 means once */
    double measured_s;
    fit_phase phase;
    char label[96];     /* the setting, for reports */
    double predicted_s; /* filled by fit_run */
    double weight;      /* final robust weight, filled by fit_run */
} fit_point;

#define FIT_N_COEFFS 5
/* The fitted coefficients, in this order in fit_result.lo / hi. t_fixed is held at its
 * starting value: with depth-dependent overhead fitted as t_layer, the two cannot be told
 * apart on data from models of similar depth. */
extern const char *const fit_coeff_names[FIT_N_COEFFS];

typedef struct fit_result {
    step_coeffs coeffs;                        /* fitted; noise_cv copied from the input */
    double lo[FIT_N_COEFFS], hi[FIT_N_COEFFS]; /* 95% intervals, in fit_coeff_names order */
    double median_ape[2];                      /* median absolute % error per phase */
    double worst_ape[2];
    size_t n[2];
    int at_bound[FIT_N_COEFFS];       /* 1 if held at 1 (mfu or mbu) after exceeding it */
    int not_identified[FIT_N_COEFFS]; /* 1 if the data cannot see it: held at its start */
    int iterations;
    int converged;
} fit_result;

/* The time the point predicts with its model's current coefficients. */
double fit_point_predict(const fit_point *p);

/* Fits coefficients to pts[0..n). start gives the starting values and noise_cv (kept).
 * Returns 0, or -1 with a message if the fit fails (too few points, solver error). */
int fit_run(fit_point *pts, size_t n, const step_coeffs *start, fit_result *res, char *err,
            size_t errlen);

/* The same with the coefficients whose bits are set in held (bit k: fit_coeff_names[k]) held
 * at their starting values, for a caller that pins one to a physical bound after a first
 * fit (bench/fit_kernels_roofline.c holds attn_scale at 1 when the fit goes below it). */
int fit_run_held(fit_point *pts, size_t n, const step_coeffs *start, unsigned held,
                 fit_result *res, char *err, size_t errlen);

#endif
