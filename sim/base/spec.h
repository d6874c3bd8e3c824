/*
 * spec: the "name:key=value,key=value" text form shared by every distribution, arrival
 * process and policy option on the command line (exp:mean=1, gamma:rate=5,cv=2, ...).
 *
 * The parser only splits and checks the shape; each kind then asks for its own keys with
 * spec_number() / spec_string(), which produce the one-line error the CLI prints.
 */
#ifndef CAPSIM_SPEC_H
#define CAPSIM_SPEC_H

#include <stddef.h>

#define SPEC_MAX_KEYS 8

typedef struct spec {
    char name[32];
    size_t n_keys;
    char key[SPEC_MAX_KEYS][32];
    char val[SPEC_MAX_KEYS][1024];
    const char *text; /* the original text, borrowed, for messages */
} spec;

/* Splits text into name and key=value pairs. Errors: empty text, empty name, a pair
 * without '=', an empty key or value, a repeated key, too many keys, names too long. */
int spec_parse(const char *text, spec *out, char *err, size_t errlen);

/* Appends "; expected FORM" to err unless it already names form: used after
 * spec_parse() fails on the shape of a spec whose kind (and so its form) is known. */
void spec_add_expected(char *err, size_t errlen, const char *form);

/* The name part of text (before ':'), copied into name[len]. */
void spec_name_of(const char *text, char *name, size_t len);

/* Fails if s has a key not in allowed (NULL-terminated) or lacks one in required
 * (NULL-terminated). form is the expected shape, quoted in the message. */
int spec_check_keys(const spec *s, const char *const *allowed, const char *const *required,
                    const char *form, char *err, size_t errlen);

/* The value of key, or NULL when absent. */
const char *spec_string(const spec *s, const char *key);

/* Bounds for spec_number(). */
typedef enum spec_bound {
    SPEC_ANY,      /* any finite number */
    SPEC_POSITIVE, /* > 0 */
    SPEC_NONNEG    /* >= 0 */
} spec_bound;

/* Reads key as a finite number within bound. If the key is absent, stores dflt and
 * succeeds when has_default, else fails. */
int spec_number(const spec *s, const char *key, spec_bound bound, int has_default, double dflt,
                double *out, const char *form, char *err, size_t errlen);

#endif
