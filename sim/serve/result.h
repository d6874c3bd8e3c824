/*
 * result: what a run reports once every replication is done: each figure's mean and 95%
 * confidence interval over replications, the Little's-law check, whether each SLO target
 * is met, and the cost per hour.
 */
#ifndef CAPSIM_SERVE_RESULT_H
#define CAPSIM_SERVE_RESULT_H

#include "sim/serve/serve.h"

/* Fills res's summary from res->per_rep, which holds every replication's figures. */
void serve_result_summarise(const serve_config *c, serve_result *res);

#endif
