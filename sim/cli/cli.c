/*
 * cli: usage errors and option parsing shared by the subcommands (see cli.h).
 */
#include "sim/cli/cli.h"

#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/outdir.h"
#include "sim/base/util.h"
#include "sim/plan/optval.h"

static void usage_line(FILE *fp, const char *cmd, const char *fmt, va_list ap)
{
    fprintf(fp, "capsim %s: ", cmd);
    vfprintf(fp, fmt, ap);
    fprintf(fp, " (see capsim %s --help)\n", cmd);
}

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_line(stderr, cmd, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_usage_error_to(FILE *fp, const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    usage_line(fp, cmd, fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

/* The commands return plan_status values as their exit statuses. */
_Static_assert(PLAN_OK == CLI_EXIT_OK && PLAN_FAILED == CLI_EXIT_FAIL &&
                   PLAN_BAD_INPUT == CLI_EXIT_USAGE,
               "plan_status and the exit statuses must agree");

int cli_plan_status(FILE *err, const char *cmd, plan_status status, const plan_error *e)
{
    plan_error_print(err, cmd, status, e);
    return (int)status;
}

int cli_plots_wanted(void)
{
    const char *env = getenv("CAPSIM_PLOTS");
    return !(env && strcmp(env, "off") == 0);
}

/* Appends arg to the command line in buf[len] at *at, single-quoted when a shell would
 * split or expand it, with control characters shown as '?'. */
static void put_arg(char *buf, size_t len, size_t *at, const char *arg)
{
    int quote = *arg == '\0' || strpbrk(arg, " \t'\"\\$`!*?[]{}()<>|&;~#") != NULL;
    const char *parts[3] = {quote ? " '" : " ", arg, quote ? "'" : ""};
    for (int k = 0; k < 3; k++)
        for (const char *c = parts[k]; *c && *at + 5 < len; c++) {
            unsigned char ch = (unsigned char)*c;
            if (k == 1 && quote && ch == '\'') {
                memcpy(buf + *at, "'\\''", 4);
                *at += 4;
            } else {
                buf[(*at)++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
            }
        }
    buf[*at] = '\0';
}

int cli_out_open(struct outdir **od, const char *cmd, const char *dir, const char *words,
                 int argc, char **argv, const char *seed, const char *const *files)
{
    char line[8192];
    size_t at = (size_t)snprintf(line, sizeof line, "%s", words);
    for (int i = 0; i < argc; i++)
        put_arg(line, sizeof line, &at, argv[i]);
    char err[2048];
    int rc = outdir_open(od, dir, "", line, seed, files, err, sizeof err);
    if (rc == 0)
        return CLI_EXIT_OK;
    fprintf(stderr, "capsim %s: --out: %s\n", cmd, err);
    return rc == OUTDIR_BAD_PATH ? CLI_EXIT_USAGE : CLI_EXIT_FAIL;
}

int cli_out_finish(struct outdir *od, const char *cmd, const char *dir, int status, int plots)
{
    if (od == NULL)
        return status;
    char err[2048];
    int ok = status == CLI_EXIT_OK;
    /* Settled before the plots are drawn, so that they draw this run's files only; and
     * again after, to list the plots too. */
    int rc = outdir_settle(od, ok, stderr, cmd, err, sizeof err);
    if (rc == 0 && ok && plots && cli_plots_wanted()) {
        plan_draw_plots(cmd, dir, stdout, stderr);
        rc = outdir_settle(od, ok, stderr, cmd, err, sizeof err);
    }
    if (rc != 0) {
        fprintf(stderr, "capsim %s: %s\n", cmd, err);
        if (ok)
            status = CLI_EXIT_FAIL;
    }
    outdir_report_removed(od, stderr, cmd);
    outdir_close(od, ok);
    return status;
}

int cli_parse_count(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                    char *err, size_t errlen)
{
    return optval_count(opt, val, min, max, out, err, errlen);
}

int cli_parse_real(const char *opt, const char *val, double min, double max, int max_open,
                   double *out, char *err, size_t errlen)
{
    return optval_real(opt, val, min, max, max_open, out, err, errlen);
}

int cli_parse_on_off(const char *opt, const char *val, int *out, char *err, size_t errlen)
{
    return optval_on_off(opt, val, out, err, errlen);
}

int cli_bad_option(const char *cmd, int getopt_result, const char *arg)
{
    if (getopt_result == ':')
        return cli_usage_error(cmd, "option '%s' needs a value", arg);
    return cli_usage_error(cmd, "unknown option '%s'", arg);
}

void cli_print_wrapped(FILE *out, size_t indent, size_t width, const char *text)
{
    size_t col = indent;
    int first = 1;
    while (*text) {
        size_t n = strcspn(text, " ");
        if (!first && col + 1 + n > width) {
            fprintf(out, "\n%*s", (int)indent, "");
            col = indent;
            first = 1;
        }
        fprintf(out, "%s%.*s", first ? "" : " ", (int)n, text);
        col += n + !first;
        first = 0;
        text += n;
        text += strspn(text, " ");
    }
    fputc('\n', out);
}

static int is_repeatable(const char *name, const char *const *repeatable)
{
    for (size_t i = 0; repeatable && repeatable[i]; i++)
        if (strcmp(name, repeatable[i]) == 0)
            return 1;
    return 0;
}

void cli_warn_repeats(const char *cmd, int argc, char **argv, int first,
                      const struct option *longopts, const char *const *repeatable)
{
    enum { MAX_SEEN = 256 };
    struct seen_opt {
        int code;
        const char *val;
    } seen[MAX_SEEN];
    int n = 0, ch, at = 0;
    opterr = 0;
    optind = first;
    while ((ch = getopt_long(argc, argv, ":h", longopts, &at)) != -1) {
        if (ch == '?' || ch == ':' || ch == 'h' || is_repeatable(longopts[at].name, repeatable))
            continue;
        const char *val = optarg ? optarg : "";
        int i = 0;
        while (i < n && seen[i].code != ch)
            i++;
        if (i < n && strcmp(seen[i].val, val) != 0)
            fprintf(stderr, "capsim %s: warning: --%s given twice ('%s', then '%s'): the last "
                            "wins\n",
                    cmd, longopts[at].name, seen[i].val, val);
        if (i < n)
            seen[i].val = val;
        else if (n < MAX_SEEN)
            seen[n++] = (struct seen_opt){ch, val};
    }
    optind = first; /* ready for the command's own pass */
}
