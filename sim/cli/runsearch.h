/*
 * runsearch: the serving model as the evaluator of the searches in sim/plan/search.h, and
 * the printed and written forms of their answers. Shared by capsim capacity and capsim
 * demo, which print to different streams (the terminal, or a step's log).
 */
#ifndef CAPSIM_RUNSEARCH_H
#define CAPSIM_RUNSEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/util.h"
#include "sim/cli/runopts.h"
#include "sim/plan/search.h"

/* Sets the replicas of r to n and, when base says --requests auto, the requests per
 * replication to what n replicas need (see runsearch.c). */
void runsearch_set_replicas(run_cli *r, const run_cli *base, uint64_t n);

/* The settings every search runs with: 10 replications unless given, no time series, no
 * per-request records. */
void runsearch_prepare(run_cli *base);

/* The arrival rate of r (its rate= key), or NAN. */
double runsearch_arrival_rate(const run_cli *r);

/* search_rate and search_replicas on the serving model described by base: the rate, or
 * the number of replicas, is the searched value. Each step tried is printed to log unless
 * log is NULL. */
int runsearch_rate(const run_cli *base, double start, double tol, FILE *log,
                   search_rate_result *s);
int runsearch_replicas(const run_cli *base, uint64_t start, FILE *log,
                       search_replica_result *s);

/* The two lines under a search's title: the deployment, workload, SLO and run size. */
void runsearch_describe(FILE *out, const run_cli *r);

/* `capsim capacity rate` after its options are checked: the title, the search with its
 * steps, the answer, and with r->out_dir set search.csv and capacity.csv (plots drawn when
 * plots is set). Prints to out, errors to errout; returns a CLI_EXIT_ status, and on
 * failure the reason in why (unless why is NULL). */
int runsearch_rate_command(const run_cli *base, double start, double tol, int plots, FILE *out,
                           FILE *errout, char *why, size_t whylen);

/* Writes the steps of a search as rows "step,x,verdict,metric,value,ci,limit[,cost...]". */
void runsearch_write_steps(FILE *fp, const char *x_name, const search_step *steps, int n,
                           int with_cost);

/* Writes files into dir with util_write_files; says what went wrong on errout. */
int runsearch_write_files(FILE *errout, const char *dir, size_t n, const char *const *names,
                          const util_writer *write, const void *const *what);

#endif
