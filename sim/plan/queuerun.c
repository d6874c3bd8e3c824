/*
 * queuerun: the queueing mode's run and load curve (see queuerun.h).
 *
 * All figures are computed before anything is written; the output files are written
 * under temporary names and renamed into place at the end, so a failed run leaves the
 * results folder as it was.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/queuerun.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "sim/base/csvout.h"
#include "sim/base/histo.h"
#include "sim/base/util.h"
#include "sim/engine/theory.h"
#include "sim/plan/runspec.h"

void queuerun_defaults(queue_scenario *q)
{
    memset(q, 0, sizeof *q);
    q->cfg = (queue_config){.servers = 1,
                            .capacity = 0,
                            .batch = 1,
                            .customers = 100000,
                            .replications = 10,
                            .warmup_fraction = 0.1,
                            .seed = 1};
    snprintf(q->arrival_text, sizeof q->arrival_text, "poisson:rate=0.8");
    snprintf(q->service_text, sizeof q->service_text, "exp:mean=1");
}

static void write_summary(FILE *fp, const queue_scenario *q, const queue_result *res)
{
    const queue_config *cfg = &q->cfg;
    csvout c;
    csvout_init(&c, fp);
    static const char *const inputs[] = {"arrival", "service",   "servers",      "capacity",
                                         "batch",   "customers", "replications", "warmup",
                                         "tail_t",  "seed",      "offered_load"};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        csvout_str(&c, inputs[i]);
    for (size_t m = 0; m < QM_COUNT; m++) {
        char ci_name[64];
        snprintf(ci_name, sizeof ci_name, "%s_ci95", queue_metric_names[m]);
        csvout_str(&c, queue_metric_names[m]);
        csvout_str(&c, ci_name);
    }
    csvout_str(&c, "little_law_ok");
    csvout_str(&c, "percentile_rel_error");
    csvout_end_row(&c);

    csvout_str(&c, q->arrival_text);
    csvout_str(&c, q->service_text);
    csvout_u64(&c, cfg->servers);
    if (cfg->capacity)
        csvout_u64(&c, cfg->capacity);
    else
        csvout_str(&c, "inf");
    csvout_u64(&c, cfg->batch);
    csvout_u64(&c, cfg->customers);
    csvout_u64(&c, cfg->replications);
    csvout_num(&c, cfg->warmup_fraction);
    csvout_num(&c, cfg->tail_t_s);
    csvout_u64(&c, cfg->seed);
    csvout_num(&c, queue_offered_load(cfg));
    for (size_t m = 0; m < QM_COUNT; m++) {
        csvout_num(&c, res->metric[m].mean);
        csvout_num(&c, res->metric[m].half_width);
    }
    if (res->little_checked)
        csvout_u64(&c, (uint64_t)res->little_ok);
    else
        csvout_str(&c, "");
    csvout_num(&c, HISTO_REL_ERROR);
    csvout_end_row(&c);
}

/* The fully resolved scenario: `capsim queue DIR/scenario.ini` reproduces the run. Reals
 * are written with 17 significant digits so that they read back to the same double. */
static void write_scenario(FILE *fp, const queue_scenario *q)
{
    const queue_config *cfg = &q->cfg;
    fprintf(fp, "; capsim queue scenario, every setting resolved.\n");
    fprintf(fp, "; Reproduce with: capsim queue THIS_FILE --out DIR\n");
    fprintf(fp, "[queue]\n");
    fprintf(fp, "arrival = %s\n", q->arrival_text);
    fprintf(fp, "service = %s\n", q->service_text);
    fprintf(fp, "servers = %u\n", cfg->servers);
    if (cfg->capacity)
        fprintf(fp, "capacity = %llu\n", (unsigned long long)cfg->capacity);
    else
        fprintf(fp, "capacity = unlimited\n");
    fprintf(fp, "batch = %u\n", cfg->batch);
    fprintf(fp, "customers = %llu\n", (unsigned long long)cfg->customers);
    fprintf(fp, "replications = %u\n", cfg->replications);
    char num[32];
    fprintf(fp, "warmup = %s\n", util_fmt_exact(num, sizeof num, cfg->warmup_fraction));
    fprintf(fp, "tail_t = %s\n", util_fmt_exact(num, sizeof num, cfg->tail_t_s));
    fprintf(fp, "seed = %llu\n", (unsigned long long)cfg->seed);
    fprintf(fp, "allow_unstable = %s\n", q->allow_unstable ? "true" : "false");
}

static void write_seeds(FILE *fp, const queue_result *res, uint64_t master)
{
    static const char *const sources[QUEUE_SOURCES] = {"arrivals", "service"};
    fprintf(fp, "master_seed,replication,source,seed\n");
    for (size_t i = 0; i < res->n_seeds; i++)
        fprintf(fp, "%llu,%zu,%s,%lu\n", (unsigned long long)master, i / QUEUE_SOURCES,
                sources[i % QUEUE_SOURCES], res->seeds[i]);
}

/* Writes the output files atomically; on failure removes what it made (the directory
 * too, if this run created it). */
static int write_outputs(const queue_scenario *q, const queue_result *res, char *err, size_t errlen)
{
    enum { N_FILES = 3 };
    static const char *const names[N_FILES] = {"summary.csv", "seeds.csv", "scenario.ini"};
    struct stat st;
    int existed = stat(q->out_dir, &st) == 0;
    if (util_mkdir_p(q->out_dir, err, errlen) != 0)
        return -1;
    util_atomic_file f[N_FILES];
    memset(f, 0, sizeof f);
    int rc = 0;
    for (int i = 0; i < N_FILES && rc == 0; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", q->out_dir, names[i]);
        rc = util_atomic_open(&f[i], path, err, errlen);
    }
    if (rc == 0) {
        write_summary(f[0].fp, q, res);
        write_seeds(f[1].fp, res, q->cfg.seed);
        write_scenario(f[2].fp, q);
    }
    /* Everything is complete on disk under temporary names before the first rename. */
    if (rc == 0)
        rc = util_atomic_commit_all(f, N_FILES, err, errlen);
    if (rc != 0) {
        for (int i = 0; i < N_FILES; i++)
            util_atomic_abort(&f[i]);
        if (!existed)
            rmdir(q->out_dir);
    }
    return rc;
}

static void print_table(FILE *out, const queue_scenario *q, const queue_result *res)
{
    const queue_config *cfg = &q->cfg;
    const dist *svc = cfg->service;
    fprintf(out, "capsim queue: G/G/c simulation, times in seconds\n");
    fprintf(out, "  arrivals   %-28s rate %.6g /s, inter-arrival cv %.3g\n", q->arrival_text,
           cfg->arrivals->rate_per_s, sqrt(cfg->arrivals->interarrival.scv));
    fprintf(out, "  service    %-28s mean %.6g s, cv %.3g\n", q->service_text, svc->mean, sqrt(svc->scv));
    char cap[32];
    if (cfg->capacity)
        snprintf(cap, sizeof cap, "%llu", (unsigned long long)cfg->capacity);
    else
        snprintf(cap, sizeof cap, "unlimited");
    fprintf(out, "  servers %u, capacity %s, batch %u; offered load %.4g\n", cfg->servers, cap,
           cfg->batch, queue_offered_load(cfg));
    fprintf(out, "  %u replications x %llu customers, first %.3g%% of each deleted as warm-up\n",
           cfg->replications, (unsigned long long)cfg->customers, 100 * cfg->warmup_fraction);
    fprintf(out, "  master seed %llu; replication 0 streams: arrivals %lu, service %lu%s\n\n",
           (unsigned long long)cfg->seed, res->seeds[0], res->seeds[1],
           q->out_dir ? " (all in seeds.csv)" : "");
    fprintf(out, "  %-18s %14s %14s  %s\n", "figure", "value", "+-95% CI", "unit");
    for (size_t m = 0; m < QM_COUNT; m++) {
        char name[40];
        if (m == QM_PROB_WAIT_GT_T)
            snprintf(name, sizeof name, "prob_wait_gt_%gs", cfg->tail_t_s);
        else
            snprintf(name, sizeof name, "%s", queue_metric_names[m]);
        char v[32], ci[32];
        fprintf(out, "  %-18s %14s %14s  %s\n", name,
                util_fmt_fig(v, sizeof v, 6, res->metric[m].mean),
                util_fmt_fig(ci, sizeof ci, 3, res->metric[m].half_width), queue_metric_units[m]);
    }
    if (cfg->replications == 1)
        fprintf(out, "  n/a in the +-95%% CI column: one replication gives no interval "
                     "(--replications 2 or more).\n");
    fprintf(out, "\n  Percentiles come from a log-bucketed histogram (relative error <= %.2g%%).\n",
           100 * HISTO_REL_ERROR);
    if (!res->little_checked)
        fprintf(out, "  Little's law not checked: it needs 2 or more replications.\n");
    else
        fprintf(out, "  Little's law: L = %.6g +- %.3g, lambda*W = %.6g +- %.3g: %s\n",
               res->metric[QM_MEAN_IN_SYSTEM].mean, res->metric[QM_MEAN_IN_SYSTEM].half_width,
               res->metric[QM_LAMBDA_W].mean, res->metric[QM_LAMBDA_W].half_width,
               res->little_ok ? "agree" : "DISAGREE");
}


/* --- the load curve (--load) ------------------------------------------------------------- */

typedef struct load_point {
    double rho, rate;
    stats_ci mean_wait, p99_wait;
    double exact_mean, exact_p99;
} load_point;

/* The exact mean and p99 wait at rate lambda where a formula applies, else NAN. */
static void load_exact(const queue_scenario *q, const dist *svc, double lambda, load_point *p)
{
    p->exact_mean = p->exact_p99 = NAN;
    const queue_config *c = &q->cfg;
    if (strncmp(q->arrival_text, "poisson:", 8) != 0 || c->capacity != 0 || c->batch != 1)
        return;
    theory_answer a;
    double mu = 1.0 / svc->mean;
    if (strcmp(svc->kind->name, "exp") == 0) {
        if (theory_mmc(lambda, mu, (int)c->servers, 0, &a) != 0)
            return;
        p->exact_mean = a.mean_wait;
        /* P(W > t) = C exp(-(c mu - lambda) t), so the 99th percentile solves it = 0.01. */
        double rate = c->servers * mu - lambda;
        p->exact_p99 = a.prob_wait > 0.01 ? log(a.prob_wait / 0.01) / rate : 0;
    } else if (c->servers == 1 && theory_mg1(lambda, svc->mean, svc->scv, 0, &a) == 0) {
        p->exact_mean = a.mean_wait;
    }
}

typedef struct load_curve {
    const load_point *pt;
    size_t n;
} load_curve;

static void write_load_csv(FILE *fp, const void *what)
{
    const load_point *pt = ((const load_curve *)what)->pt;
    size_t n = ((const load_curve *)what)->n;
    csvout c;
    csvout_init(&c, fp);
    static const char *const cols[] = {"rho",           "arrival_rate",    "mean_wait",
                                       "mean_wait_ci95", "p99_wait",        "p99_wait_ci95",
                                       "exact_mean_wait", "exact_p99_wait"};
    for (size_t i = 0; i < sizeof cols / sizeof cols[0]; i++)
        csvout_str(&c, cols[i]);
    csvout_end_row(&c);
    for (size_t i = 0; i < n; i++) {
        csvout_num(&c, pt[i].rho);
        csvout_num(&c, pt[i].rate);
        csvout_num(&c, pt[i].mean_wait.mean);
        csvout_num(&c, pt[i].mean_wait.half_width);
        csvout_num(&c, pt[i].p99_wait.mean);
        csvout_num(&c, pt[i].p99_wait.half_width);
        if (isnan(pt[i].exact_mean))
            csvout_str(&c, "");
        else
            csvout_num(&c, pt[i].exact_mean);
        if (isnan(pt[i].exact_p99))
            csvout_str(&c, "");
        else
            csvout_num(&c, pt[i].exact_p99);
        csvout_end_row(&c);
    }
}

static plan_status run_load_curve(queue_scenario *q, const dist *svc, int plots, FILE *out,
                                  FILE *errout, plan_error *e)
{
    double lo, hi, step;
    char tail, err[1024];
    if (sscanf(q->load, "%lf:%lf:%lf%c", &lo, &hi, &step, &tail) != 3 || !(lo > 0) ||
        !(hi >= lo) || !(step > 0) || (hi - lo) / step > 1000)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--load '%s': expected first:last:step utilisations with "
                         "0 < first <= last and step > 0 (at most 1000 points)",
                         q->load);
    if (q->cfg.capacity == 0 && hi >= 1 && !q->allow_unstable)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--load '%s': utilisations must stay below 1 without "
                         "--capacity (the queue has no steady state at 1 or more)",
                         q->load);
    {
        char text[1100];
        snprintf(text, sizeof text, "%s", q->arrival_text);
        if (run_set_rate(text, sizeof text, "1", err, sizeof err) != 0)
            return plan_fail(e, PLAN_BAD_INPUT, NULL, "--load needs an --arrival with rate=: %s",
                             err);
    }
    size_t n = (size_t)floor((hi - lo) / step + 1e-9) + 1;
    load_point *pt = calloc(n, sizeof *pt);
    if (pt == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    plan_status status = PLAN_OK;
    fprintf(out, "capsim queue --load: waits against utilisation; arrivals %s, service %s, %u "
           "server%s, batch %u; master seed %llu at every point\n\n",
           q->arrival_text, q->service_text, q->cfg.servers, q->cfg.servers == 1 ? "" : "s",
           q->cfg.batch, (unsigned long long)q->cfg.seed);
    fprintf(out, "  %6s %10s %12s %10s %12s %10s %12s %12s\n", "rho", "rate/s", "mean wait s",
           "+-95%", "p99 wait s", "+-95%", "exact mean", "exact p99");
    for (size_t i = 0; i < n && status == PLAN_OK; i++) {
        load_point *p = &pt[i];
        p->rho = lo + (double)i * step;
        p->rate = p->rho * q->cfg.servers * q->cfg.batch / svc->mean;
        char text[1100], rate[64];
        snprintf(text, sizeof text, "%s", q->arrival_text);
        util_fmt_exact(rate, sizeof rate, p->rate);
        arrival_process arr;
        if (run_set_rate(text, sizeof text, rate, err, sizeof err) != 0 ||
            arrival_parse(text, &arr, err, sizeof err) != 0) {
            status = plan_fail(e, PLAN_BAD_INPUT, NULL, "--load with --arrival %s: %s",
                               q->arrival_text, err);
            break;
        }
        queue_config cfg = q->cfg;
        cfg.arrivals = &arr;
        queue_result res;
        if (queue_run(&cfg, &res, err, sizeof err) != 0) {
            status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
        } else {
            p->mean_wait = res.metric[QM_MEAN_WAIT];
            p->p99_wait = res.metric[QM_P99_WAIT];
            load_exact(q, svc, arr.rate_per_s, p);
            fprintf(out, "  %6.3g %10.4g %12.5g %10.3g %12.5g %10.3g %12.5g %12.5g\n", p->rho, p->rate,
                   p->mean_wait.mean, p->mean_wait.half_width, p->p99_wait.mean,
                   p->p99_wait.half_width, p->exact_mean, p->exact_p99);
            queue_result_fini(&res);
        }
        arrival_fini(&arr);
    }
    if (status == PLAN_OK && q->out_dir) {
        static const char *const names[] = {"load.csv"};
        static const util_writer write[] = {write_load_csv};
        const load_curve curve = {pt, n};
        const void *what[] = {&curve};
        if (util_write_files(q->out_dir, 1, names, write, what, err, sizeof err) != 0) {
            status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
        } else {
            fprintf(out, "\n  wrote %s/load.csv\n", q->out_dir);
            if (plots)
                plan_draw_plots("queue", q->out_dir, out, errout);
        }
    }
    free(pt);
    return status;
}

/* The checks that make a single run meaningful: a steady state (or a capacity), room for
 * the servers, customers left after the warm-up. */
static plan_status check_run(const queue_scenario *q, plan_error *e)
{
    double rho = queue_offered_load(&q->cfg);
    uint64_t warm = (uint64_t)floor(q->cfg.warmup_fraction * (double)q->cfg.customers);
    if (q->cfg.capacity == 0 && rho >= 1.0 && !q->allow_unstable && !q->load)
        return plan_fail(
            e, PLAN_BAD_INPUT, NULL,
            "offered load lambda*E[S]/(servers*batch) = %.4g*%.4g/(%u*%u) = %.4g >= 1 with "
            "unlimited capacity: the queue grows without bound and has no steady state; "
            "raise --servers or --batch, lower the rate, set --capacity, or pass "
            "--allow-unstable",
            q->cfg.arrivals->rate_per_s, q->cfg.service->mean, q->cfg.servers, q->cfg.batch,
            rho);
    if (q->cfg.capacity != 0 && q->cfg.capacity < q->cfg.servers)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--capacity %llu is below --servers %u (capacity counts "
                         "customers in service too)",
                         (unsigned long long)q->cfg.capacity, q->cfg.servers);
    if (warm >= q->cfg.customers)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--warmup %g deletes all %llu customers",
                         q->cfg.warmup_fraction, (unsigned long long)q->cfg.customers);
    return PLAN_OK;
}

/* One run: the table, the files, the warning of a failed Little's law check. */
static plan_status run_once(queue_scenario *q, FILE *out, FILE *errout, plan_error *e)
{
    char err[1024];
    queue_result res;
    if (queue_run(&q->cfg, &res, err, sizeof err) != 0)
        return plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    plan_status status = PLAN_OK;
    if (q->out_dir && write_outputs(q, &res, err, sizeof err) != 0) {
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    } else {
        print_table(out, q, &res);
        if (q->out_dir)
            fprintf(out, "  wrote %s/summary.csv, seeds.csv and scenario.ini\n", q->out_dir);
        if (res.little_checked && !res.little_ok)
            fprintf(errout, "capsim queue: warning: Little's law check failed: L and lambda*W "
                            "differ by more than their confidence intervals; the run may be too "
                            "short or not in steady state\n");
    }
    queue_result_fini(&res);
    return status;
}

plan_status queuerun_run(queue_scenario *q, int plots, FILE *out, FILE *err, plan_error *e)
{
    char msg[1024];
    arrival_process arr;
    dist service;
    if (arrival_parse(q->arrival_text, &arr, msg, sizeof msg) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--arrival %s", msg);
    if (dist_parse(q->service_text, &service, msg, sizeof msg) != 0) {
        arrival_fini(&arr);
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--service %s", msg);
    }
    q->cfg.arrivals = &arr;
    q->cfg.service = &service;
    if (!q->tail_given)
        q->cfg.tail_t_s = service.mean;
    plan_status status = check_run(q, e);
    /* The load curve sets its own rates (the checks on capacity and warm-up hold for every
     * one of them). */
    if (status == PLAN_OK && q->load)
        status = run_load_curve(q, &service, plots, out, err, e);
    else if (status == PLAN_OK)
        status = run_once(q, out, err, e);
    q->cfg.arrivals = NULL;
    q->cfg.service = NULL;
    arrival_fini(&arr);
    dist_fini(&service);
    return status;
}
