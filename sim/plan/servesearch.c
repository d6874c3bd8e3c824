/*
 * servesearch: the serving model as the evaluator of the searches (see servesearch.h).
 *
 * All the settings of one search use the same seed (common random numbers), so
 * neighbouring rates see the same random draws and the comparison between them is sharper
 * than independent runs allow.
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/servesearch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/progress.h"
#include "sim/base/util.h"
#include "sim/serve/source.h"

void servesearch_set_replicas(run_spec *r, const run_spec *base, uint64_t n)
{
    snprintf(r->value[OPT_replicas], sizeof r->value[0], "%llu", (unsigned long long)n);
    /* A trace is replayed whole (or to --requests) whatever the fleet: its requests are
     * the question asked. */
    if (strcmp(base->value[OPT_requests], "auto") == 0 && !servesearch_on_trace(base)) {
        uint64_t per = n * SERVESEARCH_AUTO_PER_REPLICA;
        snprintf(r->value[OPT_requests], sizeof r->value[0], "%llu",
                 (unsigned long long)(per > SERVESEARCH_AUTO_REQUESTS ? per
                                                                      : SERVESEARCH_AUTO_REQUESTS));
    }
}

void servesearch_prepare(run_spec *base)
{
    if (!base->given[OPT_replications])
        snprintf(base->value[OPT_replications], sizeof base->value[0], "10");
    snprintf(base->value[OPT_sample_interval], sizeof base->value[0], "0");
    snprintf(base->value[OPT_per_request], sizeof base->value[0], "off");
}

int servesearch_on_trace(const run_spec *r)
{
    return r->value[OPT_trace][0] != '\0';
}

int servesearch_trace_rate(const run_spec *r, double *rate_req_s, char *err, size_t errlen)
{
    resolved x;
    if (run_resolve(r, &x, err, errlen) != 0) {
        run_resolved_fini(&x);
        return -1;
    }
    unsigned long seeds[SERVE_SRC_NOISE0 + 1] = {0};
    reqsrc *src = serve_source_open(&x.cfg, seeds, 0, err, errlen);
    int rc = src ? 0 : -1;
    uint64_t n = 0;
    double first = 0, last = 0;
    request rq;
    int got;
    while (src && (got = reqsrc_next(src, &rq, err, errlen)) > 0) {
        if (n++ == 0)
            first = rq.arrival_s;
        last = rq.arrival_s;
    }
    if (src && got < 0)
        rc = -1;
    if (src)
        reqsrc_close(src);
    run_resolved_fini(&x);
    /* n requests span n - 1 gaps; a trace of one request, or all at once, has no rate. */
    *rate_req_s = n > 1 && last > first ? (double)(n - 1) / (last - first) : NAN;
    return rc;
}

double servesearch_arrival_rate(const run_spec *r)
{
    const char *at = strstr(r->value[OPT_arrival], "rate=");
    return at ? strtod(at + 5, NULL) : NAN;
}

/* --- the evaluator --------------------------------------------------------------------------- */

typedef struct serving {
    run_spec *r;          /* the scenario at the value being tried */
    const run_spec *base; /* as given */
    const char *what;     /* "rate" or "replicas": what is searched */
    FILE *log;
    progress *pr;        /* the requests simulated of the setting being tried, on stderr; or NULL */
    const char *command; /* "capsim capacity rate": the progress's name */
    int steps;           /* settings tried so far */
    const char *unit;    /* after the searched value: " req/s", "x" (a speedup), "" */
} serving;

/* Runs r and fills the figures of its SLOs; the requests it simulates are shown on pr
 * unless that is NULL. */
static int run_figures(const run_spec *r, progress *pr, search_step *e)
{
    resolved rs;
    serve_result res;
    char err[2048];
    int ok = run_resolve(r, &rs, err, sizeof err) == 0;
    if (ok && pr) {
        rs.cfg.progress = progress_show_of;
        rs.cfg.progress_arg = pr;
    }
    if (!ok || serve_run(&rs.cfg, &res, err, sizeof err) != 0) {
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
    e->over_length = res.over_length;
    e->offered = res.offered;
    e->saturated = res.saturated == 1;
    e->carried_share = res.carried_share.mean;
    deploy_extrapolation(&rs.dep, res.peak_decode_seqs, res.peak_decode_ctx,
                         res.peak_prefill_tokens, res.peak_prefill_ctx, e->beyond,
                         sizeof e->beyond);
    serve_result_fini(&res);
    run_resolved_fini(&rs);
    return 0;
}

/* Names the step about to run on the progress (the step log on stdout says how it ended). */
static void stage(serving *s, double x)
{
    if (s->pr == NULL)
        return;
    char what[96];
    snprintf(what, sizeof what, "%s: step %d, %s %.4g%s", s->command, ++s->steps, s->what, x,
             s->unit);
    progress_stage(s->pr, what, 0);
}

static int eval_rate(void *user, double rate, search_step *e)
{
    serving *s = user;
    stage(s, rate);
    char v[64];
    snprintf(v, sizeof v, "%.4g", rate);
    /* On a trace the searched value is its speedup, which scales its rate alike. */
    if (servesearch_on_trace(s->r)) {
        snprintf(s->r->value[OPT_trace_speedup], sizeof s->r->value[0], "%s", v);
        return run_figures(s->r, s->pr, e);
    }
    if (run_set_rate(s->r->value[OPT_arrival], sizeof s->r->value[OPT_arrival], v, e->err,
                     sizeof e->err) != 0)
        return -1;
    return run_figures(s->r, s->pr, e);
}

static int eval_replicas(void *user, double n, search_step *e)
{
    serving *s = user;
    stage(s, n);
    servesearch_set_replicas(s->r, s->base, (uint64_t)n);
    return run_figures(s->r, s->pr, e);
}

static void print_step(FILE *out, const char *what, const search_step *e)
{
    fprintf(out, "  %-10s %10.4g  %-8s", what, e->x, search_verdict_name[e->v]);
    if (e->v == SEARCH_ERROR) {
        fprintf(out, " %s\n", e->err);
        return;
    }
    /* n/a: no request gave the figure (every one refused); the verdict counts it as a miss. */
    for (int k = 0; k < SLO_COUNT; k++) {
        char v[32], ci[32];
        if (e->used[k])
            fprintf(out, "  %s %s +- %s (limit %g)", serve_metric_names[e->metric[k]],
                    util_fmt_fig(v, sizeof v, 4, e->value_ms[k]),
                    util_fmt_fig(ci, sizeof ci, 2, e->ci_ms[k]), e->limit_ms[k]);
    }
    /* Queues that grow through the run: its percentiles are not steady-state figures. */
    if (e->saturated)
        fprintf(out, "  [saturated: carried %.0f%% of the offered rate]", 100 * e->carried_share);
    /* Requests over the max model length are rejected or cut: the figures are of the rest. */
    if (e->over_length)
        fprintf(out, "  [%llu of %llu requests over the max model length]",
                (unsigned long long)e->over_length, (unsigned long long)e->offered);
    /* Steps priced by the roofline where the measured kernels end: less certain figures. */
    if (e->beyond[0])
        fprintf(out, "  [beyond the measured kernels: %s]", e->beyond);
    fprintf(out, "\n");
    fflush(out); /* each step as it finishes, even through a pipe: the search's progress */
}

static void on_step(void *user, const search_step *e)
{
    const serving *s = user;
    if (s->pr)
        progress_clear(s->pr); /* the bar, on a terminal, leaves the line to the step */
    if (s->log)
        print_step(s->log, s->what, e);
}

int servesearch_noload(const run_spec *base, search_step *st)
{
    memset(st, 0, sizeof *st);
    run_spec *r = malloc(sizeof *r);
    if (r == NULL) {
        snprintf(st->err, sizeof st->err, "out of memory");
        return -1;
    }
    *r = *base;
    /* One user who asks again as soon as answered: never more than one request in the
     * system, so no queueing and no batching, only the step times. */
    snprintf(r->value[OPT_replicas], sizeof r->value[0], "1");
    snprintf(r->value[OPT_users], sizeof r->value[0], "1");
    snprintf(r->value[OPT_think], sizeof r->value[0], "det:value=1e-6");
    snprintf(r->value[OPT_requests], sizeof r->value[0], "%d", SERVESEARCH_NOLOAD_REQUESTS);
    /* A trace's requests one at a time: its lengths, without its arrival times. */
    if (servesearch_on_trace(base)) {
        snprintf(r->value[OPT_lengths_from], sizeof r->value[0], "%s", base->value[OPT_trace]);
        snprintf(r->lengths_file, sizeof r->lengths_file, "%s", base->trace_file);
        r->value[OPT_trace][0] = '\0';
        r->trace_file[0] = '\0';
    }
    int rc = run_figures(r, NULL, st);
    free(r);
    if (rc == 0)
        search_judge(st);
    return rc;
}

int servesearch_rate(const run_spec *base, double start, double tol, FILE *log,
                     search_rate_result *res)
{
    run_spec *r = malloc(sizeof *r);
    if (r == NULL) {
        memset(res, 0, sizeof *res);
        snprintf(res->err, sizeof res->err, "out of memory");
        return -1;
    }
    *r = *base;
    servesearch_set_replicas(r, base, strtoull(base->value[OPT_replicas], NULL, 10));
    int trace = servesearch_on_trace(base);
    progress pr;
    progress_start(&pr, "capsim capacity rate", "requests", 0);
    serving s = {r,
                 base,
                 trace ? "speedup" : "rate",
                 log,
                 log ? &pr : NULL,
                 "capsim capacity rate",
                 0,
                 trace ? "x" : " req/s"};
    search_evaluator ev = {eval_rate, on_step, &s};
    int rc = search_rate(&ev, start, tol, res);
    progress_clear(&pr);
    free(r);
    return rc;
}

int servesearch_replicas(const run_spec *base, uint64_t start, FILE *log,
                         search_replica_result *res)
{
    run_spec *r = malloc(sizeof *r);
    if (r == NULL) {
        memset(res, 0, sizeof *res);
        snprintf(res->err, sizeof res->err, "out of memory");
        return -1;
    }
    *r = *base;
    progress pr;
    progress_start(&pr, "capsim capacity replicas", "requests", 0);
    serving s = {r, base, "replicas", log, log ? &pr : NULL, "capsim capacity replicas", 0, ""};
    search_evaluator ev = {eval_replicas, on_step, &s};
    int rc = search_replicas(&ev, start, res);
    progress_clear(&pr);
    free(r);
    return rc;
}
