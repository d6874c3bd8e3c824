/*
 * memplan: how a model fits on a replica of tp GPUs, and how much KV cache is left.
 *
 *   usable per GPU = memory x gpu_memory_utilization - weights / tp - runtime reserve
 *   KV blocks      = floor(usable / (block_size x KV bytes per token held per GPU))
 *
 * The runtime reserve stands for the CUDA context, activations at peak batch and
 * communication buffers that serving engines hold outside the KV cache. All byte figures
 * are bytes; messages print GB = 1e9 bytes.
 */
#ifndef CAPSIM_MEMPLAN_H
#define CAPSIM_MEMPLAN_H

#include <stddef.h>
#include <stdint.h>

#include "models/gpu.h"
#include "models/model.h"

typedef struct memplan_config {
    precision weights;
    precision kv;
    int tp;                        /* GPUs per replica (tensor parallelism) */
    double gpu_memory_utilization; /* share of each GPU's memory the engine may use */
    double reserve_bytes_per_gpu;  /* runtime reserve outside weights and KV */
    uint32_t block_size;           /* tokens per KV block */
} memplan_config;

typedef struct memplan {
    double weight_bytes; /* whole model */
    double weight_bytes_per_gpu;
    double budget_bytes_per_gpu;   /* memory x utilisation */
    double kv_bytes_per_gpu;       /* left for KV after weights and reserve; < 0 if none */
    double kv_bytes_per_token;     /* whole replica */
    double kv_bytes_per_token_gpu; /* held on each GPU (KV heads copied when tp > kv heads) */
    uint64_t kv_blocks;            /* per replica */
    uint64_t kv_tokens;            /* kv_blocks x block_size */
} memplan;

/* The memory an engine keeps for itself on each GPU, inside the share --gpu-mem-util gives
 * it: activations of the largest step, CUDA graphs and workspace. The source
 * (models/catalog/SOURCES.md#runtime-memory) is aiconfigurator, which budgets about
 * 3.5 GiB of "other" memory per GPU and 342 to 392 MB of NCCL buffers at tp >= 2. capsim
 * takes 2 GiB rather than 3.5 because aiconfigurator's figure also counts the CUDA
 * context, which sits outside the engine's share of memory. This is a judgement, not a
 * measurement: --mem-reserve sets another value. */
#define MEMPLAN_RESERVE_BYTES (2.0 * 1024 * 1024 * 1024)
/* NCCL's buffers when the replica spans GPUs: the upper end of aiconfigurator's range,
 * rounded up. */
#define MEMPLAN_RESERVE_TP_BYTES 0.4e9

/* Default runtime reserve per GPU: MEMPLAN_RESERVE_BYTES, plus MEMPLAN_RESERVE_TP_BYTES
 * when tp > 1. */
double memplan_default_reserve(int tp);

/* Plans the deployment. Returns 0 when at least one KV block fits; otherwise -1 with a
 * message naming the numbers and what would fit (more tp, a lower precision). */
int memplan_make(const model_arch *m, const gpu_spec *g, const memplan_config *cfg, memplan *out,
                 char *err, size_t errlen);

/* Requests of context_tokens each that fit in the KV cache at once. */
uint64_t memplan_max_batch(const memplan *p, uint32_t block_size, uint64_t context_tokens);

#endif
