/*
 * runsearch: the serving model as a search evaluator (see runsearch.h).
 *
 * All the settings of one search use the same seed (common random numbers), so
 * neighbouring rates see the same random draws and the comparison between them is sharper
 * than independent runs allow.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/cli/runsearch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/csvout.h"
#include "sim/base/util.h"
#include "sim/cli/cli.h"

static const char *CMD = "capacity";

/* Requests per replication for n replicas when the scenario says auto: near saturation
 * the tail of TTFT needs long runs before it settles (with 2000 requests the capacity
 * estimate came out 10-20% low and its interval 60% wide on llama-3.1-8b / H100). */
void runsearch_set_replicas(run_cli *r, const run_cli *base, uint64_t n)
{
    snprintf(r->value[OPT_replicas], sizeof r->value[0], "%llu", (unsigned long long)n);
    if (strcmp(base->value[OPT_requests], "auto") == 0)
        snprintf(r->value[OPT_requests], sizeof r->value[0], "%llu",
                 (unsigned long long)(n * 4000 > 8000 ? n * 4000 : 8000));
}

void runsearch_prepare(run_cli *base)
{
    if (!base->given[OPT_replications])
        snprintf(base->value[OPT_replications], sizeof base->value[0], "10");
    snprintf(base->value[OPT_sample_interval], sizeof base->value[0], "0");
    snprintf(base->value[OPT_per_request], sizeof base->value[0], "off");
}

double runsearch_arrival_rate(const run_cli *r)
{
    const char *at = strstr(r->value[OPT_arrival], "rate=");
    return at ? strtod(at + 5, NULL) : NAN;
}

/* --- the evaluator --------------------------------------------------------------------------- */

typedef struct serving {
    run_cli *r;          /* the scenario at the value being tried */
    const run_cli *base; /* as given */
    const char *what;    /* "rate" or "replicas": what is searched */
    FILE *log;
} serving;

/* Runs r and fills the figures of its SLOs. */
static int run_figures(const run_cli *r, search_step *e)
{
    resolved rs;
    serve_result res;
    char err[2048];
    if (run_resolve(r, &rs, err, sizeof err) != 0 || serve_run(&rs.cfg, &res, err, sizeof err) != 0) {
        snprintf(e->err, sizeof e->err, "%.500s", err);
        run_resolved_fini(&rs);
        return -1;
    }
    for (int k = 0; k < SLO_COUNT; k++) {
        if (res.slo_met[k] < 0)
            continue;
        serve_metric m = serve_slo_target_metric((serve_slo_metric)k, rs.cfg.slo.pct[k]);
        e->used[k] = 1;
        e->metric[k] = m;
        e->value_ms[k] = res.metric[m].mean;
        e->ci_ms[k] = res.metric[m].half_width;
        e->limit_ms[k] = 1e3 * rs.cfg.slo.limit_s[k];
    }
    e->cost_per_hour_usd = res.cost_per_hour_usd;
    e->cost_per_mtok_usd = res.metric[SM_cost_per_million_output_tokens].mean;
    e->output_tok_s = res.metric[SM_output_throughput].mean;
    serve_result_fini(&res);
    run_resolved_fini(&rs);
    return 0;
}

static int eval_rate(void *user, double rate, search_step *e)
{
    serving *s = user;
    char v[64];
    snprintf(v, sizeof v, "%.4g", rate);
    if (run_set_rate(s->r->value[OPT_arrival], sizeof s->r->value[OPT_arrival], v, e->err,
                     sizeof e->err) != 0)
        return -1;
    return run_figures(s->r, e);
}

static int eval_replicas(void *user, double n, search_step *e)
{
    serving *s = user;
    runsearch_set_replicas(s->r, s->base, (uint64_t)n);
    return run_figures(s->r, e);
}

static void print_step(FILE *out, const char *what, const search_step *e)
{
    fprintf(out, "  %-10s %10.4g  %-8s", what, e->x, search_verdict_name[e->v]);
    if (e->v == SEARCH_ERROR) {
        fprintf(out, " %s\n", e->err);
        return;
    }
    for (int k = 0; k < SLO_COUNT; k++)
        if (e->used[k])
            fprintf(out, "  %s %.4g +- %.2g (limit %g)", serve_metric_names[e->metric[k]],
                    e->value_ms[k], e->ci_ms[k], e->limit_ms[k]);
    fprintf(out, "\n");
}

static void on_step(void *user, const search_step *e)
{
    const serving *s = user;
    if (s->log)
        print_step(s->log, s->what, e);
}

int runsearch_rate(const run_cli *base, double start, double tol, FILE *log,
                   search_rate_result *res)
{
    run_cli *r = malloc(sizeof *r);
    if (r == NULL) {
        memset(res, 0, sizeof *res);
        snprintf(res->err, sizeof res->err, "out of memory");
        return -1;
    }
    *r = *base;
    runsearch_set_replicas(r, base, strtoull(base->value[OPT_replicas], NULL, 10));
    serving s = {r, base, "rate", log};
    search_evaluator ev = {eval_rate, on_step, &s};
    int rc = search_rate(&ev, start, tol, res);
    free(r);
    return rc;
}

int runsearch_replicas(const run_cli *base, uint64_t start, FILE *log,
                       search_replica_result *res)
{
    run_cli *r = malloc(sizeof *r);
    if (r == NULL) {
        memset(res, 0, sizeof *res);
        snprintf(res->err, sizeof res->err, "out of memory");
        return -1;
    }
    *r = *base;
    serving s = {r, base, "replicas", log};
    search_evaluator ev = {eval_replicas, on_step, &s};
    int rc = search_replicas(&ev, start, res);
    free(r);
    return rc;
}

/* --- printing and files ----------------------------------------------------------------------- */

void runsearch_describe(FILE *out, const run_cli *r)
{
    fprintf(out,
            "  %s on %s x %s, %s weights, %s replica%s, %s batching; %s, prompt %s, output %s\n",
            r->value[OPT_model], r->value[OPT_tp], r->value[OPT_gpu], r->value[OPT_precision],
            r->value[OPT_replicas], strcmp(r->value[OPT_replicas], "1") ? "s" : "",
            r->value[OPT_scheduler], r->value[OPT_arrival], r->value[OPT_prompt_len],
            r->value[OPT_output_len]);
    run_cli *sized = malloc(sizeof *sized);
    if (sized) {
        *sized = *r;
        runsearch_set_replicas(sized, r, strtoull(r->value[OPT_replicas], NULL, 10));
    }
    fprintf(out,
            "  SLO %s; %s replications of %s requests per setting%s, master seed %s, the same "
            "at every setting\n\n",
            r->value[OPT_slo], r->value[OPT_replications],
            sized ? sized->value[OPT_requests] : r->value[OPT_requests],
            strcmp(r->value[OPT_requests], "auto") == 0 ? " (--requests auto)" : "",
            r->value[OPT_seed]);
    free(sized);
}

void runsearch_write_steps(FILE *fp, const char *x_name, const search_step *steps, int n,
                           int with_cost)
{
    fprintf(fp, "step,%s,verdict,slo_metric,value_ms,ci95_ms,limit_ms%s\n", x_name,
            with_cost ? ",cost_per_hour_usd,cost_per_million_output_tokens" : "");
    csvout c;
    csvout_init(&c, fp);
    for (int i = 0; i < n; i++) {
        for (int k = 0; k < SLO_COUNT; k++) {
            if (!steps[i].used[k])
                continue;
            csvout_u64(&c, (uint64_t)i);
            csvout_num(&c, steps[i].x);
            csvout_str(&c, search_verdict_name[steps[i].v]);
            csvout_str(&c, serve_metric_names[steps[i].metric[k]]);
            csvout_num(&c, steps[i].value_ms[k]);
            csvout_num(&c, steps[i].ci_ms[k]);
            csvout_num(&c, steps[i].limit_ms[k]);
            if (with_cost) {
                csvout_num(&c, steps[i].cost_per_hour_usd);
                csvout_num(&c, steps[i].cost_per_mtok_usd);
            }
            csvout_end_row(&c);
        }
    }
}

int runsearch_write_files(FILE *errout, const char *dir, size_t n, const char *const *names,
                          const util_writer *write, const void *const *what)
{
    char err[1024];
    if (util_write_files(dir, n, names, write, what, err, sizeof err) != 0) {
        fprintf(errout, "capsim capacity: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    return CLI_EXIT_OK;
}

typedef struct rate_files {
    const run_cli *base;
    const search_rate_result *s;
} rate_files;

static void write_search_csv(FILE *fp, const void *what)
{
    const rate_files *f = what;
    runsearch_write_steps(fp, "rate_req_s", f->s->step, f->s->n, 0);
}

static void write_capacity_csv(FILE *fp, const void *what)
{
    const rate_files *f = what;
    csvout c;
    csvout_init(&c, fp);
    static const char *const cols[] = {"rate_meets_req_s", "rate_estimate_req_s",
                                       "rate_fails_req_s", "steps"};
    for (size_t i = 0; i < 4; i++)
        csvout_str(&c, cols[i]);
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(&c, run_opt_key[o]);
    csvout_end_row(&c);
    csvout_num(&c, f->s->meets);
    csvout_num(&c, f->s->estimate);
    csvout_num(&c, f->s->fails);
    csvout_u64(&c, (uint64_t)f->s->n);
    for (int o = 0; o < OPT_COUNT; o++)
        csvout_str(&c, f->base->value[o]);
    csvout_end_row(&c);
}

int runsearch_rate_command(const run_cli *base, double start, double tol, int plots, FILE *out,
                           FILE *errout, char *why, size_t whylen)
{
    if (why && whylen)
        why[0] = '\0';
    search_rate_result *s = malloc(sizeof *s);
    if (s == NULL) {
        fprintf(errout, "capsim capacity: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    fprintf(out, "capsim capacity rate: the largest arrival rate that meets the SLOs\n");
    runsearch_describe(out, base);
    int status = CLI_EXIT_OK;
    if (runsearch_rate(base, start, tol, out, s) != 0) {
        fprintf(errout, "capsim capacity: rate: %s\n", s->err);
        if (why && whylen)
            snprintf(why, whylen, "%s", s->err);
        free(s);
        return CLI_EXIT_FAIL;
    }
    fprintf(out, "\n  meets the SLOs (95%% confidence) up to   %.4g req/s\n", s->meets);
    fprintf(out, "  estimate (the tightest figure at its limit) %.4g req/s\n", s->estimate);
    fprintf(out, "  fails the SLOs (95%% confidence) from     %.4g req/s\n", s->fails);
    fprintf(out, "  %d settings simulated; bounds within %.3g%% of each other or adjacent\n",
            s->n, 100 * tol);
    rate_files f = {base, s};
    if (base->out_dir) {
        static const char *const names[] = {"search.csv", "capacity.csv"};
        static const util_writer fns[] = {write_search_csv, write_capacity_csv};
        const void *whats[] = {&f, &f};
        char err[1024];
        if (util_write_files(base->out_dir, 2, names, fns, whats, err, sizeof err) != 0) {
            fprintf(errout, "capsim capacity: %s\n", err);
            if (why && whylen)
                snprintf(why, whylen, "%s", err);
            status = CLI_EXIT_FAIL;
        } else {
            fprintf(out, "  wrote %s/: search.csv, capacity.csv\n", base->out_dir);
            if (plots)
                cli_draw_plots(CMD, base->out_dir);
        }
    }
    free(s);
    return status;
}
