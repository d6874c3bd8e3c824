/*
 * trace_capsim: capsim's own trace format, a CSV `arrival_s,prompt_tokens,output_tokens`
 * with an optional `class` column (what `capsim workload generate` writes). Its arrival
 * times count from the start of the workload, so a generated trace replays exactly.
 *
 * Optional columns `prefix_id` and `shared_tokens` (both or neither) say what a request
 * shares (request.prefix_id, workloads/reqsrc.h): a whole number id of a content stream
 * (0: nothing shared) and how many leading tokens of the request's prompt and answer are
 * that stream's, at most prompt + output, and 0 with prefix id 0. An empty field is 0.
 */
#include <stdio.h>
#include <string.h>

#include "workloads/trace_reader.h"

enum { CAP_T, CAP_P, CAP_O, CAP_C, CAP_ID, CAP_SH };

static int capsim_detect(const csvin *in)
{
    return csvin_column(in, "arrival_s") >= 0 && csvin_column(in, "prompt_tokens") >= 0 &&
           csvin_column(in, "output_tokens") >= 0;
}

static int capsim_open(trace_reader *r, char *err, size_t errlen)
{
    static const char *const names[] = {"arrival_s", "prompt_tokens", "output_tokens",
                                        "class",     "prefix_id",     "shared_tokens"};
    static const int required[] = {1, 1, 1, 0, 0, 0};
    if (trace_csv_columns(r, names, required, 6, err, errlen) != 0)
        return -1;
    if ((r->col[CAP_ID] >= 0) != (r->col[CAP_SH] >= 0)) {
        int has = r->col[CAP_ID] >= 0 ? CAP_ID : CAP_SH;
        trace_errf(err, errlen, r->path, 1, (long)r->col[has] + 1,
                   "column '%s' without '%s': give both prefix_id and shared_tokens, or neither",
                   names[has], names[has == CAP_ID ? CAP_SH : CAP_ID]);
        return -1;
    }
    return 0;
}

/* A whole number 0 .. 2^64-1 (an empty field: 0), spaces around allowed. */
static int parse_id(const char *s, uint64_t *out)
{
    s += strspn(s, " \t");
    uint64_t v = 0;
    for (; *s >= '0' && *s <= '9'; s++) {
        uint64_t d = (uint64_t)(*s - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    s += strspn(s, " \t");
    if (*s != '\0')
        return -1;
    *out = v;
    return 0;
}

/* The optional prefix_id and shared_tokens of a row. */
static int read_shared(trace_reader *r, trace_row *row, char *err, size_t errlen)
{
    const char *f = csvin_field(r->csv, (size_t)r->col[CAP_ID]);
    if (parse_id(f, &row->prefix_id) != 0)
        return trace_csv_bad(r, r->col[CAP_ID], "a whole number from 0 to 2^64-1 (or nothing)", err,
                             errlen);
    uint64_t most = row->prefix_id ? (uint64_t)row->prompt_tokens + row->output_tokens : 0;
    uint64_t s = 0;
    f = csvin_field(r->csv, (size_t)r->col[CAP_SH]);
    if (f[strspn(f, " \t")] != '\0' && trace_parse_whole(f, 0, most, &s) != 0) {
        char want[128] = "0 (prefix_id is 0: nothing shared)";
        if (row->prefix_id)
            snprintf(want, sizeof want, "a whole number from 0 to prompt + output = %llu",
                     (unsigned long long)most);
        return trace_csv_bad(r, r->col[CAP_SH], want, err, errlen);
    }
    row->shared_tokens = (uint32_t)s;
    return TR_ROW;
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
    if (r->col[CAP_ID] >= 0)
        return read_shared(r, row, err, errlen);
    return TR_ROW;
}

const trace_format_def trace_format_capsim = {
    .name = "capsim",
    .title = "capsim CSV",
    .expected = "a header arrival_s,prompt_tokens,output_tokens[,class][,prefix_id,shared_tokens]",
    .is_csv = 1,
    .absolute_times = 1,
    .header_hint = "arrival_s,prompt_tokens,output_tokens",
    .detect_header = capsim_detect,
    .open = capsim_open,
    .read = capsim_read,
};
