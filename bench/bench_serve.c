/*
 * bench_serve: speed of the serving simulation, in simulated requests per second of wall
 * time. Prints figures; never part of the tests.
 *
 *  (a) 10^6 chat-like requests (prompt lognormal mean 1,000 cv 1, output lognormal mean
 *      200 cv 1) on 8 replicas of Llama 3.1 8B on H100 SXM at 112 req/s (about 75% of
 *      what they carry), continuous batching, round-robin;
 *  (b) 10^5 such requests on one replica at 17 req/s, near its saturation (~19 req/s);
 *  (c) 10^4 requests with long outputs (mean 2,000 tokens) at 1 req/s on one replica,
 *      where decode stretches are long and advancing them in one event pays most.
 * Each is run with decode stretches advanced in one event (the default) and step by step,
 * with prefix caching on (the default) and off; these workloads share nothing, so the
 * difference is the block manager's overhead.
 *  (d) a shared-prefix workload in the style of inference-perf's shared_prefix generator:
 *      8 groups whose requests share a 200-token system prompt, a 400-token question each,
 *      output lognormal mean 200 cv 1, Poisson at 8 and 20 req/s on one replica, 2 x 10^4
 *      requests; prefix caching off and on, with its hit rate and mean TTFT.
 *  (e) a 10-turn synthetic chat: sessions start at 1 per second (Poisson), each turn's
 *      prompt is the conversation so far plus a new message (lognormal mean 100 cv 1),
 *      answers lognormal mean 200 cv 1, turns 20 s apart (well after the previous answer);
 *      2 x 10^4 requests on one replica, prefix caching off and on.
 *
 * usage: bench_serve [--scale F] [--step-model SPEC] [--cases LETTERS]
 *   F multiplies the request counts (default 1); LETTERS picks cases (default abcde, e.g.
 *   "e" for the chat alone, to profile it); SPEC is capsim run's --step-model (default
 *   the stack's default: the measured kernels of vllm-0.19 on the H100; "roofline" for the
 *   roofline of the same stack).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sim/plan/deploy.h"
#include "sim/base/rng.h"
#include "sim/serve/router.h"
#include "sim/serve/sched.h"
#include "sim/serve/serve.h"

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* (d): requests of G groups sharing a system prompt, Poisson arrivals. */
typedef struct shared_src {
    reqsrc base;
    gsl_rng *g;
    dist output;
    double rate, t;
    uint64_t left;
} shared_src;

enum { SHARED_GROUPS = 8, SHARED_SYSTEM = 200, SHARED_QUESTION = 400 };

static int shared_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    shared_src *p = (shared_src *)s;
    if (p->left == 0)
        return 0;
    p->left--;
    p->t += -log(1.0 - gsl_rng_uniform(p->g)) / p->rate;
    uint64_t group = gsl_rng_uniform_int(p->g, SHARED_GROUPS);
    *out = (request){.arrival_s = p->t,
                     .prompt_tokens = SHARED_SYSTEM + SHARED_QUESTION,
                     .output_tokens = reqsrc_tokens(dist_sample(&p->output, p->g)),
                     .prefix_id = group + 1,
                     .shared_tokens = SHARED_SYSTEM};
    return 1;
}

static void shared_close(reqsrc *s)
{
    (void)s; /* owned by bench_shared */
}

static const reqsrc_ops SHARED_OPS = {shared_next, shared_close};

static reqsrc *shared_open(void *arg, const unsigned long *seeds)
{
    shared_src *p = arg;
    p->base.ops = &SHARED_OPS;
    gsl_rng_set(p->g, seeds[0]);
    p->t = 0;
    return &p->base;
}

static int bench_scripted(const char *label, const deploy *d,
                          reqsrc *(*open)(void *, const unsigned long *), void *arg,
                          uint64_t requests, int prefix);

static int bench_shared(const deploy *d, double rate, uint64_t requests, int prefix)
{
    char err[512], label[128];
    shared_src src = {.g = sim_rng_create(1), .rate = rate, .left = requests};
    if (src.g == NULL || dist_parse("lognormal:mean=200,cv=1", &src.output, err, sizeof err)) {
        fprintf(stderr, "bench_shared: setup failed\n");
        return -1;
    }
    snprintf(label, sizeof label,
             "(d) shared prefix, 8 groups, system 200, question 400, %g req/s", rate);
    int rc = bench_scripted(label, d, shared_open, &src, requests, prefix);
    gsl_rng_free(src.g);
    dist_fini(&src.output);
    return rc;
}

/* (e): the requests of every session, in arrival order, replayed by a scripted source. */
typedef struct chat_src {
    reqsrc base;
    request *rq;
    size_t n, i;
} chat_src;

enum { CHAT_TURNS = 10 };

static int chat_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    chat_src *p = (chat_src *)s;
    if (p->i == p->n)
        return 0;
    *out = p->rq[p->i++];
    return 1;
}

static void chat_close(reqsrc *s)
{
    (void)s; /* owned by bench_chat */
}

static const reqsrc_ops CHAT_OPS = {chat_next, chat_close};

static reqsrc *chat_open(void *arg, const unsigned long *seeds)
{
    (void)seeds; /* the same sessions every replication */
    chat_src *p = arg;
    p->base.ops = &CHAT_OPS;
    p->i = 0;
    return &p->base;
}

static int by_arrival(const void *a, const void *b)
{
    double x = ((const request *)a)->arrival_s, y = ((const request *)b)->arrival_s;
    return (x > y) - (x < y);
}

/* Fills src with n requests (whole sessions of CHAT_TURNS turns) sorted by arrival. */
static int chat_build(chat_src *src, size_t n)
{
    gsl_rng *g = sim_rng_create(11);
    dist msg, ans;
    char err[256];
    src->rq = malloc(n * sizeof *src->rq);
    if (g == NULL || src->rq == NULL ||
        dist_parse("lognormal:mean=100,cv=1", &msg, err, sizeof err) ||
        dist_parse("lognormal:mean=200,cv=1", &ans, err, sizeof err))
        return -1;
    double start = 0;
    for (size_t i = 0; i < n; i += CHAT_TURNS) {
        start += -log(1.0 - gsl_rng_uniform(g));
        uint32_t conv = 0;
        for (size_t t = 0; t < CHAT_TURNS && i + t < n; t++) {
            uint32_t p = conv + reqsrc_tokens(dist_sample(&msg, g));
            uint32_t o = reqsrc_tokens(dist_sample(&ans, g));
            src->rq[i + t] = (request){.arrival_s = start + 20.0 * (double)t,
                                       .prompt_tokens = p,
                                       .output_tokens = o,
                                       .prefix_id = i / CHAT_TURNS + 1,
                                       .shared_tokens = p + o};
            conv = p + o;
        }
    }
    qsort(src->rq, n, sizeof *src->rq, by_arrival);
    src->n = n;
    gsl_rng_free(g);
    dist_fini(&msg);
    dist_fini(&ans);
    return 0;
}

/* The configuration every case shares: Llama 3.1 8B on H100 SXM as deployed, vLLM's
 * defaults, one replication of `requests` with 10% warm-up; the workload is the caller's. */
static serve_config base_config(const deploy *d, uint32_t replicas, int jump, int prefix,
                                uint64_t requests)
{
    serve_config c = {.step = &d->step,
                      .kv_blocks = d->mem.kv_blocks,
                      .block_size = 16,
                      .sched = serve_sched_find("continuous"),
                      .max_num_seqs = 256,
                      .max_batched_tokens = 8192,
                      .chunked_prefill = 1,
                      .replicas = replicas,
                      .router = serve_router_find("rr"),
                      .replications = 1,
                      .warmup_fraction = 0.1,
                      .seed = 1,
                      .gpus_per_replica = 1,
                      .price_usd_per_gpu_hour = 1,
                      .jump = jump,
                      .prefix_caching = prefix};
    c.wl.requests = requests;
    return c;
}

/* Runs c into *r, timing it (wall seconds into *dt); -1 with the message on stderr. */
static int timed_run(const serve_config *c, serve_result *r, double *dt)
{
    char err[512];
    double t0 = wall_s();
    int rc = serve_run(c, r, err, sizeof err);
    *dt = wall_s() - t0;
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    return rc != 0 ? -1 : 0;
}

/* Runs the scripted source on one replica; prints label's figures. */
static int bench_scripted(const char *label, const deploy *d,
                          reqsrc *(*open)(void *, const unsigned long *), void *arg,
                          uint64_t requests, int prefix)
{
    serve_config c = base_config(d, 1, 1, prefix, requests);
    c.source_open = open;
    c.source_arg = arg;
    serve_result r;
    double dt;
    if (timed_run(&c, &r, &dt) != 0)
        return -1;
    printf("%s, prefix caching %s: %.3g simulated requests/s; hit rate %.4f, mean TTFT %.2f ms, "
           "p99 TTFT %.2f ms, mean KV occupancy %.3f\n",
           label, prefix ? "on" : "off", (double)requests / dt,
           prefix ? r.prefix[SP_prefix_hit_rate].mean : 0.0, r.metric[SM_mean_ttft_ms].mean,
           r.metric[SM_p99_ttft_ms].mean, r.metric[SM_mean_kv_occupancy].mean);
    serve_result_fini(&r);
    return 0;
}

static int bench(const char *label, const deploy *d, uint32_t replicas, double rate,
                 uint64_t requests, const char *output_len, int jump, int prefix)
{
    char err[512], spec_text[64];
    arrival_process arr;
    dist prompt, output;
    snprintf(spec_text, sizeof spec_text, "poisson:rate=%g", rate);
    if (arrival_parse(spec_text, &arr, err, sizeof err) ||
        dist_parse("lognormal:mean=1000,cv=1", &prompt, err, sizeof err) ||
        dist_parse(output_len, &output, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    serve_config c = base_config(d, replicas, jump, prefix, requests);
    c.wl.arrivals = &arr;
    c.wl.prompt_len = &prompt;
    c.wl.output_len = &output;
    serve_result r;
    double dt;
    if (timed_run(&c, &r, &dt) != 0)
        return -1;
    printf("%s, %s, prefix caching %s: %llu requests in %.2f s wall = %.3g simulated requests/s "
           "(%llu events, %llu steps, %llu tokens; mean TTFT %.1f ms, TPOT %.1f ms)\n",
           label, jump ? "stretches" : "step by step", prefix ? "on" : "off",
           (unsigned long long)requests, dt,
           (double)requests / dt, (unsigned long long)r.events, (unsigned long long)r.steps,
           (unsigned long long)r.tokens_out, r.metric[SM_mean_ttft_ms].mean,
           r.metric[SM_mean_tpot_ms].mean);
    serve_result_fini(&r);
    arrival_fini(&arr);
    dist_fini(&prompt);
    dist_fini(&output);
    return 0;
}

int main(int argc, char **argv)
{
    double scale = 1;
    const char *cases = "abcde";
    deploy_options o;
    deploy_options_default(&o);
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--scale") == 0)
            scale = atof(argv[i + 1]);
        else if (strcmp(argv[i], "--step-model") == 0)
            o.step_model = argv[i + 1];
        else if (strcmp(argv[i], "--cases") == 0)
            cases = argv[i + 1];
    }
    sim_gsl_install_handler();
    o.model = "llama-3.1-8b";
    o.gpu = "h100-sxm";
    deploy d;
    char err[1024];
    if (deploy_resolve(&o, &d, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    int rc = 0;
    /* Prefix caching on (the default) and off: the workload shares nothing, so this is the
     * block manager's overhead. */
    for (int k = 0; k < 4 && rc == 0; k++) {
        int jump = k < 2, prefix = k % 2 == 0;
        const char *chat = "lognormal:mean=200,cv=1";
        if (strchr(cases, 'a'))
            rc |= bench("(a) 8 replicas, 112 req/s", &d, 8, 112, (uint64_t)(1e6 * scale), chat,
                        jump, prefix);
        if (strchr(cases, 'b'))
            rc |= bench("(b) 1 replica, 17 req/s", &d, 1, 17, (uint64_t)(1e5 * scale), chat, jump,
                        prefix);
        if (strchr(cases, 'c'))
            rc |= bench("(c) 1 replica, 1 req/s, outputs of mean 2000", &d, 1, 1,
                        (uint64_t)(1e4 * scale), "lognormal:mean=2000,cv=0.5", jump, prefix);
    }
    for (int k = 0; k < 4 && rc == 0 && strchr(cases, 'd'); k++)
        rc |= bench_shared(&d, k < 2 ? 8 : 20, (uint64_t)(2e4 * scale), k % 2);
    chat_src chat = {0};
    uint64_t n_chat = (uint64_t)(2e4 * scale);
    if (rc == 0 && chat_build(&chat, n_chat) != 0) {
        fprintf(stderr, "bench_chat: setup failed\n");
        rc = 1;
    }
    for (int k = 0; k < 2 && rc == 0 && strchr(cases, 'e'); k++)
        rc |= bench_scripted("(e) 10-turn chat, sessions at 1/s", &d, chat_open, &chat, n_chat, k);
    free(chat.rq);
    deploy_fini(&d);
    return rc ? 1 : 0;
}
