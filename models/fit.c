/*
 * fit: robust nonlinear least squares for the step-time coefficients (see fit.h).
 */
#include "models/fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_blas.h>
#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit_nlinear.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/util.h"

const char *const fit_coeff_names[FIT_N_COEFFS] = {"mfu", "mbu", "t_layer_s", "comm_scale",
                                                   "attn_scale"};

typedef struct fit_ctx {
    fit_point *pts;
    size_t n;
    step_coeffs start; /* held values: t_fixed_s, noise_cv */
} fit_ctx;

static step_coeffs coeffs_of(const gsl_vector *x, const step_coeffs *start)
{
    step_coeffs c = *start;
    c.mfu = exp(gsl_vector_get(x, 0));
    c.mbu = exp(gsl_vector_get(x, 1));
    c.t_layer_s = exp(gsl_vector_get(x, 2));
    c.comm_scale = exp(gsl_vector_get(x, 3));
    c.attn_scale = exp(gsl_vector_get(x, 4));
    return c;
}

/* r_i = log(predicted_i / measured_i). */
static int residuals(const gsl_vector *x, void *data, gsl_vector *f)
{
    fit_ctx *ctx = data;
    step_coeffs c = coeffs_of(x, &ctx->start);
    for (size_t i = 0; i < ctx->n; i++) {
        fit_point *p = &ctx->pts[i];
        p->model.c = c;
        double pred = step_time_s(&p->model, &p->shape, NULL);
        gsl_vector_set(f, i, log(pred / p->measured_s));
    }
    return GSL_SUCCESS;
}

static double median_abs(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    for (size_t i = 0; i < n; i++)
        v[i] = fabs(v[i]);
    gsl_sort(v, 1, n);
    return gsl_stats_median_from_sorted_data(v, 1, n);
}

int fit_run(fit_point *pts, size_t n, const step_coeffs *start, fit_result *res, char *err,
            size_t errlen)
{
    memset(res, 0, sizeof *res);
    const size_t p = FIT_N_COEFFS;
    if (n < p + 1) {
        util_errf(err, errlen, "%zu measurements are too few to fit %zu coefficients", n, p);
        return -1;
    }
    fit_ctx ctx = {pts, n, *start};
    gsl_multifit_nlinear_fdf fdf = {
        .f = residuals, .df = NULL, .fvv = NULL, .n = n, .p = p, .params = &ctx};
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, n, p);
    gsl_vector *x = gsl_vector_alloc(p);
    gsl_vector *wts = gsl_vector_alloc(n);
    gsl_matrix *covar = gsl_matrix_alloc(p, p);
    double *tmp = malloc(n * sizeof *tmp);
    if (!w || !x || !wts || !covar || !tmp) {
        util_errf(err, errlen, "out of memory");
        res->converged = 0;
        goto done;
    }
    gsl_vector_set(x, 0, log(start->mfu));
    gsl_vector_set(x, 1, log(start->mbu));
    gsl_vector_set(x, 2, log(start->t_layer_s));
    gsl_vector_set(x, 3, log(start->comm_scale));
    gsl_vector_set(x, 4, log(start->attn_scale));
    gsl_vector_set_all(wts, 1.0);

    /* Iteratively reweighted least squares: fit, then give each point the Huber weight of
     * its residual scaled by the robust spread (1.4826 x median absolute residual). */
    const double huber_k = 1.345;
    int status = GSL_SUCCESS;
    for (int round = 0; round < 20; round++) {
        gsl_multifit_nlinear_winit(x, wts, &fdf, w);
        int info;
        status = gsl_multifit_nlinear_driver(200, 1e-10, 1e-10, 1e-10, NULL, NULL, &info, w);
        res->iterations += (int)gsl_multifit_nlinear_niter(w);
        gsl_vector_memcpy(x, gsl_multifit_nlinear_position(w));
        if (status != GSL_SUCCESS && status != GSL_EMAXITER)
            break;
        residuals(x, &ctx, gsl_multifit_nlinear_residual(w)); /* unweighted */
        gsl_vector *f = gsl_multifit_nlinear_residual(w);
        for (size_t i = 0; i < n; i++)
            tmp[i] = gsl_vector_get(f, i);
        double scale = 1.4826 * median_abs(tmp, n);
        if (!(scale > 1e-12))
            scale = 1e-12;
        double change = 0;
        for (size_t i = 0; i < n; i++) {
            double r = fabs(gsl_vector_get(f, i)) / scale;
            double wi = r <= huber_k ? 1.0 : huber_k / r;
            change = fmax(change, fabs(wi - gsl_vector_get(wts, i)));
            gsl_vector_set(wts, i, wi);
        }
        if (change < 1e-6)
            break;
    }
    if (status != GSL_SUCCESS && status != GSL_EMAXITER) {
        util_errf(err, errlen, "the fit failed: %s", gsl_strerror(status));
        goto done;
    }
    res->converged = status == GSL_SUCCESS;
    res->coeffs = coeffs_of(x, start);

    /* Covariance of the log coefficients, scaled by the residual variance. */
    gsl_multifit_nlinear_winit(x, wts, &fdf, w);
    gsl_matrix *J = gsl_multifit_nlinear_jac(w);
    gsl_multifit_nlinear_covar(J, 0.0, covar);
    double chisq;
    gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &chisq);
    double s2 = chisq / (double)(n - p);
    for (size_t k = 0; k < p; k++) {
        double sd = sqrt(s2 * gsl_matrix_get(covar, k, k));
        double mid = gsl_vector_get(x, k);
        res->lo[k] = exp(mid - 1.96 * sd);
        res->hi[k] = exp(mid + 1.96 * sd);
    }

    /* Per-point predictions and errors, by phase. */
    residuals(x, &ctx, gsl_multifit_nlinear_residual(w));
    for (int ph = 0; ph < 2; ph++) {
        size_t m = 0;
        double worst = 0;
        for (size_t i = 0; i < n; i++) {
            pts[i].predicted_s = step_time_s(&pts[i].model, &pts[i].shape, NULL);
            pts[i].weight = gsl_vector_get(wts, i);
            if ((int)pts[i].phase != ph)
                continue;
            double ape = 100.0 * fabs(pts[i].predicted_s / pts[i].measured_s - 1.0);
            tmp[m++] = ape;
            worst = fmax(worst, ape);
        }
        res->n[ph] = m;
        res->median_ape[ph] = median_abs(tmp, m);
        res->worst_ape[ph] = m ? worst : NAN;
    }
    gsl_multifit_nlinear_free(w);
    gsl_vector_free(x);
    gsl_vector_free(wts);
    gsl_matrix_free(covar);
    free(tmp);
    return 0;
done:
    if (w)
        gsl_multifit_nlinear_free(w);
    if (x)
        gsl_vector_free(x);
    if (wts)
        gsl_vector_free(wts);
    if (covar)
        gsl_matrix_free(covar);
    free(tmp);
    return -1;
}
