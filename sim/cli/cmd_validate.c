/*
 * cmd_validate: `capsim validate`, the known-answer table against queueing theory.
 */
#include <getopt.h>
#include <stdio.h>

#include "sim/cli/cli.h"
#include "sim/engine/validate.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim validate [--seed S] [--scale F] [--case TEXT]\n"
            "\n"
            "Simulates queues whose steady state is known exactly (M/M/1, M/M/c by Erlang C,\n"
            "M/D/1, M/G/1 by Pollaczek-Khinchine, M/M/c/K, the bulk-service M/M^[K]/1) and\n"
            "compares mean wait, P(wait > 0), the tail P(wait > t), utilisation, mean number in\n"
            "system and blocking with the exact values computed from the formulas.\n"
            "Exit status 0 only if every check passes.\n"
            "\n"
            "options:\n"
            "  --seed S      master seed (default 1)\n"
            "  --scale F     multiply every run length by F, e.g. 0.1 for a quick look\n"
            "                (default 1; shorter runs give wider intervals)\n"
            "  --case TEXT   run only the cases whose name contains TEXT, e.g. 'M/M/1'\n"
            "  -h, --help    show this help\n");
}

int cmd_validate(int argc, char **argv)
{
    const char *cmd = "validate";
    validate_options opt = {.seed = 1, .scale = 1.0, .only = NULL};
    static const struct option longopts[] = {
        {"seed", required_argument, NULL, 's'},
        {"scale", required_argument, NULL, 'f'},
        {"case", required_argument, NULL, 'c'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    char err[512];
    cli_warn_repeats(cmd, argc, argv, 1, longopts, NULL);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (ch) {
        case 's':
            if (cli_parse_count("--seed", optarg, 0, UINT64_MAX, &opt.seed, err, sizeof err) != 0)
                return cli_usage_error(cmd, "%s", err);
            break;
        case 'f':
            if (cli_parse_real("--scale", optarg, 1e-3, 100, 0, &opt.scale, err, sizeof err) != 0)
                return cli_usage_error(cmd, "%s", err);
            break;
        case 'c':
            opt.only = optarg;
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(cmd, ch, argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error(cmd, "unexpected argument '%s'", argv[optind]);
    validate_summary sum;
    if (validate_run(&opt, stdout, &sum, err, sizeof err) != 0) {
        fprintf(stderr, "capsim validate: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (sum.n_cases == 0)
        return cli_usage_error(cmd, "no case matches --case '%s'", opt.only ? opt.only : "");
    return sum.n_failed == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
}
