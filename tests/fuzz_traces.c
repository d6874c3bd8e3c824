/*
 * fuzz_traces: a libFuzzer target for the trace readers (workloads/traces.h), one binary
 * per format, chosen at compile time by its name with -DFUZZ_FORMAT_NAME='"azure"' ("auto",
 * the default, also exercises detection). tests/run_fuzz.sh builds and runs one for every
 * format of the table (workloads/trace_table.c).
 *
 * Each input is written to a temporary file (the readers take a path) and read to the
 * end three times: with default options, with skip_bad_rows, and with skip_bad_rows,
 * strict order, a window, a speedup, a request cap and BurstGPT filters. Besides the
 * sanitizers, the target aborts when a promise of the API is broken: a failure without a
 * one-line message, arrivals that decrease (or start after 0, except in capsim's own
 * format, whose times are kept as written), token counts out of
 * range, more requests than the cap, or statistics that do not add up.
 *
 * The source is closed through its ops table rather than reqsrc_close(), so the target
 * links only the trace readers (workloads/trace*.c), csvin.c and util.c (reqsrc.c would
 * pull in GSL).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "workloads/traces.h"

#ifndef FUZZ_FORMAT_NAME
#define FUZZ_FORMAT_NAME "auto"
#endif

/* The format under test; a name the table does not know is a build mistake. */
static trace_format fuzz_format(void)
{
    trace_format f;
    if (trace_format_parse(FUZZ_FORMAT_NAME, &f) != 0)
        abort();
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *err)
{
    if (err[0] == '\0' || strchr(err, '\n') != NULL)
        abort();
}

static void read_all(const char *path, const trace_options *opt)
{
    char err[512] = "";
    reqsrc *s = trace_open(path, opt, err, sizeof err);
    if (s == NULL) {
        check_message(err);
        return;
    }
    request r;
    uint64_t n = 0;
    double last = 0;
    int rc;
    while ((rc = s->ops->next(s, &r, err, sizeof err)) == 1) {
        /* Times are >= 0 and in order (the first is 0 except in capsim's own format, whose
         * arrival_s is kept as written). */
        if (!(r.arrival_s >= 0) || !(r.arrival_s >= last) || r.prompt_tokens < 1 ||
            r.prompt_tokens > REQSRC_MAX_TOKENS || r.output_tokens < 1 ||
            r.output_tokens > REQSRC_MAX_TOKENS)
            abort();
        last = r.arrival_s;
        n++;
    }
    if (rc < 0) {
        check_message(err);
        /* A failed source keeps failing. */
        if (s->ops->next(s, &r, err, sizeof err) != -1)
            abort();
    } else if (rc != 0 || s->ops->next(s, &r, err, sizeof err) != 0) {
        abort();
    }
    const trace_stats *st = trace_get_stats(s);
    if (st == NULL || st->rows_kept != n || st->rows_kept + st->rows_bad > st->rows_read ||
        (opt->max_requests && n > opt->max_requests) || (!opt->skip_bad_rows && st->rows_bad))
        abort();
    s->ops->close(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_traces_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 0;
    size_t done = 0;
    while (done < size) {
        ssize_t w = write(fd, data + done, size - done);
        if (w <= 0)
            break;
        done += (size_t)w;
    }
    close(fd);
    if (done == size) {
        trace_options o;
        memset(&o, 0, sizeof o);
        o.format = fuzz_format();
        read_all(path, &o);
        o.skip_bad_rows = 1;
        read_all(path, &o);
        o.strict = 1;
        o.window_start_s = 0.5;
        o.window_end_s = 1000;
        o.speedup = 3;
        o.max_requests = 5;
        o.burstgpt_model = "ChatGPT";
        o.burstgpt_log_type = "API log";
        read_all(path, &o);
    }
    unlink(path);
    return 0;
}
