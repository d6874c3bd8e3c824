/*
 * validate: the built-in table of queues with known exact answers, run through the
 * queueing mode and compared figure by figure.
 *
 * A figure passes when the exact value lies inside the simulation's 99.9% Student-t
 * interval. The table reports the 95% interval as everywhere else; the wider interval
 * for the verdict keeps the chance that a correct simulator fails one of the ~40 checks
 * near 4% for a random seed (the default seed passes, and is tested).
 */
#ifndef CAPSIM_VALIDATE_H
#define CAPSIM_VALIDATE_H

#include <stdint.h>
#include <stdio.h>

typedef struct validate_options {
    uint64_t seed;
    double scale;     /* multiplies the customers per replication (1 = full, smaller = quicker) */
    const char *only; /* run only cases whose name contains this text; NULL = all */
} validate_options;

typedef struct validate_summary {
    int n_cases;
    int n_checks;
    int n_failed;
} validate_summary;

/* Runs the cases, printing the table to out. Returns 0 on success (whatever the verdicts),
 * or -1 with a message if a case could not run. */
int validate_run(const validate_options *opt, FILE *out, validate_summary *sum, char *err,
                 size_t errlen);

#endif
