/*
 * traces: the request source that replays a trace (see traces.h), and the pipeline every
 * trace format shares. The formats themselves are one file each (trace_<name>.c) behind
 * the table of trace_table.c; see trace_reader.h for what a format provides.
 *
 * A trace_src is the reqsrc. It holds one format (an entry of trace_formats) with the
 * reader state it sees, and the pipeline: detection, order checks, the reorder window,
 * then window, speedup and the request cap. Every list of format names (help texts,
 * messages, detection) is made here from the table.
 *
 * Invariants of the pipeline: rows leave the heap in (time, sequence) order, so
 * last_released_s never decreases; no row earlier than last_released_s is ever pushed
 * (that is an error); every raw time is finite; the heap never holds more than
 * TRACE_REORDER_WINDOW rows (one when strict). Once the source has failed, next() repeats
 * the same message.
 */
#define _POSIX_C_SOURCE 200809L
#include "workloads/traces.h"

#include <assert.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/csvin.h"
#include "sim/base/spool.h"
#include "sim/base/util.h"
#include "workloads/trace_reader.h"

/* Bytes looked at to recognise the format. */
#define TRACE_SNIFF_BYTES 65536u

typedef struct trace_src {
    reqsrc base;
    const trace_format_def *fmt;
    trace_reader rd; /* what the format sees: path, options, CSV, its state */
    char path[4096]; /* PATH_MAX */
    trace_options opt;
    char *model, *log_type; /* owned copies of the BurstGPT filters */
    trace_stats stats;

    /* pipeline */
    trace_row *heap;
    size_t heap_len, heap_cap, heap_head; /* the reorder window: a sorted ring */
    uint64_t seq;
    int eof, done, failed;
    char fail_msg[512];
    int have_read;
    double max_read_s;
    long max_read_line;
    int have_released;
    double last_released_s, first_s;
    long last_released_line;
    int have_kept;
    double first_kept_rel_s;
    double speedup;
} trace_src;

/* --- names ----------------------------------------------------------------------------------- */

size_t trace_format_count(void)
{
    size_t n = 0;
    while (trace_formats[n] != NULL)
        n++;
    return n;
}

const char *trace_format_name(trace_format f)
{
    if (f == TRACE_AUTO)
        return "auto";
    if ((int)f < 0 || (size_t)f > trace_format_count())
        return "?";
    return trace_formats[f - 1]->name;
}

int trace_format_parse(const char *s, trace_format *out)
{
    for (size_t i = 0; s && i <= trace_format_count(); i++)
        if (strcmp(s, trace_format_name((trace_format)i)) == 0) {
            *out = (trace_format)i;
            return 0;
        }
    return -1;
}

const char *trace_format_list(char *buf, size_t len, int with_auto, const char *last_sep,
                              trace_list_field field)
{
    size_t n = trace_format_count(), at = 0;
    assert(len > 0);
    buf[0] = '\0';
    size_t first = with_auto ? 0 : 1;
    for (size_t i = first; i <= n; i++)
        util_list_append(buf, len, &at, i - first, n + 1 - first, last_sep,
                         field == TRACE_LIST_TITLES && i > 0 ? trace_formats[i - 1]->title
                                                             : trace_format_name((trace_format)i));
    return buf;
}

/* --- detection ------------------------------------------------------------------------------- */

/* The JSON format whose key comes first in text, or NULL when no key is there. */
static const trace_format_def *sniff_keys(const char *text)
{
    const char *first = NULL;
    const trace_format_def *which = NULL;
    for (size_t i = 0; trace_formats[i] != NULL; i++) {
        const char *const *keys = trace_formats[i]->json_keys;
        for (size_t k = 0; keys && keys[k] != NULL; k++) {
            const char *p = strstr(text, keys[k]);
            if (p && (!first || p < first)) {
                first = p;
                which = trace_formats[i];
            }
        }
    }
    return which;
}

/* The first JSON format that holds one object a line (json_lines) or one that does not. */
static const trace_format_def *json_guess(int json_lines)
{
    for (size_t i = 0; trace_formats[i] != NULL; i++)
        if (trace_formats[i]->json_keys && trace_formats[i]->json_lines == json_lines)
            return trace_formats[i];
    return NULL;
}

/* What the start of a file shows. */
typedef enum sniffed { SNIFF_EMPTY, SNIFF_CSV, SNIFF_JSON } sniffed;

/* Looks at the start of the file: blank, CSV, or a JSON object whose first line shows the
 * keys of a JSON format (whichever comes first), which goes in *json. Returns -1 if
 * unreadable. */
static int sniff(const char *path, sniffed *out, const trace_format_def **json, char *err,
                 size_t errlen)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    char *buf = malloc(TRACE_SNIFF_BYTES + 1);
    if (buf == NULL) {
        fclose(fp);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = fread(buf, 1, TRACE_SNIFF_BYTES, fp);
    int rd_err = ferror(fp);
    fclose(fp);
    if (rd_err) {
        free(buf);
        util_errf(err, errlen, "%s: read error", path);
        return -1;
    }
    buf[n] = '\0';
    size_t i = n >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0 ? 3 : 0;
    while (i < n && (buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r' || buf[i] == '\n'))
        i++;
    if (i == n && n < TRACE_SNIFF_BYTES) {
        *out = SNIFF_EMPTY;
    } else if (buf[i] != '{') {
        *out = SNIFF_CSV;
    } else {
        /* Keys in the first line decide; failing that (a pretty-printed result object),
         * keys anywhere in the bytes read. A NUL ends the search; the reader reports it. */
        char *nl = memchr(buf + i, '\n', n - i);
        if (nl)
            *nl = '\0';
        const trace_format_def *which = sniff_keys(buf + i);
        if (which == NULL && nl) {
            *nl = '\n';
            which = sniff_keys(buf + i);
        }
        if (which == NULL) /* a short first line is a JSONL row; a long one a result object */
            which = json_guess(nl != NULL);
        *out = SNIFF_JSON;
        *json = which;
    }
    free(buf);
    return 0;
}

/* With the header read, picks the CSV format from its column names. */
static const trace_format_def *csv_detect(const csvin *in)
{
    for (size_t i = 0; trace_formats[i] != NULL; i++)
        if (trace_formats[i]->is_csv && trace_formats[i]->detect_header(in))
            return trace_formats[i];
    return NULL;
}

/* The message for a CSV header no format recognises. */
static void unrecognised_header(const trace_src *t, char *err, size_t errlen)
{
    char shown[128], header[256] = "", expected[512] = "";
    size_t len = 0, at = 0;
    for (size_t i = 0; i < t->rd.ncols && len + 2 < sizeof header; i++)
        len += (size_t)snprintf(header + len, sizeof header - len, "%s%s", i ? "," : "",
                                csvin_header(t->rd.csv, i));
    util_printable(header, shown, sizeof shown);
    for (size_t i = 0; trace_formats[i] != NULL; i++) {
        if (!trace_formats[i]->is_csv)
            continue;
        if (at + 1 < sizeof expected)
            at += (size_t)snprintf(expected + at, sizeof expected - at, "%s %s; ",
                                   trace_formats[i]->name, trace_formats[i]->header_hint);
        if (at >= sizeof expected)
            at = sizeof expected - 1;
    }
    util_errf(err, errlen, "%s:%ld:1: unrecognised trace header '%s' (expected %sor JSON)", t->path,
              csvin_header_line(t->rd.csv), shown, expected);
}

/* --- the pipeline ---------------------------------------------------------------------------- */

static int row_before(const trace_row *a, const trace_row *b)
{
    return a->t_s < b->t_s || (a->t_s == b->t_s && a->seq < b->seq);
}

/* The reorder window is kept sorted in a ring buffer: a row is appended and, when it is
 * earlier than rows before it, moved back past them (insertion). Traces are nearly always
 * in order, so this is one comparison a row, against the log2(window) of a heap; a row
 * k places out of order costs k moves. t->heap_head is the ring's first slot; the
 * capacity is a power of two. */
static int heap_push(trace_src *t, const trace_row *r)
{
    if (t->heap_len == t->heap_cap) {
        size_t cap = t->heap_cap ? 2 * t->heap_cap : 64;
        trace_row *p = malloc(cap * sizeof *p);
        if (p == NULL)
            return -1;
        for (size_t i = 0; i < t->heap_len; i++)
            p[i] = t->heap[(t->heap_head + i) & (t->heap_cap - 1)];
        free(t->heap);
        t->heap = p;
        t->heap_cap = cap;
        t->heap_head = 0;
    }
    size_t mask = t->heap_cap - 1;
    size_t i = t->heap_len++;
    while (i > 0 && row_before(r, &t->heap[(t->heap_head + i - 1) & mask])) {
        t->heap[(t->heap_head + i) & mask] = t->heap[(t->heap_head + i - 1) & mask];
        i--;
    }
    t->heap[(t->heap_head + i) & mask] = *r;
    return 0;
}

static int heap_pop(trace_src *t, trace_row *out)
{
    if (t->heap_len == 0)
        return 0;
    *out = t->heap[t->heap_head];
    t->heap_head = (t->heap_head + 1) & (t->heap_cap - 1);
    t->heap_len--;
    return 1;
}

/* Copies src into dst[cap], cut short if need be (messages are kept as far as they fit). */
static void str_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        n = cap - 1;
    memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Messages quote the file's own text (a header name, a field); a quoted field can hold a
 * newline, so control characters are shown as '?' to keep every message one line. */
static void one_line(char *msg)
{
    for (; *msg; msg++)
        if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
            *msg = '?';
}

/* A message about the file as the user named it (opt.name, for a pipe read through a
 * copy), on one line. */
static void tidy(const trace_src *t, char *msg, size_t len)
{
    one_line(msg);
    if (t->opt.name)
        spool_rename(msg, len, t->path, t->opt.name);
}

static int fail(trace_src *t, const char *msg, char *err, size_t errlen)
{
    t->failed = 1;
    str_copy(t->fail_msg, sizeof t->fail_msg, msg);
    tidy(t, t->fail_msg, sizeof t->fail_msg);
    util_errf(err, errlen, "%s", t->fail_msg);
    return -1;
}

/* Reads rows into the heap until it holds a full window (one row when strict) or the
 * trace ends. */
static int fill(trace_src *t, char *err, size_t errlen)
{
    size_t want = t->opt.strict ? 1 : TRACE_REORDER_WINDOW;
    char msg[512];
    while (!t->eof && t->heap_len < want) {
        trace_row r;
        memset(&r, 0, sizeof r);
        msg[0] = '\0';
        int rc = t->fmt->read(&t->rd, &r, msg, sizeof msg);
        if (rc == TR_END) {
            t->eof = 1;
            break;
        }
        if (rc == TR_FATAL)
            return fail(t, msg, err, errlen);
        t->stats.rows_read++;
        if (rc == TR_SKIP)
            continue;
        if (rc == TR_BAD) {
            if (!t->opt.skip_bad_rows)
                return fail(t, msg, err, errlen);
            if (t->stats.rows_bad < 3) {
                str_copy(t->stats.first_bad[t->stats.rows_bad], sizeof t->stats.first_bad[0], msg);
                tidy(t, t->stats.first_bad[t->stats.rows_bad], sizeof t->stats.first_bad[0]);
            }
            t->stats.rows_bad++;
            continue;
        }
        if (t->have_read && r.t_s < t->max_read_s) {
            if (t->opt.strict) {
                trace_errf(msg, sizeof msg, t->path, r.line, r.col,
                           "time %.9g s is earlier than %.9g s of the row before it (line %ld); "
                           "expected times in order (strict)",
                           r.t_s, t->max_read_s, t->max_read_line);
                return fail(t, msg, err, errlen);
            }
            if (t->have_released && r.t_s < t->last_released_s) {
                trace_errf(msg, sizeof msg, t->path, r.line, r.col,
                           "time %.9g s is earlier than %.9g s of a request already replayed "
                           "(line %ld); rows more than %u places out of order cannot be "
                           "reordered (sort the trace by time)",
                           r.t_s, t->last_released_s, t->last_released_line, TRACE_REORDER_WINDOW);
                return fail(t, msg, err, errlen);
            }
            t->stats.rows_reordered++;
        }
        if (!t->have_read || r.t_s > t->max_read_s) {
            t->max_read_s = r.t_s;
            t->max_read_line = r.line;
        }
        t->have_read = 1;
        r.seq = t->seq++;
        if (heap_push(t, &r) != 0)
            return fail(t, "out of memory", err, errlen);
    }
    return 0;
}

static int trace_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    trace_src *t = (trace_src *)s;
    if (t->failed) {
        util_errf(err, errlen, "%s", t->fail_msg);
        return -1;
    }
    for (;;) {
        if (t->done)
            return 0;
        if (t->opt.max_requests && t->stats.rows_kept >= t->opt.max_requests) {
            t->done = 1;
            return 0;
        }
        if (fill(t, err, errlen) != 0)
            return -1;
        trace_row r;
        if (!heap_pop(t, &r)) {
            t->done = 1;
            return 0;
        }
        /* Times are taken from the first row, except in capsim's own format, whose
         * arrival_s already counts from the start of the workload (so that a trace written
         * by capsim workload generate replays exactly). */
        int absolute = t->fmt->absolute_times;
        if (!t->have_released)
            t->first_s = absolute ? 0.0 : r.t_s;
        t->have_released = 1;
        t->last_released_s = r.t_s;
        t->last_released_line = r.line;
        double rel = r.t_s - t->first_s;
        if (rel < t->opt.window_start_s)
            continue;
        if (t->opt.window_end_s > 0 && rel >= t->opt.window_end_s) {
            t->done = 1; /* every later row is at least as late */
            return 0;
        }
        if (!t->have_kept) {
            t->have_kept = 1;
            t->first_kept_rel_s = absolute ? t->opt.window_start_s : rel;
        }
        out->arrival_s = (rel - t->first_kept_rel_s) / t->speedup;
        out->prompt_tokens = r.prompt_tokens;
        out->output_tokens = r.output_tokens;
        out->cls = r.cls;
        out->shared_tokens = r.shared_tokens;
        out->prefix_id = r.prefix_id;
        t->stats.rows_kept++;
        t->stats.last_line = r.line;
        return 1;
    }
}

static void trace_close(reqsrc *s)
{
    trace_src *t = (trace_src *)s;
    if (t->fmt && t->fmt->close)
        t->fmt->close(&t->rd);
    free(t->rd.state);
    csvin_close(t->rd.csv);
    free(t->heap);
    free(t->model);
    free(t->log_type);
    free(t);
}

static const reqsrc_ops TRACE_OPS = {trace_next, trace_close};

const trace_stats *trace_get_stats(const reqsrc *src)
{
    if (src == NULL || src->ops != &TRACE_OPS)
        return NULL;
    return &((const trace_src *)src)->stats;
}

static char *dup_str(const char *s, int *oom)
{
    if (s == NULL)
        return NULL;
    char *d = strdup(s);
    if (d == NULL)
        *oom = 1;
    return d;
}

/* Opens the file as CSV and reads its header; with fmt NULL, detects the format from it. */
static int open_csv(trace_src *t, const trace_format_def **fmt, char *err, size_t errlen)
{
    t->rd.csv = csvin_open(t->path, err, errlen);
    if (t->rd.csv == NULL)
        return -1;
    int rc = csvin_read_header(t->rd.csv);
    if (rc != 1) {
        if (rc == 0)
            util_errf(err, errlen, "%s:1:1: empty file (expected %s)", t->path,
                      *fmt ? (*fmt)->expected : "a CSV header");
        else
            util_errf(err, errlen, "%s", csvin_error(t->rd.csv));
        return -1;
    }
    t->rd.ncols = csvin_nfields(t->rd.csv);
    if (*fmt == NULL) {
        *fmt = csv_detect(t->rd.csv);
        if (*fmt == NULL) {
            unrecognised_header(t, err, errlen);
            return -1;
        }
    }
    return 0;
}

/* Chooses the format (want, or what the content shows) and sets the source up for it. */
static int choose_format(trace_src *t, trace_format want, char *err, size_t errlen)
{
    const char *path = t->path;
    if ((int)want < 0 || (size_t)want > trace_format_count()) {
        util_errf(err, errlen, "%s: unknown trace format %d", path, (int)want);
        return -1;
    }
    const trace_format_def *fmt = want == TRACE_AUTO ? NULL : trace_formats[want - 1];
    const trace_format_def *json = NULL;
    sniffed kind;
    if (sniff(path, &kind, &json, err, errlen) != 0)
        return -1;
    if (kind == SNIFF_EMPTY) {
        char names[256];
        util_errf(err, errlen, "%s:1:1: empty file (expected a %s trace: %s)", path,
                  fmt ? fmt->name
                      : trace_format_list(names, sizeof names, 0, " or ", TRACE_LIST_NAMES),
                  fmt ? fmt->expected : "a CSV header or JSON");
        return -1;
    }
    if (fmt && fmt->is_csv && kind == SNIFF_JSON && json != NULL) {
        util_errf(err, errlen, "%s:1:1: found a JSON object, expected a CSV trace (%s) with %s",
                  path, fmt->name, fmt->expected);
        return -1;
    } else if (kind == SNIFF_JSON && json != NULL) {
        fmt = json;
    }
    if ((fmt == NULL || fmt->is_csv) && open_csv(t, &fmt, err, errlen) != 0)
        return -1;
    t->fmt = fmt;
    t->rd.fmt = fmt;
    for (size_t i = 0; trace_formats[i] != NULL; i++)
        if (trace_formats[i] == fmt)
            t->stats.format = (trace_format)(i + 1);
    return 0;
}

static reqsrc *open_trace(const char *path, const trace_options *opt, char *err, size_t errlen)
{
    assert(path != NULL);
    trace_src *t = calloc(1, sizeof *t);
    if (t == NULL) {
        util_errf(err, errlen, "out of memory");
        return NULL;
    }
    t->base.ops = &TRACE_OPS;
    snprintf(t->path, sizeof t->path, "%s", path);
    if (opt)
        t->opt = *opt;
    t->rd.path = t->path;
    t->rd.opt = &t->opt;
    int oom = 0;
    t->model = dup_str(t->opt.burstgpt_model, &oom);
    t->log_type = dup_str(t->opt.burstgpt_log_type, &oom);
    t->opt.burstgpt_model = t->model;
    t->opt.burstgpt_log_type = t->log_type;
    if (oom) {
        util_errf(err, errlen, "out of memory");
        trace_close(&t->base);
        return NULL;
    }
    t->speedup = t->opt.speedup > 0 && isfinite(t->opt.speedup) ? t->opt.speedup : 1;
    if (!(t->opt.window_start_s > 0))
        t->opt.window_start_s = 0;
    if (!(t->opt.window_end_s > 0))
        t->opt.window_end_s = 0;
    if (choose_format(t, t->opt.format, err, errlen) != 0 ||
        t->fmt->open(&t->rd, err, errlen) != 0) {
        if (err != NULL && errlen > 0)
            tidy(t, err, errlen);
        trace_close(&t->base);
        return NULL;
    }
    return &t->base;
}

reqsrc *trace_open(const char *path, const trace_options *opt, char *err, size_t errlen)
{
    reqsrc *src = open_trace(path, opt, err, errlen);
    if (src == NULL && err != NULL && errlen > 0)
        one_line(err);
    return src;
}
