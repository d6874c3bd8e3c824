/*
 * bench: reading benchmark result files (see bench.h). The formats are one file each
 * (bench_<name>.c) behind the table of bench_table.c, and share the loader of
 * bench_util.c (see bench_reader.h). This file holds what is made from the table: format
 * names and the lists of them in help texts and messages, detection, and bench_load, which
 * hands the file to its format.
 */
#define _POSIX_C_SOURCE 200809L
#include "models/bench.h"

#include <assert.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <json-c/json.h>

#include "models/bench_reader.h"
#include "sim/base/util.h"

/* Bytes bench_detect looks at. */
#define BENCH_SNIFF_BYTES 65536u
/* Deepest JSON nesting accepted (the formats' deepest real values are under 10 levels). */
#define BENCH_JSON_MAX_DEPTH 64

/* --- Names ------------------------------------------------------------------------------- */

size_t bench_format_count(void)
{
    size_t n = 0;
    while (bench_formats[n] != NULL)
        n++;
    return n;
}

/* The table entry of f, or NULL for BENCH_AUTO and values out of range. */
static const bench_format_def *def_of(bench_format f)
{
    if ((int)f <= 0 || (size_t)f > bench_format_count())
        return NULL;
    return bench_formats[f - 1];
}

const char *bench_format_name(bench_format f)
{
    if (f == BENCH_AUTO)
        return "auto";
    return def_of(f) ? def_of(f)->name : "?";
}

const char *bench_format_help(bench_format f)
{
    return def_of(f) ? def_of(f)->help : "";
}

/* True if name is one of the space-separated words of list. */
static int in_list(const char *name, const char *list)
{
    size_t n = strlen(name);
    for (const char *p = list; p && *p;) {
        size_t w = strcspn(p, " ");
        if (w == n && strncasecmp(p, name, n) == 0)
            return 1;
        p += w;
        p += strspn(p, " ");
    }
    return 0;
}

int bench_format_parse(const char *name, bench_format *out)
{
    size_t n = bench_format_count();
    for (size_t f = 0; f <= n; f++)
        if (strcasecmp(name, bench_format_name((bench_format)f)) == 0) {
            *out = (bench_format)f;
            return 0;
        }
    for (size_t f = 1; f <= n; f++)
        if (in_list(name, bench_formats[f - 1]->alias)) {
            *out = (bench_format)f;
            return 0;
        }
    return -1;
}

const char *bench_format_list(char *buf, size_t len, int with_auto, const char *last_sep,
                              bench_list_field field)
{
    size_t n = bench_format_count(), at = 0;
    assert(len > 0);
    buf[0] = '\0';
    size_t first = with_auto ? 0 : 1;
    for (size_t f = first; f <= n; f++) {
        const bench_format_def *d = def_of((bench_format)f);
        util_list_append(buf, len, &at, f - first, n + 1 - first, last_sep,
                         d == NULL                    ? "auto"
                         : field == BENCH_LIST_TITLES ? d->title
                         : field == BENCH_LIST_FILES  ? d->what
                                                      : d->name);
    }
    return buf;
}

/* --- Detection --------------------------------------------------------------------------- */

/* The format of a file that starts with p (after a byte-order mark and spaces). */
static bench_format sniff(const char *p)
{
    size_t n = bench_format_count();
    if (*p == '{' || *p == '[') {
        /* The earliest distinctive key wins: each format puts its own near the start. */
        long best = -1;
        bench_format f = BENCH_AUTO;
        for (size_t k = 1; k <= n; k++) {
            const char *const *keys = bench_formats[k - 1]->json_keys;
            for (size_t i = 0; keys && keys[i] != NULL; i++) {
                long at = bl_key_at(p, keys[i]);
                if (at >= 0 && (best < 0 || at < best)) {
                    best = at;
                    f = (bench_format)k;
                }
            }
        }
        if (f != BENCH_AUTO)
            return f;
    }
    for (size_t k = 1; k <= n; k++)
        if (bench_formats[k - 1]->detect && bench_formats[k - 1]->detect(p))
            return (bench_format)k;
    return BENCH_AUTO;
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
    else if (f == BENCH_AUTO) {
        char forms[512];
        util_errf(err, errlen, "cannot tell the format of %s (expected %s); use --format", path,
                  bench_format_list(forms, sizeof forms, 0, " or ", BENCH_LIST_FILES));
    }
    return f;
}

/* --- Loading ----------------------------------------------------------------------------- */

int bench_load(const char *path, bench_format format, bench_set *out, char *err, size_t errlen)
{
    assert(path != NULL && out != NULL && (format == BENCH_AUTO || def_of(format) != NULL));
    memset(out, 0, sizeof *out);
    if (format == BENCH_AUTO) {
        format = bench_detect(path, err, errlen);
        if (format == BENCH_AUTO)
            return -1;
    }
    const bench_format_def *d = def_of(format);
    bload L;
    memset(&L, 0, sizeof L);
    L.path = path;
    L.set = out;
    L.err = err;
    L.errlen = errlen;
    out->format = format;
    int rc = 0;
    if (d->json) {
        L.tok = json_tokener_new_ex(BENCH_JSON_MAX_DEPTH);
        L.subtok = json_tokener_new_ex(BENCH_JSON_MAX_DEPTH);
        rc = L.tok && L.subtok ? bl_read_whole(&L) : bl_oom(&L);
    }
    if (rc == 0)
        rc = d->load(&L);
    if (rc == 0)
        rc = bl_finalize(&L);
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
