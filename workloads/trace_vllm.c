/*
 * trace_vllm: the JSON that `vllm bench serve --save-result --save-detailed` writes (or
 * several such objects, one after another, as --append-result writes): arrays
 * `input_lens` (older spelling `prompt_lens`) and `output_lens`, and for the arrival times
 * `start_times` (seconds on any clock, relative to the object's first entry) or else
 * `request_rate`: entry i at i / rate when it is a finite number, all at once when it is
 * "inf", Infinity, null or absent. The requests of each further object follow on from the
 * latest arrival of the one before. Python's NaN and Infinity are accepted anywhere; in a
 * field the reader needs they make the entry bad. Entries with output length 0 are
 * requests that failed during the benchmark: read, but not kept. A vLLM object is checked
 * whole before its first request is returned; broken or truncated JSON is always an error.
 *
 * The file is read by a JSON cursor of its own, not parsed whole, so memory stays constant:
 * one cursor walks the top-level objects, checking each whole and noting where its arrays
 * start, and one cursor per array then reads the entries in step.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "sim/base/util.h"
#include "workloads/trace_reader.h"

/* Deepest JSON nesting accepted in a vLLM result (its deepest real value is 2: itls). */
#define TRACE_JSON_MAX_DEPTH 64

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

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

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

__attribute__((format(printf, 5, 6))) static int jc_err(trace_reader *r, const jcur *c, char *err,
                                                        size_t errlen, const char *fmt, ...)
{
    char msg[300];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    util_errf(err, errlen, "%s:%ld:%ld: %s", r->path, c->line, c->col, msg);
    return -1;
}

static int jc_expected(trace_reader *r, jcur *c, const char *what, char *err, size_t errlen)
{
    char found[48];
    return jc_err(r, c, err, errlen, "found %s, expected %s",
                  jc_found(jc_peek(c), found, sizeof found), what);
}

/* Reads a string at '"', keeping its first cap - 1 bytes in buf (escapes kept as the
 * escaped letter; only keys are compared, and the keys that matter have none). */
static int jc_string(trace_reader *r, jcur *c, char *buf, size_t cap, char *err, size_t errlen)
{
    size_t n = 0;
    jc_adv(c); /* '"' */
    for (;;) {
        int ch = jc_peek(c);
        if (ch == EOF || ch < 0x20)
            return jc_expected(r, c, "the rest of a string and its closing '\"'", err, errlen);
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
                        return jc_expected(r, c, "4 hex digits after \\u", err, errlen);
                    jc_adv(c);
                }
                ch = '?';
            } else if (ch != EOF && strchr("\"\\/bfnrt", ch) != NULL) {
                jc_adv(c);
            } else {
                return jc_expected(r, c, "an escape \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX", err,
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
static int jc_scalar(trace_reader *r, jcur *c, jkind *kind, double *num, char *err, size_t errlen)
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
            return jc_err(r, &start, err, errlen, "a number or literal longer than %zu bytes",
                          sizeof tok - 2);
        tok[n++] = (char)ch;
        jc_adv(c);
    }
    tok[n] = '\0';
    *num = 0;
    if (n == 0)
        return jc_expected(r, c, "a JSON value", err, errlen);
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
        return jc_err(r, &start, err, errlen, "found '%s', expected a JSON value", shown);
    }
    return 0;
}

/* Reads (and checks) any value; *kind says what it was, *num holds a number. */
static int jc_value(trace_reader *r, jcur *c, int depth, jkind *kind, double *num, char *err,
                    size_t errlen)
{
    int ch = jc_ws(c);
    jkind inner;
    double x;
    *num = 0;
    if (depth > TRACE_JSON_MAX_DEPTH)
        return jc_err(r, c, err, errlen, "JSON nested more than %d deep", TRACE_JSON_MAX_DEPTH);
    if (ch == '"') {
        *kind = JK_STRING;
        return jc_string(r, c, NULL, 0, err, errlen);
    }
    if (ch == '[') {
        *kind = JK_ARRAY;
        jc_adv(c);
        if (jc_ws(c) == ']') {
            jc_adv(c);
            return 0;
        }
        for (;;) {
            if (jc_value(r, c, depth + 1, &inner, &x, err, errlen) != 0)
                return -1;
            ch = jc_ws(c);
            if (ch != ',' && ch != ']')
                return jc_expected(r, c, "',' or ']'", err, errlen);
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
                return jc_expected(r, c, "a key string", err, errlen);
            if (jc_string(r, c, NULL, 0, err, errlen) != 0)
                return -1;
            if (jc_ws(c) != ':')
                return jc_expected(r, c, "':'", err, errlen);
            jc_adv(c);
            if (jc_value(r, c, depth + 1, &inner, &x, err, errlen) != 0)
                return -1;
            ch = jc_ws(c);
            if (ch != ',' && ch != '}')
                return jc_expected(r, c, "',' or '}'", err, errlen);
            jc_adv(c);
            if (ch == '}')
                return 0;
        }
    }
    return jc_scalar(r, c, kind, num, err, errlen);
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

static int vllm_open(trace_reader *r, char *err, size_t errlen)
{
    vl_state *v = calloc(1, sizeof *v);
    r->state = v;
    if (v == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    jcur *m = &v->main;
    m->fp = fopen(r->path, "rb");
    if (m->fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", r->path, strerror(errno));
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
static int vl_rate(trace_reader *r, jcur *c, double *rate, char *err, size_t errlen)
{
    jcur at = *c;
    jkind k;
    double x;
    char s[32];
    if (jc_ws(c) == '"') {
        if (jc_string(r, c, s, sizeof s, err, errlen) != 0)
            return -1;
        if (strcmp(s, "inf") == 0 || strcmp(s, "Infinity") == 0 || strcmp(s, "infinity") == 0) {
            *rate = 0;
            return 0;
        }
        if (trace_parse_seconds(s, 0, HUGE_VAL, &x) == 0 && x > 0) {
            *rate = x;
            return 0;
        }
        char shown[48];
        util_printable(s, shown, sizeof shown);
        return jc_err(r, &at, err, errlen,
                      "key 'request_rate': found \"%s\", expected a number > 0 or \"inf\"", shown);
    }
    if (jc_value(r, c, 1, &k, &x, err, errlen) != 0)
        return -1;
    if (k == JK_INF || k == JK_NULL || k == JK_NAN || (k == JK_NUMBER && x > 0)) {
        *rate = k == JK_NUMBER ? x : 0;
        return 0;
    }
    char shown[48];
    return jc_err(r, &at, err, errlen,
                  "key 'request_rate': found %s, expected a number > 0 or \"inf\"",
                  jk_describe(k, x, shown, sizeof shown));
}

/* Walks the next top-level object, noting where its arrays start. Returns 1 with the
 * array cursors set at their first entry, 0 at end of file, -1 on error. */
static int vl_next_object(trace_reader *r, char *err, size_t errlen)
{
    vl_state *v = r->state;
    jcur *m = &v->main;
    jpos pos[VL_NARR];
    int first[VL_NARR] = {0, 0, 0};
    int have_input_lens = 0;
    char key[32];
    int ch = jc_ws(m);
    if (ch == EOF)
        return 0;
    if (ch != '{')
        return jc_expected(r, m, "'{' starting a vLLM result object", err, errlen);
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
                return jc_expected(r, m, "a key string", err, errlen);
            if (jc_string(r, m, key, sizeof key, err, errlen) != 0)
                return -1;
            if (jc_ws(m) != ':')
                return jc_expected(r, m, "':'", err, errlen);
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
                if (vl_rate(r, m, &v->rate_per_s, err, errlen) != 0)
                    return -1;
            } else {
                jc_ws(m);
                if (which >= 0) {
                    if (jc_tell(m, &pos[which]) != 0)
                        return jc_err(r, m, err, errlen, "cannot tell the file position");
                    v->have[which] = 1;
                    first[which] = jc_peek(m);
                    snprintf(v->key[which], sizeof v->key[which], "%s", key);
                }
                if (jc_value(r, m, 1, &k, &x, err, errlen) != 0)
                    return -1;
            }
            ch = jc_ws(m);
            if (ch != ',' && ch != '}')
                return jc_expected(r, m, "',' or '}'", err, errlen);
            jc_adv(m);
            if (ch == '}')
                break;
        }
    }
    static const char *const what[VL_NARR] = {"input_lens (or prompt_lens)", "output_lens",
                                              "start_times"};
    for (int a = 0; a < VL_NARR; a++) {
        if (!v->have[a] && a != VL_START) {
            trace_errf(err, errlen, r->path, v->obj_line, v->obj_col,
                       "the result object has no key %s (expected the output of vllm bench serve "
                       "--save-result --save-detailed)",
                       what[a]);
            return -1;
        }
        if (!v->have[a])
            continue;
        if (first[a] != '[') {
            trace_errf(err, errlen, r->path, pos[a].line, pos[a].col,
                       "key '%s': expected an array, one entry per request", v->key[a]);
            return -1;
        }
        jcur *c = &v->arr[a];
        if (c->fp == NULL) {
            c->fp = fopen(r->path, "rb");
            if (c->fp == NULL) {
                util_errf(err, errlen, "%s: cannot open: %s", r->path, strerror(errno));
                return -1;
            }
        }
        if (jc_seek(c, &pos[a]) != 0) {
            util_errf(err, errlen, "%s: cannot seek: %s", r->path, strerror(errno));
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
static int vl_entry(trace_reader *r, jcur *c, jkind *kind, double *num, jpos *at, char *err,
                    size_t errlen)
{
    int ch = jc_ws(c);
    if (ch == ']')
        return 0;
    at->line = c->line;
    at->col = c->col;
    if (jc_value(r, c, 1, kind, num, err, errlen) != 0)
        return -1;
    ch = jc_ws(c);
    if (ch == ',')
        jc_adv(c);
    else if (ch != ']')
        return jc_expected(r, c, "',' or ']'", err, errlen);
    return 1;
}

static int vl_bad(trace_reader *r, const vl_state *v, int a, const jpos *at, jkind k, double x,
                  const char *expected, char *err, size_t errlen)
{
    char shown[48];
    trace_errf(err, errlen, r->path, at->line, at->col, "%s[%llu]: found %s, expected %s",
               v->key[a], (unsigned long long)(v->index - 1),
               jk_describe(k, x, shown, sizeof shown), expected);
    return TR_BAD;
}

static int vllm_read(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    vl_state *v = r->state;
    jkind k[VL_NARR];
    double x[VL_NARR];
    jpos at[VL_NARR];
    int got[VL_NARR];
    for (;;) {
        if (!v->in_object) {
            int rc = vl_next_object(r, err, errlen);
            if (rc <= 0)
                return rc == 0 ? TR_END : TR_FATAL;
        }
        int any = 0, all = 1, ended = -1, longer = -1;
        for (int a = 0; a < VL_NARR; a++) {
            if (!v->have[a])
                continue;
            got[a] = vl_entry(r, &v->arr[a], &k[a], &x[a], &at[a], err, errlen);
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
            trace_errf(err, errlen, r->path, c->line, c->col,
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
            return vl_bad(r, v, VL_START, &at[VL_START], k[VL_START], x[VL_START],
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
        trace_errf(err, errlen, r->path, at[tc].line, at[tc].col,
                   "%s[%llu]: the request's time %g s is more than 1e12 s from the first",
                   v->key[tc], (unsigned long long)(v->index - 1), raw);
        return TR_BAD;
    }
    if (raw > v->obj_max_s)
        v->obj_max_s = raw;
    for (int a = VL_IN; a <= VL_OUT; a++)
        if (k[a] != JK_NUMBER || x[a] < 0 || x[a] > REQSRC_MAX_TOKENS || x[a] != floor(x[a]))
            return vl_bad(r, v, a, &at[a], k[a], x[a], TRACE_TOKENS_EXPECTED, err, errlen);
    /* vLLM writes output length 0 for a request that failed. */
    if (x[VL_OUT] == 0)
        return TR_SKIP;
    if (x[VL_IN] == 0)
        return vl_bad(r, v, VL_IN, &at[VL_IN], k[VL_IN], x[VL_IN], TRACE_TOKENS_EXPECTED, err,
                      errlen);
    row->t_s = raw;
    row->prompt_tokens = (uint32_t)x[VL_IN];
    row->output_tokens = (uint32_t)x[VL_OUT];
    row->cls = 0;
    row->line = at[tc].line;
    row->col = at[tc].col;
    return TR_ROW;
}

static void vllm_close(trace_reader *r)
{
    vl_state *v = r->state;
    if (v == NULL)
        return;
    if (v->main.fp)
        fclose(v->main.fp);
    for (int a = 0; a < VL_NARR; a++)
        if (v->arr[a].fp)
            fclose(v->arr[a].fp);
}

static const char *const VLLM_KEYS[] = {"\"input_lens\"",
                                        "\"prompt_lens\"",
                                        "\"output_lens\"",
                                        "\"request_rate\"",
                                        "\"duration\"",
                                        "\"completed\"",
                                        NULL};

const trace_format_def trace_format_vllm = {
    .name = "vllm",
    .title = "vLLM bench JSON",
    .expected = "a vllm bench serve result object with input_lens and output_lens",
    .json_keys = VLLM_KEYS,
    .open = vllm_open,
    .read = vllm_read,
    .close = vllm_close,
};
