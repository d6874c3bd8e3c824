/*
 * test_planner: what a capacity planner sets beside the scenario, checked against values
 * written into the test: GPU-hour prices from the catalog, a prices file and a list (the
 * list winning, every GPU named checked against the catalog), and the costs a run derives
 * from them (the whole cost over each kind of token).
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/model.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/deploy.h"
#include "sim/plan/prices.h"
#include "sim/plan/runspec.h"
#include "tests/check.h"

static gpu_list gpus;
static model_list models;

/* The catalogs, loaded once (they stay loaded until the test program ends). */
static void load(void)
{
    static int loaded;
    char err[1024];
    if (!loaded && CHECK_EQ_INT(catalog_load(catalog_default_dir(), &models, &gpus, err,
                                             sizeof err),
                                0))
        loaded = 1;
}

static const gpu_spec *G(const char *name)
{
    load();
    const gpu_spec *g = gpu_list_find(&gpus, name);
    CHECK(g != NULL);
    return g;
}

/* A file of the given text in a fresh temporary path (removed by the caller). */
static void write_tmp(char *path, const char *text)
{
    strcpy(path, "/tmp/capsim_prices_XXXXXX");
    int fd = mkstemp(path);
    FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (CHECK(fp != NULL)) {
        fputs(text, fp);
        fclose(fp);
    }
}

static void test_prices_catalog_file_list(void)
{
    const gpu_spec *h100 = G("h100-sxm");
    double usd;
    char src[320], err[512] = "";
    /* The catalog's price, with where and when it was taken. */
    CHECK_EQ_INT(prices_resolve(&gpus, h100, NULL, NULL, &usd, src, sizeof src, err, sizeof err),
                 0);
    CHECK_EQ_DBL(usd, 6.88);
    CHECK_CONTAINS(src, "catalog: AWS p5.48xlarge");
    CHECK_CONTAINS(src, "2026-01-21");
    /* A file, then a list over it; a list naming other GPUs leaves this one's price. */
    char path[64];
    write_tmp(path, "gpu,usd_per_hour,source\nh100-sxm,2.49,our contract\na100-80gb,1.5,\n");
    CHECK_EQ_INT(prices_resolve(&gpus, h100, "", path, &usd, src, sizeof src, err, sizeof err), 0);
    CHECK_EQ_DBL(usd, 2.49);
    CHECK_CONTAINS(src, ":2, our contract");
    CHECK_EQ_INT(prices_resolve(&gpus, h100, "a100-80gb=1.1,H100-SXM=3", path, &usd, src,
                                sizeof src, err, sizeof err),
                 0);
    CHECK_EQ_DBL(usd, 3.0);
    CHECK_CONTAINS(src, "--price");
    CHECK_EQ_INT(prices_resolve(&gpus, h100, "a100-80gb=1.1", path, &usd, src, sizeof src, err,
                                sizeof err),
                 0);
    CHECK_EQ_DBL(usd, 2.49);
    remove(path);
    /* A typo is never a price silently unused: unknown GPUs and bad values are refused,
     * naming the file and line or the entry. */
    CHECK_EQ_INT(prices_resolve(&gpus, h100, "h100-sxn=2", NULL, &usd, src, sizeof src, err,
                                sizeof err),
                 -1);
    CHECK_CONTAINS(err, "'h100-sxn' is not a catalog GPU");
    static const char *const bad[] = {"h100-sxm", "h100-sxm=", "h100-sxm=-1", "h100-sxm=abc",
                                      "h100-sxm=5000", "h100-sxm=2,"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        err[0] = '\0';
        CHECK_EQ_INT(prices_resolve(&gpus, h100, bad[i], NULL, &usd, src, sizeof src, err,
                                    sizeof err),
                     -1);
        CHECK_CONTAINS(err, "--price");
    }
    write_tmp(path, "gpu,usd_per_hour\nh100-sxm,2\nnot-a-gpu,1\n");
    CHECK_EQ_INT(prices_resolve(&gpus, h100, NULL, path, &usd, src, sizeof src, err, sizeof err),
                 -1);
    CHECK_CONTAINS(err, ":3: column 'gpu': 'not-a-gpu'");
    remove(path);
    write_tmp(path, "gpu,usd_per_hour\nh100-sxm,-2\n");
    CHECK_EQ_INT(prices_resolve(&gpus, h100, NULL, path, &usd, src, sizeof src, err, sizeof err),
                 -1);
    CHECK_CONTAINS(err, "usd_per_hour");
    remove(path);
    write_tmp(path, "gpu,price\nh100-sxm,2\n");
    CHECK_EQ_INT(prices_resolve(&gpus, h100, NULL, path, &usd, src, sizeof src, err, sizeof err),
                 -1);
    CHECK_CONTAINS(err, "usd_per_hour");
    remove(path);
}

/* A run's costs: cost per hour = price x GPUs x replicas, and each cost per million tokens
 * is that cost over the run's token rate of its kind. */
static void test_run_costs(void)
{
    run_spec r;
    run_defaults(&r);
    char err[1024] = "";
    static const char *const kv[][2] = {
        {"model", "llama-3.1-8b"}, {"gpu", "a100-80gb"}, {"tp", "2"},
        {"replicas", "3"},         {"requests", "300"},  {"replications", "2"},
        {"price", "a100-80gb=2"},  {"sample_interval", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        int o = 0;
        while (o < OPT_COUNT && strcmp(run_opt_key[o], kv[i][0]) != 0)
            o++;
        if (!CHECK(o < OPT_COUNT))
            return;
        CHECK_EQ_INT(run_set_value(&r, (run_opt)o, kv[i][1], err, sizeof err), 0);
    }
    resolved x;
    if (!CHECK_EQ_INT(run_resolve(&r, &x, err, sizeof err), 0)) {
        fprintf(stderr, "%s\n", err);
        run_resolved_fini(&x);
        return;
    }
    serve_result res;
    if (CHECK_EQ_INT(serve_run(&x.cfg, &res, err, sizeof err), 0)) {
        CHECK_EQ_DBL(res.cost_per_hour_usd, 2.0 * 2 * 3);
        size_t reps = x.cfg.replications;
        double per_s = 12.0 / 3600.0;
        for (size_t k = 0; k < reps; k++) {
            double out = res.per_rep[SM_output_throughput * reps + k];
            double all = res.per_rep[SM_total_token_throughput * reps + k];
            CHECK_REL(res.per_rep[SM_cost_per_million_output_tokens * reps + k], per_s / out * 1e6,
                      1e-12);
            CHECK_REL(res.per_rep[SM_cost_per_million_total_tokens * reps + k], per_s / all * 1e6,
                      1e-12);
            CHECK_REL(res.per_rep[SM_cost_per_million_input_tokens * reps + k],
                      per_s / (all - out) * 1e6, 1e-9);
        }
        serve_result_fini(&res);
    }
    run_resolved_fini(&x);
}

/* Standard deviations of TTFT, TPOT and end-to-end latency equal those computed here from
 * the per-request rows of the same run (population deviation, as vLLM's benchmark). */
static void test_std_from_requests(void)
{
    run_spec r;
    run_defaults(&r);
    char err[1024] = "";
    static const char *const kv[][2] = {{"model", "llama-3.1-8b"}, {"gpu", "h100-sxm"},
                                        {"requests", "400"},        {"replications", "1"},
                                        {"arrival", "poisson:rate=4"}, {"sample_interval", "0"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++) {
        int o = 0;
        while (o < OPT_COUNT && strcmp(run_opt_key[o], kv[i][0]) != 0)
            o++;
        CHECK_EQ_INT(run_set_value(&r, (run_opt)o, kv[i][1], err, sizeof err), 0);
    }
    resolved x;
    FILE *rows = tmpfile();
    if (!CHECK(rows != NULL) || !CHECK_EQ_INT(run_resolve(&r, &x, err, sizeof err), 0)) {
        run_resolved_fini(&x);
        return;
    }
    x.cfg.requests_out = rows;
    serve_result res;
    if (!CHECK_EQ_INT(serve_run(&x.cfg, &res, err, sizeof err), 0)) {
        run_resolved_fini(&x);
        fclose(rows);
        return;
    }
    /* replication,request,class,arrival_s,prompt,output,replica,queue_ms,ttft_ms,tpot_ms,
     * e2el_ms,preemptions,slo_met */
    rewind(rows);
    double s[3] = {0}, sq[3] = {0};
    double n[3] = {0};
    char line[512];
    while (fgets(line, sizeof line, rows)) {
        double v[13];
        char *p = line;
        int k = 0;
        for (; k < 13 && *p; k++) {
            char *end;
            v[k] = strtod(p, &end);
            if (end == p)
                v[k] = NAN; /* an empty TPOT (one output token) */
            p = strchr(p, ',');
            if (p == NULL)
                break;
            p++;
        }
        static const int col[3] = {8, 9, 10}; /* ttft, tpot, e2el */
        for (int j = 0; j < 3; j++)
            if (isfinite(v[col[j]])) {
                s[j] += v[col[j]];
                sq[j] += v[col[j]] * v[col[j]];
                n[j] += 1;
            }
    }
    static const serve_metric m[3] = {SM_std_ttft_ms, SM_std_tpot_ms, SM_std_e2el_ms};
    for (int j = 0; j < 3; j++) {
        double mean = s[j] / n[j];
        CHECK(n[j] > 300);
        CHECK_REL(res.metric[m[j]].mean, sqrt(sq[j] / n[j] - mean * mean), 1e-6);
    }
    CHECK(res.metric[SM_std_itl_ms].mean > 0);
    serve_result_fini(&res);
    run_resolved_fini(&x);
    fclose(rows);
}

/* Which parts of a step the measured kernels do not cover: nothing for the defaults' shapes,
 * decode attention for a context far beyond the tables, nothing under the roofline. */
static void test_extrapolation(void)
{
    deploy_options o;
    deploy_options_default(&o);
    o.model = "llama-3.1-8b";
    o.gpu = "h100-sxm";
    deploy d;
    char err[512], buf[512];
    if (!CHECK_EQ_INT(deploy_resolve(&o, &d, err, sizeof err), 0))
        return;
    CHECK_EQ_INT(deploy_extrapolation(&d, 64, 4096, 8192, 4096, buf, sizeof buf), 0);
    CHECK(buf[0] == '\0');
    CHECK_EQ_INT(deploy_extrapolation(&d, 1, 1000000, 0, 0, buf, sizeof buf), 1);
    CHECK_CONTAINS(buf, "decode attention at a context of 1000000 tokens");
    CHECK_EQ_INT(deploy_extrapolation(&d, 0, 0, 1e6, 0, buf, sizeof buf), 1);
    CHECK_CONTAINS(buf, "at 1000000 prompt tokens per step");
    deploy_fini(&d);
    o.step_model = "roofline";
    if (!CHECK_EQ_INT(deploy_resolve(&o, &d, err, sizeof err), 0))
        return;
    CHECK_EQ_INT(deploy_extrapolation(&d, 1, 1000000, 1e6, 1e6, buf, sizeof buf), 0);
    deploy_fini(&d);
}

TEST_MAIN(TEST(test_prices_catalog_file_list), TEST(test_run_costs), TEST(test_std_from_requests),
          TEST(test_extrapolation))
