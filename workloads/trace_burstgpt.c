/*
 * trace_burstgpt: the BurstGPT traces, a CSV whose columns are found by name: `Timestamp`
 * (seconds), `Model`, `Request tokens`, `Response tokens`, `Total tokens`, `Log Type` (the
 * 8-column release adds `Session ID` and `Elapsed time`, which are ignored). Rows can be
 * filtered by Model and Log Type; rows with 0 response tokens are failed requests, skipped
 * (but checked: a malformed one is a bad row).
 */
#include <string.h>

#include "workloads/trace_reader.h"

enum { BG_T, BG_P, BG_O, BG_MODEL, BG_LOG };

static int burstgpt_detect(const csvin *in)
{
    return csvin_column(in, "Timestamp") >= 0 && csvin_column(in, "Request tokens") >= 0 &&
           csvin_column(in, "Response tokens") >= 0;
}

static int burstgpt_open(trace_reader *r, char *err, size_t errlen)
{
    static const char *const names[] = {"Timestamp", "Request tokens", "Response tokens", "Model",
                                        "Log Type"};
    int required[] = {1, 1, 1, r->opt->burstgpt_model != NULL, r->opt->burstgpt_log_type != NULL};
    return trace_csv_columns(r, names, required, 5, err, errlen);
}

static int burstgpt_read(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    int rc = trace_csv_next_record(r, err, errlen);
    if (rc != TR_ROW)
        return rc;
    if (r->opt->burstgpt_model &&
        strcmp(csvin_field(r->csv, (size_t)r->col[BG_MODEL]), r->opt->burstgpt_model) != 0)
        return TR_SKIP;
    if (r->opt->burstgpt_log_type &&
        strcmp(csvin_field(r->csv, (size_t)r->col[BG_LOG]), r->opt->burstgpt_log_type) != 0)
        return TR_SKIP;
    trace_csv_row_at(r, row, r->col[BG_T]);
    if (trace_csv_seconds(r, r->col[BG_T], &row->t_s, err, errlen) ||
        trace_csv_tokens(r, r->col[BG_O], 0, &row->output_tokens, err, errlen) ||
        trace_csv_tokens(r, r->col[BG_P], row->output_tokens == 0 ? 0 : 1, &row->prompt_tokens, err,
                         errlen))
        return TR_BAD;
    /* A well-formed row with no response tokens is a failed request: not a request to
     * replay, but not bad input either. */
    if (row->output_tokens == 0)
        return TR_SKIP;
    return TR_ROW;
}

const trace_format_def trace_format_burstgpt = {
    .name = "burstgpt",
    .title = "BurstGPT CSV",
    .expected =
        "a header with Timestamp, Model, Request tokens, Response tokens, Total tokens, Log Type",
    .is_csv = 1,
    .header_hint = "with Timestamp, Request tokens, Response tokens",
    .detect_header = burstgpt_detect,
    .open = burstgpt_open,
    .read = burstgpt_read,
};
