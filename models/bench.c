/*
 * bench: readers for benchmark result files (see bench.h).
 *
 * The JSON formats are read whole into memory and parsed with json-c one top-level value at
 * a time (json_each), so a vLLM file written with --append-result (one object per line), a
 * pretty-printed document and an AIPerf JSON-lines file all go through the same loop, and
 * the byte offset where a value starts gives the line for messages. json-c's tokener, in its
 * default non-strict mode, reads the NaN, Infinity and -Infinity that Python's json module
 * writes. CSV goes through csvin, which streams and names file, line and column.
 *
 * Each format reader turns one request of its file into a `pending` request (the lengths
 * and whatever latencies the file gave, in seconds) and hands it to add_request(), the one
 * place that decides whether a successful request is usable. A NaN, infinite or negative
 * latency, a time to first token of 0 or an end-to-end latency shorter than the time to
 * first token is a problem of that request only: it is left out and counted as a warning.
 * Malformed structure (truncated JSON, a missing key, arrays of different lengths, token
 * counts that are negative, fractional or a zero prompt) fails the whole file.
 *
 * Invariants of a loaded set (the fuzz target checks them): n_runs >= 1; every run has
 * n >= 1; every request has whole prompt_tokens and output_tokens >= 1, a finite ttft_s > 0,
 * itl_s non-NULL exactly when n_itl > 0 with finite values >= 0, tpot_s and e2e_s either
 * NAN or finite with e2e_s >= ttft_s, tpot_s NAN when output_tokens is 1, and start_s NAN
 * or finite and >= 0 with the run's earliest request at 0. Run labels are unique within a
 * set and free of control characters, like model names.
 *
 * What each reader accepts (field names checked against the tools' sources):
 *   vllm      vllm/benchmarks/serve.py and the older benchmarks/benchmark_serving.py:
 *             input_lens (or prompt_lens), output_lens, ttfts, itls, start_times, errors,
 *             e2els (or latencies), request_rate (number, "inf", Infinity or null),
 *             max_concurrency, model_id (or model). A request is failed when its errors
 *             item is a non-empty string, or, in files without errors, when its output
 *             length is 0. A file holds result objects, one after another (JSON lines) or
 *             in a top-level array.
 *   aiperf    profile_export.jsonl records {metadata, metrics, error}: metrics
 *             input_sequence_length, output_sequence_length (or output_token_count),
 *             time_to_first_token (or ttft, the 0.1-era name), request_latency,
 *             inter_token_latency, inter_chunk_latency (a list, used as the per-token
 *             latencies only when it has one item per output token after the first); each
 *             a bare number or {"value": v, "unit": u} with u in ns, us, ms, s (a bare time
 *             is in ms, AIPerf's display unit); metadata.request_start_ns (or timestamp_ns
 *             in 0.1-era records) for the start. A record whose error (top level or, in
 *             0.1-era records, in metadata) is not null, or that was cancelled, is failed;
 *             warmup-phase records are ignored.
 *   genai-perf  profile_export.json from perf_analyzer: experiments[] with experiment
 *             {mode, value} and requests[] {timestamp, response_timestamps (ns),
 *             request_inputs, response_outputs}. The file stores text, not token counts, so
 *             counts come from an OpenAI usage object in a response (prompt_tokens,
 *             completion_tokens), else from request_inputs.input_lengths or input_ids
 *             (TensorRT-LLM), and the output count falls back to the number of responses
 *             that carry text (SSE chunks with choices[0].delta.content or text, Triton
 *             text_output, or output_ids). A request with no such response is failed.
 *   guidellm  benchmarks.json of GuideLLM 0.2 (requests with start_time, end_time,
 *             first_token_time, last_token_time, strategy in args.strategy) and of later
 *             versions (requests with request_start_time, request_end_time and
 *             info.timings {request_start, first_token_iteration, last_token_iteration,
 *             request_end}, strategy in config.strategy); both write prompt_tokens,
 *             output_tokens, time_to_first_token_ms, inter_token_latency_ms and
 *             request_latency (s), which are preferred when present. errored[] requests
 *             count as failed; incomplete[] ones (cut off when the benchmark ended) are
 *             ignored.
 *   csv       see bench.h.
 */
#define _POSIX_C_SOURCE 200809L
#include "models/bench.h"

#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

/* Bytes bench_detect looks at. */
#define BENCH_SNIFF_BYTES 65536u
/* Deepest JSON nesting accepted (the formats' deepest real values are under 10 levels). */
#define BENCH_JSON_MAX_DEPTH 64
/* json-c takes lengths as int. */
#define BENCH_MAX_FILE_BYTES ((size_t)INT_MAX - 1)
/* Largest token count accepted. */
#define BENCH_MAX_TOKENS 1e9
/* Largest latency accepted, seconds (about 31 years); larger ones are unusable values. */
#define BENCH_MAX_TIME_S 1e9
/* Largest start time accepted, seconds on the file's own clock (epoch seconds fit). */
#define BENCH_MAX_START_S 1e12

const char *const bench_format_names[BENCH_FORMAT_COUNT] = {"auto",       "vllm",     "aiperf",
                                                            "genai-perf", "guidellm", "csv"};

static const char FORMS[] = "a vLLM result JSON, an AIPerf profile_export.jsonl, a genai-perf "
                            "profile_export.json, a GuideLLM benchmarks.json or a CSV with a "
                            "prompt_tokens column";

/* Per-run bookkeeping of the loader, parallel to set->runs. */
typedef struct run_info {
    size_t cap;  /* capacity of the run's req array */
    size_t seen; /* requests of the run read so far (kept, skipped or failed) */
} run_info;

typedef struct bload {
    const char *path;
    bench_set *set;
    size_t runs_cap;
    run_info *info;
    double *scratch; /* the inter-token latencies of the request being read, seconds */
    size_t scratch_cap;
    size_t n_skipped;     /* successful requests left out for unusable values */
    char first_skip[320]; /* what the first of them was, without the file name */
    /* The whole file (JSON formats), NUL-terminated, and where line counting got to. */
    char *buf;
    size_t len;
    size_t line_off;
    long line_no;
    json_tokener *tok;    /* top-level values */
    json_tokener *subtok; /* JSON inside strings (genai-perf responses) */
    char *err;
    size_t errlen;
} bload;

/* One request as a reader found it. Times are seconds; the have_ flags say which of the
 * optional values the file gave; the k_ strings name the file's keys for warnings. */
typedef struct pending {
    double start_s, prompt, output, ttft_s, e2e_s, tpot_s;
    int have_start, have_e2e, have_tpot;
    int have_itl; /* the file gave the whole list (n_itl values in scratch, maybe none) */
    size_t n_itl;
    size_t index; /* position of the request in its run, for messages */
    long line;    /* line of the request (or of its JSON value), 0 if unknown */
    const char *k_start, *k_ttft, *k_itl, *k_e2e, *k_tpot;
} pending;

/* --- Messages ---------------------------------------------------------------------------- */

__attribute__((format(printf, 3, 4))) static int fail_at(bload *L, long line, const char *fmt, ...)
{
    char msg[448];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        util_errf(L->err, L->errlen, "%s:%ld: %s", L->path, line, msg);
    else
        util_errf(L->err, L->errlen, "%s: %s", L->path, msg);
    return -1;
}

__attribute__((format(printf, 3, 4))) static void warn_at(bload *L, long line, const char *fmt, ...)
{
    bench_set *s = L->set;
    if (s->n_warnings++ > 0)
        return;
    char msg[448];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (line > 0)
        snprintf(s->first_warning, sizeof s->first_warning, "%s:%ld: %s", L->path, line, msg);
    else
        snprintf(s->first_warning, sizeof s->first_warning, "%s: %s", L->path, msg);
}

static const char *fmt_num(double x, char *buf, size_t len)
{
    if (isnan(x))
        snprintf(buf, len, "NaN");
    else if (isinf(x))
        snprintf(buf, len, x > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(buf, len, "%.10g", x);
    return buf;
}

/* A time in seconds for messages: "0.25 s", or "NaN" and "Infinity" without a unit. */
static const char *fmt_s(double x, char *buf, size_t len)
{
    fmt_num(x, buf, len);
    if (isfinite(x) && strlen(buf) + 3 <= len)
        strcat(buf, " s");
    return buf;
}

/* A short one-line rendering of a JSON value for messages. */
static const char *jshow(json_object *v, char *buf, size_t len)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int:
    case json_type_double:
        return fmt_num(json_object_get_double(v), buf, len);
    case json_type_string: {
        char p[64];
        util_printable(json_object_get_string(v), p, sizeof p);
        snprintf(buf, len, "'%s'", p);
        return buf;
    }
    case json_type_array:
        return "an array";
    case json_type_object:
        return "an object";
    }
    return "?";
}

/* Copies s into out[len] fit for a label: control characters become '?'. */
static void copy_printable(char *out, size_t len, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < len; s++)
        out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[n] = '\0';
}

/* --- Small JSON helpers ------------------------------------------------------------------ */

/* Member key of o, or NULL when o is not an object, has no such key or holds null there. */
static json_object *jkey(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

static int jis_num(json_object *v)
{
    json_type t = json_object_get_type(v);
    return t == json_type_int || t == json_type_double;
}

static const char *jstr(json_object *v)
{
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

static size_t jlen(json_object *arr)
{
    return json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

/* Item i of arr, or NULL when arr is not an array or too short (json-c asserts on a
 * non-array). */
static json_object *jidx(json_object *arr, size_t i)
{
    return i < jlen(arr) ? json_object_array_get_idx(arr, i) : NULL;
}

/* Seconds from ns timestamp a to ns timestamp b, exact for non-negative integers. */
static double ns_diff_s(json_object *a, json_object *b)
{
    if (json_object_is_type(a, json_type_int) && json_object_is_type(b, json_type_int)) {
        int64_t x = json_object_get_int64(a), y = json_object_get_int64(b);
        if (x >= 0 && y >= 0)
            return (double)(y - x) * 1e-9;
    }
    return (json_object_get_double(b) - json_object_get_double(a)) * 1e-9;
}

/* Reads an optional number: absent or null gives *have = 0; a number gives *have = 1 (it may
 * be NaN or infinite: add_request judges); anything else is an error naming ctx.key. */
static int opt_num(bload *L, long line, const char *ctx, json_object *o, const char *key,
                   double *out, int *have)
{
    json_object *v = jkey(o, key);
    *have = 0;
    if (v == NULL)
        return 0;
    if (!jis_num(v)) {
        char shown[80];
        return fail_at(L, line, "%s.%s: found %s, expected a number", ctx, key,
                       jshow(v, shown, sizeof shown));
    }
    *out = json_object_get_double(v);
    *have = 1;
    return 0;
}

/* Checks a token count x read from the file (shown as it appeared): a whole number from 0
 * to BENCH_MAX_TOKENS; zero is the caller's to judge. what names the value in messages. */
static int check_tokens(bload *L, long line, const char *what, double x, const char *shown,
                        double *out)
{
    if (!(x >= 0 && x <= BENCH_MAX_TOKENS) || x != floor(x))
        return fail_at(L, line, "%s: found %s, expected a whole number of tokens from 1 to %g",
                       what, shown, BENCH_MAX_TOKENS);
    *out = x;
    return 0;
}

static int read_tokens(bload *L, long line, const char *what, json_object *v, double *out)
{
    char shown[80];
    if (v == NULL)
        return fail_at(L, line, "%s: missing or null (expected a whole number of tokens >= 1)",
                       what);
    return check_tokens(L, line, what, jis_num(v) ? json_object_get_double(v) : NAN,
                        jshow(v, shown, sizeof shown), out);
}

/* --- Runs and requests ------------------------------------------------------------------- */

static int oom(bload *L)
{
    util_errf(L->err, L->errlen, "%s: out of memory", L->path);
    return -1;
}

/* Appends an empty run; returns its index, or -1 when out of memory. */
static long new_run(bload *L, const char *label, const char *model)
{
    bench_set *s = L->set;
    if (s->n_runs == L->runs_cap) {
        size_t cap = L->runs_cap ? 2 * L->runs_cap : 8;
        bench_run *r = realloc(s->runs, cap * sizeof *r);
        if (r == NULL)
            return oom(L);
        s->runs = r;
        run_info *ri = realloc(L->info, cap * sizeof *ri);
        if (ri == NULL)
            return oom(L);
        L->info = ri;
        L->runs_cap = cap;
    }
    bench_run *r = &s->runs[s->n_runs];
    memset(r, 0, sizeof *r);
    copy_printable(r->label, sizeof r->label, label);
    copy_printable(r->model, sizeof r->model, model ? model : "");
    L->info[s->n_runs].cap = 0;
    L->info[s->n_runs].seen = 0;
    return (long)s->n_runs++;
}

static int run_reserve(bload *L, size_t ri, size_t want)
{
    bench_run *r = &L->set->runs[ri];
    run_info *in = &L->info[ri];
    if (want <= in->cap)
        return 0;
    size_t cap = in->cap ? 2 * in->cap : 16;
    if (cap < want)
        cap = want;
    bench_request *q = realloc(r->req, cap * sizeof *q);
    if (q == NULL)
        return oom(L);
    r->req = q;
    in->cap = cap;
    return 0;
}

static int scratch_push(bload *L, size_t *n, double x)
{
    if (*n == L->scratch_cap) {
        size_t cap = L->scratch_cap ? 2 * L->scratch_cap : 256;
        double *p = realloc(L->scratch, cap * sizeof *p);
        if (p == NULL)
            return oom(L);
        L->scratch = p;
        L->scratch_cap = cap;
    }
    L->scratch[(*n)++] = x;
    return 0;
}

static void pending_init(pending *q, size_t index, long line)
{
    memset(q, 0, sizeof *q);
    q->start_s = q->e2e_s = q->tpot_s = NAN;
    q->index = index;
    q->line = line;
    q->k_start = "start";
    q->k_ttft = "ttft";
    q->k_itl = "itl";
    q->k_e2e = "e2e";
    q->k_tpot = "tpot";
}

/* Records a successful request the file gave with an unusable value: left out, warned. */
static void skip_request(bload *L, size_t ri, const pending *q, const char *key, const char *why)
{
    const bench_run *r = &L->set->runs[ri];
    L->n_skipped++;
    if (L->n_skipped == 1)
        snprintf(L->first_skip, sizeof L->first_skip, "run %zu request %zu: %s %s", ri + 1,
                 q->index, key, why);
    warn_at(L, q->line, "run %zu (%s), request %zu: %s %s; request left out", ri + 1, r->label,
            q->index, key, why);
}

/* Checks one successful request, fills in what can be derived (e2e from the inter-token
 * latencies, tpot from e2e and the reverse) and appends it to run ri, or leaves it out with
 * a warning when a value is unusable. Returns 0, or -1 when out of memory. The inter-token
 * latencies are the first q->n_itl values of L->scratch. */
static int add_request(bload *L, size_t ri, pending *q)
{
    char num[48], why[160];
    assert(q->prompt >= 1 && q->output >= 1);
    if (q->have_start && !(fabs(q->start_s) <= BENCH_MAX_START_S)) {
        snprintf(why, sizeof why, "is %s, expected a finite time", fmt_num(q->start_s, num, 48));
        skip_request(L, ri, q, q->k_start, why);
        return 0;
    }
    if (!(q->ttft_s > 0 && q->ttft_s <= BENCH_MAX_TIME_S)) {
        snprintf(why, sizeof why, "is %s, expected a time > 0", fmt_s(q->ttft_s, num, 48));
        skip_request(L, ri, q, q->k_ttft, why);
        return 0;
    }
    double sum_itl = 0;
    for (size_t j = 0; j < q->n_itl; j++) {
        double x = L->scratch[j];
        if (!(x >= 0 && x <= BENCH_MAX_TIME_S)) {
            char key[64];
            snprintf(key, sizeof key, "%s[%zu]", q->k_itl, j);
            snprintf(why, sizeof why, "is %s, expected a time >= 0", fmt_s(x, num, 48));
            skip_request(L, ri, q, key, why);
            return 0;
        }
        sum_itl += x;
    }
    if (q->have_e2e) {
        if (!(q->e2e_s >= 0 && q->e2e_s <= BENCH_MAX_TIME_S)) {
            snprintf(why, sizeof why, "is %s, expected a time >= 0", fmt_s(q->e2e_s, num, 48));
            skip_request(L, ri, q, q->k_e2e, why);
            return 0;
        }
        /* Rounding (ms in one field, s in another) may put e2e a hair below ttft. */
        if (q->e2e_s < q->ttft_s) {
            if (q->ttft_s - q->e2e_s > 1e-9 + 1e-9 * q->ttft_s) {
                char t[48];
                snprintf(why, sizeof why, "is %s s, shorter than the time to first token %s s",
                         fmt_num(q->e2e_s, num, 48), fmt_num(q->ttft_s, t, sizeof t));
                skip_request(L, ri, q, q->k_e2e, why);
                return 0;
            }
            q->e2e_s = q->ttft_s;
        }
    }
    if (q->have_tpot && !(q->tpot_s >= 0 && q->tpot_s <= BENCH_MAX_TIME_S)) {
        snprintf(why, sizeof why, "is %s, expected a time >= 0", fmt_s(q->tpot_s, num, 48));
        skip_request(L, ri, q, q->k_tpot, why);
        return 0;
    }

    if (!q->have_e2e && q->have_itl) {
        q->e2e_s = q->ttft_s + sum_itl;
        q->have_e2e = 1;
    }
    if (q->output <= 1) {
        q->tpot_s = NAN;
    } else if (!q->have_tpot) {
        q->tpot_s = q->have_e2e ? (q->e2e_s - q->ttft_s) / (q->output - 1) : NAN;
    } else if (!q->have_e2e) {
        q->e2e_s = q->ttft_s + q->tpot_s * (q->output - 1);
        q->have_e2e = 1;
    }

    if (run_reserve(L, ri, L->set->runs[ri].n + 1) != 0)
        return -1;
    bench_run *r = &L->set->runs[ri];
    bench_request *b = &r->req[r->n];
    b->start_s = q->have_start ? q->start_s : NAN;
    b->prompt_tokens = q->prompt;
    b->output_tokens = q->output;
    b->ttft_s = q->ttft_s;
    b->tpot_s = q->tpot_s;
    b->e2e_s = q->have_e2e ? q->e2e_s : NAN;
    b->itl_s = NULL;
    b->n_itl = 0;
    if (q->n_itl > 0) {
        b->itl_s = malloc(q->n_itl * sizeof *b->itl_s);
        if (b->itl_s == NULL)
            return oom(L);
        memcpy(b->itl_s, L->scratch, q->n_itl * sizeof *b->itl_s);
        b->n_itl = q->n_itl;
    }
    r->n++;
    return 0;
}

/* True if run i's label equals that of an earlier run. */
static int label_taken(const bench_set *s, size_t i)
{
    for (size_t j = 0; j < i; j++)
        if (strcmp(s->runs[j].label, s->runs[i].label) == 0)
            return 1;
    return 0;
}

/* Drops runs without a successful request (with a warning), makes start times relative to
 * each run's earliest request and labels unique. Fails when no run is left. */
static int finalize(bload *L)
{
    bench_set *s = L->set;
    size_t kept = 0, failed = 0;
    for (size_t i = 0; i < s->n_runs; i++) {
        bench_run *r = &s->runs[i];
        failed += r->n_failed;
        if (r->n == 0) {
            warn_at(L, 0, "run %zu (%s): no successful request (%zu failed); run left out", i + 1,
                    r->label, r->n_failed);
            free(r->req);
            continue;
        }
        double t0 = INFINITY;
        for (size_t j = 0; j < r->n; j++)
            if (r->req[j].start_s < t0)
                t0 = r->req[j].start_s;
        if (isfinite(t0))
            for (size_t j = 0; j < r->n; j++)
                r->req[j].start_s -= t0;
        s->runs[kept++] = *r;
    }
    s->n_runs = kept;
    if (kept == 0) {
        free(s->runs);
        s->runs = NULL;
        if (L->n_skipped > 0)
            return fail_at(L, 0,
                           "no usable request (%zu failed, %zu left out for unusable values, "
                           "the first: %s)",
                           failed, L->n_skipped, L->first_skip);
        return fail_at(L, 0, "no successful request (%zu failed)", failed);
    }
    for (size_t i = 0; i < s->n_runs; i++)
        if (s->runs[i].label[0] == '\0')
            snprintf(s->runs[i].label, sizeof s->runs[i].label, "run %zu", i + 1);
    /* A repeated label gets " #k", k counting the earlier runs with the same label; as
     * earlier labels are final, trying further k until none matches makes them unique. */
    char(*orig)[sizeof s->runs[0].label] = malloc(s->n_runs * sizeof *orig);
    if (orig == NULL)
        return oom(L);
    for (size_t i = 0; i < s->n_runs; i++)
        memcpy(orig[i], s->runs[i].label, sizeof orig[i]);
    for (size_t i = 1; i < s->n_runs; i++) {
        unsigned k = 1;
        for (size_t j = 0; j < i; j++)
            k += strcmp(orig[j], orig[i]) == 0;
        for (k = k < 2 ? 2 : k; label_taken(s, i);) {
            snprintf(s->runs[i].label, sizeof s->runs[i].label, "%.*s #%u",
                     (int)(sizeof orig[i] - 16), orig[i], k);
            k++;
        }
    }
    free(orig);
    return 0;
}

/* --- Reading a JSON file ----------------------------------------------------------------- */

static int read_whole(bload *L)
{
    FILE *fp = fopen(L->path, "rb");
    if (fp == NULL) {
        util_errf(L->err, L->errlen, "%s: cannot open: %s", L->path, strerror(errno));
        return -1;
    }
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    if (buf == NULL) {
        fclose(fp);
        return oom(L);
    }
    for (;;) {
        size_t got = fread(buf + n, 1, cap - n, fp);
        n += got;
        if (n < cap) {
            if (ferror(fp)) {
                free(buf);
                fclose(fp);
                util_errf(L->err, L->errlen, "%s: read error", L->path);
                return -1;
            }
            if (feof(fp) || got == 0)
                break;
            continue;
        }
        if (cap >= BENCH_MAX_FILE_BYTES) {
            free(buf);
            fclose(fp);
            util_errf(L->err, L->errlen, "%s: larger than %zu bytes, the most read", L->path,
                      BENCH_MAX_FILE_BYTES);
            return -1;
        }
        size_t ncap = cap > BENCH_MAX_FILE_BYTES / 2 ? BENCH_MAX_FILE_BYTES : 2 * cap;
        char *nb = realloc(buf, ncap + 1);
        if (nb == NULL) {
            free(buf);
            fclose(fp);
            return oom(L);
        }
        buf = nb;
        cap = ncap;
    }
    fclose(fp);
    buf[n] = '\0';
    L->buf = buf;
    L->len = n;
    L->line_off = 0;
    L->line_no = 1;
    return 0;
}

/* Line (1-based) of byte offset off; counts on from the last call when it can. */
static long line_at(bload *L, size_t off)
{
    if (off < L->line_off) {
        L->line_off = 0;
        L->line_no = 1;
    }
    for (size_t i = L->line_off; i < off && i < L->len; i++)
        if (L->buf[i] == '\n')
            L->line_no++;
    L->line_off = off;
    return L->line_no;
}

static long col_at(const bload *L, size_t off)
{
    size_t i = off;
    while (i > 0 && L->buf[i - 1] != '\n')
        i--;
    return (long)(off - i) + 1;
}

typedef int (*json_value_fn)(bload *L, void *arg, json_object *v, long line, size_t index);

/* Parses the file's top-level JSON values in order and hands each to fn. With single, the
 * file must hold exactly one. arg is passed on to fn. */
static int json_each(bload *L, json_value_fn fn, void *arg, int single)
{
    size_t pos = 0;
    if (L->len >= 3 && memcmp(L->buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    const char *nul = memchr(L->buf, '\0', L->len);
    if (nul != NULL) {
        size_t off = (size_t)(nul - L->buf);
        return fail_at(L, line_at(L, off), "column %ld: NUL byte (binary data? expected JSON text)",
                       col_at(L, off));
    }
    size_t count = 0;
    for (;;) {
        while (pos < L->len && strchr(" \t\r\n", L->buf[pos]) != NULL)
            pos++;
        if (pos >= L->len)
            break;
        long line = line_at(L, pos);
        if (single && count == 1)
            return fail_at(L, line,
                           "column %ld: unexpected text after the JSON document (expected one "
                           "JSON object)",
                           col_at(L, pos));
        json_tokener_reset(L->tok);
        /* The terminating NUL goes in too: it ends a bare number, and a value still open at
         * the end of the file becomes an "unexpected end of data" error. */
        json_object *v = json_tokener_parse_ex(L->tok, L->buf + pos, (int)(L->len - pos) + 1);
        enum json_tokener_error je = json_tokener_get_error(L->tok);
        size_t end = pos + json_tokener_get_parse_end(L->tok);
        if (v == NULL || je != json_tokener_success) {
            json_object_put(v);
            if (je == json_tokener_continue || je == json_tokener_error_parse_eof ||
                end >= L->len) {
                long last = line_at(L, L->len);
                return fail_at(L, last,
                               "column %ld: truncated JSON: the file ends inside the value that "
                               "starts on line %ld (expected complete JSON)",
                               col_at(L, L->len), line);
            }
            return fail_at(L, line_at(L, end), "column %ld: malformed JSON (%s)", col_at(L, end),
                           json_tokener_error_desc(je));
        }
        int rc = fn(L, arg, v, line, count);
        json_object_put(v);
        if (rc != 0)
            return -1;
        count++;
        pos = end;
    }
    if (count == 0)
        return fail_at(L, 0, "empty file (expected JSON)");
    return 0;
}

/* --- vLLM -------------------------------------------------------------------------------- */

/* The request rate of a result: *rate > 0 for a number, *is_inf for "inf" or Infinity. */
static void vllm_rate(json_object *v, double *rate, int *is_inf)
{
    double x = NAN;
    *rate = 0;
    *is_inf = 0;
    if (jis_num(v)) {
        x = json_object_get_double(v);
    } else if (jstr(v) != NULL) {
        const char *s = jstr(v);
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

static uint32_t concurrency_of(json_object *v)
{
    if (!jis_num(v))
        return 0;
    double x = json_object_get_double(v);
    if (!(x >= 1))
        return 0;
    return x >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

/* Looks up an array of per-request values; NULL when absent. Fails when it is not an array
 * or its length is not n. */
static int vllm_array(bload *L, long line, const char *ctx, json_object *res, const char *key,
                      const char *n_key, size_t n, json_object **out)
{
    json_object *a = jkey(res, key);
    *out = NULL;
    if (a == NULL)
        return 0;
    if (!json_object_is_type(a, json_type_array)) {
        char shown[80];
        return fail_at(L, line,
                       "%s: key '%s': found %s, expected an array with one item per "
                       "request",
                       ctx, key, jshow(a, shown, sizeof shown));
    }
    if (json_object_array_length(a) != n)
        return fail_at(L, line,
                       "%s: key '%s' has %zu items but '%s' has %zu (expected one per request)",
                       ctx, key, json_object_array_length(a), n_key, n);
    *out = a;
    return 0;
}

static int vllm_result(bload *L, json_object *res, long line, const char *ctx)
{
    char shown[80], what[96];
    if (!json_object_is_type(res, json_type_object))
        return fail_at(L, line, "%s: found %s, expected a vllm bench serve result object", ctx,
                       jshow(res, shown, sizeof shown));
    const char *in_key = "input_lens";
    json_object *in = jkey(res, in_key);
    if (in == NULL) {
        in_key = "prompt_lens";
        in = jkey(res, in_key);
    }
    if (in == NULL)
        return fail_at(L, line,
                       "%s: no key 'input_lens' or 'prompt_lens' (expected a vllm bench serve "
                       "result saved with --save-result --save-detailed)",
                       ctx);
    if (!json_object_is_type(in, json_type_array))
        return fail_at(L, line, "%s: key '%s': found %s, expected an array", ctx, in_key,
                       jshow(in, shown, sizeof shown));
    size_t n = json_object_array_length(in);
    json_object *outs, *ttfts, *itls, *starts, *errors, *e2els;
    const char *e2e_key = jkey(res, "e2els") != NULL ? "e2els" : "latencies";
    if (vllm_array(L, line, ctx, res, "output_lens", in_key, n, &outs) != 0 ||
        vllm_array(L, line, ctx, res, "ttfts", in_key, n, &ttfts) != 0 ||
        vllm_array(L, line, ctx, res, "itls", in_key, n, &itls) != 0 ||
        vllm_array(L, line, ctx, res, "start_times", in_key, n, &starts) != 0 ||
        vllm_array(L, line, ctx, res, "errors", in_key, n, &errors) != 0 ||
        vllm_array(L, line, ctx, res, e2e_key, in_key, n, &e2els) != 0)
        return -1;
    if (outs == NULL || ttfts == NULL)
        return fail_at(L, line,
                       "%s: no key '%s' (expected a vllm bench serve result saved with "
                       "--save-result --save-detailed)",
                       ctx, outs == NULL ? "output_lens" : "ttfts");

    double rate;
    int is_inf;
    vllm_rate(jkey(res, "request_rate"), &rate, &is_inf);
    uint32_t conc = concurrency_of(jkey(res, "max_concurrency"));
    char label[128];
    if (rate > 0 && conc > 0)
        snprintf(label, sizeof label, "rate %g req/s, concurrency %u", rate, conc);
    else if (rate > 0)
        snprintf(label, sizeof label, "rate %g req/s", rate);
    else if (is_inf && conc > 0)
        snprintf(label, sizeof label, "rate inf, concurrency %u", conc);
    else if (is_inf)
        snprintf(label, sizeof label, "rate inf");
    else if (conc > 0)
        snprintf(label, sizeof label, "concurrency %u", conc);
    else
        snprintf(label, sizeof label, "%s", ctx);
    const char *model = jstr(jkey(res, "model_id"));
    if (model == NULL)
        model = jstr(jkey(res, "model"));
    long ri_l = new_run(L, label, model);
    if (ri_l < 0)
        return -1;
    size_t ri = (size_t)ri_l;
    L->set->runs[ri].request_rate = rate;
    L->set->runs[ri].max_concurrency = conc;
    if (run_reserve(L, ri, n) != 0)
        return -1;

    for (size_t i = 0; i < n; i++) {
        pending q;
        pending_init(&q, i, line);
        q.k_start = "start_times";
        q.k_ttft = "ttfts";
        q.k_itl = "itls";
        q.k_e2e = e2e_key;
        json_object *e = errors ? json_object_array_get_idx(errors, i) : NULL;
        int failed = e != NULL && !(jstr(e) != NULL && jstr(e)[0] == '\0');
        snprintf(what, sizeof what, "%s: output_lens[%zu]", ctx, i);
        if (!failed &&
            read_tokens(L, line, what, json_object_array_get_idx(outs, i), &q.output) != 0)
            return -1;
        /* Files without errors[] mark a failed request by its zero output length. */
        if (failed || (errors == NULL && q.output == 0)) {
            L->set->runs[ri].n_failed++;
            continue;
        }
        snprintf(what, sizeof what, "%s: %s[%zu]", ctx, in_key, i);
        if (read_tokens(L, line, what, json_object_array_get_idx(in, i), &q.prompt) != 0)
            return -1;
        if (q.prompt < 1)
            return fail_at(L, line, "%s: found 0, expected a whole number of tokens >= 1", what);
        json_object *t = json_object_array_get_idx(ttfts, i);
        if (!jis_num(t))
            return fail_at(L, line, "%s: ttfts[%zu]: found %s, expected a time in seconds", ctx, i,
                           jshow(t, shown, sizeof shown));
        q.ttft_s = json_object_get_double(t);
        if (itls != NULL) {
            json_object *list = json_object_array_get_idx(itls, i);
            if (list != NULL && !json_object_is_type(list, json_type_array))
                return fail_at(L, line, "%s: itls[%zu]: found %s, expected a list of seconds", ctx,
                               i, jshow(list, shown, sizeof shown));
            size_t m = jlen(list);
            for (size_t j = 0; j < m; j++) {
                json_object *x = json_object_array_get_idx(list, j);
                if (!jis_num(x))
                    return fail_at(L, line, "%s: itls[%zu][%zu]: found %s, expected seconds", ctx,
                                   i, j, jshow(x, shown, sizeof shown));
                if (scratch_push(L, &q.n_itl, json_object_get_double(x)) != 0)
                    return -1;
            }
            q.have_itl = 1;
        }
        json_object *st = starts ? json_object_array_get_idx(starts, i) : NULL;
        if (st != NULL) {
            if (!jis_num(st))
                return fail_at(L, line, "%s: start_times[%zu]: found %s, expected seconds", ctx, i,
                               jshow(st, shown, sizeof shown));
            q.start_s = json_object_get_double(st);
            q.have_start = 1;
        }
        json_object *e2 = e2els ? json_object_array_get_idx(e2els, i) : NULL;
        if (e2 != NULL && itls == NULL) {
            if (!jis_num(e2))
                return fail_at(L, line, "%s: %s[%zu]: found %s, expected seconds", ctx, e2e_key, i,
                               jshow(e2, shown, sizeof shown));
            q.e2e_s = json_object_get_double(e2);
            q.have_e2e = 1;
        }
        if (q.output == 0) {
            /* Older clients count output tokens by re-tokenizing the text, which gives 0 for
             * an empty reply; such a request says nothing about decoding. */
            skip_request(L, ri, &q, "output_lens", "is 0 for a request without an error");
            continue;
        }
        if (add_request(L, ri, &q) != 0)
            return -1;
    }
    return 0;
}

static int vllm_value(bload *L, void *arg, json_object *v, long line, size_t index)
{
    char ctx[64];
    (void)arg;
    if (json_object_is_type(v, json_type_array)) {
        size_t n = json_object_array_length(v);
        if (n == 0)
            return fail_at(L, line, "an empty array (expected vllm bench serve result objects)");
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

/* --- AIPerf ------------------------------------------------------------------------------ */

static double time_unit_s(const char *u)
{
    static const struct {
        const char *name;
        double s;
    } units[] = {{"ns", 1e-9},   {"us", 1e-6}, {"\xC2\xB5s", 1e-6}, {"usec", 1e-6}, {"ms", 1e-3},
                 {"msec", 1e-3}, {"s", 1},     {"sec", 1},          {"secs", 1},    {"second", 1},
                 {"seconds", 1}};
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++)
        if (strcmp(u, units[i].name) == 0)
            return units[i].s;
    return 0;
}

/* metrics[key] as a bare value or {"value": v, "unit": u}: *val and *unit (NULL when bare).
 * Returns 1 when found, 0 when absent or null, -1 on a malformed entry. */
static int aiperf_metric(bload *L, long line, json_object *metrics, const char *key,
                         json_object **val, const char **unit)
{
    json_object *m = jkey(metrics, key);
    *val = NULL;
    *unit = NULL;
    if (m == NULL)
        return 0;
    if (json_object_is_type(m, json_type_object)) {
        json_object *u = jkey(m, "unit");
        if (u != NULL && jstr(u) == NULL) {
            char shown[80];
            return fail_at(L, line, "metrics.%s.unit: found %s, expected a string", key,
                           jshow(u, shown, sizeof shown));
        }
        *unit = jstr(u);
        *val = jkey(m, "value");
        return *val != NULL;
    }
    *val = m;
    return 1;
}

/* A time metric in seconds; *have = 0 when absent. NaN and infinities pass through. */
static int aiperf_time(bload *L, long line, json_object *metrics, const char *key, double *s,
                       int *have)
{
    json_object *v;
    const char *unit;
    char shown[80];
    *have = 0;
    int rc = aiperf_metric(L, line, metrics, key, &v, &unit);
    if (rc <= 0)
        return rc;
    double scale = unit ? time_unit_s(unit) : 1e-3;
    if (scale == 0) {
        char u[48];
        util_printable(unit, u, sizeof u);
        return fail_at(L, line, "metrics.%s: unit '%s' (expected ns, us, ms or s)", key, u);
    }
    if (!jis_num(v))
        return fail_at(L, line, "metrics.%s: found %s, expected a number", key,
                       jshow(v, shown, sizeof shown));
    *s = json_object_get_double(v) * scale;
    *have = 1;
    return 0;
}

static int aiperf_tokens(bload *L, long line, json_object *metrics, const char *key,
                         const char *alt, double *out)
{
    json_object *v;
    const char *unit;
    char what[96];
    int rc = aiperf_metric(L, line, metrics, key, &v, &unit);
    if (rc == 0 && alt != NULL) {
        rc = aiperf_metric(L, line, metrics, alt, &v, &unit);
        if (rc == 0)
            snprintf(what, sizeof what, "metrics.%s (or %s)", key, alt);
        else
            snprintf(what, sizeof what, "metrics.%s", alt);
    } else {
        snprintf(what, sizeof what, "metrics.%s", key);
    }
    if (rc < 0)
        return -1;
    return read_tokens(L, line, what, v, out);
}

/* The state of an AIPerf read: its one run and the clock of its first record. */
typedef struct aiperf_state {
    size_t ri;
    json_object *base; /* start timestamp of the first record with one (owned reference) */
} aiperf_state;

static int aiperf_failed(json_object *rec, json_object *meta)
{
    json_object *e = jkey(rec, "error");
    if (e == NULL)
        e = jkey(meta, "error");
    if (e != NULL && !(jstr(e) != NULL && jstr(e)[0] == '\0'))
        return 1;
    json_object *c = jkey(meta, "was_cancelled");
    return json_object_is_type(c, json_type_boolean) && json_object_get_boolean(c);
}

static int aiperf_value(bload *L, void *arg, json_object *rec, long line, size_t index)
{
    aiperf_state *st = arg;
    char shown[80];
    if (!json_object_is_type(rec, json_type_object))
        return fail_at(L, line, "found %s, expected an AIPerf record object {metadata, metrics}",
                       jshow(rec, shown, sizeof shown));
    json_object *meta = jkey(rec, "metadata");
    const char *phase = jstr(jkey(meta, "benchmark_phase"));
    if (phase == NULL)
        phase = jstr(jkey(meta, "credit_phase"));
    if (phase != NULL && strcmp(phase, "warmup") == 0)
        return 0;
    bench_run *run = &L->set->runs[st->ri];
    size_t seen = L->info[st->ri].seen++;
    json_object *metrics = NULL;
    if (!json_object_object_get_ex(rec, "metrics", &metrics))
        return fail_at(L, line,
                       "no key 'metrics' (expected an AIPerf profile_export.jsonl record "
                       "{metadata, metrics, error})");
    if (aiperf_failed(rec, meta) || metrics == NULL) {
        run->n_failed++;
        return 0;
    }
    if (!json_object_is_type(metrics, json_type_object))
        return fail_at(L, line, "metrics: found %s, expected an object",
                       jshow(metrics, shown, sizeof shown));
    pending q;
    pending_init(&q, seen, line);
    q.k_start = "metadata.request_start_ns";
    q.k_ttft = "metrics.time_to_first_token";
    q.k_itl = "metrics.inter_chunk_latency";
    q.k_e2e = "metrics.request_latency";
    q.k_tpot = "metrics.inter_token_latency";
    if (aiperf_tokens(L, line, metrics, "input_sequence_length", NULL, &q.prompt) != 0 ||
        aiperf_tokens(L, line, metrics, "output_sequence_length", "output_token_count",
                      &q.output) != 0)
        return -1;
    if (q.prompt < 1)
        return fail_at(L, line,
                       "metrics.input_sequence_length: found 0, expected a whole number of "
                       "tokens >= 1");
    int have_ttft;
    if (aiperf_time(L, line, metrics, "time_to_first_token", &q.ttft_s, &have_ttft) != 0)
        return -1;
    if (!have_ttft) {
        q.k_ttft = "metrics.ttft";
        if (aiperf_time(L, line, metrics, "ttft", &q.ttft_s, &have_ttft) != 0)
            return -1;
    }
    if (!have_ttft)
        return fail_at(L, line,
                       "metrics: no time_to_first_token (AIPerf records it for streaming runs "
                       "only: profile with --streaming)");
    if (aiperf_time(L, line, metrics, "request_latency", &q.e2e_s, &q.have_e2e) != 0 ||
        aiperf_time(L, line, metrics, "inter_token_latency", &q.tpot_s, &q.have_tpot) != 0)
        return -1;
    /* Inter-chunk latencies are per token only when there is one per token after the
     * first; a server that batches tokens into chunks gives fewer, which are kept out. */
    json_object *v;
    const char *unit;
    if (aiperf_metric(L, line, metrics, "inter_chunk_latency", &v, &unit) < 0)
        return -1;
    if (v != NULL && json_object_is_type(v, json_type_array) &&
        (double)json_object_array_length(v) == q.output - 1) {
        double scale = unit ? time_unit_s(unit) : 1e-3;
        if (scale == 0) {
            char u[48];
            util_printable(unit, u, sizeof u);
            return fail_at(L, line,
                           "metrics.inter_chunk_latency: unit '%s' (expected ns, us, ms or s)", u);
        }
        for (size_t j = 0; j < json_object_array_length(v); j++) {
            json_object *x = json_object_array_get_idx(v, j);
            if (!jis_num(x))
                return fail_at(L, line,
                               "metrics.inter_chunk_latency[%zu]: found %s, expected a "
                               "number",
                               j, jshow(x, shown, sizeof shown));
            if (scratch_push(L, &q.n_itl, json_object_get_double(x) * scale) != 0)
                return -1;
        }
        q.have_itl = 1;
    }
    json_object *ts = jkey(meta, "request_start_ns");
    if (ts == NULL) {
        ts = jkey(meta, "timestamp_ns");
        q.k_start = "metadata.timestamp_ns";
    }
    if (ts != NULL) {
        if (!jis_num(ts))
            return fail_at(L, line, "%s: found %s, expected nanoseconds", q.k_start,
                           jshow(ts, shown, sizeof shown));
        if (st->base == NULL)
            st->base = json_object_get(ts);
        q.start_s = ns_diff_s(st->base, ts);
        q.have_start = 1;
    }
    if (q.output == 0) {
        skip_request(L, st->ri, &q, "metrics.output_sequence_length",
                     "is 0 for a record without an error");
        return 0;
    }
    (void)index;
    return add_request(L, st->ri, &q);
}

static int aiperf_load(bload *L)
{
    aiperf_state st = {0, NULL};
    long ri = new_run(L, "aiperf", "");
    if (ri < 0)
        return -1;
    st.ri = (size_t)ri;
    int rc = json_each(L, aiperf_value, &st, 0);
    json_object_put(st.base);
    return rc;
}

/* --- genai-perf -------------------------------------------------------------------------- */

/* What one response of a genai-perf request says. */
typedef struct genai_resp {
    int content;         /* it carries output text (or token ids) */
    double usage_prompt; /* from an OpenAI usage object, or NAN */
    double usage_output; /* likewise */
    double ids;          /* output token ids it carries (TensorRT-LLM), or 0 */
} genai_resp;

static int nonempty(json_object *v)
{
    const char *s = jstr(v);
    return s != NULL && s[0] != '\0';
}

/* Looks at one parsed OpenAI-style body or SSE chunk. */
static void genai_chunk(json_object *c, genai_resp *r)
{
    json_object *ch = jidx(jkey(c, "choices"), 0);
    if (ch != NULL) {
        json_object *d = jkey(ch, "delta"), *m = jkey(ch, "message");
        if (nonempty(jkey(d, "content")) || nonempty(jkey(d, "reasoning_content")) ||
            nonempty(jkey(ch, "text")) || nonempty(jkey(m, "content")))
            r->content = 1;
    }
    if (nonempty(jkey(c, "text_output")) || nonempty(jkey(c, "text")))
        r->content = 1;
    json_object *u = jkey(c, "usage");
    if (jis_num(jkey(u, "prompt_tokens")))
        r->usage_prompt = json_object_get_double(jkey(u, "prompt_tokens"));
    if (jis_num(jkey(u, "completion_tokens")))
        r->usage_output = json_object_get_double(jkey(u, "completion_tokens"));
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
    json_object *ids = jkey(o, "output_ids");
    if (json_object_is_type(ids, json_type_array)) {
        r->ids += (double)json_object_array_length(ids);
        r->content = json_object_array_length(ids) > 0;
    } else if (jkey(o, "text_output") != NULL) {
        r->content = nonempty(jkey(o, "text_output"));
    } else if (jstr(jkey(o, "response")) != NULL) {
        genai_text(L, jstr(jkey(o, "response")), r);
    } else {
        r->content = 1; /* an output of unknown shape: count it */
    }
}

/* The prompt length genai-perf's request_inputs give, or NAN. */
static double genai_prompt(json_object *in)
{
    json_object *v = jkey(in, "input_lengths");
    if (json_object_is_type(v, json_type_array))
        v = json_object_array_get_idx(v, 0);
    if (jis_num(v))
        return json_object_get_double(v);
    v = jkey(in, "input_ids");
    if (json_object_is_type(v, json_type_object))
        v = jkey(v, "content");
    if (json_object_is_type(v, json_type_array)) {
        /* A batch of one is written as [[...]]. */
        json_object *first = json_object_array_get_idx(v, 0);
        if (json_object_is_type(first, json_type_array))
            v = first;
        return (double)json_object_array_length(v);
    }
    v = jkey(in, "prompt_tokens");
    return jis_num(v) ? json_object_get_double(v) : NAN;
}

/* The model a request names: request_inputs.model or the model in its JSON payload. */
static void genai_model(bload *L, json_object *in, char *out, size_t len)
{
    const char *m = jstr(jkey(in, "model"));
    json_object *p = NULL;
    if (m == NULL && jstr(jkey(in, "payload")) != NULL) {
        const char *s = jstr(jkey(in, "payload"));
        p = parse_sub(L, s, strlen(s));
        m = jstr(jkey(p, "model"));
    }
    copy_printable(out, len, m ? m : "");
    json_object_put(p);
}

static int genai_request(bload *L, size_t ri, const char *ctx, json_object *r, size_t i,
                         json_object **base)
{
    char shown[80];
    bench_run *run = &L->set->runs[ri];
    if (!json_object_is_type(r, json_type_object))
        return fail_at(L, 0, "%s.requests[%zu]: found %s, expected an object", ctx, i,
                       jshow(r, shown, sizeof shown));
    json_object *ts = jkey(r, "timestamp");
    if (!jis_num(ts))
        return fail_at(L, 0, "%s.requests[%zu].timestamp: found %s, expected nanoseconds", ctx, i,
                       jshow(ts, shown, sizeof shown));
    json_object *rts = jkey(r, "response_timestamps");
    json_object *outs = jkey(r, "response_outputs");
    if (rts != NULL && !json_object_is_type(rts, json_type_array))
        return fail_at(L, 0,
                       "%s.requests[%zu].response_timestamps: found %s, expected a list "
                       "of nanoseconds",
                       ctx, i, jshow(rts, shown, sizeof shown));
    pending q;
    pending_init(&q, i, 0);
    q.k_start = "timestamp";
    q.k_ttft = "response_timestamps[first]";
    q.k_itl = "response gaps";
    q.k_e2e = "response_timestamps[last]";
    genai_resp g = {0, NAN, NAN, 0};
    size_t n_content = 0;
    for (size_t j = 0; j < jlen(rts); j++) {
        json_object *t = json_object_array_get_idx(rts, j);
        if (!jis_num(t))
            return fail_at(L, 0,
                           "%s.requests[%zu].response_timestamps[%zu]: found %s, "
                           "expected nanoseconds",
                           ctx, i, j, jshow(t, shown, sizeof shown));
        genai_response(L, j < jlen(outs) ? json_object_array_get_idx(outs, j) : NULL, &g);
        if (g.content && scratch_push(L, &n_content, ns_diff_s(ts, t)) != 0)
            return -1;
    }
    if (n_content == 0) {
        run->n_failed++;
        return 0;
    }
    char what[128];
    double prompt =
        isnan(g.usage_prompt) ? genai_prompt(jkey(r, "request_inputs")) : g.usage_prompt;
    if (isnan(prompt))
        return fail_at(L, 0,
                       "%s.requests[%zu]: no prompt token count (genai-perf stores the prompt "
                       "as text; expected a numeric usage.prompt_tokens in a response, as with "
                       "--extra-inputs stream_options:{\"include_usage\":true}, or "
                       "request_inputs.input_lengths)",
                       ctx, i);
    double output = !isnan(g.usage_output) ? g.usage_output : g.ids > 0 ? g.ids : (double)n_content;
    char num[48];
    snprintf(what, sizeof what, "%s.requests[%zu]: prompt tokens", ctx, i);
    if (check_tokens(L, 0, what, prompt, fmt_num(prompt, num, sizeof num), &q.prompt) != 0)
        return -1;
    snprintf(what, sizeof what, "%s.requests[%zu]: output tokens", ctx, i);
    if (check_tokens(L, 0, what, output, fmt_num(output, num, sizeof num), &q.output) != 0)
        return -1;
    if (q.prompt < 1)
        return fail_at(L, 0, "%s.requests[%zu]: prompt of 0 tokens (expected >= 1)", ctx, i);
    if (q.output == 0) {
        skip_request(L, ri, &q, "usage.completion_tokens", "is 0 for a request with output");
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
    q.start_s = ns_diff_s(*base, ts);
    q.have_start = 1;
    return add_request(L, ri, &q);
}

static int genai_value(bload *L, void *arg, json_object *doc, long line, size_t index)
{
    char shown[80], ctx[64], label[128], model[256];
    (void)arg;
    (void)index;
    json_object *exps = jkey(doc, "experiments");
    if (!json_object_is_type(exps, json_type_array))
        return fail_at(L, line, "%s (expected genai-perf's profile_export.json with experiments[])",
                       exps == NULL ? "no key 'experiments'" : "key 'experiments' is not an array");
    if (json_object_array_length(exps) == 0)
        return fail_at(L, line, "experiments[] is empty (expected at least one experiment)");
    for (size_t k = 0; k < json_object_array_length(exps); k++) {
        json_object *e = json_object_array_get_idx(exps, k);
        snprintf(ctx, sizeof ctx, "experiments[%zu]", k);
        json_object *reqs = jkey(e, "requests");
        if (!json_object_is_type(reqs, json_type_array))
            return fail_at(L, line, "%s.requests: found %s, expected an array", ctx,
                           jshow(reqs, shown, sizeof shown));
        json_object *x = jkey(e, "experiment");
        const char *mode = jstr(jkey(x, "mode"));
        json_object *val = jkey(x, "value");
        double value = jis_num(val) ? json_object_get_double(val) : NAN;
        if (jstr(val) != NULL && util_parse_double(jstr(val), &value) != 0)
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
        genai_model(L, jkey(json_object_array_get_idx(reqs, 0), "request_inputs"), model,
                    sizeof model);
        long ri_l = new_run(L, label, model);
        if (ri_l < 0)
            return -1;
        size_t ri = (size_t)ri_l;
        L->set->runs[ri].request_rate = rate;
        L->set->runs[ri].max_concurrency = conc;
        if (run_reserve(L, ri, json_object_array_length(reqs)) != 0)
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

/* --- GuideLLM ---------------------------------------------------------------------------- */

/* Label, rate and concurrency from a GuideLLM scheduling strategy object. */
static void guidellm_strategy(json_object *s, size_t k, char *label, size_t len, double *rate,
                              uint32_t *conc)
{
    const char *type = jstr(jkey(s, "type_"));
    json_object *r = jkey(s, "rate");
    double x = jis_num(r) ? json_object_get_double(r) : NAN;
    *rate = 0;
    *conc = 0;
    if (type == NULL) {
        snprintf(label, len, "benchmark %zu", k + 1);
    } else if (strcmp(type, "synchronous") == 0) {
        *conc = 1;
        snprintf(label, len, "synchronous");
    } else if (strcmp(type, "concurrent") == 0 && concurrency_of(jkey(s, "streams")) > 0) {
        *conc = concurrency_of(jkey(s, "streams"));
        snprintf(label, len, "concurrent %u", *conc);
    } else if (strcmp(type, "throughput") == 0) {
        *conc = concurrency_of(jkey(s, "max_concurrency"));
        snprintf(label, len, "throughput");
    } else if (x > 0 && isfinite(x)) {
        *rate = x;
        *conc = concurrency_of(jkey(s, "max_concurrency"));
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
    if (opt_num(L, 0, ctx, o, k1, out, &have) != 0)
        return -1;
    if (!have && k2 != NULL && opt_num(L, 0, ctx, o, k2, out, &have) != 0)
        return -1;
    if (!have && k3 != NULL && opt_num(L, 0, ctx, alt, k3, out, &have) != 0)
        return -1;
    return have;
}

static int guidellm_request(bload *L, size_t ri, const char *bctx, json_object *r, size_t i)
{
    char ctx[128], shown[80];
    snprintf(ctx, sizeof ctx, "%s.requests.successful[%zu]", bctx, i);
    if (!json_object_is_type(r, json_type_object))
        return fail_at(L, 0, "%s: found %s, expected an object", ctx,
                       jshow(r, shown, sizeof shown));
    pending q;
    pending_init(&q, i, 0);
    q.k_start = "start_time";
    q.k_ttft = "time_to_first_token_ms";
    q.k_e2e = "request_latency";
    q.k_tpot = "inter_token_latency_ms";
    char what[192];
    snprintf(what, sizeof what, "%s.prompt_tokens", ctx);
    if (read_tokens(L, 0, what, jkey(r, "prompt_tokens"), &q.prompt) != 0)
        return -1;
    if (q.prompt < 1)
        return fail_at(L, 0, "%s: found 0, expected a whole number of tokens >= 1", what);
    snprintf(what, sizeof what, "%s.output_tokens", ctx);
    if (read_tokens(L, 0, what, jkey(r, "output_tokens"), &q.output) != 0)
        return -1;
    json_object *tm = jkey(jkey(r, "info"), "timings");
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
        return fail_at(L, 0,
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
        skip_request(L, ri, &q, "output_tokens", "is 0 for a successful request");
        return 0;
    }
    return add_request(L, ri, &q);
}

static int guidellm_value(bload *L, void *arg, json_object *doc, long line, size_t index)
{
    char shown[80], ctx[64], label[128];
    (void)arg;
    (void)index;
    json_object *bs = jkey(doc, "benchmarks");
    if (!json_object_is_type(bs, json_type_array))
        return fail_at(L, line, "%s (expected a GuideLLM benchmarks.json with benchmarks[])",
                       bs == NULL ? "no key 'benchmarks'" : "key 'benchmarks' is not an array");
    if (json_object_array_length(bs) == 0)
        return fail_at(L, line, "benchmarks[] is empty (expected at least one benchmark)");
    const char *doc_model = jstr(jkey(jkey(doc, "args"), "model"));
    for (size_t k = 0; k < json_object_array_length(bs); k++) {
        json_object *b = json_object_array_get_idx(bs, k);
        snprintf(ctx, sizeof ctx, "benchmarks[%zu]", k);
        json_object *s = jkey(jkey(b, "args"), "strategy");
        if (s == NULL)
            s = jkey(jkey(b, "config"), "strategy");
        if (s == NULL)
            s = jkey(b, "strategy");
        double rate;
        uint32_t conc;
        guidellm_strategy(s, k, label, sizeof label, &rate, &conc);
        const char *model = jstr(jkey(jkey(b, "worker"), "backend_model"));
        long ri_l = new_run(L, label, model ? model : doc_model);
        if (ri_l < 0)
            return -1;
        size_t ri = (size_t)ri_l;
        L->set->runs[ri].request_rate = rate;
        L->set->runs[ri].max_concurrency = conc;
        json_object *reqs = jkey(b, "requests");
        json_object *ok = jkey(reqs, "successful");
        if (!json_object_is_type(ok, json_type_array))
            return fail_at(L, line,
                           "%s: %s (expected GuideLLM 0.2 or later output with per-request "
                           "details)",
                           ctx,
                           reqs == NULL ? "no key 'requests'"
                           : ok == NULL ? "no key 'requests.successful'"
                                        : "requests.successful is not an array");
        json_object *errd = jkey(reqs, "errored");
        if (errd != NULL && !json_object_is_type(errd, json_type_array))
            return fail_at(L, line, "%s.requests.errored: found %s, expected an array", ctx,
                           jshow(errd, shown, sizeof shown));
        L->set->runs[ri].n_failed = jlen(errd);
        if (run_reserve(L, ri, json_object_array_length(ok)) != 0)
            return -1;
        for (size_t i = 0; i < json_object_array_length(ok); i++)
            if (guidellm_request(L, ri, ctx, json_object_array_get_idx(ok, i), i) != 0)
                return -1;
    }
    return 0;
}

/* --- CSV --------------------------------------------------------------------------------- */

static const char CSV_FORM[] = "prompt_tokens, output_tokens, ttft_ms, and tpot_ms or e2e_ms";

/* Reads the itl_ms field "a;b;c" (milliseconds) into the scratch buffer, as seconds. */
static int csv_itls(bload *L, const char *f, long line, size_t *n)
{
    *n = 0;
    while (*f == ' ')
        f++;
    if (*f == '\0')
        return 0;
    for (size_t k = 0;; k++) {
        const char *semi = strchr(f, ';');
        size_t len = semi ? (size_t)(semi - f) : strlen(f);
        char item[64];
        double x;
        while (len > 0 && *f == ' ') {
            f++;
            len--;
        }
        while (len > 0 && f[len - 1] == ' ')
            len--;
        int ok = len < sizeof item;
        if (ok) {
            memcpy(item, f, len);
            item[len] = '\0';
            ok = util_parse_double(item, &x) == 0 && x >= 0 && x <= BENCH_MAX_TIME_S * 1e3;
        }
        if (!ok) {
            char shown[64];
            snprintf(item, sizeof item, "%.*s", (int)(len < 60 ? len : 60), f);
            util_printable(item, shown, sizeof shown);
            return fail_at(L, line,
                           "column 'itl_ms': item %zu: expected milliseconds >= 0 separated by "
                           "';', found '%s'",
                           k + 1, shown);
        }
        if (scratch_push(L, n, x / 1000) != 0)
            return -1;
        if (semi == NULL)
            break;
        f = semi + 1;
    }
    return 0;
}

static int csv_row(bload *L, csvin *in, const int *col, size_t *last_ri)
{
    enum { C_PROMPT, C_OUTPUT, C_TTFT, C_TPOT, C_E2E, C_START, C_ITL, C_RUN, C_MODEL };
    long line = csvin_line(in);
    char label[128];
    copy_printable(label, sizeof label, col[C_RUN] >= 0 ? csvin_field(in, (size_t)col[C_RUN]) : "");
    if (label[0] == '\0')
        snprintf(label, sizeof label, "all");
    bench_set *s = L->set;
    size_t ri = *last_ri;
    if (ri >= s->n_runs || strcmp(s->runs[ri].label, label) != 0) {
        for (ri = 0; ri < s->n_runs; ri++)
            if (strcmp(s->runs[ri].label, label) == 0)
                break;
        if (ri == s->n_runs) {
            long r = new_run(L, label, "");
            if (r < 0)
                return -1;
            ri = (size_t)r;
        }
        *last_ri = ri;
    }
    if (col[C_MODEL] >= 0 && s->runs[ri].model[0] == '\0')
        copy_printable(s->runs[ri].model, sizeof s->runs[ri].model,
                       csvin_field(in, (size_t)col[C_MODEL]));
    pending q;
    pending_init(&q, L->info[ri].seen++, line);
    q.k_start = "start_s";
    q.k_ttft = "ttft_ms";
    q.k_itl = "itl_ms";
    q.k_e2e = "e2e_ms";
    q.k_tpot = "tpot_ms";
    double ttft_ms, tpot_ms, e2e_ms;
    if (csvin_number(in, col[C_PROMPT], "prompt_tokens", 1, BENCH_MAX_TOKENS, 0, 0, &q.prompt,
                     L->err, L->errlen) != 0 ||
        csvin_number(in, col[C_OUTPUT], "output_tokens", 1, BENCH_MAX_TOKENS, 0, 0, &q.output,
                     L->err, L->errlen) != 0 ||
        csvin_number(in, col[C_TTFT], "ttft_ms", 0, BENCH_MAX_TIME_S * 1e3, 0, 0, &ttft_ms, L->err,
                     L->errlen) != 0 ||
        csvin_number(in, col[C_TPOT], "tpot_ms", 0, BENCH_MAX_TIME_S * 1e3, 1, NAN, &tpot_ms,
                     L->err, L->errlen) != 0 ||
        csvin_number(in, col[C_E2E], "e2e_ms", 0, BENCH_MAX_TIME_S * 1e3, 1, NAN, &e2e_ms, L->err,
                     L->errlen) != 0 ||
        csvin_number(in, col[C_START], "start_s", -BENCH_MAX_START_S, BENCH_MAX_START_S, 1, NAN,
                     &q.start_s, L->err, L->errlen) != 0)
        return -1;
    if (q.prompt != floor(q.prompt) || q.output != floor(q.output)) {
        char shown[64];
        int c = q.prompt != floor(q.prompt) ? C_PROMPT : C_OUTPUT;
        util_printable(csvin_field(in, (size_t)col[c]), shown, sizeof shown);
        return fail_at(L, line, "column '%s': expected a whole number of tokens, found '%s'",
                       c == C_PROMPT ? "prompt_tokens" : "output_tokens", shown);
    }
    if (ttft_ms == 0)
        return fail_at(L, line, "column 'ttft_ms': expected a time > 0 ms, found '%s'",
                       csvin_field(in, (size_t)col[C_TTFT]));
    q.ttft_s = ttft_ms / 1000;
    q.have_tpot = !isnan(tpot_ms);
    q.tpot_s = tpot_ms / 1000;
    q.have_e2e = !isnan(e2e_ms);
    q.e2e_s = e2e_ms / 1000;
    q.have_start = !isnan(q.start_s);
    if (col[C_ITL] >= 0) {
        if (csv_itls(L, csvin_field(in, (size_t)col[C_ITL]), line, &q.n_itl) != 0)
            return -1;
        q.have_itl = q.n_itl > 0;
    }
    return add_request(L, ri, &q);
}

static int csv_load(bload *L)
{
    static const char *const names[] = {"prompt_tokens", "output_tokens", "ttft_ms",
                                        "tpot_ms",       "e2e_ms",        "start_s",
                                        "itl_ms",        "run",           "model"};
    csvin *in = csvin_open(L->path, L->err, L->errlen);
    if (in == NULL)
        return -1;
    int rc = csvin_read_header(in);
    if (rc != 1) {
        if (rc == 0)
            fail_at(L, 0, "empty file (expected a header row with %s)", CSV_FORM);
        else
            util_errf(L->err, L->errlen, "%s", csvin_error(in));
        csvin_close(in);
        return -1;
    }
    /* capsim run's requests.csv names three of them its own way. */
    static const char *const alias[] = {NULL, NULL, NULL, NULL, "e2el_ms", "arrival_s",
                                        NULL, "replication", NULL};
    int col[9];
    for (int c = 0; c < 9; c++) {
        col[c] = csvin_column(in, names[c]);
        if (col[c] < 0 && alias[c])
            col[c] = csvin_column(in, alias[c]);
    }
    rc = 0;
    for (int c = 0; c < 3 && rc == 0; c++)
        if (col[c] < 0)
            rc = fail_at(L, csvin_header_line(in),
                         "missing column '%s' in the header (expected %s)", names[c], CSV_FORM);
    if (rc == 0 && col[3] < 0 && col[4] < 0)
        rc = fail_at(L, csvin_header_line(in),
                     "the header has neither tpot_ms nor e2e_ms (expected %s)", CSV_FORM);
    size_t last_ri = SIZE_MAX;
    while (rc == 0) {
        int got = csvin_next(in);
        if (got == 0)
            break;
        if (got < 0) {
            util_errf(L->err, L->errlen, "%s", csvin_error(in));
            rc = -1;
        } else {
            rc = csv_row(L, in, col, &last_ri);
        }
    }
    csvin_close(in);
    return rc;
}

/* --- Detection and the public functions -------------------------------------------------- */

int bench_format_parse(const char *name, bench_format *out)
{
    for (int f = 0; f < BENCH_FORMAT_COUNT; f++)
        if (strcasecmp(name, bench_format_names[f]) == 0) {
            *out = (bench_format)f;
            return 0;
        }
    if (strcasecmp(name, "genai_perf") == 0 || strcasecmp(name, "genaiperf") == 0) {
        *out = BENCH_GENAI_PERF;
        return 0;
    }
    return -1;
}

/* Offset of the first place key appears as an object key ("key" then ':'), or -1. */
static long key_at(const char *s, const char *key)
{
    char quoted[40];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    for (const char *p = strstr(s, quoted); p != NULL; p = strstr(p + 1, quoted)) {
        const char *q = p + strlen(quoted);
        while (*q == ' ' || *q == '\t' || *q == '\r' || *q == '\n')
            q++;
        if (*q == ':' && (p == s || p[-1] != '\\'))
            return (long)(p - s);
    }
    return -1;
}

/* True if the first line of s is a CSV header with a prompt_tokens column. */
static int csv_header_has_prompt(const char *s)
{
    size_t n = strcspn(s, "\n");
    const char *end = s + n;
    for (const char *f = s; f <= end;) {
        const char *comma = memchr(f, ',', (size_t)(end - f));
        const char *fe = comma ? comma : end;
        const char *a = f, *b = fe;
        while (a < b && strchr(" \t\r\"", *a) != NULL)
            a++;
        while (b > a && strchr(" \t\r\"", b[-1]) != NULL)
            b--;
        if ((size_t)(b - a) == 13 && memcmp(a, "prompt_tokens", 13) == 0)
            return 1;
        if (comma == NULL)
            break;
        f = comma + 1;
    }
    return 0;
}

static bench_format sniff(const char *p)
{
    if (*p == '{' || *p == '[') {
        /* The earliest distinctive key wins: each format puts its own near the start. */
        static const struct {
            const char *key;
            bench_format f;
        } keys[] = {{"benchmarks", BENCH_GUIDELLM},
                    {"experiments", BENCH_GENAI_PERF},
                    {"input_lens", BENCH_VLLM},
                    {"prompt_lens", BENCH_VLLM},
                    {"ttfts", BENCH_VLLM}};
        long best = -1;
        bench_format f = BENCH_AUTO;
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
            long at = key_at(p, keys[i].key);
            if (at >= 0 && (best < 0 || at < best)) {
                best = at;
                f = keys[i].f;
            }
        }
        if (f != BENCH_AUTO)
            return f;
        /* An AIPerf record is one whole line (an object, so ending in '}') with metadata
         * and metrics; a long one-line document of another tool does not end in the
         * bytes looked at. */
        size_t n = strcspn(p, "\n");
        while (n > 0 && strchr(" \t\r", p[n - 1]) != NULL)
            n--;
        char *line = n > 0 && p[n - 1] == '}' ? strndup(p, n) : NULL;
        if (line != NULL && key_at(line, "metrics") >= 0 && key_at(line, "metadata") >= 0)
            f = BENCH_AIPERF;
        free(line);
        return f;
    }
    return csv_header_has_prompt(p) ? BENCH_CSV : BENCH_AUTO;
}

bench_format bench_detect(const char *path, char *err, size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return BENCH_AUTO;
    }
    char *buf = malloc(BENCH_SNIFF_BYTES + 1);
    if (buf == NULL) {
        fclose(fp);
        util_errf(err, errlen, "%s: out of memory", path);
        return BENCH_AUTO;
    }
    size_t n = fread(buf, 1, BENCH_SNIFF_BYTES, fp);
    int bad = ferror(fp);
    fclose(fp);
    buf[n] = '\0';
    const char *p = buf;
    if (n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0)
        p += 3;
    p += strspn(p, " \t\r\n");
    bench_format f = bad ? BENCH_AUTO : sniff(p);
    free(buf);
    if (bad)
        util_errf(err, errlen, "%s: read error", path);
    else if (f == BENCH_AUTO)
        util_errf(err, errlen, "cannot tell the format of %s (expected %s); use --format", path,
                  FORMS);
    return f;
}

int bench_load(const char *path, bench_format format, bench_set *out, char *err, size_t errlen)
{
    assert(path != NULL && out != NULL && format >= BENCH_AUTO && format < BENCH_FORMAT_COUNT);
    memset(out, 0, sizeof *out);
    if (format == BENCH_AUTO) {
        format = bench_detect(path, err, errlen);
        if (format == BENCH_AUTO)
            return -1;
    }
    bload L;
    memset(&L, 0, sizeof L);
    L.path = path;
    L.set = out;
    L.err = err;
    L.errlen = errlen;
    out->format = format;
    int rc;
    if (format == BENCH_CSV) {
        rc = csv_load(&L);
    } else {
        L.tok = json_tokener_new_ex(BENCH_JSON_MAX_DEPTH);
        L.subtok = json_tokener_new_ex(BENCH_JSON_MAX_DEPTH);
        rc = L.tok && L.subtok ? read_whole(&L) : oom(&L);
        if (rc == 0) {
            switch (format) {
            case BENCH_VLLM:
                rc = json_each(&L, vllm_value, NULL, 0);
                break;
            case BENCH_AIPERF:
                rc = aiperf_load(&L);
                break;
            case BENCH_GENAI_PERF:
                rc = json_each(&L, genai_value, NULL, 1);
                break;
            case BENCH_GUIDELLM:
                rc = json_each(&L, guidellm_value, NULL, 1);
                break;
            default:
                assert(0);
                rc = -1;
            }
        }
    }
    if (rc == 0)
        rc = finalize(&L);
    if (L.tok)
        json_tokener_free(L.tok);
    if (L.subtok)
        json_tokener_free(L.subtok);
    free(L.buf);
    free(L.scratch);
    free(L.info);
    if (rc != 0) {
        bench_set_free(out);
        return -1;
    }
    return 0;
}

void bench_set_free(bench_set *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->n_runs; i++) {
        for (size_t j = 0; j < s->runs[i].n; j++)
            free(s->runs[i].req[j].itl_s);
        free(s->runs[i].req);
    }
    free(s->runs);
    memset(s, 0, sizeof *s);
}
