/*
 * capsearch: the capacity searches as experiments: the fewest servers of a queue (the
 * queueing mode), and for a serving scenario the rate a
 * deployment carries under its SLOs, the replicas a target rate needs, and the cheapest
 * deployment across GPUs, precisions and tensor parallelism. Each prints its title, the
 * scenario, the steps and the answer to the stream it is given and writes its files
 * (search.csv and capacity.csv; replicas.csv; frontier.csv) into the scenario's out_dir.
 * `capsim capacity` and the demo call them; the searches themselves are search.h, run on
 * the serving model by servesearch.h.
 *
 * Failures end as experiment.h says: a plan_status, the reason in a plan_error whose
 * context names the search ("rate", "replicas", "deploy") when the search itself failed.
 */
#ifndef CAPSIM_CAPSEARCH_H
#define CAPSIM_CAPSEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "sim/plan/experiment.h"
#include "sim/plan/runspec.h"
#include "sim/plan/search.h"

/* What capsearch_servers searches: a G/G/c queue and its target P(wait > wait_t_s). */
typedef struct capsearch_servers_options {
    const char *arrival, *service; /* the processes as text (workloads/arrival.h, dist.h) */
    double wait_t_s, max_prob;
    uint64_t customers, replications, seed; /* the size of each candidate's simulation */
} capsearch_servers_options;

/* The fewest servers c for which the queue keeps P(wait > wait_t_s) <= max_prob, each c
 * simulated; prints every candidate and the answer to out, and with Poisson arrivals and
 * exponential service the exact Erlang C answer beside it. A process that does not parse
 * is PLAN_BAD_INPUT (the reason names --arrival or --service). */
plan_status capsearch_servers(const capsearch_servers_options *opt, FILE *out, plan_error *e);

/* Checks that base can be searched by the serving search named search ("rate",
 * "replicas" or "deploy") and gives it the searches' settings (servesearch_prepare): SLOs,
 * a synthetic arrival process (no trace, no closed loop), at least 2 replications, and a
 * scenario that resolves with the first GPU, precision and tp of the candidates' lists
 * (comma lists, NULL for the base's own), so that a mistake is one message before any
 * search. For deploy a candidate too large for memory is left to the search, where it is
 * a candidate that cannot run. PLAN_BAD_INPUT otherwise. */
plan_status capsearch_check(const char *search, run_spec *base, const char *gpus,
                            const char *precisions, const char *tps, plan_error *e);

/* The two lines under a search's title: the deployment, workload, SLO and run size. */
void capsearch_describe(FILE *out, const run_spec *r);

/* Writes the steps of a search as rows
 * "step,x,verdict,metric,value,ci,limit[,cost...],saturated". */
void capsearch_write_steps(FILE *fp, const char *x_name, const search_step *steps, int n,
                           int with_cost);

/* The largest arrival rate base carries under its SLOs, starting from start req/s, to a
 * relative tolerance tol; with base->out_dir, search.csv and capacity.csv (and the plots
 * when plots is set). A scenario that does not resolve is PLAN_BAD_INPUT. */
plan_status capsearch_rate(const run_spec *base, double start, double tol, int plots,
                           FILE *out, FILE *err, plan_error *e);

/* The fewest replicas of base (whose arrival process has the target rate, rate req/s)
 * that meet its SLOs, with their cost, and a warning on err when the runs were too short
 * to decide; with base->out_dir, replicas.csv. */
plan_status capsearch_replicas(const run_spec *base, double rate, FILE *out, FILE *err,
                               plan_error *e);

/* What capsearch_deploy searches across and how. */
typedef struct capsearch_deploy_options {
    double rate;           /* the target rate, req/s */
    const char *rate_text; /* ... as given, set as rate= of every candidate's arrival */
    /* Comma lists of the candidates' GPUs, precisions and tp; NULL: the base's own. */
    const char *gpus, *precisions, *tps;
    uint64_t jobs; /* worker processes */
    int progress;  /* show the candidates done on stderr when it is a terminal */
    int plots;     /* draw the plots of out_dir */
} capsearch_deploy_options;

/* For every GPU x precision x tp of the lists, the fewest replicas of base that carry the
 * target rate together, searched as capsearch_replicas searches them (so both answer
 * alike), and their cost; prints the table, the cheapest and the frontier, and with
 * base->out_dir writes frontier.csv (the per-replica rate is the target over the replicas).
 * A list that does not parse is PLAN_BAD_INPUT. */
plan_status capsearch_deploy(const run_spec *base, const capsearch_deploy_options *opt,
                             FILE *out, FILE *err, plan_error *e);

#endif
