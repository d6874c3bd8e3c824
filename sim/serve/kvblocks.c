/*
 * kvblocks: a replica's paged KV cache (see kvblocks.h).
 */
#include "sim/serve/kvblocks.h"

#include "sim/serve/sched.h"

/* KV blocks the decoders need, beyond those held, to run k steps. */
static uint64_t growth_blocks(const serve_sim *s, const serve_replica *r, uint32_t k)
{
    uint64_t need = 0;
    for (uint32_t i = 0; i < r->ndec; i++) {
        const serve_slot *q = &s->slots[r->dec_slot[i]];
        need += serve_kv_blocks_for(s, (uint64_t)q->ctx + k) - q->blocks;
    }
    return need;
}

uint32_t serve_kv_fit_steps(const serve_sim *s, const serve_replica *r, uint32_t k_max)
{
    if (growth_blocks(s, r, k_max) <= r->free_blocks)
        return k_max;
    uint32_t lo = 1, hi = k_max - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (growth_blocks(s, r, mid) <= r->free_blocks)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

uint64_t serve_kv_used_at_step(const serve_sim *s, const serve_replica *r, uint32_t k, uint32_t j)
{
    uint64_t used = 0;
    for (uint32_t i = 0; i < r->ndec; i++) {
        const serve_slot *q = &s->slots[r->dec_slot[i]];
        used += serve_kv_blocks_for(s, q->ctx - k + j);
    }
    uint64_t others = s->cfg->kv_blocks - r->free_blocks;
    for (uint32_t i = 0; i < r->ndec; i++)
        others -= s->slots[r->dec_slot[i]].blocks;
    return used + others;
}

void serve_kv_check(serve_sim *s, const serve_replica *r)
{
    uint64_t held = 0;
    for (uint32_t i = 0; i < r->nrun; i++) {
        const serve_slot *q = &s->slots[r->run[i]];
        held += q->blocks;
        if (q->blocks != s->sched->blocks_held(s, q) || q->gen > q->output ||
            q->prefilled > q->target)
            s->res->invariant_violations++;
    }
    if (held + r->free_blocks != s->cfg->kv_blocks || r->free_blocks > s->cfg->kv_blocks)
        s->res->invariant_violations++;
}
