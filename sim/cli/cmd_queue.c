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

#include "sim/cli/cli.h"
#include "sim/base/csvout.h"
#include "sim/base/histo.h"
#include "sim/engine/queue.h"
#include "sim/plan/runspec.h"
#include "sim/engine/theory.h"
#include "sim/plan/scenario.h"
#include "sim/base/util.h"

static const char *CMD = "queue";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim queue [SCENARIO.ini] [OPTIONS]\n"
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
            "  --out DIR           write DIR/summary.csv, DIR/seeds.csv and DIR/scenario.ini\n"
            "  --allow-unstable    run even if the offered load is >= 1 without a capacity\n"
            "  --load A:B:S        a load curve: run at utilisations rho = A, A+S, ..., B (the\n"
            "                      arrival rate set to rho*servers*batch/E[S], the same seed at\n"
            "                      every rho) and write DIR/load.csv: mean and p99 wait with\n"
            "                      CIs, beside the exact values where theory has them (M/M/c,\n"
            "                      M/G/1); capsim plot DIR draws it\n"
            "  -h, --help          show this help\n"
            "\n"
            "A scenario file holds the same settings under [queue], one 'key = value' a line\n"
            "(tail_t and allow_unstable spelled with '_'); options on the command line win.\n"
            "--out writes the fully resolved scenario as DIR/scenario.ini, so\n"
            "'capsim queue DIR/scenario.ini --out DIR2' reproduces the run byte for byte.\n"
            "\n"
            "example: capsim queue --arrival poisson:rate=6.8 --service exp:mean=1 --servers 8\n",
            arrival_forms(), dist_forms());
}

typedef struct queue_cli {
    queue_config cfg;
    char arrival_text[1024], service_text[1024];
    const char *out_dir;
    const char *scenario_path; /* INI file given on the command line, or NULL */
    int tail_given, allow_unstable;
    const char *load; /* --load first:last:step, or NULL */
} queue_cli;

/* Options that a scenario file may set too, under [queue], with '-' spelled '_'. */
typedef enum opt_code {
    O_ARRIVAL,
    O_SERVICE,
    O_SERVERS,
    O_CAPACITY,
    O_BATCH,
    O_CUSTOMERS,
    O_REPLICATIONS,
    O_WARMUP,
    O_TAIL_T,
    O_SEED,
    O_ALLOW_UNSTABLE,
    O_N_SCENARIO, /* the rest: flags only */
    O_OUT = O_N_SCENARIO,
    O_LOAD,
    O_HELP
} opt_code;

static const char *const SCENARIO_KEYS[O_N_SCENARIO] = {
    "arrival",      "service", "servers", "capacity", "batch",          "customers",
    "replications", "warmup",  "tail_t",  "seed",     "allow_unstable",
};

/* Applies one option value to q. label names it in messages ("--servers", or
 * "scenario.ini: servers"). Returns 0, or -1 with a message in err. */
static int apply_option(queue_cli *q, opt_code code, const char *val, const char *label, char *err,
                        size_t errlen)
{
    uint64_t v;
    switch (code) {
    case O_ARRIVAL:
    case O_SERVICE: {
        char *dst = code == O_ARRIVAL ? q->arrival_text : q->service_text;
        if (strlen(val) > SCENARIO_MAX_VALUE) {
            util_errf(err, errlen, "%s: value is longer than %d characters", label,
                      SCENARIO_MAX_VALUE);
            return -1;
        }
        strcpy(dst, val);
        return 0;
    }
    case O_SERVERS:
        if (cli_parse_count(label, val, 1, 1000000, &v, err, errlen) != 0)
            return -1;
        q->cfg.servers = (uint32_t)v;
        return 0;
    case O_CAPACITY:
        if (strcmp(val, "unlimited") == 0) {
            q->cfg.capacity = 0;
            return 0;
        }
        if (cli_parse_count(label, val, 1, UINT64_MAX / 2, &v, err, errlen) != 0) {
            util_errf(err, errlen, "%s '%s': expected a whole number >= 1 or 'unlimited'", label,
                      val);
            return -1;
        }
        q->cfg.capacity = v;
        return 0;
    case O_BATCH:
        if (cli_parse_count(label, val, 1, 1000000, &v, err, errlen) != 0)
            return -1;
        q->cfg.batch = (uint32_t)v;
        return 0;
    case O_CUSTOMERS:
        return cli_parse_count(label, val, 1, UINT64_MAX / 2, &q->cfg.customers, err, errlen);
    case O_REPLICATIONS:
        if (cli_parse_count(label, val, 1, 100000, &v, err, errlen) != 0)
            return -1;
        q->cfg.replications = (uint32_t)v;
        return 0;
    case O_WARMUP:
        return cli_parse_real(label, val, 0, 1, 1, &q->cfg.warmup_fraction, err, errlen);
    case O_TAIL_T:
        q->tail_given = 1;
        return cli_parse_real(label, val, 0, INFINITY, 0, &q->cfg.tail_t_s, err, errlen);
    case O_SEED:
        return cli_parse_count(label, val, 0, UINT64_MAX, &q->cfg.seed, err, errlen);
    case O_ALLOW_UNSTABLE:
        if (strcmp(val, "1") == 0 || strcmp(val, "true") == 0 || strcmp(val, "yes") == 0) {
            q->allow_unstable = 1;
        } else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0 || strcmp(val, "no") == 0) {
            q->allow_unstable = 0;
        } else {
            util_errf(err, errlen, "%s '%s': expected true or false", label, val);
            return -1;
        }
        return 0;
    case O_OUT:
        if (*val == '\0') {
            util_errf(err, errlen, "%s '': expected a directory name", label);
            return -1;
        }
        q->out_dir = val;
        return 0;
    case O_LOAD:
        q->load = val;
        return 0;
    case O_HELP:
        break;
    }
    return 0;
}

/* A key of a scenario file: the same settings as the options, under [queue]. */
static int on_scenario_key(void *user, const char *section, const char *name, const char *value,
                           char *err, size_t errlen)
{
    queue_cli *q = user;
    if (strcmp(section, "queue") != 0) {
        util_errf(err, errlen, "key '%s' in section [%s]: expected section [queue]", name, section);
        return -1;
    }
    for (int k = 0; k < O_N_SCENARIO; k++) {
        if (strcmp(name, SCENARIO_KEYS[k]) == 0) {
            char label[64];
            snprintf(label, sizeof label, "key %s", name);
            return apply_option(q, (opt_code)k, value, label, err, errlen);
        }
    }
    util_errf(err, errlen,
              "unknown key '%s' (expected arrival, service, servers, capacity, batch, "
              "customers, replications, warmup, tail_t, seed or allow_unstable)",
              name);
    return -1;
}

static void write_summary(FILE *fp, const queue_cli *q, const queue_result *res)
{
    const queue_config *cfg = &q->cfg;
    csvout c;
    csvout_init(&c, fp);
    static const char *const inputs[] = {"arrival", "service",   "servers",      "capacity",
                                         "batch",   "customers", "replications", "warmup",
                                         "tail_t",  "seed",      "offered_load"};
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

/* The fully resolved scenario: `capsim queue DIR/scenario.ini` reproduces the run. Reals
 * are written with 17 significant digits so that they read back to the same double. */
static void write_scenario(FILE *fp, const queue_cli *q)
{
    const queue_config *cfg = &q->cfg;
    fprintf(fp, "; capsim queue scenario, every setting resolved.\n");
    fprintf(fp, "; Reproduce with: capsim queue THIS_FILE --out DIR\n");
    fprintf(fp, "[queue]\n");
    fprintf(fp, "arrival = %s\n", q->arrival_text);
    fprintf(fp, "service = %s\n", q->service_text);
    fprintf(fp, "servers = %u\n", cfg->servers);
    if (cfg->capacity)
        fprintf(fp, "capacity = %llu\n", (unsigned long long)cfg->capacity);
    else
        fprintf(fp, "capacity = unlimited\n");
    fprintf(fp, "batch = %u\n", cfg->batch);
    fprintf(fp, "customers = %llu\n", (unsigned long long)cfg->customers);
    fprintf(fp, "replications = %u\n", cfg->replications);
    char num[32];
    fprintf(fp, "warmup = %s\n", util_fmt_exact(num, sizeof num, cfg->warmup_fraction));
    fprintf(fp, "tail_t = %s\n", util_fmt_exact(num, sizeof num, cfg->tail_t_s));
    fprintf(fp, "seed = %llu\n", (unsigned long long)cfg->seed);
    fprintf(fp, "allow_unstable = %s\n", q->allow_unstable ? "true" : "false");
}

static void write_seeds(FILE *fp, const queue_result *res, uint64_t master)
{
    static const char *const sources[QUEUE_SOURCES] = {"arrivals", "service"};
    fprintf(fp, "master_seed,replication,source,seed\n");
    for (size_t i = 0; i < res->n_seeds; i++)
        fprintf(fp, "%llu,%zu,%s,%lu\n", (unsigned long long)master, i / QUEUE_SOURCES,
                sources[i % QUEUE_SOURCES], res->seeds[i]);
}

/* Writes the output files atomically; on failure removes what it made (the directory
 * too, if this run created it). */
static int write_outputs(const queue_cli *q, const queue_result *res, char *err, size_t errlen)
{
    enum { N_FILES = 3 };
    static const char *const names[N_FILES] = {"summary.csv", "seeds.csv", "scenario.ini"};
    struct stat st;
    int existed = stat(q->out_dir, &st) == 0;
    if (util_mkdir_p(q->out_dir, err, errlen) != 0)
        return -1;
    util_atomic_file f[N_FILES];
    memset(f, 0, sizeof f);
    int rc = 0;
    for (int i = 0; i < N_FILES && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", q->out_dir, names[i]);
        rc = util_atomic_open(&f[i], path, err, errlen);
    }
    if (rc == 0) {
        write_summary(f[0].fp, q, res);
        write_seeds(f[1].fp, res, q->cfg.seed);
        write_scenario(f[2].fp, q);
    }
    /* Everything is complete on disk under temporary names before the first rename. */
    if (rc == 0)
        rc = util_atomic_commit_all(f, N_FILES, err, errlen);
    if (rc != 0) {
        for (int i = 0; i < N_FILES; i++)
            util_atomic_abort(&f[i]);
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
    printf("  service    %-28s mean %.6g s, cv %.3g\n", q->service_text, svc->mean, sqrt(svc->scv));
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
        printf("  %-18s %14.6g %14.3g  %s\n", name, res->metric[m].mean, res->metric[m].half_width,
               queue_metric_units[m]);
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

/* Reads the command line: flags first into a list, then the scenario file (if one is
 * given), then the flags on top, so that flags win. Returns 0, 1 after --help, or -1
 * after printing a usage error. */
static int parse_args(int argc, char **argv, queue_cli *q)
{
    static const struct option longopts[] = {
        {"arrival", required_argument, NULL, O_ARRIVAL},
        {"service", required_argument, NULL, O_SERVICE},
        {"servers", required_argument, NULL, O_SERVERS},
        {"capacity", required_argument, NULL, O_CAPACITY},
        {"batch", required_argument, NULL, O_BATCH},
        {"customers", required_argument, NULL, O_CUSTOMERS},
        {"replications", required_argument, NULL, O_REPLICATIONS},
        {"warmup", required_argument, NULL, O_WARMUP},
        {"tail-t", required_argument, NULL, O_TAIL_T},
        {"seed", required_argument, NULL, O_SEED},
        {"allow-unstable", no_argument, NULL, O_ALLOW_UNSTABLE},
        {"out", required_argument, NULL, O_OUT},
        {"load", required_argument, NULL, O_LOAD},
        {"help", no_argument, NULL, O_HELP},
        {NULL, 0, NULL, 0},
    };
    typedef struct given {
        opt_code code;
        const char *val;
        const char *label;
    } given;
    given flags[256];
    size_t n_flags = 0;
    opterr = 0;
    optind = 1;
    int ch, longind = 0;
    while ((ch = getopt_long(argc, argv, ":h", longopts, &longind)) != -1) {
        if (ch == 'h' || ch == O_HELP) {
            usage(stdout);
            return 1;
        }
        if (ch == '?' || ch == ':') {
            cli_bad_option(CMD, ch, argv[optind - 1]);
            return -1;
        }
        if (n_flags == sizeof flags / sizeof flags[0]) {
            cli_usage_error(CMD, "too many options");
            return -1;
        }
        /* Messages name the option by its long spelling, whatever abbreviation was typed. */
        flags[n_flags++] = (given){(opt_code)ch, optarg ? optarg : "true", longopts[longind].name};
    }
    if (optind < argc - 1) {
        cli_usage_error(CMD, "unexpected argument '%s' (at most one scenario file)",
                        argv[optind + 1]);
        return -1;
    }
    char err[1024];
    if (optind == argc - 1) {
        q->scenario_path = argv[optind];
        if (scenario_load(q->scenario_path, on_scenario_key, q, err, sizeof err) != 0) {
            cli_usage_error(CMD, "%s", err);
            return -1;
        }
    }
    for (size_t i = 0; i < n_flags; i++) {
        char label[64];
        snprintf(label, sizeof label, "--%s", flags[i].label);
        if (apply_option(q, flags[i].code, flags[i].val, label, err, sizeof err) != 0) {
            cli_usage_error(CMD, "%s", err);
            return -1;
        }
    }
    return 0;
}

/* --- the load curve (--load) ------------------------------------------------------------- */

typedef struct load_point {
    double rho, rate;
    stats_ci mean_wait, p99_wait;
    double exact_mean, exact_p99;
} load_point;

/* The exact mean and p99 wait at rate lambda where a formula applies, else NAN. */
static void load_exact(const queue_cli *q, const dist *svc, double lambda, load_point *p)
{
    p->exact_mean = p->exact_p99 = NAN;
    const queue_config *c = &q->cfg;
    if (strncmp(q->arrival_text, "poisson:", 8) != 0 || c->capacity != 0 || c->batch != 1)
        return;
    theory_answer a;
    double mu = 1.0 / svc->mean;
    if (strcmp(svc->kind->name, "exp") == 0) {
        if (theory_mmc(lambda, mu, (int)c->servers, 0, &a) != 0)
            return;
        p->exact_mean = a.mean_wait;
        /* P(W > t) = C exp(-(c mu - lambda) t), so the 99th percentile solves it = 0.01. */
        double rate = c->servers * mu - lambda;
        p->exact_p99 = a.prob_wait > 0.01 ? log(a.prob_wait / 0.01) / rate : 0;
    } else if (c->servers == 1 && theory_mg1(lambda, svc->mean, svc->scv, 0, &a) == 0) {
        p->exact_mean = a.mean_wait;
    }
}

typedef struct load_curve {
    const load_point *pt;
    size_t n;
} load_curve;

static void write_load_csv(FILE *fp, const void *what)
{
    const load_point *pt = ((const load_curve *)what)->pt;
    size_t n = ((const load_curve *)what)->n;
    csvout c;
    csvout_init(&c, fp);
    static const char *const cols[] = {"rho",           "arrival_rate",    "mean_wait",
                                       "mean_wait_ci95", "p99_wait",        "p99_wait_ci95",
                                       "exact_mean_wait", "exact_p99_wait"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        csvout_str(&c, cols[i]);
    csvout_end_row(&c);
    for (size_t i = 0; i < n; i++) {
        csvout_num(&c, pt[i].rho);
        csvout_num(&c, pt[i].rate);
        csvout_num(&c, pt[i].mean_wait.mean);
        csvout_num(&c, pt[i].mean_wait.half_width);
        csvout_num(&c, pt[i].p99_wait.mean);
        csvout_num(&c, pt[i].p99_wait.half_width);
        if (isnan(pt[i].exact_mean))
            csvout_str(&c, "");
        else
            csvout_num(&c, pt[i].exact_mean);
        if (isnan(pt[i].exact_p99))
            csvout_str(&c, "");
        else
            csvout_num(&c, pt[i].exact_p99);
        csvout_end_row(&c);
    }
}

static int run_load_curve(queue_cli *q, const dist *svc)
{
    double lo, hi, step;
    char tail, err[1024];
    if (sscanf(q->load, "%lf:%lf:%lf%c", &lo, &hi, &step, &tail) != 3 || !(lo > 0) ||
        !(hi >= lo) || !(step > 0) || (hi - lo) / step > 1000)
        return cli_usage_error(CMD, "--load '%s': expected first:last:step utilisations with "
                                    "0 < first <= last and step > 0 (at most 1000 points)",
                               q->load);
    if (q->cfg.capacity == 0 && hi >= 1 && !q->allow_unstable)
        return cli_usage_error(CMD, "--load '%s': utilisations must stay below 1 without "
                                    "--capacity (the queue has no steady state at 1 or more)",
                               q->load);
    {
        char text[1100];
        snprintf(text, sizeof text, "%s", q->arrival_text);
        if (run_set_rate(text, sizeof text, "1", err, sizeof err) != 0)
            return cli_usage_error(CMD, "--load needs an --arrival with rate=: %s", err);
    }
    size_t n = (size_t)floor((hi - lo) / step + 1e-9) + 1;
    load_point *pt = calloc(n, sizeof *pt);
    if (pt == NULL)
        return CLI_EXIT_FAIL;
    int status = CLI_EXIT_OK;
    printf("capsim queue --load: waits against utilisation; arrivals %s, service %s, %u "
           "server%s, batch %u; master seed %llu at every point\n\n",
           q->arrival_text, q->service_text, q->cfg.servers, q->cfg.servers == 1 ? "" : "s",
           q->cfg.batch, (unsigned long long)q->cfg.seed);
    printf("  %6s %10s %12s %10s %12s %10s %12s %12s\n", "rho", "rate/s", "mean wait s",
           "+-95%", "p99 wait s", "+-95%", "exact mean", "exact p99");
    for (size_t i = 0; i < n && status == CLI_EXIT_OK; i++) {
        load_point *p = &pt[i];
        p->rho = lo + (double)i * step;
        p->rate = p->rho * q->cfg.servers * q->cfg.batch / svc->mean;
        char text[1100], rate[64];
        snprintf(text, sizeof text, "%s", q->arrival_text);
        util_fmt_exact(rate, sizeof rate, p->rate);
        arrival_process arr;
        if (run_set_rate(text, sizeof text, rate, err, sizeof err) != 0 ||
            arrival_parse(text, &arr, err, sizeof err) != 0) {
            status = cli_usage_error(CMD, "--load with --arrival %s: %s", q->arrival_text, err);
            break;
        }
        queue_config cfg = q->cfg;
        cfg.arrivals = &arr;
        queue_result res;
        if (queue_run(&cfg, &res, err, sizeof err) != 0) {
            fprintf(stderr, "capsim queue: %s\n", err);
            status = CLI_EXIT_FAIL;
        } else {
            p->mean_wait = res.metric[QM_MEAN_WAIT];
            p->p99_wait = res.metric[QM_P99_WAIT];
            load_exact(q, svc, arr.rate_per_s, p);
            printf("  %6.3g %10.4g %12.5g %10.3g %12.5g %10.3g %12.5g %12.5g\n", p->rho, p->rate,
                   p->mean_wait.mean, p->mean_wait.half_width, p->p99_wait.mean,
                   p->p99_wait.half_width, p->exact_mean, p->exact_p99);
            queue_result_fini(&res);
        }
        arrival_fini(&arr);
    }
    if (status == CLI_EXIT_OK && q->out_dir) {
        static const char *const names[] = {"load.csv"};
        static const util_writer write[] = {write_load_csv};
        const load_curve curve = {pt, n};
        const void *what[] = {&curve};
        if (util_write_files(q->out_dir, 1, names, write, what, err, sizeof err) != 0) {
            fprintf(stderr, "capsim queue: %s\n", err);
            status = CLI_EXIT_FAIL;
        } else {
            printf("\n  wrote %s/load.csv\n", q->out_dir);
            cli_draw_plots(CMD, q->out_dir);
        }
    }
    free(pt);
    return status;
}

int cmd_queue(int argc, char **argv)
{
    queue_cli q = {
        .cfg = {.servers = 1,
                .capacity = 0,
                .batch = 1,
                .customers = 100000,
                .replications = 10,
                .warmup_fraction = 0.1,
                .seed = 1},
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
    if (q.cfg.capacity == 0 && rho >= 1.0 && !q.allow_unstable && !q.load) {
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
    if (status == CLI_EXIT_OK && q.load) {
        /* The load curve sets its own rates (the checks above on capacity and warm-up
         * hold for every one of them). */
        status = run_load_curve(&q, &service);
        arrival_fini(&arr);
        dist_fini(&service);
        return status;
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
                printf("  wrote %s/summary.csv, seeds.csv and scenario.ini\n", q.out_dir);
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
