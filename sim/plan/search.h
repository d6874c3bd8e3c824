/*
 * search: the planning questions answered by search, as library functions.
 *
 *   search_rate      the largest arrival rate that meets the SLOs;
 *   search_replicas  the fewest replicas that meet them at a given rate;
 *   search_servers   the queueing mode's fewest servers c with P(wait > t) <= x;
 *   search_deploy    the capacity and cost of every candidate deployment, in worker
 *                    processes, with the cost/capacity frontier and the cheapest.
 *
 * The searches do not know what they search: a setting is judged by an evaluator, a
 * callback that returns the figures at a value (a rate, a replica count, a number of
 * servers). The command line passes one that simulates the serving model; the tests pass
 * closed forms, so the answers can be checked exactly.
 *
 * Every verdict accounts for the uncertainty of the figures: a setting "meets" an SLO when
 * the upper end of the 95% interval of the targeted figure is within the limit, "fails"
 * when the lower end is beyond it, and is "unclear" in between. A setting that saturates
 * (carries less than it is offered, sim/serve/result.h) fails whatever its figures: they
 * grow with the length of the run instead of settling. The searches assume that
 * the verdicts worsen as the rate grows and improve as replicas or servers are added.
 */
#ifndef CAPSIM_SEARCH_H
#define CAPSIM_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/stats.h"
#include "sim/engine/queue.h"
#include "sim/serve/serve.h"

/* The most settings one search records; a longer search overwrites its last step. */
#define SEARCH_MAX_STEPS 80

typedef enum search_verdict { SEARCH_MEETS, SEARCH_UNCLEAR, SEARCH_FAILS, SEARCH_ERROR } search_verdict;

/* "meets", "unclear", "fails", "error". */
extern const char *const search_verdict_name[4];

/* One setting judged against the SLOs. An evaluator fills the figures (used, metric,
 * value_ms, ci_ms, limit_ms and the costs); the search sets x, v and worst_ratio. */
typedef struct search_step {
    search_verdict v;
    double x; /* the searched value: a rate (req/s) or a number of replicas */
    int used[SLO_COUNT];
    serve_metric metric[SLO_COUNT];
    double value_ms[SLO_COUNT], ci_ms[SLO_COUNT], limit_ms[SLO_COUNT];
    double worst_ratio; /* the largest value / limit over the SLOs */
    double cost_per_hour_usd, cost_per_mtok_usd, output_tok_s;
    uint64_t over_length, offered; /* requests longer than the max model length, of all */
    int saturated;        /* 1: it carried less than its offered rate (sim/serve/result.h) */
    double carried_share; /* carried / offered, mean over the replications; NAN: not judged */
    char beyond[256]; /* parts of its steps priced beyond the measured kernel tables, or "" */
    char err[512];
} search_step;

/* Fills the figures of *step at x (the step arrives zeroed, with x set). Returns 0, or -1
 * with a one-line message in step->err. */
typedef int (*search_eval_fn)(void *user, double x, search_step *step);

/* Called once per new setting, after it is judged (NULL: nothing). */
typedef void (*search_step_fn)(void *user, const search_step *step);

typedef struct search_evaluator {
    search_eval_fn eval;
    search_step_fn on_step;
    void *user;
} search_evaluator;

/* Judges a step whose figures are filled: sets v and worst_ratio (see the file comment;
 * an interval that is not finite counts as zero width). */
void search_judge(search_step *step);

typedef struct search_rate_result {
    search_step step[SEARCH_MAX_STEPS]; /* in the order tried */
    int n;
    double meets;    /* the largest rate that meets (0: none) */
    double fails;    /* the smallest rate that fails (INFINITY: none) */
    double estimate; /* where the tightest figure crosses its limit, interpolated */
    char err[512];
} search_rate_result;

/* The largest rate that meets the SLOs: from start (rounded to 4 significant digits, as
 * every rate tried is) it halves twice or doubles until a rate meets and one fails, then
 * bisects both boundaries until they are within tol (relative) or adjacent. Returns 0, or
 * -1 with s->err (an evaluator error, the SLOs not met at any rate tried, no bracket). */
int search_rate(const search_evaluator *ev, double start, double tol, search_rate_result *s);

/* A rate search whose meets and fails bounds are further apart than this (relative to
 * meets) did not decide: between them the 95% intervals straddle the limits, which runs
 * too short to narrow the intervals give (a default search ends about 5% apart). */
#define SEARCH_UNDECIDED_WIDTH 0.25

/* 1 when the bounds of a finished rate search are too far apart to call an answer. */
int search_rate_undecided(const search_rate_result *s);

/* A rate rounded to 4 significant digits, as the searches try them. */
double search_round4(double x);

typedef struct search_replica_result {
    search_step step[SEARCH_MAX_STEPS];
    int n;
    uint64_t answer; /* the fewest replicas that meet (0: none found) */
    char err[512];
} search_replica_result;

/* The fewest replicas (x a whole number) that meet the SLOs, searching up from start
 * (doubling to at most 4096), then bisecting. Returns 0, or -1 with s->err. */
int search_replicas(const search_evaluator *ev, uint64_t start, search_replica_result *s);

/* The fewest replicas that might meet, from the steps the search made: one more than the
 * most it tried that fail (1 when none fails). When that is below the answer, the settings
 * between were unclear, not failing: the answer is one end of a band. */
uint64_t search_replicas_low(const search_replica_result *s);

/* 1 when a finished replica search did not decide: its band runs over more than two
 * settings and more than SEARCH_UNDECIDED_WIDTH of the lower end. */
int search_replicas_undecided(const search_replica_result *s);

/* The step of a replica search at its answer, or NULL. */
const search_step *search_replicas_best(const search_replica_result *s);

/* --- the queueing mode: fewest servers -------------------------------------------------- */

/* P(wait > t) with its 95% interval at c servers. Returns 0, or -1 with a message. */
typedef int (*search_servers_fn)(void *user, uint32_t servers, stats_ci *prob, char *err,
                                 size_t errlen);

typedef struct search_servers_step {
    uint32_t servers;
    stats_ci prob; /* P(wait > t) */
    int meets;     /* prob.mean + prob.half_width <= the target */
} search_servers_step;

/* Called per candidate as it is judged (NULL: nothing). */
typedef void (*search_servers_step_fn)(void *user, const search_servers_step *step);

/* The fewest servers, from first up, whose P(wait > t) meets max_prob with 95% confidence
 * (upper end of the interval). Returns the answer, or -1 with err when an evaluation
 * fails. */
int search_servers(uint32_t first, double max_prob, search_servers_fn fn,
                   search_servers_step_fn on_step, void *user, char *err, size_t errlen);

/* An evaluator for search_servers: user is a queue_config (const), run with its servers
 * set to each candidate; the figure is QM_PROB_WAIT_GT_T at the config's tail_t_s. */
int search_servers_queue(void *user, uint32_t servers, stats_ci *prob, char *err,
                         size_t errlen);

/* The exact fewest servers of an M/M/c queue (Erlang C) with P(wait > t) <= max_prob, or
 * -1 when none below 100000. */
int search_erlang_c_servers(double lambda, double mu, double t, double max_prob);

/* --- deployments: capacity and cost of each candidate, and the frontier ------------------ */

/* A candidate deployment sized as `capsim capacity replicas` sizes one: the fewest replicas
 * that carry the target rate together (behind the router), searched from one replica up.
 * Its per-replica figures are the fleet's divided out, so that they multiply back to the
 * target: rate_meets x replicas = the target rate. */
typedef struct search_candidate {
    int ok; /* 0: the candidate could not be searched (reason says why) */
    double rate_meets;   /* req/s per replica in the fleet that meets: target / replicas */
    double rate_fails;   /* req/s per replica in the largest fleet that fails: target / that
                            fleet (INFINITY: no fleet tried fails) */
    double cost_replica; /* USD/h per replica */
    double replicas;     /* the fewest that carry the target rate */
    double replicas_low; /* the fewest that might: the band's lower end (search_replicas_low) */
    double cost_total, cost_mtok;   /* USD/h and USD per million output tokens, at replicas */
    double noload_ratio; /* the worst SLO figure at no load over its limit (NAN: unknown) */
    int undecided;       /* the replica search did not decide (reason says so) */
    int meets, on_frontier, cheapest;
    char gpu[64], precision[64], tp[64]; /* its name, set by the caller */
    char reason[512];
} search_candidate;

/* Searches candidate i into *out (ok, the figures and reason; in a worker process). */
typedef void (*search_candidate_fn)(void *user, uint64_t i, search_candidate *out);

/* Fills a candidate from the search of the replicas that carry target_rate req/s; when
 * that search did not decide, undecided is set and reason says so (and the band). */
void search_candidate_fill(search_candidate *k, double target_rate,
                           const search_replica_result *replicas);

/* Runs fn on candidates 0..n-1 in up to `jobs` worker processes into out[0..n-1] (their
 * names left as they were), then marks the frontier (no other candidate carries at least
 * as much per replica for at most the cost, and is better in one) and the cheapest (lowest
 * total cost, then lowest cost per token). A candidate whose worker died is not ok, with
 * the worker's fate as its reason. Returns the index of the cheapest, -1 when none is ok,
 * or -2 with err when the workers could not run. */
int search_deploy(uint64_t n, uint64_t jobs, search_candidate_fn fn, void *user, int progress,
                  search_candidate *out, char *err, size_t errlen);

/* Marks on_frontier, meets and cheapest over k[0..n-1]; returns the cheapest or -1. */
int search_frontier(search_candidate *k, int n);

#endif
