/*
 * cmd_workload: `capsim workload describe|generate`, looking at a workload before
 * simulating it, and turning a synthetic one into a trace file.
 *
 * A workload is given as a trace file (any format trace_open() reads), a workload file
 * (INI with arrival, prompt_len, output_len, requests, seed), or an arrival spec with
 * length options. Every source is read as a stream, so describing a trace takes constant
 * memory whatever its length.
 */
#define _POSIX_C_SOURCE 200809L
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "sim/base/spool.h"
#include "sim/cli/cli.h"
#include "sim/base/rng.h"
#include "sim/plan/runspec.h"
#include "sim/plan/scenario.h"
#include "sim/base/util.h"
#include "workloads/prefix.h"
#include "workloads/traces.h"
#include "workloads/wstats.h"

static const char *CMD = "workload";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim workload describe FILE|SPEC [OPTIONS]\n"
            "       capsim workload generate SPEC|FILE.ini --out FILE [OPTIONS]\n"
            "\n"
            "describe prints a workload's requests, duration, mean rate, peak rate over a\n"
            "window, inter-arrival cv, and prompt and output length percentiles (tokens).\n"
            "generate writes a synthetic workload as a capsim CSV trace\n"
            "(arrival_s,prompt_tokens,output_tokens); the same seed gives the same bytes, and\n"
            "the same requests as replication 0 of capsim run with that seed.\n"
            "\n");
    char titles[512], text[1024], names[256];
    snprintf(text, sizeof text,
             "FILE is a trace (%s; detected from the content) or a workload file (.ini with "
             "arrival, prompt_len, output_len, requests, seed). SPEC is an arrival process "
             "such as poisson:rate=5. A trace may come through a pipe or a FIFO, e.g. a "
             "compressed one as <(zcat trace.csv.gz).",
             trace_format_list(titles, sizeof titles, 0, ", ", TRACE_LIST_TITLES));
    cli_print_wrapped(out, 0, CLI_HELP_COLUMNS, text);
    fprintf(out,
            "\n"
            "options:\n"
            "  --prompt-len SPEC     prompt tokens (default lognormal:mean=1000,cv=1)\n"
            "  --output-len SPEC     output tokens (default lognormal:mean=200,cv=1)\n"
            "  --lengths-from FILE   take lengths from a trace's requests instead\n"
            "  --lengths-joint on|off  on: whole (prompt, output) pairs (default); off: each\n"
            "                        length drawn independently (the marginals)\n"
            "  --prefix groups=G,users=U,system=S,question=Q\n"
            "                        shared system prompts: G groups of U users; a request\n"
            "                        comes from a user drawn at random, its prompt is its\n"
            "                        group's S tokens then Q tokens of its own (S, Q: tokens,\n"
            "                        a number or a distribution; drawn once per group for S)\n"
            "  --session turns=T,message=M[,chats=C]\n"
            "                        multi-turn chats: sessions of T turns; each turn's prompt\n"
            "                        is the last turn's prompt and answer then M new tokens;\n"
            "                        arrivals go to C conversations in turn (default 1)\n"
            "  --block-size B        tokens per KV block of the perfect cache (default 16)\n"
            "  --requests N          synthetic requests (default 2000)\n"
            "  --seed S              master seed (default 1)\n"
            "  --window S            width of the peak-rate window, seconds (default 60)\n"
            "  --format F            trace format: %s\n"
            "  --skip-bad-rows       skip malformed rows, report how many and the first few\n"
            "  --strict              refuse timestamps out of order (default: reorder)\n"
            "  --start S, --end S    keep requests in [S, E) seconds from the first\n"
            "  --speedup X           divide times by X (2 doubles the rate)\n"
            "  --max-requests N      read at most N requests of a trace\n"
            "  --model M             BurstGPT: keep rows of this Model\n"
            "  --log-type T          BurstGPT: keep rows of this Log Type\n"
            "  --out FILE            generate: the trace to write\n"
            "  -h, --help            show this help\n",
            trace_format_list(names, sizeof names, 1, ", ", TRACE_LIST_NAMES));
}

typedef struct wl_opts {
    const char *what;
    char arrival[256], prompt[256], output[256];
    uint64_t requests, seed;
    double window_s;
    trace_options topt;
    const char *out;
    const char *lengths_from;
    int lengths_joint;
    char prefix[256], session[256];
    uint64_t block_size;
    int given_prompt, given_output, given_requests, given_seed; /* on the command line */
    int given_prefix, given_session;
    int is_file, is_ini;
    /* A trace or --lengths-from given as a pipe or a FIFO is read through a copy made once
     * (sim/base/spool.h); empty: the file itself. */
    char what_file[SPOOL_PATH_MAX], lengths_file[SPOOL_PATH_MAX];
    unsigned char ini_seen[OPT_COUNT]; /* keys of the workload file read so far */
} wl_opts;

/* A key of a workload or scenario file as capsim run reads it: a known section, a known
 * key, given once. Returns the key's option, or -1 with a message. */
static int ini_key_check(wl_opts *o, const char *section, const char *name, char *err,
                         size_t errlen)
{
    if (section[0] && strcmp(section, "run") != 0 && strcmp(section, "workload") != 0) {
        util_errf(err, errlen, "unknown section [%s] (expected [run] or [workload])", section);
        return -1;
    }
    for (int k = 0; k < OPT_COUNT; k++) {
        if (strcmp(name, run_opt_key[k]) != 0)
            continue;
        if (o->ini_seen[k]) {
            util_errf(err, errlen, "key '%s' given twice (give it once)", name);
            return -1;
        }
        o->ini_seen[k] = 1;
        return k;
    }
    util_errf(err, errlen, "unknown key '%s' (see capsim run --help for the keys)", name);
    return -1;
}

static int on_ini_key(void *user, const char *section, const char *name, const char *value,
                      char *err, size_t errlen)
{
    wl_opts *o = user;
    /* Classes change how requests are drawn; describing them is capsim run's job. */
    if (strncmp(section, "class.", 6) == 0 || (strcmp(name, "classes") == 0 && value[0])) {
        util_errf(err, errlen,
                  "request classes ([class.*], classes = ...) are not described "
                  "here; capsim run reports each class");
        return -1;
    }
    int k = ini_key_check(o, section, name, err, errlen);
    if (k < 0)
        return -1;
    /* A file that replays a trace or takes its lengths from one is not the synthetic
     * workload described here: say so rather than describe the defaults. */
    if (k == OPT_trace && value[0]) {
        util_errf(err, errlen, "key trace: this file replays the trace %s; describe that trace",
                  value);
        return -1;
    }
    if (k == OPT_lengths_from && value[0] && !o->lengths_from) {
        util_errf(err, errlen,
                  "key lengths_from: this file's lengths come from %s; give --lengths-from %s "
                  "on the command line",
                  value, value);
        return -1;
    }
    /* Options given on the command line win over the file. */
    if (strcmp(name, "arrival") == 0)
        snprintf(o->arrival, sizeof o->arrival, "%s", value);
    else if (strcmp(name, "prompt_len") == 0 && !o->given_prompt)
        snprintf(o->prompt, sizeof o->prompt, "%s", value);
    else if (strcmp(name, "output_len") == 0 && !o->given_output)
        snprintf(o->output, sizeof o->output, "%s", value);
    else if (strcmp(name, "prefix") == 0 && !o->given_prefix)
        snprintf(o->prefix, sizeof o->prefix, "%s", value);
    else if (strcmp(name, "session") == 0 && !o->given_session)
        snprintf(o->session, sizeof o->session, "%s", value);
    else if (strcmp(name, "requests") == 0 && !o->given_requests)
        return cli_parse_count("key requests", value, 1, UINT64_MAX / 4, &o->requests, err, errlen);
    else if (strcmp(name, "seed") == 0 && !o->given_seed)
        return cli_parse_count("key seed", value, 0, UINT64_MAX, &o->seed, err, errlen);
    else if (strcmp(name, "users") == 0 && strcmp(value, "0") != 0) {
        util_errf(err, errlen,
                  "key users: a closed-loop workload's arrivals depend on the "
                  "service; simulate it with capsim run");
        return -1;
    }
    /* Other keys (a whole scenario file) are not about the workload; ignore them. */
    return 0;
}

/* Opens the workload as a request source; *synthetic owns what a synthetic one needs. */
typedef struct synthetic {
    arrival_process arr;
    dist prompt, output;
    reqsrc_pairs pairs;
    prefix_workload prefix;
    int have_arr, have_prompt, have_output, have_pairs;
} synthetic;

static void synthetic_fini(synthetic *y)
{
    if (y->have_arr)
        arrival_fini(&y->arr);
    if (y->have_prompt)
        dist_fini(&y->prompt);
    if (y->have_output)
        dist_fini(&y->output);
    if (y->have_pairs)
        reqsrc_pairs_free(&y->pairs);
    prefix_fini(&y->prefix);
}

/* On failure, whatever was built in y is released again: the caller has nothing to undo. */
static reqsrc *open_workload(wl_opts *o, synthetic *y, char *err, size_t errlen)
{
    memset(y, 0, sizeof *y);
    if (o->is_file && !o->is_ini && (o->prefix[0] || o->session[0])) {
        util_errf(err, errlen, "--%s makes a synthetic workload; '%s' is a trace",
                  o->prefix[0] ? "prefix" : "session", o->what);
        return NULL;
    }
    if (o->is_file && !o->is_ini)
        return trace_open(o->what_file[0] ? o->what_file : o->what, &o->topt, err, errlen);
    if (o->is_ini && scenario_load(o->what, on_ini_key, o, err, errlen) != 0)
        return NULL;
    char why[1024];
    if (arrival_parse(o->arrival, &y->arr, why, sizeof why) != 0) {
        util_errf(err, errlen, "arrival %s", why);
        goto fail;
    }
    y->have_arr = 1;
    if (dist_parse(o->prompt, &y->prompt, why, sizeof why) != 0) {
        util_errf(err, errlen, "--prompt-len %s", why);
        goto fail;
    }
    y->have_prompt = 1;
    if (dist_parse(o->output, &y->output, why, sizeof why) != 0) {
        util_errf(err, errlen, "--output-len %s", why);
        goto fail;
    }
    y->have_output = 1;
    if (o->lengths_from) {
        const char *from = o->lengths_file[0] ? o->lengths_file : o->lengths_from;
        if (reqsrc_pairs_load(from, o->lengths_joint, &y->pairs, why, sizeof why) != 0) {
            spool_rename(why, sizeof why, from, o->lengths_from);
            util_errf(err, errlen, "--lengths-from %s", why);
            goto fail;
        }
        y->have_pairs = 1;
    }
    /* The streams of replication 0 of capsim run (sources 0 and 1 of the master seed). */
    unsigned long seeds[2];
    if (sim_seeds_derive(o->seed, 1, 2, seeds) != 0) {
        util_errf(err, errlen, "out of memory");
        goto fail;
    }
    reqsrc *src =
        reqsrc_synthetic(&y->arr, &y->prompt, &y->output, o->requests, seeds[0], seeds[1]);
    if (src == NULL) {
        util_errf(err, errlen, "out of memory");
        goto fail;
    }
    if (y->have_pairs)
        reqsrc_synthetic_use_pairs(src, &y->pairs);
    if (prefix_parse(o->prefix, o->session, o->seed, &y->prefix, err, errlen) != 0) {
        reqsrc_close(src);
        goto fail;
    }
    if (reqsrc_synthetic_use_prefix(src, &y->prefix) != 0) {
        reqsrc_close(src);
        util_errf(err, errlen, "out of memory");
        goto fail;
    }
    return src;
fail:
    synthetic_fini(y);
    return NULL;
}

static void print_lengths(const char *name, const wstats_len *l)
{
    printf("  %-15s %10.2f %8.1f %8.1f %8.1f %8u %8u %14llu\n", name,
           l->n ? (double)l->sum / (double)l->n : NAN, wstats_len_quantile(l, 0.5),
           wstats_len_quantile(l, 0.9), wstats_len_quantile(l, 0.99), l->n ? l->min : 0, l->max,
           (unsigned long long)l->sum);
}

/* The perfect cache's figures, printed only for workloads that share prefixes (so other
 * workloads describe as before). */
static void print_cache(const wstats *w)
{
    printf("\n  %-30s %14llu of %llu, in %zu streams\n", "requests sharing a prefix",
           (unsigned long long)w->shared_requests, (unsigned long long)w->n, w->streams);
    if (w->cache_oom) {
        printf("  perfect-cache share: unknown (out of memory)\n");
        return;
    }
    printf("  %-30s %14llu of %llu\n", "prompt tokens a perfect cache serves",
           (unsigned long long)w->cached_tokens, (unsigned long long)w->prompt.sum);
    printf("  %-30s %14.4f%%\n", "perfect-cache share", 100 * wstats_cached_share(w));
    printf("  (an unbounded cache of full %u-token blocks: a request of stream p sharing s\n"
           "   tokens is served min(floor(min(s, L_p)/B), floor((prompt-1)/B)) x B tokens, L_p\n"
           "   the most an earlier request of p shared; share = served / prompt tokens)\n",
           w->block_tokens);
}

static int describe(wl_opts *o)
{
    char err[1024];
    /* A directory, FIFO or device at --out is refused before any work. */
    if (util_check_writable_path(o->out, err, sizeof err) != 0)
        return cli_usage_error(CMD, "--out: %s", err);
    synthetic y;
    reqsrc *src = open_workload(o, &y, err, sizeof err);
    if (src == NULL)
        return cli_usage_error(CMD, "%s", err);
    wstats w;
    if (wstats_init(&w, o->window_s) != 0) {
        reqsrc_close(src);
        synthetic_fini(&y);
        fprintf(stderr, "capsim workload: out of memory\n");
        return CLI_EXIT_FAIL;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    wstats_set_block(&w, (uint32_t)o->block_size);
    request rq;
    int rc;
    while ((rc = reqsrc_next(src, &rq, err, sizeof err)) == 1)
        wstats_add(&w, &rq);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int status = CLI_EXIT_OK;
    if (rc < 0) {
        status = cli_usage_error(CMD, "%s", err);
    } else {
        double secs = (double)(t1.tv_sec - t0.tv_sec) + 1e-9 * (double)(t1.tv_nsec - t0.tv_nsec);
        printf("capsim workload describe: %s\n", o->what);
        if (o->is_file && !o->is_ini) {
            const trace_stats *ts = trace_get_stats(src);
            printf("  format %s; %llu rows read, %llu kept, %llu malformed%s, %llu reordered\n",
                   trace_format_name(ts->format), (unsigned long long)ts->rows_read,
                   (unsigned long long)ts->rows_kept, (unsigned long long)ts->rows_bad,
                   ts->rows_bad ? " (skipped)" : "", (unsigned long long)ts->rows_reordered);
            for (int i = 0; i < 3 && (uint64_t)i < ts->rows_bad; i++)
                if (ts->first_bad[i][0])
                    printf("    skipped: %s\n", ts->first_bad[i]);
        } else {
            /* Shared prefixes make the prompts; --prompt-len is then not used. */
            const char *prompt = o->prefix[0]    ? "from --prefix"
                                 : o->session[0] ? "from --session"
                                                 : o->prompt;
            if (o->lengths_from) /* it replaces both distributions */
                printf("  synthetic: arrival %s, prompt and output from %s (%s), seed %llu\n",
                       o->arrival, o->lengths_from,
                       o->lengths_joint ? "joint pairs" : "independently",
                       (unsigned long long)o->seed);
            else
                printf("  synthetic: arrival %s, prompt %s, output %s, seed %llu\n", o->arrival,
                       prompt, o->output, (unsigned long long)o->seed);
            if (o->prefix[0] || o->session[0])
                printf("  shared: %s %s\n", o->prefix[0] ? "--prefix" : "--session",
                       o->prefix[0] ? o->prefix : o->session);
        }
        printf("  %-30s %14llu\n", "requests", (unsigned long long)w.n);
        printf("  %-30s %14.3f s\n", "duration (first to last)", w.n ? w.last_s - w.first_s : 0.0);
        printf("  %-30s %14.4g req/s\n", "mean rate", wstats_mean_rate(&w));
        printf("  %-30s %14.4g req/s  (most in one %g s window)\n", "peak rate",
               wstats_peak_rate(&w), w.window_s);
        printf("  %-30s %14.4g\n", "inter-arrival cv", wstats_gap_cv(&w));
        printf("\n  %-15s %10s %8s %8s %8s %8s %8s %14s\n", "tokens", "mean", "p50", "p90", "p99",
               "min", "max", "total");
        print_lengths("prompt", &w.prompt);
        print_lengths("output", &w.output);
        printf("  (percentiles interpolate between order statistics, as numpy does)\n");
        if (w.shared_requests > 0)
            print_cache(&w);
        printf("  read in %.3f s: %.3g requests/s\n", secs, secs > 0 ? (double)w.n / secs : 0.0);
    }
    wstats_fini(&w);
    reqsrc_close(src);
    synthetic_fini(&y);
    return status;
}

static int generate(wl_opts *o)
{
    if (o->out == NULL)
        return cli_usage_error(CMD, "generate needs --out FILE");
    if (o->is_file && !o->is_ini)
        return cli_usage_error(CMD,
                               "generate takes an arrival spec or a workload .ini, not a "
                               "trace ('%s')",
                               o->what);
    char err[1024];
    /* A directory, FIFO or device at --out is refused before any work. */
    if (util_check_writable_path(o->out, err, sizeof err) != 0)
        return cli_usage_error(CMD, "--out: %s", err);
    synthetic y;
    reqsrc *src = open_workload(o, &y, err, sizeof err);
    if (src == NULL)
        return cli_usage_error(CMD, "%s", err);
    util_atomic_file f;
    int status = CLI_EXIT_OK;
    if (util_atomic_open(&f, o->out, err, sizeof err) != 0) {
        fprintf(stderr, "capsim workload: %s\n", err);
        status = CLI_EXIT_FAIL;
    } else {
        int shares = prefix_on(&y.prefix);
        fprintf(f.fp, "arrival_s,prompt_tokens,output_tokens%s\n",
                shares ? ",prefix_id,shared_tokens" : "");
        request rq;
        int rc;
        while ((rc = reqsrc_next(src, &rq, err, sizeof err)) == 1) {
            /* Shortest text that reads back to the same double: replaying the trace gives
             * exactly the synthetic run's requests. */
            char t[32];
            fprintf(f.fp, "%s,%u,%u", util_fmt_exact(t, sizeof t, rq.arrival_s), rq.prompt_tokens,
                    rq.output_tokens);
            if (shares)
                fprintf(f.fp, ",%llu,%u", (unsigned long long)rq.prefix_id, rq.shared_tokens);
            fputc('\n', f.fp);
        }
        if (rc < 0 || util_atomic_commit(&f, err, sizeof err) != 0) {
            util_atomic_abort(&f);
            fprintf(stderr, "capsim workload: %s\n", err);
            status = CLI_EXIT_FAIL;
        } else {
            printf("wrote %llu requests to %s\n", (unsigned long long)o->requests, o->out);
        }
    }
    reqsrc_close(src);
    synthetic_fini(&y);
    return status;
}

static void wl_defaults(wl_opts *o)
{
    memset(o, 0, sizeof *o);
    snprintf(o->prompt, sizeof o->prompt, "lognormal:mean=1000,cv=1");
    snprintf(o->output, sizeof o->output, "lognormal:mean=200,cv=1");
    o->requests = 2000;
    o->seed = 1;
    o->window_s = 60;
    o->topt.format = TRACE_AUTO;
    o->topt.speedup = 1;
    o->lengths_joint = 1;
    o->block_size = 16;
}

/* What the command works on: a trace file, a scenario file or an arrival spec. Returns 0,
 * or -1 after a usage error. */
static int wl_target(wl_opts *o, const char *what)
{
    o->what = what;
    struct stat st;
    o->is_file = stat(o->what, &st) == 0;
    size_t len = strlen(o->what);
    o->is_ini = o->is_file && len > 4 && strcmp(o->what + len - 4, ".ini") == 0;
    if (!o->is_file) {
        if (strchr(o->what, ':') == NULL) {
            cli_usage_error(CMD,
                            "'%s': no such file, and not an arrival spec (expected e.g. "
                            "poisson:rate=5)",
                            o->what);
            return -1;
        }
        snprintf(o->arrival, sizeof o->arrival, "%s", o->what);
    }
    /* A trace through a pipe is read several times (sniffed, then read): copy it once. */
    char err[1024];
    int rc = o->is_file && !o->is_ini
                 ? spool_input(o->what, o->what_file, sizeof o->what_file, err, sizeof err)
                 : 0;
    if (rc > 0)
        o->topt.name = o->what;
    if (rc >= 0 && o->lengths_from)
        rc = spool_input(o->lengths_from, o->lengths_file, sizeof o->lengths_file, err, sizeof err);
    if (rc < 0) {
        cli_usage_error(CMD, "%s", err);
        return -1;
    }
    return 0;
}

/* One option of the command line into o. Returns 0, -1 with a message in err, or 1 when
 * ch is not an option of this command. */
static int wl_option(wl_opts *o, int ch, char *err, size_t errlen)
{
    int bad = 0;
    switch (ch) {
    case 'p':
        snprintf(o->prompt, sizeof o->prompt, "%s", optarg);
        o->given_prompt = 1;
        break;
    case 'o':
        snprintf(o->output, sizeof o->output, "%s", optarg);
        o->given_output = 1;
        break;
    case 'n':
        bad = cli_parse_count("--requests", optarg, 1, UINT64_MAX / 4, &o->requests, err, errlen);
        o->given_requests = 1;
        break;
    case 's':
        bad = cli_parse_count("--seed", optarg, 0, UINT64_MAX, &o->seed, err, errlen);
        o->given_seed = 1;
        break;
    case 'w':
        bad = cli_parse_real("--window", optarg, 1e-6, INFINITY, 0, &o->window_s, err, errlen);
        break;
    case 'f':
        if (trace_format_parse(optarg, &o->topt.format) != 0) {
            char formats[256];
            trace_format_list(formats, sizeof formats, 1, " or ", TRACE_LIST_NAMES);
            util_errf(err, errlen, "--format '%s': expected %s", optarg, formats);
            bad = 1;
        }
        break;
    case 'k':
        o->topt.skip_bad_rows = 1;
        break;
    case 'S':
        o->topt.strict = 1;
        break;
    case 'a':
        bad =
            cli_parse_real("--start", optarg, 0, INFINITY, 0, &o->topt.window_start_s, err, errlen);
        break;
    case 'e':
        bad = cli_parse_real("--end", optarg, 0, INFINITY, 0, &o->topt.window_end_s, err, errlen);
        break;
    case 'x':
        bad = cli_parse_real("--speedup", optarg, 1e-9, INFINITY, 0, &o->topt.speedup, err, errlen);
        break;
    case 'm':
        bad = cli_parse_count("--max-requests", optarg, 1, UINT64_MAX / 4, &o->topt.max_requests,
                              err, errlen);
        break;
    case 'M':
        o->topt.burstgpt_model = optarg;
        break;
    case 'L':
        o->topt.burstgpt_log_type = optarg;
        break;
    case 'O':
        o->out = optarg;
        break;
    case 'F':
        o->lengths_from = optarg;
        break;
    case 'J':
        bad = cli_parse_on_off("--lengths-joint", optarg, &o->lengths_joint, err, errlen);
        break;
    case 'P':
        snprintf(o->prefix, sizeof o->prefix, "%s", optarg);
        o->given_prefix = 1;
        break;
    case 'T':
        snprintf(o->session, sizeof o->session, "%s", optarg);
        o->given_session = 1;
        break;
    case 'B':
        bad = cli_parse_count("--block-size", optarg, 1, 4096, &o->block_size, err, errlen);
        break;
    default:
        return 1;
    }
    return bad ? -1 : 0;
}

/* Warns of options the workload makes meaningless: lengths beside a trace, which brings its
 * own; trace reading options beside a synthetic workload; lengths beside --lengths-from. */
static void wl_warn_ignored(const wl_opts *o)
{
    int trace = o->is_file && !o->is_ini;
    const trace_options *t = &o->topt;
    const char *const why_trace = "the trace brings its own lengths";
    const char *const why_lengths = "--lengths-from supplies the lengths";
    struct {
        int on;
        const char *name, *why;
    } rules[] = {
        {trace && o->given_prompt, "--prompt-len", why_trace},
        {trace && o->given_output, "--output-len", why_trace},
        {trace && o->lengths_from, "--lengths-from", why_trace},
        {!trace && o->lengths_from && o->given_prompt, "--prompt-len", why_lengths},
        {!trace && o->lengths_from && o->given_output, "--output-len", why_lengths},
        {!trace && (t->format != TRACE_AUTO || t->skip_bad_rows || t->strict ||
                    t->window_start_s > 0 || t->window_end_s > 0 || t->speedup != 1 ||
                    t->max_requests || t->burstgpt_model || t->burstgpt_log_type),
         "--format, --start, --end, --speedup, --max-requests, --model, --log-type, "
         "--skip-bad-rows and --strict",
         "they read a trace, and this workload is synthetic"},
    };
    for (size_t i = 0; i < sizeof rules / sizeof rules[0]; i++)
        if (rules[i].on)
            fprintf(stderr, "capsim workload: warning: %s ignored: %s\n", rules[i].name,
                    rules[i].why);
}

int cmd_workload(int argc, char **argv)
{
    if (argc >= 2 && (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0)) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    if (argc < 2 || (strcmp(argv[1], "describe") && strcmp(argv[1], "generate")))
        return cli_usage_error(CMD, "expected 'describe' or 'generate'");
    int gen = strcmp(argv[1], "generate") == 0;
    static const struct option longopts[] = {
        {"prompt-len", required_argument, NULL, 'p'},
        {"output-len", required_argument, NULL, 'o'},
        {"requests", required_argument, NULL, 'n'},
        {"seed", required_argument, NULL, 's'},
        {"window", required_argument, NULL, 'w'},
        {"format", required_argument, NULL, 'f'},
        {"skip-bad-rows", no_argument, NULL, 'k'},
        {"strict", no_argument, NULL, 'S'},
        {"start", required_argument, NULL, 'a'},
        {"end", required_argument, NULL, 'e'},
        {"speedup", required_argument, NULL, 'x'},
        {"max-requests", required_argument, NULL, 'm'},
        {"model", required_argument, NULL, 'M'},
        {"log-type", required_argument, NULL, 'L'},
        {"out", required_argument, NULL, 'O'},
        {"lengths-from", required_argument, NULL, 'F'},
        {"lengths-joint", required_argument, NULL, 'J'},
        {"prefix", required_argument, NULL, 'P'},
        {"session", required_argument, NULL, 'T'},
        {"block-size", required_argument, NULL, 'B'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    wl_opts o;
    wl_defaults(&o);
    char err[512];
    cli_warn_repeats(CMD, argc, argv, 2, longopts, NULL);
    opterr = 0;
    optind = 2;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (ch == 'h') {
            usage(stdout);
            return CLI_EXIT_OK;
        }
        int rc = wl_option(&o, ch, err, sizeof err);
        if (rc > 0)
            return cli_bad_option(CMD, ch, argv[optind - 1]);
        if (rc < 0)
            return cli_usage_error(CMD, "%s", err);
    }
    if (optind != argc - 1)
        return cli_usage_error(CMD, "%s needs exactly one FILE or SPEC",
                               gen ? "generate" : "describe");
    if (wl_target(&o, argv[optind]) != 0)
        return CLI_EXIT_USAGE;
    wl_warn_ignored(&o);
    return gen ? generate(&o) : describe(&o);
}
