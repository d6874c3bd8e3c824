/*
 * sweep: a scenario (run_spec) run at every point of a grid of settings, in worker
 * processes, into one summary.csv with a row per point; and the merge of the summaries of
 * a sweep run in shards. `capsim sweep`, `capsim merge` and the demo's load sweeps call it.
 *
 * Each point's seed is derived from the master seed and the point's index, so the rows do
 * not depend on the number of workers or on the sharding. Failures end as experiment.h
 * says (plan_status, and the reason in a plan_error).
 */
#ifndef CAPSIM_SWEEP_H
#define CAPSIM_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "sim/plan/experiment.h"
#include "sim/plan/runspec.h"

#define SWEEP_MAX_AXES   8
#define SWEEP_MAX_VALUES 4096
#define SWEEP_MAX_POINTS 1000000

/* One axis of a sweep: a run option (or the rate of the arrival process) and its values. */
typedef struct sweep_axis {
    run_opt key;
    int is_rate;
    char name[64];
    char (*values)[64];
    size_t n;
} sweep_axis;

typedef struct sweep_grid {
    sweep_axis ax[SWEEP_MAX_AXES];
    int n_axes;
    uint64_t total; /* points: the product of the axes' sizes */
} sweep_grid;

/* Parses "KEY=VALUES" axes (a,b,c or first:last:step), the first varying slowest. KEY is a
 * run option other than seed, or rate (the rate= of the arrival process). Returns 0, or -1
 * with a message; release with sweep_grid_fini either way. */
int sweep_grid_parse(sweep_grid *g, const char *const *axes, int n_axes, char *err,
                     size_t errlen);
void sweep_grid_fini(sweep_grid *g);

/* How a sweep runs. */
typedef struct sweep_options {
    uint64_t jobs;             /* worker processes, at least 1 */
    uint64_t shard_i, shard_n; /* run shard shard_i (1-based) of shard_n: points i-1, i-1+n, ... */
    int progress;              /* show the points done on stderr (sim/base/progress.h) */
    int plots;                 /* draw the plots of the folder afterwards */
} sweep_options;

/* Runs the points of the shard of grid g around base and writes base->out_dir/summary.csv
 * ("point,status,reason," then every setting and figure; a point that cannot run is a row
 * with status error and its reason). Prints one line saying what it did to out, plot
 * warnings to err. A base scenario that is wrong at every point is PLAN_BAD_INPUT (not
 * fitting in memory excepted: a swept setting such as tp may fix it). */
plan_status sweep_run(const run_spec *base, const sweep_grid *g, const sweep_options *opt,
                      FILE *out, FILE *err, plan_error *e);

/* Joins the summary.csv of the shard folders dirs[0..n-1] (same header, no point twice)
 * into out_dir/summary.csv, the file the whole sweep writes; says so in one line on out. */
plan_status sweep_merge(const char *out_dir, const char *const *dirs, int n, FILE *out,
                        plan_error *e);

#endif
