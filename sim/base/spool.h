/*
 * spool: inputs that can be read only once (a pipe, a process substitution such as
 * `--trace <(zcat trace.csv.gz)`, a named FIFO, a terminal) made readable as often as the
 * readers need. A trace is opened several times (its format is sniffed, then it is read,
 * once per replication and once to count it), which a pipe cannot give: the second open
 * found it empty, and a named FIFO blocked for ever waiting for a second writer.
 *
 * Such an input is copied once into a temporary file in $TMPDIR (or /tmp) that is unlinked
 * as soon as it is made, so that nothing is left behind however the process ends (even
 * SIGKILL); the open descriptor keeps the copy alive until the process exits, and the path
 * /proc/self/fd/N reopens it from the start, in forked workers too.
 */
#ifndef CAPSIM_SPOOL_H
#define CAPSIM_SPOOL_H

#include <stddef.h>

/* The longest path spool_input writes. */
#define SPOOL_PATH_MAX 64

/* When path names something other than a regular file or a directory (a pipe, FIFO,
 * character device or socket), reads it to its end into a private unlinked copy, writes a
 * path that reopens the copy into buf (at least SPOOL_PATH_MAX bytes) and returns 1.
 * Returns 0 with buf empty when path can be read as it is (or cannot be looked at: its
 * reader will say why), or -1 with a message naming path. */
int spool_input(const char *path, char *buf, size_t len, char *err, size_t errlen);

/* Replaces every occurrence of from in msg (a message about the copy) by to (the name
 * the user gave), cutting the result to len bytes. */
void spool_rename(char *msg, size_t len, const char *from, const char *to);

#endif
