/*
 * trace_capsim: capsim's own trace format, a CSV `arrival_s,prompt_tokens,output_tokens`
 * with an optional `class` column (what `capsim workload generate` writes). Its arrival
 * times count from the start of the workload, so a generated trace replays exactly.
 */
#include <string.h>

#include "workloads/trace_reader.h"

enum { CAP_T, CAP_P, CAP_O, CAP_C };

static int capsim_detect(const csvin *in)
{
    return csvin_column(in, "arrival_s") >= 0 && csvin_column(in, "prompt_tokens") >= 0 &&
           csvin_column(in, "output_tokens") >= 0;
}

static int capsim_open(trace_reader *r, char *err, size_t errlen)
{
    static const char *const names[] = {"arrival_s", "prompt_tokens", "output_tokens", "class"};
    static const int required[] = {1, 1, 1, 0};
    return trace_csv_columns(r, names, required, 4, err, errlen);
}

static int capsim_read(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    int rc = trace_csv_next_record(r, err, errlen);
    if (rc != TR_ROW)
        return rc;
    trace_csv_row_at(r, row, r->col[CAP_T]);
    if (trace_csv_seconds(r, r->col[CAP_T], &row->t_s, err, errlen) ||
        trace_csv_tokens(r, r->col[CAP_P], 1, &row->prompt_tokens, err, errlen) ||
        trace_csv_tokens(r, r->col[CAP_O], 1, &row->output_tokens, err, errlen))
        return TR_BAD;
    if (r->col[CAP_C] >= 0) {
        const char *f = csvin_field(r->csv, (size_t)r->col[CAP_C]);
        uint64_t c = 0;
        if (f[strspn(f, " \t")] != '\0' && trace_parse_whole(f, 0, 1000, &c) != 0)
            return trace_csv_bad(r, r->col[CAP_C], "a class index from 0 to 1000 (or nothing)", err,
                                 errlen);
        row->cls = (uint32_t)c;
    }
    return TR_ROW;
}

const trace_format_def trace_format_capsim = {
    .name = "capsim",
    .title = "capsim CSV",
    .expected = "a header arrival_s,prompt_tokens,output_tokens[,class]",
    .is_csv = 1,
    .absolute_times = 1,
    .header_hint = "arrival_s,prompt_tokens,output_tokens",
    .detect_header = capsim_detect,
    .open = capsim_open,
    .read = capsim_read,
};
