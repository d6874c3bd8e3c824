/*
 * test_bench: unit and known-answer tests of the benchmark result readers (models/bench.h).
 *
 * Every fixture is written by the test into a fresh directory under /tmp (removed at the
 * end), so messages can be checked for the file's name. For each format: a small file whose
 * values are computed by hand (lengths, times in seconds, the derived tpot and e2e), the
 * variants real tools write (vLLM's prompt_lens spelling, "inf" and Infinity rates, JSON
 * lines and top-level arrays, AIPerf's units and its older key names, genai-perf's SSE and
 * Triton responses, GuideLLM 0.2 and later request shapes), requests skipped with a warning
 * (a NaN time to first token) or counted as failed, and each kind of bad input, which must
 * fail with a one-line message naming the file and, where it can, the line and field.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/bench.h"
#include "tests/check.h"

/* The fixture directory, made on first use. */
static const char *fixture_dir(void)
{
    static char dir[64];
    if (dir[0] == '\0') {
        snprintf(dir, sizeof dir, "/tmp/capsim_bench_XXXXXX");
        if (mkdtemp(dir) == NULL)
            dir[0] = '\0';
    }
    return dir;
}

/* Writes len bytes to fixture_dir()/name; path receives the full name. */
static void fixture_bytes(char path[128], const char *name, const char *data, size_t len)
{
    snprintf(path, 128, "%s/%s", fixture_dir(), name);
    FILE *fp = fopen(path, "wb");
    if (!CHECK(fp != NULL))
        return;
    CHECK(fwrite(data, 1, len, fp) == len);
    fclose(fp);
}

static void fixture(char path[128], const char *name, const char *text)
{
    fixture_bytes(path, name, text, strlen(text));
}

/* Loads a fixture and expects success. */
static int load_ok(const char *name, const char *text, bench_format f, bench_set *s)
{
    char path[128], err[512] = "";
    fixture(path, name, text);
    int rc = bench_load(path, f, s, err, sizeof err);
    if (!CHECK_EQ_INT(rc, 0))
        fprintf(stderr, "  message: %s\n", err);
    return rc == 0;
}

/* Loads a fixture and expects failure with a one-line message naming the file and
 * containing want. */
static void load_fails(const char *name, const char *text, bench_format f, const char *want)
{
    char path[128], err[512] = "";
    bench_set s;
    fixture(path, name, text);
    CHECK_EQ_INT(bench_load(path, f, &s, err, sizeof err), -1);
    CHECK_CONTAINS(err, name);
    CHECK_CONTAINS(err, want);
    CHECK(strchr(err, '\n') == NULL);
    CHECK(s.runs == NULL && s.n_runs == 0);
}

/* --- vLLM -------------------------------------------------------------------------------- */

/* A hand-computed example: request 0 is kept with three output tokens, request 1 with one,
 * request 2 failed (errors[2] is not empty). */
static const char VLLM_SMALL[] =
    "{\"date\": \"20250101-000000\", \"model_id\": \"meta-llama/Llama-3.1-8B\",\n"
    " \"request_rate\": 4.0, \"burstiness\": 1.0, \"max_concurrency\": null,\n"
    " \"completed\": 2, \"failed\": 1,\n"
    " \"input_lens\": [10, 20, 30], \"output_lens\": [3, 1, 0],\n"
    " \"ttfts\": [0.1, 0.2, 0.0], \"itls\": [[0.02, 0.04], [], []],\n"
    " \"start_times\": [100.5, 100.0, 101.0],\n"
    " \"generated_texts\": [\"a b c\", \"d\", \"\"], \"errors\": [\"\", \"\", \"timeout\"]}\n";

static void test_vllm_known_answer(void)
{
    bench_set s;
    if (!load_ok("small.json", VLLM_SMALL, BENCH_VLLM, &s))
        return;
    CHECK_EQ_INT(s.format, BENCH_VLLM);
    CHECK_EQ_U64(s.n_runs, 1);
    CHECK_EQ_U64(s.n_warnings, 0);
    const bench_run *r = &s.runs[0];
    CHECK(strcmp(r->label, "rate 4 req/s") == 0);
    CHECK(strcmp(r->model, "meta-llama/Llama-3.1-8B") == 0);
    CHECK_EQ_DBL(r->request_rate, 4);
    CHECK_EQ_U64(r->max_concurrency, 0);
    CHECK_EQ_U64(r->n_failed, 1);
    if (!CHECK_EQ_U64(r->n, 2)) {
        bench_set_free(&s);
        return;
    }
    const bench_request *a = &r->req[0], *b = &r->req[1];
    CHECK_EQ_DBL(a->prompt_tokens, 10);
    CHECK_EQ_DBL(a->output_tokens, 3);
    CHECK_NEAR(a->ttft_s, 0.1, 1e-15);
    CHECK_NEAR(a->e2e_s, 0.16, 1e-15);  /* 0.1 + 0.02 + 0.04 */
    CHECK_NEAR(a->tpot_s, 0.03, 1e-15); /* (0.16 - 0.1) / (3 - 1) */
    CHECK_NEAR(a->start_s, 0.5, 1e-12); /* from the run's earliest, 100.0 */
    CHECK_EQ_U64(a->n_itl, 2);
    if (CHECK(a->itl_s != NULL)) {
        CHECK_EQ_DBL(a->itl_s[0], 0.02);
        CHECK_EQ_DBL(a->itl_s[1], 0.04);
    }
    CHECK_EQ_DBL(b->prompt_tokens, 20);
    CHECK_EQ_DBL(b->output_tokens, 1);
    CHECK_EQ_DBL(b->ttft_s, 0.2);
    CHECK_EQ_DBL(b->e2e_s, 0.2);
    CHECK_NAN(b->tpot_s);
    CHECK_EQ_DBL(b->start_s, 0);
    CHECK_EQ_U64(b->n_itl, 0);
    CHECK(b->itl_s == NULL);
    bench_set_free(&s);
    bench_set_free(&s); /* a freed set can be freed again (the sanitizers and valgrind check) */
}

/* The older benchmark_serving.py: prompt_lens, model, "inf"; no errors[] (failed requests
 * then show as a zero output length), no start times. */
static void test_vllm_old_spelling_and_inf(void)
{
    bench_set s;
    if (!load_ok("old.json",
                 "{\"model\": \"old-model\", \"request_rate\": \"inf\", \"max_concurrency\": 8,"
                 " \"prompt_lens\": [5, 6], \"output_lens\": [2, 0], \"ttfts\": [0.5, 0],"
                 " \"itls\": [[0.25], []]}",
                 BENCH_VLLM, &s))
        return;
    const bench_run *r = &s.runs[0];
    CHECK(strcmp(r->label, "rate inf, concurrency 8") == 0);
    CHECK(strcmp(r->model, "old-model") == 0);
    CHECK_EQ_DBL(r->request_rate, 0);
    CHECK_EQ_U64(r->max_concurrency, 8);
    CHECK_EQ_U64(r->n, 1);
    CHECK_EQ_U64(r->n_failed, 1);
    CHECK_NAN(r->req[0].start_s);
    CHECK_EQ_DBL(r->req[0].e2e_s, 0.75);
    CHECK_EQ_DBL(r->req[0].tpot_s, 0.25);
    bench_set_free(&s);

    /* Python's json writes an infinite rate as the bare literal Infinity. */
    if (!load_ok("infinity.json",
                 "{\"request_rate\": Infinity, \"max_concurrency\": null,"
                 " \"input_lens\": [5], \"output_lens\": [1], \"ttfts\": [0.5]}",
                 BENCH_VLLM, &s))
        return;
    CHECK(strcmp(s.runs[0].label, "rate inf") == 0);
    CHECK_EQ_DBL(s.runs[0].request_rate, 0);
    CHECK_NAN(s.runs[0].req[0].e2e_s); /* no itls, no e2els */
    CHECK_NAN(s.runs[0].req[0].tpot_s);
    bench_set_free(&s);
}

static void test_vllm_several_results(void)
{
    bench_set s;
    /* --append-result: one object per line. */
    if (!load_ok("appended.jsonl",
                 "{\"request_rate\": 1, \"input_lens\": [5], \"output_lens\": [1], "
                 "\"ttfts\": [0.1]}\n"
                 "{\"request_rate\": 2, \"input_lens\": [5, 7], \"output_lens\": [1, 1], "
                 "\"ttfts\": [0.1, 0.2]}\n",
                 BENCH_VLLM, &s))
        return;
    if (CHECK_EQ_U64(s.n_runs, 2)) {
        CHECK(strcmp(s.runs[0].label, "rate 1 req/s") == 0);
        CHECK(strcmp(s.runs[1].label, "rate 2 req/s") == 0);
        CHECK_EQ_U64(s.runs[0].n, 1);
        CHECK_EQ_U64(s.runs[1].n, 2);
    }
    bench_set_free(&s);

    /* A top-level array of results; equal labels are told apart. */
    if (!load_ok("array.json",
                 "[{\"request_rate\": 3, \"input_lens\": [5], \"output_lens\": [1], "
                 "\"ttfts\": [0.1]},\n"
                 " {\"request_rate\": 3, \"input_lens\": [5], \"output_lens\": [1], "
                 "\"ttfts\": [0.3]},\n"
                 " {\"input_lens\": [5], \"output_lens\": [1], \"ttfts\": [0.3]}]",
                 BENCH_VLLM, &s))
        return;
    if (CHECK_EQ_U64(s.n_runs, 3)) {
        CHECK(strcmp(s.runs[0].label, "rate 3 req/s") == 0);
        CHECK(strcmp(s.runs[1].label, "rate 3 req/s #2") == 0);
        CHECK(strcmp(s.runs[2].label, "result 3") == 0);
        CHECK_EQ_DBL(s.runs[1].req[0].ttft_s, 0.3);
    }
    bench_set_free(&s);

    /* e2els stand in for the missing itls. */
    if (!load_ok("e2els.json",
                 "{\"input_lens\": [5], \"output_lens\": [5], \"ttfts\": [0.1], "
                 "\"e2els\": [0.5]}",
                 BENCH_VLLM, &s))
        return;
    CHECK_EQ_DBL(s.runs[0].req[0].e2e_s, 0.5);
    CHECK_NEAR(s.runs[0].req[0].tpot_s, 0.1, 1e-15);
    CHECK_EQ_U64(s.runs[0].req[0].n_itl, 0);
    bench_set_free(&s);
}

static void test_vllm_nan_and_failed(void)
{
    bench_set s;
    /* A NaN time to first token leaves that request out, with a warning naming it. */
    if (load_ok("nan.json",
                "{\"request_rate\": 2, \"input_lens\": [5, 6, 7], \"output_lens\": [2, 2, 2],"
                " \"ttfts\": [0.1, NaN, 0.2], \"itls\": [[0.1], [0.1], [Infinity]],"
                " \"errors\": [\"\", \"\", \"\"]}",
                BENCH_VLLM, &s)) {
        CHECK_EQ_U64(s.runs[0].n, 1);
        CHECK_EQ_U64(s.runs[0].n_failed, 0);
        CHECK_EQ_U64(s.n_warnings, 2);
        CHECK_CONTAINS(s.first_warning, "nan.json");
        CHECK_CONTAINS(s.first_warning, "run 1 (rate 2 req/s)");
        CHECK_CONTAINS(s.first_warning, "request 1");
        CHECK_CONTAINS(s.first_warning, "ttfts");
        CHECK_CONTAINS(s.first_warning, "NaN");
        CHECK(strchr(s.first_warning, '\n') == NULL);
        bench_set_free(&s);
    }
    /* When that leaves nothing, the file fails. */
    load_fails("all_nan.json",
               "{\"input_lens\": [5], \"output_lens\": [2], \"ttfts\": [NaN], \"itls\": [[0.1]]}",
               BENCH_VLLM, "no usable request (0 failed, 1 left out for unusable values");
    load_fails("all_failed.json",
               "{\"input_lens\": [5, 5], \"output_lens\": [0, 0], \"ttfts\": [0, 0],"
               " \"itls\": [[], []], \"errors\": [\"refused\", \"refused\"]}",
               BENCH_VLLM, "no successful request (2 failed)");
    /* A run without a successful request is left out when others have some. */
    if (load_ok("one_empty.jsonl",
                "{\"request_rate\": 1, \"input_lens\": [5], \"output_lens\": [0], "
                "\"ttfts\": [0], \"errors\": [\"x\"]}\n"
                "{\"request_rate\": 2, \"input_lens\": [5], \"output_lens\": [1], "
                "\"ttfts\": [0.1], \"errors\": [\"\"]}\n",
                BENCH_VLLM, &s)) {
        CHECK_EQ_U64(s.n_runs, 1);
        CHECK(strcmp(s.runs[0].label, "rate 2 req/s") == 0);
        CHECK_EQ_U64(s.n_warnings, 1);
        CHECK_CONTAINS(s.first_warning, "no successful request (1 failed)");
        bench_set_free(&s);
    }
}

static void test_vllm_bad_input(void)
{
    /* Truncated: the message gives the line where the file ends. */
    load_fails("truncated.json", "{\"input_lens\": [5, 6],\n \"output_lens\": [1, 1],\n \"ttf",
               BENCH_VLLM, "truncated.json:3:");
    load_fails("truncated2.json", "{\"input_lens\": [5, 6],\n \"output_lens\": [1, 1],\n \"ttf",
               BENCH_VLLM, "truncated JSON");
    load_fails("malformed.json", "{\"input_lens\": [5 6]}", BENCH_VLLM, "malformed JSON");
    load_fails("unequal.json",
               "{\"input_lens\": [5, 6, 7], \"output_lens\": [1, 1, 1], \"ttfts\": [0.1, 0.2]}",
               BENCH_VLLM, "key 'ttfts' has 2 items but 'input_lens' has 3");
    load_fails("negative.json",
               "{\"input_lens\": [5, -5], \"output_lens\": [1, 1], \"ttfts\": [0.1, 0.2]}",
               BENCH_VLLM, "input_lens[1]: found -5");
    load_fails("zero_prompt.json", "{\"input_lens\": [0], \"output_lens\": [1], \"ttfts\": [0.1]}",
               BENCH_VLLM, "input_lens[0]: found 0");
    load_fails("fraction.json", "{\"input_lens\": [5], \"output_lens\": [1.5], \"ttfts\": [0.1]}",
               BENCH_VLLM, "output_lens[0]: found 1.5");
    load_fails("no_detail.json", "{\"request_rate\": 1, \"completed\": 10}", BENCH_VLLM,
               "--save-detailed");
    load_fails("second_bad.jsonl",
               "{\"input_lens\": [5], \"output_lens\": [1], \"ttfts\": [0.1]}\n"
               "{\"input_lens\": [5], \"output_lens\": [1]}\n",
               BENCH_VLLM, "second_bad.jsonl:2: result 2: no key 'ttfts'");
    load_fails("string_ttft.json",
               "{\"input_lens\": [5], \"output_lens\": [1], \"ttfts\": [\"x\"]}", BENCH_VLLM,
               "ttfts[0]: found 'x'");
    load_fails("not_object.json", "[1, 2]", BENCH_VLLM, "expected a vllm bench serve result");
    load_fails("empty.json", " \n", BENCH_VLLM, "empty file");
    char err[512] = "";
    bench_set s;
    CHECK_EQ_INT(bench_load("/nonexistent/bench.json", BENCH_VLLM, &s, err, sizeof err), -1);
    CHECK_CONTAINS(err, "/nonexistent/bench.json: cannot open");
}

/* --- AIPerf ------------------------------------------------------------------------------ */

static void test_aiperf_units(void)
{
    bench_set s;
    const char *text =
        /* Current records: units given, start in request_start_ns. */
        "{\"metadata\": {\"session_num\": 0, \"request_start_ns\": 1000000000000000000,"
        " \"benchmark_phase\": \"profiling\", \"was_cancelled\": false},"
        " \"metrics\": {\"input_sequence_length\": {\"value\": 100, \"unit\": \"tokens\"},"
        " \"time_to_first_token\": {\"value\": 250.0, \"unit\": \"ms\"},"
        " \"request_latency\": {\"value\": 0.45, \"unit\": \"s\"},"
        " \"inter_token_latency\": {\"value\": 50000000, \"unit\": \"ns\"},"
        " \"inter_chunk_latency\": {\"value\": [50, 50, 50, 50], \"unit\": \"ms\"},"
        " \"output_sequence_length\": {\"value\": 5, \"unit\": \"tokens\"}}, \"error\": null}\n"
        /* A 0.1-era record: ttft, output_token_count, timestamp_ns, bare numbers (ms). */
        "{\"metadata\": {\"timestamp_ns\": 1000000002000000000, \"credit_phase\": "
        "\"profiling\"},"
        " \"metrics\": {\"input_sequence_length\": 40, \"ttft\": 100,"
        " \"output_token_count\": {\"value\": 1, \"unit\": \"tokens\"}}}\n"
        /* A failed request and a warmup request. */
        "{\"metadata\": {\"request_start_ns\": 1000000001000000000}, \"metrics\": "
        "{\"error_isl\": {\"value\": 550, \"unit\": \"tokens\"}}, \"error\": {\"code\": 499, "
        "\"type\": \"RequestCancellationError\", \"message\": \"cancelled\"}}\n"
        "{\"metadata\": {\"request_start_ns\": 1, \"benchmark_phase\": \"warmup\"},"
        " \"metrics\": {\"input_sequence_length\": 1}}\n";
    if (!load_ok("profile_export.jsonl", text, BENCH_AIPERF, &s))
        return;
    CHECK_EQ_U64(s.n_runs, 1);
    const bench_run *r = &s.runs[0];
    CHECK(strcmp(r->label, "aiperf") == 0);
    CHECK_EQ_U64(r->n_failed, 1);
    if (CHECK_EQ_U64(r->n, 2)) {
        const bench_request *a = &r->req[0], *b = &r->req[1];
        CHECK_EQ_DBL(a->prompt_tokens, 100);
        CHECK_EQ_DBL(a->output_tokens, 5);
        CHECK_NEAR(a->ttft_s, 0.25, 1e-15);
        CHECK_NEAR(a->e2e_s, 0.45, 1e-15);
        CHECK_NEAR(a->tpot_s, 0.05, 1e-15);
        CHECK_EQ_DBL(a->start_s, 0);
        if (CHECK_EQ_U64(a->n_itl, 4))
            CHECK_NEAR(a->itl_s[3], 0.05, 1e-15);
        CHECK_EQ_DBL(b->prompt_tokens, 40);
        CHECK_EQ_DBL(b->output_tokens, 1);
        CHECK_NEAR(b->ttft_s, 0.1, 1e-15);
        CHECK_NAN(b->tpot_s);
        CHECK_NAN(b->e2e_s);
        CHECK_EQ_DBL(b->start_s, 2.0);
    }
    bench_set_free(&s);

    load_fails("bad_unit.jsonl",
               "{\"metadata\": {}, \"metrics\": {\"input_sequence_length\": 10,"
               " \"output_sequence_length\": 2, \"time_to_first_token\": {\"value\": 1, "
               "\"unit\": \"min\"}}}\n",
               BENCH_AIPERF, "metrics.time_to_first_token: unit 'min'");
    load_fails("no_ttft.jsonl",
               "{\"metadata\": {}, \"metrics\": {\"input_sequence_length\": 10,"
               " \"output_sequence_length\": 2}}\n"
               "{\"metadata\": {}, \"metrics\": {\"input_sequence_length\": 10}}\n",
               BENCH_AIPERF, "no_ttft.jsonl:1: metrics: no time_to_first_token");
    load_fails("no_osl.jsonl",
               "{\"metadata\": {}, \"metrics\": {\"input_sequence_length\": 10,"
               " \"time_to_first_token\": 5}}\n",
               BENCH_AIPERF, "metrics.output_sequence_length (or output_token_count): missing");
    load_fails("all_errors.jsonl",
               "{\"metadata\": {}, \"metrics\": null, \"error\": {\"code\": 500}}\n", BENCH_AIPERF,
               "no successful request (1 failed)");
}

/* --- genai-perf -------------------------------------------------------------------------- */

static const char GENAI[] =
    "{\"service_kind\": \"openai\", \"endpoint\": \"v1/chat/completions\", \"experiments\": [\n"
    " {\"experiment\": {\"mode\": \"concurrency\", \"value\": 2}, \"requests\": [\n"
    "  {\"timestamp\": 1000,\n"
    "   \"request_inputs\": {\"payload\": \"{\\\"messages\\\":[],\\\"model\\\":\\\"llama\\\","
    "\\\"stream\\\":true}\"},\n"
    "   \"response_timestamps\": [3000, 5000, 8000, 12000, 13000, 14000],\n"
    "   \"response_outputs\": [\n"
    "    {\"response\": \"data: {\\\"choices\\\":[{\\\"delta\\\":{\\\"role\\\":"
    "\\\"assistant\\\"}}]}\\n\\n\"},\n"
    "    {\"response\": \"data: {\\\"choices\\\":[{\\\"delta\\\":{\\\"content\\\":\\\"I\\\"}}]}"
    "\\n\\n\"},\n"
    "    {\"response\": \"data: {\\\"choices\\\":[{\\\"delta\\\":{\\\"content\\\":\\\" like\\\"}}]}"
    "\\n\\n\"},\n"
    "    {\"response\": \"data: {\\\"choices\\\":[{\\\"text\\\":\\\" dogs\\\"}]}\\n\\n\"},\n"
    "    {\"response\": \"data: {\\\"choices\\\":[],\\\"usage\\\":{\\\"prompt_tokens\\\":7,"
    "\\\"completion_tokens\\\":3}}\\n\\n\"},\n"
    "    {\"response\": \"data: [DONE]\\n\\n\"}]}]},\n"
    " {\"experiment\": {\"mode\": \"request_rate\", \"value\": 1.5}, \"requests\": [\n"
    "  {\"timestamp\": 5000000000, \"request_inputs\": {\"text_input\": \"hi\","
    " \"input_lengths\": [12]},\n"
    "   \"response_timestamps\": [5100000000, 5200000000],\n"
    "   \"response_outputs\": [{\"text_output\": \"a\"}, {\"text_output\": \"b\"}]},\n"
    "  {\"timestamp\": 4000000000, \"request_inputs\": {\"input_lengths\": [3]},\n"
    "   \"response_timestamps\": [], \"response_outputs\": []}]}]}\n";

static void test_genai_perf(void)
{
    bench_set s;
    if (!load_ok("profile_export.json", GENAI, BENCH_GENAI_PERF, &s))
        return;
    if (!CHECK_EQ_U64(s.n_runs, 2)) {
        bench_set_free(&s);
        return;
    }
    const bench_run *r = &s.runs[0];
    CHECK(strcmp(r->label, "concurrency 2") == 0);
    CHECK(strcmp(r->model, "llama") == 0);
    CHECK_EQ_U64(r->max_concurrency, 2);
    if (CHECK_EQ_U64(r->n, 1)) {
        const bench_request *a = &r->req[0];
        /* Responses with text at 5000, 8000 and 12000 ns after a send at 1000 ns. */
        CHECK_EQ_DBL(a->prompt_tokens, 7);
        CHECK_EQ_DBL(a->output_tokens, 3);
        CHECK_NEAR(a->ttft_s, 4e-6, 1e-18);
        CHECK_NEAR(a->e2e_s, 11e-6, 1e-18);
        CHECK_NEAR(a->tpot_s, 3.5e-6, 1e-18);
        if (CHECK_EQ_U64(a->n_itl, 2)) {
            CHECK_NEAR(a->itl_s[0], 3e-6, 1e-18);
            CHECK_NEAR(a->itl_s[1], 4e-6, 1e-18);
        }
    }
    r = &s.runs[1];
    CHECK(strcmp(r->label, "rate 1.5 req/s") == 0);
    CHECK_EQ_DBL(r->request_rate, 1.5);
    CHECK_EQ_U64(r->n_failed, 1);
    if (CHECK_EQ_U64(r->n, 1)) {
        const bench_request *a = &r->req[0];
        CHECK_EQ_DBL(a->prompt_tokens, 12);
        CHECK_EQ_DBL(a->output_tokens, 2);
        CHECK_NEAR(a->ttft_s, 0.1, 1e-12);
        CHECK_NEAR(a->e2e_s, 0.2, 1e-12);
        CHECK_NEAR(a->tpot_s, 0.1, 1e-12);
        CHECK_EQ_DBL(a->start_s, 0);
    }
    bench_set_free(&s);

    load_fails("genai_no_prompt.json",
               "{\"experiments\": [{\"experiment\": {\"mode\": \"concurrency\", \"value\": 1},"
               " \"requests\": [{\"timestamp\": 1, \"request_inputs\": {\"text_input\": \"x\"},"
               " \"response_timestamps\": [5], \"response_outputs\": [{\"text_output\": "
               "\"y\"}]}]}]}",
               BENCH_GENAI_PERF, "experiments[0].requests[0]: no prompt token count");
    load_fails("genai_no_experiments.json", "{\"service_kind\": \"openai\"}", BENCH_GENAI_PERF,
               "no key 'experiments'");
    load_fails("genai_two_docs.json",
               "{\"experiments\": [{\"requests\": [{\"timestamp\": 1, "
               "\"request_inputs\": {\"input_lengths\": 3}, \"response_timestamps\": [5]}]}]}"
               "\n{}",
               BENCH_GENAI_PERF, "unexpected text after the JSON document");
}

/* --- GuideLLM ---------------------------------------------------------------------------- */

static const char GUIDELLM[] =
    "{\"benchmarks\": [\n"
    /* GuideLLM 0.2: strategy in args, request times in epoch seconds, computed fields. */
    " {\"type_\": \"generative_benchmark\", \"args\": {\"strategy\": {\"type_\": "
    "\"synchronous\"}},\n"
    "  \"worker\": {\"type_\": \"generative_requests_worker\", \"backend_model\": \"qwen\"},\n"
    "  \"requests\": {\"successful\": [\n"
    "   {\"prompt_tokens\": 50, \"output_tokens\": 4, \"start_time\": 1000.0,"
    " \"end_time\": 1000.5, \"first_token_time\": 1000.25, \"last_token_time\": 1000.5,"
    " \"request_latency\": 0.5, \"time_to_first_token_ms\": 250.0,"
    " \"inter_token_latency_ms\": 83.25}],\n"
    "   \"incomplete\": [{\"prompt_tokens\": 50}],\n"
    "   \"errored\": [{\"prompt_tokens\": 50, \"error\": \"boom\"}]}},\n"
    /* Later versions: strategy in config, times in info.timings only. */
    " {\"type_\": \"generative_benchmark\", \"config\": {\"strategy\": {\"type_\": "
    "\"constant\", \"rate\": 2.5}},\n"
    "  \"requests\": {\"successful\": [\n"
    "   {\"prompt_tokens\": 30, \"output_tokens\": 4, \"time_to_first_token_ms\": null,"
    " \"info\": {\"timings\": {\"request_start\": 2000.0, \"first_token_iteration\": 2000.25,"
    " \"last_token_iteration\": 2000.625, \"request_end\": 2000.75}}},\n"
    "   {\"prompt_tokens\": 31, \"output_tokens\": 1, \"request_start_time\": 2001.0,"
    " \"time_to_first_token_ms\": 125.0, \"request_latency\": 0.125}],\n"
    "   \"errored\": [], \"incomplete\": [], \"total\": null}}]}\n";

static void test_guidellm_two_benchmarks(void)
{
    bench_set s;
    if (!load_ok("benchmarks.json", GUIDELLM, BENCH_GUIDELLM, &s))
        return;
    if (!CHECK_EQ_U64(s.n_runs, 2)) {
        bench_set_free(&s);
        return;
    }
    const bench_run *r = &s.runs[0];
    CHECK(strcmp(r->label, "synchronous") == 0);
    CHECK(strcmp(r->model, "qwen") == 0);
    CHECK_EQ_U64(r->max_concurrency, 1);
    CHECK_EQ_U64(r->n_failed, 1); /* errored; incomplete is not counted */
    if (CHECK_EQ_U64(r->n, 1)) {
        CHECK_EQ_DBL(r->req[0].prompt_tokens, 50);
        CHECK_EQ_DBL(r->req[0].ttft_s, 0.25);
        CHECK_EQ_DBL(r->req[0].e2e_s, 0.5);
        CHECK_NEAR(r->req[0].tpot_s, 0.08325, 1e-15); /* inter_token_latency_ms as written */
        CHECK_EQ_DBL(r->req[0].start_s, 0);
    }
    r = &s.runs[1];
    CHECK(strcmp(r->label, "constant 2.5 req/s") == 0);
    CHECK_EQ_DBL(r->request_rate, 2.5);
    CHECK_EQ_U64(r->n_failed, 0);
    if (CHECK_EQ_U64(r->n, 2)) {
        const bench_request *a = &r->req[0], *b = &r->req[1];
        CHECK_EQ_DBL(a->prompt_tokens, 30);
        CHECK_EQ_DBL(a->ttft_s, 0.25);
        CHECK_EQ_DBL(a->e2e_s, 0.75);
        CHECK_EQ_DBL(a->tpot_s, 0.125); /* (2000.625 - 2000.25) / 3 */
        CHECK_EQ_DBL(a->start_s, 0);
        CHECK_EQ_DBL(b->ttft_s, 0.125);
        CHECK_EQ_DBL(b->e2e_s, 0.125);
        CHECK_NAN(b->tpot_s);
        CHECK_EQ_DBL(b->start_s, 1.0);
    }
    bench_set_free(&s);

    load_fails("guidellm_no_requests.json",
               "{\"benchmarks\": [{\"args\": {\"strategy\": {\"type_\": \"poisson\", "
               "\"rate\": 1}}}]}",
               BENCH_GUIDELLM, "benchmarks[0]: no key 'requests'");
    load_fails("guidellm_no_prompt.json",
               "{\"benchmarks\": [{\"requests\": {\"successful\": [{\"output_tokens\": 3, "
               "\"time_to_first_token_ms\": 5}]}}]}",
               BENCH_GUIDELLM, "benchmarks[0].requests.successful[0].prompt_tokens: missing");
    load_fails("guidellm_no_ttft.json",
               "{\"benchmarks\": [{\"requests\": {\"successful\": [{\"prompt_tokens\": 3, "
               "\"output_tokens\": 3}]}}]}",
               BENCH_GUIDELLM, "no time to first token");
}

/* --- CSV --------------------------------------------------------------------------------- */

static void test_csv_runs(void)
{
    bench_set s;
    if (!load_ok("measured.csv",
                 "run,model,prompt_tokens,output_tokens,ttft_ms,tpot_ms,e2e_ms,start_s,itl_ms\n"
                 "low,m1,100,3,50,,70,10.5,10;10\n"
                 "high,,200,2,80,25,,11,\n"
                 "low,,120,1,40,,,10,\n",
                 BENCH_CSV, &s))
        return;
    CHECK_EQ_INT(s.format, BENCH_CSV);
    if (!CHECK_EQ_U64(s.n_runs, 2)) {
        bench_set_free(&s);
        return;
    }
    const bench_run *lo = &s.runs[0], *hi = &s.runs[1];
    CHECK(strcmp(lo->label, "low") == 0);
    CHECK(strcmp(lo->model, "m1") == 0);
    CHECK(strcmp(hi->label, "high") == 0);
    if (CHECK_EQ_U64(lo->n, 2)) {
        CHECK_EQ_DBL(lo->req[0].ttft_s, 0.05);
        CHECK_EQ_DBL(lo->req[0].e2e_s, 0.07);
        CHECK_NEAR(lo->req[0].tpot_s, 0.01, 1e-15);
        CHECK_EQ_DBL(lo->req[0].start_s, 0.5);
        CHECK_EQ_U64(lo->req[0].n_itl, 2);
        CHECK_NAN(lo->req[1].tpot_s);
        CHECK_NAN(lo->req[1].e2e_s);
        CHECK_EQ_DBL(lo->req[1].start_s, 0);
    }
    if (CHECK_EQ_U64(hi->n, 1)) {
        CHECK_EQ_DBL(hi->req[0].tpot_s, 0.025);
        CHECK_NEAR(hi->req[0].e2e_s, 0.105, 1e-15); /* ttft + tpot * (2 - 1) */
    }
    bench_set_free(&s);

    if (load_ok("norun.csv", "prompt_tokens,output_tokens,ttft_ms,e2e_ms\n5,2,10,30\n", BENCH_AUTO,
                &s)) {
        CHECK(strcmp(s.runs[0].label, "all") == 0);
        CHECK_NEAR(s.runs[0].req[0].tpot_s, 0.02, 1e-15);
        bench_set_free(&s);
    }

    load_fails("bad_number.csv", "prompt_tokens,output_tokens,ttft_ms,tpot_ms\n5,2,10,3\n5,2,x,3\n",
               BENCH_CSV, "bad_number.csv:3: column 'ttft_ms'");
    load_fails("zero_tokens.csv", "prompt_tokens,output_tokens,ttft_ms,tpot_ms\n5,0,10,3\n",
               BENCH_CSV, "zero_tokens.csv:2: column 'output_tokens'");
    load_fails("no_ttft.csv", "prompt_tokens,output_tokens,tpot_ms\n5,2,3\n", BENCH_CSV,
               "missing column 'ttft_ms'");
    load_fails("no_tpot.csv", "prompt_tokens,output_tokens,ttft_ms\n5,2,3\n", BENCH_CSV,
               "neither tpot_ms nor e2e_ms");
    load_fails("bad_itl.csv", "prompt_tokens,output_tokens,ttft_ms,tpot_ms,itl_ms\n5,3,1,2,1;z\n",
               BENCH_CSV, "bad_itl.csv:2: column 'itl_ms': item 2");
    load_fails("header_only.csv", "prompt_tokens,output_tokens,ttft_ms,tpot_ms\n", BENCH_CSV,
               "no successful request (0 failed)");
}

/* --- Detection ----------------------------------------------------------------------------- */

static void test_detect(void)
{
    static const struct {
        const char *name, *text;
        bench_format want;
    } cases[] = {
        {"d_vllm.json", VLLM_SMALL, BENCH_VLLM},
        {"d_vllm_array.json", "[{\"prompt_lens\": [1], \"output_lens\": [1]}]", BENCH_VLLM},
        {"d_aiperf.jsonl", "{\"metadata\": {}, \"metrics\": {}, \"error\": null}\n", BENCH_AIPERF},
        {"d_genai.json", GENAI, BENCH_GENAI_PERF},
        {"d_guidellm.json", GUIDELLM, BENCH_GUIDELLM},
        {"d_csv.csv",
         "\xEF\xBB\xBF"
         "run,\"prompt_tokens\",output_tokens\n",
         BENCH_CSV},
        {"d_other.csv", "a,b,c\n1,2,3\n", BENCH_AUTO},
        {"d_other.json", "{\"hello\": 1}", BENCH_AUTO},
        {"d_empty", "", BENCH_AUTO},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char path[128], err[512] = "";
        fixture(path, cases[i].name, cases[i].text);
        bench_format f = bench_detect(path, err, sizeof err);
        if (!CHECK_EQ_INT(f, cases[i].want))
            fprintf(stderr, "  case %s\n", cases[i].name);
        if (cases[i].want == BENCH_AUTO) {
            CHECK_CONTAINS(err, "cannot tell the format of");
            CHECK_CONTAINS(err, cases[i].name);
            CHECK_CONTAINS(err, "--format");
            CHECK(strchr(err, '\n') == NULL);
        }
    }
    /* A one-line document longer than what detection reads is not taken for an AIPerf
     * record even if its start has metadata and metrics keys. */
    size_t big = 70000;
    char *text = malloc(big + 200);
    if (CHECK(text != NULL)) {
        char path[128], err[512] = "";
        int n = snprintf(text, 200, "{\"metadata\": {}, \"metrics\": {}, \"args\": \"");
        memset(text + n, 'a', big);
        snprintf(text + n + big, 200, "\", \"benchmarks\": []}");
        fixture(path, "d_long_line.json", text);
        CHECK_EQ_INT(bench_detect(path, err, sizeof err), BENCH_AUTO);
        CHECK_CONTAINS(err, "use --format");
        free(text);
    }
    /* bench_load with BENCH_AUTO detects, and fails with the same message. */
    bench_set s;
    if (load_ok("auto.json", GUIDELLM, BENCH_AUTO, &s)) {
        CHECK_EQ_INT(s.format, BENCH_GUIDELLM);
        bench_set_free(&s);
    }
    load_fails("auto_unknown.txt", "hello\n", BENCH_AUTO, "cannot tell the format");
    /* A forced format that does not fit the file says what it expected. */
    load_fails("forced.json", GUIDELLM, BENCH_VLLM, "no key 'input_lens' or 'prompt_lens'");
    load_fails("forced_aiperf.json", VLLM_SMALL, BENCH_AIPERF,
               "forced_aiperf.json:1: no key 'metrics'");
    /* Binary data. */
    char path[128], err[512] = "";
    fixture_bytes(path, "binary.json", "{\"a\":\n \"\0\"}", 10);
    CHECK_EQ_INT(bench_load(path, BENCH_VLLM, &s, err, sizeof err), -1);
    CHECK_CONTAINS(err, "binary.json:2: column 3: NUL byte");
}

static void test_format_names(void)
{
    bench_format f = BENCH_AUTO;
    for (size_t i = 0; i <= bench_format_count(); i++) {
        CHECK_EQ_INT(bench_format_parse(bench_format_name((bench_format)i), &f), 0);
        CHECK_EQ_INT(f, i);
    }
    /* The constants name the table's first entries. */
    static const char *const names[] = {"auto", "vllm", "aiperf", "genai-perf", "guidellm", "csv"};
    for (int i = 0; i <= BENCH_CSV; i++)
        CHECK(strcmp(bench_format_name((bench_format)i), names[i]) == 0);
    CHECK(strcmp(bench_format_name((bench_format)(bench_format_count() + 1)), "?") == 0);
    /* The list joins the names with ", " and last_sep before the last; it starts as the
     * help texts have always printed it (a new format only adds to the end). */
    char list[512], want[512] = "";
    size_t n = bench_format_count();
    for (size_t i = 0; i <= n; i++)
        snprintf(want + strlen(want), sizeof want - strlen(want), "%s%s",
                 i == 0   ? ""
                 : i == n ? " or "
                          : ", ",
                 bench_format_name((bench_format)i));
    CHECK(strcmp(bench_format_list(list, sizeof list, 1, " or ", BENCH_LIST_NAMES), want) == 0);
    CHECK(strncmp(list, "auto, vllm, aiperf, genai-perf, guidellm", 40) == 0);
    CHECK(strncmp(bench_format_list(list, sizeof list, 0, ", ", BENCH_LIST_TITLES),
                  "vLLM, AIPerf, genai-perf, GuideLLM, CSV", 39) == 0);
    /* A list cut short by its buffer stays a string. */
    CHECK(strcmp(bench_format_list(list, 8, 1, " or ", BENCH_LIST_NAMES), "auto, v") == 0);
    CHECK_EQ_INT(bench_format_parse("GuideLLM", &f), 0);
    CHECK_EQ_INT(f, BENCH_GUIDELLM);
    CHECK_EQ_INT(bench_format_parse("genai_perf", &f), 0);
    CHECK_EQ_INT(f, BENCH_GENAI_PERF);
    CHECK_EQ_INT(bench_format_parse("sglang", &f), -1);
}

/* Removes the fixtures (the directory holds nothing else); runs last. */
static void test_cleanup(void)
{
    const char *dir = fixture_dir();
    if (!CHECK(strncmp(dir, "/tmp/capsim_bench_", 18) == 0))
        return;
    DIR *d = opendir(dir);
    if (!CHECK(d != NULL))
        return;
    struct dirent *e;
    char path[512];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        CHECK_EQ_INT(unlink(path), 0);
    }
    closedir(d);
    CHECK_EQ_INT(rmdir(dir), 0);
}

TEST_MAIN(TEST(test_vllm_known_answer), TEST(test_vllm_old_spelling_and_inf),
          TEST(test_vllm_several_results), TEST(test_vllm_nan_and_failed),
          TEST(test_vllm_bad_input), TEST(test_aiperf_units), TEST(test_genai_perf),
          TEST(test_guidellm_two_benchmarks), TEST(test_csv_runs), TEST(test_detect),
          TEST(test_format_names), TEST(test_cleanup))
