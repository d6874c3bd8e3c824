/*
 * bench_util: the loader the benchmark result formats share (see bench_reader.h):
 * messages, JSON helpers, the runs and requests of a set with the one check of a request
 * (bl_add_request), the final tidying of a set, and the reading of a JSON file.
 *
 * Invariants of a loaded set (the fuzz target checks them): n_runs >= 1; every run has
 * n >= 1; every request has whole prompt_tokens and output_tokens >= 1, a finite ttft_s > 0,
 * itl_s non-NULL exactly when n_itl > 0 with finite values >= 0, tpot_s and e2e_s either
 * NAN or finite with e2e_s >= ttft_s, tpot_s NAN when output_tokens is 1, and start_s NAN
 * or finite and >= 0 with the run's earliest request at 0. Run labels are unique within a
 * set and free of control characters, like model names.
 */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/bench_reader.h"
#include "sim/base/util.h"

/* json-c takes lengths as int. */
#define BENCH_MAX_FILE_BYTES ((size_t)INT_MAX - 1)

/* --- Messages ---------------------------------------------------------------------------- */

int bl_fail_at(bload *L, long line, const char *fmt, ...)
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

void bl_warn_at(bload *L, long line, const char *fmt, ...)
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

const char *bl_fmt_num(double x, char *buf, size_t len)
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
const char *bl_fmt_s(double x, char *buf, size_t len)
{
    bl_fmt_num(x, buf, len);
    if (isfinite(x) && strlen(buf) + 3 <= len)
        strcat(buf, " s");
    return buf;
}

/* A short one-line rendering of a JSON value for messages. */
const char *bl_jshow(json_object *v, char *buf, size_t len)
{
    switch (json_object_get_type(v)) {
    case json_type_null:
        return "null";
    case json_type_boolean:
        return json_object_get_boolean(v) ? "true" : "false";
    case json_type_int:
    case json_type_double:
        return bl_fmt_num(json_object_get_double(v), buf, len);
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
void bl_copy_printable(char *out, size_t len, const char *s)
{
    size_t n = 0;
    for (; *s && n + 1 < len; s++)
        out[n++] = (unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s;
    out[n] = '\0';
}

/* --- Small JSON helpers ------------------------------------------------------------------ */

/* Member key of o, or NULL when o is not an object, has no such key or holds null there. */
json_object *bl_jkey(json_object *o, const char *key)
{
    json_object *v = NULL;
    if (o == NULL || !json_object_object_get_ex(o, key, &v))
        return NULL;
    return v;
}

int bl_jis_num(json_object *v)
{
    json_type t = json_object_get_type(v);
    return t == json_type_int || t == json_type_double;
}

const char *bl_jstr(json_object *v)
{
    return json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

size_t bl_jlen(json_object *arr)
{
    return json_object_is_type(arr, json_type_array) ? json_object_array_length(arr) : 0;
}

/* Item i of arr, or NULL when arr is not an array or too short (json-c asserts on a
 * non-array). */
json_object *bl_jidx(json_object *arr, size_t i)
{
    return i < bl_jlen(arr) ? json_object_array_get_idx(arr, i) : NULL;
}

/* Seconds from ns timestamp a to ns timestamp b, exact for non-negative integers. */
double bl_ns_diff_s(json_object *a, json_object *b)
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
int bl_opt_num(bload *L, long line, const char *ctx, json_object *o, const char *key, double *out,
               int *have)
{
    json_object *v = bl_jkey(o, key);
    *have = 0;
    if (v == NULL)
        return 0;
    if (!bl_jis_num(v)) {
        char shown[80];
        return bl_fail_at(L, line, "%s.%s: found %s, expected a number", ctx, key,
                          bl_jshow(v, shown, sizeof shown));
    }
    *out = json_object_get_double(v);
    *have = 1;
    return 0;
}

/* Checks a token count x read from the file (shown as it appeared): a whole number from 0
 * to BENCH_MAX_TOKENS; zero is the caller's to judge. what names the value in messages. */
int bl_check_tokens(bload *L, long line, const char *what, double x, const char *shown, double *out)
{
    if (!(x >= 0 && x <= BENCH_MAX_TOKENS) || x != floor(x))
        return bl_fail_at(L, line, "%s: found %s, expected a whole number of tokens from 1 to %g",
                          what, shown, BENCH_MAX_TOKENS);
    *out = x;
    return 0;
}

int bl_read_tokens(bload *L, long line, const char *what, json_object *v, double *out)
{
    char shown[80];
    if (v == NULL)
        return bl_fail_at(L, line, "%s: missing or null (expected a whole number of tokens >= 1)",
                          what);
    return bl_check_tokens(L, line, what, bl_jis_num(v) ? json_object_get_double(v) : NAN,
                           bl_jshow(v, shown, sizeof shown), out);
}

/* A concurrency: a number >= 1 (capped at UINT32_MAX), else 0. */
uint32_t bl_concurrency_of(json_object *v)
{
    if (!bl_jis_num(v))
        return 0;
    double x = json_object_get_double(v);
    if (!(x >= 1))
        return 0;
    return x >= (double)UINT32_MAX ? UINT32_MAX : (uint32_t)x;
}

/* Offset of the first place key appears as an object key ("key" then ':'), or -1. */
long bl_key_at(const char *s, const char *key)
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

/* --- Runs and requests ------------------------------------------------------------------- */

int bl_oom(bload *L)
{
    util_errf(L->err, L->errlen, "%s: out of memory", L->path);
    return -1;
}

/* Appends an empty run; returns its index, or -1 when out of memory. */
long bl_new_run(bload *L, const char *label, const char *model)
{
    bench_set *s = L->set;
    if (s->n_runs == L->runs_cap) {
        size_t cap = L->runs_cap ? 2 * L->runs_cap : 8;
        bench_run *r = realloc(s->runs, cap * sizeof *r);
        if (r == NULL)
            return bl_oom(L);
        s->runs = r;
        run_info *ri = realloc(L->info, cap * sizeof *ri);
        if (ri == NULL)
            return bl_oom(L);
        L->info = ri;
        L->runs_cap = cap;
    }
    bench_run *r = &s->runs[s->n_runs];
    memset(r, 0, sizeof *r);
    bl_copy_printable(r->label, sizeof r->label, label);
    bl_copy_printable(r->model, sizeof r->model, model ? model : "");
    L->info[s->n_runs].cap = 0;
    L->info[s->n_runs].seen = 0;
    return (long)s->n_runs++;
}

int bl_run_reserve(bload *L, size_t ri, size_t want)
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
        return bl_oom(L);
    r->req = q;
    in->cap = cap;
    return 0;
}

int bl_scratch_push(bload *L, size_t *n, double x)
{
    if (*n == L->scratch_cap) {
        size_t cap = L->scratch_cap ? 2 * L->scratch_cap : 256;
        double *p = realloc(L->scratch, cap * sizeof *p);
        if (p == NULL)
            return bl_oom(L);
        L->scratch = p;
        L->scratch_cap = cap;
    }
    L->scratch[(*n)++] = x;
    return 0;
}

void bl_pending_init(pending *q, size_t index, long line)
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
void bl_skip_request(bload *L, size_t ri, const pending *q, const char *key, const char *why)
{
    const bench_run *r = &L->set->runs[ri];
    L->n_skipped++;
    if (L->n_skipped == 1)
        snprintf(L->first_skip, sizeof L->first_skip, "run %zu request %zu: %s %s", ri + 1,
                 q->index, key, why);
    bl_warn_at(L, q->line, "run %zu (%s), request %zu: %s %s; request left out", ri + 1, r->label,
               q->index, key, why);
}

/* Checks one successful request, fills in what can be derived (e2e from the inter-token
 * latencies, tpot from e2e and the reverse) and appends it to run ri, or leaves it out with
 * a warning when a value is unusable. Returns 0, or -1 when out of memory. The inter-token
 * latencies are the first q->n_itl values of L->scratch. */
int bl_add_request(bload *L, size_t ri, pending *q)
{
    char num[48], why[160];
    assert(q->prompt >= 1 && q->output >= 1);
    if (q->have_start && !(fabs(q->start_s) <= BENCH_MAX_START_S)) {
        snprintf(why, sizeof why, "is %s, expected a finite time", bl_fmt_num(q->start_s, num, 48));
        bl_skip_request(L, ri, q, q->k_start, why);
        return 0;
    }
    if (!(q->ttft_s > 0 && q->ttft_s <= BENCH_MAX_TIME_S)) {
        snprintf(why, sizeof why, "is %s, expected a time > 0", bl_fmt_s(q->ttft_s, num, 48));
        bl_skip_request(L, ri, q, q->k_ttft, why);
        return 0;
    }
    double sum_itl = 0;
    for (size_t j = 0; j < q->n_itl; j++) {
        double x = L->scratch[j];
        if (!(x >= 0 && x <= BENCH_MAX_TIME_S)) {
            char key[64];
            snprintf(key, sizeof key, "%s[%zu]", q->k_itl, j);
            snprintf(why, sizeof why, "is %s, expected a time >= 0", bl_fmt_s(x, num, 48));
            bl_skip_request(L, ri, q, key, why);
            return 0;
        }
        sum_itl += x;
    }
    if (q->have_e2e) {
        if (!(q->e2e_s >= 0 && q->e2e_s <= BENCH_MAX_TIME_S)) {
            snprintf(why, sizeof why, "is %s, expected a time >= 0", bl_fmt_s(q->e2e_s, num, 48));
            bl_skip_request(L, ri, q, q->k_e2e, why);
            return 0;
        }
        /* Rounding (ms in one field, s in another) may put e2e a hair below ttft. */
        if (q->e2e_s < q->ttft_s) {
            if (q->ttft_s - q->e2e_s > 1e-9 + 1e-9 * q->ttft_s) {
                char t[48];
                snprintf(why, sizeof why, "is %s s, shorter than the time to first token %s s",
                         bl_fmt_num(q->e2e_s, num, 48), bl_fmt_num(q->ttft_s, t, sizeof t));
                bl_skip_request(L, ri, q, q->k_e2e, why);
                return 0;
            }
            q->e2e_s = q->ttft_s;
        }
    }
    if (q->have_tpot && !(q->tpot_s >= 0 && q->tpot_s <= BENCH_MAX_TIME_S)) {
        snprintf(why, sizeof why, "is %s, expected a time >= 0", bl_fmt_s(q->tpot_s, num, 48));
        bl_skip_request(L, ri, q, q->k_tpot, why);
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

    if (bl_run_reserve(L, ri, L->set->runs[ri].n + 1) != 0)
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
            return bl_oom(L);
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
int bl_finalize(bload *L)
{
    bench_set *s = L->set;
    size_t kept = 0, failed = 0;
    for (size_t i = 0; i < s->n_runs; i++) {
        bench_run *r = &s->runs[i];
        failed += r->n_failed;
        if (r->n == 0) {
            bl_warn_at(L, 0, "run %zu (%s): no successful request (%zu failed); run left out",
                       i + 1, r->label, r->n_failed);
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
            return bl_fail_at(L, 0,
                              "no usable request (%zu failed, %zu left out for unusable values, "
                              "the first: %s)",
                              failed, L->n_skipped, L->first_skip);
        return bl_fail_at(L, 0, "no successful request (%zu failed)", failed);
    }
    for (size_t i = 0; i < s->n_runs; i++)
        if (s->runs[i].label[0] == '\0')
            snprintf(s->runs[i].label, sizeof s->runs[i].label, "run %zu", i + 1);
    /* A repeated label gets " #k", k counting the earlier runs with the same label; as
     * earlier labels are final, trying further k until none matches makes them unique. */
    char(*orig)[sizeof s->runs[0].label] = malloc(s->n_runs * sizeof *orig);
    if (orig == NULL)
        return bl_oom(L);
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

int bl_read_whole(bload *L)
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
        return bl_oom(L);
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
            return bl_oom(L);
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

/* Parses the file's top-level JSON values in order and hands each to fn. With single, the
 * file must hold exactly one. arg is passed on to fn. */
int bl_json_each(bload *L, json_value_fn fn, void *arg, int single)
{
    size_t pos = 0;
    if (L->len >= 3 && memcmp(L->buf, "\xEF\xBB\xBF", 3) == 0)
        pos = 3;
    const char *nul = memchr(L->buf, '\0', L->len);
    if (nul != NULL) {
        size_t off = (size_t)(nul - L->buf);
        return bl_fail_at(L, line_at(L, off),
                          "column %ld: NUL byte (binary data? expected JSON text)", col_at(L, off));
    }
    size_t count = 0;
    for (;;) {
        while (pos < L->len && strchr(" \t\r\n", L->buf[pos]) != NULL)
            pos++;
        if (pos >= L->len)
            break;
        long line = line_at(L, pos);
        if (single && count == 1)
            return bl_fail_at(L, line,
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
                return bl_fail_at(L, last,
                                  "column %ld: truncated JSON: the file ends inside the value that "
                                  "starts on line %ld (expected complete JSON)",
                                  col_at(L, L->len), line);
            }
            return bl_fail_at(L, line_at(L, end), "column %ld: malformed JSON (%s)", col_at(L, end),
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
        return bl_fail_at(L, 0, "empty file (expected JSON)");
    return 0;
}
