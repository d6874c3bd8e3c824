/*
 * capsim.h: the public interface of the capsim library.
 *
 * A program that wants capsim's answers without its command line opens a scenario, sets
 * what differs from the defaults (the same keys as a scenario.ini file or `capsim run`'s
 * flags, with '_' or '-'), runs it and reads the metrics:
 *
 *     capsim_scenario *s;
 *     if (capsim_scenario_open(NULL, &s) != CAPSIM_OK) ...
 *     capsim_scenario_set(s, "model", "llama-3.1-8b");
 *     capsim_scenario_set(s, "arrival", "poisson:rate=10");
 *     capsim_result *r;
 *     if (capsim_run(s, &r) != CAPSIM_OK) puts(capsim_scenario_error(s));
 *     double mean_ms, ci_ms;
 *     capsim_result_metric(r, "p99_ttft_ms", &mean_ms, &ci_ms);
 *     capsim_result_free(r);
 *     capsim_scenario_free(s);
 *
 * Handles are opaque. Every function that can fail returns a capsim_status; the message of
 * the last failure on a scenario (one line, naming the key or file, what was found and what
 * was expected) is capsim_scenario_error(s). Nothing here prints or exits. Handles are not
 * shared between threads; two scenarios may run at once in two threads.
 *
 * The data files (the model and GPU catalogs, the step-time profiles) are found in the
 * data directory: $CAPSIM_DATA_DIR, else PREFIX/share/capsim beside the program, else the
 * source tree the library was built from (see README, "Installing").
 */
#ifndef CAPSIM_H
#define CAPSIM_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum capsim_status {
    CAPSIM_OK = 0,
    CAPSIM_EINVAL = -1,   /* a key, a value, a scenario file or the deployment is not valid
                             (an unknown model, a model that does not fit its GPUs) */
    CAPSIM_ERUN = -2,     /* the simulation could not run (a trace unreadable mid-run) */
    CAPSIM_ENOMEM = -3,   /* out of memory */
    CAPSIM_ENOTFOUND = -4 /* no such metric (capsim_result_metric) */
} capsim_status;

typedef struct capsim_scenario capsim_scenario;
typedef struct capsim_result capsim_result;

/* "capsim 0.1.0". */
const char *capsim_version(void);

/* The one-line meaning of a status. Never NULL. */
const char *capsim_strerror(int status);

/* A scenario with every default, then the keys of the INI file at path (NULL for none).
 * On success *out is a new scenario for capsim_scenario_free. On failure *out is still a
 * scenario (or NULL when memory ran out) whose capsim_scenario_error says what went wrong;
 * free it too. */
int capsim_scenario_open(const char *path, capsim_scenario **out);

/* Sets one key ("model", "gpu", "tp", "arrival", "requests", "replications", "seed", ...:
 * `capsim run --help` lists them). The value is checked when the scenario runs. */
int capsim_scenario_set(capsim_scenario *s, const char *key, const char *value);

/* The message of the scenario's last failure, or "" when none. Valid until the next call
 * on s. */
const char *capsim_scenario_error(const capsim_scenario *s);

/* Runs every replication. On success *out is a new result for capsim_result_free. */
int capsim_run(capsim_scenario *s, capsim_result **out);

/* The metrics of a result, by index (0 .. count-1), named as the columns of summary.csv
 * ("p99_ttft_ms", "mean_tpot_ms", "request_throughput", "goodput", ...), with their units
 * ("ms", "req/s", "tok/s", "fraction", ...). NULL for an index out of range. */
size_t capsim_result_metric_count(const capsim_result *r);
const char *capsim_result_metric_name(const capsim_result *r, size_t i);
const char *capsim_result_metric_unit(const capsim_result *r, size_t i);

/* The mean over replications of the named metric and the half-width of its 95%
 * confidence interval (NaN with a single replication). CAPSIM_ENOTFOUND for an unknown
 * name. */
int capsim_result_metric(const capsim_result *r, const char *name, double *mean,
                         double *ci_half);

/* Requests offered, finished and refused, summed over replications. */
void capsim_result_requests(const capsim_result *r, unsigned long long *offered,
                            unsigned long long *finished, unsigned long long *refused);

void capsim_result_free(capsim_result *r);
void capsim_scenario_free(capsim_scenario *s);

#ifdef __cplusplus
}
#endif

#endif
