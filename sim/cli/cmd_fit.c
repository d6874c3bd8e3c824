/*
 * cmd_fit: `capsim fit`, calibrating step-time coefficients on measured step times: the
 * options, the help and the exit status; the fit and its files are sim/plan's
 * (fitrun.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/cli/cli.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/fitrun.h"

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

int cmd_fit(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},    {"gpu", required_argument, NULL, 'g'},
        {"out", required_argument, NULL, 'o'},     {"points", required_argument, NULL, 'p'},
        {"catalog", required_argument, NULL, 'c'}, {"include-pcap", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0},
    };
    fitrun_options o = {.catalog = catalog_default_dir()};
    cli_warn_repeats(CMD, argc, argv, 1, longopts, NULL);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 'd':
            o.data = optarg;
            break;
        case 'g':
            o.gpu = optarg;
            break;
        case 'o':
            o.out = optarg;
            break;
        case 'p':
            o.points = optarg;
            break;
        case 'c':
            o.catalog = optarg;
            break;
        case 'P':
            o.include_pcap = 1;
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
    if (o.data == NULL || o.gpu == NULL)
        return cli_usage_error(CMD, "--data FILE and --gpu NAME are required");
    /* A directory, FIFO or device where a file is to go is refused before any work. */
    char err[1024];
    if (o.out && util_check_writable_path(o.out, err, sizeof err) != 0)
        return cli_usage_error(CMD, "--out: %s", err);
    if (o.points && util_check_writable_path(o.points, err, sizeof err) != 0)
        return cli_usage_error(CMD, "--points: %s", err);
    plan_error e;
    return cli_plan_status(stderr, CMD, fitrun_run(&o, stdout, &e), &e);
}
