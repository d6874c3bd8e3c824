/*
 * jsonout: a run's figures as JSON (summary.json beside summary.csv), with the field names
 * of vLLM's benchmark (`vllm bench serve --save-result`) where it has one, so that the
 * notebooks and dashboards that read measured runs read simulated ones:
 *   request_throughput, request_goodput (with an SLO), output_throughput,
 *   total_token_throughput, completed, num_prompts, and for ttft, tpot, itl and e2el:
 *   mean_X_ms, median_X_ms, std_X_ms, p90_X_ms, p95_X_ms, p99_X_ms, p99.9_X_ms.
 * Each is the mean over the replications; "ci95" holds the half-width of its 95% interval
 * under the same key. Everything else capsim measures is under "metrics" by its
 * summary.csv name, with its interval and unit; the setting that made it under "scenario"
 * (resolved, as in scenario.ini) and the seeds under "seeds". A figure that could not be
 * measured is null (JSON has no NaN).
 */
#ifndef CAPSIM_JSONOUT_H
#define CAPSIM_JSONOUT_H

#include <stdio.h>

#include "sim/plan/runspec.h"

/* Writes the JSON object of one run to fp. Returns 0, or -1 if out of memory. */
int jsonout_summary(FILE *fp, const run_spec *r, const resolved *x, const serve_result *res);

#endif
