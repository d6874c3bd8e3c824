/*
 * test_prefix: known answers for requests that know their prefixes (issue 13): the
 * shared-prefix groups and multi-turn sessions of workloads/prefix.h, the perfect-cache
 * share of workloads/wstats.h, and the prefix_id and shared_tokens columns of the capsim
 * CSV trace (round trip, and one-line errors naming file, line and column).
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/serve/source.h"
#include "tests/check.h"
#include "workloads/prefix.h"
#include "workloads/traces.h"
#include "workloads/wstats.h"

/* Drains a synthetic source of n requests (poisson arrivals, output lengths out_spec) made
 * to share as w says, into a wstats with block size B; the requests go to rq[] (if not
 * NULL). Returns the number read. */
static uint64_t drain_synthetic(const prefix_workload *w, const char *out_spec, uint64_t n,
                                uint32_t block, wstats *st, request *rq)
{
    arrival_process a;
    dist prompt, output;
    char err[512];
    if (arrival_parse("poisson:rate=5", &a, err, sizeof err) != 0 ||
        dist_parse("fixed:value=10", &prompt, err, sizeof err) != 0 ||
        dist_parse(out_spec, &output, err, sizeof err) != 0) {
        fprintf(stderr, "  %s\n", err);
        return 0;
    }
    reqsrc *s = reqsrc_synthetic(&a, &prompt, &output, n, 11, 12);
    uint64_t got = 0;
    if (s && reqsrc_synthetic_use_prefix(s, w) == 0) {
        wstats_set_block(st, block);
        request r;
        while (reqsrc_next(s, &r, err, sizeof err) == 1) {
            wstats_add(st, &r);
            if (rq)
                rq[got] = r;
            got++;
        }
    }
    reqsrc_close(s);
    arrival_fini(&a);
    dist_fini(&prompt);
    dist_fini(&output);
    return got;
}

/* G groups x N requests, S a multiple of the block: every request after a group's first
 * is served exactly S tokens, so the share is (N - G) x S / prompt tokens. */
static void test_groups_known_share(void)
{
    prefix_workload w;
    char err[512];
    if (!CHECK_EQ_INT(prefix_parse("groups=8,users=4,system=256,question=exp:mean=100", "", 1, &w,
                                   err, sizeof err),
                      0)) {
        fprintf(stderr, "  %s\n", err);
        prefix_fini(&w);
        return;
    }
    wstats st;
    request *rq = calloc(2000, sizeof *rq);
    if (!CHECK(rq != NULL) || !CHECK_EQ_INT(wstats_init(&st, 60), 0)) {
        free(rq);
        prefix_fini(&w);
        return;
    }
    CHECK_EQ_U64(drain_synthetic(&w, "fixed:value=50", 2000, 16, &st, rq), 2000);
    /* Every group was used, each request is S + Q tokens of its group's stream. */
    int seen[8] = {0};
    int shape_ok = 1;
    for (int i = 0; i < 2000; i++) {
        uint64_t g = rq[i].prefix_id - PREFIX_GROUP_BASE - 1;
        shape_ok &= g < 8 && rq[i].shared_tokens == 256 && rq[i].prompt_tokens > 256 &&
                    rq[i].output_tokens == 50;
        if (g < 8)
            seen[g] = 1;
    }
    CHECK(shape_ok);
    int groups = 0;
    for (int g = 0; g < 8; g++)
        groups += seen[g];
    CHECK_EQ_INT(groups, 8);
    CHECK_EQ_U64(st.streams, 8);
    CHECK_EQ_U64(st.cached_tokens, (2000 - 8) * 256);
    CHECK_EQ_DBL(wstats_cached_share(&st), (double)((2000 - 8) * 256) / (double)st.prompt.sum);
    wstats_fini(&st);

    /* S = 200, not a multiple of 16: only floor(200/16) x 16 = 192 tokens hit. */
    prefix_fini(&w);
    CHECK_EQ_INT(
        prefix_parse("groups=3,users=2,system=200,question=50", "", 1, &w, err, sizeof err), 0);
    CHECK_EQ_INT(wstats_init(&st, 60), 0);
    CHECK_EQ_U64(drain_synthetic(&w, "fixed:value=5", 500, 16, &st, NULL), 500);
    CHECK_EQ_U64(st.cached_tokens, (500 - 3) * 192);
    CHECK_EQ_U64(st.prompt.sum, 500 * 250);
    wstats_fini(&st);
    /* The same with blocks of 8 tokens: 200 = 25 x 8, all of it. */
    CHECK_EQ_INT(wstats_init(&st, 60), 0);
    CHECK_EQ_U64(drain_synthetic(&w, "fixed:value=5", 500, 8, &st, NULL), 500);
    CHECK_EQ_U64(st.cached_tokens, (500 - 3) * 200);
    wstats_fini(&st);
    free(rq);
    prefix_fini(&w);
}

/* The group system prompts are drawn once per group from the seed: the same seed gives
 * the same groups, and a distribution gives groups of different sizes. */
static void test_groups_drawn_per_group(void)
{
    prefix_workload a, b;
    char err[512];
    const char *g = "groups=20,users=1,system=lognormal:mean=300,cv=0.5,question=10";
    CHECK_EQ_INT(prefix_parse(g, "", 7, &a, err, sizeof err), 0);
    CHECK_EQ_INT(prefix_parse(g, "", 7, &b, err, sizeof err), 0);
    if (CHECK(a.system_tokens && b.system_tokens)) {
        CHECK(memcmp(a.system_tokens, b.system_tokens, 20 * sizeof *a.system_tokens) == 0);
        int differ = 0;
        for (int i = 1; i < 20; i++)
            differ |= a.system_tokens[i] != a.system_tokens[0];
        CHECK(differ);
    }
    prefix_fini(&a);
    prefix_fini(&b);
}

/* A session of T turns: turn k's prompt is turn k-1's prompt + answer + M, and shares all
 * of its prompt and answer; after T turns a new session (a new id) starts. */
static void test_session_turns(void)
{
    prefix_workload w;
    char err[512];
    if (!CHECK_EQ_INT(prefix_parse("", "turns=5,message=30", 1, &w, err, sizeof err), 0)) {
        fprintf(stderr, "  %s\n", err);
        return;
    }
    wstats st;
    request rq[12];
    CHECK_EQ_INT(wstats_init(&st, 60), 0);
    CHECK_EQ_U64(drain_synthetic(&w, "fixed:value=20", 12, 16, &st, rq), 12);
    static const uint32_t prompt[12] = {30, 80, 130, 180, 230, 30, 80, 130, 180, 230, 30, 80};
    uint64_t want_cached = 0;
    for (int i = 0; i < 12; i++) {
        CHECK_EQ_U64(rq[i].prompt_tokens, prompt[i]);
        CHECK_EQ_U64(rq[i].shared_tokens, prompt[i] + 20);
        CHECK_EQ_U64(rq[i].prefix_id, PREFIX_SESSION_BASE + 1 + (uint64_t)i / 5);
        /* The perfect cache serves the last turn's prompt and answer, in full blocks. */
        if (i % 5 != 0)
            want_cached += (prompt[i - 1] + 20) / 16 * 16;
    }
    CHECK_EQ_U64(st.cached_tokens, want_cached);
    CHECK_EQ_U64(st.streams, 3);
    wstats_fini(&st);
    prefix_fini(&w);

    /* Two conversations: the arrivals alternate between them. */
    CHECK_EQ_INT(prefix_parse("", "turns=3,message=10,chats=2", 1, &w, err, sizeof err), 0);
    CHECK_EQ_INT(wstats_init(&st, 60), 0);
    CHECK_EQ_U64(drain_synthetic(&w, "fixed:value=5", 6, 16, &st, rq), 6);
    static const uint32_t two[6] = {10, 10, 25, 25, 40, 40};
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_U64(rq[i].prompt_tokens, two[i]);
        CHECK_EQ_U64(rq[i].prefix_id, PREFIX_SESSION_BASE + 1 + (uint64_t)i % 2);
    }
    wstats_fini(&st);
    prefix_fini(&w);
}

/* Closed loop, knowing the sender: each user's turns grow by its own answers whatever the
 * order users send in; with groups, user u is in group u / U. */
static void test_closed_loop_users(void)
{
    prefix_workload w;
    dist prompt, output;
    char err[512];
    CHECK_EQ_INT(prefix_parse("", "turns=3,message=10", 1, &w, err, sizeof err), 0);
    CHECK_EQ_INT(dist_parse("fixed:value=99", &prompt, err, sizeof err), 0);
    CHECK_EQ_INT(dist_parse("fixed:value=5", &output, err, sizeof err), 0);
    serve_config c;
    memset(&c, 0, sizeof c);
    c.wl.prompt_len = &prompt;
    c.wl.output_len = &output;
    c.wl.users = 3;
    c.wl.prefix = &w;
    prefix_chats chats;
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    if (!CHECK(r != NULL) || !CHECK_EQ_INT(prefix_chats_init(&chats, 3), 0))
        return;
    static const uint32_t order[] = {0, 1, 0, 2, 1, 0, 0, 1};
    static const uint32_t prompt_want[] = {10, 10, 25, 10, 25, 40, 10, 40};
    static const uint64_t session_want[] = {1, 2, 1, 3, 2, 1, 4, 2};
    for (int i = 0; i < 8; i++) {
        request rq = serve_source_user_request(&c, &chats, order[i], r, (double)i);
        CHECK_EQ_U64(rq.prompt_tokens, prompt_want[i]);
        CHECK_EQ_U64(rq.shared_tokens, prompt_want[i] + 5);
        CHECK_EQ_U64(rq.prefix_id, PREFIX_SESSION_BASE + session_want[i]);
        CHECK_EQ_DBL(rq.arrival_s, i);
    }
    prefix_chats_reset(&chats);
    request rq = serve_source_user_request(&c, &chats, 2, r, 0);
    CHECK_EQ_U64(rq.prefix_id, PREFIX_SESSION_BASE + 1);
    prefix_chats_fini(&chats);
    prefix_fini(&w);

    CHECK_EQ_INT(prefix_parse("groups=3,users=2,system=100,question=7", "", 1, &w, err, sizeof err),
                 0);
    c.wl.users = 6;
    for (uint32_t u = 0; u < 6; u++) {
        rq = serve_source_user_request(&c, NULL, u, r, 0);
        CHECK_EQ_U64(rq.prefix_id, PREFIX_GROUP_BASE + 1 + u / 2);
        CHECK_EQ_U64(rq.prompt_tokens, 107);
        CHECK_EQ_U64(rq.shared_tokens, 100);
    }
    /* Without prefixes: the same draws as before. */
    c.wl.prefix = NULL;
    rq = serve_source_user_request(&c, NULL, 0, r, 0);
    CHECK_EQ_U64(rq.prompt_tokens, 99);
    CHECK_EQ_U64(rq.prefix_id, 0);
    gsl_rng_free(r);
    prefix_fini(&w);
    dist_fini(&prompt);
    dist_fini(&output);
}

/* The perfect cache keeps, per stream, the longest shared length seen so far, and never
 * serves the last prompt token. */
static void test_perfect_cache_rules(void)
{
    wstats st;
    CHECK_EQ_INT(wstats_init(&st, 60), 0);
    request r = {.arrival_s = 0,
                 .prompt_tokens = 100,
                 .output_tokens = 1,
                 .prefix_id = 7,
                 .shared_tokens = 40};
    wstats_add(&st, &r); /* first: nothing cached */
    r.shared_tokens = 90;
    wstats_add(&st, &r); /* 40 known: 2 blocks */
    r.shared_tokens = 100;
    wstats_add(&st, &r); /* 90 known: 5 blocks */
    r.prompt_tokens = 33;
    r.shared_tokens = 34;
    wstats_add(&st, &r); /* 100 known, but at most floor(32/16) = 2 blocks */
    r.prefix_id = 0;
    r.shared_tokens = 0;
    wstats_add(&st, &r); /* shares nothing */
    CHECK_EQ_U64(st.cached_tokens, 32 + 80 + 32);
    CHECK_EQ_U64(st.shared_requests, 4);
    wstats_fini(&st);
}

/* Writes text to a fresh file; path receives its name. */
static void tmp_write(char *path, const char *text)
{
    strcpy(path, "/tmp/capsim_prefix_XXXXXX");
    int fd = mkstemp(path);
    if (fd >= 0) {
        ssize_t w = write(fd, text, strlen(text));
        (void)w;
        close(fd);
    }
}

/* The capsim CSV columns: read back as written; bad values fail with file:line:column. */
static void test_csv_columns(void)
{
    char path[64], err[512];
    tmp_write(path, "arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens\n"
                    "0,100,10,18446744073709551615,110\n"
                    "1,50,5,,\n"
                    "2,40,4,2000000000001,0\n");
    reqsrc *s = trace_open(path, NULL, err, sizeof err);
    request r;
    if (CHECK(s != NULL)) {
        CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 1);
        CHECK(r.prefix_id == UINT64_MAX);
        CHECK_EQ_U64(r.shared_tokens, 110);
        CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 1);
        CHECK_EQ_U64(r.prefix_id, 0);
        CHECK_EQ_U64(r.shared_tokens, 0);
        CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 1);
        CHECK_EQ_U64(r.prefix_id, 2000000000001u);
        CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 0);
    }
    reqsrc_close(s);
    unlink(path);

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"arrival_s,prompt_tokens,output_tokens,prefix_id\n0,1,1,1\n",
         ":1:4: column 'prefix_id' without"},
        {"arrival_s,prompt_tokens,output_tokens,shared_tokens\n0,1,1,1\n", "without 'prefix_id'"},
        {"arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens\n0,5,5,1,11\n",
         ":2:5: column 'shared_tokens': found '11', expected a whole number from 0 to prompt + "
         "output = 10"},
        {"arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens\n0,5,5,0,1\n",
         ":2:5: column 'shared_tokens': found '1', expected 0"},
        {"arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens\n0,5,5,-1,1\n",
         ":2:4: column 'prefix_id'"},
        {"arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens\n0,5,5,"
         "18446744073709551616,1\n",
         ":2:4: column 'prefix_id'"},
        {"arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens\n0,5,5,3,x\n",
         ":2:5: column 'shared_tokens'"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tmp_write(path, bad[i].text);
        err[0] = '\0';
        s = trace_open(path, NULL, err, sizeof err);
        int rc = s ? reqsrc_next(s, &r, err, sizeof err) : -1;
        CHECK_EQ_INT(rc, -1);
        CHECK_CONTAINS(err, bad[i].want);
        CHECK_CONTAINS(err, path);
        CHECK(strchr(err, '\n') == NULL);
        reqsrc_close(s);
        unlink(path);
    }
}

/* Mooncake: streams from hash_ids by the rule of workloads/trace_mooncake.c. */
static void test_mooncake_streams(void)
{
    char path[64], err[512];
    tmp_write(path,
              /* stream 1: 2 full blocks (the third is partial) */
              "{\"timestamp\": 0, \"input_length\": 1500, \"output_length\": 5, "
              "\"hash_ids\": [0, 1, 2]}\n"
              /* its next turn: continues stream 1 to 3 full blocks */
              "{\"timestamp\": 1, \"input_length\": 2000, \"output_length\": 5, "
              "\"hash_ids\": [0, 1, 3, 4]}\n"
              /* only the head block in common (1 of 5): a stream of its own */
              "{\"timestamp\": 2, \"input_length\": 2600, \"output_length\": 5, "
              "\"hash_ids\": [0, 9, 10, 11, 12, 13]}\n"
              /* continues stream 1 again, to 4 blocks */
              "{\"timestamp\": 3, \"input_length\": 2048, \"output_length\": 5, "
              "\"hash_ids\": [0, 1, 3, 7]}\n"
              /* branches off stream 1 after 2 of 3 blocks: joins it for those 2 */
              "{\"timestamp\": 4, \"input_length\": 1536, \"output_length\": 5, "
              "\"hash_ids\": [0, 1, 5]}\n"
              /* no hash_ids, or malformed ones, or a short prompt: nothing shared */
              "{\"timestamp\": 5, \"input_length\": 1536, \"output_length\": 5}\n"
              "{\"timestamp\": 6, \"input_length\": 1536, \"output_length\": 5, "
              "\"hash_ids\": [0, -1, 2]}\n"
              "{\"timestamp\": 7, \"input_length\": 511, \"output_length\": 5, "
              "\"hash_ids\": [0]}\n");
    static const uint64_t id[] = {1, 1, 2, 1, 1, 0, 0, 0};
    static const uint32_t shared[] = {1024, 1536, 2560, 2048, 1024, 0, 0, 0};
    reqsrc *s = trace_open(path, NULL, err, sizeof err);
    request r;
    wstats st;
    CHECK_EQ_INT(wstats_init(&st, 60), 0);
    for (int i = 0; s && i < 8; i++) {
        if (!CHECK_EQ_INT(reqsrc_next(s, &r, err, sizeof err), 1))
            break;
        CHECK_EQ_U64(r.prefix_id, id[i]);
        CHECK_EQ_U64(r.shared_tokens, shared[i]);
        wstats_add(&st, &r);
    }
    /* Served: 1024 + 0 + 1536 + 1024 = 3584 tokens. */
    CHECK_EQ_U64(st.cached_tokens, 1024 + 1536 + 1024);
    wstats_fini(&st);
    reqsrc_close(s);
    unlink(path);
}

/* The bundled Mooncake traces: the perfect-cache share of the mapping, against an
 * independent implementation of the same rule (33.89% and 65.03%; by hash_ids directly
 * 37.34% and 65.04%: the mapping is a lower bound). */
static void test_mooncake_real_share(void)
{
    static const struct {
        const char *file;
        uint64_t cached, prompt;
    } want[] = {
        {CAPSIM_SOURCE_DIR "/workloads/traces/mooncake/conversation_trace.jsonl", 49073664,
         144793823},
        {CAPSIM_SOURCE_DIR "/workloads/traces/mooncake/synthetic_trace.jsonl", 39795712, 61194628},
    };
    for (size_t f = 0; f < 2; f++) {
        char err[512];
        reqsrc *s = trace_open(want[f].file, NULL, err, sizeof err);
        wstats st;
        if (!CHECK(s != NULL) || !CHECK_EQ_INT(wstats_init(&st, 60), 0)) {
            reqsrc_close(s);
            continue;
        }
        request r;
        while (reqsrc_next(s, &r, err, sizeof err) == 1)
            wstats_add(&st, &r);
        CHECK_EQ_U64(st.cached_tokens, want[f].cached);
        CHECK_EQ_U64(st.prompt.sum, want[f].prompt);
        wstats_fini(&st);
        reqsrc_close(s);
    }
}

/* The option parsers: one-line messages naming what is wrong. */
static void test_parse_errors(void)
{
    static const struct {
        const char *groups, *session, *want;
    } bad[] = {
        {"groups=8,users=4,system=200", "", "question missing"},
        {"groups=0,users=4,system=200,question=1", "", "groups: expected a whole number from 1"},
        {"groups=8,users=4,system=200,question=1,colour=red", "",
         "unknown distribution '1,colour=red'"},
        {"groups=8,groups=8,users=4,system=200,question=1", "", "groups given twice"},
        {"groups=8,users=4,system=normal:mean=3,question=1", "", "--prefix system"},
        {"groups=8,users=4,system=,question=1", "", "system needs a value"},
        {"turns=3", "", "unknown or missing key"},
        {"", "turns=3", "message missing"},
        {"", "turns=3,message=5,chats=0", "chats: expected"},
        {"groups=1,users=1,system=1,question=1", "turns=1,message=1", "one or the other"},
        {"groups=1,users=1,system=1\n,question=1", "", "control character"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        prefix_workload w;
        char err[512] = "";
        CHECK_EQ_INT(prefix_parse(bad[i].groups, bad[i].session, 1, &w, err, sizeof err), -1);
        CHECK_CONTAINS(err, bad[i].want);
        CHECK(strchr(err, '\n') == NULL);
        prefix_fini(&w);
    }
    /* A distribution's own commas stay in its value. */
    prefix_workload w;
    char err[512];
    CHECK_EQ_INT(prefix_parse("groups=2,users=3,system=gamma:mean=100,cv=2,question="
                              "uniform:min=5,max=9",
                              "", 1, &w, err, sizeof err),
                 0);
    CHECK_EQ_U64(w.groups, 2);
    CHECK_EQ_U64(w.users_per_group, 3);
    CHECK_NEAR(w.question.mean, 7, 1e-12);
    prefix_fini(&w);
    CHECK_EQ_INT(prefix_parse("", "", 1, &w, err, sizeof err), 0);
    CHECK(!prefix_on(&w));
    prefix_fini(&w);
}

TEST_MAIN(TEST(test_groups_known_share), TEST(test_groups_drawn_per_group),
          TEST(test_session_turns), TEST(test_closed_loop_users), TEST(test_perfect_cache_rules),
          TEST(test_csv_columns), TEST(test_mooncake_streams), TEST(test_mooncake_real_share),
          TEST(test_parse_errors))
