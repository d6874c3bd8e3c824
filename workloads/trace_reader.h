/*
 * trace_reader: what a trace format provides, and the helpers the formats share. Private to
 * the trace readers (workloads/trace*.c); users open traces through workloads/traces.h.
 *
 * A format is one file, workloads/trace_<name>.c, that defines one trace_format_def (its
 * name, how to recognise it, and open/read/close), plus one entry in the table of
 * workloads/trace_table.c. The pipeline in traces.c does everything the formats share:
 * detection (driven by the table), the order checks, the reorder window, window, speedup
 * and the request cap, and every list of format names in help texts and messages.
 *
 * A format's read() returns one of
 *   TR_ROW   a row, with its raw time (seconds on the format's own clock)
 *   TR_SKIP  a row read but deliberately not kept (filtered out, failed request)
 *   TR_END   end of the trace
 *   TR_BAD   a malformed row, message in err; the reader can go on to the next row
 *   TR_FATAL the reader cannot go on (broken file structure, I/O error)
 */
#ifndef CAPSIM_TRACE_READER_H
#define CAPSIM_TRACE_READER_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/csvin.h"
#include "workloads/traces.h"

enum { TR_FATAL = -2, TR_BAD = -1, TR_END = 0, TR_ROW = 1, TR_SKIP = 2 };

/* Largest raw time accepted, seconds (about 31,700 years). */
#define TRACE_MAX_TIME_S 1e12
/* What a token count must be, for messages (REQSRC_MAX_TOKENS is 10000000). */
#define TRACE_TOKENS_EXPECTED "a whole number from 1 to 10000000"
/* Columns a CSV format may look up in trace_reader.col. */
#define TRACE_MAX_COLUMNS 8

typedef struct trace_row {
    double t_s;   /* raw time, seconds on the format's clock */
    uint64_t seq; /* order of reading: breaks ties in the reorder window (set by the pipeline) */
    uint32_t prompt_tokens, output_tokens, cls;
    uint32_t shared_tokens; /* what the row shares (request.prefix_id); 0 by default */
    uint64_t prefix_id;
    long line, col; /* where the row's time is, for messages */
} trace_row;

typedef struct trace_format_def trace_format_def;

/* What a format reader sees of an open trace. */
typedef struct trace_reader {
    const trace_format_def *fmt;
    const char *path;
    const trace_options *opt;
    /* CSV formats: the pipeline opens the file and reads the header before open(). */
    csvin *csv;
    size_t ncols;               /* fields of the header */
    int col[TRACE_MAX_COLUMNS]; /* the format's columns, found by trace_csv_columns */
    /* The format's own state (owned: the pipeline frees it after close()). */
    void *state;
} trace_reader;

struct trace_format_def {
    const char *name;     /* the --trace-format value, e.g. "burstgpt" */
    const char *title;    /* for help texts, e.g. "BurstGPT CSV" */
    const char *expected; /* the form, for messages */
    int is_csv;           /* a CSV file with a header (read through r->csv) */
    int absolute_times;   /* times count from the start of the workload, not the first row */
    /* CSV: what recognises the header, for the unrecognised-header message, and the test
     * itself on the header read. */
    const char *header_hint;
    int (*detect_header)(const csvin *in);
    /* JSON: keys that mark the format (the first such key in the file decides), and
     * whether a file holds one object a line (the guess when no key is known). */
    const char *const *json_keys;
    int json_lines;
    int (*open)(trace_reader *r, char *err, size_t errlen);
    int (*read)(trace_reader *r, trace_row *row, char *err, size_t errlen);
    void (*close)(trace_reader *r); /* may be NULL; frees what open() took besides state */
};

/* The formats, in the order of trace_format (the first is TRACE_CAPSIM) and of detection;
 * NULL-terminated (trace_table.c). */
extern const trace_format_def *const trace_formats[];

/* Writes "path:line:col: <fmt>" into err. */
__attribute__((format(printf, 6, 7))) void trace_errf(char *err, size_t errlen, const char *path,
                                                      long line, long col, const char *fmt, ...);

/* Whole number in [lo, hi]: digits, optionally '.' and zeros, spaces around allowed.
 * Returns 0 or -1. */
int trace_parse_whole(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* A decimal number of seconds in [lo, hi] (no hex, no inf/nan), spaces around allowed.
 * Returns 0 or -1. */
int trace_parse_seconds(const char *s, double lo, double hi, double *out);

/* CSV helpers: each returns 0 (or TR_ROW) on success, else TR_BAD or TR_FATAL with err. */
/* Reports a bad value in column c of the current record. */
int trace_csv_bad(trace_reader *r, int c, const char *expected, char *err, size_t errlen);
/* Reads the next record and checks its field count: TR_ROW, TR_END, TR_BAD or TR_FATAL. */
int trace_csv_next_record(trace_reader *r, char *err, size_t errlen);
/* A token count in [lo, REQSRC_MAX_TOKENS] in column c. */
int trace_csv_tokens(trace_reader *r, int c, uint64_t lo, uint32_t *out, char *err, size_t errlen);
/* A number of seconds >= 0 in column c. */
int trace_csv_seconds(trace_reader *r, int c, double *out, char *err, size_t errlen);
/* Finds the columns names[0..n) in the header into r->col; required[k] says which must be
 * there. Returns 0 or -1. */
int trace_csv_columns(trace_reader *r, const char *const *names, const int *required, int n,
                      char *err, size_t errlen);
/* Sets the row's place to the current record's time column. */
void trace_csv_row_at(trace_reader *r, trace_row *row, int time_col);

#endif
