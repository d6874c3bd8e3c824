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

/* Default runtime reserve per GPU: 2 GiB plus 0.4 GB of communication buffers when tp > 1
 * (models/catalog/SOURCES.md#runtime-memory: aiconfigurator budgets about 3.5 GiB "other" memory and 342-392 MB NCCL). */
double memplan_default_reserve(int tp);

/* Plans the deployment. Returns 0 when at least one KV block fits; otherwise -1 with a
 * message naming the numbers and what would fit (more tp, a lower precision). */
int memplan_make(const model_arch *m, const gpu_spec *g, const memplan_config *cfg, memplan *out,
                 char *err, size_t errlen);

/* Requests of context_tokens each that fit in the KV cache at once. */
uint64_t memplan_max_batch(const memplan *p, uint32_t block_size, uint64_t context_tokens);

#endif
