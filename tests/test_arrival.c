/*
 * test_arrival: arrival processes and their per-stream state (workloads/arrival.h).
 *
 * Each process is run for ARRIVALS arrivals and checked against theory: the long-run
 * rate against rate_per_s and the long-run gap scv against interarrival.scv, with
 * standard errors from batch means (the gaps of mmpp and diurnal are correlated, so the
 * iid formula would be too optimistic); Weibull gap moments against the gamma-function
 * formulas; MMPP's share of arrivals in on periods and its index of dispersion of counts
 * against the switched-Poisson formulas; diurnal counts per phase bin against the
 * integral of the rate (chi-square and bin by bin); steps counts per segment against
 * rate times length. Also: times never decrease, the same seed gives the same sequence
 * even when streams of one process interleave, the renewal kinds draw exactly what
 * arrival_next_gap() draws, and bad specs fail naming the bad part and the form.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>
#include <gsl/gsl_rng.h>

#include "sim/base/rng.h"
#include "workloads/arrival.h"
#include "tests/check.h"

enum { ARRIVALS = 200000, BATCHES = 50 };

/* Standard errors allowed for the batch-means checks. The errors are themselves estimates
 * with 49 degrees of freedom and the heavy-tailed gaps (Weibull K < 1) make the sample
 * means skewed, so 4 would fail for about one seed in a hundred over all the checks. */
#define Z 5.0

#define PI 3.14159265358979323846

/* ARRIVALS arrival times of a from a fresh stream seeded with seed (owned by the caller);
 * when on is not NULL, on[i] is the mmpp state at arrival i. */
static double *draw(const arrival_process *a, unsigned long seed, int *on)
{
    gsl_rng *r = sim_rng_create(seed);
    double *t = malloc(ARRIVALS * sizeof *t);
    if (r == NULL || t == NULL) {
        free(t);
        if (r)
            gsl_rng_free(r);
        return NULL;
    }
    arrival_state st;
    arrival_start(a, &st, r);
    for (size_t i = 0; i < ARRIVALS; i++) {
        t[i] = arrival_next(a, &st, r);
        if (on)
            on[i] = st.on;
    }
    gsl_rng_free(r);
    return t;
}

static bool parse_ok(const char *text, arrival_process *a)
{
    char err[512] = "";
    if (CHECK_EQ_INT(arrival_parse(text, a, err, sizeof err), 0))
        return true;
    fprintf(stderr, "  %s: %s\n", text, err);
    return false;
}

/* Long-run figures of the gaps t[from+1] - t[from], ..., with batch-means standard
 * errors. */
typedef struct gap_stats {
    double rate, se_rate; /* arrivals per second */
    double scv, se_scv;   /* squared coefficient of variation of a gap */
    double mean, cv;      /* of a gap */
} gap_stats;

static gap_stats gaps_of(const double *t, size_t from)
{
    size_t n = ARRIVALS - 1 - from, per = n / BATCHES;
    double m1[BATCHES], m2[BATCHES], s1 = 0, s2 = 0;
    for (size_t b = 0; b < BATCHES; b++) {
        double a1 = 0, a2 = 0;
        for (size_t i = from + b * per; i < from + (b + 1) * per; i++) {
            double g = t[i + 1] - t[i];
            a1 += g;
            a2 += g * g;
        }
        m1[b] = a1 / (double)per;
        m2[b] = a2 / (double)per;
        s1 += m1[b];
        s2 += m2[b];
    }
    s1 /= BATCHES;
    s2 /= BATCHES;
    double v1 = 0, v2 = 0;
    for (size_t b = 0; b < BATCHES; b++) {
        v1 += (m1[b] - s1) * (m1[b] - s1);
        v2 += (m2[b] - s2) * (m2[b] - s2);
    }
    double se1 = sqrt(v1 / (BATCHES - 1) / BATCHES), se2 = sqrt(v2 / (BATCHES - 1) / BATCHES);
    gap_stats g;
    g.mean = s1;
    g.rate = 1.0 / s1;
    g.se_rate = se1 / (s1 * s1);
    g.scv = s2 / (s1 * s1) - 1.0;
    g.cv = sqrt(g.scv);
    /* Delta method without the (positive) covariance of the two moments, which only
     * overstates the error. */
    g.se_scv = hypot(se2 / (s1 * s1), 2.0 * s2 * se1 / (s1 * s1 * s1));
    return g;
}

/* Index of the first arrival at or after time x (ARRIVALS if none). */
static size_t first_at(const double *t, double x)
{
    size_t i = 0;
    while (i < ARRIVALS && t[i] < x)
        i++;
    return i;
}

static const char *const SPECS[] = {
    "poisson:rate=4",
    "deterministic:rate=2",
    "gamma:rate=5,cv=2",
    "weibull:rate=3,shape=0.5",
    "weibull:rate=3,shape=2.5",
    "mmpp:rate_on=20,rate_off=2,mean_on=1,mean_off=4",
    "mmpp:rate_on=10,rate_off=0,mean_on=2,mean_off=3",
    "diurnal:rate=50,amplitude=0.8,period=10,phase=0.25",
    "diurnal:rate=5,amplitude=1,period=30",
    "diurnal:rate=20,amplitude=0.3,period=0.05",
    "steps:rates=5/20/0/10,times=100/150/400",
};

/* The long-run rate and gap scv of every process, and times that never decrease. */
static void test_long_run(void)
{
    for (size_t k = 0; k < sizeof SPECS / sizeof SPECS[0]; k++) {
        arrival_process a;
        if (!parse_ok(SPECS[k], &a))
            continue;
        double *t = draw(&a, 1000 + k, NULL);
        if (!CHECK(t != NULL)) {
            arrival_fini(&a);
            continue;
        }
        size_t bad = 0;
        bad += !(t[0] >= 0);
        for (size_t i = 1; i < ARRIVALS; i++)
            bad += !(t[i] >= t[i - 1]);
        CHECK_EQ_U64(bad, 0);
        /* steps is Poisson at its last rate from the last time on; skip to there. */
        size_t from = a.n_steps > 1 ? first_at(t, a.step_times_s[a.n_steps - 2]) : 0;
        gap_stats g = gaps_of(t, from);
        int ok = CHECK_NEAR(g.rate, a.rate_per_s, Z * g.se_rate + 1e-12 * a.rate_per_s);
        CHECK_REL(a.interarrival.mean, 1.0 / a.rate_per_s, 1e-12);
        ok &= CHECK_NEAR(g.scv, a.interarrival.scv, Z * g.se_scv + 1e-9);
        if (!ok)
            fprintf(stderr, "  (%s: rate %g +- %g, scv %g +- %g)\n", SPECS[k], g.rate, g.se_rate,
                    g.scv, g.se_scv);
        free(t);
        arrival_fini(&a);
    }
}

/* Weibull gaps: mean 1/R and cv^2 = Gamma(1+2/K) / Gamma(1+1/K)^2 - 1. */
static void test_weibull(void)
{
    static const double shapes[] = {0.4, 0.7, 1.0, 3.0};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        char text[64];
        snprintf(text, sizeof text, "weibull:rate=2.5,shape=%g", shapes[k]);
        arrival_process a;
        if (!parse_ok(text, &a))
            continue;
        double K = shapes[k];
        double scv = tgamma(1 + 2 / K) / (tgamma(1 + 1 / K) * tgamma(1 + 1 / K)) - 1;
        CHECK_EQ_INT(a.renewal, 1);
        CHECK_EQ_DBL(a.rate_per_s, 2.5);
        CHECK_REL(a.interarrival.scv, scv, 1e-10);
        if (K == 1.0)
            CHECK_NEAR(a.interarrival.scv, 1.0, 1e-12);
        double *t = draw(&a, 77 + k, NULL);
        if (CHECK(t != NULL)) {
            gap_stats g = gaps_of(t, 0);
            CHECK_NEAR(g.mean, 0.4, Z * g.se_rate * g.mean * g.mean);
            CHECK_NEAR(g.scv, scv, Z * g.se_scv);
            CHECK_NEAR(g.cv, sqrt(scv), Z * g.se_scv / (2 * sqrt(scv)));
        }
        free(t);
        arrival_fini(&a);
    }
}

/* MMPP: the share of arrivals in on periods is p_on R1 / rate, and the index of
 * dispersion of counts in windows of w seconds is
 *   1 + 2 (R1 - R2)^2 p_on p_off / (rate s) (1 - (1 - exp(-s w)) / (s w)),
 * s = 1/T1 + 1/T2, well above 1 for bursty parameters. */
static void test_mmpp(void)
{
    arrival_process a;
    if (!parse_ok("mmpp:rate_on=20,rate_off=2,mean_on=1,mean_off=4", &a))
        return;
    double r1 = 20, r2 = 2, p_on = 0.2, s = 1.0 / 1 + 1.0 / 4;
    double rate = p_on * r1 + (1 - p_on) * r2;
    CHECK_REL(a.rate_per_s, rate, 1e-12);
    CHECK_EQ_INT(a.renewal, 0);
    int *on = malloc(ARRIVALS * sizeof *on);
    double *t = on ? draw(&a, 5, on) : NULL;
    if (!CHECK(t != NULL)) {
        free(on);
        arrival_fini(&a);
        return;
    }
    /* Share in on periods, with a batch-means error (arrivals cluster in on periods). */
    size_t per = ARRIVALS / BATCHES;
    double share[BATCHES], mean = 0, var = 0;
    for (size_t b = 0; b < BATCHES; b++) {
        size_t c = 0;
        for (size_t i = b * per; i < (b + 1) * per; i++)
            c += (size_t)on[i];
        share[b] = (double)c / (double)per;
        mean += share[b] / BATCHES;
    }
    for (size_t b = 0; b < BATCHES; b++)
        var += (share[b] - mean) * (share[b] - mean) / (BATCHES - 1);
    double expect_share = p_on * r1 / rate;
    CHECK_NEAR(mean, expect_share, Z * sqrt(var / BATCHES));

    /* Index of dispersion of counts in windows of w seconds. */
    double w = 20, horizon = t[ARRIVALS - 1];
    size_t n_win = (size_t)(horizon / w);
    double *count = calloc(n_win, sizeof *count);
    if (CHECK(count != NULL)) {
        for (size_t i = 0; i < ARRIVALS; i++) {
            size_t j = (size_t)(t[i] / w);
            if (j < n_win)
                count[j] += 1;
        }
        double cm = 0, cv = 0;
        for (size_t j = 0; j < n_win; j++)
            cm += count[j] / (double)n_win;
        for (size_t j = 0; j < n_win; j++)
            cv += (count[j] - cm) * (count[j] - cm) / (double)(n_win - 1);
        double idc = cv / cm;
        double idc_theory = 1 + 2 * (r1 - r2) * (r1 - r2) * p_on * (1 - p_on) / (rate * s) *
                                    (1 - (1 - exp(-s * w)) / (s * w));
        CHECK_GE(idc, 2.0);
        CHECK_REL(idc, idc_theory, 0.15);
        CHECK_REL(cm, rate * w, 0.03);
    }
    free(count);
    free(t);
    free(on);
    arrival_fini(&a);
}

/* Diurnal: over whole periods the counts in each phase bin are Poisson with mean
 * n_periods * int_bin R (1 + A sin(2 pi (x + F))) P dx. The chi-square statistic over the
 * bins must be below its 1e-4 quantile, and each bin's count must not lie in a Poisson
 * tail of probability below 1e-6 (about 4.9 sigma: the 4 sigma of a single check would
 * fail once in a few hundred runs over 72 bins, more often for the small counts near the
 * trough of amplitude 1, whose upper tail is heavier than a normal's). */
static void test_diurnal_bins(void)
{
    static const char *const specs[] = {
        "diurnal:rate=50,amplitude=0.8,period=10,phase=0.25",
        "diurnal:rate=8,amplitude=1,period=60",
        "diurnal:rate=30,amplitude=0,period=5",
    };
    enum { BINS = 24 };
    for (size_t k = 0; k < sizeof specs / sizeof specs[0]; k++) {
        arrival_process a;
        if (!parse_ok(specs[k], &a))
            continue;
        double *t = draw(&a, 31 + k, NULL);
        if (!CHECK(t != NULL)) {
            arrival_fini(&a);
            continue;
        }
        double R = a.rate_per_s, A = a.amplitude, P = a.period_s, F = a.phase;
        CHECK_EQ_DBL(a.peak_per_s, R * (1 + A));
        /* A horizon fixed in advance, well inside the run: one that depended on the last
         * arrival would condition the counts. */
        double n_periods = floor(0.9 * ARRIVALS / (R * P));
        CHECK_LE(n_periods * P, t[ARRIVALS - 1]);
        double observed[BINS] = {0};
        for (size_t i = 0; i < ARRIVALS && t[i] < n_periods * P; i++) {
            double x = t[i] / P - floor(t[i] / P);
            size_t b = (size_t)(x * BINS);
            observed[b < BINS ? b : BINS - 1] += 1;
        }
        double chi2 = 0;
        size_t outside = 0;
        for (size_t b = 0; b < BINS; b++) {
            double x0 = (double)b / BINS, x1 = (double)(b + 1) / BINS;
            double e =
                n_periods * R * P *
                ((x1 - x0) + A / (2 * PI) * (cos(2 * PI * (x0 + F)) - cos(2 * PI * (x1 + F))));
            if (e <= 0) {
                outside += observed[b] != 0;
                continue;
            }
            chi2 += (observed[b] - e) * (observed[b] - e) / e;
            unsigned o = (unsigned)observed[b];
            double p_low = gsl_cdf_poisson_P(o, e), p_high = o ? gsl_cdf_poisson_Q(o - 1, e) : 1;
            outside += fmin(p_low, p_high) < 1e-6;
        }
        CHECK_EQ_U64(outside, 0);
        /* The expected counts are exact, not fitted, so the degrees of freedom are BINS. */
        if (!CHECK_LE(chi2, gsl_cdf_chisq_Qinv(1e-4, BINS)))
            fprintf(stderr, "  (%s)\n", specs[k]);
        free(t);
        arrival_fini(&a);
    }
}

/* Steps: the counts in each segment are Poisson with mean rate * length; none where the
 * rate is 0. */
static void test_steps(void)
{
    arrival_process a;
    if (!parse_ok("steps:rates=5/20/0/10/40,times=100/150/400/500", &a))
        return;
    CHECK_EQ_U64(a.n_steps, 5);
    CHECK_EQ_DBL(a.rate_per_s, 40);
    double *t = draw(&a, 9, NULL);
    if (!CHECK(t != NULL)) {
        arrival_fini(&a);
        return;
    }
    static const double lo[] = {0, 100, 150, 400}, hi[] = {100, 150, 400, 500};
    static const double rate[] = {5, 20, 0, 10};
    for (size_t s = 0; s < 4; s++) {
        size_t n = first_at(t, hi[s]) - first_at(t, lo[s]);
        double e = rate[s] * (hi[s] - lo[s]);
        if (e == 0)
            CHECK_EQ_U64(n, 0);
        else
            CHECK_NEAR((double)n, e, 4 * sqrt(e));
    }
    /* The last segment: counts in 100 s windows after 500 s. */
    double chi2 = 0;
    for (size_t j = 0; j < 40; j++) {
        double x = 500 + 100.0 * (double)j;
        double n = (double)(first_at(t, x + 100) - first_at(t, x));
        chi2 += (n - 4000) * (n - 4000) / 4000;
    }
    CHECK_LE(chi2, gsl_cdf_chisq_Qinv(1e-4, 40));
    free(t);
    arrival_fini(&a);

    /* A single rate needs no times: it is a Poisson process. */
    if (parse_ok("steps:rates=3", &a)) {
        CHECK_EQ_DBL(a.rate_per_s, 3);
        arrival_fini(&a);
    }
}

/* The same seed gives the same sequence, also when two streams of one shared process
 * interleave; the renewal kinds give exactly the running sum of arrival_next_gap(). */
static void test_reproducible(void)
{
    for (size_t k = 0; k < sizeof SPECS / sizeof SPECS[0]; k++) {
        arrival_process a;
        if (!parse_ok(SPECS[k], &a))
            continue;
        enum { N = 2000 };
        double solo[N];
        gsl_rng *r1 = sim_rng_create(42), *r2 = sim_rng_create(43), *r3 = sim_rng_create(42);
        arrival_state s1, s2;
        arrival_start(&a, &s1, r1);
        for (size_t i = 0; i < N; i++)
            solo[i] = arrival_next(&a, &s1, r1);
        gsl_rng_set(r1, 42);
        arrival_start(&a, &s1, r1);
        arrival_start(&a, &s2, r2);
        size_t differ = 0;
        for (size_t i = 0; i < N; i++) {
            differ += arrival_next(&a, &s1, r1) != solo[i];
            (void)arrival_next(&a, &s2, r2);
        }
        CHECK_EQ_U64(differ, 0);
        if (a.renewal) {
            double clock = 0;
            differ = 0;
            for (size_t i = 0; i < N; i++) {
                clock += arrival_next_gap(&a, r3);
                differ += clock != solo[i];
            }
            CHECK_EQ_U64(differ, 0);
        }
        gsl_rng_free(r1);
        gsl_rng_free(r2);
        gsl_rng_free(r3);
        arrival_fini(&a);
    }
}

static void expect_error(const char *text, const char *bad_part, const char *form)
{
    char err[1024] = "";
    arrival_process a;
    int rc = arrival_parse(text, &a, err, sizeof err);
    if (!CHECK_EQ_INT(rc, -1)) {
        arrival_fini(&a);
        return;
    }
    if (!CHECK_CONTAINS(err, bad_part) | !CHECK_CONTAINS(err, form))
        fprintf(stderr, "  (spec was \"%s\")\n", text);
}

static void test_bad_specs(void)
{
    const char *weibull = "weibull:rate=R,shape=K";
    const char *mmpp = "mmpp:rate_on=R1,rate_off=R2,mean_on=T1,mean_off=T2";
    const char *diurnal = "diurnal:rate=R,amplitude=A,period=P[,phase=F]";
    const char *steps = "steps:rates=R1/.../Rn,times=T1/.../Tn-1";
    /* the renewal kinds */
    expect_error("gamma:rate=-1,cv=1", "-1", "gamma:rate=R,cv=C");
    expect_error("poisson:rate=abc", "abc", "poisson:rate=R");
    expect_error("poisson", "poisson", "poisson:rate=R");
    expect_error("weird:rate=1", "weird", "poisson");
    expect_error("gamma:rate=1", "cv", "gamma:rate=R,cv=C");
    expect_error("poisson:rate=1,cv=2", "cv", "poisson:rate=R");
    expect_error("deterministic:rate=0", "0", "deterministic:rate=R");
    expect_error("weibull:rate=-1,shape=1", "-1", weibull);
    expect_error("weibull:rate=1", "shape", weibull);
    expect_error("weibull:rate=1,shape=0", "shape", weibull);
    expect_error("weibull:rate=1,shape=0.0001", "shape", weibull);
    expect_error("weibull", "weibull", weibull);
    expect_error("mmpp:rate_on=1,rate_off=0,mean_on=1", "mean_off", mmpp);
    expect_error("mmpp:rate_on=1", "rate_off", mmpp);
    expect_error("mmpp:rate_on=0,rate_off=1,mean_on=1,mean_off=1", "rate_on", mmpp);
    expect_error("mmpp:rate_on=1,rate_off=-1,mean_on=1,mean_off=1", "-1", mmpp);
    expect_error("mmpp:rate_on=1,rate_off=1,mean_on=1,mean_off=1,x=2", "'x'", mmpp);
    expect_error("diurnal:rate=1,amplitude=2,period=10", "amplitude", diurnal);
    expect_error("diurnal:rate=1,amplitude=2,period=10", "'2'", diurnal);
    expect_error("diurnal:rate=1,amplitude=-0.5,period=10", "-0.5", diurnal);
    expect_error("diurnal:rate=1,amplitude=0.5", "period", diurnal);
    expect_error("diurnal:rate=1,amplitude=0.5,period=0", "period", diurnal);
    expect_error("diurnal:rate=1,amplitude=0.5,period=3,phase=x", "phase", diurnal);
    expect_error("steps:rates=1/2/3,times=5/3", "times", steps);
    expect_error("steps:rates=1/2/3,times=5/3", "increase", steps);
    expect_error("steps:rates=1/2/3,times=5/5", "increase", steps);
    expect_error("steps:rates=1/2,times=1/2", "2 rates need 1 times, found 2", steps);
    expect_error("steps:rates=1/2/3,times=1", "3 rates need 2 times, found 1", steps);
    expect_error("steps:rates=1/2", "2 rates need 1 times, found 0", steps);
    expect_error("steps:rates=1/x,times=1", "'x'", steps);
    expect_error("steps:rates=1//2,times=1/2", "rates item 2", steps);
    expect_error("steps:rates=1/2/,times=1/2", "rates item 3", steps);
    expect_error("steps:rates=1/-2,times=1", "-2", steps);
    expect_error("steps:rates=1/2,times=0", "times item 1", steps);
    expect_error("steps:rates=1/0,times=3", "last rate", steps);
    expect_error("steps:times=3", "rates", steps);
    expect_error("steps:rates=1,times=2,foo=3", "foo", steps);
    expect_error("bursty:rate=1", "bursty", "mmpp:rate_on");
    expect_error("bursty:rate=1", "bursty", "steps:rates");
    /* The existing kinds still report as before. */
    expect_error("gamma:rate=-1,cv=1", "-1", "gamma:rate=R,cv=C");
    expect_error("poisson", "poisson", "poisson:rate=R");
}

/* The diurnal gap scv in its limits: Poisson when the rate is constant or the cycle much
 * faster than the gaps; when the cycle is much slower, the gaps are exponential at the
 * rate of the moment, so E[gap^2] = 2 / R * mean(1 / rate) and scv = 2 / sqrt(1 - A^2) - 1. */
static void test_diurnal_scv_limits(void)
{
    const struct {
        const char *text;
        double scv, rel;
    } cases[] = {
        {"diurnal:rate=3,amplitude=0,period=10", 1.0, 1e-15},
        {"diurnal:rate=0.001,amplitude=0.9,period=0.01", 1.0, 1e-4},
        {"diurnal:rate=100,amplitude=0.6,period=1e7,phase=0.4", 1.5, 1e-3},
        {"diurnal:rate=1e4,amplitude=0.99,period=86400", 2 / sqrt(1 - 0.99 * 0.99) - 1, 1e-3},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        arrival_process a;
        if (!parse_ok(cases[i].text, &a))
            continue;
        if (!CHECK_REL(a.interarrival.scv, cases[i].scv, cases[i].rel))
            fprintf(stderr, "  (%s)\n", cases[i].text);
        arrival_fini(&a);
    }
}

static void test_forms(void)
{
    static const char *const names[] = {
        "poisson:", "deterministic:", "gamma:", "weibull:", "mmpp:", "diurnal:", "steps:"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        CHECK_CONTAINS(arrival_forms(), names[i]);
    arrival_process a;
    if (parse_ok("steps:rates=1/2,times=3", &a)) {
        CHECK(strcmp(a.text, "steps:rates=1/2,times=3") == 0);
        arrival_fini(&a);
    }
}

TEST_MAIN(TEST(test_long_run), TEST(test_weibull), TEST(test_mmpp), TEST(test_diurnal_bins),
          TEST(test_diurnal_scv_limits), TEST(test_steps), TEST(test_reproducible),
          TEST(test_bad_specs), TEST(test_forms))
