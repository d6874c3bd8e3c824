/*
 * cmd_capacity: `capsim capacity`, the planning questions answered by search.
 *
 *   servers   the queueing mode's "how many servers": the fewest c for which a G/G/c queue
 *             keeps P(wait > t) <= x, with the exact Erlang C answer beside it for M/M/c;
 *   rate      the largest arrival rate a serving deployment carries under its SLOs;
 *   replicas  the fewest replicas that carry a target rate under the SLOs, and their cost;
 *   deploy    across GPUs x precisions x tensor parallelism, the cheapest deployment that
 *             carries the target rate, and the cost/capacity frontier.
 *
 * Every verdict accounts for the simulation's uncertainty: a setting "meets" an SLO when
 * the upper end of the 95% interval of the targeted figure is within the limit, "fails"
 * when the lower end is beyond it, and is "unclear" in between. All the settings of one
 * search use the same seed (common random numbers), so neighbouring rates see the same
 * random draws and the comparison between them is sharper than independent runs allow.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/base/csvout.h"
#include "sim/plan/parmap.h"
#include "sim/engine/queue.h"
#include "sim/cli/runopts.h"
#include "sim/engine/theory.h"
#include "sim/base/util.h"

static const char *CMD = "capacity";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim capacity servers --arrival SPEC --service SPEC --wait-t T --max-prob X\n"
            "                               [--customers N] [--replications R] [--seed S]\n"
            "       capsim capacity rate     [SCENARIO.ini] [RUN OPTIONS] --slo TARGETS\n"
            "                               [--tolerance F] [--out DIR]\n"
            "       capsim capacity replicas [SCENARIO.ini] [RUN OPTIONS] --slo TARGETS --rate R\n"
            "                               [--out DIR]\n"
            "       capsim capacity deploy   [SCENARIO.ini] [RUN OPTIONS] --slo TARGETS --rate R\n"
            "                               [--gpus A,B] [--precisions P,Q] [--tps 1,2,4]\n"
            "                               [--tolerance F] [--jobs N] [--out DIR]\n"
            "\n"
            "servers   the fewest servers c for which the queue keeps P(wait > T) <= X (T in\n"
            "          seconds), simulating each c with capsim queue's engine; with Poisson\n"
            "          arrivals and exponential service it also prints the exact Erlang C answer.\n"
            "rate      the largest arrival rate (req/s) the deployment carries under the SLOs.\n"
            "          It reports three rates: up to the first the SLOs hold with 95%%\n"
            "          confidence, from the last they fail with 95%% confidence, and between them\n"
            "          the estimate where the targeted figure crosses its limit. The search\n"
            "          starts at the rate of --arrival (any process with a rate= key), doubles or\n"
            "          halves, then bisects until the bounds are within --tolerance (default 0.02\n"
            "          = 2%%) of each other. Writes DIR/search.csv and DIR/capacity.csv.\n"
            "replicas  the fewest replicas that carry --rate R req/s under the SLOs (the\n"
            "          verdict must be 'meets'), with cost per hour and per million output\n"
            "          tokens. Writes DIR/replicas.csv.\n"
            "deploy    for every GPU x precision x tp (defaults: the run options' own), the\n"
            "          capacity of one replica, the replicas --rate needs and their cost; the\n"
            "          cheapest that meets the SLOs, and the cost/capacity frontier (no other\n"
            "          candidate is both cheaper per replica and carries more). Candidates run\n"
            "          in --jobs processes. Writes DIR/frontier.csv.\n"
            "\n"
            "RUN OPTIONS are those of capsim run (see capsim run --help); --requests 'auto'\n"
            "simulates 2000 requests per replication, or 1000 per replica when more.\n"
            "Verdicts: 'meets' when the upper end of the 95%% CI of every SLO figure is within\n"
            "its limit, 'fails' when the lower end of one is beyond it, else 'unclear'.\n"
            "\n"
            "examples:\n"
            "  capsim capacity servers --arrival poisson:rate=10 --service exp:mean=1 \\\n"
            "      --wait-t 0.1 --max-prob 0.2\n"
            "  capsim capacity rate --model llama-3.1-8b --gpu h100-sxm \\\n"
            "      --slo ttft_p99=0.5,tpot_p99=0.05 --out results/cap\n"
            "  capsim capacity deploy --model llama-3.1-70b --rate 20 --gpus a100-80gb,h100-sxm \\\n"
            "      --precisions bf16,fp8 --tps 2,4 --slo ttft_p99=1,tpot_p99=0.1 --out results/dep\n");
}

/* Exact fewest servers by Erlang C: P(W > t) = C(c, a) exp(-(c mu - lambda) t). */
static int erlang_c_servers(double lambda, double mu, double t, double x)
{
    for (int c = (int)floor(lambda / mu) + 1; c < 100000; c++) {
        theory_answer a;
        if (theory_mmc(lambda, mu, c, t, &a) == 0 && a.prob_wait_gt_t <= x)
            return c;
    }
    return -1;
}

static int capacity_servers(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"arrival", required_argument, NULL, 'a'},
        {"service", required_argument, NULL, 's'},
        {"wait-t", required_argument, NULL, 't'},
        {"max-prob", required_argument, NULL, 'x'},
        {"customers", required_argument, NULL, 'n'},
        {"replications", required_argument, NULL, 'r'},
        {"seed", required_argument, NULL, 'S'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *arr_text = NULL, *svc_text = NULL;
    double t = NAN, x = NAN;
    uint64_t customers = 100000, reps = 10, seed = 1, v;
    char err[1024];
    opterr = 0;
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'a':
            arr_text = optarg;
            break;
        case 's':
            svc_text = optarg;
            break;
        case 't':
            bad = cli_parse_real("--wait-t", optarg, 0, INFINITY, 0, &t, err, sizeof err);
            break;
        case 'x':
            bad = cli_parse_real("--max-prob", optarg, 0, 1, 1, &x, err, sizeof err);
            break;
        case 'n':
            bad = cli_parse_count("--customers", optarg, 1000, UINT64_MAX / 4, &customers, err,
                                  sizeof err);
            break;
        case 'r':
            bad = cli_parse_count("--replications", optarg, 2, 1000, &reps, err, sizeof err);
            break;
        case 'S':
            bad = cli_parse_count("--seed", optarg, 0, UINT64_MAX, &v, err, sizeof err);
            seed = v;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(CMD, ch, argv[optind - 1]);
        }
        if (bad)
            return cli_usage_error(CMD, "%s", err);
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (!arr_text || !svc_text || isnan(t) || isnan(x))
        return cli_usage_error(CMD, "--arrival, --service, --wait-t and --max-prob are required");
    arrival_process arr;
    dist svc;
    if (arrival_parse(arr_text, &arr, err, sizeof err) != 0)
        return cli_usage_error(CMD, "--arrival %s", err);
    if (dist_parse(svc_text, &svc, err, sizeof err) != 0) {
        arrival_fini(&arr);
        return cli_usage_error(CMD, "--service %s", err);
    }
    printf("capsim capacity servers: fewest servers with P(wait > %g s) <= %g\n", t, x);
    printf("  arrivals %s, service %s; %llu replications x %llu customers per candidate\n\n",
           arr_text, svc_text, (unsigned long long)reps, (unsigned long long)customers);
    printf("  %8s %14s %12s  %s\n", "servers", "P(wait>t)", "+-95% CI", "verdict");
    int found = -1, status = CLI_EXIT_OK;
    double lambda = arr.rate_per_s, mean_s = svc.mean;
    for (uint32_t c = (uint32_t)floor(lambda * mean_s) + 1; c < 1000000; c++) {
        queue_config cfg = {.arrivals = &arr,
                            .service = &svc,
                            .servers = c,
                            .batch = 1,
                            .customers = customers,
                            .replications = (uint32_t)reps,
                            .warmup_fraction = 0.1,
                            .tail_t_s = t,
                            .seed = seed};
        queue_result res;
        if (queue_run(&cfg, &res, err, sizeof err) != 0) {
            fprintf(stderr, "capsim capacity: %s\n", err);
            status = CLI_EXIT_FAIL;
            break;
        }
        stats_ci p = res.metric[QM_PROB_WAIT_GT_T];
        int meets = p.mean + p.half_width <= x;
        printf("  %8u %14.6g %12.3g  %s\n", c, p.mean, p.half_width,
               meets ? "meets" : "does not meet");
        queue_result_fini(&res);
        if (meets) {
            found = (int)c;
            break;
        }
    }
    if (found > 0) {
        printf("\n  answer: %d servers (simulated)\n", found);
        int poisson = strncmp(arr_text, "poisson:", 8) == 0;
        int expo = strncmp(svc_text, "exp:", 4) == 0;
        if (poisson && expo)
            printf("  Erlang C (exact for M/M/c): %d servers\n",
                   erlang_c_servers(lambda, 1.0 / mean_s, t, x));
    }
    arrival_fini(&arr);
    dist_fini(&svc);
    return status;
}

/* --- searches on the serving model --------------------------------------------------------- */

typedef enum verdict { V_MEETS, V_UNCLEAR, V_FAILS, V_ERROR } verdict;
static const char *const VERDICT_NAME[] = {"meets", "unclear", "fails", "error"};

/* One simulated setting judged against the SLOs. */
typedef struct eval {
    verdict v;
    double x; /* the searched value: a rate (req/s) or a number of replicas */
    int used[SLO_COUNT];
    serve_metric metric[SLO_COUNT];
    double value_ms[SLO_COUNT], ci_ms[SLO_COUNT], limit_ms[SLO_COUNT];
    double worst_ratio; /* the largest value / limit over the SLOs */
    double cost_per_hour_usd, cost_per_mtok_usd, output_tok_s;
    char err[512];
} eval;

/* Runs r and judges it. */
static void evaluate(const run_cli *r, double x, eval *e)
{
    memset(e, 0, sizeof *e);
    e->x = x;
    e->v = V_ERROR;
    resolved rs;
    serve_result res;
    char err[2048];
    if (run_resolve(r, &rs, err, sizeof err) != 0 || serve_run(&rs.cfg, &res, err, sizeof err) != 0) {
        snprintf(e->err, sizeof e->err, "%.500s", err);
        run_resolved_fini(&rs);
        return;
    }
    int any_fail = 0, all_meet = 1;
    e->worst_ratio = 0;
    for (int k = 0; k < SLO_COUNT; k++) {
        if (res.slo_met[k] < 0)
            continue;
        serve_metric m = serve_slo_target_metric((serve_slo_metric)k, rs.cfg.slo.pct[k]);
        stats_ci ci = res.metric[m];
        double hw = isfinite(ci.half_width) ? ci.half_width : 0;
        e->used[k] = 1;
        e->metric[k] = m;
        e->value_ms[k] = ci.mean;
        e->ci_ms[k] = ci.half_width;
        e->limit_ms[k] = 1e3 * rs.cfg.slo.limit_s[k];
        if (!(ci.mean + hw <= e->limit_ms[k]))
            all_meet = 0;
        if (!(ci.mean - hw <= e->limit_ms[k]))
            any_fail = 1;
        double ratio = isfinite(ci.mean) ? ci.mean / e->limit_ms[k] : INFINITY;
        if (ratio > e->worst_ratio)
            e->worst_ratio = ratio;
    }
    e->v = any_fail ? V_FAILS : all_meet ? V_MEETS : V_UNCLEAR;
    e->cost_per_hour_usd = res.cost_per_hour_usd;
    e->cost_per_mtok_usd = res.metric[SM_cost_per_million_output_tokens].mean;
    e->output_tok_s = res.metric[SM_output_throughput].mean;
    serve_result_fini(&res);
    run_resolved_fini(&rs);
}

static void print_eval(const char *what, const eval *e)
{
    printf("  %-10s %10.4g  %-8s", what, e->x, VERDICT_NAME[e->v]);
    if (e->v == V_ERROR) {
        printf(" %s\n", e->err);
        return;
    }
    for (int k = 0; k < SLO_COUNT; k++)
        if (e->used[k])
            printf("  %s %.4g +- %.2g (limit %g)", serve_metric_names[e->metric[k]],
                   e->value_ms[k], e->ci_ms[k], e->limit_ms[k]);
    printf("\n");
}

/* A rate rounded to 4 significant digits, so that the rates reported are the ones run. */
static double round4(double x)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.4g", x);
    return strtod(buf, NULL);
}

/* Requests per replication for n replicas when the scenario says auto: near saturation
 * the tail of TTFT needs long runs before it settles (with 2000 requests the capacity
 * estimate came out 10-20% low and its interval 60% wide on llama-3.1-8b / H100). */
static void set_replicas(run_cli *r, const run_cli *base, uint64_t n)
{
    snprintf(r->value[OPT_replicas], sizeof r->value[0], "%llu", (unsigned long long)n);
    if (strcmp(base->value[OPT_requests], "auto") == 0)
        snprintf(r->value[OPT_requests], sizeof r->value[0], "%llu",
                 (unsigned long long)(n * 4000 > 8000 ? n * 4000 : 8000));
}

#define MAX_STEPS 80

typedef struct rate_search {
    eval step[MAX_STEPS];
    int n;
    double meets;    /* the largest rate that meets (0: none) */
    double fails;    /* the smallest rate that fails (INFINITY: none) */
    double estimate; /* where the tightest figure crosses its limit, interpolated */
    char err[512];
} rate_search;

static int set_rate_value(run_cli *r, double rate, char *err, size_t errlen)
{
    char v[64];
    snprintf(v, sizeof v, "%.4g", rate);
    return run_set_rate(r->value[OPT_arrival], sizeof r->value[OPT_arrival], v, err, errlen);
}

static int cmp_eval_x(const void *a, const void *b)
{
    const eval *x = a, *y = b;
    return (x->x > y->x) - (x->x < y->x);
}

/* The step of a search at x: the one recorded if x was tried before, else a new one, with
 * r (already set to x) simulated, or with set_err when setting x failed. */
static const eval *record_step(eval *steps, int *n, double x, run_cli *r, const char *set_err,
                               const char *what, int verbose)
{
    for (int i = 0; i < *n; i++)
        if (steps[i].x == x)
            return &steps[i];
    eval *e = &steps[*n < MAX_STEPS ? *n : MAX_STEPS - 1];
    if (set_err) {
        memset(e, 0, sizeof *e);
        e->x = x;
        e->v = V_ERROR;
        snprintf(e->err, sizeof e->err, "%s", set_err);
    } else {
        evaluate(r, x, e);
    }
    if (*n < MAX_STEPS)
        (*n)++;
    if (verbose)
        print_eval(what, e);
    return e;
}

/* Evaluates r at a rate and records it; returns the verdict. */
static verdict try_rate(run_cli *r, double rate, rate_search *s, int verbose)
{
    char err[512];
    int bad = set_rate_value(r, rate, err, sizeof err) != 0;
    return record_step(s->step, &s->n, rate, r, bad ? err : NULL, "rate", verbose)->v;
}

/* What the rates tried so far tell, assuming the verdicts worsen as the rate grows:
 * M the largest known to meet, N the smallest known not to meet, U the largest known not
 * to fail, F the smallest known to fail. */
typedef struct bounds {
    double M, N, U, F;
} bounds;

static void bounds_update(bounds *b, double rate, verdict v)
{
    if (v == V_MEETS && rate > b->M)
        b->M = rate;
    if (v != V_MEETS && rate < b->N)
        b->N = rate;
    if (v != V_FAILS && rate > b->U)
        b->U = rate;
    if (v == V_FAILS && rate < b->F)
        b->F = rate;
}

/* The largest rate that meets the SLOs (see the file comment). Returns 0, or -1 with
 * s->err (a run that fails, or the SLOs cannot be met at any rate tried). */
static int search_rate(const run_cli *base, double start, double tol, rate_search *s,
                       int verbose)
{
    memset(s, 0, sizeof *s);
    run_cli *r = malloc(sizeof *r);
    if (r == NULL) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    *r = *base;
    set_replicas(r, base, strtoull(base->value[OPT_replicas], NULL, 10));
    bounds b = {0, INFINITY, 0, INFINITY};
    double rate = round4(start);
    int rc = 0;
    for (int i = 0; i < 60 && (b.M == 0 || b.F == INFINITY); i++) {
        verdict v = try_rate(r, rate, s, verbose);
        if (v == V_ERROR) {
            snprintf(s->err, sizeof s->err, "%s", s->step[s->n - 1].err);
            rc = -1;
            break;
        }
        bounds_update(&b, rate, v);
        /* Below the knee the figures stop improving as the rate falls: the deployment is
         * too slow even for requests that hardly ever meet each other. */
        int floor_reached = b.M == 0 && s->n >= 3 && v == V_FAILS &&
                            s->step[s->n - 1].worst_ratio > 0.98 * s->step[s->n - 2].worst_ratio;
        if (b.M == 0 && (rate < start / 500 || floor_reached)) {
            const eval *e = &s->step[s->n - 1];
            int k = 0;
            double worst = -1;
            for (int j = 0; j < SLO_COUNT; j++) {
                if (e->used[j] && e->value_ms[j] / e->limit_ms[j] > worst) {
                    worst = e->value_ms[j] / e->limit_ms[j];
                    k = j;
                }
            }
            if (e->v == V_UNCLEAR)
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
            rc = -1;
            break;
        }
        rate = round4(b.M == 0 ? rate / 4 : rate * 2);
    }
    if (rc == 0 && (b.M == 0 || b.F == INFINITY)) {
        snprintf(s->err, sizeof s->err, "no rate between %.3g and %.3g req/s brackets the SLOs",
                 s->step[0].x, rate);
        rc = -1;
    }
    /* Bisect the meets boundary, then the fails boundary; every run informs both. */
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        for (int i = 0; i < 30; i++) {
            double lo = pass == 0 ? b.M : b.U, hi = pass == 0 ? b.N : b.F;
            if (hi - lo <= tol * lo)
                break;
            double mid = round4(0.5 * (lo + hi));
            if (mid <= lo || mid >= hi)
                break;
            verdict v = try_rate(r, mid, s, verbose);
            if (v == V_ERROR) {
                snprintf(s->err, sizeof s->err, "%s", s->step[s->n - 1].err);
                rc = -1;
                break;
            }
            bounds_update(&b, mid, v);
        }
    }
    s->meets = b.M;
    s->fails = b.F;
    /* The estimate: where the worst value/limit ratio crosses 1 between tested rates. */
    if (rc == 0) {
        eval sorted[MAX_STEPS];
        memcpy(sorted, s->step, (size_t)s->n * sizeof *sorted);
        qsort(sorted, (size_t)s->n, sizeof *sorted, cmp_eval_x);
        s->estimate = b.M;
        for (int i = 1; i < s->n; i++) {
            const eval *lo = &sorted[i - 1], *hi = &sorted[i];
            if (lo->worst_ratio <= 1 && hi->worst_ratio > 1) {
                double t = isfinite(hi->worst_ratio)
                               ? (1 - lo->worst_ratio) / (hi->worst_ratio - lo->worst_ratio)
                               : 0;
                s->estimate = lo->x + t * (hi->x - lo->x);
                break;
            }
        }
        if (s->estimate < b.M)
            s->estimate = b.M;
        if (s->estimate > b.F)
            s->estimate = b.F;
    }
    free(r);
    return rc;
}

typedef struct replica_search {
    eval step[MAX_STEPS];
    int n;
    uint64_t answer; /* the fewest replicas that meet (0: none found) */
    char err[512];
} replica_search;

static verdict try_replicas(run_cli *r, const run_cli *base, uint64_t n, replica_search *s,
                            int verbose)
{
    set_replicas(r, base, n);
    return record_step(s->step, &s->n, (double)n, r, NULL, "replicas", verbose)->v;
}

/* The fewest replicas that meet the SLOs at the base's arrival rate, searching up from
 * `start` (doubling, then bisecting), then down while the one below also meets. */
static int search_replicas(const run_cli *base, uint64_t start, replica_search *s, int verbose)
{
    memset(s, 0, sizeof *s);
    run_cli *r = malloc(sizeof *r);
    if (r == NULL) {
        snprintf(s->err, sizeof s->err, "out of memory");
        return -1;
    }
    *r = *base;
    uint64_t lo = 0, hi = 0, n = start < 1 ? 1 : start; /* lo does not meet, hi meets */
    int rc = 0;
    while (hi == 0) {
        verdict v = try_replicas(r, base, n, s, verbose);
        if (v == V_ERROR) {
            snprintf(s->err, sizeof s->err, "%s", s->step[s->n - 1].err);
            rc = -1;
            break;
        }
        if (v == V_MEETS) {
            hi = n;
        } else {
            lo = n;
            if (n >= 4096) {
                snprintf(s->err, sizeof s->err, "4096 replicas do not meet the SLOs");
                rc = -1;
                break;
            }
            n *= 2;
        }
    }
    while (rc == 0 && hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        verdict v = try_replicas(r, base, mid, s, verbose);
        if (v == V_ERROR) {
            snprintf(s->err, sizeof s->err, "%s", s->step[s->n - 1].err);
            rc = -1;
        } else if (v == V_MEETS) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    s->answer = rc == 0 ? hi : 0;
    free(r);
    return rc;
}

/* --- options of the serving searches ---------------------------------------------------------- */

enum { CAP_RATE = RUN_OPT_EXTRA, CAP_TOL, CAP_GPUS, CAP_PRECISIONS, CAP_TPS, CAP_JOBS };

typedef struct cap_opts {
    const char *rate, *tol, *gpus, *precisions, *tps, *jobs;
} cap_opts;

static int on_cap_opt(void *user, int code, const char *val, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    cap_opts *o = user;
    const char **dst[] = {&o->rate, &o->tol, &o->gpus, &o->precisions, &o->tps, &o->jobs};
    *dst[code - CAP_RATE] = val;
    return 0;
}

typedef struct cap_setup {
    run_cli base;
    cap_opts o;
    double rate, tol;
    uint64_t jobs;
} cap_setup;

/* Parses the command line of rate/replicas/deploy (argv[0] is the search's name). */
static int cap_parse(int argc, char **argv, cap_setup *c, int need_rate)
{
    static const struct option extra[] = {
        {"rate", required_argument, NULL, CAP_RATE},
        {"tolerance", required_argument, NULL, CAP_TOL},
        {"gpus", required_argument, NULL, CAP_GPUS},
        {"precisions", required_argument, NULL, CAP_PRECISIONS},
        {"tps", required_argument, NULL, CAP_TPS},
        {"jobs", required_argument, NULL, CAP_JOBS},
        {NULL, 0, NULL, 0},
    };
    int prc = run_parse_args(CMD, argc, argv, &c->base, extra, on_cap_opt, &c->o, usage);
    if (prc != 0)
        return prc > 0 ? 1 : -1;
    char err[1024];
    c->tol = 0.02;
    c->jobs = parmap_cores();
    if (c->o.tol &&
        cli_parse_real("--tolerance", c->o.tol, 0.001, 1, 0, &c->tol, err, sizeof err) != 0) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    if (c->o.jobs && cli_parse_count("--jobs", c->o.jobs, 1, 256, &c->jobs, err, sizeof err) != 0) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    if (need_rate) {
        if (c->o.rate == NULL) {
            cli_usage_error(CMD, "%s needs --rate R (the target arrival rate, req/s)", argv[0]);
            return -1;
        }
        if (cli_parse_real("--rate", c->o.rate, 1e-6, INFINITY, 0, &c->rate, err, sizeof err) !=
            0) {
            cli_usage_error(CMD, "%s", err);
            return -1;
        }
        if (run_set_rate(c->base.value[OPT_arrival], sizeof c->base.value[OPT_arrival], c->o.rate,
                         err, sizeof err) != 0) {
            cli_usage_error(CMD, "--rate needs an --arrival with rate=: %s", err);
            return -1;
        }
    } else if (c->o.rate) {
        cli_usage_error(CMD, "%s takes its starting rate from --arrival; --rate is for "
                             "replicas and deploy", argv[0]);
        return -1;
    }
    if (c->base.value[OPT_slo][0] == '\0') {
        cli_usage_error(CMD, "%s needs --slo TARGETS, e.g. --slo ttft_p99=0.5,tpot_p99=0.05",
                        argv[0]);
        return -1;
    }
    if (c->base.value[OPT_trace][0] || strtoull(c->base.value[OPT_users], NULL, 10) > 0) {
        cli_usage_error(CMD, "%s searches on the arrival rate: give a synthetic --arrival with "
                             "rate=, not --trace or --users", argv[0]);
        return -1;
    }
    if (strcmp(c->base.value[OPT_replications], "1") == 0) {
        cli_usage_error(CMD, "--replications 1 gives no confidence interval; the verdicts "
                             "need at least 2");
        return -1;
    }
    /* Capacity defaults: 10 replications, and long runs (see set_replicas). */
    if (!c->base.given[OPT_replications])
        snprintf(c->base.value[OPT_replications], sizeof c->base.value[0], "10");
    /* Searches need no time series or per-request files. */
    snprintf(c->base.value[OPT_sample_interval], sizeof c->base.value[0], "0");
    snprintf(c->base.value[OPT_per_request], sizeof c->base.value[0], "off");
    /* One check of the whole scenario, so a mistake is one message; deploy checks it with
     * its first candidate. */
    run_cli *first = malloc(sizeof *first);
    if (first == NULL) {
        fprintf(stderr, "capsim capacity: out of memory\n");
        return -1;
    }
    *first = c->base;
    const char *lists[] = {c->o.gpus, c->o.precisions, c->o.tps};
    const run_opt keys[] = {OPT_gpu, OPT_precision, OPT_tp};
    for (int i = 0; i < 3; i++)
        if (lists[i])
            snprintf(first->value[keys[i]], sizeof first->value[0], "%.*s",
                     (int)strcspn(lists[i], ","), lists[i]);
    resolved x;
    int rc = run_resolve(first, &x, err, sizeof err);
    free(first);
    run_resolved_fini(&x);
    if (rc != 0 && !(strcmp(argv[0], "deploy") == 0 && strstr(err, "needs") != NULL)) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    return 0;
}

static double arrival_rate_of(const run_cli *r)
{
    const char *at = strstr(r->value[OPT_arrival], "rate=");
    return at ? strtod(at + 5, NULL) : NAN;
}

/* Writes the steps of a search as rows "x,verdict,metric,value,ci,limit[,cost...]". */
static void write_steps(FILE *fp, const char *x_name, const eval *steps, int n, int with_cost)
{
    fprintf(fp, "step,%s,verdict,slo_metric,value_ms,ci95_ms,limit_ms%s\n", x_name,
            with_cost ? ",cost_per_hour_usd,cost_per_million_output_tokens" : "");
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < SLO_COUNT; k++) {
            if (!steps[i].used[k])
                continue;
            csvout_u64(&c, (uint64_t)i);
            csvout_num(&c, steps[i].x);
            csvout_str(&c, VERDICT_NAME[steps[i].v]);
            csvout_str(&c, serve_metric_names[steps[i].metric[k]]);
            csvout_num(&c, steps[i].value_ms[k]);
            csvout_num(&c, steps[i].ci_ms[k]);
            csvout_num(&c, steps[i].limit_ms[k]);
            if (with_cost) {
                csvout_num(&c, steps[i].cost_per_hour_usd);
                csvout_num(&c, steps[i].cost_per_mtok_usd);
            }
            csvout_end_row(&c);
        }
    }
}

/* Writes the files of a search into DIR; says what went wrong if it cannot. */
static int write_files(const char *dir, size_t n, const char *const *names,
                       const util_writer *write, const void *const *what)
{
    char err[1024];
    if (util_write_files(dir, n, names, write, what, err, sizeof err) != 0) {
        fprintf(stderr, "capsim capacity: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

/* --- capsim capacity rate ------------------------------------------------------------------ */

static void describe_deployment(const run_cli *r)
{
    printf("  %s on %s x %s, %s weights, %s replica%s, %s batching; %s, prompt %s, output %s\n",
           r->value[OPT_model], r->value[OPT_tp], r->value[OPT_gpu], r->value[OPT_precision],
           r->value[OPT_replicas], strcmp(r->value[OPT_replicas], "1") ? "s" : "",
           r->value[OPT_scheduler], r->value[OPT_arrival], r->value[OPT_prompt_len],
           r->value[OPT_output_len]);
    run_cli *sized = malloc(sizeof *sized);
    if (sized) {
        *sized = *r;
        set_replicas(sized, r, strtoull(r->value[OPT_replicas], NULL, 10));
    }
    printf("  SLO %s; %s replications of %s requests per setting%s, master seed %s, the same "
           "at every setting\n\n",
           r->value[OPT_slo], r->value[OPT_replications],
           sized ? sized->value[OPT_requests] : r->value[OPT_requests],
           strcmp(r->value[OPT_requests], "auto") == 0 ? " (--requests auto)" : "",
           r->value[OPT_seed]);
    free(sized);
}

typedef struct rate_files {
    const run_cli *base;
    const rate_search *s;
} rate_files;

static void write_search_csv(FILE *fp, const void *what)
{
    const rate_files *f = what;
    write_steps(fp, "rate_req_s", f->s->step, f->s->n, 0);
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
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(&c, run_opt_key[o]);
    csvout_end_row(&c);
    csvout_num(&c, f->s->meets);
    csvout_num(&c, f->s->estimate);
    csvout_num(&c, f->s->fails);
    csvout_u64(&c, (uint64_t)f->s->n);
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(&c, f->base->value[o]);
    csvout_end_row(&c);
}

static int capacity_rate(int argc, char **argv)
{
    cap_setup *c = calloc(1, sizeof *c);
    rate_search *s = malloc(sizeof *s);
    int status = CLI_EXIT_OK;
    if (c == NULL || s == NULL) {
        fprintf(stderr, "capsim capacity: out of memory\n");
        status = CLI_EXIT_FAIL;
        goto done;
    }
    int prc = cap_parse(argc, argv, c, 0);
    if (prc != 0) {
        status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        goto done;
    }
    double start = arrival_rate_of(&c->base);
    if (!(start > 0)) {
        status = cli_usage_error(CMD, "rate: --arrival '%s' has no rate= to start from",
                                 c->base.value[OPT_arrival]);
        goto done;
    }
    printf("capsim capacity rate: the largest arrival rate that meets the SLOs\n");
    describe_deployment(&c->base);
    if (search_rate(&c->base, start, c->tol, s, 1) != 0) {
        fprintf(stderr, "capsim capacity: rate: %s\n", s->err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    printf("\n  meets the SLOs (95%% confidence) up to   %.4g req/s\n", s->meets);
    printf("  estimate (the tightest figure at its limit) %.4g req/s\n", s->estimate);
    printf("  fails the SLOs (95%% confidence) from     %.4g req/s\n", s->fails);
    printf("  %d settings simulated; bounds within %.3g%% of each other or adjacent\n", s->n,
           100 * c->tol);
    rate_files f = {&c->base, s};
    if (c->base.out_dir) {
        static const char *const names[] = {"search.csv", "capacity.csv"};
        static const util_writer fns[] = {write_search_csv, write_capacity_csv};
        const void *whats[] = {&f, &f};
        status = write_files(c->base.out_dir, 2, names, fns, whats);
        if (status == CLI_EXIT_OK) {
            printf("  wrote %s/: search.csv, capacity.csv\n", c->base.out_dir);
            cli_draw_plots(CMD, c->base.out_dir);
        }
    }
done:
    free(c);
    free(s);
    return status;
}

/* --- capsim capacity replicas -------------------------------------------------------------- */

static void write_replicas_csv(FILE *fp, const void *what)
{
    const replica_search *s = what;
    write_steps(fp, "replicas", s->step, s->n, 1);
}

static int capacity_replicas(int argc, char **argv)
{
    cap_setup *c = calloc(1, sizeof *c);
    replica_search *s = malloc(sizeof *s);
    int status = CLI_EXIT_OK;
    if (c == NULL || s == NULL) {
        fprintf(stderr, "capsim capacity: out of memory\n");
        status = CLI_EXIT_FAIL;
        goto done;
    }
    int prc = cap_parse(argc, argv, c, 1);
    if (prc != 0) {
        status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        goto done;
    }
    printf("capsim capacity replicas: the fewest replicas for %g req/s under the SLOs\n",
           c->rate);
    describe_deployment(&c->base);
    if (search_replicas(&c->base, 1, s, 1) != 0) {
        fprintf(stderr, "capsim capacity: replicas: %s\n", s->err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    const eval *best = NULL;
    for (int i = 0; i < s->n; i++)
        if (s->step[i].x == (double)s->answer)
            best = &s->step[i];
    uint64_t tp = strtoull(c->base.value[OPT_tp], NULL, 10);
    printf("\n  answer: %llu replica%s (%llu GPUs), %.4g USD/h, %.4g USD per million output "
           "tokens\n",
           (unsigned long long)s->answer, s->answer == 1 ? "" : "s",
           (unsigned long long)(s->answer * tp), best->cost_per_hour_usd, best->cost_per_mtok_usd);
    if (s->answer > 1)
        printf("  with %llu the verdict is not 'meets'\n", (unsigned long long)(s->answer - 1));
    if (c->base.out_dir) {
        static const char *const names[] = {"replicas.csv"};
        static const util_writer fns[] = {write_replicas_csv};
        const void *whats[] = {s};
        status = write_files(c->base.out_dir, 1, names, fns, whats);
        if (status == CLI_EXIT_OK)
            printf("  wrote %s/replicas.csv\n", c->base.out_dir);
    }
done:
    free(c);
    free(s);
    return status;
}

/* --- capsim capacity deploy ---------------------------------------------------------------- */

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
    const cap_setup *c;
    cand_list gpus, precisions, tps;
} deploy_ctx;

/* The outcome of one candidate, as its worker writes it. */
typedef struct cand {
    int ok, meets, on_frontier, cheapest;
    double rate_meets, rate_fails, cost_replica, replicas, cost_total, cost_mtok;
    char gpu[64], precision[64], tp[64], reason[512];
} cand;

static void deploy_candidate(uint64_t i, FILE *out, void *user)
{
    const deploy_ctx *d = user;
    const cap_setup *c = d->c;
    run_cli *r = malloc(sizeof *r);
    rate_search *rs = malloc(sizeof *rs);
    replica_search *ps = malloc(sizeof *ps);
    char reason[600] = "";
    double M = NAN, F = NAN, cost_rep = NAN, n = NAN, cost = NAN, mtok = NAN;
    int ok = r && rs && ps;
    if (!ok)
        snprintf(reason, sizeof reason, "out of memory");
    if (ok) {
        int ng = d->gpus.n, np = d->precisions.n, nt = d->tps.n;
        *r = c->base;
        uint64_t k = i;
        snprintf(r->value[OPT_tp], sizeof r->value[0], "%s", d->tps.v[k % (uint64_t)nt]);
        k /= (uint64_t)nt;
        snprintf(r->value[OPT_precision], sizeof r->value[0], "%s",
                 d->precisions.v[k % (uint64_t)np]);
        k /= (uint64_t)np;
        snprintf(r->value[OPT_gpu], sizeof r->value[0], "%s", d->gpus.v[k % (uint64_t)ng]);
        /* One replica; --requests stays as given, so each search sizes its own runs. */
        snprintf(r->value[OPT_replicas], sizeof r->value[0], "1");
        resolved x;
        char err[2048];
        ok = run_resolve(r, &x, err, sizeof err) == 0;
        run_resolved_fini(&x);
        if (!ok)
            snprintf(reason, sizeof reason, "%.590s", err);
    }
    if (ok) {
        ok = search_rate(r, c->rate, c->tol, rs, 0) == 0;
        if (!ok)
            snprintf(reason, sizeof reason, "%s", rs->err);
    }
    if (ok) {
        M = rs->meets;
        F = rs->fails;
        cost_rep = rs->step[0].cost_per_hour_usd;
        uint64_t start = (uint64_t)ceil(c->rate / F);
        char err[512];
        ok = run_set_rate(r->value[OPT_arrival], sizeof r->value[0], c->o.rate, err,
                          sizeof err) == 0 &&
             search_replicas(r, start, ps, 0) == 0;
        if (!ok)
            snprintf(reason, sizeof reason, "%s", ps->err);
    }
    if (ok) {
        n = (double)ps->answer;
        for (int j = 0; j < ps->n; j++)
            if (ps->step[j].x == n) {
                cost = ps->step[j].cost_per_hour_usd;
                mtok = ps->step[j].cost_per_mtok_usd;
            }
    }
    for (char *p = reason; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(out, "%llu,%d,%.17g,%.17g,%.17g,%.17g,%.17g,%.17g,%s\n", (unsigned long long)i, ok, M,
            F, cost_rep, n, cost, mtok, reason);
    free(r);
    free(rs);
    free(ps);
}

static int parse_candidate(const char *line, cand *k)
{
    char *end;
    strtoull(line, &end, 10);
    if (*end != ',')
        return -1;
    k->ok = (int)strtol(end + 1, &end, 10);
    double *f[] = {&k->rate_meets, &k->rate_fails, &k->cost_replica,
                   &k->replicas,   &k->cost_total, &k->cost_mtok};
    for (size_t j = 0; j < 6; j++) {
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

typedef struct frontier_file {
    const cand *k;
    int n;
} frontier_file;

static void write_frontier_csv(FILE *fp, const void *what)
{
    const frontier_file *f = what;
    fprintf(fp, "candidate,gpu,precision,tp,status,reason,rate_per_replica,rate_per_replica_fail,"
                "cost_per_hour_usd_per_replica,usd_per_hour_per_req_s,replicas,cost_per_hour_usd,"
                "cost_per_million_output_tokens,meets_target,on_frontier,cheapest\n");
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < f->n; i++) {
        const cand *k = &f->k[i];
        csvout_u64(&c, (uint64_t)i);
        csvout_str(&c, k->gpu);
        csvout_str(&c, k->precision);
        csvout_str(&c, k->tp);
        csvout_str(&c, k->ok ? "ok" : "error");
        csvout_str(&c, k->reason);
        if (!k->ok) {
            for (int j = 0; j < 10; j++)
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
        }
        csvout_end_row(&c);
    }
}

static int capacity_deploy(int argc, char **argv)
{
    cap_setup *c = calloc(1, sizeof *c);
    deploy_ctx *d = calloc(1, sizeof *d);
    cand *k = NULL;
    parmap_row *rows = NULL;
    size_t n_rows = 0;
    int status = CLI_EXIT_OK;
    char err[1024];
    if (c == NULL || d == NULL) {
        fprintf(stderr, "capsim capacity: out of memory\n");
        status = CLI_EXIT_FAIL;
        goto done;
    }
    int prc = cap_parse(argc, argv, c, 1);
    if (prc != 0) {
        status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
        goto done;
    }
    d->c = c;
    if (split_list("--gpus", c->o.gpus ? c->o.gpus : c->base.value[OPT_gpu], &d->gpus, err,
                   sizeof err) != 0 ||
        split_list("--precisions", c->o.precisions ? c->o.precisions : c->base.value[OPT_precision],
                   &d->precisions, err, sizeof err) != 0 ||
        split_list("--tps", c->o.tps ? c->o.tps : c->base.value[OPT_tp], &d->tps, err,
                   sizeof err) != 0) {
        status = cli_usage_error(CMD, "%s", err);
        goto done;
    }
    if (d->gpus.n == 0 || d->precisions.n == 0 || d->tps.n == 0) {
        status = cli_usage_error(CMD, "deploy: --gpus, --precisions and --tps must not be empty");
        goto done;
    }
    int n = d->gpus.n * d->precisions.n * d->tps.n;
    printf("capsim capacity deploy: the cheapest deployment for %g req/s under the SLOs\n",
           c->rate);
    printf("  %s; %d candidates (%d GPUs x %d precisions x %d tp); %s batching; SLO %s\n",
           c->base.value[OPT_model], n, d->gpus.n, d->precisions.n, d->tps.n,
           c->base.value[OPT_scheduler], c->base.value[OPT_slo]);
    printf("  %s replications per setting, master seed %s\n\n", c->base.value[OPT_replications],
           c->base.value[OPT_seed]);
    if (parmap_run(0, 1, (uint64_t)n, c->jobs, deploy_candidate, d, 1, &rows, &n_rows,
                   err, sizeof err) != 0) {
        fprintf(stderr, "capsim capacity: deploy: %s\n", err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    if (n_rows != (size_t)n) {
        fprintf(stderr, "capsim capacity: deploy: %zu of %d candidates finished\n", n_rows, n);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    k = calloc((size_t)n, sizeof *k);
    if (k == NULL) {
        status = CLI_EXIT_FAIL;
        goto done;
    }
    for (int i = 0; i < n; i++) {
        if (parse_candidate(rows[i].text, &k[i]) != 0) {
            fprintf(stderr, "capsim capacity: deploy: a worker wrote a malformed line\n");
            status = CLI_EXIT_FAIL;
            goto done;
        }
        int t = i % d->tps.n, p = (i / d->tps.n) % d->precisions.n,
            g = i / (d->tps.n * d->precisions.n);
        snprintf(k[i].gpu, sizeof k[i].gpu, "%s", d->gpus.v[g]);
        snprintf(k[i].precision, sizeof k[i].precision, "%s", d->precisions.v[p]);
        snprintf(k[i].tp, sizeof k[i].tp, "%s", d->tps.v[t]);
        k[i].meets = k[i].ok;
    }
    /* The frontier: no other candidate carries at least as much per replica for at most the
     * cost, and is better in one. The cheapest: lowest total cost, then fewer GPUs. */
    int cheapest = -1;
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
    printf("  %-14s %-6s %-4s %12s %12s %9s %11s %11s  %s\n", "gpu", "prec", "tp",
           "req/s/repl", "USD/h/repl", "replicas", "USD/h", "USD/Mtok", "");
    for (int i = 0; i < n; i++) {
        if (!k[i].ok) {
            printf("  %-14s %-6s %-4s  no: %s\n", k[i].gpu, k[i].precision, k[i].tp, k[i].reason);
            continue;
        }
        printf("  %-14s %-6s %-4s %12.4g %12.4g %9.0f %11.4g %11.4g  %s%s\n", k[i].gpu,
               k[i].precision, k[i].tp, k[i].rate_meets, k[i].cost_replica, k[i].replicas,
               k[i].cost_total, k[i].cost_mtok, k[i].on_frontier ? "frontier" : "",
               k[i].cheapest ? " CHEAPEST" : "");
    }
    if (cheapest < 0) {
        printf("\n  no candidate can carry %g req/s under the SLOs\n", c->rate);
    } else {
        const cand *b = &k[cheapest];
        printf("\n  cheapest: %.0f x %s x %s at %s: %.4g USD/h, %.4g USD per million output "
               "tokens\n",
               b->replicas, b->tp, b->gpu, b->precision, b->cost_total, b->cost_mtok);
    }
    if (c->base.out_dir) {
        frontier_file f = {k, n};
        static const char *const names[] = {"frontier.csv"};
        static const util_writer fns[] = {write_frontier_csv};
        const void *whats[] = {&f};
        status = write_files(c->base.out_dir, 1, names, fns, whats);
        if (status == CLI_EXIT_OK) {
            printf("  wrote %s/frontier.csv\n", c->base.out_dir);
            cli_draw_plots(CMD, c->base.out_dir);
        }
    }
done:
    parmap_rows_free(rows, n_rows);
    free(k);
    free(c);
    free(d);
    return status;
}

int cmd_capacity(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const char *what = argc >= 2 ? argv[1] : "";
    if (strcmp(what, "servers") == 0)
        return capacity_servers(argc, argv);
    if (strcmp(what, "rate") == 0)
        return capacity_rate(argc - 1, argv + 1);
    if (strcmp(what, "replicas") == 0)
        return capacity_replicas(argc - 1, argv + 1);
    if (strcmp(what, "deploy") == 0)
        return capacity_deploy(argc - 1, argv + 1);
    return cli_usage_error(CMD, "expected servers, rate, replicas or deploy, found '%s'", what);
}
