/*
 * csvin: a streaming CSV reader on libcsv that knows line numbers, for every file capsim
 * reads (catalogs, traces, measurements), so that an error can name file, line and column.
 *
 * Records are read one at a time in constant memory (apart from the current record). The
 * first record can be taken as the header and columns found by name. A UTF-8 byte-order
 * mark, CRLF line endings, quoted fields and blank lines are handled; a physical line
 * longer than CSVIN_MAX_LINE bytes is an error rather than a memory blow-up.
 *
 * csvin_open() allocates; csvin_close() frees. Field strings belong to the reader and are
 * valid until the next csvin_next().
 */
#ifndef CAPSIM_CSVIN_H
#define CAPSIM_CSVIN_H

#include <stddef.h>

#define CSVIN_MAX_LINE (1u << 20)

typedef struct csvin csvin;

/* Opens path. Returns NULL with a message on failure. */
csvin *csvin_open(const char *path, char *err, size_t errlen);

/* Reads the next non-blank record. Returns 1 when a record was read, 0 at end of file,
 * -1 on a malformed file (message in csvin_error()). */
int csvin_next(csvin *r);

size_t csvin_nfields(const csvin *r);
/* Field i of the current record (0-based), or "" when the record has fewer fields. */
const char *csvin_field(const csvin *r, size_t i);
/* Line number (1-based) on which the current record starts. */
long csvin_line(const csvin *r);
const char *csvin_path(const csvin *r);
const char *csvin_error(const csvin *r);

/* Reads the next record as the header. Returns 1, 0 if the file is empty, -1 on error. */
int csvin_read_header(csvin *r);
/* Index of the header column called name (exact match after trimming spaces), or -1. */
int csvin_column(const csvin *r, const char *name);
/* Name of header column i, or "" if there is none. */
const char *csvin_header(const csvin *r, size_t i);

/* Line the header started on (after csvin_read_header). */
long csvin_header_line(const csvin *r);

/* Reads field col of the current record (col < 0: the column is absent) as a number in
 * [min, max]. An empty or absent field gives dflt when allow_empty, else it is an error
 * naming file, line and column (colname), what was found and what was expected. */
int csvin_number(const csvin *r, int col, const char *colname, double min, double max,
                 int allow_empty, double dflt, double *out, char *err, size_t errlen);

/* Reads a whole table of small records (a catalog): the header must have every column in
 * cols[0..ncols) for which required[c] is set; idx[c] gives each column's index (-1 when
 * absent) to row(), which fills one item of item_size bytes. On success *items (malloc'd,
 * caller frees) holds *n items. On failure returns -1 with a message and *items is NULL. */
typedef int (*csvin_row_fn)(csvin *in, const int *idx, void *item, char *err, size_t errlen);
int csvin_load_table(const char *path, const char *const *cols, const int *required, int ncols,
                     size_t item_size, csvin_row_fn row, void **items, size_t *n, char *err,
                     size_t errlen);

void csvin_close(csvin *r);

#endif
