/*
 * spec: parsing of "name:key=value,..." option values (see spec.h).
 */
#include "sim/base/spec.h"

#include <string.h>

#include "sim/base/util.h"

/* Copies [b, e) into dst[cap]; returns -1 if it does not fit. */
static int copy_span(char *dst, size_t cap, const char *b, const char *e)
{
    size_t n = (size_t)(e - b);
    if (n >= cap)
        return -1;
    memcpy(dst, b, n);
    dst[n] = '\0';
    return 0;
}

int spec_parse(const char *text, spec *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->text = text;
    if (text == NULL || *text == '\0') {
        util_errf(err, errlen, "empty value (expected name:key=value,...)");
        return -1;
    }
    if (util_has_control(text)) {
        char shown[128];
        util_printable(text, shown, sizeof shown);
        util_errf(err, errlen,
                  "'%s' has a control character such as a newline (expected "
                  "name:key=value,...)",
                  shown);
        return -1;
    }
    const char *colon = strchr(text, ':');
    const char *name_end = colon ? colon : text + strlen(text);
    if (name_end == text) {
        util_errf(err, errlen, "'%s' has no name before ':'", text);
        return -1;
    }
    if (copy_span(out->name, sizeof out->name, text, name_end) != 0) {
        util_errf(err, errlen, "'%s': name is too long", text);
        return -1;
    }
    if (colon == NULL)
        return 0;
    const char *p = colon + 1;
    if (*p == '\0') {
        util_errf(err, errlen, "'%s': nothing after ':' (expected key=value)", text);
        return -1;
    }
    while (*p != '\0') {
        const char *comma = strchr(p, ',');
        const char *end = comma ? comma : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq == NULL || eq == p || eq + 1 == end) {
            util_errf(err, errlen, "'%s': '%.*s' is not of the form key=value", text,
                      (int)(end - p), p);
            return -1;
        }
        if (out->n_keys == SPEC_MAX_KEYS) {
            util_errf(err, errlen, "'%s': more than %d key=value pairs", text, SPEC_MAX_KEYS);
            return -1;
        }
        size_t k = out->n_keys;
        if (copy_span(out->key[k], sizeof out->key[k], p, eq) != 0 ||
            copy_span(out->val[k], sizeof out->val[k], eq + 1, end) != 0) {
            util_errf(err, errlen, "'%s': key or value too long", text);
            return -1;
        }
        for (size_t j = 0; j < k; j++) {
            if (strcmp(out->key[j], out->key[k]) == 0) {
                util_errf(err, errlen, "'%s': key '%s' given twice", text, out->key[k]);
                return -1;
            }
        }
        out->n_keys++;
        if (comma == NULL)
            break;
        p = comma + 1;
        if (*p == '\0') {
            util_errf(err, errlen, "'%s': trailing ','", text);
            return -1;
        }
    }
    return 0;
}

void spec_add_expected(char *err, size_t errlen, const char *form)
{
    if (err == NULL || errlen == 0 || strstr(err, form) != NULL)
        return;
    size_t used = strlen(err);
    if (used < errlen)
        snprintf(err + used, errlen - used, "; expected %s", form);
}

void spec_name_of(const char *text, char *name, size_t len)
{
    size_t n = strcspn(text ? text : "", ":");
    if (n >= len)
        n = len - 1;
    memcpy(name, text, n);
    name[n] = '\0';
}

static int in_list(const char *key, const char *const *list)
{
    for (; list && *list; list++)
        if (strcmp(key, *list) == 0)
            return 1;
    return 0;
}

int spec_check_keys(const spec *s, const char *const *allowed, const char *const *required,
                    const char *form, char *err, size_t errlen)
{
    for (size_t i = 0; i < s->n_keys; i++) {
        if (!in_list(s->key[i], allowed)) {
            util_errf(err, errlen, "'%s': unknown key '%s' (expected %s)", s->text, s->key[i],
                      form);
            return -1;
        }
    }
    for (; required && *required; required++) {
        if (spec_string(s, *required) == NULL) {
            util_errf(err, errlen, "'%s': missing '%s' (expected %s)", s->text, *required, form);
            return -1;
        }
    }
    return 0;
}

const char *spec_string(const spec *s, const char *key)
{
    for (size_t i = 0; i < s->n_keys; i++)
        if (strcmp(s->key[i], key) == 0)
            return s->val[i];
    return NULL;
}

int spec_number(const spec *s, const char *key, spec_bound bound, int has_default, double dflt,
                double *out, const char *form, char *err, size_t errlen)
{
    const char *v = spec_string(s, key);
    if (v == NULL) {
        if (has_default) {
            *out = dflt;
            return 0;
        }
        util_errf(err, errlen, "'%s': missing '%s' (expected %s)", s->text, key, form);
        return -1;
    }
    static const char *const what[] = {"a finite number", "a number > 0", "a number >= 0"};
    double x;
    int ok = util_parse_double(v, &x) == 0;
    if (ok && bound == SPEC_POSITIVE)
        ok = x > 0;
    if (ok && bound == SPEC_NONNEG)
        ok = x >= 0;
    if (!ok) {
        util_errf(err, errlen, "'%s': %s must be %s, found '%s' (expected %s)", s->text, key,
                  what[bound], v, form);
        return -1;
    }
    *out = x;
    return 0;
}
