/*
 * cli: usage errors and option parsing shared by the subcommands (see cli.h).
 */
#include "sim/cli/cli.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "sim/base/util.h"

int cli_usage_error(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "capsim %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see capsim %s --help)\n", cmd);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_parse_count(const char *opt, const char *val, uint64_t min, uint64_t max, uint64_t *out,
                    char *err, size_t errlen)
{
    uint64_t v;
    if (util_parse_u64(val, &v) != 0 || v < min || v > max) {
        util_errf(err, errlen, "%s '%s': expected a whole number from %llu to %llu", opt, val,
                  (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_real(const char *opt, const char *val, double min, double max, int max_open,
                   double *out, char *err, size_t errlen)
{
    double v;
    if (util_parse_double(val, &v) != 0 || v < min || v > max || (max_open && v == max)) {
        if (isinf(max))
            util_errf(err, errlen, "%s '%s': expected a number >= %g", opt, val, min);
        else
            util_errf(err, errlen, "%s '%s': expected a number in [%g, %g%s", opt, val, min, max,
                      max_open ? ")" : "]");
        return -1;
    }
    *out = v;
    return 0;
}

int cli_parse_on_off(const char *opt, const char *val, int *out, char *err, size_t errlen)
{
    if (strcmp(val, "on") == 0 || strcmp(val, "true") == 0 || strcmp(val, "1") == 0) {
        *out = 1;
        return 0;
    }
    if (strcmp(val, "off") == 0 || strcmp(val, "false") == 0 || strcmp(val, "0") == 0) {
        *out = 0;
        return 0;
    }
    util_errf(err, errlen, "%s '%s': expected on or off", opt, val);
    return -1;
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
