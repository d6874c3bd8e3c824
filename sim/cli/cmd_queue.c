/*
 * cmd_queue: `capsim queue`, the G/G/c/K queueing mode on the command line: the options,
 * a scenario file under [queue] (flags win), the help and the exit status. The run, its
 * files and the load curve are sim/plan's (queuerun.h).
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/util.h"
#include "sim/cli/cli.h"
#include "sim/plan/queuerun.h"
#include "sim/plan/scenario.h"

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
static int apply_option(queue_scenario *q, opt_code code, const char *val, const char *label, char *err,
                        size_t errlen)
{
    uint64_t v;
    switch (code) {
    case O_ARRIVAL:
    case O_SERVICE: {
        char *dst = code == O_ARRIVAL ? q->arrival_text : q->service_text;
        if (strlen(val) >= sizeof q->arrival_text) {
            util_errf(err, errlen, "%s: value is longer than %zu characters", label,
                      sizeof q->arrival_text - 1);
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
/* What the scenario loader carries: the scenario, and which keys the file gave so far. */
typedef struct queue_ini {
    queue_scenario *q;
    unsigned char seen[O_N_SCENARIO];
} queue_ini;

static int on_scenario_key(void *user, const char *section, const char *name, const char *value,
                           char *err, size_t errlen)
{
    queue_ini *ini = user;
    queue_scenario *q = ini->q;
    if (strcmp(section, "queue") != 0) {
        util_errf(err, errlen, "key '%s' in section [%s]: expected section [queue]", name, section);
        return -1;
    }
    for (int k = 0; k < O_N_SCENARIO; k++) {
        if (strcmp(name, SCENARIO_KEYS[k]) == 0) {
            /* The later would win without a word. */
            if (ini->seen[k]) {
                util_errf(err, errlen, "key '%s' given twice (give it once)", name);
                return -1;
            }
            ini->seen[k] = 1;
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

/* Reads the command line: flags first into a list, then the scenario file (if one is
 * given), then the flags on top, so that flags win. Returns 0, 1 after --help, or -1
 * after printing a usage error. */
static int parse_args(int argc, char **argv, queue_scenario *q)
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
    cli_warn_repeats(CMD, argc, argv, 1, longopts, NULL);
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
        queue_ini ini = {.q = q};
        if (scenario_load(argv[optind], on_scenario_key, &ini, err, sizeof err) != 0) {
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

int cmd_queue(int argc, char **argv)
{
    queue_scenario q;
    queuerun_defaults(&q);
    int rc = parse_args(argc, argv, &q);
    if (rc != 0)
        return rc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    static const char *const files[] = {"summary.csv", "seeds.csv", "scenario.ini", "load.csv",
                                        NULL};
    struct outdir *od = NULL;
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)q.cfg.seed);
    if (q.out_dir) {
        int status = cli_out_open(&od, CMD, q.out_dir, "capsim", argc, argv, seed, files);
        if (status != CLI_EXIT_OK)
            return status;
    }
    /* The load curve's plot is drawn once the folder is settled (cli_out_finish). */
    plan_error e;
    int status = cli_plan_status(stderr, CMD, queuerun_run(&q, 0, stdout, stderr, &e), &e);
    return cli_out_finish(od, CMD, q.out_dir, status, q.load != NULL);
}
