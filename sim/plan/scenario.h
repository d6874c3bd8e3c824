/*
 * scenario: reading INI scenario files (libinih) with errors that name file and line.
 *
 * The system libinih reads lines into a fixed buffer (199 characters). A longer line is
 * read whole here and, when it is `key = value`, handed to libinih with its value kept
 * aside (libinih sees a short stand-in), so that values of any length up to
 * SCENARIO_MAX_VALUE (paths of PATH_MAX bytes) read back; a longer section or key name is
 * refused with that reason rather than silently split.
 */
#ifndef CAPSIM_SCENARIO_H
#define CAPSIM_SCENARIO_H

#include <stddef.h>

#define SCENARIO_MAX_VALUE 4095 /* PATH_MAX - 1: any path Linux takes */

/* Called per key; returns 0, or -1 with a message (no file or line: added by the
 * loader). */
typedef int (*scenario_key_fn)(void *user, const char *section, const char *name, const char *value,
                               char *err, size_t errlen);

/* Reads path, calling fn for each key in order. Stops at the first problem: returns -1
 * with "path:line: message" (or "path: ..." when the file cannot be read or is a
 * directory). */
int scenario_load(const char *path, scenario_key_fn fn, void *user, char *err, size_t errlen);

#endif
