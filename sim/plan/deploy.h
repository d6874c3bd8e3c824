/*
 * deploy: a deployment resolved from names to numbers: which model (catalog name or a
 * Hugging Face config.json), which GPU, precisions, tensor parallelism, memory settings,
 * the software stack and the step-time model, giving a memory plan and a step-time model.
 *
 * Shared by `capsim estimate` and the serving simulation. The caller owns the struct;
 * deploy_resolve() loads the catalogs into it and deploy_fini() frees them. The step-time
 * coefficients come from a profile file, or as values (deploy_options.coeffs) from a caller
 * that has them in memory, such as a calibration that has just fitted them.
 */
#ifndef CAPSIM_DEPLOY_H
#define CAPSIM_DEPLOY_H

#include <stddef.h>
#include <stdint.h>

#include "models/memplan.h"
#include "models/profile.h"
#include "models/steptime.h"
#include "sim/plan/stack.h"

typedef struct deploy_options {
    const char *model; /* catalog name, or a path ending in .json */
    const char *gpu;
    const char *precision;    /* weights: fp16, bf16, fp8, int8, int4 */
    int precision_given;      /* the user chose it: a config's quantization_config yields */
    const char *price;        /* "GPU=USD,..." overriding the catalog's prices (NULL: none) */
    const char *prices_file;  /* a CSV gpu,usd_per_hour[,source] (NULL: none); price wins */
    const char *kv_precision; /* NULL: 16-bit (bf16 with bf16 weights, else fp16) */
    int tp;
    int tensor_cores; /* 1 = use them (default), 0 = what-if without */
    double gpu_memory_utilization;
    double reserve_bytes_per_gpu; /* < 0: memplan_default_reserve(tp) */
    uint32_t block_size;
    const char *profile;     /* profile CSV; NULL = models/profiles/default.csv */
    const profile_row *coeffs; /* non-NULL: these coefficients, and no profile file is read */
    const char *step_model;  /* NULL = the stack's default (the measured-kernel model where
                                the GPU has tables, else the roofline); "kernels";
                                "roofline"; "linear:a=A,b=B" for the linear model */
    const char *stack;       /* NULL or "auto": the newest measured on the GPU (stack.h) */
    const char *kernel_coeffs; /* NULL: the kernel model's defaults; else a kernel_coeffs.csv
                                  (models/kcoeffs.h) for this GPU and stack */
    const char *catalog_dir; /* NULL = the default */
} deploy_options;

typedef struct deploy {
    model_list models;
    gpu_list gpus;
    profile_list profiles;
    model_arch model; /* copy of the chosen model */
    gpu_spec gpu;     /* copy of the chosen GPU */
    precision weights, kv;
    int tp;
    memplan_config mem_cfg;
    memplan mem;
    profile_row profile; /* the roofline coefficients used (the kernels' fallback) */
    stack_choice stack;  /* the software stack; name "" for the linear model */
    char step_data[4400]; /* what priced the steps: "measured kernels, models/kernels/...",
                            "roofline, profile models/profiles/default.csv row h100-sxm" */
    step_model step;
    struct kstep *kstep; /* the measured-kernel model that step uses; NULL without it */
    char note[256]; /* a precision fallback, said in the output; "" if none */
    char weights_note[256]; /* where the weight precision came from when a config.json
                               says how its weights are stored; "" otherwise */
    char price_source[320]; /* where gpu.price_usd_per_hour came from (sim/plan/prices.h) */
} deploy;

/* Sets the defaults: bf16 on tp 1 with tensor cores, utilisation 0.9, 16-token blocks. */
void deploy_options_default(deploy_options *o);

/* --mem-reserve: "auto" (the default reserve, -1 in *reserve_bytes_per_gpu) or GB per GPU,
 * from 0 to 10000. Returns 0, or -1 with a one-line message naming the option. Every
 * command that takes the option parses it here. */
int deploy_parse_mem_reserve(const char *text, double *reserve_bytes_per_gpu, char *err,
                             size_t errlen);

/* Resolves o into *d. On failure returns -1 with a one-line message (unknown names list
 * what exists; a model that does not fit says what would); *d then holds nothing to free. */
int deploy_resolve(const deploy_options *o, deploy *d, char *err, size_t errlen);

/* Under the measured-kernel model, which parts of steps of these sizes are priced beyond
 * the measured tables (by the roofline of the kernel, at least its table's edge value):
 * decode steps of seqs sequences, a decoding sequence at ctx tokens, prefill steps of
 * tokens prompt tokens, and a prefill chunk after chunk_ctx tokens of context. Writes
 * "decode attention at a context of 65535 tokens; GEMMs at 16384 tokens per step" into buf
 * and returns 1, or writes "" and returns 0 when every part is inside the tables (or the
 * steps are not priced by the kernels). */
int deploy_extrapolation(const deploy *d, double seqs, double ctx, double tokens,
                         double chunk_ctx, char *buf, size_t len);
void deploy_fini(deploy *d);

#endif
