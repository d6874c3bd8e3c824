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
#include "sim/plan/shard.h"
#include "sim/serve/serve.h"

/* A value of a range as the options read it: a whole number in full ("10", where the
 * shortest exact form would be "1e+01", which no count option takes), otherwise the
 * shortest form that reads back exactly. */
static void fmt_value(char *buf, size_t len, double x)
{
    if (x == floor(x) && fabs(x) < 1e15)
        snprintf(buf, len, "%.0f", x);
    else
        util_fmt_exact(buf, len, x);
}

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
            fmt_value(a->values[a->n++], sizeof a->values[0], lo + (double)i * step);
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

/* A grid point's settings: the base with the point's values, its seed, and no time series
 * or per-request files. Returns 0, or -1 with a message (a rate the arrival process cannot
 * take). */
static int point_spec(const run_spec *base, const sweep_axis *ax, int n_axes, uint64_t p,
                      uint64_t master, run_spec *r, char *err, size_t errlen)
{
    *r = *base;
    uint64_t rest = p;
    for (int i = n_axes - 1; i >= 0; i--) {
        const char *v = ax[i].values[rest % ax[i].n];
        rest /= ax[i].n;
        if (ax[i].is_rate) {
            if (run_set_rate(r->value[OPT_arrival], sizeof r->value[OPT_arrival], v, err,
                             errlen) != 0)
                return -1;
        } else {
            snprintf(r->value[ax[i].key], sizeof r->value[0], "%s", v);
        }
    }
    snprintf(r->value[OPT_seed], sizeof r->value[0], "%llu",
             (unsigned long long)sim_seed_mix(master, p));
    snprintf(r->value[OPT_sample_interval], sizeof r->value[0], "0");
    snprintf(r->value[OPT_per_request], sizeof r->value[0], "off");
    return 0;
}

/* Writes the row of point p: "index,status,reason,<settings and figures>". x and res are
 * NULL for a point that did not run (status error or failed). */
static void write_point_row(FILE *out, uint64_t p, const char *status, const char *reason,
                            const run_spec *r, const resolved *x, const serve_result *res)
{
    csvout c;
    csvout_init(&c, out);
    csvout_u64(&c, p);
    csvout_str(&c, status);
    csvout_str(&c, reason);
    run_summary_values(&c, r, x, res, 0);
    csvout_end_row(&c);
}

/* Writes the warnings of point p into out as lines that start with '#': the parent prints
 * them (sweep_run, to its err stream) once the workers are done, so that they neither draw
 * over its progress bar nor escape the demo's step log. */
static void write_point_warnings(FILE *out, uint64_t p, const resolved *x,
                                 const serve_result *res)
{
    char name[64], *text = NULL;
    size_t len = 0;
    snprintf(name, sizeof name, "sweep: point %llu", (unsigned long long)p);
    FILE *w = open_memstream(&text, &len);
    if (w == NULL)
        return;
    run_warn_over_length(w, name, &x->cfg, res);
    run_warn_extrapolated(w, name, &x->dep, res);
    fclose(w);
    for (const char *line = text; line && *line;) {
        size_t n = strcspn(line, "\n");
        fprintf(out, "#%.*s\n", (int)n, line);
        line += n + (line[n] == '\n');
    }
    free(text);
}

/* Prints the workers' warning lines (write_point_warnings) to err and takes them out of
 * rows, which keeps the summary's rows in their order. */
static void print_point_warnings(parmap_result *res, FILE *err)
{
    size_t kept = 0;
    for (size_t i = 0; i < res->n_rows; i++) {
        if (res->rows[i].text[0] == '#') {
            fputs(res->rows[i].text + 1, err);
            free(res->rows[i].text);
        } else {
            res->rows[kept++] = res->rows[i];
        }
    }
    res->n_rows = kept;
}

/* One grid point: runs it and writes its row into out. */
static void run_point(const run_spec *base, const sweep_axis *ax, int n_axes, uint64_t p,
                      uint64_t master, FILE *out)
{
    run_spec *r = malloc(sizeof *r);
    char err[2048] = "";
    int ok = r != NULL && point_spec(base, ax, n_axes, p, master, r, err, sizeof err) == 0;
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
        if (have_res)
            write_point_warnings(out, p, &x, &res);
    }
    write_point_row(out, p, ok ? "ok" : "error", ok ? "" : err, r ? r : base,
                    have_res ? &x : NULL, have_res ? &res : NULL);
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

/* Adds to res the rows of the points whose worker died: their settings, status failed and
 * the reason, so that the summary has every point. Returns -1 when out of memory. */
static int add_failed_rows(const sweep_ctx *c, parmap_result *res)
{
    run_spec *r = malloc(sizeof *r);
    parmap_row *rows = realloc(res->rows, (res->n_rows + res->n_failed) * sizeof *rows);
    if (rows == NULL || r == NULL) {
        free(r);
        return -1;
    }
    res->rows = rows;
    size_t i;
    for (i = 0; i < res->n_failed; i++) {
        const parmap_failure *f = &res->failed[i];
        char err[512], *text = NULL;
        size_t len = 0;
        FILE *fp = open_memstream(&text, &len);
        if (fp == NULL)
            break;
        int ok = point_spec(c->base, c->ax, c->n_axes, f->item, c->master, r, err, sizeof err);
        write_point_row(fp, f->item, "failed", f->reason, ok == 0 ? r : c->base, NULL, NULL);
        if (fclose(fp) != 0)
            break;
        parmap_row *row = &res->rows[res->n_rows++];
        row->item = f->item;
        row->order = res->n_rows;
        row->text = text;
    }
    free(r);
    parmap_sort(res->rows, res->n_rows);
    return i == res->n_failed ? 0 : -1;
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

/* A file's bytes, for util_write_files. */
typedef struct text_file {
    const char *text;
    size_t len;
} text_file;

static void write_text(FILE *fp, const void *what)
{
    const text_file *t = what;
    fwrite(t->text, 1, t->len, fp);
}

static void write_shard_file(FILE *fp, const void *what)
{
    shard_write(fp, what);
}

/* Writes DIR/summary.csv (the header, then rows sorted by point) and DIR/shard.ini, which
 * says what it holds (shard *s: its rows, length and hash are set here), as one. The
 * interrupting signals wait until both are in place. */
static int write_sweep_summary(const char *dir, parmap_row *rows, size_t n, shard_info *s,
                               char *err, size_t errlen)
{
    parmap_sort(rows, n);
    char *text = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&text, &len);
    if (fp == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    write_sweep_header(fp);
    for (size_t i = 0; i < n; i++)
        fputs(rows[i].text, fp);
    if (fclose(fp) != 0) {
        free(text);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    s->rows = n;
    s->summary_bytes = len;
    s->summary_hash = shard_hash(SHARD_HASH_START, text, len);
    text_file summary = {text, len};
    static const char *const names[] = {"summary.csv", SHARD_FILE};
    static const util_writer writers[] = {write_text, write_shard_file};
    const void *what[] = {&summary, s};
    sigset_t saved;
    parmap_signals_hold(&saved);
    int rc = util_write_files(dir, 2, names, writers, what, err, errlen);
    parmap_signals_release(&saved);
    free(text);
    return rc;
}

/* The sweep's identity: a hash of every setting of the base scenario, its classes and the
 * grid, so that shards of different sweeps never pass for one (see shard.h). */
static void sweep_id(const run_spec *base, const sweep_grid *g, char id[17])
{
    uint64_t h = shard_hash(SHARD_HASH_START, "capsim sweep\n", 13);
    for (int o = 0; o < OPT_COUNT; o++) {
        h = shard_hash(h, run_opt_key[o], strlen(run_opt_key[o]) + 1);
        h = shard_hash(h, base->value[o], strlen(base->value[o]) + 1);
    }
    for (uint32_t k = 0; k < base->n_cls; k++) {
        const class_def *d = &base->cls[k];
        const char *parts[] = {d->name, d->prompt_len, d->output_len, d->slo};
        for (size_t j = 0; j < 4; j++)
            h = shard_hash(h, parts[j], strlen(parts[j]) + 1);
    }
    for (int i = 0; i < g->n_axes; i++) {
        h = shard_hash(h, g->ax[i].name, strlen(g->ax[i].name) + 1);
        for (size_t j = 0; j < g->ax[i].n; j++)
            h = shard_hash(h, g->ax[i].values[j], strlen(g->ax[i].values[j]) + 1);
        h = shard_hash(h, "\n", 1);
    }
    snprintf(id, 17, "%016llx", (unsigned long long)h);
}

int sweep_grid_parse(sweep_grid *g, const char *const *axes, int n_axes, char *err, size_t errlen)
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

/* Refuses before any work an axis value that is wrong whatever the other axes hold: a name
 * not in its list (an unknown GPU, say) or a value out of range, found by resolving the base
 * scenario with that one value. Not fitting in memory is left to the points (another axis,
 * such as tp, may fix it). */
static plan_status check_axes(const run_spec *base, const sweep_grid *g, plan_error *e)
{
    run_spec *r = malloc(sizeof *r);
    if (r == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    plan_status status = PLAN_OK;
    char err[2048];
    for (int i = 0; i < g->n_axes && status == PLAN_OK; i++) {
        const sweep_axis *a = &g->ax[i];
        run_opt key = a->is_rate ? OPT_arrival : a->key;
        /* The measured kernels take a tenth of a second to load: unless the axis is about
         * the step-time model, the roofline checks the same names and ranges at once. */
        *r = *base;
        const char *sm = base->value[OPT_step_model];
        if ((strcmp(sm, "auto") == 0 || strcmp(sm, "kernels") == 0) && key != OPT_step_model &&
            key != OPT_stack && key != OPT_kernel_coeffs && key != OPT_profile)
            snprintf(r->value[OPT_step_model], sizeof r->value[0], "roofline");
        for (size_t j = 0; j < a->n && status == PLAN_OK; j++) {
            int rc;
            if (a->is_rate)
                rc = run_set_rate(r->value[key], sizeof r->value[key], a->values[j], err,
                                  sizeof err);
            else
                rc = snprintf(r->value[key], sizeof r->value[key], "%s", a->values[j]) < 0;
            if (rc == 0) {
                resolved x;
                rc = run_resolve(r, &x, err, sizeof err);
                run_resolved_fini(&x);
                if (rc != 0 && strstr(err, "needs") != NULL)
                    rc = 0;
            }
            if (rc != 0)
                status = plan_fail(e, PLAN_BAD_INPUT, NULL, "--sweep %s value '%s': %s", a->name,
                                   a->values[j], err);
            memcpy(r->value[key], base->value[key], sizeof r->value[key]);
        }
    }
    free(r);
    return status;
}

/* Checks the base scenario and the grid before any work: a mistake common to every point
 * is one message (not fitting in memory excepted: a swept knob such as tp may fix it). */
static plan_status check_sweep(const run_spec *base, const sweep_grid *g, const sweep_options *opt,
                               uint64_t *master, plan_error *e)
{
    char err[2048];
    resolved x;
    int rc = run_resolve(base, &x, err, sizeof err);
    run_resolved_fini(&x);
    if (rc != 0 && strstr(err, "needs") == NULL)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
    if (util_parse_u64(base->value[OPT_seed], master) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "--seed '%s': expected a whole number",
                         base->value[OPT_seed]);
    if (shard_size(g->total, opt->shard_i, opt->shard_n) == 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--shard %llu/%llu: the grid has %llu points, so this shard holds none",
                         (unsigned long long)opt->shard_i, (unsigned long long)opt->shard_n,
                         (unsigned long long)g->total);
    return check_axes(base, g, e);
}

/* The status column of a summary row ("ok", "error" or "failed"), compared with want. */
static size_t row_has_status(const char *row, const char *want)
{
    const char *p = strchr(row, ',');
    size_t n = strlen(want);
    return p && strncmp(p + 1, want, n) == 0 && p[1 + n] == ',' ? 1 : 0;
}

/* The field after the one at p in a CSV row (quoted or not), or NULL at the row's end. */
static const char *next_field(const char *p)
{
    if (*p == '"')
        for (p++; *p && !(p[0] == '"' && p[1] != '"'); p += p[0] == '"' ? 2 : 1)
            ;
    if (*p == '"')
        p++;
    p += strcspn(p, ",\n");
    return *p == ',' ? p + 1 : NULL;
}

/* A sweep row's saturated column: after point, status and reason, the settings, then six
 * figures of the deployment and offered_rate (run_summary_header). */
#define SWEEP_SATURATED_FIELD (3 + OPT_COUNT + 7)

/* Whether a summary row's saturated column says 1. */
static size_t row_is_saturated(const char *row)
{
    const char *p = row;
    for (int f = 0; f < SWEEP_SATURATED_FIELD && p; f++)
        p = next_field(p);
    return p && p[0] == '1' && (p[1] == ',' || p[1] == '\n' || p[1] == '\0') ? 1 : 0;
}

/* How a sweep whose rows are written ends: every point failed or could not run, or some
 * failed, is PLAN_FAILED with a message saying so. */
static plan_status sweep_outcome(const parmap_result *res, uint64_t mine, const char *dir,
                                 plan_error *e)
{
    size_t ok = 0;
    for (size_t i = 0; i < res->n_rows; i++)
        ok += row_has_status(res->rows[i].text, "ok");
    if (res->n_failed > 0)
        return plan_fail(e, PLAN_FAILED, NULL,
                         "%zu of %llu points failed (point %llu: %s); %s/summary.csv has "
                         "the others, and the failed ones with status failed",
                         res->n_failed, (unsigned long long)mine,
                         (unsigned long long)res->failed[0].item, res->failed[0].reason, dir);
    if (ok == 0)
        return plan_fail(e, PLAN_FAILED, NULL,
                         "none of the %llu points could run; %s/summary.csv gives each "
                         "one's reason",
                         (unsigned long long)mine, dir);
    return PLAN_OK;
}

plan_status sweep_run(const run_spec *base, const sweep_grid *g, const sweep_options *opt,
                      FILE *out_fp, FILE *err_fp, plan_error *e)
{
    char err[2048];
    uint64_t master;
    plan_status status = check_sweep(base, g, opt, &master, e);
    if (status != PLAN_OK)
        return status;
    uint64_t mine = shard_size(g->total, opt->shard_i, opt->shard_n);
    sweep_ctx ctx = {base, g->ax, g->n_axes, master};
    parmap_result res;
    int rc =
        parmap_run_shown(opt->shard_i - 1, opt->shard_n, mine, opt->jobs, sweep_point, &ctx,
                         opt->progress ? "capsim sweep" : NULL, "points", &res, err, sizeof err);
    if (rc < 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    else
        print_point_warnings(&res, err_fp);
    if (rc > 0 && add_failed_rows(&ctx, &res) != 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    shard_info s = {.points = g->total, .index = opt->shard_i, .count = opt->shard_n};
    sweep_id(base, g, s.sweep_id);
    if (status == PLAN_OK &&
        write_sweep_summary(base->out_dir, res.rows, res.n_rows, &s, err, sizeof err) != 0)
        status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    size_t failed = 0, saturated = 0;
    for (size_t i = 0; i < res.n_rows; i++) {
        failed += row_has_status(res.rows[i].text, "error");
        saturated += row_is_saturated(res.rows[i].text);
    }
    if (status == PLAN_OK) {
        fprintf(out_fp,
                "capsim sweep: %llu points (shard %llu/%llu of %llu), %zu could not run; wrote "
                "%s/summary.csv\n",
                (unsigned long long)mine, (unsigned long long)opt->shard_i,
                (unsigned long long)opt->shard_n, (unsigned long long)g->total, failed,
                base->out_dir);
        if (saturated > 0)
            fprintf(out_fp,
                    "  SATURATED: %zu point%s carried less than 0.95 of the offered rate "
                    "(column saturated); %s latencies are not steady-state figures\n",
                    saturated, saturated == 1 ? "" : "s", saturated == 1 ? "its" : "their");
        status = sweep_outcome(&res, mine, base->out_dir, e);
    }
    parmap_result_fini(&res);
    if (status == PLAN_OK && opt->plots)
        plan_draw_plots("sweep", base->out_dir, out_fp, err_fp);
    return status;
}

/* --- merge ------------------------------------------------------------------------------- */

/* Appends the rows of one shard folder after checking it: its shard.ini, its summary
 * against it (length and hash), its header against the first shard's (kept in *header),
 * and that its rows are the points the shard holds, each once. */
static plan_status read_shard(const char *dir, shard_info *s, char **header, parmap_row **rows,
                              size_t *n, size_t *cap, plan_error *e)
{
    char path[4200], err[2048];
    snprintf(path, sizeof path, "%s/%s", dir, SHARD_FILE);
    if (shard_read(path, s, err, sizeof err) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "shard %s is not a sweep's results: %s", dir,
                         err);
    snprintf(path, sizeof path, "%s/summary.csv", dir);
    char *text;
    size_t len;
    if (shard_read_summary(path, s, &text, &len, err, sizeof err) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "shard %s: %s", dir, err);
    size_t head_len = strcspn(text, "\n") + 1;
    plan_status status = PLAN_OK;
    if (*header == NULL && (*header = strndup(text, head_len)) == NULL)
        status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    else if (strlen(*header) != head_len || strncmp(*header, text, head_len) != 0)
        status = plan_fail(e, PLAN_BAD_INPUT, NULL,
                           "shard %s: the header of its summary.csv differs from the first "
                           "shard's (made by another version of capsim?)",
                           dir);
    size_t first = *n;
    FILE *fp = status == PLAN_OK ? fmemopen(text + head_len, len - head_len, "r") : NULL;
    if (status == PLAN_OK && (fp == NULL || parmap_read_rows(fp, rows, n, cap) != 0))
        status = plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    if (fp)
        fclose(fp);
    free(text);
    for (size_t i = first; status == PLAN_OK && i < *n; i++) {
        const char *t = (*rows)[i].text;
        if (t[strspn(t, "0123456789")] != ',' || !shard_holds(s, (*rows)[i].item))
            status = plan_fail(e, PLAN_BAD_INPUT, NULL,
                               "shard %s: row %zu of summary.csv is not a point of shard "
                               "%llu/%llu",
                               dir, i - first + 1, (unsigned long long)s->index,
                               (unsigned long long)s->count);
    }
    if (status == PLAN_OK && *n - first != s->rows)
        status = plan_fail(e, PLAN_BAD_INPUT, NULL,
                           "shard %s: summary.csv has %zu rows where shard.ini records %llu", dir,
                           *n - first, (unsigned long long)s->rows);
    return status;
}

/* Checks that the shards are of one sweep and together hold each of its points once. */
static plan_status check_cover(const char *const *dirs, const shard_info *s, int n_dirs,
                               const parmap_row *rows, size_t n, plan_error *e)
{
    for (int i = 1; i < n_dirs; i++)
        if (strcmp(s[i].sweep_id, s[0].sweep_id) != 0 || s[i].points != s[0].points)
            return plan_fail(e, PLAN_BAD_INPUT, NULL,
                             "shard %s is of another sweep (sweep id %s, %llu points) than "
                             "the first shard %s (sweep id %s, %llu points)",
                             dirs[i], s[i].sweep_id, (unsigned long long)s[i].points, dirs[0],
                             s[0].sweep_id, (unsigned long long)s[0].points);
    for (size_t i = 1; i < n; i++) {
        if (rows[i].item != rows[i - 1].item)
            continue;
        int a = -1, b = -1;
        for (int j = 0; j < n_dirs; j++)
            if (shard_holds(&s[j], rows[i].item)) {
                if (a < 0)
                    a = j;
                else
                    b = j;
            }
        if (b < 0)
            b = a;
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "shards %s and %s (shard %llu/%llu and %llu/%llu) both hold point %llu: "
                         "give each shard once",
                         dirs[a], dirs[b], (unsigned long long)s[a].index,
                         (unsigned long long)s[a].count, (unsigned long long)s[b].index,
                         (unsigned long long)s[b].count, (unsigned long long)rows[i].item);
    }
    if (n == s[0].points)
        return PLAN_OK;
    uint64_t missing = 0;
    while (missing < n && rows[missing].item == missing)
        missing++;
    int same_count = 1;
    for (int j = 1; j < n_dirs; j++)
        same_count = same_count && s[j].count == s[0].count;
    if (same_count)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "shard %llu/%llu of sweep %s is missing (point %llu is in no shard "
                         "given; %zu of %llu points given)",
                         (unsigned long long)(missing % s[0].count + 1),
                         (unsigned long long)s[0].count, s[0].sweep_id, (unsigned long long)missing,
                         n, (unsigned long long)s[0].points);
    return plan_fail(e, PLAN_BAD_INPUT, NULL,
                     "point %llu of sweep %s is in no shard given (%zu of %llu points given)",
                     (unsigned long long)missing, s[0].sweep_id, n,
                     (unsigned long long)s[0].points);
}

plan_status sweep_merge(const char *out_dir, const char *const *dirs, int n_dirs, FILE *out,
                        plan_error *e)
{
    parmap_result res;
    memset(&res, 0, sizeof res);
    size_t cap = 0;
    char *header = NULL, err[2048];
    shard_info *s = calloc((size_t)n_dirs, sizeof *s);
    plan_status status = s ? PLAN_OK : plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    for (int i = 0; i < n_dirs && status == PLAN_OK; i++)
        status = read_shard(dirs[i], &s[i], &header, &res.rows, &res.n_rows, &cap, e);
    parmap_sort(res.rows, res.n_rows);
    if (status == PLAN_OK)
        status = check_cover(dirs, s, n_dirs, res.rows, res.n_rows, e);
    shard_info whole = {.points = s ? s[0].points : 0, .index = 1, .count = 1};
    if (status == PLAN_OK) {
        memcpy(whole.sweep_id, s[0].sweep_id, sizeof whole.sweep_id);
        if (write_sweep_summary(out_dir, res.rows, res.n_rows, &whole, err, sizeof err) != 0)
            status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    }
    size_t failed = 0;
    for (size_t i = 0; i < res.n_rows; i++)
        failed += row_has_status(res.rows[i].text, "failed");
    if (status == PLAN_OK) {
        fprintf(out, "capsim merge: %zu points from %d shards into %s/summary.csv\n", res.n_rows,
                n_dirs, out_dir);
        if (failed > 0)
            status =
                plan_fail(e, PLAN_FAILED, NULL,
                          "%zu point%s status failed (a worker died): run %s shard "
                          "again",
                          failed, failed == 1 ? " has" : "s have", failed == 1 ? "its" : "their");
    }
    parmap_result_fini(&res);
    free(header);
    free(s);
    return status;
}
