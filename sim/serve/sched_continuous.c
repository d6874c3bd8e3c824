/*
 * sched_continuous: continuous batching with paged KV memory and preemption by
 * recompute, as vLLM schedules. Every step decodes each running request and fills the
 * rest of the token budget with prefill (chunks of it, with chunked prefill); a request
 * holds the blocks of the tokens whose KV is cached, and takes one more as it crosses a
 * block boundary. When blocks run out the newest running request is preempted. With
 * prefix caching a request admitted with its leading blocks cached shares them and
 * prefills only the rest (kvblocks.h).
 */
#include <string.h>

#include "sim/serve/kvblocks.h"
#include "sim/serve/sched.h"

static void remove_running(serve_replica *r, uint32_t pos)
{
    memmove(&r->run[pos], &r->run[pos + 1], (r->nrun - pos - 1) * sizeof *r->run);
    r->nrun--;
}

/* Preemption by recompute: the request drops its KV cache and goes back to the front of
 * the waiting line; when admitted again it prefills its prompt and the tokens it has
 * already produced. */
static int preempt(serve_sim *s, serve_replica *r, uint32_t pos)
{
    uint32_t id = r->run[pos];
    serve_slot *q = &s->slots[id];
    /* Its remaining work grows by what must be computed again. */
    r->outstanding_tokens += (uint64_t)q->prompt + q->gen - (q->target - q->prefilled);
    serve_kv_release(s, r, q);
    q->ctx = 0;
    q->prefilled = 0;
    q->target = q->prompt + q->gen;
    q->preemptions++;
    s->res->preemptions++;
    remove_running(r, pos);
    s->met.running_seqs--;
    return serve_ring_push(&r->waiting, id, 1);
}

/* Admits waiting requests while sequences, token budget and KV blocks allow. *budget is
 * the token budget left. */
static int admit(serve_sim *s, serve_replica *r, uint32_t *budget, double now)
{
    const serve_config *c = s->cfg;
    while (r->waiting.len > 0 && r->nrun<c->max_num_seqs && * budget> 0) {
        uint32_t id = serve_ring_peek(&r->waiting);
        serve_slot *q = &s->slots[id];
        /* Its leading blocks already cached are shared, and its prefill starts after them;
         * those in the CPU tier come back into blocks of their own. */
        uint32_t idle, loaded;
        uint32_t hit = serve_kv_hits(s, r, q, &idle, &loaded);
        uint32_t want = q->target - q->prefilled - hit * c->block_size;
        uint32_t chunk = want;
        if (c->chunked_prefill) {
            if (chunk > *budget)
                chunk = *budget;
        } else if (chunk > *budget && r->npre > 0) {
            break; /* does not fit in this step's budget; it goes first next step */
        }
        uint32_t need =
            serve_kv_blocks_for(s, (uint64_t)(q->ctx + hit * c->block_size) + chunk) - hit;
        if ((uint64_t)need + loaded + idle > serve_kv_available(r))
            break;
        sim_ring_pop(&r->waiting);
        if (q->preemptions == 0 && q->prefilled == 0)
            q->sched_s = now; /* first scheduled; a preempted request keeps its time */
        if (q->preemptions == 0) {
            /* the hit rates' measure: first admissions */
            uint64_t tok = (uint64_t)(hit - loaded) * c->block_size,
                     tok_cpu = (uint64_t)loaded * c->block_size;
            s->met.ts_pc_prompt += q->prompt;
            s->met.ts_pc_hit += tok + tok_cpu;
            if (q->index >= s->warm) {
                r->cnt.prompt += q->prompt;
                r->cnt.hit += tok;
                r->cnt.hit_cpu += tok_cpu;
            }
        }
        if (hit > 0)
            serve_kv_share(s, r, q, hit, loaded);
        serve_kv_take(s, r, q, need);
        r->run[r->nrun++] = id;
        s->met.running_seqs++;
        r->pre_slot[r->npre] = id;
        r->pre_chunk[r->npre++] = chunk;
        *budget = chunk >= *budget ? 0 : *budget - chunk;
    }
    return 0;
}

/* Adds every running request in decode phase to the step, growing its KV by a block when
 * it crosses a block boundary; when blocks run out, the newest running request is
 * preempted (possibly the one being added). */
static int add_decodes(serve_sim *s, serve_replica *r, uint32_t *budget)
{
    for (uint32_t i = 0; i < r->nrun; i++) {
        uint32_t id = r->run[i];
        serve_slot *q = &s->slots[id];
        if (q->prefilled < q->target)
            continue;
        /* It holds ceil(ctx / block) blocks; one more only when ctx fills them. */
        uint32_t need = (uint64_t)q->blocks * s->cfg->block_size == q->ctx ? 1u : 0u;
        int self_preempted = 0;
        while (need > serve_kv_available(r)) {
            uint32_t last = r->nrun - 1;
            if (preempt(s, r, last) != 0)
                return -1;
            if (last == i) {
                self_preempted = 1;
                break;
            }
        }
        if (self_preempted)
            break;
        serve_kv_take(s, r, q, need);
        r->dec_slot[r->ndec++] = id;
        if (*budget > 0)
            (*budget)--;
    }
    return 0;
}

/* Continues prefills that earlier steps left unfinished (chunked prefill). */
static void add_prefill_chunks(serve_sim *s, serve_replica *r, uint32_t *budget)
{
    for (uint32_t i = 0; i<r->nrun && * budget> 0; i++) {
        uint32_t id = r->run[i];
        serve_slot *q = &s->slots[id];
        if (q->prefilled >= q->target)
            continue; /* decoding; no prefill chunk is in this step yet (called first) */
        uint32_t chunk = q->target - q->prefilled;
        if (chunk > *budget)
            chunk = *budget;
        uint32_t need = serve_kv_blocks_for(s, (uint64_t)q->ctx + chunk) - q->blocks;
        if (need > serve_kv_available(r))
            break;
        serve_kv_take(s, r, q, need);
        r->pre_slot[r->npre] = id;
        r->pre_chunk[r->npre++] = chunk;
        *budget -= chunk;
    }
}

static int compose(serve_sim *s, serve_replica *r, double now)
{
    uint32_t budget = s->cfg->max_batched_tokens;
    if (s->cfg->chunked_prefill) {
        if (add_decodes(s, r, &budget) != 0)
            return -1;
        add_prefill_chunks(s, r, &budget);
        return admit(s, r, &budget, now);
    }
    /* Without chunked prefill a step is either prefills (new requests first, as vLLM's
     * default scheduler does) or decodes. */
    if (admit(s, r, &budget, now) != 0)
        return -1;
    if (r->npre > 0)
        return 0;
    return add_decodes(s, r, &budget);
}

static uint64_t blocks_held(const serve_sim *s, const serve_slot *q)
{
    return serve_kv_blocks_for(s, q->ctx);
}

/* Its whole sequence exceeds the KV cache, or its prompt exceeds the token budget
 * without chunked prefill. */
static int never_runs(const serve_config *c, uint64_t prompt_tokens, uint64_t output_tokens)
{
    uint32_t seq_blocks =
        (uint32_t)((prompt_tokens + output_tokens + c->block_size - 1) / c->block_size);
    return seq_blocks > c->kv_blocks ||
           (!c->chunked_prefill && prompt_tokens > c->max_batched_tokens);
}

/* The newcomer is alone in the line and there is room for one more sequence. */
static int joins_next_step(const serve_sim *s, const serve_replica *r)
{
    return r->nrun < s->cfg->max_num_seqs && r->waiting.len == 1;
}

const serve_sched_ops serve_sched_continuous = {
    .name = "continuous",
    .compose = compose,
    .stretch_fit = serve_kv_fit_steps,
    .kv_grows = 1,
    .blocks_held = blocks_held,
    .never_runs = never_runs,
    .joins_next_step = joins_next_step,
};
