/*
 * cmd_calibrate: `capsim calibrate`, a hardware profile from the user's own benchmark
 * results (vLLM, AIPerf, genai-perf, GuideLLM, a plain CSV, or Splitwise-style per-step
 * timings), with a fit report and, with --validate, a replay of the measured workload
 * through the serving simulation.
 *
 * The deployment that was measured is given with run's options (--model, --gpu,
 * --precision, --tp, ...). Its step-time model (the measured kernels where they price its
 * steps, else the roofline of the default profile or --profile) starts from its
 * coefficients and models/calibrate.c fits them; a fit the model cannot explain is
 * reported as such and writes no coefficients unless --force.
 *
 * Here are the options, the checks that choose what to calibrate, the help and the exit
 * status; the calibration is sim/plan's (calibration.h, and fitrun.h for per-step files).
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/bench.h"
#include "models/calibrate.h"
#include "sim/base/util.h"
#include "sim/base/spool.h"
#include "sim/cli/cli.h"
#include "sim/cli/runflags.h"
#include "sim/plan/calibration.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/fitrun.h"

static const char *CMD = "calibrate";

#define CAL_MAX_FILES CALIBRATION_MAX_FILES

enum {
    CAL_OPT_DATA = RUN_OPT_EXTRA,
    CAL_OPT_FORMAT,
    CAL_OPT_VALIDATE,
    CAL_OPT_FORCE,
    CAL_OPT_POOR_FIT
};

typedef struct cal_opts {
    const char *data[CAL_MAX_FILES];
    int n_data;
    /* A --data given as a pipe or a FIFO is read (sniffed, then parsed) through a copy made
     * once (sim/base/spool.h): data[i] is then the copy and name[i] the file as given. */
    char spooled[CAL_MAX_FILES][SPOOL_PATH_MAX];
    const char *name[CAL_MAX_FILES];
    const char *format;
    int validate, force;
    calib_poor_limits poor; /* --poor-fit */
} cal_opts;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim calibrate --data FILE [--data FILE ...] --model NAME --gpu NAME\n"
            "                        [--precision P] [--tp N] [RUN OPTIONS] [--format F]\n"
            "                        [--validate] [--force] [--poor-fit tpot=P,ttft=P]\n"
            "                        [--out DIR]\n"
            "\n"
            "Fits the step-time model's coefficients to benchmark results measured on the\n"
            "deployment that --model, --gpu, --precision and --tp describe.\n"
            "\n"
            "Where the steps are priced by the measured kernels (the default on GPUs with\n"
            "kernel tables: h100-sxm, h200, a100-80gb, l40s, b200; or --step-model kernels),\n"
            "it fits, on top of the kernels, one scale per kernel class (gemm_scale,\n"
            "attn_scale, moe_scale, comm_scale) and the time outside them (step_ms,\n"
            "layer_ms, seq_ms, token_layer_ms) by robust linear least squares. What the data\n"
            "cannot tell is held at its start value (the defaults, or --kernel-coeffs FILE)\n"
            "and the report says why: comm_scale at tp 1, moe_scale on a dense model,\n"
            "layer_ms with one model (step_ms takes it), a term under 1%% of the measured\n"
            "times, one whose interval is wider than its value, or one that replays of the\n"
            "fit (a parametric bootstrap) spread over more than a factor of 2. Scales stay\n"
            "within [0.1, 10], outside terms >= 0, and a scale more than 2 times from 1 is\n"
            "warned about. It writes kernel_coeffs.csv (gpu, stack, model, the eight\n"
            "coefficients), which run, sweep, capacity and estimate take with\n"
            "--kernel-coeffs DIR/kernel_coeffs.csv on the same GPU and stack.\n"
            "\n"
            "With --step-model roofline (or a --profile, or a GPU without kernel tables) it\n"
            "fits the roofline's coefficients (mfu, mbu, t_layer, comm_scale, attn_scale)\n"
            "and the noise spread, and writes a profile that run, sweep, capacity and\n"
            "estimate take with --profile DIR/profile.csv.\n"
            "\n"
            "FILE formats (detected from the content; --format forces one):\n");
    for (size_t f = 1; f <= bench_format_count(); f++) {
        fprintf(out, "  %-10s  ", bench_format_name((bench_format)f));
        cli_print_wrapped(out, 14, CLI_HELP_COLUMNS, bench_format_help((bench_format)f));
    }
    fprintf(out,
            "  splitwise   per-step timings (model, hardware, prompt_size, batch_size,\n"
            "              token_size, prompt_time, token_time, tensor_parallel): fitted as\n"
            "              capsim fit does\n"
            "\n"
            "It prints the coefficients with 95%% intervals and, per request, the error of\n"
            "the predicted TTFT, TPOT and end-to-end latency (median and worst), and the\n"
            "p90 and p99 of the predictions against the measured ones. A fit whose median\n"
            "error is above 15%% (TPOT) or 25%% (TTFT) is called poor and writes no\n"
            "coefficients unless --force; --poor-fit tpot=P,ttft=P sets other limits\n"
            "(percent). A p90 or p99 that misses by more than twice its limit is reported\n"
            "as TAILS OFF (the coefficients are still written); with --validate the replay's\n"
            "p90 and p99 get the same verdict. A run without send times (start_times), rate\n"
            "or concurrency is taken as sent all at once; a poor fit or a refusal on such\n"
            "runs names them as the likely cause.\n"
            "--out DIR writes kernel_coeffs.csv or profile.csv, coefficients.csv, fit.csv\n"
            "(every request, measured and predicted) and the plot of one against the other.\n"
            "--validate replays each measured run (its send times, or its concurrency, or\n"
            "its rate, and its lengths) through the serving simulation with the fitted\n"
            "kernel coefficients or profile and compares the simulated percentiles with the\n"
            "measured ones (replay.csv); --seed sets the replay's seed.\n"
            "\n"
            "example: capsim calibrate --data results.json --model llama-3.1-8b --gpu h100-sxm \\\n"
            "           --validate --out results/cal\n");
}

/* "tpot=15,ttft=25": the median errors, in percent, above which a fit is poor. Either key
 * may be left out (it keeps its default). */
static int parse_poor_fit(const char *val, calib_poor_limits *lim, char *err, size_t errlen)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", val);
    char *save = NULL;
    int n = 0;
    for (char *kv = strtok_r(buf, ",", &save); kv; kv = strtok_r(NULL, ",", &save), n++) {
        char *eq = strchr(kv, '=');
        double *dst = NULL;
        if (eq) {
            *eq = '\0';
            dst = strcmp(kv, "tpot") == 0 ? &lim->tpot_pct
                  : strcmp(kv, "ttft") == 0 ? &lim->ttft_pct
                                            : NULL;
        }
        double v;
        if (dst == NULL || util_parse_double(eq + 1, &v) != 0 || !(v > 0) || v > 1000) {
            util_errf(err, errlen,
                      "--poor-fit '%s': expected tpot=P,ttft=P with P a percentage > 0 "
                      "(defaults tpot=%g,ttft=%g)",
                      val, CALIB_POOR_TPOT_PCT, CALIB_POOR_TTFT_PCT);
            return -1;
        }
        *dst = v;
    }
    if (n == 0) {
        util_errf(err, errlen, "--poor-fit '': expected tpot=P,ttft=P (percent)");
        return -1;
    }
    return 0;
}

static int on_cal_opt(void *user, int code, const char *val, char *err, size_t errlen)
{
    cal_opts *o = user;
    switch (code) {
    case CAL_OPT_DATA:
        if (o->n_data == CAL_MAX_FILES) {
            util_errf(err, errlen, "more than %d --data files", CAL_MAX_FILES);
            return -1;
        }
        o->name[o->n_data] = val;
        int rc = spool_input(val, o->spooled[o->n_data], sizeof o->spooled[0], err, errlen);
        if (rc < 0)
            return -1;
        o->data[o->n_data] = rc > 0 ? o->spooled[o->n_data] : val;
        o->n_data++;
        return 0;
    case CAL_OPT_FORMAT:
        o->format = val;
        return 0;
    case CAL_OPT_VALIDATE:
        o->validate = 1;
        return 0;
    case CAL_OPT_POOR_FIT:
        return parse_poor_fit(val, &o->poor, err, errlen);
    default:
        o->force = 1;
        return 0;
    }
}

/* A Splitwise-style per-step table: its header names prompt_time and token_time. */
static int is_per_step(const char *path)
{
    FILE *fp = fopen(path, "r");
    char line[4096] = "";
    if (fp == NULL)
        return 0;
    int yes = fgets(line, sizeof line, fp) && strstr(line, "prompt_time") &&
              strstr(line, "token_time");
    fclose(fp);
    return yes;
}

/* --- the command -------------------------------------------------------------------------- */

/* Per-step timings (Splitwise's format) are fitted as capsim fit fits them, its messages
 * naming fit. */
/* A message about a copy of a piped --data names the file as the user gave it. */
static void name_files(const cal_opts *o, plan_error *e)
{
    for (int i = 0; o && i < o->n_data; i++)
        if (o->data[i] != o->name[i])
            spool_rename(e->reason, sizeof e->reason, o->data[i], o->name[i]);
}

static int calibrate_per_step(const cal_opts *o, const run_spec *r)
{
    char profile[4200], points[4200];
    char gpu[64];
    snprintf(gpu, sizeof gpu, "%.63s", r->value[OPT_gpu]);
    fitrun_options fo = {.data = o->data[0], .gpu = gpu, .catalog = catalog_default_dir()};
    if (r->out_dir) {
        char err[512];
        if (util_mkdir_p(r->out_dir, err, sizeof err) != 0) {
            fprintf(stderr, "capsim calibrate: %s\n", err);
            return CLI_EXIT_FAIL;
        }
        snprintf(profile, sizeof profile, "%s/profile.csv", r->out_dir);
        snprintf(points, sizeof points, "%s/fit_points.csv", r->out_dir);
        fo.out = profile;
        fo.points = points;
    }
    printf("capsim calibrate: %s holds per-step timings; fitting them as capsim fit does\n\n",
           o->name[0]);
    plan_error e;
    plan_status st = fitrun_run(&fo, stdout, &e);
    name_files(o, &e);
    int status = cli_plan_status(stderr, "fit", st, &e);
    if (status == CLI_EXIT_OK && r->out_dir) {
        printf("wrote %s/: profile.csv, fit_points.csv\nuse it with: capsim run --profile %s "
               "...\n",
               r->out_dir, profile);
    }
    return status;
}

/* calibrate's own options, beside the run options. */
static const struct option cal_extra[] = {
    {"data", required_argument, NULL, CAL_OPT_DATA},
    {"format", required_argument, NULL, CAL_OPT_FORMAT},
    {"validate", no_argument, NULL, CAL_OPT_VALIDATE},
    {"force", no_argument, NULL, CAL_OPT_FORCE},
    {"poor-fit", required_argument, NULL, CAL_OPT_POOR_FIT},
    {NULL, 0, NULL, 0},
};

/* The options of a calibration on benchmark results, from the command's. */
static void calibration_from(const cal_opts *o, bench_format fmt, calibration_options *c)
{
    memset(c, 0, sizeof *c);
    for (int i = 0; i < o->n_data; i++)
        c->data[i] = o->data[i];
    c->n_data = o->n_data;
    c->format = fmt;
    c->validate = o->validate;
    c->force = o->force;
    c->poor = o->poor;
}

/* The checks of the command line that decide what to calibrate; returns -1 to go on (with
 * *fmt and *per_step set), or the exit status after a usage error. */
static int cal_check(const cal_opts *o, const run_spec *r, bench_format *fmt, int *per_step)
{
    if (o->validate && !r->out_dir)
        return cli_usage_error(CMD, "--validate replays through the profile it writes: give "
                                    "--out DIR");
    if (o->n_data == 0 || !r->value[OPT_gpu][0])
        return cli_usage_error(CMD, "--data FILE and --gpu are required (and --model: the "
                                    "deployment the measurements were taken on)");
    *fmt = BENCH_AUTO;
    *per_step = o->format ? strcmp(o->format, "splitwise") == 0 : is_per_step(o->data[0]);
    if (!*per_step && !r->value[OPT_model][0])
        return cli_usage_error(CMD, "--model is required: the model the measurements were "
                                    "taken on (per-step files name their own)");
    if (!*per_step && o->format && bench_format_parse(o->format, fmt) != 0) {
        char names[256];
        return cli_usage_error(CMD, "--format '%s': expected %s or splitwise", o->format,
                               bench_format_list(names, sizeof names, 1, ", ", BENCH_LIST_NAMES));
    }
    if (*per_step && o->n_data > 1)
        return cli_usage_error(CMD, "per-step timings are fitted one file at a time");
    return -1;
}

int cmd_calibrate(int argc, char **argv)
{
    run_spec *r = calloc(1, sizeof *r);
    cal_opts o;
    memset(&o, 0, sizeof o);
    o.poor = calib_poor_default();
    if (r == NULL)
        return CLI_EXIT_FAIL;
    int prc = run_parse_args(CMD, argc, argv, r, cal_extra, on_cal_opt, &o, usage);
    if (prc != 0) {
        free(r);
        return prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    }
    run_warn_no_series(r, CMD);
    bench_format fmt = BENCH_AUTO;
    int per_step = 0;
    int status = cal_check(&o, r, &fmt, &per_step);
    /* The folder is checked, locked and noted before the fit; the plots are drawn once it
     * is settled (cli_out_finish). */
    static const char *const files[] = {"fit.csv",         "coefficients.csv", "profile.csv",
                                        "kernel_coeffs.csv", "fit_points.csv", NULL};
    struct outdir *od = NULL;
    if (status < 0 && r->out_dir) {
        int rc = cli_out_open(&od, CMD, r->out_dir, "capsim", argc, argv, r->value[OPT_seed],
                              files);
        if (rc != CLI_EXIT_OK)
            status = rc;
    }
    if (status < 0 && per_step) {
        status = cli_out_finish(od, CMD, r->out_dir, calibrate_per_step(&o, r), 1);
    } else if (status < 0) {
        calibration_options c;
        calibration_from(&o, fmt, &c);
        calibration_outcome oc;
        plan_error e;
        plan_status st = calibration_run(&c, r, stdout, stderr, &oc, &e);
        name_files(o.n_data ? &o : NULL, &e);
        status = cli_plan_status(stderr, CMD, st, &e);
        /* A poor fit wrote no profile (unless forced): the command failed at its task. */
        if (status == CLI_EXIT_OK && oc.poor && !o.force)
            status = CLI_EXIT_FAIL;
        /* A reported fit is a finished run, its plots drawn, even when it failed its
         * check. */
        int fin = cli_out_finish(od, CMD, r->out_dir, oc.reported ? CLI_EXIT_OK : status, 1);
        if (status == CLI_EXIT_OK)
            status = fin;
    }
    free(r);
    return status;
}
