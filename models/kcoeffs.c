/*
 * kcoeffs: kernel_coeffs.csv (see kcoeffs.h).
 */
#include "models/kcoeffs.h"

#include <stdlib.h>
#include <string.h>

#include "sim/base/csvin.h"
#include "sim/base/csvout.h"
#include "sim/base/util.h"

const char *const kcoeffs_names[KSTEP_N_COEFFS] = {
    "gemm_scale", "attn_scale", "moe_scale", "comm_scale",
    "step_ms",    "layer_ms",   "seq_ms",    "token_layer_ms"};
const double kcoeffs_unit[KSTEP_N_COEFFS] = {1, 1, 1, 1, 1e3, 1e3, 1e3, 1e3};

enum { K_GPU, K_STACK, K_MODEL, K_COEFF0, K_BASIS = K_COEFF0 + KSTEP_N_COEFFS, K_SOURCE, K_COUNT };

/* The most a scale may be (a factor of 100 from the tables is no calibration of them) and
 * the longest outside term, per unit (a second). */
#define KCOEFFS_MAX_SCALE 100.0
#define KCOEFFS_MAX_MS 1e3

static void column_names(const char *cols[K_COUNT])
{
    cols[K_GPU] = "gpu";
    cols[K_STACK] = "stack";
    cols[K_MODEL] = "model";
    for (int i = 0; i < KSTEP_N_COEFFS; i++)
        cols[K_COEFF0 + i] = kcoeffs_names[i];
    cols[K_BASIS] = "basis";
    cols[K_SOURCE] = "source";
}

static int read_row(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    kcoeffs_row *r = item;
    memset(r, 0, sizeof *r);
    const char *gpu = csvin_field(in, (size_t)idx[K_GPU]);
    const char *stack = csvin_field(in, (size_t)idx[K_STACK]);
    if (*gpu == '\0' || strlen(gpu) >= sizeof r->gpu || *stack == '\0' ||
        strlen(stack) >= sizeof r->stack) {
        util_errf(err, errlen, "%s:%ld: columns 'gpu' and 'stack': expected a catalog GPU and "
                               "a kernel stack such as vllm-0.19.0",
                  csvin_path(in), csvin_line(in));
        return -1;
    }
    snprintf(r->gpu, sizeof r->gpu, "%s", gpu);
    snprintf(r->stack, sizeof r->stack, "%s", stack);
    snprintf(r->model, sizeof r->model, "%.63s", csvin_field(in, (size_t)idx[K_MODEL]));
    if (idx[K_BASIS] >= 0)
        snprintf(r->basis, sizeof r->basis, "%s", csvin_field(in, (size_t)idx[K_BASIS]));
    if (idx[K_SOURCE] >= 0)
        snprintf(r->source, sizeof r->source, "%s", csvin_field(in, (size_t)idx[K_SOURCE]));
    double v[KSTEP_N_COEFFS];
    for (int i = 0; i < KSTEP_N_COEFFS; i++) {
        int scale = kcoeffs_unit[i] == 1;
        if (csvin_number(in, idx[K_COEFF0 + i], kcoeffs_names[i], scale ? 1e-3 : 0,
                         scale ? KCOEFFS_MAX_SCALE : KCOEFFS_MAX_MS, 0, 0, &v[i], err,
                         errlen) != 0)
            return -1;
        v[i] /= kcoeffs_unit[i];
    }
    kstep_coeffs_set(&r->c, v);
    return 0;
}

int kcoeffs_load(const char *path, kcoeffs_row *out, char *err, size_t errlen)
{
    const char *cols[K_COUNT];
    column_names(cols);
    int required[K_COUNT];
    for (int i = 0; i < K_COUNT; i++)
        required[i] = i != K_BASIS && i != K_SOURCE;
    void *items = NULL;
    size_t n = 0;
    if (csvin_load_table(path, cols, required, K_COUNT, sizeof(kcoeffs_row), read_row, &items,
                         &n, err, errlen) != 0)
        return -1;
    if (n != 1) {
        free(items);
        util_errf(err, errlen, "%s: expected one row of kernel coefficients, found %zu", path, n);
        return -1;
    }
    *out = *(const kcoeffs_row *)items;
    free(items);
    return 0;
}

void kcoeffs_write(FILE *fp, const kcoeffs_row *row)
{
    const char *cols[K_COUNT];
    column_names(cols);
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < K_COUNT; i++)
        csvout_str(&c, cols[i]);
    csvout_end_row(&c);
    csvout_str(&c, row->gpu);
    csvout_str(&c, row->stack);
    csvout_str(&c, row->model);
    double v[KSTEP_N_COEFFS];
    kstep_coeffs_get(&row->c, v);
    for (int i = 0; i < KSTEP_N_COEFFS; i++)
        csvout_num(&c, v[i] * kcoeffs_unit[i]);
    csvout_str(&c, row->basis);
    csvout_str(&c, row->source);
    csvout_end_row(&c);
}
