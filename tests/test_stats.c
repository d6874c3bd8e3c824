/*
 * test_stats: Student-t critical values and confidence intervals across replications.
 *
 * Known answers come from printed t tables and from samples small enough to work out by
 * hand; the coverage test checks the property the interval exists for: about 95% of the
 * intervals built from normal samples contain the true mean.
 */
#include <math.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/base/stats.h"
#include "tests/check.h"

static void test_t_critical_table(void)
{
    /* Two-sided 95% values from any t table. */
    CHECK_NEAR(stats_t_critical(0.95, 1), 12.706, 1e-3);
    CHECK_NEAR(stats_t_critical(0.95, 4), 2.776, 1e-3);
    CHECK_NEAR(stats_t_critical(0.95, 9), 2.262, 1e-3);
    CHECK_NEAR(stats_t_critical(0.95, 19), 2.093, 1e-3);
    CHECK_NEAR(stats_t_critical(0.95, 30), 2.042, 1e-3);
    /* Other levels: 90% and 99% with 9 degrees of freedom. */
    CHECK_NEAR(stats_t_critical(0.90, 9), 1.833, 1e-3);
    CHECK_NEAR(stats_t_critical(0.99, 9), 3.250, 1e-3);
    /* The normal limit. */
    CHECK_NEAR(stats_t_critical(0.95, 1e6), 1.960, 1e-3);
    CHECK_NEAR(stats_t_critical(0.95, 1e9), 1.95996, 1e-4);
}

static void test_t_critical_monotone(void)
{
    /* More degrees of freedom give a narrower interval, always above the normal value. */
    size_t breaks = 0;
    double prev = INFINITY;
    for (int dof = 1; dof <= 200; dof++) {
        double t = stats_t_critical(0.95, dof);
        breaks += !(t < prev && t > 1.959963);
        prev = t;
    }
    CHECK_EQ_U64(breaks, 0);
}

static void test_t_critical_invalid(void)
{
    CHECK_NAN(stats_t_critical(0.95, 0));
    CHECK_NAN(stats_t_critical(0.95, -3));
    CHECK_NAN(stats_t_critical(0.0, 5));
    CHECK_NAN(stats_t_critical(1.0, 5));
    CHECK_NAN(stats_t_critical(NAN, 5));
    CHECK_NAN(stats_t_critical(0.95, NAN));
}

static void test_ci_hand_computed(void)
{
    /* {1,2,3,4,5}: mean 3, sample variance (4+1+0+1+4)/4 = 2.5, t_{0.975,4} = 2.776. */
    const double x[] = {1, 2, 3, 4, 5};
    stats_ci ci = stats_ci95(x, 5);
    CHECK_EQ_U64(ci.n, 5);
    CHECK_NEAR(ci.mean, 3.0, 1e-12);
    CHECK_NEAR(ci.half_width, 2.776 * sqrt(2.5) / sqrt(5.0), 1e-3);
    CHECK_NEAR(ci.half_width, stats_t_critical(0.95, 4) * sqrt(2.5) / sqrt(5.0), 1e-12);

    /* Same data at 90%: t_{0.95,4} = 2.132. */
    stats_ci ci90 = stats_ci_level(x, 5, 0.90);
    CHECK_NEAR(ci90.half_width, 2.132 * sqrt(2.5) / sqrt(5.0), 1e-3);

    /* Constant data: zero width. */
    const double c[] = {7, 7, 7, 7};
    stats_ci cc = stats_ci95(c, 4);
    CHECK_EQ_DBL(cc.mean, 7.0);
    CHECK_EQ_DBL(cc.half_width, 0.0);

    /* Two points {0, 2}: mean 1, sd sqrt(2), hw = 12.706 * sqrt(2) / sqrt(2). */
    const double two[] = {0, 2};
    CHECK_NEAR(stats_ci95(two, 2).half_width, 12.706, 1e-3);
}

static void test_ci_large_sample(void)
{
    /* More than fits the function's stack buffer: 1..100, mean 50.5, sample variance
     * n (n + 1) / 12 = 841.67, t_{0.975,99} = 1.984. */
    double x[100];
    for (int i = 0; i < 100; i++)
        x[i] = i + 1;
    stats_ci ci = stats_ci95(x, 100);
    CHECK_EQ_U64(ci.n, 100);
    CHECK_NEAR(ci.mean, 50.5, 1e-12);
    CHECK_NEAR(ci.half_width, 1.984 * sqrt(100.0 * 101.0 / 12.0) / 10.0, 2e-3);
}

static void test_ci_skips_nan(void)
{
    const double x[] = {1, NAN, 2, 3, NAN, 4, 5, INFINITY, -INFINITY};
    stats_ci ci = stats_ci95(x, sizeof x / sizeof x[0]);
    CHECK_EQ_U64(ci.n, 5);
    CHECK_NEAR(ci.mean, 3.0, 1e-12);
    CHECK_NEAR(ci.half_width, stats_t_critical(0.95, 4) * sqrt(2.5) / sqrt(5.0), 1e-12);

    /* Only NaN: no mean. */
    const double none[] = {NAN, NAN};
    stats_ci cn = stats_ci95(none, 2);
    CHECK_EQ_U64(cn.n, 0);
    CHECK_NAN(cn.mean);
    CHECK_NAN(cn.half_width);
    /* Nothing at all. */
    stats_ci c0 = stats_ci95(none, 0);
    CHECK_EQ_U64(c0.n, 0);
    CHECK_NAN(c0.mean);
}

static void test_ci_single_value(void)
{
    const double x[] = {4.25};
    stats_ci ci = stats_ci95(x, 1);
    CHECK_EQ_U64(ci.n, 1);
    CHECK_EQ_DBL(ci.mean, 4.25);
    CHECK_NAN(ci.half_width);
    /* One finite value among NaNs is the same case. */
    const double y[] = {NAN, 4.25, NAN};
    stats_ci cy = stats_ci95(y, 3);
    CHECK_EQ_U64(cy.n, 1);
    CHECK_EQ_DBL(cy.mean, 4.25);
    CHECK_NAN(cy.half_width);
}

static void test_ci_coverage(void)
{
    enum { TRIALS = 2000, SIZE = 10 };
    const double true_mean = 3.0, sd = 2.0;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, 20240601);
    int covered = 0, covered90 = 0;
    double x[SIZE];
    for (int t = 0; t < TRIALS; t++) {
        for (int i = 0; i < SIZE; i++)
            x[i] = true_mean + gsl_ran_gaussian(r, sd);
        stats_ci ci = stats_ci95(x, SIZE);
        covered += fabs(ci.mean - true_mean) <= ci.half_width;
        stats_ci c90 = stats_ci_level(x, SIZE, 0.90);
        covered90 += fabs(c90.mean - true_mean) <= c90.half_width;
    }
    double cov = (double)covered / TRIALS, cov90 = (double)covered90 / TRIALS;
    CHECK_GE(cov, 0.93);
    CHECK_LE(cov, 0.97);
    CHECK_GE(cov90, 0.875);
    CHECK_LE(cov90, 0.925);
    gsl_rng_free(r);
}

static void test_ci_overlap(void)
{
    stats_ci a = {0.0, 1.0, 5}, b = {2.0, 1.0, 5}, c = {2.5, 1.0, 5};
    CHECK(stats_ci_overlap(a, b));  /* |0 - 2| = 2 <= 1 + 1 */
    CHECK(!stats_ci_overlap(a, c)); /* 2.5 > 2 */
    CHECK(stats_ci_overlap(c, b));
    CHECK(stats_ci_overlap(b, a)); /* symmetric */
    /* A missing width counts as zero. */
    stats_ci d = {0.5, NAN, 1};
    CHECK(stats_ci_overlap(a, d));
    CHECK(!stats_ci_overlap(c, d));
    stats_ci e = {0.5, NAN, 1}, f = {0.5, NAN, 1}, g = {0.6, NAN, 1};
    CHECK(stats_ci_overlap(e, f));
    CHECK(!stats_ci_overlap(e, g));
}

TEST_MAIN(TEST(test_t_critical_table), TEST(test_t_critical_monotone),
          TEST(test_t_critical_invalid), TEST(test_ci_hand_computed), TEST(test_ci_large_sample),
          TEST(test_ci_skips_nan), TEST(test_ci_single_value), TEST(test_ci_coverage),
          TEST(test_ci_overlap))
