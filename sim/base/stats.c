/*
 * stats: Student-t confidence intervals across replications (see stats.h).
 */
#include "sim/base/stats.h"

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_statistics_double.h>

double stats_t_critical(double level, double dof)
{
    if (!(dof > 0) || !(level > 0 && level < 1))
        return NAN;
    return gsl_cdf_tdist_Pinv(0.5 + level / 2.0, dof);
}

stats_ci stats_ci_level(const double *x, size_t n, double level)
{
    stats_ci ci = {NAN, NAN, 0};
    double stackbuf[64];
    double *v = n <= 64 ? stackbuf : malloc(n * sizeof *v);
    if (v == NULL)
        return ci;
    size_t m = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[m++] = x[i];
    ci.n = m;
    if (m > 0)
        ci.mean = gsl_stats_mean(v, 1, m);
    if (m > 1) {
        double sd = gsl_stats_sd_m(v, 1, m, ci.mean);
        ci.half_width = stats_t_critical(level, (double)(m - 1)) * sd / sqrt((double)m);
    }
    if (v != stackbuf)
        free(v);
    return ci;
}

int stats_ci_overlap(stats_ci a, stats_ci b)
{
    double slack = (isfinite(a.half_width) ? a.half_width : 0.0) +
                   (isfinite(b.half_width) ? b.half_width : 0.0);
    return fabs(a.mean - b.mean) <= slack;
}
