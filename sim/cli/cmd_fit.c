/*
 * cmd_fit: `capsim fit`, calibrating step-time coefficients on measured step times.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/fit.h"
#include "models/measure.h"
#include "models/profile.h"
#include "sim/base/csvout.h"
#include "sim/plan/catalog_paths.h"
#include "sim/cli/cli.h"
#include "sim/base/util.h"

static const char *CMD = "fit";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim fit --data FILE --gpu NAME [--out PROFILE.csv] [--points FILE.csv]\n"
            "\n"
            "Fits the step-time coefficients of one GPU (mfu, mbu, t_layer, comm_scale,\n"
            "attn_scale; t_fixed stays 0) to measured prefill and decode times with robust\n"
            "nonlinear least squares (relative residuals, Huber weights), and prints the\n"
            "coefficients with 95%% intervals and the error per setting.\n"
            "FILE is in the Splitwise profiling format (model, hardware, prompt_size,\n"
            "batch_size, token_size, prompt_time, token_time, tensor_parallel; times in ms).\n"
            "\n"
            "options:\n"
            "  --data FILE        measurements\n"
            "  --gpu NAME         catalog GPU whose rows to fit (e.g. a100-80gb, h100-sxm)\n"
            "  --include-pcap     keep power-capped rows (hardware ending in -pcap)\n"
            "  --out FILE         write the fitted profile row as CSV\n"
            "  --points FILE      write measured vs predicted per setting as CSV\n"
            "  --catalog DIR      folder with models.csv and gpus.csv (default %s)\n"
            "  -h, --help         show this help\n",
            catalog_default_dir());
}

/* Writes the profile row and/or the per-setting table: both or neither. */
static int write_results(const char *out, const char *points, const char *data,
                         const measure_set *ms, const fit_result *fr, int pcap, char *err,
                         size_t errlen)
{
    util_atomic_file f[2];
    memset(f, 0, sizeof f);
    if ((out && util_atomic_open(&f[0], out, err, errlen) != 0) ||
        (points && util_atomic_open(&f[1], points, err, errlen) != 0)) {
        util_atomic_abort(&f[0]);
        util_atomic_abort(&f[1]);
        return -1;
    }
    if (out) {
        profile_row row;
        memset(&row, 0, sizeof row);
        snprintf(row.gpu, sizeof row.gpu, "%s", ms->gpu);
        row.c = fr->coeffs;
        const char *base = strrchr(data, '/');
        snprintf(row.basis, sizeof row.basis,
                 "fitted: %zu settings of %s%s; median |error| prefill %.1f%%, decode %.1f%%",
                 ms->n / 2, base ? base + 1 : data, pcap ? "" : " (power-capped rows left out)",
                 fr->median_ape[FIT_PREFILL], fr->median_ape[FIT_DECODE]);
        snprintf(row.source, sizeof row.source, "capsim fit --data %s --gpu %s",
                 base ? base + 1 : data, ms->gpu);
        profile_write(f[0].fp, &row);
    }
    if (points) {
        csvout c;
        csvout_init(&c, f[1].fp);
        static const char *const head[] = {"setting",      "phase",     "measured_ms",
                                           "predicted_ms", "error_pct", "robust_weight"};
        for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
            csvout_str(&c, head[i]);
        csvout_end_row(&c);
        for (size_t i = 0; i < ms->n; i++) {
            const fit_point *p = &ms->pts[i];
            csvout_str(&c, p->label);
            csvout_str(&c, p->phase == FIT_PREFILL ? "prefill" : "decode");
            csvout_num(&c, 1e3 * p->measured_s);
            csvout_num(&c, 1e3 * p->predicted_s);
            csvout_num(&c, 100 * (p->predicted_s / p->measured_s - 1));
            csvout_num(&c, p->weight);
            csvout_end_row(&c);
        }
    }
    return util_atomic_commit_all(f, 2, err, errlen);
}

int cmd_fit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},    {"gpu", required_argument, NULL, 'g'},
        {"out", required_argument, NULL, 'o'},     {"points", required_argument, NULL, 'p'},
        {"catalog", required_argument, NULL, 'c'}, {"include-pcap", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    const char *data = NULL, *gpu = NULL, *out = NULL, *points = NULL;
    const char *catalog = catalog_default_dir();
    int pcap = 0;
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            data = optarg;
            break;
        case 'g':
            gpu = optarg;
            break;
        case 'o':
            out = optarg;
            break;
        case 'p':
            points = optarg;
            break;
        case 'c':
            catalog = optarg;
            break;
        case 'P':
            pcap = 1;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(CMD, ch, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    if (data == NULL || gpu == NULL)
        return cli_usage_error(CMD, "--data FILE and --gpu NAME are required");
    char err[1024];
    model_list models;
    gpu_list gpus;
    if (catalog_load(catalog, &models, &gpus, err, sizeof err) != 0)
        return cli_usage_error(CMD, "%s", err);
    int status = CLI_EXIT_OK;
    measure_options mo = {.hardware = gpu,
                          .include_power_capped = pcap,
                          .tensor_cores = 1,
                          .weights = PREC_FP16,
                          .kv = PREC_FP16};
    measure_set ms;
    if (measure_load_splitwise(data, &models, &gpus, &mo, &ms, err, sizeof err) != 0) {
        status = cli_usage_error(CMD, "%s", err);
        goto out_catalog;
    }
    step_coeffs start = {.mfu = 0.5,
                         .mbu = 0.6,
                         .t_fixed_s = 0,
                         .t_layer_s = 1e-4,
                         .comm_scale = 1,
                         .attn_scale = 1,
                         .noise_cv = ms.noise_cv};
    fit_result fr;
    if (fit_run(ms.pts, ms.n, &start, &fr, err, sizeof err) != 0) {
        fprintf(stderr, "capsim fit: %s\n", err);
        status = CLI_EXIT_FAIL;
        goto out_set;
    }
    printf("%-60s %12s %12s %8s %6s\n", "setting", "measured_ms", "predicted_ms", "error_%",
           "weight");
    for (size_t i = 0; i < ms.n; i++) {
        const fit_point *p = &ms.pts[i];
        printf("%-60s %12.3f %12.3f %8.1f %6.2f\n", p->label, 1e3 * p->measured_s,
               1e3 * p->predicted_s, 100 * (p->predicted_s / p->measured_s - 1), p->weight);
    }
    const step_coeffs *c = &fr.coeffs;
    printf("\nfitted coefficients for %s (%zu settings, %s after %d iterations):\n", ms.gpu,
           ms.n / 2, fr.converged ? "converged" : "NOT converged", fr.iterations);
    const double val[FIT_N_COEFFS] = {c->mfu, c->mbu, 1e3 * c->t_layer_s, c->comm_scale,
                                      c->attn_scale};
    static const char *const label[FIT_N_COEFFS] = {"mfu", "mbu", "t_layer_ms", "comm_scale",
                                                    "attn_scale"};
    for (int k = 0; k < FIT_N_COEFFS; k++) {
        double scale = k == 2 ? 1e3 : 1.0;
        printf("  %-10s %8.4f  [%.4f, %.4f]%s\n", label[k], val[k], scale * fr.lo[k],
               scale * fr.hi[k],
               fr.at_bound[k]         ? "  held at its bound of 1: the best fit was above it"
               : fr.not_identified[k] ? "  not identified by these measurements: kept at its "
                                        "starting value"
                                      : "");
    }
    printf("  noise_cv   %8.4f  (pooled spread of repeated prefill runs)\n", c->noise_cv);
    printf("median |error|: prefill %.1f%% (worst %.1f%%), decode %.1f%% (worst %.1f%%)\n",
           fr.median_ape[FIT_PREFILL], fr.worst_ape[FIT_PREFILL], fr.median_ape[FIT_DECODE],
           fr.worst_ape[FIT_DECODE]);
    if (out || points) {
        char e2[1024];
        if (write_results(out, points, data, &ms, &fr, pcap, e2, sizeof e2) != 0) {
            fprintf(stderr, "capsim fit: %s\n", e2);
            status = CLI_EXIT_FAIL;
        }
    }
out_set:
    measure_set_free(&ms);
out_catalog:
    model_list_free(&models);
    gpu_list_free(&gpus);
    return status;
}
