/*
 * gpu: accelerator profiles from the catalog (models/catalog/gpus.csv) and the arithmetic
 * rate that applies to a precision, with the fallback when the hardware has no tensor-core
 * path for it.
 */
#ifndef CAPSIM_GPU_H
#define CAPSIM_GPU_H

#include <stddef.h>

#include "models/precision.h"

/* The host link of a catalog row that does not give one: PCIe Gen4 x16. */
#define GPU_DEFAULT_HOST_LINK_BYTES_PER_S 32e9

typedef struct gpu_spec {
    char name[32];
    char vendor[16];
    double memory_bytes;
    double mem_bw_bytes_per_s;
    double peak_flops[PREC_COUNT]; /* dense tensor-core rate per compute path; 0 = none */
    int tensor_cores;
    double fp16_flops_no_tc;    /* 16-bit rate without tensor cores */
    double link_bw_bytes_per_s; /* GPU-to-GPU, per direction, for tensor parallelism */
    double link_latency_s;      /* per hop */
    double host_link_bw_bytes_per_s; /* GPU to host memory (PCIe x16), per direction */
    double tdp_w;
    double price_usd_per_hour; /* on demand, per GPU; NAN if unknown */
    char price_source[160];    /* where and when the price was taken; "" if not said */
    char source[1024];
} gpu_spec;

typedef struct gpu_list {
    gpu_spec *items;
    size_t n;
} gpu_list;

int gpu_list_load(const char *path, gpu_list *out, char *err, size_t errlen);
void gpu_list_free(gpu_list *l);
const gpu_spec *gpu_list_find(const gpu_list *l, const char *name);

/* The rate (FLOP/s per GPU) at which arithmetic for weights at precision p runs. With
 * tensor_cores off, the non-tensor 16-bit rate. If the tensor path for p is missing, falls
 * back to bf16, then fp16, then the non-tensor rate; *used receives the path that applies
 * (equal to precision_compute_path(p) when native). */
double gpu_compute_rate(const gpu_spec *g, precision p, int tensor_cores, precision *used,
                        int *native);

#endif
