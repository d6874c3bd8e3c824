/*
 * bench_csv: a plain CSV, one row per request: prompt_tokens, output_tokens, ttft_ms, and
 * tpot_ms or e2e_ms; optional start_s, itl_ms as "a;b;c", run (rows of one run share it)
 * and model. capsim run's requests.csv names three of them its own way (e2el_ms,
 * arrival_s, replication) and is read as it is.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "models/bench_reader.h"
#include "sim/base/csvin.h"
#include "sim/base/util.h"

static const char CSV_FORM[] = "prompt_tokens, output_tokens, ttft_ms, and tpot_ms or e2e_ms";

/* Reads the itl_ms field "a;b;c" (milliseconds) into the scratch buffer, as seconds. */
static int csv_itls(bload *L, const char *f, long line, size_t *n)
{
    *n = 0;
    while (*f == ' ')
        f++;
    if (*f == '\0')
        return 0;
    for (size_t k = 0;; k++) {
        const char *semi = strchr(f, ';');
        size_t len = semi ? (size_t)(semi - f) : strlen(f);
        char item[64];
        double x;
        while (len > 0 && *f == ' ') {
            f++;
            len--;
        }
        while (len > 0 && f[len - 1] == ' ')
            len--;
        int ok = len < sizeof item;
        if (ok) {
            memcpy(item, f, len);
            item[len] = '\0';
            ok = util_parse_double(item, &x) == 0 && x >= 0 && x <= BENCH_MAX_TIME_S * 1e3;
        }
        if (!ok) {
            char shown[64];
            snprintf(item, sizeof item, "%.*s", (int)(len < 60 ? len : 60), f);
            util_printable(item, shown, sizeof shown);
            return bl_fail_at(L, line,
                              "column 'itl_ms': item %zu: expected milliseconds >= 0 separated by "
                              "';', found '%s'",
                              k + 1, shown);
        }
        if (bl_scratch_push(L, n, x / 1000) != 0)
            return -1;
        if (semi == NULL)
            break;
        f = semi + 1;
    }
    return 0;
}

static int csv_row(bload *L, csvin *in, const int *col, size_t *last_ri)
{
    enum { C_PROMPT, C_OUTPUT, C_TTFT, C_TPOT, C_E2E, C_START, C_ITL, C_RUN, C_MODEL };
    long line = csvin_line(in);
    char label[128];
    bl_copy_printable(label, sizeof label,
                      col[C_RUN] >= 0 ? csvin_field(in, (size_t)col[C_RUN]) : "");
    if (label[0] == '\0')
        snprintf(label, sizeof label, "all");
    bench_set *s = L->set;
    size_t ri = *last_ri;
    if (ri >= s->n_runs || strcmp(s->runs[ri].label, label) != 0) {
        for (ri = 0; ri < s->n_runs; ri++)
            if (strcmp(s->runs[ri].label, label) == 0)
                break;
        if (ri == s->n_runs) {
            long r = bl_new_run(L, label, "");
            if (r < 0)
                return -1;
            ri = (size_t)r;
        }
        *last_ri = ri;
    }
    if (col[C_MODEL] >= 0 && s->runs[ri].model[0] == '\0')
        bl_copy_printable(s->runs[ri].model, sizeof s->runs[ri].model,
                          csvin_field(in, (size_t)col[C_MODEL]));
    pending q;
    bl_pending_init(&q, L->info[ri].seen++, line);
    q.k_start = "start_s";
    q.k_ttft = "ttft_ms";
    q.k_itl = "itl_ms";
    q.k_e2e = "e2e_ms";
    q.k_tpot = "tpot_ms";
    double ttft_ms, tpot_ms, e2e_ms;
    if (csvin_number(in, col[C_PROMPT], "prompt_tokens", 1, BENCH_MAX_TOKENS, 0, 0, &q.prompt,
                     L->err, L->errlen) != 0 ||
        csvin_number(in, col[C_OUTPUT], "output_tokens", 1, BENCH_MAX_TOKENS, 0, 0, &q.output,
                     L->err, L->errlen) != 0 ||
        csvin_number(in, col[C_TTFT], "ttft_ms", 0, BENCH_MAX_TIME_S * 1e3, 0, 0, &ttft_ms, L->err,
                     L->errlen) != 0 ||
        csvin_number(in, col[C_TPOT], "tpot_ms", 0, BENCH_MAX_TIME_S * 1e3, 1, NAN, &tpot_ms,
                     L->err, L->errlen) != 0 ||
        csvin_number(in, col[C_E2E], "e2e_ms", 0, BENCH_MAX_TIME_S * 1e3, 1, NAN, &e2e_ms, L->err,
                     L->errlen) != 0 ||
        csvin_number(in, col[C_START], "start_s", -BENCH_MAX_START_S, BENCH_MAX_START_S, 1, NAN,
                     &q.start_s, L->err, L->errlen) != 0)
        return -1;
    if (q.prompt != floor(q.prompt) || q.output != floor(q.output)) {
        char shown[64];
        int c = q.prompt != floor(q.prompt) ? C_PROMPT : C_OUTPUT;
        util_printable(csvin_field(in, (size_t)col[c]), shown, sizeof shown);
        return bl_fail_at(L, line, "column '%s': expected a whole number of tokens, found '%s'",
                          c == C_PROMPT ? "prompt_tokens" : "output_tokens", shown);
    }
    if (ttft_ms == 0)
        return bl_fail_at(L, line, "column 'ttft_ms': expected a time > 0 ms, found '%s'",
                          csvin_field(in, (size_t)col[C_TTFT]));
    q.ttft_s = ttft_ms / 1000;
    q.have_tpot = !isnan(tpot_ms);
    q.tpot_s = tpot_ms / 1000;
    q.have_e2e = !isnan(e2e_ms);
    q.e2e_s = e2e_ms / 1000;
    q.have_start = !isnan(q.start_s);
    if (col[C_ITL] >= 0) {
        if (csv_itls(L, csvin_field(in, (size_t)col[C_ITL]), line, &q.n_itl) != 0)
            return -1;
        q.have_itl = q.n_itl > 0;
    }
    return bl_add_request(L, ri, &q);
}

static int csv_load(bload *L)
{
    static const char *const names[] = {"prompt_tokens", "output_tokens", "ttft_ms",
                                        "tpot_ms",       "e2e_ms",        "start_s",
                                        "itl_ms",        "run",           "model"};
    csvin *in = csvin_open(L->path, L->err, L->errlen);
    if (in == NULL)
        return -1;
    int rc = csvin_read_header(in);
    if (rc != 1) {
        if (rc == 0)
            bl_fail_at(L, 0, "empty file (expected a header row with %s)", CSV_FORM);
        else
            util_errf(L->err, L->errlen, "%s", csvin_error(in));
        csvin_close(in);
        return -1;
    }
    /* capsim run's requests.csv names three of them its own way. */
    static const char *const alias[] = {NULL,        NULL, NULL,          NULL, "e2el_ms",
                                        "arrival_s", NULL, "replication", NULL};
    int col[9];
    for (int c = 0; c < 9; c++) {
        col[c] = csvin_column(in, names[c]);
        if (col[c] < 0 && alias[c])
            col[c] = csvin_column(in, alias[c]);
    }
    rc = 0;
    for (int c = 0; c < 3 && rc == 0; c++)
        if (col[c] < 0)
            rc = bl_fail_at(L, csvin_header_line(in),
                            "missing column '%s' in the header (expected %s)", names[c], CSV_FORM);
    if (rc == 0 && col[3] < 0 && col[4] < 0)
        rc = bl_fail_at(L, csvin_header_line(in),
                        "the header has neither tpot_ms nor e2e_ms (expected %s)", CSV_FORM);
    size_t last_ri = SIZE_MAX;
    while (rc == 0) {
        int got = csvin_next(in);
        if (got == 0)
            break;
        if (got < 0) {
            util_errf(L->err, L->errlen, "%s", csvin_error(in));
            rc = -1;
        } else {
            rc = csv_row(L, in, col, &last_ri);
        }
    }
    csvin_close(in);
    return rc;
}

/* True if the first line of s is a CSV header with a prompt_tokens column. */
static int csv_header_has_prompt(const char *s)
{
    size_t n = strcspn(s, "\n");
    const char *end = s + n;
    for (const char *f = s; f <= end;) {
        const char *comma = memchr(f, ',', (size_t)(end - f));
        const char *fe = comma ? comma : end;
        const char *a = f, *b = fe;
        while (a < b && strchr(" \t\r\"", *a) != NULL)
            a++;
        while (b > a && strchr(" \t\r\"", b[-1]) != NULL)
            b--;
        if ((size_t)(b - a) == 13 && memcmp(a, "prompt_tokens", 13) == 0)
            return 1;
        if (comma == NULL)
            break;
        f = comma + 1;
    }
    return 0;
}

static int csv_detect(const char *p)
{
    return *p != '{' && *p != '[' && csv_header_has_prompt(p);
}

const bench_format_def bench_format_csv = {
    .name = "csv",
    .title = "CSV",
    .what = "a CSV with a prompt_tokens column",
    .help = "one row per request: prompt_tokens, output_tokens, ttft_ms and tpot_ms or e2e_ms; "
            "optional start_s, run, model (capsim run's requests.csv is accepted as it is)",
    .detect = csv_detect,
    .load = csv_load,
};
