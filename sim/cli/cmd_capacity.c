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
 *
 * The searches, their printing and their files are sim/plan's (capsearch.h); here are the
 * options, the help and the exit statuses.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/cli/runflags.h"
#include "sim/plan/capsearch.h"
#include "sim/plan/parmap.h"
#include "sim/plan/servesearch.h"

static const char *CMD = "capacity";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim capacity servers --arrival SPEC --service SPEC --wait-t T --max-prob X\n"
            "                               [--customers N] [--replications R] [--seed S]\n"
            "       capsim capacity rate     [SCENARIO.ini] [RUN OPTIONS] --slo TARGETS\n"
            "                               [--tolerance F] [--out DIR]\n"
            "       capsim capacity replicas [SCENARIO.ini] [RUN OPTIONS] --slo TARGETS\n"
            "                               (--rate R | --trace FILE [--trace-speedup X])\n"
            "                               [--out DIR]\n"
            "       capsim capacity deploy   [SCENARIO.ini] [RUN OPTIONS] --slo TARGETS --rate R\n"
            "                               [--gpus A,B] [--precisions P,Q] [--tps 1,2,4]\n"
            "                               [--jobs N] [--out DIR]\n"
            "\n"
            "servers   the fewest servers c for which the queue keeps P(wait > T) <= X (T in\n"
            "          seconds), simulating each c with capsim queue's engine; with Poisson\n"
            "          arrivals and exponential service it also prints the exact Erlang C answer.\n"
            "rate      the largest arrival rate (req/s) the deployment carries under the SLOs.\n"
            "          It reports three rates: up to the first the SLOs hold with 95%%\n"
            "          confidence, from the last they fail with 95%% confidence, and between them\n"
            "          the estimate where the targeted figure crosses its limit. The search\n"
            "          starts at the rate of --arrival (any process with a rate= key), doubles or\n"
            "          halves, then bisects each bound to within --tolerance (default 0.02 =\n"
            "          2%%). Bounds left more than 25%% apart mean the runs were too short to\n"
            "          decide (the rates between stay 'unclear'): it says so, with the length\n"
            "          that would do. With --trace it searches the trace's --trace-speedup\n"
            "          (from the one given) and answers the largest speedup, with the rate it\n"
            "          gives. Writes DIR/search.csv and DIR/capacity.csv.\n"
            "replicas  the fewest replicas that carry --rate R req/s under the SLOs (the\n"
            "          verdict must be 'meets'), with cost per hour and per million output\n"
            "          tokens, and how low the answer may be when fewer were 'unclear' (not\n"
            "          'fails'); a band too wide is reported as not decided. With --trace (no\n"
            "          --rate) the fewest replicas for the trace at its --trace-speedup, replayed\n"
            "          whole unless --requests says fewer. Writes DIR/replicas.csv.\n"
            "deploy    for every GPU x precision x tp (defaults: the run options' own), the\n"
            "          fewest replicas that carry --rate together, sized as replicas sizes them\n"
            "          (the same search, so both answer alike), and their cost; the cheapest\n"
            "          that meets the SLOs, and the cost/capacity frontier (no other candidate\n"
            "          is both cheaper per replica and carries more per replica, the target\n"
            "          over its replicas). Candidates run\n"
            "          in --jobs processes. Writes DIR/frontier.csv. A list value no\n"
            "          candidate can use (an unknown GPU) is refused before any search\n"
            "          (exit 2); when no candidate could be searched, deploy exits 1.\n"
            "\n"
            "RUN OPTIONS are those of capsim run (see capsim run --help); --requests 'auto'\n"
            "simulates 8000 requests per replication, or 4000 per replica when more, and\n"
            "--replications defaults to 10. Searches size their own runs: a scenario\n"
            "file's requests = is not used (only --requests on the command line is).\n"
            "Verdicts: 'meets' when the upper end of the 95%% CI of every SLO figure is within\n"
            "its limit, 'fails' when the lower end of one is beyond it, else 'unclear';\n"
            "a step that carried under 95%% of its offered rate is marked [saturated] and\n"
            "fails whatever its figures (they grow with the length of the run).\n"
            "Each step prints a line on stdout as it ends; while it runs, stderr shows its\n"
            "requests done (a bar on a terminal, a line every 10 s otherwise; --quiet: none).\n"
            "\n");
    fprintf(out,
            "examples:\n"
            "  capsim capacity servers --arrival poisson:rate=10 --service exp:mean=1 \\\n"
            "      --wait-t 0.1 --max-prob 0.2\n"
            "  capsim capacity rate --model llama-3.1-8b --gpu h100-sxm \\\n"
            "      --slo ttft_p99=0.5,tpot_p99=0.05 --out results/cap\n"
            "  capsim capacity replicas --model llama-3.1-8b --gpu h100-sxm --trace trace.csv \\\n"
            "      --trace-speedup 2 --slo ttft_p99=1,tpot_p99=0.05\n"
            "  capsim capacity deploy --model llama-3.1-70b --rate 20 --gpus a100-80gb,h100-sxm \\\n"
            "      --precisions bf16,fp8 --tps 2,4 --slo ttft_p99=1,tpot_p99=0.1 --out results/dep\n");
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
    cli_warn_repeats(CMD, argc, argv, 2, longopts, NULL);
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
    capsearch_servers_options opt = {arr_text, svc_text, t, x, customers, reps, seed};
    plan_error e;
    return cli_plan_status(stderr, CMD, capsearch_servers(&opt, stdout, &e), &e);
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
    run_warn_no_series(&c->base, CMD);
    char err[1024];
    c->tol = 0.02;
    c->jobs = parmap_cores();
    if (c->o.tol &&
        cli_parse_real("--tolerance", c->o.tol, 0.001, 1, 0, &c->tol, err, sizeof err) != 0) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    /* replicas and deploy search whole replicas: a rate tolerance has nothing to stop. */
    if (c->o.tol && need_rate)
        fprintf(stderr,
                "capsim %s: warning: --tolerance %s is ignored: %s searches whole replicas, not "
                "a rate\n",
                CMD, c->o.tol, argv[0]);
    if (c->o.jobs && cli_parse_count("--jobs", c->o.jobs, 1, 256, &c->jobs, err, sizeof err) != 0) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    /* On a trace, replicas sizes the fleet for the trace as it is (at --trace-speedup):
     * the trace brings its own rate. */
    if (need_rate && c->base.value[OPT_trace][0] && strcmp(argv[0], "replicas") == 0) {
        if (c->o.rate) {
            cli_usage_error(CMD,
                            "replicas --trace sizes the fleet for the trace's own rate; scale it "
                            "with --trace-speedup, not --rate");
            return -1;
        }
        need_rate = 0;
    } else if (need_rate) {
        if (c->o.rate == NULL) {
            cli_usage_error(CMD, "%s needs --rate R (the target arrival rate, req/s)", argv[0]);
            return -1;
        }
        if (cli_parse_real("--rate", c->o.rate, 1e-6, INFINITY, 0, &c->rate, err, sizeof err) !=
            0) {
            cli_usage_error(CMD, "%s", err);
            return -1;
        }
        /* --rate sets rate= of the arrival process: a different rate given there as well
         * on the command line is the same setting twice (a scenario file's is meant to be
         * overridden). */
        double given = servesearch_arrival_rate(&c->base);
        if (c->base.flag[OPT_arrival] && isfinite(given) && given != c->rate)
            fprintf(stderr,
                    "capsim %s: warning: --rate %s replaces the rate of --arrival %s (--rate "
                    "sets its rate=)\n",
                    CMD, c->o.rate, c->base.value[OPT_arrival]);
        if (run_set_rate(c->base.value[OPT_arrival], sizeof c->base.value[OPT_arrival], c->o.rate,
                         err, sizeof err) != 0) {
            cli_usage_error(CMD, "--rate needs an --arrival with rate=: %s", err);
            return -1;
        }
    } else if (c->o.rate && strcmp(argv[0], "rate") == 0) {
        cli_usage_error(CMD, "%s takes its starting rate from --arrival; --rate is for "
                             "replicas and deploy", argv[0]);
        return -1;
    }
    /* A scenario or workload file's requests = describes a run, not a search: searches size
     * their own runs (servesearch.h), and only --requests on the command line overrides
     * that. A trace is replayed to its requests = as given. */
    if (c->base.given[OPT_requests] && !c->base.flag[OPT_requests] &&
        strcmp(c->base.value[OPT_requests], "auto") != 0 && c->base.value[OPT_trace][0] == '\0') {
        fprintf(stderr,
                "capsim capacity: note: the scenario's requests = %s is not used: capacity "
                "searches size their own runs (--requests auto: %d, %d per replica when more); "
                "give --requests N to set it\n",
                c->base.value[OPT_requests], SERVESEARCH_AUTO_REQUESTS,
                SERVESEARCH_AUTO_PER_REPLICA);
        snprintf(c->base.value[OPT_requests], sizeof c->base.value[0], "auto");
    }
    plan_error e;
    plan_status st =
        capsearch_check(argv[0], &c->base, c->o.gpus, c->o.precisions, c->o.tps, &e);
    if (st != PLAN_OK) {
        cli_plan_status(stderr, CMD, st, &e);
        return -1;
    }
    return 0;
}

/* --- capsim capacity rate, replicas and deploy ---------------------------------------------- */

/* One of the serving searches: parses its command line (need_rate: --rate is required),
 * runs it and says how it ended. */
static int capacity_search(int argc, char **argv, int need_rate)
{
    cap_setup *c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "capsim capacity: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    int prc = cap_parse(argc, argv, c, need_rate);
    int status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    plan_error e;
    /* The folder is checked, locked and noted before the search (cli_out_open); the
     * plots are drawn once it is settled (cli_out_finish). */
    static const char *const rate_files[] = {"search.csv", "capacity.csv", NULL};
    static const char *const replicas_files[] = {"replicas.csv", NULL};
    static const char *const deploy_files[] = {"frontier.csv", NULL};
    const char *const *files = strcmp(argv[0], "rate") == 0       ? rate_files
                               : strcmp(argv[0], "replicas") == 0 ? replicas_files
                                                                  : deploy_files;
    struct outdir *od = NULL;
    if (prc == 0 && c->base.out_dir &&
        (status = cli_out_open(&od, CMD, c->base.out_dir, "capsim capacity", argc, argv,
                               c->base.value[OPT_seed], files)) != CLI_EXIT_OK)
        prc = -1;
    if (prc == 0 && strcmp(argv[0], "rate") == 0) {
        /* On a trace the search is on its speedup, from the one given (1 by default). */
        double start = servesearch_on_trace(&c->base)
                           ? strtod(c->base.value[OPT_trace_speedup], NULL)
                           : servesearch_arrival_rate(&c->base);
        if (!(start > 0))
            status = cli_usage_error(CMD, "rate: --arrival '%s' has no rate= to start from",
                                     c->base.value[OPT_arrival]);
        else
            status = cli_plan_status(stderr, CMD,
                                     capsearch_rate(&c->base, start, c->tol, 0, stdout, stderr,
                                                    &e),
                                     &e);
    } else if (prc == 0 && strcmp(argv[0], "replicas") == 0) {
        status = cli_plan_status(stderr, CMD, capsearch_replicas(&c->base, c->rate, stdout, stderr, &e),
                                 &e);
    } else if (prc == 0) {
        capsearch_deploy_options opt = {c->rate,     c->o.rate, c->o.gpus, c->o.precisions,
                                        c->o.tps,    c->jobs,   1,         0};
        status = cli_plan_status(stderr, CMD, capsearch_deploy(&c->base, &opt, stdout, stderr, &e),
                                 &e);
    }
    if (prc == 0)
        status = cli_out_finish(od, CMD, c->base.out_dir, status, 1);
    free(c);
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
    if (strcmp(what, "rate") == 0 || strcmp(what, "replicas") == 0 || strcmp(what, "deploy") == 0)
        return capacity_search(argc - 1, argv + 1, strcmp(what, "rate") != 0);
    return cli_usage_error(CMD, "expected servers, rate, replicas or deploy, found '%s'", what);
}
