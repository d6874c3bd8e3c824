/*
 * stats: confidence intervals across independent replications.
 *
 * Each replication yields one estimate of a figure (its mean wait, its p99, ...). The
 * replications are independent and identically distributed, so the Student-t interval
 * mean +- t_{1-a/2, R-1} * s / sqrt(R) has the stated coverage for large enough runs,
 * whatever the autocorrelation inside each run.
 */
#ifndef CAPSIM_STATS_H
#define CAPSIM_STATS_H

#include <stddef.h>

typedef struct stats_ci {
    double mean;       /* average of the replication estimates */
    double half_width; /* half-width of the confidence interval; NAN with fewer than 2 */
    size_t n;          /* replications that gave a finite estimate */
} stats_ci;

/* Two-sided Student-t quantile: t such that P(|T_dof| <= t) = level. */
double stats_t_critical(double level, double dof);

/* Interval at confidence level (e.g. 0.95) over the finite values of x[0..n). NaN entries
 * (a replication with no data for this figure) are left out; with none left the mean is
 * NAN. */
stats_ci stats_ci_level(const double *x, size_t n, double level);

static inline stats_ci stats_ci95(const double *x, size_t n)
{
    return stats_ci_level(x, n, 0.95);
}

/* True if the intervals a and b overlap, i.e. |a.mean - b.mean| <= a.hw + b.hw. */
int stats_ci_overlap(stats_ci a, stats_ci b);

#endif
