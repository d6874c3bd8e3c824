/*
 * gpu: accelerator catalog and compute-rate selection (see gpu.h).
 */
#include "models/gpu.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

enum {
    G_NAME,
    G_VENDOR,
    G_MEM,
    G_BW,
    G_FP16,
    G_BF16,
    G_FP8,
    G_INT8,
    G_INT4,
    G_TC,
    G_NO_TC,
    G_LINK_BW,
    G_LINK_LAT,
    G_HOST_BW,
    G_TDP,
    G_PRICE,
    G_PRICE_SOURCE,
    G_SOURCE,
    G_COUNT
};

static const char *const COLS[G_COUNT] = {
    "name",
    "vendor",
    "memory_bytes",
    "mem_bw_bytes_per_s",
    "fp16_tflops",
    "bf16_tflops",
    "fp8_tflops",
    "int8_tops",
    "int4_tops",
    "tensor_cores",
    "fp16_tflops_no_tc",
    "link_bw_bytes_per_s",
    "link_latency_us",
    "host_link_bw_bytes_per_s",
    "tdp_w",
    "price_usd_per_hour",
    "price_source",
    "source",
};

/* Columns that may be empty or absent: a precision the hardware lacks, an unknown price. */
static const int REQUIRED[G_COUNT] = {1, 0, 1, 1, 1, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 1};

static int read_row(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    gpu_spec *g = item;
    memset(g, 0, sizeof *g);
    const char *name = csvin_field(in, (size_t)idx[G_NAME]);
    if (*name == '\0' || strlen(name) >= sizeof g->name) {
        util_errf(err, errlen, "%s:%ld: column 'name': expected a name of 1 to %zu characters",
                  csvin_path(in), csvin_line(in), sizeof g->name - 1);
        return -1;
    }
    snprintf(g->name, sizeof g->name, "%s", name);
    if (idx[G_VENDOR] >= 0)
        snprintf(g->vendor, sizeof g->vendor, "%s", csvin_field(in, (size_t)idx[G_VENDOR]));
    snprintf(g->source, sizeof g->source, "%s", csvin_field(in, (size_t)idx[G_SOURCE]));
    snprintf(g->price_source, sizeof g->price_source, "%s",
             idx[G_PRICE_SOURCE] >= 0 ? csvin_field(in, (size_t)idx[G_PRICE_SOURCE]) : "");
    double v[G_COUNT];
    for (int c = G_MEM; c < G_PRICE_SOURCE; c++) {
        double max = c == G_TC ? 1 : 1e18;
        if (csvin_number(in, idx[c], COLS[c], 0, max, !REQUIRED[c], NAN, &v[c], err, errlen))
            return -1;
    }
    g->memory_bytes = v[G_MEM];
    g->mem_bw_bytes_per_s = v[G_BW];
    /* Rates are written in TFLOPS / TOPS; an empty field means no tensor path. */
    g->peak_flops[PREC_FP16] = v[G_FP16] * 1e12;
    g->peak_flops[PREC_BF16] = isnan(v[G_BF16]) ? 0 : v[G_BF16] * 1e12;
    g->peak_flops[PREC_FP8] = isnan(v[G_FP8]) ? 0 : v[G_FP8] * 1e12;
    g->peak_flops[PREC_INT8] = isnan(v[G_INT8]) ? 0 : v[G_INT8] * 1e12;
    g->peak_flops[PREC_INT4] = isnan(v[G_INT4]) ? 0 : v[G_INT4] * 1e12;
    g->tensor_cores = v[G_TC] != 0;
    g->fp16_flops_no_tc = v[G_NO_TC] * 1e12;
    g->link_bw_bytes_per_s = v[G_LINK_BW];
    g->link_latency_s = v[G_LINK_LAT] * 1e-6;
    /* A catalog without the column (an older user copy): PCIe Gen4 x16, the slowest link
     * of the data-centre parts in the bundled catalog but the T4's. */
    g->host_link_bw_bytes_per_s = isnan(v[G_HOST_BW]) || v[G_HOST_BW] <= 0
                                      ? GPU_DEFAULT_HOST_LINK_BYTES_PER_S
                                      : v[G_HOST_BW];
    g->tdp_w = v[G_TDP];
    g->price_usd_per_hour = v[G_PRICE];
    if (!(g->memory_bytes > 0 && g->mem_bw_bytes_per_s > 0 && g->peak_flops[PREC_FP16] > 0 &&
          g->fp16_flops_no_tc > 0 && g->link_bw_bytes_per_s > 0)) {
        util_errf(err, errlen,
                  "%s:%ld: memory_bytes, mem_bw_bytes_per_s, fp16_tflops, fp16_tflops_no_tc "
                  "and link_bw_bytes_per_s must be > 0",
                  csvin_path(in), csvin_line(in));
        return -1;
    }
    return 0;
}

int gpu_list_load(const char *path, gpu_list *out, char *err, size_t errlen)
{
    void *items;
    int rc = csvin_load_table(path, COLS, REQUIRED, G_COUNT, sizeof(gpu_spec), read_row, &items,
                              &out->n, err, errlen);
    out->items = items;
    return rc;
}

void gpu_list_free(gpu_list *l)
{
    free(l->items);
    l->items = NULL;
    l->n = 0;
}

const gpu_spec *gpu_list_find(const gpu_list *l, const char *name)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->items[i].name, name) == 0)
            return &l->items[i];
    return NULL;
}

double gpu_compute_rate(const gpu_spec *g, precision p, int tensor_cores, precision *used,
                        int *native)
{
    precision want = precision_compute_path(p);
    if (!tensor_cores || !g->tensor_cores) {
        *used = PREC_FP16;
        *native = 0;
        return g->fp16_flops_no_tc;
    }
    /* The fallback order: the path itself, then the 16-bit paths every tensor core has. */
    const precision order[3] = {want, PREC_BF16, PREC_FP16};
    for (int i = 0; i < 3; i++) {
        if (g->peak_flops[order[i]] > 0) {
            *used = order[i];
            *native = i == 0;
            return g->peak_flops[order[i]];
        }
    }
    *used = PREC_FP16;
    *native = 0;
    return g->fp16_flops_no_tc;
}
