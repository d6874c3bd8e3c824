/*
 * steptime: how long one forward pass ("step") of a replica takes for a given batch.
 *
 * Roofline model (DESIGN.md, "The service-time model"):
 *
 *   t_step = t_fixed + t_layer x layers + max(t_compute, t_memory) + comm_scale x t_comm
 *            (then x noise)
 *
 *   t_compute = (GEMM FLOPs + attn_scale x attention FLOPs) per GPU
 *               / (peak rate of the precision's path x mfu)
 *   t_memory  = (weight bytes + KV bytes read and written) per GPU / (memory bandwidth x mbu)
 *   t_comm    = 2 all-reduces per layer over the tp GPUs, ring algorithm:
 *               2 (n-1)/n x message bytes / link bandwidth + 2 (n-1) x link latency
 *   GEMM FLOPs      = 2 x active non-embedding parameters x tokens + LM head per sequence
 *   attention FLOPs = 4 x layers x heads x head_dim x attention (query, key) pairs
 *
 * The per-step overhead has a constant part and a part per layer (kernel launches grow
 * with depth), so a profile fitted on 80-layer models does not charge a 16-layer model
 * the same overhead. attn_scale is how much slower attention runs than the GEMMs per
 * FLOP (1 = the same). mfu, mbu, t_fixed, t_layer, comm_scale and attn_scale are
 * calibrated coefficients (models/profiles/); noise is a lognormal factor with mean 1
 * and coefficient of variation noise_cv.
 *
 * Linear model for teaching and tests: t_step = a + b x (sequences in the step).
 *
 * Measured-kernel model (opt-in, models/kstep.h): the step is priced from the measured kernel
 * tables of the GPU; the roofline terms are kept beside it for the FLOPs and bytes that
 * `capsim estimate` shows, and its coefficients' noise_cv still applies.
 *
 * A step_model is a plain value built once per deployment; evaluating it allocates nothing.
 */
#ifndef CAPSIM_STEPTIME_H
#define CAPSIM_STEPTIME_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

#include "models/gpu.h"
#include "models/model.h"

/* What one step computes. Counts are summed over the sequences in the step. */
typedef struct step_shape {
    double prefill_tokens;   /* prompt tokens computed in this step */
    double prefill_seqs;     /* sequences with a prefill chunk in this step */
    double prefill_attn;     /* attention pairs of the chunks: sum chunk x (before + (chunk+1)/2) */
    double prefill_ctx_read; /* sum over chunks of earlier tokens whose KV the chunk reads */
    double decode_seqs;      /* sequences decoding one token each */
    double decode_ctx;       /* sum of the decoding sequences' context lengths, tokens */
} step_shape;

/* A batch of b prompts of p tokens, prefilled in one step. */
step_shape step_shape_prefill(double b, double p);
/* A decode step of b sequences whose context is c tokens each. */
step_shape step_shape_decode(double b, double c);

typedef struct step_coeffs {
    double mfu;        /* achieved share of peak FLOP rate in the GEMMs */
    double mbu;        /* achieved share of peak memory bandwidth */
    double t_fixed_s;  /* per-step overhead independent of the model: scheduling, sampling */
    double t_layer_s;  /* per-step overhead per layer: kernel launches */
    double comm_scale; /* multiplies the ideal all-reduce time */
    double attn_scale; /* attention time per FLOP relative to the GEMMs */
    double noise_cv;   /* spread of the multiplicative noise (0 = deterministic) */
} step_coeffs;

typedef enum step_kind { STEP_ROOFLINE, STEP_LINEAR, STEP_KERNELS } step_kind;

struct kstep;

typedef struct step_model {
    step_kind kind;
    step_coeffs c;
    /* roofline terms, precomputed */
    int tp;
    double rate_flops; /* per GPU, the path that applies */
    precision rate_path;
    int rate_native;               /* 0 if the precision fell back to a slower path */
    double mem_bw;                 /* bytes/s per GPU */
    double flops_per_token;        /* 2 x active non-embedding parameters */
    double flops_per_logit;        /* LM head, per sequence */
    double flops_per_attn_pair;    /* 4 x layers x heads x head_dim */
    double dense_weight_bytes;     /* weights read every step (whole replica) */
    double expert_bytes_per_layer; /* MoE: one expert's MLP in one layer */
    int layers, experts, experts_per_token;
    double kv_bytes_per_token_gpu;    /* KV bytes per token held on each GPU */
    double allreduce_bytes_per_token; /* hidden x activation bytes */
    double link_bw, link_latency_s;
    /* linear */
    double a_s, b_s;
    /* measured kernels: owned by whoever built it (the deployment), not by the step_model */
    const struct kstep *kernels;
} step_model;

/* Builds the roofline model for a deployment. */
void step_model_roofline(step_model *sm, const model_arch *m, const gpu_spec *g, precision weights,
                         precision kv, int tp, int tensor_cores, const step_coeffs *c);

/* Turns a roofline model into the measured-kernel model priced by k (models/kstep.h); the
 * roofline terms stay, for the breakdown's FLOPs and bytes. k must outlive sm. */
void step_model_kernels(step_model *sm, const struct kstep *k);

/* Parses "linear:a=A,b=B" (seconds). Returns -1 with a message on bad input. */
int step_model_linear_parse(step_model *sm, const char *text, char *err, size_t errlen);

typedef struct step_breakdown {
    double flops_per_gpu;
    double weight_bytes_per_gpu;
    double kv_bytes_per_gpu;
    double attn_flops_per_gpu;
    double t_compute_s, t_memory_s, t_comm_s, t_fixed_s; /* t_fixed_s: all overhead */
    /* (kernel model: t_compute_s holds the kernels but the all-reduces, t_memory_s 0,
     * t_comm_s the all-reduces, t_fixed_s the time outside the kernels) */
    double t_step_s;                                     /* mean step time, before noise */
    int compute_bound;                                   /* 1 if t_compute >= t_memory */
    double intensity;                                    /* FLOPs per byte moved */
    double ridge; /* peak FLOPs per byte of bandwidth: above it, compute-bound */
} step_breakdown;

/* Mean step time (before noise), seconds; fills *b when not NULL. */
double step_time_s(const step_model *sm, const step_shape *s, step_breakdown *b);

/* One draw: the mean times a lognormal factor of mean 1 and cv noise_cv. */
double step_time_sample(const step_model *sm, const step_shape *s, gsl_rng *r);

#endif
