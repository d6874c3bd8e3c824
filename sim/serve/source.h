/*
 * source: where a replication's requests come from. An open workload reads them from a
 * request source (a trace, or synthetic arrivals with drawn lengths); a closed loop draws
 * each user's next request's lengths when the user sends it.
 */
#ifndef CAPSIM_SERVE_SOURCE_H
#define CAPSIM_SERVE_SOURCE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/serve/serve.h"
#include "workloads/prefix.h"

/* Random sources per replication (see serve.h). */
enum { SERVE_SRC_ARRIVALS = 0, SERVE_SRC_LENGTHS = 1, SERVE_SRC_ROUTING = 2, SERVE_SRC_NOISE0 = 3 };

/* Opens the open workload of c for a replication with these seeds. A resampled trace
 * (wl.trace_resample_block_s > 0) gives exactly n_requests requests, the count
 * serve_source_count found. Returns the source (close with reqsrc_close), or NULL with a
 * message. */
reqsrc *serve_source_open(const serve_config *c, const unsigned long *seeds,
                          uint64_t n_requests, char *err, size_t errlen);

/* Number of requests the workload will offer into *n (a trace is counted by reading it
 * once, and its row statistics go into res). Returns 0, or -1 with a message. */
int serve_source_count(const serve_config *c, uint64_t *n, serve_result *res, char *err,
                       size_t errlen);

/* A request longer than c->max_model_len (prompt + output tokens; 0: no limit): returns 0
 * when rq fits (or there is no limit); 1 when it is over and must be refused (*fit = *rq);
 * 2 when it was over and *fit is the request cut to fit (--over-length truncate: the
 * prompt is cut to leave room for the output; the output is cut only when it alone leaves
 * no room for one prompt token); -1 when it is over and the run must stop
 * (--over-length error; serve_source_over_error says why). */
int serve_source_fit(const serve_config *c, const request *rq, request *fit);

/* The words every --over-length error message holds, so that callers can tell it from a
 * failure of the work. */
#define SERVE_OVER_LENGTH_ERROR_TAG "(--over-length error;"

/* The message of --over-length error for rq, named by what ("file:line: request 7"). */
void serve_source_over_error(const serve_config *c, const request *rq, const char *what, char *err,
                             size_t errlen);

/* Closed loop: the lengths of a request sent at now_s, drawn with rng, the sender not known:
 * with shared-prefix groups the request's user (and its group) is drawn at random among the
 * G x U users. */
request serve_source_closed_request(const serve_config *c, gsl_rng *rng, double now_s);

/* Closed loop, knowing the sender: user u's request sent at now_s. With groups, user u is
 * in group u / U (users = G x U); with sessions, the request is u's next turn, chats
 * holding where every user is (prefix_chats_init with wl.users users, and
 * prefix_chats_reset at the start of each replication). Otherwise as
 * serve_source_closed_request (the same draws). The simulator's closed loop
 * (sim/serve/serve.c on_user) calls it. */
request serve_source_user_request(const serve_config *c, prefix_chats *chats, uint32_t u,
                                  gsl_rng *rng, double now_s);

#endif
