/*
 * sweep: a scenario at every point of a grid, and the merge of shards (see sweep.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/sweep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/csvout.h"
#include "sim/base/rng.h"
#include "sim/base/util.h"
#include "sim/plan/parmap.h"
#include "sim/serve/serve.h"

static int parse_axis(const char *text, sweep_axis *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    const char *eq = strchr(text, '=');
    if (eq == NULL || eq == text || (size_t)(eq - text) >= sizeof a->name || eq[1] == '\0') {
        util_errf(err, errlen, "--sweep '%s': expected KEY=VALUES (a,b,c or first:last:step)",
                  text);
        return -1;
    }
    snprintf(a->name, sizeof a->name, "%.*s", (int)(eq - text), text);
    for (char *p = a->name; *p; p++)
        if (*p == '-')
            *p = '_';
    a->is_rate = strcmp(a->name, "rate") == 0;
    if (!a->is_rate) {
        int found = -1;
        for (int o = 0; o < OPT_COUNT; o++)
            if (strcmp(a->name, run_opt_key[o]) == 0)
                found = o;
        if (found < 0 || found == OPT_seed) {
            util_errf(err, errlen,
                      "--sweep '%s': '%s' is not a run option (expected rate or "
                      "an option of capsim run other than seed)",
                      text, a->name);
            return -1;
        }
        a->key = (run_opt)found;
    }
    a->values = calloc(SWEEP_MAX_VALUES, sizeof *a->values);
    if (a->values == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    const char *v = eq + 1;
    double lo, hi, step;
    char tail;
    if (strchr(v, ',') == NULL && sscanf(v, "%lf:%lf:%lf%c", &lo, &hi, &step, &tail) == 3) {
        if (!(step > 0) || !(hi >= lo) || (hi - lo) / step >= SWEEP_MAX_VALUES) {
            util_errf(err, errlen,
                      "--sweep '%s': a range first:last:step needs step > 0, "
                      "last >= first and at most %d values",
                      text, SWEEP_MAX_VALUES);
            return -1;
        }
        size_t n = (size_t)floor((hi - lo) / step + 1e-9) + 1;
        for (size_t i = 0; i < n; i++)
            util_fmt_exact(a->values[a->n++], sizeof a->values[0], lo + (double)i * step);
        return 0;
    }
    while (*v) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (len == 0 || len >= sizeof a->values[0] || a->n == SWEEP_MAX_VALUES) {
            util_errf(err, errlen, "--sweep '%s': empty, too long or too many values", text);
            return -1;
        }
        snprintf(a->values[a->n++], sizeof a->values[0], "%.*s", (int)len, v);
        if (!comma)
            break;
        v = comma + 1;
    }
    return 0;
}

/* One grid point: settings from the base plus the point's values and seed; runs it and
 * writes "index,status,reason,<summary values>" into out. */
static void run_point(const run_spec *base, const sweep_axis *ax, int n_axes, uint64_t p,
                      uint64_t master, FILE *out)
{
    run_spec *r = malloc(sizeof *r);
    char err[2048] = "";
    int ok = r != NULL;
    if (ok) {
        *r = *base;
        uint64_t rest = p;
        for (int i = n_axes - 1; i >= 0 && ok; i--) {
            const char *v = ax[i].values[rest % ax[i].n];
            rest /= ax[i].n;
            if (ax[i].is_rate)
                ok = run_set_rate(r->value[OPT_arrival], sizeof r->value[OPT_arrival], v, err,
                              sizeof err) == 0;
            else
                snprintf(r->value[ax[i].key], sizeof r->value[0], "%s", v);
        }
        snprintf(r->value[OPT_seed], sizeof r->value[0], "%llu",
                 (unsigned long long)sim_seed_mix(master, p));
        snprintf(r->value[OPT_sample_interval], sizeof r->value[0], "0");
        snprintf(r->value[OPT_per_request], sizeof r->value[0], "off");
    }
    resolved x;
    serve_result res;
    int have_x = 0, have_res = 0;
    if (ok) {
        ok = run_resolve(r, &x, err, sizeof err) == 0;
        have_x = 1;
    }
    if (ok) {
        ok = serve_run(&x.cfg, &res, err, sizeof err) == 0;
        have_res = ok;
        char name[64];
        snprintf(name, sizeof name, "sweep: point %llu", (unsigned long long)p);
        if (have_res)
            run_warn_over_length(stderr, name, &x.cfg, &res);
    }
    csvout c;
    csvout_init(&c, out);
    csvout_u64(&c, p);
    csvout_str(&c, ok ? "ok" : "error");
    csvout_str(&c, ok ? "" : err);
    run_summary_values(&c, r ? r : base, have_res ? &x : NULL, have_res ? &res : NULL, 0);
    csvout_end_row(&c);
    if (have_res)
        serve_result_fini(&res);
    if (have_x)
        run_resolved_fini(&x);
    free(r);
}

typedef struct sweep_ctx {
    const run_spec *base;
    const sweep_axis *ax;
    int n_axes;
    uint64_t master;
} sweep_ctx;

static void sweep_point(uint64_t p, FILE *out, void *user)
{
    const sweep_ctx *c = user;
    run_point(c->base, c->ax, c->n_axes, p, c->master, out);
}

static void write_sweep_header(FILE *fp)
{
    csvout c;
    csvout_init(&c, fp);
    csvout_str(&c, "point");
    csvout_str(&c, "status");
    csvout_str(&c, "reason");
    run_summary_header(&c, NULL, 0);
    csvout_end_row(&c);
}

/* Sorts rows by point and writes DIR/summary.csv atomically. */
static int write_sweep_summary(const char *dir, parmap_row *rows, size_t n, char *err,
                               size_t errlen)
{
    if (util_mkdir_p(dir, err, errlen) != 0)
        return -1;
    parmap_sort(rows, n);
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    util_atomic_file f;
    if (util_atomic_open(&f, path, err, errlen) != 0)
        return -1;
    write_sweep_header(f.fp);
    for (size_t i = 0; i < n; i++)
        fputs(rows[i].text, f.fp);
    return util_atomic_commit(&f, err, errlen);
}

int sweep_grid_parse(sweep_grid *g, const char *const *axes, int n_axes, char *err,
                     size_t errlen)
{
    memset(g, 0, sizeof *g);
    g->total = 1;
    for (int i = 0; i < n_axes && i < SWEEP_MAX_AXES; i++) {
        g->n_axes++;
        if (parse_axis(axes[i], &g->ax[i], err, errlen) != 0)
            return -1;
        g->total *= g->ax[i].n;
        if (g->total > SWEEP_MAX_POINTS) {
            util_errf(err, errlen, "the grid has more than 10^6 points");
            return -1;
        }
    }
    return 0;
}

void sweep_grid_fini(sweep_grid *g)
{
    for (int i = 0; i < SWEEP_MAX_AXES; i++) {
        free(g->ax[i].values);
        g->ax[i].values = NULL;
    }
}

plan_status sweep_run(const run_spec *base, const sweep_grid *g, const sweep_options *opt,
                      FILE *out_fp, FILE *err_fp, plan_error *e)
{
    char err[2048];
    /* Check the base scenario once, so that a mistake common to every point is one message
     * (not fitting in memory excepted: a swept knob such as tp may fix it). */
    resolved x;
    int rc = run_resolve(base, &x, err, sizeof err);
    run_resolved_fini(&x);
    if (rc != 0 && strstr(err, "needs") == NULL)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    uint64_t master;
    if (util_parse_u64(base->value[OPT_seed], &master) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--seed '%s': expected a whole number",
                         base->value[OPT_seed]);
    plan_status status = PLAN_OK;
    uint64_t mine = (g->total - (opt->shard_i - 1) + opt->shard_n - 1) / opt->shard_n;
    sweep_ctx ctx = {base, g->ax, g->n_axes, master};
    parmap_row *rows = NULL;
    size_t n = 0;
    if (parmap_run(opt->shard_i - 1, opt->shard_n, mine, opt->jobs, sweep_point, &ctx,
                   opt->progress, &rows, &n, err, sizeof err) != 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    if (status == PLAN_OK && n != mine)
        status = plan_fail(e, PLAN_FAILED, NULL, "%zu of %llu points finished", n,
                           (unsigned long long)mine);
    if (status == PLAN_OK && write_sweep_summary(base->out_dir, rows, n, err, sizeof err) != 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += strstr(rows[i].text, ",error,") != NULL;
    parmap_rows_free(rows, n);
    if (status == PLAN_OK)
        fprintf(out_fp,
                "capsim sweep: %llu points (shard %llu/%llu of %llu), %zu could not run; wrote "
                "%s/summary.csv\n",
                (unsigned long long)mine, (unsigned long long)opt->shard_i,
                (unsigned long long)opt->shard_n, (unsigned long long)g->total, failed,
                base->out_dir);
    if (status == PLAN_OK && opt->plots)
        plan_draw_plots("sweep", base->out_dir, out_fp, err_fp);
    return status;
}

/* Appends the rows of one shard's summary.csv, whose header must be the first shard's
 * (kept in header, of size len). */
static plan_status read_shard(const char *dir, char *header, size_t len, parmap_row **rows,
                              size_t *n, size_t *cap, plan_error *e)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    FILE *fp = fopen(path, "r");
    char *h = malloc(len);
    plan_status status = PLAN_OK;
    if (h == NULL)
        status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    else if (fp == NULL || fgets(h, (int)len, fp) == NULL)
        status = plan_fail(e, PLAN_BAD_INPUT, NULL, "%s: cannot read a sweep summary", path);
    else if (header[0] && strcmp(h, header) != 0)
        status = plan_fail(e, PLAN_BAD_INPUT, NULL,
                           "%s: its header differs from the first shard's", path);
    else {
        snprintf(header, len, "%s", h);
        if (parmap_read_rows(fp, rows, n, cap) != 0)
            status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    }
    if (fp)
        fclose(fp);
    free(h);
    return status;
}

plan_status sweep_merge(const char *out_dir, const char *const *dirs, int n_dirs, FILE *out,
                        plan_error *e)
{
    parmap_row *rows = NULL;
    size_t n = 0, cap = 0;
    char header[65536] = "", err[1024];
    plan_status status = PLAN_OK;
    for (int i = 0; i < n_dirs && status == PLAN_OK; i++)
        status = read_shard(dirs[i], header, sizeof header, &rows, &n, &cap, e);
    parmap_sort(rows, n);
    for (size_t i = 1; status == PLAN_OK && i < n; i++)
        if (rows[i].item == rows[i - 1].item)
            status = plan_fail(e, PLAN_BAD_INPUT, NULL, "point %llu appears in two shards",
                               (unsigned long long)rows[i].item);
    if (status == PLAN_OK && write_sweep_summary(out_dir, rows, n, err, sizeof err) != 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    if (status == PLAN_OK)
        fprintf(out, "capsim merge: %zu points from %d shards into %s/summary.csv\n", n, n_dirs,
                out_dir);
    parmap_rows_free(rows, n);
    return status;
}
