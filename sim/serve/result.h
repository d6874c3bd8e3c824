/*
 * result: what a run reports once every replication is done: each figure's mean and 95%
 * confidence interval over replications, the Little's-law check, whether each SLO target
 * is met, and the cost per hour.
 */
#ifndef CAPSIM_SERVE_RESULT_H
#define CAPSIM_SERVE_RESULT_H

#include <stddef.h>
#include <stdint.h>

#include "sim/serve/serve.h"

/* What became of a replication's requests, checked when it ends. */
typedef struct serve_conservation {
    uint64_t requests;  /* the workload's requests */
    uint64_t offered;   /* that arrived */
    uint64_t finished;  /* that produced every token */
    uint64_t refused;   /* that could never run */
    uint64_t in_system; /* still waiting or running */
    uint64_t kv_blocks; /* still held */
} serve_conservation;

/* Checks, in every build, that every request of the workload was offered and ended
 * finished or refused (the only terminal states), with nothing left in the system and
 * no KV block held. Returns 0, or -1 with a message naming the counts (a bug in the
 * simulation, reported rather than aborting). */
int serve_result_check_conservation(const serve_conservation *c, int rep_index, char *err,
                                    size_t errlen);

/* Saturation. An open workload (arrivals that do not wait for answers: a synthetic arrival
 * process or a trace) saturates the deployment when it carries less than it is offered, so
 * that the queue grows for as long as requests keep coming and every latency depends on
 * how long the run is: its percentiles are not steady-state figures. The rule: a run is
 * saturated when the upper end of the 95% CI over replications of carried / offered is
 * below SERVE_SATURATED_SHARE, where offered is the rate at which the measured requests
 * arrived (serve_metrics_offered_rate: admitted ones, over their span) and carried is
 * request_throughput (completions per second over the measurement window; with one
 * replication, its value). A stable system carries what it is offered, less the change in
 * the number in the system over the window, which the warm-up makes small: 5% leaves room
 * for that and for noise. A closed loop cannot be saturated in this sense (its users wait,
 * so the queue is bounded by their number), nor a batch that arrives at once and drains (its
 * requests all arrive before the first could finish): they are not judged. */
#define SERVE_SATURATED_SHARE 0.95

/* Sets res->offered_rate, carried_share and saturated from each replication's offered rate
 * (offered[r], NAN where not judged) and request_throughput (res->per_rep); share[reps] is
 * the caller's scratch space. */
void serve_result_saturation(serve_result *res, const double *offered, double *share, size_t reps);

/* Fills res's summary from res->per_rep, which holds every replication's figures. */
void serve_result_summarise(const serve_config *c, serve_result *res);

#endif
