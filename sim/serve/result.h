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
 * that the queue (or the running batch) grows for as long as requests keep coming and
 * every latency depends on how long the run is: its percentiles are not steady-state
 * figures. The rule: a run is saturated when the upper end of the 95% interval over
 * replications of its carried share is below SERVE_SATURATED_SHARE. The carried share is
 * the completions over the admitted arrivals of the second half of the measured arrivals
 * (serve_metrics_carried_share); offered_rate is the rate at which the measured requests
 * arrived (serve_metrics_offered_rate: admitted ones, over their span).
 *
 * A stable system carries what it is offered, less the change in the number in the system
 * over that half. Two parts of that change are allowed for: what a system still filling
 * would lack (the fill allowance of serve_metrics_carried_share; a run too short for it to
 * be small is not judged), and its Poisson-like noise (the interval is never narrower than
 * SERVE_SATURATED_NOISE_SIZES times it, so that few requests do not make a verdict: a run
 * of 100 requests at 2 req/s carried 0.93 of them in both of two replications); 5% leaves
 * room for the rest. Measured over the whole
 * window instead, as the first version of this rule did, a fleet that keeps up but whose
 * answers take long against the run (64 replicas, 400 requests, 3 s answers) read as
 * carrying 0.72 of what it was offered, and a single H100 at 113.5 req/s of chat with runs
 * of 4000 requests as 0.91 where long runs carry 0.93.
 *
 * A closed loop cannot be saturated in this sense (its users wait, so the queue is bounded
 * by their number), nor a batch that arrives at once and drains (its requests all arrive
 * before the first could finish): they are not judged. */
#define SERVE_SATURATED_SHARE 0.95

/* How many of a replication's own noise (serve_metrics_carried_share) the interval of the
 * carried share is at least wide: about a 95% interval for a Poisson-like count. */
#define SERVE_SATURATED_NOISE_SIZES 2.0

/* Sets res->offered_rate, carried_share and saturated from each replication's offered rate,
 * carried share, fill allowance and noise (offered[r], share[r], allowance[r], noise[r]:
 * serve_metrics_offered_rate and serve_metrics_carried_share, NAN where not judged). The
 * run is judged only when every replication is: saturated when the mean share plus the
 * mean allowance plus the interval's half-width (at least SERVE_SATURATED_NOISE_SIZES
 * mean noises) is below SERVE_SATURATED_SHARE. */
void serve_result_saturation(serve_result *res, const double *offered, const double *share,
                             const double *allowance, const double *noise, size_t reps);

/* Fills res's summary from res->per_rep, which holds every replication's figures. */
void serve_result_summarise(const serve_config *c, serve_result *res);

#endif
