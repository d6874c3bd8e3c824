/*
 * cmd_capacity: `capsim capacity servers`, the classic "how many servers" question in the
 * queueing mode: the fewest servers c for which a G/G/c queue keeps P(wait > t) <= x.
 *
 * Each candidate c is simulated with the queueing mode; c meets the target when the upper
 * end of the 95% interval of P(wait > t) is within x, and the answer is the first c that
 * meets it (P(wait > t) falls as c grows). For Poisson arrivals and exponential service
 * the exact Erlang C answer is printed beside it.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/cli.h"
#include "sim/queue.h"
#include "sim/theory.h"
#include "sim/util.h"

static const char *CMD = "capacity";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim capacity servers --arrival SPEC --service SPEC --wait-t T --max-prob X\n"
            "                               [--customers N] [--replications R] [--seed S]\n"
            "\n"
            "Finds the fewest servers c for which the queue keeps P(wait > T) <= X (T in\n"
            "seconds), simulating each c with capsim queue's engine: c meets the target when\n"
            "the upper end of the 95%% interval of P(wait > T) is within X. With Poisson\n"
            "arrivals and exponential service it also prints the exact Erlang C answer.\n"
            "\n"
            "example: capsim capacity servers --arrival poisson:rate=10 --service exp:mean=1 \\\n"
            "           --wait-t 0.1 --max-prob 0.2\n");
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

int cmd_capacity(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || strcmp(argv[1], "servers") != 0)
        return cli_usage_error(CMD, "expected 'servers' (the rate and deployment searches "
                                    "are not built yet)");
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
