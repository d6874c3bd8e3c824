/*
 * experiment: one serving scenario (run_spec) run with its replications, as a library call:
 * its result files (summary.csv, seeds.csv, scenario.ini, and timeseries.csv, requests.csv
 * when asked) and its printed summary. `capsim run` and the demo call it; so may any
 * program that wants a run's files without a command line.
 *
 * The functions of sim/plan that run experiments (this one, sweep.h, capsearch.h) share
 * one way of ending: they print what they did to the FILE *out they are given and warnings
 * to FILE *err, and return a plan_status. When it is not PLAN_OK, *e says why and nothing
 * about the failure has been printed: the caller says it in its own words (a command as a
 * usage error or a failure line, the demo in a step's log). Nothing here exits or reads
 * a command line, and whether to draw plots is the caller's to say (the commands read
 * CAPSIM_PLOTS); the data folder and $TMPDIR are found as catalog_paths.h and parmap.h say.
 */
#ifndef CAPSIM_EXPERIMENT_H
#define CAPSIM_EXPERIMENT_H

#include <stddef.h>
#include <stdio.h>

#include "sim/plan/runspec.h"

/* How an experiment ended. The numbers are the exit statuses capsim's commands give for
 * the same outcomes, so a command may return them as they are. */
typedef enum plan_status {
    PLAN_OK = 0,
    PLAN_FAILED = 1,    /* the work failed: I/O, workers, a search that could not go on */
    PLAN_BAD_INPUT = 2, /* the scenario or an argument is wrong: the user must change it */
} plan_status;

/* Why an experiment did not end with PLAN_OK: the reason, and the part of the work it
 * concerns when that helps to say it ("rate" for the rate search; empty when none). */
typedef struct plan_error {
    plan_status status;
    char context[32];
    char reason[2048];
} plan_error;

/* Sets *e (when e is not NULL) and returns status. */
plan_status plan_fail(plan_error *e, plan_status status, const char *context, const char *fmt,
                      ...) __attribute__((format(printf, 4, 5)));

/* Says how an experiment ended on err, as capsim's command cmd says it: nothing for
 * PLAN_OK; "capsim CMD: [CONTEXT: ]REASON" for PLAN_FAILED; the same followed by
 * " (see capsim CMD --help)" for PLAN_BAD_INPUT. The demo writes its steps' logs with it. */
void plan_error_print(FILE *err, const char *cmd, plan_status status, const plan_error *e);

/* What plan_run does beside running. */
typedef struct plan_run_options {
    const char *name; /* the command named in warnings ("run" gives "capsim run: warning") */
    int plots;        /* draw the plots of the results folder when there is one */
    int progress;     /* show how far the run has got on stderr (sim/base/progress.h) */
} plan_run_options;

/* Runs r and, with r->out_dir, writes summary.csv, seeds.csv, scenario.ini (and
 * timeseries.csv with a sample interval, requests.csv with per_request on) atomically: a
 * failed run leaves the folder as it was. Prints the summary table to out and warnings
 * (refused requests, trace rows, Little's law) to err. A scenario that does not resolve or
 * does not run is PLAN_BAD_INPUT; a file that cannot be written is PLAN_FAILED. */
plan_status plan_run(const run_spec *r, const plan_run_options *opt, FILE *out, FILE *err,
                     plan_error *e);

/* Draws the plots of a results folder an experiment has just written (see plots/plot.h)
 * and says so in one line on out, or on err that gnuplot is missing (messages name the
 * command cmd). A plot that fails is a warning on err: the results stand. */
void plan_draw_plots(const char *cmd, const char *dir, FILE *out, FILE *err);

#endif
