/*
 * bench_genai_perf: genai-perf's profile_export.json from perf_analyzer: experiments[] with
 * experiment {mode, value} and requests[] {timestamp, response_timestamps (ns),
 * request_inputs, response_outputs}; each experiment is one run. The file stores text, not
 * token counts, so counts come from an OpenAI usage object in a response (prompt_tokens,
 * completion_tokens), else from request_inputs.input_lengths or input_ids (TensorRT-LLM),
 * and the output count falls back to the number of responses that carry text (SSE chunks
 * with choices[0].delta.content or text, Triton text_output, or output_ids). A request
 * with no such response is failed.
 */
#define _POSIX_C_SOURCE 200809L
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/bench_reader.h"
#include "sim/base/util.h"

/* What one response of a genai-perf request says. */
typedef struct genai_resp {
    int content;         /* it carries output text (or token ids) */
    double usage_prompt; /* from an OpenAI usage object, or NAN */
    double usage_output; /* likewise */
    double ids;          /* output token ids it carries (TensorRT-LLM), or 0 */
} genai_resp;

static int nonempty(json_object *v)
{
    const char *s = bl_jstr(v);
    return s != NULL && s[0] != '\0';
}

/* Looks at one parsed OpenAI-style body or SSE chunk. */
static void genai_chunk(json_object *c, genai_resp *r)
{
    json_object *ch = bl_jidx(bl_jkey(c, "choices"), 0);
    if (ch != NULL) {
        json_object *d = bl_jkey(ch, "delta"), *m = bl_jkey(ch, "message");
        if (nonempty(bl_jkey(d, "content")) || nonempty(bl_jkey(d, "reasoning_content")) ||
            nonempty(bl_jkey(ch, "text")) || nonempty(bl_jkey(m, "content")))
            r->content = 1;
    }
    if (nonempty(bl_jkey(c, "text_output")) || nonempty(bl_jkey(c, "text")))
        r->content = 1;
    json_object *u = bl_jkey(c, "usage");
    if (bl_jis_num(bl_jkey(u, "prompt_tokens")))
        r->usage_prompt = json_object_get_double(bl_jkey(u, "prompt_tokens"));
    if (bl_jis_num(bl_jkey(u, "completion_tokens")))
        r->usage_output = json_object_get_double(bl_jkey(u, "completion_tokens"));
}

/* Parses the JSON in s[0..n) with the loader's second tokener; NULL if it is not JSON. */
static json_object *parse_sub(bload *L, const char *s, size_t n)
{
    if (n == 0 || n > (size_t)INT_MAX - 1)
        return NULL;
    json_tokener_reset(L->subtok);
    json_object *o = json_tokener_parse_ex(L->subtok, s, (int)n);
    if (json_tokener_get_error(L->subtok) != json_tokener_success) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

/* A "response" string: server-sent events ("data: {...}" lines, "data: [DONE]") or, for a
 * non-streaming request, the JSON body itself. */
static void genai_text(bload *L, const char *s, genai_resp *r)
{
    int any_data = 0;
    for (const char *p = s; *p;) {
        const char *eol = strchr(p, '\n');
        size_t n = eol ? (size_t)(eol - p) : strlen(p);
        const char *q = p;
        while (q < p + n && (*q == ' ' || *q == '\t'))
            q++;
        if ((size_t)(p + n - q) >= 5 && memcmp(q, "data:", 5) == 0) {
            any_data = 1;
            q += 5;
            size_t m = (size_t)(p + n - q);
            while (m > 0 && (*q == ' ' || *q == '\t')) {
                q++;
                m--;
            }
            while (m > 0 && (q[m - 1] == '\r' || q[m - 1] == ' '))
                m--;
            if (!(m == 6 && memcmp(q, "[DONE]", 6) == 0)) {
                json_object *c = parse_sub(L, q, m);
                if (c != NULL)
                    genai_chunk(c, r);
                json_object_put(c);
            }
        }
        p += n + (eol != NULL);
    }
    if (!any_data) {
        json_object *c = parse_sub(L, s, strlen(s));
        if (c != NULL)
            genai_chunk(c, r);
        else if (s[0] != '\0')
            r->content = 1; /* plain text */
        json_object_put(c);
    }
}

static void genai_response(bload *L, json_object *o, genai_resp *r)
{
    r->content = 0;
    if (o == NULL) {
        r->content = 1; /* no output recorded for this timestamp: count it */
        return;
    }
    json_object *ids = bl_jkey(o, "output_ids");
    if (json_object_is_type(ids, json_type_array)) {
        r->ids += (double)json_object_array_length(ids);
        r->content = json_object_array_length(ids) > 0;
    } else if (bl_jkey(o, "text_output") != NULL) {
        r->content = nonempty(bl_jkey(o, "text_output"));
    } else if (bl_jstr(bl_jkey(o, "response")) != NULL) {
        genai_text(L, bl_jstr(bl_jkey(o, "response")), r);
    } else {
        r->content = 1; /* an output of unknown shape: count it */
    }
}

/* The prompt length genai-perf's request_inputs give, or NAN. */
static double genai_prompt(json_object *in)
{
    json_object *v = bl_jkey(in, "input_lengths");
    if (json_object_is_type(v, json_type_array))
        v = json_object_array_get_idx(v, 0);
    if (bl_jis_num(v))
        return json_object_get_double(v);
    v = bl_jkey(in, "input_ids");
    if (json_object_is_type(v, json_type_object))
        v = bl_jkey(v, "content");
    if (json_object_is_type(v, json_type_array)) {
        /* A batch of one is written as [[...]]. */
        json_object *first = json_object_array_get_idx(v, 0);
        if (json_object_is_type(first, json_type_array))
            v = first;
        return (double)json_object_array_length(v);
    }
    v = bl_jkey(in, "prompt_tokens");
    return bl_jis_num(v) ? json_object_get_double(v) : NAN;
}

/* The model a request names: request_inputs.model or the model in its JSON payload. */
static void genai_model(bload *L, json_object *in, char *out, size_t len)
{
    const char *m = bl_jstr(bl_jkey(in, "model"));
    json_object *p = NULL;
    if (m == NULL && bl_jstr(bl_jkey(in, "payload")) != NULL) {
        const char *s = bl_jstr(bl_jkey(in, "payload"));
        p = parse_sub(L, s, strlen(s));
        m = bl_jstr(bl_jkey(p, "model"));
    }
    bl_copy_printable(out, len, m ? m : "");
    json_object_put(p);
}

static int genai_request(bload *L, size_t ri, const char *ctx, json_object *r, size_t i,
                         json_object **base)
{
    char shown[80];
    bench_run *run = &L->set->runs[ri];
    if (!json_object_is_type(r, json_type_object))
        return bl_fail_at(L, 0, "%s.requests[%zu]: found %s, expected an object", ctx, i,
                          bl_jshow(r, shown, sizeof shown));
    json_object *ts = bl_jkey(r, "timestamp");
    if (!bl_jis_num(ts))
        return bl_fail_at(L, 0, "%s.requests[%zu].timestamp: found %s, expected nanoseconds", ctx,
                          i, bl_jshow(ts, shown, sizeof shown));
    json_object *rts = bl_jkey(r, "response_timestamps");
    json_object *outs = bl_jkey(r, "response_outputs");
    if (rts != NULL && !json_object_is_type(rts, json_type_array))
        return bl_fail_at(L, 0,
                          "%s.requests[%zu].response_timestamps: found %s, expected a list "
                          "of nanoseconds",
                          ctx, i, bl_jshow(rts, shown, sizeof shown));
    pending q;
    bl_pending_init(&q, i, 0);
    q.k_start = "timestamp";
    q.k_ttft = "response_timestamps[first]";
    q.k_itl = "response gaps";
    q.k_e2e = "response_timestamps[last]";
    genai_resp g = {0, NAN, NAN, 0};
    size_t n_content = 0;
    for (size_t j = 0; j < bl_jlen(rts); j++) {
        json_object *t = json_object_array_get_idx(rts, j);
        if (!bl_jis_num(t))
            return bl_fail_at(L, 0,
                              "%s.requests[%zu].response_timestamps[%zu]: found %s, "
                              "expected nanoseconds",
                              ctx, i, j, bl_jshow(t, shown, sizeof shown));
        genai_response(L, j < bl_jlen(outs) ? json_object_array_get_idx(outs, j) : NULL, &g);
        if (g.content && bl_scratch_push(L, &n_content, bl_ns_diff_s(ts, t)) != 0)
            return -1;
    }
    if (n_content == 0) {
        run->n_failed++;
        return 0;
    }
    char what[128];
    double prompt =
        isnan(g.usage_prompt) ? genai_prompt(bl_jkey(r, "request_inputs")) : g.usage_prompt;
    if (isnan(prompt))
        return bl_fail_at(L, 0,
                          "%s.requests[%zu]: no prompt token count (genai-perf stores the prompt "
                          "as text; expected a numeric usage.prompt_tokens in a response, as with "
                          "--extra-inputs stream_options:{\"include_usage\":true}, or "
                          "request_inputs.input_lengths)",
                          ctx, i);
    double output = !isnan(g.usage_output) ? g.usage_output : g.ids > 0 ? g.ids : (double)n_content;
    char num[48];
    snprintf(what, sizeof what, "%s.requests[%zu]: prompt tokens", ctx, i);
    if (bl_check_tokens(L, 0, what, prompt, bl_fmt_num(prompt, num, sizeof num), &q.prompt) != 0)
        return -1;
    snprintf(what, sizeof what, "%s.requests[%zu]: output tokens", ctx, i);
    if (bl_check_tokens(L, 0, what, output, bl_fmt_num(output, num, sizeof num), &q.output) != 0)
        return -1;
    if (q.prompt < 1)
        return bl_fail_at(L, 0, "%s.requests[%zu]: prompt of 0 tokens (expected >= 1)", ctx, i);
    if (q.output == 0) {
        bl_skip_request(L, ri, &q, "usage.completion_tokens", "is 0 for a request with output");
        return 0;
    }
    /* Times of the responses with output, from the request's send time. */
    double *c = L->scratch;
    q.ttft_s = c[0];
    q.e2e_s = c[n_content - 1];
    q.have_e2e = 1;
    if ((double)n_content == q.output) {
        /* One response per token: the gaps are the inter-token latencies. */
        for (size_t j = 0; j + 1 < n_content; j++)
            c[j] = c[j + 1] - c[j];
        q.n_itl = n_content - 1;
        q.have_itl = 1;
    }
    if (*base == NULL)
        *base = json_object_get(ts);
    q.start_s = bl_ns_diff_s(*base, ts);
    q.have_start = 1;
    return bl_add_request(L, ri, &q);
}

static int genai_value(bload *L, void *arg, json_object *doc, long line, size_t index)
{
    char shown[80], ctx[64], label[128], model[256];
    (void)arg;
    (void)index;
    json_object *exps = bl_jkey(doc, "experiments");
    if (!json_object_is_type(exps, json_type_array))
        return bl_fail_at(
            L, line, "%s (expected genai-perf's profile_export.json with experiments[])",
            exps == NULL ? "no key 'experiments'" : "key 'experiments' is not an array");
    if (json_object_array_length(exps) == 0)
        return bl_fail_at(L, line, "experiments[] is empty (expected at least one experiment)");
    for (size_t k = 0; k < json_object_array_length(exps); k++) {
        json_object *e = json_object_array_get_idx(exps, k);
        snprintf(ctx, sizeof ctx, "experiments[%zu]", k);
        json_object *reqs = bl_jkey(e, "requests");
        if (!json_object_is_type(reqs, json_type_array))
            return bl_fail_at(L, line, "%s.requests: found %s, expected an array", ctx,
                              bl_jshow(reqs, shown, sizeof shown));
        json_object *x = bl_jkey(e, "experiment");
        const char *mode = bl_jstr(bl_jkey(x, "mode"));
        json_object *val = bl_jkey(x, "value");
        double value = bl_jis_num(val) ? json_object_get_double(val) : NAN;
        if (bl_jstr(val) != NULL && util_parse_double(bl_jstr(val), &value) != 0)
            value = NAN;
        double rate = 0;
        uint32_t conc = 0;
        if (mode != NULL && strcmp(mode, "concurrency") == 0 && value >= 1) {
            conc = value >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)value;
            snprintf(label, sizeof label, "concurrency %u", conc);
        } else if (mode != NULL && strcmp(mode, "request_rate") == 0 && value > 0 &&
                   isfinite(value)) {
            rate = value;
            snprintf(label, sizeof label, "rate %g req/s", rate);
        } else if (mode != NULL && isfinite(value)) {
            snprintf(label, sizeof label, "%.60s %g", mode, value);
        } else {
            snprintf(label, sizeof label, "experiment %zu", k + 1);
        }
        genai_model(L, bl_jkey(json_object_array_get_idx(reqs, 0), "request_inputs"), model,
                    sizeof model);
        long ri_l = bl_new_run(L, label, model);
        if (ri_l < 0)
            return -1;
        size_t ri = (size_t)ri_l;
        L->set->runs[ri].request_rate = rate;
        L->set->runs[ri].max_concurrency = conc;
        if (bl_run_reserve(L, ri, json_object_array_length(reqs)) != 0)
            return -1;
        json_object *base = NULL;
        int rc = 0;
        for (size_t i = 0; rc == 0 && i < json_object_array_length(reqs); i++)
            rc = genai_request(L, ri, ctx, json_object_array_get_idx(reqs, i), i, &base);
        json_object_put(base);
        if (rc != 0)
            return -1;
    }
    return 0;
}

static int genai_load(bload *L)
{
    return bl_json_each(L, genai_value, NULL, 1);
}

static const char *const GENAI_KEYS[] = {"experiments", NULL};

const bench_format_def bench_format_genai_perf = {
    .name = "genai-perf",
    .alias = "genai_perf genaiperf",
    .title = "genai-perf",
    .what = "a genai-perf profile_export.json",
    .help = "genai-perf profile_export.json",
    .json = 1,
    .json_keys = GENAI_KEYS,
    .load = genai_load,
};
