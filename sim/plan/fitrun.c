/*
 * fitrun: step-time coefficients fitted to measured step times (see fitrun.h).
 */
#include "sim/plan/fitrun.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/fit.h"
#include "models/measure.h"
#include "models/profile.h"
#include "sim/base/csvout.h"
#include "sim/base/util.h"
#include "sim/plan/catalog_paths.h"

/* Writes the profile row and/or the per-setting table: both or neither. */
static int write_results(const char *out, const char *points, const char *data,
                         const measure_set *ms, const fit_result *fr, int pcap, char *err,
                         size_t errlen)
{
    util_atomic_file f[2];
    memset(f, 0, sizeof f);
    if ((out && util_atomic_open(&f[0], out, err, errlen) != 0) ||
        (points && util_atomic_open(&f[1], points, err, errlen) != 0)) {
        util_atomic_abort(&f[0]);
        util_atomic_abort(&f[1]);
        return -1;
    }
    if (out) {
        profile_row row;
        memset(&row, 0, sizeof row);
        snprintf(row.gpu, sizeof row.gpu, "%s", ms->gpu);
        row.c = fr->coeffs;
        const char *base = strrchr(data, '/');
        snprintf(row.basis, sizeof row.basis,
                 "fitted: %zu settings of %s%s; median |error| prefill %.1f%%, decode %.1f%%",
                 ms->n / 2, base ? base + 1 : data, pcap ? "" : " (power-capped rows left out)",
                 fr->median_ape[FIT_PREFILL], fr->median_ape[FIT_DECODE]);
        snprintf(row.source, sizeof row.source, "capsim fit --data %s --gpu %s",
                 base ? base + 1 : data, ms->gpu);
        profile_write(f[0].fp, &row);
    }
    if (points) {
        csvout c;
        csvout_init(&c, f[1].fp);
        static const char *const head[] = {"setting",      "phase",     "measured_ms",
                                           "predicted_ms", "error_pct", "robust_weight"};
        for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
            csvout_str(&c, head[i]);
        csvout_end_row(&c);
        for (size_t i = 0; i < ms->n; i++) {
            const fit_point *p = &ms->pts[i];
            csvout_str(&c, p->label);
            csvout_str(&c, p->phase == FIT_PREFILL ? "prefill" : "decode");
            csvout_num(&c, 1e3 * p->measured_s);
            csvout_num(&c, 1e3 * p->predicted_s);
            csvout_num(&c, 100 * (p->predicted_s / p->measured_s - 1));
            csvout_num(&c, p->weight);
            csvout_end_row(&c);
        }
    }
    return util_atomic_commit_all(f, 2, err, errlen);
}

plan_status fitrun_run(const fitrun_options *o, FILE *out, plan_error *e)
{
    char err[1024];
    model_list models;
    gpu_list gpus;
    if (catalog_load(o->catalog, &models, &gpus, err, sizeof err) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    plan_status status = PLAN_OK;
    measure_options mo = {.hardware = o->gpu,
                          .include_power_capped = o->include_pcap,
                          .tensor_cores = 1,
                          .weights = PREC_FP16,
                          .kv = PREC_FP16};
    measure_set ms;
    if (measure_load_splitwise(o->data, &models, &gpus, &mo, &ms, err, sizeof err) != 0) {
        status = plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
        goto out_catalog;
    }
    step_coeffs start = {.mfu = 0.5,
                         .mbu = 0.6,
                         .t_fixed_s = 0,
                         .t_layer_s = 1e-4,
                         .comm_scale = 1,
                         .attn_scale = 1,
                         .noise_cv = ms.noise_cv};
    fit_result fr;
    if (fit_run(ms.pts, ms.n, &start, &fr, err, sizeof err) != 0) {
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
        goto out_set;
    }
    fprintf(out, "%-60s %12s %12s %8s %6s\n", "setting", "measured_ms", "predicted_ms", "error_%",
           "weight");
    for (size_t i = 0; i < ms.n; i++) {
        const fit_point *p = &ms.pts[i];
        fprintf(out, "%-60s %12.3f %12.3f %8.1f %6.2f\n", p->label, 1e3 * p->measured_s,
               1e3 * p->predicted_s, 100 * (p->predicted_s / p->measured_s - 1), p->weight);
    }
    const step_coeffs *c = &fr.coeffs;
    fprintf(out, "\nfitted coefficients for %s (%zu settings, %s after %d iterations):\n", ms.gpu,
           ms.n / 2, fr.converged ? "converged" : "NOT converged", fr.iterations);
    const double val[FIT_N_COEFFS] = {c->mfu, c->mbu, 1e3 * c->t_layer_s, c->comm_scale,
                                      c->attn_scale};
    static const char *const label[FIT_N_COEFFS] = {"mfu", "mbu", "t_layer_ms", "comm_scale",
                                                    "attn_scale"};
    for (int k = 0; k < FIT_N_COEFFS; k++) {
        double scale = k == 2 ? 1e3 : 1.0;
        fprintf(out, "  %-10s %8.4f  [%.4f, %.4f]%s\n", label[k], val[k], scale * fr.lo[k],
               scale * fr.hi[k],
               fr.at_bound[k]         ? "  held at its bound of 1: the best fit was above it"
               : fr.not_identified[k] ? "  not identified by these measurements: kept at its "
                                        "starting value"
                                      : "");
    }
    fprintf(out, "  noise_cv   %8.4f  (pooled spread of repeated prefill runs)\n", c->noise_cv);
    fprintf(out, "median |error|: prefill %.1f%% (worst %.1f%%), decode %.1f%% (worst %.1f%%)\n",
           fr.median_ape[FIT_PREFILL], fr.worst_ape[FIT_PREFILL], fr.median_ape[FIT_DECODE],
           fr.worst_ape[FIT_DECODE]);
    if ((o->out || o->points) && write_results(o->out, o->points, o->data, &ms, &fr,
                                               o->include_pcap, err, sizeof err) != 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
out_set:
    measure_set_free(&ms);
out_catalog:
    model_list_free(&models);
    gpu_list_free(&gpus);
    return status;
}
