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
#include "sim/cli/runflags.h"
#include "sim/engine/theory.h"
#include "sim/base/util.h"
#include "sim/cli/runsearch.h"
#include "sim/plan/search.h"

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

static void print_servers_step(void *user, const search_servers_step *st)
{
    (void)user;
    printf("  %8u %14.6g %12.3g  %s\n", st->servers, st->prob.mean, st->prob.half_width,
           st->meets ? "meets" : "does not meet");
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
    int status = CLI_EXIT_OK;
    double lambda = arr.rate_per_s, mean_s = svc.mean;
    queue_config cfg = {.arrivals = &arr,
                        .service = &svc,
                        .servers = 1,
                        .batch = 1,
                        .customers = customers,
                        .replications = (uint32_t)reps,
                        .warmup_fraction = 0.1,
                        .tail_t_s = t,
                        .seed = seed};
    int found = search_servers((uint32_t)floor(lambda * mean_s) + 1, x, search_servers_queue,
                               print_servers_step, &cfg, err, sizeof err);
    if (found < 0) {
        fprintf(stderr, "capsim capacity: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    if (found > 0) {
        printf("\n  answer: %d servers (simulated)\n", found);
        int poisson = strncmp(arr_text, "poisson:", 8) == 0;
        int expo = strncmp(svc_text, "exp:", 4) == 0;
        if (poisson && expo)
            printf("  Erlang C (exact for M/M/c): %d servers\n",
                   search_erlang_c_servers(lambda, 1.0 / mean_s, t, x));
    }
    arrival_fini(&arr);
    dist_fini(&svc);
    return status;
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
    run_spec base;
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
    /* Capacity defaults: 10 replications, long runs (see servesearch_set_replicas), and no
     * time series or per-request files. */
    servesearch_prepare(&c->base);
    /* One check of the whole scenario, so a mistake is one message; deploy checks it with
     * its first candidate. */
    run_spec *first = malloc(sizeof *first);
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

/* --- capsim capacity rate ------------------------------------------------------------------ */

static int capacity_rate(int argc, char **argv)
{
    cap_setup *c = calloc(1, sizeof *c);
    int status = CLI_EXIT_OK;
    if (c == NULL) {
        fprintf(stderr, "capsim capacity: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int prc = cap_parse(argc, argv, c, 0);
    double start = prc == 0 ? servesearch_arrival_rate(&c->base) : NAN;
    if (prc != 0)
        status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    else if (!(start > 0))
        status = cli_usage_error(CMD, "rate: --arrival '%s' has no rate= to start from",
                                 c->base.value[OPT_arrival]);
    else
        status = runsearch_rate_command(&c->base, start, c->tol, 1, stdout, stderr, NULL, 0);
    free(c);
    return status;
}

/* --- capsim capacity replicas -------------------------------------------------------------- */

static void write_replicas_csv(FILE *fp, const void *what)
{
    const search_replica_result *s = what;
    runsearch_write_steps(fp, "replicas", s->step, s->n, 1);
}

static int capacity_replicas(int argc, char **argv)
{
    cap_setup *c = calloc(1, sizeof *c);
    search_replica_result *s = malloc(sizeof *s);
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
    runsearch_describe(stdout, &c->base);
    if (servesearch_replicas(&c->base, 1, stdout, s) != 0) {
        fprintf(stderr, "capsim capacity: replicas: %s\n", s->err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    const search_step *best = search_replicas_best(s);
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
        status = runsearch_write_files(stderr, c->base.out_dir, 1, names, fns, whats);
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

/* The names of candidate i: the tp varies fastest, then the precision, then the GPU. */
static void candidate_names(const deploy_ctx *d, uint64_t i, search_candidate *k)
{
    uint64_t nt = (uint64_t)d->tps.n, np = (uint64_t)d->precisions.n;
    snprintf(k->tp, sizeof k->tp, "%s", d->tps.v[i % nt]);
    snprintf(k->precision, sizeof k->precision, "%s", d->precisions.v[(i / nt) % np]);
    snprintf(k->gpu, sizeof k->gpu, "%s", d->gpus.v[i / (nt * np)]);
}

/* A worker: the capacity of one replica of candidate i, then the replicas the target rate
 * needs, searching up from what that capacity suggests. */
static void deploy_candidate(void *user, uint64_t i, search_candidate *k)
{
    const deploy_ctx *d = user;
    const cap_setup *c = d->c;
    run_spec *r = malloc(sizeof *r);
    search_rate_result *rs = malloc(sizeof *rs);
    search_replica_result *ps = malloc(sizeof *ps);
    char err[2048];
    k->ok = r && rs && ps;
    if (!k->ok)
        snprintf(k->reason, sizeof k->reason, "out of memory");
    if (k->ok) {
        *r = c->base;
        candidate_names(d, i, k);
        snprintf(r->value[OPT_tp], sizeof r->value[0], "%s", k->tp);
        snprintf(r->value[OPT_precision], sizeof r->value[0], "%s", k->precision);
        snprintf(r->value[OPT_gpu], sizeof r->value[0], "%s", k->gpu);
        /* One replica; --requests stays as given, so each search sizes its own runs. */
        snprintf(r->value[OPT_replicas], sizeof r->value[0], "1");
        resolved x;
        k->ok = run_resolve(r, &x, err, sizeof err) == 0;
        run_resolved_fini(&x);
        if (!k->ok) {
            /* Truncated to what the reason holds, as the worker's line is read back. */
            size_t len = strnlen(err, sizeof k->reason - 1);
            memcpy(k->reason, err, len);
            k->reason[len] = '\0';
        }
    }
    if (k->ok) {
        k->ok = servesearch_rate(r, c->rate, c->tol, NULL, rs) == 0;
        if (!k->ok)
            snprintf(k->reason, sizeof k->reason, "%s", rs->err);
    }
    if (k->ok) {
        k->rate_meets = rs->meets;
        k->rate_fails = rs->fails;
        k->cost_replica = rs->step[0].cost_per_hour_usd;
        uint64_t start = (uint64_t)ceil(c->rate / rs->fails);
        k->ok = run_set_rate(r->value[OPT_arrival], sizeof r->value[0], c->o.rate, ps->err,
                             sizeof ps->err) == 0 &&
                servesearch_replicas(r, start, NULL, ps) == 0;
        if (!k->ok)
            snprintf(k->reason, sizeof k->reason, "%s", ps->err);
    }
    if (k->ok)
        search_candidate_fill(k, rs, ps);
    free(r);
    free(rs);
    free(ps);
}

typedef struct frontier_file {
    const search_candidate *k;
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

/* The table of candidates and the cheapest, then frontier.csv. */
static int report_deploy(const cap_setup *c, const search_candidate *k, int n, int cheapest)
{
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
        const search_candidate *b = &k[cheapest];
        printf("\n  cheapest: %.0f x %s x %s at %s: %.4g USD/h, %.4g USD per million output "
               "tokens\n",
               b->replicas, b->tp, b->gpu, b->precision, b->cost_total, b->cost_mtok);
    }
    int status = CLI_EXIT_OK;
    if (c->base.out_dir) {
        frontier_file f = {k, n};
        static const char *const names[] = {"frontier.csv"};
        static const util_writer fns[] = {write_frontier_csv};
        const void *whats[] = {&f};
        status = runsearch_write_files(stderr, c->base.out_dir, 1, names, fns, whats);
        if (status == CLI_EXIT_OK) {
            printf("  wrote %s/frontier.csv\n", c->base.out_dir);
            cli_draw_plots(CMD, c->base.out_dir);
        }
    }
    return status;
}

static int capacity_deploy(int argc, char **argv)
{
    cap_setup *c = calloc(1, sizeof *c);
    deploy_ctx *d = calloc(1, sizeof *d);
    search_candidate *k = NULL;
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
    k = calloc((size_t)n, sizeof *k);
    if (k == NULL) {
        status = CLI_EXIT_FAIL;
        goto done;
    }
    int cheapest = search_deploy((uint64_t)n, c->jobs, deploy_candidate, d, 1, k, err, sizeof err);
    if (cheapest < -1) {
        fprintf(stderr, "capsim capacity: deploy: %s\n", err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    for (int i = 0; i < n; i++)
        candidate_names(d, (uint64_t)i, &k[i]);
    status = report_deploy(c, k, n, cheapest);
done:
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
