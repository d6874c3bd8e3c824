/*
 * trace_util: what the trace formats share (see trace_reader.h): messages that name the
 * place in the file, the number and timestamp parsers, and the CSV field readers.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/base/util.h"
#include "workloads/trace_reader.h"

static int is_digit(int c)
{
    return c >= '0' && c <= '9';
}

/* Whole number in [lo, hi]: digits, optionally '.' and zeros, spaces around allowed. */
int trace_parse_whole(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
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
int trace_parse_seconds(const char *s, double lo, double hi, double *out)
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

/* Writes "path:line:col: <fmt>" into err. */
void trace_errf(char *err, size_t errlen, const char *path, long line, long col, const char *fmt,
                ...)
{
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    util_errf(err, errlen, "%s:%ld:%ld: %s", path, line, col, msg);
}

/* Reports a bad value in column c of the current record. */
int trace_csv_bad(trace_reader *r, int c, const char *expected, char *err, size_t errlen)
{
    char shown[64];
    util_printable(csvin_field(r->csv, (size_t)c), shown, sizeof shown);
    trace_errf(err, errlen, r->path, csvin_line(r->csv), (long)c + 1,
               "column '%s': found '%s', expected %s", csvin_header(r->csv, (size_t)c), shown,
               expected);
    return TR_BAD;
}

/* Reads the next record and checks its field count. */
int trace_csv_next_record(trace_reader *r, char *err, size_t errlen)
{
    int rc = csvin_next(r->csv);
    if (rc < 0) {
        util_errf(err, errlen, "%s", csvin_error(r->csv));
        return TR_FATAL;
    }
    if (rc == 0)
        return TR_END;
    size_t n = csvin_nfields(r->csv);
    if (n < r->ncols) {
        trace_errf(err, errlen, r->path, csvin_line(r->csv), (long)n + 1,
                   "column '%s' is missing: the row has %zu fields, expected %zu as in the header",
                   csvin_header(r->csv, n), n, r->ncols);
        return TR_BAD;
    }
    if (n > r->ncols) {
        trace_errf(err, errlen, r->path, csvin_line(r->csv), (long)r->ncols + 1,
                   "the row has %zu fields, expected %zu as in the header", n, r->ncols);
        return TR_BAD;
    }
    return TR_ROW;
}

int trace_csv_tokens(trace_reader *r, int c, uint64_t lo, uint32_t *out, char *err, size_t errlen)
{
    uint64_t v;
    if (trace_parse_whole(csvin_field(r->csv, (size_t)c), lo, REQSRC_MAX_TOKENS, &v) != 0)
        return trace_csv_bad(r, c,
                             lo == 0 ? "a whole number from 0 to 10000000" : TRACE_TOKENS_EXPECTED,
                             err, errlen);
    *out = (uint32_t)v;
    return 0;
}

int trace_csv_seconds(trace_reader *r, int c, double *out, char *err, size_t errlen)
{
    if (trace_parse_seconds(csvin_field(r->csv, (size_t)c), 0, TRACE_MAX_TIME_S, out) != 0)
        return trace_csv_bad(r, c, "a number of seconds >= 0", err, errlen);
    return 0;
}

/* Finds the columns names[0..n) in the header; required[k] says which must be there. */
int trace_csv_columns(trace_reader *r, const char *const *names, const int *required, int n,
                      char *err, size_t errlen)
{
    for (int k = 0; k < n; k++) {
        r->col[k] = csvin_column(r->csv, names[k]);
        if (r->col[k] < 0 && required[k]) {
            trace_errf(err, errlen, r->path, csvin_header_line(r->csv), 1,
                       "the header has no column '%s' (expected %s)", names[k], r->fmt->expected);
            return -1;
        }
    }
    return 0;
}

void trace_csv_row_at(trace_reader *r, trace_row *row, int time_col)
{
    row->line = csvin_line(r->csv);
    row->col = (long)time_col + 1;
    row->cls = 0;
}
