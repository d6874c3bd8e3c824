/*
 * runsearch: the printed and written forms of the serving searches (sim/plan/servesearch.h)
 * and `capsim capacity rate` as a function. Shared by capsim capacity and capsim demo, which
 * print to different streams (the terminal, or a step's log).
 */
#ifndef CAPSIM_RUNSEARCH_H
#define CAPSIM_RUNSEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/util.h"
#include "sim/plan/runspec.h"
#include "sim/plan/search.h"
#include "sim/plan/servesearch.h"

/* The two lines under a search's title: the deployment, workload, SLO and run size. */
void runsearch_describe(FILE *out, const run_spec *r);

/* `capsim capacity rate` after its options are checked: the title, the search with its
 * steps, the answer, and with r->out_dir set search.csv and capacity.csv (plots drawn when
 * plots is set). Prints to out, errors to errout; returns a CLI_EXIT_ status, and on
 * failure the reason in why (unless why is NULL). */
int runsearch_rate_command(const run_spec *base, double start, double tol, int plots, FILE *out,
                           FILE *errout, char *why, size_t whylen);

/* Writes the steps of a search as rows "step,x,verdict,metric,value,ci,limit[,cost...]". */
void runsearch_write_steps(FILE *fp, const char *x_name, const search_step *steps, int n,
                           int with_cost);

/* Writes files into dir with util_write_files; says what went wrong on errout. */
int runsearch_write_files(FILE *errout, const char *dir, size_t n, const char *const *names,
                          const util_writer *write, const void *const *what);

#endif
