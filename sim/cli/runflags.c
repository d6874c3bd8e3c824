/*
 * runflags: the settings of a serving scenario from the command line (see runflags.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/cli/runflags.h"

#include <stdio.h>
#include <string.h>

#include "sim/cli/cli.h"

/* Flags first into a list, then the scenario file, then the flags on top. */
int run_parse_args(const char *cmd, int argc, char **argv, run_spec *r,
                   const struct option *extra, run_extra_fn on_extra, void *user,
                   void (*usage)(FILE *))
{
    enum { MAX_EXTRA = 16 };
    struct option longopts[OPT_COUNT + 3 + MAX_EXTRA];
    static char names[OPT_COUNT][64];
    for (int o = 0; o < OPT_COUNT; o++) {
        run_flag_name((run_opt)o, names[o], sizeof names[o]);
        /* --per-request is a plain flag on the command line (on/off in a scenario). */
        int has_arg = o == OPT_per_request ? no_argument : required_argument;
        longopts[o] = (struct option){names[o], has_arg, NULL, RUN_OPT_CODE0 + o};
        snprintf(r->value[o], sizeof r->value[o], "%s", run_opt_default[o]);
    }
    size_t n = OPT_COUNT;
    longopts[n++] = (struct option){"out", required_argument, NULL, RUN_OPT_OUT};
    longopts[n++] = (struct option){"help", no_argument, NULL, RUN_OPT_HELP};
    for (size_t i = 0; extra && extra[i].name && i < MAX_EXTRA; i++)
        longopts[n++] = extra[i];
    longopts[n] = (struct option){NULL, 0, NULL, 0};
    typedef struct given {
        int code;
        const char *val;
    } given;
    given flags[256];
    size_t n_flags = 0;
    char err[1024];
    /* sweep's axes, calibrate's data files and prices are given once per item. */
    static const char *const repeatable[] = {"sweep", "data", "price", NULL};
    cli_warn_repeats(cmd, argc, argv, 1, longopts, repeatable);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (ch == 'h' || ch == RUN_OPT_HELP) {
            usage(stdout);
            return 1;
        }
        if (ch == '?' || ch == ':') {
            cli_bad_option(cmd, ch, argv[optind - 1]);
            return -1;
        }
        if (ch >= RUN_OPT_EXTRA) {
            if (on_extra(user, ch, optarg, err, sizeof err) != 0) {
                cli_usage_error(cmd, "%s", err);
                return -1;
            }
            continue;
        }
        if (n_flags == sizeof flags / sizeof flags[0]) {
            cli_usage_error(cmd, "too many options");
            return -1;
        }
        /* A setting is kept as its index (run_opt), --out as its code. */
        flags[n_flags++] = (given){ch == RUN_OPT_OUT ? ch : ch - RUN_OPT_CODE0,
                                   optarg ? optarg : "on"};
    }
    if (optind < argc - 1) {
        cli_usage_error(cmd, "unexpected argument '%s' (at most one scenario file)",
                        argv[optind + 1]);
        return -1;
    }
    if (optind == argc - 1 && run_load_ini(r, argv[optind], err, sizeof err) != 0) {
        cli_usage_error(cmd, "%s", err);
        return -1;
    }
    int prices_given = 0;
    for (size_t i = 0; i < n_flags; i++) {
        if (flags[i].code == OPT_price && prices_given++ > 0) {
            /* --price may be repeated: each adds its GPUs to the list. */
            char joined[sizeof r->value[OPT_price]];
            int w = snprintf(joined, sizeof joined, "%s,%s", r->value[OPT_price], flags[i].val);
            if (w < 0 || (size_t)w >= sizeof joined ||
                run_set_value(r, OPT_price, joined, err, sizeof err) != 0) {
                cli_usage_error(cmd, "--price: the prices given are too long together");
                return -1;
            }
            continue;
        }
        if (flags[i].code == RUN_OPT_OUT) {
            if (*flags[i].val == '\0') {
                cli_usage_error(cmd, "--out '': expected a directory name");
                return -1;
            }
            r->out_dir = flags[i].val;
            continue;
        }
        run_opt o = (run_opt)flags[i].code;
        r->flag[o] = 1;
        if (run_set_value(r, o, flags[i].val, err, sizeof err) != 0) {
            cli_usage_error(cmd, "--%s", err);
            return -1;
        }
    }
    if (run_spool_inputs(r, err, sizeof err) != 0) {
        cli_usage_error(cmd, "%s", err);
        return -1;
    }
    run_warn_ignored(r, cmd, stderr);
    run_warn_slo_units(r, cmd, stderr);
    return 0;
}

void run_warn_no_series(const run_spec *r, const char *cmd)
{
    static const run_opt opts[] = {OPT_per_request, OPT_sample_interval};
    for (size_t i = 0; i < 2; i++) {
        run_opt o = opts[i];
        if (!r->given[o] || strcmp(r->value[o], run_opt_default[o]) == 0)
            continue;
        char name[64];
        run_flag_name(o, name, sizeof name);
        fprintf(stderr,
                "capsim %s: warning: --%s %s is ignored: %s writes no requests.csv or "
                "timeseries.csv (capsim run does)\n",
                cmd, name, r->value[o], cmd);
    }
}
