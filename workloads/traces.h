/*
 * traces: request sources (workloads/reqsrc.h) that replay public workload traces.
 *
 * The formats are the entries of the table in workloads/trace_table.c, one file each
 * (workloads/trace_<name>.c, whose header comment says what the format is and how it is
 * read); adding a format is adding a file and a table entry (see trace_reader.h).
 *
 * TRACE_AUTO recognises the format from the first non-blank line (after a UTF-8
 * byte-order mark): a CSV header by its column names, a JSON line by its keys.
 *
 * Arrival times. Every format yields a raw time per row; the first request released is
 * time 0 and the others are relative to it. Rows may be a little out of order: unless
 * `strict`, up to TRACE_REORDER_WINDOW rows are held in a min-heap (ties keep file order)
 * and released earliest first; a row earlier than one already released is an error. With
 * `strict` the first row earlier than its predecessor is an error. The window
 * [window_start_s, window_end_s) is applied to those times as read (before `speedup`), so
 * the same rows are kept whatever the speedup; then the first kept request becomes time 0
 * and times are divided by `speedup`. Reading stops at the end of the window and after
 * max_requests requests.
 *
 * Rows that are read but not kept, and are not counted as bad:
 *   - BurstGPT rows whose Model or Log Type differs from the filter (not checked further);
 *   - BurstGPT rows with 0 `Response tokens` (failed requests), provided every field is
 *     well formed (a malformed failure row is a bad row);
 *   - vLLM entries with output length 0 (requests that failed during the benchmark).
 *
 * Bad input. A malformed row (non-number, token count < 1 or > REQSRC_MAX_TOKENS, bad
 * timestamp, wrong field count, NUL byte or overlong line in JSONL, ...) is an error
 * naming file:line:column, the column or key, what was found and what was expected; with
 * `skip_bad_rows` it is skipped and counted instead. Damage that leaves no next row to
 * find (CSV quoting, a CSV line too long for csvin, NUL bytes in CSV, broken or truncated
 * vLLM JSON) and ordering errors are always errors. A vLLM object is checked whole before
 * its first request is returned. An empty file is an error;
 * a header with no rows is a trace of 0 requests.
 *
 * Memory is constant in the number of rows: rows are read one at a time (vLLM arrays are
 * read in step by one file cursor per array) and the reorder heap is bounded.
 */
#ifndef CAPSIM_TRACES_H
#define CAPSIM_TRACES_H

#include <stddef.h>
#include <stdint.h>

#include "workloads/reqsrc.h"

/* Rows held back for reordering when not strict. */
#define TRACE_REORDER_WINDOW 8192u
/* Longest Mooncake JSONL line, bytes (without its newline). */
#define TRACE_MAX_JSON_LINE (16u << 20)

/* A format is its position in the table of trace_table.c, from 1; 0 is "detect". The
 * constants name the formats listed first; a format added later needs none (find it with
 * trace_format_parse). */
typedef enum trace_format {
    TRACE_AUTO,
    TRACE_CAPSIM,
    TRACE_AZURE,
    TRACE_BURSTGPT,
    TRACE_MOONCAKE,
    TRACE_VLLM
} trace_format;

/* Number of formats in the table (TRACE_AUTO not counted). */
size_t trace_format_count(void);
/* "auto" or the table's name of f ("capsim", "azure", ...); "?" for anything else. */
const char *trace_format_name(trace_format f);
/* Parses one of the names above (exact, lower case). Returns 0, or -1 if s is none. */
int trace_format_parse(const char *s, trace_format *out);
/* What trace_format_list lists of each format. */
typedef enum trace_list_field {
    TRACE_LIST_NAMES, /* "capsim": --trace-format values ("auto" first if asked) */
    TRACE_LIST_TITLES /* "capsim CSV": the kinds of file, for help texts */
} trace_list_field;

/* Writes the formats' field into buf[len], separated by ", " and, before the last, by
 * last_sep, with "auto" first when with_auto (names only): "auto, capsim, azure,
 * burstgpt, mooncake or vllm". Returns buf, cut short if need be. */
const char *trace_format_list(char *buf, size_t len, int with_auto, const char *last_sep,
                              trace_list_field field);

typedef struct trace_options {
    trace_format format;   /* TRACE_AUTO: detect from the content */
    int skip_bad_rows;     /* skip malformed rows (count them) instead of failing */
    int strict;            /* refuse out-of-order timestamps instead of reordering */
    double window_start_s; /* keep requests with start <= t < end, t relative to the first
                              request; end <= 0: no end */
    double window_end_s;
    double speedup;                /* divide times by this (2 doubles the rate); <= 0 means 1 */
    uint64_t max_requests;         /* 0: all */
    const char *burstgpt_model;    /* keep rows whose Model equals this (NULL: all) */
    const char *burstgpt_log_type; /* keep rows whose Log Type equals this (NULL: all) */
    /* The name messages give the file (NULL: its path): the user's name for a pipe read
     * through a copy (sim/base/spool.h). Not copied: it must outlive the source. */
    const char *name;
} trace_options;

typedef struct trace_stats {
    trace_format format;     /* the format read (detected when TRACE_AUTO) */
    uint64_t rows_read;      /* data rows (vLLM: array entries) seen, kept or not */
    uint64_t rows_bad;       /* malformed rows skipped (skip_bad_rows) */
    uint64_t rows_kept;      /* requests returned */
    uint64_t rows_reordered; /* rows earlier than a row read before them */
    long last_line;          /* where the last request returned is in the file (its time's line) */
    char first_bad[3][256];  /* messages of the first bad rows skipped */
} trace_stats;

/* Opens a trace as a request source. opt may be NULL (all defaults: auto-detect, no
 * window, speedup 1). The strings in opt are copied. Arrival times are seconds from the
 * first kept request (after window and speedup), non-decreasing. Returns NULL with a
 * one-line message naming file, line and column, what was found and what was expected.
 * The caller frees the source with reqsrc_close(). */
reqsrc *trace_open(const char *path, const trace_options *opt, char *err, size_t errlen);

/* Statistics of a source made by trace_open (valid until reqsrc_close), or NULL if src
 * was not made by trace_open. */
const trace_stats *trace_get_stats(const reqsrc *src);

/* Parses an ISO-like timestamp `YYYY-MM-DD HH:MM:SS` (or `T` between date and time),
 * optionally `.` and 1 to 9 fractional digits, optionally `Z` or a zone offset `+HH:MM`,
 * `-HH:MM`, `+HHMM` or `+HH`, into whole seconds since 1970-01-01 UTC and nanoseconds
 * (0..999999999); the offset is subtracted, so `10:00+05:30` is 04:30 UTC. Years 0001 to
 * 9999, proleptic Gregorian calendar, no leap seconds. Independent of the process time
 * zone. Returns 0, or the 1-based position of the first character that does not fit. */
int trace_parse_timestamp(const char *s, int64_t *unix_s, uint32_t *nanos);

#endif
