/*
 * bench: benchmark results a user measured on their own deployment, read into one shape
 * for calibration (`capsim calibrate`).
 *
 * A file holds one or more runs (a vLLM result file written with --append-result has one
 * JSON object per line; a GuideLLM file has one benchmark per load level). A run is the
 * requests one load setting sent, each with its lengths and the latencies the client saw.
 *
 * Formats, detected from the content (bench_detect) or forced, are the entries of the
 * table in models/bench_table.c, one file each (models/bench_<name>.c, whose header comment
 * says which fields it reads); adding a format is adding a file and a table entry (see
 * bench_reader.h).
 *
 * Times are stored in seconds whatever the file used. A value a format does not give is
 * NAN (start_s, tpot_s, e2e_s) or 0 (n_itl).
 */
#ifndef CAPSIM_BENCH_H
#define CAPSIM_BENCH_H

#include <stddef.h>
#include <stdint.h>

/* A format is its position in the table of bench_table.c, from 1; 0 is "detect". The
 * constants name the formats listed first; a format added later needs none (find it with
 * bench_format_parse). */
typedef enum bench_format {
    BENCH_AUTO,
    BENCH_VLLM,
    BENCH_AIPERF,
    BENCH_GENAI_PERF,
    BENCH_GUIDELLM,
    BENCH_CSV
} bench_format;

/* Number of formats in the table (BENCH_AUTO not counted). */
size_t bench_format_count(void);
/* "auto" or the table's name of f ("vllm", "aiperf", ...); "?" for anything else. */
const char *bench_format_name(bench_format f);
/* What calibrate --help says of f's files (one paragraph, to be wrapped); "" for none. */
const char *bench_format_help(bench_format f);

/* What bench_format_list lists of each format. */
typedef enum bench_list_field {
    BENCH_LIST_NAMES,  /* "vllm": --format values ("auto" first if asked) */
    BENCH_LIST_TITLES, /* "vLLM": the tools, for prose */
    BENCH_LIST_FILES   /* "a vLLM result JSON": the files, for messages */
} bench_list_field;

/* Writes the formats' field into buf[len], separated by ", " and, before the last, by
 * last_sep, with "auto" first when with_auto (names only). Returns buf. */
const char *bench_format_list(char *buf, size_t len, int with_auto, const char *last_sep,
                              bench_list_field field);

typedef struct bench_request {
    double start_s;       /* when the client sent it, from the run's first request; NAN if
                             the file does not say */
    double prompt_tokens; /* >= 1 */
    double output_tokens; /* >= 1 */
    double ttft_s;        /* time to first token, > 0 */
    double tpot_s;        /* mean time per output token after the first; NAN with one
                             output token or when unknown */
    double e2e_s;         /* end-to-end latency; NAN when unknown */
    double *itl_s;        /* the inter-token latencies, n_itl of them (owned), or NULL */
    size_t n_itl;
} bench_request;

typedef struct bench_run {
    char label[128];          /* "rate 4 req/s", "concurrency 16", "benchmark 3", ... */
    char model[256];          /* model id the file names, or "" */
    double request_rate;      /* req/s the client aimed at; 0 for "inf" or unknown */
    uint32_t max_concurrency; /* 0 for none or unknown */
    bench_request *req;       /* successful requests only (owned) */
    size_t n;
    size_t n_failed; /* requests the file lists as failed (not in req) */
} bench_run;

typedef struct bench_set {
    bench_format format; /* the format read */
    bench_run *runs;     /* owned */
    size_t n_runs;
    size_t n_warnings; /* values fixed up or skipped, e.g. a NaN latency of one request */
    char first_warning[512];
} bench_set;

/* Parses a format name ("auto", "vllm", ..., or an alias such as "genai_perf"), in any
 * case. Returns 0, or -1 for an unknown name. */
int bench_format_parse(const char *name, bench_format *out);

/* Detects the format of a file from its first bytes. Returns BENCH_AUTO with a message
 * when it cannot tell. */
bench_format bench_detect(const char *path, char *err, size_t errlen);

/* Reads every run of a file into *out, which the caller frees with bench_set_free. On
 * failure returns -1 with a one-line message naming the file and where possible the line,
 * field and what was found and expected: a truncated or malformed file, a missing field,
 * arrays of different lengths, a negative or fractional token count, a file with no
 * usable request. *out is then empty. A successful request with an unusable latency (NaN
 * or Infinity, which Python writes, a negative time, a zero time to first token) is left
 * out and counted in n_warnings, as is a run left without requests. */
int bench_load(const char *path, bench_format format, bench_set *out, char *err, size_t errlen);

void bench_set_free(bench_set *s);

#endif
