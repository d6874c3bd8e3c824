/*
 * measure: reading measurement tables into fit points (see measure.h).
 */
#include "models/measure.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

typedef struct raw_row {
    char model[32], hardware[32];
    int tp, prompt, batch, tokens;
    double prompt_ms, token_ms;
} raw_row;

static int cmp_setting(const void *pa, const void *pb)
{
    const raw_row *a = pa, *b = pb;
    int c = strcmp(a->model, b->model);
    if (c == 0)
        c = strcmp(a->hardware, b->hardware);
    if (c == 0)
        c = a->tp - b->tp;
    if (c == 0)
        c = a->prompt - b->prompt;
    if (c == 0)
        c = a->batch - b->batch;
    if (c == 0)
        c = a->tokens - b->tokens;
    return c;
}

const char *measure_splitwise_gpu(const char *hardware)
{
    if (strncmp(hardware, "h100-80gb", 9) == 0)
        return "h100-sxm"; /* DGX-H100: SXM parts */
    if (strcmp(hardware, "a100-80gb") == 0)
        return "a100-80gb";
    return hardware;
}

static const char *splitwise_model(const char *name)
{
    if (strcmp(name, "llama2-70b") == 0)
        return "llama-2-70b";
    return name;
}

enum { S_MODEL, S_HW, S_PROMPT, S_BATCH, S_TOKENS, S_PTIME, S_TTIME, S_TP, S_COUNT };
static const char *const SCOLS[S_COUNT] = {"model",      "hardware",       "prompt_size",
                                           "batch_size", "token_size",     "prompt_time",
                                           "token_time", "tensor_parallel"};
static const int SREQ[S_COUNT] = {1, 1, 1, 1, 1, 1, 1, 1};

static int read_raw(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    raw_row *r = item;
    memset(r, 0, sizeof *r);
    snprintf(r->model, sizeof r->model, "%s", csvin_field(in, (size_t)idx[S_MODEL]));
    snprintf(r->hardware, sizeof r->hardware, "%s", csvin_field(in, (size_t)idx[S_HW]));
    double v[S_COUNT];
    for (int c = S_PROMPT; c < S_COUNT; c++) {
        if (csvin_number(in, idx[c], SCOLS[c], c == S_PTIME || c == S_TTIME ? 1e-9 : 1, 1e9, 0, 0,
                         &v[c], err, errlen) != 0)
            return -1;
    }
    r->prompt = (int)v[S_PROMPT];
    r->batch = (int)v[S_BATCH];
    r->tokens = (int)v[S_TOKENS];
    r->tp = (int)v[S_TP];
    r->prompt_ms = v[S_PTIME];
    r->token_ms = v[S_TTIME];
    return 0;
}

int measure_load_splitwise(const char *path, const model_list *models, const gpu_list *gpus,
                           const measure_options *opt, measure_set *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    void *items;
    size_t n;
    if (csvin_load_table(path, SCOLS, SREQ, S_COUNT, sizeof(raw_row), read_raw, &items, &n, err,
                         errlen) != 0)
        return -1;
    raw_row *rows = items;
    /* Keep the chosen hardware, then sort so repeats of a setting are adjacent. */
    size_t kept = 0;
    for (size_t i = 0; i < n; i++) {
        size_t len = strlen(rows[i].hardware);
        int pcap = len > 5 && strcmp(rows[i].hardware + len - 5, "-pcap") == 0;
        if (pcap && !opt->include_power_capped)
            continue;
        if (opt->hardware &&
            strcasecmp(measure_splitwise_gpu(rows[i].hardware), opt->hardware) != 0 &&
            strcasecmp(rows[i].hardware, opt->hardware) != 0)
            continue;
        rows[kept++] = rows[i];
    }
    qsort(rows, kept, sizeof *rows, cmp_setting);
    out->pts = malloc((2 * kept + 1) * sizeof *out->pts);
    double *pt = malloc((kept + 1) * sizeof *pt), *tt = malloc((kept + 1) * sizeof *tt);
    int rc = out->pts && pt && tt ? 0 : -1;
    if (rc != 0)
        util_errf(err, errlen, "out of memory");
    double sum_cv2 = 0;
    size_t n_groups = 0;
    for (size_t i = 0; rc == 0 && i < kept;) {
        size_t j = i;
        while (j < kept && cmp_setting(&rows[i], &rows[j]) == 0)
            j++;
        size_t k = j - i;
        for (size_t q = 0; q < k; q++) {
            pt[q] = rows[i + q].prompt_ms;
            tt[q] = rows[i + q].token_ms;
        }
        double pmean = gsl_stats_mean(pt, 1, k);
        if (k > 1) {
            double sd = gsl_stats_sd_m(pt, 1, k, pmean);
            sum_cv2 += (sd / pmean) * (sd / pmean);
            n_groups++;
        }
        gsl_sort(pt, 1, k);
        gsl_sort(tt, 1, k);
        const raw_row *r = &rows[i];
        const model_arch *m = model_list_find(models, splitwise_model(r->model));
        const gpu_spec *g = gpu_list_find(gpus, measure_splitwise_gpu(r->hardware));
        if (m == NULL || g == NULL) {
            util_errf(err, errlen, "%s: %s '%s' is not in the catalog", path,
                      m == NULL ? "model" : "hardware", m == NULL ? r->model : r->hardware);
            rc = -1;
            break;
        }
        snprintf(out->gpu, sizeof out->gpu, "%s", g->name);
        step_coeffs unit = {.mfu = 1, .mbu = 1, .comm_scale = 1, .attn_scale = 1};
        for (int ph = 0; ph < 2; ph++) {
            fit_point *p = &out->pts[out->n++];
            memset(p, 0, sizeof *p);
            step_model_roofline(&p->model, m, g, opt->weights, opt->kv, r->tp, opt->tensor_cores,
                                &unit);
            p->phase = ph == 0 ? FIT_PREFILL : FIT_DECODE;
            if (ph == 0) {
                p->shape = step_shape_prefill(r->batch, r->prompt);
                p->measured_s = gsl_stats_median_from_sorted_data(pt, 1, k) / 1e3;
            } else {
                p->shape = step_shape_decode(r->batch, r->prompt + r->tokens / 2.0);
                p->measured_s = gsl_stats_median_from_sorted_data(tt, 1, k) / 1e3;
            }
            snprintf(p->label, sizeof p->label, "%s %s tp%d b%d p%d o%d %s", r->model, r->hardware,
                     r->tp, r->batch, r->prompt, r->tokens, ph == 0 ? "prefill" : "decode");
        }
        i = j;
    }
    if (rc == 0 && out->n == 0) {
        util_errf(err, errlen, "%s: no rows for hardware '%s'", path,
                  opt->hardware ? opt->hardware : "(any)");
        rc = -1;
    }
    out->noise_cv = n_groups ? sqrt(sum_cv2 / (double)n_groups) : 0.0;
    free(rows);
    free(pt);
    free(tt);
    if (rc != 0)
        measure_set_free(out);
    return rc;
}

void measure_set_free(measure_set *s)
{
    free(s->pts);
    s->pts = NULL;
    s->n = 0;
}
