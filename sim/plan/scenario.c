/*
 * scenario: INI loading with line numbers (see scenario.h).
 */
#include "sim/plan/scenario.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include <ini.h>

#include "sim/base/util.h"

typedef struct loader {
    FILE *fp;
    int line;     /* lines handed to inih so far */
    int too_long; /* line number of the first over-long line, or 0 */
    scenario_key_fn fn;
    void *user;
    int failed_line; /* line of the first key the callback refused, or 0 */
    char msg[1024];
} loader;

/* fgets for inih, counting lines and spotting lines longer than inih's buffer. */
static char *read_line(char *str, int num, void *stream)
{
    loader *l = stream;
    char *got = fgets(str, num, l->fp);
    if (got == NULL)
        return NULL;
    l->line++;
    size_t n = strlen(str);
    if (n > 0 && str[n - 1] != '\n' && !feof(l->fp)) {
        if (!l->too_long)
            l->too_long = l->line;
        /* Drop the rest of the line so that inih does not parse it as a line of its own. */
        int c;
        while ((c = fgetc(l->fp)) != EOF && c != '\n')
            ;
    }
    return got;
}

static int on_key(void *user, const char *section, const char *name, const char *value)
{
    loader *l = user;
    if (l->failed_line || l->too_long)
        return 1;
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
    /* The earliest of: a line inih could not parse, a line too long, a refused key. */
    int at = 0;
    const char *what = NULL;
    if (first > 0) {
        at = first;
        what = "not an INI line (expected [section] or key = value)";
    }
    if (l.too_long && (at == 0 || l.too_long <= at)) {
        at = l.too_long;
        what = "line longer than 199 characters";
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
