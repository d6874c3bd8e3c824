/*
 * queuerun: the queueing mode's experiments as library calls: a G/G/c/K queue (engine's
 * queue.h) run with its replications, its printed table and its files (summary.csv,
 * seeds.csv, scenario.ini), or its waits against utilisation (load.csv) with the exact
 * M/M/c and M/G/1 answers beside them. `capsim queue` calls them.
 *
 * Failures end as experiment.h says: a plan_status, the reason in a plan_error.
 */
#ifndef CAPSIM_QUEUERUN_H
#define CAPSIM_QUEUERUN_H

#include <stdio.h>

#include "sim/engine/queue.h"
#include "sim/plan/experiment.h"

/* A queueing scenario: the settings of the queue, its processes as text (set into
 * cfg.arrivals and cfg.service when it runs), and what to write. */
typedef struct queue_scenario {
    queue_config cfg;
    char arrival_text[1024], service_text[1024];
    const char *out_dir; /* NULL: print only */
    int tail_given;      /* 0: P(wait > t) at t = the mean service time */
    int allow_unstable;  /* run an unlimited queue at an offered load of 1 or more */
    const char *load;    /* first:last:step utilisations for the load curve, or NULL */
} queue_scenario;

/* One server, unlimited capacity, batch 1, 100000 customers, 10 replications, 10% warm-up,
 * seed 1, Poisson arrivals at 0.8/s and exponential service of mean 1 s. */
void queuerun_defaults(queue_scenario *q);

/* Runs q: with q->load the load curve, else one run with its table and, with q->out_dir,
 * its files (written atomically; a failed run leaves the folder as it was). Prints to out,
 * warnings to err; plots: draw the load curve's plot. A process that does not parse or a
 * queue without steady state (unless allowed) is PLAN_BAD_INPUT. */
plan_status queuerun_run(queue_scenario *q, int plots, FILE *out, FILE *err, plan_error *e);

#endif
