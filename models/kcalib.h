/*
 * kcalib: the coefficients of the measured-kernel step model (models/kstep.h) fitted to
 * measured times, by linear least squares.
 *
 * A step's time is linear in the eight coefficients given the step's terms at scale 1
 * (kstep_terms): t = sum_i c_i x_i. A measured time that spans several steps (a TPOT, a
 * TTFT with the step in flight) is a weighted sum of such steps, so still linear. The fit
 * is relative (each point's row divided by its measured time, as models/fit.c weighs its
 * points) and robust (GSL's bisquare iteratively reweighted least squares), and fits only
 * what the data can tell:
 *   - a coefficient whose term, at its start value, is under 1% of the measured time in nine
 *     points out of ten is held (the time per sequence of the sampler, against steps of
 *     milliseconds): "small";
 *   - a coefficient whose term is zero in every point is held (the all-reduces at tp 1, the
 *     MoE layer of a dense model): "no data";
 *   - one whose term is a combination of the terms already taken (the per-layer time is the
 *     per-step time times the model's fixed depth) is held: "not identified";
 *   - one that lands outside its bounds (scales in [KCALIB_SCALE_MIN, KCALIB_SCALE_MAX],
 *     outside terms >= 0) is set at the bound and the rest fitted again: "at bound";
 *   - one whose 95% interval is wider than its value (terms too alike for the data to
 *     separate) is held at its start value and the rest fitted again: "vague".
 * Beside the data, each free coefficient has a prior row that keeps its relative change from
 * the start small unless the data insist (kcalib.c, fit_free).
 * Held coefficients keep their start value (the defaults, or a calibration given).
 */
#ifndef CAPSIM_MODELS_KCALIB_H
#define CAPSIM_MODELS_KCALIB_H

#include <stddef.h>

#include "models/kstep.h"

/* The scales a fit may reach: a kernel class 10 times faster or slower than its measured
 * tables is not the same deployment. */
#define KCALIB_SCALE_MIN 0.1
#define KCALIB_SCALE_MAX 10.0
/* A scale outside [1 / KCALIB_FAR, KCALIB_FAR] is warned about: the tables were measured
 * on this GPU and stack, so a class twice as slow suggests a deployment other than the one
 * described (clocks, power cap, precision, tp, another engine version). */
#define KCALIB_FAR 2.0

typedef enum kcalib_status {
    KCALIB_FITTED,
    KCALIB_NO_DATA,
    KCALIB_NOT_IDENTIFIED,
    KCALIB_AT_BOUND,
    KCALIB_VAGUE,
    KCALIB_SMALL
} kcalib_status;

extern const char *const kcalib_status_names[]; /* "fitted", "no data", ... */

typedef struct kcalib_fit {
    kstep_coeffs c; /* fitted where fitted, the start value where held */
    double v[KSTEP_N_COEFFS], lo[KSTEP_N_COEFFS], hi[KSTEP_N_COEFFS]; /* 95% interval */
    kcalib_status status[KSTEP_N_COEFFS];
    int n_fitted;
    /* The two fitted coefficients whose terms are most alike over the points, and the
     * cosine of their (relative) terms: near 1, the data tell their sum better than each. */
    int alike[2];
    double alike_cos;
} kcalib_fit;

/* Terms whose cosine is above this are said to be hard to tell apart. */
#define KCALIB_ALIKE 0.95

/* Fits the coefficients to n points: row i of x (n x KSTEP_N_COEFFS, row-major) holds the
 * point's terms, y[i] > 0 its measured time (seconds). Coefficient k is held at its start
 * value, as "vague", when bit k of hold is set (a caller that found it unstable otherwise,
 * by replaying the fit). Returns 0, or -1 with a one-line
 * message (fewer points than coefficients, nothing the data identify, out of memory). */
int kcalib_solve(const double *x, const double *y, size_t n, const kstep_coeffs *start,
                 unsigned hold, kcalib_fit *f, char *err, size_t errlen);

/* Whether coefficient k (a scale) of f lies far from 1 (see KCALIB_FAR). */
int kcalib_far(const kcalib_fit *f, int k);

#endif
