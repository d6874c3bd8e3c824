/*
 * bench_aiperf: AIPerf's profile_export.jsonl, one JSON record a request, {metadata,
 * metrics, error}: metrics input_sequence_length, output_sequence_length (or
 * output_token_count), time_to_first_token (or ttft, the 0.1-era name), request_latency,
 * inter_token_latency, inter_chunk_latency (a list, used as the per-token latencies only
 * when it has one item per output token after the first); each a bare number or
 * {"value": v, "unit": u} with u in ns, us, ms, s (a bare time is in ms, AIPerf's display
 * unit); metadata.request_start_ns (or timestamp_ns in 0.1-era records) for the start. A
 * record whose error (top level or, in 0.1-era records, in metadata) is not null, or that
 * was cancelled, is failed; warmup-phase records are ignored. The file is one run.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/bench_reader.h"
#include "sim/base/util.h"

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
    json_object *m = bl_jkey(metrics, key);
    *val = NULL;
    *unit = NULL;
    if (m == NULL)
        return 0;
    if (json_object_is_type(m, json_type_object)) {
        json_object *u = bl_jkey(m, "unit");
        if (u != NULL && bl_jstr(u) == NULL) {
            char shown[80];
            return bl_fail_at(L, line, "metrics.%s.unit: found %s, expected a string", key,
                              bl_jshow(u, shown, sizeof shown));
        }
        *unit = bl_jstr(u);
        *val = bl_jkey(m, "value");
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
        return bl_fail_at(L, line, "metrics.%s: unit '%s' (expected ns, us, ms or s)", key, u);
    }
    if (!bl_jis_num(v))
        return bl_fail_at(L, line, "metrics.%s: found %s, expected a number", key,
                          bl_jshow(v, shown, sizeof shown));
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
    return bl_read_tokens(L, line, what, v, out);
}

/* The state of an AIPerf read: its one run and the clock of its first record. */
typedef struct aiperf_state {
    size_t ri;
    json_object *base; /* start timestamp of the first record with one (owned reference) */
} aiperf_state;

static int aiperf_failed(json_object *rec, json_object *meta)
{
    json_object *e = bl_jkey(rec, "error");
    if (e == NULL)
        e = bl_jkey(meta, "error");
    if (e != NULL && !(bl_jstr(e) != NULL && bl_jstr(e)[0] == '\0'))
        return 1;
    json_object *c = bl_jkey(meta, "was_cancelled");
    return json_object_is_type(c, json_type_boolean) && json_object_get_boolean(c);
}

static int aiperf_value(bload *L, void *arg, json_object *rec, long line, size_t index)
{
    aiperf_state *st = arg;
    char shown[80];
    if (!json_object_is_type(rec, json_type_object))
        return bl_fail_at(L, line, "found %s, expected an AIPerf record object {metadata, metrics}",
                          bl_jshow(rec, shown, sizeof shown));
    json_object *meta = bl_jkey(rec, "metadata");
    const char *phase = bl_jstr(bl_jkey(meta, "benchmark_phase"));
    if (phase == NULL)
        phase = bl_jstr(bl_jkey(meta, "credit_phase"));
    if (phase != NULL && strcmp(phase, "warmup") == 0)
        return 0;
    bench_run *run = &L->set->runs[st->ri];
    size_t seen = L->info[st->ri].seen++;
    json_object *metrics = NULL;
    if (!json_object_object_get_ex(rec, "metrics", &metrics))
        return bl_fail_at(L, line,
                          "no key 'metrics' (expected an AIPerf profile_export.jsonl record "
                          "{metadata, metrics, error})");
    if (aiperf_failed(rec, meta) || metrics == NULL) {
        run->n_failed++;
        return 0;
    }
    if (!json_object_is_type(metrics, json_type_object))
        return bl_fail_at(L, line, "metrics: found %s, expected an object",
                          bl_jshow(metrics, shown, sizeof shown));
    pending q;
    bl_pending_init(&q, seen, line);
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
        return bl_fail_at(L, line,
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
        return bl_fail_at(L, line,
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
            return bl_fail_at(
                L, line, "metrics.inter_chunk_latency: unit '%s' (expected ns, us, ms or s)", u);
        }
        for (size_t j = 0; j < json_object_array_length(v); j++) {
            json_object *x = json_object_array_get_idx(v, j);
            if (!bl_jis_num(x))
                return bl_fail_at(L, line,
                                  "metrics.inter_chunk_latency[%zu]: found %s, expected a "
                                  "number",
                                  j, bl_jshow(x, shown, sizeof shown));
            if (bl_scratch_push(L, &q.n_itl, json_object_get_double(x) * scale) != 0)
                return -1;
        }
        q.have_itl = 1;
    }
    json_object *ts = bl_jkey(meta, "request_start_ns");
    if (ts == NULL) {
        ts = bl_jkey(meta, "timestamp_ns");
        q.k_start = "metadata.timestamp_ns";
    }
    if (ts != NULL) {
        if (!bl_jis_num(ts))
            return bl_fail_at(L, line, "%s: found %s, expected nanoseconds", q.k_start,
                              bl_jshow(ts, shown, sizeof shown));
        if (st->base == NULL)
            st->base = json_object_get(ts);
        q.start_s = bl_ns_diff_s(st->base, ts);
        q.have_start = 1;
    }
    if (q.output == 0) {
        bl_skip_request(L, st->ri, &q, "metrics.output_sequence_length",
                        "is 0 for a record without an error");
        return 0;
    }
    (void)index;
    return bl_add_request(L, st->ri, &q);
}

static int aiperf_load(bload *L)
{
    aiperf_state st = {0, NULL};
    long ri = bl_new_run(L, "aiperf", "");
    if (ri < 0)
        return -1;
    st.ri = (size_t)ri;
    int rc = bl_json_each(L, aiperf_value, &st, 0);
    json_object_put(st.base);
    return rc;
}

/* An AIPerf record is one whole line (an object, so ending in '}') with metadata and
 * metrics; a long one-line document of another tool does not end in the bytes looked at. */
static int aiperf_detect(const char *p)
{
    if (*p != '{' && *p != '[')
        return 0;
    size_t n = strcspn(p, "\n");
    while (n > 0 && strchr(" \t\r", p[n - 1]) != NULL)
        n--;
    char *line = n > 0 && p[n - 1] == '}' ? strndup(p, n) : NULL;
    int found = line != NULL && bl_key_at(line, "metrics") >= 0 && bl_key_at(line, "metadata") >= 0;
    free(line);
    return found;
}

const bench_format_def bench_format_aiperf = {
    .name = "aiperf",
    .title = "AIPerf",
    .what = "an AIPerf profile_export.jsonl",
    .help = "AIPerf profile_export.jsonl",
    .json = 1,
    .detect = aiperf_detect,
    .load = aiperf_load,
};
