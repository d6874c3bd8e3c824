/*
 * scenario: INI loading with line numbers (see scenario.h).
 */
#define _POSIX_C_SOURCE 200809L /* getline */
#include "sim/plan/scenario.h"

#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "sim/base/util.h"

typedef struct loader {
    FILE *fp;
    int line;     /* lines handed to inih so far */
    int too_long; /* line number of the first long line that is not key = value, or 0 */
    char *buf;    /* the line being read, whole (getline's buffer) */
    size_t cap;
    char **long_values; /* the values of long lines, in order; inih sees "\x01N" */
    size_t n_long;
    scenario_key_fn fn;
    void *user;
    int failed_line; /* line of the first key the callback refused, or 0 */
    char msg[1024];
} loader;

/* The value of a long line as inih would give it: an inline comment (';' after a space)
 * cut off, blanks trimmed at both ends. */
static char *long_value(const char *v)
{
    while (*v == ' ' || *v == '\t')
        v++;
    size_t n = 0;
    for (int space = 0; v[n] && !(v[n] == ';' && space); n++)
        space = v[n] == ' ' || v[n] == '\t';
    while (n > 0 && (v[n - 1] == ' ' || v[n - 1] == '\t'))
        n--;
    char *out = malloc(n + 1);
    if (out != NULL) {
        memcpy(out, v, n);
        out[n] = '\0';
    }
    return out;
}

/* Hands a line longer than inih's buffer (num bytes) to inih as str: a comment as an empty
 * line, `key = value` (or a continuation line) with the value kept in l->long_values and
 * "\x01N" in its place. Returns -1 for a line that cannot be shortened so (a long section
 * or key name). */
static int shorten_line(loader *l, char *str, size_t num)
{
    char *p = l->buf;
    p[strcspn(p, "\r\n")] = '\0';
    const char *s = p + strspn(p, " \t");
    if (*s == ';' || *s == '#') {
        snprintf(str, num, "\n");
        return 0;
    }
    size_t head = strcspn(p, "=:");
    if (*s == '[' || (p[head] == '\0' && s == p) || head + 24 >= num)
        return -1;
    /* A continuation line (leading blanks, no separator) keeps one blank as its head. */
    int continued = p[head] == '\0';
    const char *value = continued ? s : p + head + 1;
    char **v = realloc(l->long_values, (l->n_long + 1) * sizeof *v);
    if (v == NULL)
        return -1;
    l->long_values = v;
    if ((v[l->n_long] = long_value(value)) == NULL)
        return -1;
    snprintf(str, num, "%.*s \x01%zu\n", continued ? 1 : (int)head + 1, p, l->n_long++);
    return 0;
}

/* fgets for inih: reads each line whole, counting lines; a line longer than inih's buffer
 * is shortened (shorten_line) or, if it cannot be, noted as too long and skipped. */
static char *read_line(char *str, int num, void *stream)
{
    loader *l = stream;
    ssize_t n = getline(&l->buf, &l->cap, l->fp);
    if (n < 0)
        return NULL;
    l->line++;
    if (n < num) {
        memcpy(str, l->buf, (size_t)n + 1);
        return str;
    }
    if (shorten_line(l, str, (size_t)num) != 0) {
        if (!l->too_long)
            l->too_long = l->line;
        snprintf(str, (size_t)num, "\n");
    }
    return str;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    loader *l = user;
    if (l->failed_line || l->too_long)
        return 1;
    if (value[0] == '\x01') {
        size_t k = strtoul(value + 1, NULL, 10);
        value = k < l->n_long ? l->long_values[k] : "";
    }
    if (l->fn(l->user, section, name, value, l->msg, sizeof l->msg) != 0) {
        l->failed_line = l->line;
        return 0;
    }
    return 1;
}

int scenario_load(const char *path, scenario_key_fn fn, void *user, char *err, size_t errlen)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        util_errf(err, errlen, "%s: cannot open scenario file: %s", path, strerror(errno));
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        util_errf(err, errlen, "%s: not a regular file (expected an INI scenario file)", path);
        return -1;
    }
    loader l = {.fn = fn, .user = user};
    l.fp = fopen(path, "r");
    if (l.fp == NULL) {
        util_errf(err, errlen, "%s: cannot open scenario file: %s", path, strerror(errno));
        return -1;
    }
    int first = ini_parse_stream(read_line, &l, on_key, &l);
    fclose(l.fp);
    free(l.buf);
    for (size_t i = 0; i < l.n_long; i++)
        free(l.long_values[i]);
    free(l.long_values);
    /* The earliest of: a line inih could not parse, a line too long, a refused key. */
    int at = 0;
    const char *what = NULL;
    if (first > 0) {
        at = first;
        what = "not an INI line (expected [section] or key = value)";
    }
    if (l.too_long && (at == 0 || l.too_long <= at)) {
        at = l.too_long;
        what = "a [section] or key name too long (a line longer than 199 characters must be "
               "key = value with a name of at most 170 characters)";
    }
    if (l.failed_line && (at == 0 || l.failed_line <= at)) {
        at = l.failed_line;
        what = l.msg;
    }
    if (at == 0 && first < 0) {
        util_errf(err, errlen, "%s: cannot read scenario file", path);
        return -1;
    }
    if (at > 0) {
        util_errf(err, errlen, "%s:%d: %s", path, at, what);
        return -1;
    }
    return 0;
}
