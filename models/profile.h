/*
 * profile: calibrated step-time coefficients per GPU, as CSV (models/profiles/default.csv
 * ships with capsim; `capsim fit --out` writes the same shape from measurements).
 *
 * Columns: gpu, mfu, mbu, t_fixed_ms, t_layer_ms, comm_scale, attn_scale, noise_cv,
 * basis (how the row was obtained), source. A row whose gpu is "*" applies to any GPU
 * without a row of its own.
 */
#ifndef CAPSIM_PROFILE_H
#define CAPSIM_PROFILE_H

#include <stddef.h>
#include <stdio.h>

#include "models/steptime.h"

typedef struct profile_row {
    char gpu[32];
    step_coeffs c;
    char basis[256];
    char source[256];
} profile_row;

typedef struct profile_list {
    profile_row *items;
    size_t n;
} profile_list;

int profile_list_load(const char *path, profile_list *out, char *err, size_t errlen);
void profile_list_free(profile_list *l);

/* The row for gpu, else the "*" row, else NULL. */
const profile_row *profile_list_find(const profile_list *l, const char *gpu);

/* Writes a header and one row. */
void profile_write(FILE *fp, const profile_row *row);

#endif
