/*
 * main: the capsim program: dispatches to a subcommand.
 *
 * The commands are one table: the usage text and the "unknown command" message are built
 * from it, so a new command is one cmd_NAME.c file and one row here.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include "models/bench.h"
#include "sim/base/rng.h"
#include "sim/cli/cli.h"
#include "sim/plan/catalog_paths.h"

#ifndef CAPSIM_VERSION
#define CAPSIM_VERSION "0.1.0"
#endif

typedef struct command {
    const char *name;
    int (*run)(int argc, char **argv);
    /* Lines of the usage text, "\n"-separated; NULL: not listed. A help with "%s" is
     * a paragraph with the benchmark-result tools in it (from models/bench's table), wrapped
     * to the help width. */
    const char *help;
} command;

static const command commands[] = {
    {"demo", cmd_demo, "the story of model size on one GPU type, with plots and a report"},
    {"run", cmd_run,
     "simulate serving a workload on a deployment (TTFT, TPOT, ITL,\n"
     "E2E, throughput, goodput, cost) with 95% confidence intervals"},
    {"sweep", cmd_sweep, "run a grid of scenarios in parallel (merge joins sharded sweeps)"},
    {"merge", cmd_merge, "join the shards of a sharded sweep into one summary.csv"},
    {"capacity", cmd_capacity,
     "the largest rate under SLOs, the fewest replicas or servers, the\n"
     "cheapest deployment and the cost/capacity frontier"},
    {"workload", cmd_workload, "describe a workload (trace or synthetic), or generate a trace"},
    {"queue", cmd_queue,
     "simulate a G/G/c/K queue (optionally with bulk service) and report\n"
     "waits, utilisation and throughput with 95% confidence intervals"},
    {"validate", cmd_validate, "check the simulator against exact queueing theory"},
    {"list", cmd_list, "list the model and GPU catalogs and the precisions"},
    {"estimate", cmd_estimate, "latency and throughput of one batch on one deployment, and why"},
    {"calibrate", cmd_calibrate,
     "a profile from your own benchmark results (%s), with a fit report and a replay"},
    {"fit", cmd_fit, "calibrate step-time coefficients on measured step times"},
    {"plot", cmd_plot,
     "draw the result files of a folder with gnuplot (PNG, SVG and\n"
     "editable scripts in DIR/plots/)"},
};
#define N_COMMANDS (sizeof commands / sizeof commands[0])

static void usage(FILE *out)
{
    fprintf(out, "usage: capsim COMMAND [OPTIONS]\n"
                 "\n"
                 "capsim is a discrete-event capacity simulator for LLM inference serving.\n"
                 "\n"
                 "commands:\n");
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const char *h = commands[i].help;
        if (h == NULL)
            continue;
        fprintf(out, "  %-10s ", commands[i].name);
        const char *slot = strstr(h, "%s");
        if (slot != NULL) {
            char tools[256], text[512];
            bench_format_list(tools, sizeof tools, 0, ", ", BENCH_LIST_TITLES);
            snprintf(text, sizeof text, "%.*s%s%s", (int)(slot - h), h, tools, slot + 2);
            cli_print_wrapped(out, 13, CLI_HELP_COLUMNS, text);
            continue;
        }
        for (const char *nl; (nl = strchr(h, '\n')) != NULL; h = nl + 1)
            fprintf(out, "%.*s\n  %-10s ", (int)(nl - h), h, "");
        fprintf(out, "%s\n", h);
    }
    fprintf(out, "\n"
                 "'capsim COMMAND --help' describes each command. 'capsim --version' prints the\n"
                 "version and the data directory.\n"
                 "\n"
                 "Long commands (run, sweep, capacity searches) show how far they have got on\n"
                 "stderr: a bar on a terminal, otherwise a line every 10 s\n"
                 "(CAPSIM_PROGRESS_INTERVAL=SECONDS); --quiet anywhere on the command line, or\n"
                 "CAPSIM_PROGRESS=off, silences it.\n");
}

/* Takes every --quiet out of argv (the commands' own parsers never see it) and turns the
 * progress of long commands off (sim/base/progress.h reads CAPSIM_PROGRESS), so that one
 * flag silences every command the same way. Returns the new argc. */
static int take_quiet(int argc, char **argv)
{
    int n = 1;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--quiet") == 0)
            setenv("CAPSIM_PROGRESS", "off", 1);
        else
            argv[n++] = argv[i];
    }
    argv[n] = NULL;
    return n;
}

int main(int argc, char **argv)
{
    sim_gsl_install_handler();
    argc = take_quiet(argc, argv);
    if (argc < 2) {
        usage(stderr);
        return CLI_EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "help") == 0 && argc == 3) { /* capsim help run: run's --help */
        for (size_t i = 0; i < N_COMMANDS; i++)
            if (strcmp(argv[2], commands[i].name) == 0) {
                char *args[] = {argv[2], (char *)"--help", NULL};
                return commands[i].run(2, args);
            }
        fprintf(stderr, "capsim help: '%s' is not a command (see capsim --help)\n", argv[2]);
        return CLI_EXIT_USAGE;
    }
    int top_level = strcmp(cmd, "--version") == 0 || strcmp(cmd, "-h") == 0 ||
                    strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0;
    if (top_level && argc > 2) {
        fprintf(stderr, "capsim: '%s' takes no argument, found '%s' (see capsim --help)\n", cmd,
                argv[2]);
        return CLI_EXIT_USAGE;
    }
    if (strcmp(cmd, "-h") == 0 || strcmp(cmd, "--help") == 0 || strcmp(cmd, "help") == 0) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (strcmp(cmd, "--version") == 0) {
        printf("capsim %s\ndata directory: %s\n", CAPSIM_VERSION, capsim_data_dir());
        return CLI_EXIT_OK;
    }
    for (size_t i = 0; i < N_COMMANDS; i++)
        if (strcmp(cmd, commands[i].name) == 0)
            return commands[i].run(argc - 1, argv + 1);
    fprintf(stderr, "capsim: unknown command '%s' (expected ", cmd);
    for (size_t i = 0; i < N_COMMANDS; i++)
        fprintf(stderr, "%s%s", commands[i].name,
                i + 2 < N_COMMANDS ? ", " : i + 1 < N_COMMANDS ? " or " : "");
    fprintf(stderr, "; see capsim --help)\n");
    return CLI_EXIT_USAGE;
}
