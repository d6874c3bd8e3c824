/*
 * runflags: the settings of a serving scenario (sim/plan/runspec.h) from the command line:
 * every setting is a long option, a scenario file may be given as the one positional
 * argument, and a command may add options of its own.
 */
#ifndef CAPSIM_RUNFLAGS_H
#define CAPSIM_RUNFLAGS_H

#include <getopt.h>
#include <stdio.h>

#include "sim/plan/runspec.h"

/* getopt codes: setting o is RUN_OPT_CODE0 + o, then the options every command shares and
 * the first free code for a command's own options. The codes start above every character
 * so that none is read as getopt's ':' (a missing value), '?' (unknown option) or 'h' as
 * settings are added (with 58 settings, capacity's --jobs was code 58, ':'). */
enum {
    RUN_OPT_CODE0 = 256,
    RUN_OPT_OUT = RUN_OPT_CODE0 + OPT_COUNT,
    RUN_OPT_HELP,
    RUN_OPT_EXTRA
};

/* A command's own options: getopt_long entries with codes from RUN_OPT_EXTRA, ended by a
 * zeroed entry; on_extra gets each one given (returns 0, or -1 after writing err). */
typedef int (*run_extra_fn)(void *user, int code, const char *val, char *err, size_t errlen);

/* Defaults, then the scenario file (at most one positional argument), then the flags on
 * top. Returns 0, 1 after --help (usage printed to stdout), or -1 after a usage error
 * (printed as one line naming cmd). */
int run_parse_args(const char *cmd, int argc, char **argv, run_spec *r,
                   const struct option *extra, run_extra_fn on_extra, void *user,
                   void (*usage)(FILE *));

/* Warns on stderr that --per-request and --sample-interval, when given with other than their
 * defaults, are ignored by cmd, which writes no per-request or time-series files (sweep,
 * capacity and calibrate run many simulations and keep their summaries). */
void run_warn_no_series(const run_spec *r, const char *cmd);

#endif
