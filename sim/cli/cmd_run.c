/*
 * cmd_run: `capsim run`, one serving scenario from flags and/or an INI file (flags win).
 *
 * Every setting is a long option; a scenario file sets the same ones as `key = value`
 * (with '_' for '-') in any section. The resolved scenario is written back as
 * DIR/scenario.ini so that `capsim run DIR/scenario.ini --out DIR2` reproduces the run
 * byte for byte. All output files are written under temporary names and renamed at the
 * end; a failed run leaves --out as it was.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim/cli/cli.h"
#include "sim/cli/cmd_run.h"
#include "sim/base/csvout.h"
#include "sim/plan/deploy.h"
#include "sim/base/histo.h"
#include "sim/plan/parmap.h"
#include "sim/base/rng.h"
#include "sim/cli/runflags.h"
#include "sim/plan/scenario.h"
#include "sim/serve/router.h"
#include "sim/serve/sched.h"
#include "sim/serve/serve.h"
#include "sim/base/spec.h"
#include "sim/base/util.h"


/* What `capsim sweep` adds to run's options. */
typedef struct sweep_opts {
    const char *axis[SWEEP_MAX_AXES]; /* "key=values" as given */
    int n_axes;
    const char *jobs, *shard;
} sweep_opts;

enum { SWEEP_OPT_AXIS = RUN_OPT_EXTRA, SWEEP_OPT_JOBS, SWEEP_OPT_SHARD };

static int on_sweep_opt(void *user, int code, const char *val, char *err, size_t errlen)
{
    sweep_opts *sw = user;
    if (code == SWEEP_OPT_AXIS) {
        if (sw->n_axes == SWEEP_MAX_AXES) {
            util_errf(err, errlen, "more than %d --sweep axes", SWEEP_MAX_AXES);
            return -1;
        }
        sw->axis[sw->n_axes++] = val;
    } else {
        *(code == SWEEP_OPT_JOBS ? &sw->jobs : &sw->shard) = val;
    }
    return 0;
}

static void sweep_usage(FILE *out);

static void usage(FILE *out)
{
    fprintf(out, "usage: capsim run [SCENARIO.ini] [OPTIONS] [--out DIR]\n"
                 "\n"
                 "Simulates serving a workload on a deployment: requests are routed to\n"
                 "replicas, batched by the scheduler, and stepped with the step-time model.\n"
                 "Prints vLLM's latency metrics (TTFT, TPOT, ITL, E2E), throughput, goodput,\n"
                 "utilisation and cost, each with a 95%% CI over replications. A scenario\n"
                 "file sets the same options as 'key = value' (with '_' for '-'); options on\n"
                 "the command line win.\n\noptions (default in brackets):\n");
    run_print_options(out);
    fprintf(out, "  --%-20s %s\n", "out DIR",
            "write summary.csv, timeseries.csv, seeds.csv, scenario.ini (and requests.csv)");
    fprintf(out, "\nexample: capsim run --model llama-3.1-8b --gpu h100-sxm --arrival "
                 "poisson:rate=20 --slo ttft_p99=0.5,tpot_p99=0.05 --out results/r1\n");
}

int cmd_run(int argc, char **argv)
{
    run_spec *r = calloc(1, sizeof *r);
    if (r == NULL)
        return CLI_EXIT_FAIL;
    int prc = run_parse_args("run", argc, argv, r, NULL, NULL, NULL, usage);
    int status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    if (prc == 0) {
        plan_run_options opt = {"run", cli_plots_wanted()};
        plan_error e;
        status = cli_plan_status(stderr, "run", plan_run(r, &opt, stdout, stderr, &e), &e);
    }
    free(r);
    return status;
}

/* --- capsim sweep and capsim merge ---------------------------------------------------- */

static void sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: capsim sweep [SCENARIO.ini] [RUN OPTIONS] --sweep KEY=VALUES [--sweep ...]\n"
            "                    [--jobs N] [--shard I/N] --out DIR\n"
            "       capsim merge --out DIR SHARD_DIR...\n"
            "\n"
            "Runs capsim run at every point of a grid and writes DIR/summary.csv, one row per\n"
            "point: its index, status (ok, or error with the reason, e.g. a model that does not\n"
            "fit), every setting and every figure. KEY is any run option (tp, gpu, precision,\n"
            "replicas, ...) or rate, which sets rate= in the arrival process. VALUES is a list\n"
            "a,b,c or a range first:last:step. The first --sweep varies slowest.\n"
            "\n"
            "Each point's seed is derived from the master seed and the point's index, so the\n"
            "rows do not depend on --jobs (processes run in parallel, default: the cores) or on\n"
            "sharding: --shard I/N runs points I-1, I-1+N, ... and capsim merge joins shard\n"
            "folders into the same summary.csv the whole sweep writes.\n"
            "\n"
            "example: capsim sweep --model llama-3.1-8b --gpu h100-sxm --requests 500 \\\n"
            "           --sweep rate=2:20:2 --sweep precision=bf16,fp8 --out results/sweep\n");
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
        if (g->total > 1000000) {
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

int sweep_command(const run_spec *base, const sweep_grid *g, uint64_t jobs, uint64_t shard_i,
                  uint64_t shard_n, int interactive, FILE *out_fp, FILE *err_fp)
{
    char err[2048];
    /* Check the base scenario once, so that a mistake common to every point is one message
     * (not fitting in memory excepted: a swept knob such as tp may fix it). */
    resolved x;
    int rc = run_resolve(base, &x, err, sizeof err);
    run_resolved_fini(&x);
    if (rc != 0 && strstr(err, "needs") == NULL)
        return cli_usage_error_to(err_fp, "sweep", "%s", err);
    uint64_t master;
    if (util_parse_u64(base->value[OPT_seed], &master) != 0)
        return cli_usage_error_to(err_fp, "sweep", "--seed '%s': expected a whole number",
                                  base->value[OPT_seed]);
    int status = CLI_EXIT_OK;
    uint64_t mine = (g->total - (shard_i - 1) + shard_n - 1) / shard_n;
    sweep_ctx ctx = {base, g->ax, g->n_axes, master};
    parmap_row *rows = NULL;
    size_t n = 0;
    if (parmap_run(shard_i - 1, shard_n, mine, jobs, sweep_point, &ctx, interactive, &rows, &n,
                   err, sizeof err) != 0) {
        fprintf(err_fp, "capsim sweep: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK && n != mine) {
        fprintf(err_fp, "capsim sweep: %zu of %llu points finished\n", n, (unsigned long long)mine);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK && write_sweep_summary(base->out_dir, rows, n, err, sizeof err) != 0) {
        fprintf(err_fp, "capsim sweep: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    size_t failed = 0;
    for (size_t i = 0; i < n; i++)
        failed += strstr(rows[i].text, ",error,") != NULL;
    parmap_rows_free(rows, n);
    if (status == CLI_EXIT_OK)
        fprintf(out_fp,
                "capsim sweep: %llu points (shard %llu/%llu of %llu), %zu could not run; wrote "
                "%s/summary.csv\n",
                (unsigned long long)mine, (unsigned long long)shard_i, (unsigned long long)shard_n,
                (unsigned long long)g->total, failed, base->out_dir);
    if (status == CLI_EXIT_OK && interactive)
        cli_draw_plots("sweep", base->out_dir);
    return status;
}

/* The sweep's own options after the grid: --jobs and --shard. */
static int sweep_jobs_shard(const sweep_opts *sw, uint64_t *jobs, uint64_t *shard_i,
                            uint64_t *shard_n)
{
    char err[1024];
    *jobs = parmap_cores();
    *shard_i = *shard_n = 1;
    if (sw->jobs && cli_parse_count("--jobs", sw->jobs, 1, 256, jobs, err, sizeof err) != 0)
        return cli_usage_error("sweep", "%s", err);
    if (sw->shard) {
        char tail;
        unsigned long long i = 0, n = 0;
        if (sscanf(sw->shard, "%llu/%llu%c", &i, &n, &tail) != 2 || n < 1 || i < 1 || i > n)
            return cli_usage_error("sweep", "--shard '%s': expected I/N with 1 <= I <= N",
                                   sw->shard);
        *shard_i = i;
        *shard_n = n;
    }
    return CLI_EXIT_OK;
}

int cmd_sweep(int argc, char **argv)
{
    static const struct option extra[] = {
        {"sweep", required_argument, NULL, SWEEP_OPT_AXIS},
        {"jobs", required_argument, NULL, SWEEP_OPT_JOBS},
        {"shard", required_argument, NULL, SWEEP_OPT_SHARD},
        {NULL, 0, NULL, 0},
    };
    run_spec *base = calloc(1, sizeof *base);
    sweep_grid *g = calloc(1, sizeof *g);
    sweep_opts sw;
    memset(&sw, 0, sizeof sw);
    char err[2048];
    uint64_t jobs, shard_i, shard_n;
    int status = CLI_EXIT_FAIL;
    if (base == NULL || g == NULL)
        goto done;
    int prc = run_parse_args("sweep", argc, argv, base, extra, on_sweep_opt, &sw, sweep_usage);
    if (prc != 0)
        status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    else if (sw.n_axes == 0)
        status = cli_usage_error("sweep", "no --sweep KEY=VALUES given");
    else if (base->out_dir == NULL)
        status = cli_usage_error("sweep", "--out DIR is required");
    else if (sweep_grid_parse(g, sw.axis, sw.n_axes, err, sizeof err) != 0)
        status = cli_usage_error("sweep", "%s", err);
    else if ((status = sweep_jobs_shard(&sw, &jobs, &shard_i, &shard_n)) == CLI_EXIT_OK)
        status = sweep_command(base, g, jobs, shard_i, shard_n, 1, stdout, stderr);
done:
    if (g)
        sweep_grid_fini(g);
    free(g);
    free(base);
    return status;
}

int cmd_merge(int argc, char **argv)
{
    const char *out = NULL;
    int first = 1;
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        sweep_usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc >= 3 && strcmp(argv[1], "--out") == 0) {
        out = argv[2];
        first = 3;
    }
    if (out == NULL || first >= argc)
        return cli_usage_error("merge", "expected --out DIR SHARD_DIR...");
    parmap_row *rows = NULL;
    size_t n = 0, cap = 0;
    char header[65536] = "", err[1024];
    int status = CLI_EXIT_OK;
    for (int i = first; i < argc && status == CLI_EXIT_OK; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/summary.csv", argv[i]);
        FILE *fp = fopen(path, "r");
        char h[65536];
        if (fp == NULL || fgets(h, sizeof h, fp) == NULL) {
            status = cli_usage_error("merge", "%s: cannot read a sweep summary", path);
        } else if (header[0] && strcmp(h, header) != 0) {
            status =
                cli_usage_error("merge", "%s: its header differs from the first shard's", path);
        } else {
            snprintf(header, sizeof header, "%s", h);
            if (parmap_read_rows(fp, &rows, &n, &cap) != 0)
                status = CLI_EXIT_FAIL;
        }
        if (fp)
            fclose(fp);
    }
    parmap_sort(rows, n);
    for (size_t i = 1; status == CLI_EXIT_OK && i < n; i++)
        if (rows[i].item == rows[i - 1].item)
            status = cli_usage_error("merge", "point %llu appears in two shards",
                                     (unsigned long long)rows[i].item);
    if (status == CLI_EXIT_OK && write_sweep_summary(out, rows, n, err, sizeof err) != 0) {
        fprintf(stderr, "capsim merge: %s\n", err);
        status = CLI_EXIT_FAIL;
    }
    if (status == CLI_EXIT_OK)
        printf("capsim merge: %zu points from %d shards into %s/summary.csv\n", n, argc - first,
               out);
    parmap_rows_free(rows, n);
    return status;
}
