/*
 * test_plan: the searches of sim/plan/search.h against answers known in closed form.
 *
 * The searches take an evaluator, so each case here passes one whose figures are a
 * formula of the searched value: a latency that grows linearly with the rate (capacity
 * under the SLO computable by hand), a replica count that must exceed a ratio, and the
 * Erlang C tail of an M/M/c queue (fewest servers computed here from the formula itself,
 * not from theory.h). One case runs the queueing simulation through search_servers_queue
 * and checks it lands on the Erlang C answer.
 *
 * The experiments (experiment.h, sweep.h) are called as a library user would: a sweep of
 * two points into a temporary folder must write the rows two plan_run calls of the same
 * points write, and shards merged must give the whole sweep's file; the rate search
 * writes the answer servesearch_rate finds, and refuses a scenario it cannot search; the
 * queueing mode's run and load curve write their files and refuse a queue without a
 * steady state.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/rng.h"
#include "sim/plan/capsearch.h"
#include "sim/plan/deploy.h"
#include "sim/plan/experiment.h"
#include "sim/plan/parmap.h"
#include "sim/plan/queuerun.h"
#include "sim/plan/runspec.h"
#include "sim/plan/servesearch.h"
#include "sim/plan/sweep.h"
#include "workloads/resample.h"
#include "sim/plan/search.h"
#include "tests/check.h"

/* --- a linear latency model --------------------------------------------------------------- */

/* p99 TTFT = base + slope * rate (ms), with a constant interval half-width; one SLO. */
typedef struct linear {
    double base_ms, slope_ms, half_ms, limit_ms;
    int calls;
} linear;

static int linear_eval(void *user, double rate, search_step *e)
{
    linear *m = user;
    m->calls++;
    e->used[SLO_TTFT] = 1;
    e->metric[SLO_TTFT] = serve_slo_target_metric(SLO_TTFT, 99);
    e->value_ms[SLO_TTFT] = m->base_ms + m->slope_ms * rate;
    e->ci_ms[SLO_TTFT] = m->half_ms;
    e->limit_ms[SLO_TTFT] = m->limit_ms;
    e->cost_per_hour_usd = 2.5;
    return 0;
}

static void test_judge(void)
{
    search_step e;
    memset(&e, 0, sizeof e);
    e.used[SLO_TTFT] = e.used[SLO_TPOT] = 1;
    e.limit_ms[SLO_TTFT] = 100;
    e.limit_ms[SLO_TPOT] = 10;
    /* Both intervals within their limits: meets; the worst ratio is 9/10. */
    e.value_ms[SLO_TTFT] = 80, e.ci_ms[SLO_TTFT] = 10;
    e.value_ms[SLO_TPOT] = 9, e.ci_ms[SLO_TPOT] = 0.5;
    search_judge(&e);
    CHECK_EQ_INT(e.v, SEARCH_MEETS);
    CHECK_NEAR(e.worst_ratio, 0.9, 1e-12);
    /* One interval straddles its limit: unclear. */
    e.ci_ms[SLO_TPOT] = 2;
    search_judge(&e);
    CHECK_EQ_INT(e.v, SEARCH_UNCLEAR);
    /* One interval wholly beyond: fails, whatever the other says. */
    e.value_ms[SLO_TTFT] = 120;
    search_judge(&e);
    CHECK_EQ_INT(e.v, SEARCH_FAILS);
    CHECK_NEAR(e.worst_ratio, 1.2, 1e-12);
    /* An interval that is not finite counts as zero width. */
    e.value_ms[SLO_TTFT] = 80, e.value_ms[SLO_TPOT] = 9, e.ci_ms[SLO_TPOT] = INFINITY;
    search_judge(&e);
    CHECK_EQ_INT(e.v, SEARCH_MEETS);
}

static void test_rate_linear_exact(void)
{
    /* 100 + 10 r <= 500 ms: the capacity is 40 req/s exactly. With no interval, meets and
     * fails share the boundary, and the interpolated estimate of a linear figure is exact. */
    linear m = {100, 10, 0, 500, 0};
    search_evaluator ev = {linear_eval, NULL, &m};
    search_rate_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    double tol = 0.01;
    CHECK_EQ_INT(search_rate(&ev, 3, tol, s), 0);
    CHECK_LE(s->meets, 40);
    CHECK(s->fails > 40);
    CHECK_LE(s->fails - s->meets, tol * s->meets + 1e-9);
    CHECK_NEAR(s->estimate, 40, 1e-9);
    /* Every rate tried was evaluated once, and has the verdict the formula gives. */
    CHECK_EQ_INT(m.calls, s->n);
    for (int i = 0; i < s->n; i++) {
        CHECK_EQ_INT(s->step[i].v, s->step[i].x <= 40 ? SEARCH_MEETS : SEARCH_FAILS);
        CHECK_EQ_DBL(s->step[i].x, search_round4(s->step[i].x));
        for (int j = 0; j < i; j++)
            CHECK(s->step[i].x != s->step[j].x);
    }
    free(s);
}

static void test_rate_linear_interval(void)
{
    /* A half-width of 50 ms: meets while 100 + 10 r + 50 <= 500 (r <= 35), fails once
     * 100 + 10 r - 50 > 500 (r > 45); the estimate is still where the mean crosses, 40. */
    linear m = {100, 10, 50, 500, 0};
    search_evaluator ev = {linear_eval, NULL, &m};
    search_rate_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    double tol = 0.02;
    CHECK_EQ_INT(search_rate(&ev, 100, tol, s), 0);
    CHECK_LE(s->meets, 35);
    CHECK_GE(s->meets, 35 / (1 + tol));
    CHECK(s->fails > 45);
    CHECK_LE(s->fails, 45 * (1 + tol) + 1e-9);
    CHECK_NEAR(s->estimate, 40, 1e-9);
    free(s);
}

static void test_rate_not_met(void)
{
    /* 600 ms at any rate against a limit of 500: the search stops and says so. */
    linear m = {600, 0, 1, 500, 0};
    search_evaluator ev = {linear_eval, NULL, &m};
    search_rate_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    CHECK_EQ_INT(search_rate(&ev, 10, 0.02, s), -1);
    CHECK_CONTAINS(s->err, "not met even at");
    CHECK_EQ_DBL(s->meets, 0);
    free(s);
}

static int failing_eval(void *user, double x, search_step *e)
{
    (void)user;
    (void)x;
    snprintf(e->err, sizeof e->err, "the evaluator failed");
    return -1;
}

static void test_rate_error(void)
{
    search_evaluator ev = {failing_eval, NULL, NULL};
    search_rate_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    CHECK_EQ_INT(search_rate(&ev, 10, 0.02, s), -1);
    CHECK_EQ_INT(s->n, 1);
    CHECK_EQ_INT(s->step[0].v, SEARCH_ERROR);
    CHECK_CONTAINS(s->err, "the evaluator failed");
    free(s);
}

/* --- replicas ------------------------------------------------------------------------------ */

/* A target of 50 req/s spread over n replicas that each carry 7 within the SLO: the load
 * ratio (50 / n) / 7 is the figure against a limit of 1, so the fewest is ceil(50/7) = 8. */
static int replica_eval(void *user, double n, search_step *e)
{
    (void)user;
    e->used[SLO_E2EL] = 1;
    e->metric[SLO_E2EL] = serve_slo_target_metric(SLO_E2EL, 99);
    e->value_ms[SLO_E2EL] = 1000 * (50 / n) / 7;
    e->ci_ms[SLO_E2EL] = 0;
    e->limit_ms[SLO_E2EL] = 1000;
    e->cost_per_hour_usd = 3 * n;
    return 0;
}

static void test_replicas_exact(void)
{
    search_replica_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    search_evaluator ev = {replica_eval, NULL, NULL};
    /* From below (1, 2, 4, 8 then bisect), from the answer, and from above. */
    const uint64_t starts[] = {1, 8, 20};
    for (size_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(search_replicas(&ev, starts[i], s), 0);
        CHECK_EQ_U64(s->answer, 8);
        const search_step *best = search_replicas_best(s);
        if (CHECK(best != NULL))
            CHECK_NEAR(best->cost_per_hour_usd, 24, 1e-12);
    }
    free(s);
}

/* Issue 14: a search whose intervals are wide (runs too short) must not report a tight
 * answer. The linear latency with a half-width of 300 ms against a 500 ms limit leaves
 * every rate from 10 to 70 req/s unclear: the bounds end far apart and the search says it
 * did not decide; with a narrow interval it decides. */
static void test_rate_undecided(void)
{
    search_rate_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    linear wide = {100, 10, 300, 500, 0};
    search_evaluator ev = {linear_eval, NULL, &wide};
    CHECK_EQ_INT(search_rate(&ev, 3, 0.02, s), 0);
    CHECK(s->fails / s->meets > 5);
    CHECK_EQ_INT(search_rate_undecided(s), 1);
    linear narrow = {100, 10, 5, 500, 0};
    ev.user = &narrow;
    CHECK_EQ_INT(search_rate(&ev, 3, 0.02, s), 0);
    CHECK_EQ_INT(search_rate_undecided(s), 0);
    free(s);
}

/* The replica model above with an interval of 400 ms against its 1000 ms limit: n
 * replicas fail while 1000 (50/n)/7 - 400 > 1000, that is for n <= 5, and meet once
 * 1000 (50/n)/7 + 400 <= 1000, from n = 12; between, every count is unclear. */
static int replica_wide_eval(void *user, double n, search_step *e)
{
    replica_eval(user, n, e);
    e->ci_ms[SLO_E2EL] = 400;
    return 0;
}

static void test_replicas_undecided(void)
{
    search_replica_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    search_evaluator ev = {replica_wide_eval, NULL, NULL};
    CHECK_EQ_INT(search_replicas(&ev, 1, s), 0);
    /* It tries 1, 2, 4 (fail), 8, 16, 12 (meets), 10, 11: the band runs from one more
     * than the most it saw fail (4) to the answer. */
    CHECK_EQ_U64(s->answer, 12);
    CHECK_EQ_U64(search_replicas_low(s), 5);
    CHECK_EQ_INT(search_replicas_undecided(s), 1);
    search_evaluator exact = {replica_eval, NULL, NULL};
    CHECK_EQ_INT(search_replicas(&exact, 1, s), 0);
    CHECK_EQ_U64(search_replicas_low(s), 8);
    CHECK_EQ_INT(search_replicas_undecided(s), 0);
    free(s);
}

/* Issue 15: a deploy candidate is the fleet a replica search sizes, and its table
 * multiplies out: the rate per replica times the replicas is the target, the band is the
 * replica search's, and the cost per replica is the fleet's over its replicas. */
static void test_candidate_from_fleet(void)
{
    search_replica_result *s = malloc(sizeof *s);
    if (!CHECK(s != NULL))
        return;
    search_evaluator ev = {replica_wide_eval, NULL, NULL};
    CHECK_EQ_INT(search_replicas(&ev, 1, s), 0);
    search_candidate k;
    memset(&k, 0, sizeof k);
    search_candidate_fill(&k, 30, s);
    CHECK_EQ_DBL(k.replicas, 12);
    CHECK_EQ_DBL(k.replicas_low, 5);
    CHECK_NEAR(k.rate_meets * k.replicas, 30, 1e-12);
    /* 4 replicas is the largest fleet seen to fail: 7.5 req/s each. */
    CHECK_NEAR(k.rate_fails, 7.5, 1e-12);
    CHECK_NEAR(k.cost_total, 36, 1e-12);
    CHECK_NEAR(k.cost_replica, 3, 1e-12);
    CHECK_EQ_INT(k.undecided, 1);
    CHECK_CONTAINS(k.reason, "from 5 to 12 replicas");
    /* Decided: no reason; one replica meeting has no failing fleet above it. */
    search_evaluator exact = {replica_eval, NULL, NULL};
    CHECK_EQ_INT(search_replicas(&exact, 1, s), 0);
    memset(&k, 0, sizeof k);
    search_candidate_fill(&k, 30, s);
    CHECK_EQ_INT(k.undecided, 0);
    CHECK(k.reason[0] == '\0');
    CHECK_NEAR(k.rate_meets, 30.0 / 8, 1e-12);
    free(s);
}

/* --- fewest servers: Erlang C ---------------------------------------------------------------- */

/* The Erlang C probability of waiting, C(c, a) with a = lambda / mu, from its defining
 * formula: (a^c / c!) (c / (c - a)) / (sum_{k<c} a^k / k! + (a^c / c!) (c / (c - a))). */
static double erlang_c(int c, double a)
{
    double term = 1, sum = 0; /* term = a^k / k! */
    for (int k = 0; k < c; k++) {
        sum += term;
        term *= a / (k + 1);
    }
    double top = term * c / (c - a);
    return top / (sum + top);
}

/* P(W > t) of M/M/c = C(c, a) exp(-(c mu - lambda) t). */
static double mmc_tail(int c, double lambda, double mu, double t)
{
    return erlang_c(c, lambda / mu) * exp(-(c * mu - lambda) * t);
}

typedef struct mmc {
    double lambda, mu, t;
} mmc;

static int mmc_exact(void *user, uint32_t c, stats_ci *p, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    const mmc *q = user;
    memset(p, 0, sizeof *p);
    p->mean = mmc_tail((int)c, q->lambda, q->mu, q->t);
    p->half_width = 0;
    return 0;
}

static void test_servers_erlang_c(void)
{
    /* Several loads and targets: the search with exact figures finds the fewest c whose
     * tail is within the target, as the formula does by counting up. */
    const mmc cases[] = {{10, 1, 0.1}, {3.5, 0.5, 1}, {50, 2, 0.05}, {0.8, 1, 0.5}};
    const double targets[] = {0.2, 0.05, 0.01};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        for (size_t j = 0; j < 3; j++) {
            const mmc *q = &cases[i];
            int want = (int)floor(q->lambda / q->mu) + 1;
            while (mmc_tail(want, q->lambda, q->mu, q->t) > targets[j])
                want++;
            char err[256];
            uint32_t first = (uint32_t)floor(q->lambda / q->mu) + 1;
            int got = search_servers(first, targets[j], mmc_exact, NULL, (void *)q, err,
                                     sizeof err);
            CHECK_EQ_INT(got, want);
            CHECK_EQ_INT(search_erlang_c_servers(q->lambda, q->mu, q->t, targets[j]), want);
        }
    }
    /* lambda 10, mu 1, t 0.1 (the example of capsim capacity servers --help): 13 servers
     * leave 0.2113 > 0.2, 14 leave 0.1167 (the simulation there prints 0.213 and 0.118). */
    CHECK_NEAR(mmc_tail(13, 10, 1, 0.1), 0.2113, 5e-5);
    CHECK_NEAR(mmc_tail(14, 10, 1, 0.1), 0.1167, 5e-5);
}

static void test_servers_simulated(void)
{
    /* The queueing simulation through search_servers_queue, at the size capsim capacity
     * servers uses by default, lands on the exact Erlang C answer, 14. */
    arrival_process arr;
    dist svc;
    char err[512];
    if (!CHECK_EQ_INT(arrival_parse("poisson:rate=10", &arr, err, sizeof err), 0))
        return;
    if (!CHECK_EQ_INT(dist_parse("exp:mean=1", &svc, err, sizeof err), 0)) {
        arrival_fini(&arr);
        return;
    }
    queue_config cfg = {.arrivals = &arr,
                        .service = &svc,
                        .servers = 1,
                        .batch = 1,
                        .customers = 100000,
                        .replications = 10,
                        .warmup_fraction = 0.1,
                        .tail_t_s = 0.1,
                        .seed = 1};
    int got = search_servers(11, 0.2, search_servers_queue, NULL, &cfg, err, sizeof err);
    CHECK_EQ_INT(got, 14);
    CHECK_EQ_INT(got, search_erlang_c_servers(10, 1, 0.1, 0.2));
    arrival_fini(&arr);
    dist_fini(&svc);
}

/* --- deployments: the frontier ------------------------------------------------------------------ */

static void test_frontier(void)
{
    search_candidate k[4];
    memset(k, 0, sizeof k);
    /* A: 10 req/s for 4 USD/h; B: 20 for 6; C: 15 for 7 (B beats it on both); D failed. */
    const double rate[] = {10, 20, 15, 99}, cost[] = {4, 6, 7, 1}, total[] = {20, 18, 21, 1};
    for (int i = 0; i < 4; i++) {
        k[i].ok = i < 3;
        k[i].rate_meets = rate[i];
        k[i].cost_replica = cost[i];
        k[i].cost_total = total[i];
    }
    CHECK_EQ_INT(search_frontier(k, 4), 1);
    CHECK_EQ_INT(k[0].on_frontier, 1);
    CHECK_EQ_INT(k[1].on_frontier, 1);
    CHECK_EQ_INT(k[2].on_frontier, 0);
    CHECK_EQ_INT(k[3].on_frontier, 0);
    CHECK_EQ_INT(k[1].cheapest, 1);
    CHECK_EQ_INT(k[0].cheapest + k[2].cheapest + k[3].cheapest, 0);
    CHECK_EQ_INT(k[3].meets, 0);
}

/* Candidate i carries 5 (i + 1) req/s per replica at 2 (i + 1) USD/h; the target is 30. */
static void toy_candidate(void *user, uint64_t i, search_candidate *k)
{
    (void)user;
    k->ok = i != 2;
    if (!k->ok) {
        snprintf(k->reason, sizeof k->reason, "does not fit,\nsays the toy");
        return;
    }
    double per = 5.0 * (double)(i + 1), cost = 2.0 * (double)(i + 1);
    k->rate_meets = per;
    k->rate_fails = per * 1.1;
    k->cost_replica = cost;
    k->replicas = ceil(30 / per);
    k->cost_total = k->replicas * cost;
    k->cost_mtok = k->cost_total / 10;
}

static void test_deploy_workers(void)
{
    search_candidate k[4];
    memset(k, 0, sizeof k);
    char err[512];
    int cheapest = search_deploy(4, 2, toy_candidate, NULL, 0, k, err, sizeof err);
    /* Replicas 6, 3, -, 2 at 2, 4, -, 8 USD/h: totals 12, 12, -, 16; the tie goes to the
     * lower cost per token, equal here, so the first. */
    CHECK_EQ_INT(cheapest, 0);
    CHECK_EQ_DBL(k[1].replicas, 3);
    CHECK_EQ_DBL(k[3].cost_total, 16);
    CHECK_EQ_INT(k[2].ok, 0);
    CHECK(strcmp(k[2].reason, "does not fit, says the toy") == 0);
    CHECK_EQ_INT(k[0].on_frontier + k[1].on_frontier + k[3].on_frontier, 3);
}

/* The toy, except that candidate 1's worker dies (killed) while searching it. */
static void dying_candidate(void *user, uint64_t i, search_candidate *k)
{
    if (i == 1)
        raise(SIGKILL);
    toy_candidate(user, i, k);
}

static void test_deploy_worker_dies(void)
{
    search_candidate k[4];
    memset(k, 0, sizeof k);
    char err[512];
    /* The candidates whose workers finished are kept; the dead one says why. */
    int cheapest = search_deploy(4, 2, dying_candidate, NULL, 0, k, err, sizeof err);
    CHECK_EQ_INT(cheapest, 0);
    CHECK_EQ_INT(k[1].ok, 0);
    CHECK_CONTAINS(k[1].reason, "killed by signal 9");
    CHECK_EQ_INT(k[3].ok, 1);
    CHECK_EQ_DBL(k[3].cost_total, 16);
}

/* --- deployment with coefficients as values -------------------------------------------------- */

static void test_deploy_coeffs_by_value(void)
{
    /* Coefficients passed in memory are the ones used, and no profile file is read (the
     * path given does not exist). */
    profile_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.gpu, sizeof row.gpu, "h100-sxm");
    row.c = (step_coeffs){.mfu = 0.42, .mbu = 0.77, .t_fixed_s = 2e-3, .t_layer_s = 1e-5,
                          .comm_scale = 1.5, .attn_scale = 1.25, .noise_cv = 0.01};
    snprintf(row.basis, sizeof row.basis, "in memory");
    deploy_options o;
    deploy_options_default(&o);
    o.model = "llama-3.1-8b";
    o.gpu = "h100-sxm";
    o.profile = "/nonexistent/profile.csv";
    o.coeffs = &row;
    deploy d;
    char err[1024];
    if (!CHECK_EQ_INT(deploy_resolve(&o, &d, err, sizeof err), 0)) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    CHECK_EQ_DBL(d.profile.c.mfu, 0.42);
    CHECK_EQ_DBL(d.profile.c.mbu, 0.77);
    CHECK_EQ_DBL(d.profile.c.t_fixed_s, 2e-3);
    CHECK_EQ_DBL(d.step.c.attn_scale, 1.25);
    CHECK(strcmp(d.profile.basis, "in memory") == 0);
    deploy_fini(&d);
    /* Without them, the same path is read and its absence reported. */
    o.coeffs = NULL;
    CHECK_EQ_INT(deploy_resolve(&o, &d, err, sizeof err), -1);
    CHECK_CONTAINS(err, "/nonexistent/profile.csv");
}

/* --- the typed scenario ------------------------------------------------------------------------ */

static void test_runspec_ini_and_values(void)
{
    /* A scenario file and values set afterwards (as flags are) fill the same description;
     * the later value wins, and what was set is marked given. */
    char path[] = "/tmp/capsim-test-plan-XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0))
        return;
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "[run]\nmodel = llama-3.2-1b\ngpu = h100-sxm\nrequests = 300\n"
                "replications = 3\nslo = ttft_p99=0.5\n[class.chat]\nprompt_len = det:value=10\n");
    fclose(fp);
    run_spec *r = malloc(sizeof *r);
    if (!CHECK(r != NULL))
        return;
    run_defaults(r);
    CHECK(strcmp(r->value[OPT_scheduler], "continuous") == 0);
    char err[1024];
    CHECK_EQ_INT(run_load_ini(r, path, err, sizeof err), 0);
    remove(path);
    CHECK(strcmp(r->value[OPT_model], "llama-3.2-1b") == 0);
    CHECK_EQ_INT(r->given[OPT_model], 1);
    CHECK_EQ_INT(r->given[OPT_router], 0);
    CHECK_EQ_U64(r->n_cls, 1);
    CHECK_EQ_INT(run_set_value(r, OPT_requests, "400", err, sizeof err), 0);
    CHECK(strcmp(r->value[OPT_requests], "400") == 0);
    /* A file that cannot be read is named. */
    CHECK_EQ_INT(run_load_ini(r, "/nonexistent.ini", err, sizeof err), -1);
    CHECK_CONTAINS(err, "/nonexistent.ini");
    free(r);
}

static void test_servesearch_smoke(void)
{
    /* The serving model as the evaluator, on a small scenario: the search brackets a
     * capacity and every step it records has the SLO's figure. */
    run_spec *r = malloc(sizeof *r);
    search_rate_result *s = malloc(sizeof *s);
    if (!CHECK(r != NULL && s != NULL)) {
        free(r);
        free(s);
        return;
    }
    run_defaults(r);
    char err[1024];
    const struct {
        run_opt o;
        const char *v;
    } set[] = {{OPT_model, "llama-3.2-1b"}, {OPT_gpu, "h100-sxm"},
               {OPT_requests, "300"},       {OPT_replications, "3"},
               {OPT_slo, "ttft_p99=0.3"},   {OPT_arrival, "poisson:rate=20"}};
    for (size_t i = 0; i < sizeof set / sizeof set[0]; i++)
        CHECK_EQ_INT(run_set_value(r, set[i].o, set[i].v, err, sizeof err), 0);
    servesearch_prepare(r);
    CHECK(strcmp(r->value[OPT_replications], "3") == 0);
    CHECK_EQ_DBL(servesearch_arrival_rate(r), 20);
    if (CHECK_EQ_INT(servesearch_rate(r, 20, 0.1, NULL, s), 0)) {
        CHECK(s->meets > 0);
        CHECK_LE(s->meets, s->estimate);
        CHECK_LE(s->estimate, s->fails);
        for (int i = 0; i < s->n; i++)
            CHECK_EQ_INT(s->step[i].used[SLO_TTFT], 1);
    } else {
        fprintf(stderr, "%s\n", s->err);
    }
    free(r);
    free(s);
}

/* --- the block bootstrap of a trace ------------------------------------------------------------ */

/* Whether two lists of requests are the same, field by field (a request has padding). */
static int same_requests(const request *a, const request *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i].arrival_s != b[i].arrival_s || a[i].prompt_tokens != b[i].prompt_tokens ||
            a[i].output_tokens != b[i].output_tokens || a[i].cls != b[i].cls)
            return 0;
    return 1;
}

/* Reads n requests of a resampled trace into out. */
static int read_resampled(const char *path, double block_s, uint64_t n, uint64_t seed,
                          request *out)
{
    trace_options o;
    memset(&o, 0, sizeof o);
    o.format = TRACE_AUTO;
    o.speedup = 1;
    char err[512];
    reqsrc *src = resample_open(path, &o, block_s, n, seed, err, sizeof err);
    if (src == NULL) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    uint64_t k = 0;
    request rq;
    while (reqsrc_next(src, &rq, err, sizeof err) == 1)
        out[k < n ? k++ : n - 1] = rq;
    reqsrc_close(src);
    return k == n ? 0 : -1;
}

static void test_trace_resample(void)
{
    /* A trace of 1200 requests over 600 s whose rate changes (1 req/s, then 3), with the
     * prompt length telling each request apart. */
    char path[] = "/tmp/capsim-test-resample-XXXXXX";
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0))
        return;
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "arrival_s,prompt_tokens,output_tokens\n");
    double t = 0;
    for (int i = 0; i < 1200; i++) {
        fprintf(fp, "%.6f,%d,%d\n", t, i + 1, 1 + i % 7);
        t += t < 300 ? 0.5 + 0.4 * ((i * 7919) % 11 - 5) / 5.0 : 0.2;
    }
    fclose(fp);
    double span = t - (t < 300 ? 0.5 : 0.2); /* the last arrival */
    enum { N = 1200 };
    request *a = malloc(N * sizeof *a), *b = malloc(N * sizeof *b);
    if (!CHECK(a != NULL && b != NULL))
        goto done;
    /* The same seed gives the same requests; another seed others. */
    CHECK_EQ_INT(read_resampled(path, 30, N, 7, a), 0);
    CHECK_EQ_INT(read_resampled(path, 30, N, 7, b), 0);
    CHECK(same_requests(a, b, N));
    CHECK_EQ_INT(read_resampled(path, 30, N, 8, b), 0);
    CHECK(!same_requests(a, b, N));
    /* In time order, and each request one of the trace's (its lengths kept together). */
    int ordered = 1, kept = 1;
    for (int i = 0; i < N; i++) {
        ordered &= i == 0 || a[i].arrival_s >= a[i - 1].arrival_s;
        kept &= a[i].prompt_tokens >= 1 && a[i].prompt_tokens <= N &&
                a[i].output_tokens == 1 + (a[i].prompt_tokens - 1) % 7;
    }
    CHECK(ordered);
    CHECK(kept);
    /* Over many replications the rate is the trace's: the mean time the 1200 requests
     * span is the trace's span (to a few per cent), and it varies between replications. */
    double sum = 0, sum2 = 0;
    const int reps = 200;
    for (int r = 0; r < reps; r++) {
        if (read_resampled(path, 30, N, 1000 + (uint64_t)r, a) != 0)
            break;
        double s = a[N - 1].arrival_s - a[0].arrival_s;
        sum += s;
        sum2 += s * s;
    }
    double mean = sum / reps, sd = sqrt(sum2 / reps - mean * mean);
    CHECK_REL(mean, span, 0.03);
    CHECK(sd > 0.01 * span);
    /* Blocks as long as the trace would make every replication the trace itself, an
     * interval over nothing: refused, with the span and the largest block that works. */
    {
        trace_options o;
        memset(&o, 0, sizeof o);
        o.format = TRACE_AUTO;
        o.speedup = 1;
        char why[512] = "";
        reqsrc *one = resample_open(path, &o, 1e6, N, 3, why, sizeof why);
        CHECK(one == NULL);
        if (one)
            reqsrc_close(one);
        CHECK_CONTAINS(why, "one block holds all of it");
        CHECK_CONTAINS(why, "spans 420.2 s");
    }
    double block;
    char err[256];
    CHECK_EQ_INT(resample_parse("block:60", &block, err, sizeof err), 0);
    CHECK_EQ_DBL(block, 60);
    CHECK_EQ_INT(resample_parse("off", &block, err, sizeof err), 0);
    CHECK_EQ_DBL(block, 0);
    CHECK_EQ_INT(resample_parse("block:0", &block, err, sizeof err), -1);
    CHECK_EQ_INT(resample_parse("60", &block, err, sizeof err), -1);
done:
    remove(path);
    free(a);
    free(b);
}

/* --- the experiments as a library: plan_run, sweep_run, sweep_merge ------------------------- */

/* The whole of a small file, or NULL; free it. */
static char *slurp(const char *path)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL)
        return NULL;
    char *text = calloc(1, 1 << 20);
    if (text)
        text[fread(text, 1, (1 << 20) - 1, fp)] = '\0';
    fclose(fp);
    return text;
}

/* The line after the header of a CSV text (without its newline), into out. */
static void data_line(const char *text, long k, char *out, size_t len)
{
    out[0] = '\0';
    const char *p = text;
    for (long i = 0; p && i <= k; i++) {
        p = strchr(p, '\n');
        p = p ? p + 1 : NULL;
    }
    if (p)
        snprintf(out, len, "%.*s", (int)strcspn(p, "\n"), p);
}

/* Removes the files of dir (one level of subfolders too) and dir itself. */
static void remove_tree(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL) {
        if (de->d_name[0] == '.')
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (remove(path) != 0)
            remove_tree(path);
    }
    if (d)
        closedir(d);
    remove(dir);
}

/* The small scenario of the experiments below. */
static void small_scenario(run_spec *r)
{
    char err[256];
    run_defaults(r);
    run_set_value(r, OPT_model, "llama-3.2-1b", err, sizeof err);
    run_set_value(r, OPT_gpu, "h100-sxm", err, sizeof err);
    run_set_value(r, OPT_requests, "200", err, sizeof err);
    run_set_value(r, OPT_replications, "2", err, sizeof err);
    run_set_value(r, OPT_seed, "7", err, sizeof err);
    run_set_value(r, OPT_arrival, "poisson:rate=1", err, sizeof err);
}

/* --- parmap: a worker that dies loses only its item ------------------------------------------ */

/* Item 3's worker writes half a line, then is killed; item 5 is killed before writing. */
static void dying_item(uint64_t item, FILE *out, void *user)
{
    (void)user;
    if (item == 3) {
        fprintf(out, "3,half");
        fflush(out);
        raise(SIGKILL);
    }
    if (item == 5)
        raise(SIGKILL);
    fprintf(out, "%llu,ok\n%llu,second line\n", (unsigned long long)item,
            (unsigned long long)item);
}

static void killed_item(uint64_t item, FILE *out, void *user)
{
    (void)item;
    (void)out;
    (void)user;
    raise(SIGKILL);
}

/* Whether dir holds nothing (not even hidden files). */
static int dir_empty(const char *dir)
{
    DIR *d = opendir(dir);
    struct dirent *de;
    int n = 0;
    while (d && (de = readdir(d)) != NULL)
        n += strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0;
    if (d)
        closedir(d);
    return d != NULL && n == 0;
}

static void test_parmap_worker_dies(void)
{
    char tmp[] = "/tmp/capsim-test-parmap-XXXXXX", err[512];
    if (!CHECK(mkdtemp(tmp) != NULL))
        return;
    const char *old = getenv("TMPDIR");
    char *saved = old ? strdup(old) : NULL;
    setenv("TMPDIR", tmp, 1);
    parmap_result res;
    /* Items 0..7, of which 3 (after half a line) and 5 die with their workers. */
    int rc = parmap_run(0, 1, 8, 3, dying_item, NULL, 0, &res, err, sizeof err);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(res.n_failed, 2);
    CHECK_EQ_INT(res.n_rows, 12);
    if (res.n_failed == 2) {
        CHECK_EQ_INT(res.failed[0].item, 3);
        CHECK_CONTAINS(res.failed[0].reason, "killed by signal 9");
        CHECK_EQ_INT(res.failed[1].item, 5);
    }
    for (size_t i = 0; i < res.n_rows; i++)
        CHECK(res.rows[i].item != 3 && res.rows[i].item != 5 &&
              strchr(res.rows[i].text, '\n') != NULL);
    CHECK_CONTAINS(err, "2 of 8 items did not finish");
    parmap_result_fini(&res);
    /* Every worker dead: every item failed, none lost silently. */
    rc = parmap_run(0, 1, 5, 2, killed_item, NULL, 0, &res, err, sizeof err);
    CHECK_EQ_INT(rc, 1);
    CHECK_EQ_INT(res.n_failed, 5);
    CHECK_EQ_INT(res.n_rows, 0);
    parmap_result_fini(&res);
    /* Nothing is left in the temporary folder. */
    CHECK(dir_empty(tmp));
    if (saved)
        setenv("TMPDIR", saved, 1);
    else
        unsetenv("TMPDIR");
    free(saved);
    remove_tree(tmp);
}

/* Ranges give values the options take: whole numbers in full (10, not 1e+01). */
static void test_sweep_grid_values(void)
{
    sweep_grid g;
    char err[512];
    const char *axes[] = {"max_num_seqs=8:12:1", "rate=0.5:1.5:0.5", "tp=100:300:100"};
    if (!CHECK_EQ_INT(sweep_grid_parse(&g, axes, 3, err, sizeof err), 0))
        goto done;
    CHECK_EQ_INT(g.total, 45);
    CHECK(strcmp(g.ax[0].values[2], "10") == 0);
    CHECK(strcmp(g.ax[1].values[0], "0.5") == 0 && strcmp(g.ax[1].values[1], "1") == 0);
    CHECK(strcmp(g.ax[2].values[0], "100") == 0 && strcmp(g.ax[2].values[2], "300") == 0);
done:
    sweep_grid_fini(&g);
}

static void test_sweep_equals_runs(void)
{
    char dir[] = "/tmp/capsim-test-sweep-XXXXXX";
    run_spec *base = malloc(sizeof *base), *r = malloc(sizeof *r);
    sweep_grid *g = calloc(1, sizeof *g);
    char *sweep_text = NULL, *buf = NULL, err[1024], path[4400], sub[4200];
    size_t len = 0;
    if (!CHECK(base && r && g && mkdtemp(dir) != NULL))
        goto done;
    small_scenario(base);
    base->out_dir = dir;
    const char *axes[] = {"rate=2,5"};
    CHECK_EQ_INT(sweep_grid_parse(g, axes, 1, err, sizeof err), 0);
    CHECK_EQ_U64(g->total, 2);
    sweep_options opt = {2, 1, 1, 0, 0};
    plan_error e;
    FILE *out = open_memstream(&buf, &len);
    CHECK_EQ_INT(sweep_run(base, g, &opt, out, stderr, &e), PLAN_OK);
    fclose(out);
    CHECK_CONTAINS(buf, "2 points (shard 1/1 of 2), 0 could not run");
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    sweep_text = slurp(path);
    if (!CHECK(sweep_text != NULL))
        goto done;
    /* Point p is base at its rate, with the seed the sweep derives for it, no time series
     * and no per-request records: plan_run of that scenario writes the same numbers. */
    static const char *const rates[] = {"2", "5"};
    for (int p = 0; p < 2; p++) {
        *r = *base;
        CHECK_EQ_INT(run_set_rate(r->value[OPT_arrival], sizeof r->value[0], rates[p], err,
                                  sizeof err),
                     0);
        snprintf(r->value[OPT_seed], sizeof r->value[0], "%llu",
                 (unsigned long long)sim_seed_mix(7, (uint64_t)p));
        snprintf(r->value[OPT_sample_interval], sizeof r->value[0], "0");
        snprintf(r->value[OPT_per_request], sizeof r->value[0], "off");
        snprintf(sub, sizeof sub, "%s/run-%d", dir, p);
        r->out_dir = sub;
        plan_run_options ro = {"run", 0, 0};
        FILE *sink = fopen("/dev/null", "w");
        CHECK_EQ_INT(plan_run(r, &ro, sink, stderr, &e), PLAN_OK);
        fclose(sink);
        snprintf(path, sizeof path, "%s/summary.csv", sub);
        char *run_text = slurp(path);
        char sweep_row[16384], run_row[16384], want[16500];
        data_line(sweep_text, p, sweep_row, sizeof sweep_row);
        data_line(run_text ? run_text : "", 0, run_row, sizeof run_row);
        snprintf(want, sizeof want, "%d,ok,,%s", p, run_row);
        CHECK(run_row[0] != '\0' && strcmp(sweep_row, want) == 0);
        free(run_text);
    }
    /* Two rows and no third. */
    data_line(sweep_text, 2, sub, sizeof sub);
    CHECK(sub[0] == '\0');
    /* A scenario that cannot resolve says so and why, and prints nothing. */
    snprintf(r->value[OPT_model], sizeof r->value[0], "no-such-model");
    r->out_dir = NULL;
    plan_run_options ro = {"run", 0, 0};
    CHECK_EQ_INT(plan_run(r, &ro, stdout, stderr, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "no-such-model");
done:
    if (g)
        sweep_grid_fini(g);
    free(g);
    free(base);
    free(r);
    free(buf);
    free(sweep_text);
    remove_tree(dir);
}

static void test_sweep_shards_merge(void)
{
    char dir[] = "/tmp/capsim-test-shards-XXXXXX";
    run_spec *base = malloc(sizeof *base);
    sweep_grid *g = calloc(1, sizeof *g);
    char err[1024], whole[4200], shard[2][4200], merged[4200], path[4300];
    if (!CHECK(base && g && mkdtemp(dir) != NULL))
        goto done;
    small_scenario(base);
    const char *axes[] = {"rate=1,2,3"};
    CHECK_EQ_INT(sweep_grid_parse(g, axes, 1, err, sizeof err), 0);
    FILE *sink = fopen("/dev/null", "w");
    plan_error e;
    snprintf(whole, sizeof whole, "%s/whole", dir);
    base->out_dir = whole;
    sweep_options all = {1, 1, 1, 0, 0};
    CHECK_EQ_INT(sweep_run(base, g, &all, sink, stderr, &e), PLAN_OK);
    for (int i = 0; i < 2; i++) {
        snprintf(shard[i], sizeof shard[i], "%s/shard%d", dir, i + 1);
        base->out_dir = shard[i];
        sweep_options part = {1, (uint64_t)i + 1, 2, 0, 0};
        CHECK_EQ_INT(sweep_run(base, g, &part, sink, stderr, &e), PLAN_OK);
    }
    snprintf(merged, sizeof merged, "%s/merged", dir);
    const char *dirs[] = {shard[0], shard[1]};
    CHECK_EQ_INT(sweep_merge(merged, dirs, 2, sink, &e), PLAN_OK);
    /* The merge is the whole sweep, byte for byte, with the same identity. */
    const char *files[] = {"summary.csv", "shard.ini"};
    for (int i = 0; i < 2; i++) {
        snprintf(path, sizeof path, "%s/%s", whole, files[i]);
        char *a = slurp(path);
        snprintf(path, sizeof path, "%s/%s", merged, files[i]);
        char *b = slurp(path);
        CHECK(a && b && strcmp(a, b) == 0);
        free(a);
        free(b);
    }
    /* The shards in any order merge the same; the whole sweep merges on its own. */
    const char *reversed[] = {shard[1], shard[0]}, *alone[] = {whole};
    CHECK_EQ_INT(sweep_merge(merged, reversed, 2, sink, &e), PLAN_OK);
    CHECK_EQ_INT(sweep_merge(merged, alone, 1, sink, &e), PLAN_OK);
    /* The same shard twice has every point twice. */
    const char *twice[] = {shard[0], shard[0]};
    CHECK_EQ_INT(sweep_merge(merged, twice, 2, sink, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "both hold point 0");
    /* A shard missing is named, not merged into half a sweep. */
    const char *one[] = {shard[0]};
    CHECK_EQ_INT(sweep_merge(merged, one, 1, sink, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "shard 2/2 of sweep");
    CHECK_CONTAINS(e.reason, "is missing");
    /* A shard of another sweep (another seed) is refused. */
    char other[4200];
    snprintf(other, sizeof other, "%s/other", dir);
    base->out_dir = other;
    run_set_value(base, OPT_seed, "8", err, sizeof err);
    sweep_options second = {1, 2, 2, 0, 0};
    CHECK_EQ_INT(sweep_run(base, g, &second, sink, stderr, &e), PLAN_OK);
    const char *foreign[] = {shard[0], other};
    CHECK_EQ_INT(sweep_merge(merged, foreign, 2, sink, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "is of another sweep");
    /* A summary cut short is caught by its length. */
    snprintf(path, sizeof path, "%s/summary.csv", shard[1]);
    CHECK_EQ_INT(truncate(path, 1000), 0);
    CHECK_EQ_INT(sweep_merge(merged, dirs, 2, sink, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "cut short");
    fclose(sink);
done:
    if (g)
        sweep_grid_fini(g);
    free(g);
    free(base);
    remove_tree(dir);
}

static void test_capsearch_rate_files(void)
{
    char dir[] = "/tmp/capsim-test-capsearch-XXXXXX";
    run_spec *r = malloc(sizeof *r);
    search_rate_result *s = malloc(sizeof *s);
    char path[4200], *text = NULL, *buf = NULL;
    size_t len = 0;
    plan_error e;
    if (!CHECK(r && s && mkdtemp(dir) != NULL))
        goto done;
    small_scenario(r);
    char err[256];
    /* No SLO: not a scenario a search can judge. */
    CHECK_EQ_INT(capsearch_check("rate", r, NULL, NULL, NULL, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "rate needs --slo");
    run_set_value(r, OPT_slo, "ttft_p99=0.3", err, sizeof err);
    run_set_value(r, OPT_arrival, "poisson:rate=20", err, sizeof err);
    run_set_value(r, OPT_requests, "300", err, sizeof err);
    run_set_value(r, OPT_replications, "3", err, sizeof err);
    /* An unknown GPU in the candidates' lists is found before any search. */
    CHECK_EQ_INT(capsearch_check("deploy", r, "no-such-gpu", NULL, NULL, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "no-such-gpu");
    CHECK_EQ_INT(capsearch_check("rate", r, NULL, NULL, NULL, &e), PLAN_OK);
    r->out_dir = dir;
    FILE *out = open_memstream(&buf, &len);
    CHECK_EQ_INT(capsearch_rate(r, 20, 0.1, 0, out, stderr, &e), PLAN_OK);
    fclose(out);
    CHECK_CONTAINS(buf, "wrote ");
    /* The same search, run directly, has the answer capacity.csv holds. */
    if (!CHECK_EQ_INT(servesearch_rate(r, 20, 0.1, NULL, s), 0))
        goto done;
    snprintf(path, sizeof path, "%s/capacity.csv", dir);
    text = slurp(path);
    char row[16384];
    data_line(text ? text : "", 0, row, sizeof row);
    double meets = NAN, estimate = NAN, fails = NAN;
    int n = -1;
    CHECK_EQ_INT(sscanf(row, "%lf,%lf,%lf,%d,", &meets, &estimate, &fails, &n), 4);
    /* The file holds the figures to the 9 significant digits csvout writes. */
    CHECK_REL(meets, s->meets, 1e-8);
    CHECK_REL(estimate, s->estimate, 1e-8);
    CHECK_REL(fails, s->fails, 1e-8);
    CHECK_EQ_INT(n, s->n);
    snprintf(path, sizeof path, "%s/search.csv", dir);
    free(text);
    text = slurp(path);
    CHECK(text != NULL && strncmp(text, "step,rate_req_s,verdict,", 24) == 0);
done:
    free(r);
    free(s);
    free(buf);
    free(text);
    remove_tree(dir);
}

static void test_queuerun(void)
{
    char dir[] = "/tmp/capsim-test-queuerun-XXXXXX", path[4200];
    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    queue_scenario q;
    queuerun_defaults(&q);
    q.cfg.customers = 4000;
    q.cfg.replications = 2;
    q.out_dir = dir;
    plan_error e;
    FILE *sink = fopen("/dev/null", "w");
    CHECK_EQ_INT(queuerun_run(&q, 0, sink, stderr, &e), PLAN_OK);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    char *text = slurp(path), line[16384];
    data_line(text ? text : "", 0, line, sizeof line);
    CHECK(strncmp(line, "poisson:rate=0.8,exp:mean=1,1,inf,", 34) == 0);
    free(text);
    /* The load curve: one row per utilisation. */
    q.load = "0.2:0.6:0.2";
    CHECK_EQ_INT(queuerun_run(&q, 0, sink, stderr, &e), PLAN_OK);
    snprintf(path, sizeof path, "%s/load.csv", dir);
    text = slurp(path);
    data_line(text ? text : "", 2, line, sizeof line);
    CHECK(strncmp(line, "0.6,", 4) == 0);
    data_line(text ? text : "", 3, line, sizeof line);
    CHECK(line[0] == '\0');
    free(text);
    /* An unlimited queue offered more than it serves has no steady state. */
    q.load = NULL;
    q.out_dir = NULL;
    snprintf(q.arrival_text, sizeof q.arrival_text, "poisson:rate=2");
    CHECK_EQ_INT(queuerun_run(&q, 0, sink, stderr, &e), PLAN_BAD_INPUT);
    CHECK_CONTAINS(e.reason, "no steady state");
    fclose(sink);
    remove_tree(dir);
}

TEST_MAIN(TEST(test_judge), TEST(test_rate_linear_exact), TEST(test_rate_linear_interval),
          TEST(test_rate_not_met), TEST(test_rate_error), TEST(test_replicas_exact),
          TEST(test_rate_undecided), TEST(test_replicas_undecided), TEST(test_candidate_from_fleet),
          TEST(test_servers_erlang_c), TEST(test_servers_simulated), TEST(test_frontier),
          TEST(test_deploy_workers), TEST(test_deploy_worker_dies),
          TEST(test_parmap_worker_dies), TEST(test_deploy_coeffs_by_value),
          TEST(test_runspec_ini_and_values), TEST(test_servesearch_smoke),
          TEST(test_trace_resample), TEST(test_sweep_grid_values),
          TEST(test_sweep_equals_runs),
          TEST(test_sweep_shards_merge), TEST(test_capsearch_rate_files),
          TEST(test_queuerun))
