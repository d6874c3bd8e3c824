/*
 * fit: robust nonlinear least squares for the step-time coefficients (see fit.h).
 *
 * The coefficients are fitted as logarithms, so they stay positive. mfu and mbu are
 * shares of a peak: when the unconstrained optimum puts one above 1, it is held at 1
 * (the bound becomes active) and the others are fitted again, which is the constrained
 * least-squares answer for a single active bound.
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

#include "sim/base/util.h"

const char *const fit_coeff_names[FIT_N_COEFFS] = {"mfu", "mbu", "t_layer_s", "comm_scale",
                                                   "attn_scale"};

typedef struct fit_ctx {
    fit_point *pts;
    size_t n;
    step_coeffs base;           /* held values: t_fixed_s, noise_cv */
    double logc[FIT_N_COEFFS];  /* log of every coefficient; free ones replaced by x */
    int free_idx[FIT_N_COEFFS]; /* which coefficients x holds, in order */
    size_t n_free;
} fit_ctx;

static step_coeffs coeffs_of(const fit_ctx *ctx, const gsl_vector *x)
{
    double v[FIT_N_COEFFS];
    memcpy(v, ctx->logc, sizeof v);
    for (size_t j = 0; x != NULL && j < ctx->n_free; j++)
        v[ctx->free_idx[j]] = gsl_vector_get(x, j);
    step_coeffs c = ctx->base;
    c.mfu = exp(v[0]);
    c.mbu = exp(v[1]);
    c.t_layer_s = exp(v[2]);
    c.comm_scale = exp(v[3]);
    c.attn_scale = exp(v[4]);
    return c;
}

double fit_point_predict(const fit_point *p)
{
    double t = step_time_s(&p->model, &p->shape, NULL);
    if (p->main_weight > 0)
        t *= p->main_weight;
    if (p->extra_weight > 0)
        t += p->extra_weight * step_time_s(&p->model, &p->extra, NULL);
    return t;
}

/* r_i = log(predicted_i / measured_i). */
static int residuals(const gsl_vector *x, void *data, gsl_vector *f)
{
    fit_ctx *ctx = data;
    step_coeffs c = coeffs_of(ctx, x);
    for (size_t i = 0; i < ctx->n; i++) {
        fit_point *p = &ctx->pts[i];
        p->model.c = c;
        gsl_vector_set(f, i, log(fit_point_predict(p) / p->measured_s));
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

/* Fits the free coefficients of ctx by IRLS with Huber weights, starting from ctx->logc.
 * On success stores the fitted logs back into ctx->logc, the final weights in wts and the
 * 95% intervals of the free coefficients in lo/hi. */
static int irls(fit_ctx *ctx, gsl_vector *wts, double *lo, double *hi, double *colnorm,
                fit_result *res, char *err, size_t errlen)
{
    const size_t n = ctx->n, p = ctx->n_free;
    gsl_multifit_nlinear_fdf fdf = {
        .f = residuals, .df = NULL, .fvv = NULL, .n = n, .p = p, .params = ctx};
    gsl_multifit_nlinear_parameters params = gsl_multifit_nlinear_default_parameters();
    gsl_multifit_nlinear_workspace *w =
        gsl_multifit_nlinear_alloc(gsl_multifit_nlinear_trust, &params, n, p);
    gsl_vector *x = gsl_vector_alloc(p);
    gsl_vector *r = gsl_vector_alloc(n);
    gsl_matrix *covar = gsl_matrix_alloc(p, p);
    double *tmp = malloc(n * sizeof *tmp);
    int rc = -1;
    if (!w || !x || !r || !covar || !tmp) {
        util_errf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t j = 0; j < p; j++)
        gsl_vector_set(x, j, ctx->logc[ctx->free_idx[j]]);
    gsl_vector_set_all(wts, 1.0);
    /* Fit, then give each point the Huber weight of its residual scaled by the robust
     * spread (1.4826 x median absolute residual); repeat until the weights settle. */
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
        residuals(x, ctx, r);
        for (size_t i = 0; i < n; i++)
            tmp[i] = gsl_vector_get(r, i);
        double scale = 1.4826 * median_abs(tmp, n);
        if (!(scale > 1e-12))
            scale = 1e-12;
        double change = 0;
        for (size_t i = 0; i < n; i++) {
            double z = fabs(gsl_vector_get(r, i)) / scale;
            double wi = z <= huber_k ? 1.0 : huber_k / z;
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
    /* Covariance of the free log coefficients at the final weights, scaled by the
     * weighted residual variance. */
    gsl_multifit_nlinear_winit(x, wts, &fdf, w);
    gsl_matrix *J = gsl_multifit_nlinear_jac(w);
    for (size_t j = 0; j < p; j++) {
        gsl_vector_view col = gsl_matrix_column(J, j);
        colnorm[ctx->free_idx[j]] = gsl_blas_dnrm2(&col.vector);
    }
    gsl_multifit_nlinear_covar(J, 0.0, covar);
    double chisq;
    gsl_blas_ddot(gsl_multifit_nlinear_residual(w), gsl_multifit_nlinear_residual(w), &chisq);
    double s2 = chisq / (double)(n - p);
    for (size_t j = 0; j < p; j++) {
        double sd = sqrt(s2 * gsl_matrix_get(covar, j, j));
        double mid = gsl_vector_get(x, j);
        ctx->logc[ctx->free_idx[j]] = mid;
        lo[ctx->free_idx[j]] = exp(mid - 1.96 * sd);
        hi[ctx->free_idx[j]] = exp(mid + 1.96 * sd);
    }
    rc = 0;
done:
    if (w)
        gsl_multifit_nlinear_free(w);
    if (x)
        gsl_vector_free(x);
    if (r)
        gsl_vector_free(r);
    if (covar)
        gsl_matrix_free(covar);
    free(tmp);
    return rc;
}

static double start_value(const step_coeffs *c, int k)
{
    const double v[FIT_N_COEFFS] = {c->mfu, c->mbu, c->t_layer_s, c->comm_scale, c->attn_scale};
    return v[k];
}

int fit_run(fit_point *pts, size_t n, const step_coeffs *start, fit_result *res, char *err,
            size_t errlen)
{
    return fit_run_held(pts, n, start, 0u, res, err, errlen);
}

int fit_run_held(fit_point *pts, size_t n, const step_coeffs *start, unsigned held,
                 fit_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (n < FIT_N_COEFFS + 1) {
        util_errf(err, errlen, "%zu measurements are too few to fit %d coefficients", n,
                  FIT_N_COEFFS);
        return -1;
    }
    fit_ctx ctx = {.pts = pts, .n = n, .base = *start};
    for (int k = 0; k < FIT_N_COEFFS; k++)
        ctx.logc[k] = log(start_value(start, k));
    for (int k = 0; k < FIT_N_COEFFS; k++)
        if (!(held & (1u << k)))
            ctx.free_idx[ctx.n_free++] = k;
    gsl_vector *wts = gsl_vector_alloc(n);
    double *tmp = malloc(n * sizeof *tmp);
    if (!wts || !tmp) {
        util_errf(err, errlen, "out of memory");
        free(tmp);
        if (wts)
            gsl_vector_free(wts);
        return -1;
    }
    /* Fit; then hold any share of peak that came out above 1 at 1, and any coefficient the
     * data cannot see (its Jacobian column is zero: comm_scale at tp 1, say) at its
     * starting value, and fit the rest again, until nothing changes. */
    int rc = 0;
    for (int round = 0; round <= FIT_N_COEFFS; round++) {
        double colnorm[FIT_N_COEFFS] = {0};
        rc = irls(&ctx, wts, res->lo, res->hi, colnorm, res, err, errlen);
        if (rc != 0)
            break;
        double biggest = 0;
        for (size_t j = 0; j < ctx.n_free; j++)
            biggest = fmax(biggest, colnorm[ctx.free_idx[j]]);
        int changed = 0;
        size_t keep = 0;
        for (size_t j = 0; j < ctx.n_free; j++) {
            int k = ctx.free_idx[j];
            if (k < 2 && ctx.logc[k] > 0) {
                ctx.logc[k] = 0.0;
                res->lo[k] = res->hi[k] = 1.0;
                res->at_bound[k] = 1;
                changed = 1;
            } else if (!(colnorm[k] > 1e-9 * biggest)) {
                ctx.logc[k] = log(start_value(start, k));
                res->lo[k] = res->hi[k] = NAN;
                res->not_identified[k] = 1;
                changed = 1;
            } else {
                ctx.free_idx[keep++] = k;
            }
        }
        ctx.n_free = keep;
        if (!changed)
            break;
        if (ctx.n_free == 0) {
            util_errf(err, errlen,
                      "the step-time model cannot explain these measurements: every "
                      "coefficient ended at a bound (mfu or mbu above 1) or undetermined; "
                      "check that the model, GPU, tp and precision match the runs measured");
            rc = -1;
            break;
        }
    }
    if (rc == 0) {
        res->coeffs = coeffs_of(&ctx, NULL);
        /* Per-point predictions and errors, by phase. */
        for (int ph = 0; ph < 2; ph++) {
            size_t m = 0;
            double worst = 0;
            for (size_t i = 0; i < n; i++) {
                pts[i].model.c = res->coeffs;
                pts[i].predicted_s = fit_point_predict(&pts[i]);
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
    }
    gsl_vector_free(wts);
    free(tmp);
    return rc;
}
