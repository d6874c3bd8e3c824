/*
 * kernels: the set of measured kernel tables of one GPU and one software stack, as shipped
 * in models/kernels/<gpu>/<stack>/ (see models/kernels/README.md), and the choice of stack.
 *
 * A stack is a folder "<engine>-<version>" (vllm-0.14.0, vllm-0.19.0) holding the GEMM,
 * attention, MoE and custom all-reduce tables; the NCCL table lives in the GPU's
 * "nccl-<version>" folder and is loaded with every stack (the newest NCCL there). The default
 * stack of a GPU is its newest vLLM version. Versions compare numerically by component
 * (0.19.0 is newer than 0.9.1).
 *
 * kernels_load() allocates; kernels_free() frees.
 */
#ifndef CAPSIM_MODELS_KERNELS_H
#define CAPSIM_MODELS_KERNELS_H

#include <stddef.h>

#include "models/ktable.h"

#define KERNELS_NAME_MAX 64
#define KERNELS_MAX_STACKS 16

typedef struct kernels_set {
    char gpu[KERNELS_NAME_MAX];   /* folder name, e.g. h100_sxm */
    char stack[KERNELS_NAME_MAX]; /* e.g. vllm-0.19.0 */
    char nccl[KERNELS_NAME_MAX];  /* e.g. nccl-2.29.2, "" when the GPU has none */
    ktable *table[KTABLE_NKINDS]; /* NULL where the stack has no such table */
} kernels_set;

/* The folder of models/kernels/ measured on catalog GPU `gpu` (models/catalog/gpus.csv
 * name: h100-sxm, h200, a100-80gb, l40s, b200), or NULL for a GPU without tables. */
const char *kernels_gpu_folder(const char *gpu);

/* The catalog names of the GPUs with tables, "h100-sxm, h200, ...", into buf (for messages
 * that say where tables exist). Returns buf. */
const char *kernels_gpu_names(char *buf, size_t len);

/* The vLLM stacks measured on folder gpu under dir, oldest first, into names; returns how
 * many (0 when none or the folder is missing). */
int kernels_stacks(const char *dir, const char *gpu, char names[][KERNELS_NAME_MAX], int max);

/* The vLLM stacks measured on folder gpu under dir, oldest first, joined by sep into buf
 * ("" when none). Returns the number of stacks. */
int kernels_stack_names(const char *dir, const char *gpu, const char *sep, char *buf,
                        size_t len);

/* Loads every table of dir/gpu/stack (stack NULL: the newest) and the GPU's newest NCCL
 * table. Returns 0, or -1 with a message (no such GPU or stack, a malformed table). */
int kernels_load(const char *dir, const char *gpu, const char *stack, kernels_set *out,
                 char *err, size_t errlen);

void kernels_free(kernels_set *s);

#endif
