/*
 * kstep: the measured-kernel step model (issue 12, `--step-model kernels`, opt-in): a step's
 * time is the sum over the model's layers of the kernels vLLM runs for that batch, read from
 * the measured tables of models/kernels/ (models/ktable.h), plus the engine's time outside
 * the kernels.
 *
 * For a step of T tokens (prefill tokens + decoding sequences) and S sequences:
 *   - per layer, the GEMMs of the QKV, output, gate/up and down projections at m = T, with
 *     the per-GPU shapes after tensor-parallel splitting (QKV n = (heads + 2 kv_heads) x
 *     head_dim / tp, k = hidden; O n = hidden, k = heads x head_dim / tp; gate/up n = 2 x
 *     intermediate / tp, k = hidden; down n = hidden, k = intermediate / tp; a model without
 *     a gated MLP has an up projection of n = intermediate / tp instead);
 *   - per layer, decode attention of the decoding sequences at their mean context and prefill
 *     attention of the prefill chunks at their mean length (see kstep.c for both);
 *   - per layer, two all-reduces of T x hidden elements when tp > 1 (vLLM's custom
 *     all-reduce, from a CUDA graph in decode-only steps, eager otherwise);
 *   - once per step, the LM head at m = S (n = vocab / tp, k = hidden);
 *   - outside the kernels: a fixed time per step, a time per layer and a time per sequence
 *     (KSTEP_OUTSIDE_* in kstep.c; models/catalog/SOURCES.md#step-overhead).
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
 * GEMMs, the MoE layer, the LM head and the all-reduce at every token count up to 1024 and
 * decode attention at every decode batch up to KSTEP_GRAPH_MAX and every context of the
 * table's grid, so that a decode step costs a few array reads and one binary search over 17
 * contexts; larger or off-grid steps look the tables up. It allocates; kstep_free() frees. A
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
 * Time outside the kernels (models/catalog/SOURCES.md#step-overhead, from FACTS.md 5.3):
 * inference-sim (BLIS) fitted, to 15 real vLLM runs on an H100 SXM in 2026, about 126 us per
 * step, 32 us per layer and 4.4 us per request in the step on top of its kernel times. The
 * per-step part is the V1 engine's scheduling and input preparation that overlapping does not
 * hide; the per-layer part stands for the element-wise kernels the tables do not hold (norms,
 * rotary embedding, activation, residual adds) and the launch gaps between kernels; the
 * per-sequence part is sampling and the bookkeeping of each request. They were fitted on one
 * GPU and are used for every GPU until a calibration on top of the kernels exists.
 * PROVISIONAL: they were fitted to the vLLM runs that are held out to validate capsim, so
 * they are not independent of that validation; replace them before this model becomes the
 * default (SOURCES.md#step-overhead says more).
 */
#define KSTEP_OUTSIDE_STEP_S 126e-6
#define KSTEP_OUTSIDE_LAYER_S 32e-6
#define KSTEP_OUTSIDE_SEQ_S 4.4e-6

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
    double outside_s;      /* outside the kernels: per step, per layer, per sequence */
    double t_step_s;       /* the sum */
    double gemm_tokens;    /* m of the projections: the step's tokens, padded in a graph */
    int graph;             /* 1: a decode-only step replayed from a CUDA graph */
    unsigned extrapolated; /* KSTEP_X_* bits of the parts priced (in part) by the roofline */
} kstep_breakdown;

/* Loads the tables of the newest vLLM stack measured on catalog GPU g->name from kernels_dir
 * (models/kernels) and builds the model of m at these precisions on tp GPUs. Returns 0, or
 * -1 with a one-line message: a GPU without tables (naming the GPUs that have them), an MoE
 * model the tables cannot price, a malformed table. */
int kstep_build(kstep **out, const char *kernels_dir, const model_arch *m, const gpu_spec *g,
                precision weights, precision kv, int tp, const kstep_roofline *rf, char *err,
                size_t errlen);

/* The same with the tables of one stack of the GPU ("vllm-0.14.0", a folder name of
 * models/kernels/<gpu>/; NULL: the newest), for a caller that compares stacks, such as the
 * refit of the roofline per stack (bench/fit_kernels_roofline.c). */
int kstep_build_stack(kstep **out, const char *kernels_dir, const char *stack, const model_arch *m,
                      const gpu_spec *g, precision weights, precision kv, int tp,
                      const kstep_roofline *rf, char *err, size_t errlen);

void kstep_free(kstep *k);

/* Mean step time, seconds (no noise); fills *b when not NULL. Allocates nothing. */
double kstep_time_s(const kstep *k, const step_shape *s, kstep_breakdown *b);

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
