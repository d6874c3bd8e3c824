/*
 * kvblocks: a replica's paged KV cache. Blocks of block_size tokens are taken by running
 * requests and given back when they finish or are preempted; these functions keep the
 * replica's free count, the request's holding and the collector's count of used blocks
 * in step (the invariant in state.h). This is where prefix caching will share blocks.
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

/* Request q on replica r takes n more blocks; they must be free. */
static inline void serve_kv_take(serve_sim *s, serve_replica *r, serve_slot *q, uint32_t n)
{
    assert(r->free_blocks >= n);
    r->free_blocks -= n;
    q->blocks += n;
    s->met.kv_used += n;
    uint64_t used = s->cfg->kv_blocks - r->free_blocks;
    if (used > s->res->max_blocks_used)
        s->res->max_blocks_used = used;
}

/* Request q gives back every block it holds (it finished, or is preempted). */
static inline void serve_kv_release(serve_sim *s, serve_replica *r, serve_slot *q)
{
    r->free_blocks += q->blocks;
    s->met.kv_used -= q->blocks;
    q->blocks = 0;
}

/* Share of replica r's cache in use. */
static inline double serve_kv_fraction(const serve_sim *s, const serve_replica *r)
{
    return 1.0 - (double)r->free_blocks / (double)s->cfg->kv_blocks;
}

/* Largest k <= k_max such that the decoders of the step in flight can run k steps with
 * the blocks they hold plus the free ones (the block need grows with k). At least 1. */
uint32_t serve_kv_fit_steps(const serve_sim *s, const serve_replica *r, uint32_t k_max);

/* Blocks in use on replica r at the start of step j (1-based) of the stretch of k steps
 * in flight, once its growth has been applied: the decoders' at that step plus every
 * other request's. */
uint64_t serve_kv_used_at_step(const serve_sim *s, const serve_replica *r, uint32_t k, uint32_t j);

/* Tests: free blocks plus blocks held add up to the cache, and each running request
 * holds what its scheduler says it needs; counts violations in the result. */
void serve_kv_check(serve_sim *s, const serve_replica *r);

#endif
