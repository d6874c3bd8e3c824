/*
 * search: the rate, replica, servers and deployment searches (see search.h).
 *
 * Invariants: a search records each value it tries once (a value tried again returns the
 * recorded step, so the evaluator is never asked twice for the same setting), and the
 * bounds it keeps are consistent with every verdict recorded, assuming the verdicts are
 * monotone in the searched value.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/search.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine/theory.h"
#include "sim/plan/parmap.h"

const char *const search_verdict_name[4] = {"meets", "unclear", "fails", "error"};

/* The search heuristics, each with its reason. None changes an answer that is found; they
 * bound how long a search tries and how its steps are spaced.
 *
 * Rates are rounded to SEARCH_DIGITS significant digits so that the rates tried print
 * exactly as they were run (a rate in search.csv can be typed back into capsim run) and
 * bisection stops once it cannot split a bracket at that precision: four digits are finer
 * than any confidence band a replicated run gives (rarely narrower than 1%). */
#define SEARCH_DIGITS 4
/* Bracketing steps down by a factor of 4 until one rate meets the SLOs (coarse, since a
 * deployment that fails at the start rate is often far from its capacity) and up by 2
 * until one fails (finer, since capacity is usually within a few times a meeting rate). */
#define SEARCH_DOWN_FACTOR 4.0
#define SEARCH_UP_FACTOR 2.0
/* A bracket is given up after this many steps: 60 doublings span 18 decades. */
#define SEARCH_MAX_BRACKET_STEPS 60
/* Below the start rate divided by this (about four quarterings: 4^4.5 = 512), a
 * deployment that still fails is too slow at any load; the search says so rather than go
 * on. */
#define SEARCH_FLOOR_DIVISOR 500.0
/* Cutting the rate by SEARCH_DOWN_FACTOR improved the worst SLO figure by under 2%: the
 * figures have reached the no-load floor, where requests hardly meet each other, so lower
 * rates cannot meet either. */
#define SEARCH_FLOOR_IMPROVEMENT 0.98
/* Each boundary is bisected at most this many times (2^-30 of the bracket); the
 * tolerance normally stops it within ten. */
#define SEARCH_MAX_BISECTIONS 30
/* Replicas are doubled up to this many before the search gives up: 4,096 replicas is
 * beyond any deployment a capacity plan is asked about. */
#define SEARCH_MAX_REPLICAS 4096
/* Servers in the queueing mode are tried one by one up to this many. */
#define SEARCH_MAX_SERVERS 1000000

void search_judge(search_step *e)
{
    int any_fail = 0, all_meet = 1;
    e->worst_ratio = 0;
    for (int k = 0; k < SLO_COUNT; k++) {
        if (!e->used[k])
            continue;
        double hw = isfinite(e->ci_ms[k]) ? e->ci_ms[k] : 0;
        if (!(e->value_ms[k] + hw <= e->limit_ms[k]))
            all_meet = 0;
        if (!(e->value_ms[k] - hw <= e->limit_ms[k]))
            any_fail = 1;
        double ratio = isfinite(e->value_ms[k]) ? e->value_ms[k] / e->limit_ms[k] : INFINITY;
        if (ratio > e->worst_ratio)
            e->worst_ratio = ratio;
    }
    e->v = any_fail ? SEARCH_FAILS : all_meet ? SEARCH_MEETS : SEARCH_UNCLEAR;
    /* A saturated setting's queue grows for as long as requests come: its figures are those
     * of the run's length, and a longer run would push them past any limit. */
    if (e->saturated)
        e->v = SEARCH_FAILS;
}

double search_round4(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.*g", SEARCH_DIGITS, x);
    return strtod(buf, NULL);
}

/* The step of a search at x: the one recorded if x was tried before, else a new one. */
static const search_step *record_step(const search_evaluator *ev, search_step *steps, int *n,
                                      double x)
{
    for (int i = 0; i < *n; i++)
        if (steps[i].x == x)
            return &steps[i];
    search_step *e = &steps[*n < SEARCH_MAX_STEPS ? *n : SEARCH_MAX_STEPS - 1];
    memset(e, 0, sizeof *e);
    e->x = x;
    if (ev->eval(ev->user, x, e) != 0) {
        char msg[sizeof e->err];
        memcpy(msg, e->err, sizeof msg);
        memset(e, 0, sizeof *e);
        e->x = x;
        e->v = SEARCH_ERROR;
        memcpy(e->err, msg, sizeof msg);
    } else {
        search_judge(e);
    }
    if (*n < SEARCH_MAX_STEPS)
        (*n)++;
    if (ev->on_step)
        ev->on_step(ev->user, e);
    return e;
}

/* --- the rate search ---------------------------------------------------------------------- */

/* What the rates tried so far tell, assuming the verdicts worsen as the rate grows:
 * M the largest known to meet, N the smallest known not to meet, U the largest known not
 * to fail, F the smallest known to fail. */
typedef struct bounds {
    double M, N, U, F;
} bounds;

static void bounds_update(bounds *b, double rate, search_verdict v)
{
    if (v == SEARCH_MEETS && rate > b->M)
        b->M = rate;
    if (v != SEARCH_MEETS && rate < b->N)
        b->N = rate;
    if (v != SEARCH_FAILS && rate > b->U)
        b->U = rate;
    if (v == SEARCH_FAILS && rate < b->F)
        b->F = rate;
}

/* Says why no rate meets: the figure furthest beyond its limit at the last rate tried. */
static void explain_floor(search_rate_result *s, double rate)
{
    const search_step *e = &s->step[s->n - 1];
    int k = 0;
    double worst = -1;
    for (int j = 0; j < SLO_COUNT; j++) {
        if (e->used[j] && e->value_ms[j] / e->limit_ms[j] > worst) {
            worst = e->value_ms[j] / e->limit_ms[j];
            k = j;
        }
    }
    if (e->v == SEARCH_UNCLEAR)
        snprintf(s->err, sizeof s->err,
                 "down to %.3g req/s the 95%% intervals still straddle the SLO limits "
                 "(%s is %.5g +- %.3g ms against a limit of %g ms): raise "
                 "--replications or --requests to decide",
                 rate, serve_metric_names[e->metric[k]], e->value_ms[k], e->ci_ms[k],
                 e->limit_ms[k]);
    else
        snprintf(s->err, sizeof s->err,
                 "the SLOs are not met even at %.3g req/s: "
                 "%s is %.5g ms against a limit of %g ms",
                 rate, serve_metric_names[e->metric[k]], e->value_ms[k], e->limit_ms[k]);
}

/* Tries rate and updates the bounds; returns -1 with s->err on an evaluator error. */
static int try_rate(const search_evaluator *ev, double rate, search_rate_result *s, bounds *b,
                    search_verdict *v)
{
    *v = record_step(ev, s->step, &s->n, rate)->v;
    if (*v == SEARCH_ERROR) {
        snprintf(s->err, sizeof s->err, "%s", s->step[s->n - 1].err);
        return -1;
    }
    bounds_update(b, rate, *v);
    return 0;
}

/* The highest rate tried: a million requests a second is beyond any fleet a search sizes,
 * and well inside what the arrival processes accept (1e7). A search that still meets there
 * measures too few requests for a queue to form. */
#define SEARCH_MAX_RATE 1e6

/* From start, quarter the rate until one meets, then double until one fails. */
static int bracket_rate(const search_evaluator *ev, double start, search_rate_result *s,
                        bounds *b)
{
    double rate = search_round4(start);
    for (int i = 0; i < SEARCH_MAX_BRACKET_STEPS && (b->M == 0 || b->F == INFINITY); i++) {
        search_verdict v;
        if (try_rate(ev, rate, s, b, &v) != 0)
            return -1;
        /* Below the knee the figures stop improving as the rate falls: the deployment is
         * too slow even for requests that hardly ever meet each other. */
        int floor_reached = b->M == 0 && s->n >= 3 && v == SEARCH_FAILS &&
                            s->step[s->n - 1].worst_ratio >
                                SEARCH_FLOOR_IMPROVEMENT * s->step[s->n - 2].worst_ratio;
        if (b->M == 0 && (rate < start / SEARCH_FLOOR_DIVISOR || floor_reached)) {
            explain_floor(s, rate);
            return -1;
        }
        rate = search_round4(b->M == 0 ? rate / SEARCH_DOWN_FACTOR : rate * SEARCH_UP_FACTOR);
        if (b->F == INFINITY && rate > SEARCH_MAX_RATE) {
            snprintf(s->err, sizeof s->err,
                     "no rate up to %.4g req/s, beyond what any deployment carries, fails the "
                     "SLOs (the last that met them: %.4g req/s): the runs are too short for a "
                     "queue to build (their requests arrive nearly at once); give more "
                     "requests (--requests auto)",
                     s->step[s->n - 1].x, b->M);
            return -1;
        }
    }
    if (b->M == 0 || b->F == INFINITY) {
        snprintf(s->err, sizeof s->err, "no rate between %.3g and %.3g req/s brackets the SLOs",
                 s->step[0].x, rate);
        return -1;
    }
    return 0;
}

static int cmp_step_x(const void *a, const void *b)
{
    const search_step *x = a, *y = b;
    return (x->x > y->x) - (x->x < y->x);
}

/* The estimate: where the worst value/limit ratio crosses 1 between tested rates, kept
 * within [meets, fails]. */
static double crossing(const search_rate_result *s, const bounds *b)
{
    search_step *sorted = malloc((size_t)s->n * sizeof *sorted);
    double est = b->M;
    if (sorted == NULL)
        return est;
    memcpy(sorted, s->step, (size_t)s->n * sizeof *sorted);
    qsort(sorted, (size_t)s->n, sizeof *sorted, cmp_step_x);
    for (int i = 1; i < s->n; i++) {
        const search_step *lo = &sorted[i - 1], *hi = &sorted[i];
        if (lo->worst_ratio <= 1 && hi->worst_ratio > 1) {
            double t = isfinite(hi->worst_ratio)
                           ? (1 - lo->worst_ratio) / (hi->worst_ratio - lo->worst_ratio)
                           : 0;
            est = lo->x + t * (hi->x - lo->x);
            break;
        }
    }
    free(sorted);
    if (est < b->M)
        est = b->M;
    if (est > b->F)
        est = b->F;
    return est;
}

int search_rate(const search_evaluator *ev, double start, double tol, search_rate_result *s)
{
    memset(s, 0, sizeof *s);
    bounds b = {0, INFINITY, 0, INFINITY};
    int rc = bracket_rate(ev, start, s, &b);
    /* Bisect the meets boundary, then the fails boundary; every run informs both. */
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        for (int i = 0; i < SEARCH_MAX_BISECTIONS; i++) {
            double lo = pass == 0 ? b.M : b.U, hi = pass == 0 ? b.N : b.F;
            if (hi - lo <= tol * lo)
                break;
            double mid = search_round4(0.5 * (lo + hi));
            if (mid <= lo || mid >= hi)
                break;
            search_verdict v;
            if (try_rate(ev, mid, s, &b, &v) != 0) {
                rc = -1;
                break;
            }
        }
    }
    s->meets = b.M;
    s->fails = b.F;
    if (rc == 0)
        s->estimate = crossing(s, &b);
    return rc;
}

/* --- the replica search ------------------------------------------------------------------- */

static search_verdict try_replicas(const search_evaluator *ev, uint64_t n,
                                   search_replica_result *s)
{
    search_verdict v = record_step(ev, s->step, &s->n, (double)n)->v;
    if (v == SEARCH_ERROR)
        snprintf(s->err, sizeof s->err, "%s", s->step[s->n - 1].err);
    return v;
}

int search_replicas(const search_evaluator *ev, uint64_t start, search_replica_result *s)
{
    memset(s, 0, sizeof *s);
    uint64_t lo = 0, hi = 0, n = start < 1 ? 1 : start; /* lo does not meet, hi meets */
    int rc = 0;
    while (hi == 0) {
        search_verdict v = try_replicas(ev, n, s);
        if (v == SEARCH_ERROR) {
            rc = -1;
            break;
        }
        if (v == SEARCH_MEETS) {
            hi = n;
        } else {
            lo = n;
            if (n >= SEARCH_MAX_REPLICAS) {
                snprintf(s->err, sizeof s->err, "%d replicas do not meet the SLOs",
                         SEARCH_MAX_REPLICAS);
                rc = -1;
                break;
            }
            n *= 2;
        }
    }
    while (rc == 0 && hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        search_verdict v = try_replicas(ev, mid, s);
        if (v == SEARCH_ERROR)
            rc = -1;
        else if (v == SEARCH_MEETS)
            hi = mid;
        else
            lo = mid;
    }
    s->answer = rc == 0 ? hi : 0;
    return rc;
}

int search_rate_undecided(const search_rate_result *s)
{
    return !(s->fails - s->meets <= SEARCH_UNDECIDED_WIDTH * s->meets);
}

uint64_t search_replicas_low(const search_replica_result *s)
{
    uint64_t low = 1;
    for (int i = 0; i < s->n; i++)
        if (s->step[i].v == SEARCH_FAILS && (uint64_t)s->step[i].x + 1 > low)
            low = (uint64_t)s->step[i].x + 1;
    return low < s->answer ? low : s->answer;
}

int search_replicas_undecided(const search_replica_result *s)
{
    uint64_t low = search_replicas_low(s);
    return s->answer >= low + 2 && (double)s->answer > (1 + SEARCH_UNDECIDED_WIDTH) * (double)low;
}

const search_step *search_replicas_best(const search_replica_result *s)
{
    const search_step *best = NULL;
    for (int i = 0; i < s->n; i++)
        if (s->step[i].x == (double)s->answer)
            best = &s->step[i];
    return best;
}

/* --- fewest servers ----------------------------------------------------------------------- */

int search_servers(uint32_t first, double max_prob, search_servers_fn fn,
                   search_servers_step_fn on_step, void *user, char *err, size_t errlen)
{
    for (uint32_t c = first; c < SEARCH_MAX_SERVERS; c++) {
        search_servers_step st = {.servers = c};
        if (fn(user, c, &st.prob, err, errlen) != 0)
            return -1;
        st.meets = st.prob.mean + st.prob.half_width <= max_prob;
        if (on_step)
            on_step(user, &st);
        if (st.meets)
            return (int)c;
    }
    snprintf(err, errlen, "no number of servers below %d meets the target", SEARCH_MAX_SERVERS);
    return -1;
}

int search_servers_queue(void *user, uint32_t servers, stats_ci *prob, char *err, size_t errlen)
{
    queue_config cfg = *(const queue_config *)user;
    cfg.servers = servers;
    queue_result res;
    if (queue_run(&cfg, &res, err, errlen) != 0)
        return -1;
    *prob = res.metric[QM_PROB_WAIT_GT_T];
    queue_result_fini(&res);
    return 0;
}

/* P(W > t) = C(c, a) exp(-(c mu - lambda) t), from theory_mmc. */
int search_erlang_c_servers(double lambda, double mu, double t, double x)
{
    for (int c = (int)floor(lambda / mu) + 1; c < 100000; c++) {
        theory_answer a;
        if (theory_mmc(lambda, mu, c, t, &a) == 0 && a.prob_wait_gt_t <= x)
            return c;
    }
    return -1;
}

/* --- deployments -------------------------------------------------------------------------- */

void search_candidate_fill(search_candidate *k, double target_rate,
                           const search_replica_result *replicas)
{
    k->replicas = (double)replicas->answer;
    k->replicas_low = (double)search_replicas_low(replicas);
    k->rate_meets = target_rate / k->replicas;
    /* The largest fleet below the answer that fails bounds the per-replica rate above. */
    double failing = 0;
    for (int j = 0; j < replicas->n; j++)
        if (replicas->step[j].v == SEARCH_FAILS && replicas->step[j].x < k->replicas &&
            replicas->step[j].x > failing)
            failing = replicas->step[j].x;
    k->rate_fails = failing > 0 ? target_rate / failing : INFINITY;
    const search_step *best = search_replicas_best(replicas);
    if (best) {
        k->cost_total = best->cost_per_hour_usd;
        k->cost_mtok = best->cost_per_mtok_usd;
        k->cost_replica = best->cost_per_hour_usd / k->replicas;
    }
    /* The figures stand, but say that they are not decided (the runs were too short). */
    k->undecided = search_replicas_undecided(replicas);
    if (k->undecided)
        snprintf(k->reason, sizeof k->reason,
                 "not decided: from %llu to %llu replicas the verdict is unclear; longer runs "
                 "would tell",
                 (unsigned long long)search_replicas_low(replicas),
                 (unsigned long long)replicas->answer);
}

typedef struct deploy_job {
    search_candidate_fn fn;
    void *user;
} deploy_job;

/* A worker: searches candidate i and writes it as one line "i,ok,figures...,reason". */
static void deploy_item(uint64_t i, FILE *out, void *user)
{
    const deploy_job *job = user;
    search_candidate k;
    memset(&k, 0, sizeof k);
    k.rate_meets = k.rate_fails = k.cost_replica = NAN;
    k.replicas = k.replicas_low = k.cost_total = k.cost_mtok = k.noload_ratio = NAN;
    job->fn(job->user, i, &k);
    for (char *p = k.reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(out, "%llu,%d,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%s\n",
            (unsigned long long)i, k.ok, k.undecided, k.rate_meets, k.rate_fails, k.cost_replica,
            k.replicas, k.replicas_low, k.cost_total, k.cost_mtok, k.noload_ratio, k.reason);
}

static int parse_candidate(const char *line, search_candidate *k)
{
    char *end;
    strtoull(line, &end, 10);
    if (*end != ',')
        return -1;
    k->ok = (int)strtol(end + 1, &end, 10);
    if (*end != ',')
        return -1;
    k->undecided = (int)strtol(end + 1, &end, 10);
    double *f[] = {&k->rate_meets,   &k->rate_fails, &k->cost_replica, &k->replicas,
                   &k->replicas_low, &k->cost_total, &k->cost_mtok,    &k->noload_ratio};
    for (size_t j = 0; j < 8; j++) {
        if (*end != ',')
            return -1;
        *f[j] = strtod(end + 1, &end);
    }
    if (*end != ',')
        return -1;
    snprintf(k->reason, sizeof k->reason, "%s", end + 1);
    k->reason[strcspn(k->reason, "\n")] = '\0';
    return 0;
}

int search_frontier(search_candidate *k, int n)
{
    int cheapest = -1;
    for (int i = 0; i < n; i++) {
        k[i].meets = k[i].ok;
        k[i].on_frontier = 0;
        k[i].cheapest = 0;
    }
    for (int i = 0; i < n; i++) {
        if (!k[i].ok)
            continue;
        k[i].on_frontier = 1;
        for (int j = 0; j < n && k[i].on_frontier; j++) {
            if (j == i || !k[j].ok)
                continue;
            int no_worse = k[j].rate_meets >= k[i].rate_meets &&
                           k[j].cost_replica <= k[i].cost_replica;
            int better = k[j].rate_meets > k[i].rate_meets ||
                         k[j].cost_replica < k[i].cost_replica;
            if (no_worse && better)
                k[i].on_frontier = 0;
        }
        if (cheapest < 0 || k[i].cost_total < k[cheapest].cost_total ||
            (k[i].cost_total == k[cheapest].cost_total && k[i].cost_mtok < k[cheapest].cost_mtok))
            cheapest = i;
    }
    if (cheapest >= 0)
        k[cheapest].cheapest = 1;
    return cheapest;
}

int search_deploy(uint64_t n, uint64_t jobs, search_candidate_fn fn, void *user, int progress,
                  search_candidate *out, char *err, size_t errlen)
{
    deploy_job job = {fn, user};
    parmap_result res;
    if (parmap_run(0, 1, n, jobs, deploy_item, &job, progress, &res, err, errlen) < 0)
        return -2;
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < res.n_rows; i++) {
        uint64_t at = res.rows[i].item;
        if (at >= n || parse_candidate(res.rows[i].text, &out[at]) != 0) {
            snprintf(err, errlen, "a worker wrote a malformed line");
            rc = -2;
        }
    }
    /* A candidate whose worker died is one that could not be searched, with the reason. */
    for (size_t i = 0; rc == 0 && i < res.n_failed; i++) {
        search_candidate *k = &out[res.failed[i].item];
        k->ok = 0;
        k->rate_meets = k->rate_fails = k->cost_replica = NAN;
        k->replicas = k->replicas_low = k->cost_total = k->cost_mtok = k->noload_ratio = NAN;
        snprintf(k->reason, sizeof k->reason, "%s", res.failed[i].reason);
    }
    parmap_result_fini(&res);
    return rc == 0 ? search_frontier(out, (int)n) : rc;
}
