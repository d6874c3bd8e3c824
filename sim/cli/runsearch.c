/*
 * runsearch: the serving searches printed and written (see runsearch.h).
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

/* --- printing and files ----------------------------------------------------------------------- */

void runsearch_describe(FILE *out, const run_spec *r)
{
    fprintf(out,
            "  %s on %s x %s, %s weights, %s replica%s, %s batching; %s, prompt %s, output %s\n",
            r->value[OPT_model], r->value[OPT_tp], r->value[OPT_gpu], r->value[OPT_precision],
            r->value[OPT_replicas], strcmp(r->value[OPT_replicas], "1") ? "s" : "",
            r->value[OPT_scheduler], r->value[OPT_arrival], r->value[OPT_prompt_len],
            r->value[OPT_output_len]);
    run_spec *sized = malloc(sizeof *sized);
    if (sized) {
        *sized = *r;
        servesearch_set_replicas(sized, r, strtoull(r->value[OPT_replicas], NULL, 10));
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
    const run_spec *base;
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

int runsearch_rate_command(const run_spec *base, double start, double tol, int plots, FILE *out,
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
    if (servesearch_rate(base, start, tol, out, s) != 0) {
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
