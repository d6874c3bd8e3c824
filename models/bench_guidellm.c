/*
 * bench_guidellm: GuideLLM's benchmarks.json, one run a benchmark, of GuideLLM 0.2
 * (requests with start_time, end_time, first_token_time, last_token_time, strategy in
 * args.strategy) and of later versions (requests with request_start_time,
 * request_end_time and info.timings {request_start, first_token_iteration,
 * last_token_iteration, request_end}, strategy in config.strategy); both write
 * prompt_tokens, output_tokens, time_to_first_token_ms, inter_token_latency_ms and
 * request_latency (s), which are preferred when present. errored[] requests count as
 * failed; incomplete[] ones (cut off when the benchmark ended) are ignored.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/bench_reader.h"

/* Label, rate and concurrency from a GuideLLM scheduling strategy object. */
static void guidellm_strategy(json_object *s, size_t k, char *label, size_t len, double *rate,
                              uint32_t *conc)
{
    const char *type = bl_jstr(bl_jkey(s, "type_"));
    json_object *r = bl_jkey(s, "rate");
    double x = bl_jis_num(r) ? json_object_get_double(r) : NAN;
    *rate = 0;
    *conc = 0;
    if (type == NULL) {
        snprintf(label, len, "benchmark %zu", k + 1);
    } else if (strcmp(type, "synchronous") == 0) {
        *conc = 1;
        snprintf(label, len, "synchronous");
    } else if (strcmp(type, "concurrent") == 0 && bl_concurrency_of(bl_jkey(s, "streams")) > 0) {
        *conc = bl_concurrency_of(bl_jkey(s, "streams"));
        snprintf(label, len, "concurrent %u", *conc);
    } else if (strcmp(type, "throughput") == 0) {
        *conc = bl_concurrency_of(bl_jkey(s, "max_concurrency"));
        snprintf(label, len, "throughput");
    } else if (x > 0 && isfinite(x)) {
        *rate = x;
        *conc = bl_concurrency_of(bl_jkey(s, "max_concurrency"));
        snprintf(label, len, "%.40s %g req/s", type, x);
    } else {
        snprintf(label, len, "%.60s", type);
    }
}

/* The first of the keys of o (then of alt) that holds a number. */
static int first_num(bload *L, const char *ctx, json_object *o, const char *k1, const char *k2,
                     json_object *alt, const char *k3, double *out)
{
    int have = 0;
    if (bl_opt_num(L, 0, ctx, o, k1, out, &have) != 0)
        return -1;
    if (!have && k2 != NULL && bl_opt_num(L, 0, ctx, o, k2, out, &have) != 0)
        return -1;
    if (!have && k3 != NULL && bl_opt_num(L, 0, ctx, alt, k3, out, &have) != 0)
        return -1;
    return have;
}

static int guidellm_request(bload *L, size_t ri, const char *bctx, json_object *r, size_t i)
{
    char ctx[128], shown[80];
    snprintf(ctx, sizeof ctx, "%s.requests.successful[%zu]", bctx, i);
    if (!json_object_is_type(r, json_type_object))
        return bl_fail_at(L, 0, "%s: found %s, expected an object", ctx,
                          bl_jshow(r, shown, sizeof shown));
    pending q;
    bl_pending_init(&q, i, 0);
    q.k_start = "start_time";
    q.k_ttft = "time_to_first_token_ms";
    q.k_e2e = "request_latency";
    q.k_tpot = "inter_token_latency_ms";
    char what[192];
    snprintf(what, sizeof what, "%s.prompt_tokens", ctx);
    if (bl_read_tokens(L, 0, what, bl_jkey(r, "prompt_tokens"), &q.prompt) != 0)
        return -1;
    if (q.prompt < 1)
        return bl_fail_at(L, 0, "%s: found 0, expected a whole number of tokens >= 1", what);
    snprintf(what, sizeof what, "%s.output_tokens", ctx);
    if (bl_read_tokens(L, 0, what, bl_jkey(r, "output_tokens"), &q.output) != 0)
        return -1;
    json_object *tm = bl_jkey(bl_jkey(r, "info"), "timings");
    double start, first, last, end, x;
    int h_start, h_first, h_last, h_end, h;
    if ((h_start = first_num(L, ctx, r, "start_time", "request_start_time", tm, "request_start",
                             &start)) < 0 ||
        (h_first = first_num(L, ctx, r, "first_token_time", NULL, tm, "first_token_iteration",
                             &first)) < 0 ||
        (h_last = first_num(L, ctx, r, "last_token_time", NULL, tm, "last_token_iteration",
                            &last)) < 0 ||
        (h_end = first_num(L, ctx, r, "end_time", "request_end_time", tm, "request_end", &end)) < 0)
        return -1;
    if ((h = first_num(L, ctx, r, "time_to_first_token_ms", NULL, NULL, NULL, &x)) < 0)
        return -1;
    if (h) {
        q.ttft_s = x / 1000;
    } else if (h_first && h_start) {
        q.ttft_s = first - start;
        q.k_ttft = "first_token_time - start_time";
    } else {
        return bl_fail_at(L, 0,
                          "%s: no time to first token (expected time_to_first_token_ms, or "
                          "first_token_time and start_time)",
                          ctx);
    }
    if ((h = first_num(L, ctx, r, "request_latency", NULL, NULL, NULL, &x)) < 0)
        return -1;
    if (h) {
        q.e2e_s = x;
        q.have_e2e = 1;
    } else if (h_end && h_start) {
        q.e2e_s = end - start;
        q.have_e2e = 1;
        q.k_e2e = "end_time - start_time";
    }
    if (q.output > 1) {
        if ((h = first_num(L, ctx, r, "inter_token_latency_ms", NULL, NULL, NULL, &x)) < 0)
            return -1;
        if (h) {
            q.tpot_s = x / 1000;
            q.have_tpot = 1;
        } else if (h_first && h_last) {
            q.tpot_s = (last - first) / (q.output - 1);
            q.have_tpot = 1;
            q.k_tpot = "last_token_time - first_token_time";
        }
    }
    if (h_start) {
        q.start_s = start;
        q.have_start = 1;
    }
    if (q.output == 0) {
        bl_skip_request(L, ri, &q, "output_tokens", "is 0 for a successful request");
        return 0;
    }
    return bl_add_request(L, ri, &q);
}

static int guidellm_value(bload *L, void *arg, json_object *doc, long line, size_t index)
{
    char shown[80], ctx[64], label[128];
    (void)arg;
    (void)index;
    json_object *bs = bl_jkey(doc, "benchmarks");
    if (!json_object_is_type(bs, json_type_array))
        return bl_fail_at(L, line, "%s (expected a GuideLLM benchmarks.json with benchmarks[])",
                          bs == NULL ? "no key 'benchmarks'" : "key 'benchmarks' is not an array");
    if (json_object_array_length(bs) == 0)
        return bl_fail_at(L, line, "benchmarks[] is empty (expected at least one benchmark)");
    const char *doc_model = bl_jstr(bl_jkey(bl_jkey(doc, "args"), "model"));
    for (size_t k = 0; k < json_object_array_length(bs); k++) {
        json_object *b = json_object_array_get_idx(bs, k);
        snprintf(ctx, sizeof ctx, "benchmarks[%zu]", k);
        json_object *s = bl_jkey(bl_jkey(b, "args"), "strategy");
        if (s == NULL)
            s = bl_jkey(bl_jkey(b, "config"), "strategy");
        if (s == NULL)
            s = bl_jkey(b, "strategy");
        double rate;
        uint32_t conc;
        guidellm_strategy(s, k, label, sizeof label, &rate, &conc);
        const char *model = bl_jstr(bl_jkey(bl_jkey(b, "worker"), "backend_model"));
        long ri_l = bl_new_run(L, label, model ? model : doc_model);
        if (ri_l < 0)
            return -1;
        size_t ri = (size_t)ri_l;
        L->set->runs[ri].request_rate = rate;
        L->set->runs[ri].max_concurrency = conc;
        json_object *reqs = bl_jkey(b, "requests");
        json_object *ok = bl_jkey(reqs, "successful");
        if (!json_object_is_type(ok, json_type_array))
            return bl_fail_at(L, line,
                              "%s: %s (expected GuideLLM 0.2 or later output with per-request "
                              "details)",
                              ctx,
                              reqs == NULL ? "no key 'requests'"
                              : ok == NULL ? "no key 'requests.successful'"
                                           : "requests.successful is not an array");
        json_object *errd = bl_jkey(reqs, "errored");
        if (errd != NULL && !json_object_is_type(errd, json_type_array))
            return bl_fail_at(L, line, "%s.requests.errored: found %s, expected an array", ctx,
                              bl_jshow(errd, shown, sizeof shown));
        L->set->runs[ri].n_failed = bl_jlen(errd);
        if (bl_run_reserve(L, ri, json_object_array_length(ok)) != 0)
            return -1;
        for (size_t i = 0; i < json_object_array_length(ok); i++)
            if (guidellm_request(L, ri, ctx, json_object_array_get_idx(ok, i), i) != 0)
                return -1;
    }
    return 0;
}

static int guidellm_load(bload *L)
{
    return bl_json_each(L, guidellm_value, NULL, 1);
}

static const char *const GUIDELLM_KEYS[] = {"benchmarks", NULL};

const bench_format_def bench_format_guidellm = {
    .name = "guidellm",
    .title = "GuideLLM",
    .what = "a GuideLLM benchmarks.json",
    .help = "GuideLLM benchmarks.json",
    .json = 1,
    .json_keys = GUIDELLM_KEYS,
    .load = guidellm_load,
};
