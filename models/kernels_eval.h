/*
 * kernels_eval: how well one kernel table predicts the rows of another, for the leave-out
 * accuracy of the interpolation (hold out rows of a table, predict them from the rest) and
 * for the cost of pruning the shipped tables (predict the pruned rows from the kept ones).
 * Used by tests/test_ktable.c and bench/bench_ktable.c; not by the simulation.
 *
 * Errors are absolute percentage errors |predicted - measured| / measured of the rows that
 * fall inside the predicting table's grid; rows it can only extrapolate to (or whose key it
 * lacks) are counted apart, since the step model does not use the table for them.
 */
#ifndef CAPSIM_MODELS_KERNELS_EVAL_H
#define CAPSIM_MODELS_KERNELS_EVAL_H

#include <stddef.h>
#include <stdint.h>

#include "models/ktable.h"

typedef struct kernels_eval {
    size_t rows;         /* rows asked about */
    size_t inside;       /* of which predicted inside the grid (the errors below) */
    size_t extrapolated; /* of which outside the grid */
    size_t no_key;       /* of which of a key (dtype, distribution) the model lacks */
    double median_pct, p90_pct, max_pct; /* NaN when inside is 0 */
} kernels_eval;

/* Predicts every row i of probe for which pick is NULL or pick[i] is set from model
 * (tables of the same kind). Returns 0, or -1 when memory runs out. */
int kernels_eval_predict(const ktable *model, const ktable *probe, const unsigned char *pick,
                         kernels_eval *out);

/* Holds out about frac of t's rows (chosen by a generator seeded with seed), rebuilds the
 * table from the rest and predicts the held-out rows. Returns 0, or -1 on memory. */
int kernels_eval_leave_out(const ktable *t, double frac, uint64_t seed, kernels_eval *out);

#endif
