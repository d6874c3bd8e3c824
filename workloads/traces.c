/*
 * traces: readers for public workload traces (see traces.h).
 *
 * A trace_src is the reqsrc. It holds one format reader, a row of TRACE_FORMATS (open,
 * read one raw row, close), and the pipeline every format shares: order checks, the
 * reorder heap, then window, speedup and the request cap.
 *
 * A format reader's read() returns one of
 *   TR_ROW   a row, with its raw time (seconds on the format's own clock)
 *   TR_SKIP  a row read but deliberately not kept (filtered out, failed request)
 *   TR_END   end of the trace
 *   TR_BAD   a malformed row, message in err; the reader can go on to the next row
 *   TR_FATAL the reader cannot go on (broken file structure, I/O error)
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
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include <json-c/json.h>

#include "sim/base/csvin.h"
#include "sim/base/util.h"

enum { TR_FATAL = -2, TR_BAD = -1, TR_END = 0, TR_ROW = 1, TR_SKIP = 2 };

/* Bytes looked at to recognise the format. */
#define TRACE_SNIFF_BYTES 65536u
/* Deepest JSON nesting accepted in a vLLM result (its deepest real value is 2: itls). */
#define TRACE_JSON_MAX_DEPTH 64
/* Largest raw time accepted, seconds (about 31,700 years). */
#define TRACE_MAX_TIME_S 1e12

typedef struct trace_row {
    double t_s;   /* raw time, seconds on the format's clock */
    uint64_t seq; /* order of reading: breaks ties in the heap */
    uint32_t prompt_tokens, output_tokens, cls;
    long line, col; /* where the row's time is, for messages */
} trace_row;

typedef struct trace_src trace_src;

typedef struct trace_fmt {
    trace_format format;
    const char *name;
    const char *expected; /* the form, for messages */
    int is_csv;           /* opened through csvin with a header (set up by open) */
    int (*open)(trace_src *t, char *err, size_t errlen);
    int (*read)(trace_src *t, trace_row *row, char *err, size_t errlen);
    void (*close)(trace_src *t);
} trace_fmt;

/* --- JSON text cursor (vLLM) ----------------------------------------------------------------- */

typedef struct jpos {
    off_t off;
    long line, col;
} jpos;

/* Reads JSON text from a file one byte at a time, knowing the line and column of the next
 * byte. Several cursors on one file read the parallel arrays of a vLLM result in step. */
typedef struct jcur {
    FILE *fp;
    long line, col;
    int peek;
    int has_peek;
} jcur;

typedef enum jkind {
    JK_NUMBER,
    JK_NAN,
    JK_INF,
    JK_NULL,
    JK_BOOL,
    JK_STRING,
    JK_ARRAY,
    JK_OBJECT
} jkind;

enum { VL_IN, VL_OUT, VL_START, VL_NARR };

typedef struct vl_state {
    jcur main;             /* walks the top-level objects */
    jcur arr[VL_NARR];     /* one per array of the current object */
    int have[VL_NARR];     /* the current object has this array */
    char key[VL_NARR][32]; /* the key as spelled in the file */
    int in_object;         /* arr[] are reading the current object's arrays */
    uint64_t index;        /* entries read from the current object */
    double rate_per_s;     /* request_rate; 0 when absent or infinite */
    int have_t0;
    double t0_s;      /* first start time of the current object */
    double base_s;    /* raw time at which the current object starts */
    double obj_max_s; /* latest raw time in the current object */
    long obj_line, obj_col;
} vl_state;

struct trace_src {
    reqsrc base;
    const trace_fmt *fmt;
    char path[1024];
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

    /* CSV formats */
    csvin *csv;
    size_t ncols;
    int col[6];
    int have_origin;
    int64_t origin_s;
    uint32_t origin_ns;

    /* Mooncake JSONL */
    FILE *fp;
    char *line;
    size_t line_cap;
    long lineno;
    json_tokener *tok;

    /* vLLM JSON */
    vl_state *vl;
};

/* --- names ----------------------------------------------------------------------------------- */

static const char *const FORMAT_NAMES[] = {"auto",     "capsim",   "azure",
                                           "burstgpt", "mooncake", "vllm"};

const char *trace_format_name(trace_format f)
{
    if ((int)f < 0 || (size_t)f >= sizeof FORMAT_NAMES / sizeof FORMAT_NAMES[0])
        return "?";
    return FORMAT_NAMES[f];
}

int trace_format_parse(const char *s, trace_format *out)
{
    for (size_t i = 0; s && i < sizeof FORMAT_NAMES / sizeof FORMAT_NAMES[0]; i++)
        if (strcmp(s, FORMAT_NAMES[i]) == 0) {
            *out = (trace_format)i;
            return 0;
        }
    return -1;
}

/* --- small parsers --------------------------------------------------------------------------- */

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Whole number in [lo, hi]: digits, optionally '.' and zeros, spaces around allowed. */
static int parse_whole(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
    while (*s == ' ' || *s == '\t')
        s++;
    if (!is_digit(*s))
        return -1;
    uint64_t v = 0;
    int big = 0;
    for (; is_digit(*s); s++) {
        if (v > (UINT64_MAX - 9) / 10)
            big = 1;
        else
            v = v * 10 + (uint64_t)(*s - '0');
    }
    if (*s == '.') {
        s++;
        if (*s != '0')
            return -1;
        while (*s == '0')
            s++;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s != '\0' || big || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

/* A decimal number of seconds in [lo, hi] (no hex, no inf/nan), spaces around allowed. */
static int parse_seconds(const char *s, double lo, double hi, double *out)
{
    char buf[64];
    while (*s == ' ' || *s == '\t')
        s++;
    size_t n = strlen(s);
    while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= sizeof buf)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (!is_digit(s[i]) && s[i] != '.' && s[i] != 'e' && s[i] != 'E' && s[i] != '+' &&
            s[i] != '-')
            return -1;
    memcpy(buf, s, n);
    buf[n] = '\0';
    double v;
    if (util_parse_double(buf, &v) != 0 || !(v >= lo && v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* --- timestamps ------------------------------------------------------------------------------ */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar (H. Hinnant's
 * days_from_civil), exact for every year without a library or the time zone. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* Reads exactly n digits at s[*i]; returns 0, or -1 leaving *i at the first non-digit. */
static int take_digits(const char *s, size_t *i, int n, int64_t *out)
{
    int64_t v = 0;
    for (int k = 0; k < n; k++) {
        if (!is_digit(s[*i]))
            return -1;
        v = v * 10 + (s[*i] - '0');
        (*i)++;
    }
    *out = v;
    return 0;
}

int trace_parse_timestamp(const char *s, int64_t *unix_s, uint32_t *nanos)
{
    static const int mdays[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    size_t i = 0, at;
    int64_t y, mo, d, h, mi, se, ns = 0, off_s = 0;
#define TS_FAIL(pos) return (int)((pos) + 1)
    if (take_digits(s, &i, 4, &y) != 0)
        TS_FAIL(i);
    if (y < 1)
        TS_FAIL(0);
    if (s[i] != '-')
        TS_FAIL(i);
    at = ++i;
    if (take_digits(s, &i, 2, &mo) != 0)
        TS_FAIL(i);
    if (mo < 1 || mo > 12)
        TS_FAIL(at);
    if (s[i] != '-')
        TS_FAIL(i);
    at = ++i;
    if (take_digits(s, &i, 2, &d) != 0)
        TS_FAIL(i);
    if (d < 1 || d > mdays[mo - 1] + (mo == 2 && is_leap(y)))
        TS_FAIL(at);
    if (s[i] != ' ' && s[i] != 'T')
        TS_FAIL(i);
    at = ++i;
    if (take_digits(s, &i, 2, &h) != 0)
        TS_FAIL(i);
    if (h > 23)
        TS_FAIL(at);
    if (s[i] != ':')
        TS_FAIL(i);
    at = ++i;
    if (take_digits(s, &i, 2, &mi) != 0)
        TS_FAIL(i);
    if (mi > 59)
        TS_FAIL(at);
    if (s[i] != ':')
        TS_FAIL(i);
    at = ++i;
    if (take_digits(s, &i, 2, &se) != 0)
        TS_FAIL(i);
    if (se > 59)
        TS_FAIL(at);
    if (s[i] == '.') {
        i++;
        int nd = 0;
        while (is_digit(s[i])) {
            if (nd == 9)
                TS_FAIL(i);
            ns = ns * 10 + (s[i] - '0');
            nd++;
            i++;
        }
        if (nd == 0)
            TS_FAIL(i);
        for (; nd < 9; nd++)
            ns *= 10;
    }
    if (s[i] == 'Z') {
        i++;
    } else if (s[i] == '+' || s[i] == '-') {
        int64_t sign = s[i] == '-' ? -1 : 1, oh, om = 0;
        at = ++i;
        if (take_digits(s, &i, 2, &oh) != 0)
            TS_FAIL(i);
        if (oh > 23)
            TS_FAIL(at);
        if (s[i] == ':' || is_digit(s[i])) {
            if (s[i] == ':')
                i++;
            at = i;
            if (take_digits(s, &i, 2, &om) != 0)
                TS_FAIL(i);
            if (om > 59)
                TS_FAIL(at);
        }
        off_s = sign * (oh * 3600 + om * 60);
    }
    if (s[i] != '\0')
        TS_FAIL(i);
#undef TS_FAIL
    *unix_s = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + se - off_s;
    *nanos = (uint32_t)ns;
    return 0;
}

/* --- messages -------------------------------------------------------------------------------- */

/* Writes "path:line:col: <fmt>" into err. */
__attribute__((format(printf, 6, 7))) static void
at_errf(char *err, size_t errlen, const char *path, long line, long col, const char *fmt, ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    util_errf(err, errlen, "%s:%ld:%ld: %s", path, line, col, msg);
}

/* --- CSV formats (capsim, azure, burstgpt) --------------------------------------------------- */

enum { CAP_T, CAP_P, CAP_O, CAP_C };
enum { AZ_T, AZ_P, AZ_O };
enum { BG_T, BG_P, BG_O, BG_MODEL, BG_LOG };

/* Reports a bad value in column c of the current record. */
static int csv_bad(trace_src *t, int c, const char *expected, char *err, size_t errlen)
{
    char shown[64];
    util_printable(csvin_field(t->csv, (size_t)c), shown, sizeof shown);
    at_errf(err, errlen, t->path, csvin_line(t->csv), (long)c + 1,
            "column '%s': found '%s', expected %s", csvin_header(t->csv, (size_t)c), shown,
            expected);
    return TR_BAD;
}

/* Reads the next record and checks its field count. */
static int csv_next_record(trace_src *t, char *err, size_t errlen)
{
    int rc = csvin_next(t->csv);
    if (rc < 0) {
        util_errf(err, errlen, "%s", csvin_error(t->csv));
        return TR_FATAL;
    }
    if (rc == 0)
        return TR_END;
    size_t n = csvin_nfields(t->csv);
    if (n < t->ncols) {
        at_errf(err, errlen, t->path, csvin_line(t->csv), (long)n + 1,
                "column '%s' is missing: the row has %zu fields, expected %zu as in the header",
                csvin_header(t->csv, n), n, t->ncols);
        return TR_BAD;
    }
    if (n > t->ncols) {
        at_errf(err, errlen, t->path, csvin_line(t->csv), (long)t->ncols + 1,
                "the row has %zu fields, expected %zu as in the header", n, t->ncols);
        return TR_BAD;
    }
    return TR_ROW;
}

#define TOKENS_EXPECTED "a whole number from 1 to 10000000"

static int csv_tokens(trace_src *t, int c, uint64_t lo, uint32_t *out, char *err, size_t errlen)
{
    uint64_t v;
    if (parse_whole(csvin_field(t->csv, (size_t)c), lo, REQSRC_MAX_TOKENS, &v) != 0)
        return csv_bad(t, c, lo == 0 ? "a whole number from 0 to 10000000" : TOKENS_EXPECTED, err,
                       errlen);
    *out = (uint32_t)v;
    return 0;
}

static int csv_seconds(trace_src *t, int c, double *out, char *err, size_t errlen)
{
    if (parse_seconds(csvin_field(t->csv, (size_t)c), 0, TRACE_MAX_TIME_S, out) != 0)
        return csv_bad(t, c, "a number of seconds >= 0", err, errlen);
    return 0;
}

/* Finds the columns names[0..n) in the header; required[k] says which must be there. */
static int csv_columns(trace_src *t, const char *const *names, const int *required, int n,
                       char *err, size_t errlen)
{
    for (int k = 0; k < n; k++) {
        t->col[k] = csvin_column(t->csv, names[k]);
        if (t->col[k] < 0 && required[k]) {
            at_errf(err, errlen, t->path, csvin_header_line(t->csv), 1,
                    "the header has no column '%s' (expected %s)", names[k], t->fmt->expected);
            return -1;
        }
    }
    return 0;
}

static void csv_close(trace_src *t)
{
    csvin_close(t->csv);
    t->csv = NULL;
}

static void row_at(trace_src *t, trace_row *row, int time_col)
{
    row->line = csvin_line(t->csv);
    row->col = (long)time_col + 1;
    row->cls = 0;
}

static int capsim_open(trace_src *t, char *err, size_t errlen)
{
    static const char *const names[] = {"arrival_s", "prompt_tokens", "output_tokens", "class"};
    static const int required[] = {1, 1, 1, 0};
    return csv_columns(t, names, required, 4, err, errlen);
}

static int capsim_read(trace_src *t, trace_row *row, char *err, size_t errlen)
{
    int rc = csv_next_record(t, err, errlen);
    if (rc != TR_ROW)
        return rc;
    row_at(t, row, t->col[CAP_T]);
    if (csv_seconds(t, t->col[CAP_T], &row->t_s, err, errlen) ||
        csv_tokens(t, t->col[CAP_P], 1, &row->prompt_tokens, err, errlen) ||
        csv_tokens(t, t->col[CAP_O], 1, &row->output_tokens, err, errlen))
        return TR_BAD;
    if (t->col[CAP_C] >= 0) {
        const char *f = csvin_field(t->csv, (size_t)t->col[CAP_C]);
        uint64_t c = 0;
        if (f[strspn(f, " \t")] != '\0' && parse_whole(f, 0, 1000, &c) != 0)
            return csv_bad(t, t->col[CAP_C], "a class index from 0 to 1000 (or nothing)", err,
                           errlen);
        row->cls = (uint32_t)c;
    }
    return TR_ROW;
}

static int azure_open(trace_src *t, char *err, size_t errlen)
{
    static const char *const names[] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
    static const int required[] = {1, 1, 1};
    return csv_columns(t, names, required, 3, err, errlen);
}

static int azure_read(trace_src *t, trace_row *row, char *err, size_t errlen)
{
    int rc = csv_next_record(t, err, errlen);
    if (rc != TR_ROW)
        return rc;
    row_at(t, row, t->col[AZ_T]);
    /* Spaces around the value (a quoted field keeps them) are not part of the time. */
    const char *f = csvin_field(t->csv, (size_t)t->col[AZ_T]);
    char ts[64];
    f += strspn(f, " \t");
    size_t n = strlen(f);
    while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
        n--;
    int64_t s = 0;
    uint32_t ns = 0;
    int bad = 1;
    if (n < sizeof ts) {
        memcpy(ts, f, n);
        ts[n] = '\0';
        bad = trace_parse_timestamp(ts, &s, &ns);
    }
    if (bad) {
        char expected[128];
        snprintf(expected, sizeof expected,
                 "a time YYYY-MM-DD HH:MM:SS[.fffffff][+HH:MM] (wrong at character %d)",
                 bad > 0 ? bad : 1);
        return csv_bad(t, t->col[AZ_T], expected, err, errlen);
    }
    if (csv_tokens(t, t->col[AZ_P], 1, &row->prompt_tokens, err, errlen) ||
        csv_tokens(t, t->col[AZ_O], 1, &row->output_tokens, err, errlen))
        return TR_BAD;
    if (!t->have_origin) {
        t->have_origin = 1;
        t->origin_s = s;
        t->origin_ns = ns;
    }
    /* Relative to the first row, so the 100 ns digits survive in a double. */
    row->t_s = (double)(s - t->origin_s) + ((double)ns - (double)t->origin_ns) * 1e-9;
    return TR_ROW;
}

static int burstgpt_open(trace_src *t, char *err, size_t errlen)
{
    static const char *const names[] = {"Timestamp", "Request tokens", "Response tokens", "Model",
                                        "Log Type"};
    int required[] = {1, 1, 1, t->opt.burstgpt_model != NULL, t->opt.burstgpt_log_type != NULL};
    return csv_columns(t, names, required, 5, err, errlen);
}

static int burstgpt_read(trace_src *t, trace_row *row, char *err, size_t errlen)
{
    int rc = csv_next_record(t, err, errlen);
    if (rc != TR_ROW)
        return rc;
    if (t->opt.burstgpt_model &&
        strcmp(csvin_field(t->csv, (size_t)t->col[BG_MODEL]), t->opt.burstgpt_model) != 0)
        return TR_SKIP;
    if (t->opt.burstgpt_log_type &&
        strcmp(csvin_field(t->csv, (size_t)t->col[BG_LOG]), t->opt.burstgpt_log_type) != 0)
        return TR_SKIP;
    row_at(t, row, t->col[BG_T]);
    if (csv_seconds(t, t->col[BG_T], &row->t_s, err, errlen) ||
        csv_tokens(t, t->col[BG_O], 0, &row->output_tokens, err, errlen) ||
        csv_tokens(t, t->col[BG_P], row->output_tokens == 0 ? 0 : 1, &row->prompt_tokens, err,
                   errlen))
        return TR_BAD;
    /* A well-formed row with no response tokens is a failed request: not a request to
     * replay, but not bad input either. */
    if (row->output_tokens == 0)
        return TR_SKIP;
    return TR_ROW;
}

/* --- Mooncake JSONL -------------------------------------------------------------------------- */

/* Reads the next physical line into t->line (NUL-terminated, without "\n"), never
 * holding more than TRACE_MAX_JSON_LINE bytes. Returns the length, -1 at end of file,
 * -2 when the line is too long (the rest of it is skipped), -3 out of memory, -4 on a
 * read error. */
static long jl_read_line(trace_src *t)
{
    if (t->line == NULL) {
        t->line_cap = 4096;
        t->line = malloc(t->line_cap);
        if (t->line == NULL)
            return -3;
    }
    size_t n = 0;
    int c, any = 0, too_long = 0;
    while ((c = getc_unlocked(t->fp)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (too_long)
            continue;
        if (n >= TRACE_MAX_JSON_LINE) {
            too_long = 1;
            continue;
        }
        if (n + 1 >= t->line_cap) {
            size_t cap = t->line_cap * 2 < TRACE_MAX_JSON_LINE + 1 ? t->line_cap * 2
                                                                   : TRACE_MAX_JSON_LINE + 1;
            char *p = realloc(t->line, cap);
            if (p == NULL)
                return -3;
            t->line = p;
            t->line_cap = cap;
        }
        t->line[n++] = (char)c;
    }
    if (ferror(t->fp))
        return -4;
    if (!any)
        return -1;
    t->lineno++;
    t->line[n] = '\0';
    if (too_long)
        return -2;
    return (long)n;
}

static int mooncake_open(trace_src *t, char *err, size_t errlen)
{
    t->fp = fopen(t->path, "rb");
    if (t->fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", t->path, strerror(errno));
        return -1;
    }
    t->tok = json_tokener_new();
    if (t->tok == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

/* Column (1-based) of "key" in the line, or 1 when it is not there. */
static long key_col(const char *line, const char *key)
{
    char quoted[40];
    snprintf(quoted, sizeof quoted, "\"%s\"", key);
    const char *p = strstr(line, quoted);
    return p ? (long)(p - line) + 1 : 1;
}

/* Reads key of obj as a finite number in [lo, hi] (whole when whole is set). */
static int mc_number(trace_src *t, json_object *obj, const char *line, const char *key, double lo,
                     double hi, int whole, const char *expected, double *out, char *err,
                     size_t errlen)
{
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v)) {
        at_errf(err, errlen, t->path, t->lineno, 1,
                "missing key '%s' (expected an object with timestamp, input_length, "
                "output_length)",
                key);
        return -1;
    }
    json_type ty = json_object_get_type(v);
    double x = (ty == json_type_int || ty == json_type_double) ? json_object_get_double(v) : NAN;
    if (!isfinite(x) || x < lo || x > hi || (whole && x != floor(x))) {
        char shown[64];
        util_printable(json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN), shown,
                       sizeof shown);
        at_errf(err, errlen, t->path, t->lineno, key_col(line, key),
                "key '%s': found %s, expected %s", key, shown, expected);
        return -1;
    }
    *out = x;
    return 0;
}

static int mooncake_read(trace_src *t, trace_row *row, char *err, size_t errlen)
{
    char *p;
    size_t len;
    for (;;) {
        long n = jl_read_line(t);
        if (n == -1)
            return TR_END;
        if (n == -2) {
            at_errf(err, errlen, t->path, t->lineno, 1,
                    "line longer than %u bytes (expected one JSON object per line)",
                    TRACE_MAX_JSON_LINE);
            return TR_BAD;
        }
        if (n < -2) {
            util_errf(err, errlen, "%s:%ld: %s", t->path, t->lineno + 1,
                      n == -3 ? "out of memory" : "read error");
            return TR_FATAL;
        }
        p = t->line;
        len = (size_t)n;
        if (t->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            len -= 3;
        }
        const char *nul = memchr(p, '\0', len);
        if (nul != NULL) {
            at_errf(err, errlen, t->path, t->lineno, (long)(nul - t->line) + 1,
                    "NUL byte (binary data, expected a JSON object)");
            return TR_BAD;
        }
        if (strspn(p, " \t\r") != len)
            break;
    }
    json_tokener_reset(t->tok);
    /* The terminating NUL goes in too: it ends a bare number, and an object left open at
     * the end of the line becomes an "unexpected end of data" error. */
    json_object *obj = json_tokener_parse_ex(t->tok, p, (int)len + 1);
    enum json_tokener_error je = json_tokener_get_error(t->tok);
    long col0 = (long)(p - t->line) + 1;
    if (obj == NULL || je != json_tokener_success) {
        if (je == json_tokener_continue || je == json_tokener_error_parse_eof)
            at_errf(err, errlen, t->path, t->lineno, col0 + (long)len,
                    "the line ends inside a JSON value (truncated? expected one complete "
                    "JSON object per line)");
        else
            at_errf(err, errlen, t->path, t->lineno,
                    col0 + (long)json_tokener_get_parse_end(t->tok),
                    "malformed JSON (%s; expected one JSON object per line)",
                    json_tokener_error_desc(je));
        json_object_put(obj);
        return TR_BAD;
    }
    size_t end = json_tokener_get_parse_end(t->tok);
    end += strspn(p + end, " \t\r");
    if (end < len) {
        at_errf(err, errlen, t->path, t->lineno, col0 + (long)end,
                "unexpected text after the JSON object (expected one object per line)");
        json_object_put(obj);
        return TR_BAD;
    }
    int rc = TR_BAD;
    double ts, in, out;
    json_object *hash;
    if (!json_object_is_type(obj, json_type_object)) {
        at_errf(err, errlen, t->path, t->lineno, col0, "found a JSON %s, expected an object",
                json_type_to_name(json_object_get_type(obj)));
    } else if (mc_number(t, obj, p, "timestamp", 0, TRACE_MAX_TIME_S * 1000, 0, "milliseconds >= 0",
                         &ts, err, errlen) == 0 &&
               mc_number(t, obj, p, "input_length", 1, REQSRC_MAX_TOKENS, 1, TOKENS_EXPECTED, &in,
                         err, errlen) == 0 &&
               mc_number(t, obj, p, "output_length", 1, REQSRC_MAX_TOKENS, 1, TOKENS_EXPECTED, &out,
                         err, errlen) == 0) {
        if (json_object_object_get_ex(obj, "hash_ids", &hash) &&
            !json_object_is_type(hash, json_type_array)) {
            at_errf(err, errlen, t->path, t->lineno, key_col(p, "hash_ids"),
                    "key 'hash_ids': found a JSON %s, expected an array",
                    json_type_to_name(json_object_get_type(hash)));
        } else {
            row->t_s = ts / 1000;
            row->prompt_tokens = (uint32_t)in;
            row->output_tokens = (uint32_t)out;
            row->cls = 0;
            row->line = t->lineno;
            row->col = key_col(p, "timestamp");
            rc = TR_ROW;
        }
    }
    json_object_put(obj);
    return rc;
}

static void mooncake_close(trace_src *t)
{
    if (t->fp)
        fclose(t->fp);
    t->fp = NULL;
    if (t->tok)
        json_tokener_free(t->tok);
    t->tok = NULL;
    free(t->line);
    t->line = NULL;
}

/* --- vLLM result JSON ------------------------------------------------------------------------ */

static int jc_peek(jcur *c)
{
    if (!c->has_peek) {
        c->peek = getc_unlocked(c->fp);
        c->has_peek = 1;
    }
    return c->peek;
}

static void jc_adv(jcur *c)
{
    int ch = jc_peek(c);
    if (ch == EOF)
        return;
    c->has_peek = 0;
    if (ch == '\n') {
        c->line++;
        c->col = 1;
    } else {
        c->col++;
    }
}

static int jc_ws(jcur *c)
{
    for (;;) {
        int ch = jc_peek(c);
        if (ch != ' ' && ch != '\t' && ch != '\r' && ch != '\n')
            return ch;
        jc_adv(c);
    }
}

static int jc_tell(jcur *c, jpos *p)
{
    off_t o = ftello(c->fp);
    if (o < 0)
        return -1;
    if (c->has_peek && c->peek != EOF)
        o--;
    p->off = o;
    p->line = c->line;
    p->col = c->col;
    return 0;
}

static int jc_seek(jcur *c, const jpos *p)
{
    if (fseeko(c->fp, p->off, SEEK_SET) != 0)
        return -1;
    c->has_peek = 0;
    c->line = p->line;
    c->col = p->col;
    return 0;
}

/* Describes the next byte for a message: 'x', "end of file" or "byte 0x00". */
static const char *jc_found(int ch, char *buf, size_t len)
{
    if (ch == EOF)
        snprintf(buf, len, "end of file (truncated JSON?)");
    else if (ch >= 0x20 && ch < 0x7f)
        snprintf(buf, len, "'%c'", ch);
    else
        snprintf(buf, len, "byte 0x%02x", (unsigned)ch);
    return buf;
}

__attribute__((format(printf, 5, 6))) static int jc_err(trace_src *t, const jcur *c, char *err,
                                                        size_t errlen, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    util_errf(err, errlen, "%s:%ld:%ld: %s", t->path, c->line, c->col, msg);
    return -1;
}

static int jc_expected(trace_src *t, jcur *c, const char *what, char *err, size_t errlen)
{
    char found[48];
    return jc_err(t, c, err, errlen, "found %s, expected %s",
                  jc_found(jc_peek(c), found, sizeof found), what);
}

/* Reads a string at '"', keeping its first cap - 1 bytes in buf (escapes kept as the
 * escaped letter; only keys are compared, and the keys that matter have none). */
static int jc_string(trace_src *t, jcur *c, char *buf, size_t cap, char *err, size_t errlen)
{
    size_t n = 0;
    jc_adv(c); /* '"' */
    for (;;) {
        int ch = jc_peek(c);
        if (ch == EOF || ch < 0x20)
            return jc_expected(t, c, "the rest of a string and its closing '\"'", err, errlen);
        jc_adv(c);
        if (ch == '"')
            break;
        if (ch == '\\') {
            ch = jc_peek(c);
            if (ch == 'u') {
                jc_adv(c);
                for (int k = 0; k < 4; k++) {
                    int h = jc_peek(c);
                    if (!is_digit(h) && !((h | 0x20) >= 'a' && (h | 0x20) <= 'f'))
                        return jc_expected(t, c, "4 hex digits after \\u", err, errlen);
                    jc_adv(c);
                }
                ch = '?';
            } else if (ch != EOF && strchr("\"\\/bfnrt", ch) != NULL) {
                jc_adv(c);
            } else {
                return jc_expected(t, c, "an escape \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", err,
                                   errlen);
            }
        }
        if (buf && n + 1 < cap)
            buf[n++] = (char)ch;
    }
    if (buf && cap > 0)
        buf[n] = '\0';
    return 0;
}

static int json_number_ok(const char *p)
{
    if (*p == '-')
        p++;
    if (*p == '0')
        p++;
    else if (*p >= '1' && *p <= '9')
        while (is_digit(*p))
            p++;
    else
        return 0;
    if (*p == '.') {
        p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    if (*p == 'e' || *p == 'E') {
        p++;
        if (*p == '+' || *p == '-')
            p++;
        if (!is_digit(*p))
            return 0;
        while (is_digit(*p))
            p++;
    }
    return *p == '\0';
}

/* Reads a number or a literal (true, false, null, and Python's NaN, Infinity, -Infinity). */
static int jc_scalar(trace_src *t, jcur *c, jkind *kind, double *num, char *err, size_t errlen)
{
    char tok[512]; /* Python writes at most 24 characters for a float */
    size_t n = 0;
    jcur start = *c;
    for (;;) {
        int ch = jc_peek(c);
        if (!(is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '+' ||
              ch == '-' || ch == '.'))
            break;
        if (n + 1 >= sizeof tok)
            return jc_err(t, &start, err, errlen, "a number or literal longer than %zu bytes",
                          sizeof tok - 2);
        tok[n++] = (char)ch;
        jc_adv(c);
    }
    tok[n] = '\0';
    *num = 0;
    if (n == 0)
        return jc_expected(t, c, "a JSON value", err, errlen);
    if (strcmp(tok, "true") == 0 || strcmp(tok, "false") == 0)
        *kind = JK_BOOL;
    else if (strcmp(tok, "null") == 0)
        *kind = JK_NULL;
    else if (strcmp(tok, "NaN") == 0)
        *kind = JK_NAN;
    else if (strcmp(tok, "Infinity") == 0 || strcmp(tok, "-Infinity") == 0)
        *kind = JK_INF;
    else if (json_number_ok(tok)) {
        *num = strtod(tok, NULL);
        *kind = isfinite(*num) ? JK_NUMBER : JK_INF;
    } else {
        char shown[48];
        util_printable(tok, shown, sizeof shown);
        return jc_err(t, &start, err, errlen, "found '%s', expected a JSON value", shown);
    }
    return 0;
}

/* Reads (and checks) any value; *kind says what it was, *num holds a number. */
static int jc_value(trace_src *t, jcur *c, int depth, jkind *kind, double *num, char *err,
                    size_t errlen)
{
    int ch = jc_ws(c);
    jkind inner;
    double x;
    *num = 0;
    if (depth > TRACE_JSON_MAX_DEPTH)
        return jc_err(t, c, err, errlen, "JSON nested more than %d deep", TRACE_JSON_MAX_DEPTH);
    if (ch == '"') {
        *kind = JK_STRING;
        return jc_string(t, c, NULL, 0, err, errlen);
    }
    if (ch == '[') {
        *kind = JK_ARRAY;
        jc_adv(c);
        if (jc_ws(c) == ']') {
            jc_adv(c);
            return 0;
        }
        for (;;) {
            if (jc_value(t, c, depth + 1, &inner, &x, err, errlen) != 0)
                return -1;
            ch = jc_ws(c);
            if (ch != ',' && ch != ']')
                return jc_expected(t, c, "',' or ']'", err, errlen);
            jc_adv(c);
            if (ch == ']')
                return 0;
        }
    }
    if (ch == '{') {
        *kind = JK_OBJECT;
        jc_adv(c);
        if (jc_ws(c) == '}') {
            jc_adv(c);
            return 0;
        }
        for (;;) {
            if (jc_ws(c) != '"')
                return jc_expected(t, c, "a key string", err, errlen);
            if (jc_string(t, c, NULL, 0, err, errlen) != 0)
                return -1;
            if (jc_ws(c) != ':')
                return jc_expected(t, c, "':'", err, errlen);
            jc_adv(c);
            if (jc_value(t, c, depth + 1, &inner, &x, err, errlen) != 0)
                return -1;
            ch = jc_ws(c);
            if (ch != ',' && ch != '}')
                return jc_expected(t, c, "',' or '}'", err, errlen);
            jc_adv(c);
            if (ch == '}')
                return 0;
        }
    }
    return jc_scalar(t, c, kind, num, err, errlen);
}

static const char *jk_describe(jkind k, double num, char *buf, size_t len)
{
    static const char *const names[] = {"",          "NaN",      "Infinity", "null",
                                        "a boolean", "a string", "an array", "an object"};
    if (k == JK_NUMBER)
        snprintf(buf, len, "%.17g", num);
    else
        snprintf(buf, len, "%s", names[k]);
    return buf;
}

static int vllm_open(trace_src *t, char *err, size_t errlen)
{
    t->vl = calloc(1, sizeof *t->vl);
    if (t->vl == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    jcur *m = &t->vl->main;
    m->fp = fopen(t->path, "rb");
    if (m->fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", t->path, strerror(errno));
        return -1;
    }
    m->line = m->col = 1;
    /* A UTF-8 byte-order mark is not JSON text: step over it. */
    unsigned char bom[3];
    if (fread(bom, 1, 3, m->fp) != 3 || memcmp(bom, "\xEF\xBB\xBF", 3) != 0)
        rewind(m->fp);
    return 0;
}

/* Reads request_rate: a number > 0, or "inf" / Infinity / null for "all at once". */
static int vl_rate(trace_src *t, jcur *c, double *rate, char *err, size_t errlen)
{
    jcur at = *c;
    jkind k;
    double x;
    char s[32];
    if (jc_ws(c) == '"') {
        if (jc_string(t, c, s, sizeof s, err, errlen) != 0)
            return -1;
        if (strcmp(s, "inf") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "infinity") == 0) {
            *rate = 0;
            return 0;
        }
        if (parse_seconds(s, 0, HUGE_VAL, &x) == 0 && x > 0) {
            *rate = x;
            return 0;
        }
        char shown[48];
        util_printable(s, shown, sizeof shown);
        return jc_err(t, &at, err, errlen,
                      "key 'request_rate': found \"%s\", expected a number > 0 or \"inf\"", shown);
    }
    if (jc_value(t, c, 1, &k, &x, err, errlen) != 0)
        return -1;
    if (k == JK_INF || k == JK_NULL || k == JK_NAN || (k == JK_NUMBER && x > 0)) {
        *rate = k == JK_NUMBER ? x : 0;
        return 0;
    }
    char shown[48];
    return jc_err(t, &at, err, errlen,
                  "key 'request_rate': found %s, expected a number > 0 or \"inf\"",
                  jk_describe(k, x, shown, sizeof shown));
}

/* Walks the next top-level object, noting where its arrays start. Returns 1 with the
 * array cursors set at their first entry, 0 at end of file, -1 on error. */
static int vl_next_object(trace_src *t, char *err, size_t errlen)
{
    vl_state *v = t->vl;
    jcur *m = &v->main;
    jpos pos[VL_NARR];
    int first[VL_NARR] = {0, 0, 0};
    int have_input_lens = 0;
    char key[32];
    int ch = jc_ws(m);
    if (ch == EOF)
        return 0;
    if (ch != '{')
        return jc_expected(t, m, "'{' starting a vLLM result object", err, errlen);
    memset(v->have, 0, sizeof v->have);
    v->rate_per_s = 0;
    v->obj_line = m->line;
    v->obj_col = m->col;
    jc_adv(m);
    if (jc_ws(m) == '}') {
        jc_adv(m);
    } else {
        for (;;) {
            if (jc_ws(m) != '"')
                return jc_expected(t, m, "a key string", err, errlen);
            if (jc_string(t, m, key, sizeof key, err, errlen) != 0)
                return -1;
            if (jc_ws(m) != ':')
                return jc_expected(t, m, "':'", err, errlen);
            jc_adv(m);
            int which = -1;
            if (strcmp(key, "input_lens") == 0) {
                which = VL_IN;
                have_input_lens = 1;
            } else if (strcmp(key, "prompt_lens") == 0 && !have_input_lens) {
                which = VL_IN;
            } else if (strcmp(key, "output_lens") == 0) {
                which = VL_OUT;
            } else if (strcmp(key, "start_times") == 0) {
                which = VL_START;
            }
            jkind k;
            double x;
            if (strcmp(key, "request_rate") == 0) {
                if (vl_rate(t, m, &v->rate_per_s, err, errlen) != 0)
                    return -1;
            } else {
                jc_ws(m);
                if (which >= 0) {
                    if (jc_tell(m, &pos[which]) != 0)
                        return jc_err(t, m, err, errlen, "cannot tell the file position");
                    v->have[which] = 1;
                    first[which] = jc_peek(m);
                    snprintf(v->key[which], sizeof v->key[which], "%s", key);
                }
                if (jc_value(t, m, 1, &k, &x, err, errlen) != 0)
                    return -1;
            }
            ch = jc_ws(m);
            if (ch != ',' && ch != '}')
                return jc_expected(t, m, "',' or '}'", err, errlen);
            jc_adv(m);
            if (ch == '}')
                break;
        }
    }
    static const char *const what[VL_NARR] = {"input_lens (or prompt_lens)", "output_lens",
                                              "start_times"};
    for (int a = 0; a < VL_NARR; a++) {
        if (!v->have[a] && a != VL_START) {
            at_errf(err, errlen, t->path, v->obj_line, v->obj_col,
                    "the result object has no key %s (expected the output of vllm bench serve "
                    "--save-result --save-detailed)",
                    what[a]);
            return -1;
        }
        if (!v->have[a])
            continue;
        if (first[a] != '[') {
            at_errf(err, errlen, t->path, pos[a].line, pos[a].col,
                    "key '%s': expected an array, one entry per request", v->key[a]);
            return -1;
        }
        jcur *c = &v->arr[a];
        if (c->fp == NULL) {
            c->fp = fopen(t->path, "rb");
            if (c->fp == NULL) {
                util_errf(err, errlen, "%s: cannot open: %s", t->path, strerror(errno));
                return -1;
            }
        }
        if (jc_seek(c, &pos[a]) != 0) {
            util_errf(err, errlen, "%s: cannot seek: %s", t->path, strerror(errno));
            return -1;
        }
        jc_adv(c); /* '[' */
    }
    v->in_object = 1;
    v->index = 0;
    v->have_t0 = 0;
    v->obj_max_s = v->base_s;
    return 1;
}

/* Reads the next entry of array cursor c. Returns 1 (entry in *kind, *num, *at), 0 at
 * the closing ']', -1 on error. The array was checked when its object was walked. */
static int vl_entry(trace_src *t, jcur *c, jkind *kind, double *num, jpos *at, char *err,
                    size_t errlen)
{
    int ch = jc_ws(c);
    if (ch == ']')
        return 0;
    at->line = c->line;
    at->col = c->col;
    if (jc_value(t, c, 1, kind, num, err, errlen) != 0)
        return -1;
    ch = jc_ws(c);
    if (ch == ',')
        jc_adv(c);
    else if (ch != ']')
        return jc_expected(t, c, "',' or ']'", err, errlen);
    return 1;
}

static int vl_bad(trace_src *t, const vl_state *v, int a, const jpos *at, jkind k, double x,
                  const char *expected, char *err, size_t errlen)
{
    char shown[48];
    at_errf(err, errlen, t->path, at->line, at->col, "%s[%llu]: found %s, expected %s", v->key[a],
            (unsigned long long)(v->index - 1), jk_describe(k, x, shown, sizeof shown), expected);
    return TR_BAD;
}

static int vllm_read(trace_src *t, trace_row *row, char *err, size_t errlen)
{
    vl_state *v = t->vl;
    jkind k[VL_NARR];
    double x[VL_NARR];
    jpos at[VL_NARR];
    int got[VL_NARR];
    for (;;) {
        if (!v->in_object) {
            int rc = vl_next_object(t, err, errlen);
            if (rc <= 0)
                return rc == 0 ? TR_END : TR_FATAL;
        }
        int any = 0, all = 1, ended = -1, longer = -1;
        for (int a = 0; a < VL_NARR; a++) {
            if (!v->have[a])
                continue;
            got[a] = vl_entry(t, &v->arr[a], &k[a], &x[a], &at[a], err, errlen);
            if (got[a] < 0)
                return TR_FATAL;
            any |= got[a];
            all &= got[a];
            if (got[a])
                longer = a;
            else
                ended = a;
        }
        if (!any) {
            /* The next object's requests follow on from this one's. */
            v->in_object = 0;
            v->base_s = v->obj_max_s;
            continue;
        }
        if (!all) {
            const jcur *c = &v->arr[ended];
            at_errf(err, errlen, t->path, c->line, c->col,
                    "'%s' has %llu entries but '%s' has more (expected arrays of equal length)",
                    v->key[ended], (unsigned long long)v->index, v->key[longer]);
            return TR_FATAL;
        }
        v->index++;
        break;
    }
    /* Times first, so that a failed request still moves the clock of the next object. */
    double rel = 0;
    if (v->have[VL_START]) {
        if (k[VL_START] != JK_NUMBER || fabs(x[VL_START]) > TRACE_MAX_TIME_S)
            return vl_bad(t, v, VL_START, &at[VL_START], k[VL_START], x[VL_START],
                          "a time in seconds", err, errlen);
        if (!v->have_t0) {
            v->have_t0 = 1;
            v->t0_s = x[VL_START];
        }
        rel = x[VL_START] - v->t0_s;
    } else if (v->rate_per_s > 0) {
        rel = (double)(v->index - 1) / v->rate_per_s;
    }
    double raw = v->base_s + rel;
    int tc = v->have[VL_START] ? VL_START : VL_IN;
    if (!(fabs(raw) <= TRACE_MAX_TIME_S)) {
        at_errf(err, errlen, t->path, at[tc].line, at[tc].col,
                "%s[%llu]: the request's time %g s is more than 1e12 s from the first", v->key[tc],
                (unsigned long long)(v->index - 1), raw);
        return TR_BAD;
    }
    if (raw > v->obj_max_s)
        v->obj_max_s = raw;
    for (int a = VL_IN; a <= VL_OUT; a++)
        if (k[a] != JK_NUMBER || x[a] < 0 || x[a] > REQSRC_MAX_TOKENS || x[a] != floor(x[a]))
            return vl_bad(t, v, a, &at[a], k[a], x[a], TOKENS_EXPECTED, err, errlen);
    /* vLLM writes output length 0 for a request that failed. */
    if (x[VL_OUT] == 0)
        return TR_SKIP;
    if (x[VL_IN] == 0)
        return vl_bad(t, v, VL_IN, &at[VL_IN], k[VL_IN], x[VL_IN], TOKENS_EXPECTED, err, errlen);
    row->t_s = raw;
    row->prompt_tokens = (uint32_t)x[VL_IN];
    row->output_tokens = (uint32_t)x[VL_OUT];
    row->cls = 0;
    row->line = at[tc].line;
    row->col = at[tc].col;
    return TR_ROW;
}

static void vllm_close(trace_src *t)
{
    if (t->vl == NULL)
        return;
    if (t->vl->main.fp)
        fclose(t->vl->main.fp);
    for (int a = 0; a < VL_NARR; a++)
        if (t->vl->arr[a].fp)
            fclose(t->vl->arr[a].fp);
    free(t->vl);
    t->vl = NULL;
}

/* --- the format table ------------------------------------------------------------------------ */

static const trace_fmt TRACE_FORMATS[] = {
    {TRACE_CAPSIM, "capsim", "a header arrival_s,prompt_tokens,output_tokens[,class]", 1,
     capsim_open, capsim_read, csv_close},
    {TRACE_AZURE, "azure", "a header TIMESTAMP,ContextTokens,GeneratedTokens", 1, azure_open,
     azure_read, csv_close},
    {TRACE_BURSTGPT, "burstgpt",
     "a header with Timestamp, Model, Request tokens, Response tokens, Total tokens, Log Type", 1,
     burstgpt_open, burstgpt_read, csv_close},
    {TRACE_MOONCAKE, "mooncake",
     "one JSON object per line with timestamp, input_length, output_length", 0, mooncake_open,
     mooncake_read, mooncake_close},
    {TRACE_VLLM, "vllm", "a vllm bench serve result object with input_lens and output_lens", 0,
     vllm_open, vllm_read, vllm_close},
};

static const trace_fmt *fmt_of(trace_format f)
{
    for (size_t i = 0; i < sizeof TRACE_FORMATS / sizeof TRACE_FORMATS[0]; i++)
        if (TRACE_FORMATS[i].format == f)
            return &TRACE_FORMATS[i];
    return NULL;
}

/* --- detection ------------------------------------------------------------------------------- */

typedef enum sniffed { SNIFF_EMPTY, SNIFF_CSV, SNIFF_MOONCAKE, SNIFF_VLLM } sniffed;

/* Which keys come first in text: 1 Mooncake, 2 vLLM, 0 neither. */
static int sniff_keys(const char *text)
{
    static const char *const keys[] = {"\"input_length\"", "\"output_length\"", "\"hash_ids\"",
                                       "\"input_lens\"",   "\"prompt_lens\"",   "\"output_lens\"",
                                       "\"request_rate\"", "\"duration\"",      "\"completed\""};
    const char *first = NULL;
    int which = 0;
    for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
        const char *p = strstr(text, keys[k]);
        if (p && (!first || p < first)) {
            first = p;
            which = k < 3 ? 1 : 2;
        }
    }
    return which;
}

/* Looks at the start of the file: blank, CSV, or a JSON object whose first line shows
 * Mooncake keys or vLLM result keys (whichever comes first). Returns -1 if unreadable. */
static int sniff(const char *path, sniffed *out, char *err, size_t errlen)
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
        /* Keys in the first line decide; failing that (a pretty-printed vLLM result), keys
         * anywhere in the bytes read. A NUL ends the search; the reader reports it. */
        char *nl = memchr(buf + i, '\n', n - i);
        if (nl)
            *nl = '\0';
        int which = sniff_keys(buf + i);
        if (which == 0 && nl) {
            *nl = '\n';
            which = sniff_keys(buf + i);
        }
        if (which == 0) /* a short first line is a JSONL row; a long one a result object */
            which = nl ? 1 : 2;
        *out = which == 1 ? SNIFF_MOONCAKE : SNIFF_VLLM;
    }
    free(buf);
    return 0;
}

/* With the header read, picks the CSV format from its column names. */
static const trace_fmt *csv_detect(const csvin *in)
{
    if (csvin_column(in, "arrival_s") >= 0 && csvin_column(in, "prompt_tokens") >= 0 &&
        csvin_column(in, "output_tokens") >= 0)
        return fmt_of(TRACE_CAPSIM);
    if (csvin_column(in, "TIMESTAMP") >= 0 && csvin_column(in, "ContextTokens") >= 0 &&
        csvin_column(in, "GeneratedTokens") >= 0)
        return fmt_of(TRACE_AZURE);
    if (csvin_column(in, "Timestamp") >= 0 && csvin_column(in, "Request tokens") >= 0 &&
        csvin_column(in, "Response tokens") >= 0)
        return fmt_of(TRACE_BURSTGPT);
    return NULL;
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

static int fail(trace_src *t, const char *msg, char *err, size_t errlen)
{
    t->failed = 1;
    str_copy(t->fail_msg, sizeof t->fail_msg, msg);
    one_line(t->fail_msg);
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
        int rc = t->fmt->read(t, &r, msg, sizeof msg);
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
                one_line(t->stats.first_bad[t->stats.rows_bad]);
            }
            t->stats.rows_bad++;
            continue;
        }
        if (t->have_read && r.t_s < t->max_read_s) {
            if (t->opt.strict) {
                at_errf(msg, sizeof msg, t->path, r.line, r.col,
                        "time %.9g s is earlier than %.9g s of the row before it (line %ld); "
                        "expected times in order (strict)",
                        r.t_s, t->max_read_s, t->max_read_line);
                return fail(t, msg, err, errlen);
            }
            if (t->have_released && r.t_s < t->last_released_s) {
                at_errf(msg, sizeof msg, t->path, r.line, r.col,
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
        int absolute = t->stats.format == TRACE_CAPSIM;
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
        t->stats.rows_kept++;
        return 1;
    }
}

static void trace_close(reqsrc *s)
{
    trace_src *t = (trace_src *)s;
    if (t->fmt)
        t->fmt->close(t);
    csvin_close(t->csv); /* when detection opened it but no format took it */
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

static reqsrc *open_trace(const char *path, const trace_options *opt, char *err, size_t errlen);

reqsrc *trace_open(const char *path, const trace_options *opt, char *err, size_t errlen)
{
    reqsrc *src = open_trace(path, opt, err, errlen);
    if (src == NULL && err != NULL && errlen > 0)
        one_line(err);
    return src;
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

    trace_format want = t->opt.format;
    if (want != TRACE_AUTO && fmt_of(want) == NULL) {
        util_errf(err, errlen, "%s: unknown trace format %d", path, (int)want);
        trace_close(&t->base);
        return NULL;
    }
    sniffed kind;
    if (sniff(path, &kind, err, errlen) != 0) {
        trace_close(&t->base);
        return NULL;
    }
    if (kind == SNIFF_EMPTY) {
        util_errf(err, errlen, "%s:1:1: empty file (expected a %s trace: %s)", path,
                  want == TRACE_AUTO ? "capsim, azure, burstgpt, mooncake or vllm"
                                     : trace_format_name(want),
                  want == TRACE_AUTO ? "a CSV header or JSON" : fmt_of(want)->expected);
        trace_close(&t->base);
        return NULL;
    }
    const trace_fmt *fmt = NULL;
    if (want != TRACE_AUTO)
        fmt = fmt_of(want);
    if (fmt && fmt->is_csv && (kind == SNIFF_MOONCAKE || kind == SNIFF_VLLM)) {
        util_errf(err, errlen, "%s:1:1: found a JSON object, expected a CSV trace (%s) with %s",
                  path, fmt->name, fmt->expected);
        trace_close(&t->base);
        return NULL;
    } else if (kind == SNIFF_MOONCAKE)
        fmt = fmt_of(TRACE_MOONCAKE);
    else if (kind == SNIFF_VLLM)
        fmt = fmt_of(TRACE_VLLM);
    if (fmt == NULL || fmt->is_csv) {
        t->csv = csvin_open(path, err, errlen);
        if (t->csv == NULL) {
            trace_close(&t->base);
            return NULL;
        }
        int rc = csvin_read_header(t->csv);
        if (rc != 1) {
            if (rc == 0)
                util_errf(err, errlen, "%s:1:1: empty file (expected %s)", path,
                          fmt ? fmt->expected : "a CSV header");
            else
                util_errf(err, errlen, "%s", csvin_error(t->csv));
            trace_close(&t->base);
            return NULL;
        }
        t->ncols = csvin_nfields(t->csv);
        if (fmt == NULL) {
            fmt = csv_detect(t->csv);
            if (fmt == NULL) {
                char shown[128];
                char header[256] = "";
                size_t len = 0;
                for (size_t i = 0; i < t->ncols && len + 2 < sizeof header; i++)
                    len += (size_t)snprintf(header + len, sizeof header - len, "%s%s", i ? "," : "",
                                            csvin_header(t->csv, i));
                util_printable(header, shown, sizeof shown);
                util_errf(err, errlen,
                          "%s:%ld:1: unrecognised trace header '%s' (expected capsim "
                          "arrival_s,prompt_tokens,output_tokens; azure "
                          "TIMESTAMP,ContextTokens,GeneratedTokens; burstgpt with Timestamp, "
                          "Request tokens, Response tokens; or JSON)",
                          path, csvin_header_line(t->csv), shown);
                trace_close(&t->base);
                return NULL;
            }
        }
    }
    t->fmt = fmt;
    t->stats.format = fmt->format;
    if (fmt->open(t, err, errlen) != 0) {
        trace_close(&t->base);
        return NULL;
    }
    return &t->base;
}
