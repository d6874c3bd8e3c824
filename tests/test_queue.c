/*
 * test_queue: the G/G/c/K (bulk) queueing mode.
 *
 * Deterministic queues are worked out by hand, event by event, including the order of
 * events that fall at the same time (the engine fires them in scheduling order, so a
 * departure scheduled earlier fires before an arrival at the same instant). Random queues
 * are checked against queueing theory within their confidence intervals, and against
 * themselves: reproducibility for a seed, Little's law, and a change of time scale.
 */
#include <math.h>
#include <stdlib.h>

#include "sim/base/histo.h"
#include "sim/engine/queue.h"
#include "sim/engine/theory.h"
#include "tests/check.h"

/* A parsed arrival process and service distribution that a config borrows. */
typedef struct setup {
    arrival_process arrivals;
    dist service;
    queue_config cfg;
} setup;

static bool setup_init(setup *s, const char *arrivals, const char *service, uint32_t servers,
                       uint64_t capacity, uint32_t batch, uint64_t customers, uint32_t replications,
                       double warmup, uint64_t seed)
{
    char err[512] = "";
    if (!CHECK_EQ_INT(arrival_parse(arrivals, &s->arrivals, err, sizeof err), 0)) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    if (!CHECK_EQ_INT(dist_parse(service, &s->service, err, sizeof err), 0)) {
        fprintf(stderr, "  %s\n", err);
        arrival_fini(&s->arrivals);
        return false;
    }
    s->cfg = (queue_config){.arrivals = &s->arrivals,
                            .service = &s->service,
                            .servers = servers,
                            .capacity = capacity,
                            .batch = batch,
                            .customers = customers,
                            .replications = replications,
                            .warmup_fraction = warmup,
                            .tail_t_s = 1.0,
                            .seed = seed};
    return true;
}

static void setup_fini(setup *s)
{
    arrival_fini(&s->arrivals);
    dist_fini(&s->service);
}

static bool run(const setup *s, queue_result *res)
{
    char err[512] = "";
    if (!CHECK_EQ_INT(queue_run(&s->cfg, res, err, sizeof err), 0)) {
        fprintf(stderr, "  %s\n", err);
        return false;
    }
    return true;
}

static double mean_of(const queue_result *res, queue_metric m)
{
    return res->metric[m].mean;
}

static void test_dd1(void)
{
    /* Arrivals every 2 s, service 1 s: nobody ever waits, the server is busy half the
     * time, and one customer leaves every 2 s. */
    setup s;
    if (!setup_init(&s, "deterministic:rate=0.5", "det:value=1", 1, 0, 1, 1000, 3, 0.1, 1))
        return;
    CHECK_NEAR(queue_offered_load(&s.cfg), 0.5, 1e-15);
    queue_result res;
    if (run(&s, &res)) {
        CHECK_EQ_DBL(mean_of(&res, QM_MEAN_WAIT), 0.0);
        CHECK_EQ_DBL(mean_of(&res, QM_PROB_WAIT), 0.0);
        CHECK_EQ_DBL(mean_of(&res, QM_PROB_WAIT_GT_T), 0.0);
        CHECK_EQ_DBL(mean_of(&res, QM_P99_WAIT), 0.0);
        CHECK_NEAR(mean_of(&res, QM_MEAN_SOJOURN), 1.0, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_UTILIZATION), 0.5, 1e-3);
        CHECK_NEAR(mean_of(&res, QM_THROUGHPUT), 0.5, 1e-3);
        CHECK_NEAR(mean_of(&res, QM_MEAN_IN_SYSTEM), 0.5, 1e-3);
        CHECK_EQ_DBL(mean_of(&res, QM_BLOCKED), 0.0);
        /* Every replication is the same deterministic path. */
        CHECK_EQ_DBL(res.metric[QM_MEAN_SOJOURN].half_width, 0.0);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_dd1_bulk_rate_1_5(void)
{
    /* Arrivals at 2k/3, service 1 per batch, batches of up to 2, offered load per slot
     * 1.5 * 1 / 2 = 0.75. By hand: customer 1 (t = 2/3) is served alone until 5/3, and
     * from then on the line is never empty at a departure, so the server is busy all the
     * time and a batch leaves every second: 1.5 customers per batch on average, so the
     * throughput is 1.5 and the utilisation 1. In each 2 s cycle three customers arrive and
     * two batches start; the third arrival of a cycle lands exactly on a departure (in
     * exact arithmetic; in floating point the two times may differ by rounding), so its
     * wait is 0 or 1 depending on which event comes first, and the cycle's waits are
     * (2/3, 1, 1/3) or (2/3, 0, 1/3). Either way the mean wait lies in [1/3, 2/3] and no
     * one waits more than one service time. */
    setup s;
    if (!setup_init(&s, "deterministic:rate=1.5", "det:value=1", 1, 0, 2, 3000, 2, 0.0, 3))
        return;
    CHECK_NEAR(queue_offered_load(&s.cfg), 0.75, 1e-15);
    queue_result res;
    if (run(&s, &res)) {
        CHECK_GE(mean_of(&res, QM_MEAN_WAIT), 1.0 / 3.0 - 1e-3);
        CHECK_LE(mean_of(&res, QM_MEAN_WAIT), 2.0 / 3.0 + 1e-3);
        CHECK_LE(mean_of(&res, QM_P99_WAIT), 1.0 * (1 + HISTO_REL_ERROR) + 1e-9);
        CHECK_EQ_DBL(mean_of(&res, QM_PROB_WAIT_GT_T), 0.0); /* t = 1: nobody waits > 1 */
        CHECK_NEAR(mean_of(&res, QM_MEAN_SOJOURN), mean_of(&res, QM_MEAN_WAIT) + 1.0, 1e-9);
        CHECK_NEAR(mean_of(&res, QM_UTILIZATION), 1.0, 1e-6);
        CHECK_NEAR(mean_of(&res, QM_THROUGHPUT), 1.5, 1e-2);
        CHECK_EQ_DBL(mean_of(&res, QM_BLOCKED), 0.0);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_dd1_bulk_exact_ties(void)
{
    /* Arrivals every 0.5 s (exact in binary, so ties are exact), service 1, batch 2.
     * Customer n arrives at n/2. By hand:
     *   t=0.5 c1 starts alone (wait 0), leaves 1.5;  t=1.0 c2 waits;
     *   t=1.5 the departure (scheduled at 0.5) fires before c3's arrival (scheduled at
     *         1.0), so the batch is {c2} (wait 0.5); then c3 waits;
     *   t=2.0 c4 waits;  t=2.5 departure first: batch {c3, c4} (waits 1.0, 0.5), then c5;
     * and so on: every later batch is a pair with waits 1.0 and 0.5. With N = 1000
     * customers and no warm-up the waits are 0, 0.5 and 499 pairs: total
     * 0.5 + 499 * 1.5 = 749, mean 0.749 exactly. (Were the arrival fired first at a tie,
     * the pairs would wait 0.5 and 0 and the mean would be about 0.25.) The server never
     * idles after 0.5. */
    setup s;
    if (!setup_init(&s, "deterministic:rate=2", "det:value=1", 1, 0, 2, 1000, 2, 0.0, 5))
        return;
    queue_result res;
    if (run(&s, &res)) {
        CHECK_NEAR(mean_of(&res, QM_MEAN_WAIT), 0.749, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_PROB_WAIT), 0.999, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_MEAN_SOJOURN), 1.749, 1e-12);
        /* Waits sorted: one 0, 500 of 0.5, 499 of 1.0. */
        CHECK_REL(mean_of(&res, QM_P50_WAIT), 0.5, HISTO_REL_ERROR);
        CHECK_REL(mean_of(&res, QM_P90_WAIT), 1.0, HISTO_REL_ERROR);
        CHECK_EQ_DBL(mean_of(&res, QM_PROB_WAIT_GT_T), 0.0);
        CHECK_NEAR(mean_of(&res, QM_UTILIZATION), 1.0, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_THROUGHPUT), 2.0, 1e-2);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_dd11_blocking(void)
{
    /* D/D/1/1: arrivals every 0.5 s, service 1 s, no waiting room. Customer n arrives at
     * n/2. c1 (0.5) enters and leaves at 1.5; c2 (1.0) finds the server busy and is
     * blocked; at 1.5 c1's departure (scheduled at 0.5) fires before c3's arrival
     * (scheduled at 1.0), so c3 enters; and so on: odd customers enter, even ones are
     * blocked. Measuring customers 101..1000 (warm-up 10%), exactly 450 of 900 are
     * blocked. (Had the arrival fired first at a tie, two in three would be blocked.)
     * Nobody waits, the server is always busy and one customer is always present. */
    setup s;
    if (!setup_init(&s, "deterministic:rate=2", "det:value=1", 1, 1, 1, 1000, 2, 0.1, 9))
        return;
    queue_result res;
    if (run(&s, &res)) {
        CHECK_EQ_DBL(mean_of(&res, QM_BLOCKED), 0.5);
        CHECK_EQ_DBL(mean_of(&res, QM_MEAN_WAIT), 0.0);
        CHECK_EQ_DBL(mean_of(&res, QM_PROB_WAIT), 0.0);
        CHECK_NEAR(mean_of(&res, QM_MEAN_SOJOURN), 1.0, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_UTILIZATION), 1.0, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_MEAN_IN_SYSTEM), 1.0, 1e-12);
        CHECK_NEAR(mean_of(&res, QM_THROUGHPUT), 1.0, 1e-2);
        CHECK_EQ_U64(res.customers_measured, 2 * 900);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_reproducible(void)
{
    setup s;
    if (!setup_init(&s, "poisson:rate=0.8", "gamma:mean=1,cv=1.5", 1, 0, 1, 5000, 4, 0.1, 77))
        return;
    queue_result a, b, c;
    if (!run(&s, &a))
        goto out;
    if (!run(&s, &b)) {
        queue_result_fini(&a);
        goto out;
    }
    CHECK_EQ_U64(a.n_seeds, 4 * QUEUE_SOURCES);
    CHECK(memcmp(a.seeds, b.seeds, a.n_seeds * sizeof *a.seeds) == 0);
    CHECK(memcmp(a.per_rep, b.per_rep, 4 * QM_COUNT * sizeof *a.per_rep) == 0);
    CHECK_EQ_U64(a.events, b.events);
    /* Another seed gives other seeds and other results. */
    s.cfg.seed = 78;
    if (run(&s, &c)) {
        size_t same_seeds = 0;
        for (size_t i = 0; i < c.n_seeds; i++)
            same_seeds += c.seeds[i] == a.seeds[i];
        CHECK_EQ_U64(same_seeds, 0);
        size_t same_waits = 0;
        for (size_t r = 0; r < 4; r++)
            same_waits += c.per_rep[QM_MEAN_WAIT * 4 + r] == a.per_rep[QM_MEAN_WAIT * 4 + r];
        CHECK_EQ_U64(same_waits, 0);
        queue_result_fini(&c);
    }
    /* The replication's seeds are the derived ones: a run with more replications repeats
     * the first four replications exactly. */
    s.cfg.seed = 77;
    s.cfg.replications = 6;
    if (run(&s, &c)) {
        CHECK(memcmp(a.seeds, c.seeds, a.n_seeds * sizeof *a.seeds) == 0);
        size_t differ = 0;
        for (size_t m = 0; m < QM_COUNT; m++)
            for (size_t r = 0; r < 4; r++) {
                double x = a.per_rep[m * 4 + r], y = c.per_rep[m * 6 + r];
                differ += !(x == y || (isnan(x) && isnan(y)));
            }
        CHECK_EQ_U64(differ, 0);
        queue_result_fini(&c);
    }
    queue_result_fini(&a);
    queue_result_fini(&b);
out:
    setup_fini(&s);
}

static void test_single_replication(void)
{
    setup s;
    if (!setup_init(&s, "poisson:rate=0.5", "exp:mean=1", 1, 0, 1, 2000, 1, 0.1, 5))
        return;
    queue_result res;
    if (run(&s, &res)) {
        size_t not_nan = 0;
        for (size_t m = 0; m < QM_COUNT; m++)
            not_nan += isnan(res.metric[m].half_width) ? 0u : 1u;
        CHECK_EQ_U64(not_nan, 0);
        CHECK(isfinite(mean_of(&res, QM_MEAN_WAIT)));
        CHECK_EQ_U64(res.metric[QM_MEAN_WAIT].n, 1);
        CHECK_EQ_INT(res.little_checked, 0);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_customers_measured(void)
{
    /* floor(0.1 * 12345) = 1234 warm-up customers per replication. */
    setup s;
    if (!setup_init(&s, "poisson:rate=1.5", "exp:mean=1", 2, 4, 1, 12345, 3, 0.1, 11))
        return;
    queue_result res;
    if (run(&s, &res)) {
        CHECK_EQ_U64(res.customers_measured, 3 * (12345 - 1234));
        CHECK(res.events > 0);
        /* Blocking happens (capacity 4 at load 0.75) but is a fraction. */
        CHECK(mean_of(&res, QM_BLOCKED) > 0 && mean_of(&res, QM_BLOCKED) < 0.5);
        queue_result_fini(&res);
    }
    s.cfg.warmup_fraction = 0.0;
    s.cfg.customers = 1000;
    if (run(&s, &res)) {
        CHECK_EQ_U64(res.customers_measured, 3 * 1000);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_mm2_little_and_theory(void)
{
    /* M/M/2 at lambda 1.4, mu 1 (rho 0.7). */
    setup s;
    if (!setup_init(&s, "poisson:rate=1.4", "exp:mean=1", 2, 0, 1, 20000, 10, 0.1, 2024))
        return;
    queue_result res;
    if (run(&s, &res)) {
        CHECK_EQ_INT(res.little_checked, 1);
        CHECK_EQ_INT(res.little_ok, 1);
        theory_answer th;
        if (CHECK_EQ_INT(theory_mmc(1.4, 1.0, 2, 1.0, &th), 0)) {
            const queue_metric ms[] = {QM_MEAN_WAIT,      QM_PROB_WAIT,   QM_PROB_WAIT_GT_T,
                                       QM_MEAN_IN_SYSTEM, QM_UTILIZATION, QM_THROUGHPUT};
            const double want[] = {th.mean_wait,      th.prob_wait,   th.prob_wait_gt_t,
                                   th.mean_in_system, th.utilization, th.throughput};
            for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++)
                CHECK_NEAR(mean_of(&res, ms[i]), want[i], 4 * res.metric[ms[i]].half_width);
        }
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_mm1_known_answer(void)
{
    /* M/M/1 at rho 0.5: Wq = rho / (mu - lambda) = 1. */
    setup s;
    if (!setup_init(&s, "poisson:rate=0.5", "exp:mean=1", 1, 0, 1, 50000, 20, 0.1, 31337))
        return;
    queue_result res;
    if (run(&s, &res)) {
        stats_ci w = res.metric[QM_MEAN_WAIT];
        CHECK(w.half_width > 0 && w.half_width < 0.1);
        CHECK_NEAR(w.mean, 1.0, 4 * w.half_width);
        CHECK_NEAR(mean_of(&res, QM_PROB_WAIT), 0.5, 4 * res.metric[QM_PROB_WAIT].half_width);
        CHECK_NEAR(mean_of(&res, QM_PROB_WAIT_GT_T), 0.5 * exp(-0.5),
                   4 * res.metric[QM_PROB_WAIT_GT_T].half_width);
        CHECK_NEAR(mean_of(&res, QM_UTILIZATION), 0.5, 4 * res.metric[QM_UTILIZATION].half_width);
        /* Waits are 0 with probability 1/2, so the median is 0 (or the first bucket);
         * P(W > x) = 0.5 e^{-0.5 x} gives p90 = 2 ln 5 and p99 = 2 ln 50. */
        CHECK_LE(mean_of(&res, QM_P50_WAIT), 0.05);
        CHECK_NEAR(mean_of(&res, QM_P90_WAIT), 2 * log(5.0),
                   4 * res.metric[QM_P90_WAIT].half_width + 0.01);
        CHECK_NEAR(mean_of(&res, QM_P99_WAIT), 2 * log(50.0),
                   4 * res.metric[QM_P99_WAIT].half_width + 0.03);
        CHECK_EQ_INT(res.little_ok, 1);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_mm11_blocking_theory(void)
{
    /* M/M/1/1 with a = 2: blocked a / (1 + a) = 2/3 (Erlang B); entering customers never
     * wait, and the throughput is lambda (1 - 2/3) = 2/3. */
    setup s;
    if (!setup_init(&s, "poisson:rate=2", "exp:mean=1", 1, 1, 1, 20000, 10, 0.1, 8))
        return;
    queue_result res;
    if (run(&s, &res)) {
        CHECK_NEAR(mean_of(&res, QM_BLOCKED), 2.0 / 3.0, 4 * res.metric[QM_BLOCKED].half_width);
        CHECK_EQ_DBL(mean_of(&res, QM_MEAN_WAIT), 0.0);
        CHECK_NEAR(mean_of(&res, QM_THROUGHPUT), 2.0 / 3.0,
                   4 * res.metric[QM_THROUGHPUT].half_width);
        queue_result_fini(&res);
    }
    setup_fini(&s);
}

static void test_metamorphic_time_scale(void)
{
    /* Doubling the arrival rate and halving the service mean keeps rho and only changes
     * the time unit: waits halve, throughput doubles, probabilities stay. */
    setup slow, fast;
    if (!setup_init(&slow, "poisson:rate=0.5", "exp:mean=1", 1, 0, 1, 20000, 12, 0.1, 100))
        return;
    if (!setup_init(&fast, "poisson:rate=1", "exp:mean=0.5", 1, 0, 1, 20000, 12, 0.1, 200)) {
        setup_fini(&slow);
        return;
    }
    queue_result a, b;
    if (run(&slow, &a)) {
        if (run(&fast, &b)) {
            /* In distribution (independent seeds): within the combined intervals. */
            stats_ci wa = a.metric[QM_MEAN_WAIT], wb = b.metric[QM_MEAN_WAIT];
            CHECK_NEAR(wa.mean, 2 * wb.mean, wa.half_width + 2 * wb.half_width);
            stats_ci ta = a.metric[QM_THROUGHPUT], tb = b.metric[QM_THROUGHPUT];
            CHECK_NEAR(2 * ta.mean, tb.mean, 2 * ta.half_width + tb.half_width);
            CHECK(stats_ci_overlap(a.metric[QM_PROB_WAIT], b.metric[QM_PROB_WAIT]));
            CHECK(stats_ci_overlap(a.metric[QM_UTILIZATION], b.metric[QM_UTILIZATION]));
            queue_result_fini(&b);
        }
        /* With the same seed the fast run is the slow run with every time halved (both
         * scalings are by a power of two, so even the rounding is the same). */
        fast.cfg.seed = slow.cfg.seed;
        if (run(&fast, &b)) {
            size_t off = 0;
            for (size_t r = 0; r < 12; r++) {
                off += !(
                    fabs(a.per_rep[QM_MEAN_WAIT * 12 + r] - 2 * b.per_rep[QM_MEAN_WAIT * 12 + r]) <=
                    1e-9 * a.per_rep[QM_MEAN_WAIT * 12 + r]);
                off += !(fabs(2 * a.per_rep[QM_THROUGHPUT * 12 + r] -
                              b.per_rep[QM_THROUGHPUT * 12 + r]) <=
                         1e-9 * b.per_rep[QM_THROUGHPUT * 12 + r]);
                off += a.per_rep[QM_PROB_WAIT * 12 + r] != b.per_rep[QM_PROB_WAIT * 12 + r];
            }
            CHECK_EQ_U64(off, 0);
            queue_result_fini(&b);
        }
        queue_result_fini(&a);
    }
    setup_fini(&slow);
    setup_fini(&fast);
}

static void test_bad_config(void)
{
    setup s;
    if (!setup_init(&s, "poisson:rate=0.5", "exp:mean=1", 1, 0, 1, 100, 2, 0.1, 1))
        return;
    queue_result res;
    char err[512] = "";
    queue_config good = s.cfg, bad;
    bad = good;
    bad.servers = 0;
    CHECK_EQ_INT(queue_run(&bad, &res, err, sizeof err), -1);
    CHECK(res.per_rep == NULL && res.seeds == NULL);
    bad = good;
    bad.servers = 3;
    bad.capacity = 2;
    CHECK_EQ_INT(queue_run(&bad, &res, err, sizeof err), -1);
    CHECK_CONTAINS(err, "capacity");
    bad = good;
    bad.warmup_fraction = 1.0;
    CHECK_EQ_INT(queue_run(&bad, &res, err, sizeof err), -1);
    bad = good;
    bad.customers = 0;
    CHECK_EQ_INT(queue_run(&bad, &res, err, sizeof err), -1);
    bad = good;
    bad.replications = 0;
    CHECK_EQ_INT(queue_run(&bad, &res, err, sizeof err), -1);
    bad = good;
    bad.batch = 0;
    CHECK_EQ_INT(queue_run(&bad, &res, err, sizeof err), -1);
    setup_fini(&s);
}

TEST_MAIN(TEST(test_dd1), TEST(test_dd1_bulk_rate_1_5), TEST(test_dd1_bulk_exact_ties),
          TEST(test_dd11_blocking), TEST(test_reproducible), TEST(test_single_replication),
          TEST(test_customers_measured), TEST(test_mm2_little_and_theory),
          TEST(test_mm1_known_answer), TEST(test_mm11_blocking_theory),
          TEST(test_metamorphic_time_scale), TEST(test_bad_config))
