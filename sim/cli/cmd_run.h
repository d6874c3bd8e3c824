/*
 * cmd_run: `capsim run` and `capsim sweep` on a scenario already parsed, so that the demo
 * runs them as functions, with their output going to a step's log.
 */
#ifndef CAPSIM_CMD_RUN_H
#define CAPSIM_CMD_RUN_H

#include <stdint.h>
#include <stdio.h>

#include "sim/plan/runspec.h"

#define SWEEP_MAX_AXES   8
#define SWEEP_MAX_VALUES 4096

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

/* Parses "KEY=VALUES" axes (a,b,c or first:last:step), the first varying slowest. Returns
 * 0, or -1 with a message; release with sweep_grid_fini either way. */
int sweep_grid_parse(sweep_grid *g, const char *const *axes, int n_axes, char *err,
                     size_t errlen);
void sweep_grid_fini(sweep_grid *g);

/* Runs the points of shard shard_i of shard_n of the grid around base in up to jobs
 * processes and writes base->out_dir/summary.csv. With interactive set, shows progress on
 * a terminal and draws the plots. Prints to out_fp and err_fp; returns a CLI_EXIT_ status. */
int sweep_command(const run_spec *base, const sweep_grid *g, uint64_t jobs, uint64_t shard_i,
                  uint64_t shard_n, int interactive, FILE *out_fp, FILE *err_fp);

#endif
