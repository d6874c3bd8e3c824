/*
 * test_theory: the closed-form queueing answers against hand computation.
 *
 * Each expected value below is derived in the comment next to it from the textbook
 * formula, or by evaluating a different formula for the same quantity (Erlang's
 * alternating series for M/D/1, the birth-death chain summed directly for M/M/1/K), so a
 * slip in theory.c cannot be mirrored here.
 */
#include <math.h>

#include "sim/engine/theory.h"
#include "tests/check.h"

static void test_mm1(void)
{
    /* lambda 0.5, mu 1: rho 0.5, Wq = rho / (mu - lambda) = 1, W = 2, L = rho / (1 - rho)
     * = 1, P(Wq > 0) = rho, P(Wq > t) = rho e^{-(mu - lambda) t}. */
    theory_answer a;
    if (!CHECK_EQ_INT(theory_mmc(0.5, 1.0, 1, 2.0, &a), 0))
        return;
    CHECK_NEAR(a.mean_wait, 1.0, 1e-12);
    CHECK_NEAR(a.prob_wait, 0.5, 1e-12);
    CHECK_NEAR(a.prob_wait_gt_t, 0.5 * exp(-0.5 * 2.0), 1e-12);
    CHECK_NEAR(a.mean_sojourn, 2.0, 1e-12);
    CHECK_NEAR(a.utilization, 0.5, 1e-12);
    CHECK_NEAR(a.mean_in_system, 1.0, 1e-12);
    CHECK_EQ_DBL(a.blocked_fraction, 0.0);
    CHECK_NEAR(a.throughput, 0.5, 1e-12);
    /* The tail at several t, and at t = 0 it is P(wait). */
    for (double t = 0.0; t <= 10.0; t += 2.5) {
        theory_answer b;
        theory_mmc(0.5, 1.0, 1, t, &b);
        CHECK_NEAR(b.prob_wait_gt_t, 0.5 * exp(-0.5 * t), 1e-12);
    }
    /* Heavier load, lambda 0.9: Wq = 0.9 / 0.1 = 9. */
    CHECK_EQ_INT(theory_mmc(0.9, 1.0, 1, 0.0, &a), 0);
    CHECK_NEAR(a.mean_wait, 9.0, 1e-9);
}

static void test_erlang_c(void)
{
    /* c = 2, a = 1: C = (a^2/2! * 2/(2-1)) / (1 + a + a^2/2! * 2/(2-1)) = 1 / 3. */
    CHECK_NEAR(theory_erlang_c(2, 1.0), 1.0 / 3.0, 1e-12);
    /* c = 1: C = a (an M/M/1 arrival waits iff the server is busy). */
    CHECK_NEAR(theory_erlang_c(1, 0.3), 0.3, 1e-12);
    /* c = 3, a = 2: sum_{k<3} a^k/k! = 1 + 2 + 2 = 5, a^3/3! * 3/(3-2) = 4, C = 4/9. */
    CHECK_NEAR(theory_erlang_c(3, 2.0), 4.0 / 9.0, 1e-12);
    /* Thousands of servers: still a probability, and it increases with the load. */
    double lo = theory_erlang_c(1000, 900.0), hi = theory_erlang_c(1000, 990.0);
    CHECK(lo > 0 && lo < 1);
    CHECK(hi > lo && hi < 1);
    /* Out of range. */
    CHECK_NAN(theory_erlang_c(0, 0.5));
    CHECK_NAN(theory_erlang_c(2, 0.0));
    CHECK_NAN(theory_erlang_c(2, 2.0));
    CHECK_NAN(theory_erlang_c(2, 3.0));
    CHECK_NAN(theory_erlang_c(2, NAN));
    CHECK_NAN(theory_erlang_c(2, -1.0));
}

static void test_mmc(void)
{
    /* M/M/2, lambda 1, mu 1: C = 1/3, Wq = C / (c mu - lambda) = 1/3, P(Wq > t) = C e^{-t},
     * utilisation 1/2, L = lambda (Wq + 1) = 4/3. */
    theory_answer a;
    if (!CHECK_EQ_INT(theory_mmc(1.0, 1.0, 2, 1.5, &a), 0))
        return;
    CHECK_NEAR(a.mean_wait, 1.0 / 3.0, 1e-12);
    CHECK_NEAR(a.prob_wait, 1.0 / 3.0, 1e-12);
    CHECK_NEAR(a.prob_wait_gt_t, exp(-1.5) / 3.0, 1e-12);
    CHECK_NEAR(a.utilization, 0.5, 1e-12);
    CHECK_NEAR(a.mean_in_system, 4.0 / 3.0, 1e-12);
    CHECK_NEAR(a.throughput, 1.0, 1e-12);
}

static void test_mmck_hand(void)
{
    /* M/M/1/1 (one server, no waiting room): blocking a / (1 + a). a = 2: 2/3. */
    theory_answer a;
    if (CHECK_EQ_INT(theory_mmck(2.0, 1.0, 1, 1, 0.0, &a), 0)) {
        CHECK_NEAR(a.blocked_fraction, 2.0 / 3.0, 1e-12);
        CHECK_NEAR(a.mean_wait, 0.0, 1e-15);
        CHECK_NEAR(a.prob_wait, 0.0, 1e-15);
        CHECK_NEAR(a.throughput, 2.0 / 3.0, 1e-12);
        CHECK_NEAR(a.utilization, 2.0 / 3.0, 1e-12);
        CHECK_NEAR(a.mean_in_system, 2.0 / 3.0, 1e-12);
    }
    for (double load = 0.1; load < 5; load *= 1.7) {
        theory_mmck(load, 1.0, 1, 1, 0.0, &a);
        CHECK_NEAR(a.blocked_fraction, load / (1 + load), 1e-12);
    }
    /* M/M/2/2, a = 1: Erlang B = (a^2/2) / (1 + a + a^2/2) = 0.2. */
    if (CHECK_EQ_INT(theory_mmck(1.0, 1.0, 2, 2, 0.0, &a), 0))
        CHECK_NEAR(a.blocked_fraction, 0.2, 1e-12);
    /* M/M/1/3, lambda 0.5, mu 1: p_n proportional to 2^-n, so p = (8, 4, 2, 1) / 15.
     * Blocked p_3 = 1/15; L = (4 + 4 + 3) / 15 = 11/15; Lq = p_2 + 2 p_3 = 4/15;
     * entering rate 0.5 * 14/15 = 7/15, so Wq = Lq / rate = 4/7; an entering arrival
     * waits when it finds 1 or 2 present: (4 + 2) / 14 = 3/7. */
    if (CHECK_EQ_INT(theory_mmck(0.5, 1.0, 1, 3, 0.0, &a), 0)) {
        CHECK_NEAR(a.blocked_fraction, 1.0 / 15.0, 1e-12);
        CHECK_NEAR(a.mean_in_system, 11.0 / 15.0, 1e-12);
        CHECK_NEAR(a.mean_wait, 4.0 / 7.0, 1e-12);
        CHECK_NEAR(a.prob_wait, 3.0 / 7.0, 1e-12);
        CHECK_NEAR(a.throughput, 7.0 / 15.0, 1e-12);
        CHECK_NEAR(a.utilization, 7.0 / 15.0, 1e-12);
        /* At t = 0 the tail is the probability of waiting at all. */
        CHECK_NEAR(a.prob_wait_gt_t, a.prob_wait, 1e-12);
    }
    /* The tail of M/M/1/3 at t: finding n = 1 the wait is Exp(1), n = 2 it is Erlang(2,1):
     * P(W > t) = (4 e^{-t} + 2 e^{-t} (1 + t)) / 14. */
    double t = 0.8;
    if (CHECK_EQ_INT(theory_mmck(0.5, 1.0, 1, 3, t, &a), 0))
        CHECK_NEAR(a.prob_wait_gt_t, (4 * exp(-t) + 2 * exp(-t) * (1 + t)) / 14.0, 1e-12);
    /* Overload is fine with a finite room: lambda 3, mu 1, K = 4. Little's law holds. */
    if (CHECK_EQ_INT(theory_mmck(3.0, 1.0, 2, 4, 0.0, &a), 0)) {
        CHECK(a.blocked_fraction > 0 && a.blocked_fraction < 1);
        CHECK_NEAR(a.mean_in_system, a.throughput * a.mean_sojourn, 1e-12);
    }
}

static void test_mmck_large_k_is_mmc(void)
{
    /* With a huge waiting room nobody is blocked and M/M/c/K is M/M/c. */
    const int cs[] = {1, 2, 5};
    const double rhos[] = {0.3, 0.8};
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < 2; j++) {
            int c = cs[i];
            double lambda = rhos[j] * c, t = 0.7;
            theory_answer f, u;
            if (!CHECK_EQ_INT(theory_mmck(lambda, 1.0, c, 5000, t, &f), 0) ||
                !CHECK_EQ_INT(theory_mmc(lambda, 1.0, c, t, &u), 0))
                continue;
            CHECK_NEAR(f.blocked_fraction, 0.0, 1e-12);
            CHECK_NEAR(f.mean_wait, u.mean_wait, 1e-9);
            CHECK_NEAR(f.prob_wait, u.prob_wait, 1e-9);
            CHECK_NEAR(f.prob_wait_gt_t, u.prob_wait_gt_t, 1e-9);
            CHECK_NEAR(f.mean_in_system, u.mean_in_system, 1e-9);
            CHECK_NEAR(f.utilization, u.utilization, 1e-9);
        }
    }
}

static void test_bulk(void)
{
    /* K = 1 is M/M/1. */
    theory_answer b, m;
    const double lambdas[] = {0.1, 0.5, 0.9};
    for (size_t i = 0; i < 3; i++) {
        double t = 1.3;
        if (!CHECK_EQ_INT(theory_mm_bulk(lambdas[i], 1.0, 1, t, &b), 0) ||
            !CHECK_EQ_INT(theory_mmc(lambdas[i], 1.0, 1, t, &m), 0))
            continue;
        CHECK_REL(b.mean_wait, m.mean_wait, 1e-9);
        CHECK_REL(b.prob_wait, m.prob_wait, 1e-9);
        CHECK_REL(b.prob_wait_gt_t, m.prob_wait_gt_t, 1e-9);
        CHECK_REL(b.utilization, m.utilization, 1e-9);
        CHECK_REL(b.mean_in_system, m.mean_in_system, 1e-9);
    }
    /* K = 2, lambda = mu = 1: the root of r^3 - 2 r + 1 = (r - 1)(r^2 + r - 1) in (0, 1) is
     * r = (sqrt 5 - 1) / 2. The busy probability is lambda / (lambda + mu (1 - r)) =
     * 1 / (2 - r), a batch leaves at rate mu (1 - r^2) = r (as r^2 = 1 - r), so
     * Wq = busy / r and P(Wq > t) = busy e^{-r t}. */
    double r = (sqrt(5.0) - 1.0) / 2.0, busy = 1.0 / (2.0 - r), t = 0.9;
    if (CHECK_EQ_INT(theory_mm_bulk(1.0, 1.0, 2, t, &b), 0)) {
        CHECK_NEAR(b.prob_wait, busy, 1e-12);
        CHECK_NEAR(b.utilization, busy, 1e-12);
        CHECK_NEAR(b.mean_wait, busy / r, 1e-12);
        CHECK_NEAR(b.prob_wait_gt_t, busy * exp(-r * t), 1e-12);
        CHECK_NEAR(b.mean_sojourn, busy / r + 1.0, 1e-12);
        CHECK_NEAR(b.mean_in_system, busy / r + 1.0, 1e-12); /* lambda = 1 */
    }
    /* Bigger batches never make anyone wait longer. */
    double prev = INFINITY;
    for (int k = 1; k <= 16; k *= 2) {
        if (CHECK_EQ_INT(theory_mm_bulk(0.9, 1.0, k, 0.0, &b), 0)) {
            CHECK_LE(b.mean_wait, prev);
            prev = b.mean_wait;
        }
    }
}

static void test_mg1(void)
{
    /* scv = 1 is M/M/1: Wq = rho E[S] (1 + 1) / (2 (1 - rho)) = 1 at lambda 0.5, E[S] 1. */
    theory_answer g, m;
    if (CHECK_EQ_INT(theory_mg1(0.5, 1.0, 1.0, 2.0, &g), 0) &&
        CHECK_EQ_INT(theory_mmc(0.5, 1.0, 1, 2.0, &m), 0)) {
        CHECK_NEAR(g.mean_wait, m.mean_wait, 1e-12);
        CHECK_NEAR(g.prob_wait, m.prob_wait, 1e-12);
        CHECK_NEAR(g.mean_in_system, m.mean_in_system, 1e-12);
        CHECK_NEAR(g.utilization, m.utilization, 1e-12);
        CHECK_NAN(g.prob_wait_gt_t);
    }
    /* Deterministic service halves the M/M/1 wait: 0.5. scv 4 gives 5/2 of it: 2.5. */
    CHECK_EQ_INT(theory_mg1(0.5, 1.0, 0.0, 0.0, &g), 0);
    CHECK_NEAR(g.mean_wait, 0.5, 1e-12);
    CHECK_EQ_INT(theory_mg1(0.5, 1.0, 4.0, 0.0, &g), 0);
    CHECK_NEAR(g.mean_wait, 2.5, 1e-12);
    /* Scaling time: rate x2 and service /2 halves the wait. */
    theory_answer h;
    CHECK_EQ_INT(theory_mg1(1.0, 0.5, 4.0, 0.0, &h), 0);
    CHECK_NEAR(h.mean_wait, 1.25, 1e-12);
}

/* Erlang's formula P(W <= t) = (1 - rho) sum_{k=0}^{floor(t/d)} (lambda (k d - t))^k / k!
 * e^{-lambda (k d - t)}: alternating, but accurate for the small t / d used here. */
static double erlang_md1_cdf(double lambda, double d, double t)
{
    double rho = lambda * d, sum = 0.0, fact = 1.0;
    for (int k = 0; k <= (int)floor(t / d); k++) {
        if (k > 0)
            fact *= k;
        double x = lambda * (k * d - t);
        sum += pow(x, k) / fact * exp(-x);
    }
    return (1.0 - rho) * sum;
}

static void test_md1(void)
{
    double lambda = 0.5, d = 1.0;
    theory_answer a;
    /* For t < d, P(W <= t) = (1 - rho) e^{lambda t}; at t = d it is (1 - rho) e^{lambda d}. */
    const double ts_first[] = {0.0, 0.3, 0.999, 1.0};
    for (size_t i = 0; i < 4; i++) {
        double t = ts_first[i];
        if (CHECK_EQ_INT(theory_md1(lambda, d, t, &a), 0))
            CHECK_NEAR(1.0 - a.prob_wait_gt_t, 0.5 * exp(lambda * t), 1e-12);
    }
    /* Beyond one service time, against Erlang's series. */
    const double ts[] = {1.5, 2.0, 2.7, 4.2, 6.9};
    for (size_t i = 0; i < 5; i++) {
        if (CHECK_EQ_INT(theory_md1(lambda, d, ts[i], &a), 0))
            CHECK_NEAR(1.0 - a.prob_wait_gt_t, erlang_md1_cdf(lambda, d, ts[i]), 1e-10);
    }
    /* A second load and a service time other than 1. */
    if (CHECK_EQ_INT(theory_md1(0.35, 2.0, 5.0, &a), 0))
        CHECK_NEAR(1.0 - a.prob_wait_gt_t, erlang_md1_cdf(0.35, 2.0, 5.0), 1e-10);
    /* Means by Pollaczek-Khinchine: Wq = rho d / (2 (1 - rho)) = 0.5. */
    CHECK_EQ_INT(theory_md1(lambda, d, 0.0, &a), 0);
    CHECK_NEAR(a.mean_wait, 0.5, 1e-12);
    CHECK_NEAR(a.prob_wait, 0.5, 1e-12);
    CHECK_NEAR(a.prob_wait_gt_t, 0.5, 1e-12);
    /* The tail falls with t and stays a probability, far out too. */
    double prev = 1.0;
    size_t breaks = 0;
    for (double t = 0.0; t < 200.0; t += 3.7) {
        theory_md1(0.9, 1.0, t, &a);
        breaks += !(a.prob_wait_gt_t <= prev && a.prob_wait_gt_t >= 0.0);
        prev = a.prob_wait_gt_t;
    }
    CHECK_EQ_U64(breaks, 0);
    /* Past 10^6 service times there is no answer. */
    CHECK_EQ_INT(theory_md1(0.5, 1.0, 2e6, &a), 0);
    CHECK_NAN(a.prob_wait_gt_t);
}

static void test_invalid_inputs(void)
{
    theory_answer a, sentinel;
    memset(&sentinel, 0x5a, sizeof sentinel);
    a = sentinel;
    /* Unstable. */
    CHECK_EQ_INT(theory_mmc(1.0, 1.0, 1, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mmc(2.5, 1.0, 2, 0.0, &a), -1);
    CHECK_EQ_INT(theory_md1(1.0, 1.0, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mg1(2.0, 0.5, 1.0, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mm_bulk(2.0, 1.0, 2, 0.0, &a), -1);
    /* Bad parameters. */
    CHECK_EQ_INT(theory_mmc(0.0, 1.0, 1, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mmc(0.5, -1.0, 1, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mmc(0.5, 1.0, 0, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mmc(0.5, 1.0, 1, -1.0, &a), -1);
    CHECK_EQ_INT(theory_mmc(0.5, 1.0, 1, NAN, &a), -1);
    CHECK_EQ_INT(theory_mmc(0.5, 1.0, 1, INFINITY, &a), -1);
    CHECK_EQ_INT(theory_mmc(NAN, 1.0, 1, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mmc(0.5, 1.0, 1, 0.0, NULL), -1);
    CHECK_EQ_INT(theory_mmck(0.5, 1.0, 2, 1, 0.0, &a), -1); /* K < c */
    CHECK_EQ_INT(theory_mmck(0.0, 1.0, 1, 1, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mmck(0.5, 1.0, 1, 3, -0.1, &a), -1);
    CHECK_EQ_INT(theory_md1(0.5, 0.0, 0.0, &a), -1);
    CHECK_EQ_INT(theory_md1(0.5, 1.0, -1.0, &a), -1);
    CHECK_EQ_INT(theory_mg1(0.5, 1.0, -0.5, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mg1(0.5, 1.0, INFINITY, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mm_bulk(0.5, 1.0, 0, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mm_bulk(0.5, 0.0, 2, 0.0, &a), -1);
    CHECK_EQ_INT(theory_mm_bulk(0.5, 1.0, 2, NAN, &a), -1);
    /* On failure *out is untouched. */
    CHECK(memcmp(&a, &sentinel, sizeof a) == 0);
}

TEST_MAIN(TEST(test_mm1), TEST(test_erlang_c), TEST(test_mmc), TEST(test_mmck_hand),
          TEST(test_mmck_large_k_is_mmc), TEST(test_bulk), TEST(test_mg1), TEST(test_md1),
          TEST(test_invalid_inputs))
