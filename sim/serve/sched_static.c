/*
 * sched_static: static batching. An idle replica takes up to max_num_seqs waiting
 * requests whose whole sequence fits in the KV cache and whose prompts fit together in
 * the token budget (max_batched_tokens), prefills them in one step, then decodes until
 * every one is done; nothing joins a batch in progress. Every block a request will need
 * is reserved when it is admitted, so nothing grows or is preempted.
 */
#include "sim/serve/kvblocks.h"
#include "sim/serve/sched.h"

static int compose(serve_sim *s, serve_replica *r, double now)
{
    if (r->nrun == 0) {
        /* The batch's prompts are prefilled in one step, within the token budget. */
        uint32_t budget = s->cfg->max_batched_tokens;
        while (r->waiting.len > 0 && r->nrun < s->cfg->max_num_seqs) {
            uint32_t id = serve_ring_peek(&r->waiting);
            serve_slot *q = &s->slots[id];
            uint32_t need = serve_kv_blocks_for(s, (uint64_t)q->prompt + q->output);
            if (need > r->free_blocks || q->target > budget)
                break;
            budget -= q->target;
            sim_ring_pop(&r->waiting);
            serve_kv_take(s, r, q, need);
            q->sched_s = now;
            r->run[r->nrun++] = id;
            s->met.running_seqs++;
            r->pre_slot[r->npre] = id;
            r->pre_chunk[r->npre++] = q->target;
        }
        return 0;
    }
    for (uint32_t i = 0; i < r->nrun; i++)
        r->dec_slot[r->ndec++] = r->run[i];
    return 0;
}

/* Every block was reserved up front: the cache never limits a stretch. */
static uint32_t stretch_fit(const serve_sim *s, const serve_replica *r, uint32_t k_max)
{
    (void)s;
    (void)r;
    return k_max;
}

static uint64_t blocks_held(const serve_sim *s, const serve_slot *q)
{
    return serve_kv_blocks_for(s, (uint64_t)q->prompt + q->output);
}

/* Its whole sequence, reserved at admission, exceeds the KV cache, or its prompt, which
 * is prefilled in one step, exceeds the token budget. */
static int never_runs(const serve_config *c, uint64_t prompt_tokens, uint64_t output_tokens)
{
    uint32_t seq_blocks =
        (uint32_t)((prompt_tokens + output_tokens + c->block_size - 1) / c->block_size);
    return seq_blocks > c->kv_blocks || prompt_tokens > c->max_batched_tokens;
}

/* Nothing joins a batch in progress. */
static int joins_next_step(const serve_sim *s, const serve_replica *r)
{
    (void)s;
    (void)r;
    return 0;
}

const serve_sched_ops serve_sched_static = {
    .name = "static",
    .compose = compose,
    .stretch_fit = stretch_fit,
    .kv_grows = 0,
    .blocks_held = blocks_held,
    .never_runs = never_runs,
    .joins_next_step = joins_next_step,
};
