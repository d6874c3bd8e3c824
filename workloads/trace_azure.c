/*
 * trace_azure: the Azure LLM inference traces of 2023 and 2024, a CSV
 * `TIMESTAMP,ContextTokens,GeneratedTokens`. TIMESTAMP is `YYYY-MM-DD HH:MM:SS[.f...]`
 * with 0 to 9 fractional digits and an optional zone (`Z`, `+05:30`, `-0800`); no zone
 * means UTC (see trace_parse_timestamp). Times are kept relative to the first row, so the
 * 100 ns digits of the 2024 trace survive in a double.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "workloads/trace_reader.h"

enum { AZ_T, AZ_P, AZ_O };

/* The time of the first row, the origin of the raw times. */
typedef struct azure_state {
    int have_origin;
    int64_t origin_s;
    uint32_t origin_ns;
} azure_state;

static int azure_detect(const csvin *in)
{
    return csvin_column(in, "TIMESTAMP") >= 0 && csvin_column(in, "ContextTokens") >= 0 &&
           csvin_column(in, "GeneratedTokens") >= 0;
}

static int azure_open(trace_reader *r, char *err, size_t errlen)
{
    static const char *const names[] = {"TIMESTAMP", "ContextTokens", "GeneratedTokens"};
    static const int required[] = {1, 1, 1};
    r->state = calloc(1, sizeof(azure_state));
    if (r->state == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    return trace_csv_columns(r, names, required, 3, err, errlen);
}

/* Reads the TIMESTAMP of the current record into whole seconds and nanoseconds. */
static int azure_time(trace_reader *r, int64_t *s, uint32_t *ns, char *err, size_t errlen)
{
    /* Spaces around the value (a quoted field keeps them) are not part of the time. */
    const char *f = csvin_field(r->csv, (size_t)r->col[AZ_T]);
    char ts[64];
    f += strspn(f, " \t");
    size_t n = strlen(f);
    while (n > 0 && (f[n - 1] == ' ' || f[n - 1] == '\t'))
        n--;
    int bad = 1;
    if (n < sizeof ts) {
        memcpy(ts, f, n);
        ts[n] = '\0';
        bad = trace_parse_timestamp(ts, s, ns);
    }
    if (bad) {
        char expected[128];
        snprintf(expected, sizeof expected,
                 "a time YYYY-MM-DD HH:MM:SS[.fffffff][+HH:MM] (wrong at character %d)",
                 bad > 0 ? bad : 1);
        return trace_csv_bad(r, r->col[AZ_T], expected, err, errlen);
    }
    return 0;
}

static int azure_read(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    azure_state *a = r->state;
    int rc = trace_csv_next_record(r, err, errlen);
    if (rc != TR_ROW)
        return rc;
    trace_csv_row_at(r, row, r->col[AZ_T]);
    int64_t s = 0;
    uint32_t ns = 0;
    if (azure_time(r, &s, &ns, err, errlen) ||
        trace_csv_tokens(r, r->col[AZ_P], 1, &row->prompt_tokens, err, errlen) ||
        trace_csv_tokens(r, r->col[AZ_O], 1, &row->output_tokens, err, errlen))
        return TR_BAD;
    if (!a->have_origin) {
        a->have_origin = 1;
        a->origin_s = s;
        a->origin_ns = ns;
    }
    row->t_s = (double)(s - a->origin_s) + ((double)ns - (double)a->origin_ns) * 1e-9;
    return TR_ROW;
}

const trace_format_def trace_format_azure = {
    .name = "azure",
    .title = "Azure 2023/2024 CSV",
    .expected = "a header TIMESTAMP,ContextTokens,GeneratedTokens",
    .is_csv = 1,
    .header_hint = "TIMESTAMP,ContextTokens,GeneratedTokens",
    .detect_header = azure_detect,
    .open = azure_open,
    .read = azure_read,
};
