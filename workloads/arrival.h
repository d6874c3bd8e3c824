/*
 * arrival: arrival processes from a text spec.
 *
 *   poisson:rate=R              exponential inter-arrival times, R per second
 *   deterministic:rate=R        one arrival every 1/R seconds
 *   gamma:rate=R,cv=C           gamma inter-arrival times, mean 1/R, coefficient of variation
 *                               C (C > 1 is burstier than Poisson, C < 1 smoother)
 *
 * These are renewal processes: an arrival_process is its inter-arrival distribution.
 * The caller owns the struct; arrival_fini() frees what parsing allocated.
 */
#ifndef CAPSIM_ARRIVAL_H
#define CAPSIM_ARRIVAL_H

#include <stddef.h>

#include "sim/dist.h"

typedef struct arrival_process {
    dist interarrival; /* seconds between consecutive arrivals */
    double rate_per_s; /* mean arrivals per second, 1 / E[interarrival] */
    char text[256];    /* the spec as given */
} arrival_process;

/* Parses text. On failure returns -1 with a one-line message naming the bad part and the
 * expected form. */
int arrival_parse(const char *text, arrival_process *a, char *err, size_t errlen);

static inline double arrival_next_gap(const arrival_process *a, gsl_rng *r)
{
    return dist_sample(&a->interarrival, r);
}

void arrival_fini(arrival_process *a);

const char *arrival_forms(void);

#endif
