/*
 * deploy: resolving a deployment (see deploy.h).
 */
#include "sim/plan/deploy.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "models/kcoeffs.h"
#include "models/kstep.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/prices.h"
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

/* A kernel_coeffs.csv (kc, read from path) scales the tables of the GPU and stack it was
 * calibrated on, and no other: refused otherwise. Names the file in step_data, and in the
 * note a model other than the one it was fitted on. */
static int kernel_coeffs_match(const char *path, const kcoeffs_row *kc, deploy *d, char *err,
                               size_t errlen)
{
    const char *source = kstep_source(d->kstep);
    const char *slash = strchr(source, '/');
    const char *stack = slash ? slash + 1 : source;
    if (strcasecmp(kc->gpu, d->gpu.name) != 0 || strcmp(kc->stack, stack) != 0) {
        util_errf(err, errlen,
                  "--kernel-coeffs %s: calibrated on %s with %s, not on this deployment's %s "
                  "with %s (calibrate on this GPU and stack, or leave the option out)",
                  path, kc->gpu, kc->stack, d->gpu.name, stack);
        return -1;
    }
    size_t used = strlen(d->step_data);
    snprintf(d->step_data + used, sizeof d->step_data - used, ", calibrated by %s", path);
    if (kc->model[0] && strcasecmp(kc->model, d->model.name) != 0) {
        used = strlen(d->note);
        snprintf(d->note + used, sizeof d->note - used,
                 "%skernel coefficients calibrated on %s, not %s", used ? "; " : "", kc->model,
                 d->model.name);
    }
    return 0;
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
    kcoeffs_row kc;
    if (o->kernel_coeffs && kcoeffs_load(o->kernel_coeffs, &kc, err, errlen) != 0)
        return -1;
    if (kstep_build(&d->kstep, dir, d->stack.kernel_stack, &d->model, &d->gpu, d->weights, d->kv,
                    d->tp, &rf, o->kernel_coeffs ? &kc.c : NULL, err, errlen) != 0)
        return -1;
    step_model_kernels(&d->step, d->kstep);
    snprintf(d->step_data, sizeof d->step_data, "measured kernels, models/kernels/%s",
             kstep_source(d->kstep));
    if (o->kernel_coeffs && kernel_coeffs_match(o->kernel_coeffs, &kc, d, err, errlen) != 0)
        return -1;
    const char *note = kstep_note(d->kstep);
    if (note[0] != '\0') {
        size_t used = strlen(d->note);
        snprintf(d->note + used, sizeof d->note - used, "%s%s", used ? "; " : "", note);
    }
    return 0;
}

/* Where the stack's default is the measured kernels but they cannot answer the question
 * asked, the default is the stack's roofline, and the output says why: a profile of the
 * user's own (a calibration of the roofline), weights whose kernels were not measured
 * (int8 and int4 weight-only), an int8 KV cache, or the what-if without tensor cores. Asked
 * for by name (--step-model kernels), the kernels price these as kstep.h says. */
static void auto_roofline(const deploy_options *o, deploy *d)
{
    const char *why = NULL;
    if (o->profile || o->coeffs)
        why = "a profile was given: the roofline with it prices the steps";
    else if (d->weights == PREC_INT8 || d->weights == PREC_INT4)
        why = "weight-only int8/int4 GEMMs are not in the kernel tables: the stack's roofline "
              "prices the steps";
    else if (d->kv == PREC_INT8)
        why = "an int8 KV cache is not in the kernel tables: the stack's roofline prices the "
              "steps";
    else if (!o->tensor_cores)
        why = "the kernels were measured with tensor cores: the stack's roofline prices the "
              "what-if without them";
    if (why == NULL)
        return;
    d->stack.kernels = 0;
    snprintf(d->stack.note, sizeof d->stack.note, "%s", why);
}

/* The step model: the linear one when asked for, else the stack's (stack.h), with the
 * roofline of its profile (or the user's) beside the kernels or instead of them. */
static int deploy_step_model(const deploy_options *o, deploy *d, char *err, size_t errlen)
{
    if (o->step_model && strcmp(o->step_model, "kernels") != 0 &&
        strcmp(o->step_model, "roofline") != 0) {
        if (step_model_linear_parse(&d->step, o->step_model, err, errlen) != 0)
            return -1;
        snprintf(d->profile.gpu, sizeof d->profile.gpu, "%s", d->gpu.name);
        snprintf(d->profile.basis, sizeof d->profile.basis, "%s", o->step_model);
        snprintf(d->step_data, sizeof d->step_data, "%s", o->step_model);
        return 0;
    }
    if (stack_resolve(o->stack, d->gpu.name, o->step_model, capsim_data_dir(), &d->stack, err,
                      errlen) != 0)
        return -1;
    if (o->step_model == NULL && d->stack.kernels)
        auto_roofline(o, d);
    const char *profile_path = o->profile ? o->profile : d->stack.profile;
    if (o->coeffs == NULL && profile_list_load(profile_path, &d->profiles, err, errlen) != 0)
        return -1;
    const profile_row *pr = o->coeffs ? o->coeffs : profile_list_find(&d->profiles, d->gpu.name);
    if (pr == NULL) {
        util_errf(err, errlen, "%s: no profile row for '%s' and no '*' row", profile_path,
                  d->gpu.name);
        return -1;
    }
    d->profile = *pr;
    /* Shipped data is named from the project's root, so outputs do not depend on where capsim
     * is installed. */
    const char *root = capsim_data_dir();
    size_t rlen = strlen(root);
    const char *shown = strncmp(profile_path, root, rlen) == 0 && profile_path[rlen] == '/'
                            ? profile_path + rlen + 1
                            : profile_path;
    snprintf(d->step_data, sizeof d->step_data, "roofline, %s%s row %s",
             o->coeffs ? "coefficients of " : "profile ", o->coeffs ? "the calibration" : shown,
             pr->gpu);
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
    if (o->kernel_coeffs && !d->stack.kernels) {
        util_errf(err, errlen,
                  "--kernel-coeffs %s: the steps are priced by the roofline here (%s), not by "
                  "the measured kernels the file calibrates",
                  o->kernel_coeffs,
                  o->step_model && strcmp(o->step_model, "roofline") == 0 ? "--step-model roofline"
                  : d->stack.note[0] ? d->stack.note
                                     : "no kernel tables for this GPU and stack");
        return -1;
    }
    if (d->stack.kernels && deploy_kernels(o, d, err, errlen) != 0)
        return -1;
    return 0;
}

/* The model: a config.json path (or a folder holding one), a catalog name, or a Hugging
 * Face id of the catalog. */
static int resolve_model(const deploy_options *o, deploy *d, char *err, size_t errlen)
{
    size_t mlen = strlen(o->model);
    struct stat st;
    char path[4096];
    snprintf(path, sizeof path, "%s", o->model);
    int is_dir = stat(o->model, &st) == 0 && S_ISDIR(st.st_mode);
    if (is_dir)
        snprintf(path, sizeof path, "%s%sconfig.json", o->model,
                 mlen && o->model[mlen - 1] == '/' ? "" : "/");
    size_t plen = strlen(path);
    if (is_dir || (plen > 5 && strcmp(path + plen - 5, ".json") == 0)) {
        const char *base = strrchr(path, '/');
        char name[64];
        snprintf(name, sizeof name, "%.*s",
                 (int)(plen - 5 - (base ? (size_t)(base + 1 - path) : 0)), base ? base + 1 : path);
        return model_from_hf_config(path, name, &d->model, err, errlen);
    }
    const model_arch *m = model_list_find(&d->models, o->model);
    if (m == NULL) {
        char names[1024];
        list_names(names, sizeof names, model_name_at, &d->models, d->models.n);
        util_errf(err, errlen,
                  "--model '%s': not in the catalog (expected one of %s, a Hugging Face id "
                  "of one of them (capsim list models), or a config.json path)",
                  o->model, names);
        return -1;
    }
    d->model = *m;
    return 0;
}

/* A config.json that says how its weights are stored sets the weight precision, unless
 * --precision was given; either way the output says so. */
static void weights_from_config(const deploy_options *o, deploy *d)
{
    const model_arch *m = &d->model;
    if (m->quant_precision < 0) {
        if (m->quant_desc[0])
            snprintf(d->weights_note, sizeof d->weights_note,
                     "the config's quantization_config (%s) is not understood; weights are "
                     "%s (--precision)",
                     m->quant_desc, precision_name(d->weights));
        return;
    }
    if (!o->precision_given) {
        d->weights = (precision)m->quant_precision;
        snprintf(d->weights_note, sizeof d->weights_note,
                 "weights %s, from the config's quantization_config: %s; --precision overrides",
                 precision_name(d->weights), m->quant_desc);
    } else if ((int)d->weights != m->quant_precision) {
        snprintf(d->weights_note, sizeof d->weights_note,
                 "the config stores %s weights (%s); --precision %s overrides it",
                 precision_name((precision)m->quant_precision), m->quant_desc,
                 precision_name(d->weights));
    }
}

int deploy_resolve(const deploy_options *o, deploy *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    char names[1024];
    const char *dir = o->catalog_dir ? o->catalog_dir : catalog_default_dir();
    if (catalog_load(dir, &d->models, &d->gpus, err, errlen) != 0)
        return -1;
    if (o->model == NULL || o->gpu == NULL) {
        util_errf(err, errlen, "--model and --gpu are required (see capsim list models|gpus)");
        goto fail;
    }
    if (resolve_model(o, d, err, errlen) != 0)
        goto fail;
    const gpu_spec *g = gpu_list_find(&d->gpus, o->gpu);
    if (g == NULL) {
        list_names(names, sizeof names, gpu_name_at, &d->gpus, d->gpus.n);
        util_errf(err, errlen, "--gpu '%s': not in the catalog (expected one of %s)", o->gpu,
                  names);
        goto fail;
    }
    d->gpu = *g;
    if (prices_resolve(&d->gpus, g, o->price, o->prices_file, &d->gpu.price_usd_per_hour,
                       d->price_source, sizeof d->price_source, err, errlen) != 0)
        goto fail;
    if (precision_parse(o->precision, &d->weights) != 0) {
        util_errf(err, errlen, "--precision '%s': expected fp16, bf16, fp8, int8 or int4",
                  o->precision);
        goto fail;
    }
    weights_from_config(o, d);
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
    if (deploy_step_model(o, d, err, errlen) != 0)
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

/* Appends "PARTS SHAPE" to buf when the shape prices parts beyond the tables. */
static void probe(const deploy *d, step_shape sh, const char *shape, char *buf, size_t len)
{
    kstep_breakdown b;
    kstep_time_s(d->kstep, &sh, &b);
    if (b.extrapolated == 0)
        return;
    char names[128];
    size_t used = strlen(buf);
    snprintf(buf + used, len - used, "%s%s %s", used ? "; " : "",
             kstep_extrapolated_names(b.extrapolated, names, sizeof names), shape);
}

int deploy_extrapolation(const deploy *d, double seqs, double ctx, double tokens,
                         double chunk_ctx, char *buf, size_t len)
{
    buf[0] = '\0';
    if (d->kstep == NULL || d->step.kind != STEP_KERNELS)
        return 0;
    char shape[128];
    /* One axis at a time, the others small, so that each part is named with its cause. */
    if (seqs >= 1) {
        snprintf(shape, sizeof shape, "at %.0f sequences per decode step", seqs);
        probe(d, step_shape_decode(seqs, 512), shape, buf, len);
    }
    if (ctx >= 1) {
        snprintf(shape, sizeof shape, "at a context of %.0f tokens", ctx);
        probe(d, step_shape_decode(1, ctx), shape, buf, len);
    }
    if (tokens >= 1) {
        snprintf(shape, sizeof shape, "at %.0f prompt tokens per step", tokens);
        probe(d, step_shape_prefill(1, tokens), shape, buf, len);
    }
    if (chunk_ctx >= 1) {
        step_shape sh = step_shape_prefill(1, 512);
        sh.prefill_attn = 512.0 * (chunk_ctx + 513.0 / 2.0);
        sh.prefill_ctx_read = chunk_ctx;
        snprintf(shape, sizeof shape, "for a prefill chunk after %.0f tokens of context",
                 chunk_ctx);
        probe(d, sh, shape, buf, len);
    }
    return buf[0] != '\0';
}
