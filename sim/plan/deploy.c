/*
 * deploy: resolving a deployment (see deploy.h).
 */
#include "sim/plan/deploy.h"

#include <stdio.h>
#include <string.h>

#include "models/kstep.h"
#include "sim/plan/catalog_paths.h"
#include "sim/base/util.h"

void deploy_options_default(deploy_options *o)
{
    memset(o, 0, sizeof *o);
    o->precision = "bf16";
    o->tp = 1;
    o->tensor_cores = 1;
    o->gpu_memory_utilization = 0.9;
    o->reserve_bytes_per_gpu = -1.0;
    o->block_size = 16;
}

int deploy_parse_mem_reserve(const char *text, double *reserve_bytes_per_gpu, char *err,
                             size_t errlen)
{
    if (strcmp(text, "auto") == 0) {
        *reserve_bytes_per_gpu = -1.0;
        return 0;
    }
    double gb;
    if (util_parse_double(text, &gb) != 0 || !(gb >= 0) || gb > 1e4) {
        util_errf(err, errlen,
                  "--mem-reserve '%s': expected auto, or GB per GPU (a number from 0 to 10000)",
                  text);
        return -1;
    }
    *reserve_bytes_per_gpu = gb * 1e9;
    return 0;
}

/* "a, b, c" of the first names of a list, for "expected one of" messages. */
static void list_names(char *buf, size_t len, const char *(*name_at)(const void *, size_t),
                       const void *list, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < n && used + 1 < len; i++)
        used += (size_t)snprintf(buf + used, len - used, "%s%s", i ? ", " : "", name_at(list, i));
}

static const char *model_name_at(const void *l, size_t i)
{
    return ((const model_list *)l)->items[i].name;
}

static const char *gpu_name_at(const void *l, size_t i)
{
    return ((const gpu_list *)l)->items[i].name;
}

/* Builds the measured-kernel model over the roofline just built (whose rates and
 * efficiencies price the kernels outside the tables' grids), and says in the note how a
 * precision without tables of its own is priced. */
static int deploy_kernels(const deploy_options *o, deploy *d, char *err, size_t errlen)
{
    precision path;
    int native;
    kstep_roofline rf = {.gemm_flops_per_s = d->step.rate_flops,
                         .attn_flops_per_s = gpu_compute_rate(&d->gpu, PREC_BF16,
                                                              o->tensor_cores, &path, &native),
                         .mem_bytes_per_s = d->gpu.mem_bw_bytes_per_s,
                         .mfu = d->profile.c.mfu,
                         .mbu = d->profile.c.mbu,
                         .link_bytes_per_s = d->gpu.link_bw_bytes_per_s,
                         .link_latency_s = d->gpu.link_latency_s};
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models/kernels", capsim_data_dir());
    if (kstep_build_stack(&d->kstep, dir, o->kernel_stack, &d->model, &d->gpu, d->weights, d->kv,
                          d->tp, &rf, err, errlen) != 0)
        return -1;
    step_model_kernels(&d->step, d->kstep);
    const char *note = kstep_note(d->kstep);
    if (note[0] != '\0') {
        size_t used = strlen(d->note);
        snprintf(d->note + used, sizeof d->note - used, "%s%s", used ? "; " : "", note);
    }
    return 0;
}

int deploy_resolve(const deploy_options *o, deploy *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    char names[1024];
    const char *dir = o->catalog_dir ? o->catalog_dir : catalog_default_dir();
    if (catalog_load(dir, &d->models, &d->gpus, err, errlen) != 0)
        return -1;
    const char *profile_path = o->profile;
    char default_profile[4096];
    if (profile_path == NULL) {
        profile_path = catalog_default_profile(default_profile, sizeof default_profile);
    }
    if (o->coeffs == NULL && profile_list_load(profile_path, &d->profiles, err, errlen) != 0)
        goto fail;
    if (o->model == NULL || o->gpu == NULL) {
        util_errf(err, errlen, "--model and --gpu are required (see capsim list models|gpus)");
        goto fail;
    }
    size_t mlen = strlen(o->model);
    if (mlen > 5 && strcmp(o->model + mlen - 5, ".json") == 0) {
        const char *base = strrchr(o->model, '/');
        char name[64];
        snprintf(name, sizeof name, "%.*s",
                 (int)(mlen - 5 - (base ? (size_t)(base + 1 - o->model) : 0)),
                 base ? base + 1 : o->model);
        if (model_from_hf_config(o->model, name, &d->model, err, errlen) != 0)
            goto fail;
    } else {
        const model_arch *m = model_list_find(&d->models, o->model);
        if (m == NULL) {
            list_names(names, sizeof names, model_name_at, &d->models, d->models.n);
            util_errf(err, errlen,
                      "--model '%s': not in the catalog (expected one of %s, or a "
                      "config.json path)",
                      o->model, names);
            goto fail;
        }
        d->model = *m;
    }
    const gpu_spec *g = gpu_list_find(&d->gpus, o->gpu);
    if (g == NULL) {
        list_names(names, sizeof names, gpu_name_at, &d->gpus, d->gpus.n);
        util_errf(err, errlen, "--gpu '%s': not in the catalog (expected one of %s)", o->gpu,
                  names);
        goto fail;
    }
    d->gpu = *g;
    if (precision_parse(o->precision, &d->weights) != 0) {
        util_errf(err, errlen, "--precision '%s': expected fp16, bf16, fp8, int8 or int4",
                  o->precision);
        goto fail;
    }
    if (o->kv_precision) {
        if (precision_parse(o->kv_precision, &d->kv) != 0 || precision_kv_bytes(d->kv) <= 0) {
            util_errf(err, errlen, "--kv-precision '%s': expected fp16, bf16, fp8 or int8",
                      o->kv_precision);
            goto fail;
        }
    } else {
        d->kv = d->weights == PREC_BF16 ? PREC_BF16 : PREC_FP16;
    }
    if (o->tp < 1 || o->tp > 64) {
        util_errf(err, errlen, "--tp %d: expected 1 to 64", o->tp);
        goto fail;
    }
    if (d->model.heads % o->tp != 0 ||
        (d->model.kv_heads % o->tp != 0 && o->tp % d->model.kv_heads != 0)) {
        util_errf(err, errlen,
                  "--tp %d: %s has %d attention heads and %d KV heads; tensor "
                  "parallelism must split them evenly",
                  o->tp, d->model.name, d->model.heads, d->model.kv_heads);
        goto fail;
    }
    d->tp = o->tp;
    d->mem_cfg = (memplan_config){.weights = d->weights,
                                  .kv = d->kv,
                                  .tp = o->tp,
                                  .gpu_memory_utilization = o->gpu_memory_utilization,
                                  .reserve_bytes_per_gpu =
                                      o->reserve_bytes_per_gpu >= 0
                                          ? o->reserve_bytes_per_gpu
                                          : memplan_default_reserve(o->tp),
                                  .block_size = o->block_size};
    if (memplan_make(&d->model, &d->gpu, &d->mem_cfg, &d->mem, err, errlen) != 0)
        goto fail;
    int kernels = o->step_model && strcmp(o->step_model, "kernels") == 0;
    if (o->step_model && !kernels) {
        if (step_model_linear_parse(&d->step, o->step_model, err, errlen) != 0)
            goto fail;
        snprintf(d->profile.gpu, sizeof d->profile.gpu, "%s", d->gpu.name);
        snprintf(d->profile.basis, sizeof d->profile.basis, "%s", o->step_model);
        return 0;
    }
    const profile_row *pr = o->coeffs ? o->coeffs : profile_list_find(&d->profiles, d->gpu.name);
    if (pr == NULL) {
        util_errf(err, errlen, "%s: no profile row for '%s' and no '*' row", profile_path,
                  d->gpu.name);
        goto fail;
    }
    d->profile = *pr;
    step_model_roofline(&d->step, &d->model, &d->gpu, d->weights, d->kv, d->tp, o->tensor_cores,
                        &d->profile.c);
    if (!o->tensor_cores || !d->gpu.tensor_cores)
        snprintf(d->note, sizeof d->note,
                 "tensor cores off: arithmetic runs at the %.0f TFLOPS non-tensor 16-bit rate",
                 d->gpu.fp16_flops_no_tc / 1e12);
    else if (!d->step.rate_native)
        snprintf(d->note, sizeof d->note,
                 "%s has no %s tensor path: arithmetic falls back to the %s rate (%.0f TFLOPS); "
                 "weights still take %g bytes each",
                 d->gpu.name, precision_name(precision_compute_path(d->weights)),
                 precision_name(d->step.rate_path), d->step.rate_flops / 1e12,
                 precision_weight_bytes(d->weights));
    if (kernels && deploy_kernels(o, d, err, errlen) != 0)
        goto fail;
    return 0;
fail:
    deploy_fini(d);
    return -1;
}

void deploy_fini(deploy *d)
{
    model_list_free(&d->models);
    gpu_list_free(&d->gpus);
    profile_list_free(&d->profiles);
    kstep_free(d->kstep);
    d->kstep = NULL;
}
