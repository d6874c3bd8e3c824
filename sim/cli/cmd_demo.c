/*
 * cmd_demo: `capsim demo`, the story of the project on one machine type (sim/plan/demo.h):
 * its options, its help, the check that both GPUs are in the catalog before anything
 * runs, and the exit status.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/outdir.h"
#include "sim/cli/cli.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/demo.h"

static const char *CMD = "demo";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim demo [--out DIR] [--gpu NAME] [--larger-gpu NAME] [--seed S] [--jobs N]\n"
            "\n"
            "Tells the story of model size on one machine type: a ~1B model (%s) and a\n"
            "~100B-class model (%s, 123B) serve a chat workload under an interactive SLO\n"
            "(%s). For each it finds the capacity, sweeps the load, and tries the\n"
            "what-ifs (fp8 and int4 weights, fewer GPUs once quantized, tensor cores off, a\n"
            "larger GPU, static batching). It writes CSV files, PNG and SVG plots, and\n"
            "REPORT.md, all with numbers from the run, to DIR (default results/demo).\n"
            "\n"
            "  --gpu NAME         the machine type (default h100-sxm)\n"
            "  --larger-gpu NAME  the larger GPU of the what-if (default h200)\n"
            "  --seed S           master seed (default 1); the confirming runs use S + 1\n"
            "  --jobs N           parallel processes (default: the cores)\n",
            DEMO_SMALL_MODEL, DEMO_BIG_MODEL, DEMO_CHAT_SLO);
}

/* The demo's options into d (defaults first). Returns -1 to go on, or the exit status. */
static int demo_parse(int argc, char **argv, demo_options *d)
{
    static const struct option longopts[] = {
        {"out", required_argument, NULL, 'o'},   {"gpu", required_argument, NULL, 'g'},
        {"larger-gpu", required_argument, NULL, 'L'}, {"seed", required_argument, NULL, 's'},
        {"jobs", required_argument, NULL, 'j'},  {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    demo_defaults(d);
    char err[1024];
    cli_warn_repeats(CMD, argc, argv, 1, longopts, NULL);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'o':
            d->out = optarg;
            break;
        case 'g':
            d->gpu = optarg;
            break;
        case 'L':
            d->larger_gpu = optarg;
            break;
        case 's':
            bad = cli_parse_count("--seed", optarg, 0, UINT64_MAX, &d->seed, err, sizeof err);
            break;
        case 'j':
            bad = cli_parse_count("--jobs", optarg, 1, 256, &d->jobs, err, sizeof err);
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
    return -1;
}

/* Both GPUs must be in the catalog before anything runs. Returns -1 to go on, or the exit
 * status. */
static int demo_check_gpus(const demo_options *d)
{
    char err[1024];
    model_list ml;
    gpu_list gl;
    if (catalog_load(catalog_default_dir(), &ml, &gl, err, sizeof err) != 0) {
        fprintf(stderr, "capsim demo: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    const char *bad = gpu_list_find(&gl, d->gpu) == NULL          ? "--gpu"
                      : gpu_list_find(&gl, d->larger_gpu) == NULL ? "--larger-gpu"
                                                                  : NULL;
    const char *name = bad && strcmp(bad, "--gpu") == 0 ? d->gpu : d->larger_gpu;
    model_list_free(&ml);
    gpu_list_free(&gl);
    if (bad)
        return cli_usage_error(CMD, "%s '%s': not in the GPU catalog (see capsim list gpus)",
                               bad, name);
    return -1;
}

int cmd_demo(int argc, char **argv)
{
    demo_options o;
    int status = demo_parse(argc, argv, &o);
    if (status < 0)
        status = demo_check_gpus(&o);
    if (status >= 0)
        return status;
    /* The folder is checked, locked and noted before the first simulation. */
    static const char *const files[] = {"REPORT.md", NULL};
    struct outdir *od = NULL;
    char seed[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)o.seed);
    status = cli_out_open(&od, CMD, o.out, "capsim", argc, argv, seed, files);
    if (status != CLI_EXIT_OK)
        return status;
    o.out_created = outdir_created(od);
    return cli_out_finish(od, CMD, o.out, (int)demo_run(&o, stdout, stderr), 0);
}
