/*
 * stack: which measured software stack prices a deployment's steps (issue 12, `--stack`).
 *
 * A stack is the serving engine a step time describes:
 *   - "vllm-0.19", "vllm-0.14" (or their folder names, "vllm-0.19.0"): the vLLM release whose
 *     kernels were measured in models/kernels/<gpu>/ (models/kernels.h). On a GPU with tables
 *     for it the step model is the measured-kernel model (models/kstep.h); on any other GPU,
 *     or with `--step-model roofline`, the roofline with the stack's profile,
 *     models/profiles/vllm-0.19.csv (when it exists; else the 2023 profile, and said so);
 *   - "splitwise-2023": the roofline fitted to the Splitwise measurements of 2023 (an early
 *     vLLM without CUDA graphs), models/profiles/default.csv, kept for reproduction;
 *   - "auto" (or NULL): the newest vLLM stack measured on the GPU; a GPU without tables takes
 *     the newest vLLM profile that exists.
 * stack_resolve() turns the request into a choice and says in one line why it refuses (a
 * stack not measured on the GPU names those that are).
 */
#ifndef CAPSIM_PLAN_STACK_H
#define CAPSIM_PLAN_STACK_H

#include <stddef.h>

#define STACK_NAME_MAX 64
#define STACK_SPLITWISE "splitwise-2023"

typedef struct stack_choice {
    char name[STACK_NAME_MAX];   /* "vllm-0.19.0", "vllm-0.19" (profile only), "splitwise-2023" */
    int kernels;                 /* 1: price steps with the measured-kernel model */
    char kernel_stack[STACK_NAME_MAX]; /* the folder of models/kernels/<gpu>/ when kernels */
    char profile[4096];          /* the roofline's profile CSV (also the kernels' fallback) */
    char note[256];              /* why a fallback was taken; "" if none */
} stack_choice;

/* Resolves stack request `stack` (NULL, "auto", a name above) for catalog GPU `gpu` and step
 * model request `step_model` (NULL: the stack's default; "kernels"; "roofline"), with the
 * shipped data under data_dir. Returns 0, or -1 with a one-line message. */
int stack_resolve(const char *stack, const char *gpu, const char *step_model,
                  const char *data_dir, stack_choice *out, char *err, size_t errlen);

/* "vllm-0.19, vllm-0.14, splitwise-2023": the names --stack takes, for help and messages. */
const char *stack_names(void);

#endif
