/*
 * csvin: line-numbered streaming CSV reading on libcsv (see csvin.h).
 *
 * The file is fed to libcsv one physical line at a time, so the reader always knows the
 * line a record started on; a record with a quoted newline simply spans several lines.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/base/csvin.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <csv.h>

#include "sim/base/util.h"

#define CSVIN_CHUNK (1u << 16)

/* Fields of one record. The string buffers are kept between records and reused, so
 * reading a file allocates only while fields grow past what earlier rows needed. */
typedef struct strvec {
    char **s;
    size_t *size; /* bytes allocated for s[i] */
    size_t n, cap;
} strvec;

struct csvin {
    FILE *fp;
    char path[4096]; /* PATH_MAX */
    struct csv_parser parser;
    char *line;
    size_t line_cap;
    char *buf; /* read-ahead chunk */
    size_t buf_pos, buf_len;
    long lineno;      /* physical lines read so far */
    long record_line; /* line the record being built started on */
    int fresh;        /* no record is part-way through (the next line starts one) */
    long header_line; /* line the header started on */
    int eof;
    strvec cur;  /* fields of the record being built */
    strvec done; /* the last complete record */
    long done_line;
    int have_done;
    strvec header;
    char err[512];
    int failed;
};

static void strvec_clear(strvec *v)
{
    v->n = 0;
}

static void strvec_free(strvec *v)
{
    for (size_t i = 0; i < v->cap; i++)
        free(v->s[i]);
    free(v->s);
    free(v->size);
    v->s = NULL;
    v->size = NULL;
    v->n = v->cap = 0;
}

static int strvec_push(strvec *v, const char *data, size_t len)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        char **p = realloc(v->s, cap * sizeof *p);
        if (p == NULL)
            return -1;
        v->s = p;
        size_t *q = realloc(v->size, cap * sizeof *q);
        if (q == NULL)
            return -1;
        v->size = q;
        for (size_t i = v->cap; i < cap; i++) {
            v->s[i] = NULL;
            v->size[i] = 0;
        }
        v->cap = cap;
    }
    size_t i = v->n;
    if (v->size[i] < len + 1) {
        size_t want = len + 1 < 32 ? 32 : len + 1;
        char *p = realloc(v->s[i], want);
        if (p == NULL)
            return -1;
        v->s[i] = p;
        v->size[i] = want;
    }
    memcpy(v->s[i], data, len);
    v->s[i][len] = '\0';
    v->n++;
    return 0;
}

static void on_field(void *data, size_t len, void *ctx)
{
    csvin *r = ctx;
    if (strvec_push(&r->cur, data ? data : "", data ? len : 0) != 0 && !r->failed) {
        util_errf(r->err, sizeof r->err, "%s:%ld: out of memory", r->path, r->lineno);
        r->failed = 1;
    }
}

static void on_record(int term, void *ctx)
{
    (void)term;
    csvin *r = ctx;
    /* A blank line gives a record of one empty field (or none); skip it. */
    int blank = r->cur.n == 0 || (r->cur.n == 1 && r->cur.s[0][0] == '\0');
    if (!blank) {
        strvec t = r->done;
        r->done = r->cur;
        r->cur = t;
        r->done_line = r->record_line;
        r->have_done = 1;
    }
    strvec_clear(&r->cur);
    r->fresh = 1;
}

csvin *csvin_open(const char *path, char *err, size_t errlen)
{
    csvin *r = calloc(1, sizeof *r);
    if (r == NULL) {
        util_errf(err, errlen, "out of memory");
        return NULL;
    }
    snprintf(r->path, sizeof r->path, "%s", path);
    r->fp = fopen(path, "rb");
    if (r->fp == NULL) {
        util_errf(err, errlen, "%s: cannot open: %s", path, strerror(errno));
        free(r);
        return NULL;
    }
    r->fresh = 1;
    /* Strict: a stray quote inside a field, or a quote left open at the end, is an error
     * rather than text silently joined to the next record. */
    if (csv_init(&r->parser, CSV_APPEND_NULL | CSV_STRICT | CSV_STRICT_FINI) != 0) {
        util_errf(err, errlen, "out of memory");
        fclose(r->fp);
        free(r);
        return NULL;
    }
    return r;
}

/* Reads one physical line (with its newline) into r->line, never more than
 * CSVIN_MAX_LINE + 1 bytes, so a file without newlines cannot exhaust memory. Returns the
 * length, 0 at end of file, -1 when the line is too long. */
static long read_line(csvin *r)
{
    if (r->line == NULL) {
        r->line_cap = 4096;
        r->line = malloc(r->line_cap);
        r->buf = malloc(CSVIN_CHUNK);
        if (r->line == NULL || r->buf == NULL)
            return -2;
    }
    /* Copy from the read-ahead chunk up to and including the next newline, refilling the
     * chunk with fread as needed; memchr finds the newline, so most lines cost one scan
     * and one copy. */
    size_t n = 0;
    for (;;) {
        if (r->buf_pos == r->buf_len) {
            r->buf_len = fread(r->buf, 1, CSVIN_CHUNK, r->fp);
            r->buf_pos = 0;
            if (r->buf_len == 0)
                break;
        }
        const char *start = r->buf + r->buf_pos;
        size_t avail = r->buf_len - r->buf_pos;
        const char *nl = memchr(start, '\n', avail);
        size_t take = nl ? (size_t)(nl - start) + 1 : avail;
        if (n + take + 1 > r->line_cap) {
            if (n + take > CSVIN_MAX_LINE)
                return -1;
            size_t cap = r->line_cap;
            while (cap < n + take + 1)
                cap *= 2;
            char *p = realloc(r->line, cap);
            if (p == NULL)
                return -2;
            r->line = p;
            r->line_cap = cap;
        }
        memcpy(r->line + n, start, take);
        n += take;
        r->buf_pos += take;
        if (nl)
            break;
    }
    r->line[n] = '\0';
    return (long)n;
}

int csvin_next(csvin *r)
{
    if (r->failed)
        return -1;
    r->have_done = 0;
    while (!r->have_done) {
        if (r->eof)
            return 0;
        long len = read_line(r);
        if (len == 0) {
            if (ferror(r->fp)) {
                util_errf(r->err, sizeof r->err, "%s: read error: %s", r->path, strerror(errno));
                r->failed = 1;
                return -1;
            }
            r->eof = 1;
            /* Flush a last record without a trailing newline; an open quote is an error. */
            if (csv_fini(&r->parser, on_field, on_record, r) != 0) {
                util_errf(r->err, sizeof r->err, "%s:%ld: quoted field opened here is never closed",
                          r->path, r->record_line);
                r->failed = 1;
                return -1;
            }
            break;
        }
        r->lineno++;
        if (len < 0) {
            if (len == -2)
                util_errf(r->err, sizeof r->err, "%s:%ld: out of memory", r->path, r->lineno);
            else
                util_errf(r->err, sizeof r->err, "%s:%ld: line longer than %u bytes", r->path,
                          r->lineno, CSVIN_MAX_LINE);
            r->failed = 1;
            return -1;
        }
        char *p = r->line;
        size_t n = (size_t)len;
        if (r->lineno == 1 && n >= 3 && memcmp(p, "\xEF\xBB\xBF", 3) == 0) {
            p += 3; /* UTF-8 byte-order mark */
            n -= 3;
        }
        if (memchr(p, '\0', n) != NULL) {
            util_errf(r->err, sizeof r->err, "%s:%ld: NUL byte (binary data, not CSV text)",
                      r->path, r->lineno);
            r->failed = 1;
            return -1;
        }
        /* A record starts on the first non-blank line after the previous one ended. */
        int blank = strspn(p, " \t\r\n") == n;
        if (r->fresh && !blank) {
            r->record_line = r->lineno;
            r->fresh = 0;
        }
        if (csv_parse(&r->parser, p, n, on_field, on_record, r) != n) {
            util_errf(r->err, sizeof r->err, "%s:%ld: malformed CSV (%s)", r->path, r->lineno,
                      csv_strerror(csv_error(&r->parser)));
            r->failed = 1;
            return -1;
        }
        if (r->failed)
            return -1;
    }
    return r->have_done ? 1 : 0;
}

size_t csvin_nfields(const csvin *r)
{
    return r->done.n;
}

const char *csvin_field(const csvin *r, size_t i)
{
    return i < r->done.n ? r->done.s[i] : "";
}

long csvin_line(const csvin *r)
{
    return r->done_line;
}

long csvin_header_line(const csvin *r)
{
    return r->header_line;
}

const char *csvin_path(const csvin *r)
{
    return r->path;
}

const char *csvin_error(const csvin *r)
{
    return r->err;
}

int csvin_read_header(csvin *r)
{
    int rc = csvin_next(r);
    if (rc != 1)
        return rc;
    r->header_line = r->done_line;
    strvec_clear(&r->header);
    for (size_t i = 0; i < r->done.n; i++) {
        const char *s = r->done.s[i];
        size_t b = 0, e = strlen(s);
        while (b < e && (s[b] == ' ' || s[b] == '\t'))
            b++;
        while (e > b && (s[e - 1] == ' ' || s[e - 1] == '\t' || s[e - 1] == '\r'))
            e--;
        if (strvec_push(&r->header, s + b, e - b) != 0) {
            util_errf(r->err, sizeof r->err, "out of memory");
            r->failed = 1;
            return -1;
        }
    }
    return 1;
}

int csvin_column(const csvin *r, const char *name)
{
    for (size_t i = 0; i < r->header.n; i++)
        if (strcmp(r->header.s[i], name) == 0)
            return (int)i;
    return -1;
}

const char *csvin_header(const csvin *r, size_t i)
{
    return i < r->header.n ? r->header.s[i] : "";
}

int csvin_number(const csvin *r, int col, const char *colname, double min, double max,
                 int allow_empty, double dflt, double *out, char *err, size_t errlen)
{
    const char *f = col >= 0 ? csvin_field(r, (size_t)col) : "";
    if (*f == '\0' && allow_empty) {
        *out = dflt;
        return 0;
    }
    double v;
    if (util_parse_double(f, &v) != 0 || v < min || v > max) {
        char shown[64];
        util_printable(f, shown, sizeof shown);
        util_errf(err, errlen, "%s:%ld: column '%s': expected a number from %g to %g, found '%s'",
                  r->path, r->done_line, colname, min, max, shown);
        return -1;
    }
    *out = v;
    return 0;
}

int csvin_load_table(const char *path, const char *const *cols, const int *required, int ncols,
                     size_t item_size, csvin_row_fn row, void **items, size_t *n, char *err,
                     size_t errlen)
{
    *items = NULL;
    *n = 0;
    csvin *in = csvin_open(path, err, errlen);
    if (in == NULL)
        return -1;
    int rc = csvin_read_header(in);
    if (rc != 1) {
        if (rc == 0)
            util_errf(err, errlen, "%s: empty file (expected a header row)", path);
        else
            util_errf(err, errlen, "%s", csvin_error(in));
        csvin_close(in);
        return -1;
    }
    int idx[64];
    if (ncols > 64)
        ncols = 64;
    for (int c = 0; c < ncols; c++) {
        idx[c] = csvin_column(in, cols[c]);
        if (idx[c] < 0 && required[c]) {
            util_errf(err, errlen, "%s:%ld: missing column '%s' in the header", path,
                      in->header_line, cols[c]);
            csvin_close(in);
            return -1;
        }
    }
    size_t cap = 0;
    char *buf = NULL;
    int got;
    rc = 0;
    while ((got = csvin_next(in)) == 1) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            char *p = realloc(buf, cap * item_size);
            if (p == NULL) {
                util_errf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            buf = p;
        }
        if (csvin_nfields(in) != in->header.n) {
            util_errf(err, errlen, "%s:%ld: %zu fields, expected %zu as in the header", path,
                      csvin_line(in), csvin_nfields(in), in->header.n);
            rc = -1;
            break;
        }
        if (row(in, idx, buf + *n * item_size, err, errlen) != 0) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    if (rc == 0 && got < 0) {
        util_errf(err, errlen, "%s", csvin_error(in));
        rc = -1;
    }
    csvin_close(in);
    if (rc != 0) {
        free(buf);
        *n = 0;
        return -1;
    }
    *items = buf;
    return 0;
}

void csvin_close(csvin *r)
{
    if (r == NULL)
        return;
    strvec_free(&r->cur);
    strvec_free(&r->done);
    strvec_free(&r->header);
    free(r->line);
    free(r->buf);
    csv_free(&r->parser);
    fclose(r->fp);
    free(r);
}
