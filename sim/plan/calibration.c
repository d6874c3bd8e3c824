/*
 * calibration: a hardware profile from measured serving benchmarks (see calibration.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "sim/plan/calibration.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <gsl/gsl_sort.h>
#include <gsl/gsl_sort_double.h>
#include <gsl/gsl_statistics_double.h>

#include "models/kcoeffs.h"
#include "models/kstep.h"
#include "models/profile.h"
#include "sim/base/csvout.h"
#include "sim/base/util.h"
#include "sim/serve/serve.h"

/* Does a model id from a benchmark ("meta-llama/Llama-3.1-8B-Instruct") name the catalog
 * model ("llama-3.1-8b")? Compared on letters and digits only, case aside. */
static int model_matches(const char *measured, const char *name)
{
    char a[512], b[256];
    size_t n = 0;
    for (const char *p = measured; *p && n + 1 < sizeof a; p++)
        if (isalnum((unsigned char)*p))
            a[n++] = (char)tolower((unsigned char)*p);
    a[n] = '\0';
    const char *slash = strrchr(name, '/');
    n = 0;
    for (const char *p = slash ? slash + 1 : name; *p && n + 1 < sizeof b; p++)
        if (isalnum((unsigned char)*p))
            b[n++] = (char)tolower((unsigned char)*p);
    b[n] = '\0';
    if (n >= 5 && strcmp(b + n - 4, "json") == 0)
        return 1; /* a config.json path: nothing to compare */
    return strstr(a, b) != NULL;
}

/* --- the report ------------------------------------------------------------------------- */

static double ms(double s)
{
    return 1e3 * s;
}

static void print_coeffs(FILE *out, const calib_result *res)
{
    const fit_result *f = &res->fit;
    const step_coeffs *c = &res->coeffs;
    const double v[FIT_N_COEFFS] = {c->mfu, c->mbu, c->t_layer_s, c->comm_scale, c->attn_scale};
    static const char *const shown[FIT_N_COEFFS] = {"mfu", "mbu", "t_layer_ms", "comm_scale",
                                                    "attn_scale"};
    fprintf(out, "fitted coefficients (95%% interval), %d iterations%s:\n", f->iterations,
           f->converged ? ""
                        : " (the solver stopped at its iteration limit: the objective is flat "
                          "there, and the intervals may be optimistic)");
    for (int k = 0; k < FIT_N_COEFFS; k++) {
        double scale = k == 2 ? 1e3 : 1;
        fprintf(out, "  %-11s %9.4g  ", shown[k], scale * v[k]);
        if (f->not_identified[k])
            fprintf(out, "not identified: the data cannot tell it (held at its start value)\n");
        else if (f->at_bound[k])
            fprintf(out, "held at its bound of 1: the best fit was above it\n");
        else
            fprintf(out, "[%.4g, %.4g]\n", scale * f->lo[k], scale * f->hi[k]);
    }
    if (res->noise_from_data)
        fprintf(out, "  %-11s %9.4g  (robust spread of %zu single-step points)\n", "noise_cv",
               c->noise_cv, res->n_noise_points);
    else
        fprintf(out, "  %-11s %9.4g  (kept from the starting profile: only %zu single-step points, "
               "%d needed)\n",
               "noise_cv", c->noise_cv, res->n_noise_points, 8);
}

static void print_errors(FILE *out, const calib_result *res)
{
    fprintf(out, "error per request, |predicted / measured - 1|:\n");
    fprintf(out, "  %-28s %9s %9s %9s\n", "figure", "median", "worst", "requests");
    static const char *const what[CAL_NMETRIC] = {"time to first token (TTFT)",
                                                  "time per output token", "end-to-end latency"};
    for (int k = 0; k < CAL_NMETRIC; k++) {
        if (res->n_ape[k] == 0)
            fprintf(out, "  %-28s %9s %9s %9zu\n", what[k], "-", "-", (size_t)0);
        else
            fprintf(out, "  %-28s %8.1f%% %8.1f%% %9zu\n", what[k], res->median_ape[k],
                   res->worst_ape[k], res->n_ape[k]);
    }
}

/* Per run: the mean of each figure, measured and predicted over the requests that have
 * both. */
static void print_runs(FILE *out, const bench_set *set, const calib_result *res)
{
    fprintf(out, "per run, mean over the requests predicted (measured / predicted):\n");
    fprintf(out, "  %-28s %6s %19s %19s %19s\n", "run", "reqs", "TTFT ms", "TPOT ms", "E2E s");
    for (size_t r = 0; r < set->n_runs; r++) {
        double sm[CAL_NMETRIC] = {0}, sp[CAL_NMETRIC] = {0};
        size_t n[CAL_NMETRIC] = {0};
        for (size_t i = 0; i < res->n_rows; i++) {
            const calib_row *w = &res->rows[i];
            if (w->run != r)
                continue;
            for (int k = 0; k < CAL_NMETRIC; k++)
                if (isfinite(w->predicted_s[k]) && isfinite(w->measured_s[k])) {
                    sm[k] += w->measured_s[k];
                    sp[k] += w->predicted_s[k];
                    n[k]++;
                }
        }
        fprintf(out, "  %-28.28s %6zu", set->runs[r].label, set->runs[r].n);
        for (int k = 0; k < CAL_NMETRIC; k++) {
            double f = k == CAL_E2E ? 1 : 1e3;
            if (n[k])
                fprintf(out, " %9.4g / %-7.4g", f * sm[k] / (double)n[k], f * sp[k] / (double)n[k]);
            else
                fprintf(out, " %19s", "-");
        }
        fprintf(out, "\n");
    }
}

/* What the fit's files are written from. */
typedef struct fit_files {
    const bench_set *set;
    const calib_result *res;
    const profile_row *row;
    const kcoeffs_row *krow; /* the kernel model's, or NULL */
} fit_files;

static void write_fit_csv(FILE *fp, const void *what)
{
    const bench_set *set = ((const fit_files *)what)->set;
    const calib_result *res = ((const fit_files *)what)->res;
    csvout c;
    csvout_init(&c, fp);
    static const char *const head[] = {
        "run",          "request",         "start_s",        "prompt_tokens",  "output_tokens",
        "queued",       "ttft_ms",         "ttft_pred_ms",   "ttft_error_pct", "tpot_ms",
        "tpot_pred_ms", "tpot_error_pct",  "e2e_ms",         "e2e_pred_ms",    "e2e_error_pct"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        csvout_str(&c, head[i]);
    csvout_end_row(&c);
    for (size_t i = 0; i < res->n_rows; i++) {
        const calib_row *w = &res->rows[i];
        csvout_str(&c, set->runs[w->run].label);
        csvout_u64(&c, w->index);
        csvout_num(&c, w->start_s);
        csvout_num(&c, w->prompt);
        csvout_num(&c, w->output);
        csvout_u64(&c, (uint64_t)w->queued);
        for (int k = 0; k < CAL_NMETRIC; k++) {
            double m = w->measured_s[k], p = w->predicted_s[k];
            if (isfinite(m))
                csvout_num(&c, ms(m));
            else
                csvout_str(&c, "");
            if (isfinite(p)) {
                csvout_num(&c, ms(p));
                csvout_num(&c, isfinite(m) && m > 0 ? 100 * (p / m - 1) : NAN);
            } else {
                csvout_str(&c, "");
                csvout_str(&c, "");
            }
        }
        csvout_end_row(&c);
    }
}

static void write_coeffs_csv(FILE *fp, const void *what)
{
    const calib_result *res = ((const fit_files *)what)->res;
    const fit_result *f = &res->fit;
    const step_coeffs *c = &res->coeffs;
    const double v[FIT_N_COEFFS] = {c->mfu, c->mbu, c->t_layer_s, c->comm_scale, c->attn_scale};
    csvout o;
    csvout_init(&o, fp);
    static const char *const head[] = {"coefficient", "value", "ci95_low", "ci95_high", "status"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        csvout_str(&o, head[i]);
    csvout_end_row(&o);
    for (int k = 0; k < FIT_N_COEFFS; k++) {
        csvout_str(&o, fit_coeff_names[k]);
        csvout_num(&o, v[k]);
        csvout_num(&o, f->lo[k]);
        csvout_num(&o, f->hi[k]);
        csvout_str(&o, f->not_identified[k] ? "not identified"
                       : f->at_bound[k]     ? "at bound"
                                            : "fitted");
        csvout_end_row(&o);
    }
    csvout_str(&o, "noise_cv");
    csvout_num(&o, c->noise_cv);
    csvout_str(&o, "");
    csvout_str(&o, "");
    csvout_str(&o, res->noise_from_data ? "fitted" : "kept");
    csvout_end_row(&o);
}

static void write_profile_csv(FILE *fp, const void *what)
{
    profile_write(fp, ((const fit_files *)what)->row);
}

/* --- the replay (--validate) -------------------------------------------------------------- */

enum { RP_P50, RP_P90, RP_P99, RP_N };
static const double RP_Q[RP_N] = {0.5, 0.9, 0.99};
static const char *const RP_NAME[RP_N] = {"p50", "p90", "p99"};

/* Quantile q of the n values of v (sorted in place), which it frees; NaN when there are
 * none (or v is NULL: out of memory). */
static double take_quantile(double *v, size_t n, double q)
{
    double out = NAN;
    if (v && n) {
        gsl_sort(v, 1, n);
        out = gsl_stats_quantile_from_sorted_data(v, 1, n, q);
    }
    free(v);
    return out;
}

/* Measured quantile q of figure k over the requests of run r (ms). */
static double measured_quantile(const calib_result *res, size_t r, int k, double q)
{
    double *v = malloc((res->n_rows + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < res->n_rows; i++)
        if (res->rows[i].run == r && isfinite(res->rows[i].measured_s[k]))
            v[n++] = ms(res->rows[i].measured_s[k]);
    return take_quantile(v, n, q);
}

typedef struct replay_row {
    size_t run;
    int metric, q;
    double measured, simulated, ci;
} replay_row;

/* Writes the run's workload as a capsim trace: send times (or 0) and lengths. */
static int write_replay_trace(const char *path, const calib_result *res, size_t r, int times,
                              char *err, size_t errlen)
{
    util_atomic_file f;
    if (util_atomic_open(&f, path, err, errlen) != 0)
        return -1;
    fprintf(f.fp, "arrival_s,prompt_tokens,output_tokens\n");
    /* In order of send time (a file may list requests in another order). */
    double *t = malloc((res->n_rows + 1) * sizeof *t);
    size_t *idx = malloc((res->n_rows + 1) * sizeof *idx), n = 0;
    if (t == NULL || idx == NULL) {
        free(t);
        free(idx);
        util_atomic_abort(&f);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < res->n_rows; i++)
        if (res->rows[i].run == r)
            t[n++] = times ? res->rows[i].start_s : 0.0;
    gsl_sort_index(idx, t, 1, n);
    n = 0;
    const calib_row **mine = malloc((res->n_rows + 1) * sizeof *mine);
    for (size_t i = 0; mine && i < res->n_rows; i++)
        if (res->rows[i].run == r)
            mine[n++] = &res->rows[i];
    for (size_t i = 0; mine && i < n; i++)
        fprintf(f.fp, "%.9g,%.0f,%.0f\n", t[idx[i]], mine[idx[i]]->prompt, mine[idx[i]]->output);
    int ok = mine != NULL;
    free(mine);
    free(t);
    free(idx);
    if (!ok) {
        util_atomic_abort(&f);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    return util_atomic_commit(&f, err, errlen);
}

/* Replays run r through the serving simulation with the profile (its coefficients in
 * memory; name is what the run's profile option says). With requests_out, one
 * replication writes every request there (for the self-check) and nothing is printed;
 * otherwise the percentiles go to rows and a line on say names the run's arrivals. */
static int replay_one(const run_spec *base, const char *name, const profile_row *profile,
                      const bench_run *run, size_t r,
                      const calib_result *res, const char *dir, FILE *requests_out,
                      FILE *say, replay_row *rows, size_t *n_rows, char *err, size_t errlen)
{
    run_spec *c = malloc(sizeof *c);
    if (c == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    *c = *base;
    char trace[4200];
    snprintf(trace, sizeof trace, "%s/replay-run-%zu.csv", dir, r);
    if (strlen(trace) >= sizeof c->value[0] || strlen(name) >= sizeof c->value[0]) {
        free(c);
        util_errf(err, errlen, "the --out folder's path is too long for the replay's files");
        return -1;
    }
    int times_known = 1;
    for (size_t k = 0; k < run->n; k++)
        times_known &= isfinite(run->req[k].start_s);
    int closed = !times_known && run->max_concurrency > 0;
    int poisson = !times_known && !closed && run->request_rate > 0;
    if (write_replay_trace(trace, res, r, times_known, err, errlen) != 0) {
        free(c);
        return -1;
    }
#define SET(o, ...) snprintf(c->value[o], sizeof c->value[0], __VA_ARGS__)
    SET(OPT_profile, "%.1023s", name);
    c->profile_values = profile;
    SET(OPT_warmup, "0");
    SET(OPT_sample_interval, "0");
    SET(OPT_per_request, "off");
    SET(OPT_replicas, "1");
    SET(OPT_slo, "%s", "");
    if (requests_out)
        SET(OPT_replications, "1");
    if (closed || poisson) {
        SET(OPT_lengths_from, "%.1023s", trace);
        SET(OPT_lengths_joint, "on");
        SET(OPT_requests, "%zu", run->n);
        SET(OPT_trace, "%s", "");
        if (closed) {
            SET(OPT_users, "%u", run->max_concurrency);
            SET(OPT_think, "det:value=1e-6");
        } else {
            SET(OPT_arrival, "poisson:rate=%.9g", run->request_rate);
        }
    } else {
        SET(OPT_trace, "%.1023s", trace);
        SET(OPT_trace_format, "capsim");
        SET(OPT_requests, "0");
        SET(OPT_lengths_from, "%s", "");
        SET(OPT_users, "0");
    }
#undef SET
    resolved x;
    serve_result sr;
    int rc = run_resolve(c, &x, err, errlen);
    if (rc == 0 && requests_out) {
        x.cfg.requests_out = requests_out;
        fprintf(requests_out, "replication,request,class,arrival_s,prompt_tokens,output_tokens,"
                              "replica,queue_ms,ttft_ms,tpot_ms,e2el_ms,preemptions,slo_met\n");
    }
    if (rc == 0)
        rc = serve_run(&x.cfg, &sr, err, errlen);
    if (rc == 0 && requests_out) {
        serve_result_fini(&sr);
    } else if (rc == 0) {
        static const serve_metric M[CAL_NMETRIC][RP_N] = {
            {SM_p50_ttft_ms, SM_p90_ttft_ms, SM_p99_ttft_ms},
            {SM_p50_tpot_ms, SM_p90_tpot_ms, SM_p99_tpot_ms},
            {SM_p50_e2el_ms, SM_p90_e2el_ms, SM_p99_e2el_ms}};
        for (int k = 0; k < CAL_NMETRIC; k++)
            for (int q = 0; q < RP_N; q++) {
                replay_row *w = &rows[(*n_rows)++];
                w->run = r;
                w->metric = k;
                w->q = q;
                w->measured = measured_quantile(res, r, k, RP_Q[q]);
                w->simulated = sr.metric[M[k][q]].mean;
                w->ci = sr.metric[M[k][q]].half_width;
            }
        serve_result_fini(&sr);
    }
    run_resolved_fini(&x);
    if (requests_out == NULL)
        fprintf(say, "  %-28.28s %s\n", run->label,
           times_known ? "send times from the file"
           : closed    ? "closed loop at its concurrency"
           : poisson   ? "Poisson arrivals at its rate"
                       : "every request at once");
    free(c);
    return rc;
}

typedef struct replay_file {
    const bench_set *set;
    const replay_row *rows;
    size_t n;
} replay_file;

static void write_replay_csv(FILE *fp, const void *what)
{
    const replay_file *f = what;
    const bench_set *set = f->set;
    const replay_row *rows = f->rows;
    size_t n = f->n;
    csvout c;
    csvout_init(&c, fp);
    static const char *const head[] = {"run",         "figure",  "measured_ms",
                                       "simulated_ms", "ci95_ms", "error_pct"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        csvout_str(&c, head[i]);
    csvout_end_row(&c);
    for (size_t i = 0; i < n; i++) {
        char fig[32];
        snprintf(fig, sizeof fig, "%s_%s", RP_NAME[rows[i].q], calib_metric_names[rows[i].metric]);
        csvout_str(&c, set->runs[rows[i].run].label);
        csvout_str(&c, fig);
        csvout_num(&c, rows[i].measured);
        csvout_num(&c, rows[i].simulated);
        csvout_num(&c, rows[i].ci);
        csvout_num(&c, 100 * (rows[i].simulated / rows[i].measured - 1));
        csvout_end_row(&c);
    }
}

/* --- the self-check: a parametric bootstrap ----------------------------------------------- */

#define CAL_BOOT 4        /* replays */
#define CAL_BOOT_T 2.7764 /* Student t, 97.5%, 4 degrees of freedom */
/* A kernel coefficient whose bootstrap 95% interval spans more than this factor either way
 * is held (report_kernel_fit). */
#define CAL_BOOT_VAGUE 2.0

/* A number as profile.csv holds it (csvout_num's 9 significant digits). */
static double written(double v)
{
    char buf[64];
    snprintf(buf, sizeof buf, "%.9g", v);
    return strtod(buf, NULL);
}

/* The coefficients as profile.csv holds them (the times there in ms), so that a replay
 * with them in memory is the replay `capsim run --profile DIR/profile.csv` makes. */
static step_coeffs as_written(const step_coeffs *c)
{
    step_coeffs w = *c;
    w.mfu = written(c->mfu);
    w.mbu = written(c->mbu);
    w.t_fixed_s = written(c->t_fixed_s * 1e3) / 1e3;
    w.t_layer_s = written(c->t_layer_s * 1e3) / 1e3;
    w.comm_scale = written(c->comm_scale);
    w.attn_scale = written(c->attn_scale);
    w.noise_cv = written(c->noise_cv);
    return w;
}

/* The most coefficients a fit has: the kernel model's eight (the roofline has five). */
#define CAL_NC KSTEP_N_COEFFS

/* The fitted coefficients of res as an array (the roofline's in fit.h's order, the kernel
 * model's in kstep.h's); returns how many, and fills fitted[k] with whether k was fitted. */
static int coeff_values(const calib_result *res, double v[CAL_NC], int fitted[CAL_NC])
{
    if (res->kernels) {
        for (int k = 0; k < KSTEP_N_COEFFS; k++) {
            v[k] = res->kfit.v[k];
            fitted[k] = res->kfit.status[k] == KCALIB_FITTED;
        }
        return KSTEP_N_COEFFS;
    }
    const step_coeffs *a = &res->coeffs;
    const double w[FIT_N_COEFFS] = {a->mfu, a->mbu, a->t_layer_s, a->comm_scale, a->attn_scale};
    for (int k = 0; k < FIT_N_COEFFS; k++) {
        v[k] = w[k];
        fitted[k] = !res->fit.not_identified[k] && !res->fit.at_bound[k];
    }
    return FIT_N_COEFFS;
}

/* The coefficients a kernel fit held as vague, as kcalib_solve's hold bits. */
static unsigned held_vague(const calib_result *res)
{
    unsigned bits = 0;
    for (int k = 0; res->kernels && k < KSTEP_N_COEFFS; k++)
        if (res->kfit.status[k] == KCALIB_VAGUE)
            bits |= 1u << k;
    return bits;
}

/* The kernel_coeffs.csv row of a kernel fit on deployment d (basis and source left empty). */
static void kernel_row_of(const deploy *d, const kcalib_fit *f, kcoeffs_row *row)
{
    memset(row, 0, sizeof *row);
    const char *source = kstep_source(d->kstep), *slash = strchr(source, '/');
    snprintf(row->gpu, sizeof row->gpu, "%s", d->gpu.name);
    snprintf(row->stack, sizeof row->stack, "%.63s", slash ? slash + 1 : source);
    snprintf(row->model, sizeof row->model, "%.63s", d->model.name);
    row->c = f->c;
}

/* A replayed run read back (path) into replay, told to the fit the way the original orig
 * was. Returns 0, or -1 with a message. */
static int read_back(const char *path, const bench_run *orig, bench_set *replay, char *err,
                     size_t errlen)
{
    bench_set one;
    if (bench_load(path, BENCH_CSV, &one, err, errlen) != 0)
        return -1;
    bench_run *run = &replay->runs[replay->n_runs++];
    *run = one.runs[0];
    one.runs[0].req = NULL;
    one.runs[0].n = 0;
    bench_set_free(&one);
    int known = 1;
    for (size_t i = 0; i < orig->n; i++)
        known &= isfinite(orig->req[i].start_s);
    for (size_t i = 0; !known && i < run->n; i++)
        run->req[i].start_s = NAN;
    run->max_concurrency = orig->max_concurrency;
    run->request_rate = orig->request_rate;
    return 0;
}

/* One replay of every run with the fitted coefficients (same send rule, lengths and
 * settings, seed base + b), fitted again: the roofline's with profile in memory, or the
 * kernel model's with the file kcoeffs (not NULL). Fills refit[k]; returns 0, or -1. */
static int refit_on_replay(const run_spec *base, const bench_set *all, const calib_result *res,
                           const deploy *d, const char *dir, const profile_row *profile,
                           const char *kcoeffs, int b, double refit[CAL_NC], char *err,
                           size_t errlen)
{
    run_spec *c = malloc(sizeof *c);
    bench_set replay;
    memset(&replay, 0, sizeof replay);
    replay.format = BENCH_CSV;
    replay.runs = calloc(all->n_runs ? all->n_runs : 1, sizeof *replay.runs);
    if (c == NULL || replay.runs == NULL) {
        free(c);
        free(replay.runs);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    *c = *base;
    snprintf(c->value[OPT_seed], sizeof c->value[0], "%llu",
             strtoull(base->value[OPT_seed], NULL, 10) + (unsigned long long)b);
    int rc = kcoeffs ? run_set_value(c, OPT_kernel_coeffs, kcoeffs, err, errlen) : 0;
    for (size_t k = 0; rc == 0 && k < all->n_runs; k++) {
        char path[4096 + 32]; /* PATH_MAX and the file name */
        snprintf(path, sizeof path, "%s/requests-%zu.csv", dir, k);
        FILE *out = fopen(path, "w");
        if (out == NULL) {
            util_errf(err, errlen, "cannot write %s", path);
            rc = -1;
            break;
        }
        rc = replay_one(c, kcoeffs ? base->value[OPT_profile] : "self-check",
                        kcoeffs ? base->profile_values : profile, &all->runs[k], k, res, dir, out,
                        NULL, NULL, NULL, err, errlen);
        if (fclose(out) != 0 && rc == 0) {
            util_errf(err, errlen, "cannot write %s", path);
            rc = -1;
        }
        if (rc == 0)
            rc = read_back(path, &all->runs[k], &replay, err, errlen);
        remove(path);
        char trace[320];
        snprintf(trace, sizeof trace, "%s/replay-run-%zu.csv", dir, k);
        remove(trace);
    }
    calib_result again;
    if (rc == 0 && res->kernels &&
        (rc = calib_run_kernels(&replay, &d->step, &res->kfit.c, held_vague(res), &again, err,
                                errlen)) == 0) {
        memcpy(refit, again.kfit.v, KSTEP_N_COEFFS * sizeof *refit);
        calib_result_free(&again);
    } else if (rc == 0 && !res->kernels &&
               (rc = calib_run(&replay, &d->step, &res->coeffs, &again, err, errlen)) == 0) {
        const step_coeffs *g = &again.coeffs;
        refit[0] = g->mfu;
        refit[1] = g->mbu;
        refit[2] = g->t_layer_s;
        refit[3] = g->comm_scale;
        refit[4] = g->attn_scale;
        calib_result_free(&again);
    }
    bench_set_free(&replay);
    free(c);
    return rc;
}

/* Writes the kernel fit of res, as kernel_coeffs.csv holds it, to path for the replays of
 * the self-check. Returns 0, or -1 with a message. */
static int write_self_check_kcoeffs(const char *path, const calib_result *res, const deploy *d,
                                    char *err, size_t errlen)
{
    kcoeffs_row row;
    kernel_row_of(d, &res->kfit, &row);
    snprintf(row.basis, sizeof row.basis, "self-check");
    snprintf(row.source, sizeof row.source, "capsim calibrate");
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        util_errf(err, errlen, "cannot write %s", path);
        return -1;
    }
    kcoeffs_write(fp, &row);
    if (fclose(fp) != 0) {
        util_errf(err, errlen, "cannot write %s", path);
        return -1;
    }
    return 0;
}

/* A parametric bootstrap of the fit: the runs are replayed CAL_BOOT times with the fitted
 * coefficients and fitted again. The spread of those fits around the coefficients that
 * made them measures what the covariance cannot: residuals that are not independent
 * (requests that run together share their steps) and the error of rebuilding the
 * timeline from client-side latencies. Fills half_log[k], the half-width of each 95%
 * interval on the log scale (Student t over the root-mean-square deviation); returns 0,
 * or -1 with a message. */
static int self_check(const run_spec *base, const bench_set *all, const calib_result *res,
                      const deploy *d, double half_log[CAL_NC], char *err, size_t errlen)
{
    char dir[] = "/tmp/capsim-calibrate-XXXXXX";
    if (mkdtemp(dir) == NULL) {
        util_errf(err, errlen, "cannot make a temporary folder for the self-check");
        return -1;
    }
    profile_row row;
    memset(&row, 0, sizeof row);
    snprintf(row.gpu, sizeof row.gpu, "%s", d->gpu.name);
    row.c = as_written(&res->coeffs);
    snprintf(row.basis, sizeof row.basis, "self-check");
    snprintf(row.source, sizeof row.source, "capsim calibrate");
    char kpath[sizeof dir + 32];
    snprintf(kpath, sizeof kpath, "%s/kernel_coeffs.csv", dir);
    int rc = res->kernels ? write_self_check_kcoeffs(kpath, res, d, err, errlen) : 0;
    double v[CAL_NC], sq[CAL_NC] = {0};
    int fitted[CAL_NC];
    int n = coeff_values(res, v, fitted);
    for (int b = 1; rc == 0 && b <= CAL_BOOT; b++) {
        double refit[CAL_NC];
        rc = refit_on_replay(base, all, res, d, dir, &row, res->kernels ? kpath : NULL, b, refit,
                             err, errlen);
        for (int k = 0; rc == 0 && k < n; k++) {
            double dev = v[k] > 0 && refit[k] > 0 ? log(refit[k] / v[k]) : 0;
            sq[k] += dev * dev;
        }
    }
    for (int k = 0; k < n; k++)
        half_log[k] = CAL_BOOT_T * sqrt(sq[k] / CAL_BOOT);
    if (res->kernels)
        remove(kpath);
    rmdir(dir);
    return rc;
}

/* The 95% interval of each fitted coefficient: the wider of the covariance's and the
 * bootstrap's. */
static void widen_intervals(calib_result *res, const double half_log[CAL_NC])
{
    double v[CAL_NC];
    int fitted[CAL_NC];
    int n = coeff_values(res, v, fitted);
    double *lo = res->kernels ? res->kfit.lo : res->fit.lo;
    double *hi = res->kernels ? res->kfit.hi : res->fit.hi;
    for (int k = 0; k < n; k++) {
        if (!fitted[k] || !(v[k] > 0))
            continue;
        double stat = log(hi[k] / v[k]);
        double half = half_log[k] > stat ? half_log[k] : stat;
        lo[k] = v[k] * exp(-half);
        hi[k] = v[k] * exp(half);
    }
}

/* Loads the benchmark files into sets and lists every run of them in all (borrowed from
 * sets); warnings about the files go to warn. */
static plan_status load_benchmarks(const calibration_options *o, const run_spec *r,
                                   bench_set *sets, int *n_sets, bench_set *all, FILE *warn,
                                   plan_error *e)
{
    char err[2048];
    size_t n_runs = 0;
    for (int i = 0; i < o->n_data; i++) {
        if (bench_load(o->data[i], o->format, &sets[i], err, sizeof err) != 0)
            return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", err);
        (*n_sets)++;
        n_runs += sets[i].n_runs;
        if (sets[i].n_warnings)
            fprintf(warn, "capsim calibrate: warning: %zu value%s skipped or fixed up; the "
                            "first: %s\n",
                    sets[i].n_warnings, sets[i].n_warnings == 1 ? "" : "s",
                    sets[i].first_warning);
        for (size_t k = 0; k < sets[i].n_runs; k++) {
            const bench_run *run = &sets[i].runs[k];
            if (run->model[0] && !model_matches(run->model, r->value[OPT_model])) {
                fprintf(warn,
                        "capsim calibrate: warning: %s: run '%s' measured model '%s', not "
                        "--model %s; the fit assumes --model\n",
                        o->data[i], run->label, run->model, r->value[OPT_model]);
                break;
            }
        }
    }
    all->runs = calloc(n_runs ? n_runs : 1, sizeof *all->runs);
    if (all->runs == NULL)
        return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
    for (int i = 0; i < *n_sets; i++) {
        size_t len = strlen(o->data[i]);
        const char *base = len > 60 ? o->data[i] + len - 60 : o->data[i]; /* its tail */
        for (size_t k = 0; k < sets[i].n_runs; k++) {
            bench_run *run = &all->runs[all->n_runs++];
            *run = sets[i].runs[k]; /* borrowed from sets[i] */
            if (*n_sets > 1) {
                /* Several files: say which file each run came from. */
                char label[sizeof run->label];
                snprintf(label, sizeof label, "%.60s %.60s", base, sets[i].runs[k].label);
                snprintf(run->label, sizeof run->label, "%s", label);
            }
        }
    }
    return PLAN_OK;
}

/* What the fit saw: its points, the requests left out, the send times guessed. */
static void print_points(FILE *out, const calib_result *res)
{
    fprintf(out, "  fit points: %zu (TTFT of %zu requests; %zu requests waited in a queue and are "
           "left out of it), TPOT of every request with 2 or more output tokens\n",
           res->n_pts, res->n_rows - res->n_queued, res->n_queued);
    if (res->n_fitted < res->n_pts)
        fprintf(out, "  the solver fits %zu of them, spread evenly; every request is predicted\n",
               res->n_fitted);
    if (res->runs_start_guessed)
        fprintf(out, "  note: %zu run%s give a rate but no send times: requests were placed 1/rate "
               "apart, which smooths the bursts a Poisson client makes\n",
               res->runs_start_guessed, res->runs_start_guessed == 1 ? "" : "s");
    fprintf(out, "\n");
}

/* A tail figure the verdict reads is off when its error passes this multiple of the
 * median limit of its metric (--poor-fit): a tail is noisier than a median, but a profile
 * that misses the p99 by more misprices every capacity under a p99 SLO. */
#define CAL_TAIL_FACTOR 2.0

/* The tail limit, in percent, of metric k (CAL_TTFT or CAL_TPOT). */
static double tail_limit_pct(const calibration_options *o, int k)
{
    return CAL_TAIL_FACTOR * (k == CAL_TTFT ? o->poor.ttft_pct : o->poor.tpot_pct);
}

/* Quantile q of figure k (ms) over the requests that have both a measured and a predicted
 * value: the measured one (predicted 0) or the predicted one (1). NaN when there are none. */
static double row_quantile(const calib_result *res, int k, int predicted, double q)
{
    double *v = malloc((res->n_rows + 1) * sizeof *v);
    size_t n = 0;
    for (size_t i = 0; v && i < res->n_rows; i++) {
        const calib_row *w = &res->rows[i];
        if (isfinite(w->measured_s[k]) && isfinite(w->predicted_s[k]))
            v[n++] = ms(predicted ? w->predicted_s[k] : w->measured_s[k]);
    }
    return take_quantile(v, n, q);
}

/* The tails of the per-request predictions: p90 and p99 of TTFT and TPOT, measured against
 * predicted over the same requests. Prints them to out and says in worst the tail figure
 * furthest beyond its limit; returns whether any is. */
static int print_tails(const calibration_options *o, const calib_result *res, FILE *out,
                       char *worst, size_t len)
{
    static const int metric[2] = {CAL_TTFT, CAL_TPOT};
    static const char *const name[2] = {"TTFT", "TPOT"};
    int off = 0;
    double worst_ratio = 0;
    fprintf(out, "tails, over the requests predicted:\n");
    fprintf(out, "  %-10s %12s %12s %8s\n", "figure", "measured ms", "predicted ms", "error");
    for (int m = 0; m < 2; m++)
        for (int q = RP_P90; q <= RP_P99; q++) {
            double me = row_quantile(res, metric[m], 0, RP_Q[q]);
            double pr = row_quantile(res, metric[m], 1, RP_Q[q]);
            if (!(me > 0) || !isfinite(pr))
                continue;
            double err = 100 * (pr / me - 1), ratio = fabs(err) / tail_limit_pct(o, metric[m]);
            fprintf(out, "  %-3s %-6s %12.5g %12.5g %+7.1f%%\n", RP_NAME[q], name[m], me, pr, err);
            if (ratio > 1 && ratio > worst_ratio) {
                off = 1;
                worst_ratio = ratio;
                snprintf(worst, len,
                         "the %s %s is predicted %.4g ms against %.4g ms measured (%+.0f%%, "
                         "beyond the %.0f%% a tail may miss by)",
                         RP_NAME[q], name[m], pr, me, err, tail_limit_pct(o, metric[m]));
            }
        }
    return off;
}

/* Runs that give no send times, no rate and no concurrency: capsim takes their requests
 * as all sent at once. Counts them and their requests that then wait in a queue, and names
 * the first in first (the label). Returns the number of such runs. */
static size_t burst_runs(const bench_set *all, const calib_result *res, size_t *queued,
                         size_t *requests, char *first, size_t len)
{
    size_t n = 0;
    *queued = *requests = 0;
    for (size_t r = 0; r < all->n_runs; r++) {
        const bench_run *run = &all->runs[r];
        int known = run->n > 0;
        for (size_t k = 0; k < run->n; k++)
            known &= isfinite(run->req[k].start_s);
        if (known || run->request_rate > 0 || run->max_concurrency > 0)
            continue;
        if (n++ == 0)
            snprintf(first, len, "%s", run->label);
        *requests += run->n;
        for (size_t i = 0; res && i < res->n_rows; i++)
            *queued += res->rows[i].run == r && res->rows[i].queued;
    }
    return n;
}

/* What capsim assumed for runs without send times (burst_runs), into buf: the likely cause
 * of a poor fit or a refusal, and what removes the doubt. Returns 0 (buf empty) when every
 * run has send times, a rate or a concurrency. */
static int burst_cause(const bench_set *all, const calib_result *res, char *buf, size_t len)
{
    size_t queued, requests;
    char first[256] = "";
    size_t n = burst_runs(all, res, &queued, &requests, first, sizeof first);
    buf[0] = '\0';
    if (n == 0)
        return 0;
    char waiting[128] = "";
    if (res)
        snprintf(waiting, sizeof waiting, "%zu of %zu requests then wait behind the first batch, ",
                 queued, requests);
    snprintf(buf, len,
             "%zu run%s ('%s'%s) give%s no send times (no start_times) and a request rate of "
             "inf without a max_concurrency, so capsim takes every request as sent at once: "
             "%stheir TTFT is left out of the fit and the batches their TPOT is fitted to are "
             "guessed. If the client did not send them all at once, give the send times "
             "(start_times, as in vllm bench serve's detailed results), the client's "
             "concurrency (max_concurrency) or the rate it kept",
             n, n == 1 ? "" : "s", first, n > 1 ? ", ..." : "", n == 1 ? "s" : "", waiting);
    return 1;
}

/* The errors, the runs and the verdict, printed; returns whether the fit is poor. The
 * verdict reads the medians (a poor fit writes nothing unless forced) and the tails (a fit
 * whose tails are off is written, with the verdict saying so). */
static int print_verdict(const calibration_options *o, const bench_set *all,
                         const calib_result *res, FILE *out)
{
    char why[256], tail[512] = "";
    print_errors(out, res);
    fprintf(out, "\n");
    int tails_off = print_tails(o, res, out, tail, sizeof tail);
    fprintf(out, "\n");
    print_runs(out, all, res);
    int poor = calib_is_poor(res, &o->poor, why, sizeof why);
    fprintf(out, "\n");
    char cause[1024];
    int burst = burst_cause(all, res, cause, sizeof cause);
    const char *written = o->force ? " --force: writing the profile anyway."
                                   : " No profile written (--force writes it anyway).";
    /* Runs taken as sent all at once explain a poor fit before the model is suspected. */
    if (poor && burst)
        fprintf(out, "POOR FIT: %s. The likely cause is the data, not the model: %s.%s\n", why,
                cause, written);
    else if (poor)
        fprintf(out, "POOR FIT: %s. The step-time model does not explain these measurements; "
               "check that --model, --gpu, --precision, --tp and the scheduler options match "
               "the deployment benchmarked.%s\n",
               why, written);
    else if (tails_off)
        fprintf(out, "TAILS OFF: the median errors are within %.3g%% (TPOT) and %.3g%% (TTFT), "
                     "but %s. Capacities under a p99 SLO will be off by as much.\n",
                o->poor.tpot_pct, o->poor.ttft_pct, tail);
    else
        fprintf(out, "good fit: the median errors are within %.3g%% (TPOT) and %.3g%% (TTFT), "
                     "the p90 and p99 within %.3g%% and %.3g%%.\n",
               o->poor.tpot_pct, o->poor.ttft_pct, tail_limit_pct(o, CAL_TPOT),
               tail_limit_pct(o, CAL_TTFT));
    if (!poor && tails_off && burst)
        fprintf(out, "The likely cause: %s.\n", cause);
    return poor;
}

/* The fit's self-check, its figures and its verdict, printed; returns whether it is poor. */
static int report_fit(const calibration_options *o, const run_spec *r, const bench_set *all,
                      calib_result *res, const deploy *d, FILE *out)
{
    double half_log[CAL_NC] = {0};
    char why_sys[1024] = "";
    int have_sys = self_check(r, all, res, d, half_log, why_sys, sizeof why_sys) == 0;
    if (have_sys)
        widen_intervals(res, half_log);
    print_points(out, res);
    print_coeffs(out, res);
    if (have_sys)
        fprintf(out, "  The intervals are the wider of the fit's covariance and a parametric "
               "bootstrap (%d replays made with these coefficients and fitted again), which "
               "also counts requests that share steps and the rebuilt timeline.\n",
               CAL_BOOT);
    else
        fprintf(out, "  The intervals are statistical only: the self-check replay failed (%s).\n",
               why_sys);
    fprintf(out, "\n");
    return print_verdict(o, all, res, out);
}

/* --- the kernel model's coefficients ------------------------------------------------------ */

/* Why a kernel coefficient was not fitted, for the report. */
static const char *held_why(int k, kcalib_status st)
{
    switch (st) {
    case KCALIB_NO_DATA:
        return k == KSTEP_C_COMM  ? "held: no all-reduces at tp 1"
               : k == KSTEP_C_MOE ? "held: a dense model has no MoE layer"
                                  : "held: no step of the data has this term";
    case KCALIB_NOT_IDENTIFIED:
        return k == KSTEP_C_LAYER ? "held: with one model it is the per-step time times the "
                                    "depth (step_ms takes it)"
                                  : "held: a combination of the terms fitted";
    case KCALIB_AT_BOUND:
        return "at its bound: the best fit was beyond it";
    case KCALIB_VAGUE:
        if (k == KSTEP_C_LAYER)
            return "held with step_ms (with one model it is the per-step time times the depth)";
        return "held: its 95% interval was wider than its value, or replays of the fit spread "
               "it over more than a factor of 2 (the data barely tell it)";
    case KCALIB_SMALL:
        return "held: under 1% of the measured times (too small for the data to tell)";
    default:
        return "";
    }
}

static void print_kcoeffs(FILE *out, const calib_result *res, const kstep_coeffs *start)
{
    const kcalib_fit *f = &res->kfit;
    double s0[KSTEP_N_COEFFS];
    kstep_coeffs_get(start, s0);
    fprintf(out, "kernel coefficients on top of the measured kernels (95%% interval), %d of %d "
                 "fitted:\n",
            f->n_fitted, KSTEP_N_COEFFS);
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        double u = kcoeffs_unit[k];
        fprintf(out, "  %-15s %9.4g  ", kcoeffs_names[k], u * f->v[k]);
        if (f->status[k] == KCALIB_FITTED)
            fprintf(out, "[%.4g, %.4g] (start %.4g)\n", u * f->lo[k], u * f->hi[k], u * s0[k]);
        else
            fprintf(out, "%s\n", held_why(k, f->status[k]));
    }
    for (int k = 0; k < KSTEP_N_COEFFS; k++)
        if (kcalib_far(f, k))
            fprintf(out, "  warning: %s = %.3g is more than %g times from the measured kernels: "
                         "check that --gpu, --precision, --tp and the stack match the deployment "
                         "benchmarked\n",
                    kcoeffs_names[k], f->v[k], KCALIB_FAR);
    if (f->alike[0] >= 0 && f->alike_cos > KCALIB_ALIKE)
        fprintf(out, "  note: the terms of %s and %s are much alike in these data (cosine %.3f): "
                     "the predictions hold, each value less; benchmarks at several "
                     "concurrencies and prompt lengths tell them apart\n",
                kcoeffs_names[f->alike[0]], kcoeffs_names[f->alike[1]], f->alike_cos);
    fprintf(out, "  %-15s %9.4g  %s\n", "noise_cv", res->coeffs.noise_cv,
            res->noise_from_data ? "(robust spread of the single-step points; the profile's "
                                   "noise_cv prices runs)"
                                 : "(kept from the profile: too few single-step points)");
}

/* The kernel fit, printed with its verdict; returns whether it is poor. */
static int report_kernel_fit(const calibration_options *o, const run_spec *r,
                             const bench_set *all, calib_result *res, const deploy *d,
                             const kstep_coeffs *start, FILE *out)
{
    double half_log[CAL_NC] = {0};
    char why_sys[1024] = "";
    int have_sys = self_check(r, all, res, d, half_log, why_sys, sizeof why_sys) == 0;
    /* A coefficient that the replays spread over more than a factor of CAL_BOOT_VAGUE either
     * way is not told by these data: held at its start, the rest fitted and checked again
     * (once). */
    unsigned unstable = 0;
    for (int k = 0; have_sys && k < KSTEP_N_COEFFS; k++)
        if (res->kfit.status[k] == KCALIB_FITTED && half_log[k] > log(CAL_BOOT_VAGUE))
            unstable |= 1u << k;
    calib_result again;
    char msg[2048];
    if (unstable && calib_run_kernels(all, &d->step, start, held_vague(res) | unstable, &again,
                                      msg, sizeof msg) == 0) {
        calib_result_free(res);
        *res = again;
        have_sys = self_check(r, all, res, d, half_log, why_sys, sizeof why_sys) == 0;
    }
    if (have_sys)
        widen_intervals(res, half_log);
    print_points(out, res);
    print_kcoeffs(out, res, start);
    if (have_sys)
        fprintf(out, "  The intervals are the wider of the fit's covariance and a parametric "
                     "bootstrap (%d replays made with these coefficients and fitted again), "
                     "which also counts requests that share steps and the rebuilt timeline.\n",
                CAL_BOOT);
    else
        fprintf(out, "  The intervals are statistical only: the self-check replay failed (%s).\n",
                why_sys);
    fprintf(out, "\n");
    return print_verdict(o, all, res, out);
}

static void write_kcoeffs_fit_csv(FILE *fp, const void *what)
{
    const kcalib_fit *f = &((const fit_files *)what)->res->kfit;
    csvout o;
    csvout_init(&o, fp);
    static const char *const head[] = {"coefficient", "value", "ci95_low", "ci95_high", "status"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        csvout_str(&o, head[i]);
    csvout_end_row(&o);
    for (int k = 0; k < KSTEP_N_COEFFS; k++) {
        double u = kcoeffs_unit[k];
        csvout_str(&o, kcoeffs_names[k]);
        csvout_num(&o, u * f->v[k]);
        csvout_num(&o, u * f->lo[k]);
        csvout_num(&o, u * f->hi[k]);
        csvout_str(&o, kcalib_status_names[f->status[k]]);
        csvout_end_row(&o);
    }
}

static void write_kernel_coeffs_csv(FILE *fp, const void *what)
{
    kcoeffs_write(fp, ((const fit_files *)what)->krow);
}

/* What a calibration's outputs are: the file of fitted coefficients that run takes, the
 * option that takes it, and the writers of coefficients.csv and of that file. */
typedef struct fit_output {
    const char *file; /* "profile.csv", "kernel_coeffs.csv" */
    const char *flag; /* "--profile", "--kernel-coeffs" */
    util_writer coefficients_csv, file_csv;
} fit_output;

/* The basis and source of a calibrated row: what it was fitted to, and the command. */
static void describe_fit(const calibration_options *o, const bench_set *all,
                         const bench_set *sets, const calib_result *res, const deploy *d,
                         int poor, size_t n_req, const char *what, char *basis, size_t blen,
                         char *source, size_t slen)
{
    const char *base = strrchr(o->data[0], '/');
    snprintf(basis, blen,
             "%s%s: %zu requests in %zu runs of %s (%s), %s at %s tp %d; median |error| TTFT "
             "%.1f%%, TPOT %.1f%%",
             what, poor ? " (POOR FIT, forced)" : "", n_req, all->n_runs,
             base ? base + 1 : o->data[0], bench_format_name(sets[0].format), d->model.name,
             precision_name(d->weights), d->tp, res->median_ape[CAL_TTFT],
             res->median_ape[CAL_TPOT]);
    snprintf(source, slen, "capsim calibrate --data %s --model %s --gpu %s",
             base ? base + 1 : o->data[0], d->model.name, d->gpu.name);
}

/* Writes fit.csv, coefficients.csv and (unless the fit is poor and not forced) the fitted
 * file of kind k into --out, whose path it leaves in path. A poor fit writes no file: one
 * left by an earlier calibration in this folder must not pass for this one. */
static plan_status write_fit_files(const calibration_options *o, const run_spec *r,
                                   const fit_output *k, const fit_files *ff, int poor, char *path,
                                   size_t path_len, FILE *out, plan_error *e)
{
    char err[2048];
    int write_file = !poor || o->force;
    snprintf(path, path_len, "%s/%s", r->out_dir, k->file);
    if (!write_file)
        remove(path);
    const char *names[] = {"fit.csv", "coefficients.csv", k->file};
    const util_writer write[] = {write_fit_csv, k->coefficients_csv, k->file_csv};
    const void *what[] = {ff, ff, ff};
    if (util_write_files(r->out_dir, write_file ? 3 : 2, names, write, what, err,
                         sizeof err) != 0)
        return plan_fail(e, PLAN_FAILED, NULL, "%s", err);
    fprintf(out, "wrote %s/: fit.csv, coefficients.csv%s%s\n", r->out_dir,
            write_file ? ", " : "", write_file ? k->file : "");
    if (write_file)
        fprintf(out, "use it with: capsim run %s %s ...\n", k->flag, path);
    return PLAN_OK;
}

/* With --out, writes fit.csv, coefficients.csv and (unless the fit is poor and not forced)
 * kernel_coeffs.csv, whose path it leaves in path. */
static plan_status write_kernel_outputs(const calibration_options *o, const run_spec *r,
                                        const bench_set *all, const bench_set *sets,
                                        const calib_result *res, const deploy *d, int poor,
                                        size_t n_req, char *path, size_t path_len, FILE *out,
                                        plan_error *e)
{
    if (r->out_dir == NULL)
        return PLAN_OK;
    kcoeffs_row row;
    kernel_row_of(d, &res->kfit, &row);
    char what[256];
    snprintf(what, sizeof what, "calibrated on top of models/kernels/%s", kstep_source(d->kstep));
    describe_fit(o, all, sets, res, d, poor, n_req, what, row.basis, sizeof row.basis,
                 row.source, sizeof row.source);
    static const fit_output KERNELS = {"kernel_coeffs.csv", "--kernel-coeffs",
                                       write_kcoeffs_fit_csv, write_kernel_coeffs_csv};
    const fit_files ff = {all, res, NULL, &row};
    return write_fit_files(o, r, &KERNELS, &ff, poor, path, path_len, out, e);
}

/* With --out, writes fit.csv, coefficients.csv and (unless the fit is poor and not
 * forced) profile.csv, whose row and path it leaves in row and profile_path. */
static plan_status write_outputs(const calibration_options *o, const run_spec *r,
                                 const bench_set *all, const bench_set *sets,
                                 const calib_result *res, const deploy *d, int poor, size_t n_req,
                                 profile_row *row, char *profile_path, size_t path_len, FILE *out,
                                 plan_error *e)
{
    if (r->out_dir == NULL)
        return PLAN_OK;
    snprintf(row->gpu, sizeof row->gpu, "%s", d->gpu.name);
    row->c = res->coeffs;
    describe_fit(o, all, sets, res, d, poor, n_req, "calibrated", row->basis, sizeof row->basis,
                 row->source, sizeof row->source);
    static const fit_output ROOFLINE = {"profile.csv", "--profile", write_coeffs_csv,
                                        write_profile_csv};
    const fit_files ff = {all, res, row, NULL};
    return write_fit_files(o, r, &ROOFLINE, &ff, poor, profile_path, path_len, out, e);
}

/* The replay's verdict on the tails: the p90 and p99 of TTFT and TPOT of every run,
 * simulated against measured. A figure is off when it misses by more than the tail limit
 * of its metric, less the replay's own 95% interval. */
static void print_replay_verdict(const calibration_options *o, const bench_set *all,
                                 const replay_row *rp, size_t n, FILE *out)
{
    double worst_ratio = 0;
    const replay_row *worst = NULL;
    size_t checked = 0;
    for (size_t i = 0; i < n; i++) {
        const replay_row *w = &rp[i];
        if (w->q == RP_P50 || w->metric == CAL_E2E || !(w->measured > 0) ||
            !isfinite(w->simulated))
            continue;
        checked++;
        double miss = fabs(w->simulated - w->measured) - (isfinite(w->ci) ? w->ci : 0);
        double ratio = 100 * miss / w->measured / tail_limit_pct(o, w->metric);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            worst = w;
        }
    }
    if (checked == 0)
        return;
    if (worst_ratio > 1)
        fprintf(out,
                "\n  TAILS OFF in the replay: the %s %s of run '%s' is simulated %.4g ms against "
                "%.4g ms measured (%+.0f%%, beyond the %.0f%% a tail may miss by). Capacities "
                "under a p99 SLO will be off by as much.\n",
                RP_NAME[worst->q], calib_metric_names[worst->metric], all->runs[worst->run].label,
                worst->simulated, worst->measured, 100 * (worst->simulated / worst->measured - 1),
                tail_limit_pct(o, worst->metric));
    else
        fprintf(out,
                "\n  the replay's tails agree: every p90 and p99 of TTFT and TPOT within %.0f%% "
                "and %.0f%% of the measured one (beyond the replay's 95%% interval).\n",
                tail_limit_pct(o, CAL_TTFT), tail_limit_pct(o, CAL_TPOT));
}

/* --validate: replays every run through the serving simulation with the profile just
 * written, and compares the percentiles with the measured ones (replay.csv). */
static plan_status validate_replays(const calibration_options *o, const run_spec *r,
                                    const bench_set *all, const calib_result *res,
                                    const profile_row *fitted,
                                    const char *profile_path, const char *fitted_what,
                                    FILE *out, plan_error *e)
{
    char err[2048];
    plan_status status = PLAN_OK;
    replay_row *rp = NULL;
    size_t n_rp = 0;
    fprintf(out, "\nreplay through the serving simulation with the fitted %s "
           "(%s replications each):\n",
           fitted_what, r->value[OPT_replications]);
    rp = calloc(all->n_runs * CAL_NMETRIC * RP_N + 1, sizeof *rp);
    for (size_t k = 0; rp && k < all->n_runs && status == PLAN_OK; k++)
        if (replay_one(r, profile_path, fitted, &all->runs[k], k, res, r->out_dir, NULL, out,
                       rp, &n_rp, err, sizeof err) != 0)
            status = plan_fail(e, PLAN_FAILED, NULL, "replay of run '%s': %s",
                               all->runs[k].label, err);
    if (status == PLAN_OK && rp) {
        fprintf(out, "\n  %-28s %-9s %12s %12s %10s %8s\n", "run", "figure", "measured ms",
               "simulated ms", "+-95% CI", "error");
        for (size_t i = 0; i < n_rp; i++) {
            char fig[32];
            snprintf(fig, sizeof fig, "%s %s", RP_NAME[rp[i].q],
                     calib_metric_names[rp[i].metric]);
            fprintf(out, "  %-28.28s %-9s %12.5g %12.5g %10.3g %+7.1f%%\n",
                   all->runs[rp[i].run].label, fig, rp[i].measured, rp[i].simulated, rp[i].ci,
                   100 * (rp[i].simulated / rp[i].measured - 1));
        }
        print_replay_verdict(o, all, rp, n_rp, out);
        const replay_file rf = {all, rp, n_rp};
        static const char *const names[] = {"replay.csv"};
        static const util_writer write[] = {write_replay_csv};
        const void *what[] = {&rf};
        if (util_write_files(r->out_dir, 1, names, write, what, err, sizeof err) != 0) {
            status = plan_fail(e, PLAN_FAILED, NULL, "%s", err);
        } else {
            fprintf(out, "  wrote %s/replay.csv and the workloads replayed, replay-run-N.csv\n",
                   r->out_dir);
        }
    }
    free(rp);
    return status;
}

/* The deployment measured, resolved with its step model, and the runs of the files. */
static plan_status calibration_inputs(const calibration_options *o, run_spec *r, resolved *x,
                                      bench_set *sets, int *n_sets, bench_set *all, FILE *err,
                                      plan_error *e)
{
    char msg[2048];
    snprintf(r->value[OPT_sample_interval], sizeof r->value[0], "0");
    /* The calibration fits the coefficients of the deployment's step model: the measured
     * kernels' where they price its steps (the default where the GPU has tables), else the
     * roofline's (of the stack's profile, or the --profile given). */
    if (run_resolve(r, x, msg, sizeof msg) != 0)
        return plan_fail(e, PLAN_BAD_INPUT, NULL, "%s", msg);
    if (x->dep.step.kind == STEP_LINEAR)
        return plan_fail(e, PLAN_BAD_INPUT, NULL,
                         "--step-model: calibration fits the measured kernels' or the "
                         "roofline model's coefficients; leave --step-model at auto, kernels "
                         "or roofline");
    return load_benchmarks(o, r, sets, n_sets, all, err, e);
}

/* A fit that could not be made (msg says why), with the cause when runs without send
 * times were taken as sent all at once. */
static plan_status fit_refused(const bench_set *all, const char *msg, plan_error *e)
{
    char cause[1024];
    if (burst_cause(all, NULL, cause, sizeof cause))
        return plan_fail(e, PLAN_FAILED, NULL, "%s; the likely cause: %s", msg, cause);
    return plan_fail(e, PLAN_FAILED, NULL, "%s", msg);
}

/* The roofline's coefficients fitted, reported, written and (--validate) replayed. */
static plan_status calibrate_roofline(const calibration_options *o, const run_spec *r,
                                      const bench_set *all, const bench_set *sets,
                                      const deploy *d, size_t n_req, calib_result *res,
                                      int *have_res, calibration_outcome *oc, FILE *out,
                                      plan_error *e)
{
    char msg[2048];
    if (calib_run(all, &d->step, &d->step.c, res, msg, sizeof msg) != 0)
        return fit_refused(all, msg, e);
    *have_res = 1;
    oc->poor = report_fit(o, r, all, res, d, out);
    char profile_path[4200] = "";
    profile_row row;
    memset(&row, 0, sizeof row);
    plan_status status = write_outputs(o, r, all, sets, res, d, oc->poor, n_req, &row,
                                       profile_path, sizeof profile_path, out, e);
    if (status != PLAN_OK)
        return status;
    oc->reported = 1;
    if (o->validate && !(oc->poor && !o->force)) {
        /* The profile just written, passed in memory as the file holds it. */
        profile_row fitted = row;
        fitted.c = as_written(&row.c);
        status = validate_replays(o, r, all, res, &fitted, profile_path, "profile", out, e);
    }
    return status;
}

/* The kernel model's coefficients fitted, reported, written and (--validate) replayed with
 * the kernel_coeffs.csv written. */
static plan_status calibrate_kernels(const calibration_options *o, const run_spec *r,
                                     const bench_set *all, const bench_set *sets,
                                     const deploy *d, size_t n_req, calib_result *res,
                                     int *have_res, calibration_outcome *oc, FILE *out,
                                     plan_error *e)
{
    char msg[2048];
    const kstep_coeffs *start = kstep_get_coeffs(d->kstep);
    if (calib_run_kernels(all, &d->step, start, 0, res, msg, sizeof msg) != 0)
        return fit_refused(all, msg, e);
    *have_res = 1;
    oc->poor = report_kernel_fit(o, r, all, res, d, start, out);
    char path[4200] = "";
    plan_status status = write_kernel_outputs(o, r, all, sets, res, d, oc->poor, n_req, path,
                                              sizeof path, out, e);
    if (status != PLAN_OK)
        return status;
    oc->reported = 1;
    if (o->validate && !(oc->poor && !o->force)) {
        run_spec *c = malloc(sizeof *c);
        if (c == NULL)
            return plan_fail(e, PLAN_FAILED, NULL, "out of memory");
        *c = *r;
        if (run_set_value(c, OPT_kernel_coeffs, path, msg, sizeof msg) != 0)
            status = plan_fail(e, PLAN_FAILED, NULL, "%s", msg);
        else
            status = validate_replays(o, c, all, res, r->profile_values, r->value[OPT_profile],
                                      "kernel coefficients", out, e);
        free(c);
    }
    return status;
}

plan_status calibration_run(const calibration_options *o, run_spec *r, FILE *out, FILE *err,
                            calibration_outcome *oc, plan_error *e)
{
    memset(oc, 0, sizeof *oc);
    bench_set sets[CALIBRATION_MAX_FILES];
    int n_sets = 0;
    bench_set all;
    memset(&all, 0, sizeof all);
    resolved x;
    int have_res = 0;
    calib_result res;
    plan_status status = calibration_inputs(o, r, &x, sets, &n_sets, &all, err, e);
    if (status != PLAN_OK)
        goto done;
    size_t n_req = 0, n_failed = 0;
    for (size_t k = 0; k < all.n_runs; k++) {
        n_req += all.runs[k].n;
        n_failed += all.runs[k].n_failed;
    }
    const deploy *d = &x.dep;
    fprintf(out, "capsim calibrate: %zu run%s, %zu requests (%zu failed, left out) from %d file%s "
                 "(%s)\n",
            all.n_runs, all.n_runs == 1 ? "" : "s", n_req, n_failed, o->n_data,
            o->n_data == 1 ? "" : "s", bench_format_name(sets[0].format));
    if (d->kstep != NULL)
        fprintf(out, "  deployment: %s on %d x %s, %s weights, %s KV; steps priced by %s; fitting "
                     "the coefficients on top of the kernels\n",
                d->model.name, d->tp, d->gpu.name, precision_name(d->weights),
                precision_name(d->kv), d->step_data);
    else
        fprintf(out, "  deployment: %s on %d x %s, %s weights, %s KV; starting from the %s "
                     "profile\n",
                d->model.name, d->tp, d->gpu.name, precision_name(d->weights),
                precision_name(d->kv), r->value[OPT_profile]);
    fflush(out);
    status = d->kstep != NULL ? calibrate_kernels(o, r, &all, sets, d, n_req, &res, &have_res,
                                                  oc, out, e)
                              : calibrate_roofline(o, r, &all, sets, d, n_req, &res, &have_res,
                                                   oc, out, e);
done:
    if (have_res)
        calib_result_free(&res);
    run_resolved_fini(&x);
    free(all.runs);
    for (int i = 0; i < n_sets; i++)
        bench_set_free(&sets[i]);
    return status;
}
