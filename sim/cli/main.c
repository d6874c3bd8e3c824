/*
 * main: the capsim program: dispatches to a subcommand.
 */
#include <stdio.h>
#include <string.h>

#include "models/bench.h"
#include "sim/cli/cli.h"
#include "sim/base/rng.h"

#ifndef CAPSIM_VERSION
#define CAPSIM_VERSION "0.1.0"
#endif

static void usage(FILE *out)
{
    fprintf(out, "usage: capsim COMMAND [OPTIONS]\n"
                 "\n"
                 "capsim is a discrete-event capacity simulator for LLM inference serving.\n"
                 "\n"
                 "commands:\n"
                 "  demo       the story of model size on one GPU type, with plots and a report\n"
                 "  run        simulate serving a workload on a deployment (TTFT, TPOT, ITL,\n"
                 "             E2E, throughput, goodput, cost) with 95%% confidence intervals\n"
                 "  sweep      run a grid of scenarios in parallel (merge joins sharded sweeps)\n"
                 "  capacity   the largest rate under SLOs, the fewest replicas or servers, the\n"
                 "             cheapest deployment and the cost/capacity frontier\n"
                 "  workload   describe a workload (trace or synthetic), or generate a trace\n"
                 "  queue      simulate a G/G/c/K queue (optionally with bulk service) and report\n"
                 "             waits, utilisation and throughput with 95%% confidence intervals\n"
                 "  validate   check the simulator against exact queueing theory\n"
                 "  list       list the model and GPU catalogs and the precisions\n"
                 "  estimate   latency and throughput of one batch on one deployment, and why\n"
                 "  calibrate  ");
    char tools[256], text[512];
    snprintf(text, sizeof text,
             "a profile from your own benchmark results (%s), with a fit report and a replay",
             bench_format_list(tools, sizeof tools, 0, ", ", BENCH_LIST_TITLES));
    cli_print_wrapped(out, 13, CLI_HELP_COLUMNS, text);
    fprintf(out, "  fit        calibrate step-time coefficients on measured step times\n"
                 "  plot       draw the result files of a folder with gnuplot (PNG, SVG and\n"
                 "             editable scripts in DIR/plots/)\n"
                 "\n"
                 "'capsim COMMAND --help' describes each command. 'capsim --version' prints the\n"
                 "version.\n");
}

int main(int argc, char **argv)
{
    sim_gsl_install_handler();
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("capsim %s\n", CAPSIM_VERSION);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "queue") == 0)
        return cmd_queue(argc - 1, argv + 1);
    if (strcmp(cmd, "validate") == 0)
        return cmd_validate(argc - 1, argv + 1);
    if (strcmp(cmd, "fit") == 0)
        return cmd_fit(argc - 1, argv + 1);
    if (strcmp(cmd, "estimate") == 0)
        return cmd_estimate(argc - 1, argv + 1);
    if (strcmp(cmd, "list") == 0)
        return cmd_list(argc - 1, argv + 1);
    if (strcmp(cmd, "run") == 0)
        return cmd_run(argc - 1, argv + 1);
    if (strcmp(cmd, "sweep") == 0)
        return cmd_sweep(argc - 1, argv + 1);
    if (strcmp(cmd, "merge") == 0)
        return cmd_merge(argc - 1, argv + 1);
    if (strcmp(cmd, "capacity") == 0)
        return cmd_capacity(argc - 1, argv + 1);
    if (strcmp(cmd, "workload") == 0)
        return cmd_workload(argc - 1, argv + 1);
    if (strcmp(cmd, "plot") == 0)
        return cmd_plot(argc - 1, argv + 1);
    if (strcmp(cmd, "demo") == 0)
        return cmd_demo(argc - 1, argv + 1);
    if (strcmp(cmd, "calibrate") == 0)
        return cmd_calibrate(argc - 1, argv + 1);
    fprintf(stderr,
            "capsim: unknown command '%s' (expected run, queue, validate, list, estimate, fit, "
            "plot, sweep, merge, capacity, workload, calibrate or demo; "
            "see capsim --help)\n",
            cmd);
    return CLI_EXIT_USAGE;
}
