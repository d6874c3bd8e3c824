/*
 * capsearch: the capacity searches printed and written (see capsearch.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/capsearch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/csvout.h"
#include "sim/base/dist.h"
#include "sim/base/util.h"
#include "sim/engine/queue.h"
#include "sim/plan/servesearch.h"
#include "sim/serve/source.h"
#include "workloads/arrival.h"

static const char *CMD = "capacity";

/* --- the scenario of a serving search --------------------------------------------------------- */

/* Refuses before any search a value of --gpus, --precisions or --tps that no candidate can
 * use (an unknown GPU anywhere in the list, say), found by resolving the base with that one
 * value and the other lists at their first. The roofline stands in for the measured
 * kernels, which take a tenth of a second to load; not fitting in memory is left to the
 * candidate. */
static plan_status check_list_values(const run_spec *base, const char *const lists[3],
                                     plan_error *e)
{
    static const run_opt keys[] = {OPT_gpu, OPT_precision, OPT_tp};
    static const char *const flags[] = {"--gpus", "--precisions", "--tps"};
    run_spec *r = malloc(sizeof *r);
    if (r == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    plan_status status = PLAN_OK;
    char err[1024];
    for (int i = 0; i < 3 && status == PLAN_OK; i++) {
        for (const char *v = lists[i]; v && *v && status == PLAN_OK; v += strcspn(v, ",")) {
            v += *v == ',';
            size_t len = strcspn(v, ",");
            if (len == 0) {
                status = plan_fail(e, PLAN_BAD_INPUT, NULL,
                                   "%s '%s': an empty item (expected a list like a,b,c)",
                                   flags[i], lists[i]);
                break;
            }
            /* The other lists at their first values, as the whole check has them. */
            *r = *base;
            for (int j = 0; j < 3; j++)
                if (lists[j])
                    snprintf(r->value[keys[j]], sizeof r->value[0], "%.*s",
                             (int)strcspn(lists[j], ","), lists[j]);
            const char *sm = base->value[OPT_step_model];
            if (strcmp(sm, "auto") == 0 || strcmp(sm, "kernels") == 0)
                snprintf(r->value[OPT_step_model], sizeof r->value[0], "roofline");
            snprintf(r->value[keys[i]], sizeof r->value[0], "%.*s", (int)len, v);
            resolved x;
            int rc = run_resolve(r, &x, err, sizeof err);
            run_resolved_fini(&x);
            if (rc != 0 && strstr(err, "needs") == NULL)
                status = plan_fail(e, PLAN_BAD_INPUT, NULL, "%s '%s': %s", flags[i], lists[i],
                                   err);
        }
    }
    free(r);
    return status;
}

plan_status capsearch_check(const char *search, run_spec *base, const char *gpus,
                            const char *precisions, const char *tps, plan_error *e)
{
    if (base->value[OPT_slo][0] == '\0')
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "%s needs --slo TARGETS, e.g. --slo ttft_p99=0.5,tpot_p99=0.05", search);
    if (strtoull(base->value[OPT_users], NULL, 10) > 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "%s searches on the arrival rate: give a synthetic --arrival with "
                         "rate= or a --trace, not --users (a closed loop sets its own rate)",
                         search);
    /* rate searches a trace's speedup and replicas sizes a fleet for it; deploy sizes
     * fleets for --rate, which a trace does not have. */
    if (base->value[OPT_trace][0] && strcmp(search, "deploy") == 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "deploy sizes fleets for --rate on a synthetic --arrival, not a "
                         "--trace; for a trace, run capacity replicas --trace per candidate");
    if (strcmp(base->value[OPT_replications], "1") == 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--replications 1 gives no confidence interval; the verdicts "
                         "need at least 2");
    /* Capacity defaults: 10 replications, long runs (see servesearch_set_replicas), and no
     * time series or per-request files. */
    servesearch_prepare(base);
    run_spec *first = malloc(sizeof *first);
    if (first == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    *first = *base;
    const char *lists[] = {gpus, precisions, tps};
    const run_opt keys[] = {OPT_gpu, OPT_precision, OPT_tp};
    for (int i = 0; i < 3; i++)
        if (lists[i])
            snprintf(first->value[keys[i]], sizeof first->value[0], "%.*s",
                     (int)strcspn(lists[i], ","), lists[i]);
    char err[1024];
    resolved x;
    int rc = run_resolve(first, &x, err, sizeof err);
    free(first);
    run_resolved_fini(&x);
    if (rc != 0 && !(strcmp(search, "deploy") == 0 && strstr(err, "needs") != NULL))
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    return strcmp(search, "deploy") == 0 ? check_list_values(base, lists, e) : PLAN_OK;
}

/* --- printing and files ----------------------------------------------------------------------- */

/* How a search that stopped on an error ends: a request longer than the max model length
 * under --over-length error is the scenario's fault (exit 2, as capsim run says it);
 * anything else is the work failing. */
static plan_status search_failure_status(const char *err)
{
    return strstr(err, SERVE_OVER_LENGTH_ERROR_TAG) ? PLAN_BAD_INPUT : PLAN_FAILED;
}

/* What to do about a search whose runs were too short to decide: the length the default
 * search runs, or four times the given one (which halves the intervals). */
static void too_short(const run_spec *base, char *why, size_t len)
{
    uint64_t n = strtoull(base->value[OPT_requests], NULL, 10);
    const char *reps = base->value[OPT_replications];
    if (strcmp(base->value[OPT_requests], "auto") != 0 && n < SERVESEARCH_AUTO_REQUESTS)
        snprintf(why, len,
                 "the runs are too short to tell (%.20s replications of %llu requests); the "
                 "default --requests auto runs %d (%d per replica when more)",
                 reps, (unsigned long long)n, SERVESEARCH_AUTO_REQUESTS,
                 SERVESEARCH_AUTO_PER_REPLICA);
    else
        snprintf(why, len,
                 "the runs are too short to tell (%.20s replications); four times the --requests "
                 "or the --replications halves the intervals",
                 reps);
}

void capsearch_describe(FILE *out, const run_spec *r)
{
    /* --lengths-from replaces both length distributions: name what is used. */
    char lengths[2 * sizeof r->value[0] + 32];
    if (r->value[OPT_lengths_from][0])
        snprintf(lengths, sizeof lengths, "lengths from %s", r->value[OPT_lengths_from]);
    else
        snprintf(lengths, sizeof lengths, "prompt %s, output %s", r->value[OPT_prompt_len],
                 r->value[OPT_output_len]);
    if (servesearch_on_trace(r))
        snprintf(lengths, sizeof lengths, "trace %s at speedup %s", r->value[OPT_trace],
                 r->value[OPT_trace_speedup]);
    fprintf(out, "  %s on %s x %s, %s weights, %s replica%s, %s batching; %s%s%s\n",
            r->value[OPT_model], r->value[OPT_tp], r->value[OPT_gpu], r->value[OPT_precision],
            r->value[OPT_replicas], strcmp(r->value[OPT_replicas], "1") ? "s" : "",
            r->value[OPT_scheduler], servesearch_on_trace(r) ? "" : r->value[OPT_arrival],
            servesearch_on_trace(r) ? "" : ", ", lengths);
    /* Which model of the world prices the steps, and the price the costs use. */
    resolved x;
    char err[512];
    if (run_resolve(r, &x, err, sizeof err) == 0) {
        fprintf(out, "  stack: %s; steps priced by %s\n",
                x.dep.stack.name[0] ? x.dep.stack.name : "none (a linear model)", x.dep.step_data);
        fprintf(out, "  price: %g USD per GPU-hour (%s)\n", x.cfg.price_usd_per_gpu_hour,
                x.dep.price_source);
    }
    run_resolved_fini(&x);
    run_spec *sized = malloc(sizeof *sized);
    if (sized) {
        *sized = *r;
        servesearch_set_replicas(sized, r, strtoull(r->value[OPT_replicas], NULL, 10));
    }
    const char *requests = sized ? sized->value[OPT_requests] : r->value[OPT_requests];
    int whole = servesearch_on_trace(r) && (strcmp(requests, "auto") == 0 ||
                                            strcmp(requests, "0") == 0);
    fprintf(out,
            "  SLO %s; %s replications of %s%s per setting%s, master seed %s, the same "
            "at every setting\n\n",
            r->value[OPT_slo], r->value[OPT_replications], whole ? "the whole trace" : requests,
            whole ? "" : " requests",
            strcmp(r->value[OPT_requests], "auto") == 0 && !whole ? " (--requests auto)" : "",
            r->value[OPT_seed]);
    free(sized);
}

void capsearch_write_steps(FILE *fp, const char *x_name, const search_step *steps, int n,
                           int with_cost)
{
    fprintf(fp, "step,%s,verdict,slo_metric,value_ms,ci95_ms,limit_ms%s,saturated\n", x_name,
            with_cost ? ",cost_per_hour_usd,cost_per_million_output_tokens" : "");
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < SLO_COUNT; k++) {
            if (!steps[i].used[k])
                continue;
            csvout_u64(&c, (uint64_t)i);
            csvout_num(&c, steps[i].x);
            csvout_str(&c, search_verdict_name[steps[i].v]);
            csvout_str(&c, serve_metric_names[steps[i].metric[k]]);
            csvout_num(&c, steps[i].value_ms[k]);
            csvout_num(&c, steps[i].ci_ms[k]);
            csvout_num(&c, steps[i].limit_ms[k]);
            if (with_cost) {
                csvout_num(&c, steps[i].cost_per_hour_usd);
                csvout_num(&c, steps[i].cost_per_mtok_usd);
            }
            csvout_u64(&c, (uint64_t)steps[i].saturated);
            csvout_end_row(&c);
        }
    }
}

/* Writes files into dir with util_write_files; a failure is PLAN_FAILED. */
static plan_status write_files(const char *dir, size_t n, const char *const *names,
                               const util_writer *write, const void *const *what, plan_error *e)
{
    char err[1024];
    if (util_write_files(dir, n, names, write, what, err, sizeof err) != 0)
        return plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    return PLAN_OK;
}

/* --- the no-load floor ------------------------------------------------------------------------- */

/* An SLO whose figure at no load is above this share of its limit leaves little room for
 * batching: the fleet that meets it is many lightly loaded replicas (issue 15: a TPOT limit
 * 1.3 times the batch-1 step gave 148 GPUs at 0.4 req/s each). */
#define CAPSEARCH_FLOOR_SHARE 0.8

/* The SLO of st nearest its limit (the largest value / limit), or -1 when none is used. */
static int tightest_slo(const search_step *st)
{
    int k = -1;
    for (int j = 0; j < SLO_COUNT; j++)
        if (st->used[j] && (k < 0 || st->value_ms[j] / st->limit_ms[j] >
                                         st->value_ms[k] / st->limit_ms[k]))
            k = j;
    return k;
}

/* The GPUs the fewest replicas of r that meet its SLOs take, searched as
 * capsearch_replicas does, into text (", which meets them with N GPUs"); "" when the
 * search fails. */
static void alternative_fleet(const run_spec *r, char *text, size_t len)
{
    text[0] = '\0';
    search_replica_result *ps = malloc(sizeof *ps);
    if (ps && servesearch_replicas(r, 1, NULL, ps) == 0)
        snprintf(text, len, "; it meets the SLOs with %llu GPUs",
                 (unsigned long long)(ps->answer * strtoull(r->value[OPT_tp], NULL, 10)));
    free(ps);
}

/* Names the variants of base that clear the floor (their tightest SLO figure at no load
 * under CAPSEARCH_FLOOR_SHARE of its limit): twice the tp, and fp8 weights, each alone;
 * with size_fleet, each with the GPUs its fleet takes at base's rate. Writes "" when none
 * does or none can be run. */
static void floor_alternatives(const run_spec *base, int size_fleet, char *out, size_t len)
{
    out[0] = '\0';
    run_spec *r = malloc(sizeof *r);
    search_step *st = malloc(sizeof *st);
    unsigned long long tp = strtoull(base->value[OPT_tp], NULL, 10);
    for (int v = 0; r && st && v < 2; v++) {
        *r = *base;
        char name[96];
        if (v == 0 && tp >= 1 && tp <= 4) {
            snprintf(r->value[OPT_tp], sizeof r->value[0], "%llu", 2 * tp);
            snprintf(name, sizeof name, "tp %llu", 2 * tp);
        } else if (v == 1 && strcmp(base->value[OPT_precision], "bf16") == 0) {
            snprintf(r->value[OPT_precision], sizeof r->value[0], "fp8");
            snprintf(name, sizeof name, "fp8 weights");
        } else {
            continue;
        }
        int k;
        if (servesearch_noload(r, st) != 0 || (k = tightest_slo(st)) < 0 ||
            !(st->value_ms[k] < CAPSEARCH_FLOOR_SHARE * st->limit_ms[k]))
            continue;
        char fleet[96] = "";
        if (size_fleet)
            alternative_fleet(r, fleet, sizeof fleet);
        size_t at = strlen(out);
        snprintf(out + at, len - at, "%s%s (%s %.3g ms at no load, %.0f%% of the limit%s)",
                 at ? " or " : "", name, serve_metric_names[st->metric[k]], st->value_ms[k],
                 100 * st->value_ms[k] / st->limit_ms[k], fleet);
    }
    free(r);
    free(st);
}

/* Checks the SLOs of base against their no-load floor (servesearch_noload) before a
 * search: when a figure at no load fails its limit, no rate and no fleet meets it
 * (PLAN_FAILED, the reason with the variants that clear it); when it is above
 * CAPSEARCH_FLOOR_SHARE of the limit, says so on out and err beside the answer to come.
 * A scenario the no-load run cannot run is left to the search. */
static plan_status floor_check(const run_spec *base, const char *search, FILE *out,
                               FILE *errout, plan_error *e)
{
    search_step *st = malloc(sizeof *st);
    if (st == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    int k;
    plan_status status = PLAN_OK;
    if (servesearch_noload(base, st) != 0 || (k = tightest_slo(st)) < 0 ||
        !(st->value_ms[k] >= CAPSEARCH_FLOOR_SHARE * st->limit_ms[k])) {
        free(st);
        return PLAN_OK;
    }
    char alt[1024], also[1100] = "";
    floor_alternatives(base, strcmp(search, "replicas") == 0, alt, sizeof alt);
    if (alt[0])
        snprintf(also, sizeof also, "; try %s", alt);
    double pct = 100 * st->value_ms[k] / st->limit_ms[k];
    const char *metric = serve_metric_names[st->metric[k]];
    if (st->v == SEARCH_FAILS) {
        status = plan_fail(e, PLAN_FAILED, search,
                           "%s at no load (one request at a time) is %.4g +- %.2g ms, beyond the "
                           "%g ms limit: no %s meets the SLO%s",
                           metric, st->value_ms[k], st->ci_ms[k], st->limit_ms[k],
                           strcmp(search, "rate") == 0 ? "rate" : "number of replicas", also);
    } else {
        fprintf(out,
                "  NOTE: %s at no load (one request at a time) is %.4g ms, %.0f%% of the %g ms "
                "limit: the SLO leaves little room for batching, so %s%s\n\n",
                metric, st->value_ms[k], pct, st->limit_ms[k],
                strcmp(search, "rate") == 0 ? "the rate that meets it is low"
                                            : "the answer is many lightly loaded replicas",
                also);
        fprintf(errout,
                "capsim %s: warning: %s at no load is %.4g ms, %.0f%% of the %g ms limit: the "
                "SLO leaves little room for batching%s\n",
                CMD, metric, st->value_ms[k], pct, st->limit_ms[k], also);
    }
    free(st);
    return status;
}

/* --- the fewest servers of a queue ------------------------------------------------------------ */

/* What search_servers hands both the evaluator and the step printer: the queue first, so
 * that search_servers_queue reads the context as the queue_config it expects. */
typedef struct servers_ctx {
    queue_config cfg;
    FILE *out;
} servers_ctx;

static void print_servers_step(void *user, const search_servers_step *st)
{
    const servers_ctx *c = user;
    fprintf(c->out, "  %8u %14.6g %12.3g  %s\n", st->servers, st->prob.mean, st->prob.half_width,
            st->meets ? "meets" : "does not meet");
}

plan_status capsearch_servers(const capsearch_servers_options *opt, FILE *out, plan_error *e)
{
    char err[1024];
    arrival_process arr;
    dist svc;
    if (arrival_parse(opt->arrival, &arr, err, sizeof err) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--arrival %s", err);
    if (dist_parse(opt->service, &svc, err, sizeof err) != 0) {
        arrival_fini(&arr);
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--service %s", err);
    }
    fprintf(out, "capsim capacity servers: fewest servers with P(wait > %g s) <= %g\n",
            opt->wait_t_s, opt->max_prob);
    fprintf(out, "  arrivals %s, service %s; %llu replications x %llu customers per candidate\n\n",
            opt->arrival, opt->service, (unsigned long long)opt->replications,
            (unsigned long long)opt->customers);
    fprintf(out, "  %8s %14s %12s  %s\n", "servers", "P(wait>t)", "+-95% CI", "verdict");
    plan_status status = PLAN_OK;
    double lambda = arr.rate_per_s, mean_s = svc.mean;
    servers_ctx ctx = {.out = out};
    ctx.cfg = (queue_config){.arrivals = &arr,
                             .service = &svc,
                             .servers = 1,
                             .batch = 1,
                             .customers = opt->customers,
                             .replications = (uint32_t)opt->replications,
                             .warmup_fraction = 0.1,
                             .tail_t_s = opt->wait_t_s,
                             .seed = opt->seed};
    int found = search_servers((uint32_t)floor(lambda * mean_s) + 1, opt->max_prob,
                               search_servers_queue, print_servers_step, &ctx, err, sizeof err);
    if (found < 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    if (found > 0) {
        fprintf(out, "\n  answer: %d servers (simulated)\n", found);
        int poisson = strncmp(opt->arrival, "poisson:", 8) == 0;
        int expo = strncmp(opt->service, "exp:", 4) == 0;
        if (poisson && expo)
            fprintf(out, "  Erlang C (exact for M/M/c): %d servers\n",
                    search_erlang_c_servers(lambda, 1.0 / mean_s, opt->wait_t_s, opt->max_prob));
    }
    arrival_fini(&arr);
    dist_fini(&svc);
    return status;
}

/* --- the rate ---------------------------------------------------------------------------------- */

typedef struct rate_files {
    const run_spec *base;
    const search_rate_result *s;
    double per_x; /* req/s per unit of the searched value: 1, or a trace's rate at speedup 1 */
} rate_files;

/* The steps in req/s: on a trace the search tried speedups, and the files speak in rates as
 * for a synthetic arrival process (the speedups are in capacity.csv). */
static void write_search_csv(FILE *fp, const void *what)
{
    const rate_files *f = what;
    if (f->per_x == 1) {
        capsearch_write_steps(fp, "rate_req_s", f->s->step, f->s->n, 0);
        return;
    }
    search_step *steps = malloc((size_t)f->s->n * sizeof *steps);
    if (steps == NULL)
        return;
    memcpy(steps, f->s->step, (size_t)f->s->n * sizeof *steps);
    for (int i = 0; i < f->s->n; i++)
        steps[i].x *= f->per_x;
    capsearch_write_steps(fp, "rate_req_s", steps, f->s->n, 0);
    free(steps);
}

static void write_capacity_csv(FILE *fp, const void *what)
{
    const rate_files *f = what;
    csvout c;
    csvout_init(&c, fp);
    static const char *const cols[] = {"rate_meets_req_s", "rate_estimate_req_s",
                                       "rate_fails_req_s", "steps"};
    for (size_t i = 0; i < 4; i++)
        csvout_str(&c, cols[i]);
    int trace = servesearch_on_trace(f->base);
    static const char *const speedups[] = {"speedup_meets", "speedup_estimate",
                                           "speedup_fails"};
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(&c, run_opt_key[o]);
    for (size_t i = 0; trace && i < 3; i++)
        csvout_str(&c, speedups[i]);
    csvout_end_row(&c);
    csvout_num(&c, f->per_x * f->s->meets);
    csvout_num(&c, f->per_x * f->s->estimate);
    csvout_num(&c, f->per_x * f->s->fails);
    csvout_u64(&c, (uint64_t)f->s->n);
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(&c, f->base->value[o]);
    if (trace) {
        csvout_num(&c, f->s->meets);
        csvout_num(&c, f->s->estimate);
        csvout_num(&c, f->s->fails);
    }
    csvout_end_row(&c);
}

/* The mean rate of base's trace at speedup 1, req/s; a trace whose requests span no time
 * has none to scale (PLAN_BAD_INPUT). */
static plan_status trace_base_rate(const run_spec *base, double *rate_req_s, plan_error *e)
{
    run_spec *one = malloc(sizeof *one);
    if (one == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    *one = *base;
    snprintf(one->value[OPT_trace_speedup], sizeof one->value[0], "1");
    char err[1024];
    int rc = servesearch_trace_rate(one, rate_req_s, err, sizeof err);
    free(one);
    if (rc != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    if (!(*rate_req_s > 0))
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--trace %s: its requests span no time, so it has no rate to scale",
                         base->value[OPT_trace]);
    return PLAN_OK;
}

plan_status capsearch_rate(const run_spec *base, double start, double tol, int plots,
                           FILE *out, FILE *errout, plan_error *e)
{
    char err[2048];
    resolved x;
    int rc = run_resolve(base, &x, err, sizeof err);
    run_resolved_fini(&x);
    if (rc != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    search_rate_result *s = malloc(sizeof *s);
    if (s == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    double per_x = 1;
    int trace = servesearch_on_trace(base);
    if (trace && trace_base_rate(base, &per_x, e) != PLAN_OK) {
        free(s);
        return PLAN_BAD_INPUT;
    }
    if (trace)
        fprintf(out, "capsim capacity rate: the largest speedup of the trace that meets the "
                     "SLOs\n");
    else
        fprintf(out, "capsim capacity rate: the largest arrival rate that meets the SLOs\n");
    capsearch_describe(out, base);
    plan_status floor = floor_check(base, "rate", out, errout, e);
    if (floor != PLAN_OK) {
        free(s);
        return floor;
    }
    if (servesearch_rate(base, start, tol, out, s) != 0) {
        plan_status st = plan_fail(e, search_failure_status(s->err), "rate", "%s", s->err);
        free(s);
        return st;
    }
    if (trace) {
        fprintf(out,
                "\n  the trace at speedup 1 arrives at %.4g req/s; the search tried its "
                "speedups\n",
                per_x);
        fprintf(out, "  meets the SLOs (95%% confidence) up to   speedup %.4g (%.4g req/s)\n",
                s->meets, per_x * s->meets);
        fprintf(out, "  estimate (the tightest figure at its limit) speedup %.4g (%.4g req/s)\n",
                s->estimate, per_x * s->estimate);
        fprintf(out, "  fails the SLOs (95%% confidence) from     speedup %.4g (%.4g req/s)\n",
                s->fails, per_x * s->fails);
    } else {
        fprintf(out, "\n  meets the SLOs (95%% confidence) up to   %.4g req/s\n", s->meets);
        fprintf(out, "  estimate (the tightest figure at its limit) %.4g req/s\n", s->estimate);
        fprintf(out, "  fails the SLOs (95%% confidence) from     %.4g req/s\n", s->fails);
    }
    /* The bounds as they are: the bisection stops when each is pinned to within tol, but
     * the settings between them may stay unclear however close the bisection gets. */
    fprintf(out,
            "  %d settings simulated; the bounds are %.3g%% apart (the bisection stops at "
            "%.3g%% on each)\n",
            s->n, 100 * (s->fails - s->meets) / s->meets, 100 * tol);
    if (search_rate_undecided(s)) {
        char why[512];
        const char *unit = trace ? " (trace speedup)" : " req/s";
        too_short(base, why, sizeof why);
        fprintf(out,
                "  NOT DECIDED: between %.4g and %.4g%s the 95%% intervals straddle the "
                "limits; %s\n",
                s->meets, s->fails, unit, why);
        fprintf(errout,
                "capsim %s: warning: the rate search did not decide: the SLOs hold up to %.4g "
                "and fail from %.4g%s, %.3gx apart; %s\n",
                CMD, s->meets, s->fails, unit, s->fails / s->meets, why);
    }
    rate_files f = {base, s, per_x};
    plan_status status = PLAN_OK;
    if (base->out_dir) {
        static const char *const names[] = {"search.csv", "capacity.csv"};
        static const util_writer fns[] = {write_search_csv, write_capacity_csv};
        const void *whats[] = {&f, &f};
        status = write_files(base->out_dir, 2, names, fns, whats, e);
        if (status == PLAN_OK) {
            fprintf(out, "  wrote %s/: search.csv, capacity.csv\n", base->out_dir);
            if (plots)
                plan_draw_plots(CMD, base->out_dir, out, errout);
        }
    }
    free(s);
    return status;
}

/* --- the replicas ------------------------------------------------------------------------------ */

static void write_replicas_csv(FILE *fp, const void *what)
{
    const search_replica_result *s = what;
    capsearch_write_steps(fp, "replicas", s->step, s->n, 1);
}

plan_status capsearch_replicas(const run_spec *base, double rate, FILE *out, FILE *errout,
                               plan_error *e)
{
    search_replica_result *s = malloc(sizeof *s);
    if (s == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    if (servesearch_on_trace(base)) {
        double at = NAN;
        char err[1024];
        if (servesearch_trace_rate(base, &at, err, sizeof err) != 0) {
            free(s);
            return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
        }
        fprintf(out,
                "capsim capacity replicas: the fewest replicas for the trace at speedup %s "
                "(%.4g req/s) under the SLOs\n",
                base->value[OPT_trace_speedup], at);
    } else {
        fprintf(out,
                "capsim capacity replicas: the fewest replicas for %g req/s under the SLOs\n",
                rate);
    }
    capsearch_describe(out, base);
    plan_status floor = floor_check(base, "replicas", out, errout, e);
    if (floor != PLAN_OK) {
        free(s);
        return floor;
    }
    if (servesearch_replicas(base, 1, out, s) != 0) {
        plan_status st = plan_fail(e, search_failure_status(s->err), "replicas", "%s", s->err);
        free(s);
        return st;
    }
    const search_step *best = search_replicas_best(s);
    uint64_t tp = strtoull(base->value[OPT_tp], NULL, 10);
    fprintf(out,
            "\n  answer: %llu replica%s (%llu GPUs), %.4g USD/h, %.4g USD per million output "
            "tokens\n",
            (unsigned long long)s->answer, s->answer == 1 ? "" : "s",
            (unsigned long long)(s->answer * tp), best->cost_per_hour_usd, best->cost_per_mtok_usd);
    uint64_t low = search_replicas_low(s);
    if (s->answer > 1 && low == s->answer)
        fprintf(out, "  with %llu the verdict is 'fails'\n", (unsigned long long)(s->answer - 1));
    else if (s->answer > 1)
        fprintf(out,
                "  from %llu to %llu replicas the verdict is 'unclear': the answer may be as "
                "low as %llu\n",
                (unsigned long long)low, (unsigned long long)(s->answer - 1),
                (unsigned long long)low);
    if (search_replicas_undecided(s)) {
        char why[512];
        too_short(base, why, sizeof why);
        fprintf(out, "  NOT DECIDED: %s\n", why);
        fprintf(errout,
                "capsim %s: warning: the replica search did not decide: between %llu and "
                "%llu replicas the 95%% intervals straddle the limits; %s\n",
                CMD, (unsigned long long)low, (unsigned long long)s->answer, why);
    }
    plan_status status = PLAN_OK;
    if (base->out_dir) {
        static const char *const names[] = {"replicas.csv"};
        static const util_writer fns[] = {write_replicas_csv};
        const void *whats[] = {s};
        status = write_files(base->out_dir, 1, names, fns, whats, e);
        if (status == PLAN_OK)
            fprintf(out, "  wrote %s/replicas.csv\n", base->out_dir);
    }
    free(s);
    return status;
}

/* --- the cheapest deployment ------------------------------------------------------------------- */

#define MAX_LIST 32

typedef struct cand_list {
    char v[MAX_LIST][64];
    int n;
} cand_list;

static int split_list(const char *opt, const char *text, cand_list *l, char *err, size_t errlen)
{
    l->n = 0;
    while (*text) {
        const char *comma = strchr(text, ',');
        size_t len = comma ? (size_t)(comma - text) : strlen(text);
        if (len == 0 || len >= sizeof l->v[0] || l->n == MAX_LIST) {
            util_errf(err, errlen, "%s '%s': expected a list like a,b,c (at most %d items)", opt,
                      text, MAX_LIST);
            return -1;
        }
        snprintf(l->v[l->n++], sizeof l->v[0], "%.*s", (int)len, text);
        if (!comma)
            break;
        text = comma + 1;
    }
    return 0;
}

typedef struct deploy_ctx {
    const run_spec *base;
    const capsearch_deploy_options *opt;
    cand_list gpus, precisions, tps;
} deploy_ctx;

/* The names of candidate i: the tp varies fastest, then the precision, then the GPU. */
static void candidate_names(const deploy_ctx *d, uint64_t i, search_candidate *k)
{
    uint64_t nt = (uint64_t)d->tps.n, np = (uint64_t)d->precisions.n;
    snprintf(k->tp, sizeof k->tp, "%s", d->tps.v[i % nt]);
    snprintf(k->precision, sizeof k->precision, "%s", d->precisions.v[(i / nt) % np]);
    snprintf(k->gpu, sizeof k->gpu, "%s", d->gpus.v[i / (nt * np)]);
}

/* A worker: the fewest replicas of candidate i that carry the target rate, searched as
 * capsearch_replicas searches them (from one replica up, the same seed), so that deploy
 * and `capsim capacity replicas` give one answer to one question. A replica alone sees the
 * whole burstiness of the traffic, while each of N behind the router sees a smoother share:
 * one replica's capacity, multiplied out, is not what a fleet carries. */
static void deploy_candidate(void *user, uint64_t i, search_candidate *k)
{
    const deploy_ctx *d = user;
    const capsearch_deploy_options *c = d->opt;
    run_spec *r = malloc(sizeof *r);
    search_replica_result *ps = malloc(sizeof *ps);
    char err[2048];
    k->ok = r && ps;
    if (!k->ok)
        snprintf(k->reason, sizeof k->reason, "out of memory");
    if (k->ok) {
        *r = *d->base;
        candidate_names(d, i, k);
        snprintf(r->value[OPT_tp], sizeof r->value[0], "%s", k->tp);
        snprintf(r->value[OPT_precision], sizeof r->value[0], "%s", k->precision);
        snprintf(r->value[OPT_gpu], sizeof r->value[0], "%s", k->gpu);
        resolved x;
        k->ok = run_set_rate(r->value[OPT_arrival], sizeof r->value[0], c->rate_text, err,
                             sizeof err) == 0;
        if (k->ok) {
            k->ok = run_resolve(r, &x, err, sizeof err) == 0;
            run_resolved_fini(&x);
        }
        if (!k->ok) {
            /* Truncated to what the reason holds, as the worker's line is read back. */
            size_t len = strnlen(err, sizeof k->reason - 1);
            memcpy(k->reason, err, len);
            k->reason[len] = '\0';
        }
    }
    /* A candidate whose figures at no load already fail the SLO cannot be sized (the search
     * would double to thousands of replicas first); one near its floor is noted. */
    search_step *floor = k->ok ? malloc(sizeof *floor) : NULL;
    int t;
    if (floor && servesearch_noload(r, floor) == 0 && (t = tightest_slo(floor)) >= 0) {
        k->noload_ratio = floor->value_ms[t] / floor->limit_ms[t];
        if (floor->v == SEARCH_FAILS) {
            k->ok = 0;
            snprintf(k->reason, sizeof k->reason,
                     "no fleet meets the SLO: %s at no load is %.4g ms, beyond the %g ms limit",
                     serve_metric_names[floor->metric[t]], floor->value_ms[t],
                     floor->limit_ms[t]);
        }
    }
    free(floor);
    if (k->ok) {
        k->ok = servesearch_replicas(r, 1, NULL, ps) == 0;
        if (!k->ok)
            snprintf(k->reason, sizeof k->reason, "%s", ps->err);
    }
    if (k->ok)
        search_candidate_fill(k, c->rate, ps);
    free(r);
    free(ps);
}

typedef struct frontier_file {
    const search_candidate *k;
    int n;
    double target_rate; /* req/s */
} frontier_file;

static void write_frontier_csv(FILE *fp, const void *what)
{
    const frontier_file *f = what;
    fprintf(fp, "candidate,gpu,precision,tp,status,reason,rate_per_replica,rate_per_replica_fail,"
                "cost_per_hour_usd_per_replica,usd_per_hour_per_req_s,replicas,cost_per_hour_usd,"
                "cost_per_million_output_tokens,meets_target,on_frontier,cheapest,target_rate,"
                "replicas_low\n");
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < f->n; i++) {
        const search_candidate *k = &f->k[i];
        csvout_u64(&c, (uint64_t)i);
        csvout_str(&c, k->gpu);
        csvout_str(&c, k->precision);
        csvout_str(&c, k->tp);
        csvout_str(&c, k->ok ? "ok" : "error");
        csvout_str(&c, k->reason);
        if (!k->ok) {
            for (int j = 0; j < 10; j++)
                csvout_str(&c, "");
            csvout_num(&c, f->target_rate);
            csvout_str(&c, "");
        } else {
            csvout_num(&c, k->rate_meets);
            csvout_num(&c, k->rate_fails);
            csvout_num(&c, k->cost_replica);
            csvout_num(&c, k->cost_replica / k->rate_meets);
            csvout_num(&c, k->replicas);
            csvout_num(&c, k->cost_total);
            csvout_num(&c, k->cost_mtok);
            csvout_u64(&c, (uint64_t)k->meets);
            csvout_u64(&c, (uint64_t)k->on_frontier);
            csvout_u64(&c, (uint64_t)k->cheapest);
            csvout_num(&c, f->target_rate);
            csvout_num(&c, k->replicas_low);
        }
        csvout_end_row(&c);
    }
}

/* The table of candidates and the cheapest, then frontier.csv. */
static plan_status report_deploy(const run_spec *base, const capsearch_deploy_options *opt,
                                 const search_candidate *k, int n, int cheapest, FILE *out,
                                 FILE *err, plan_error *e)
{
    int undecided = 0;
    /* How the fleets were sized, so that the table reads as it multiplies out. */
    fprintf(out,
            "  each fleet sized as capsim capacity replicas sizes it: the fewest replicas that "
            "carry %g req/s\n  together behind the %s router, searched from 1 replica up; "
            "req/s/repl = %g / replicas\n\n",
            opt->rate, base->value[OPT_router], opt->rate);
    fprintf(out, "  %-14s %-6s %-4s %9s %12s %12s %11s %11s  %s\n", "gpu", "prec", "tp",
            "replicas", "req/s/repl", "USD/h/repl", "USD/h", "USD/Mtok", "");
    for (int i = 0; i < n; i++) {
        if (!k[i].ok) {
            fprintf(out, "  %-14s %-6s %-4s  no: %s\n", k[i].gpu, k[i].precision, k[i].tp,
                    k[i].reason);
            continue;
        }
        fprintf(out, "  %-14s %-6s %-4s %9.0f %12.4g %12.4g %11.4g %11.4g  %s%s%s%s\n", k[i].gpu,
                k[i].precision, k[i].tp, k[i].replicas, k[i].rate_meets, k[i].cost_replica,
                k[i].cost_total, k[i].cost_mtok, k[i].on_frontier ? "frontier" : "",
                k[i].cheapest ? " CHEAPEST" : "", k[i].reason[0] ? " " : "", k[i].reason);
        if (k[i].undecided)
            undecided++;
    }
    int near_floor = 0;
    for (int i = 0; i < n; i++) {
        if (!k[i].ok || !(k[i].noload_ratio >= CAPSEARCH_FLOOR_SHARE))
            continue;
        if (near_floor++ == 0)
            fprintf(out, "\n  NOTE: the SLO leaves little room for batching (its tightest "
                         "figure at no load, one request at a time, is near the limit) on:\n");
        fprintf(out, "    %s %s tp %s: %.0f%% of the limit at no load; its fleet is many lightly "
                     "loaded replicas\n",
                k[i].gpu, k[i].precision, k[i].tp, 100 * k[i].noload_ratio);
    }
    if (undecided) {
        char why[512];
        too_short(base, why, sizeof why);
        fprintf(err, "capsim %s: warning: %d candidate%s not decided: %s\n", CMD, undecided,
                undecided == 1 ? " is" : "s are", why);
    }
    if (cheapest < 0) {
        fprintf(out, "\n  no candidate can carry %g req/s under the SLOs\n", opt->rate);
    } else {
        const search_candidate *b = &k[cheapest];
        fprintf(out,
                "\n  cheapest: %.0f x %s x %s at %s: %.4g USD/h, %.4g USD per million output "
                "tokens\n",
                b->replicas, b->tp, b->gpu, b->precision, b->cost_total, b->cost_mtok);
    }
    plan_status status = PLAN_OK;
    if (base->out_dir) {
        frontier_file f = {k, n, opt->rate};
        static const char *const names[] = {"frontier.csv"};
        static const util_writer fns[] = {write_frontier_csv};
        const void *whats[] = {&f};
        status = write_files(base->out_dir, 1, names, fns, whats, e);
        if (status == PLAN_OK) {
            fprintf(out, "  wrote %s/frontier.csv\n", base->out_dir);
            if (opt->plots)
                plan_draw_plots(CMD, base->out_dir, out, err);
        }
    }
    return status;
}

/* The candidates' lists: the options' own, or the base's single values. */
static plan_status deploy_lists(const run_spec *base, const capsearch_deploy_options *opt,
                                deploy_ctx *d, plan_error *e)
{
    char err[1024];
    if (split_list("--gpus", opt->gpus ? opt->gpus : base->value[OPT_gpu], &d->gpus, err,
                   sizeof err) != 0 ||
        split_list("--precisions", opt->precisions ? opt->precisions : base->value[OPT_precision],
                   &d->precisions, err, sizeof err) != 0 ||
        split_list("--tps", opt->tps ? opt->tps : base->value[OPT_tp], &d->tps, err,
                   sizeof err) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    if (d->gpus.n == 0 || d->precisions.n == 0 || d->tps.n == 0)
        return plan_fail(e, PLAN_BAD_INPUT, "deploy",
                         "--gpus, --precisions and --tps must not be empty");
    return PLAN_OK;
}

plan_status capsearch_deploy(const run_spec *base, const capsearch_deploy_options *opt,
                             FILE *out, FILE *errout, plan_error *e)
{
    deploy_ctx *d = calloc(1, sizeof *d);
    search_candidate *k = NULL;
    char err[1024];
    if (d == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    d->base = base;
    d->opt = opt;
    plan_status status = deploy_lists(base, opt, d, e);
    if (status != PLAN_OK)
        goto done;
    int n = d->gpus.n * d->precisions.n * d->tps.n;
    fprintf(out, "capsim capacity deploy: the cheapest deployment for %g req/s under the SLOs\n",
            opt->rate);
    fprintf(out, "  %s; %d candidates (%d GPUs x %d precisions x %d tp); %s batching; SLO %s\n",
            base->value[OPT_model], n, d->gpus.n, d->precisions.n, d->tps.n,
            base->value[OPT_scheduler], base->value[OPT_slo]);
    fprintf(out, "  %s replications per setting, master seed %s\n\n",
            base->value[OPT_replications], base->value[OPT_seed]);
    k = calloc((size_t)n, sizeof *k);
    if (k == NULL) {
        status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
        goto done;
    }
    int cheapest = search_deploy((uint64_t)n, opt->jobs, deploy_candidate, d, opt->progress, k,
                                 err, sizeof err);
    if (cheapest < -1) {
        status = plan_fail(e, PLAN_FAILED, "deploy", "%s", err);
        goto done;
    }
    for (int i = 0; i < n; i++)
        candidate_names(d, (uint64_t)i, &k[i]);
    status = report_deploy(base, opt, k, n, cheapest, out, errout, e);
    if (status == PLAN_OK && cheapest < 0)
        status = plan_fail(e, PLAN_FAILED, "deploy",
                           "none of the %d candidates could be searched (the table gives each "
                           "one's reason)",
                           n);
done:
    free(k);
    free(d);
    return status;
}
