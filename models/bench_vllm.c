/*
 * bench_vllm: results of `vllm bench serve --save-result --save-detailed` (vllm/benchmarks/
 * serve.py) and of the older benchmarks/benchmark_serving.py: input_lens (or prompt_lens),
 * output_lens, ttfts, itls, start_times, errors, e2els (or latencies), request_rate
 * (number, "inf", Infinity or null), max_concurrency, model_id (or model). A request is
 * failed when its errors item is a non-empty string, or, in files without errors, when its
 * output length is 0. A file holds result objects, one after another (JSON lines, as
 * --append-result writes) or in a top-level array; each is one run.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "models/bench_reader.h"
#include "sim/base/util.h"

/* The request rate of a result: *rate > 0 for a number, *is_inf for "inf" or Infinity. */
static void vllm_rate(json_object *v, double *rate, int *is_inf)
{
    double x = NAN;
    *rate = 0;
    *is_inf = 0;
    if (bl_jis_num(v)) {
        x = json_object_get_double(v);
    } else if (bl_jstr(v) != NULL) {
        const char *s = bl_jstr(v);
        if (strcasecmp(s, "inf") == 0 || strcasecmp(s, "infinity") == 0)
            x = INFINITY;
        else if (util_parse_double(s, &x) != 0)
            x = NAN;
    }
    if (isinf(x) && x > 0)
        *is_inf = 1;
    else if (x > 0 && isfinite(x))
        *rate = x;
}

/* Looks up an array of per-request values; NULL when absent. Fails when it is not an array
 * or its length is not n. */
static int vllm_array(bload *L, long line, const char *ctx, json_object *res, const char *key,
                      const char *n_key, size_t n, json_object **out)
{
    json_object *a = bl_jkey(res, key);
    *out = NULL;
    if (a == NULL)
        return 0;
    if (!json_object_is_type(a, json_type_array)) {
        char shown[80];
        return bl_fail_at(L, line,
                          "%s: key '%s': found %s, expected an array with one item per "
                          "request",
                          ctx, key, bl_jshow(a, shown, sizeof shown));
    }
    if (json_object_array_length(a) != n)
        return bl_fail_at(L, line,
                          "%s: key '%s' has %zu items but '%s' has %zu (expected one per request)",
                          ctx, key, json_object_array_length(a), n_key, n);
    *out = a;
    return 0;
}

/* The label, rate and concurrency of a result (ctx when it names neither). */
static void vllm_label(json_object *res, const char *ctx, char *label, size_t len, double *rate,
                       uint32_t *conc)
{
    int is_inf;
    vllm_rate(bl_jkey(res, "request_rate"), rate, &is_inf);
    *conc = bl_concurrency_of(bl_jkey(res, "max_concurrency"));
    if (*rate > 0 && *conc > 0)
        snprintf(label, len, "rate %g req/s, concurrency %u", *rate, *conc);
    else if (*rate > 0)
        snprintf(label, len, "rate %g req/s", *rate);
    else if (is_inf && *conc > 0)
        snprintf(label, len, "rate inf, concurrency %u", *conc);
    else if (is_inf)
        snprintf(label, len, "rate inf");
    else if (*conc > 0)
        snprintf(label, len, "concurrency %u", *conc);
    else
        snprintf(label, len, "%s", ctx);
}

/* The per-request arrays of one result (NULL when absent) and the keys they were under. */
typedef struct vllm_arrays {
    json_object *in, *outs, *ttfts, *itls, *starts, *errors, *e2els;
    const char *in_key, *e2e_key;
} vllm_arrays;

/* Reads request i of a result into run ri (or counts it failed, or leaves it out). */
static int vllm_request(bload *L, size_t ri, long line, const char *ctx, const vllm_arrays *a,
                        size_t i)
{
    char shown[80], what[96];
    pending q;
    bl_pending_init(&q, i, line);
    q.k_start = "start_times";
    q.k_ttft = "ttfts";
    q.k_itl = "itls";
    q.k_e2e = a->e2e_key;
    json_object *e = a->errors ? json_object_array_get_idx(a->errors, i) : NULL;
    int failed = e != NULL && !(bl_jstr(e) != NULL && bl_jstr(e)[0] == '\0');
    snprintf(what, sizeof what, "%s: output_lens[%zu]", ctx, i);
    if (!failed &&
        bl_read_tokens(L, line, what, json_object_array_get_idx(a->outs, i), &q.output) != 0)
        return -1;
    /* Files without errors[] mark a failed request by its zero output length. */
    if (failed || (a->errors == NULL && q.output == 0)) {
        L->set->runs[ri].n_failed++;
        return 0;
    }
    snprintf(what, sizeof what, "%s: %s[%zu]", ctx, a->in_key, i);
    if (bl_read_tokens(L, line, what, json_object_array_get_idx(a->in, i), &q.prompt) != 0)
        return -1;
    if (q.prompt < 1)
        return bl_fail_at(L, line, "%s: found 0, expected a whole number of tokens >= 1", what);
    json_object *t = json_object_array_get_idx(a->ttfts, i);
    if (!bl_jis_num(t))
        return bl_fail_at(L, line, "%s: ttfts[%zu]: found %s, expected a time in seconds", ctx, i,
                          bl_jshow(t, shown, sizeof shown));
    q.ttft_s = json_object_get_double(t);
    if (a->itls != NULL) {
        json_object *list = json_object_array_get_idx(a->itls, i);
        if (list != NULL && !json_object_is_type(list, json_type_array))
            return bl_fail_at(L, line, "%s: itls[%zu]: found %s, expected a list of seconds", ctx,
                              i, bl_jshow(list, shown, sizeof shown));
        size_t m = bl_jlen(list);
        for (size_t j = 0; j < m; j++) {
            json_object *x = json_object_array_get_idx(list, j);
            if (!bl_jis_num(x))
                return bl_fail_at(L, line, "%s: itls[%zu][%zu]: found %s, expected seconds", ctx, i,
                                  j, bl_jshow(x, shown, sizeof shown));
            if (bl_scratch_push(L, &q.n_itl, json_object_get_double(x)) != 0)
                return -1;
        }
        q.have_itl = 1;
    }
    json_object *st = a->starts ? json_object_array_get_idx(a->starts, i) : NULL;
    if (st != NULL) {
        if (!bl_jis_num(st))
            return bl_fail_at(L, line, "%s: start_times[%zu]: found %s, expected seconds", ctx, i,
                              bl_jshow(st, shown, sizeof shown));
        q.start_s = json_object_get_double(st);
        q.have_start = 1;
    }
    json_object *e2 = a->e2els ? json_object_array_get_idx(a->e2els, i) : NULL;
    if (e2 != NULL && a->itls == NULL) {
        if (!bl_jis_num(e2))
            return bl_fail_at(L, line, "%s: %s[%zu]: found %s, expected seconds", ctx, a->e2e_key,
                              i, bl_jshow(e2, shown, sizeof shown));
        q.e2e_s = json_object_get_double(e2);
        q.have_e2e = 1;
    }
    if (q.output == 0) {
        /* Older clients count output tokens by re-tokenizing the text, which gives 0 for
         * an empty reply; such a request says nothing about decoding. */
        bl_skip_request(L, ri, &q, "output_lens", "is 0 for a request without an error");
        return 0;
    }
    return bl_add_request(L, ri, &q);
}

static int vllm_result(bload *L, json_object *res, long line, const char *ctx)
{
    char shown[80];
    vllm_arrays a;
    if (!json_object_is_type(res, json_type_object))
        return bl_fail_at(L, line, "%s: found %s, expected a vllm bench serve result object", ctx,
                          bl_jshow(res, shown, sizeof shown));
    a.in_key = "input_lens";
    a.in = bl_jkey(res, a.in_key);
    if (a.in == NULL) {
        a.in_key = "prompt_lens";
        a.in = bl_jkey(res, a.in_key);
    }
    if (a.in == NULL)
        return bl_fail_at(L, line,
                          "%s: no key 'input_lens' or 'prompt_lens' (expected a vllm bench serve "
                          "result saved with --save-result --save-detailed)",
                          ctx);
    if (!json_object_is_type(a.in, json_type_array))
        return bl_fail_at(L, line, "%s: key '%s': found %s, expected an array", ctx, a.in_key,
                          bl_jshow(a.in, shown, sizeof shown));
    size_t n = json_object_array_length(a.in);
    a.e2e_key = bl_jkey(res, "e2els") != NULL ? "e2els" : "latencies";
    if (vllm_array(L, line, ctx, res, "output_lens", a.in_key, n, &a.outs) != 0 ||
        vllm_array(L, line, ctx, res, "ttfts", a.in_key, n, &a.ttfts) != 0 ||
        vllm_array(L, line, ctx, res, "itls", a.in_key, n, &a.itls) != 0 ||
        vllm_array(L, line, ctx, res, "start_times", a.in_key, n, &a.starts) != 0 ||
        vllm_array(L, line, ctx, res, "errors", a.in_key, n, &a.errors) != 0 ||
        vllm_array(L, line, ctx, res, a.e2e_key, a.in_key, n, &a.e2els) != 0)
        return -1;
    if (a.outs == NULL || a.ttfts == NULL)
        return bl_fail_at(L, line,
                          "%s: no key '%s' (expected a vllm bench serve result saved with "
                          "--save-result --save-detailed)",
                          ctx, a.outs == NULL ? "output_lens" : "ttfts");

    double rate;
    uint32_t conc;
    char label[128];
    vllm_label(res, ctx, label, sizeof label, &rate, &conc);
    const char *model = bl_jstr(bl_jkey(res, "model_id"));
    if (model == NULL)
        model = bl_jstr(bl_jkey(res, "model"));
    long ri_l = bl_new_run(L, label, model);
    if (ri_l < 0)
        return -1;
    size_t ri = (size_t)ri_l;
    L->set->runs[ri].request_rate = rate;
    L->set->runs[ri].max_concurrency = conc;
    if (bl_run_reserve(L, ri, n) != 0)
        return -1;

    for (size_t i = 0; i < n; i++)
        if (vllm_request(L, ri, line, ctx, &a, i) != 0)
            return -1;
    return 0;
}

static int vllm_value(bload *L, void *arg, json_object *v, long line, size_t index)
{
    char ctx[64];
    (void)arg;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        if (n == 0)
            return bl_fail_at(L, line, "an empty array (expected vllm bench serve result objects)");
        for (size_t i = 0; i < n; i++) {
            snprintf(ctx, sizeof ctx, "result %zu", L->set->n_runs + 1);
            if (vllm_result(L, json_object_array_get_idx(v, i), line, ctx) != 0)
                return -1;
        }
        return 0;
    }
    (void)index;
    snprintf(ctx, sizeof ctx, "result %zu", L->set->n_runs + 1);
    return vllm_result(L, v, line, ctx);
}

static int vllm_load(bload *L)
{
    return bl_json_each(L, vllm_value, NULL, 0);
}

static const char *const VLLM_KEYS[] = {"input_lens", "prompt_lens", "ttfts", NULL};

const bench_format_def bench_format_vllm = {
    .name = "vllm",
    .title = "vLLM",
    .what = "a vLLM result JSON",
    .help = "vllm bench serve --save-result --save-detailed JSON (several results, one per "
            "line, with --append-result)",
    .json = 1,
    .json_keys = VLLM_KEYS,
    .load = vllm_load,
};
