/*
 * trace_mooncake: the Mooncake traces, JSON lines: one object a line with `timestamp`
 * (milliseconds), `input_length`, `output_length` and an optional `hash_ids` array (not
 * used). A line is held whole, up to TRACE_MAX_JSON_LINE bytes; a longer one, a NUL byte or
 * malformed JSON is a bad row, and reading goes on at the next line.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "sim/base/util.h"
#include "workloads/trace_reader.h"

/* The open file, the line being read and the JSON parser. */
typedef struct mc_state {
    FILE *fp;
    char *line;
    size_t line_cap;
    long lineno;
    json_tokener *tok;
} mc_state;

/* Reads the next physical line into m->line (NUL-terminated, without "\n"), never
 * holding more than TRACE_MAX_JSON_LINE bytes. Returns the length, -1 at end of file,
 * -2 when the line is too long (the rest of it is skipped), -3 out of memory, -4 on a
 * read error. */
static long jl_read_line(mc_state *m)
{
    if (m->line == NULL) {
        m->line_cap = 4096;
        m->line = malloc(m->line_cap);
        if (m->line == NULL)
            return -3;
    }
    size_t n = 0;
    int c, any = 0, too_long = 0;
    while ((c = getc_unlocked(m->fp)) != EOF) {
        any = 1;
        if (c == '\n')
            break;
        if (too_long)
            continue;
        if (n >= TRACE_MAX_JSON_LINE) {
            too_long = 1;
            continue;
        }
        if (n + 1 >= m->line_cap) {
            size_t cap = m->line_cap * 2 < TRACE_MAX_JSON_LINE + 1 ? m->line_cap * 2
                                                                   : TRACE_MAX_JSON_LINE + 1;
            char *p = realloc(m->line, cap);
            if (p == NULL)
                return -3;
            m->line = p;
            m->line_cap = cap;
        }
        m->line[n++] = (char)c;
    }
    if (ferror(m->fp))
        return -4;
    if (!any)
        return -1;
    m->lineno++;
    m->line[n] = '\0';
    if (too_long)
        return -2;
    return (long)n;
}

static int mooncake_open(trace_reader *r, char *err, size_t errlen)
{
    mc_state *m = calloc(1, sizeof *m);
    if (m == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    r->state = m;
    m->fp = fopen(r->path, "rb");
    if (m->fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", r->path, strerror(errno));
        return -1;
    }
    m->tok = json_tokener_new();
    if (m->tok == NULL) {
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
static int mc_number(trace_reader *r, json_object *obj, const char *line, const char *key,
                     double lo, double hi, int whole, const char *expected, double *out, char *err,
                     size_t errlen)
{
    const mc_state *m = r->state;
    json_object *v;
    if (!json_object_object_get_ex(obj, key, &v)) {
        trace_errf(err, errlen, r->path, m->lineno, 1,
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
        trace_errf(err, errlen, r->path, m->lineno, key_col(line, key),
                   "key '%s': found %s, expected %s", key, shown, expected);
        return -1;
    }
    *out = x;
    return 0;
}

static int mooncake_read(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    mc_state *m = r->state;
    char *p;
    size_t len;
    for (;;) {
        long n = jl_read_line(m);
        if (n == -1)
            return TR_END;
        if (n == -2) {
            trace_errf(err, errlen, r->path, m->lineno, 1,
                       "line longer than %u bytes (expected one JSON object per line)",
                       TRACE_MAX_JSON_LINE);
            return TR_BAD;
        }
        if (n < -2) {
            util_errf(err, errlen, "%s:%ld: %s", r->path, m->lineno + 1,
                      n == -3 ? "out of memory" : "read error");
            return TR_FATAL;
        }
        p = m->line;
        len = (size_t)n;
        if (m->lineno == 1 && len >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3;
            len -= 3;
        }
        const char *nul = memchr(p, '\0', len);
        if (nul != NULL) {
            trace_errf(err, errlen, r->path, m->lineno, (long)(nul - m->line) + 1,
                       "NUL byte (binary data, expected a JSON object)");
            return TR_BAD;
        }
        if (strspn(p, " \t\r") != len)
            break;
    }
    json_tokener_reset(m->tok);
    /* The terminating NUL goes in too: it ends a bare number, and an object left open at
     * the end of the line becomes an "unexpected end of data" error. */
    json_object *obj = json_tokener_parse_ex(m->tok, p, (int)len + 1);
    enum json_tokener_error je = json_tokener_get_error(m->tok);
    long col0 = (long)(p - m->line) + 1;
    if (obj == NULL || je != json_tokener_success) {
        if (je == json_tokener_continue || je == json_tokener_error_parse_eof)
            trace_errf(err, errlen, r->path, m->lineno, col0 + (long)len,
                       "the line ends inside a JSON value (truncated? expected one complete "
                       "JSON object per line)");
        else
            trace_errf(err, errlen, r->path, m->lineno,
                       col0 + (long)json_tokener_get_parse_end(m->tok),
                       "malformed JSON (%s; expected one JSON object per line)",
                       json_tokener_error_desc(je));
        json_object_put(obj);
        return TR_BAD;
    }
    size_t end = json_tokener_get_parse_end(m->tok);
    end += strspn(p + end, " \t\r");
    if (end < len) {
        trace_errf(err, errlen, r->path, m->lineno, col0 + (long)end,
                   "unexpected text after the JSON object (expected one object per line)");
        json_object_put(obj);
        return TR_BAD;
    }
    int rc = TR_BAD;
    double ts, in, out;
    json_object *hash;
    if (!json_object_is_type(obj, json_type_object)) {
        trace_errf(err, errlen, r->path, m->lineno, col0, "found a JSON %s, expected an object",
                   json_type_to_name(json_object_get_type(obj)));
    } else if (mc_number(r, obj, p, "timestamp", 0, TRACE_MAX_TIME_S * 1000, 0, "milliseconds >= 0",
                         &ts, err, errlen) == 0 &&
               mc_number(r, obj, p, "input_length", 1, REQSRC_MAX_TOKENS, 1, TRACE_TOKENS_EXPECTED,
                         &in, err, errlen) == 0 &&
               mc_number(r, obj, p, "output_length", 1, REQSRC_MAX_TOKENS, 1, TRACE_TOKENS_EXPECTED,
                         &out, err, errlen) == 0) {
        if (json_object_object_get_ex(obj, "hash_ids", &hash) &&
            !json_object_is_type(hash, json_type_array)) {
            trace_errf(err, errlen, r->path, m->lineno, key_col(p, "hash_ids"),
                       "key 'hash_ids': found a JSON %s, expected an array",
                       json_type_to_name(json_object_get_type(hash)));
        } else {
            row->t_s = ts / 1000;
            row->prompt_tokens = (uint32_t)in;
            row->output_tokens = (uint32_t)out;
            row->cls = 0;
            row->line = m->lineno;
            row->col = key_col(p, "timestamp");
            rc = TR_ROW;
        }
    }
    json_object_put(obj);
    return rc;
}

static void mooncake_close(trace_reader *r)
{
    mc_state *m = r->state;
    if (m == NULL)
        return;
    if (m->fp)
        fclose(m->fp);
    if (m->tok)
        json_tokener_free(m->tok);
    free(m->line);
}

static const char *const MOONCAKE_KEYS[] = {"\"input_length\"", "\"output_length\"", "\"hash_ids\"",
                                            NULL};

const trace_format_def trace_format_mooncake = {
    .name = "mooncake",
    .title = "Mooncake JSONL",
    .expected = "one JSON object per line with timestamp, input_length, output_length",
    .json_keys = MOONCAKE_KEYS,
    .json_lines = 1,
    .open = mooncake_open,
    .read = mooncake_read,
    .close = mooncake_close,
};
