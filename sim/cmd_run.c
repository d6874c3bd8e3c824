/*
 * cmd_run: `capsim run`, one serving scenario from flags and/or an INI file (flags win).
 *
 * Every setting is a long option; a scenario file sets the same ones as `key = value`
 * (with '_' for '-') in any section. The resolved scenario is written back as
 * DIR/scenario.ini so that `capsim run DIR/scenario.ini --out DIR2` reproduces the run
 * byte for byte. All output files are written under temporary names and renamed at the
 * end; a failed run leaves --out as it was.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/cli.h"
#include "sim/csvout.h"
#include "sim/deploy.h"
#include "sim/histo.h"
#include "sim/rng.h"
#include "sim/scenario.h"
#include "sim/serve.h"
#include "sim/spec.h"
#include "sim/util.h"

static const char *CMD = "run"; /* "sweep" when cmd_sweep runs */

/* Every setting, in the order written to scenario.ini and summary.csv. */
#define RUN_OPTIONS(X)                                                                             \
    X(model, "", "catalog model or config.json path")                                              \
    X(gpu, "", "catalog GPU")                                                                      \
    X(precision, "bf16", "weights: fp16, bf16, fp8, int8, int4")                                   \
    X(kv_precision, "auto", "KV cache: fp16, bf16, fp8, int8, or auto (16-bit)")                   \
    X(tp, "1", "GPUs per replica (tensor parallel)")                                               \
    X(tensor_cores, "on", "on or off (what-if)")                                                   \
    X(gpu_mem_util, "0.9", "share of GPU memory the engine may use")                               \
    X(block_size, "16", "tokens per KV block")                                                     \
    X(profile, "default", "step-time profile CSV, or default")                                     \
    X(step_model, "roofline", "roofline, or linear:a=A,b=B (seconds)")                             \
    X(scheduler, "continuous", "continuous or static")                                             \
    X(max_num_seqs, "256", "most sequences in a step")                                             \
    X(max_batched_tokens, "8192", "token budget per step")                                         \
    X(chunked_prefill, "on", "on or off")                                                          \
    X(replicas, "1", "model replicas")                                                             \
    X(router, "rr", "rr, random, jsq, least-tokens or p2c")                                        \
    X(arrival, "poisson:rate=1", "arrival process")                                                \
    X(prompt_len, "lognormal:mean=1000,cv=1", "prompt tokens distribution")                        \
    X(output_len, "lognormal:mean=200,cv=1", "output tokens distribution")                         \
    X(lengths_from, "", "take prompt and output lengths from this trace instead")                  \
    X(lengths_joint, "on", "on: draw whole (prompt, output) pairs; off: each independently")       \
    X(classes, "",                                                                                 \
      "request classes and shares, e.g. chat:0.7,document:0.3; each may have a [class.NAME] "      \
      "section")                                                                                   \
    X(requests, "auto",                                                                            \
      "requests per replication (auto: 2000, or a whole trace; a trace: at most this many, 0 = "   \
      "all)")                                                                                      \
    X(trace, "", "capsim CSV trace arrival_s,prompt_tokens,output_tokens[,class]")                 \
    X(trace_format, "auto", "auto, capsim, azure, burstgpt, mooncake or vllm")                     \
    X(trace_speedup, "1", "divide trace times by this (2 doubles the rate)")                       \
    X(trace_start, "0", "keep trace requests from this many seconds after the first")              \
    X(trace_end, "0", "... up to this many seconds (0 = to the end)")                              \
    X(skip_bad_rows, "off", "on: skip malformed trace rows (counted) instead of failing")          \
    X(strict_order, "off", "on: refuse trace timestamps out of order (else reorder)")              \
    X(users, "0", "closed loop: concurrent users, each waiting for its answer (0 = open)")         \
    X(think, "exp:mean=1", "closed loop: think time between a user's requests, s")                 \
    X(replications, "5", "independent replications")                                               \
    X(warmup, "0.1", "share of requests deleted as warm-up")                                       \
    X(seed, "1", "master seed")                                                                    \
    X(slo, "", "targets, e.g. ttft_p99=0.5,tpot_p99=0.05 (seconds)")                               \
    X(sample_interval, "1", "time-series interval, s (0 = none)")                                  \
    X(per_request, "off", "write requests.csv with --out (a flag; on/off in a scenario file)")     \
    X(jump, "on", "on: advance unchanging decode stretches in one event")

#define RUN_ENUM(name, dflt, help) OPT_##name,
typedef enum run_opt { RUN_OPTIONS(RUN_ENUM) OPT_COUNT } run_opt;
#undef RUN_ENUM
#define RUN_NAME(name, dflt, help) #name,
static const char *const OPT_KEY[OPT_COUNT] = {RUN_OPTIONS(RUN_NAME)};
#undef RUN_NAME
#define RUN_DFLT(name, dflt, help) dflt,
static const char *const OPT_DEFAULT[OPT_COUNT] = {RUN_OPTIONS(RUN_DFLT)};
#undef RUN_DFLT
#define RUN_HELP(name, dflt, help) help,
static const char *const OPT_HELP[OPT_COUNT] = {RUN_OPTIONS(RUN_HELP)};
#undef RUN_HELP

enum { OPT_OUT = OPT_COUNT, OPT_HELP_FLAG, OPT_SWEEP, OPT_JOBS, OPT_SHARD };

/* What `capsim sweep` adds to run's options. */
#define SWEEP_MAX_AXES 8
typedef struct sweep_opts {
    const char *axis[SWEEP_MAX_AXES]; /* "key=values" as given */
    int n_axes;
    const char *jobs, *shard;
} sweep_opts;

/* A [class.NAME] section of a scenario file: what differs for that class. */
typedef struct class_def {
    char name[32];
    char prompt_len[SCENARIO_MAX_VALUE + 1], output_len[SCENARIO_MAX_VALUE + 1];
    char slo[SCENARIO_MAX_VALUE + 1];
} class_def;

typedef struct run_cli {
    char value[OPT_COUNT][1024];
    const char *out_dir;
    class_def cls[REQSRC_MAX_CLASSES];
    uint32_t n_cls;
} run_cli;

/* "max_num_seqs" -> "max-num-seqs" */
static void flag_name(run_opt o, char *buf, size_t len)
{
    snprintf(buf, len, "%s", OPT_KEY[o]);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = '-';
}

static void sweep_usage(FILE *out);

static void usage(FILE *out)
{
    fprintf(out, "usage: capsim run [SCENARIO.ini] [OPTIONS] [--out DIR]\n"
                 "\n"
                 "Simulates serving a workload on a deployment: requests are routed to\n"
                 "replicas, batched by the scheduler, and stepped with the step-time model.\n"
                 "Prints vLLM's latency metrics (TTFT, TPOT, ITL, E2E), throughput, goodput,\n"
                 "utilisation and cost, each with a 95%% CI over replications. A scenario\n"
                 "file sets the same options as 'key = value' (with '_' for '-'); options on\n"
                 "the command line win.\n\noptions (default in brackets):\n");
    for (int o = 0; o < OPT_COUNT; o++) {
        char name[64];
        flag_name((run_opt)o, name, sizeof name);
        fprintf(out, "  --%-20s %s [%s]\n", name, OPT_HELP[o],
                OPT_DEFAULT[o][0] ? OPT_DEFAULT[o] : "none");
    }
    fprintf(out, "  --%-20s %s\n", "out DIR",
            "write summary.csv, timeseries.csv, seeds.csv, scenario.ini (and requests.csv)");
    fprintf(out, "\nexample: capsim run --model llama-3.1-8b --gpu h100-sxm --arrival "
                 "poisson:rate=20 --slo ttft_p99=0.5,tpot_p99=0.05 --out results/r1\n");
}

static int set_value(void *user, run_opt o, const char *val, char *err, size_t errlen)
{
    run_cli *r = user;
    if (strlen(val) > SCENARIO_MAX_VALUE) {
        util_errf(err, errlen, "%s: value longer than %d characters", OPT_KEY[o],
                  SCENARIO_MAX_VALUE);
        return -1;
    }
    snprintf(r->value[o], sizeof r->value[o], "%s", val);
    return 0;
}

/* A key of a scenario file: any option, in any section. */
static int on_scenario_key(void *user, const char *section, const char *name, const char *value,
                           char *err, size_t errlen)
{
    run_cli *r = user;
    if (strncmp(section, "class.", 6) == 0) {
        const char *cname = section + 6;
        uint32_t k = 0;
        while (k < r->n_cls && strcmp(r->cls[k].name, cname) != 0)
            k++;
        if (k == r->n_cls) {
            if (r->n_cls == REQSRC_MAX_CLASSES || strlen(cname) == 0 ||
                strlen(cname) >= sizeof r->cls[0].name) {
                util_errf(err, errlen, "section [%s]: too many classes or a bad class name",
                          section);
                return -1;
            }
            snprintf(r->cls[r->n_cls++].name, sizeof r->cls[0].name, "%s", cname);
        }
        class_def *d = &r->cls[k];
        char *dst = strcmp(name, "prompt_len") == 0   ? d->prompt_len
                    : strcmp(name, "output_len") == 0 ? d->output_len
                    : strcmp(name, "slo") == 0        ? d->slo
                                                      : NULL;
        if (dst == NULL) {
            util_errf(err, errlen,
                      "unknown key '%s' in [%s] (expected prompt_len, output_len or slo)", name,
                      section);
            return -1;
        }
        if (strlen(value) > SCENARIO_MAX_VALUE) {
            util_errf(err, errlen, "%s: value longer than %d characters", name, SCENARIO_MAX_VALUE);
            return -1;
        }
        snprintf(dst, SCENARIO_MAX_VALUE + 1, "%s", value);
        return 0;
    }
    for (int o = 0; o < OPT_COUNT; o++)
        if (strcmp(name, OPT_KEY[o]) == 0)
            return set_value(user, (run_opt)o, value, err, errlen);
    util_errf(err, errlen, "unknown key '%s' (see capsim run --help for the keys)", name);
    return -1;
}

/* Flags first into a list, then the scenario file, then the flags on top. Returns 0, 1
 * after --help, -1 after a usage error. */
static int parse_args(int argc, char **argv, run_cli *r, sweep_opts *sw)
{
    struct option longopts[OPT_COUNT + 6];
    static char names[OPT_COUNT][64];
    for (int o = 0; o < OPT_COUNT; o++) {
        flag_name((run_opt)o, names[o], sizeof names[o]);
        /* --per-request is a plain flag on the command line (on/off in a scenario). */
        int has_arg = o == OPT_per_request ? no_argument : required_argument;
        longopts[o] = (struct option){names[o], has_arg, NULL, o};
        snprintf(r->value[o], sizeof r->value[o], "%s", OPT_DEFAULT[o]);
    }
    longopts[OPT_COUNT] = (struct option){"out", required_argument, NULL, OPT_OUT};
    longopts[OPT_COUNT + 1] = (struct option){"help", no_argument, NULL, OPT_HELP_FLAG};
    longopts[OPT_COUNT + 2] = (struct option){NULL, 0, NULL, 0};
    if (sw) {
        longopts[OPT_COUNT + 2] = (struct option){"sweep", required_argument, NULL, OPT_SWEEP};
        longopts[OPT_COUNT + 3] = (struct option){"jobs", required_argument, NULL, OPT_JOBS};
        longopts[OPT_COUNT + 4] = (struct option){"shard", required_argument, NULL, OPT_SHARD};
        longopts[OPT_COUNT + 5] = (struct option){NULL, 0, NULL, 0};
    }
    typedef struct given {
        int code;
        const char *val;
    } given;
    given flags[256];
    size_t n_flags = 0;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (ch == 'h' || ch == OPT_HELP_FLAG) {
            if (sw)
                sweep_usage(stdout);
            else
                usage(stdout);
            return 1;
        }
        if (sw && ch == OPT_SWEEP) {
            if (sw->n_axes == SWEEP_MAX_AXES) {
                cli_usage_error(CMD, "more than %d --sweep axes", SWEEP_MAX_AXES);
                return -1;
            }
            sw->axis[sw->n_axes++] = optarg;
            continue;
        }
        if (sw && (ch == OPT_JOBS || ch == OPT_SHARD)) {
            *(ch == OPT_JOBS ? &sw->jobs : &sw->shard) = optarg;
            continue;
        }
        if (ch == '?' || ch == ':') {
            cli_bad_option(CMD, ch, argv[optind - 1]);
            return -1;
        }
        if (n_flags == sizeof flags / sizeof flags[0]) {
            cli_usage_error(CMD, "too many options");
            return -1;
        }
        flags[n_flags++] = (given){ch, optarg ? optarg : "on"};
    }
    if (optind < argc - 1) {
        cli_usage_error(CMD, "unexpected argument '%s' (at most one scenario file)",
                        argv[optind + 1]);
        return -1;
    }
    char err[1024];
    if (optind == argc - 1 &&
        scenario_load(argv[optind], on_scenario_key, r, err, sizeof err) != 0) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    for (size_t i = 0; i < n_flags; i++) {
        if (flags[i].code == OPT_OUT) {
            if (*flags[i].val == '\0') {
                cli_usage_error(CMD, "--out '': expected a directory name");
                return -1;
            }
            r->out_dir = flags[i].val;
        } else if (set_value(r, (run_opt)flags[i].code, flags[i].val, err, sizeof err) != 0) {
            cli_usage_error(CMD, "--%s", err);
            return -1;
        }
    }
    return 0;
}

/* --- turning values into a configuration -------------------------------------------------- */

typedef struct resolved {
    deploy dep;
    int have_dep;
    arrival_process arrivals;
    dist prompt, output, think;
    reqsrc_pairs pairs;
    int have_arr, have_prompt, have_output, have_think, have_pairs;
    reqsrc_mix mix;
    dist cls_prompt[REQSRC_MAX_CLASSES], cls_output[REQSRC_MAX_CLASSES];
    int have_cls_prompt[REQSRC_MAX_CLASSES], have_cls_output[REQSRC_MAX_CLASSES];
    serve_slo cls_slo[REQSRC_MAX_CLASSES];
    serve_config cfg;
} resolved;

static int on_off(const run_cli *r, run_opt o, int *out, char *err, size_t errlen)
{
    char name[64] = "--";
    flag_name(o, name + 2, sizeof name - 2);
    return cli_parse_on_off(name, r->value[o], out, err, errlen);
}

static int count_opt(const run_cli *r, run_opt o, uint64_t min, uint64_t max, uint64_t *out,
                     char *err, size_t errlen)
{
    char name[64] = "--";
    flag_name(o, name + 2, sizeof name - 2);
    return cli_parse_count(name, r->value[o], min, max, out, err, errlen);
}

static int real_opt(const run_cli *r, run_opt o, double min, double max, int max_open, double *out,
                    char *err, size_t errlen)
{
    char name[64] = "--";
    flag_name(o, name + 2, sizeof name - 2);
    return cli_parse_real(name, r->value[o], min, max, max_open, out, err, errlen);
}

/* "ttft_p99=0.5,tpot_p99=0.05,e2el_mean=10" */
static int parse_slo(const char *text, serve_slo *slo, char *err, size_t errlen)
{
    memset(slo, 0, sizeof *slo);
    if (*text == '\0')
        return 0;
    char buf[1100];
    snprintf(buf, sizeof buf, "slo:%s", text);
    spec s;
    if (spec_parse(buf, &s, err, errlen) != 0)
        return -1;
    static const char *const metric[SLO_COUNT] = {"ttft", "tpot", "e2el"};
    for (size_t i = 0; i < s.n_keys; i++) {
        char m[32], p[32];
        const char *us = strchr(s.key[i], '_');
        int k = -1;
        if (us != NULL && (size_t)(us - s.key[i]) < sizeof m) {
            snprintf(m, sizeof m, "%.*s", (int)(us - s.key[i]), s.key[i]);
            snprintf(p, sizeof p, "%s", us + 1);
            for (int j = 0; j < SLO_COUNT; j++)
                if (strcmp(m, metric[j]) == 0)
                    k = j;
        }
        double pct = -1;
        if (k >= 0) {
            if (strcmp(p, "mean") == 0)
                pct = 0;
            else if (strcmp(p, "p50") == 0)
                pct = 50;
            else if (strcmp(p, "p90") == 0)
                pct = 90;
            else if (strcmp(p, "p95") == 0)
                pct = 95;
            else if (strcmp(p, "p99") == 0)
                pct = 99;
            else if (strcmp(p, "p999") == 0)
                pct = 99.9;
        }
        double v;
        if (k < 0 || pct < 0) {
            util_errf(err, errlen,
                      "--slo '%s': unknown target '%s' (expected ttft, tpot or e2el with "
                      "_mean, _p50, _p90, _p95, _p99 or _p999, e.g. ttft_p99=0.5)",
                      text, s.key[i]);
            return -1;
        }
        if (util_parse_double(s.val[i], &v) != 0 || !(v > 0)) {
            util_errf(err, errlen, "--slo '%s': %s must be a number of seconds > 0, found '%s'",
                      text, s.key[i], s.val[i]);
            return -1;
        }
        slo->limit_s[k] = v;
        slo->pct[k] = pct;
    }
    return 0;
}

/* --classes and the [class.NAME] sections: shares, and for each class its lengths and SLO
 * (the workload's own where the class says nothing). */
static int resolve_classes(const run_cli *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    if (r->value[OPT_classes][0] == '\0') {
        if (r->n_cls > 0) {
            util_errf(err, errlen, "[class.%s] given but no classes = ... mix", r->cls[0].name);
            return -1;
        }
        return 0;
    }
    char why[1024];
    if (reqsrc_mix_parse(r->value[OPT_classes], &x->mix, why, sizeof why) != 0) {
        util_errf(err, errlen, "--classes %s", why);
        return -1;
    }
    if (c->wl.pairs) {
        util_errf(err, errlen, "--classes and --lengths-from: give one or the other");
        return -1;
    }
    for (uint32_t d = 0; d < r->n_cls; d++) {
        if (reqsrc_mix_find(&x->mix, r->cls[d].name) < 0) {
            util_errf(err, errlen, "[class.%s]: no such class in classes = %s", r->cls[d].name,
                      r->value[OPT_classes]);
            return -1;
        }
    }
    for (uint32_t k = 0; k < x->mix.n; k++) {
        const class_def *d = NULL;
        for (uint32_t j = 0; j < r->n_cls; j++)
            if (strcmp(r->cls[j].name, x->mix.name[k]) == 0)
                d = &r->cls[j];
        x->mix.prompt[k] = c->wl.prompt_len;
        x->mix.output[k] = c->wl.output_len;
        x->cls_slo[k] = c->slo;
        if (d && d->prompt_len[0]) {
            if (dist_parse(d->prompt_len, &x->cls_prompt[k], why, sizeof why) != 0) {
                util_errf(err, errlen, "[class.%s] prompt_len %s", d->name, why);
                return -1;
            }
            x->have_cls_prompt[k] = 1;
            x->mix.prompt[k] = &x->cls_prompt[k];
        }
        if (d && d->output_len[0]) {
            if (dist_parse(d->output_len, &x->cls_output[k], why, sizeof why) != 0) {
                util_errf(err, errlen, "[class.%s] output_len %s", d->name, why);
                return -1;
            }
            x->have_cls_output[k] = 1;
            x->mix.output[k] = &x->cls_output[k];
        }
        if (d && d->slo[0] && parse_slo(d->slo, &x->cls_slo[k], err, errlen) != 0)
            return -1;
    }
    c->wl.mix = &x->mix;
    c->class_slo = x->cls_slo;
    return 0;
}

static int resolve(const run_cli *r, resolved *x, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    serve_config *c = &x->cfg;
    uint64_t v;
    double d;
    int b;
    deploy_options o;
    deploy_options_default(&o);
    o.model = r->value[OPT_model][0] ? r->value[OPT_model] : NULL;
    o.gpu = r->value[OPT_gpu][0] ? r->value[OPT_gpu] : NULL;
    o.precision = r->value[OPT_precision];
    o.kv_precision = strcmp(r->value[OPT_kv_precision], "auto") ? r->value[OPT_kv_precision] : NULL;
    if (count_opt(r, OPT_tp, 1, 64, &v, err, errlen))
        return -1;
    o.tp = (int)v;
    if (on_off(r, OPT_tensor_cores, &o.tensor_cores, err, errlen) ||
        real_opt(r, OPT_gpu_mem_util, 0.01, 1, 0, &o.gpu_memory_utilization, err, errlen) ||
        count_opt(r, OPT_block_size, 1, 4096, &v, err, errlen))
        return -1;
    o.block_size = (uint32_t)v;
    o.profile = strcmp(r->value[OPT_profile], "default") ? r->value[OPT_profile] : NULL;
    o.step_model = strcmp(r->value[OPT_step_model], "roofline") ? r->value[OPT_step_model] : NULL;
    if (deploy_resolve(&o, &x->dep, err, errlen) != 0)
        return -1;
    x->have_dep = 1;
    c->step = &x->dep.step;
    c->kv_blocks = x->dep.mem.kv_blocks;
    c->block_size = o.block_size;
    c->gpus_per_replica = o.tp;
    c->price_usd_per_gpu_hour = x->dep.gpu.price_usd_per_hour;
    const char *sched = r->value[OPT_scheduler];
    if (strcmp(sched, "continuous") == 0) {
        c->sched = SERVE_CONTINUOUS;
    } else if (strcmp(sched, "static") == 0) {
        c->sched = SERVE_STATIC;
    } else {
        util_errf(err, errlen, "--scheduler '%s': expected continuous or static", sched);
        return -1;
    }
    if (count_opt(r, OPT_max_num_seqs, 1, 1u << 20, &v, err, errlen))
        return -1;
    c->max_num_seqs = (uint32_t)v;
    if (count_opt(r, OPT_max_batched_tokens, c->block_size, 1u << 24, &v, err, errlen))
        return -1;
    c->max_batched_tokens = (uint32_t)v;
    if (on_off(r, OPT_chunked_prefill, &b, err, errlen))
        return -1;
    c->chunked_prefill = b;
    if (count_opt(r, OPT_replicas, 1, 100000, &v, err, errlen))
        return -1;
    c->replicas = (uint32_t)v;
    int found = -1;
    for (int i = 0; i < ROUTER_COUNT; i++)
        if (strcmp(r->value[OPT_router], serve_router_names[i]) == 0)
            found = i;
    if (found < 0) {
        util_errf(err, errlen, "--router '%s': expected rr, random, jsq, least-tokens or p2c",
                  r->value[OPT_router]);
        return -1;
    }
    c->router = (serve_router)found;
    if (strcmp(r->value[OPT_requests], "auto") == 0)
        v = r->value[OPT_trace][0] ? 0 : 2000; /* a trace: all of it */
    else if (count_opt(r, OPT_requests, 0, UINT64_MAX / 4, &v, err, errlen))
        return -1;
    c->wl.requests = v;
    if (count_opt(r, OPT_users, 0, 10000000, &v, err, errlen))
        return -1;
    c->wl.users = (uint32_t)v;
    if (c->wl.users > 0 && r->value[OPT_trace][0]) {
        util_errf(err, errlen,
                  "--users and --trace: a closed loop draws its own requests; "
                  "give one or the other");
        return -1;
    }
    if (r->value[OPT_lengths_from][0]) {
        int joint;
        if (on_off(r, OPT_lengths_joint, &joint, err, errlen))
            return -1;
        char why[1024];
        if (reqsrc_pairs_load(r->value[OPT_lengths_from], joint, &x->pairs, why, sizeof why) != 0) {
            util_errf(err, errlen, "--lengths-from %s", why);
            return -1;
        }
        x->have_pairs = 1;
        c->wl.pairs = &x->pairs;
    }
    if (c->wl.users > 0) {
        char why[1024];
        if (dist_parse(r->value[OPT_think], &x->think, why, sizeof why) != 0) {
            util_errf(err, errlen, "--think %s", why);
            return -1;
        }
        x->have_think = 1;
        c->wl.think = &x->think;
    }
    if (r->value[OPT_trace][0]) {
        c->wl.trace_path = r->value[OPT_trace];
        trace_options *to = &c->wl.trace_opt;
        if (trace_format_parse(r->value[OPT_trace_format], &to->format) != 0) {
            util_errf(err, errlen,
                      "--trace-format '%s': expected auto, capsim, azure, "
                      "burstgpt, mooncake or vllm",
                      r->value[OPT_trace_format]);
            return -1;
        }
        if (real_opt(r, OPT_trace_speedup, 1e-9, INFINITY, 0, &to->speedup, err, errlen) ||
            real_opt(r, OPT_trace_start, 0, INFINITY, 0, &to->window_start_s, err, errlen) ||
            real_opt(r, OPT_trace_end, 0, INFINITY, 0, &to->window_end_s, err, errlen) ||
            on_off(r, OPT_skip_bad_rows, &to->skip_bad_rows, err, errlen) ||
            on_off(r, OPT_strict_order, &to->strict, err, errlen))
            return -1;
    } else {
        if (c->wl.requests == 0) {
            util_errf(err, errlen, "--requests 0: expected at least 1 without a --trace");
            return -1;
        }
        char why[1024];
        if (arrival_parse(r->value[OPT_arrival], &x->arrivals, why, sizeof why) != 0) {
            util_errf(err, errlen, "--arrival %s", why);
            return -1;
        }
        x->have_arr = 1;
        if (dist_parse(r->value[OPT_prompt_len], &x->prompt, why, sizeof why) != 0) {
            util_errf(err, errlen, "--prompt-len %s", why);
            return -1;
        }
        x->have_prompt = 1;
        if (dist_parse(r->value[OPT_output_len], &x->output, why, sizeof why) != 0) {
            util_errf(err, errlen, "--output-len %s", why);
            return -1;
        }
        x->have_output = 1;
        c->wl.arrivals = &x->arrivals;
        c->wl.prompt_len = &x->prompt;
        c->wl.output_len = &x->output;
    }
    if (count_opt(r, OPT_replications, 1, 10000, &v, err, errlen))
        return -1;
    c->replications = (uint32_t)v;
    if (real_opt(r, OPT_warmup, 0, 1, 1, &c->warmup_fraction, err, errlen) ||
        count_opt(r, OPT_seed, 0, UINT64_MAX, &c->seed, err, errlen) ||
        parse_slo(r->value[OPT_slo], &c->slo, err, errlen) || resolve_classes(r, x, err, errlen) ||
        real_opt(r, OPT_sample_interval, 0, INFINITY, 0, &d, err, errlen))
        return -1;
    if (d > 0 && d < 1e-3) {
        util_errf(err, errlen, "--sample-interval '%s': expected 0 (none) or at least 0.001 s",
                  r->value[OPT_sample_interval]);
        return -1;
    }
    c->sample_interval_s = d;
    if (on_off(r, OPT_jump, &c->jump, err, errlen) || on_off(r, OPT_per_request, &b, err, errlen))
        return -1;
    return 0;
}

static void resolved_fini(resolved *x)
{
    if (x->have_dep)
        deploy_fini(&x->dep);
    if (x->have_arr)
        arrival_fini(&x->arrivals);
    if (x->have_prompt)
        dist_fini(&x->prompt);
    if (x->have_output)
        dist_fini(&x->output);
    if (x->have_think)
        dist_fini(&x->think);
    if (x->have_pairs)
        reqsrc_pairs_free(&x->pairs);
    for (int k = 0; k < REQSRC_MAX_CLASSES; k++) {
        if (x->have_cls_prompt[k])
            dist_fini(&x->cls_prompt[k]);
        if (x->have_cls_output[k])
            dist_fini(&x->cls_output[k]);
    }
}

/* --- outputs ------------------------------------------------------------------------------ */

static void write_scenario(FILE *fp, const run_cli *r, const serve_result *res)
{
    fprintf(fp, "; capsim run scenario, every setting resolved.\n");
    fprintf(fp, "; Reproduce with: capsim run THIS_FILE --out DIR\n");
    fprintf(fp, "; Stream seeds (derived from seed): see seeds.csv; replication 0:");
    for (size_t i = 0; i < res->n_sources && i < 8; i++)
        fprintf(fp, " %lu", res->seeds[i]);
    fprintf(fp, "%s\n[run]\n", res->n_sources > 8 ? " ..." : "");
    for (int o = 0; o < OPT_COUNT; o++)
        fprintf(fp, "%s = %s\n", OPT_KEY[o], r->value[o]);
    for (uint32_t k = 0; k < r->n_cls; k++) {
        const class_def *d = &r->cls[k];
        fprintf(fp, "[class.%s]\n", d->name);
        if (d->prompt_len[0])
            fprintf(fp, "prompt_len = %s\n", d->prompt_len);
        if (d->output_len[0])
            fprintf(fp, "output_len = %s\n", d->output_len);
        if (d->slo[0])
            fprintf(fp, "slo = %s\n", d->slo);
    }
}

/* The summary header: every setting, then the deployment's figures, then every metric
 * with its CI. Classes (named in x, or none when x is NULL) add their columns. */
static void write_summary_header(csvout *c, const resolved *x, uint32_t n_classes)
{
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(c, OPT_KEY[o]);
    static const char *const extra_in[] = {"kv_blocks", "kv_tokens", "weight_gb_per_gpu",
                                           "cost_per_hour_usd"};
    for (size_t i = 0; i < sizeof extra_in / sizeof extra_in[0]; i++)
        csvout_str(c, extra_in[i]);
    for (int m = 0; m < SM_COUNT; m++) {
        char ci[80];
        snprintf(ci, sizeof ci, "%s_ci95", serve_metric_names[m]);
        csvout_str(c, serve_metric_names[m]);
        csvout_str(c, ci);
    }
    static const char *const tail[] = {"slo_ttft_met", "slo_tpot_met", "slo_e2el_met",
                                       "little_law_ok", "percentile_rel_error"};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        csvout_str(c, tail[i]);
    for (uint32_t k = 0; x && k < n_classes; k++) {
        static const char *const what[] = {"share_pct", "slo_attainment_pct"};
        for (int w = 0; w < 2; w++) {
            char col[96];
            snprintf(col, sizeof col, "class_%s_%s", x->mix.name[k], what[w]);
            csvout_str(c, col);
            snprintf(col, sizeof col, "class_%s_%s_ci95", x->mix.name[k], what[w]);
            csvout_str(c, col);
        }
    }
}

/* The values of one run, matching write_summary_header. With x or res NULL (a point that
 * could not run), the settings and empty figures. */
static void write_summary_values(csvout *c, const run_cli *r, const resolved *x,
                                 const serve_result *res, uint32_t n_classes)
{
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(c, r->value[o]);
    if (x == NULL || res == NULL) {
        int empty = 4 + 2 * SM_COUNT + 5 + 4 * (int)n_classes;
        for (int i = 0; i < empty; i++)
            csvout_str(c, "");
        return;
    }
    csvout_u64(c, x->dep.mem.kv_blocks);
    csvout_u64(c, x->dep.mem.kv_tokens);
    csvout_num(c, x->dep.mem.weight_bytes_per_gpu / 1e9);
    csvout_num(c, res->cost_per_hour_usd);
    for (int m = 0; m < SM_COUNT; m++) {
        csvout_num(c, res->metric[m].mean);
        csvout_num(c, res->metric[m].half_width);
    }
    for (int k = 0; k < SLO_COUNT; k++) {
        if (res->slo_met[k] < 0)
            csvout_str(c, "");
        else
            csvout_u64(c, (uint64_t)res->slo_met[k]);
    }
    if (res->little_checked)
        csvout_u64(c, (uint64_t)res->little_ok);
    else
        csvout_str(c, "");
    csvout_num(c, HISTO_REL_ERROR);
    for (uint32_t k = 0; k < n_classes; k++) {
        csvout_num(c, res->class_share[k].mean);
        csvout_num(c, res->class_share[k].half_width);
        csvout_num(c, res->class_attainment[k].mean);
        csvout_num(c, res->class_attainment[k].half_width);
    }
}

static void write_summary(FILE *fp, const run_cli *r, const resolved *x, const serve_result *res)
{
    csvout c;
    csvout_init(&c, fp);
    write_summary_header(&c, x, res->n_classes);
    csvout_end_row(&c);
    write_summary_values(&c, r, x, res, res->n_classes);
    csvout_end_row(&c);
}

static void write_seeds(FILE *fp, const serve_result *res, uint64_t master)
{
    fprintf(fp, "master_seed,replication,source,seed\n");
    for (size_t i = 0; i < res->n_seeds; i++) {
        size_t src = i % res->n_sources;
        char name[48];
        if (src == 0)
            snprintf(name, sizeof name, "arrivals");
        else if (src == 1)
            snprintf(name, sizeof name, "lengths");
        else if (src == 2)
            snprintf(name, sizeof name, "routing");
        else
            snprintf(name, sizeof name, "noise_replica_%zu", src - 3);
        fprintf(fp, "%llu,%zu,%s,%lu\n", (unsigned long long)master, i / res->n_sources, name,
                res->seeds[i]);
    }
}

static void print_row(const serve_result *res, serve_metric m)
{
    printf("  %-32s %14.6g %12.3g  %s\n", serve_metric_names[m], res->metric[m].mean,
           res->metric[m].half_width, serve_metric_units[m]);
}

static void print_table(const run_cli *r, const resolved *x, const serve_result *res)
{
    const serve_config *c = &x->cfg;
    const deploy *d = &x->dep;
    printf("capsim run: %s on %u replica%s of %d x %s (weights %s, KV %s), %s batching, "
           "router %s\n",
           d->model.name, c->replicas, c->replicas == 1 ? "" : "s", d->tp, d->gpu.name,
           precision_name(d->weights), precision_name(d->kv),
           c->sched == SERVE_STATIC ? "static" : "continuous", serve_router_names[c->router]);
    if (d->note[0])
        printf("  note: %s\n", d->note);
    printf("  KV cache per replica: %llu blocks of %u tokens (%llu tokens); weights %.2f GB "
           "per GPU\n",
           (unsigned long long)d->mem.kv_blocks, c->block_size,
           (unsigned long long)d->mem.kv_tokens, d->mem.weight_bytes_per_gpu / 1e9);
    if (c->wl.trace_path)
        printf("  workload: trace %s\n", c->wl.trace_path);
    else if (c->wl.users > 0)
        printf("  workload: closed loop, %u users thinking %s between requests; prompt %s, "
               "output %s\n",
               c->wl.users, r->value[OPT_think], r->value[OPT_prompt_len],
               r->value[OPT_output_len]);
    else
        printf("  workload: %s, prompt %s, output %s\n", r->value[OPT_arrival],
               r->value[OPT_prompt_len], r->value[OPT_output_len]);
    printf("  %u replications x %llu requests, first %.3g%% deleted as warm-up; master seed "
           "%llu\n\n",
           c->replications, (unsigned long long)(res->requests_total / c->replications),
           100 * c->warmup_fraction, (unsigned long long)c->seed);
    printf("  %-32s %14s %12s  %s\n", "figure", "value", "+-95% CI", "unit");
    static const serve_metric shown[] = {SM_request_throughput,
                                         SM_output_throughput,
                                         SM_total_token_throughput,
                                         SM_mean_ttft_ms,
                                         SM_p50_ttft_ms,
                                         SM_p99_ttft_ms,
                                         SM_mean_tpot_ms,
                                         SM_p50_tpot_ms,
                                         SM_p99_tpot_ms,
                                         SM_mean_itl_ms,
                                         SM_p99_itl_ms,
                                         SM_mean_e2el_ms,
                                         SM_p99_e2el_ms,
                                         SM_mean_queue_ms,
                                         SM_goodput,
                                         SM_slo_attainment_pct,
                                         SM_gpu_utilization,
                                         SM_mean_running_batch,
                                         SM_max_running_batch,
                                         SM_mean_kv_occupancy,
                                         SM_max_kv_occupancy,
                                         SM_preemptions_per_request,
                                         SM_rejected_fraction,
                                         SM_cost_per_million_output_tokens};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        print_row(res, shown[i]);
    printf("  %-32s %14.6g %12s  USD/h\n", "cost_per_hour", res->cost_per_hour_usd, "");
    for (int k = 0; k < SLO_COUNT; k++) {
        if (res->slo_met[k] < 0)
            continue;
        serve_metric m = serve_slo_target_metric((serve_slo_metric)k, c->slo.pct[k]);
        printf("  SLO %s <= %g ms: %s (%s = %.4g ms)\n", serve_metric_names[m],
               1e3 * c->slo.limit_s[k], res->slo_met[k] ? "met" : "NOT met", serve_metric_names[m],
               res->metric[m].mean);
    }
    for (uint32_t k = 0; k < res->n_classes; k++)
        printf("  class %-12s %5.1f%% of requests (+-%.2g), SLO attainment %.4g%% +- %.3g\n",
               x->mix.name[k], res->class_share[k].mean, res->class_share[k].half_width,
               res->class_attainment[k].mean, res->class_attainment[k].half_width);
    printf("\n  All figures in the summary: p50/p90/p95/p99/p99.9 of TTFT, TPOT, ITL, E2E.\n");
    printf("  Percentiles from log-bucketed histograms (relative error <= %.2g%%).\n",
           100 * HISTO_REL_ERROR);
    if (res->little_checked)
        printf("  Little's law: L = %.4g +- %.2g, lambda*W = %.4g +- %.2g: %s\n",
               res->metric[SM_mean_in_system].mean, res->metric[SM_mean_in_system].half_width,
               res->metric[SM_lambda_w].mean, res->metric[SM_lambda_w].half_width,
               res->little_ok ? "agree" : "DISAGREE");
    printf("  %llu steps and %llu events simulated.\n", (unsigned long long)res->steps,
           (unsigned long long)res->events);
}

typedef struct outputs {
    util_atomic_file f[5]; /* summary, seeds, scenario, requests, timeseries */
    int open[5];
    int created_dir;
} outputs;

static const char *const OUT_NAME[5] = {"summary.csv", "seeds.csv", "scenario.ini", "requests.csv",
                                        "timeseries.csv"};

static int outputs_open(outputs *o, const char *dir, int per_request, int timeseries, char *err,
                        size_t errlen)
{
    memset(o, 0, sizeof *o);
    struct stat st;
    o->created_dir = stat(dir, &st) != 0;
    if (util_mkdir_p(dir, err, errlen) != 0)
        return -1;
    for (int i = 0; i < 5; i++) {
        if ((i == 3 && !per_request) || (i == 4 && !timeseries))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, OUT_NAME[i]);
        if (util_atomic_open(&o->f[i], path, err, errlen) != 0)
            return -1;
        o->open[i] = 1;
    }
    return 0;
}

static void outputs_abort(outputs *o, const char *dir)
{
    for (int i = 0; i < 5; i++)
        if (o->open[i])
            util_atomic_abort(&o->f[i]);
    if (o->created_dir)
        rmdir(dir);
}

static int outputs_commit(outputs *o, char *err, size_t errlen)
{
    int rc = util_atomic_commit_all(o->f, 5, err, errlen);
    if (rc == 0)
        memset(o->open, 0, sizeof o->open);
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_cli r;
    memset(&r, 0, sizeof r);
    int prc = parse_args(argc, argv, &r, NULL);
    if (prc != 0)
        return prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    char err[2048];
    resolved x;
    if (resolve(&r, &x, err, sizeof err) != 0) {
        resolved_fini(&x);
        return cli_usage_error(CMD, "%s", err);
    }
    int per_request = strcmp(r.value[OPT_per_request], "on") == 0 ||
                      strcmp(r.value[OPT_per_request], "true") == 0 ||
                      strcmp(r.value[OPT_per_request], "1") == 0;
    if (per_request && r.out_dir == NULL)
        fprintf(stderr, "capsim run: warning: --per-request writes requests.csv into --out DIR; "
                        "no --out was given\n");
    outputs out;
    memset(&out, 0, sizeof out);
    int timeseries = x.cfg.sample_interval_s > 0;
    if (r.out_dir) {
        if (outputs_open(&out, r.out_dir, per_request, timeseries, err, sizeof err) != 0) {
            outputs_abort(&out, r.out_dir);
            resolved_fini(&x);
            fprintf(stderr, "capsim run: %s\n", err);
            return CLI_EXIT_FAIL;
        }
        if (per_request) {
            x.cfg.requests_out = out.f[3].fp;
            fprintf(x.cfg.requests_out, "replication,request,class,arrival_s,prompt_tokens,"
                                        "output_tokens,replica,queue_ms,ttft_ms,tpot_ms,"
                                        "e2el_ms,preemptions,slo_met\n");
        }
        if (timeseries) {
            x.cfg.timeseries_out = out.f[4].fp;
            fprintf(x.cfg.timeseries_out, "time_s,waiting,running,busy_replicas,kv_occupancy,"
                                          "completions_per_s,output_tokens_per_s\n");
        }
    }
    serve_result res;
    int status = CLI_EXIT_OK;
    if (serve_run(&x.cfg, &res, err, sizeof err) != 0) {
        status = cli_usage_error(CMD, "%s", err);
        if (r.out_dir)
            outputs_abort(&out, r.out_dir);
        resolved_fini(&x);
        return status;
    }
    if (r.out_dir) {
        write_summary(out.f[0].fp, &r, &x, &res);
        write_seeds(out.f[1].fp, &res, x.cfg.seed);
        write_scenario(out.f[2].fp, &r, &res);
        if (outputs_commit(&out, err, sizeof err) != 0) {
            outputs_abort(&out, r.out_dir);
            fprintf(stderr, "capsim run: %s\n", err);
            status = CLI_EXIT_FAIL;
        }
    }
    if (status == CLI_EXIT_OK) {
        print_table(&r, &x, &res);
        if (r.out_dir)
            printf("  wrote %s/: summary.csv, seeds.csv, scenario.ini%s%s\n", r.out_dir,
                   timeseries ? ", timeseries.csv" : "", per_request ? ", requests.csv" : "");
        if (res.rejected)
            fprintf(stderr,
                    "capsim run: warning: %llu requests could never run and were refused "
                    "(a whole sequence larger than the KV cache, or a prompt longer than "
                    "--max-batched-tokens without chunked prefill); they count as SLO misses\n",
                    (unsigned long long)res.rejected);
        if (res.trace_rows_reordered)
            fprintf(stderr,
                    "capsim run: warning: %llu trace rows were out of time order and "
                    "have been sorted (--strict-order on refuses them)\n",
                    (unsigned long long)res.trace_rows_reordered);
        if (res.trace_rows_bad)
            fprintf(stderr,
                    "capsim run: warning: %llu malformed trace rows skipped; the first: "
                    "%s\n",
                    (unsigned long long)res.trace_rows_bad, res.trace_first_bad);
        if (res.little_checked && !res.little_ok)
            fprintf(stderr, "capsim run: warning: Little's law check failed: L and lambda*W "
                            "differ beyond their intervals; the run may be too short or "
                            "overloaded\n");
    }
    serve_result_fini(&res);
    resolved_fini(&x);
    return status;
}

/* --- capsim sweep and capsim merge ---------------------------------------------------- */

static void sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: capsim sweep [SCENARIO.ini] [RUN OPTIONS] --sweep KEY=VALUES [--sweep ...]\n"
            "                    [--jobs N] [--shard I/N] --out DIR\n"
            "       capsim merge --out DIR SHARD_DIR...\n"
            "\n"
            "Runs capsim run at every point of a grid and writes DIR/summary.csv, one row per\n"
            "point: its index, status (ok, or error with the reason, e.g. a model that does not\n"
            "fit), every setting and every figure. KEY is any run option (tp, gpu, precision,\n"
            "replicas, ...) or rate, which sets rate= in the arrival process. VALUES is a list\n"
            "a,b,c or a range first:last:step. The first --sweep varies slowest.\n"
            "\n"
            "Each point's seed is derived from the master seed and the point's index, so the\n"
            "rows do not depend on --jobs (processes run in parallel, default: the cores) or on\n"
            "sharding: --shard I/N runs points I-1, I-1+N, ... and capsim merge joins shard\n"
            "folders into the same summary.csv the whole sweep writes.\n"
            "\n"
            "example: capsim sweep --model llama-3.1-8b --gpu h100-sxm --requests 500 \\\n"
            "           --sweep rate=2:20:2 --sweep precision=bf16,fp8 --out results/sweep\n");
}

#define SWEEP_MAX_VALUES 4096

typedef struct sweep_axis {
    run_opt key;
    int is_rate;
    char name[64];
    char (*values)[64];
    size_t n;
} sweep_axis;

static int parse_axis(const char *text, sweep_axis *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text || (size_t)(eq - text) >= sizeof a->name || eq[1] == '\0') {
        util_errf(err, errlen, "--sweep '%s': expected KEY=VALUES (a,b,c or first:last:step)",
                  text);
        return -1;
    }
    snprintf(a->name, sizeof a->name, "%.*s", (int)(eq - text), text);
    for (char *p = a->name; *p; p++)
        if (*p == '-')
            *p = '_';
    a->is_rate = strcmp(a->name, "rate") == 0;
    if (!a->is_rate) {
        int found = -1;
        for (int o = 0; o < OPT_COUNT; o++)
            if (strcmp(a->name, OPT_KEY[o]) == 0)
                found = o;
        if (found < 0 || found == OPT_seed) {
            util_errf(err, errlen,
                      "--sweep '%s': '%s' is not a run option (expected rate or "
                      "an option of capsim run other than seed)",
                      text, a->name);
            return -1;
        }
        a->key = (run_opt)found;
    }
    a->values = calloc(SWEEP_MAX_VALUES, sizeof *a->values);
    if (a->values == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    const char *v = eq + 1;
    double lo, hi, step;
    char tail;
    if (strchr(v, ',') == NULL && sscanf(v, "%lf:%lf:%lf%c", &lo, &hi, &step, &tail) == 3) {
        if (!(step > 0) || !(hi >= lo) || (hi - lo) / step >= SWEEP_MAX_VALUES) {
            util_errf(err, errlen,
                      "--sweep '%s': a range first:last:step needs step > 0, "
                      "last >= first and at most %d values",
                      text, SWEEP_MAX_VALUES);
            return -1;
        }
        size_t n = (size_t)floor((hi - lo) / step + 1e-9) + 1;
        for (size_t i = 0; i < n; i++)
            util_fmt_exact(a->values[a->n++], sizeof a->values[0], lo + (double)i * step);
        return 0;
    }
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (len == 0 || len >= sizeof a->values[0] || a->n == SWEEP_MAX_VALUES) {
            util_errf(err, errlen, "--sweep '%s': empty, too long or too many values", text);
            return -1;
        }
        snprintf(a->values[a->n++], sizeof a->values[0], "%.*s", (int)len, v);
        if (!comma)
            break;
        v = comma + 1;
    }
    return 0;
}

/* Sets rate=V in an arrival spec that has a rate. */
static int set_rate(char *arr, size_t len, const char *value, char *err, size_t errlen)
{
    char *at = strstr(arr, "rate=");
    while (at && at != arr && at[-1] != ':' && at[-1] != ',')
        at = strstr(at + 1, "rate=");
    if (at == NULL) {
        util_errf(err, errlen, "--sweep rate: the arrival process '%s' has no rate= key", arr);
        return -1;
    }
    char *end = strchr(at, ',');
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", end ? end : "");
    int w = snprintf(at, len - (size_t)(at - arr), "rate=%s%s", value, rest);
    if (w < 0 || (size_t)w >= len - (size_t)(at - arr)) {
        util_errf(err, errlen, "--sweep rate: arrival arr too long");
        return -1;
    }
    return 0;
}

/* One grid point: settings from the base plus the point's values and seed; runs it and
 * writes "index,status,reason,<summary values>" into out. */
static void run_point(const run_cli *base, const sweep_axis *ax, int n_axes, uint64_t p,
                      uint64_t master, FILE *out)
{
    run_cli *r = malloc(sizeof *r);
    char err[2048] = "";
    int ok = r != NULL;
    if (ok) {
        *r = *base;
        uint64_t rest = p;
        for (int i = n_axes - 1; i >= 0 && ok; i--) {
            const char *v = ax[i].values[rest % ax[i].n];
            rest /= ax[i].n;
            if (ax[i].is_rate)
                ok = set_rate(r->value[OPT_arrival], sizeof r->value[OPT_arrival], v, err,
                              sizeof err) == 0;
            else
                snprintf(r->value[ax[i].key], sizeof r->value[0], "%s", v);
        }
        snprintf(r->value[OPT_seed], sizeof r->value[0], "%llu",
                 (unsigned long long)sim_seed_mix(master, p));
        snprintf(r->value[OPT_sample_interval], sizeof r->value[0], "0");
        snprintf(r->value[OPT_per_request], sizeof r->value[0], "off");
    }
    resolved x;
    serve_result res;
    int have_x = 0, have_res = 0;
    if (ok) {
        ok = resolve(r, &x, err, sizeof err) == 0;
        have_x = 1;
    }
    if (ok) {
        ok = serve_run(&x.cfg, &res, err, sizeof err) == 0;
        have_res = ok;
    }
    csvout c;
    csvout_init(&c, out);
    csvout_u64(&c, p);
    csvout_str(&c, ok ? "ok" : "error");
    csvout_str(&c, ok ? "" : err);
    write_summary_values(&c, r ? r : base, have_res ? &x : NULL, have_res ? &res : NULL, 0);
    csvout_end_row(&c);
    if (have_res)
        serve_result_fini(&res);
    if (have_x)
        resolved_fini(&x);
    free(r);
}

typedef struct sweep_row {
    uint64_t p;
    char *text;
} sweep_row;

static int cmp_row(const void *a, const void *b)
{
    const sweep_row *x = a, *y = b;
    return (x->p > y->p) - (x->p < y->p);
}

/* Reads "index,..." lines from fp into rows (appending). */
static int read_rows(FILE *fp, sweep_row **rows, size_t *n, size_t *cap)
{
    char *line = NULL;
    size_t lcap = 0;
    ssize_t len;
    while ((len = getline(&line, &lcap, fp)) > 0) {
        if (*n == *cap) {
            *cap = *cap ? 2 * *cap : 256;
            sweep_row *q = realloc(*rows, *cap * sizeof *q);
            if (q == NULL) {
                free(line);
                return -1;
            }
            *rows = q;
        }
        (*rows)[*n].p = strtoull(line, NULL, 10);
        (*rows)[*n].text = strdup(line);
        if ((*rows)[*n].text == NULL) {
            free(line);
            return -1;
        }
        (*n)++;
    }
    free(line);
    return 0;
}

static void write_sweep_header(FILE *fp)
{
    csvout c;
    csvout_init(&c, fp);
    csvout_str(&c, "point");
    csvout_str(&c, "status");
    csvout_str(&c, "reason");
    write_summary_header(&c, NULL, 0);
    csvout_end_row(&c);
}

/* Sorts rows by point and writes DIR/summary.csv atomically. */
static int write_sweep_summary(const char *dir, sweep_row *rows, size_t n, char *err, size_t errlen)
{
    if (util_mkdir_p(dir, err, errlen) != 0)
        return -1;
    qsort(rows, n, sizeof *rows, cmp_row);
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    util_atomic_file f;
    if (util_atomic_open(&f, path, err, errlen) != 0)
        return -1;
    write_sweep_header(f.fp);
    for (size_t i = 0; i < n; i++)
        fputs(rows[i].text, f.fp);
    return util_atomic_commit(&f, err, errlen);
}

int cmd_sweep(int argc, char **argv)
{
    CMD = "sweep";
    run_cli base;
    memset(&base, 0, sizeof base);
    sweep_opts sw;
    memset(&sw, 0, sizeof sw);
    int prc = parse_args(argc, argv, &base, &sw);
    if (prc != 0)
        return prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    char err[2048];
    if (sw.n_axes == 0)
        return cli_usage_error(CMD, "no --sweep KEY=VALUES given");
    if (base.out_dir == NULL)
        return cli_usage_error(CMD, "--out DIR is required");
    sweep_axis ax[SWEEP_MAX_AXES];
    memset(ax, 0, sizeof ax);
    uint64_t total = 1;
    int status = CLI_EXIT_OK;
    for (int i = 0; i < sw.n_axes; i++) {
        if (parse_axis(sw.axis[i], &ax[i], err, sizeof err) != 0) {
            status = cli_usage_error(CMD, "%s", err);
            goto done;
        }
        total *= ax[i].n;
        if (total > 1000000) {
            status = cli_usage_error(CMD, "the grid has more than 10^6 points");
            goto done;
        }
    }
    uint64_t jobs = (uint64_t)sysconf(_SC_NPROCESSORS_ONLN), shard_i = 1, shard_n = 1;
    if (jobs < 1)
        jobs = 1;
    if (sw.jobs && cli_parse_count("--jobs", sw.jobs, 1, 256, &jobs, err, sizeof err) != 0) {
        status = cli_usage_error(CMD, "%s", err);
        goto done;
    }
    if (sw.shard) {
        char tail;
        unsigned long long i = 0, n = 0;
        if (sscanf(sw.shard, "%llu/%llu%c", &i, &n, &tail) != 2 || n < 1 || i < 1 || i > n) {
            status = cli_usage_error(CMD, "--shard '%s': expected I/N with 1 <= I <= N", sw.shard);
            goto done;
        }
        shard_i = i;
        shard_n = n;
    }
    /* Check the base scenario once, so that a mistake common to every point is one message
     * (not fitting in memory excepted: a swept knob such as tp may fix it). */
    {
        resolved x;
        int rc = resolve(&base, &x, err, sizeof err);
        resolved_fini(&x);
        if (rc != 0 && strstr(err, "needs") == NULL) {
            status = cli_usage_error(CMD, "%s", err);
            goto done;
        }
    }
    uint64_t master;
    if (util_parse_u64(base.value[OPT_seed], &master) != 0) {
        status = cli_usage_error(CMD, "--seed '%s': expected a whole number", base.value[OPT_seed]);
        goto done;
    }
    /* Workers: child w runs the shard's points k with k % jobs == w into a part file. */
    char tmpdir[4096];
    if (util_mkdir_p(base.out_dir, err, sizeof err) != 0) {
        fprintf(stderr, "capsim sweep: %s\n", err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    snprintf(tmpdir, sizeof tmpdir, "%s/.sweep-parts-%ld", base.out_dir, (long)getpid());
    if (util_mkdir_p(tmpdir, err, sizeof err) != 0) {
        fprintf(stderr, "capsim sweep: %s\n", err);
        status = CLI_EXIT_FAIL;
        goto done;
    }
    uint64_t mine = 0;
    for (uint64_t p = shard_i - 1; p < total; p += shard_n)
        mine++;
    if (jobs > mine)
        jobs = mine ? mine : 1;
    int tty = isatty(2);
    fflush(NULL);
    pid_t pids[256];
    for (uint64_t w = 0; w < jobs; w++) {
        pid_t pid = fork();
        if (pid == 0) {
            char path[4200];
            snprintf(path, sizeof path, "%s/part-%llu", tmpdir, (unsigned long long)w);
            FILE *fp = fopen(path, "w");
            if (fp == NULL)
                _exit(3);
            uint64_t k = 0;
            for (uint64_t p = shard_i - 1; p < total; p += shard_n, k++) {
                if (k % jobs != w)
                    continue;
                run_point(&base, ax, sw.n_axes, p, master, fp);
                fflush(fp);
            }
            _exit(fclose(fp) == 0 ? 0 : 3);
        }
        pids[w] = pid;
        if (pid < 0) {
            fprintf(stderr, "capsim sweep: cannot start a worker process\n");
            status = CLI_EXIT_FAIL;
            jobs = w;
            break;
        }
    }
    /* Progress on a terminal: points written so far, rate and time left. */
    struct timespec t0, now;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (;;) {
        int alive = 0;
        for (uint64_t w = 0; w < jobs; w++) {
            if (pids[w] > 0) {
                int st;
                pid_t got = waitpid(pids[w], &st, WNOHANG);
                if (got == 0)
                    alive = 1;
                else {
                    if (got < 0 || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
                        status = CLI_EXIT_FAIL;
                    pids[w] = 0;
                }
            }
        }
        if (tty) {
            uint64_t done_n = 0;
            for (uint64_t w = 0; w < jobs; w++) {
                char path[4200];
                snprintf(path, sizeof path, "%s/part-%llu", tmpdir, (unsigned long long)w);
                FILE *fp = fopen(path, "r");
                int ch;
                while (fp && (ch = getc(fp)) != EOF)
                    done_n += ch == '\n';
                if (fp)
                    fclose(fp);
            }
            clock_gettime(CLOCK_MONOTONIC, &now);
            double el =
                (double)(now.tv_sec - t0.tv_sec) + 1e-9 * (double)(now.tv_nsec - t0.tv_nsec);
            double rate = el > 0 ? (double)done_n / el : 0;
            fprintf(stderr, "\r  %llu/%llu points, %.2g points/s, %.0f s left   ",
                    (unsigned long long)done_n, (unsigned long long)mine, rate,
                    rate > 0 ? (double)(mine - done_n) / rate : 0.0);
        }
        if (!alive)
            break;
        struct timespec ts = {0, 200000000};
        nanosleep(&ts, NULL);
    }
    if (tty)
        fprintf(stderr, "\n");
    sweep_row *rows = NULL;
    size_t n = 0, cap = 0;
    for (uint64_t w = 0; w < jobs; w++) {
        char path[4200];
        snprintf(path, sizeof path, "%s/part-%llu", tmpdir, (unsigned long long)w);
        FILE *fp = fopen(path, "r");
        if (fp == NULL || read_rows(fp, &rows, &n, &cap) != 0)
            status = CLI_EXIT_FAIL;
        if (fp)
            fclose(fp);
        remove(path);
    }
    rmdir(tmpdir);
    if (status == CLI_EXIT_OK && n != mine) {
        fprintf(stderr, "capsim sweep: %zu of %llu points finished\n", n, (unsigned long long)mine);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK && write_sweep_summary(base.out_dir, rows, n, err, sizeof err) != 0) {
        fprintf(stderr, "capsim sweep: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    size_t failed = 0;
    for (size_t i = 0; i < n; i++) {
        failed += strstr(rows[i].text, ",error,") != NULL;
        free(rows[i].text);
    }
    free(rows);
    if (status == CLI_EXIT_OK)
        printf("capsim sweep: %llu points (shard %llu/%llu of %llu), %zu could not run; wrote "
               "%s/summary.csv\n",
               (unsigned long long)mine, (unsigned long long)shard_i, (unsigned long long)shard_n,
               (unsigned long long)total, failed, base.out_dir);
done:
    for (int i = 0; i < SWEEP_MAX_AXES; i++)
        free(ax[i].values);
    return status;
}

int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int first = 1;
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        sweep_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 3 && strcmp(argv[1], "--out") == 0) {
        out = argv[2];
        first = 3;
    }
    if (out == NULL || first >= argc)
        return cli_usage_error("merge", "expected --out DIR SHARD_DIR...");
    sweep_row *rows = NULL;
    size_t n = 0, cap = 0;
    char header[65536] = "", err[1024];
    int status = CLI_EXIT_OK;
    for (int i = first; i < argc && status == CLI_EXIT_OK; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/summary.csv", argv[i]);
        FILE *fp = fopen(path, "r");
        char h[65536];
        if (fp == NULL || fgets(h, sizeof h, fp) == NULL) {
            status = cli_usage_error("merge", "%s: cannot read a sweep summary", path);
        } else if (header[0] && strcmp(h, header) != 0) {
            status =
                cli_usage_error("merge", "%s: its header differs from the first shard's", path);
        } else {
            snprintf(header, sizeof header, "%s", h);
            if (read_rows(fp, &rows, &n, &cap) != 0)
                status = CLI_EXIT_FAIL;
        }
        if (fp)
            fclose(fp);
    }
    for (size_t i = 1; status == CLI_EXIT_OK && i < n; i++) {
        qsort(rows, n, sizeof *rows, cmp_row);
        if (rows[i].p == rows[i - 1].p) {
            status = cli_usage_error("merge", "point %llu appears in two shards",
                                     (unsigned long long)rows[i].p);
        }
    }
    if (status == CLI_EXIT_OK && write_sweep_summary(out, rows, n, err, sizeof err) != 0) {
        fprintf(stderr, "capsim merge: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK)
        printf("capsim merge: %zu points from %d shards into %s/summary.csv\n", n, argc - first,
               out);
    for (size_t i = 0; i < n; i++)
        free(rows[i].text);
    free(rows);
    return status;
}
