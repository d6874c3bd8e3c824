/*
 * demo: what `capsim demo` does, the story of the project on one machine type, told with
 * numbers from the run itself (see demo.h).
 *
 * A ~1B model (llama-3.2-1b on one GPU) and a ~100B-class model (mistral-large-2407, 123B,
 * on the fewest GPUs that hold its 16-bit weights) serve the bundled chat workload under an
 * interactive SLO. The demo
 *   1. finds the capacity of each under the SLO (capsim capacity rate), and of the what-ifs
 *      on the large model: fp8 and int4 weights, fewer GPUs once quantized, tensor cores
 *      off, a larger GPU, static batching (and static batching on the small one too);
 *   2. sweeps the offered load of both models from light to past capacity (capsim sweep);
 *   3. confirms every capacity with a run at that rate, and runs both models at 70% of
 *      their capacity with per-request records and a time series;
 *   4. draws the plots (capsim plot) and writes REPORT.md, whose every number is read back
 *      from the CSV files the steps wrote.
 * Each step calls what the capsim command a user would type calls (capsearch_rate,
 * sweep_run, plan_run) on a scenario set as that command's flags would set it; its output
 * goes to a log beside its results that starts with the command line, so the folder tree
 * is the record of the run and says how to repeat each step. The steps draw no plots: the
 * demo draws the ones it shows at the end.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/demo.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "plots/plot.h"
#include "sim/base/csvin.h"
#include "sim/base/csvout.h"
#include "sim/base/util.h"
#include "sim/plan/capsearch.h"
#include "sim/plan/deploy.h"
#include "sim/plan/experiment.h"
#include "sim/plan/parmap.h"
#include "sim/plan/runspec.h"
#include "sim/plan/servesearch.h"
#include "sim/plan/sweep.h"

/* The chat workload: the settings of workloads/chatbot.ini, spelled out so the demo does
 * not depend on where it runs from. The rate is replaced at every step. */
#define CHAT_ARRIVAL "gamma:rate=1,cv=1.5"
#define CHAT_PROMPT  "lognormal:mean=1150,cv=0.8"
#define CHAT_OUTPUT  "lognormal:mean=210,cv=0.9"
#define CHAT_SLO     DEMO_CHAT_SLO
#define SLO_TTFT_MS  2000.0 /* the same limits, for saying which one binds */
#define SLO_TPOT_MS  100.0

/* The prefix what-if: the chat workload's prompts (mean 1150 tokens) made of a 1024-token
 * system prompt shared by each of 160 groups of 4 users, and a question of mean 126 tokens:
 * 164K tokens of system prompts, more than one 123B replica's KV cache holds (149K). */
#define PREFIX_WORKLOAD "groups=160,users=4,system=1024,question=lognormal:mean=126,cv=0.8"
#define PREFIX_SYSTEM_TOKENS (160 * 1024) /* of every group's system prompt */
#define N_PREFIX_RUNS 4 /* caching off, on; two replicas behind rr, behind prefix */
static const char *const PREFIX_RUN[N_PREFIX_RUNS] = {"off", "on", "rr", "prefix"};

#define SMALL_MODEL DEMO_SMALL_MODEL
#define BIG_MODEL   DEMO_BIG_MODEL

typedef struct whatif {
    const char *name;  /* folder name */
    const char *label; /* how the report names it */
    int big;
    int larger_gpu; /* on the larger GPU instead of the demo's GPU */
    const char *precision, *tp, *tensor_cores, *scheduler;
} whatif;

enum { W_SMALL, W_BIG, W_BIG_FP8, W_BIG_INT4, W_BIG_FP8_TP2, W_BIG_INT4_TP1, W_BIG_NO_TC,
       W_BIG_LARGER, W_BIG_LARGER_TP2, W_BIG_STATIC, W_SMALL_STATIC, W_COUNT };

static const whatif WHATIFS[W_COUNT] = {
    {"small", "1B, bf16, continuous batching (baseline)", 0, 0, "bf16", "1", "on", "continuous"},
    {"big", "123B, bf16, continuous batching (baseline)", 1, 0, "bf16", "4", "on", "continuous"},
    {"big-fp8", "123B, fp8 weights", 1, 0, "fp8", "4", "on", "continuous"},
    {"big-int4", "123B, int4 weights (weight-only)", 1, 0, "int4", "4", "on", "continuous"},
    {"big-fp8-tp2", "123B, fp8 weights on half the GPUs", 1, 0, "fp8", "2", "on", "continuous"},
    {"big-int4-tp1", "123B, int4 weights on one GPU", 1, 0, "int4", "1", "on", "continuous"},
    {"big-no-tc", "123B, tensor cores off", 1, 0, "bf16", "4", "off", "continuous"},
    {"big-larger", "123B on the larger GPU", 1, 1, "bf16", "4", "on", "continuous"},
    {"big-larger-tp2", "123B on half as many larger GPUs", 1, 1, "bf16", "2", "on", "continuous"},
    {"big-static", "123B, static batching", 1, 0, "bf16", "4", "on", "static"},
    {"small-static", "1B, static batching", 0, 0, "bf16", "1", "on", "static"},
};

/* Fractions of the estimated capacity at which the load sweeps run: from light load, past
 * capacity to twice it, so that the curves show where latency turns up (or that it does
 * not). The first is the light load of the report's size table, and LOAD_AT_CAPACITY is
 * the point at the capacity itself. */
static const double LOAD_FRACTIONS[] = {0.1, 0.25, 0.4, 0.55, 0.7, 0.8, 0.9,
                                        1.0, 1.1, 1.25, 1.5, 2.0};
#define LOAD_AT_CAPACITY 7
#define LOAD_MID         4 /* 70%: the end of the light-load stretch */
#define N_LOAD (sizeof LOAD_FRACTIONS / sizeof LOAD_FRACTIONS[0])

typedef struct demo {
    const char *out, *gpu, *larger_gpu;
    FILE *out_fp, *err_fp; /* where the demo tells what it does, and what goes wrong */
    char seed[32];         /* the master seed of the searches, sweeps and runs */
    char confirm_seed[32]; /* the confirming runs': the master seed + 1, independent of it */
    uint64_t jobs;
    /* read back from the steps */
    double meets[W_COUNT], estimate[W_COUNT], fails[W_COUNT];
    int have_capacity[W_COUNT];
    char capacity_err[W_COUNT][512];
} demo;

/* --- a step: a scenario, the command line that repeats it, and its log ------------------------ */

/* The scenario of a step, set as the flags of the capsim command that repeats it would
 * set it, and that command line, which opens the step's log. */
typedef struct step {
    run_spec r;
    char line[8192];
    size_t used;
} step;

static void step_word(step *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void step_word(step *s, const char *fmt, ...)
{
    if (s->used + 1 >= sizeof s->line)
        return;
    s->line[s->used++] = ' ';
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(s->line + s->used, sizeof s->line - s->used, fmt, ap);
    va_end(ap);
    if (w > 0)
        s->used += (size_t)w < sizeof s->line - s->used ? (size_t)w : sizeof s->line - s->used - 1;
}

/* A fresh step of the capsim command named by words ("capacity rate", "run", ...). */
static step *step_new(const char *words)
{
    step *s = malloc(sizeof *s);
    if (s == NULL)
        return NULL;
    run_defaults(&s->r);
    s->used = (size_t)snprintf(s->line, sizeof s->line, "$ capsim");
    step_word(s, "%s", words);
    return s;
}

/* Sets option o as its flag would ("--per-request" takes no value on the command line). */
static void step_set(step *s, run_opt o, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void step_set(step *s, run_opt o, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->r.value[o], sizeof s->r.value[o], fmt, ap);
    va_end(ap);
    s->r.given[o] = 1;
    char flag[64];
    run_flag_name(o, flag, sizeof flag);
    step_word(s, "--%s", flag);
    if (o != OPT_per_request)
        step_word(s, "%s", s->r.value[o]);
}

static void step_out(step *s, const char *dir)
{
    s->r.out_dir = dir;
    step_word(s, "--out");
    step_word(s, "%s", dir);
}

/* A step's output and messages, kept apart until the step ends. */
typedef struct steplog {
    FILE *out, *err;
    char *out_text, *err_text;
    size_t out_len, err_len;
} steplog;

static int steplog_open(steplog *l, const step *s)
{
    memset(l, 0, sizeof *l);
    l->out = open_memstream(&l->out_text, &l->out_len);
    l->err = open_memstream(&l->err_text, &l->err_len);
    if (l->out == NULL || l->err == NULL)
        return -1;
    /* The command line, first, so the log says how to repeat the step. */
    fprintf(l->out, "%s\n\n", s->line);
    return 0;
}

/* Writes the log: the command line, the messages, then the rest of the output. */
static void steplog_close(steplog *l, const char *path)
{
    if (l->out)
        fclose(l->out);
    if (l->err)
        fclose(l->err);
    /* Through the atomic writer, which never writes into a FIFO or device put there. */
    util_atomic_file f;
    char err[1024];
    if (util_atomic_open(&f, path, err, sizeof err) == 0) {
        const char *blank = l->out_text ? strstr(l->out_text, "\n\n") : NULL;
        size_t head = blank ? (size_t)(blank - l->out_text) + 2 : 0;
        fwrite(l->out_text, 1, head, f.fp);
        if (l->err_text)
            fwrite(l->err_text, 1, l->err_len, f.fp);
        if (l->out_text)
            fwrite(l->out_text + head, 1, l->out_len - head, f.fp);
        if (util_atomic_commit(&f, err, sizeof err) != 0)
            util_atomic_abort(&f);
    }
    free(l->out_text);
    free(l->err_text);
}

/* The deployment and workload of a what-if, at an arrival rate, with a master seed. */
static void deployment(const demo *d, const whatif *w, double rate, const char *seed, step *s)
{
    step_set(s, OPT_model, "%s", w->big ? BIG_MODEL : SMALL_MODEL);
    step_set(s, OPT_gpu, "%s", w->larger_gpu ? d->larger_gpu : d->gpu);
    step_set(s, OPT_precision, "%s", w->precision);
    step_set(s, OPT_tp, "%s", w->tp);
    step_set(s, OPT_tensor_cores, "%s", w->tensor_cores);
    step_set(s, OPT_scheduler, "%s", w->scheduler);
    step_set(s, OPT_arrival, "gamma:rate=%.4g,cv=1.5", rate);
    step_set(s, OPT_prompt_len, CHAT_PROMPT);
    step_set(s, OPT_output_len, CHAT_OUTPUT);
    step_set(s, OPT_slo, CHAT_SLO);
    step_set(s, OPT_seed, "%s", seed);
}

/* The size of every capacity search and of the runs that confirm them: 6 replications of
 * 4000 requests. A confirming run has the search's size but its own seed, so it checks the
 * answer on draws the search did not see rather than repeat the search's own figures. */
static void search_size(step *s)
{
    step_set(s, OPT_replications, "6");
    step_set(s, OPT_requests, "4000");
}

static void path_of(char *buf, size_t len, const demo *d, const char *a, const char *b)
{
    if (b)
        snprintf(buf, len, "%s/%s/%s", d->out, a, b);
    else
        snprintf(buf, len, "%s/%s", d->out, a);
}

/* --- step 1: capacities -------------------------------------------------------------------- */

/* The searches in the order they are handed out: the slowest first (static batching and
 * the deployments far below their baseline try many rates), so that two cores finish
 * together. */
static const int SEARCH_ORDER[W_COUNT] = {W_SMALL_STATIC, W_BIG_LARGER_TP2, W_BIG_STATIC,
                                          W_BIG_NO_TC,    W_BIG_INT4_TP1,   W_SMALL,
                                          W_BIG,          W_BIG_FP8,        W_BIG_INT4,
                                          W_BIG_FP8_TP2,  W_BIG_LARGER};

/* capsim capacity rate on the step's scenario, as its options set it; why gets the reason
 * of a failure. */
static int capacity_rate(step *s, double tol, steplog *l, char *why, size_t whylen)
{
    servesearch_prepare(&s->r);
    plan_error e;
    plan_status st =
        capsearch_rate(&s->r, servesearch_arrival_rate(&s->r), tol, 0, l->out, l->err, &e);
    /* The reason of a scenario that does not resolve is cut to 500 characters. */
    if (st != PLAN_OK)
        snprintf(why, whylen, "%.*s", st == PLAN_BAD_INPUT ? 500 : (int)whylen - 1, e.reason);
    plan_error_print(l->err, "capacity", st, &e);
    return st;
}

static void capacity_item(uint64_t k, FILE *out, void *user)
{
    const demo *d = user;
    int i = SEARCH_ORDER[k];
    const whatif *w = &WHATIFS[i];
    char dir[4096], log[4200], err[512], answer[4300], why[512] = "";
    path_of(dir, sizeof dir, d, "capacity", w->name);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    step *s = step_new("capacity rate");
    int rc = PLAN_FAILED;
    if (s) {
        deployment(d, w, w->big ? 1.0 : 20.0, d->seed, s);
        step_word(s, "--tolerance");
        step_word(s, "0.04");
        search_size(s);
        step_out(s, dir);
        util_mkdir_p(dir, err, sizeof err);
        /* An answer left by an earlier demo in the same folder must not pass for this one. */
        snprintf(answer, sizeof answer, "%s/capacity.csv", dir);
        remove(answer);
        steplog l;
        if (steplog_open(&l, s) == 0)
            rc = capacity_rate(s, 0.04, &l, why, sizeof why);
        steplog_close(&l, log);
        free(s);
    }
    if (why[0] == '\0')
        snprintf(why, sizeof why, "see %.480s", log);
    why[strcspn(why, "\r\n")] = '\0';
    fprintf(out, "%llu,%d,%s\n", (unsigned long long)k, rc, why);
}

/* Reads column col of data row `row` (0-based) of a CSV file as a number. */
static int csv_value(const char *path, long row, const char *col, double *out)
{
    char err[1024];
    *out = NAN;
    csvin *in = csvin_open(path, err, sizeof err);
    if (in == NULL)
        return -1;
    int rc = -1;
    if (csvin_read_header(in) == 1) {
        int c = csvin_column(in, col);
        for (long r = 0; c >= 0 && csvin_next(in) == 1; r++) {
            if (r == row) {
                const char *f = csvin_field(in, (size_t)c);
                rc = *f && util_parse_double(f, out) == 0 ? 0 : -1;
                break;
            }
        }
    }
    csvin_close(in);
    return rc;
}

static int step_capacities(demo *d)
{
    parmap_result res;
    char err[1024];
    if (parmap_run_shown(0, 1, W_COUNT, d->jobs, capacity_item, d, "capsim demo: 1/4",
                         "capacity searches", &res, err, sizeof err) < 0) {
        fprintf(d->err_fp, "capsim demo: %s\n", err);
        return -1;
    }
    parmap_row *rows = res.rows;
    size_t n = res.n_rows;
    int status[W_COUNT];
    for (int i = 0; i < W_COUNT; i++)
        status[i] = -1;
    /* A search whose worker died has no answer, and the reason says why. */
    for (size_t i = 0; i < res.n_failed; i++)
        if (res.failed[i].item < W_COUNT)
            snprintf(d->capacity_err[SEARCH_ORDER[res.failed[i].item]],
                     sizeof d->capacity_err[0], "%s", res.failed[i].reason);
    for (size_t i = 0; i < n; i++) {
        unsigned long long k;
        int st, at = 0;
        if (sscanf(rows[i].text, "%llu,%d,%n", &k, &st, &at) == 2 && at > 0 && k < W_COUNT) {
            status[SEARCH_ORDER[k]] = st;
            char *why = d->capacity_err[SEARCH_ORDER[k]];
            snprintf(why, sizeof d->capacity_err[0], "%.500s", rows[i].text + at);
            why[strcspn(why, "\n")] = '\0';
        }
    }
    parmap_result_fini(&res);
    for (int i = 0; i < W_COUNT; i++) {
        char path[4200];
        path_of(path, sizeof path, d, "capacity", WHATIFS[i].name);
        strcat(path, "/capacity.csv");
        d->have_capacity[i] = status[i] == 0 &&
                              csv_value(path, 0, "rate_meets_req_s", &d->meets[i]) == 0 &&
                              csv_value(path, 0, "rate_estimate_req_s", &d->estimate[i]) == 0 &&
                              csv_value(path, 0, "rate_fails_req_s", &d->fails[i]) == 0;
    }
    if (!d->have_capacity[W_SMALL] || !d->have_capacity[W_BIG]) {
        fprintf(d->err_fp, "capsim demo: the baseline capacity search failed: %s\n",
                d->capacity_err[d->have_capacity[W_SMALL] ? W_BIG : W_SMALL]);
        return -1;
    }
    return 0;
}

/* The two baselines (1B and 123B on the demo's GPU) must resolve, the models fitting in
 * memory, before the first simulation: else the demo would find out only after the
 * other searches ran. Returns 0, or -1 after saying why on d->err_fp. */
static int check_baselines(const demo *d)
{
    static const int baselines[] = {W_SMALL, W_BIG};
    for (size_t i = 0; i < sizeof baselines / sizeof baselines[0]; i++) {
        step *s = step_new("run");
        if (s == NULL) {
            fprintf(d->err_fp, "capsim demo: out of memory\n");
            return -1;
        }
        deployment(d, &WHATIFS[baselines[i]], 1.0, d->seed, s);
        resolved x;
        char err[1024];
        int rc = run_resolve(&s->r, &x, err, sizeof err);
        run_resolved_fini(&x);
        free(s);
        if (rc != 0) {
            fprintf(d->err_fp, "capsim demo: the %s baseline cannot run on %s: %s\n",
                    WHATIFS[baselines[i]].big ? "123B" : "1B", d->gpu, err);
            return -1;
        }
    }
    return 0;
}

/* --- step 2: load sweeps ------------------------------------------------------------------- */

static int step_sweep(const demo *d, int which, const char *name)
{
    const whatif *w = &WHATIFS[which];
    char dir[4096], log[4200], err[512], rates[1024] = "axis: out of memory";
    path_of(dir, sizeof dir, d, name, NULL);
    snprintf(log, sizeof log, "%s/log.txt", dir);
    step *s = step_new("sweep");
    sweep_grid *g = calloc(1, sizeof *g);
    int rc = PLAN_FAILED;
    if (s && g) {
        deployment(d, w, 1.0, d->seed, s);
        /* The size of the capacity search, so that the point at the capacity shows what the
         * search saw there: shorter runs build shorter queues and read lower tails. */
        search_size(s);
        size_t used = (size_t)snprintf(rates, sizeof rates, "rate=");
        for (size_t i = 0; i < N_LOAD; i++)
            used += (size_t)snprintf(rates + used, sizeof rates - used, "%s%.4g", i ? "," : "",
                                     LOAD_FRACTIONS[i] * d->estimate[which]);
        step_word(s, "--sweep");
        step_word(s, "%s", rates);
        step_word(s, "--jobs");
        step_word(s, "%llu", (unsigned long long)d->jobs);
        step_out(s, dir);
        util_mkdir_p(dir, err, sizeof err);
        const char *axes[] = {rates};
        steplog l;
        if (steplog_open(&l, s) == 0) {
            sweep_options opt = {d->jobs, 1, 1, 0, 0};
            plan_error e;
            if (sweep_grid_parse(g, axes, 1, err, sizeof err) != 0)
                rc = plan_fail(&e, PLAN_BAD_INPUT, NULL, "%s", err);
            else
                rc = sweep_run(&s->r, g, &opt, l.out, l.err, &e);
            plan_error_print(l.err, "sweep", (plan_status)rc, &e);
        }
        steplog_close(&l, log);
    }
    if (g)
        sweep_grid_fini(g);
    free(g);
    free(s);
    if (rc != 0) {
        fprintf(d->err_fp, "capsim demo: the load sweep failed; see %s\n", log);
        return -1;
    }
    return 0;
}

/* --- step 3: confirming runs and the runs at 70% ---------------------------------------------- */

static void run_item(uint64_t i, FILE *out, void *user)
{
    const demo *d = user;
    char dir[4096], log[4200], err[512];
    if (i < W_COUNT && !d->have_capacity[i]) {
        fprintf(out, "%llu,0\n", (unsigned long long)i);
        return;
    }
    step *s = step_new("run");
    int rc = PLAN_FAILED;
    if (s && i < W_COUNT) {
        deployment(d, &WHATIFS[i], d->meets[i], d->confirm_seed, s);
        search_size(s);
        step_set(s, OPT_sample_interval, "0");
        path_of(dir, sizeof dir, d, "at-capacity", WHATIFS[i].name);
    } else if (s && i >= W_COUNT + 2) {
        /* the prefix what-if: the 123B baseline at 70% of its capacity per replica */
        int k = (int)(i - W_COUNT - 2), two = k >= 2;
        deployment(d, &WHATIFS[W_BIG], (two ? 1.4 : 0.7) * d->estimate[W_BIG], d->seed, s);
        step_set(s, OPT_prefix, "%s", PREFIX_WORKLOAD);
        step_set(s, OPT_prefix_caching, "%s", k == 0 ? "off" : "on");
        step_set(s, OPT_replicas, "%s", two ? "2" : "1");
        step_set(s, OPT_router, "%s", k == 3 ? "prefix" : "rr");
        step_set(s, OPT_requests, "2000");
        step_set(s, OPT_replications, "3");
        step_set(s, OPT_sample_interval, "0");
        path_of(dir, sizeof dir, d, "prefix", PREFIX_RUN[k]);
    } else if (s) {
        int which = i == W_COUNT ? W_SMALL : W_BIG;
        deployment(d, &WHATIFS[which], 0.7 * d->estimate[which], d->seed, s);
        step_set(s, OPT_requests, "2000");
        step_set(s, OPT_per_request, "on");
        path_of(dir, sizeof dir, d, i == W_COUNT ? "run-small" : "run-big", NULL);
    }
    if (s) {
        step_out(s, dir);
        util_mkdir_p(dir, err, sizeof err);
        snprintf(log, sizeof log, "%s/log.txt", dir);
        steplog l;
        if (steplog_open(&l, s) == 0) {
            plan_run_options opt = {"run", 0, 0};
            plan_error e;
            rc = plan_run(&s->r, &opt, l.out, l.err, &e);
            plan_error_print(l.err, "run", (plan_status)rc, &e);
        }
        steplog_close(&l, log);
        free(s);
    }
    fprintf(out, "%llu,%d\n", (unsigned long long)i, rc);
}

static int step_runs(demo *d)
{
    parmap_result res;
    char err[1024];
    int rc = parmap_run_shown(0, 1, W_COUNT + 2 + N_PREFIX_RUNS, d->jobs, run_item, d,
                              "capsim demo: 3/4", "runs", &res, err, sizeof err);
    if (rc != 0) {
        fprintf(d->err_fp, "capsim demo: %s\n", err);
        if (rc < 0)
            return -1;
    }
    rc = -rc;
    parmap_row *rows = res.rows;
    size_t n = res.n_rows;
    for (size_t i = 0; i < n; i++) {
        unsigned long long item;
        int st;
        if (sscanf(rows[i].text, "%llu,%d", &item, &st) == 2 && st != 0) {
            fprintf(d->err_fp, "capsim demo: a run failed (step %llu); see its log.txt\n", item);
            rc = -1;
        }
    }
    parmap_result_fini(&res);
    return rc;
}

/* --- step 4: the what-if table and the frontier, plots, the report --------------------------- */

typedef struct figures {
    double cost_h, cost_mtok, out_tok_s, p50_ttft, p99_ttft, p50_tpot, p99_tpot, p50_e2e,
        weight_gb, kv_tokens, ttft_met, tpot_met, saturated;
    int ok;
} figures;

static void read_summary(const char *path, long row, figures *f)
{
    static const char *const cols[] = {
        "cost_per_hour_usd", "cost_per_million_output_tokens", "output_throughput", "p50_ttft_ms",
        "p99_ttft_ms",       "p50_tpot_ms",                    "p99_tpot_ms",       "p50_e2el_ms",
        "weight_gb_per_gpu", "kv_tokens",                      "slo_ttft_met",      "slo_tpot_met",
        "saturated"};
    double *dst[] = {&f->cost_h,    &f->cost_mtok,  &f->out_tok_s, &f->p50_ttft,
                     &f->p99_ttft,  &f->p50_tpot,   &f->p99_tpot,  &f->p50_e2e,
                     &f->weight_gb, &f->kv_tokens,  &f->ttft_met,  &f->tpot_met,
                     &f->saturated};
    f->ok = 1;
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        if (csv_value(path, row, cols[i], dst[i]) != 0)
            f->ok = 0;
}

/* The SLO figure closest to its limit at capacity: the one that limits it. */
static const char *binding(const figures *f)
{
    return f->p99_ttft / SLO_TTFT_MS >= f->p99_tpot / SLO_TPOT_MS ? "p99_ttft_ms" : "p99_tpot_ms";
}

static const char *binding_words(const figures *f)
{
    return f->p99_ttft / SLO_TTFT_MS >= f->p99_tpot / SLO_TPOT_MS ? "time to first token"
                                                                  : "time per output token";
}

static int gpus_of(const whatif *w)
{
    return atoi(w->tp);
}

/* What the demo's own files are written from. */
typedef struct results {
    const demo *d;
    const figures *at;    /* at each what-if's capacity */
    const figures *light; /* at the lightest load, small then big */
} results;

static void write_whatif_csv(FILE *fp, const void *what)
{
    const demo *d = ((const results *)what)->d;
    const figures *at = ((const results *)what)->at;
    fprintf(fp, "name,label,model,gpu,precision,tp,tensor_cores,scheduler,status,reason,"
                "rate_meets_req_s,rate_estimate_req_s,rate_fails_req_s,req_s_per_gpu,"
                "cost_per_hour_usd,cost_per_million_output_tokens,binding_slo\n");
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < W_COUNT; i++) {
        const whatif *w = &WHATIFS[i];
        csvout_str(&c, w->name);
        csvout_str(&c, w->label);
        csvout_str(&c, w->big ? BIG_MODEL : SMALL_MODEL);
        csvout_str(&c, w->larger_gpu ? d->larger_gpu : d->gpu);
        csvout_str(&c, w->precision);
        csvout_str(&c, w->tp);
        csvout_str(&c, w->tensor_cores);
        csvout_str(&c, w->scheduler);
        csvout_str(&c, d->have_capacity[i] ? "ok" : "error");
        csvout_str(&c, d->have_capacity[i] ? "" : d->capacity_err[i]);
        if (d->have_capacity[i]) {
            csvout_num(&c, d->meets[i]);
            csvout_num(&c, d->estimate[i]);
            csvout_num(&c, d->fails[i]);
            csvout_num(&c, d->estimate[i] / gpus_of(w));
            csvout_num(&c, at[i].cost_h);
            csvout_num(&c, at[i].cost_mtok);
            csvout_str(&c, binding(&at[i]));
        } else {
            for (int k = 0; k < 7; k++)
                csvout_str(&c, "");
        }
        csvout_end_row(&c);
    }
}

/* The target rate of the demo's fleet question: how many replicas of each 123B deployment,
 * at what cost, carry this much chat traffic under the SLO. */
#define FRONTIER_TARGET_REQ_S 10.0

/* The replicas of what-if a that carry the target rate: each at the rate up to which the
 * SLOs hold (the low end of its band), as capsim capacity deploy sizes a fleet. */
static double fleet_replicas(const demo *d, int a)
{
    return ceil(FRONTIER_TARGET_REQ_S / d->meets[a]);
}

/* The large model's deployments that differ in GPU, precision or tp: the candidates of the
 * fleet question. */
static const int FRONTIER_CAND[] = {W_BIG,          W_BIG_FP8,    W_BIG_INT4,      W_BIG_FP8_TP2,
                                    W_BIG_INT4_TP1, W_BIG_LARGER, W_BIG_LARGER_TP2};
enum { NC = sizeof FRONTIER_CAND / sizeof FRONTIER_CAND[0] };

/* The candidate whose fleet carries the target rate at the lowest cost, -1 for none. */
static int frontier_cheapest(const demo *d, const figures *at)
{
    int cheapest = -1;
    for (int i = 0; i < NC; i++) {
        int a = FRONTIER_CAND[i];
        if (d->have_capacity[a] &&
            (cheapest < 0 || fleet_replicas(d, a) * at[a].cost_h <
                                 fleet_replicas(d, cheapest) * at[cheapest].cost_h))
            cheapest = a;
    }
    return cheapest;
}

/* The candidates in the shape of capsim capacity deploy's frontier.csv: capacity per replica, its cost, and the fleet that
 * carries FRONTIER_TARGET_REQ_S. */
static void write_frontier_csv(FILE *fp, const void *what)
{
    const demo *d = ((const results *)what)->d;
    const figures *at = ((const results *)what)->at;
    fprintf(fp, "candidate,gpu,precision,tp,status,reason,rate_per_replica,rate_per_replica_fail,"
                "cost_per_hour_usd_per_replica,usd_per_hour_per_req_s,replicas,cost_per_hour_usd,"
                "cost_per_million_output_tokens,meets_target,on_frontier,cheapest\n");
    const int *cand = FRONTIER_CAND;
    int front[NC];
    for (int i = 0; i < NC; i++) {
        int a = cand[i];
        front[i] = d->have_capacity[a];
        for (int j = 0; j < NC && front[i]; j++) {
            int b = cand[j];
            if (j == i || !d->have_capacity[b])
                continue;
            if (d->meets[b] >= d->meets[a] && at[b].cost_h <= at[a].cost_h &&
                (d->meets[b] > d->meets[a] || at[b].cost_h < at[a].cost_h))
                front[i] = 0;
        }
    }
    int cheapest = frontier_cheapest(d, at);
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < NC; i++) {
        int a = cand[i];
        const whatif *w = &WHATIFS[a];
        csvout_u64(&c, (uint64_t)i);
        csvout_str(&c, w->larger_gpu ? d->larger_gpu : d->gpu);
        csvout_str(&c, w->precision);
        csvout_str(&c, w->tp);
        csvout_str(&c, d->have_capacity[a] ? "ok" : "error");
        csvout_str(&c, d->have_capacity[a] ? "" : d->capacity_err[a]);
        if (!d->have_capacity[a]) {
            for (int k = 0; k < 10; k++)
                csvout_str(&c, "");
        } else {
            csvout_num(&c, d->meets[a]);
            csvout_num(&c, d->fails[a]);
            csvout_num(&c, at[a].cost_h);
            csvout_num(&c, at[a].cost_h / d->meets[a]);
            csvout_num(&c, fleet_replicas(d, a));
            csvout_num(&c, fleet_replicas(d, a) * at[a].cost_h);
            csvout_num(&c, at[a].cost_mtok);
            csvout_u64(&c, 1);
            csvout_u64(&c, (uint64_t)front[i]);
            csvout_u64(&c, (uint64_t)(a == cheapest));
        }
        csvout_end_row(&c);
    }
}

/* "+12%" or "-30%" of b against a. */
static void pct(char *buf, size_t len, double b, double a)
{
    double v = 100 * (b / a - 1);
    /* Near -100%, whole percents would hide how much is left. */
    snprintf(buf, len, v <= -99.5 ? "%+.1f%%" : "%+.0f%%", v);
}

/* The H100 and H200 (what the explanations in the report are written for): fp8 at twice
 * the 16-bit tensor rate, no int4 path. */
static int hopper(const char *gpu)
{
    return strcmp(gpu, "h100-sxm") == 0 || strcmp(gpu, "h100-pcie") == 0 ||
           strcmp(gpu, "h200") == 0;
}

/* "3.95 req/s (+225%, limited by time to first token)", or why there is none. */
static void phrase(char *buf, size_t len, const demo *d, const figures *at, int i)
{
    if (!d->have_capacity[i]) {
        snprintf(buf, len, "nothing under the SLO (%.500s)", d->capacity_err[i]);
        return;
    }
    int base = WHATIFS[i].big ? W_BIG : W_SMALL;
    char vs[32] = "";
    if (i != base) {
        pct(vs, sizeof vs, d->estimate[i], d->estimate[base]);
        strcat(vs, ", ");
    }
    snprintf(buf, len, "%.3g req/s (%slimited by %s; %.3g USD per million output tokens)",
             d->estimate[i], vs, binding_words(&at[i]), at[i].cost_mtok);
}

/* Whether the confirming runs, on their own seed, meet the SLOs where the searches said. */
static void write_confirmations(FILE *fp, const demo *d, const figures *at)
{
    int n = 0, met = 0, saturated = 0;
    char missed[2048] = "";
    size_t used = 0;
    for (int i = 0; i < W_COUNT; i++) {
        if (!d->have_capacity[i])
            continue;
        n++;
        if (at[i].ok && at[i].ttft_met == 1 && at[i].tpot_met == 1) {
            met++;
        } else if (used < sizeof missed) {
            used += (size_t)snprintf(missed + used, sizeof missed - used, "%s%s (%.3g req/s%s)",
                                     used ? ", " : "", WHATIFS[i].label, d->meets[i],
                                     at[i].saturated == 1 ? ", saturated" : "");
            saturated += at[i].saturated == 1;
        }
    }
    fprintf(fp, "## Confirmation\n\n");
    fprintf(fp,
            "Each search ran every rate on the same draws (seed %s), so its figures are "
            "compared on equal terms. Each answer was then run again at the rate up to which "
            "the SLOs held, with seed %s: independent traffic and step-time noise, the same "
            "size. %d of %d confirming runs meet both SLOs there.",
            d->seed, d->confirm_seed, met, n);
    if (met < n)
        fprintf(fp, " Missed: %s. A miss means the search's band was optimistic on its own "
                    "draws; more replications narrow it.", missed);
    if (saturated)
        fprintf(fp, " A saturated confirming run carried less than it was offered on its "
                    "draws: the rate is at the edge of what the deployment carries, where "
                    "runs of this length cannot tell the two apart; longer runs (capsim "
                    "capacity rate's default, 8000 requests x 10) settle it.");
    fprintf(fp, "\n\n");
}

/* The title and what the demo measures. */
static void write_report_intro(FILE *fp, const demo *d)
{
    fprintf(fp, "# capsim demo: a ~1B and a ~100B-class model on %s\n\n", d->gpu);
    fprintf(fp,
            "Everything below was measured by this run of `capsim demo` (master seed %s for the "
            "searches, sweeps and runs, the same at every setting, and seed %s for the "
            "confirming runs; the same seed writes the same report). Every number is read back "
            "from the CSV files in this folder.\n\n",
            d->seed, d->confirm_seed);
    fprintf(fp,
            "- **Models:** `%s` (1.2B parameters) on 1 GPU, and `%s` (123B) on %s %s GPUs "
            "(tensor parallel).\n"
            "- **Workload:** chat, as in `workloads/chatbot.ini`. Arrivals are bursty (gamma "
            "inter-arrival times, cv 1.5). Prompts are lognormal with mean 1150 tokens (cv "
            "0.8), answers lognormal with mean 210 tokens (cv 0.9).\n"
            "- **Interactive SLO:** p99 time to first token at most 2 s, and p99 time per "
            "output token at most 100 ms (at least 10 tokens/s while streaming).\n"
            "- **Capacity:** the arrival rate at which the tighter SLO figure reaches its "
            "limit. The band gives the rate up to which the SLOs hold with 95%% confidence, "
            "and the rate from which they fail with 95%% confidence (`capsim capacity "
            "rate`).\n\n",
            SMALL_MODEL, BIG_MODEL, WHATIFS[W_BIG].tp, d->gpu);

}

/* A latency with its unit: "850 ms", or "3.6 s" from 10 s down to 1 s. */
static void latency_text(char *buf, size_t len, double ms)
{
    if (ms >= 1000)
        snprintf(buf, len, "%.3g s", ms / 1e3);
    else
        snprintf(buf, len, "%.3g ms", ms);
}

/* The p99 of one SLO figure at each point of a load sweep (ms; NaN where missing). */
static void load_figures(const demo *d, int big, const char *col, double v[N_LOAD])
{
    char path[4200];
    path_of(path, sizeof path, d, big ? "load-big" : "load-small", "summary.csv");
    for (size_t i = 0; i < N_LOAD; i++)
        if (csv_value(path, (long)i, col, &v[i]) != 0)
            v[i] = NAN;
}

/* The first point past LOAD_MID where the figure is at least 3 times what it was there:
 * where the curve turns up. Returns its index, or -1 when it never does. */
static int load_knee(const double v[N_LOAD])
{
    for (size_t i = LOAD_MID + 1; i < N_LOAD; i++)
        if (isfinite(v[i]) && isfinite(v[LOAD_MID]) && v[i] >= 3 * v[LOAD_MID])
            return (int)i;
    return -1;
}

/* What one load sweep shows, read from its summary: where each p99 figure turns up (or
 * that it rises gradually), and both figures at the capacity against their limits. */
static void write_report_load(FILE *fp, const demo *d, const figures *at, int big)
{
    static const char *const cols[2] = {"p99_ttft_ms", "p99_tpot_ms"};
    static const char *const names[2] = {"p99 time to first token", "p99 time per output token"};
    static const double limits[2] = {SLO_TTFT_MS, SLO_TPOT_MS};
    int w = big ? W_BIG : W_SMALL;
    fprintf(fp, "**Against load, %s.** ", big ? "123B" : "1B");
    for (int k = 0; k < 2; k++) {
        double v[N_LOAD];
        char a[32], b[32], c[32];
        load_figures(d, big, cols[k], v);
        int knee = load_knee(v);
        latency_text(a, sizeof a, v[0]);
        latency_text(b, sizeof b, v[LOAD_MID]);
        if (knee >= 0) {
            latency_text(c, sizeof c, v[knee]);
            fprintf(fp, "The %s goes from %s at %.0f%% of capacity to %s at %.0f%%, then turns "
                        "up: %s at %.0f%% (%.1f times). ",
                    names[k], a, 100 * LOAD_FRACTIONS[0], b, 100 * LOAD_FRACTIONS[LOAD_MID], c,
                    100 * LOAD_FRACTIONS[knee], v[knee] / v[LOAD_MID]);
        } else {
            latency_text(c, sizeof c, v[N_LOAD - 1]);
            fprintf(fp, "The %s rises gradually, with no knee up to %.0f%% of capacity: %s at "
                        "%.0f%%, %s at %.0f%%, %s at %.0f%%. ",
                    names[k], 100 * LOAD_FRACTIONS[N_LOAD - 1], a, 100 * LOAD_FRACTIONS[0], b,
                    100 * LOAD_FRACTIONS[LOAD_MID], c, 100 * LOAD_FRACTIONS[N_LOAD - 1]);
        }
    }
    double ttft[N_LOAD], tpot[N_LOAD];
    load_figures(d, big, cols[0], ttft);
    load_figures(d, big, cols[1], tpot);
    char t1[32], t2[32];
    latency_text(t1, sizeof t1, ttft[LOAD_AT_CAPACITY]);
    latency_text(t2, sizeof t2, tpot[LOAD_AT_CAPACITY]);
    fprintf(fp, "At the capacity (%.3g req/s, runs of the search's size) the sweep measures "
                "p99 TTFT %s (%.0f%% of its limit) and p99 TPOT %s (%.0f%% of its limit): the "
                "capacity is set by %s. ",
            d->estimate[w], t1, 100 * ttft[LOAD_AT_CAPACITY] / limits[0], t2,
            100 * tpot[LOAD_AT_CAPACITY] / limits[1], binding_words(&at[w]));
    double sat[N_LOAD];
    load_figures(d, big, "saturated", sat);
    size_t first = 0;
    while (first < N_LOAD && sat[first] != 1)
        first++;
    if (first == N_LOAD)
        fprintf(fp, "No point of the sweep is saturated up to %.0f%% of capacity.\n\n",
                100 * LOAD_FRACTIONS[N_LOAD - 1]);
    else
        fprintf(fp, "From %.0f%% of capacity (%.3g req/s) on, the sweep's runs are saturated: "
                    "they carried less than 95%% of what they were offered, so their "
                    "latencies grow with the length of the run instead of settling (marked "
                    "in the plots).\n\n",
                100 * LOAD_FRACTIONS[first], LOAD_FRACTIONS[first] * d->estimate[w]);
}

/* The 1B model against the 123B one. */
static void write_report_size(FILE *fp, const demo *d, const figures *at, const figures *light)
{
    const double *E = d->estimate;
    const figures *ls = &light[0], *lb = &light[1];
    fprintf(fp, "## Size: what a 100x larger model costs\n\n");
    fprintf(fp, "| | %s, 1 GPU | %s, %s GPUs |\n|---|---:|---:|\n", SMALL_MODEL, BIG_MODEL,
            WHATIFS[W_BIG].tp);
    fprintf(fp, "| median time to first token, light load | %.0f ms | %.0f ms |\n", ls->p50_ttft,
            lb->p50_ttft);
    fprintf(fp, "| median time per output token, light load | %.1f ms | %.1f ms |\n",
            ls->p50_tpot, lb->p50_tpot);
    fprintf(fp, "| median end-to-end latency, light load | %.2f s | %.2f s |\n",
            ls->p50_e2e / 1e3, lb->p50_e2e / 1e3);
    fprintf(fp, "| capacity under the SLO | %.3g req/s (%.3g to %.3g) | %.3g req/s (%.3g to %.3g) |\n",
            E[W_SMALL], d->meets[W_SMALL], d->fails[W_SMALL], E[W_BIG], d->meets[W_BIG],
            d->fails[W_BIG]);
    fprintf(fp, "| capacity per GPU | %.3g req/s | %.3g req/s |\n", E[W_SMALL],
            E[W_BIG] / gpus_of(&WHATIFS[W_BIG]));
    fprintf(fp, "| cost at capacity | %.3g USD/h, %.3g USD per million output tokens | %.3g USD/h, "
                "%.3g USD per million output tokens |\n\n",
            at[W_SMALL].cost_h, at[W_SMALL].cost_mtok, at[W_BIG].cost_h, at[W_BIG].cost_mtok);
    fprintf(fp,
            "**Finding.** The 123B model answers a typical chat request in %.2f s, against "
            "%.2f s for the 1B model: %.0f times slower. Each of its output tokens takes "
            "%.0f times as long. It carries %.3g requests/s on %s GPUs, against %.3g on one; "
            "per GPU that is %.0f times fewer. Each output token costs %.0f times as much.\n\n",
            lb->p50_e2e / 1e3, ls->p50_e2e / 1e3, lb->p50_e2e / ls->p50_e2e,
            lb->p50_tpot / ls->p50_tpot, E[W_BIG], WHATIFS[W_BIG].tp, E[W_SMALL],
            E[W_SMALL] / (E[W_BIG] / gpus_of(&WHATIFS[W_BIG])),
            at[W_BIG].cost_mtok / at[W_SMALL].cost_mtok);
    write_report_load(fp, d, at, 0);
    write_report_load(fp, d, at, 1);
    fprintf(fp, "Latency against offered load: [1B](load-small/plots/latency_vs_load.png), "
                "[123B](load-big/plots/latency_vs_load.png); time per output token: "
                "[1B](load-small/plots/tpot_vs_load.png), "
                "[123B](load-big/plots/tpot_vs_load.png). SLO attainment against rate: "
                "[1B](load-small/plots/slo_attainment_vs_rate.png), "
                "[123B](load-big/plots/slo_attainment_vs_rate.png).\n\n");
}

/* The what-if table and what each what-if shows. */
static void write_report_whatifs(FILE *fp, const demo *d, const figures *at)
{
    const double *E = d->estimate;
    fprintf(fp, "## What-ifs\n\n");
    fprintf(fp, "| what-if | GPU | GPUs | capacity, req/s (95%% band) | vs its baseline | req/s "
                "per GPU | USD/h | USD per million output tokens | limited by |\n"
                "|---|---|---:|---:|---:|---:|---:|---:|---|\n");
    for (int i = 0; i < W_COUNT; i++) {
        const whatif *w = &WHATIFS[i];
        const char *gpu = w->larger_gpu ? d->larger_gpu : d->gpu;
        if (!d->have_capacity[i]) {
            fprintf(fp, "| %s | %s | %s | none: %s | | | | | |\n", w->label, gpu, w->tp,
                    d->capacity_err[i]);
            continue;
        }
        char vs[32] = "";
        int base = w->big ? W_BIG : W_SMALL;
        if (i != base)
            pct(vs, sizeof vs, E[i], E[base]);
        fprintf(fp, "| %s | %s | %s | %.3g (%.3g to %.3g) | %s | %.3g | %.3g | %.3g | %s |\n",
                w->label, gpu, w->tp, E[i], d->meets[i], d->fails[i], vs, E[i] / gpus_of(w),
                at[i].cost_h, at[i].cost_mtok, binding_words(&at[i]));
    }
    fprintf(fp, "\n");
    fprintf(fp, "**Findings.** Each what-if changes one thing from its baseline.\n\n");
    char p1[700], p2[700], p3[700];
    phrase(p1, sizeof p1, d, at, W_BIG_FP8);
    phrase(p2, sizeof p2, d, at, W_BIG_INT4);
    fprintf(fp,
            "- **Quantization, same %s GPUs.** With fp8 weights the 123B model carries %s; "
            "with int4 weights, %s. The baseline carries %.3g req/s, limited by %s.%s\n",
            WHATIFS[W_BIG].tp, p1, p2, E[W_BIG], binding_words(&at[W_BIG]),
            hopper(d->gpu) ? " fp8 runs on the tensor cores at twice the 16-bit rate. int4 is "
                             "weight-only on this GPU: it is computed at 16 bits, so it speeds "
                             "up the memory-bound decode, but not the compute-bound prefill."
                           : "");
    phrase(p1, sizeof p1, d, at, W_BIG_FP8_TP2);
    phrase(p2, sizeof p2, d, at, W_BIG_INT4_TP1);
    fprintf(fp,
            "- **Memory.** Quantized, the weights fit on fewer GPUs. fp8 on %s GPUs carries "
            "%s. int4 on %s GPU carries %s. With fewer GPUs there is less compute for each "
            "prefill, and less memory left for the KV cache.\n",
            WHATIFS[W_BIG_FP8_TP2].tp, p1, WHATIFS[W_BIG_INT4_TP1].tp, p2);
    phrase(p1, sizeof p1, d, at, W_BIG_NO_TC);
    fprintf(fp, "- **Tensor cores.** Without them, the 123B model on %s GPUs carries %s.\n",
            WHATIFS[W_BIG].tp, p1);
    phrase(p1, sizeof p1, d, at, W_BIG_LARGER);
    phrase(p2, sizeof p2, d, at, W_BIG_LARGER_TP2);
    fprintf(fp,
            "- **A larger GPU.** On %s %s it carries %s. Its extra memory also holds the "
            "model on %s GPUs, which carry %s.\n",
            WHATIFS[W_BIG_LARGER].tp, d->larger_gpu, p1, WHATIFS[W_BIG_LARGER_TP2].tp, p2);
    phrase(p1, sizeof p1, d, at, W_BIG_STATIC);
    phrase(p2, sizeof p2, d, at, W_SMALL_STATIC);
    phrase(p3, sizeof p3, d, at, W_SMALL);
    fprintf(fp,
            "- **Batching.** Static batching forms a batch and runs it until its longest "
            "answer ends, so a new request waits for the whole batch. The 123B model then "
            "carries %s. The 1B model carries %s, where continuous batching carries %s.\n",
            p1, p2, p3);
    int cheap = frontier_cheapest(d, at);
    if (cheap >= 0)
        fprintf(fp, "\n**The fleet.** To carry %.3g req/s of chat under the SLO, the cheapest "
                    "123B deployment is %s: %.0f replicas of %s GPUs, %.4g USD/h (each replica "
                    "sized at the rate up to which the SLOs hold, the low end of its band).",
                FRONTIER_TARGET_REQ_S, WHATIFS[cheap].label, fleet_replicas(d, cheap),
                WHATIFS[cheap].tp, fleet_replicas(d, cheap) * at[cheap].cost_h);
    fprintf(fp, "\nThe fleet cost of every 123B deployment at %.3g req/s: "
                "[cost_frontier.png](whatif/plots/cost_frontier.png). All the what-ifs: "
                "[whatif.png](whatif/plots/whatif.png).\n\n",
            FRONTIER_TARGET_REQ_S);
}

/* The prefix what-if: caching off against on, and prefix-aware routing against round
 * robin on two replicas, read back from the runs' summaries. */
static void write_report_prefix(FILE *fp, const demo *d)
{
    double hit[N_PREFIX_RUNS], ttft[N_PREFIX_RUNS], p99[N_PREFIX_RUNS], tpot[N_PREFIX_RUNS];
    for (int k = 0; k < N_PREFIX_RUNS; k++) {
        char dir[4096], path[4200];
        path_of(dir, sizeof dir, d, "prefix", PREFIX_RUN[k]);
        snprintf(path, sizeof path, "%s/summary.csv", dir);
        if (csv_value(path, 0, "mean_ttft_ms", &ttft[k]) != 0 ||
            csv_value(path, 0, "p99_ttft_ms", &p99[k]) != 0 ||
            csv_value(path, 0, "p99_tpot_ms", &tpot[k]) != 0)
            return; /* a run failed: its log says why */
        if (k == 0 || csv_value(path, 0, "prefix_hit_rate", &hit[k]) != 0)
            hit[k] = 0;
    }
    fprintf(fp, "## Prefix caching\n\n"
                "The chat workload again, its prompts now made of a system prompt of 1024 tokens "
                "shared by each of 160 groups of 4 users and a question of mean 126 tokens "
                "(`--prefix %s`), on the 123B baseline at 70%% of its capacity per replica "
                "(`prefix/`).\n\n",
            PREFIX_WORKLOAD);
    fprintf(fp, "| | prompt tokens from the cache | mean TTFT | p99 TTFT | p99 TPOT |\n"
                "|---|---:|---:|---:|---:|\n");
    static const char *const label[N_PREFIX_RUNS] = {
        "1 replica, prefix caching off", "1 replica, prefix caching on",
        "2 replicas, round robin", "2 replicas, `--router prefix`"};
    for (int k = 0; k < N_PREFIX_RUNS; k++)
        fprintf(fp, "| %s | %.0f%% | %.0f ms | %.0f ms | %.1f ms |\n", label[k], 100 * hit[k],
                ttft[k], p99[k], tpot[k]);
    char dir[4096], path[4200];
    double kv = NAN;
    path_of(dir, sizeof dir, d, "prefix", PREFIX_RUN[2]);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    csv_value(path, 0, "kv_tokens", &kv);
    fprintf(fp, "\n**Findings.** Prefix caching cuts the mean time to first token from %.0f to "
                "%.0f ms: %.0f%% of prompt tokens come from the cache instead of being "
                "computed. ",
            ttft[0], ttft[1], 100 * hit[1]);
    if (kv < PREFIX_SYSTEM_TOKENS)
        fprintf(fp, "The groups' system prompts (%d tokens) do not fit one replica's KV cache "
                    "(%.0f tokens): behind round robin every replica sees every group and "
                    "evicts. ",
                PREFIX_SYSTEM_TOKENS, kv);
    else
        fprintf(fp, "The groups' system prompts (%d tokens) fit one replica's KV cache (%.0f "
                    "tokens). ",
                PREFIX_SYSTEM_TOKENS, kv);
    fprintf(fp, "Round robin serves %.0f%% from the cache, prefix-aware routing (each group "
                "sent where it is cached) %.0f%%, with a mean TTFT of %.0f against %.0f ms.\n\n",
            100 * hit[2], 100 * hit[3], ttft[3], ttft[2]);
}

/* Which software stack and step model priced each deployment's steps (resolved as the runs
 * resolved them: the same defaults). */
static void write_report_steps(FILE *fp, const demo *d)
{
    fprintf(fp, "## Step times\n\n"
                "| deployment | stack | steps priced by |\n|---|---|---|\n");
    for (int i = 0; i < W_COUNT; i++) {
        const whatif *w = &WHATIFS[i];
        deploy_options o;
        deploy_options_default(&o);
        o.model = w->big ? BIG_MODEL : SMALL_MODEL;
        o.gpu = w->larger_gpu ? d->larger_gpu : d->gpu;
        o.precision = w->precision;
        o.precision_given = 1;
        o.tp = atoi(w->tp);
        o.tensor_cores = strcmp(w->tensor_cores, "on") == 0;
        deploy dep;
        char err[512];
        if (deploy_resolve(&o, &dep, err, sizeof err) != 0) {
            fprintf(fp, "| %s | | %s |\n", w->label, err);
            continue;
        }
        fprintf(fp, "| %s | %s | %s%s%s%s |\n", w->label, dep.stack.name, dep.step_data,
                dep.stack.note[0] ? " (" : "", dep.stack.note, dep.stack.note[0] ? ")" : "");
        deploy_fini(&dep);
    }
    fprintf(fp, "\n`--stack splitwise-2023` prices the steps with the 2023 roofline profile (an "
                "early vLLM without CUDA graphs), as capsim did before it had measured kernels; "
                "`capsim estimate` shows where a step's time goes.\n\n");
}

/* Where each step's files are. */
static void write_report_files(FILE *fp, const demo *d)
{
    fprintf(fp, "## Files\n\n");
    fprintf(fp,
            "- **`capacity/NAME/`**: each capacity search. `search.csv` holds every rate "
            "tried, with its verdict and figures; `capacity.csv` holds the answer; `log.txt` "
            "holds the command and its output.\n"
            "- **`at-capacity/NAME/`**: a confirming `capsim run` at the rate up to which each "
            "search found the SLOs met, with seed %s instead of the search's %s. Its "
            "`summary.csv` says whether the SLOs hold there on draws the search did not see.\n"
            "- **`load-small/`, `load-big/`**: load sweeps from %.0f%% to %.0f%% of capacity, "
            "each point the size of a capacity search (`summary.csv`, one row per rate).\n"
            "- **`run-small/`, `run-big/`**: runs at 70%% of capacity with per-request "
            "records and a time series. They give the TTFT and E2E CDFs "
            "(`plots/latency_cdf.png`), their tails (`plots/latency_ccdf.png`) and the "
            "queue, batch and KV cache over time (`plots/timeseries.png`).\n"
            "- **`whatif/`**: `whatif.csv` (the table above) and `frontier.csv`.\n\n"
            "Each `plots/` folder holds the PNG, the SVG, the gnuplot script and its data. "
            "Edit the script and run `gnuplot NAME.gp` there to restyle a plot, or run "
            "`capsim plot FOLDER` to draw a folder again.\n",
            d->confirm_seed, d->seed, 100 * LOAD_FRACTIONS[0], 100 * LOAD_FRACTIONS[N_LOAD - 1]);
}

static void write_report(FILE *fp, const void *what)
{
    const demo *d = ((const results *)what)->d;
    const figures *at = ((const results *)what)->at, *light = ((const results *)what)->light;
    write_report_intro(fp, d);
    write_report_size(fp, d, at, light);
    write_report_whatifs(fp, d, at);
    write_confirmations(fp, d, at);
    write_report_prefix(fp, d);
    write_report_steps(fp, d);
    write_report_files(fp, d);
}

/* --- the command -------------------------------------------------------------------------- */

/* --- step 4: read back, write the what-if files, draw the plots, write the report ---------------- */

static int step_report(const demo *d, const struct timespec *t0)
{
    figures at[W_COUNT], light[2];
    memset(at, 0, sizeof at);
    memset(light, 0, sizeof light);
    char err[1024];
    struct timespec t1;
    for (int i = 0; i < W_COUNT; i++) {
        char path[4200];
        path_of(path, sizeof path, d, "at-capacity", WHATIFS[i].name);
        strcat(path, "/summary.csv");
        if (d->have_capacity[i])
            read_summary(path, 0, &at[i]);
    }
    for (int i = 0; i < 2; i++) {
        char path[4200];
        path_of(path, sizeof path, d, i ? "load-big" : "load-small", "summary.csv");
        read_summary(path, 0, &light[i]); /* the lightest load: 10% of capacity */
    }
    const results res = {d, at, light};
    {
        char dir[4096];
        path_of(dir, sizeof dir, d, "whatif", NULL);
        static const char *const names[] = {"whatif.csv", "frontier.csv"};
        static const util_writer write[] = {write_whatif_csv, write_frontier_csv};
        const void *what[] = {&res, &res};
        if (util_write_files(dir, 2, names, write, what, err, sizeof err) != 0) {
            fprintf(d->err_fp, "capsim demo: %s\n", err);
            return PLAN_FAILED;
        }
    }
    static const char *const plotted[] = {"load-small", "load-big", "run-small",
                                          "run-big",    "whatif",   "capacity/big"};
    int missing = 0;
    for (size_t i = 0; i < sizeof plotted / sizeof plotted[0]; i++) {
        char dir[4096];
        path_of(dir, sizeof dir, d, plotted[i], NULL);
        plot_report rep;
        if (plot_dir(dir, PLOT_PNG | PLOT_SVG, &rep, err, sizeof err) != 0) {
            fprintf(d->err_fp, "capsim demo: %s\n", err);
            return PLAN_FAILED;
        }
        plot_report_kept(d->err_fp, "demo", &rep);
        missing |= rep.gnuplot_missing;
    }
    if (missing)
        fprintf(d->out_fp, "  gnuplot not found: the plot scripts and data are written, not the pictures "
               "(install gnuplot-nox and run capsim plot on each folder)\n");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    {
        static const char *const names[] = {"REPORT.md"};
        static const util_writer write[] = {write_report};
        const void *what[] = {&res};
        double el = (double)(t1.tv_sec - t0->tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0->tv_nsec);
        if (util_write_files(d->out, 1, names, write, what, err, sizeof err) != 0) {
            fprintf(d->err_fp, "capsim demo: %s\n", err);
            return PLAN_FAILED;
        }
        fprintf(d->out_fp, "\n  done in %.0f s. The report: %s/REPORT.md\n", el, d->out);
        fprintf(d->out_fp, "  plots: %s/load-*/plots, %s/run-*/plots, %s/whatif/plots\n", d->out, d->out,
               d->out);
    }
    return PLAN_OK;
}

void demo_defaults(demo_options *o)
{
    o->out = "results/demo";
    o->gpu = "h100-sxm";
    o->larger_gpu = "h200";
    o->seed = 1;
    o->jobs = parmap_cores();
}

/* The signal that interrupted the demo, 0 for none. The demo catches SIGINT, SIGTERM and
 * SIGHUP for its whole run (parmap's own handler, while workers run, hands the signal on to
 * this one), so that it can remove a results folder it made before it ends by the same
 * signal. A signal handler can reach no other state than such a flag. */
static volatile sig_atomic_t demo_caught;

static void demo_on_signal(int sig)
{
    demo_caught = sig;
}

static const int DEMO_SIGNALS[] = {SIGINT, SIGTERM, SIGHUP};
#define N_DEMO_SIGNALS 3

/* Removes dir and everything under it (a results folder this run made). */
static void remove_tree(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *ent;
    while (dp && (ent = readdir(dp)) != NULL) {
        if (strcmp(ent->d_name, ".") == 0 || strcmp(ent->d_name, "..") == 0)
            continue;
        char path[4400];
        int w = snprintf(path, sizeof path, "%s/%s", dir, ent->d_name);
        struct stat st;
        if (w < 0 || (size_t)w >= sizeof path || lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode))
            remove_tree(path);
        else
            unlink(path);
    }
    if (dp)
        closedir(dp);
    rmdir(dir);
}

/* Removes under dir (and its subfolders) the temporary files ".NAME.tmp-PID" of the
 * atomic writer (util.h) whose process PID has ended: those of workers killed while
 * writing, when the demo is interrupted in a folder that was there before. */
static void remove_dead_temps(const char *dir)
{
    DIR *dp = opendir(dir);
    struct dirent *ent;
    while (dp && (ent = readdir(dp)) != NULL) {
        const char *name = ent->d_name, *tmp = strstr(name, ".tmp-");
        if (strcmp(name, ".") == 0 || strcmp(name, "..") == 0)
            continue;
        char path[4400];
        int w = snprintf(path, sizeof path, "%s/%s", dir, name);
        struct stat st;
        if (w < 0 || (size_t)w >= sizeof path || lstat(path, &st) != 0)
            continue;
        if (S_ISDIR(st.st_mode)) {
            remove_dead_temps(path);
            continue;
        }
        char *end;
        long pid = tmp && name[0] == '.' ? strtol(tmp + 5, &end, 10) : 0;
        if (pid > 0 && *end == '\0' && S_ISREG(st.st_mode) && kill((pid_t)pid, 0) != 0 &&
            errno == ESRCH)
            unlink(path);
    }
    if (dp)
        closedir(dp);
}

/* The four steps; stops after a step that failed or was interrupted. */
static plan_status demo_steps(demo *d, FILE *out)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    fprintf(out, "capsim demo: %s (~1B) and %s (123B) on %s, chat workload, SLO %s\n",
            SMALL_MODEL, BIG_MODEL, d->gpu, CHAT_SLO);
    fprintf(out, "  1/4 capacity under the SLO of %d deployments ...\n", W_COUNT);
    fflush(out);
    if (step_capacities(d) != 0 || demo_caught)
        return PLAN_FAILED;
    fprintf(out, "      1B: %.3g req/s on 1 GPU; 123B: %.3g req/s on %s GPUs\n",
            d->estimate[W_SMALL], d->estimate[W_BIG], WHATIFS[W_BIG].tp);
    fprintf(out, "  2/4 load sweeps from %.0f%% to %.0f%% of capacity ...\n",
            100 * LOAD_FRACTIONS[0], 100 * LOAD_FRACTIONS[N_LOAD - 1]);
    fflush(out);
    if (step_sweep(d, W_SMALL, "load-small") != 0 || demo_caught ||
        step_sweep(d, W_BIG, "load-big") != 0 || demo_caught)
        return PLAN_FAILED;
    fprintf(out,
            "  3/4 confirming runs at every capacity (seed %s, independent of the searches'), "
            "and runs at 70%% with per-request records ...\n",
            d->confirm_seed);
    fflush(out);
    if (step_runs(d) != 0 || demo_caught)
        return PLAN_FAILED;
    fprintf(out, "  4/4 plots and REPORT.md ...\n");
    fflush(out);
    return step_report(d, &t0);
}

plan_status demo_run(const demo_options *opt, FILE *out, FILE *err)
{
    demo *d = calloc(1, sizeof *d);
    if (d == NULL) {
        fprintf(err, "capsim demo: out of memory\n");
        return PLAN_FAILED;
    }
    d->out = opt->out;
    d->gpu = opt->gpu;
    d->larger_gpu = opt->larger_gpu;
    d->out_fp = out;
    d->err_fp = err;
    d->jobs = opt->jobs;
    snprintf(d->seed, sizeof d->seed, "%llu", (unsigned long long)opt->seed);
    snprintf(d->confirm_seed, sizeof d->confirm_seed, "%llu", (unsigned long long)(opt->seed + 1));
    char msg[1024];
    struct stat st;
    int existed = !opt->out_created && stat(d->out, &st) == 0;
    if (util_mkdir_p(d->out, msg, sizeof msg) != 0) {
        fprintf(err, "capsim demo: %s\n", msg);
        free(d);
        return PLAN_FAILED;
    }
    if (check_baselines(d) != 0) {
        free(d);
        return PLAN_BAD_INPUT;
    }
    struct sigaction sa, old[N_DEMO_SIGNALS];
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = demo_on_signal;
    sigemptyset(&sa.sa_mask);
    demo_caught = 0;
    for (int i = 0; i < N_DEMO_SIGNALS; i++) {
        sigaction(DEMO_SIGNALS[i], NULL, &old[i]);
        if (old[i].sa_handler != SIG_IGN)
            sigaction(DEMO_SIGNALS[i], &sa, NULL);
    }
    plan_status status = demo_steps(d, out);
    for (int i = 0; i < N_DEMO_SIGNALS; i++)
        sigaction(DEMO_SIGNALS[i], &old[i], NULL);
    int sig = demo_caught;
    /* Interrupted: a folder this run made goes; one that was there keeps what the finished
     * steps wrote, less the temporary files of killed workers. Then the process ends by
     * the signal as if it had not been caught. */
    if (sig && !existed)
        remove_tree(d->out);
    else if (sig)
        remove_dead_temps(d->out);
    if (sig)
        fprintf(err, "capsim demo: interrupted (%s); %s %s\n", strsignal(sig),
                existed ? "kept what the finished steps wrote in" : "removed the folder it made,",
                d->out);
    free(d);
    if (sig)
        raise(sig);
    return status;
}
