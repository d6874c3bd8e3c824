/*
 * serve: the serving simulation. Requests from a workload are routed to replicas; each
 * replica runs a scheduler (continuous batching with paged KV memory and preemption by
 * recompute, vLLM-like; or static batching) and steps whose durations come from the
 * step-time model. Reports vLLM's latency metrics, throughput, goodput under SLOs,
 * utilisation and KV occupancy, over independent replications with 95% CIs.
 *
 * Timing convention: a request's first output token is produced by its (last) prefill
 * step, so a request with O output tokens needs its prefill and O-1 decode steps.
 * TTFT = first token - arrival; E2E = last token - arrival; TPOT = (E2E - TTFT)/(O - 1);
 * ITL = gaps between consecutive tokens of a request; queue delay = first scheduled -
 * arrival.
 *
 * Random sources per replication: 0 arrivals, 1 lengths, 2 routing, 3 + r the step-time
 * noise of replica r.
 */
#ifndef CAPSIM_SERVE_H
#define CAPSIM_SERVE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "models/steptime.h"
#include "sim/base/stats.h"
#include "workloads/reqsrc.h"
#include "workloads/traces.h"

/* A replica's scheduler and the router, tables of operations found by name (see
 * sim/serve/sched.h and sim/serve/router.h). */
typedef struct serve_sched_ops serve_sched_ops;
typedef struct serve_router_ops serve_router_ops;

/* Per-request SLO limits, seconds; a limit <= 0 is not set. The percentile of each target
 * is reported (the target is met when that percentile is within the limit); attainment
 * and goodput check every request against every limit. */
typedef enum serve_slo_metric { SLO_TTFT, SLO_TPOT, SLO_E2EL, SLO_COUNT } serve_slo_metric;

typedef struct serve_slo {
    double limit_s[SLO_COUNT];
    double pct[SLO_COUNT]; /* which percentile the target names (99 for ttft_p99); 0 = mean */
} serve_slo;

/* What a request longer than max_model_len becomes (serve_config.over_length). */
typedef enum serve_over_length {
    SERVE_OVER_REJECT,   /* refused at arrival, as vLLM does: counted as rejected */
    SERVE_OVER_TRUNCATE, /* the prompt cut (and the output, if it alone fills the context) */
    SERVE_OVER_ERROR     /* the run fails, naming the request */
} serve_over_length;

typedef struct serve_workload {
    /* synthetic: */
    const arrival_process *arrivals;
    const dist *prompt_len, *output_len;
    uint64_t requests;
    /* or a trace (any format workloads/traces.h reads), with its reading options; at most
     * `requests` requests when that is not 0: */
    const char *trace_path;
    trace_options trace_opt;
    /* > 0: each replication replays the trace resampled in blocks of this many seconds
     * (workloads/resample.h), seeded per replication; 0: the trace as it is. */
    double trace_resample_block_s;
    /* lengths from a trace's requests instead of prompt_len/output_len (NULL: not used) */
    const reqsrc_pairs *pairs;
    /* request classes with their shares and lengths (NULL: one class) */
    const reqsrc_mix *mix;
    /* shared prefixes: groups or sessions (workloads/prefix.h; NULL: nothing shared) */
    const struct prefix_workload *prefix;
    /* or a closed loop (users > 0): each user sends a request, waits for its last token,
     * thinks for a time drawn from think (seconds), and sends the next; lengths as above.
     * requests is then the total sent. */
    uint32_t users;
    const dist *think;
} serve_workload;

typedef struct serve_config {
    const step_model *step;       /* per replica */
    uint64_t kv_blocks;           /* per replica */
    uint32_t block_size;          /* tokens per KV block */
    const serve_sched_ops *sched; /* NULL: the default, continuous batching */
    uint32_t max_num_seqs;
    uint32_t max_batched_tokens;
    int chunked_prefill;
    uint32_t replicas;
    const serve_router_ops *router; /* NULL: the default, round robin */
    serve_workload wl;
    uint32_t replications;
    double warmup_fraction;
    uint64_t seed;
    serve_slo slo;
    const serve_slo *class_slo; /* per class of wl.mix (NULL: every class uses slo) */
    /* Per-request limits in vLLM's --goodput sense (seconds; 0: none): when any is set, a
     * request counts towards goodput and SLO attainment when it is within every one of
     * them, instead of within the limits of slo (whose percentile targets still apply). */
    double goodput_s[SLO_COUNT];
    double gpus_per_replica;
    double price_usd_per_gpu_hour; /* NAN if unknown */
    int jump;                      /* advance unchanging decode stretches in one event */
    int check_invariants;          /* tests: verify KV accounting after every step (slow) */
    /* The longest sequence a replica accepts, prompt plus output tokens, as vLLM's
     * max_model_len (0: no limit), and what happens to a request longer than that: vLLM
     * refuses it (counted as rejected), or it is cut to fit, or the run fails. */
    uint32_t max_model_len;
    serve_over_length over_length;
    /* Prefix caching (continuous batching; sim/serve/kvblocks.h): full KV blocks of shared
     * content stay cached and are reused by later requests. Off: today's results. */
    int prefix_caching;
    /* The CPU tier (kvblocks.h): blocks evicted from a replica's GPU cache move to host
     * memory of kv_offload_blocks blocks (0: none), and a hit there costs
     * kv_load_s_per_block per block brought back, added to the step that prefills it. */
    uint64_t kv_offload_blocks;
    double kv_load_s_per_block;
    /* Tests: when set, each replication's requests come from source_open(source_arg, the
     * replication's seeds) instead of the workload (wl.requests must give their number). */
    reqsrc *(*source_open)(void *arg, const unsigned long *seeds);
    void *source_arg;
    /* Optional: called every SERVE_PROGRESS_EVENTS events of every replication with the
     * requests that have arrived over all replications so far and the total, so that a
     * long run can show how far it has got (sim/base/progress.h); NULL: not called. */
    void (*progress)(void *arg, uint64_t arrived, uint64_t total);
    void *progress_arg;
    FILE *requests_out;            /* optional per-request rows (all replications) */
    FILE *timeseries_out;          /* optional samples of replication 0 */
    double sample_interval_s;
} serve_config;

/* How often the progress callback is called: a power of two, so that the check is a mask,
 * and rare enough that the clock it reads (some 20 ns per 4096 events of about 100 ns each)
 * costs nothing measurable, yet often enough that a capacity search's steps of a few
 * thousand requests show theirs. */
#define SERVE_PROGRESS_EVENTS 4096u

#define SERVE_METRICS(X)                                                                           \
    X(request_throughput, "req/s")                                                                 \
    X(output_throughput, "tok/s")                                                                  \
    X(total_token_throughput, "tok/s")                                                             \
    X(mean_ttft_ms, "ms")                                                                          \
    X(p50_ttft_ms, "ms")                                                                           \
    X(p90_ttft_ms, "ms")                                                                           \
    X(p95_ttft_ms, "ms")                                                                           \
    X(p99_ttft_ms, "ms")                                                                           \
    X(p999_ttft_ms, "ms")                                                                          \
    X(mean_tpot_ms, "ms")                                                                          \
    X(p50_tpot_ms, "ms")                                                                           \
    X(p90_tpot_ms, "ms")                                                                           \
    X(p95_tpot_ms, "ms")                                                                           \
    X(p99_tpot_ms, "ms")                                                                           \
    X(p999_tpot_ms, "ms")                                                                          \
    X(mean_itl_ms, "ms")                                                                           \
    X(p50_itl_ms, "ms")                                                                            \
    X(p90_itl_ms, "ms")                                                                            \
    X(p95_itl_ms, "ms")                                                                            \
    X(p99_itl_ms, "ms")                                                                            \
    X(p999_itl_ms, "ms")                                                                           \
    X(mean_e2el_ms, "ms")                                                                          \
    X(p50_e2el_ms, "ms")                                                                           \
    X(p90_e2el_ms, "ms")                                                                           \
    X(p95_e2el_ms, "ms")                                                                           \
    X(p99_e2el_ms, "ms")                                                                           \
    X(p999_e2el_ms, "ms")                                                                          \
    X(mean_queue_ms, "ms")                                                                         \
    X(p50_queue_ms, "ms")                                                                          \
    X(p90_queue_ms, "ms")                                                                          \
    X(p95_queue_ms, "ms")                                                                          \
    X(p99_queue_ms, "ms")                                                                          \
    X(p999_queue_ms, "ms")                                                                         \
    X(goodput, "req/s")                                                                            \
    X(slo_attainment_pct, "%")                                                                     \
    X(gpu_utilization, "fraction")                                                                 \
    X(mean_running_batch, "seqs")                                                                  \
    X(max_running_batch, "seqs")                                                                   \
    X(mean_kv_occupancy, "fraction")                                                               \
    X(max_kv_occupancy, "fraction")                                                                \
    X(preemptions_per_request, "count")                                                            \
    X(rejected_fraction, "fraction")                                                               \
    X(cost_per_million_output_tokens, "USD")                                                       \
    X(cost_per_million_input_tokens, "USD")                                                        \
    X(cost_per_million_total_tokens, "USD")                                                        \
    X(mean_in_system, "requests")                                                                  \
    X(lambda_w, "requests")                                                                        \
    X(std_ttft_ms, "ms")                                                                           \
    X(std_tpot_ms, "ms")                                                                           \
    X(std_itl_ms, "ms")                                                                            \
    X(std_e2el_ms, "ms")

#define SERVE_ENUM(name, unit) SM_##name,
typedef enum serve_metric { SERVE_METRICS(SERVE_ENUM) SM_COUNT } serve_metric;
#undef SERVE_ENUM

extern const char *const serve_metric_names[SM_COUNT];
extern const char *const serve_metric_units[SM_COUNT];

/* Prefix-cache figures (with prefix caching on; not in SERVE_METRICS, so that a run with
 * it off writes today's columns): the share of measured requests' prompt tokens served
 * from the cache at their first admission (both tiers), the share served from the CPU tier,
 * the prefill tokens every admission took from the cache (per replication), the cached
 * blocks evicted from the GPU and the blocks brought back from the CPU tier (per
 * replication). */
#define SERVE_PREFIX_METRICS(X)                                                                    \
    X(prefix_hit_rate, "fraction")                                                                 \
    X(prefix_hit_rate_cpu, "fraction")                                                             \
    X(prefill_tokens_saved, "tokens")                                                              \
    X(prefix_evictions, "blocks")                                                                  \
    X(kv_offload_loads, "blocks")

#define SERVE_PREFIX_ENUM(name, unit) SP_##name,
typedef enum serve_prefix_metric { SERVE_PREFIX_METRICS(SERVE_PREFIX_ENUM) SP_COUNT } serve_prefix_metric;
#undef SERVE_PREFIX_ENUM

extern const char *const serve_prefix_names[SP_COUNT];
extern const char *const serve_prefix_units[SP_COUNT];

typedef struct serve_result {
    stats_ci metric[SM_COUNT];
    double *per_rep;      /* per_rep[m * replications + r]; owned */
    unsigned long *seeds; /* seeds[r * n_sources + s]; owned */
    size_t n_seeds, n_sources;
    int little_checked, little_ok;
    int slo_met[SLO_COUNT]; /* 1 if the percentile target is met (mean over reps) */
    double cost_per_hour_usd;
    uint64_t trace_rows_bad;       /* a trace's malformed rows skipped (--skip-bad-rows) */
    uint64_t trace_rows_reordered; /* a trace's rows that came out of time order */
    char trace_first_bad[256];     /* the first bad row's message */
    uint32_t n_classes;            /* of wl.mix; 0 without classes */
    stats_ci class_attainment[REQSRC_MAX_CLASSES]; /* SLO attainment %, per class */
    stats_ci class_share[REQSRC_MAX_CLASSES];      /* share of completed requests, % */
    uint64_t requests_total;                       /* over all replications */
    uint64_t events;                               /* over all replications */
    uint64_t steps; /* forward passes simulated, over all replications */
    /* Conservation, over all replications and all requests (warm-up included): */
    uint64_t offered, rejected, finished;
    uint64_t over_length;  /* requests longer than max_model_len (rejected or truncated) */
    uint64_t over_length_refused; /* of those, the ones refused (in rejected) */
    uint64_t tokens_asked; /* output tokens of the requests that finished */
    uint64_t tokens_out;   /* output tokens produced */
    uint64_t preemptions;
    uint64_t max_blocks_used;      /* most KV blocks held on one replica at once */
    uint64_t invariant_violations; /* with check_invariants */
    /* The largest step shapes reached, over all replications: decode sequences in a step,
     * the context a finished request had decoded at its last step, prompt tokens in a
     * step, and the context before a prefill chunk (for deploy_extrapolation: were they
     * inside the data?) */
    double peak_decode_seqs, peak_decode_ctx, peak_prefill_tokens, peak_prefill_ctx;
    int prefix_on;                 /* prefix caching was on (prefix below is set) */
    stats_ci prefix[SP_COUNT];
    /* Per replica (replicas of them; owned): the share of measured requests routed to it,
     * in %, and its prefix figures, replica_prefix[replica * SP_COUNT + m]. */
    uint32_t n_replicas;
    stats_ci *replica_share, *replica_prefix;
    /* Saturation (sim/serve/result.h): the rate the measured requests were offered at, req/s,
     * the share of it carried (request_throughput over it), and the verdict: 1 saturated, 0
     * not, -1 not judged (a closed loop, or a batch). */
    stats_ci offered_rate, carried_share;
    int saturated;
} serve_result;

/* The reported metric a target names: e.g. (SLO_TTFT, 99) -> SM_p99_ttft_ms; pct 0 is the
 * mean; pct must be one of 0, 50, 90, 95, 99, 99.9. */
serve_metric serve_slo_target_metric(serve_slo_metric k, double pct);

/* Runs every replication. Returns 0 and fills *res (free with serve_result_fini), or -1
 * with a message (bad configuration, a trace error, out of memory). */
/* Prefix caching is in force: on, under a scheduler that caches blocks. */
int serve_prefix_active(const serve_config *c);

int serve_run(const serve_config *cfg, serve_result *res, char *err, size_t errlen);
void serve_result_fini(serve_result *res);

#endif
