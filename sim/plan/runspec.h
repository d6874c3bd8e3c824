/*
 * runspec: the typed description of a serving scenario (run_spec), shared by capsim run,
 * sweep, capacity, calibrate and the demo: every setting with its default and help, filled
 * from an INI scenario file here and from flags by the command line (sim/cli/runflags:
 * flags win), resolved into a serve_config, and the summary.csv columns.
 *
 * The settings are kept as the text a user gave, so that a scenario writes back to a
 * scenario file byte for byte; run_resolve checks and converts them.
 */
#ifndef CAPSIM_RUNSPEC_H
#define CAPSIM_RUNSPEC_H

#include <stdint.h>
#include <stdio.h>

#include "sim/base/csvout.h"
#include "sim/base/spool.h"
#include "sim/plan/deploy.h"
#include "sim/plan/scenario.h"
#include "sim/serve/serve.h"
#include "workloads/prefix.h"

/* Every setting, in the order written to scenario.ini and summary.csv. */
#define RUN_OPTIONS(X)                                                                             \
    X(model, "", "catalog model or config.json path")                                              \
    X(gpu, "", "catalog GPU")                                                                      \
    X(precision, "bf16", "weights: fp16, bf16, fp8, int8, int4")                                   \
    X(kv_precision, "auto", "KV cache: fp16, bf16, fp8, int8, or auto (16-bit)")                   \
    X(tp, "1", "GPUs per replica (tensor parallel)")                                               \
    X(tensor_cores, "on", "on or off (what-if)")                                                   \
    X(gpu_mem_util, "0.9", "share of GPU memory the engine may use")                               \
    X(mem_reserve, "auto",                                                                         \
      "GB per GPU the engine keeps beside weights and KV (auto: 2.15, +0.4 at tp > 1)")            \
    X(block_size, "16", "tokens per KV block")                                                     \
    X(profile, "default", "step-time profile CSV, or default")                                     \
    X(stack, "auto",                                                                               \
      "software stack: vllm-0.19, vllm-0.14, splitwise-2023 (the 2023 profile), or auto (the "     \
      "newest measured on the GPU)")                                                               \
    X(step_model, "auto",                                                                          \
      "auto (measured kernels where the GPU has tables, else roofline), kernels, roofline, or "    \
      "linear:a=A,b=B (seconds)")                                                                  \
    X(kernel_coeffs, "",                                                                           \
      "kernel_coeffs.csv from capsim calibrate: the measured-kernel model's class scales and "     \
      "outside terms for this GPU and stack (empty: the defaults)")                                \
    X(scheduler, "continuous", "" /* names from sim/serve/sched.c */)                              \
    X(max_num_seqs, "256", "most sequences in a step")                                             \
    X(max_batched_tokens, "8192", "token budget per step")                                         \
    X(chunked_prefill, "on", "on or off")                                                          \
    X(max_model_len, "auto",                                                                       \
      "longest prompt + output a replica accepts, tokens (auto: the model's context, its "         \
      "max_position_embeddings)")                                                                  \
    X(over_length, "reject",                                                                       \
      "a longer request: reject (refused, counted as rejected, as vLLM does), truncate (the "      \
      "prompt cut to leave room for the output) or error (stop, naming the request)")              \
    X(replicas, "1", "model replicas")                                                             \
    X(router, "rr", "" /* names from sim/serve/router.c */)                                        \
    X(arrival, "poisson:rate=1", "arrival process")                                                \
    X(prompt_len, "lognormal:mean=1000,cv=1", "prompt tokens distribution")                        \
    X(output_len, "lognormal:mean=200,cv=1", "output tokens distribution")                         \
    X(lengths_from, "", "take prompt and output lengths from this trace instead")                  \
    X(lengths_joint, "on", "on: draw whole (prompt, output) pairs; off: each independently")       \
    X(classes, "",                                                                                 \
      "request classes and shares, e.g. chat:0.7,document:0.3; each may have a [class.NAME] "      \
      "section")                                                                                   \
    X(prefix, "",                                                                                  \
      "shared system prompts: groups=G,users=U,system=S,question=Q (S, Q tokens: a number or a "   \
      "distribution; G groups of U users, each request from a user drawn at random; its prompt is " \
      "its group's S tokens, drawn once per group, then Q of its own; empty: none)")              \
    X(session, "",                                                                                 \
      "multi-turn chats: turns=T,message=M[,chats=C] (T turns per session, M tokens per new "      \
      "message: a number or a distribution; each turn's prompt is the last turn's prompt and "     \
      "answer then M tokens; open loop: arrivals go to C conversations in turn; empty: none)")    \
    X(requests, "auto",                                                                            \
      "requests per replication (auto: 2000, or a whole trace; a trace: at most this many, 0 = "   \
      "all)")                                                                                      \
    X(trace, "",                                                                                   \
      "a trace file, its format detected (--trace-format lists the formats); a pipe works too, "  \
      "e.g. a compressed trace as <(zcat trace.csv.gz)")                                          \
    X(trace_format, "auto", "" /* the names of the trace format table */)                          \
    X(trace_speedup, "1", "divide trace times by this (2 doubles the rate)")                       \
    X(trace_start, "0", "keep trace requests from this many seconds after the first")              \
    X(trace_end, "0", "... up to this many seconds (0 = to the end)")                              \
    X(skip_bad_rows, "off", "on: skip malformed trace rows (counted) instead of failing")          \
    X(strict_order, "off", "on: refuse trace timestamps out of order (else reorder)")              \
    X(trace_resample, "off",                                                                       \
      "off, or block:SECONDS: each replication replays the trace resampled in blocks of about "   \
      "SECONDS (block bootstrap), so the CI covers the traffic too")                              \
    X(users, "0", "closed loop: concurrent users, each waiting for its answer (0 = open)")         \
    X(think, "exp:mean=1", "closed loop: think time between a user's requests, s")                 \
    X(replications, "5", "independent replications")                                               \
    X(warmup, "0.1", "share of requests deleted as warm-up")                                       \
    X(seed, "1", "master seed")                                                                    \
    X(slo, "", "targets, e.g. ttft_p99=500ms,tpot_p99=50ms (a bare number is seconds)")            \
    X(goodput, "",                                                                                 \
      "per-request limits as vLLM's --goodput takes them, in ms: ttft:500,tpot:50 (also e2el); "   \
      "goodput and SLO attainment count the requests within all of them")                          \
    X(sample_interval, "1", "time-series interval, s (0 = none)")                                  \
    X(per_request, "off", "write requests.csv with --out (a flag; on/off in a scenario file)")     \
    X(jump, "on", "on: advance unchanging decode stretches in one event")                        \
    X(prefix_caching, "on",                                                                        \
      "on or off: keep full KV blocks of shared prefixes cached and reuse them (vLLM V1)")         \
    X(kv_offload_gb, "0",                                                                          \
      "GB of host memory per replica for KV blocks evicted from the GPUs (a CPU tier, as vLLM's "  \
      "CPU offloading or LMCache): a later hit brings them back over PCIe instead of computing "   \
      "them again; 0 = none")                                                                      \
    X(price, "",                                                                                   \
      "GPU-hour prices in USD instead of the catalog's, e.g. h100-sxm=2.49,a100-80gb=1.6 (the "    \
      "flag may be repeated)")                                                                     \
    X(prices, "", "a CSV of GPU-hour prices: columns gpu,usd_per_hour[,source]; --price wins")

#define RUN_ENUM(name, dflt, help) OPT_##name,
typedef enum run_opt { RUN_OPTIONS(RUN_ENUM) OPT_COUNT } run_opt;
#undef RUN_ENUM

extern const char *const run_opt_key[OPT_COUNT];
extern const char *const run_opt_default[OPT_COUNT];

/* A [class.NAME] section of a scenario file: what differs for that class. */
#define RUN_CLASS_VALUE_MAX 180 /* the longest spec of a [class.NAME] key */
typedef struct class_def {
    char name[32];
    char prompt_len[RUN_CLASS_VALUE_MAX + 1], output_len[RUN_CLASS_VALUE_MAX + 1];
    char slo[RUN_CLASS_VALUE_MAX + 1];
} class_def;

typedef struct run_spec {
    char value[OPT_COUNT][SCENARIO_MAX_VALUE + 1];
    unsigned char given[OPT_COUNT]; /* set by a scenario file or a flag, not a default */
    unsigned char flag[OPT_COUNT];  /* set by a flag on the command line */
    const char *out_dir;
    class_def cls[REQSRC_MAX_CLASSES];
    uint32_t n_cls;
    /* Non-NULL: step-time coefficients in memory, used instead of the profile option's file
     * (borrowed; set by a command, never by a flag). */
    const profile_row *profile_values;
    /* Where --trace and --lengths-from are read when they name a pipe or a FIFO: a copy
     * made by run_spool_inputs (sim/base/spool.h); empty: the file itself. */
    char trace_file[SPOOL_PATH_MAX], lengths_file[SPOOL_PATH_MAX];
} run_spec;

typedef struct resolved {
    deploy dep;
    int have_dep;
    arrival_process arrivals;
    dist prompt, output, think;
    reqsrc_pairs pairs;
    int have_arr, have_prompt, have_output, have_think, have_pairs;
    reqsrc_mix mix;
    prefix_workload prefix;
    dist cls_prompt[REQSRC_MAX_CLASSES], cls_output[REQSRC_MAX_CLASSES];
    int have_cls_prompt[REQSRC_MAX_CLASSES], have_cls_output[REQSRC_MAX_CLASSES];
    serve_slo cls_slo[REQSRC_MAX_CLASSES];
    char max_model_len[24]; /* the limit as resolved (auto: the model's context), as text */
    serve_config cfg;
} resolved;

/* Every option at its default, none given, no classes, no --out. */
void run_defaults(run_spec *r);

/* "max_num_seqs" -> "max-num-seqs" */
void run_flag_name(run_opt o, char *buf, size_t len);

/* Prints "  --name  help [default]" for every option. */
void run_print_options(FILE *out);

/* Sets option o (as a scenario file or a flag does: marked given). Returns 0, or -1 with a
 * message when the value is longer than a scenario file can hold. */
int run_set_value(run_spec *r, run_opt o, const char *val, char *err, size_t errlen);

/* Fills r from a scenario file: `key = value` for any option, in any section, and
 * [class.NAME] sections. Returns 0, or -1 with "path:line: message". */
int run_load_ini(run_spec *r, const char *path, char *err, size_t errlen);

/* Reads a --trace or --lengths-from that names a pipe or a FIFO once into a private copy
 * (trace_file, lengths_file), so that every later run of r reads the copy; messages still
 * name the file as given. Returns 0, or -1 with a message. */
int run_spool_inputs(run_spec *r, char *err, size_t errlen);

/* Warns on err ("capsim CMD: warning: ...") of every setting given with a value other
 * than its default that the others make meaningless: an arrival process or lengths beside
 * a --trace, lengths beside --lengths-from, trace options without a trace, a think time
 * without --users, and so on. Returns how many warnings it wrote. */
int run_warn_ignored(const run_spec *r, const char *cmd, FILE *err);

/* Warns on err of SLO targets given as bare numbers (seconds) that are implausible as
 * seconds: a TTFT or end-to-end limit over 60 s, a TPOT limit over 5 s (vLLM's --goodput
 * takes milliseconds, so ttft_p99=1000 is most likely meant as 1000ms). Returns how many. */
int run_warn_slo_units(const run_spec *r, const char *cmd, FILE *err);

/* Turns the values into a serve_config in x. On failure returns -1 with a one-line
 * message; x must be released with run_resolved_fini either way. */
int run_resolve(const run_spec *r, resolved *x, char *err, size_t errlen);
void run_resolved_fini(resolved *x);

/* The warning of a run with requests longer than c->max_model_len, on err as "capsim NAME:
 * warning: ...": how many of the requests (over all replications), the limit, and what
 * became of them. Nothing when there were none. */
/* The warning of a run whose steps reached shapes the measured kernels do not cover
 * (deploy_extrapolation of its peaks), on err as "capsim NAME: warning: ...". */
void run_warn_extrapolated(FILE *err, const char *name, const deploy *d, const serve_result *res);

void run_warn_over_length(FILE *err, const char *name, const serve_config *c,
                          const serve_result *res);

/* Sets rate=VALUE in an arrival spec that has a rate key. */
int run_set_rate(char *arr, size_t len, const char *value, char *err, size_t errlen);

/* What the 95% intervals over replications cover, for the summary's ci_covers column and
 * the printed summary: a trace replayed as it is varies only by the step-time noise. */
const char *run_ci_covers(const serve_config *c);

/* Setting o of r as outputs record it: as given, except the stack and the step model, which
 * are recorded as resolved in x (when x is not NULL), so that scenario.ini reproduces a run
 * after the defaults change (a newer stack measured, say). */
const char *run_value_resolved(const run_spec *r, const resolved *x, run_opt o);

/* The summary header: every setting, the deployment's figures, every metric with its CI.
 * Classes (named in x, or none when x is NULL) add their columns. */
void run_summary_header(csvout *c, const resolved *x, uint32_t n_classes);

/* The rate a run offers, req/s, for the summary's offered_rate column: the arrival
 * process's long-run mean rate (arrival.h) for a synthetic open workload, the rate a
 * trace's measured requests arrived at (serve_result.offered_rate) for a trace, NAN for a
 * closed loop. With x or res NULL (a point that could not run), the rate the arrival
 * process of r names. */
double run_offered_rate(const run_spec *r, const resolved *x, const serve_result *res);

/* The values of one run, matching run_summary_header. With x or res NULL (a point that
 * could not run), the settings and empty figures. */
void run_summary_values(csvout *c, const run_spec *r, const resolved *x, const serve_result *res,
                        uint32_t n_classes);

#endif
