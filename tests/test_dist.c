/*
 * test_dist: distributions and arrival processes parsed from text specs.
 *
 * Each kind's sample mean and variance must match its parameters within a few standard
 * errors (the standard error of the sample variance is estimated from the sample's own
 * fourth central moment, so no kind-specific kurtosis formula is needed). Bad specs must
 * fail with a one-line message that quotes the offending text and the expected form, as
 * dist.h and arrival.h promise.
 */
#define _POSIX_C_SOURCE 200809L /* mkstemp, fdopen */

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "sim/base/dist.h"
#include "workloads/arrival.h"
#include "tests/check.h"

enum { DRAWS = 200000 };

typedef struct moments {
    double mean, var, se_mean, se_var, min, max;
} moments;

/* Sample moments of DRAWS variates of d, with standard errors. */
static moments sample_moments(const dist *d, unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    double *x = malloc(DRAWS * sizeof *x);
    moments m = {0, 0, 0, 0, INFINITY, -INFINITY};
    for (size_t i = 0; i < DRAWS; i++) {
        x[i] = dist_sample(d, r);
        m.mean += x[i];
        m.min = fmin(m.min, x[i]);
        m.max = fmax(m.max, x[i]);
    }
    m.mean /= DRAWS;
    double m2 = 0, m4 = 0;
    for (size_t i = 0; i < DRAWS; i++) {
        double dx = x[i] - m.mean;
        m2 += dx * dx;
        m4 += dx * dx * dx * dx;
    }
    m2 /= DRAWS;
    m4 /= DRAWS;
    m.var = m2 * DRAWS / (DRAWS - 1);
    m.se_mean = sqrt(m.var / DRAWS);
    m.se_var = sqrt(fmax(m4 - m2 * m2, 0.0) / DRAWS);
    free(x);
    gsl_rng_free(r);
    return m;
}

/* Parses text, checks mean and scv fields, then the sample moments against them. */
static void check_kind(const char *text, double mean, double cv, unsigned long seed)
{
    char err[512] = "";
    dist d;
    if (!CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), 0)) {
        fprintf(stderr, "  %s: %s\n", text, err);
        return;
    }
    CHECK_REL(d.mean, mean, 1e-12);
    CHECK_NEAR(d.scv, cv * cv, 1e-12);
    CHECK(strcmp(d.text, text) == 0);
    moments m = sample_moments(&d, seed);
    double var = cv * cv * mean * mean;
    CHECK_NEAR(m.mean, mean, 5 * m.se_mean + 1e-12);
    CHECK_NEAR(m.var, var, 5 * m.se_var + 1e-12);
    CHECK_GE(m.min, 0.0);
    dist_fini(&d);
}

static void test_dist_exp(void)
{
    check_kind("exp:mean=2", 2.0, 1.0, 11);
    check_kind("exp:mean=0.001", 0.001, 1.0, 12);
}

static void test_dist_det(void)
{
    char err[256];
    dist d;
    if (!CHECK_EQ_INT(dist_parse("det:value=1.25", &d, err, sizeof err), 0))
        return;
    CHECK_EQ_DBL(d.mean, 1.25);
    CHECK_EQ_DBL(d.scv, 0.0);
    moments m = sample_moments(&d, 13);
    CHECK_EQ_DBL(m.min, 1.25);
    CHECK_EQ_DBL(m.max, 1.25);
    dist_fini(&d);
    /* Zero is a valid constant (a step with no noise). */
    CHECK_EQ_INT(dist_parse("det:value=0", &d, err, sizeof err), 0);
    CHECK_EQ_DBL(d.mean, 0.0);
    dist_fini(&d);
    /* Plain forms of a fixed value, as a user writes a length. */
    static const char *const plain[] = {"500", "fixed:500", "det:500", "5e2", "fixed:value=500"};
    for (size_t i = 0; i < sizeof plain / sizeof plain[0]; i++) {
        if (!CHECK_EQ_INT(dist_parse(plain[i], &d, err, sizeof err), 0))
            continue;
        CHECK_EQ_DBL(d.mean, 500.0);
        CHECK_EQ_DBL(d.scv, 0.0);
        CHECK_EQ_DBL(sample_moments(&d, 3).max, 500.0);
        dist_fini(&d);
    }
}

static void test_dist_lognormal(void)
{
    check_kind("lognormal:mean=3,cv=0.5", 3.0, 0.5, 14);
    check_kind("lognormal:mean=0.2,cv=1", 0.2, 1.0, 15);
}

static void test_dist_gamma(void)
{
    check_kind("gamma:mean=2,cv=0.5", 2.0, 0.5, 16);
    check_kind("gamma:mean=1,cv=2", 1.0, 2.0, 17);
    check_kind("gamma:mean=5,cv=1", 5.0, 1.0, 18);
}

/* uniform:min=a,max=b: mean (a+b)/2, variance (b-a)^2/12, every draw inside [a, b]. */
static void test_dist_uniform(void)
{
    double a = 100, b = 300, mean = (a + b) / 2, sd = (b - a) / sqrt(12.0);
    check_kind("uniform:min=100,max=300", mean, sd / mean, 19);
    char err[256] = "";
    dist d;
    CHECK_EQ_INT(dist_parse("uniform:min=100,max=300", &d, err, sizeof err), 0);
    moments m = sample_moments(&d, 20);
    CHECK_GE(m.min, 100.0);
    CHECK_LE(m.max, 300.0);
    dist_fini(&d);
    CHECK_EQ_INT(dist_parse("uniform:min=5,max=5", &d, err, sizeof err), -1);
    CHECK_CONTAINS(err, "uniform:min=A,max=B");
    CHECK_EQ_INT(dist_parse("uniform:min=1", &d, err, sizeof err), -1);
    CHECK_CONTAINS(err, "max");
    /* fixed:value=V is det:value=V. */
    CHECK_EQ_INT(dist_parse("fixed:value=7", &d, err, sizeof err), 0);
    CHECK_EQ_DBL(d.mean, 7.0);
    CHECK_EQ_DBL(d.scv, 0.0);
    dist_fini(&d);
}

static void test_dist_make(void)
{
    char err[256];
    dist d;
    CHECK_EQ_INT(dist_make("gamma", 2.0, 0.5, &d, err, sizeof err), 0);
    CHECK_EQ_DBL(d.mean, 2.0);
    CHECK_NEAR(d.scv, 0.25, 1e-15);
    /* Made and parsed distributions with the same parameters draw the same numbers. */
    dist p;
    CHECK_EQ_INT(dist_parse("gamma:mean=2,cv=0.5", &p, err, sizeof err), 0);
    gsl_rng *a = gsl_rng_alloc(gsl_rng_mt19937), *b = gsl_rng_alloc(gsl_rng_mt19937);
    size_t differ = 0;
    for (int i = 0; i < 1000; i++)
        differ += dist_sample(&d, a) != dist_sample(&p, b);
    CHECK_EQ_U64(differ, 0);
    gsl_rng_free(a);
    gsl_rng_free(b);
    dist_fini(&d);
    dist_fini(&p);
    CHECK_EQ_INT(dist_make("exp", 4.0, 0.0, &d, err, sizeof err), 0);
    CHECK_EQ_DBL(d.scv, 1.0);
    CHECK_EQ_INT(dist_make("det", 0.0, 0.0, &d, err, sizeof err), 0);
    CHECK_EQ_INT(dist_make("gamma", 1.0, 0.0, &d, err, sizeof err), -1);
    CHECK_EQ_INT(dist_make("lognormal", 1.0, NAN, &d, err, sizeof err), -1);
    CHECK_EQ_INT(dist_make("exp", 0.0, 0.0, &d, err, sizeof err), -1);
    CHECK_EQ_INT(dist_make("exp", INFINITY, 0.0, &d, err, sizeof err), -1);
    CHECK_EQ_INT(dist_make("det", -1.0, 0.0, &d, err, sizeof err), -1);
    CHECK_EQ_INT(dist_make("empirical", 1.0, 0.0, &d, err, sizeof err), -1);
    CHECK_EQ_INT(dist_make("nosuch", 1.0, 1.0, &d, err, sizeof err), -1);
}

/* Writes content to a new temporary file; path receives its name. */
static int write_temp(char path[64], const char *content)
{
    snprintf(path, 64, "/tmp/capsim_test_dist_XXXXXX");
    int fd = mkstemp(path);
    if (fd < 0)
        return -1;
    FILE *fp = fdopen(fd, "w");
    if (fp == NULL) {
        close(fd);
        return -1;
    }
    fputs(content, fp);
    return fclose(fp) == 0 ? 0 : -1;
}

static void test_dist_empirical(void)
{
    char path[64], text[128], err[512] = "";
    /* Header, CRLF line endings, a blank line, an extra column. */
    if (!CHECK_EQ_INT(write_temp(path, "latency_s,note\r\n1.5,a\r\n\r\n2.5,b\r\n3\r\n"), 0))
        return;
    snprintf(text, sizeof text, "empirical:file=%s", path);
    dist d;
    if (CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), 0)) {
        CHECK_EQ_U64(d.n_values, 3);
        if (d.n_values == 3) {
            CHECK_EQ_DBL(d.values[0], 1.5);
            CHECK_EQ_DBL(d.values[1], 2.5);
            CHECK_EQ_DBL(d.values[2], 3.0);
        }
        CHECK_NEAR(d.mean, 7.0 / 3.0, 1e-12);
        /* Resampling draws from the population, so its variance divides by n:
         * ((5/6)^2 + (1/6)^2 + (2/3)^2) / 3 = 7/18, and scv = (7/18) / (7/3)^2 = 1/14. */
        CHECK_NEAR(d.scv, 1.0 / 14.0, 1e-12);
        /* Only the listed values come out, each about a third of the time. */
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        size_t counts[3] = {0, 0, 0}, other = 0;
        for (int i = 0; i < 30000; i++) {
            double x = dist_sample(&d, r);
            if (x == 1.5)
                counts[0]++;
            else if (x == 2.5)
                counts[1]++;
            else if (x == 3.0)
                counts[2]++;
            else
                other++;
        }
        CHECK_EQ_U64(other, 0);
        for (int k = 0; k < 3; k++)
            CHECK_NEAR((double)counts[k], 10000.0, 5 * sqrt(30000.0 * (1.0 / 3) * (2.0 / 3)));
        gsl_rng_free(r);
        dist_fini(&d);
    } else {
        fprintf(stderr, "  %s\n", err);
    }
    remove(path);

    /* A UTF-8 byte-order mark before the first number (no header), and a quoted field:
     * the mark must not turn the first value into a "header". */
    if (CHECK_EQ_INT(write_temp(path, "\xEF\xBB\xBF"
                                      "1.5\n\"2\"\n"),
                     0)) {
        snprintf(text, sizeof text, "empirical:file=%s", path);
        if (CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), 0)) {
            CHECK_EQ_U64(d.n_values, 2);
            CHECK_EQ_DBL(d.mean, 1.75);
            dist_fini(&d);
        } else {
            fprintf(stderr, "  %s\n", err);
        }
        remove(path);
    }

    /* No header: the first line is data. */
    if (CHECK_EQ_INT(write_temp(path, "4\n6\n"), 0)) {
        snprintf(text, sizeof text, "empirical:file=%s", path);
        if (CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), 0)) {
            CHECK_EQ_U64(d.n_values, 2);
            CHECK_EQ_DBL(d.mean, 5.0);
            dist_fini(&d);
        }
        remove(path);
    }
}

static void test_dist_empirical_errors(void)
{
    char path[64], text[128], err[512] = "";
    dist d;
    if (!CHECK_EQ_INT(write_temp(path, "value\n1.0\nabc\n2.0\n"), 0))
        return;
    snprintf(text, sizeof text, "empirical:file=%s", path);
    CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), -1);
    CHECK_CONTAINS(err, path);
    char where[80];
    snprintf(where, sizeof where, "%s:3", path);
    CHECK_CONTAINS(err, where);
    CHECK_CONTAINS(err, "abc");
    dist_fini(&d); /* nothing to free, but must be safe */
    remove(path);

    /* A negative value is not a time. */
    if (CHECK_EQ_INT(write_temp(path, "1\n2\n-3\n"), 0)) {
        snprintf(text, sizeof text, "empirical:file=%s", path);
        CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), -1);
        snprintf(where, sizeof where, "%s:3", path);
        CHECK_CONTAINS(err, where);
        remove(path);
    }
    /* Only zeros: no positive mean. */
    if (CHECK_EQ_INT(write_temp(path, "0\n0\n"), 0)) {
        snprintf(text, sizeof text, "empirical:file=%s", path);
        CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), -1);
        CHECK_CONTAINS(err, path);
        remove(path);
    }
    /* Header only: no numbers. */
    if (CHECK_EQ_INT(write_temp(path, "value\n"), 0)) {
        snprintf(text, sizeof text, "empirical:file=%s", path);
        CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), -1);
        CHECK_CONTAINS(err, path);
        remove(path);
    }
    /* Missing file. */
    const char *missing = "/tmp/capsim_test_no_such_file_9f3a.csv";
    snprintf(text, sizeof text, "empirical:file=%s", missing);
    CHECK_EQ_INT(dist_parse(text, &d, err, sizeof err), -1);
    CHECK_CONTAINS(err, missing);
}

/* A spec that must fail with a message containing the offending part and the form. */
static void expect_dist_error(const char *text, const char *bad_part, const char *form)
{
    char err[512] = "";
    dist d;
    int rc = dist_parse(text, &d, err, sizeof err);
    if (!CHECK_EQ_INT(rc, -1)) {
        dist_fini(&d);
        return;
    }
    if (!CHECK_CONTAINS(err, bad_part) | !CHECK_CONTAINS(err, form))
        fprintf(stderr, "  (spec was \"%s\")\n", text);
    CHECK(strchr(err, '\n') == NULL);
}

static void test_dist_bad_specs(void)
{
    expect_dist_error("gamma:mean=-1,cv=1", "-1", "gamma:mean=M,cv=C");
    expect_dist_error("exp:mean=abc", "abc", "exp:mean=M");
    expect_dist_error("exp", "exp", "exp:mean=M");
    expect_dist_error("exp:", "exp:", "exp:mean=M");
    expect_dist_error("exp:mean=1,mean=2", "mean", "exp:mean=M");
    expect_dist_error("nosuch:x=1", "nosuch", "exp");
    expect_dist_error("nosuch:x=1", "nosuch", "gamma");
    expect_dist_error("lognormal:mean=1", "cv", "lognormal:mean=M,cv=C");
    expect_dist_error("exp:mean=1,foo=2", "foo", "exp:mean=M");
    expect_dist_error("det:value=inf", "inf", "det:value=V");
    expect_dist_error("exp:mean=nan", "nan", "exp:mean=M");
    expect_dist_error("exp:mean=0", "0", "exp:mean=M");
    expect_dist_error("det:value=-2", "-2", "det:value=V");
    expect_dist_error("gamma:mean=1,cv=0", "cv", "gamma:mean=M,cv=C");
    expect_dist_error("-5", "-5", "a number, fixed:V");
    expect_dist_error("fixed:-1", "fixed:-1", "a number, fixed:V");
    expect_dist_error("fixed:", "fixed:", "det:value=V");
    expect_dist_error("inf", "inf", "N (a fixed value)");
    /* Not a plain number: spaces before it (strtod would pass over them; the fuzzer found
     * one that made a message span lines). */
    expect_dist_error(" 10", "10", "N (a fixed value)");
}

static void test_arrival_parse(void)
{
    char err[512] = "";
    arrival_process a;
    if (CHECK_EQ_INT(arrival_parse("poisson:rate=4", &a, err, sizeof err), 0)) {
        CHECK_EQ_DBL(a.rate_per_s, 4.0);
        CHECK_REL(a.interarrival.mean, 0.25, 1e-15);
        CHECK_EQ_DBL(a.interarrival.scv, 1.0);
        moments m = sample_moments(&a.interarrival, 21);
        CHECK_NEAR(m.mean, 0.25, 5 * m.se_mean);
        CHECK_NEAR(m.var, 0.0625, 5 * m.se_var);
        arrival_fini(&a);
    }
    if (CHECK_EQ_INT(arrival_parse("deterministic:rate=2", &a, err, sizeof err), 0)) {
        CHECK_EQ_DBL(a.rate_per_s, 2.0);
        CHECK_EQ_DBL(a.interarrival.mean, 0.5);
        CHECK_EQ_DBL(a.interarrival.scv, 0.0);
        gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
        CHECK_EQ_DBL(arrival_next_gap(&a, r), 0.5);
        gsl_rng_free(r);
        arrival_fini(&a);
    }
    if (CHECK_EQ_INT(arrival_parse("gamma:rate=5,cv=2", &a, err, sizeof err), 0)) {
        CHECK_EQ_DBL(a.rate_per_s, 5.0);
        CHECK_REL(a.interarrival.mean, 0.2, 1e-15);
        CHECK_NEAR(a.interarrival.scv, 4.0, 1e-12);
        CHECK(strcmp(a.text, "gamma:rate=5,cv=2") == 0);
        moments m = sample_moments(&a.interarrival, 22);
        CHECK_NEAR(m.mean, 0.2, 5 * m.se_mean);
        CHECK_NEAR(m.var, 4.0 * 0.04, 5 * m.se_var);
        arrival_fini(&a);
    }
}

TEST_MAIN(TEST(test_dist_exp), TEST(test_dist_det), TEST(test_dist_lognormal),
          TEST(test_dist_gamma), TEST(test_dist_uniform), TEST(test_dist_make),
          TEST(test_dist_empirical), TEST(test_dist_empirical_errors), TEST(test_dist_bad_specs),
          TEST(test_arrival_parse))
