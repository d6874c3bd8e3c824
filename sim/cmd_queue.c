/*
 * cmd_queue: `capsim queue`, the G/G/c/K queueing mode on the command line.
 *
 * All figures are computed before anything is written; the output files are written
 * under temporary names and renamed into place at the end, so a failed run leaves
 * --out as it was.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/csvout.h"
#include "sim/histo.h"
#include "sim/queue.h"
#include "sim/util.h"

static const char *CMD = "queue";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim queue [OPTIONS]\n"
            "\n"
            "Simulates a first-come-first-served queue with c servers (G/G/c), an optional\n"
            "limit K on customers in the system (arrivals beyond it are blocked) and optional\n"
            "bulk service (each server takes up to B waiting customers at once). Reports the\n"
            "wait in queue, sojourn, utilisation, blocking and throughput, each with a 95%%\n"
            "Student-t confidence interval over independent replications. Times in seconds.\n"
            "\n"
            "options:\n"
            "  --arrival SPEC      arrival process (default poisson:rate=0.8)\n"
            "                      %s\n"
            "  --service SPEC      service time per service, s (default exp:mean=1)\n"
            "                      %s\n"
            "  --servers C         servers (default 1)\n"
            "  --capacity K        most customers in the system, in service included\n"
            "                      (default: unlimited)\n"
            "  --batch B           most customers served together by one server (default 1)\n"
            "  --customers N       arrivals per replication, warm-up included (default 100000)\n"
            "  --replications R    independent replications, >= 2 for intervals (default 10)\n"
            "  --warmup F          fraction of each replication's arrivals deleted (default 0.1)\n"
            "  --tail-t T          threshold t of prob_wait_gt_t = P(wait > t), s\n"
            "                      (default: the mean service time)\n"
            "  --seed S            master seed; stream seeds derive from it (default 1)\n"
            "  --out DIR           write DIR/summary.csv and DIR/seeds.csv\n"
            "  --allow-unstable    run even if the offered load is >= 1 without a capacity\n"
            "  -h, --help          show this help\n"
            "\n"
            "example: capsim queue --arrival poisson:rate=6.8 --service exp:mean=1 --servers 8\n",
            arrival_forms(), dist_forms());
}

typedef struct queue_cli {
    queue_config cfg;
    const char *arrival_text, *service_text, *out_dir;
    int tail_given, allow_unstable;
} queue_cli;

static void write_summary(FILE *fp, const queue_cli *q, const queue_result *res)
{
    const queue_config *cfg = &q->cfg;
    csvout c;
    csvout_init(&c, fp);
    static const char *const inputs[] = {"arrival", "service", "servers", "capacity",
                                         "batch", "customers", "replications", "warmup",
                                         "tail_t", "seed", "offered_load"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        csvout_str(&c, inputs[i]);
    for (size_t m = 0; m < QM_COUNT; m++) {
        char ci_name[64];
        snprintf(ci_name, sizeof ci_name, "%s_ci95", queue_metric_names[m]);
        csvout_str(&c, queue_metric_names[m]);
        csvout_str(&c, ci_name);
    }
    csvout_str(&c, "little_law_ok");
    csvout_str(&c, "percentile_rel_error");
    csvout_end_row(&c);

    csvout_str(&c, q->arrival_text);
    csvout_str(&c, q->service_text);
    csvout_u64(&c, cfg->servers);
    if (cfg->capacity)
        csvout_u64(&c, cfg->capacity);
    else
        csvout_str(&c, "inf");
    csvout_u64(&c, cfg->batch);
    csvout_u64(&c, cfg->customers);
    csvout_u64(&c, cfg->replications);
    csvout_num(&c, cfg->warmup_fraction);
    csvout_num(&c, cfg->tail_t_s);
    csvout_u64(&c, cfg->seed);
    csvout_num(&c, queue_offered_load(cfg));
    for (size_t m = 0; m < QM_COUNT; m++) {
        csvout_num(&c, res->metric[m].mean);
        csvout_num(&c, res->metric[m].half_width);
    }
    if (res->little_checked)
        csvout_u64(&c, (uint64_t)res->little_ok);
    else
        csvout_str(&c, "");
    csvout_num(&c, HISTO_REL_ERROR);
    csvout_end_row(&c);
}

static void write_seeds(FILE *fp, const queue_result *res, uint64_t master)
{
    static const char *const sources[QUEUE_SOURCES] = {"arrivals", "service"};
    fprintf(fp, "master_seed,replication,source,seed\n");
    for (size_t i = 0; i < res->n_seeds; i++)
        fprintf(fp, "%llu,%zu,%s,%lu\n", (unsigned long long)master, i / QUEUE_SOURCES,
                sources[i % QUEUE_SOURCES], res->seeds[i]);
}

/* Writes both files atomically; on failure removes what it made (the directory too, if
 * this run created it). */
static int write_outputs(const queue_cli *q, const queue_result *res, char *err, size_t errlen)
{
    struct stat st;
    int existed = stat(q->out_dir, &st) == 0;
    if (util_mkdir_p(q->out_dir, err, errlen) != 0)
        return -1;
    char path_summary[4096], path_seeds[4096];
    snprintf(path_summary, sizeof path_summary, "%s/summary.csv", q->out_dir);
    snprintf(path_seeds, sizeof path_seeds, "%s/seeds.csv", q->out_dir);
    util_atomic_file fs = {0}, fd = {0};
    int rc = util_atomic_open(&fs, path_summary, err, errlen);
    if (rc == 0)
        rc = util_atomic_open(&fd, path_seeds, err, errlen);
    if (rc == 0) {
        write_summary(fs.fp, q, res);
        write_seeds(fd.fp, res, q->cfg.seed);
        rc = util_atomic_commit(&fs, err, errlen);
    }
    if (rc == 0)
        rc = util_atomic_commit(&fd, err, errlen);
    if (rc != 0) {
        util_atomic_abort(&fs);
        util_atomic_abort(&fd);
        remove(path_summary);
        if (!existed)
            rmdir(q->out_dir);
    }
    return rc;
}

static void print_table(const queue_cli *q, const queue_result *res)
{
    const queue_config *cfg = &q->cfg;
    const dist *svc = cfg->service;
    printf("capsim queue: G/G/c simulation, times in seconds\n");
    printf("  arrivals   %-28s rate %.6g /s, inter-arrival cv %.3g\n", q->arrival_text,
           cfg->arrivals->rate_per_s, sqrt(cfg->arrivals->interarrival.scv));
    printf("  service    %-28s mean %.6g s, cv %.3g\n", q->service_text, svc->mean,
           sqrt(svc->scv));
    char cap[32];
    if (cfg->capacity)
        snprintf(cap, sizeof cap, "%llu", (unsigned long long)cfg->capacity);
    else
        snprintf(cap, sizeof cap, "unlimited");
    printf("  servers %u, capacity %s, batch %u; offered load %.4g\n", cfg->servers, cap,
           cfg->batch, queue_offered_load(cfg));
    printf("  %u replications x %llu customers, first %.3g%% of each deleted as warm-up\n",
           cfg->replications, (unsigned long long)cfg->customers, 100 * cfg->warmup_fraction);
    printf("  master seed %llu; replication 0 streams: arrivals %lu, service %lu%s\n\n",
           (unsigned long long)cfg->seed, res->seeds[0], res->seeds[1],
           q->out_dir ? " (all in seeds.csv)" : "");
    printf("  %-18s %14s %14s  %s\n", "figure", "value", "+-95% CI", "unit");
    for (size_t m = 0; m < QM_COUNT; m++) {
        char name[40];
        if (m == QM_PROB_WAIT_GT_T)
            snprintf(name, sizeof name, "prob_wait_gt_%gs", cfg->tail_t_s);
        else
            snprintf(name, sizeof name, "%s", queue_metric_names[m]);
        printf("  %-18s %14.6g %14.3g  %s\n", name, res->metric[m].mean,
               res->metric[m].half_width, queue_metric_units[m]);
    }
    printf("\n  Percentiles come from a log-bucketed histogram (relative error <= %.2g%%).\n",
           100 * HISTO_REL_ERROR);
    if (!res->little_checked)
        printf("  Little's law not checked: it needs 2 or more replications.\n");
    else
        printf("  Little's law: L = %.6g +- %.3g, lambda*W = %.6g +- %.3g: %s\n",
               res->metric[QM_MEAN_IN_SYSTEM].mean, res->metric[QM_MEAN_IN_SYSTEM].half_width,
               res->metric[QM_LAMBDA_W].mean, res->metric[QM_LAMBDA_W].half_width,
               res->little_ok ? "agree" : "DISAGREE");
}

static int parse_args(int argc, char **argv, queue_cli *q)
{
    static const struct option longopts[] = {
        {"arrival", required_argument, NULL, 'a'},
        {"service", required_argument, NULL, 's'},
        {"servers", required_argument, NULL, 'c'},
        {"capacity", required_argument, NULL, 'k'},
        {"batch", required_argument, NULL, 'b'},
        {"customers", required_argument, NULL, 'n'},
        {"replications", required_argument, NULL, 'r'},
        {"warmup", required_argument, NULL, 'w'},
        {"tail-t", required_argument, NULL, 't'},
        {"seed", required_argument, NULL, 'S'},
        {"out", required_argument, NULL, 'o'},
        {"allow-unstable", no_argument, NULL, 'U'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    opterr = 0;
    optind = 1;
    int ch;
    uint64_t v;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'a':
            q->arrival_text = optarg;
            break;
        case 's':
            q->service_text = optarg;
            break;
        case 'c':
            if (cli_parse_count(CMD, "--servers", optarg, 1, 1000000, &v) != 0)
                return -1;
            q->cfg.servers = (uint32_t)v;
            break;
        case 'k':
            if (cli_parse_count(CMD, "--capacity", optarg, 1, UINT64_MAX / 2, &v) != 0)
                return -1;
            q->cfg.capacity = v;
            break;
        case 'b':
            if (cli_parse_count(CMD, "--batch", optarg, 1, 1000000, &v) != 0)
                return -1;
            q->cfg.batch = (uint32_t)v;
            break;
        case 'n':
            if (cli_parse_count(CMD, "--customers", optarg, 1, UINT64_MAX / 2,
                                &q->cfg.customers) != 0)
                return -1;
            break;
        case 'r':
            if (cli_parse_count(CMD, "--replications", optarg, 1, 100000, &v) != 0)
                return -1;
            q->cfg.replications = (uint32_t)v;
            break;
        case 'w':
            if (cli_parse_real(CMD, "--warmup", optarg, 0, 1, 1, &q->cfg.warmup_fraction) != 0)
                return -1;
            break;
        case 't':
            if (cli_parse_real(CMD, "--tail-t", optarg, 0, INFINITY, 0, &q->cfg.tail_t_s) != 0)
                return -1;
            q->tail_given = 1;
            break;
        case 'S':
            if (cli_parse_count(CMD, "--seed", optarg, 0, UINT64_MAX, &q->cfg.seed) != 0)
                return -1;
            break;
        case 'o':
            if (*optarg == '\0') {
                cli_usage_error(CMD, "--out '': expected a directory name");
                return -1;
            }
            q->out_dir = optarg;
            break;
        case 'U':
            q->allow_unstable = 1;
            break;
        case 'h':
            usage(stdout);
            return 1;
        default:
            cli_bad_option(CMD, optopt, argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
        return -1;
    }
    return 0;
}

int cmd_queue(int argc, char **argv)
{
    queue_cli q = {
        .cfg = {.servers = 1, .capacity = 0, .batch = 1, .customers = 100000,
                .replications = 10, .warmup_fraction = 0.1, .seed = 1},
        .arrival_text = "poisson:rate=0.8",
        .service_text = "exp:mean=1",
    };
    int rc = parse_args(argc, argv, &q);
    if (rc != 0)
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;

    char err[1024];
    arrival_process arr;
    dist service;
    if (arrival_parse(q.arrival_text, &arr, err, sizeof err) != 0)
        return cli_usage_error(CMD, "--arrival %s", err);
    if (dist_parse(q.service_text, &service, err, sizeof err) != 0) {
        arrival_fini(&arr);
        return cli_usage_error(CMD, "--service %s", err);
    }
    q.cfg.arrivals = &arr;
    q.cfg.service = &service;
    if (!q.tail_given)
        q.cfg.tail_t_s = service.mean;

    int status = CLI_EXIT_OK;
    double rho = queue_offered_load(&q.cfg);
    uint64_t warm = (uint64_t)floor(q.cfg.warmup_fraction * (double)q.cfg.customers);
    if (q.cfg.capacity == 0 && rho >= 1.0 && !q.allow_unstable) {
        status = cli_usage_error(
            CMD,
            "offered load lambda*E[S]/(servers*batch) = %.4g*%.4g/(%u*%u) = %.4g >= 1 with "
            "unlimited capacity: the queue grows without bound and has no steady state; "
            "raise --servers or --batch, lower the rate, set --capacity, or pass "
            "--allow-unstable",
            arr.rate_per_s, service.mean, q.cfg.servers, q.cfg.batch, rho);
    } else if (q.cfg.capacity != 0 && q.cfg.capacity < q.cfg.servers) {
        status = cli_usage_error(CMD,
                                 "--capacity %llu is below --servers %u (capacity counts "
                                 "customers in service too)",
                                 (unsigned long long)q.cfg.capacity, q.cfg.servers);
    } else if (warm >= q.cfg.customers) {
        status = cli_usage_error(CMD, "--warmup %g deletes all %llu customers",
                                 q.cfg.warmup_fraction, (unsigned long long)q.cfg.customers);
    }
    queue_result res;
    if (status == CLI_EXIT_OK && queue_run(&q.cfg, &res, err, sizeof err) != 0) {
        fprintf(stderr, "capsim queue: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK) {
        if (q.out_dir && write_outputs(&q, &res, err, sizeof err) != 0) {
            fprintf(stderr, "capsim queue: %s\n", err);
            status = CLI_EXIT_FAIL;
        } else {
            print_table(&q, &res);
            if (q.out_dir)
                printf("  wrote %s/summary.csv and %s/seeds.csv\n", q.out_dir, q.out_dir);
            if (res.little_checked && !res.little_ok)
                fprintf(stderr,
                        "capsim queue: warning: Little's law check failed: L and lambda*W "
                        "differ by more than their confidence intervals; the run may be too "
                        "short or not in steady state\n");
        }
        queue_result_fini(&res);
    }
    arrival_fini(&arr);
    dist_fini(&service);
    return status;
}
