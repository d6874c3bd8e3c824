/*
 * jsonout: a run's figures as JSON with vLLM benchmark names (see jsonout.h).
 */
#include "sim/plan/jsonout.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include <json-c/json.h>

/* A number written with 9 significant digits (as the CSV files carry them), or null when
 * it is not finite. */
static json_object *num(double v)
{
    if (!isfinite(v))
        return NULL;
    char text[32];
    snprintf(text, sizeof text, "%.9g", v);
    return json_object_new_double_s(v, text);
}

/* The names vLLM's benchmark gives capsim's figures. */
typedef struct vllm_name {
    const char *vllm;
    serve_metric m;
} vllm_name;

#define LATENCY_NAMES(X, M)                                                                        \
    {"mean_" X "_ms", SM_mean_##M##_ms}, {"median_" X "_ms", SM_p50_##M##_ms},                     \
        {"std_" X "_ms", SM_std_##M##_ms}, {"p90_" X "_ms", SM_p90_##M##_ms},                      \
        {"p95_" X "_ms", SM_p95_##M##_ms}, {"p99_" X "_ms", SM_p99_##M##_ms},                      \
        {"p99.9_" X "_ms", SM_p999_##M##_ms}

static const vllm_name NAMES[] = {
    {"request_throughput", SM_request_throughput},
    {"output_throughput", SM_output_throughput},
    {"total_token_throughput", SM_total_token_throughput},
    LATENCY_NAMES("ttft", ttft),
    LATENCY_NAMES("tpot", tpot),
    LATENCY_NAMES("itl", itl),
    LATENCY_NAMES("e2el", e2el),
};

static void add_figure(json_object *top, json_object *ci, const char *key, const stats_ci *v)
{
    json_object_object_add(top, key, num(v->mean));
    json_object_object_add(ci, key, num(v->half_width));
}

static json_object *scenario_object(const run_spec *r, const resolved *x)
{
    json_object *o = json_object_new_object();
    for (int k = 0; k < OPT_COUNT; k++)
        json_object_object_add(o, run_opt_key[k],
                               json_object_new_string(run_value_resolved(r, x, (run_opt)k)));
    return o;
}

/* {"mean": .., "ci95": .., "unit": ..} of one figure. */
static json_object *figure_object(const stats_ci *v, const char *unit)
{
    json_object *f = json_object_new_object();
    json_object_object_add(f, "mean", num(v->mean));
    json_object_object_add(f, "ci95", num(v->half_width));
    json_object_object_add(f, "unit", json_object_new_string(unit));
    return f;
}

static json_object *metrics_object(const serve_result *res)
{
    json_object *o = json_object_new_object();
    for (int m = 0; m < SM_COUNT; m++)
        json_object_object_add(o, serve_metric_names[m],
                               figure_object(&res->metric[m], serve_metric_units[m]));
    for (int m = 0; res->prefix_on && m < SP_COUNT; m++)
        json_object_object_add(o, serve_prefix_names[m],
                               figure_object(&res->prefix[m], serve_prefix_units[m]));
    return o;
}

static json_object *seeds_object(const serve_result *res, uint64_t master)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "master_seed", json_object_new_uint64(master));
    json_object *per = json_object_new_array();
    for (size_t i = 0; i < res->n_seeds; i++)
        json_object_array_add(per, json_object_new_uint64(res->seeds[i]));
    json_object_object_add(o, "per_replication_and_source", per);
    json_object_object_add(o, "sources_per_replication", json_object_new_uint64(res->n_sources));
    return o;
}

int jsonout_summary(FILE *fp, const run_spec *r, const resolved *x, const serve_result *res)
{
    const serve_config *c = &x->cfg;
    json_object *top = json_object_new_object(), *ci = json_object_new_object();
    if (top == NULL || ci == NULL)
        return -1;
    json_object_object_add(top, "backend", json_object_new_string("capsim"));
    json_object_object_add(top, "model_id", json_object_new_string(x->dep.model.name));
    json_object_object_add(top, "gpu", json_object_new_string(x->dep.gpu.name));
    json_object_object_add(top, "stack", json_object_new_string(x->dep.stack.name));
    json_object_object_add(top, "replications", json_object_new_uint64(c->replications));
    double reps = (double)c->replications;
    json_object_object_add(top, "num_prompts", num((double)res->requests_total / reps));
    json_object_object_add(top, "completed", num((double)res->finished / reps));
    for (size_t i = 0; i < sizeof NAMES / sizeof NAMES[0]; i++)
        add_figure(top, ci, NAMES[i].vllm, &res->metric[NAMES[i].m]);
    int slo = 0;
    for (int k = 0; k < SLO_COUNT; k++)
        slo |= c->slo.limit_s[k] > 0 || c->goodput_s[k] > 0;
    if (slo) /* vLLM writes it only with --goodput: requests/s meeting every limit */
        add_figure(top, ci, "request_goodput", &res->metric[SM_goodput]);
    /* Not in vLLM's output: the rate offered and whether the run carried it (a saturated
     * run's latencies grow with its length; sim/serve/result.h states the rule). */
    json_object_object_add(top, "offered_rate", num(run_offered_rate(r, x, res)));
    json_object_object_add(top, "saturated", res->saturated < 0
                                                 ? NULL
                                                 : json_object_new_boolean(res->saturated == 1));
    json_object_object_add(top, "carried_share",
                           num(res->carried_share.n ? res->carried_share.mean : NAN));
    json_object_object_add(top, "ci95", ci);
    json_object_object_add(top, "metrics", metrics_object(res));
    json_object_object_add(top, "scenario", scenario_object(r, x));
    json_object_object_add(top, "seeds", seeds_object(res, c->seed));
    const char *text = json_object_to_json_string_ext(top, JSON_C_TO_STRING_PRETTY |
                                                               JSON_C_TO_STRING_NOSLASHESCAPE);
    int rc = text ? 0 : -1;
    if (text)
        fprintf(fp, "%s\n", text);
    json_object_put(top);
    return rc;
}
