/*
 * test_traces: unit and known-answer tests of the trace readers (workloads/traces.h).
 *
 * Known answers come from the real traces in workloads/traces (request counts, token
 * totals and spans from their README, spans recomputed exactly from the timestamps);
 * small hand-written files in /tmp cover each format's variants, every kind of bad input
 * (each must fail with a message naming file:line and, for CSV, the column), skipping of
 * bad rows, the window, speedup, the request cap and both ordering modes.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/csvin.h"
#include "tests/check.h"
#include "workloads/traces.h"

#define TRACES_DIR    CAPSIM_SOURCE_DIR "/workloads/traces/"
#define AZURE_CONV    TRACES_DIR "AzureLLMInferenceTrace_conv.csv"
#define AZURE_CODE    TRACES_DIR "AzureLLMInferenceTrace_code.csv"
#define MOONCAKE_CONV TRACES_DIR "mooncake/conversation_trace.jsonl"
#define MOONCAKE_SYN  TRACES_DIR "mooncake/synthetic_trace.jsonl"

/* What reading a whole source gave. */
typedef struct drained {
    int open_ok; /* trace_open succeeded */
    int rc;      /* last next() result: 0 at a clean end, -1 on error */
    uint64_t n;  /* requests read */
    double first_s, last_s;
    uint64_t sum_prompt, sum_output;
    int ordered; /* arrivals never decreased */
    trace_stats stats;
    char err[512];
} drained;

static drained drain(const char *path, const trace_options *opt)
{
    drained d;
    memset(&d, 0, sizeof d);
    d.ordered = 1;
    reqsrc *s = trace_open(path, opt, d.err, sizeof d.err);
    if (s == NULL) {
        d.rc = -1;
        return d;
    }
    d.open_ok = 1;
    request r;
    while ((d.rc = reqsrc_next(s, &r, d.err, sizeof d.err)) == 1) {
        if (d.n == 0)
            d.first_s = r.arrival_s;
        else if (r.arrival_s < d.last_s)
            d.ordered = 0;
        d.last_s = r.arrival_s;
        d.sum_prompt += r.prompt_tokens;
        d.sum_output += r.output_tokens;
        d.n++;
    }
    d.stats = *trace_get_stats(s);
    reqsrc_close(s);
    return d;
}

/* Writes data to a new temporary file; path receives its name. */
static void tmp_write(char path[64], const char *data, size_t len)
{
    snprintf(path, 64, "/tmp/capsim_traces_XXXXXX");
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0))
        return;
    CHECK(write(fd, data, len) == (ssize_t)len);
    close(fd);
}

static void tmp_write_str(char path[64], const char *text)
{
    tmp_write(path, text, strlen(text));
}

static drained drain_text(const char *text, trace_format f, int skip_bad, char path[64])
{
    trace_options o = {0};
    o.format = f;
    o.skip_bad_rows = skip_bad;
    tmp_write(path, text, strlen(text));
    return drain(path, &o);
}

/* Checks that err names path:line: (and contains what, if given). */
static void check_at(const char *err, const char *path, long line, const char *what)
{
    char at[96];
    snprintf(at, sizeof at, "%s:%ld:", path, line);
    CHECK_CONTAINS(err, at);
    if (what)
        CHECK_CONTAINS(err, what);
}

/* --- names and timestamps -------------------------------------------------------------------- */

static void test_format_names(void)
{
    /* Every format of the table parses back to itself. */
    for (size_t i = 0; i <= trace_format_count(); i++) {
        trace_format f;
        CHECK_EQ_INT(trace_format_parse(trace_format_name((trace_format)i), &f), 0);
        CHECK_EQ_INT(f, i);
    }
    /* The constants name the table's first entries. */
    static const char *const names[] = {"auto", "capsim", "azure", "burstgpt", "mooncake", "vllm"};
    for (int i = 0; i <= TRACE_VLLM; i++)
        CHECK(strcmp(trace_format_name((trace_format)i), names[i]) == 0);
    CHECK(strcmp(trace_format_name((trace_format)(trace_format_count() + 1)), "?") == 0);
    /* The list joins the names with ", " and last_sep before the last; it starts as the
     * help texts have always printed it (a new format only adds to the end). */
    char list[256], want[256] = "";
    size_t n = trace_format_count();
    for (size_t i = 0; i <= n; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
                 i == 0   ? ""
                 : i == n ? " or "
                          : ", ",
                 trace_format_name((trace_format)i));
    CHECK(strcmp(trace_format_list(list, sizeof list, 1, " or ", TRACE_LIST_NAMES), want) == 0);
    CHECK(strncmp(list, "auto, capsim, azure, burstgpt, mooncake", 39) == 0);
    CHECK(strncmp(trace_format_list(list, sizeof list, 0, ", ", TRACE_LIST_TITLES),
                  "capsim CSV, Azure 2023/2024 CSV, BurstGPT CSV, Mooncake JSONL, vLLM bench JSON",
                  78) == 0);
    /* A list cut short by its buffer stays a string. */
    CHECK(strcmp(trace_format_list(list, 9, 1, " or ", TRACE_LIST_NAMES), "auto, ca") == 0);
    trace_format f = TRACE_AZURE;
    CHECK_EQ_INT(trace_format_parse("Azure", &f), -1);
    CHECK_EQ_INT(trace_format_parse("", &f), -1);
    CHECK_EQ_INT(f, TRACE_AZURE);
    CHECK(strcmp(trace_format_name((trace_format)42), "?") == 0);
}

static void test_timestamp_parser(void)
{
    int64_t s;
    uint32_t ns;
    CHECK_EQ_INT(trace_parse_timestamp("1970-01-01 00:00:00", &s, &ns), 0);
    CHECK_EQ_INT(s, 0);
    CHECK_EQ_INT(ns, 0);
    /* The first row of the Azure conversation trace; `date -u -d` gives 1700158546. */
    CHECK_EQ_INT(trace_parse_timestamp("2023-11-16 18:15:46.6805900", &s, &ns), 0);
    CHECK_EQ_INT(s, 1700158546);
    CHECK_EQ_INT(ns, 680590000);
    /* Leap years: 2024 and 2000 have 29 February, 2023 and 1900 do not. */
    CHECK_EQ_INT(trace_parse_timestamp("2024-02-29 12:00:00", &s, &ns), 0);
    CHECK_EQ_INT(s, 1709208000);
    CHECK_EQ_INT(trace_parse_timestamp("2024-03-01 00:00:00", &s, &ns), 0);
    CHECK_EQ_INT(s, 1709251200);
    CHECK_EQ_INT(trace_parse_timestamp("2000-02-29 00:00:00", &s, &ns), 0);
    CHECK_EQ_INT(s, 951782400);
    CHECK_EQ_INT(trace_parse_timestamp("2023-02-29 00:00:00", &s, &ns), 9);
    CHECK_EQ_INT(trace_parse_timestamp("1900-02-29 00:00:00", &s, &ns), 9);
    CHECK_EQ_INT(trace_parse_timestamp("1969-12-31 23:59:59", &s, &ns), 0);
    CHECK_EQ_INT(s, -1);
    /* Zones: the offset is subtracted. */
    int64_t utc;
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 04:30:00", &utc, &ns), 0);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 10:00:00+05:30", &s, &ns), 0);
    CHECK_EQ_INT(s, utc);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10T10:00:00+0530", &s, &ns), 0);
    CHECK_EQ_INT(s, utc);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-09 20:30:00-08:00", &s, &ns), 0);
    CHECK_EQ_INT(s, utc);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 04:30:00Z", &s, &ns), 0);
    CHECK_EQ_INT(s, utc);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 00:00:00.009930+00:00", &s, &ns), 0);
    CHECK_EQ_INT(ns, 9930000);
    /* 0 to 9 fractional digits. */
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 00:00:00.5", &s, &ns), 0);
    CHECK_EQ_INT(ns, 500000000);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 00:00:00.123456789", &s, &ns), 0);
    CHECK_EQ_INT(ns, 123456789);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 00:00:00.000000001+01:00", &s, &ns), 0);
    CHECK_EQ_INT(ns, 1);
    /* Rejected, with the position of the first character that does not fit. */
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 00:00:00.1234567890", &s, &ns), 30);
    CHECK_EQ_INT(trace_parse_timestamp("2024-05-10 00:00:00.", &s, &ns), 21);
    CHECK_EQ_INT(trace_parse_timestamp("", &s, &ns), 1);
    CHECK_EQ_INT(trace_parse_timestamp("2024-13-01 00:00:00", &s, &ns), 6);
    CHECK_EQ_INT(trace_parse_timestamp("2024-04-31 00:00:00", &s, &ns), 9);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 24:00:00", &s, &ns), 12);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 00:60:00", &s, &ns), 15);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 00:00:60", &s, &ns), 18);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01", &s, &ns), 11);
    CHECK_EQ_INT(trace_parse_timestamp("2024/01/01 00:00:00", &s, &ns), 5);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 00:00:00 ", &s, &ns), 20);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 00:00:00.12a", &s, &ns), 23);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 00:00:00+24:00", &s, &ns), 21);
    CHECK_EQ_INT(trace_parse_timestamp("2024-01-01 00:00:00+05:3", &s, &ns), 25);
    CHECK_EQ_INT(trace_parse_timestamp("0000-01-01 00:00:00", &s, &ns), 1);
    CHECK_EQ_INT(trace_parse_timestamp("24-01-01 00:00:00", &s, &ns), 3);
}

/* --- real traces ----------------------------------------------------------------------------- */

static void test_azure_real(void)
{
    trace_options o = {0};
    drained d = drain(AZURE_CONV, &o);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_INT(d.stats.format, TRACE_AZURE);
    CHECK_EQ_U64(d.n, 19366);
    CHECK_EQ_U64(d.stats.rows_read, 19366);
    CHECK_EQ_U64(d.stats.rows_kept, 19366);
    CHECK_EQ_U64(d.stats.rows_bad, 0);
    CHECK_EQ_U64(d.stats.rows_reordered, 0);
    CHECK_EQ_DBL(d.first_s, 0);
    /* README: span 3501.722 s (rounded); exactly 19:14:08.4025270 - 18:15:46.6805900. */
    CHECK_NEAR(d.last_s, 3501.721937, 1e-6);
    CHECK_NEAR(d.last_s, 3501.722, 1e-3);
    CHECK_EQ_U64(d.sum_prompt, 22361870);
    CHECK_EQ_U64(d.sum_output, 4088665);
    CHECK(d.ordered);

    o.format = TRACE_AZURE;
    o.strict = 1;
    d = drain(AZURE_CODE, &o);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_U64(d.n, 8819);
    CHECK_EQ_DBL(d.first_s, 0);
    CHECK_NEAR(d.last_s, 3435.948056, 1e-6);
    CHECK_NEAR(d.last_s, 3435.948, 1e-3);
    CHECK_EQ_U64(d.sum_prompt, 18059974);
    CHECK_EQ_U64(d.sum_output, 245896);
    CHECK(d.ordered);
}

static void test_mooncake_real(void)
{
    trace_options o = {0};
    drained d = drain(MOONCAKE_CONV, &o);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_INT(d.stats.format, TRACE_MOONCAKE);
    CHECK_EQ_U64(d.n, 12031);
    CHECK_EQ_DBL(d.first_s, 0);
    CHECK_NEAR(d.last_s, 3537.0, 0.5); /* README: span 3537.0 s */
    CHECK_NEAR((double)d.sum_prompt / (double)d.n, 12035, 0.5);
    CHECK_NEAR((double)d.sum_output / (double)d.n, 342.6, 0.05);
    CHECK(d.ordered);

    o.format = TRACE_MOONCAKE;
    d = drain(MOONCAKE_SYN, &o);
    CHECK(d.open_ok && d.rc == 0);
    CHECK_EQ_U64(d.n, 3993);
    CHECK_NEAR(d.last_s, 1022.0, 0.5);
}

/* Speedup 2 halves every arrival (metamorphic: same rows, half the times). */
static void test_speedup(void)
{
    char err[512];
    trace_options o1 = {0}, o2 = {0};
    o2.speedup = 2;
    reqsrc *a = trace_open(AZURE_CODE, &o1, err, sizeof err);
    reqsrc *b = trace_open(AZURE_CODE, &o2, err, sizeof err);
    if (!CHECK(a && b)) {
        reqsrc_close(a);
        reqsrc_close(b);
        return;
    }
    request ra, rb;
    uint64_t n = 0, mismatches = 0;
    double last = 0;
    int rca, rcb;
    while ((rca = reqsrc_next(a, &ra, err, sizeof err)) == 1 &&
           (rcb = reqsrc_next(b, &rb, err, sizeof err)) == 1) {
        if (rb.arrival_s != ra.arrival_s / 2 || rb.prompt_tokens != ra.prompt_tokens ||
            rb.output_tokens != ra.output_tokens)
            mismatches++;
        last = rb.arrival_s;
        n++;
    }
    CHECK_EQ_INT(rca, 0);
    CHECK_EQ_INT(reqsrc_next(b, &rb, err, sizeof err), 0);
    CHECK_EQ_U64(n, 8819);
    CHECK_EQ_U64(mismatches, 0);
    CHECK_NEAR(last, 3435.948056 / 2, 1e-6);
    reqsrc_close(a);
    reqsrc_close(b);

    /* speedup <= 0 means 1 */
    trace_options o3 = {0};
    o3.speedup = -3;
    drained d = drain(AZURE_CODE, &o3);
    CHECK_NEAR(d.last_s, 3435.948056, 1e-6);
}

static void test_window_and_cap(void)
{
    char err[512];
    /* Expected rows of [1000, 2000) counted from the full trace. */
    trace_options all = {0};
    reqsrc *s = trace_open(AZURE_CONV, &all, err, sizeof err);
    if (!CHECK(s != NULL))
        return;
    request r;
    uint64_t expect = 0;
    double first_in = -1, last_in = 0;
    while (reqsrc_next(s, &r, err, sizeof err) == 1)
        if (r.arrival_s >= 1000 && r.arrival_s < 2000) {
            if (first_in < 0)
                first_in = r.arrival_s;
            last_in = r.arrival_s;
            expect++;
        }
    reqsrc_close(s);
    CHECK(expect > 1000);

    trace_options o = {0};
    o.window_start_s = 1000;
    o.window_end_s = 2000;
    drained d = drain(AZURE_CONV, &o);
    CHECK(d.open_ok && d.rc == 0);
    CHECK_EQ_U64(d.n, expect);
    CHECK_EQ_DBL(d.first_s, 0);
    CHECK_NEAR(d.last_s, last_in - first_in, 1e-9);
    CHECK_LE(d.last_s, 1000);

    /* The window is in trace time: with speedup 4 the same rows are kept. */
    o.speedup = 4;
    d = drain(AZURE_CONV, &o);
    CHECK_EQ_U64(d.n, expect);
    CHECK_NEAR(d.last_s, (last_in - first_in) / 4, 1e-9);

    /* Start only (end <= 0: no end). */
    trace_options o2 = {0};
    o2.window_start_s = 3500;
    d = drain(AZURE_CONV, &o2);
    CHECK(d.n >= 1 && d.n < 20);
    CHECK_EQ_DBL(d.first_s, 0);

    /* A hand-made capsim trace: times 7..16 (capsim's arrival_s counts from the start of
     * the workload, not from the first row), window [9.5, 13) keeps 10, 11, 12 -> 0.5,
     * 1.5, 2.5 (times count from the window's start). */
    char path[64];
    char text[512] = "arrival_s,prompt_tokens,output_tokens\n";
    for (int i = 0; i < 10; i++)
        snprintf(text + strlen(text), sizeof text - strlen(text), "%d,%d,1\n", i + 7, i + 1);
    tmp_write(path, text, strlen(text));
    trace_options o3 = {0};
    o3.window_start_s = 9.5;
    o3.window_end_s = 13;
    d = drain(path, &o3);
    CHECK_EQ_U64(d.n, 3);
    CHECK_EQ_U64(d.sum_prompt, 4 + 5 + 6);
    CHECK_EQ_DBL(d.first_s, 0.5);
    CHECK_EQ_DBL(d.last_s, 2.5);
    CHECK_EQ_U64(d.stats.rows_kept, 3);

    /* max_requests caps; the window and the cap combine. */
    o3.max_requests = 2;
    d = drain(path, &o3);
    CHECK_EQ_U64(d.n, 2);
    CHECK_EQ_U64(d.sum_prompt, 4 + 5);
    unlink(path);

    trace_options o4 = {0};
    o4.max_requests = 100;
    d = drain(AZURE_CONV, &o4);
    CHECK_EQ_U64(d.n, 100);
    CHECK_EQ_INT(d.rc, 0);
}

/* --- small hand-written traces --------------------------------------------------------------- */

static void test_capsim_csv(void)
{
    char path[64];
    /* BOM, CRLF, a blank line, quoted fields, the class column (empty means 0); capsim's
     * arrival_s is kept as written (seconds from the start of the workload). */
    drained d = drain_text("\xEF\xBB\xBF"
                           "arrival_s,prompt_tokens,output_tokens,class\r\n"
                           "5,100,10,1\r\n"
                           "\r\n"
                           "\"5.5\",\"200\",20,\r\n"
                           "7.25,300,30.0,2",
                           TRACE_AUTO, 0, path);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_INT(d.stats.format, TRACE_CAPSIM);
    CHECK_EQ_U64(d.n, 3);
    CHECK_EQ_DBL(d.first_s, 5);
    CHECK_EQ_DBL(d.last_s, 7.25);
    CHECK_EQ_U64(d.sum_prompt, 600);
    CHECK_EQ_U64(d.sum_output, 60);
    unlink(path);

    /* Classes come through. */
    tmp_write_str(path, "arrival_s,prompt_tokens,output_tokens,class\n0,1,1,3\n");
    char err[512];
    reqsrc *s = trace_open(path, NULL, err, sizeof err);
    request r;
    if (CHECK(s != NULL) && CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 1))
        CHECK_EQ_INT(r.cls, 3);
    reqsrc_close(s);
    unlink(path);

    /* A header and no rows: a trace of 0 requests, not an error. */
    d = drain_text("arrival_s,prompt_tokens,output_tokens\n", TRACE_CAPSIM, 0, path);
    CHECK(d.open_ok);
    CHECK_EQ_INT(d.rc, 0);
    CHECK_EQ_U64(d.n, 0);
    unlink(path);
    d = drain_text("TIMESTAMP,ContextTokens,GeneratedTokens\r\n", TRACE_AUTO, 0, path);
    CHECK(d.open_ok && d.rc == 0 && d.n == 0);
    CHECK_EQ_INT(d.stats.format, TRACE_AZURE);
    unlink(path);
}

static void test_azure_2024(void)
{
    char path[64];
    /* The 2024 form: variable fractional digits and a zone; the offset is applied. */
    drained d = drain_text("TIMESTAMP,ContextTokens,GeneratedTokens\n"
                           "2024-05-10 00:00:00.009930+00:00,1000,10\n"
                           "2024-05-10 00:00:01+00:00,2000,20\n"
                           "2024-05-10 05:30:02.5+05:30,3000,30\n",
                           TRACE_AUTO, 0, path);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_U64(d.n, 3);
    CHECK_NEAR(d.last_s, 2.5 - 0.00993, 1e-12);
    unlink(path);
}

static const char BURSTGPT6[] =
    "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
    "5,ChatGPT,472,18,490,Conversation log\n"
    "45,ChatGPT,1087,0,1087,Conversation log\n" /* failed request */
    "118,GPT-4,417,276,693,Conversation log\n"
    "140,ChatGPT,1360,0,1360,API log\n" /* failed request */
    "150,ChatGPT,200,50,250,API log\n"
    "151,\"GPT-4, 32k\",10,5,15,API log\n";

static void test_burstgpt(void)
{
    char path[64];
    drained d = drain_text(BURSTGPT6, TRACE_AUTO, 0, path);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_INT(d.stats.format, TRACE_BURSTGPT);
    CHECK_EQ_U64(d.n, 4);
    CHECK_EQ_U64(d.stats.rows_read, 6);
    CHECK_EQ_U64(d.stats.rows_bad, 0); /* failures are not kept, but are not bad */
    CHECK_EQ_U64(d.sum_prompt, 472 + 417 + 200 + 10);
    CHECK_EQ_DBL(d.last_s, 146);

    trace_options o = {0};
    o.burstgpt_model = "ChatGPT";
    d = drain(path, &o);
    CHECK_EQ_U64(d.n, 2);
    CHECK_EQ_U64(d.sum_output, 18 + 50);
    CHECK_EQ_DBL(d.last_s, 145);
    o.burstgpt_log_type = "API log";
    d = drain(path, &o);
    CHECK_EQ_U64(d.n, 1);
    CHECK_EQ_U64(d.sum_prompt, 200);
    CHECK_EQ_DBL(d.last_s, 0);
    o.burstgpt_model = "GPT-4, 32k"; /* a quoted field with a comma */
    d = drain(path, &o);
    CHECK_EQ_U64(d.n, 1);
    CHECK_EQ_U64(d.sum_prompt, 10);
    o.burstgpt_model = "Claude";
    o.burstgpt_log_type = NULL;
    d = drain(path, &o);
    CHECK(d.open_ok && d.rc == 0 && d.n == 0);
    unlink(path);

    /* The 8-column variant, columns in another order. */
    d = drain_text("Timestamp,Session ID,Elapsed time,Model,Request tokens,Response tokens,"
                   "Total tokens,Log Type\r\n"
                   "0.5,s1,1.2,ChatGPT,100,10,110,Conversation log\r\n"
                   "1.5,s1,2.5,ChatGPT,150,0,150,Conversation log\r\n"
                   "2.0,s2,0.7,GPT-4,300,30,330,API log\r\n",
                   TRACE_AUTO, 0, path);
    if (!CHECK(d.open_ok && d.rc == 0))
        fprintf(stderr, "  %s\n", d.err);
    CHECK_EQ_U64(d.n, 2);
    CHECK_EQ_DBL(d.last_s, 1.5);
    o.burstgpt_model = "GPT-4";
    o.burstgpt_log_type = "API log";
    d = drain(path, &o);
    CHECK_EQ_U64(d.n, 1);
    CHECK_EQ_U64(d.sum_prompt, 300);
    unlink(path);

    /* A failed request with a malformed field is a bad row, not a quiet failure. */
    d = drain_text("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
                   "1,ChatGPT,10,5,15,API log\n"
                   "2,ChatGPT,abc,0,0,API log\n",
                   TRACE_BURSTGPT, 1, path);
    CHECK_EQ_U64(d.n, 1);
    CHECK_EQ_U64(d.stats.rows_bad, 1);
    check_at(d.stats.first_bad[0], path, 3, "Request tokens");
    unlink(path);

    /* Filtering by a column the file lacks is an error at open. */
    trace_options o2 = {0};
    o2.burstgpt_log_type = "API log";
    d = drain_text("Timestamp,Request tokens,Response tokens\n1,2,3\n", TRACE_BURSTGPT, 0, path);
    CHECK(d.open_ok && d.n == 1);
    d = drain(path, &o2);
    CHECK(!d.open_ok);
    check_at(d.err, path, 1, "Log Type");
    unlink(path);
}

static const char VLLM_JSON[] =
    /* Newer spelling, request_rate "inf" (all at once), a failed request (output 0) and
     * Python's NaN in a column the reader ignores. */
    "{\"date\": \"20250101-000000\", \"backend\": \"vllm\", \"request_rate\": \"inf\", "
    "\"duration\": 12.5, \"input_lens\": [10, 20, 30], \"output_lens\": [5, 0, 7], "
    "\"ttfts\": [0.1, NaN, 0.2], \"itls\": [[0.01, 0.02], [], [0.03]], "
    "\"generated_texts\": [\"a\\\"b\", \"\", \"c\\n\\u00e9\"], \"errors\": [\"\", \"boom\", "
    "\"\"]}\n"
    /* Older spelling prompt_lens, a numeric rate: arrivals i / rate after the first run. */
    "{\"request_rate\": 2.0, \"prompt_lens\": [1, 2, 3], \"output_lens\": [3, 4, 5]}\n"
    /* start_times on a perf_counter clock. */
    "{\"request_rate\": Infinity, \"input_lens\": [7, 8], \"output_lens\": [9, 10], "
    "\"start_times\": [5000.25, 5001.75]}\n";

static void test_vllm(void)
{
    char path[64];
    tmp_write(path, VLLM_JSON, strlen(VLLM_JSON));
    char err[512];
    reqsrc *s = trace_open(path, NULL, err, sizeof err);
    if (!CHECK(s != NULL)) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    CHECK_EQ_INT(trace_get_stats(s)->format, TRACE_VLLM);
    static const double want_t[] = {0, 0, 0, 0.5, 1.0, 1.0, 2.5};
    static const unsigned want_p[] = {10, 30, 1, 2, 3, 7, 8};
    static const unsigned want_o[] = {5, 7, 3, 4, 5, 9, 10};
    request r;
    int rc, i = 0;
    while ((rc = reqsrc_next(s, &r, err, sizeof err)) == 1) {
        if (i < 7) {
            CHECK_NEAR(r.arrival_s, want_t[i], 1e-12);
            CHECK_EQ_INT(r.prompt_tokens, want_p[i]);
            CHECK_EQ_INT(r.output_tokens, want_o[i]);
        }
        i++;
    }
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(i, 7);
    CHECK_EQ_U64(trace_get_stats(s)->rows_read, 8);
    CHECK_EQ_U64(trace_get_stats(s)->rows_bad, 0);
    reqsrc_close(s);
    unlink(path);

    /* Without start_times or a finite rate, every request arrives at 0. */
    drained d =
        drain_text("{\"input_lens\": [1, 2], \"output_lens\": [1, 1]}", TRACE_VLLM, 0, path);
    CHECK(d.open_ok && d.rc == 0 && d.n == 2 && d.last_s == 0);
    unlink(path);
    /* A pretty-printed object is fine too. */
    d = drain_text("{\n  \"request_rate\": 4,\n  \"input_lens\": [\n    1,\n    2\n  ],\n"
                   "  \"output_lens\": [1, 1]\n}\n",
                   TRACE_AUTO, 0, path);
    CHECK(d.open_ok && d.rc == 0 && d.n == 2);
    CHECK_EQ_DBL(d.last_s, 0.25);
    unlink(path);
}

/* --- bad input ------------------------------------------------------------------------------- */

typedef struct bad_case {
    const char *text;
    trace_format format;
    long line;        /* the line the message must name */
    const char *what; /* and a piece of text it must contain */
} bad_case;

static void test_bad_input(void)
{
    static const bad_case cases[] = {
        /* empty files */
        {"", TRACE_AUTO, 1, "empty file"},
        {"\n\r\n  \n", TRACE_AZURE, 1, "empty file"},
        {"", TRACE_MOONCAKE, 1, "empty file"},
        {"", TRACE_VLLM, 1, "empty file"},
        /* token counts: zero, negative, too large for uint32, non-numbers */
        {"TIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.68,10,5\r\n"
         "2023-11-16 18:15:47.0,10,0\r\n",
         TRACE_AUTO, 3, "column 'GeneratedTokens': found '0', expected a whole number from 1"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47,-4,5\n", TRACE_AZURE, 2,
         "column 'ContextTokens': found '-4'"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47,4294967296,5\n", TRACE_AZURE,
         2, "ContextTokens"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47,12,abc\n", TRACE_AZURE, 2,
         "found 'abc'"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47,1.5,3\n", TRACE_AZURE, 2,
         "ContextTokens"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:47,0x10,3\n", TRACE_AZURE, 2,
         "ContextTokens"},
        /* timestamps */
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-31 18:15:47,1,3\n", TRACE_AZURE, 2,
         "column 'TIMESTAMP': found '2023-11-31 18:15:47', expected a time"},
        {"TIMESTAMP,ContextTokens,GeneratedTokens\n1700158546,1,3\n", TRACE_AZURE, 2, "TIMESTAMP"},
        {"arrival_s,prompt_tokens,output_tokens\n1,1,1\n-2,1,1\n", TRACE_CAPSIM, 3,
         "column 'arrival_s'"},
        {"arrival_s,prompt_tokens,output_tokens\nnan,1,1\n", TRACE_CAPSIM, 2, "arrival_s"},
        {"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
         "x,ChatGPT,1,2,3,API log\n",
         TRACE_AUTO, 2, "column 'Timestamp'"},
        {"Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
         "1,ChatGPT,0,2,2,API log\n",
         TRACE_AUTO, 2, "column 'Request tokens': found '0'"},
        /* field counts */
        {"arrival_s,prompt_tokens,output_tokens\n1,1\n", TRACE_CAPSIM, 2,
         "column 'output_tokens' is missing"},
        {"arrival_s,prompt_tokens,output_tokens\n1,1,1,1\n", TRACE_CAPSIM, 2, "4 fields"},
        /* CSV structure (csvin): an unclosed quote, NUL bytes */
        {"arrival_s,prompt_tokens,output_tokens\n1,\"1,1\n", TRACE_CAPSIM, 2, "never closed"},
        /* headers */
        {"time,in,out\n1,2,3\n", TRACE_AUTO, 1, "unrecognised trace header 'time,in,out'"},
        {"arrival_s,prompt_tokens\n1,2\n", TRACE_CAPSIM, 1, "no column 'output_tokens'"},
        {"{\"timestamp\": 1}\n", TRACE_AZURE, 1,
         "found a JSON object, expected a CSV trace (azure)"},
        /* Mooncake */
        {"{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 3}\n"
         "{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 0}\n",
         TRACE_AUTO, 2, "key 'output_length': found 0"},
        {"{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 3, \"hash_ids\": [1, 2",
         TRACE_MOONCAKE, 1, "truncated"},
        {"{\"timestamp\": NaN, \"input_length\": 5, \"output_length\": 3}\n", TRACE_MOONCAKE, 1,
         "key 'timestamp': found NaN"},
        {"{\"timestamp\": 1, \"input_length\": 5}\n", TRACE_MOONCAKE, 1,
         "missing key 'output_length'"},
        {"{\"timestamp\": 1, \"input_length\": 4294967296, \"output_length\": 3}\n", TRACE_MOONCAKE,
         1, "input_length"},
        {"{\"timestamp\": 1, \"input_length\": \"5\", \"output_length\": 3}\n", TRACE_MOONCAKE, 1,
         "input_length"},
        {"{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 3} {}\n", TRACE_MOONCAKE, 1,
         "unexpected text after the JSON object"},
        {"{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 3, \"hash_ids\": 7}\n",
         TRACE_MOONCAKE, 1, "hash_ids"},
        /* vLLM */
        {"{\"input_lens\": [1, 2], \"output_lens\": [1, 1", TRACE_VLLM, 1, "end of file"},
        {"{\"input_lens\": [1, 2], \"output_lens\": [1]}", TRACE_VLLM, 1, "equal length"},
        {"{\"input_lens\": [1, NaN], \"output_lens\": [1, 1]}", TRACE_VLLM, 1,
         "input_lens[1]: found NaN"},
        {"{\"input_lens\": [1, 0], \"output_lens\": [1, 1]}", TRACE_VLLM, 1,
         "input_lens[1]: found 0"},
        {"{\"input_lens\": [1, 2], \"output_lens\": [1, -1]}", TRACE_VLLM, 1,
         "output_lens[1]: found -1"},
        {"{\"input_lens\": [1, 2], \"output_lens\": [1, 4294967296]}", TRACE_VLLM, 1,
         "output_lens[1]"},
        {"{\"input_lens\": [1], \"output_lens\": [1], \"start_times\": [null]}", TRACE_VLLM, 1,
         "start_times[0]: found null"},
        {"{\"output_lens\": [1]}", TRACE_VLLM, 1, "no key input_lens"},
        {"{\"input_lens\": 5, \"output_lens\": [1]}", TRACE_VLLM, 1, "expected an array"},
        {"{\"request_rate\": \"fast\", \"input_lens\": [1], \"output_lens\": [1]}", TRACE_VLLM, 1,
         "request_rate"},
        {"{\"input_lens\": [1], \"output_lens\": [1]}\n{\"input_lens\": [1,,2]}", TRACE_VLLM, 2,
         "expected a JSON value"},
        {"{\"input_lens\": [1], \"output_lens\": [1]} [1]", TRACE_VLLM, 1, "expected '{'"},
        {"{\"a\": tru, \"input_lens\": [1], \"output_lens\": [1]}", TRACE_VLLM, 1, "'tru'"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        drained d = drain_text(cases[i].text, cases[i].format, 0, path);
        if (!CHECK_EQ_INT(d.rc, -1))
            fprintf(stderr, "  case %zu gave no error\n", i);
        if (!CHECK_CONTAINS(d.err, cases[i].what))
            fprintf(stderr, "  case %zu\n", i);
        char at[96];
        snprintf(at, sizeof at, "%s:%ld:", path, cases[i].line);
        if (!CHECK_CONTAINS(d.err, at))
            fprintf(stderr, "  case %zu\n", i);
        CHECK(strchr(d.err, '\n') == NULL);
        unlink(path);
    }
}

/* Binary input, overlong lines and NUL bytes, which need bytes a C string cannot hold. */
static void test_bad_bytes(void)
{
    char path[64];
    /* A NUL byte in CSV (csvin stops there). */
    static const char csv_nul[] = "arrival_s,prompt_tokens,output_tokens\n1,1,1\n2,\0,1\n";
    tmp_write(path, csv_nul, sizeof csv_nul - 1);
    drained d = drain(path, NULL);
    CHECK_EQ_INT(d.rc, -1);
    check_at(d.err, path, 3, "NUL byte");
    unlink(path);

    /* A NUL byte in JSONL is a bad row (the next line can still be read). */
    static const char jl_nul[] = "{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 3}\n"
                                 "{\"timestamp\": 1, \0\"input_length\": 5}\n"
                                 "{\"timestamp\": 2, \"input_length\": 5, \"output_length\": 3}\n";
    tmp_write(path, jl_nul, sizeof jl_nul - 1);
    trace_options o = {0};
    d = drain(path, &o);
    CHECK_EQ_INT(d.rc, -1);
    check_at(d.err, path, 2, "NUL byte");
    o.skip_bad_rows = 1;
    d = drain(path, &o);
    CHECK_EQ_INT(d.rc, 0);
    CHECK_EQ_U64(d.n, 2);
    CHECK_EQ_U64(d.stats.rows_bad, 1);
    unlink(path);

    /* Binary garbage, whatever the format asked for. */
    unsigned char junk[4096];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(x >> 24);
    }
    junk[7] = 0;
    tmp_write(path, (const char *)junk, sizeof junk);
    for (int f = TRACE_AUTO; f <= TRACE_VLLM; f++) {
        trace_options of = {0};
        of.format = (trace_format)f;
        d = drain(path, &of);
        if (!CHECK_EQ_INT(d.rc, -1))
            fprintf(stderr, "  format %s\n", trace_format_name(of.format));
        CHECK_CONTAINS(d.err, path);
    }
    unlink(path);

    /* A CSV line longer than csvin's limit. */
    size_t big = 4 * (size_t)CSVIN_MAX_LINE;
    char *text = malloc(big + 64);
    if (!CHECK(text != NULL))
        return;
    strcpy(text, "arrival_s,prompt_tokens,output_tokens\n1,");
    size_t n = strlen(text);
    memset(text + n, '7', big);
    memcpy(text + n + big, ",1\n", 3);
    tmp_write(path, text, n + big + 3);
    d = drain(path, NULL);
    CHECK_EQ_INT(d.rc, -1);
    check_at(d.err, path, 2, "longer than");
    unlink(path);
    free(text);

    /* A JSONL line longer than 16 MB: an error, or a bad row when skipping. */
    FILE *fp;
    snprintf(path, sizeof path, "/tmp/capsim_traces_XXXXXX");
    int fd = mkstemp(path);
    if (!CHECK(fd >= 0) || !CHECK((fp = fdopen(fd, "wb")) != NULL))
        return;
    fputs("{\"timestamp\": 0, \"input_length\": 5, \"output_length\": 3}\n", fp);
    fputs("{\"timestamp\": 1, \"input_length\": 5, \"output_length\": 3, \"hash_ids\": [", fp);
    for (size_t k = 0; k < TRACE_MAX_JSON_LINE / 8 + 10; k++)
        fputs("1234567,", fp);
    fputs("1]}\n{\"timestamp\": 2, \"input_length\": 6, \"output_length\": 3}\n", fp);
    fclose(fp);
    d = drain(path, NULL);
    CHECK_EQ_INT(d.rc, -1);
    check_at(d.err, path, 2, "longer than");
    d = drain(path, &o);
    CHECK_EQ_INT(d.rc, 0);
    CHECK_EQ_U64(d.n, 2);
    CHECK_EQ_U64(d.sum_prompt, 11);
    CHECK_EQ_U64(d.stats.rows_bad, 1);
    unlink(path);
}

static void test_skip_bad_rows(void)
{
    char path[64];
    const char *text = "arrival_s,prompt_tokens,output_tokens\n"
                       "0,10,1\n"
                       "1,abc,1\n" /* bad: line 3 */
                       "2,20,1\n"
                       "3,30,0\n" /* bad: line 5 */
                       "4,40\n"   /* bad: line 6 */
                       "5,50,1\n"
                       "6,-1,1\n" /* bad: line 8, beyond the three messages kept */
                       "7,70,1\n";
    drained d = drain_text(text, TRACE_CAPSIM, 0, path);
    CHECK_EQ_INT(d.rc, -1);
    check_at(d.err, path, 3, "column 'prompt_tokens'");
    CHECK_EQ_U64(d.n, 0); /* the first bad row is found while filling the reorder window */

    trace_options o = {0};
    o.skip_bad_rows = 1;
    d = drain(path, &o);
    CHECK_EQ_INT(d.rc, 0);
    CHECK_EQ_U64(d.n, 4);
    CHECK_EQ_U64(d.sum_prompt, 10 + 20 + 50 + 70);
    CHECK_EQ_U64(d.stats.rows_read, 8);
    CHECK_EQ_U64(d.stats.rows_bad, 4);
    CHECK_EQ_U64(d.stats.rows_kept, 4);
    check_at(d.stats.first_bad[0], path, 3, "prompt_tokens");
    check_at(d.stats.first_bad[1], path, 5, "output_tokens");
    check_at(d.stats.first_bad[2], path, 6, "missing");
    CHECK_EQ_DBL(d.last_s, 7);

    /* strict reads row by row, so the good rows before the bad one come out first. */
    o.skip_bad_rows = 0;
    o.strict = 1;
    d = drain(path, &o);
    CHECK_EQ_INT(d.rc, -1);
    CHECK_EQ_U64(d.n, 1);
    unlink(path);
}

static void test_out_of_order(void)
{
    char path[64];
    const char *text = "arrival_s,prompt_tokens,output_tokens\n"
                       "1,1,1\n"
                       "3,3,1\n"
                       "2,2,1\n" /* earlier than the row before: line 4 */
                       "4,4,1\n"
                       "3.5,5,1\n"
                       "6,6,1\n";
    drained d = drain_text(text, TRACE_CAPSIM, 0, path);
    CHECK_EQ_INT(d.rc, 0);
    CHECK_EQ_U64(d.n, 6);
    CHECK(d.ordered);
    CHECK_EQ_U64(d.stats.rows_reordered, 2);
    CHECK_EQ_DBL(d.last_s, 6); /* capsim times are kept as written */

    char err[512];
    reqsrc *s = trace_open(path, NULL, err, sizeof err);
    request r;
    static const unsigned want[] = {1, 2, 3, 5, 4, 6};
    for (int i = 0; s && i < 6; i++)
        if (CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 1))
            CHECK_EQ_INT(r.prompt_tokens, want[i]);
    reqsrc_close(s);

    trace_options o = {0};
    o.strict = 1;
    d = drain(path, &o);
    CHECK_EQ_INT(d.rc, -1);
    CHECK_EQ_U64(d.n, 2);
    check_at(d.err, path, 4, "time 2 s is earlier than 3 s of the row before it (line 3)");
    unlink(path);

    /* Beyond the reorder window: a row earlier than one already replayed is an error even
     * without strict, naming both times. */
    size_t cap = 64 + 20 * (TRACE_REORDER_WINDOW + 1000);
    char *big = malloc(cap);
    if (!CHECK(big != NULL))
        return;
    size_t n = (size_t)snprintf(big, cap, "arrival_s,prompt_tokens,output_tokens\n");
    for (unsigned i = 0; i < TRACE_REORDER_WINDOW + 900; i++)
        n += (size_t)snprintf(big + n, cap - n, "%u,1,1\n", i + 10);
    n += (size_t)snprintf(big + n, cap - n, "11.5,1,1\n");
    tmp_write(path, big, n);
    free(big);
    d = drain(path, NULL);
    CHECK_EQ_INT(d.rc, -1);
    check_at(d.err, path, (long)TRACE_REORDER_WINDOW + 902, "time 11.5 s is earlier than");
    CHECK_CONTAINS(d.err, "already replayed");
    CHECK(d.n >= 800 && d.n <= 1000);
    CHECK(d.ordered);
    unlink(path);
}

/* Format names given explicitly must match the content, and AUTO must find each one. */
static void test_detection(void)
{
    static const struct {
        const char *text;
        trace_format f;
    } cases[] = {
        {"arrival_s,prompt_tokens,output_tokens\n0,1,1\n", TRACE_CAPSIM},
        {"\xEF\xBB\xBFTIMESTAMP,ContextTokens,GeneratedTokens\r\n2023-11-16 18:15:46.1,1,1\r\n",
         TRACE_AZURE},
        {"\n\nTimestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n"
         "0,ChatGPT,1,1,2,API log\n",
         TRACE_BURSTGPT},
        {"\xEF\xBB\xBF{\"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}\n",
         TRACE_MOONCAKE},
        {"  {\"hash_ids\": [], \"timestamp\": 0, \"input_length\": 1, \"output_length\": 1}",
         TRACE_MOONCAKE},
        {"\xEF\xBB\xBF{\"date\": \"x\", \"input_lens\": [1], \"output_lens\": [1]}", TRACE_VLLM},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[64];
        drained d = drain_text(cases[i].text, TRACE_AUTO, 0, path);
        if (!CHECK(d.open_ok && d.rc == 0 && d.n == 1))
            fprintf(stderr, "  case %zu: %s\n", i, d.err);
        CHECK_EQ_INT(d.stats.format, cases[i].f);
        trace_options o = {0};
        o.format = cases[i].f;
        d = drain(path, &o);
        CHECK(d.open_ok && d.rc == 0 && d.n == 1);
        unlink(path);
    }
    char err[512];
    CHECK(trace_open("/nonexistent/trace.csv", NULL, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "/nonexistent/trace.csv");
    CHECK(trace_get_stats(NULL) == NULL);
    trace_options bad = {0};
    bad.format = (trace_format)99;
    CHECK(trace_open(AZURE_CODE, &bad, err, sizeof err) == NULL);
    CHECK_CONTAINS(err, "unknown trace format");
}

/* After an error, next() keeps failing with the same message. */
static void test_sticky_error(void)
{
    char path[64], err[512], err2[512];
    tmp_write_str(path, "arrival_s,prompt_tokens,output_tokens\n1,x,1\n");
    reqsrc *s = trace_open(path, NULL, err, sizeof err);
    request r;
    if (CHECK(s != NULL)) {
        CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), -1);
        CHECK_EQ_INT(reqsrc_next(s, &r, err2, sizeof err2), -1);
        CHECK(strcmp(err, err2) == 0);
    }
    reqsrc_close(s);
    unlink(path);
}

TEST_MAIN(TEST(test_format_names), TEST(test_timestamp_parser), TEST(test_azure_real),
          TEST(test_mooncake_real), TEST(test_speedup), TEST(test_window_and_cap),
          TEST(test_capsim_csv), TEST(test_azure_2024), TEST(test_burstgpt), TEST(test_vllm),
          TEST(test_bad_input), TEST(test_bad_bytes), TEST(test_skip_bad_rows),
          TEST(test_out_of_order), TEST(test_detection), TEST(test_sticky_error))
