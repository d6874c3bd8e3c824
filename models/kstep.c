/*
 * kstep: the measured-kernel step model (see kstep.h): the shapes of a deployment's kernels,
 * their times precomputed at deployment setup, and the sum that prices a step.
 */
#include "models/kstep.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/kernels.h"
#include "sim/base/util.h"

/* The widest GEMM measured (n) in the tables; the LM head is wider for every vocabulary
 * above 64K tokens per GPU. */
#define KSTEP_GEMM_MAX_N 65536.0

/* The narrowest GEMM measured (n): an MoE router (n = experts, 8 for Mixtral) is narrower
 * and is priced at this width, a bound above its true time by at most the few microseconds
 * of a launch-bound kernel that reads hidden x 32 weights. */
#define KSTEP_GEMM_MIN_N 32.0

/* Per-layer GEMM and LM head times are precomputed for m = 1 .. KSTEP_CACHE_M: every
 * decode-only batch (at most KSTEP_GRAPH_MAX padded, a few hundred in practice) and every
 * mixed step within vLLM's default token budget (max_num_batched_tokens 8192); larger steps
 * look the tables up directly. */
#define KSTEP_CACHE_M 8192

/* Activations and all-reduce messages are 16-bit. */
#define KSTEP_ACT_BYTES 2.0

/* vLLM's custom all-reduce takes messages up to 8 MiB (CustomAllreduce's max_size default);
 * larger ones go to NCCL. */
#define KSTEP_CUSTOM_AR_MAX_BYTES (8.0 * 1024 * 1024)

/* A link at most this fast per direction is PCIe, not NVLink: vLLM's custom all-reduce
 * serves at most two such GPUs. */
#define KSTEP_PCIE_MAX_BYTES_PER_S 64e9

#define KSTEP_NPROJ 4

/* Decode attention is precomputed at every decode batch up to KSTEP_GRAPH_MAX and every
 * context of the table's grid (at most KSTEP_MAX_KNOTS of them; 17 in the shipped tables). */
#define KSTEP_MAX_KNOTS 32

struct kstep {
    kernels_set set;
    const ktable *gemm, *prefill, *decode, *allreduce, *nccl;
    int custom_ar_ok; /* vLLM uses its custom all-reduce at this tp on this GPU's links */
    double gemm_m_max; /* the largest m of the GEMM table */
    kstep_coeffs c;
    char gemm_dtype[16], kv_dtype[16];
    char source[2 * KERNELS_NAME_MAX + 2];
    char note[256];
    kstep_roofline rf;
    double layers, tp, hidden;
    int nproj; /* projections per layer: QKV, O, gate/up (up alone without a gated MLP), down */
    double proj_n[KSTEP_NPROJ], proj_k[KSTEP_NPROJ];
    double lm_pieces, lm_n, lm_k; /* the LM head as lm_pieces GEMMs of n = lm_n each */
    /* MoE models (moe != NULL): the router GEMM (replicated, bf16) and the fused MoE layer */
    const ktable *moe;
    char moe_dtype[16];
    const char *moe_dist; /* "balanced", or the power law where the table holds no other */
    double router_n;
    ktable_moe_shape moe_shape;
    double heads, kv_heads, head_dim; /* per GPU */
    double weight_bytes, kv_bytes;    /* per element */
    /* per-layer sum of the projections (ms) and the LM head (ms) at m = index, with the
     * KSTEP_X_* bits of each; index 0 unused */
    double layer_gemm_ms[KSTEP_CACHE_M + 1], lm_head_ms[KSTEP_CACHE_M + 1];
    unsigned char layer_gemm_x[KSTEP_CACHE_M + 1], lm_head_x[KSTEP_CACHE_M + 1];
    /* one all-reduce (ms) at m tokens, [0] eager and [1] from a CUDA graph (tp > 1) */
    double allreduce_ms[2][KSTEP_CACHE_M + 1];
    /* router GEMM plus fused MoE layer of one layer (ms) at m tokens (MoE models) */
    double moe_ms[KSTEP_CACHE_M + 1];
    unsigned char moe_x[KSTEP_CACHE_M + 1];
    unsigned char allreduce_x[2][KSTEP_CACHE_M + 1];
    /* decode attention of one layer (ms) at batch b (index) and context ctx_knot[j], as the
     * table's lookup returns it: decode_x[b][j] is 1 where the table does not hold the point
     * (the lookup's edge value, which the step prices with the roofline), NaN where it holds
     * no such key */
    int nknots; /* 0: no precomputed decode attention */
    double ctx_knot[KSTEP_MAX_KNOTS];
    double decode_ms[KSTEP_GRAPH_MAX + 1][KSTEP_MAX_KNOTS];
    unsigned char decode_x[KSTEP_GRAPH_MAX + 1][KSTEP_MAX_KNOTS];
    /* where the knots are 2^(i+1) - 1 (classes_aligned; every shipped table), context class j
     * (steptime.h) lies between knots j - 1 and j, and decode attention of a batch b there is
     * the line class_a[b][j] + class_slope[b][j] x c; class_held[b][j] is 1 when the table
     * holds both knots (else the class is priced by decode_attn_class_ms) */
    int classes_aligned;
    double class_a[KSTEP_GRAPH_MAX + 1][STEP_CTX_CLASSES];
    double class_slope[KSTEP_GRAPH_MAX + 1][STEP_CTX_CLASSES];
    unsigned char class_held[KSTEP_GRAPH_MAX + 1][STEP_CTX_CLASSES];
};

int kstep_graph_size(int b)
{
    if (b <= 1)
        return 1;
    if (b <= 2)
        return 2;
    if (b <= 4)
        return 4;
    if (b < 256)
        return (b + 7) / 8 * 8;
    if (b <= KSTEP_GRAPH_MAX)
        return (b + 15) / 16 * 16;
    return b;
}

/* A kernel's roofline time, ms: the larger of its compute and memory times. */
static double roofline_ms(double flops, double flops_per_s, double bytes, double bytes_per_s,
                          const kstep_roofline *rf)
{
    return 1e3 * fmax(flops / (flops_per_s * rf->mfu), bytes / (bytes_per_s * rf->mbu));
}

/* The latency of a looked-up kernel, ms. Outside the grid (or without a key) the kernel is
 * priced by its roofline, never below the edge value the table returned: every grid of the
 * tables starts at or below the smallest shape a catalog model asks for (m, batch and
 * context from 1, n and k from 32), so a point outside is beyond the high end, where the
 * edge value is a lower bound; taking the larger keeps the model monotone across the edge. */
static double priced(const ktable_result *r, double roofline, unsigned bit, unsigned *x)
{
    if (r->status == KTABLE_OK)
        return r->latency_ms;
    *x |= bit;
    return r->status == KTABLE_EXTRAPOLATED ? fmax(r->latency_ms, roofline) : roofline;
}

/* A GEMM in the given table dtype with weights of wbytes bytes per element, ms. */
static double gemm_as_ms(const kstep *k, const char *dtype, double wbytes, double m, double n,
                         double kk, unsigned bit, unsigned *x)
{
    ktable_result r;
    ktable_gemm(k->gemm, dtype, m, n, kk, &r);
    if (r.status == KTABLE_OK)
        return r.latency_ms;
    /* More tokens than the largest measured m (a static batch of long prompts), with n and k
     * inside the grid: the GEMM is compute-bound there, and its time grows in proportion to
     * m from the measured edge, at the rate the kernel reached; still flagged. */
    if (r.status == KTABLE_EXTRAPOLATED && r.extrapolated_axes == 1u && m > k->gemm_m_max) {
        *x |= bit;
        return r.latency_ms * m / k->gemm_m_max;
    }
    double bytes = n * kk * wbytes + KSTEP_ACT_BYTES * m * (kk + n);
    return priced(&r, roofline_ms(2.0 * m * n * kk, k->rf.gemm_flops_per_s, bytes,
                                  k->rf.mem_bytes_per_s, &k->rf),
                  bit, x);
}

static double gemm_ms(const kstep *k, double m, double n, double kk, unsigned bit, unsigned *x)
{
    return gemm_as_ms(k, k->gemm_dtype, k->weight_bytes, m, n, kk, bit, x);
}

/* The four (three) projections of one layer at m tokens, ms. */
static double layer_gemms_ms(const kstep *k, double m, unsigned *x)
{
    double t = 0;
    for (int i = 0; i < k->nproj; i++)
        t += gemm_ms(k, m, k->proj_n[i], k->proj_k[i], KSTEP_X_GEMM, x);
    return t;
}

/* The LM head at m sequences, ms: ceil(n / 65536) equal GEMMs when n per GPU is wider than
 * the widest measured one. Splitting the columns reads every weight once either way, so on
 * the memory-bound side (decode) the pieces cost what the whole does, plus a launch each; on
 * the compute-bound side the sum is a little pessimistic for the wide GEMM's better tiling. */
static double lm_head_ms(const kstep *k, double m, unsigned *x)
{
    return k->lm_pieces * gemm_ms(k, m, k->lm_n, k->lm_k, KSTEP_X_LM_HEAD, x);
}

/* The MoE part of one layer at m tokens, ms: the router GEMM and the fused MoE layer.
 *
 * The router (vLLM's gate: a replicated bf16 linear layer, not split by tp and not
 * quantised) is an m x hidden by hidden x experts GEMM, priced at n = KSTEP_GEMM_MIN_N when
 * the experts are fewer. Its dtype is always bf16.
 *
 * The fused MoE layer is read from moe_perf.csv at num_tokens = m with the model's experts,
 * top-k and expert size, moe_tp_size = tp and moe_ep_size = 1: vLLM splits each expert's
 * matrices over the tensor-parallel GPUs unless expert parallelism is asked for, and capsim's
 * deployments have none. The routing distribution is "balanced": vLLM routes by the model's
 * learned gate and documents no synthetic default, and the tables keep, beside balanced, one
 * power law (power_law_1.01; 1.2 was pruned) that stands for no measured workload; balanced
 * is the even load a well-trained router approaches over a batch, and it is a lower bound on
 * the layer's time (a skewed load makes the busiest expert the critical path). The A100 and
 * L40S tables hold only the power law, which is used there and said so (setup_moe).
 *
 * Outside the MoE grid (more tokens than measured, a shape between or beyond the measured
 * models) the layer is priced by its roofline: 2 x 3 x hidden x inter / tp FLOPs per token
 * and expert it is routed to, and the weights of the experts those tokens reach. */
static double moe_layer_ms(const kstep *k, double m, unsigned *x)
{
    const ktable_moe_shape *sh = &k->moe_shape;
    double router =
        gemm_as_ms(k, "bfloat16", KSTEP_ACT_BYTES, m, k->router_n, k->hidden, KSTEP_X_MOE, x);
    ktable_result r;
    ktable_moe(k->moe, k->moe_dtype, m, sh, k->moe_dist, &r);
    if (r.status == KTABLE_OK)
        return router + r.latency_ms;
    double expert_elems = 3.0 * sh->hidden * sh->inter / sh->tp;
    double reached = fmin(sh->experts, m * sh->topk);
    double flops = 2.0 * m * sh->topk * expert_elems;
    double bytes = reached * expert_elems * k->weight_bytes +
                   KSTEP_ACT_BYTES * m * sh->topk * (2.0 * sh->hidden + 3.0 * sh->inter / sh->tp);
    return router + priced(&r, roofline_ms(flops, k->rf.gemm_flops_per_s, bytes,
                                           k->rf.mem_bytes_per_s, &k->rf),
                           KSTEP_X_MOE, x);
}

/* The knots around context c in the precomputed grid of batch b: ctx_knot[*lo] <= c <=
 * ctx_knot[*lo + 1], trying ctx_knot[guess] <= c < ctx_knot[guess + 1] first. Returns 0 when
 * the point is not in the grid (batch not a whole number up to KSTEP_GRAPH_MAX, context
 * outside the knots). */
static int decode_knots_near(const kstep *k, double b, double c, int guess, int *lo_out)
{
    if (k->nknots < 2 || !(b >= 1 && b <= KSTEP_GRAPH_MAX) || b != floor(b) ||
        !(c >= k->ctx_knot[0] && c <= k->ctx_knot[k->nknots - 1]))
        return 0;
    if (guess >= 0 && guess < k->nknots - 1 && k->ctx_knot[guess] <= c &&
        c < k->ctx_knot[guess + 1]) {
        *lo_out = guess;
        return 1;
    }
    int lo = 0, hi = k->nknots - 1; /* ctx_knot[lo] <= c <= ctx_knot[hi] */
    while (hi - lo > 1) {
        int mid = (lo + hi) / 2;
        if (k->ctx_knot[mid] <= c)
            lo = mid;
        else
            hi = mid;
    }
    *lo_out = lo;
    return 1;
}

/* decode_knots_near without a guess. */
static int decode_knots(const kstep *k, double b, double c, int *lo_out)
{
    return decode_knots_near(k, b, c, -1, lo_out);
}

/* Decode attention from the precomputed grid, or NaN when the point is not in it (see
 * decode_knots, or a knot the table does not hold). The table interpolates the context
 * linearly between its grid values, for any batch, so interpolating the precomputed values
 * between the same knots gives the lookup's own result (to rounding). */
static double decode_attn_cached(const kstep *k, double b, double c)
{
    int lo;
    if (!decode_knots(k, b, c, &lo))
        return NAN;
    const double *row = k->decode_ms[(int)b];
    const unsigned char *held = k->decode_x[(int)b];
    if (held[lo] || (c != k->ctx_knot[lo] && held[lo + 1]))
        return NAN;
    if (c == k->ctx_knot[lo])
        return row[lo];
    double w = (c - k->ctx_knot[lo]) / (k->ctx_knot[lo + 1] - k->ctx_knot[lo]);
    return row[lo] + w * (row[lo + 1] - row[lo]); /* NaN if either knot has no key */
}

/* The roofline of decode attention of b sequences at context c, one layer, ms. */
static double decode_roofline_ms(const kstep *k, double b, double c)
{
    double flops = 4.0 * k->heads * k->head_dim * b * c;
    double bytes = b * c * 2.0 * k->kv_heads * k->head_dim * k->kv_bytes;
    return roofline_ms(flops, k->rf.attn_flops_per_s, bytes, k->rf.mem_bytes_per_s, &k->rf);
}

/* Decode attention of b sequences at context c each, one layer, ms. */
static double decode_attn_ms(const kstep *k, double b, double c, unsigned *x)
{
    double cached = decode_attn_cached(k, b, c);
    if (!isnan(cached))
        return cached;
    ktable_result r;
    ktable_decode_attn(k->decode, b, c, k->heads, k->kv_heads, k->head_dim, k->kv_dtype, &r);
    if (r.status == KTABLE_OK)
        return r.latency_ms;
    return priced(&r, decode_roofline_ms(k, b, c), KSTEP_X_DECODE_ATTN, x);
}

/* decode_attn_ms for one context class of a step (guess: the knot below it), from the
 * precomputed grid also where the table does not hold the point. There the lookup returns
 * an edge value (each batch row of the table held at its longest context), which is still
 * linear in the context between two knots (every axis of the decode table interpolates
 * linearly), so interpolating the knots' values gives the lookup's (to rounding), and it is
 * priced with the roofline as decode_attn_ms prices it: a class beyond the table costs a few
 * operations instead of a lookup. A context strictly between two knots is outside the table
 * exactly when the upper knot is. */
static double decode_attn_class_ms(const kstep *k, double b, double c, int guess, unsigned *x)
{
    int lo;
    if (!decode_knots_near(k, b, c, guess, &lo))
        return decode_attn_ms(k, b, c, x);
    const double *row = k->decode_ms[(int)b];
    int at = c == k->ctx_knot[lo];
    double v = at ? row[lo]
                  : row[lo] + (c - k->ctx_knot[lo]) / (k->ctx_knot[lo + 1] - k->ctx_knot[lo]) *
                                  (row[lo + 1] - row[lo]);
    if (isnan(v))
        return decode_attn_ms(k, b, c, x);
    if (!k->decode_x[(int)b][at ? lo : lo + 1])
        return v;
    *x |= KSTEP_X_DECODE_ATTN;
    return fmax(v, decode_roofline_ms(k, b, c));
}

/* Decode attention of the step's decoding sequences at their own contexts, one layer, ms.
 *
 * The decode kernel runs the B sequences of a step as one launch whose work is spread over
 * them: each sequence's share is the time of a batch of B sequences at its context, divided
 * by B (the table's T(B, c) is that batch's time; its per-sequence part is T(B, c) / B).
 * Summed over the sequences, a step of mixed contexts costs
 *
 *     sum_i T(B, c_i) / B  =  sum over classes j of (n_j / B) x T(B, S_j / n_j),
 *
 * with n_j sequences of context sum S_j in class j: T is linear in c between the table's
 * contexts 2^j - 1, and the classes are those pieces (steptime.h, STEP_CTX_CLASSES), so the
 * mean of each class prices its sequences exactly. Pricing the whole batch at its mean
 * context instead is exact only where T is linear across all its contexts, and it is not:
 * its cost per token of context changes from one piece to the next (nearly nothing while
 * short contexts leave the kernel launch-bound, most between 512 and 1K tokens on an H100,
 * less beyond), so the mean misprices a mixed batch either way. 20 sequences at 128 tokens
 * and 20 at 8192 (Llama-3.1-8B, one H100) take 8.29 ms of decode attention a step, not the
 * 8.14 ms of 40 at their mean (tests/test_kstep.c).
 *
 * A shape without classes (step_shape_decode, estimate's uniform batches) or with one class
 * is priced at its mean context, as before. Each class costs one interpolation in the
 * precomputed table at the batch's own B, so a step costs a few per non-empty class. */
static double decode_attn_step_ms(const kstep *k, const step_shape *s, unsigned *x)
{
    double b = s->decode_seqs;
    uint32_t m = s->decode_classes;
    if ((m & (m - 1)) == 0)
        return decode_attn_ms(k, b, s->decode_ctx / b, x);
    double t = 0;
    if (k->classes_aligned && b >= 1 && b <= KSTEP_GRAPH_MAX && b == floor(b)) {
        /* the usual step: n_j x T(B, S_j / n_j) = n_j x a + slope x S_j, no division */
        int ib = (int)b;
        for (; m != 0; m &= m - 1) {
            int j = step_class_lowest(m);
            double n = (double)s->class_seqs[j], sum = (double)s->class_ctx[j];
            t += k->class_held[ib][j] ? n * k->class_a[ib][j] + k->class_slope[ib][j] * sum
                                      : n * decode_attn_class_ms(k, b, sum / n, j - 1, x);
        }
        return t / b;
    }
    for (; m != 0; m &= m - 1) {
        int j = step_class_lowest(m);
        double n = (double)s->class_seqs[j];
        /* class j lies between the knots j - 1 and j of the shipped tables (2^j - 1) */
        t += n * decode_attn_class_ms(k, b, (double)s->class_ctx[j] / n, j - 1, x);
    }
    return t / b;
}

/* Prefill attention of the step's chunks, one layer, ms. The table measures b prompts of
 * isl tokens from an empty cache. A chunk that attends to earlier tokens of its prompt
 * (chunked prefill) does the work of more (query, key) pairs than a fresh prompt of its
 * length: the step is priced as b fresh prompts of the length whose pairs equal the chunks'
 * mean, L (L + 1) / 2 = pairs / b. The kernel's time follows its pairs where they are many,
 * and its fixed cost is paid once, as the chunk's own kernel pays it (scaling a short fresh
 * chunk's time by the ratio of pairs would charge that fixed cost many times over). */
static double prefill_attn_ms(const kstep *k, const step_shape *s, unsigned *x)
{
    double b = s->prefill_seqs, isl = s->prefill_tokens / s->prefill_seqs;
    double pairs = fmax(s->prefill_attn / b, isl * (isl + 1.0) / 2.0);
    double len = (sqrt(1.0 + 8.0 * pairs) - 1.0) / 2.0;
    ktable_result r;
    ktable_prefill_attn(k->prefill, b, len, k->heads, k->kv_heads, k->head_dim, k->kv_dtype, &r);
    if (r.status == KTABLE_OK)
        return r.latency_ms;
    double flops = 4.0 * k->heads * k->head_dim * b * pairs;
    double bytes = KSTEP_ACT_BYTES * b * len * (k->heads + 2.0 * k->kv_heads) * k->head_dim;
    return priced(&r,
                  roofline_ms(flops, k->rf.attn_flops_per_s, bytes, k->rf.mem_bytes_per_s, &k->rf),
                  KSTEP_X_PREFILL_ATTN, x);
}

/* One all-reduce of tokens x hidden elements over the tp GPUs, ms. vLLM runs its custom
 * all-reduce for messages up to KSTEP_CUSTOM_AR_MAX_BYTES on GPUs whose links connect every
 * pair directly (NVLink), or on two PCIe GPUs; it hands the rest to NCCL (its CustomAllreduce
 * refuses larger inputs and PCIe groups of more than two GPUs), priced from the GPU's NCCL
 * table. Outside both tables: the ring algorithm over the links. */
static double allreduce_ms(const kstep *k, double tokens, int graph, unsigned *x)
{
    double elems = tokens * k->hidden;
    ktable_result r;
    if (k->custom_ar_ok && elems * KSTEP_ACT_BYTES <= KSTEP_CUSTOM_AR_MAX_BYTES)
        ktable_allreduce(k->allreduce, k->tp, elems, graph ? "vllm_graph" : "vllm_eager", &r);
    else if (k->nccl != NULL)
        ktable_nccl(k->nccl, "all_reduce", k->tp, elems, &r);
    else
        r = (ktable_result){.status = KTABLE_NO_KEY, .latency_ms = NAN};
    if (r.status == KTABLE_OK)
        return r.latency_ms;
    double ring = 2.0 * (k->tp - 1.0) / k->tp * elems * KSTEP_ACT_BYTES / k->rf.link_bytes_per_s +
                  2.0 * (k->tp - 1.0) * k->rf.link_latency_s;
    return priced(&r, 1e3 * ring, KSTEP_X_ALLREDUCE, x);
}

/* The per-GPU shapes of the deployment, and the dtypes of its tables. */
static void set_shapes(kstep *k, const model_arch *m, precision weights, precision kv, int tp)
{
    double t = tp, hd = m->head_dim;
    k->layers = m->layers;
    k->tp = t;
    k->hidden = m->hidden;
    k->heads = m->heads / t;
    /* KV heads are replicated when there are fewer of them than GPUs. */
    k->kv_heads = fmax(m->kv_heads / t, 1.0);
    k->head_dim = hd;
    k->proj_n[0] = (m->heads + 2.0 * m->kv_heads) * hd / t;
    k->proj_k[0] = m->hidden;
    k->proj_n[1] = m->hidden;
    k->proj_k[1] = m->heads * hd / t;
    k->proj_n[2] = (m->gated_mlp ? 2.0 : 1.0) * m->ffn / t;
    k->proj_k[2] = m->hidden;
    k->proj_n[3] = m->hidden;
    k->proj_k[3] = m->ffn / t;
    /* An MoE model's MLP is the fused MoE layer (moe_layer_ms): its layers have only the
     * attention projections as dense GEMMs. */
    k->nproj = m->experts > 0 ? 2 : KSTEP_NPROJ;
    double vocab = m->vocab / t;
    k->lm_pieces = ceil(vocab / KSTEP_GEMM_MAX_N);
    k->lm_n = vocab / k->lm_pieces;
    k->lm_k = m->hidden;
    k->weight_bytes = precision_weight_bytes(weights);
    k->kv_bytes = precision_kv_bytes(kv);
    snprintf(k->gemm_dtype, sizeof k->gemm_dtype, "%s", weights == PREC_FP8 ? "fp8" : "bfloat16");
    snprintf(k->kv_dtype, sizeof k->kv_dtype, "%s", kv == PREC_FP8 ? "fp8" : "bfloat16");
    ktable_result r;
    if (weights == PREC_FP8 &&
        ktable_gemm(k->gemm, "fp8", 1, k->proj_n[1], k->proj_k[1], &r) == KTABLE_NO_KEY) {
        snprintf(k->gemm_dtype, sizeof k->gemm_dtype, "bfloat16");
        snprintf(k->note, sizeof k->note,
                 "no fp8 GEMMs measured on this GPU: GEMMs priced as bf16");
    } else if (weights == PREC_INT8 || weights == PREC_INT4) {
        snprintf(k->note, sizeof k->note,
                 "%s weight-only GEMM kernels are not in the tables: GEMMs priced as bf16 "
                 "(pessimistic where they are memory-bound)",
                 precision_name(weights));
    }
    if (kv == PREC_INT8) {
        size_t used = strlen(k->note);
        snprintf(k->note + used, sizeof k->note - used, "%sint8 KV cache not measured: "
                 "attention priced with a bf16 cache", used ? "; " : "");
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The distinct contexts of the decode table (its "step" axis), sorted, into k->ctx_knot;
 * nknots stays 0 when there are more than KSTEP_MAX_KNOTS or the axis is not where expected. */
static void find_knots(kstep *k)
{
    const int axis = 3; /* head_dim, num_key_value_heads, batch_size, step, num_heads */
    if (ktable_naxes(k->decode) != 5 || strcmp(ktable_axis_name(k->decode, axis), "step") != 0)
        return;
    double knots[KSTEP_MAX_KNOTS];
    int n = 0;
    for (size_t i = 0; i < ktable_nrows(k->decode); i++) {
        const char *keys[KTABLE_MAX_KEYS];
        double axes[KTABLE_MAX_AXES], lat;
        ktable_row(k->decode, i, keys, axes, &lat);
        int seen = 0;
        for (int j = 0; j < n && !seen; j++)
            seen = knots[j] == axes[axis];
        if (seen)
            continue;
        if (n == KSTEP_MAX_KNOTS)
            return;
        knots[n++] = axes[axis];
    }
    qsort(knots, (size_t)n, sizeof knots[0], cmp_double);
    memcpy(k->ctx_knot, knots, (size_t)n * sizeof knots[0]);
    k->nknots = n;
}

/* The lines of decode attention per context class (see struct kstep, class_a). */
static void fill_class_lines(kstep *k)
{
    k->classes_aligned = k->nknots >= 2 && k->nknots <= STEP_CTX_CLASSES;
    for (int i = 0; i < k->nknots && k->classes_aligned; i++)
        k->classes_aligned = k->ctx_knot[i] == (double)((2u << i) - 1u);
    for (int b = 1; b <= KSTEP_GRAPH_MAX && k->classes_aligned; b++)
        for (int j = 1; j < k->nknots; j++) {
            const double *row = k->decode_ms[b];
            double lo = k->ctx_knot[j - 1], hi = k->ctx_knot[j];
            double slope = (row[j] - row[j - 1]) / (hi - lo);
            k->class_held[b][j] = !k->decode_x[b][j - 1] && !k->decode_x[b][j];
            k->class_slope[b][j] = slope;
            k->class_a[b][j] = row[j - 1] - slope * lo;
        }
}

static void fill_cache(kstep *k)
{
    find_knots(k);
    for (int b = 1; b <= KSTEP_GRAPH_MAX; b++)
        for (int j = 0; j < k->nknots; j++) {
            ktable_result r;
            ktable_decode_attn(k->decode, b, k->ctx_knot[j], k->heads, k->kv_heads, k->head_dim,
                               k->kv_dtype, &r);
            k->decode_ms[b][j] = r.status == KTABLE_NO_KEY ? NAN : r.latency_ms;
            k->decode_x[b][j] = r.status != KTABLE_OK;
        }
    fill_class_lines(k);
    for (int m = 1; m <= KSTEP_CACHE_M; m++) {
        unsigned x = 0;
        k->layer_gemm_ms[m] = layer_gemms_ms(k, m, &x);
        k->layer_gemm_x[m] = (unsigned char)x;
        x = 0;
        k->lm_head_ms[m] = lm_head_ms(k, m, &x);
        k->lm_head_x[m] = (unsigned char)x;
        if (k->moe != NULL) {
            x = 0;
            k->moe_ms[m] = moe_layer_ms(k, m, &x);
            k->moe_x[m] = (unsigned char)x;
        }
        for (int graph = 0; graph < 2 && k->tp > 1; graph++) {
            x = 0;
            k->allreduce_ms[graph][m] = allreduce_ms(k, m, graph, &x);
            k->allreduce_x[graph][m] = (unsigned char)x;
        }
    }
}

/* The MoE part of an MoE model's deployment: its table, dtype and shape. Returns -1 with a
 * one-line message when the tables cannot price it: no MoE table for the stack, a model
 * without a gated MLP (the tables measure gated experts), or no MoE kernels for the weights'
 * dtype nor for bf16. int8 weights and fp8 without fp8 MoE kernels are priced as bf16, and
 * said so. The catalog's MoE models (Mixtral) have no shared experts and model_arch does not
 * describe them; a model with shared experts would need them added as dense GEMMs here. */
static int setup_moe(kstep *k, const model_arch *m, precision weights, char *err, size_t errlen)
{
    k->moe = k->set.table[KTABLE_MOE];
    if (k->moe == NULL || !m->gated_mlp) {
        util_errf(err, errlen,
                  "--step-model kernels: %s cannot be priced from %s: %s; use the roofline",
                  m->name, k->source,
                  k->moe == NULL ? "the stack has no MoE table (moe_perf.csv)"
                                 : "the MoE tables measure gated experts only");
        return -1;
    }
    k->router_n = fmax(m->experts, KSTEP_GEMM_MIN_N);
    k->moe_shape = (ktable_moe_shape){.hidden = m->hidden,
                                      .inter = m->ffn,
                                      .topk = m->experts_per_token,
                                      .experts = m->experts,
                                      .tp = k->tp,
                                      .ep = 1};
    const char *dtype = weights == PREC_FP8    ? "fp8"
                        : weights == PREC_INT4 ? "int4_wo"
                                               : "bfloat16";
    /* The weights' dtype, else bf16; balanced routing, else the one power law kept (the
     * A100 and L40S tables of vllm-0.14 hold only power_law_1.01). */
    static const char *const DISTS[] = {"balanced", "power_law_1.01"};
    const char *dtypes[] = {dtype, "bfloat16"};
    ktable_result r;
    k->moe_dist = NULL;
    for (int i = 0; i < 2 && k->moe_dist == NULL; i++)
        for (int j = 0; j < 2 && k->moe_dist == NULL; j++)
            if (ktable_moe(k->moe, dtypes[i], 1, &k->moe_shape, DISTS[j], &r) != KTABLE_NO_KEY) {
                snprintf(k->moe_dtype, sizeof k->moe_dtype, "%s", dtypes[i]);
                k->moe_dist = DISTS[j];
            }
    if (k->moe_dist == NULL) {
        util_errf(err, errlen,
                  "--step-model kernels: %s: %s holds no %s or bf16 MoE kernels; use the "
                  "roofline",
                  m->name, k->source, dtype);
        return -1;
    }
    size_t used = strlen(k->note);
    if (strcmp(k->moe_dtype, "bfloat16") == 0 && weights != PREC_BF16 && weights != PREC_FP16)
        snprintf(k->note + used, sizeof k->note - used,
                 "%sno %s MoE kernels measured: the MoE layer priced as bf16", used ? "; " : "",
                 precision_name(weights));
    used = strlen(k->note);
    if (k->moe_dist != DISTS[0])
        snprintf(k->note + used, sizeof k->note - used,
                 "%sno balanced MoE routing measured: the MoE layer priced under power_law_1.01",
                 used ? "; " : "");
    return 0;
}

void kstep_default_coeffs(const model_arch *m, const gpu_spec *g, precision kv, int tp,
                          kstep_coeffs *c)
{
    double t = tp, h = m->hidden, hd = m->head_dim;
    double kv_heads = fmax(m->kv_heads / t, 1.0);
    double bw = KSTEP_OP_BW_FRACTION * g->mem_bw_bytes_per_s;
    /* Bytes each token moves through one layer's element-wise kernels: two fused residual-add
     * + RMSNorm (read x and the residual, write both), rotary embedding (read and write q and
     * k), SiLU-and-mul (read gate and up, write their product) and the KV-cache write (read k
     * and v, write them into the cache). */
    double norms = 2.0 * 4.0 * h * KSTEP_ACT_BYTES;
    double rotary = 2.0 * (m->heads / t + kv_heads) * hd * KSTEP_ACT_BYTES;
    double act = m->experts > 0 ? 0.0 : 3.0 * m->ffn / t * KSTEP_ACT_BYTES;
    double cache = 2.0 * kv_heads * hd * (KSTEP_ACT_BYTES + precision_kv_bytes(kv));
    *c = (kstep_coeffs){.gemm_scale = 1,
                        .attn_scale = 1,
                        .moe_scale = 1,
                        .comm_scale = 1,
                        .step_s = KSTEP_HOST_STEP_S + KSTEP_OPS_PER_STEP * KSTEP_OP_LATENCY_S,
                        .layer_s = KSTEP_OPS_PER_LAYER * KSTEP_OP_LATENCY_S,
                        /* three passes over the sequence's fp32 logits */
                        .seq_s = 3.0 * m->vocab * 4.0 / bw,
                        .token_layer_s = (norms + rotary + act + cache) / bw};
}

const kstep_coeffs *kstep_get_coeffs(const kstep *k)
{
    return &k->c;
}

int kstep_build(kstep **out, const char *kernels_dir, const char *stack, const model_arch *m,
                const gpu_spec *g, precision weights, precision kv, int tp,
                const kstep_roofline *rf, const kstep_coeffs *c, char *err, size_t errlen)
{
    *out = NULL;
    char names[256];
    const char *folder = kernels_gpu_folder(g->name);
    if (folder == NULL) {
        util_errf(err, errlen,
                  "--step-model kernels: no kernel tables for GPU '%s' (tables exist for %s)",
                  g->name, kernels_gpu_names(names, sizeof names));
        return -1;
    }
    kstep *k = calloc(1, sizeof *k);
    if (k == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    if (kernels_load(kernels_dir, folder, stack, &k->set, err, errlen) != 0) {
        free(k);
        return -1;
    }
    k->gemm = k->set.table[KTABLE_GEMM];
    k->prefill = k->set.table[KTABLE_PREFILL_ATTN];
    k->decode = k->set.table[KTABLE_DECODE_ATTN];
    k->allreduce = k->set.table[KTABLE_CUSTOM_AR];
    k->nccl = k->set.table[KTABLE_NCCL];
    for (size_t i = 0; k->gemm != NULL && i < ktable_nrows(k->gemm); i++) {
        const char *keys[KTABLE_MAX_KEYS];
        double axes[KTABLE_MAX_AXES], lat;
        ktable_row(k->gemm, i, keys, axes, &lat);
        k->gemm_m_max = fmax(k->gemm_m_max, axes[0]);
    }
    k->custom_ar_ok =
        k->allreduce != NULL && (g->link_bw_bytes_per_s > KSTEP_PCIE_MAX_BYTES_PER_S || tp <= 2);
    if (k->gemm == NULL || k->prefill == NULL || k->decode == NULL ||
        (tp > 1 && k->allreduce == NULL && k->nccl == NULL)) {
        util_errf(err, errlen, "%s/%s/%s: a GEMM, attention or all-reduce table is missing",
                  kernels_dir, folder, k->set.stack);
        kstep_free(k);
        return -1;
    }
    snprintf(k->source, sizeof k->source, "%s/%s", folder, k->set.stack);
    k->rf = *rf;
    if (c != NULL)
        k->c = *c;
    else
        kstep_default_coeffs(m, g, kv, tp, &k->c);
    set_shapes(k, m, weights, kv, tp);
    if (m->experts > 0 && setup_moe(k, m, weights, err, errlen) != 0) {
        kstep_free(k);
        return -1;
    }
    fill_cache(k);
    *out = k;
    return 0;
}

void kstep_free(kstep *k)
{
    if (k == NULL)
        return;
    kernels_free(&k->set);
    free(k);
}

const char *kstep_source(const kstep *k)
{
    return k->source;
}

const char *kstep_note(const kstep *k)
{
    return k->note;
}

/* What the time outside the kernels is counted in for step s: once, layers, sequences and
 * token-layers (tokens padded to the CUDA graph's size in a graph step), into x[0..3];
 * sets *graph, *tokens and *seqs as the step runs them. */
static void outside_units(const kstep *k, const step_shape *s, int *graph, double *tokens,
                          double *seqs, double x[4])
{
    *seqs = s->prefill_seqs + s->decode_seqs;
    *tokens = s->prefill_tokens + s->decode_seqs;
    *graph = s->prefill_seqs <= 0 && s->decode_seqs >= 1 && s->decode_seqs <= KSTEP_GRAPH_MAX;
    if (*graph)
        *tokens = *seqs = kstep_graph_size((int)ceil(s->decode_seqs));
    x[0] = 1.0;
    x[1] = k->layers;
    x[2] = *seqs;
    x[3] = ceil(*tokens) * k->layers;
}

/* The step's time and breakdown under coefficients c (kstep_time_s with k's own). */
static double time_with(const kstep *k, const kstep_coeffs *c, const step_shape *s,
                        kstep_breakdown *b)
{
    memset(b, 0, sizeof *b);
    double seqs, tokens, u[4];
    outside_units(k, s, &b->graph, &tokens, &seqs, u);
    b->outside_s = c->step_s + c->layer_s * k->layers + c->seq_s * seqs +
                   c->token_layer_s * ceil(tokens) * k->layers;
    unsigned x = 0;
    double m = ceil(tokens), ms = ceil(seqs);
    b->gemm_tokens = m;
    if (m >= 1) {
        double layer_ms, ar_ms = 0;
        if (m <= KSTEP_CACHE_M) {
            int i = (int)m;
            layer_ms = k->layer_gemm_ms[i];
            x |= k->layer_gemm_x[i];
            if (k->tp > 1) {
                ar_ms = k->allreduce_ms[b->graph][i];
                x |= k->allreduce_x[b->graph][i];
            }
        } else {
            layer_ms = layer_gemms_ms(k, m, &x);
            if (k->tp > 1)
                ar_ms = allreduce_ms(k, m, b->graph, &x);
        }
        if (k->moe != NULL) {
            double moe_ms;
            if (m <= KSTEP_CACHE_M) {
                moe_ms = k->moe_ms[(int)m];
                x |= k->moe_x[(int)m];
            } else {
                moe_ms = moe_layer_ms(k, m, &x);
            }
            b->moe_s = 1e-3 * c->moe_scale * k->layers * moe_ms;
        }
        b->gemm_s = 1e-3 * c->gemm_scale * k->layers * layer_ms;
        b->allreduce_s = 1e-3 * c->comm_scale * 2.0 * k->layers * ar_ms;
    }
    if (ms >= 1) {
        if (ms <= KSTEP_CACHE_M) {
            b->lm_head_s = 1e-3 * c->gemm_scale * k->lm_head_ms[(int)ms];
            x |= k->lm_head_x[(int)ms];
        } else {
            b->lm_head_s = 1e-3 * c->gemm_scale * lm_head_ms(k, ms, &x);
        }
    }
    if (s->decode_seqs > 0 && s->decode_ctx > 0)
        b->decode_attn_s = 1e-3 * c->attn_scale * k->layers * decode_attn_step_ms(k, s, &x);
    if (s->prefill_seqs > 0 && s->prefill_tokens > 0)
        b->prefill_attn_s = 1e-3 * c->attn_scale * k->layers * prefill_attn_ms(k, s, &x);
    b->extrapolated = x;
    b->t_step_s = b->gemm_s + b->moe_s + b->lm_head_s + b->prefill_attn_s + b->decode_attn_s +
                  b->allreduce_s + b->outside_s;
    return b->t_step_s;
}

double kstep_time_s(const kstep *k, const step_shape *s, kstep_breakdown *b)
{
    kstep_breakdown local;
    return time_with(k, &k->c, s, b ? b : &local);
}

void kstep_terms(const kstep *k, const step_shape *s, double x[KSTEP_N_COEFFS])
{
    static const kstep_coeffs unit = {.gemm_scale = 1, .attn_scale = 1, .moe_scale = 1,
                                      .comm_scale = 1};
    kstep_breakdown b;
    time_with(k, &unit, s, &b);
    double seqs, tokens;
    int graph;
    x[KSTEP_C_GEMM] = b.gemm_s + b.lm_head_s;
    x[KSTEP_C_ATTN] = b.prefill_attn_s + b.decode_attn_s;
    x[KSTEP_C_MOE] = b.moe_s;
    x[KSTEP_C_COMM] = b.allreduce_s;
    outside_units(k, s, &graph, &tokens, &seqs, x + KSTEP_C_STEP);
}

void kstep_coeffs_get(const kstep_coeffs *c, double v[KSTEP_N_COEFFS])
{
    const double w[KSTEP_N_COEFFS] = {c->gemm_scale, c->attn_scale, c->moe_scale,
                                      c->comm_scale, c->step_s,     c->layer_s,
                                      c->seq_s,      c->token_layer_s};
    memcpy(v, w, sizeof w);
}

void kstep_coeffs_set(kstep_coeffs *c, const double v[KSTEP_N_COEFFS])
{
    *c = (kstep_coeffs){.gemm_scale = v[KSTEP_C_GEMM],
                        .attn_scale = v[KSTEP_C_ATTN],
                        .moe_scale = v[KSTEP_C_MOE],
                        .comm_scale = v[KSTEP_C_COMM],
                        .step_s = v[KSTEP_C_STEP],
                        .layer_s = v[KSTEP_C_LAYER],
                        .seq_s = v[KSTEP_C_SEQ],
                        .token_layer_s = v[KSTEP_C_TOKEN_LAYER]};
}

const char *kstep_extrapolated_names(unsigned bits, char *buf, size_t len)
{
    static const char *const NAMES[] = {"GEMMs", "LM head", "prefill attention",
                                        "decode attention", "all-reduce", "MoE layer"};
    size_t used = 0;
    if (len > 0)
        buf[0] = '\0';
    for (unsigned i = 0; i < sizeof NAMES / sizeof NAMES[0] && used + 1 < len; i++) {
        if (!(bits & (1u << i)))
            continue;
        int w = snprintf(buf + used, len - used, "%s%s", used ? ", " : "", NAMES[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}
