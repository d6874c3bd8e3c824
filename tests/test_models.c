/*
 * test_models: catalogs, precision, memory plan, step-time model and fitting, against
 * values worked out by hand from the published architectures and datasheets.
 */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "models/fit.h"
#include "models/measure.h"
#include "models/memplan.h"
#include "models/profile.h"
#include "models/steptime.h"
#include "sim/plan/catalog_paths.h"
#include "tests/check.h"

/* Data bundled with the project (each folder's README gives its source and licence). */
#define CONFIGS   CAPSIM_SOURCE_DIR "/models/configs"
#define SPLITWISE CAPSIM_SOURCE_DIR "/models/profiles/splitwise/splitwise-perf_model.csv"

static model_list models;
static gpu_list gpus;

static const model_arch *M(const char *name)
{
    const model_arch *m = model_list_find(&models, name);
    CHECK(m != NULL);
    return m;
}

static const gpu_spec *G(const char *name)
{
    const gpu_spec *g = gpu_list_find(&gpus, name);
    CHECK(g != NULL);
    return g;
}

static void load(void)
{
    if (models.n == 0) {
        char err[512] = "";
        int rc = catalog_load(catalog_default_dir(), &models, &gpus, err, sizeof err);
        if (rc != 0)
            fprintf(stderr, "%s\n", err);
        CHECK_EQ_INT(rc, 0);
    }
}

static void test_kv_bytes_per_token(void)
{
    load();
    /* 2 (K and V) x layers x kv_heads x head_dim x 2 bytes. */
    CHECK_EQ_DBL(model_kv_bytes_per_token(M("llama-3.1-8b"), PREC_BF16), 2.0 * 32 * 8 * 128 * 2);
    CHECK_EQ_DBL(model_kv_bytes_per_token(M("llama-3.1-8b"), PREC_BF16), 131072);
    CHECK_EQ_DBL(model_kv_bytes_per_token(M("llama-3.1-70b"), PREC_BF16), 327680);
    CHECK_EQ_DBL(model_kv_bytes_per_token(M("llama-3.1-70b"), PREC_FP8), 163840);
    /* Llama 2 7B has no GQA: 32 KV heads, 512 KiB per token. */
    CHECK_EQ_DBL(model_kv_bytes_per_token(M("llama-2-7b"), PREC_FP16), 524288);
}

static void test_weight_bytes(void)
{
    load();
    const model_arch *m = M("llama-3.1-8b");
    CHECK_EQ_DBL(m->params, 8030261248.0);
    CHECK_EQ_DBL(model_weight_bytes(m, PREC_BF16), 16060522496.0);
    CHECK_EQ_DBL(model_weight_bytes(m, PREC_FP8), 8030261248.0);
    CHECK_EQ_DBL(model_weight_bytes(m, PREC_INT8), 8030261248.0);
    CHECK_EQ_DBL(model_weight_bytes(m, PREC_INT4), 4015130624.0);
    /* The catalog's counts agree with the architecture they list. */
    for (size_t i = 0; i < models.n; i++) {
        double active, total = model_derive_params(&models.items[i], &active);
        if (models.items[i].family[0] == 'f' || models.items[i].family[0] == 'b')
            continue; /* Falcon and BLOOM have biases and extra norms the derivation omits */
        CHECK_REL(total, models.items[i].params, 0.01);
        CHECK_REL(active, models.items[i].active_params, 0.01);
    }
}

static void test_catalog_contents(void)
{
    load();
    static const char *const need_m[] = {
        "llama-3.2-1b",   "llama-3.2-3b", "llama-3.1-8b", "llama-3.1-70b",
        "llama-3.1-405b", "llama-2-7b",   "llama-2-70b",  "mistral-7b",
        "mixtral-8x7b",   "qwen2.5-7b",   "qwen2.5-14b",  "qwen2.5-32b",
        "qwen2.5-72b",    "falcon-180b",  "bloom-176b",   "phi-3-mini"};
    for (size_t i = 0; i < sizeof need_m / sizeof need_m[0]; i++)
        CHECK(model_list_find(&models, need_m[i]) != NULL);
    static const char *const need_g[] = {"t4",        "a10g",      "l4",       "l40s",
                                         "a100-40gb", "a100-80gb", "h100-sxm", "h100-pcie",
                                         "h200",      "b200",      "mi300x"};
    for (size_t i = 0; i < sizeof need_g / sizeof need_g[0]; i++)
        CHECK(gpu_list_find(&gpus, need_g[i]) != NULL);
    const model_arch *mx = M("mixtral-8x7b");
    CHECK_EQ_INT(mx->experts, 8);
    CHECK_EQ_INT(mx->experts_per_token, 2);
    CHECK(mx->active_params < 0.3 * mx->params);
    /* A ~100B-class dense model is there. */
    int found = 0;
    for (size_t i = 0; i < models.n; i++)
        found |= models.items[i].experts == 0 && models.items[i].params > 90e9 &&
                 models.items[i].params < 150e9;
    CHECK(found);
}

static void test_compute_rate_fallback(void)
{
    load();
    precision used;
    int native;
    /* A100 has no FP8 tensor path: falls back to BF16's 312 TFLOPS. */
    CHECK_EQ_DBL(gpu_compute_rate(G("a100-80gb"), PREC_FP8, 1, &used, &native), 312e12);
    CHECK_EQ_INT(used, PREC_BF16);
    CHECK_EQ_INT(native, 0);
    CHECK_EQ_DBL(gpu_compute_rate(G("h100-sxm"), PREC_FP8, 1, &used, &native), 1979e12);
    CHECK_EQ_INT(native, 1);
    /* INT4 weight-only computes at 16-bit, natively. */
    CHECK_EQ_DBL(gpu_compute_rate(G("h100-sxm"), PREC_INT4, 1, &used, &native), 989e12);
    CHECK_EQ_INT(used, PREC_FP16);
    CHECK_EQ_INT(native, 1);
    /* T4 (Turing) has no BF16: its FP16 rate. */
    CHECK_EQ_DBL(gpu_compute_rate(G("t4"), PREC_BF16, 1, &used, &native), 65e12);
    CHECK_EQ_INT(native, 0);
    /* Without tensor cores: the non-tensor 16-bit rate, whatever the precision. */
    CHECK_EQ_DBL(gpu_compute_rate(G("a100-80gb"), PREC_INT8, 0, &used, &native), 78e12);
}

static memplan_config mc(precision w, int tp)
{
    memplan_config c = {.weights = w,
                        .kv = PREC_BF16,
                        .tp = tp,
                        .gpu_memory_utilization = 0.9,
                        .reserve_bytes_per_gpu = memplan_default_reserve(tp),
                        .block_size = 16};
    return c;
}

static void test_memplan(void)
{
    load();
    memplan p;
    char err[1024] = "";
    memplan_config c = mc(PREC_BF16, 1);
    CHECK_EQ_INT(memplan_make(M("llama-3.1-8b"), G("h100-sxm"), &c, &p, err, sizeof err), 0);
    /* 80 GiB x 0.9 - 16.06 GB of weights - 2 GiB reserve, in 16-token blocks of 128 KiB. */
    double left = 85899345920.0 * 0.9 - 16060522496.0 - 2147483648.0;
    CHECK_EQ_U64(p.kv_blocks, (uint64_t)floor(left / (16 * 131072.0)));
    CHECK_EQ_U64(p.kv_tokens, p.kv_blocks * 16);
    /* Largest batch at 2,000 tokens of context: 125 blocks per request. */
    CHECK_EQ_U64(memplan_max_batch(&p, 16, 2000), p.kv_blocks / 125);
    CHECK_EQ_U64(memplan_max_batch(&p, 16, 2001), p.kv_blocks / 126);
    /* tp halves the weights per GPU. */
    memplan p2;
    c = mc(PREC_BF16, 2);
    CHECK_EQ_INT(memplan_make(M("llama-3.1-8b"), G("h100-sxm"), &c, &p2, err, sizeof err), 0);
    CHECK_EQ_DBL(p2.weight_bytes_per_gpu, 16060522496.0 / 2);
}

static void test_memplan_no_fit(void)
{
    load();
    memplan p;
    char err[1024] = "";
    memplan_config c = mc(PREC_FP16, 1);
    CHECK_EQ_INT(memplan_make(M("llama-3.1-70b"), G("h100-sxm"), &c, &p, err, sizeof err), -1);
    CHECK_CONTAINS(err, "llama-3.1-70b at fp16 needs 141.1 GB of weights");
    CHECK_CONTAINS(err, "1 x h100-sxm");
    CHECK_CONTAINS(err, "--tp 2");
    CHECK_CONTAINS(err, "--precision fp8");
    CHECK(strchr(err, '\n') == NULL);
    /* 405B at bf16 (812 GB) needs 16 H100s. */
    c = mc(PREC_BF16, 1);
    CHECK_EQ_INT(memplan_make(M("llama-3.1-405b"), G("h100-sxm"), &c, &p, err, sizeof err), -1);
    CHECK_CONTAINS(err, "--tp 16");
}

/* A decode step of Llama 3.1 8B at batch 1 on H100 SXM, by hand, with mfu = mbu = 1 and no
 * overheads: it reads every weight but the input embedding table (the LM head is read),
 * plus the KV cache of the context and the new token's KV entry. */
static void test_roofline_decode_batch1(void)
{
    load();
    step_coeffs unit = {.mfu = 1, .mbu = 1, .comm_scale = 1, .attn_scale = 1};
    step_model sm;
    step_model_roofline(&sm, M("llama-3.1-8b"), G("h100-sxm"), PREC_BF16, PREC_BF16, 1, 1, &unit);
    double c = 1000;
    step_shape s = step_shape_decode(1, c);
    step_breakdown b;
    double t = step_time_s(&sm, &s, &b);
    double weights = (8030261248.0 - 128256.0 * 4096) * 2; /* 15,009,849,344 bytes */
    double kv = (c + 1) * 131072;
    double t_mem = (weights + kv) / 3.35e12; /* 4.52 ms */
    /* FLOPs: 2 x (params - embedding - LM head) + 2 x LM head + 4 L H d c. */
    double flops =
        2 * (8030261248.0 - 2 * 128256.0 * 4096) + 2 * 128256.0 * 4096 + 4.0 * 32 * 32 * 128 * c;
    CHECK_REL(b.flops_per_gpu, flops, 1e-12);
    CHECK_REL(b.t_memory_s, t_mem, 1e-12);
    CHECK_REL(t, t_mem, 1e-12); /* memory-bound: compute takes ~16 us */
    CHECK_EQ_INT(b.compute_bound, 0);
    CHECK_NEAR(t * 1e3, 4.5197, 1e-3);
    CHECK_REL(b.ridge, 989e12 / 3.35e12, 1e-12);
    /* At tp 2 the bytes per GPU halve and two all-reduces per layer appear. */
    step_model_roofline(&sm, M("llama-3.1-8b"), G("h100-sxm"), PREC_BF16, PREC_BF16, 2, 1, &unit);
    step_time_s(&sm, &s, &b);
    CHECK_REL(b.t_memory_s, t_mem / 2, 1e-12);
    double one = 2.0 * 1 / 2 * 4096 * 2 / 450e9 + 2.0 * 1 * 10e-6;
    CHECK_REL(b.t_comm_s, 2 * 32 * one, 1e-9);
}

static void test_linear_model(void)
{
    step_model sm;
    char err[256];
    CHECK_EQ_INT(step_model_linear_parse(&sm, "linear:a=0.01,b=0.002", err, sizeof err), 0);
    step_shape s = step_shape_decode(8, 500);
    CHECK_REL(step_time_s(&sm, &s, NULL), 0.01 + 0.002 * 8, 1e-12);
    s = step_shape_prefill(3, 100);
    CHECK_REL(step_time_s(&sm, &s, NULL), 0.01 + 0.002 * 3, 1e-12);
    CHECK_EQ_INT(step_model_linear_parse(&sm, "linear:a=-1,b=1", err, sizeof err), -1);
    CHECK_CONTAINS(err, "linear:a=A,b=B");
    CHECK_EQ_INT(step_model_linear_parse(&sm, "linear:a=1", err, sizeof err), -1);
    CHECK_EQ_INT(step_model_linear_parse(&sm, "cubic:a=1,b=2", err, sizeof err), -1);
}

static void test_noise_mean_one(void)
{
    load();
    step_coeffs c = {.mfu = 0.5,
                     .mbu = 0.7,
                     .t_layer_s = 1e-4,
                     .comm_scale = 1,
                     .attn_scale = 1,
                     .noise_cv = 0.1};
    step_model sm;
    step_model_roofline(&sm, M("llama-3.1-8b"), G("a100-80gb"), PREC_BF16, PREC_BF16, 1, 1, &c);
    step_shape s = step_shape_decode(4, 800);
    double mean = step_time_s(&sm, &s, NULL);
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    double sum = 0, sum2 = 0;
    int n = 200000;
    for (int i = 0; i < n; i++) {
        double x = step_time_sample(&sm, &s, r) / mean;
        sum += x;
        sum2 += x * x;
    }
    double m = sum / n, sd = sqrt(sum2 / n - m * m);
    CHECK_NEAR(m, 1.0, 5 * 0.1 / sqrt(n));
    CHECK_NEAR(sd, 0.1, 0.002);
    gsl_rng_free(r);
}

static void test_hf_config(void)
{
    load();
    model_arch m;
    char err[512] = "";
    int rc = model_from_hf_config(CONFIGS "/Llama-3.1-8B-Instruct.json", "l8", &m, err, sizeof err);
    if (rc != 0)
        fprintf(stderr, "%s\n", err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_DBL(m.params, M("llama-3.1-8b")->params);
    CHECK_EQ_DBL(model_kv_bytes_per_token(&m, PREC_BF16), 131072);
    rc = model_from_hf_config(CONFIGS "/Mixtral-8x7B-v0.1.json", "mx", &m, err, sizeof err);
    CHECK_EQ_INT(rc, 0);
    CHECK_EQ_INT(m.experts, 8);
    CHECK_EQ_INT(m.experts_per_token, 2);
    CHECK_EQ_DBL(m.params, M("mixtral-8x7b")->params);
    CHECK_EQ_DBL(m.active_params, M("mixtral-8x7b")->active_params);
    /* Llama 4 keeps its language model under text_config; the FP8 variant loads too. */
    CHECK_EQ_INT(model_from_hf_config(CONFIGS "/Llama-4-Scout-17B-16E-Instruct.json", "scout", &m,
                                      err, sizeof err),
                 0);
    CHECK(m.experts > 0 && m.layers > 0);
    CHECK_EQ_INT(model_from_hf_config(CONFIGS "/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic.json",
                                      "scout8", &m, err, sizeof err),
                 0);
    /* A Qwen2-MoE-style config with a shared expert is refused, naming the key: capsim does
     * not model shared experts, and dropping them would understate every step. */
    {
        char shared_path[] = "/tmp/capsim_shared_XXXXXX";
        int fd = mkstemp(shared_path);
        FILE *fp = fd >= 0 ? fdopen(fd, "w") : NULL;
        if (CHECK(fp != NULL)) {
            fputs("{\"model_type\": \"qwen2_moe\", \"num_hidden_layers\": 24, "
                  "\"hidden_size\": 2048, \"num_attention_heads\": 16, "
                  "\"num_key_value_heads\": 16, \"intermediate_size\": 5632, "
                  "\"vocab_size\": 151936, \"num_experts\": 60, \"num_experts_per_tok\": 4, "
                  "\"shared_expert_intermediate_size\": 5632}\n",
                  fp);
            fclose(fp);
            CHECK_EQ_INT(model_from_hf_config(shared_path, "qmoe", &m, err, sizeof err), -1);
            CHECK_CONTAINS(err, "shared_expert_intermediate_size is 5632");
            remove(shared_path);
        }
    }
    /* Bad input: missing file, not JSON. */
    CHECK_EQ_INT(model_from_hf_config("/nonexistent/config.json", "x", &m, err, sizeof err), -1);
    CHECK_CONTAINS(err, "/nonexistent/config.json");
    CHECK_EQ_INT(model_from_hf_config(SPLITWISE, "x", &m, err, sizeof err), -1);
}

/* Hugging Face ids: the whole id or the part after the organisation, any case, of any
 * listed variant; a near miss finds nothing. */
static void test_hf_ids(void)
{
    load();
    const model_arch *l70 = M("llama-3.1-70b");
    CHECK(model_list_find(&models, "meta-llama/Llama-3.1-70B-Instruct") == l70);
    CHECK(model_list_find(&models, "Meta-Llama-3.1-70B-Instruct") == l70);
    CHECK(model_list_find(&models, "META-LLAMA/llama-3.1-70b") == l70);
    CHECK(model_list_find(&models, "Qwen/Qwen3-14B") == M("qwen3-14b"));
    CHECK(model_list_find(&models, "meta-llama/Llama-3.1-70B-Instruc") == NULL);
    CHECK(model_list_find(&models, "meta-llama") == NULL);
    CHECK(model_list_find(&models, "other-org/Llama-3.1-70B-Instruct") == NULL);
}

/* Writes text to a fresh file dir/name (dir made if needed); returns its path in buf. */
static const char *write_file(char *buf, size_t len, const char *dir, const char *name,
                              const char *text)
{
    mkdir(dir, 0700);
    snprintf(buf, len, "%s/%s", dir, name);
    FILE *fp = fopen(buf, "w");
    if (CHECK(fp != NULL)) {
        fputs(text, fp);
        fclose(fp);
    }
    return buf;
}

#define TINY_CONFIG                                                                                \
    "\"num_hidden_layers\": 2, \"hidden_size\": 256, \"num_attention_heads\": 4, "                 \
    "\"intermediate_size\": 512, \"vocab_size\": 1000"

/* A config's name: _name_or_path's last part, else its folder for config.json, else the
 * file's name; its quantization_config sets the weight precision it stores. */
static void test_hf_config_name_and_quantization(void)
{
    char dir[] = "/tmp/capsim_cfg_XXXXXX";
    if (!CHECK(mkdtemp(dir) != NULL))
        return;
    char sub[600], path[700];
    snprintf(sub, sizeof sub, "%s/My-Model-7B", dir);
    model_arch m;
    char err[512] = "";
    write_file(path, sizeof path, sub, "config.json", "{" TINY_CONFIG "}");
    CHECK_EQ_INT(model_from_hf_config(path, "config", &m, err, sizeof err), 0);
    CHECK(strcmp(m.name, "My-Model-7B") == 0);
    CHECK_EQ_INT(m.quant_precision, -1);
    CHECK(m.quant_desc[0] == 0);
    write_file(path, sizeof path, dir, "named.json",
               "{\"_name_or_path\": \"org/Named-1B\", " TINY_CONFIG "}");
    CHECK_EQ_INT(model_from_hf_config(path, "named", &m, err, sizeof err), 0);
    CHECK(strcmp(m.name, "Named-1B") == 0);
    write_file(path, sizeof path, dir, "plain.json", "{" TINY_CONFIG "}");
    CHECK_EQ_INT(model_from_hf_config(path, "plain", &m, err, sizeof err), 0);
    CHECK(strcmp(m.name, "plain") == 0);
    static const struct {
        const char *q;
        int prec;
    } cases[] = {
        {"{\"quant_method\": \"fp8\"}", PREC_FP8},
        {"{\"quant_method\": \"awq\", \"bits\": 4, \"group_size\": 128}", PREC_INT4},
        {"{\"quant_method\": \"gptq\", \"bits\": 8}", PREC_INT8},
        {"{\"quant_method\": \"compressed-tensors\", \"config_groups\": {\"group_0\": "
         "{\"weights\": {\"num_bits\": 4, \"type\": \"int\"}}}}",
         PREC_INT4},
        {"{\"quant_method\": \"bitsandbytes\", \"bits\": 2}", -1},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[800];
        snprintf(text, sizeof text, "{\"quantization_config\": %s, " TINY_CONFIG "}", cases[i].q);
        write_file(path, sizeof path, dir, "q.json", text);
        CHECK_EQ_INT(model_from_hf_config(path, "q", &m, err, sizeof err), 0);
        CHECK_EQ_INT(m.quant_precision, cases[i].prec);
        CHECK(m.quant_desc[0] != '\0'); /* said either way */
    }
    /* The bundled FP8 checkpoint (compressed-tensors, 8-bit float weights). */
    CHECK_EQ_INT(model_from_hf_config(CONFIGS "/Llama-4-Scout-17B-16E-Instruct-FP8-dynamic.json",
                                      "scout8", &m, err, sizeof err),
                 0);
    CHECK_EQ_INT(m.quant_precision, PREC_FP8);
    char cmd[700];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK_EQ_INT(system(cmd), 0);
}

static void test_catalog_bad_rows(void)
{
    char path[] = "/tmp/capsim_models_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    fprintf(fp, "name,params,layers,hidden,heads,kv_heads,head_dim,ffn,vocab,max_context,source\n"
                "ok,1000,2,64,4,4,16,128,100,512,test\n"
                "bad,1000,two,64,4,4,16,128,100,512,test\n");
    fclose(fp);
    model_list l;
    char err[512] = "";
    CHECK_EQ_INT(model_list_load(path, &l, err, sizeof err), -1);
    CHECK_CONTAINS(err, ":3:");
    CHECK_CONTAINS(err, "'layers'");
    CHECK_CONTAINS(err, "'two'");
    fp = fopen(path, "w");
    fprintf(fp, "name,params\nx,1\n");
    fclose(fp);
    CHECK_EQ_INT(model_list_load(path, &l, err, sizeof err), -1);
    CHECK_CONTAINS(err, "missing column");
    remove(path);
}

/* Measurements made by the model itself from known coefficients, with 3% lognormal noise,
 * on a grid like the Splitwise one. Over 20 independent data sets each coefficient's 95%
 * interval must cover the true value at least 16 times (for a correct 95% interval,
 * P(15 or fewer of 20) = 1.6%), and the fitted values must sit close to the truth
 * (within 10% for mfu and mbu, looser for the weakly identified terms). */
static void test_fit_recovers_known_coefficients(void)
{
    load();
    step_coeffs truth = {
        .mfu = 0.55, .mbu = 0.7, .t_layer_s = 2e-4, .comm_scale = 0.8, .attn_scale = 2.0};
    double want[FIT_N_COEFFS] = {truth.mfu, truth.mbu, truth.t_layer_s, truth.comm_scale,
                                 truth.attn_scale};
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    static fit_point pts[400];
    static const int tps[] = {2, 4, 8};
    static const double batches[] = {1, 4, 16, 64};
    static const double prompts[] = {128, 512, 2048, 8192};
    int covered[FIT_N_COEFFS] = {0};
    /* attention and per-layer overhead are the least identified on this grid */
    const double tol[FIT_N_COEFFS] = {0.1, 0.1, 0.3, 0.15, 0.3};
    const int sets = 20;
    for (int set = 0; set < sets; set++) {
        gsl_rng_set(r, 1000 + (unsigned long)set);
        size_t n = 0;
        for (int t = 0; t < 3; t++)
            for (int bi = 0; bi < 4; bi++)
                for (int pi = 0; pi < 4; pi++)
                    for (int ph = 0; ph < 2; ph++) {
                        fit_point *p = &pts[n++];
                        memset(p, 0, sizeof *p);
                        step_model_roofline(&p->model, M("llama-2-70b"), G("a100-80gb"), PREC_FP16,
                                            PREC_FP16, tps[t], 1, &truth);
                        p->phase = ph ? FIT_DECODE : FIT_PREFILL;
                        p->shape = ph ? step_shape_decode(batches[bi], prompts[pi])
                                      : step_shape_prefill(batches[bi], prompts[pi]);
                        p->measured_s =
                            step_time_s(&p->model, &p->shape, NULL) * gsl_ran_lognormal(r, 0, 0.03);
                    }
        step_coeffs start = {
            .mfu = 0.4, .mbu = 0.5, .t_layer_s = 1e-4, .comm_scale = 1, .attn_scale = 1};
        fit_result fr;
        char err[256];
        CHECK_EQ_INT(fit_run(pts, n, &start, &fr, err, sizeof err), 0);
        double got[FIT_N_COEFFS] = {fr.coeffs.mfu, fr.coeffs.mbu, fr.coeffs.t_layer_s,
                                    fr.coeffs.comm_scale, fr.coeffs.attn_scale};
        for (int k = 0; k < FIT_N_COEFFS; k++) {
            covered[k] += fr.lo[k] <= want[k] && want[k] <= fr.hi[k];
            CHECK_REL(got[k], want[k], tol[k]);
        }
        CHECK_LE(fr.median_ape[FIT_DECODE], 4.0);
    }
    for (int k = 0; k < FIT_N_COEFFS; k++) {
        if (covered[k] < 16)
            fprintf(stderr, "  %s covered %d of %d times\n", fit_coeff_names[k], covered[k], sets);
        CHECK_GE(covered[k], 16);
    }
    gsl_rng_free(r);
}

/* The shipped default profile rows for A100 and H100 are what fitting the Splitwise data
 * gives, and the fit meets the accuracy the models issue asks for. */
static void test_splitwise_fit_and_shipped_profile(void)
{
    load();
    FILE *probe = fopen(SPLITWISE, "r");
    if (probe == NULL) {
        fprintf(stderr, "  (Splitwise data not found at %s)\n", SPLITWISE);
        CHECK(probe != NULL);
        return;
    }
    fclose(probe);
    profile_list prof;
    char err[512] = "";
    CHECK_EQ_INT(
        profile_list_load(CAPSIM_SOURCE_DIR "/models/profiles/default.csv", &prof, err, sizeof err),
        0);
    static const char *const hw[] = {"a100-80gb", "h100-sxm"};
    for (int i = 0; i < 2; i++) {
        measure_options mo = {
            .hardware = hw[i], .tensor_cores = 1, .weights = PREC_FP16, .kv = PREC_FP16};
        measure_set ms;
        CHECK_EQ_INT(measure_load_splitwise(SPLITWISE, &models, &gpus, &mo, &ms, err, sizeof err),
                     0);
        step_coeffs start = {.mfu = 0.5,
                             .mbu = 0.6,
                             .t_layer_s = 1e-4,
                             .comm_scale = 1,
                             .attn_scale = 1,
                             .noise_cv = ms.noise_cv};
        fit_result fr;
        CHECK_EQ_INT(fit_run(ms.pts, ms.n, &start, &fr, err, sizeof err), 0);
        CHECK_LE(fr.median_ape[FIT_DECODE], 10.0);
        CHECK_LE(fr.median_ape[FIT_PREFILL], 15.0);
        const profile_row *row = profile_list_find(&prof, hw[i]);
        CHECK(row != NULL && strcmp(row->gpu, hw[i]) == 0);
        if (row) {
            CHECK_REL(row->c.mfu, fr.coeffs.mfu, 1e-6);
            CHECK_REL(row->c.mbu, fr.coeffs.mbu, 1e-6);
            CHECK_REL(row->c.t_layer_s, fr.coeffs.t_layer_s, 1e-6);
            CHECK_REL(row->c.comm_scale, fr.coeffs.comm_scale, 1e-6);
            CHECK_REL(row->c.attn_scale, fr.coeffs.attn_scale, 1e-6);
            CHECK_REL(row->c.noise_cv, fr.coeffs.noise_cv, 1e-6);
        }
        measure_set_free(&ms);
    }
    profile_list_free(&prof);
}

/* Releases the catalog the tests share; listed last. */
static void teardown(void)
{
    model_list_free(&models);
    gpu_list_free(&gpus);
}

TEST_MAIN(TEST(test_kv_bytes_per_token), TEST(test_weight_bytes), TEST(test_catalog_contents),
          TEST(test_compute_rate_fallback), TEST(test_memplan), TEST(test_memplan_no_fit),
          TEST(test_roofline_decode_batch1), TEST(test_linear_model), TEST(test_noise_mean_one),
          TEST(test_hf_config), TEST(test_hf_ids), TEST(test_hf_config_name_and_quantization),
          TEST(test_catalog_bad_rows),
          TEST(test_fit_recovers_known_coefficients), TEST(test_splitwise_fit_and_shipped_profile),
          TEARDOWN(teardown))
