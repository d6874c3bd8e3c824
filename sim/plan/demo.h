/*
 * demo: `capsim demo` as a library call: a ~1B and a ~100B-class model on one machine
 * type, their capacities under a chat SLO and the what-ifs, load sweeps, confirming runs,
 * plots and REPORT.md, all into one folder (the steps and the report are described in
 * demo.c). It runs the experiments of capsearch.h, sweep.h and experiment.h, each step in
 * a worker process with its output in a log.txt beside its results.
 */
#ifndef CAPSIM_DEMO_H
#define CAPSIM_DEMO_H

#include <stdint.h>
#include <stdio.h>

#include "sim/plan/experiment.h"

/* The two models and the SLO of the story, for the command's help. */
#define DEMO_SMALL_MODEL "llama-3.2-1b"
#define DEMO_BIG_MODEL   "mistral-large-2407"
#define DEMO_CHAT_SLO    "ttft_p99=2,tpot_p99=0.1"

typedef struct demo_options {
    const char *out;        /* the results folder */
    const char *gpu;        /* the machine type (a catalog GPU) */
    const char *larger_gpu; /* the larger GPU of the what-if */
    uint64_t seed;          /* the searches', sweeps' and runs' master seed; confirming
                               runs use seed + 1 */
    uint64_t jobs;          /* worker processes */
    int out_created;        /* the command made the folder for this run (interrupted, the
                               demo removes it); else it is taken as the user's */
} demo_options;

/* results/demo, h100-sxm, h200, seed 1, one worker per core. */
void demo_defaults(demo_options *o);

/* Runs the demo. Prints its progress and the path of the report to out. Unlike the other
 * experiments, it tells what goes wrong on err as it happens (several steps may fail, and
 * each step's log says why), so the status alone says how it ended. The GPUs are not
 * checked first: a command should look them up in the catalog before a long run. */
plan_status demo_run(const demo_options *opt, FILE *out, FILE *err);

#endif
