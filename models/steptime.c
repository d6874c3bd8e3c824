/*
 * steptime: roofline and linear step-time models (see steptime.h).
 */
#include "models/steptime.h"

#include <math.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "models/kstep.h"
#include "sim/base/spec.h"
#include "sim/base/util.h"

/* Activations cross the tensor-parallel links in 16-bit. */
#define ACT_BYTES 2.0

step_shape step_shape_prefill(double b, double p)
{
    step_shape s = {0};
    s.prefill_tokens = b * p;
    s.prefill_seqs = b;
    s.prefill_attn = b * p * (p + 1.0) / 2.0;
    return s;
}

step_shape step_shape_decode(double b, double c)
{
    step_shape s = {0};
    s.decode_seqs = b;
    s.decode_ctx = b * c;
    return s;
}

void step_model_roofline(step_model *sm, const model_arch *m, const gpu_spec *g, precision weights,
                         precision kv, int tp, int tensor_cores, const step_coeffs *c)
{
    memset(sm, 0, sizeof *sm);
    sm->kind = STEP_ROOFLINE;
    sm->c = *c;
    sm->tp = tp;
    sm->rate_flops = gpu_compute_rate(g, weights, tensor_cores, &sm->rate_path, &sm->rate_native);
    sm->mem_bw = g->mem_bw_bytes_per_s;
    double emb = (double)m->vocab * m->hidden;
    double lm_head = emb; /* tied or not, the head multiplies by a vocab x hidden matrix */
    double embed_table = m->tied_embeddings ? 0.0 : emb;
    /* Non-embedding parameters a token passes through (the input embedding is a lookup). */
    double body = m->active_params - embed_table - lm_head;
    if (body < 0)
        body = m->active_params;
    sm->flops_per_token = 2.0 * body;
    sm->flops_per_logit = 2.0 * lm_head;
    sm->flops_per_attn_pair = 4.0 * m->layers * m->heads * (double)m->head_dim;
    double wb = precision_weight_bytes(weights);
    sm->layers = m->layers;
    sm->experts = m->experts;
    sm->experts_per_token = m->experts_per_token;
    sm->expert_bytes_per_layer = model_expert_bytes(m, weights);
    /* Every step reads all weights except the input embedding table (only the looked-up
     * rows) and, for MoE, the experts no token in the step was routed to. */
    double all = model_weight_bytes(m, weights) - embed_table * wb;
    sm->dense_weight_bytes = all - m->layers * m->experts * sm->expert_bytes_per_layer;
    sm->kv_bytes_per_token_gpu = model_kv_bytes_per_token_per_gpu(m, kv, tp);
    sm->allreduce_bytes_per_token = m->hidden * ACT_BYTES;
    sm->link_bw = g->link_bw_bytes_per_s;
    sm->link_latency_s = g->link_latency_s;
}

void step_model_kernels(step_model *sm, const struct kstep *k)
{
    sm->kind = STEP_KERNELS;
    sm->kernels = k;
}

int step_model_linear_parse(step_model *sm, const char *text, char *err, size_t errlen)
{
    memset(sm, 0, sizeof *sm);
    spec s;
    static const char *const keys[] = {"a", "b", NULL};
    const char *form = "linear:a=A,b=B";
    if (spec_parse(text, &s, err, errlen) != 0)
        return -1;
    if (strcmp(s.name, "linear") != 0) {
        util_errf(err, errlen, "'%s': unknown step-time model '%s' (expected %s)", text, s.name,
                  form);
        return -1;
    }
    if (spec_check_keys(&s, keys, keys, form, err, errlen) != 0 ||
        spec_number(&s, "a", SPEC_NONNEG, 0, 0, &sm->a_s, form, err, errlen) != 0 ||
        spec_number(&s, "b", SPEC_NONNEG, 0, 0, &sm->b_s, form, err, errlen) != 0)
        return -1;
    if (sm->a_s + sm->b_s <= 0) {
        util_errf(err, errlen, "'%s': a + b must be > 0 (a step must take time)", text);
        return -1;
    }
    sm->kind = STEP_LINEAR;
    return 0;
}

double step_time_s(const step_model *sm, const step_shape *s, step_breakdown *b)
{
    if (sm->kind == STEP_KERNELS && b == NULL) /* the simulation's path: the kernels alone */
        return kstep_time_s(sm->kernels, s, NULL);
    step_breakdown local;
    if (b == NULL)
        b = &local;
    memset(b, 0, sizeof *b);
    if (sm->kind == STEP_LINEAR) {
        b->t_fixed_s = sm->a_s;
        b->t_step_s = sm->a_s + sm->b_s * (s->prefill_seqs + s->decode_seqs);
        return b->t_step_s;
    }
    double tp = sm->tp;
    double tokens = s->prefill_tokens + s->decode_seqs;
    double gemm_flops =
        sm->flops_per_token * tokens + sm->flops_per_logit * (s->prefill_seqs + s->decode_seqs);
    double attn_flops = sm->flops_per_attn_pair * (s->prefill_attn + s->decode_ctx);
    double weights = sm->dense_weight_bytes;
    if (sm->experts > 0) {
        /* Expected distinct experts per layer that tokens routed uniformly touch. */
        double e = sm->experts, k = sm->experts_per_token;
        double touched = e * (1.0 - pow(1.0 - k / e, tokens));
        weights += sm->layers * touched * sm->expert_bytes_per_layer;
    }
    double kv_per_gpu = (s->decode_ctx + s->prefill_ctx_read + tokens) * sm->kv_bytes_per_token_gpu;
    b->flops_per_gpu = (gemm_flops + attn_flops) / tp;
    b->attn_flops_per_gpu = attn_flops / tp;
    b->weight_bytes_per_gpu = weights / tp;
    b->kv_bytes_per_gpu = kv_per_gpu;
    b->t_compute_s =
        (gemm_flops + sm->c.attn_scale * attn_flops) / tp / (sm->rate_flops * sm->c.mfu);
    b->t_memory_s = (b->weight_bytes_per_gpu + b->kv_bytes_per_gpu) / (sm->mem_bw * sm->c.mbu);
    if (sm->tp > 1) {
        double msg = tokens * sm->allreduce_bytes_per_token;
        double one =
            2.0 * (tp - 1.0) / tp * msg / sm->link_bw + 2.0 * (tp - 1.0) * sm->link_latency_s;
        b->t_comm_s = sm->c.comm_scale * 2.0 * sm->layers * one;
    }
    b->t_fixed_s = sm->c.t_fixed_s + sm->c.t_layer_s * sm->layers;
    b->compute_bound = b->t_compute_s >= b->t_memory_s;
    b->intensity = b->flops_per_gpu / (b->weight_bytes_per_gpu + b->kv_bytes_per_gpu);
    b->ridge = sm->rate_flops / sm->mem_bw;
    b->t_step_s = b->t_fixed_s + fmax(b->t_compute_s, b->t_memory_s) + b->t_comm_s;
    if (sm->kind == STEP_KERNELS) {
        kstep_breakdown kb;
        b->t_step_s = kstep_time_s(sm->kernels, s, &kb);
        b->t_compute_s =
            kb.gemm_s + kb.moe_s + kb.lm_head_s + kb.prefill_attn_s + kb.decode_attn_s;
        b->t_memory_s = 0;
        b->t_comm_s = kb.allreduce_s;
        b->t_fixed_s = kb.outside_s;
    }
    return b->t_step_s;
}

double step_time_sample(const step_model *sm, const step_shape *s, gsl_rng *r)
{
    double mean = step_time_s(sm, s, NULL);
    double cv = sm->c.noise_cv;
    if (!(cv > 0))
        return mean;
    double s2 = log1p(cv * cv);
    return mean * gsl_ran_lognormal(r, -s2 / 2.0, sqrt(s2));
}
