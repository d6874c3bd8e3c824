/*
 * runspec: the typed description of a serving scenario: its settings, filled from a
 * scenario file here and from flags by the command line, and resolved (see runspec.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/runspec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/histo.h"
#include "sim/base/spec.h"
#include "sim/base/util.h"
#include "sim/plan/optval.h"
#include "sim/serve/router.h"
#include "sim/serve/sched.h"
#include "workloads/resample.h"

#define RUN_NAME(name, dflt, help) #name,
const char *const run_opt_key[OPT_COUNT] = {RUN_OPTIONS(RUN_NAME)};
#undef RUN_NAME
#define RUN_DFLT(name, dflt, help) dflt,
const char *const run_opt_default[OPT_COUNT] = {RUN_OPTIONS(RUN_DFLT)};
#undef RUN_DFLT
#define RUN_HELP(name, dflt, help) help,
static const char *const OPT_HELP[OPT_COUNT] = {RUN_OPTIONS(RUN_HELP)};
#undef RUN_HELP

void run_flag_name(run_opt o, char *buf, size_t len)
{
    snprintf(buf, len, "%s", run_opt_key[o]);
    for (char *p = buf; *p; p++)
        if (*p == '_')
            *p = '-';
}

void run_print_options(FILE *out)
{
    for (int o = 0; o < OPT_COUNT; o++) {
        char name[64], formats[256];
        run_flag_name((run_opt)o, name, sizeof name);
        /* The names of the trace formats and the policies come from their tables. */
        char names[256];
        const char *help = OPT_HELP[o];
        if (o == OPT_trace_format)
            help = trace_format_list(formats, sizeof formats, 1, " or ", TRACE_LIST_NAMES);
        if (o == OPT_scheduler || o == OPT_router) {
            (o == OPT_scheduler ? serve_sched_names : serve_router_names)(names, sizeof names);
            help = names;
        }
        fprintf(out, "  --%-20s %s [%s]\n", name, help,
                run_opt_default[o][0] ? run_opt_default[o] : "none");
    }
}

void run_defaults(run_spec *r)
{
    memset(r, 0, sizeof *r);
    for (int o = 0; o < OPT_COUNT; o++)
        snprintf(r->value[o], sizeof r->value[o], "%s", run_opt_default[o]);
}

int run_set_value(run_spec *r, run_opt o, const char *val, char *err, size_t errlen)
{
    if (strlen(val) > SCENARIO_MAX_VALUE) {
        util_errf(err, errlen, "%s: value longer than %d characters (the longest path Linux "
                  "takes)", run_opt_key[o], SCENARIO_MAX_VALUE);
        return -1;
    }
    snprintf(r->value[o], sizeof r->value[o], "%s", val);
    r->given[o] = 1;
    return 0;
}

/* A key of a scenario file: any option, in any section. */
static int on_scenario_key(void *user, const char *section, const char *name, const char *value,
                           char *err, size_t errlen)
{
    run_spec *r = user;
    /* Keys under a section capsim does not know were most likely meant for another
     * program or mistyped: refused, not silently applied. */
    if (section[0] && strcmp(section, "run") != 0 && strcmp(section, "workload") != 0 &&
        strncmp(section, "class.", 6) != 0) {
        util_errf(err, errlen, "unknown section [%s] (expected [run], [workload] or [class.NAME])",
                  section);
        return -1;
    }
    if (strncmp(section, "class.", 6) == 0) {
        const char *cname = section + 6;
        uint32_t k = 0;
        while (k < r->n_cls && strcmp(r->cls[k].name, cname) != 0)
            k++;
        if (k == r->n_cls) {
            if (r->n_cls == REQSRC_MAX_CLASSES || strlen(cname) == 0 ||
                strlen(cname) >= sizeof r->cls[0].name) {
                util_errf(err, errlen, "section [%s]: too many classes or a bad class name",
                          section);
                return -1;
            }
            snprintf(r->cls[r->n_cls++].name, sizeof r->cls[0].name, "%s", cname);
        }
        class_def *d = &r->cls[k];
        char *dst = strcmp(name, "prompt_len") == 0   ? d->prompt_len
                    : strcmp(name, "output_len") == 0 ? d->output_len
                    : strcmp(name, "slo") == 0        ? d->slo
                                                      : NULL;
        if (dst && dst[0]) {
            util_errf(err, errlen, "key '%s' given twice in [%s] (give it once)", name, section);
            return -1;
        }
        if (dst == NULL) {
            util_errf(err, errlen,
                      "unknown key '%s' in [%s] (expected prompt_len, output_len or slo)", name,
                      section);
            return -1;
        }
        if (strlen(value) > RUN_CLASS_VALUE_MAX) {
            util_errf(err, errlen, "%s: value longer than %d characters", name,
                      RUN_CLASS_VALUE_MAX);
            return -1;
        }
        snprintf(dst, RUN_CLASS_VALUE_MAX + 1, "%s", value);
        return 0;
    }
    for (int o = 0; o < OPT_COUNT; o++) {
        if (strcmp(name, run_opt_key[o]) != 0)
            continue;
        /* The file is read before any flag is set, so a key already given is given twice
         * in the file (in one section or two). */
        if (r->given[o]) {
            util_errf(err, errlen, "key '%s' given twice ('%s', then '%s'; give it once)", name,
                      r->value[o], value);
            return -1;
        }
        return run_set_value(r, (run_opt)o, value, err, errlen);
    }
    util_errf(err, errlen, "unknown key '%s' (see capsim run --help for the keys)", name);
    return -1;
}

int run_load_ini(run_spec *r, const char *path, char *err, size_t errlen)
{
    return scenario_load(path, on_scenario_key, r, err, errlen);
}

static int on_off(const run_spec *r, run_opt o, int *out, char *err, size_t errlen)
{
    char name[64] = "--";
    run_flag_name(o, name + 2, sizeof name - 2);
    return optval_on_off(name, r->value[o], out, err, errlen);
}

static int count_opt(const run_spec *r, run_opt o, uint64_t min, uint64_t max, uint64_t *out,
                     char *err, size_t errlen)
{
    char name[64] = "--";
    run_flag_name(o, name + 2, sizeof name - 2);
    return optval_count(name, r->value[o], min, max, out, err, errlen);
}

static int real_opt(const run_spec *r, run_opt o, double min, double max, int max_open, double *out,
                    char *err, size_t errlen)
{
    char name[64] = "--";
    run_flag_name(o, name + 2, sizeof name - 2);
    return optval_real(name, r->value[o], min, max, max_open, out, err, errlen);
}

/* A target's time in seconds: a bare number is seconds (as documented since the first
 * version); "500ms", "0.5s" and "500000us" say their unit. Returns 0, or -1 if it is not a
 * time > 0. */
static int slo_seconds(const char *text, double *out)
{
    static const struct {
        const char *suffix;
        double scale;
    } units[] = {{"ms", 1e-3}, {"us", 1e-6}, {"s", 1.0}};
    char num[64];
    size_t n = strlen(text);
    double scale = 1.0;
    for (size_t u = 0; u < sizeof units / sizeof units[0]; u++) {
        size_t k = strlen(units[u].suffix);
        if (n > k && strcmp(text + n - k, units[u].suffix) == 0) {
            n -= k;
            scale = units[u].scale;
            break;
        }
    }
    if (n == 0 || n >= sizeof num)
        return -1;
    memcpy(num, text, n);
    num[n] = '\0';
    double v;
    if (util_parse_double(num, &v) != 0 || !(v > 0) || !isfinite(v))
        return -1;
    *out = v * scale;
    return 0;
}

/* "ttft:500,tpot:50" (vLLM's --goodput: milliseconds; spaces separate as commas do) into
 * per-request limits in seconds. */
static int parse_goodput(const char *text, double *limit_s, char *err, size_t errlen)
{
    static const char *const names[SLO_COUNT] = {"ttft", "tpot", "e2el"};
    for (int k = 0; k < SLO_COUNT; k++)
        limit_s[k] = 0;
    for (const char *p = text; *p;) {
        size_t len = strcspn(p, ", ");
        char item[64];
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        char *colon = strchr(item, ':');
        int k = -1;
        double ms = NAN;
        if (colon) {
            *colon = '\0';
            for (int j = 0; j < SLO_COUNT; j++)
                if (strcmp(item, names[j]) == 0)
                    k = j;
            if (util_parse_double(colon + 1, &ms) != 0)
                ms = NAN;
        }
        if (len > 0 && (k < 0 || !(ms > 0) || !isfinite(ms) || limit_s[k] > 0)) {
            util_errf(err, errlen,
                      "--goodput '%s': entry '%.*s': expected ttft:MS, tpot:MS or e2el:MS, each "
                      "once, in milliseconds > 0 (as vLLM's --goodput)",
                      text, (int)len, p);
            return -1;
        }
        if (len > 0)
            limit_s[k] = ms / 1e3;
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

/* "ttft_p99=0.5,tpot_p99=50ms,e2el_mean=10s" */
static int parse_slo(const char *text, serve_slo *slo, char *err, size_t errlen)
{
    memset(slo, 0, sizeof *slo);
    if (*text == '\0')
        return 0;
    char buf[1100];
    snprintf(buf, sizeof buf, "slo:%s", text);
    spec s;
    if (spec_parse(buf, &s, err, errlen) != 0)
        return -1;
    static const char *const metric[SLO_COUNT] = {"ttft", "tpot", "e2el"};
    for (size_t i = 0; i < s.n_keys; i++) {
        char m[32], p[32];
        const char *us = strchr(s.key[i], '_');
        int k = -1;
        if (us != NULL && (size_t)(us - s.key[i]) < sizeof m) {
            snprintf(m, sizeof m, "%.*s", (int)(us - s.key[i]), s.key[i]);
            snprintf(p, sizeof p, "%s", us + 1);
            for (int j = 0; j < SLO_COUNT; j++)
                if (strcmp(m, metric[j]) == 0)
                    k = j;
        }
        double pct = -1;
        if (k >= 0) {
            if (strcmp(p, "mean") == 0)
                pct = 0;
            else if (strcmp(p, "p50") == 0)
                pct = 50;
            else if (strcmp(p, "p90") == 0)
                pct = 90;
            else if (strcmp(p, "p95") == 0)
                pct = 95;
            else if (strcmp(p, "p99") == 0)
                pct = 99;
            else if (strcmp(p, "p999") == 0)
                pct = 99.9;
        }
        double v;
        if (k < 0 || pct < 0) {
            util_errf(err, errlen,
                      "--slo '%s': unknown target '%s' (expected ttft, tpot or e2el with "
                      "_mean, _p50, _p90, _p95, _p99 or _p999, e.g. ttft_p99=0.5)",
                      text, s.key[i]);
            return -1;
        }
        if (slo_seconds(s.val[i], &v) != 0) {
            util_errf(err, errlen,
                      "--slo '%s': %s must be a time > 0: seconds (0.5), or with a unit (500ms, "
                      "0.5s, 500000us), found '%s'",
                      text, s.key[i], s.val[i]);
            return -1;
        }
        if (slo->limit_s[k] > 0) {
            util_errf(err, errlen, "--slo '%s': two targets for %s (give one per figure)", text,
                      metric[k]);
            return -1;
        }
        slo->limit_s[k] = v;
        slo->pct[k] = pct;
    }
    return 0;
}

/* --classes and the [class.NAME] sections: shares, and for each class its lengths and SLO
 * (the workload's own where the class says nothing). */
static int resolve_classes(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    if (r->value[OPT_classes][0] == '\0') {
        if (r->n_cls > 0) {
            util_errf(err, errlen, "[class.%s] given but no classes = ... mix", r->cls[0].name);
            return -1;
        }
        return 0;
    }
    char why[1024];
    if (reqsrc_mix_parse(r->value[OPT_classes], &x->mix, why, sizeof why) != 0) {
        util_errf(err, errlen, "--classes %s", why);
        return -1;
    }
    if (c->wl.pairs) {
        util_errf(err, errlen, "--classes and --lengths-from: give one or the other");
        return -1;
    }
    for (uint32_t d = 0; d < r->n_cls; d++) {
        if (reqsrc_mix_find(&x->mix, r->cls[d].name) < 0) {
            util_errf(err, errlen, "[class.%s]: no such class in classes = %s", r->cls[d].name,
                      r->value[OPT_classes]);
            return -1;
        }
    }
    for (uint32_t k = 0; k < x->mix.n; k++) {
        const class_def *d = NULL;
        for (uint32_t j = 0; j < r->n_cls; j++)
            if (strcmp(r->cls[j].name, x->mix.name[k]) == 0)
                d = &r->cls[j];
        x->mix.prompt[k] = c->wl.prompt_len;
        x->mix.output[k] = c->wl.output_len;
        x->cls_slo[k] = c->slo;
        if (d && d->prompt_len[0]) {
            if (dist_parse(d->prompt_len, &x->cls_prompt[k], why, sizeof why) != 0) {
                util_errf(err, errlen, "[class.%s] prompt_len %s", d->name, why);
                return -1;
            }
            x->have_cls_prompt[k] = 1;
            x->mix.prompt[k] = &x->cls_prompt[k];
        }
        if (d && d->output_len[0]) {
            if (dist_parse(d->output_len, &x->cls_output[k], why, sizeof why) != 0) {
                util_errf(err, errlen, "[class.%s] output_len %s", d->name, why);
                return -1;
            }
            x->have_cls_output[k] = 1;
            x->mix.output[k] = &x->cls_output[k];
        }
        if (d && d->slo[0] && parse_slo(d->slo, &x->cls_slo[k], err, errlen) != 0)
            return -1;
    }
    c->wl.mix = &x->mix;
    c->class_slo = x->cls_slo;
    return 0;
}

/* --max-model-len and --over-length: as vLLM, at most the model's context. */
static int resolve_max_model_len(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    uint64_t context = x->dep.model.max_context > 0 ? (uint64_t)x->dep.model.max_context : 0;
    uint64_t v = context;
    if (strcmp(r->value[OPT_max_model_len], "auto") != 0) {
        if (count_opt(r, OPT_max_model_len, 2, UINT32_MAX, &v, err, errlen))
            return -1;
        if (context > 0 && v > context) {
            util_errf(err, errlen,
                      "--max-model-len %s: longer than %s's context of %llu tokens "
                      "(max_position_embeddings; expected 2 to %llu, or auto)",
                      r->value[OPT_max_model_len], x->dep.model.name, (unsigned long long)context,
                      (unsigned long long)context);
            return -1;
        }
    }
    c->max_model_len = (uint32_t)v;
    snprintf(x->max_model_len, sizeof x->max_model_len, "%llu", (unsigned long long)v);
    static const char *const modes[] = {"reject", "truncate", "error"};
    for (int m = 0; m < 3; m++)
        if (strcmp(r->value[OPT_over_length], modes[m]) == 0) {
            c->over_length = (serve_over_length)m;
            return 0;
        }
    util_errf(err, errlen, "--over-length '%s': expected reject, truncate or error",
              r->value[OPT_over_length]);
    return -1;
}

/* The deployment: model, GPU, precisions, memory and the step-time model. */
static int resolve_deployment(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    uint64_t v;
    deploy_options o;
    deploy_options_default(&o);
    o.model = r->value[OPT_model][0] ? r->value[OPT_model] : NULL;
    o.gpu = r->value[OPT_gpu][0] ? r->value[OPT_gpu] : NULL;
    o.precision = r->value[OPT_precision];
    o.precision_given = r->given[OPT_precision];
    o.price = r->value[OPT_price];
    o.prices_file = r->value[OPT_prices];
    o.kv_precision = strcmp(r->value[OPT_kv_precision], "auto") ? r->value[OPT_kv_precision] : NULL;
    if (count_opt(r, OPT_tp, 1, 64, &v, err, errlen))
        return -1;
    o.tp = (int)v;
    if (on_off(r, OPT_tensor_cores, &o.tensor_cores, err, errlen) ||
        real_opt(r, OPT_gpu_mem_util, 0.01, 1, 0, &o.gpu_memory_utilization, err, errlen) ||
        count_opt(r, OPT_block_size, 1, 4096, &v, err, errlen))
        return -1;
    o.block_size = (uint32_t)v;
    if (deploy_parse_mem_reserve(r->value[OPT_mem_reserve], &o.reserve_bytes_per_gpu, err,
                                 errlen) != 0)
        return -1;
    o.profile = strcmp(r->value[OPT_profile], "default") ? r->value[OPT_profile] : NULL;
    o.coeffs = r->profile_values;
    o.step_model = strcmp(r->value[OPT_step_model], "auto") ? r->value[OPT_step_model] : NULL;
    o.stack = r->value[OPT_stack];
    o.kernel_coeffs = r->value[OPT_kernel_coeffs][0] ? r->value[OPT_kernel_coeffs] : NULL;
    if (deploy_resolve(&o, &x->dep, err, errlen) != 0)
        return -1;
    x->have_dep = 1;
    if (resolve_max_model_len(r, x, err, errlen) != 0)
        return -1;
    c->step = &x->dep.step;
    c->kv_blocks = x->dep.mem.kv_blocks;
    c->block_size = o.block_size;
    c->gpus_per_replica = o.tp;
    c->price_usd_per_gpu_hour = x->dep.gpu.price_usd_per_hour;
    return 0;
}

/* A synthetic workload: the arrival process and the length distributions. */
static int resolve_synthetic(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    if (c->wl.requests == 0) {
        util_errf(err, errlen, "--requests 0: expected at least 1 without a --trace");
        return -1;
    }
    char why[1024];
    if (arrival_parse(r->value[OPT_arrival], &x->arrivals, why, sizeof why) != 0) {
        util_errf(err, errlen, "--arrival %s", why);
        return -1;
    }
    x->have_arr = 1;
    if (dist_parse(r->value[OPT_prompt_len], &x->prompt, why, sizeof why) != 0) {
        util_errf(err, errlen, "--prompt-len %s", why);
        return -1;
    }
    x->have_prompt = 1;
    if (dist_parse(r->value[OPT_output_len], &x->output, why, sizeof why) != 0) {
        util_errf(err, errlen, "--output-len %s", why);
        return -1;
    }
    x->have_output = 1;
    c->wl.arrivals = &x->arrivals;
    c->wl.prompt_len = &x->prompt;
    c->wl.output_len = &x->output;
    return 0;
}

/* --prefix and --session: synthetic workloads only. A closed loop's users are the prefix
 * workload's G x U users (so --users must match); closed-loop sessions wait for the
 * simulator to say which user sends (see sim/serve/source.h). */
static int resolve_prefix(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    const char *g = r->value[OPT_prefix], *s = r->value[OPT_session];
    if (g[0] == '\0' && s[0] == '\0')
        return 0;
    if (c->wl.trace_path) {
        util_errf(err, errlen, "--%s makes a synthetic workload; a --trace brings its own",
                  g[0] ? "prefix" : "session");
        return -1;
    }
    if (prefix_parse(g, s, c->seed, &x->prefix, err, errlen) != 0)
        return -1;
    const prefix_workload *p = &x->prefix;
    if (p->groups_on && c->wl.users > 0 &&
        (uint64_t)c->wl.users != (uint64_t)p->groups * p->users_per_group) {
        util_errf(err, errlen,
                  "--users %u and --prefix groups=%u,users=%u: a closed loop's users are the "
                  "groups' users, so --users must be %llu (or 0 for an open workload)",
                  c->wl.users, p->groups, p->users_per_group,
                  (unsigned long long)p->groups * p->users_per_group);
        return -1;
    }
    c->wl.prefix = p;
    return 0;
}

/* --trace-resample: only with a trace. */
static int resolve_resample(const run_spec *r, serve_config *c, char *err, size_t errlen)
{
    if (resample_parse(r->value[OPT_trace_resample], &c->wl.trace_resample_block_s, err,
                       errlen) != 0)
        return -1;
    if (c->wl.trace_resample_block_s > 0 && c->wl.trace_path == NULL) {
        util_errf(err, errlen, "--trace-resample resamples a --trace; there is none");
        return -1;
    }
    return 0;
}

/* Share of a host link's rate that a copy of KV blocks between pinned host memory and a GPU
 * reaches (models/catalog/SOURCES.md#host-link). */
#define HOST_LINK_EFFICIENCY 0.8

/* The CPU tier: its blocks and the time to bring one back. Each GPU of the replica keeps its
 * own share of a block in host memory and copies it over its own host link, so they copy in
 * parallel. */
static int resolve_offload(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    serve_config *c = &x->cfg;
    double gb;
    if (real_opt(r, OPT_kv_offload_gb, 0, 1e6, 0, &gb, err, errlen))
        return -1;
    c->kv_offload_blocks = 0;
    c->kv_load_s_per_block = 0;
    if (gb == 0)
        return 0;
    if (!serve_prefix_active(c)) {
        util_errf(err, errlen,
                  "--kv-offload-gb %s: the CPU tier keeps blocks evicted from the prefix cache, "
                  "which is off (--prefix-caching off or --scheduler static); expected 0 or "
                  "prefix caching on",
                  r->value[OPT_kv_offload_gb]);
        return -1;
    }
    const memplan *m = &x->dep.mem;
    double tp = (double)c->gpus_per_replica;
    double gpu_block_bytes = m->kv_bytes_per_token_gpu * c->block_size;
    double blocks = floor(gb * 1e9 / (gpu_block_bytes * tp));
    if (blocks < 1 || blocks >= (double)(1u << 30)) {
        util_errf(err, errlen,
                  "--kv-offload-gb %s: holds %.0f KV blocks of %.3g MB; expected at least 1 and "
                  "fewer than 2^30",
                  r->value[OPT_kv_offload_gb], blocks, gpu_block_bytes * tp / 1e6);
        return -1;
    }
    c->kv_offload_blocks = (uint64_t)blocks;
    c->kv_load_s_per_block =
        gpu_block_bytes / (HOST_LINK_EFFICIENCY * x->dep.gpu.host_link_bw_bytes_per_s);
    return 0;
}

int run_resolve(const run_spec *r, resolved *x, char *err, size_t errlen)
{
    memset(x, 0, sizeof *x);
    serve_config *c = &x->cfg;
    uint64_t v;
    double d;
    int b;
    if (resolve_deployment(r, x, err, errlen) != 0)
        return -1;
    const char *sched = r->value[OPT_scheduler];
    if ((c->sched = serve_sched_find(sched)) == NULL) {
        char names[256];
        serve_sched_names(names, sizeof names);
        util_errf(err, errlen, "--scheduler '%s': expected %s", sched, names);
        return -1;
    }
    if (count_opt(r, OPT_max_num_seqs, 1, 1u << 20, &v, err, errlen))
        return -1;
    c->max_num_seqs = (uint32_t)v;
    if (count_opt(r, OPT_max_batched_tokens, c->block_size, 1u << 24, &v, err, errlen))
        return -1;
    c->max_batched_tokens = (uint32_t)v;
    if (on_off(r, OPT_chunked_prefill, &b, err, errlen))
        return -1;
    c->chunked_prefill = b;
    if (count_opt(r, OPT_replicas, 1, 100000, &v, err, errlen))
        return -1;
    c->replicas = (uint32_t)v;
    if ((c->router = serve_router_find(r->value[OPT_router])) == NULL) {
        char names[256];
        serve_router_names(names, sizeof names);
        util_errf(err, errlen, "--router '%s': expected %s", r->value[OPT_router], names);
        return -1;
    }
    if (strcmp(r->value[OPT_requests], "auto") == 0)
        v = r->value[OPT_trace][0] ? 0 : 2000; /* a trace: all of it */
    else if (count_opt(r, OPT_requests, 0, UINT64_MAX / 4, &v, err, errlen))
        return -1;
    c->wl.requests = v;
    if (count_opt(r, OPT_users, 0, 10000000, &v, err, errlen))
        return -1;
    c->wl.users = (uint32_t)v;
    if (c->wl.users > 0 && r->value[OPT_trace][0]) {
        util_errf(err, errlen,
                  "--users and --trace: a closed loop draws its own requests; "
                  "give one or the other");
        return -1;
    }
    if (r->value[OPT_lengths_from][0]) {
        int joint;
        if (on_off(r, OPT_lengths_joint, &joint, err, errlen))
            return -1;
        char why[1024];
        const char *from = r->lengths_file[0] ? r->lengths_file : r->value[OPT_lengths_from];
        if (reqsrc_pairs_load(from, joint, &x->pairs, why, sizeof why) != 0) {
            spool_rename(why, sizeof why, from, r->value[OPT_lengths_from]);
            util_errf(err, errlen, "--lengths-from %s", why);
            return -1;
        }
        x->have_pairs = 1;
        c->wl.pairs = &x->pairs;
    }
    if (c->wl.users > 0) {
        char why[1024];
        if (dist_parse(r->value[OPT_think], &x->think, why, sizeof why) != 0) {
            util_errf(err, errlen, "--think %s", why);
            return -1;
        }
        x->have_think = 1;
        c->wl.think = &x->think;
    }
    if (r->value[OPT_trace][0]) {
        c->wl.trace_path = r->trace_file[0] ? r->trace_file : r->value[OPT_trace];
        trace_options *to = &c->wl.trace_opt;
        to->name = r->trace_file[0] ? r->value[OPT_trace] : NULL;
        if (trace_format_parse(r->value[OPT_trace_format], &to->format) != 0) {
            char formats[256];
            util_errf(err, errlen, "--trace-format '%s': expected %s", r->value[OPT_trace_format],
                      trace_format_list(formats, sizeof formats, 1, " or ", TRACE_LIST_NAMES));
            return -1;
        }
        if (real_opt(r, OPT_trace_speedup, 1e-9, INFINITY, 0, &to->speedup, err, errlen) ||
            real_opt(r, OPT_trace_start, 0, INFINITY, 0, &to->window_start_s, err, errlen) ||
            real_opt(r, OPT_trace_end, 0, INFINITY, 0, &to->window_end_s, err, errlen) ||
            on_off(r, OPT_skip_bad_rows, &to->skip_bad_rows, err, errlen) ||
            on_off(r, OPT_strict_order, &to->strict, err, errlen))
            return -1;
    } else {
        if (resolve_synthetic(r, x, err, errlen) != 0)
            return -1;
    }
    if (count_opt(r, OPT_replications, 1, 10000, &v, err, errlen))
        return -1;
    c->replications = (uint32_t)v;
    if (real_opt(r, OPT_warmup, 0, 1, 1, &c->warmup_fraction, err, errlen) ||
        count_opt(r, OPT_seed, 0, UINT64_MAX, &c->seed, err, errlen) ||
        parse_slo(r->value[OPT_slo], &c->slo, err, errlen) ||
        parse_goodput(r->value[OPT_goodput], c->goodput_s, err, errlen) ||
        resolve_classes(r, x, err, errlen) ||
        real_opt(r, OPT_sample_interval, 0, INFINITY, 0, &d, err, errlen) ||
        resolve_prefix(r, x, err, errlen))
        return -1;
    if (d > 0 && d < 1e-3) {
        util_errf(err, errlen, "--sample-interval '%s': expected 0 (none) or at least 0.001 s",
                  r->value[OPT_sample_interval]);
        return -1;
    }
    c->sample_interval_s = d;
    if (on_off(r, OPT_jump, &c->jump, err, errlen) || on_off(r, OPT_per_request, &b, err, errlen) ||
        on_off(r, OPT_prefix_caching, &c->prefix_caching, err, errlen) ||
        resolve_offload(r, x, err, errlen))
        return -1;
    return resolve_resample(r, c, err, errlen);
}

void run_resolved_fini(resolved *x)
{
    if (x->have_dep)
        deploy_fini(&x->dep);
    if (x->have_arr)
        arrival_fini(&x->arrivals);
    if (x->have_prompt)
        dist_fini(&x->prompt);
    if (x->have_output)
        dist_fini(&x->output);
    if (x->have_think)
        dist_fini(&x->think);
    if (x->have_pairs)
        reqsrc_pairs_free(&x->pairs);
    prefix_fini(&x->prefix);
    for (int k = 0; k < REQSRC_MAX_CLASSES; k++) {
        if (x->have_cls_prompt[k])
            dist_fini(&x->cls_prompt[k]);
        if (x->have_cls_output[k])
            dist_fini(&x->cls_output[k]);
    }
}

void run_warn_extrapolated(FILE *err, const char *name, const deploy *d, const serve_result *res)
{
    char where[768];
    if (deploy_extrapolation(d, res->peak_decode_seqs, res->peak_decode_ctx,
                             res->peak_prefill_tokens, res->peak_prefill_ctx, where,
                             sizeof where))
        fprintf(err,
                "capsim %s: warning: some steps of this run were priced beyond the measured "
                "kernel tables, by the roofline of those kernels (less certain): %s\n",
                name, where);
}

void run_warn_over_length(FILE *err, const char *name, const serve_config *c,
                          const serve_result *res)
{
    if (res->over_length == 0)
        return;
    int cut = c->over_length == SERVE_OVER_TRUNCATE;
    fprintf(err,
            "capsim %s: warning: %llu of %llu requests (%.3g%%, over all replications) are "
            "longer than the max model length of %u tokens (prompt + output) and were %s\n",
            name, (unsigned long long)res->over_length, (unsigned long long)res->offered,
            100.0 * (double)res->over_length / (double)(res->offered ? res->offered : 1),
            c->max_model_len,
            cut ? "cut to fit (--over-length truncate: prompts shortened, outputs kept where "
                  "they leave room)"
                : "rejected, as vLLM rejects them; they count in rejected_fraction "
                  "(--over-length truncate cuts them to fit instead, error stops)");
}

/* A setting given with a value other than its default. */
static int set_to(const run_spec *r, run_opt o)
{
    return r->given[o] && strcmp(r->value[o], run_opt_default[o]) != 0;
}

static int on(const run_spec *r, run_opt o)
{
    return r->value[o][0] != '\0';
}

/* Why setting o of r does nothing in the presence of the others, or NULL. */
static const char *why_ignored(const run_spec *r, run_opt o)
{
    int trace = on(r, OPT_trace), closed = strcmp(r->value[OPT_users], "0") != 0;
    switch (o) {
    case OPT_arrival:
        return trace    ? "--trace brings its own arrival times"
               : closed ? "a closed loop (--users) sends each request when the last is answered"
                        : NULL;
    case OPT_prompt_len:
    case OPT_output_len:
        if (trace)
            return "--trace brings its own lengths";
        if (on(r, OPT_lengths_from))
            return "--lengths-from supplies the lengths";
        if (o == OPT_prompt_len && (on(r, OPT_prefix) || on(r, OPT_session)))
            return "--prefix or --session makes the prompts";
        return NULL;
    case OPT_lengths_from:
    case OPT_classes:
        return trace ? "--trace brings its own requests" : NULL;
    case OPT_lengths_joint:
        return !on(r, OPT_lengths_from) || trace ? "it applies to --lengths-from" : NULL;
    case OPT_think:
        return !closed ? "only a closed loop (--users N) thinks between requests" : NULL;
    case OPT_trace_format:
    case OPT_trace_speedup:
    case OPT_trace_start:
    case OPT_trace_end:
    case OPT_skip_bad_rows:
    case OPT_strict_order:
        return !trace ? "it applies to a --trace, and there is none" : NULL;
    default:
        return NULL;
    }
}

int run_warn_ignored(const run_spec *r, const char *cmd, FILE *err)
{
    int n = 0;
    for (int o = 0; o < OPT_COUNT; o++) {
        const char *why = set_to(r, (run_opt)o) ? why_ignored(r, (run_opt)o) : NULL;
        if (why == NULL)
            continue;
        char name[64];
        run_flag_name((run_opt)o, name, sizeof name);
        fprintf(err, "capsim %s: warning: --%s %s is ignored: %s\n", cmd, name, r->value[o], why);
        n++;
    }
    return n;
}

/* Plausible limits, seconds, for a bare-number target (see run_warn_slo_units). */
#define SLO_PLAUSIBLE_TTFT_S 60.0
#define SLO_PLAUSIBLE_TPOT_S 5.0

/* The warnings of one SLO text ("ttft_p99=1000,tpot_p99=50ms"), named by where. */
static int warn_slo_text(const char *text, const char *where, const char *cmd, FILE *err)
{
    int n = 0;
    for (const char *p = text; *p;) {
        const char *end = strchr(p, ',');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        char item[128];
        snprintf(item, sizeof item, "%.*s", (int)(len < sizeof item ? len : sizeof item - 1), p);
        char *eq = strchr(item, '=');
        double v;
        if (eq && util_parse_double(eq + 1, &v) == 0) { /* a bare number: seconds */
            double limit = strncmp(item, "tpot", 4) == 0 ? SLO_PLAUSIBLE_TPOT_S
                                                         : SLO_PLAUSIBLE_TTFT_S;
            if (v > limit) {
                *eq = '\0';
                fprintf(err,
                        "capsim %s: warning: %s %s=%s is %g seconds (a bare number is "
                        "seconds); if you meant milliseconds, as vLLM's --goodput takes them, "
                        "write %s=%sms\n",
                        cmd, where, item, eq + 1, v, item, eq + 1);
                n++;
            }
        }
        if (end == NULL)
            break;
        p = end + 1;
    }
    return n;
}

int run_warn_slo_units(const run_spec *r, const char *cmd, FILE *err)
{
    int n = warn_slo_text(r->value[OPT_slo], "--slo", cmd, err);
    for (uint32_t k = 0; k < r->n_cls; k++) {
        char where[64];
        snprintf(where, sizeof where, "[class.%s] slo", r->cls[k].name);
        n += warn_slo_text(r->cls[k].slo, where, cmd, err);
    }
    return n;
}

int run_spool_inputs(run_spec *r, char *err, size_t errlen)
{
    if (spool_input(r->value[OPT_trace], r->trace_file, sizeof r->trace_file, err, errlen) < 0 ||
        spool_input(r->value[OPT_lengths_from], r->lengths_file, sizeof r->lengths_file, err,
                    errlen) < 0)
        return -1;
    return 0;
}

/* Sets rate=V in an arrival spec that has a rate. */
int run_set_rate(char *arr, size_t len, const char *value, char *err, size_t errlen)
{
    char *at = strstr(arr, "rate=");
    while (at && at != arr && at[-1] != ':' && at[-1] != ',')
        at = strstr(at + 1, "rate=");
    if (at == NULL) {
        util_errf(err, errlen, "the arrival process '%s' has no rate= key to set", arr);
        return -1;
    }
    char *end = strchr(at, ',');
    char rest[1024];
    snprintf(rest, sizeof rest, "%s", end ? end : "");
    int w = snprintf(at, len - (size_t)(at - arr), "rate=%s%s", value, rest);
    if (w < 0 || (size_t)w >= len - (size_t)(at - arr)) {
        util_errf(err, errlen, "the arrival process '%.100s' is too long with rate=%s", arr,
                  value);
        return -1;
    }
    return 0;
}

double run_offered_rate(const run_spec *r, const resolved *x, const serve_result *res)
{
    if (x != NULL && res != NULL) {
        if (x->cfg.wl.users > 0)
            return NAN;
        if (x->cfg.wl.trace_path)
            return res->offered_rate.mean;
        return x->have_arr ? x->arrivals.rate_per_s : NAN;
    }
    if (r->value[OPT_trace][0] || strtod(r->value[OPT_users], NULL) > 0)
        return NAN;
    arrival_process a;
    char why[512];
    if (arrival_parse(r->value[OPT_arrival], &a, why, sizeof why) != 0)
        return NAN;
    double rate = a.rate_per_s;
    arrival_fini(&a);
    return rate;
}

/* The summary header: every setting, then the deployment's figures, then every metric
 * with its CI. Classes (named in x, or none when x is NULL) add their columns. */
const char *run_ci_covers(const serve_config *c)
{
    int noise = c->step && c->step->c.noise_cv > 0;
    if (c->wl.trace_path && c->wl.trace_resample_block_s > 0)
        return noise ? "trace blocks and step-time noise" : "trace blocks";
    if (c->wl.trace_path)
        return noise ? "step-time noise" : "nothing (the same requests, no step-time noise)";
    if (c->wl.users > 0)
        return noise ? "think times, lengths and step-time noise" : "think times and lengths";
    return noise ? "arrivals, lengths and step-time noise" : "arrivals and lengths";
}

const char *run_value_resolved(const run_spec *r, const resolved *x, run_opt o)
{
    const char *v = r->value[o];
    if (x == NULL || !x->have_dep)
        return v;
    if (o == OPT_stack && x->dep.stack.name[0])
        return x->dep.stack.name;
    if (o == OPT_step_model && strcmp(v, "auto") == 0)
        return x->dep.stack.kernels ? "kernels" : "roofline";
    if (o == OPT_max_model_len && x->max_model_len[0])
        return x->max_model_len;
    return v;
}

void run_summary_header(csvout *c, const resolved *x, uint32_t n_classes)
{
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(c, run_opt_key[o]);
    static const char *const extra_in[] = {"kv_blocks",         "kv_tokens",  "weight_gb_per_gpu",
                                           "cost_per_hour_usd", "stack_used", "step_data",
                                           "offered_rate",      "saturated",
                                           "carried_share"};
    for (size_t i = 0; i < sizeof extra_in / sizeof extra_in[0]; i++)
        csvout_str(c, extra_in[i]);
    for (int m = 0; m < SM_COUNT; m++) {
        char ci[80];
        snprintf(ci, sizeof ci, "%s_ci95", serve_metric_names[m]);
        csvout_str(c, serve_metric_names[m]);
        csvout_str(c, ci);
    }
    static const char *const tail[] = {
        "slo_ttft_met",         "slo_tpot_met", "slo_e2el_met",        "little_law_ok",
        "percentile_rel_error", "ci_covers",    "over_length_requests"};
    for (size_t i = 0; i < sizeof tail / sizeof tail[0]; i++)
        csvout_str(c, tail[i]);
    /* The prefix cache's figures (empty with prefix caching off). */
    for (int m = 0; m < SP_COUNT; m++) {
        char ci[80];
        snprintf(ci, sizeof ci, "%s_ci95", serve_prefix_names[m]);
        csvout_str(c, serve_prefix_names[m]);
        csvout_str(c, ci);
    }
    for (uint32_t k = 0; x && k < n_classes; k++) {
        static const char *const what[] = {"share_pct", "slo_attainment_pct"};
        for (int w = 0; w < 2; w++) {
            char col[96];
            snprintf(col, sizeof col, "class_%s_%s", x->mix.name[k], what[w]);
            csvout_str(c, col);
            snprintf(col, sizeof col, "class_%s_%s_ci95", x->mix.name[k], what[w]);
            csvout_str(c, col);
        }
    }
}

/* The values of one run, matching write_summary_header. With x or res NULL (a point that
 * could not run), the settings and empty figures. */
void run_summary_values(csvout *c, const run_spec *r, const resolved *x,
                                 const serve_result *res, uint32_t n_classes)
{
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(c, run_value_resolved(r, res ? x : NULL, (run_opt)o));
    if (x == NULL || res == NULL) {
        csvout_str(c, "");
        csvout_str(c, "");
        csvout_str(c, "");
        csvout_str(c, "");
        csvout_str(c, "");
        csvout_str(c, "");
        csvout_num(c, run_offered_rate(r, NULL, NULL));
        int empty = 2 + 2 * SM_COUNT + 7 + 2 * SP_COUNT + 4 * (int)n_classes;
        for (int i = 0; i < empty; i++)
            csvout_str(c, "");
        return;
    }
    csvout_u64(c, x->dep.mem.kv_blocks);
    csvout_u64(c, x->dep.mem.kv_tokens);
    csvout_num(c, x->dep.mem.weight_bytes_per_gpu / 1e9);
    csvout_num(c, res->cost_per_hour_usd);
    csvout_str(c, x->dep.stack.name);
    csvout_str(c, x->dep.step_data);
    csvout_num(c, run_offered_rate(r, x, res));
    /* 1, 0, or empty where not judged (a closed loop, a batch, a run too short to tell) */
    if (res->saturated < 0)
        csvout_str(c, "");
    else
        csvout_u64(c, (uint64_t)res->saturated);
    csvout_num(c, res->carried_share.n ? res->carried_share.mean : NAN);
    for (int m = 0; m < SM_COUNT; m++) {
        csvout_num(c, res->metric[m].mean);
        csvout_num(c, res->metric[m].half_width);
    }
    for (int k = 0; k < SLO_COUNT; k++) {
        if (res->slo_met[k] < 0)
            csvout_str(c, "");
        else
            csvout_u64(c, (uint64_t)res->slo_met[k]);
    }
    if (res->little_checked)
        csvout_u64(c, (uint64_t)res->little_ok);
    else
        csvout_str(c, "");
    csvout_num(c, HISTO_REL_ERROR);
    csvout_str(c, run_ci_covers(&x->cfg));
    /* Over all replications: rejected (in rejected_fraction) or cut, as --over-length says. */
    csvout_u64(c, res->over_length);
    for (int m = 0; m < SP_COUNT; m++) {
        if (res->prefix_on) {
            csvout_num(c, res->prefix[m].mean);
            csvout_num(c, res->prefix[m].half_width);
        } else {
            csvout_str(c, "");
            csvout_str(c, "");
        }
    }
    for (uint32_t k = 0; k < n_classes; k++) {
        csvout_num(c, res->class_share[k].mean);
        csvout_num(c, res->class_share[k].half_width);
        csvout_num(c, res->class_attainment[k].mean);
        csvout_num(c, res->class_attainment[k].half_width);
    }
}
