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
 * Measured-kernel model (the default where the GPU has tables, models/kstep.h): the step is priced from the measured kernel
 * tables of the GPU; the roofline terms are kept beside it for the FLOPs and bytes that
 * `capsim estimate` shows, and its coefficients' noise_cv still applies.
 *
 * A step_model is a plain value built once per deployment; evaluating it allocates nothing.
 */
#ifndef CAPSIM_STEPTIME_H
#define CAPSIM_STEPTIME_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

#include "models/gpu.h"
#include "models/model.h"

/*
 * Context classes of the decoding sequences: class j holds the sequences whose context c
 * (tokens attended, the new one included) has floor(log2(c + 1)) = j, that is c in
 * [2^j - 1, 2^(j+1) - 1); contexts of 2^23 - 1 tokens or more share the top class. The
 * measured decode-attention tables hold contexts 2^j - 1 (1, 3, 7, ..., 131071) and
 * interpolate linearly between them, so a class is one linear piece of the table: pricing a
 * class's sequences at their mean context costs what pricing each at its own context does.
 */
#define STEP_CTX_CLASSES 24

/* What one step computes. Counts are summed over the sequences in the step. */
typedef struct step_shape {
    double prefill_tokens;   /* prompt tokens computed in this step */
    double prefill_seqs;     /* sequences with a prefill chunk in this step */
    double prefill_attn;     /* attention pairs of the chunks: sum chunk x (before + (chunk+1)/2) */
    double prefill_ctx_read; /* sum over chunks of earlier tokens whose KV the chunk reads */
    double decode_seqs;      /* sequences decoding one token each */
    double decode_ctx;       /* sum of the decoding sequences' context lengths, tokens */
    /* Optional, for the measured-kernel model: the decoding sequences by context class, in
     * whole tokens (so that the sums stay exact as they advance). decode_classes 0
     * (step_shape_decode, or any shape that fills only the sums): decode attention is priced
     * at the mean context. Otherwise bit j is set when class j has sequences, and the classes
     * hold every decoding sequence: class_seqs sum to decode_seqs and class_ctx to
     * decode_ctx. Only the set classes are read. */
    uint32_t decode_classes;
    uint32_t class_seqs[STEP_CTX_CLASSES]; /* sequences of the class */
    uint64_t class_ctx[STEP_CTX_CLASSES];  /* sum of their contexts, tokens */
} step_shape;

/* A batch of b prompts of p tokens, prefilled in one step. */
step_shape step_shape_prefill(double b, double p);
/* A decode step of b sequences whose context is c tokens each (no classes: one context). */
step_shape step_shape_decode(double b, double c);

/* The context class of a decoding sequence attending over c tokens (see STEP_CTX_CLASSES):
 * floor(log2(c + 1)), at most the top class. */
static inline int step_ctx_class(uint64_t c)
{
    uint64_t v = c + 1;
    if (v >= (uint64_t)1 << (STEP_CTX_CLASSES - 1))
        return STEP_CTX_CLASSES - 1;
    uint32_t u = (uint32_t)v;
#if defined(__GNUC__) || defined(__clang__)
    return 31 - __builtin_clz(u | 1u);
#else
    int j = 0;
    for (int w = 16; w > 0; w /= 2)
        if (u >> w) {
            u >>= w;
            j += w;
        }
    return j;
#endif
}

/* The lowest set bit of a nonzero mask, 0..31 (the next non-empty class to read). */
static inline int step_class_lowest(uint32_t mask)
{
#if defined(__GNUC__) || defined(__clang__)
    return __builtin_ctz(mask);
#else
    static const unsigned char DEBRUIJN[32] = {0,  1,  28, 2,  29, 14, 24, 3,  30, 22, 20,
                                               15, 25, 17, 4,  8,  31, 27, 13, 23, 21, 19,
                                               16, 7,  26, 12, 18, 6,  11, 5,  10, 9};
    return DEBRUIJN[((mask & (0u - mask)) * 0x077CB531u) >> 27];
#endif
}

/* Adds one decoding sequence of c tokens of context to its class in s, leaving the sums
 * (decode_seqs, decode_ctx) to step_shape_class_totals: the fast way to fill a shape from
 * many sequences. */
static inline void step_shape_class_add(step_shape *s, uint64_t c)
{
    int j = step_ctx_class(c);
    s->decode_classes |= 1u << j;
    s->class_seqs[j] += 1;
    s->class_ctx[j] += c;
}

/* Sets the sums of s's decoding sequences from its classes (exact: whole tokens). */
static inline void step_shape_class_totals(step_shape *s)
{
    uint64_t n = 0, c = 0;
    for (uint32_t m = s->decode_classes; m != 0; m &= m - 1) {
        int j = step_class_lowest(m);
        n += s->class_seqs[j];
        c += s->class_ctx[j];
    }
    s->decode_seqs = (double)n;
    s->decode_ctx = (double)c;
}

/* Adds one decoding sequence of c tokens of context to s: the sums and its class. The
 * classes of s must be all filled or all empty: a shape started from {0} and built by this
 * alone is. */
static inline void step_shape_add_decode(step_shape *s, uint64_t c)
{
    step_shape_class_add(s, c);
    s->decode_seqs += 1;
    s->decode_ctx += (double)c;
}

/* The next decode step of the same batch: every decoding sequence's context grows by one
 * token. Each sequence stays in its class, whose sum grows by its count (a caller that
 * needs the classes exact stops before a sequence would cross into the next class; see
 * step_shape_steps_in_class). */
static inline void step_shape_advance_decode(step_shape *s)
{
    s->decode_ctx += s->decode_seqs;
    for (uint32_t m = s->decode_classes; m != 0; m &= m - 1) {
        int j = step_class_lowest(m);
        s->class_ctx[j] += s->class_seqs[j];
    }
}

/* The steps a sequence of c tokens of context can advance and stay in its class (c grows by
 * one a step): at least 1; UINT32_MAX in the top class, which has no end. */
static inline uint32_t step_shape_steps_in_class(uint64_t c)
{
    int j = step_ctx_class(c);
    if (j == STEP_CTX_CLASSES - 1)
        return UINT32_MAX;
    return (uint32_t)(((uint64_t)1 << (j + 1)) - 1 - c); /* to the first context of j + 1 */
}

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

/* 1 if sm prices decode attention by context class (step_shape's classes; the kernel model),
 * so that a caller need fill them; the roofline and linear models read only the sums. */
static inline int step_model_prices_classes(const step_model *sm)
{
    return sm->kind == STEP_KERNELS;
}

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
