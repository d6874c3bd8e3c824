/*
 * kstep: the measured-kernel step model (the default where a GPU has tables; `--step-model
 * kernels` asks for it by name): a step's time is the sum over the model's layers of the
 * kernels vLLM runs for that batch, read from the measured tables of models/kernels/
 * (models/ktable.h), plus the engine's time outside the kernels.
 *
 * For a step of T tokens (prefill tokens + decoding sequences) and S sequences:
 *   - per layer, the GEMMs of the QKV, output, gate/up and down projections at m = T, with
 *     the per-GPU shapes after tensor-parallel splitting (QKV n = (heads + 2 kv_heads) x
 *     head_dim / tp, k = hidden; O n = hidden, k = heads x head_dim / tp; gate/up n = 2 x
 *     intermediate / tp, k = hidden; down n = hidden, k = intermediate / tp; a model without
 *     a gated MLP has an up projection of n = intermediate / tp instead);
 *   - per layer, decode attention of the decoding sequences, each at its own context (by
 *     context class, step_shape's; a shape with only the sums is priced at its mean context),
 *     and prefill attention of the prefill chunks at their mean length (kstep.c for both);
 *   - per layer, two all-reduces of T x hidden elements when tp > 1: vLLM's custom
 *     all-reduce (from a CUDA graph in decode-only steps, eager otherwise) where vLLM uses
 *     it, NCCL's otherwise (kstep.c, allreduce_ms, says where);
 *   - once per step, the LM head at m = S (n = vocab / tp, k = hidden);
 *   - outside the kernels: a fixed time per step, a time per layer, per sequence and per
 *     token and layer (kstep_coeffs; models/catalog/SOURCES.md#step-overhead).
 * vLLM replays a decode-only batch from a CUDA graph captured at the next capture size
 * (kstep_graph_size): such a batch pays the GEMMs, the LM head and the all-reduces of the
 * padded size.
 *
 * A kernel whose shape falls outside its table's grid is priced by the roofline of that one
 * kernel (the deployment's peak rates and efficiencies), never below the table's edge value,
 * and flagged in the breakdown (KSTEP_X_*), so that `capsim estimate` can say which parts
 * were extrapolated.
 *
 * MoE models: each layer has the QKV and O projections as dense GEMMs, the router GEMM
 * (n = experts, k = hidden, replicated in bf16) and the fused MoE layer of moe_perf.csv at
 * m = T tokens, the model's experts, top-k and expert size, moe_tp_size = tp and no expert
 * parallelism, under a balanced routing (kstep.c says why; tables that hold only the power
 * law, A100's and L40S's, are read under it and the note says so). A model the MoE tables cannot
 * price (no MoE table for the stack, experts without a gated MLP) is refused with a message
 * saying what is missing.
 *
 * kstep_build() loads the tables and precomputes, for the deployment's shapes, the per-layer
 * GEMMs, the MoE layer, the LM head and the all-reduce at every token count up to 8192 and
 * decode attention at every decode batch up to KSTEP_GRAPH_MAX and every context of the
 * table's grid, so that a decode step costs a few array reads and one interpolation per
 * context class; larger or off-grid steps look the tables up. It allocates; kstep_free() frees. A
 * built model is read-only and may be shared by threads.
 */
#ifndef CAPSIM_MODELS_KSTEP_H
#define CAPSIM_MODELS_KSTEP_H

#include <stddef.h>

#include "models/gpu.h"
#include "models/model.h"
#include "models/precision.h"
#include "models/steptime.h"

/* Parts of a step that may have been priced off the tables (bits of extrapolated). */
#define KSTEP_X_GEMM 1u
#define KSTEP_X_LM_HEAD 2u
#define KSTEP_X_PREFILL_ATTN 4u
#define KSTEP_X_DECODE_ATTN 8u
#define KSTEP_X_ALLREDUCE 16u
#define KSTEP_X_MOE 32u

/* The largest decode-only batch vLLM replays from a CUDA graph (its default capture sizes
 * end at min(2 x max_num_seqs, 512), and max_num_seqs defaults to 256). */
#define KSTEP_GRAPH_MAX 512

/*
 * The coefficients laid on top of the measured kernels: one scale per kernel class (1 = as
 * measured) and the time outside the tables' kernels,
 *
 *   outside = step_s + layer_s x layers + seq_s x sequences + token_layer_s x tokens x layers
 *
 * kstep_default_coeffs() derives the defaults for a deployment from public sources, none of
 * them fitted to serving runs (models/catalog/SOURCES.md#step-overhead):
 *   - the element-wise kernels the tables do not hold, five per layer (two fused residual-add
 *     + RMSNorm, rotary embedding, SiLU-and-mul, the KV-cache write), two per step (the
 *     embedding gather, the final norm) and three sampling passes over the fp32 logits, each
 *     priced as NVIDIA AIConfigurator prices a memory-bound operation: 3 us plus its bytes at
 *     0.8 of the GPU's peak bandwidth (KSTEP_OP_LATENCY_S, KSTEP_OP_BW_FRACTION);
 *   - the engine's host work that the V1 engine does not overlap with the GPU (scheduling and
 *     input preparation of the next step): KSTEP_HOST_STEP_S per step, the share of a typical
 *     decode step that vLLM's fully asynchronous scheduling (PR 23569) expected to win back.
 * `capsim calibrate` refits all of them to a user's own benchmark.
 */
typedef struct kstep_coeffs {
    double gemm_scale;    /* the projections and the LM head */
    double attn_scale;    /* prefill and decode attention */
    double moe_scale;     /* router and fused MoE layer */
    double comm_scale;    /* all-reduces */
    double step_s;        /* outside the kernels: per step */
    double layer_s;       /* per layer */
    double seq_s;         /* per sequence in the step */
    double token_layer_s; /* per token (padded) and layer */
} kstep_coeffs;

/* The coefficients as an array, in the order of kstep_coeffs (for the calibration, which
 * fits them by linear least squares: a step's time is linear in them). */
enum {
    KSTEP_C_GEMM,
    KSTEP_C_ATTN,
    KSTEP_C_MOE,
    KSTEP_C_COMM,
    KSTEP_C_STEP,
    KSTEP_C_LAYER,
    KSTEP_C_SEQ,
    KSTEP_C_TOKEN_LAYER,
    KSTEP_N_COEFFS
};
void kstep_coeffs_get(const kstep_coeffs *c, double v[KSTEP_N_COEFFS]);
void kstep_coeffs_set(kstep_coeffs *c, const double v[KSTEP_N_COEFFS]);

/* The launch-bound floor of one memory-bound kernel and the share of peak bandwidth it
 * reaches (AIConfigurator's mem_empirical_constant_latency and
 * mem_bw_empirical_scaling_factor in its systems/<gpu>.yaml). */
#define KSTEP_OP_LATENCY_S 3e-6
#define KSTEP_OP_BW_FRACTION 0.8
#define KSTEP_OPS_PER_LAYER 5
#define KSTEP_OPS_PER_STEP 5

/* Host time per step that the engine does not hide behind the GPU: 7.5%, the middle of the
 * 5-10% that PR 23569 (fully asynchronous scheduling) expected to recover, of the decode step
 * issue 12 starts from (Llama-3.1-8B on one H100, 40 sequences at 1K context: 8.06 ms of
 * measured kernels under vLLM 0.19). */
#define KSTEP_HOST_STEP_S 0.6e-3

typedef struct kstep kstep;

/* What the roofline fallback of one kernel uses: the deployment's rates and efficiencies. */
typedef struct kstep_roofline {
    double gemm_flops_per_s;   /* peak of the weights' compute path, per GPU */
    double attn_flops_per_s;   /* peak 16-bit rate, per GPU */
    double mem_bytes_per_s;    /* per GPU */
    double mfu, mbu;           /* achieved shares of those peaks */
    double link_bytes_per_s;   /* GPU to GPU, per direction */
    double link_latency_s;     /* per hop */
} kstep_roofline;

typedef struct kstep_breakdown {
    double gemm_s;         /* the four projections of every layer (MoE: QKV and O only) */
    double moe_s;          /* MoE models: router GEMM and fused MoE layer of every layer */
    double lm_head_s;      /* once per step */
    double prefill_attn_s; /* every layer */
    double decode_attn_s;  /* every layer */
    double allreduce_s;    /* two per layer */
    double outside_s;      /* outside the kernels: per step, layer, sequence, token-layer */
    double t_step_s;       /* the sum */
    double gemm_tokens;    /* m of the projections: the step's tokens, padded in a graph */
    int graph;             /* 1: a decode-only step replayed from a CUDA graph */
    unsigned extrapolated; /* KSTEP_X_* bits of the parts priced (in part) by the roofline */
} kstep_breakdown;

/* Loads the tables of stack (a folder name such as "vllm-0.19.0"; NULL: the newest vLLM
 * stack) measured on catalog GPU g->name from kernels_dir (models/kernels) and builds the
 * model of m at these precisions on tp GPUs, with coefficients c (NULL: the defaults of
 * kstep_default_coeffs). Returns 0, or
 * -1 with a one-line message: a GPU without tables (naming the GPUs that have them), an MoE
 * model the tables cannot price, a malformed table. */
int kstep_build(kstep **out, const char *kernels_dir, const char *stack, const model_arch *m,
                const gpu_spec *g, precision weights, precision kv, int tp,
                const kstep_roofline *rf, const kstep_coeffs *c, char *err, size_t errlen);

/* The default coefficients of m on g at tp GPUs (see kstep_coeffs). */
void kstep_default_coeffs(const model_arch *m, const gpu_spec *g, precision kv, int tp,
                          kstep_coeffs *c);

/* The coefficients a built model prices with. */
const kstep_coeffs *kstep_get_coeffs(const kstep *k);

void kstep_free(kstep *k);

/* Mean step time, seconds (no noise); fills *b when not NULL. Allocates nothing. */
double kstep_time_s(const kstep *k, const step_shape *s, kstep_breakdown *b);

/* The step's time per unit of each coefficient: x[KSTEP_C_GEMM] is the GEMMs and LM head at
 * scale 1, ..., x[KSTEP_C_STEP] is 1, x[KSTEP_C_LAYER] the layers, x[KSTEP_C_SEQ] the
 * sequences, x[KSTEP_C_TOKEN_LAYER] the (padded) tokens times layers; so that
 * kstep_time_s = sum over i of coefficient i x x[i], whatever k's own coefficients. */
void kstep_terms(const kstep *k, const step_shape *s, double x[KSTEP_N_COEFFS]);

/* The stack the tables came from ("h100_sxm/vllm-0.19.0"), and a note on how a precision
 * without tables of its own is priced ("" when none). */
const char *kstep_source(const kstep *k);
const char *kstep_note(const kstep *k);

/* The CUDA-graph capture size a decode-only batch of b sequences is padded to (b itself
 * above KSTEP_GRAPH_MAX, where vLLM runs eagerly): 1, 2, 4, then multiples of 8 below 256,
 * then multiples of 16 up to 512. */
int kstep_graph_size(int b);

/* The names of the extrapolated parts in bits ("GEMMs, decode attention"), into buf. */
const char *kstep_extrapolated_names(unsigned bits, char *buf, size_t len);

#endif
