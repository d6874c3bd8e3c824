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

/* Fills res's summary from res->per_rep, which holds every replication's figures. */
void serve_result_summarise(const serve_config *c, serve_result *res);

#endif
