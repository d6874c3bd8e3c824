/*
 * util: small helpers shared by every module: strict number parsing, bounded string
 * formatting for error messages, and writing files atomically.
 *
 * Error convention: functions that can fail on bad input return 0 on success and -1 on
 * failure, and write a one-line message (no trailing newline) into a caller-owned buffer.
 */
#ifndef CAPSIM_UTIL_H
#define CAPSIM_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* Parses the whole of s as a finite double. Returns 0, or -1 if s is empty, has trailing
 * characters, or is out of range, NaN or infinite. */
int util_parse_double(const char *s, double *out);

/* Parses the whole of s as an unsigned decimal integer that fits in uint64_t. */
int util_parse_u64(const char *s, uint64_t *out);

/* Formats x with the fewest significant digits (up to 17) that read back to exactly x,
 * so 0.1 prints as "0.1" and still reproduces the same double. Returns buf. */
const char *util_fmt_exact(char *buf, size_t len, double x);

/* Formats x as "%.*g" with digits significant digits, or "n/a" when x is not finite (a
 * figure with no data, an interval of one replication), so that printed tables never
 * show "nan" or "inf"; the table says what n/a means. Returns buf. */
const char *util_fmt_fig(char *buf, size_t len, int digits, double x);

/* Writes a formatted message into err[errlen] (always terminated; truncated if long).
 * Does nothing if err is NULL or errlen is 0. */
void util_errf(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Copies s into out[len] with control characters (newlines, ...) shown as '?' and long
 * text cut with "...", for quoting user input in a one-line message. */
void util_printable(const char *s, char *out, size_t len);

/* Appends item, number i (from 0) of a list of n, to the list being written in buf[len]
 * at *at (0 for the first item; buf must hold "" then): "a, b or c" with last_sep " or ".
 * Cut short, still terminated, when buf is full. Every help text and error message that
 * lists the names of a table builds the list this way. */
void util_list_append(char *buf, size_t len, size_t *at, size_t i, size_t n,
                      const char *last_sep, const char *item);

/* True if s has a control character (a newline, a tab, ...). */
int util_has_control(const char *s);

/* Creates directory path and its missing parents (like mkdir -p). Returns 0 or -1 with
 * a message. */
int util_mkdir_p(const char *path, char *err, size_t errlen);

/* What kind of file a stat mode is, as a phrase for a message: "a directory", "a FIFO
 * (named pipe)", "a character device", ... */
const char *util_file_kind(unsigned mode);

/* Checks that path, if it exists (through symbolic links), is a regular file that an output
 * may replace. Returns 0, or -1 with "cannot write 'PATH': it is a directory, not a regular
 * file" (a device, a FIFO, ...). A NULL path (no file to write) passes. */
int util_check_writable_path(const char *path, char *err, size_t errlen);

/* A file written under a temporary name and renamed into place by util_atomic_commit, so
 * that a reader never sees half a file and a failed run leaves nothing behind. The
 * caller owns the struct; fp is valid between open and commit/abort.
 *
 * A path that is a symbolic link is written through: final_path is the file the link
 * names (followed to the end), and the temporary file sits beside it so that the rename
 * stays atomic; the link itself is left as it is. A path that is a directory, a device, a
 * FIFO or a socket is refused at open with a message naming it and what it is, and the
 * rename never replaces anything but a regular file. */
typedef struct util_atomic_file {
    FILE *fp;
    char final_path[4096];
    char tmp_path[4096];
} util_atomic_file;

int util_atomic_open(util_atomic_file *f, const char *path, char *err, size_t errlen);
/* Flushes, closes and renames into place. On failure removes the temporary file. */
int util_atomic_commit(util_atomic_file *f, char *err, size_t errlen);
/* Closes and removes the temporary file. Safe to call after a failed commit. */
void util_atomic_abort(util_atomic_file *f);

/* Moves the finished file tmp to path: a rename when path is a regular file or nothing,
 * else through util_atomic_open/commit, which writes through a link and refuses a
 * directory, device or FIFO. tmp is gone afterwards either way. Returns 0, or -1 with a
 * message. */
int util_install_file(const char *tmp, const char *path, char *err, size_t errlen);

/* Commits several files as one: first checks that none of the final names is a directory
 * and that every file was written without error, then renames them in order; if a rename
 * still fails, the files this call already renamed are removed and the rest aborted.
 * Entries whose fp is NULL (never opened) are skipped. */
int util_atomic_commit_all(util_atomic_file *f, size_t n, char *err, size_t errlen);

/* Writes files dir/names[i] (creating dir) as one: each through a temporary file filled by
 * write[i](fp, what[i]), all renamed into place at the end (util_atomic_commit_all). At most
 * UTIL_MAX_FILES. Returns 0, or -1 with a message and no file left behind. */
#define UTIL_MAX_FILES 8
typedef void (*util_writer)(FILE *fp, const void *what);
int util_write_files(const char *dir, size_t n, const char *const *names,
                     const util_writer *write, const void *const *what, char *err,
                     size_t errlen);

#endif
