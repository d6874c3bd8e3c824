/*
 * experiment: a serving scenario run with its replications, its files and its summary
 * (see experiment.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/experiment.h"

#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plots/plot.h"
#include "sim/base/csvout.h"
#include "sim/base/histo.h"
#include "sim/base/progress.h"
#include "sim/base/util.h"
#include "sim/plan/deploy.h"
#include "sim/plan/jsonout.h"
#include "sim/serve/router.h"
#include "sim/serve/sched.h"
#include "sim/serve/serve.h"

plan_status plan_fail(plan_error *e, plan_status status, const char *context, const char *fmt,
                      ...)
{
    if (e == NULL)
        return status;
    e->status = status;
    snprintf(e->context, sizeof e->context, "%s", context ? context : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->reason, sizeof e->reason, fmt, ap);
    va_end(ap);
    return status;
}

void plan_error_print(FILE *err, const char *cmd, plan_status status, const plan_error *e)
{
    if (status == PLAN_OK)
        return;
    fprintf(err, "capsim %s: %s%s%s%s%s%s\n", cmd, e->context, e->context[0] ? ": " : "",
            e->reason, status == PLAN_BAD_INPUT ? " (see capsim " : "",
            status == PLAN_BAD_INPUT ? cmd : "", status == PLAN_BAD_INPUT ? " --help)" : "");
}

void plan_draw_plots(const char *cmd, const char *dir, FILE *out, FILE *err)
{
    plot_report rep;
    char msg[1024];
    if (plot_dir(dir, PLOT_PNG | PLOT_SVG, &rep, msg, sizeof msg) != 0) {
        fprintf(err, "capsim %s: warning: the results are written, but a plot failed: %s\n",
                cmd, msg);
        return;
    }
    plot_report_kept(err, cmd, &rep);
    if (rep.n_written == 0)
        return;
    if (rep.gnuplot_missing)
        fprintf(err,
                "capsim %s: gnuplot not found; wrote the plot scripts in %s/ (install "
                "gnuplot-nox and run capsim plot %s)\n",
                cmd, rep.plots_dir, dir);
    else
        fprintf(out, "  plots: %s/ (%zu, PNG and SVG; capsim plot %s draws them again)\n",
                rep.plots_dir, rep.n_drawn, dir);
}

/* --- outputs ------------------------------------------------------------------------------ */

static void write_scenario(FILE *fp, const run_spec *r, const resolved *x,
                           const serve_result *res)
{
    fprintf(fp, "; capsim run scenario, every setting resolved.\n");
    fprintf(fp, "; Reproduce with: capsim run THIS_FILE --out DIR\n");
    fprintf(fp, "; Stream seeds (derived from seed): see seeds.csv; replication 0:");
    for (size_t i = 0; i < res->n_sources && i < 8; i++)
        fprintf(fp, " %lu", res->seeds[i]);
    fprintf(fp, "%s\n", res->n_sources > 8 ? " ..." : "");
    fprintf(fp, "; Steps priced by: %s\n[run]\n", x->dep.step_data);
    for (int o = 0; o < OPT_COUNT; o++)
        fprintf(fp, "%s = %s\n", run_opt_key[o], run_value_resolved(r, x, (run_opt)o));
    for (uint32_t k = 0; k < r->n_cls; k++) {
        const class_def *d = &r->cls[k];
        fprintf(fp, "[class.%s]\n", d->name);
        if (d->prompt_len[0])
            fprintf(fp, "prompt_len = %s\n", d->prompt_len);
        if (d->output_len[0])
            fprintf(fp, "output_len = %s\n", d->output_len);
        if (d->slo[0])
            fprintf(fp, "slo = %s\n", d->slo);
    }
}

static void write_summary(FILE *fp, const run_spec *r, const resolved *x, const serve_result *res)
{
    csvout c;
    csvout_init(&c, fp);
    run_summary_header(&c, x, res->n_classes);
    csvout_end_row(&c);
    run_summary_values(&c, r, x, res, res->n_classes);
    csvout_end_row(&c);
}

static void write_seeds(FILE *fp, const serve_result *res, uint64_t master)
{
    fprintf(fp, "master_seed,replication,source,seed\n");
    for (size_t i = 0; i < res->n_seeds; i++) {
        size_t src = i % res->n_sources;
        char name[48];
        if (src == 0)
            snprintf(name, sizeof name, "arrivals");
        else if (src == 1)
            snprintf(name, sizeof name, "lengths");
        else if (src == 2)
            snprintf(name, sizeof name, "routing");
        else
            snprintf(name, sizeof name, "noise_replica_%zu", src - 3);
        fprintf(fp, "%llu,%zu,%s,%lu\n", (unsigned long long)master, i / res->n_sources, name,
                res->seeds[i]);
    }
}

/* per_replica.csv: each replica's share of the measured requests and its prefix-cache figures
 * (with prefix caching on), each with its 95% CI over the replications. */
static void write_replicas(FILE *fp, const serve_result *res)
{
    csvout c;
    csvout_init(&c, fp);
    csvout_str(&c, "replica");
    csvout_str(&c, "request_share_pct");
    csvout_str(&c, "request_share_pct_ci95");
    for (int m = 0; res->prefix_on && m < SP_COUNT; m++) {
        char ci[80];
        snprintf(ci, sizeof ci, "%s_ci95", serve_prefix_names[m]);
        csvout_str(&c, serve_prefix_names[m]);
        csvout_str(&c, ci);
    }
    csvout_end_row(&c);
    for (uint32_t i = 0; i < res->n_replicas; i++) {
        csvout_u64(&c, i);
        csvout_num(&c, res->replica_share[i].mean);
        csvout_num(&c, res->replica_share[i].half_width);
        for (int m = 0; res->prefix_on && m < SP_COUNT; m++) {
            csvout_num(&c, res->replica_prefix[(size_t)i * SP_COUNT + (size_t)m].mean);
            csvout_num(&c, res->replica_prefix[(size_t)i * SP_COUNT + (size_t)m].half_width);
        }
        csvout_end_row(&c);
    }
}

static void print_row(FILE *out, const serve_result *res, serve_metric m)
{
    char v[32], ci[32];
    fprintf(out, "  %-32s %14s %12s  %s\n", serve_metric_names[m],
            util_fmt_fig(v, sizeof v, 6, res->metric[m].mean),
            util_fmt_fig(ci, sizeof ci, 3, res->metric[m].half_width), serve_metric_units[m]);
}

/* A figure of the prefix cache with its interval, as print_row prints a metric. */
static void print_fig(FILE *out, const char *name, stats_ci f, const char *unit)
{
    char v[32], ci[32];
    fprintf(out, "  %-32s %14s %12s  %s\n", name, util_fmt_fig(v, sizeof v, 6, f.mean),
            util_fmt_fig(ci, sizeof ci, 3, f.half_width), unit);
}

/* Says why a figure of the table is n/a (summary.csv leaves such a cell empty). */
static void print_na_notes(FILE *out, const serve_config *c, const serve_result *res)
{
    int missing = 0;
    for (int m = 0; m < SM_COUNT; m++)
        missing |= !isfinite(res->metric[m].mean);
    if (c->replications == 1)
        fprintf(out, "  n/a in the +-95%% CI column: one replication gives no interval "
                     "(--replications 2 or more).\n");
    if (missing)
        fprintf(out, "  n/a figure: no measured request gave it (TPOT and ITL need requests of 2 "
                     "or more output tokens; the latencies need requests that finished, not "
                     "refused ones).\n");
}

/* The longest request a replica accepts, and whether vLLM would start with it. */
static void print_length_limit(FILE *out, const serve_config *c, const deploy *d)
{
    static const char *const over[] = {"rejected, as vLLM does", "cut to fit", "an error"};
    fprintf(out, "  max model length: %u tokens of prompt + output; a longer request is %s\n",
            c->max_model_len, over[c->over_length]);
    /* vLLM refuses to start when one sequence of the longest length does not fit in the
     * KV cache; capsim runs and refuses such requests one by one. */
    if (d->mem.kv_tokens < c->max_model_len)
        fprintf(out,
                "  note: the KV cache holds %llu tokens, fewer than the max model length: "
                "vLLM would not start (it asks for --max-model-len %llu or less); longer "
                "requests are refused here\n",
                (unsigned long long)d->mem.kv_tokens, (unsigned long long)d->mem.kv_tokens);
}

/* The max model length and the workload, as the header of run's table says them. */
static void print_workload(FILE *out, const run_spec *r, const serve_config *c, const deploy *d)
{
    print_length_limit(out, c, d);
    /* Shared prefixes or sessions make the prompts; --prompt-len is not used then. */
    char prompt[sizeof r->value[0] + 64], output[sizeof r->value[0]];
    snprintf(output, sizeof output, "%s", r->value[OPT_output_len]);
    if (r->value[OPT_lengths_from][0]) {
        /* --lengths-from replaces both distributions: say what is used, not what is not. */
        snprintf(prompt, sizeof prompt, "and output from %s (%s)", r->value[OPT_lengths_from],
                 strcmp(r->value[OPT_lengths_joint], "off") ? "joint pairs" : "independently");
        output[0] = '\0';
    } else if (r->value[OPT_prefix][0])
        snprintf(prompt, sizeof prompt, "--prefix %s", r->value[OPT_prefix]);
    else if (r->value[OPT_session][0])
        snprintf(prompt, sizeof prompt, "--session %s", r->value[OPT_session]);
    else
        snprintf(prompt, sizeof prompt, "%s", r->value[OPT_prompt_len]);
    if (c->wl.trace_path)
        fprintf(out, "  workload: trace %s\n", r->value[OPT_trace]);
    else if (c->wl.users > 0)
        fprintf(out,
                "  workload: closed loop, %u users thinking %s between requests; prompt %s%s%s\n",
                c->wl.users, r->value[OPT_think], prompt, output[0] ? ", output " : "", output);
    else
        fprintf(out, "  workload: %s, prompt %s%s%s\n", r->value[OPT_arrival], prompt,
                output[0] ? ", output " : "", output);
}

/* Where the measured kernel tables come from (models/kernels/README.md). */
#define KERNEL_DATA_SOURCE                                                                         \
    "NVIDIA AIConfigurator's kernel measurements under vLLM (ai-dynamo/aiconfigurator@095f58a5, "  \
    "2026-08-21; models/kernels/README.md)"

/* The saturation verdict (sim/serve/result.h), when the run is saturated: what it carried
 * of what it was offered, before the figures that it makes transient; or that an open
 * workload's run was too short to judge. */
static void print_saturation(FILE *out, const serve_result *res)
{
    if (res->saturated < 0 && res->offered_rate.n > 0 && res->carried_share.n == 0)
        fprintf(out, "  saturation not judged: the run is too short against the time its "
                     "requests take (a fleet that keeps up would still be filling); more "
                     "--requests judge it\n\n");
    if (res->saturated != 1)
        return;
    char carried[32], offered[32];
    fprintf(out,
            "  SATURATED: carried %s req/s of %s offered (over the second half of the "
            "arrivals); the queue grows as long as requests come, so the latencies and "
            "percentiles are not steady-state figures\n\n",
            util_fmt_fig(carried, sizeof carried, 3,
                         res->carried_share.mean * res->offered_rate.mean),
            util_fmt_fig(offered, sizeof offered, 3, res->offered_rate.mean));
}

/* The head of run's table: the deployment, the step data and the workload, which are known
 * before the work starts (and printed then, so that a long run says what it does). */
static void print_table_head(FILE *out, const run_spec *r, const resolved *x)
{
    const serve_config *c = &x->cfg;
    const deploy *d = &x->dep;
    fprintf(out, "capsim run: %s on %u replica%s of %d x %s (weights %s, KV %s), %s batching, "
           "router %s\n",
           d->model.name, c->replicas, c->replicas == 1 ? "" : "s", d->tp, d->gpu.name,
           precision_name(d->weights), precision_name(d->kv),
           c->sched->name, c->router->name);
    if (d->stack.name[0])
        fprintf(out, "  stack: %s; steps priced by %s\n", d->stack.name, d->step_data);
    else
        fprintf(out, "  steps priced by %s\n", d->step_data);
    if (d->step.kind == STEP_KERNELS)
        fprintf(out, "  kernel data: %s\n", KERNEL_DATA_SOURCE);
    if (d->stack.note[0])
        fprintf(out, "  note: %s\n", d->stack.note);
    if (d->step.kind == STEP_ROOFLINE && d->profile.basis[0])
        fprintf(out, "  roofline coefficients: %s\n", d->profile.basis);
    if (d->note[0])
        fprintf(out, "  note: %s\n", d->note);
    if (d->weights_note[0])
        fprintf(out, "  note: %s\n", d->weights_note);
    fprintf(out, "  KV cache per replica: %llu blocks of %u tokens (%llu tokens); weights %.2f GB "
           "per GPU\n",
           (unsigned long long)d->mem.kv_blocks, c->block_size,
           (unsigned long long)d->mem.kv_tokens, d->mem.weight_bytes_per_gpu / 1e9);
    if (c->kv_offload_blocks > 0)
        fprintf(out, "  CPU tier per replica: %s GB of host memory = %llu blocks; a block comes "
                     "back in %.3g ms over a %.0f GB/s host link per GPU (0.8 of it reached)\n",
                r->value[OPT_kv_offload_gb], (unsigned long long)c->kv_offload_blocks,
                1e3 * c->kv_load_s_per_block, d->gpu.host_link_bw_bytes_per_s / 1e9);
    print_workload(out, r, c, d);
}

/* The rest of run's table: the figures of the finished run. */
static void print_table(FILE *out, const resolved *x, const serve_result *res)
{
    const serve_config *c = &x->cfg;
    fprintf(out, "  %u replications x %llu requests, first %.3g%% deleted as warm-up; master seed "
           "%llu\n\n",
           c->replications, (unsigned long long)(res->requests_total / c->replications),
           100 * c->warmup_fraction, (unsigned long long)c->seed);
    print_saturation(out, res);
    fprintf(out, "  %-32s %14s %12s  %s\n", "figure", "value", "+-95% CI", "unit");
    static const serve_metric shown[] = {SM_request_throughput,
                                         SM_output_throughput,
                                         SM_total_token_throughput,
                                         SM_mean_ttft_ms,
                                         SM_p50_ttft_ms,
                                         SM_p99_ttft_ms,
                                         SM_mean_tpot_ms,
                                         SM_p50_tpot_ms,
                                         SM_p99_tpot_ms,
                                         SM_mean_itl_ms,
                                         SM_p99_itl_ms,
                                         SM_mean_e2el_ms,
                                         SM_p99_e2el_ms,
                                         SM_mean_queue_ms,
                                         SM_goodput,
                                         SM_slo_attainment_pct,
                                         SM_gpu_utilization,
                                         SM_mean_running_batch,
                                         SM_max_running_batch,
                                         SM_mean_kv_occupancy,
                                         SM_max_kv_occupancy,
                                         SM_preemptions_per_request,
                                         SM_rejected_fraction,
                                         SM_cost_per_million_output_tokens,
                                         SM_cost_per_million_input_tokens,
                                         SM_cost_per_million_total_tokens};
    for (size_t i = 0; i < sizeof shown / sizeof shown[0]; i++)
        print_row(out, res, shown[i]);
    fprintf(out, "  %-32s %14.6g %12s  USD/h\n", "cost_per_hour", res->cost_per_hour_usd, "");
    fprintf(out, "  price: %g USD per GPU-hour (%s)\n", c->price_usd_per_gpu_hour,
            x->dep.price_source);
    for (int m = 0; res->prefix_on && m < SP_COUNT; m++)
        print_fig(out, serve_prefix_names[m], res->prefix[m], serve_prefix_units[m]);
    for (int k = 0; k < SLO_COUNT; k++) {
        if (res->slo_met[k] < 0)
            continue;
        serve_metric m = serve_slo_target_metric((serve_slo_metric)k, c->slo.pct[k]);
        fprintf(out, "  SLO %s <= %g ms: %s (%s = %.4g ms)\n", serve_metric_names[m],
               1e3 * c->slo.limit_s[k], res->slo_met[k] ? "met" : "NOT met", serve_metric_names[m],
               res->metric[m].mean);
    }
    if (c->goodput_s[SLO_TTFT] > 0 || c->goodput_s[SLO_TPOT] > 0 || c->goodput_s[SLO_E2EL] > 0) {
        static const char *const names[SLO_COUNT] = {"TTFT", "TPOT", "E2EL"};
        fprintf(out, "  goodput (--goodput): requests within");
        for (int k = 0, n = 0; k < SLO_COUNT; k++)
            if (c->goodput_s[k] > 0)
                fprintf(out, "%s %s %g ms", n++ ? "," : "", names[k], 1e3 * c->goodput_s[k]);
        fprintf(out, "\n");
    }
    for (uint32_t k = 0; k < res->n_classes; k++)
        fprintf(out, "  class %-12s %5.1f%% of requests (+-%.2g), SLO attainment %.4g%% +- %.3g\n",
               x->mix.name[k], res->class_share[k].mean, res->class_share[k].half_width,
               res->class_attainment[k].mean, res->class_attainment[k].half_width);
    print_na_notes(out, c, res);
    fprintf(out, "\n  All figures in the summary: p50/p90/p95/p99/p99.9 of TTFT, TPOT, ITL, E2E.\n");
    fprintf(out, "  Percentiles from log-bucketed histograms (relative error <= %.2g%%).\n",
           100 * HISTO_REL_ERROR);
    fprintf(out, "  The intervals over replications cover: %s%s.\n", run_ci_covers(c),
            c->wl.trace_path && c->wl.trace_resample_block_s == 0
                ? " (every replication replays the same requests; --trace-resample "
                  "block:SECONDS resamples them)"
                : "");
    if (res->little_checked)
        fprintf(out, "  Little's law: L = %.4g +- %.2g, lambda*W = %.4g +- %.2g: %s\n",
               res->metric[SM_mean_in_system].mean, res->metric[SM_mean_in_system].half_width,
               res->metric[SM_lambda_w].mean, res->metric[SM_lambda_w].half_width,
               res->little_ok ? "agree" : "DISAGREE");
    fprintf(out, "  %llu steps and %llu events simulated.\n", (unsigned long long)res->steps,
           (unsigned long long)res->events);
}

#define N_OUT 7

typedef struct outputs {
    util_atomic_file f[N_OUT]; /* summary, seeds, scenario, requests, timeseries, replicas,
                                  summary.json */
    int open[N_OUT];
    int created_dir;
} outputs;

static const char *const OUT_NAME[N_OUT] = {
    "summary.csv",    "seeds.csv",       "scenario.ini", "requests.csv",
    "timeseries.csv", "per_replica.csv", "summary.json"};

static int outputs_open(outputs *o, const char *dir, int per_request, int timeseries,
                        int replicas, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    struct stat st;
    o->created_dir = stat(dir, &st) != 0;
    if (util_mkdir_p(dir, err, errlen) != 0)
        return -1;
    for (int i = 0; i < N_OUT; i++) {
        if ((i == 3 && !per_request) || (i == 4 && !timeseries) || (i == 5 && !replicas))
            continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, OUT_NAME[i]);
        if (util_atomic_open(&o->f[i], path, err, errlen) != 0)
            return -1;
        o->open[i] = 1;
    }
    return 0;
}

static void outputs_abort(outputs *o, const char *dir)
{
    for (int i = 0; i < N_OUT; i++)
        if (o->open[i])
            util_atomic_abort(&o->f[i]);
    if (o->created_dir)
        rmdir(dir);
}

static int outputs_commit(outputs *o, char *err, size_t errlen)
{
    int rc = util_atomic_commit_all(o->f, N_OUT, err, errlen);
    if (rc == 0)
        memset(o->open, 0, sizeof o->open);
    return rc;
}


/* The warnings of a run that finished: what it refused, skipped or could not check. */
static void print_warnings(FILE *err, const char *name, const serve_result *res)
{
    /* Requests over the max model length have their own warning (run_warn_over_length). */
    uint64_t never = res->rejected - res->over_length_refused;
    if (never)
        fprintf(err,
                "capsim %s: warning: %llu requests could never run and were refused "
                "(a whole sequence larger than the KV cache, or a prompt longer than "
                "--max-batched-tokens without chunked prefill or with static batching); "
                "they count as SLO misses\n",
                name, (unsigned long long)never);
    if (res->trace_rows_reordered)
        fprintf(err,
                "capsim %s: warning: %llu trace rows were out of time order and "
                "have been sorted (--strict-order on refuses them)\n",
                name, (unsigned long long)res->trace_rows_reordered);
    if (res->trace_rows_bad)
        fprintf(err,
                "capsim %s: warning: %llu malformed trace rows skipped; the first: "
                "%s\n",
                name, (unsigned long long)res->trace_rows_bad, res->trace_first_bad);
    if (res->little_checked && !res->little_ok)
        fprintf(err, "capsim %s: warning: Little's law check failed: L and lambda*W "
                     "differ beyond their intervals; the run may be too short or "
                     "overloaded\n",
                name);
}

/* Opens the result files of a run in dir and points the run's record streams at them. */
static int open_run_outputs(outputs *o, const char *dir, resolved *x, int per_request,
                            int timeseries, char *err, size_t errlen)
{
    if (outputs_open(o, dir, per_request, timeseries, x->cfg.replicas > 1, err, errlen) != 0) {
        outputs_abort(o, dir);
        return -1;
    }
    if (per_request) {
        x->cfg.requests_out = o->f[3].fp;
        fprintf(x->cfg.requests_out, "replication,request,class,arrival_s,prompt_tokens,"
                                     "output_tokens,replica,queue_ms,ttft_ms,tpot_ms,"
                                     "e2el_ms,preemptions,slo_met\n");
    }
    if (timeseries) {
        x->cfg.timeseries_out = o->f[4].fp;
        fprintf(x->cfg.timeseries_out, "time_s,waiting,running,busy_replicas,kv_occupancy,"
                                       "completions_per_s,output_tokens_per_s%s\n",
                serve_prefix_active(&x->cfg) ? ",prefix_hit_rate" : "");
    }
    return 0;
}

plan_status plan_run(const run_spec *r, const plan_run_options *opt, FILE *out_fp, FILE *err_fp,
                     plan_error *e)
{
    char err[2048];
    resolved x;
    if (run_resolve(r, &x, err, sizeof err) != 0) {
        run_resolved_fini(&x);
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    }
    int per_request = strcmp(r->value[OPT_per_request], "on") == 0 ||
                      strcmp(r->value[OPT_per_request], "true") == 0 ||
                      strcmp(r->value[OPT_per_request], "1") == 0;
    if (per_request && r->out_dir == NULL)
        fprintf(err_fp, "capsim %s: warning: --per-request writes requests.csv into --out DIR; "
                        "no --out was given\n",
                opt->name);
    outputs out;
    memset(&out, 0, sizeof out);
    int timeseries = x.cfg.sample_interval_s > 0;
    /* A slow open workload sampled every second makes a time series of millions of rows
     * (and plots that take minutes): say so before the work. */
    if (timeseries && r->out_dir && x.have_arr && x.cfg.wl.users == 0) {
        double rows = (double)x.cfg.wl.requests / x.arrivals.rate_per_s / x.cfg.sample_interval_s;
        if (rows > 1e6)
            fprintf(err_fp,
                    "capsim %s: warning: timeseries.csv will have about %.3g rows (%llu requests "
                    "at %g req/s sampled every %g s); a larger --sample-interval, or 0, keeps it "
                    "small\n",
                    opt->name, rows, (unsigned long long)x.cfg.wl.requests, x.arrivals.rate_per_s,
                    x.cfg.sample_interval_s);
    }
    if (r->out_dir &&
        open_run_outputs(&out, r->out_dir, &x, per_request, timeseries, err, sizeof err) != 0) {
        run_resolved_fini(&x);
        return plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    }
    print_table_head(out_fp, r, &x);
    fflush(out_fp);
    progress pr;
    progress_start(&pr, "capsim run", "requests", 0);
    x.cfg.progress = opt->progress ? progress_show_of : NULL;
    x.cfg.progress_arg = &pr;
    serve_result res;
    int run_rc = serve_run(&x.cfg, &res, err, sizeof err);
    progress_finish(&pr);
    if (run_rc != 0) {
        if (r->out_dir)
            outputs_abort(&out, r->out_dir);
        run_resolved_fini(&x);
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    }
    plan_status status = PLAN_OK;
    if (r->out_dir) {
        write_summary(out.f[0].fp, r, &x, &res);
        write_seeds(out.f[1].fp, &res, x.cfg.seed);
        write_scenario(out.f[2].fp, r, &x, &res);
        if (out.open[5])
            write_replicas(out.f[5].fp, &res);
        if (jsonout_summary(out.f[6].fp, r, &x, &res) != 0) {
            outputs_abort(&out, r->out_dir);
            status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
        } else if (outputs_commit(&out, err, sizeof err) != 0) {
            outputs_abort(&out, r->out_dir);
            status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
        }
    }
    if (status == PLAN_OK) {
        print_table(out_fp, &x, &res);
        run_warn_over_length(err_fp, opt->name, &x.cfg, &res);
        if (r->out_dir) {
            fprintf(out_fp, "  wrote %s/: summary.csv, summary.json, seeds.csv, scenario.ini%s%s%s\n",
                    r->out_dir, timeseries ? ", timeseries.csv" : "",
                    per_request ? ", requests.csv" : "", x.cfg.replicas > 1 ? ", per_replica.csv" : "");
            if (opt->plots)
                plan_draw_plots(opt->name, r->out_dir, out_fp, err_fp);
        }
        print_warnings(err_fp, opt->name, &res);
        run_warn_extrapolated(err_fp, opt->name, &x.dep, &res);
    }
    serve_result_fini(&res);
    run_resolved_fini(&x);
    return status;
}
