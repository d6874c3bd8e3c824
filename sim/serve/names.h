/*
 * names: the list of a table's names as help texts and error messages write it, "a, b
 * or c", built from the table itself so that a new entry appears without another edit.
 */
#ifndef CAPSIM_SERVE_NAMES_H
#define CAPSIM_SERVE_NAMES_H

#include <stddef.h>
#include <string.h>

/* Appends name, entry i of n, to the list in buf (buf must start as ""). Truncates to
 * len. */
static inline void serve_names_append(char *buf, size_t len, size_t i, size_t n, const char *name)
{
    const char *sep = i == 0 ? "" : i + 1 == n ? " or " : ", ";
    size_t used = strlen(buf);
    if (used + 1 >= len)
        return;
    size_t room = len - used - 1;
    strncat(buf, sep, room);
    used = strlen(buf);
    if (used + 1 < len)
        strncat(buf, name, len - used - 1);
}

#endif
