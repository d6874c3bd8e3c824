/*
 * cmd_run: `capsim run`, one serving scenario from flags and/or an INI file (flags win).
 *
 * Every setting is a long option; a scenario file sets the same ones as `key = value`
 * (with '_' for '-') in any section. The resolved scenario is written back as
 * DIR/scenario.ini so that `capsim run DIR/scenario.ini --out DIR2` reproduces the run
 * byte for byte. All output files are written under temporary names and renamed at the
 * end; a failed run leaves --out as it was.
 *
 * Also `capsim sweep` and `capsim merge`. The work is sim/plan's (experiment.h, sweep.h):
 * here are the options, the help and the exit statuses.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/cli/cli.h"
#include "sim/cli/runflags.h"
#include "sim/plan/experiment.h"
#include "sim/plan/parmap.h"
#include "sim/plan/sweep.h"

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

/* The files run writes into --out DIR (checked before the work). */
static const char *const RUN_FILES[] = {"summary.csv",    "summary.json", "seeds.csv",
                                        "scenario.ini",   "timeseries.csv", "requests.csv",
                                        "per_replica.csv", NULL};
static const char *const SWEEP_FILES[] = {"summary.csv", "shard.ini", NULL};

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
            "write summary.csv, summary.json, timeseries.csv, seeds.csv, scenario.ini (and "
            "requests.csv with --per-request, per_replica.csv with 2 or more replicas)");
    fprintf(out, "\nexample: capsim run --model llama-3.1-8b --gpu h100-sxm --arrival "
                 "poisson:rate=20 --slo ttft_p99=500ms,tpot_p99=50ms --out results/r1\n");
}

int cmd_run(int argc, char **argv)
{
    run_spec *r = calloc(1, sizeof *r);
    if (r == NULL)
        return CLI_EXIT_FAIL;
    int prc = run_parse_args("run", argc, argv, r, NULL, NULL, NULL, usage);
    int status = prc >= 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    struct outdir *od = NULL;
    if (prc == 0 && r->out_dir)
        status = cli_out_open(&od, "run", r->out_dir, "capsim", argc, argv,
                              r->value[OPT_seed], RUN_FILES);
    if (prc == 0 && status == CLI_EXIT_OK) {
        /* The plots are drawn once the folder is settled (cli_out_finish). */
        plan_run_options opt = {"run", 0, 1};
        plan_error e;
        status = cli_plan_status(stderr, "run", plan_run(r, &opt, stdout, stderr, &e), &e);
        status = cli_out_finish(od, "run", r->out_dir, status, 1);
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
            "Every row has offered_rate (req/s, the arrival process's mean rate, or a trace's\n"
            "measured one; empty for a closed loop) and saturated: 1 when an open workload\n"
            "carried less than 0.95 of what it was offered (the upper end of the 95%% CI of\n"
            "carried / offered), so that its queue grows with the run and its latencies are\n"
            "not steady-state figures. Such a point still has status ok (it ran); the plots\n"
            "mark it with a cross.\n"
            "\n"
            "Each point's seed is derived from the master seed and the point's index, so the\n"
            "rows do not depend on --jobs (processes run in parallel, default: the cores) or on\n"
            "sharding: --shard I/N runs points I-1, I-1+N, ... and capsim merge joins shard\n"
            "folders into the same summary.csv the whole sweep writes. Beside it, shard.ini\n"
            "names the sweep (an id from every setting and the grid), the shard and its\n"
            "points, and the length and hash of summary.csv; merge refuses a missing,\n"
            "repeated, foreign, cut or edited shard, naming it (exit 2).\n"
            "\n"
            "A point whose worker process dies is a row with status failed and the reason;\n"
            "the other points are kept and the sweep exits 1, as it does when no point could\n"
            "run. An axis value no point can use (an unknown GPU, say) is refused before any\n"
            "work (exit 2). Interrupted (SIGINT, SIGTERM, SIGHUP), a sweep stops its\n"
            "workers, removes its temporary files and leaves --out as it was.\n"
            "\n"
            "example: capsim sweep --model llama-3.1-8b --gpu h100-sxm --requests 500 \\\n"
            "           --sweep rate=2:20:2 --sweep precision=bf16,fp8 --out results/sweep\n");
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

/* A grid that contradicts itself: two axes on one setting (rate and arrival are one) is an
 * error, an axis on an option also given as a flag a warning (the scenario without the
 * axis must resolve, so a sweep of gpu still needs a --gpu). Returns 0, or -1 with the
 * error in err. */
static int sweep_conflicts(const run_spec *base, const sweep_grid *g, char *err, size_t errlen)
{
    for (int i = 0; i < g->n_axes; i++) {
        const sweep_axis *a = &g->ax[i];
        run_opt key = a->is_rate ? OPT_arrival : a->key;
        for (int j = 0; j < i; j++) {
            if ((g->ax[j].is_rate ? OPT_arrival : g->ax[j].key) == key) {
                snprintf(err, errlen, "--sweep %s and --sweep %s vary the same setting; give one "
                                      "axis",
                         g->ax[j].name, a->name);
                return -1;
            }
        }
        if (!a->is_rate && base->flag[key]) {
            char name[64];
            run_flag_name(key, name, sizeof name);
            fprintf(stderr,
                    "capsim sweep: warning: --%s %s is replaced at every point by --sweep %s\n",
                    name, base->value[key], a->name);
        }
    }
    return 0;
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
    struct outdir *od = NULL;
    if (base == NULL || g == NULL)
        goto done;
    int prc = run_parse_args("sweep", argc, argv, base, extra, on_sweep_opt, &sw, sweep_usage);
    if (prc == 0)
        run_warn_no_series(base, "sweep");
    if (prc != 0)
        status = prc > 0 ? CLI_EXIT_OK : CLI_EXIT_USAGE;
    else if (sw.n_axes == 0)
        status = cli_usage_error("sweep", "no --sweep KEY=VALUES given");
    else if (base->out_dir == NULL)
        status = cli_usage_error("sweep", "--out DIR is required");
    else if (sweep_grid_parse(g, sw.axis, sw.n_axes, err, sizeof err) != 0 ||
             sweep_conflicts(base, g, err, sizeof err) != 0)
        status = cli_usage_error("sweep", "%s", err);
    else if ((status = sweep_jobs_shard(&sw, &jobs, &shard_i, &shard_n)) == CLI_EXIT_OK &&
             (status = cli_out_open(&od, "sweep", base->out_dir, "capsim", argc, argv,
                                    base->value[OPT_seed], SWEEP_FILES)) == CLI_EXIT_OK) {
        sweep_options opt = {jobs, shard_i, shard_n, 1, 0};
        plan_error e;
        status = cli_plan_status(stderr, "sweep", sweep_run(base, g, &opt, stdout, stderr, &e),
                                 &e);
        status = cli_out_finish(od, "sweep", base->out_dir, status, 1);
    }
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
    struct outdir *od = NULL;
    int status = cli_out_open(&od, "merge", out, "capsim", argc, argv, NULL, SWEEP_FILES);
    if (status != CLI_EXIT_OK)
        return status;
    plan_error e;
    plan_status st = sweep_merge(out, (const char *const *)argv + first, argc - first, stdout, &e);
    return cli_out_finish(od, "merge", out, cli_plan_status(stderr, "merge", st, &e), 0);
}
