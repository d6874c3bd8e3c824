/*
 * kvblocks: a replica's paged KV cache and its prefix cache, as vLLM's V1 engine keeps
 * them. Blocks of block_size tokens are taken by running requests and given back when
 * they finish or are preempted; these functions keep the replica's counts, the request's
 * holding and the collector's count of used blocks in step (the invariant in state.h).
 *
 * Prefix caching (serve_config.prefix_caching, continuous batching): block j (tokens
 * [jB, (j+1)B)) of a request with prefix_id != 0 and (j+1)B <= shared_tokens holds
 * content of the stream prefix_id that every request of that prefix_id shares, so it is
 * cached under the key (prefix_id, j). That key stands for vLLM's hash chained over the
 * block and its predecessors: a stream's content at block j is fixed, so the chain of the
 * first j + 1 blocks is the same exactly when the key is. Only full blocks are cached. A
 * block outside the shared tokens is the request's own and is never hit by another
 * request (vLLM would also hit a preempted request's own blocks when it is readmitted; not
 * modelled yet).
 *
 * A cached block is held with a reference count by every running request using it, and
 * counts once in memory. When the last holder lets go it stays cached but evictable, on a
 * least-recently-used list; taking blocks uses free ones first, then evicts from the
 * least recently used end. Blocks become cached when a prefill chunk fills them, and when
 * a request lets go of its blocks (what its decode steps filled: decode steps only grow a
 * request's own blocks, which keeps decode stretches exact).
 *
 * The CPU tier (serve_config.kv_offload_blocks > 0), as vLLM's CPU offloading and LMCache
 * keep one: a block evicted from the GPU cache is copied to host memory (the copy is taken
 * to overlap with the steps, so it costs no time), which evicts its own least recently
 * used block when full. A request's leading blocks are looked up on the GPU first and then
 * in the CPU tier; the ones found there are brought back into fresh GPU blocks (cached and
 * held, as GPU hits are) and the CPU copy stays. Bringing them back is a synchronous
 * transfer over the host link, as LMCache's default retrieval before the forward pass: it
 * adds kv_load_s_per_block per block to the step that prefills the request.
 */
#ifndef CAPSIM_SERVE_KVBLOCKS_H
#define CAPSIM_SERVE_KVBLOCKS_H

#include <assert.h>
#include <stdint.h>

#include "sim/serve/state.h"

/* Blocks that hold `tokens` tokens. */
static inline uint32_t serve_kv_blocks_for(const serve_sim *s, uint64_t tokens)
{
    return (uint32_t)((tokens + s->cfg->block_size - 1) / s->cfg->block_size);
}

/* Blocks replica r can give to a request: the free ones and the evictable cached ones. */
static inline uint64_t serve_kv_available(const serve_replica *r)
{
    return r->free_blocks + r->pc.evictable;
}

/* Blocks in use on replica r, each shared block once. */
static inline uint64_t serve_kv_used(const serve_sim *s, const serve_replica *r)
{
    return s->cfg->kv_blocks - serve_kv_available(r);
}

/* Evicts n least recently used cached blocks of replica r, making them free. */
void serve_kv_evict(serve_sim *s, serve_replica *r, uint64_t n);

/* Request q on replica r takes n more blocks of its own; they must be available. */
static inline void serve_kv_take(serve_sim *s, serve_replica *r, serve_slot *q, uint32_t n)
{
    assert(serve_kv_available(r) >= n);
    if (n > r->free_blocks)
        serve_kv_evict(s, r, n - r->free_blocks);
    r->free_blocks -= n;
    q->blocks += n;
    s->met.kv_used += n;
    uint64_t used = serve_kv_used(s, r);
    if (used > s->res->max_blocks_used)
        s->res->max_blocks_used = used;
}

/* Request q gives back every block it holds (it finished, or is preempted): the full
 * cacheable ones it computed are cached first; shared ones stay with their other holders. */
void serve_kv_release(serve_sim *s, serve_replica *r, serve_slot *q);

/* The leading blocks of waiting request q (ctx 0) cached on replica r, on the GPU or in the
 * CPU tier: the longest run of cached keys from block 0, at most
 * floor((target - 1) / block_size) blocks so that its last token is computed. *idle gets
 * how many of them are on the GPU and held by no request (taking them makes them
 * unavailable to others), *loaded how many must come back from the CPU tier (each needs a
 * free block). The GPU entries found are kept in q->ent (NONE for those in the CPU tier)
 * when q has room for them (a probe of the router has none). 0 with prefix caching off. */
uint32_t serve_kv_hits(const serve_sim *s, const serve_replica *r, serve_slot *q,
                       uint32_t *idle, uint32_t *loaded);

/* Tokens of a request of stream pid sharing its first `shared` tokens, with a prompt of
 * `prompt` tokens, that replica r holds cached: serve_kv_hits' blocks, in tokens (for the
 * prefix-aware router, before the request has a slot). 0 with prefix caching off. */
uint32_t serve_kv_cached_tokens(const serve_sim *s, const serve_replica *r, uint64_t pid,
                                uint32_t shared, uint32_t prompt);

/* Request q takes the h cached blocks serve_kv_hits found, `loaded` of them brought back
 * from the CPU tier into blocks that must be available: it holds them, and its prefill
 * starts after them. */
void serve_kv_share(serve_sim *s, serve_replica *r, serve_slot *q, uint32_t h, uint32_t loaded);

/* Caches the full cacheable blocks request q has computed and not yet cached (a copy of
 * one another request cached first stays q's own, and so do the blocks after it). */
void serve_kv_register(serve_sim *s, serve_replica *r, serve_slot *q);

/* Share of replica r's cache in use. */
static inline double serve_kv_fraction(const serve_sim *s, const serve_replica *r)
{
    return 1.0 - (double)serve_kv_available(r) / (double)s->cfg->kv_blocks;
}

/* Largest k <= k_max such that the decoders of the step in flight can run k steps with
 * the blocks they hold plus the available ones (only the free ones while requests wait;
 * see kvblocks.c); the block need grows with k. At least 1. */
uint32_t serve_kv_fit_steps(const serve_sim *s, const serve_replica *r, uint32_t k_max);

/* Blocks in use on replica r at the start of step j (1-based) of the stretch of k steps
 * in flight, once its growth has been applied: the blocks in use less the decoders'
 * growth after that step (growth is always the decoders' own blocks). */
uint64_t serve_kv_used_at_step(const serve_sim *s, const serve_replica *r, uint32_t k, uint32_t j);

/* Gives request q (of a stream, just routed to replica r) room for the entries of every
 * block it can share. Returns 0, or -1 if out of memory. */
int serve_kv_slot_reserve(const serve_sim *s, const serve_replica *r, serve_slot *q);

/* Empties replica r's prefix cache for a replication; it stays off until a request that
 * shares something comes (serve_kv_pc_enable), so a workload that shares nothing costs
 * neither memory nor time. */
void serve_kv_pc_reset(serve_replica *r);

/* Turns replica r's prefix cache on (with prefix caching configured, under continuous
 * batching; entries for every block, allocated once). Returns 0, or -1 if out of memory;
 * serve_kv_pc_free frees it. */
int serve_kv_pc_enable(serve_sim *s, serve_replica *r);
void serve_kv_pc_free(serve_replica *r);

/* Tests: free blocks, evictable cached blocks and distinct blocks held add up to the
 * cache, each running request holds what its scheduler says it needs and the cached keys
 * it counts, and reference counts add up, and the CPU tier holds at most its capacity with
 * every stored block findable; counts violations in the result. */
void serve_kv_check(serve_sim *s, const serve_replica *r);

#endif
