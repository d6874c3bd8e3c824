/*
 * kcoeffs: the coefficients of the measured-kernel step model (models/kstep.h) as a file,
 * kernel_coeffs.csv, which `capsim calibrate` writes from a user's own benchmark and
 * `capsim run --kernel-coeffs FILE` (and every command that takes the run options) prices
 * steps with.
 *
 * One row: gpu, stack (the kernel tables' folder, "vllm-0.19.0"), model, then the eight
 * coefficients with their units in the column names (gemm_scale, attn_scale, moe_scale,
 * comm_scale, step_ms, layer_ms, seq_ms, token_layer_ms), basis (how the row was obtained)
 * and source. The scales hold for the GPU and stack whose tables they multiply, so a file
 * is refused for any other (deploy.c); the model is recorded, since the outside terms are
 * fitted on one model's steps.
 */
#ifndef CAPSIM_MODELS_KCOEFFS_H
#define CAPSIM_MODELS_KCOEFFS_H

#include <stddef.h>
#include <stdio.h>

#include "models/kstep.h"

typedef struct kcoeffs_row {
    char gpu[32];
    char stack[64];
    char model[64];
    kstep_coeffs c;
    char basis[512];
    char source[512];
} kcoeffs_row;

/* The column names of the eight coefficients, in the order of KSTEP_C_*, and the factor
 * from seconds (or a plain scale) to the unit the column holds. */
extern const char *const kcoeffs_names[KSTEP_N_COEFFS];
extern const double kcoeffs_unit[KSTEP_N_COEFFS];

/* Reads the one row of path. Returns 0, or -1 with a one-line message naming the file (a
 * missing column, a value out of range, no row or more than one). */
int kcoeffs_load(const char *path, kcoeffs_row *out, char *err, size_t errlen);

/* Writes the header and the row. */
void kcoeffs_write(FILE *fp, const kcoeffs_row *row);

#endif
