/*
 * ktable: one table of measured kernel latencies (the AIConfigurator kernel database shipped
 * under models/kernels/), read from CSV, indexed, and looked up at an arbitrary point.
 *
 * A table has a few categorical key columns (a dtype, a routing distribution, a backend) and
 * a few numeric axes (m, n, k; batch, prompt length, heads, ...). Rows are sorted by keys and
 * then by the axes in a fixed order per kind, so that the rows sharing the leading axes form
 * a contiguous range in which the next axis is sorted. A lookup walks the axes in that order:
 * on each it finds by binary search the two grid values that enclose the query within the
 * current range, recurses into both sub-ranges and blends them. The grid may be incomplete
 * (KV heads are measured only up to the query heads; MoE shapes come per model; the decode
 * grid is a triangle, batch times context bounded by the KV memory, so that batch 256 at 8K
 * context is outside it): each branch uses the grid values that exist under it.
 *
 * Interpolation is piecewise-linear on every axis in turn (multilinear), each axis either in
 * plain coordinates or in log-log coordinates (log latency linear in log x):
 *   - plain for the sizes a kernel's work grows in proportion to: GEMM m, n and k; batch,
 *     heads, KV heads, head size and decode context of attention; MoE tokens, hidden, expert
 *     size, top-k and experts; message size and GPUs of a collective. Over most of the grid
 *     the latency is a fixed launch cost plus work proportional to the size, which a line
 *     between neighbours reproduces and a log-log line bends;
 *   - log-log for prefill attention's prompt length (its work grows as the square: a power
 *     law, straight in log-log) and for the MoE tensor- and expert-parallel sizes (work goes
 *     as their inverse, again a power law).
 * The choice was measured where the leave-out test can measure it (held-out rows of each
 * shipped table, bridged along the kind's last axis; figures in models/kernels/README.md):
 * plain beat log-log on GEMM k, decode context and heads, prefill batch, MoE tokens and
 * message size; log-log beat plain on prefill prompt length. The others follow the same
 * reasoning without a measurement of their own.
 * Either way it is exact at grid points (weight 1 on the point itself) and monotone in every
 * dimension: every blend is a convex combination of the two neighbours, in value or in log
 * value, so between grid points the result lies between their values, and a table that is
 * monotone in an axis stays so. (A cubic would overshoot where the measured values step, as
 * at GEMM tile boundaries: m = 128 to 129.)
 *
 * A hole in the grid (a point not measured while its neighbours are) is bridged along the
 * first axis on which its value is missing among the rows that share its earlier axes; for
 * an isolated hole that is the kind's last axis, so the orders put last the axis that
 * bridged held-out rows best: k for GEMMs, batch for prefill, heads for decode, tokens for
 * MoE. On a complete grid the order does not change the result.
 *
 * Outside the grid the lookup does NOT pretend: it returns KTABLE_EXTRAPOLATED with a bit
 * per axis that was outside the grid (in the branch that mattered) and, as latency, the value
 * at the edge of the grid on those axes. That value is a bound, not an estimate: the step
 * model is to use its roofline there and say so. A key (dtype) that the table does not hold
 * gives KTABLE_NO_KEY and a NaN latency.
 *
 * Lookups make no allocation and no system call: a few binary searches per axis; the
 * recursion is at most two-way per axis that falls between grid points.
 *
 * ktable_load() allocates; ktable_free() frees. A loaded table is read-only, so one table may
 * be shared by threads.
 */
#ifndef CAPSIM_MODELS_KTABLE_H
#define CAPSIM_MODELS_KTABLE_H

#include <stddef.h>

#define KTABLE_MAX_KEYS 2
#define KTABLE_MAX_AXES 7
/* Distinct values of one key column (dtypes, distributions, backends) a table may hold. */
#define KTABLE_MAX_KEYVALS 16

/* The kinds of table, one per file name of models/kernels/<gpu>/<stack>/. */
typedef enum ktable_kind {
    KTABLE_GEMM,          /* gemm_perf.csv:                  gemm_dtype; m, n, k */
    KTABLE_PREFILL_ATTN,  /* context_attention_perf.csv:     kv_cache_dtype;
                             head_dim, num_heads, num_key_value_heads, isl, batch_size */
    KTABLE_DECODE_ATTN,   /* generation_attention_perf.csv:  kv_cache_dtype;
                             head_dim, num_key_value_heads, batch_size, step, num_heads */
    KTABLE_MOE,           /* moe_perf.csv:                   moe_dtype, distribution;
                             hidden_size, inter_size, topk, num_experts, moe_tp_size,
                             moe_ep_size, num_tokens */
    KTABLE_CUSTOM_AR,     /* custom_allreduce_perf.csv:      backend, allreduce_dtype;
                             num_gpus, message_size */
    KTABLE_NCCL,          /* nccl_perf.csv:                  op_name, nccl_dtype;
                             num_gpus, message_size */
    KTABLE_NKINDS
} ktable_kind;

typedef enum ktable_status {
    KTABLE_OK = 0,           /* inside the grid: interpolated (exact at grid points) */
    KTABLE_EXTRAPOLATED = 1, /* outside the grid on the axes in extrapolated_axes */
    KTABLE_NO_KEY = 2        /* the key (dtype, distribution, backend) is not in the table */
} ktable_status;

typedef struct ktable_result {
    double latency_ms;          /* one call of the kernel; the edge value if extrapolated */
    ktable_status status;
    unsigned extrapolated_axes; /* bit i set: axis i (ktable_axis_name) was outside */
} ktable_result;

typedef struct ktable ktable;

/* The file name of a kind ("gemm_perf.csv", ...) and the kind of a file name (-1: none). */
const char *ktable_kind_file(ktable_kind kind);
int ktable_kind_of_file(const char *filename);

/* Loads path as a table of the given kind. Rows of a sliding-window attention (a
 * window_size column that is not 0) are skipped. Latencies and axis values must be positive
 * numbers; duplicated points are merged by their geometric mean. Returns NULL with a message
 * naming file:line:column on a malformed file. */
ktable *ktable_load(const char *path, ktable_kind kind, char *err, size_t errlen);

/* A copy of t without the rows for which drop[i] is set (i in 0..ktable_nrows(t)); for the
 * leave-out measurement. NULL when no row is left or memory runs out. */
ktable *ktable_subset(const ktable *t, const unsigned char *drop);

void ktable_free(ktable *t);

ktable_kind ktable_kind_get(const ktable *t);
size_t ktable_nrows(const ktable *t);
int ktable_naxes(const ktable *t);
int ktable_nkeys(const ktable *t);
const char *ktable_axis_name(const ktable *t, int axis);
const char *ktable_key_name(const ktable *t, int key);

/* Row i (in the table's sorted order): its key strings, axis values and latency in ms. */
void ktable_row(const ktable *t, size_t i, const char **keys, double *axes, double *latency_ms);

/* The general lookup: keys[0..nkeys) as strings, axes[0..naxes) in the table's axis order.
 * Returns the status, also in r. */
ktable_status ktable_lookup(const ktable *t, const char *const *keys, const double *axes,
                            ktable_result *r);

/* GEMM of an m x k activation by a k x n weight (per GPU), dtype "bfloat16" or "fp8". A
 * shape (n, k) not in the table is interpolated across n and k. */
ktable_status ktable_gemm(const ktable *t, const char *dtype, double m, double n, double k,
                          ktable_result *r);

/* Prefill attention of batch sequences of isl prompt tokens each; heads per GPU. */
ktable_status ktable_prefill_attn(const ktable *t, double batch, double isl, double heads,
                                  double kv_heads, double head_dim, const char *kv_dtype,
                                  ktable_result *r);

/* Decode attention of batch sequences with context tokens already cached each. */
ktable_status ktable_decode_attn(const ktable *t, double batch, double context, double heads,
                                 double kv_heads, double head_dim, const char *kv_dtype,
                                 ktable_result *r);

/* vLLM's custom all-reduce of message_elems bfloat16 elements over num_gpus; backend
 * "vllm_graph" (inside a CUDA graph) or "vllm_eager". */
ktable_status ktable_allreduce(const ktable *t, double num_gpus, double message_elems,
                               const char *backend, ktable_result *r);

/* A NCCL collective (op "all_reduce", "all_gather", "reduce_scatter", "alltoall") of
 * message_elems half-precision elements over num_gpus. */
ktable_status ktable_nccl(const ktable *t, const char *op, double num_gpus,
                          double message_elems, ktable_result *r);

/* The whole fused MoE layer for num_tokens tokens; inter is the expert FFN size, tp and ep
 * the MoE tensor- and expert-parallel sizes (ep 1 without expert parallelism); dtype
 * "bfloat16", "fp8" or "int4_wo"; distribution "balanced" or "power_law_1.01". */
typedef struct ktable_moe_shape {
    double hidden, inter, topk, experts, tp, ep;
} ktable_moe_shape;
ktable_status ktable_moe(const ktable *t, const char *dtype, double num_tokens,
                         const ktable_moe_shape *shape, const char *distribution,
                         ktable_result *r);

#endif
