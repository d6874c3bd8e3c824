/*
 * kcalib: the kernel model's coefficients by linear least squares (see kcalib.h).
 */
#include "models/kcalib.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_errno.h>
#include <gsl/gsl_multifit.h>
#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/base/util.h"

const char *const kcalib_status_names[] = {"fitted", "no data", "not identified", "at bound",
                                           "vague",  "small"};

/* A term whose unit column keeps less than this share of its length once the terms taken
 * before it are projected out is a combination of them. */
#define KCALIB_COLLINEAR 1e-6
/* The order terms are taken in: the kernel classes first, then the outside terms, the
 * per-layer one last (with one model it is the per-step one times the depth). */
static const int ORDER[KSTEP_N_COEFFS] = {KSTEP_C_GEMM, KSTEP_C_ATTN,  KSTEP_C_MOE,
                                          KSTEP_C_COMM, KSTEP_C_STEP,  KSTEP_C_SEQ,
                                          KSTEP_C_TOKEN_LAYER, KSTEP_C_LAYER};
/* A term under this share of the measured time in nine points of ten is too small to fit. */
#define KCALIB_SMALL_SHARE 0.01
/* The prior spread of a coefficient's relative change from its start: a kernel class a
 * quarter off the tables measured on this GPU is one standard deviation; the outside terms,
 * priced from public sources rather than measured, may be off by their whole value. */
#define KCALIB_PRIOR_SCALE 0.25
#define KCALIB_PRIOR_OUTSIDE 1.0
/* At most this many refits as coefficients are set at bounds or held. */
#define KCALIB_MAX_ROUNDS (2 * KSTEP_N_COEFFS)

static int is_scale(int k)
{
    return k <= KSTEP_C_COMM;
}

int kcalib_far(const kcalib_fit *f, int k)
{
    return is_scale(k) && f->status[k] == KCALIB_FITTED &&
           (f->v[k] > KCALIB_FAR || f->v[k] < 1.0 / KCALIB_FAR);
}

/* The design: a[i][k] = x[i][k] / y[i], each column scaled to unit length (norm[k]). */
static void design(const double *x, const double *y, size_t n, gsl_matrix *a,
                   double norm[KSTEP_N_COEFFS])
{
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        double s = 0;
        for (size_t i = 0; i < n; i++) {
            double v = x[i * KSTEP_N_COEFFS + (size_t)k] / y[i];
            gsl_matrix_set(a, i, (size_t)k, v);
            s += v * v;
        }
        norm[k] = sqrt(s);
        for (size_t i = 0; s > 0 && i < n; i++)
            gsl_matrix_set(a, i, (size_t)k, gsl_matrix_get(a, i, (size_t)k) / norm[k]);
    }
}

/* Marks the terms that are too small, at their start values, to be told apart from the
 * noise and the timeline's approximations: under KCALIB_SMALL_SHARE of the measured time
 * in nine points out of ten. Returns 0 or -1 when out of memory. */
static int mark_small(const gsl_matrix *a, const double norm[KSTEP_N_COEFFS], size_t n,
                      const double start[KSTEP_N_COEFFS], kcalib_status st[KSTEP_N_COEFFS])
{
    double *share = malloc(n * sizeof *share);
    if (share == NULL)
        return -1;
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        if (!(norm[k] > 0) || !(start[k] > 0))
            continue;
        for (size_t i = 0; i < n; i++)
            share[i] = start[k] * norm[k] * gsl_matrix_get(a, i, (size_t)k);
        gsl_sort(share, 1, n);
        if (gsl_stats_quantile_from_sorted_data(share, 1, n, 0.9) < KCALIB_SMALL_SHARE)
            st[k] = KCALIB_SMALL;
    }
    free(share);
    return 0;
}

/* Marks the terms that are zero or a combination of those taken before them. */
static int identifiable(const gsl_matrix *a, const double norm[KSTEP_N_COEFFS], size_t n,
                        kcalib_status st[KSTEP_N_COEFFS])
{
    int taken[KSTEP_N_COEFFS], m = 0;
    for (int o = 0; o < KSTEP_N_COEFFS; o++) {
        int k = ORDER[o];
        if (st[k] != KCALIB_FITTED)
            continue; /* held already: small, or by the caller */
        if (!(norm[k] > 0)) {
            st[k] = KCALIB_NO_DATA;
            continue;
        }
        double resid = 1.0;
        if (m > 0) {
            gsl_matrix *sub = gsl_matrix_alloc(n, (size_t)m);
            gsl_vector *c = gsl_vector_alloc((size_t)m), *r = gsl_vector_alloc(n);
            gsl_matrix *cov = gsl_matrix_alloc((size_t)m, (size_t)m);
            gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(n, (size_t)m);
            if (!sub || !c || !r || !cov || !w)
                return -1;
            for (int j = 0; j < m; j++) {
                gsl_vector_const_view col = gsl_matrix_const_column(a, (size_t)taken[j]);
                gsl_matrix_set_col(sub, (size_t)j, &col.vector);
            }
            gsl_vector_const_view t = gsl_matrix_const_column(a, (size_t)k);
            double chisq;
            gsl_multifit_linear(sub, &t.vector, c, cov, &chisq, w);
            resid = sqrt(chisq);
            gsl_multifit_linear_free(w);
            gsl_matrix_free(cov);
            gsl_vector_free(r);
            gsl_vector_free(c);
            gsl_matrix_free(sub);
        }
        if (resid < KCALIB_COLLINEAR) {
            st[k] = KCALIB_NOT_IDENTIFIED;
            continue;
        }
        st[k] = KCALIB_FITTED;
        taken[m++] = k;
    }
    return m;
}

/* The robust fit (GSL's bisquare) of sub x c = b: each point's final weight into wts and
 * the data's spread into *sigma. Returns 0 or -1. */
static int robust_weights(const gsl_matrix *sub, const gsl_vector *b, gsl_vector *wts,
                          double *sigma)
{
    size_t n = sub->size1, m = sub->size2;
    gsl_vector *c = gsl_vector_alloc(m);
    gsl_matrix *cov = gsl_matrix_alloc(m, m);
    gsl_multifit_robust_workspace *w = gsl_multifit_robust_alloc(gsl_multifit_robust_bisquare, n, m);
    int rc = c && cov && w ? 0 : -1;
    if (rc == 0) {
        /* The robust fit may stop at its iteration limit with usable weights: taken, and not
         * reported on stderr by the program's GSL handler. */
        gsl_multifit_robust_maxiter(200, w);
        gsl_error_handler_t *old = gsl_set_error_handler_off();
        int st = gsl_multifit_robust(sub, b, c, cov, w);
        gsl_set_error_handler(old);
        if (st != GSL_SUCCESS && st != GSL_EMAXITER)
            rc = -1;
    }
    if (rc == 0) {
        gsl_multifit_robust_stats stats = gsl_multifit_robust_statistics(w);
        gsl_vector_memcpy(wts, stats.weights);
        *sigma = stats.sigma > 1e-6 ? stats.sigma : 1e-6;
    }
    gsl_multifit_robust_free(w);
    gsl_matrix_free(cov);
    gsl_vector_free(c);
    return rc;
}

/* One fit of the free coefficients, the held ones moved to the right-hand side, each free one
 * as its relative change from its start value s0 (or, from a start of 0, as itself): the
 * robust fit weighs the points, then weighted least squares of the points beside one prior
 * row per free coefficient (its change, of spread KCALIB_PRIOR_SCALE or _OUTSIDE) give v and
 * se. The prior keeps a coefficient that the data barely separate from another (the GEMMs
 * of small decode batches from the time per step, say) near its start instead of letting a
 * small bias of the rebuilt timeline carry it far. Returns 0 or -1. */
static int fit_free(const gsl_matrix *a, const double norm[KSTEP_N_COEFFS], size_t n,
                    const kcalib_status st[KSTEP_N_COEFFS], const double s0[KSTEP_N_COEFFS],
                    double v[KSTEP_N_COEFFS], double se[KSTEP_N_COEFFS])
{
    int idx[KSTEP_N_COEFFS], m = 0;
    for (int k = 0; k < KSTEP_N_COEFFS; k++)
        if (st[k] == KCALIB_FITTED)
            idx[m++] = k;
    size_t rows = n + (size_t)m;
    gsl_matrix *x = gsl_matrix_calloc(rows, (size_t)m);
    gsl_vector *y = gsl_vector_calloc(rows), *wt = gsl_vector_calloc(rows);
    gsl_vector *c = gsl_vector_alloc((size_t)m);
    gsl_matrix *cov = gsl_matrix_alloc((size_t)m, (size_t)m);
    gsl_multifit_linear_workspace *w = gsl_multifit_linear_alloc(rows, (size_t)m);
    int rc = x && y && wt && c && cov && w ? 0 : -1;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        double rhs = 1.0; /* the measured time, relative, less the terms at their start */
        for (int k = 0; k < KSTEP_N_COEFFS; k++)
            if (norm[k] > 0)
                rhs -= gsl_matrix_get(a, i, (size_t)k) * norm[k] *
                       (st[k] == KCALIB_FITTED ? s0[k] : v[k]);
        gsl_vector_set(y, i, rhs);
        for (int j = 0; j < m; j++) {
            int k = idx[j];
            double col = gsl_matrix_get(a, i, (size_t)k);
            gsl_matrix_set(x, i, (size_t)j, s0[k] > 0 ? col * norm[k] * s0[k] : col);
        }
    }
    double sigma = 1;
    if (rc == 0) {
        gsl_matrix_view data = gsl_matrix_submatrix(x, 0, 0, n, (size_t)m);
        gsl_vector_view yd = gsl_vector_subvector(y, 0, n), wd = gsl_vector_subvector(wt, 0, n);
        rc = robust_weights(&data.matrix, &yd.vector, &wd.vector, &sigma);
        gsl_vector_scale(&wd.vector, 1.0 / (sigma * sigma));
    }
    for (int j = 0; rc == 0 && j < m; j++) {
        int k = idx[j];
        double sd = is_scale(k) ? KCALIB_PRIOR_SCALE : KCALIB_PRIOR_OUTSIDE;
        gsl_matrix_set(x, n + (size_t)j, (size_t)j, 1.0);
        gsl_vector_set(wt, n + (size_t)j, s0[k] > 0 ? 1.0 / (sd * sd) : 0.0);
    }
    double chisq;
    if (rc == 0 && gsl_multifit_wlinear(x, wt, y, c, cov, &chisq, w) != GSL_SUCCESS)
        rc = -1;
    for (int j = 0; rc == 0 && j < m; j++) {
        int k = idx[j];
        double u = gsl_vector_get(c, (size_t)j), sd = sqrt(gsl_matrix_get(cov, (size_t)j, (size_t)j));
        v[k] = s0[k] > 0 ? s0[k] * (1.0 + u) : u / norm[k];
        se[k] = s0[k] > 0 ? s0[k] * sd : sd / norm[k];
    }
    gsl_multifit_linear_free(w);
    gsl_matrix_free(cov);
    gsl_vector_free(c);
    gsl_vector_free(wt);
    gsl_vector_free(y);
    gsl_matrix_free(x);
    return rc;
}

/* The free coefficient furthest outside its bounds (set at the bound and marked), else
 * the vaguest (held at its start value and marked); 0 when there is none. */
static int settle_one(kcalib_status st[KSTEP_N_COEFFS], double v[KSTEP_N_COEFFS],
                      const double se[KSTEP_N_COEFFS], const double start[KSTEP_N_COEFFS])
{
    int worst = -1;
    double by = 0;
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        if (st[k] != KCALIB_FITTED)
            continue;
        double lo = is_scale(k) ? KCALIB_SCALE_MIN : 0.0;
        double hi = is_scale(k) ? KCALIB_SCALE_MAX : INFINITY;
        double out = v[k] < lo ? (lo - v[k]) / (se[k] + 1e-300)
                     : v[k] > hi ? (v[k] - hi) / (se[k] + 1e-300)
                                 : 0;
        if (out > by) {
            by = out;
            worst = k;
        }
    }
    if (worst >= 0) {
        v[worst] = v[worst] < (is_scale(worst) ? KCALIB_SCALE_MIN : 0.0)
                       ? (is_scale(worst) ? KCALIB_SCALE_MIN : 0.0)
                       : KCALIB_SCALE_MAX;
        st[worst] = KCALIB_AT_BOUND;
        return 1;
    }
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        if (st[k] != KCALIB_FITTED)
            continue;
        double rel = 1.96 * se[k] / fabs(v[k]);
        if (rel > 1.0 && rel > by) {
            by = rel;
            worst = k;
        }
    }
    if (worst < 0)
        return 0;
    v[worst] = start[worst];
    st[worst] = KCALIB_VAGUE;
    return 1;
}

/* The two fitted terms most alike over the points (the largest cosine of their columns). */
static void most_alike(const gsl_matrix *a, size_t n, kcalib_fit *f)
{
    f->alike[0] = f->alike[1] = -1;
    f->alike_cos = 0;
    for (int i = 0; i < KSTEP_N_COEFFS; i++)
        for (int j = i + 1; j < KSTEP_N_COEFFS; j++) {
            if (f->status[i] != KCALIB_FITTED || f->status[j] != KCALIB_FITTED)
                continue;
            gsl_vector_const_view ci = gsl_matrix_const_column(a, (size_t)i);
            gsl_vector_const_view cj = gsl_matrix_const_column(a, (size_t)j);
            double d = 0;
            for (size_t r = 0; r < n; r++)
                d += gsl_vector_get(&ci.vector, r) * gsl_vector_get(&cj.vector, r);
            if (fabs(d) > f->alike_cos) {
                f->alike_cos = fabs(d);
                f->alike[0] = i;
                f->alike[1] = j;
            }
        }
}

int kcalib_solve(const double *x, const double *y, size_t n, const kstep_coeffs *start,
                 unsigned hold, kcalib_fit *f, char *err, size_t errlen)
{
    memset(f, 0, sizeof *f);
    double s0[KSTEP_N_COEFFS], norm[KSTEP_N_COEFFS], se[KSTEP_N_COEFFS] = {0};
    kstep_coeffs_get(start, s0);
    memcpy(f->v, s0, sizeof s0);
    if (n <= KSTEP_N_COEFFS) {
        util_errf(err, errlen, "only %zu points for %d kernel coefficients", n, KSTEP_N_COEFFS);
        return -1;
    }
    gsl_matrix *a = gsl_matrix_alloc(n, KSTEP_N_COEFFS);
    if (a == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    design(x, y, n, a, norm);
    /* With one model the per-layer time is the per-step time times the depth: holding one
     * holds the other, or it would take the place of the one held. */
    if (hold & (1u << KSTEP_C_STEP))
        hold |= 1u << KSTEP_C_LAYER;
    for (int k = 0; k < KSTEP_N_COEFFS; k++)
        if (hold & (1u << k))
            f->status[k] = KCALIB_VAGUE;
    int m = mark_small(a, norm, n, s0, f->status) == 0 ? identifiable(a, norm, n, f->status) : -1;
    int rc = m > 0 ? 0 : -1;
    if (m == 0)
        util_errf(err, errlen, "the measured times identify none of the kernel coefficients");
    else if (m < 0)
        util_errf(err, errlen, "out of memory");
    for (int round = 0; rc == 0 && round < KCALIB_MAX_ROUNDS; round++) {
        int free_left = 0;
        for (int k = 0; k < KSTEP_N_COEFFS; k++)
            free_left += f->status[k] == KCALIB_FITTED;
        if (free_left == 0)
            break;
        if (fit_free(a, norm, n, f->status, s0, f->v, se) != 0) {
            util_errf(err, errlen, "the least-squares fit of the kernel coefficients failed");
            rc = -1;
        } else if (!settle_one(f->status, f->v, se, s0)) {
            break;
        }
    }
    most_alike(a, n, f);
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        int fitted = f->status[k] == KCALIB_FITTED;
        f->n_fitted += fitted;
        f->lo[k] = fitted ? f->v[k] - 1.96 * se[k] : f->v[k];
        f->hi[k] = fitted ? f->v[k] + 1.96 * se[k] : f->v[k];
    }
    kstep_coeffs_set(&f->c, f->v);
    gsl_matrix_free(a);
    return rc;
}
