/*
 * test_kstep: the measured-kernel step model (models/kstep) on the shipped tables: the
 * per-layer sum checked by hand for Llama-3.1-8B on an H100 (each kernel looked up here and
 * summed), tensor-parallel splitting, monotonicity in batch and context, CUDA-graph padding,
 * extrapolation flagged outside the grids, the precisions, and the refusals; for MoE models
 * (Mixtral-8x7B on two H100s) the same sum by hand with the fused MoE layer, monotonicity in
 * tokens, the MoE grid's edge, and that the dense models' prices did not change; that a
 * step's time is linear in the coefficients (kstep_terms) and that kcalib recovers them from
 * exact step times.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "models/gpu.h"
#include "models/kcalib.h"
#include "models/kernels.h"
#include "models/kstep.h"
#include "models/model.h"
#include "models/steptime.h"
#include "tests/check.h"

#define KERNELS CAPSIM_SOURCE_DIR "/models/kernels"
#define CATALOG CAPSIM_SOURCE_DIR "/models/catalog"

/* The deployment's roofline that prices kernels outside the grids (H100 SXM-like numbers;
 * only the extrapolated parts depend on them). */
static const kstep_roofline RF = {.gemm_flops_per_s = 989e12,
                                  .attn_flops_per_s = 989e12,
                                  .mem_bytes_per_s = 3.35e12,
                                  .mfu = 0.5,
                                  .mbu = 0.8,
                                  .link_bytes_per_s = 450e9,
                                  .link_latency_s = 5e-6};

typedef struct fixture {
    model_list models;
    gpu_list gpus;
    kernels_set set; /* the H100's newest stack, for the hand sums */
    int ok;
} fixture;

static void fixture_load(fixture *f)
{
    char err[512], path[1024];
    memset(f, 0, sizeof *f);
    snprintf(path, sizeof path, "%s/models.csv", CATALOG);
    int rc = model_list_load(path, &f->models, err, sizeof err);
    snprintf(path, sizeof path, "%s/gpus.csv", CATALOG);
    rc |= gpu_list_load(path, &f->gpus, err, sizeof err);
    rc |= kernels_load(KERNELS, "h100_sxm", NULL, &f->set, err, sizeof err);
    f->ok = CHECK(rc == 0);
}

static void fixture_free(fixture *f)
{
    model_list_free(&f->models);
    gpu_list_free(&f->gpus);
    kernels_free(&f->set);
}

static kstep *build(const fixture *f, const char *model, const char *gpu, precision w,
                    precision kv, int tp)
{
    char err[512];
    kstep *k = NULL;
    const model_arch *m = model_list_find(&f->models, model);
    const gpu_spec *g = gpu_list_find(&f->gpus, gpu);
    if (!CHECK(m != NULL && g != NULL))
        return NULL;
    if (!CHECK(kstep_build(&k, KERNELS, NULL, m, g, w, kv, tp, &RF, NULL, err, sizeof err) == 0))
        printf("  %s\n", err);
    return k;
}

/* One GEMM of the H100's bf16 table, which must be inside the grid. */
static double gemm(const fixture *f, const char *dtype, double m, double n, double k)
{
    ktable_result r;
    CHECK_EQ_INT(ktable_gemm(f->set.table[KTABLE_GEMM], dtype, m, n, k, &r), KTABLE_OK);
    return r.latency_ms;
}

/* The time outside the kernels of Llama-3.1-8B on one H100 (3.35 TB/s; element-wise
 * operations at 0.8 of it and 3 us each) for a step of `seqs` sequences and as many tokens,
 * by hand: per step 0.6 ms of host time and 5 operations; per layer 5 operations; per
 * sequence three passes over 128256 fp32 logits; per token and layer the bytes of two
 * residual-add + RMSNorm (8 x 4096 x 2 each), rotary (2 x (32 + 8) x 128 x 2), SiLU-and-mul
 * (3 x 14336 x 2) and the KV write (2 x 8 x 128 x (2 + 2)): 180224 bytes. */
static double outside_8b_h100_s(double seqs)
{
    double bw = 0.8 * 3.35e12;
    return 0.6e-3 + 5 * 3e-6 + 32 * 5 * 3e-6 + seqs * 3 * 128256 * 4 / bw +
           seqs * 32 * 180224 / bw;
}

/* Llama-3.1-8B (32 layers, hidden 4096, 32 heads, 8 KV heads, head size 128, MLP 14336,
 * vocabulary 128256) on one H100, a decode step of 40 sequences at context 1024: 40 is a
 * capture size, so nothing is padded. */
static void test_per_layer_sum_by_hand(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    if (k != NULL) {
        double qkv = gemm(&f, "bfloat16", 40, (32 + 2 * 8) * 128, 4096);
        double o = gemm(&f, "bfloat16", 40, 4096, 32 * 128);
        double gate_up = gemm(&f, "bfloat16", 40, 2 * 14336, 4096);
        double down = gemm(&f, "bfloat16", 40, 4096, 14336);
        /* 128256 > 65536: two pieces of 64128 columns. */
        double lm = 2 * gemm(&f, "bfloat16", 40, 64128, 4096);
        ktable_result r;
        CHECK_EQ_INT(ktable_decode_attn(f.set.table[KTABLE_DECODE_ATTN], 40, 1024, 32, 8, 128,
                                        "bfloat16", &r),
                     KTABLE_OK);
        double attn = r.latency_ms;
        step_shape s = step_shape_decode(40, 1024);
        kstep_breakdown b;
        double t = kstep_time_s(k, &s, &b);
        CHECK_REL(b.gemm_s, 32 * (qkv + o + gate_up + down) * 1e-3, 1e-12);
        CHECK_REL(b.lm_head_s, lm * 1e-3, 1e-12);
        CHECK_REL(b.decode_attn_s, 32 * attn * 1e-3, 1e-12);
        CHECK_EQ_DBL(b.prefill_attn_s, 0);
        CHECK_EQ_DBL(b.allreduce_s, 0);
        CHECK_REL(b.outside_s, outside_8b_h100_s(40), 1e-12);
        double by_hand =
            (32 * (qkv + o + gate_up + down + attn) + lm) * 1e-3 + outside_8b_h100_s(40);
        CHECK_REL(t, by_hand, 1e-12);
        CHECK_EQ_INT(b.graph, 1);
        CHECK_EQ_DBL(b.gemm_tokens, 40);
        CHECK_EQ_U64(b.extrapolated, 0);
        /* The figure: the kernels of this step add to roughly 7-9 ms. */
        double kernels_ms = 1e3 * (t - b.outside_s);
        CHECK(kernels_ms > 7.0 && kernels_ms < 9.0);
        printf("  llama-3.1-8b h100 decode 40 x 1024: kernels %.3f ms, step %.3f ms\n",
               kernels_ms, 1e3 * t);
        CHECK(strcmp(kstep_source(k), "h100_sxm/vllm-0.19.0") == 0);
        CHECK_EQ_INT(kstep_note(k)[0], '\0');
    }
    kstep_free(k);
    fixture_free(&f);
}

/* tp 2 splits n of QKV and gate/up and k of O and down, halves the heads, and adds two
 * all-reduces of tokens x hidden per layer: from a CUDA graph in a decode-only step, eager in
 * a step with a prefill chunk. */
static void test_tensor_parallel_split(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 2) : NULL;
    if (k != NULL) {
        double proj = gemm(&f, "bfloat16", 40, 3072, 4096) + gemm(&f, "bfloat16", 40, 4096, 2048) +
                      gemm(&f, "bfloat16", 40, 14336, 4096) + gemm(&f, "bfloat16", 40, 4096, 7168);
        double lm = gemm(&f, "bfloat16", 40, 64128, 4096); /* one piece at tp 2 */
        const ktable *ar = f.set.table[KTABLE_CUSTOM_AR];
        ktable_result g, e, d;
        CHECK_EQ_INT(ktable_allreduce(ar, 2, 40 * 4096, "vllm_graph", &g), KTABLE_OK);
        CHECK_EQ_INT(ktable_decode_attn(f.set.table[KTABLE_DECODE_ATTN], 40, 1024, 16, 4, 128,
                                        "bfloat16", &d),
                     KTABLE_OK);
        step_shape s = step_shape_decode(40, 1024);
        kstep_breakdown b;
        kstep_time_s(k, &s, &b);
        CHECK_REL(b.gemm_s, 32 * proj * 1e-3, 1e-12);
        CHECK_REL(b.lm_head_s, lm * 1e-3, 1e-12);
        CHECK_REL(b.decode_attn_s, 32 * d.latency_ms * 1e-3, 1e-12);
        CHECK_REL(b.allreduce_s, 2 * 32 * g.latency_ms * 1e-3, 1e-12);
        /* A mixed step: 500 prefill tokens of one prompt beside 39 decoding sequences. */
        step_shape mixed = step_shape_prefill(1, 500);
        mixed.decode_seqs = 39;
        mixed.decode_ctx = 39 * 1024.0;
        kstep_time_s(k, &mixed, &b);
        CHECK_EQ_INT(b.graph, 0);
        CHECK_EQ_DBL(b.gemm_tokens, 539);
        CHECK_EQ_INT(ktable_allreduce(ar, 2, 539 * 4096, "vllm_eager", &e), KTABLE_OK);
        CHECK_REL(b.allreduce_s, 2 * 32 * e.latency_ms * 1e-3, 1e-12);
        CHECK(b.prefill_attn_s > 0 && b.decode_attn_s > 0);
        CHECK_EQ_U64(b.extrapolated, 0);
    }
    kstep_free(k);
    fixture_free(&f);
}

/* The measured latencies are not strictly monotone: neighbouring grid points dip by up to
 * about 3% (run-to-run noise, a tile size that suits one m better than the next, a flat
 * memory-bound stretch where doubling a small batch changes nothing), and the model follows
 * the tables rather than smoothing them. So: a bigger batch, context or prompt never costs
 * NOISE less than any smaller one, and the largest costs clearly more than the smallest. */
#define NOISE 0.05

typedef step_shape (*shape_of)(double x, double fixed);

static step_shape decode_batch(double b, double c)
{
    return step_shape_decode(b, c);
}

static step_shape decode_context(double c, double b)
{
    return step_shape_decode(b, c);
}

static step_shape prefill_prompt(double p, double b)
{
    return step_shape_prefill(b, p);
}

static void check_growing(const kstep *k, shape_of shape, double fixed, double from, double to,
                          double factor, double add, const char *what)
{
    double most = 0, first = NAN, t = 0;
    for (double x = from; x <= to; x = x * factor + add) {
        step_shape s = shape(x, fixed);
        t = kstep_time_s(k, &s, NULL);
        if (!CHECK_GE(t, (1 - NOISE) * most))
            printf("  %s %g costs %.4g ms, a smaller one %.4g ms\n", what, x, 1e3 * t, 1e3 * most);
        most = fmax(most, t);
        if (isnan(first))
            first = t;
    }
    CHECK_GE(t, 1.2 * first);
}

/* More sequences or more context never make a step cheaper (up to the tables' noise), on
 * one GPU and on four. */
static void test_monotone_in_batch_and_context(void)
{
    fixture f;
    fixture_load(&f);
    for (int tp = 1; tp <= 4 && f.ok; tp *= 4) {
        kstep *k = build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, tp);
        if (k == NULL)
            continue;
        check_growing(k, decode_batch, 1024, 1, 600, 1, 1, "decode batch");
        check_growing(k, decode_context, 32, 16, 32768, 1.25, 0, "decode context");
        check_growing(k, prefill_prompt, 1, 16, 16384, 1.25, 0, "prompt");
        check_growing(k, prefill_prompt, 4, 16, 8192, 1.25, 0, "prompt (4)");
        kstep_free(k);
    }
    fixture_free(&f);
}

/* Decode attention is precomputed at the table's contexts for every batch up to 512: it must
 * give what the table's own lookup gives, between the contexts too. */
static void test_precomputed_decode_attention_is_the_lookup(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    int compared = 0;
    for (int b = 1; b <= 600 && k != NULL; b += 7)
        for (double c = 1; c <= 40000; c = c * 1.37 + 3) {
            ktable_result r;
            if (ktable_decode_attn(f.set.table[KTABLE_DECODE_ATTN], b, c, 32, 8, 128, "bfloat16",
                                   &r) != KTABLE_OK)
                continue;
            step_shape s = step_shape_decode(b, c);
            kstep_breakdown bd;
            kstep_time_s(k, &s, &bd);
            if (!CHECK_REL(bd.decode_attn_s, 32e-3 * r.latency_ms, 1e-9))
                printf("  batch %d, context %g\n", b, c);
            compared++;
        }
    CHECK(compared > 500);
    kstep_free(k);
    fixture_free(&f);
}

/* vLLM pads a decode-only batch to its capture sizes: 9 sequences run the graph of 16. */
static void test_cuda_graph_padding(void)
{
    static const int SIZES[][2] = {{1, 1},     {2, 2},     {3, 4},     {5, 8},     {9, 16},
                                   {16, 16},   {17, 24},   {255, 256}, {256, 256}, {257, 272},
                                   {500, 512}, {512, 512}, {513, 513}, {1000, 1000}};
    for (size_t i = 0; i < sizeof SIZES / sizeof SIZES[0]; i++)
        CHECK_EQ_INT(kstep_graph_size(SIZES[i][0]), SIZES[i][1]);
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    if (k != NULL) {
        step_shape s9 = step_shape_decode(9, 1024), s16 = step_shape_decode(16, 1024);
        kstep_breakdown b9, b16;
        kstep_time_s(k, &s9, &b9);
        kstep_time_s(k, &s16, &b16);
        CHECK_EQ_DBL(b9.gemm_s, b16.gemm_s);
        CHECK_EQ_DBL(b9.lm_head_s, b16.lm_head_s);
        CHECK_EQ_DBL(b9.gemm_tokens, 16);
        CHECK(b9.gemm_s > 1e-3 * 32 * (gemm(&f, "bfloat16", 9, 6144, 4096) +
                                       gemm(&f, "bfloat16", 9, 4096, 4096) +
                                       gemm(&f, "bfloat16", 9, 28672, 4096) +
                                       gemm(&f, "bfloat16", 9, 4096, 14336)));
        /* Attention runs for the real sequences only. */
        CHECK(b9.decode_attn_s < b16.decode_attn_s);
        /* A prefill chunk makes the step eager: no padding. */
        step_shape mixed = step_shape_prefill(1, 7);
        mixed.decode_seqs = 2;
        mixed.decode_ctx = 2048;
        kstep_breakdown bm;
        kstep_time_s(k, &mixed, &bm);
        CHECK_EQ_DBL(bm.gemm_tokens, 9);
    }
    kstep_free(k);
    fixture_free(&f);
}

/* Outside a grid the kernel is priced by its roofline, never below the edge, and flagged. */
static void test_extrapolation_flagged(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    if (k != NULL) {
        kstep_breakdown b;
        /* The decode grid is a triangle: batch 256 is measured only up to 2K of context. */
        step_shape s = step_shape_decode(256, 8192);
        kstep_time_s(k, &s, &b);
        CHECK(b.extrapolated & KSTEP_X_DECODE_ATTN);
        CHECK(!(b.extrapolated & KSTEP_X_GEMM));
        ktable_result r;
        CHECK_EQ_INT(ktable_decode_attn(f.set.table[KTABLE_DECODE_ATTN], 256, 8192, 32, 8, 128,
                                        "bfloat16", &r),
                     KTABLE_EXTRAPOLATED);
        CHECK_GE(b.decode_attn_s, 32 * r.latency_ms * 1e-3);
        /* 40 prompts of 1000 tokens: m = 40000 beyond the GEMM grid's 32768. */
        step_shape p = step_shape_prefill(40, 1000);
        kstep_time_s(k, &p, &b);
        CHECK(b.extrapolated & KSTEP_X_GEMM);
        CHECK(!(b.extrapolated & KSTEP_X_DECODE_ATTN));
        char names[128];
        CHECK_CONTAINS(kstep_extrapolated_names(b.extrapolated, names, sizeof names), "GEMMs");
        CHECK_CONTAINS(kstep_extrapolated_names(KSTEP_X_GEMM | KSTEP_X_ALLREDUCE, names,
                                                sizeof names),
                       "GEMMs, all-reduce");
    }
    kstep_free(k);
    fixture_free(&f);
}

/* fp8 weights read the fp8 GEMMs; int8 and int4 are priced as bf16 and said so; the step
 * model of steptime gives the kernel model's time. */
static void test_precisions_and_step_model(void)
{
    fixture f;
    fixture_load(&f);
    kstep *bf = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    kstep *f8 = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_FP8, PREC_FP8, 1) : NULL;
    kstep *i4 = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_INT4, PREC_BF16, 1) : NULL;
    if (bf != NULL && f8 != NULL && i4 != NULL) {
        step_shape s = step_shape_decode(40, 1024);
        kstep_breakdown b;
        kstep_time_s(f8, &s, &b);
        CHECK_REL(b.gemm_s,
                  32e-3 * (gemm(&f, "fp8", 40, 6144, 4096) + gemm(&f, "fp8", 40, 4096, 4096) +
                           gemm(&f, "fp8", 40, 28672, 4096) + gemm(&f, "fp8", 40, 4096, 14336)),
                  1e-12);
        CHECK_CONTAINS(kstep_note(i4), "int4 weight-only GEMM kernels are not in the tables");
        CHECK_EQ_DBL(kstep_time_s(i4, &s, NULL), kstep_time_s(bf, &s, NULL));
        step_model sm;
        memset(&sm, 0, sizeof sm); /* a roofline of unit rates: only its FLOPs are shown */
        sm.tp = 1;
        sm.rate_flops = sm.mem_bw = sm.c.mfu = sm.c.mbu = 1;
        step_model_kernels(&sm, bf);
        step_breakdown sb;
        CHECK_EQ_DBL(step_time_s(&sm, &s, NULL), kstep_time_s(bf, &s, NULL));
        CHECK_EQ_DBL(step_time_s(&sm, &s, &sb), kstep_time_s(bf, &s, &b));
        CHECK_EQ_DBL(sb.t_fixed_s, b.outside_s);
    }
    kstep_free(bf);
    kstep_free(f8);
    kstep_free(i4);
    fixture_free(&f);
}

/* Mixtral-8x7B (32 layers, hidden 4096, 32 heads, 8 KV heads, head size 128, 8 experts of
 * 14336, top-2, vocabulary 32000) on two H100s (46.7 GB of bf16 weights per GPU), a decode
 * step of 40 sequences at context 1024, each kernel looked up here and summed. */
static void test_moe_decode_by_hand(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "mixtral-8x7b", "h100-sxm", PREC_BF16, PREC_BF16, 2) : NULL;
    if (k != NULL) {
        double qkv = gemm(&f, "bfloat16", 40, (32 + 2 * 8) * 128 / 2, 4096);
        double o = gemm(&f, "bfloat16", 40, 4096, 32 * 128 / 2);
        double router = gemm(&f, "bfloat16", 40, 32, 4096); /* 8 experts, priced at n = 32 */
        ktable_result r;
        ktable_moe_shape sh = {.hidden = 4096, .inter = 14336, .topk = 2, .experts = 8,
                               .tp = 2, .ep = 1};
        CHECK_EQ_INT(ktable_moe(f.set.table[KTABLE_MOE], "bfloat16", 40, &sh, "balanced", &r),
                     KTABLE_OK);
        double moe = r.latency_ms;
        CHECK_EQ_INT(ktable_decode_attn(f.set.table[KTABLE_DECODE_ATTN], 40, 1024, 16, 4, 128,
                                        "bfloat16", &r),
                     KTABLE_OK);
        double attn = r.latency_ms;
        CHECK_EQ_INT(ktable_allreduce(f.set.table[KTABLE_CUSTOM_AR], 2, 40 * 4096, "vllm_graph",
                                      &r),
                     KTABLE_OK);
        double ar = r.latency_ms;
        double lm = gemm(&f, "bfloat16", 40, 16000, 4096);
        step_shape s = step_shape_decode(40, 1024);
        kstep_breakdown b;
        double t = kstep_time_s(k, &s, &b);
        CHECK_REL(b.gemm_s, 32e-3 * (qkv + o), 1e-12);
        CHECK_REL(b.moe_s, 32e-3 * (router + moe), 1e-12);
        CHECK_REL(b.decode_attn_s, 32e-3 * attn, 1e-9);
        CHECK_REL(b.allreduce_s, 32e-3 * 2 * ar, 1e-12);
        CHECK_REL(b.lm_head_s, 1e-3 * lm, 1e-12);
        CHECK_EQ_DBL(b.prefill_attn_s, 0.0);
        CHECK_REL(t,
                  32e-3 * (qkv + o + router + moe + attn + 2 * ar) + 1e-3 * lm + b.outside_s,
                  1e-9);
        CHECK_EQ_INT((int)b.extrapolated, 0);
        /* The MoE layer is most of a decode step: 8 experts' weights are read per layer. */
        CHECK(b.moe_s > 0.5 * t);
    }
    kstep_free(k);
    fixture_free(&f);
}

/* The MoE layer's time, and the step's, never fall as the tokens grow, up to the tables'
 * noise (NOISE: the fused MoE table dips by up to about 4.5% between neighbouring token
 * counts, e.g. 384 to 497 tokens at tp 2, and the model follows it): decode batches up to
 * and past the largest capture size, and one prefill chunk across the MoE grid (1 to 16384
 * tokens), inside which nothing is extrapolated. */
static void test_moe_monotone_in_tokens(void)
{
    fixture f;
    fixture_load(&f);
    for (int tp = 2; tp <= 4 && f.ok; tp *= 2) {
        kstep *k = build(&f, "mixtral-8x7b", "h100-sxm", PREC_BF16, PREC_BF16, tp);
        if (k == NULL)
            continue;
        check_growing(k, decode_batch, 1024, 1, 600, 1, 1, "decode batch");
        check_growing(k, prefill_prompt, 1, 1, 16384, 1.1, 1, "prompt");
        double most = 0;
        int ok = 1;
        for (double n = 1; n <= 16384; n = ceil(n * 1.1)) {
            step_shape s = step_shape_prefill(1, n);
            kstep_breakdown b;
            kstep_time_s(k, &s, &b);
            ok &= b.moe_s >= (1 - NOISE) * most && b.moe_s > 0 && !(b.extrapolated & KSTEP_X_MOE);
            most = fmax(most, b.moe_s);
        }
        CHECK(ok);
        kstep_free(k);
    }
    fixture_free(&f);
}

/* Past the MoE grid's 16384 tokens the layer is priced by its roofline, never below the
 * grid's edge, and flagged; fp8 weights read the fp8 MoE kernels, int8 is priced as bf16 and
 * said so; a table without balanced routing is read under its power law, and said so. */
static void test_moe_extrapolation_and_dtypes(void)
{
    fixture f;
    fixture_load(&f);
    kstep *bf = f.ok ? build(&f, "mixtral-8x7b", "h100-sxm", PREC_BF16, PREC_BF16, 2) : NULL;
    kstep *f8 = f.ok ? build(&f, "mixtral-8x7b", "h100-sxm", PREC_FP8, PREC_BF16, 2) : NULL;
    kstep *i8 = f.ok ? build(&f, "mixtral-8x7b", "h100-sxm", PREC_INT8, PREC_BF16, 2) : NULL;
    if (bf != NULL && f8 != NULL && i8 != NULL) {
        step_shape edge = step_shape_prefill(1, 16384), past = step_shape_prefill(1, 20000);
        kstep_breakdown be, bp;
        kstep_time_s(bf, &edge, &be);
        kstep_time_s(bf, &past, &bp);
        CHECK(!(be.extrapolated & KSTEP_X_MOE));
        CHECK(bp.extrapolated & KSTEP_X_MOE);
        CHECK(bp.moe_s >= be.moe_s);
        char names[128];
        CHECK_CONTAINS(kstep_extrapolated_names(KSTEP_X_MOE, names, sizeof names), "MoE layer");
        step_shape s = step_shape_decode(40, 1024);
        kstep_breakdown b;
        kstep_time_s(f8, &s, &b);
        ktable_result r;
        ktable_moe_shape sh = {.hidden = 4096, .inter = 14336, .topk = 2, .experts = 8,
                               .tp = 2, .ep = 1};
        CHECK_EQ_INT(ktable_moe(f.set.table[KTABLE_MOE], "fp8", 40, &sh, "balanced", &r),
                     KTABLE_OK);
        CHECK_REL(b.moe_s, 32e-3 * (gemm(&f, "bfloat16", 40, 32, 4096) + r.latency_ms), 1e-12);
        CHECK_CONTAINS(kstep_note(i8), "no int8 MoE kernels measured");
        CHECK_EQ_DBL(kstep_time_s(i8, &s, NULL), kstep_time_s(bf, &s, NULL));
        CHECK_EQ_INT((int)strlen(kstep_note(bf)), 0);
    }
    /* The A100's tables (vllm-0.14) measured the MoE layer under the power law only: it is
     * priced under it, and said so. */
    kstep *a100 = f.ok ? build(&f, "mixtral-8x7b", "a100-80gb", PREC_BF16, PREC_BF16, 4) : NULL;
    if (a100 != NULL) {
        CHECK_CONTAINS(kstep_note(a100), "no balanced MoE routing measured");
        step_shape s = step_shape_decode(40, 1024);
        kstep_breakdown b;
        kstep_time_s(a100, &s, &b);
        CHECK(b.moe_s > 0 && !(b.extrapolated & KSTEP_X_MOE));
    }
    kstep_free(a100);
    kstep_free(bf);
    kstep_free(f8);
    kstep_free(i8);
    fixture_free(&f);
}

/* Pricing MoE models left the dense models' kernels as they were: the values below are the
 * kernel parts (the step less the time outside the kernels, 0.126 ms per step, 0.032 ms per
 * layer and 0.0044 ms per sequence then) of the commit before it (a9ed3cb), for a decode
 * step of 40 at context 1024 and a prefill of 4 prompts of 2048, Llama-3.1-8B on one H100 and
 * Llama-3.1-70B on four (whose prefill all-reduces, 134 MB each, have since moved to NCCL). */
static void test_dense_price_unchanged(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k8 = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    kstep *k70 = f.ok ? build(&f, "llama-3.1-70b", "h100-sxm", PREC_BF16, PREC_BF16, 4) : NULL;
    if (k8 != NULL && k70 != NULL) {
        step_shape s = step_shape_decode(40, 1024), q = step_shape_prefill(4, 2048);
        kstep_breakdown b;
        double t = kstep_time_s(k8, &s, &b);
        CHECK_REL(t - b.outside_s, 0.0093812678501127462 - 1.326e-3, 1e-12);
        CHECK_EQ_DBL(b.moe_s, 0.0);
        t = kstep_time_s(k8, &q, &b);
        CHECK_REL(t - b.outside_s, 0.16959418636228993 - 1.1676e-3, 1e-12);
        t = kstep_time_s(k70, &s, &b);
        CHECK_REL(t - b.outside_s, 0.019763760402696999 - 2.862e-3, 1e-12);
    }
    kstep_free(k8);
    kstep_free(k70);
    fixture_free(&f);
}

/* A decode shape of n sequences at the given contexts, with its classes filled. */
static step_shape classed(const double *ctx, int n)
{
    step_shape s = {0};
    for (int i = 0; i < n; i++)
        step_shape_add_decode(&s, (uint64_t)ctx[i]);
    return s;
}

/* The context classes of step_shape: powers of two of c + 1, aligned with the decode table's
 * contexts 2^j - 1, the top class open-ended; and the steps a context stays in its class. */
static void test_context_classes(void)
{
    CHECK_EQ_INT(step_ctx_class(1), 1);
    CHECK_EQ_INT(step_ctx_class(2), 1);
    CHECK_EQ_INT(step_ctx_class(3), 2);
    CHECK_EQ_INT(step_ctx_class(1022), 9);
    CHECK_EQ_INT(step_ctx_class(1023), 10);
    CHECK_EQ_INT(step_ctx_class(131071), 17);
    CHECK_EQ_INT(step_ctx_class(1e9), STEP_CTX_CLASSES - 1);
    CHECK_EQ_INT(step_ctx_class(0), 0);
    CHECK_EQ_U64(step_shape_steps_in_class(1000), 23); /* 1000 .. 1022 */
    CHECK_EQ_U64(step_shape_steps_in_class(1023), 1024);
    CHECK_EQ_U64(step_shape_steps_in_class(1e9), UINT32_MAX);
    for (uint32_t m = 1; m != 0; m <<= 1)
        CHECK_EQ_INT(1u << step_class_lowest(m | (m << 1)), m);
    /* the sums stay the totals' */
    double ctx[] = {5, 100, 120, 4000, 70000, 3e7};
    step_shape s = classed(ctx, 6);
    for (int k = 0; k < 3; k++)
        step_shape_advance_decode(&s);
    double n = 0, c = 0;
    for (int j = 0; j < STEP_CTX_CLASSES; j++) {
        CHECK_EQ_INT(s.class_seqs[j] > 0, (s.decode_classes >> j) & 1u);
        n += (double)s.class_seqs[j];
        c += (double)s.class_ctx[j];
    }
    CHECK_EQ_DBL(n, s.decode_seqs);
    CHECK_EQ_DBL(c, s.decode_ctx);
    CHECK_EQ_DBL(s.decode_ctx, 5 + 100 + 120 + 4000 + 70000 + 3e7 + 6 * 3);
    CHECK_EQ_INT(s.decode_classes,
                 (1u << 2) | (1u << 6) | (1u << 11) | (1u << 16) | (1u << (STEP_CTX_CLASSES - 1)));
}

/* Decode attention at the sequences' own contexts (issue 12): a batch of one context prices
 * as the mean did; 20 sequences at 128 and 20 at 8192 cost each half's share of a batch of
 * 40 at its context, between the two uniform batches; a batch of any contexts inside the
 * table costs the sum of its sequences' shares, T(B, c_i) / B, each looked up alone. */
static void test_decode_at_real_contexts(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    if (k != NULL) {
        kstep_breakdown b, u;
        double same[40];
        for (int i = 0; i < 40; i++)
            same[i] = 1500;
        step_shape one = classed(same, 40), mean = step_shape_decode(40, 1500);
        CHECK_REL(kstep_time_s(k, &one, &b), kstep_time_s(k, &mean, &u), 1e-12);
        CHECK_REL(b.decode_attn_s, u.decode_attn_s, 1e-12);

        double mixed[40];
        for (int i = 0; i < 40; i++)
            mixed[i] = i < 20 ? 128 : 8192;
        step_shape s = classed(mixed, 40);
        step_shape lo = step_shape_decode(40, 128), hi = step_shape_decode(40, 8192);
        step_shape at_mean = step_shape_decode(40, (128 + 8192) / 2.0);
        double t_lo, t_hi, t_mean;
        kstep_time_s(k, &lo, &u);
        t_lo = u.decode_attn_s;
        kstep_time_s(k, &hi, &u);
        t_hi = u.decode_attn_s;
        kstep_time_s(k, &at_mean, &u);
        t_mean = u.decode_attn_s;
        double t = kstep_time_s(k, &s, &b);
        CHECK_REL(b.decode_attn_s, 0.5 * t_lo + 0.5 * t_hi, 1e-12);
        CHECK(b.decode_attn_s > t_lo && b.decode_attn_s < t_hi);
        /* only decode attention changed: the rest of the step is the mean batch's */
        double t_at_mean = kstep_time_s(k, &at_mean, &u);
        CHECK_REL(t - b.decode_attn_s, t_at_mean - u.decode_attn_s, 1e-12);
        printf("  40 at 128 and 8192: %.4f ms of decode attention (at the mean %.4f ms)\n",
               1e3 * b.decode_attn_s, 1e3 * t_mean);

        /* Random batches: the classes price each sequence at its own context, exactly where
         * the table holds the points; where a batch of B at such contexts is beyond the
         * table's grid (it holds contexts up to about 256K / B) the roofline prices it,
         * which is not linear between the knots, and the classes' means come within 3%. */
        unsigned seed = 12345;
        int exact = 0;
        for (int trial = 0; trial < 300; trial++) {
            double ctx[300];
            seed = seed * 1103515245u + 12345u;
            int n = 2 + (int)(seed >> 16) % 299;
            double share = 0;
            unsigned x = 0;
            for (int i = 0; i < n; i++) {
                seed = seed * 1103515245u + 12345u;
                ctx[i] = 1 + (seed >> 8) % (trial % 2 ? 60000u / (unsigned)n : 120000u);
                step_shape one_ctx = step_shape_decode(n, ctx[i]);
                kstep_time_s(k, &one_ctx, &u);
                share += u.decode_attn_s / n;
                x |= u.extrapolated;
            }
            s = classed(ctx, n);
            kstep_time_s(k, &s, &b);
            x |= b.extrapolated;
            exact += !(x & KSTEP_X_DECODE_ATTN);
            if (!CHECK_REL(b.decode_attn_s, share, x & KSTEP_X_DECODE_ATTN ? 0.03 : 1e-9))
                printf("  trial %d, batch %d\n", trial, n);
        }
        CHECK(exact >= 100);
        printf("  %d of 300 random batches inside the table\n", exact);

        /* Two contexts, one per class: each class's mean is its context, so the step costs
         * the two shares exactly, inside the table or beyond it (where a class is priced
         * from the precomputed edge values and the roofline, as the lookup prices it). */
        int beyond = 0;
        for (int trial = 0; trial < 400; trial++) {
            seed = seed * 1103515245u + 12345u;
            int n = 2 + (int)(seed >> 16) % 511;
            seed = seed * 1103515245u + 12345u;
            double c1 = 1 + (seed >> 8) % 131071;
            seed = seed * 1103515245u + 12345u;
            double c2 = 1 + (seed >> 8) % 131071;
            if (step_ctx_class((uint64_t)c1) == step_ctx_class((uint64_t)c2))
                continue;
            int n1 = 1 + trial % (n - 1);
            double ctx[512];
            for (int i = 0; i < n; i++)
                ctx[i] = i < n1 ? c1 : c2;
            step_shape two = classed(ctx, n), u1 = step_shape_decode(n, c1),
                       u2 = step_shape_decode(n, c2);
            kstep_breakdown b1, b2;
            kstep_time_s(k, &u1, &b1);
            kstep_time_s(k, &u2, &b2);
            kstep_time_s(k, &two, &b);
            double want = n1 * b1.decode_attn_s / n + (n - n1) * b2.decode_attn_s / n;
            if (!CHECK_REL(b.decode_attn_s, want, 1e-9))
                printf("  batch %d: %d at %g, %d at %g\n", n, n1, c1, n - n1, c2);
            CHECK_EQ_INT(b.extrapolated & KSTEP_X_DECODE_ATTN,
                         (b1.extrapolated | b2.extrapolated) & KSTEP_X_DECODE_ATTN);
            beyond += (b.extrapolated & KSTEP_X_DECODE_ATTN) != 0;
        }
        CHECK(beyond >= 100);
    }
    kstep_free(k);
    fixture_free(&f);
}

/* A GPU without tables names those that have them; an MoE model the tables cannot price is
 * refused. */
static void test_refusals(void)
{
    fixture f;
    fixture_load(&f);
    if (f.ok) {
        char err[512];
        kstep *k = NULL;
        const model_arch *m = model_list_find(&f.models, "llama-3.1-8b");
        const gpu_spec *t4 = gpu_list_find(&f.gpus, "t4");
        CHECK(kstep_build(&k, KERNELS, NULL, m, t4, PREC_FP16, PREC_FP16, 1, &RF, NULL, err,
                          sizeof err) ==
              -1);
        CHECK_CONTAINS(err, "no kernel tables for GPU 't4'");
        CHECK_CONTAINS(err, "h100-sxm, h200, a100-80gb, l40s, b200");
        /* The MoE tables measure gated experts: an MoE model without a gated MLP is
         * refused, saying so. */
        model_arch moe = *model_list_find(&f.models, "mixtral-8x7b");
        moe.gated_mlp = 0;
        const gpu_spec *h100 = gpu_list_find(&f.gpus, "h100-sxm");
        CHECK(kstep_build(&k, KERNELS, NULL, &moe, h100, PREC_BF16, PREC_BF16, 1, &RF, NULL, err,
                          sizeof err) == -1);
        CHECK_CONTAINS(err, "the MoE tables measure gated experts only");
        CHECK(k == NULL);
    }
    fixture_free(&f);
}

/* Which all-reduce vLLM runs: its custom one up to 8 MiB on NVLink GPUs (and on two PCIe
 * GPUs), NCCL above that size and on more than two PCIe GPUs (the L40S). */
static void test_allreduce_custom_or_nccl(void)
{
    fixture f;
    fixture_load(&f);
    kstep *h = f.ok ? build(&f, "llama-3.1-70b", "h100-sxm", PREC_BF16, PREC_BF16, 4) : NULL;
    kstep *l = f.ok ? build(&f, "llama-3.1-8b", "l40s", PREC_BF16, PREC_BF16, 4) : NULL;
    kernels_set l40s;
    char err[512];
    int have_l40s = kernels_load(KERNELS, "l40s", NULL, &l40s, err, sizeof err) == 0;
    CHECK(have_l40s);
    if (h != NULL && l != NULL && have_l40s) {
        const ktable *ar = f.set.table[KTABLE_CUSTOM_AR], *nccl = f.set.table[KTABLE_NCCL];
        ktable_result r;
        kstep_breakdown b;
        /* 40 tokens x 8192 x 2 bytes = 640 KiB: custom, from the graph */
        step_shape s = step_shape_decode(40, 1024);
        kstep_time_s(h, &s, &b);
        CHECK_EQ_INT(ktable_allreduce(ar, 4, 40 * 8192, "vllm_graph", &r), KTABLE_OK);
        CHECK_REL(b.allreduce_s, 2 * 80 * r.latency_ms * 1e-3, 1e-12);
        /* 512 tokens = 8 MiB exactly: still custom (eager: a prefill step) */
        step_shape q = step_shape_prefill(1, 512);
        kstep_time_s(h, &q, &b);
        CHECK_EQ_INT(ktable_allreduce(ar, 4, 512 * 8192, "vllm_eager", &r), KTABLE_OK);
        CHECK_REL(b.allreduce_s, 2 * 80 * r.latency_ms * 1e-3, 1e-12);
        /* 513 tokens: above 8 MiB, NCCL */
        q = step_shape_prefill(1, 513);
        kstep_time_s(h, &q, &b);
        CHECK_EQ_INT(ktable_nccl(nccl, "all_reduce", 4, 513 * 8192, &r), KTABLE_OK);
        CHECK_REL(b.allreduce_s, 2 * 80 * r.latency_ms * 1e-3, 1e-12);
        /* four L40S over PCIe: NCCL even for a small decode message */
        kstep_time_s(l, &s, &b);
        CHECK_EQ_INT(ktable_nccl(l40s.table[KTABLE_NCCL], "all_reduce", 4, 40 * 4096, &r),
                     KTABLE_OK);
        CHECK_REL(b.allreduce_s, 2 * 32 * r.latency_ms * 1e-3, 1e-12);
        CHECK_EQ_U64(b.extrapolated, 0);
    }
    if (have_l40s)
        kernels_free(&l40s);
    kstep_free(h);
    kstep_free(l);
    fixture_free(&f);
}

/* --stack: a stack picks its own tables; the coefficients laid on top scale their classes. */
static void test_stack_and_coefficients(void)
{
    fixture f;
    fixture_load(&f);
    if (f.ok) {
        char err[512];
        const model_arch *m = model_list_find(&f.models, "llama-3.1-8b");
        const gpu_spec *g = gpu_list_find(&f.gpus, "h100-sxm");
        kstep *new = NULL, *old = NULL, *scaled = NULL, *none = NULL;
        CHECK(kstep_build(&new, KERNELS, "vllm-0.19.0", m, g, PREC_BF16, PREC_BF16, 1, &RF, NULL,
                          err, sizeof err) == 0);
        CHECK(kstep_build(&old, KERNELS, "vllm-0.14.0", m, g, PREC_BF16, PREC_BF16, 1, &RF, NULL,
                          err, sizeof err) == 0);
        CHECK(kstep_build(&none, KERNELS, "vllm-0.1.0", m, g, PREC_BF16, PREC_BF16, 1, &RF, NULL,
                          err, sizeof err) == -1);
        CHECK_CONTAINS(err, "no kernel tables for stack vllm-0.1.0");
        kstep_coeffs c;
        kstep_default_coeffs(m, g, PREC_BF16, 1, &c);
        c.gemm_scale = 2;
        c.attn_scale = 0.5;
        c.step_s = 0;
        CHECK(kstep_build(&scaled, KERNELS, "vllm-0.19.0", m, g, PREC_BF16, PREC_BF16, 1, &RF, &c,
                          err, sizeof err) == 0);
        if (new != NULL && old != NULL && scaled != NULL) {
            CHECK(strcmp(kstep_source(new), "h100_sxm/vllm-0.19.0") == 0);
            CHECK(strcmp(kstep_source(old), "h100_sxm/vllm-0.14.0") == 0);
            step_shape s = step_shape_decode(40, 1024);
            kstep_breakdown a, b, d;
            kstep_time_s(new, &s, &a);
            kstep_time_s(old, &s, &b);
            kstep_time_s(scaled, &s, &d);
            CHECK(a.gemm_s != b.gemm_s); /* two measurements, not one table twice */
            CHECK_REL(d.gemm_s, 2 * a.gemm_s, 1e-12);
            CHECK_REL(d.lm_head_s, 2 * a.lm_head_s, 1e-12);
            CHECK_REL(d.decode_attn_s, 0.5 * a.decode_attn_s, 1e-12);
            CHECK_REL(d.outside_s, a.outside_s - kstep_get_coeffs(new)->step_s, 1e-12);
        }
        kstep_free(new);
        kstep_free(old);
        kstep_free(scaled);
    }
    fixture_free(&f);
}

/* A step of more tokens than the largest measured m: the GEMMs grow in proportion from the
 * measured edge (compute-bound there), flagged as extrapolated. */
static void test_gemm_beyond_largest_m(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    if (k != NULL) {
        double edge = gemm(&f, "bfloat16", 32768, 6144, 4096) +
                      gemm(&f, "bfloat16", 32768, 4096, 4096) +
                      gemm(&f, "bfloat16", 32768, 28672, 4096) +
                      gemm(&f, "bfloat16", 32768, 4096, 14336);
        step_shape s = step_shape_prefill(16, 4096); /* 65536 tokens: twice the largest m */
        kstep_breakdown b;
        kstep_time_s(k, &s, &b);
        CHECK_REL(b.gemm_s, 32 * 2 * edge * 1e-3, 1e-12);
        CHECK(b.extrapolated & KSTEP_X_GEMM);
    }
    kstep_free(k);
    fixture_free(&f);
}

/* A prefill chunk after earlier tokens of its prompt is priced as a fresh prompt with as
 * many (query, key) pairs: 128 tokens after 4096 do 128 x (4096 + 64.5) = 532544 pairs, those
 * of a fresh prompt of L = 1031.5 tokens (L (L + 1) / 2 = 532544). A fresh chunk is read
 * from the table as it is. */
static void test_chunk_after_context(void)
{
    fixture f;
    fixture_load(&f);
    kstep *k = f.ok ? build(&f, "llama-3.1-8b", "h100-sxm", PREC_BF16, PREC_BF16, 1) : NULL;
    if (k != NULL) {
        const ktable *t = f.set.table[KTABLE_PREFILL_ATTN];
        ktable_result fresh, equal;
        CHECK_EQ_INT(ktable_prefill_attn(t, 1, 128, 32, 8, 128, "bfloat16", &fresh), KTABLE_OK);
        double len = (sqrt(1.0 + 8.0 * 128 * (4096 + 64.5)) - 1.0) / 2.0;
        CHECK_REL(len, 1031.5, 1e-3);
        CHECK_EQ_INT(ktable_prefill_attn(t, 1, len, 32, 8, 128, "bfloat16", &equal), KTABLE_OK);
        step_shape s = step_shape_prefill(1, 128);
        kstep_breakdown b;
        kstep_time_s(k, &s, &b);
        CHECK_REL(b.prefill_attn_s, 32e-3 * fresh.latency_ms, 1e-12);
        s.prefill_attn = 128 * (4096 + 64.5);
        s.prefill_ctx_read = 4096;
        kstep_time_s(k, &s, &b);
        CHECK_REL(b.prefill_attn_s, 32e-3 * equal.latency_ms, 1e-12);
        /* more context before the chunk, more time; never less than the fresh chunk */
        double before = b.prefill_attn_s;
        s.prefill_attn = 128 * (8192 + 64.5);
        kstep_time_s(k, &s, &b);
        CHECK(b.prefill_attn_s > before && before > 32e-3 * fresh.latency_ms);
    }
    kstep_free(k);
    fixture_free(&f);
}

/* A step's time is linear in the coefficients (kstep_terms): any coefficients' time is the
 * sum of the terms weighted by them, dense and MoE, at tp 1 and 2, decode (in a CUDA graph),
 * prefill and mixed. */
static step_shape mixed(double b, double c, double p)
{
    step_shape d = step_shape_decode(b, c), q = step_shape_prefill(1, p);
    d.prefill_tokens = q.prefill_tokens;
    d.prefill_seqs = q.prefill_seqs;
    d.prefill_attn = q.prefill_attn;
    d.prefill_ctx_read = q.prefill_ctx_read;
    return d;
}

static void test_terms_are_linear(void)
{
    fixture f;
    fixture_load(&f);
    static const char *const models[] = {"llama-3.1-8b", "mixtral-8x7b"};
    for (int mi = 0; f.ok && mi < 2; mi++)
        for (int tp = 1; tp <= 2; tp++) {
            char err[512];
            const model_arch *m = model_list_find(&f.models, models[mi]);
            const gpu_spec *g = gpu_list_find(&f.gpus, "h100-sxm");
            const double v[KSTEP_N_COEFFS] = {1.3, 0.7, 1.1, 1.9, 2e-3, 1e-5, 3e-6, 4e-7};
            kstep_coeffs c;
            kstep_coeffs_set(&c, v);
            kstep *k = NULL;
            if (!CHECK(kstep_build(&k, KERNELS, NULL, m, g, PREC_BF16, PREC_BF16, tp, &RF, &c, err,
                                   sizeof err) == 0))
                continue;
            const step_shape shapes[] = {step_shape_decode(3, 700), step_shape_decode(600, 2000),
                                         step_shape_prefill(1, 1500), mixed(40, 1024, 300)};
            for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
                double x[KSTEP_N_COEFFS], sum = 0;
                kstep_terms(k, &shapes[i], x);
                for (int j = 0; j < KSTEP_N_COEFFS; j++)
                    sum += v[j] * x[j];
                CHECK_REL(sum, kstep_time_s(k, &shapes[i], NULL), 1e-12);
                CHECK(x[KSTEP_C_STEP] == 1.0 && x[KSTEP_C_LAYER] == m->layers);
                CHECK((x[KSTEP_C_COMM] > 0) == (tp > 1));
                CHECK((x[KSTEP_C_MOE] > 0) == (m->experts > 0));
            }
            double back[KSTEP_N_COEFFS];
            kstep_coeffs_get(kstep_get_coeffs(k), back);
            CHECK(memcmp(back, v, sizeof v) == 0);
            kstep_free(k);
        }
    fixture_free(&f);
}

/* kcalib recovers the coefficients from exact step times: what the steps identify to 1e-6,
 * the rest held and said why (no MoE layer; the per-layer time is the per-step time times
 * the depth; the per-sequence time too small to tell). */
static void test_kcalib_recovers_exact(void)
{
    fixture f;
    fixture_load(&f);
    if (f.ok) {
        char err[512];
        const model_arch *m = model_list_find(&f.models, "llama-3.1-8b");
        const gpu_spec *g = gpu_list_find(&f.gpus, "h100-sxm");
        kstep *k = NULL;
        CHECK(kstep_build(&k, KERNELS, NULL, m, g, PREC_BF16, PREC_BF16, 2, &RF, NULL, err,
                          sizeof err) == 0);
        kstep_coeffs start = *kstep_get_coeffs(k), truth = start;
        truth.gemm_scale = 1.2;
        truth.attn_scale = 0.9;
        truth.comm_scale = 1.3;
        truth.step_s = 1.5e-3;
        truth.token_layer_s = 2 * start.token_layer_s;
        double tv[KSTEP_N_COEFFS], x[64 * KSTEP_N_COEFFS], y[64];
        kstep_coeffs_get(&truth, tv);
        size_t n = 0;
        const double bs[] = {1, 5, 24, 100, 300}, ctx[] = {300, 2000, 8000};
        for (size_t i = 0; k && i < 5; i++)
            for (size_t j = 0; j < 3; j++) {
                step_shape s[3] = {step_shape_decode(bs[i], ctx[j]),
                                   step_shape_prefill(1, ctx[j] * (double)(i + 1) / 5),
                                   mixed(bs[i], ctx[j], 200 * (double)(j + 1))};
                for (int q = 0; q < 3; q++, n++) {
                    kstep_terms(k, &s[q], x + n * KSTEP_N_COEFFS);
                    y[n] = 0;
                    for (int c = 0; c < KSTEP_N_COEFFS; c++)
                        y[n] += tv[c] * x[n * KSTEP_N_COEFFS + (size_t)c];
                }
            }
        kcalib_fit fit;
        if (k && CHECK(kcalib_solve(x, y, n, &start, 0, &fit, err, sizeof err) == 0)) {
            for (int c = 0; c < KSTEP_N_COEFFS; c++)
                if (fit.status[c] == KCALIB_FITTED)
                    CHECK_REL(fit.v[c], tv[c], 1e-6);
            CHECK(fit.status[KSTEP_C_GEMM] == KCALIB_FITTED);
            CHECK(fit.status[KSTEP_C_ATTN] == KCALIB_FITTED);
            CHECK(fit.status[KSTEP_C_COMM] == KCALIB_FITTED);
            CHECK(fit.status[KSTEP_C_STEP] == KCALIB_FITTED);
            CHECK(fit.status[KSTEP_C_TOKEN_LAYER] == KCALIB_FITTED);
            CHECK(fit.status[KSTEP_C_MOE] == KCALIB_NO_DATA);
            CHECK(fit.status[KSTEP_C_LAYER] == KCALIB_NOT_IDENTIFIED);
            CHECK(fit.status[KSTEP_C_SEQ] == KCALIB_SMALL);
            CHECK(fit.v[KSTEP_C_LAYER] == start.layer_s && fit.v[KSTEP_C_MOE] == 1.0);
        }
        /* A scale the data put past its bound is set there and said so. */
        for (size_t i = 0; i < n; i++)
            y[i] += 9.0 * x[i * KSTEP_N_COEFFS + KSTEP_C_GEMM];
        if (k && CHECK(kcalib_solve(x, y, n, &start, 0, &fit, err, sizeof err) == 0)) {
            CHECK(fit.status[KSTEP_C_GEMM] == KCALIB_AT_BOUND);
            CHECK(fit.v[KSTEP_C_GEMM] == KCALIB_SCALE_MAX);
        }
        CHECK(kcalib_solve(x, y, 5, &start, 0, &fit, err, sizeof err) == -1);
        CHECK_CONTAINS(err, "only 5 points");
        kstep_free(k);
    }
    fixture_free(&f);
}

TEST_MAIN(TEST(test_per_layer_sum_by_hand), TEST(test_tensor_parallel_split),
          TEST(test_monotone_in_batch_and_context), TEST(test_cuda_graph_padding),
          TEST(test_precomputed_decode_attention_is_the_lookup),
          TEST(test_extrapolation_flagged), TEST(test_precisions_and_step_model),
          TEST(test_moe_decode_by_hand), TEST(test_moe_monotone_in_tokens),
          TEST(test_moe_extrapolation_and_dtypes), TEST(test_dense_price_unchanged),
          TEST(test_refusals), TEST(test_allreduce_custom_or_nccl),
          TEST(test_stack_and_coefficients), TEST(test_gemm_beyond_largest_m),
          TEST(test_chunk_after_context), TEST(test_terms_are_linear),
          TEST(test_kcalib_recovers_exact), TEST(test_context_classes),
          TEST(test_decode_at_real_contexts))
