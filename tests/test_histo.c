/*
 * test_histo: percentiles from the log-bucketed histogram.
 *
 * The reference is the exact nearest-rank quantile of the same data (the smallest x with
 * at least ceil(q n) values <= x), computed by sorting; the histogram must agree within
 * its stated relative error HISTO_REL_ERROR.
 */
#include <float.h>
#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/base/histo.h"
#include "tests/check.h"

static int cmp_double(const void *pa, const void *pb)
{
    double a = *(const double *)pa, b = *(const double *)pb;
    return (a > b) - (a < b);
}

/* Exact nearest-rank quantile of sorted[0..n). */
static double exact_quantile(const double *sorted, size_t n, double q)
{
    double r = ceil(q * (double)n - 1e-9);
    size_t rank = r < 1 ? 1 : (size_t)r;
    return sorted[rank - 1];
}

static void test_histo_uniform_integers(void)
{
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    for (int i = 1; i <= 10000; i++)
        histo_add(&h, (double)i);
    CHECK_EQ_U64(h.total, 10000);
    CHECK_REL(histo_quantile(&h, 0.50), 5000.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 0.90), 9000.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 0.99), 9900.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 0.999), 9990.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 1.0), 10000.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 1e-4), 1.0, HISTO_REL_ERROR);
    /* Quantiles never decrease with q. */
    size_t breaks = 0;
    double prev = 0;
    for (int k = 1; k <= 1000; k++) {
        double v = histo_quantile(&h, k / 1000.0);
        breaks += v < prev;
        prev = v;
    }
    CHECK_EQ_U64(breaks, 0);
    histo_fini(&h);
}

static void test_histo_small_exact_ranks(void)
{
    /* 100 values 1..100: the nearest-rank p99 is the 99th value, not the 100th (this is
     * where q * n rounding up past an integer would go wrong). */
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    for (int i = 1; i <= 100; i++)
        histo_add(&h, (double)i);
    CHECK_REL(histo_quantile(&h, 0.99), 99.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 0.01), 1.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 0.5), 50.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 0.505), 51.0, HISTO_REL_ERROR);
    histo_fini(&h);
}

static void test_histo_lognormal_vs_sorted(void)
{
    enum { N = 200000 };
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 777);
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    double *x = malloc(N * sizeof *x);
    /* Spread over many octaves: median e^-3 (about 50 ms), sigma 2. */
    for (size_t i = 0; i < N; i++) {
        x[i] = gsl_ran_lognormal(r, -3.0, 2.0);
        histo_add(&h, x[i]);
    }
    qsort(x, N, sizeof *x, cmp_double);
    const double qs[] = {1e-5, 0.001, 0.01, 0.1, 0.25, 0.5, 0.75, 0.9, 0.99, 0.999, 0.9999, 1.0};
    for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
        double want = exact_quantile(x, N, qs[k]);
        CHECK_REL(histo_quantile(&h, qs[k]), want, HISTO_REL_ERROR);
    }
    /* A dense sweep, counted rather than reported one by one. */
    size_t outside = 0;
    for (int k = 1; k <= 2000; k++) {
        double q = k / 2000.0, want = exact_quantile(x, N, q);
        outside += !(fabs(histo_quantile(&h, q) - want) <= HISTO_REL_ERROR * want);
    }
    CHECK_EQ_U64(outside, 0);
    free(x);
    histo_fini(&h);
    gsl_rng_free(r);
}

static void test_histo_zeros(void)
{
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    for (int i = 0; i < 60; i++)
        histo_add(&h, 0.0);
    for (int i = 0; i < 40; i++)
        histo_add(&h, 2.0);
    CHECK_EQ_U64(h.zeros, 60);
    CHECK_EQ_DBL(histo_quantile(&h, 0.5), 0.0);
    CHECK_EQ_DBL(histo_quantile(&h, 0.6), 0.0);
    CHECK_REL(histo_quantile(&h, 0.61), 2.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 1.0), 2.0, HISTO_REL_ERROR);
    /* Values below 2^HISTO_MIN_EXP (including subnormals) count as zero. */
    histo_reset(&h);
    histo_add(&h, ldexp(1.0, HISTO_MIN_EXP - 1));
    histo_add(&h, DBL_MIN / 4);
    histo_add(&h, 1.0);
    CHECK_EQ_U64(h.zeros, 2);
    CHECK_EQ_DBL(histo_quantile(&h, 0.5), 0.0);
    /* The smallest counted value is reported within the error bound. */
    histo_reset(&h);
    histo_add(&h, ldexp(1.0, HISTO_MIN_EXP));
    CHECK_EQ_U64(h.zeros, 0);
    CHECK_REL(histo_quantile(&h, 1.0), ldexp(1.0, HISTO_MIN_EXP), HISTO_REL_ERROR);
    histo_fini(&h);
}

static void test_histo_empty_and_bad_q(void)
{
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    CHECK_EQ_U64(h.total, 0);
    CHECK_NAN(histo_quantile(&h, 0.5));
    CHECK_NAN(histo_quantile(&h, 1.0));
    histo_add(&h, 1.0);
    CHECK_NAN(histo_quantile(&h, 0.0));
    CHECK_NAN(histo_quantile(&h, 1.5));
    CHECK_NAN(histo_quantile(&h, NAN));
    histo_fini(&h);
}

static void test_histo_reset(void)
{
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    for (int i = 0; i < 1000; i++)
        histo_add(&h, 100.0 + i);
    histo_add(&h, 0.0);
    histo_reset(&h);
    CHECK_EQ_U64(h.total, 0);
    CHECK_EQ_U64(h.zeros, 0);
    CHECK_NAN(histo_quantile(&h, 0.5));
    uint64_t nonzero = 0;
    for (size_t i = 0; i < h.n_buckets; i++)
        nonzero += h.counts[i] != 0;
    CHECK_EQ_U64(nonzero, 0);
    /* After a reset only the new data counts. */
    for (int i = 0; i < 10; i++)
        histo_add(&h, 3.0);
    CHECK_EQ_U64(h.total, 10);
    CHECK_REL(histo_quantile(&h, 0.01), 3.0, HISTO_REL_ERROR);
    CHECK_REL(histo_quantile(&h, 1.0), 3.0, HISTO_REL_ERROR);
    histo_fini(&h);
}

static void test_histo_huge_values_clamp(void)
{
    histo h;
    if (!CHECK(histo_init(&h) == 0))
        return;
    histo_add(&h, 1.0);
    histo_add(&h, ldexp(1.0, HISTO_MAX_EXP));
    histo_add(&h, 1e300);
    histo_add(&h, DBL_MAX);
    histo_add(&h, INFINITY);
    CHECK_EQ_U64(h.total, 5);
    double top = histo_quantile(&h, 1.0);
    CHECK(isfinite(top));
    CHECK_GE(top, ldexp(1.0, HISTO_MAX_EXP - 1));
    CHECK_LE(top, ldexp(1.0, HISTO_MAX_EXP));
    /* The small value is unaffected. */
    CHECK_REL(histo_quantile(&h, 0.2), 1.0, HISTO_REL_ERROR);
    /* Just below the clamp is still within the error bound. */
    histo_reset(&h);
    double big = ldexp(1.5, HISTO_MAX_EXP - 1);
    histo_add(&h, big);
    CHECK_REL(histo_quantile(&h, 1.0), big, HISTO_REL_ERROR);
    histo_fini(&h);
}

TEST_MAIN(TEST(test_histo_uniform_integers), TEST(test_histo_small_exact_ranks),
          TEST(test_histo_lognormal_vs_sorted), TEST(test_histo_zeros),
          TEST(test_histo_empty_and_bad_q), TEST(test_histo_reset),
          TEST(test_histo_huge_values_clamp))
