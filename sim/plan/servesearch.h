/*
 * servesearch: the serving model as the evaluator of the searches in search.h. The
 * searched value is the arrival rate, or the number of replicas, of a scenario (run_spec);
 * each setting tried is resolved and simulated with serve_run and judged on the scenario's
 * SLOs.
 */
#ifndef CAPSIM_SERVESEARCH_H
#define CAPSIM_SERVESEARCH_H

#include <stdint.h>
#include <stdio.h>

#include "sim/plan/runspec.h"
#include "sim/plan/search.h"

/* Requests per replication of a search whose scenario says --requests auto: at least
 * SERVESEARCH_AUTO_REQUESTS, and SERVESEARCH_AUTO_PER_REPLICA per replica when that is
 * more. Near saturation the tail of TTFT needs long runs before it settles: with 2000
 * requests the capacity estimate came out 10-20% low and its interval 60% wide on
 * llama-3.1-8b / H100, against 8000. */
#define SERVESEARCH_AUTO_REQUESTS 8000
#define SERVESEARCH_AUTO_PER_REPLICA 4000

/* Sets the replicas of r to n and, when base says --requests auto, the requests per
 * replication to what n replicas need (see servesearch.c). */
void servesearch_set_replicas(run_spec *r, const run_spec *base, uint64_t n);

/* The settings every search runs with: 10 replications unless given, no time series, no
 * per-request records. */
void servesearch_prepare(run_spec *base);

/* 1 when r replays a trace (--trace): its rate search is on --trace-speedup. */
int servesearch_on_trace(const run_spec *r);

/* The mean arrival rate of r's trace at r's speedup (and --requests, window), req/s: its
 * requests less one over the time between the first and the last; NAN when they span no
 * time. Returns 0, or -1 with err when the trace cannot be read. */
int servesearch_trace_rate(const run_spec *r, double *rate_req_s, char *err, size_t errlen);

/* The arrival rate of r (its rate= key), or NAN. */
double servesearch_arrival_rate(const run_spec *r);

/* Requests per replication of a no-load run (servesearch_noload). */
#define SERVESEARCH_NOLOAD_REQUESTS 1000

/* The SLO figures of base at no load: one replica serving one request at a time (a closed
 * loop of one user), so that no request waits for or batches with another: the floor
 * below which no rate, and no number of replicas, brings the figures. On a trace, its
 * lengths. Fills st as an evaluator does and judges it; returns 0, or -1 with st->err
 * (a scenario a closed loop cannot run, say). */
int servesearch_noload(const run_spec *base, search_step *st);

/* search_rate and search_replicas on the scenario base: the rate (on a trace, its
 * speedup), or the number of replicas, is the searched value. Each step tried is
 * printed to log as one line unless log is NULL. Return as the searches do. */
int servesearch_rate(const run_spec *base, double start, double tol, FILE *log,
                     search_rate_result *s);
int servesearch_replicas(const run_spec *base, uint64_t start, FILE *log,
                         search_replica_result *s);

#endif
