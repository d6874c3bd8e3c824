/*
 * fuzz_bench: a libFuzzer target for the benchmark result readers (models/bench.h), one
 * binary per format, chosen at compile time by its name with -DFUZZ_FORMAT_NAME='"vllm"'
 * ("auto", the default, also exercises detection). tests/run_fuzz.sh builds and runs one
 * for every format of the table (models/bench_table.c).
 *
 * Each input is written to a temporary file (the readers take a path), detected and read.
 * Besides the sanitizers, the target aborts when a promise of the API is broken: a failure
 * without a one-line message or with something left in the set; a success with no run, a
 * run without requests, a label that is empty, repeated or has control characters; a
 * request with token counts below 1 or fractional, a time to first token that is not a
 * finite number > 0, inter-token latencies that are missing though counted (or present
 * though not), negative or not finite, a tpot or e2e that is neither NAN nor a finite
 * number (e2e at least the time to first token, tpot NAN with one output token), start
 * times not relative to the run's earliest request; or a warning count without a one-line
 * first warning.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/bench.h"

#ifndef FUZZ_FORMAT_NAME
#define FUZZ_FORMAT_NAME "auto"
#endif

/* The format under test; a name the table does not know is a build mistake. */
static bench_format fuzz_format(void)
{
    bench_format f;
    if (bench_format_parse(FUZZ_FORMAT_NAME, &f) != 0)
        abort();
    return f;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const char *msg, size_t cap)
{
    if (msg[0] == '\0' || strnlen(msg, cap) == cap || strchr(msg, '\n') != NULL)
        abort();
}

static void check_name(const char *s, size_t cap, int may_be_empty)
{
    size_t n = strnlen(s, cap);
    if (n == cap || (n == 0 && !may_be_empty))
        abort();
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            abort();
}

static int whole_count(double x)
{
    return isfinite(x) && x >= 1 && x == floor(x);
}

static void check_request(const bench_request *q, int *any_start, int *zero_start)
{
    if (!whole_count(q->prompt_tokens) || !whole_count(q->output_tokens))
        abort();
    if (!isfinite(q->ttft_s) || !(q->ttft_s > 0))
        abort();
    if ((q->n_itl > 0) != (q->itl_s != NULL))
        abort();
    for (size_t j = 0; j < q->n_itl; j++)
        if (!isfinite(q->itl_s[j]) || q->itl_s[j] < 0)
            abort();
    if (!isnan(q->tpot_s) && (!isfinite(q->tpot_s) || q->tpot_s < 0 || q->output_tokens == 1))
        abort();
    if (!isnan(q->e2e_s) && (!isfinite(q->e2e_s) || q->e2e_s < q->ttft_s))
        abort();
    if (!isnan(q->start_s)) {
        if (!isfinite(q->start_s) || q->start_s < 0)
            abort();
        *any_start = 1;
        if (q->start_s == 0)
            *zero_start = 1;
    }
}

static void check_set(const bench_set *s)
{
    if (s->n_runs == 0 || s->runs == NULL)
        abort();
    if (s->format == BENCH_AUTO || (size_t)s->format > bench_format_count() ||
        (fuzz_format() != BENCH_AUTO && s->format != fuzz_format()))
        abort();
    if (s->n_warnings > 0)
        check_message(s->first_warning, sizeof s->first_warning);
    for (size_t i = 0; i < s->n_runs; i++) {
        const bench_run *r = &s->runs[i];
        check_name(r->label, sizeof r->label, 0);
        check_name(r->model, sizeof r->model, 1);
        for (size_t j = 0; j < i; j++)
            if (strcmp(s->runs[j].label, r->label) == 0)
                abort();
        if (!isfinite(r->request_rate) || r->request_rate < 0)
            abort();
        if (r->n == 0 || r->req == NULL)
            abort();
        int any_start = 0, zero_start = 0;
        for (size_t j = 0; j < r->n; j++)
            check_request(&r->req[j], &any_start, &zero_start);
        if (any_start && !zero_start)
            abort();
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[] = "/tmp/fuzz_bench_XXXXXX";
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
        char err[512] = "";
        if (fuzz_format() == BENCH_AUTO) {
            bench_format f = bench_detect(path, err, sizeof err);
            if ((size_t)f > bench_format_count())
                abort();
            if (f == BENCH_AUTO)
                check_message(err, sizeof err);
        }
        bench_set s;
        err[0] = '\0';
        if (bench_load(path, fuzz_format(), &s, err, sizeof err) == 0) {
            check_set(&s);
            bench_set_free(&s);
            if (s.runs != NULL || s.n_runs != 0)
                abort();
        } else {
            check_message(err, sizeof err);
            if (s.runs != NULL || s.n_runs != 0 || s.n_warnings != 0)
                abort();
        }
    }
    unlink(path);
    return 0;
}
