/*
 * bench_reader: what a benchmark result format provides, and the loader the formats share.
 * Private to the readers (models/bench*.c); users read results through models/bench.h.
 *
 * A format is one file, models/bench_<name>.c, that defines one bench_format_def (its
 * name, its descriptions for help texts and messages, how to recognise it, and a load
 * function), plus one entry in the table of models/bench_table.c. bench.c takes
 * --format names, detection and every list of format names from the table.
 *
 * The JSON formats are read whole into memory and parsed with json-c one top-level value at
 * a time (bl_json_each), so a vLLM file written with --append-result (one object per line),
 * a pretty-printed document and an AIPerf JSON-lines file all go through the same loop, and
 * the byte offset where a value starts gives the line for messages. json-c's tokener, in its
 * default non-strict mode, reads the NaN, Infinity and -Infinity that Python's json module
 * writes. CSV goes through csvin, which streams and names file, line and column.
 *
 * Each format reader turns one request of its file into a `pending` request (the lengths
 * and whatever latencies the file gave, in seconds) and hands it to bl_add_request(), the
 * one place that decides whether a successful request is usable. A NaN, infinite or
 * negative latency, a time to first token of 0 or an end-to-end latency shorter than the
 * time to first token is a problem of that request only: it is left out and counted as a
 * warning. Malformed structure (truncated JSON, a missing key, arrays of different lengths,
 * token counts that are negative, fractional or a zero prompt) fails the whole file.
 */
#ifndef CAPSIM_BENCH_READER_H
#define CAPSIM_BENCH_READER_H

#include <stddef.h>
#include <stdint.h>

#include <json-c/json.h>

#include "models/bench.h"

/* Largest token count accepted. */
#define BENCH_MAX_TOKENS 1e9
/* Largest latency accepted, seconds (about 31 years); larger ones are unusable values. */
#define BENCH_MAX_TIME_S 1e9
/* Largest start time accepted, seconds on the file's own clock (epoch seconds fit). */
#define BENCH_MAX_START_S 1e12

/* Per-run bookkeeping of the loader, parallel to set->runs. */
typedef struct run_info {
    size_t cap;  /* capacity of the run's req array */
    size_t seen; /* requests of the run read so far (kept, skipped or failed) */
} run_info;

/* The state of one bench_load: the set being filled and what the readers share. */
typedef struct bload {
    const char *path;
    bench_set *set;
    size_t runs_cap;
    run_info *info;
    double *scratch; /* the inter-token latencies of the request being read, seconds */
    size_t scratch_cap;
    size_t n_skipped;     /* successful requests left out for unusable values */
    char first_skip[320]; /* what the first of them was, without the file name */
    /* The whole file (JSON formats), NUL-terminated, and where line counting got to. */
    char *buf;
    size_t len;
    size_t line_off;
    long line_no;
    json_tokener *tok;    /* top-level values */
    json_tokener *subtok; /* JSON inside strings (genai-perf responses) */
    char *err;
    size_t errlen;
} bload;

/* One request as a reader found it. Times are seconds; the have_ flags say which of the
 * optional values the file gave; the k_ strings name the file's keys for warnings. */
typedef struct pending {
    double start_s, prompt, output, ttft_s, e2e_s, tpot_s;
    int have_start, have_e2e, have_tpot;
    int have_itl; /* the file gave the whole list (n_itl values in scratch, maybe none) */
    size_t n_itl;
    size_t index; /* position of the request in its run, for messages */
    long line;    /* line of the request (or of its JSON value), 0 if unknown */
    const char *k_start, *k_ttft, *k_itl, *k_e2e, *k_tpot;
} pending;

typedef struct bench_format_def {
    const char *name;  /* the --format value, e.g. "genai-perf" */
    const char *alias; /* other spellings --format accepts, space-separated, or NULL */
    const char *title; /* how a list of tools names it, e.g. "GuideLLM" */
    const char *what;  /* the file, for messages: "a GuideLLM benchmarks.json" */
    const char *help;  /* the file, for calibrate --help (wrapped there) */
    int json;          /* JSON: the file is read whole (L->buf) and the tokeners made */
    /* Keys that mark the format in a JSON file; the earliest key of any format decides. */
    const char *const *json_keys;
    /* Recognises the format from the first bytes (after a byte-order mark and spaces)
     * when no key decided; NULL if keys are enough. */
    int (*detect)(const char *start);
    /* Reads the file into L->set. Returns 0, or -1 with L->err set. */
    int (*load)(bload *L);
} bench_format_def;

/* The formats, in the order of bench_format (the first is BENCH_VLLM) and of detection;
 * NULL-terminated (bench_table.c). */
extern const bench_format_def *const bench_formats[];

/* Messages: "path:line: <fmt>" (or "path: <fmt>" for line 0) into L->err; returns -1. */
__attribute__((format(printf, 3, 4))) int bl_fail_at(bload *L, long line, const char *fmt, ...);
/* Counts a warning; the first is kept in the set's first_warning. */
__attribute__((format(printf, 3, 4))) void bl_warn_at(bload *L, long line, const char *fmt, ...);
/* x for messages: "%.10g", "NaN", "Infinity" or "-Infinity". Returns buf. */
const char *bl_fmt_num(double x, char *buf, size_t len);
/* A time in seconds for messages: "0.25 s", or "NaN" and "Infinity" without a unit. */
const char *bl_fmt_s(double x, char *buf, size_t len);
/* A short one-line rendering of a JSON value for messages (buf, or a constant string). */
const char *bl_jshow(json_object *v, char *buf, size_t len);
/* Copies s into out[len] fit for a label: control characters become '?'. */
void bl_copy_printable(char *out, size_t len, const char *s);

/* JSON helpers that accept NULL and the wrong type. */
/* Member key of o, or NULL when o is not an object, has no such key or holds null there. */
json_object *bl_jkey(json_object *o, const char *key);
int bl_jis_num(json_object *v);
const char *bl_jstr(json_object *v);
size_t bl_jlen(json_object *arr);
/* Item i of arr, or NULL when arr is not an array or too short. */
json_object *bl_jidx(json_object *arr, size_t i);
/* Seconds from ns timestamp a to ns timestamp b, exact for non-negative integers. */
double bl_ns_diff_s(json_object *a, json_object *b);
/* A concurrency: a number >= 1 (capped at UINT32_MAX), else 0. */
uint32_t bl_concurrency_of(json_object *v);
/* Offset of the first place key appears as an object key ("key" then ':') in s, or -1. */
long bl_key_at(const char *s, const char *key);

/* Reads an optional number: absent or null gives *have = 0; a number gives *have = 1 (it may
 * be NaN or infinite: bl_add_request judges); anything else is an error naming ctx.key. */
int bl_opt_num(bload *L, long line, const char *ctx, json_object *o, const char *key, double *out,
               int *have);
/* Checks a token count x read from the file (shown as it appeared): a whole number from 0
 * to BENCH_MAX_TOKENS; zero is the caller's to judge. what names the value in messages. */
int bl_check_tokens(bload *L, long line, const char *what, double x, const char *shown,
                    double *out);
/* A token count from a JSON value, checked as bl_check_tokens does; NULL is an error. */
int bl_read_tokens(bload *L, long line, const char *what, json_object *v, double *out);

/* Runs and requests. */
/* "out of memory" naming the file; returns -1. */
int bl_oom(bload *L);
/* Appends an empty run; returns its index, or -1 when out of memory. */
long bl_new_run(bload *L, const char *label, const char *model);
/* Makes room for want requests in run ri. Returns 0 or -1. */
int bl_run_reserve(bload *L, size_t ri, size_t want);
/* Appends x to the scratch list of *n values. Returns 0 or -1. */
int bl_scratch_push(bload *L, size_t *n, double x);
/* An empty request (optional times NAN) at index and line, with generic key names. */
void bl_pending_init(pending *q, size_t index, long line);
/* Records a successful request the file gave with an unusable value: left out, warned. */
void bl_skip_request(bload *L, size_t ri, const pending *q, const char *key, const char *why);
/* Checks one successful request, fills in what can be derived (e2e from the inter-token
 * latencies, tpot from e2e and the reverse) and appends it to run ri, or leaves it out with
 * a warning when a value is unusable. Returns 0, or -1 when out of memory. The inter-token
 * latencies are the first q->n_itl values of L->scratch. */
int bl_add_request(bload *L, size_t ri, pending *q);
/* Drops runs without a successful request (with a warning), makes start times relative to
 * each run's earliest request and labels unique. Fails when no run is left. */
int bl_finalize(bload *L);

/* Reading a JSON file. */
/* Reads the whole file into L->buf. Returns 0 or -1. */
int bl_read_whole(bload *L);
typedef int (*json_value_fn)(bload *L, void *arg, json_object *v, long line, size_t index);
/* Parses the file's top-level JSON values in order and hands each to fn. With single, the
 * file must hold exactly one. arg is passed on to fn. */
int bl_json_each(bload *L, json_value_fn fn, void *arg, int single);

#endif
