/*
 * kvblocks: a replica's paged KV cache and its prefix cache (see kvblocks.h).
 */
#include "sim/serve/kvblocks.h"

#include <stdlib.h>
#include <string.h>

#include "sim/serve/sched.h"

#define NONE UINT32_MAX

/* --- the table of cached keys (open addressing, linear probing) ----------------------- */

static uint32_t home(const serve_pcache *pc, uint64_t pid, uint32_t blk)
{
    uint64_t h = pid * 0x9E3779B97F4A7C15ull ^ ((uint64_t)blk + 1) * 0xC2B2AE3D27D4EB4Full;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 32;
    return (uint32_t)h & pc->mask;
}

/* The table slot holding key (pid, blk), or NONE. */
static uint32_t find_slot(const serve_pcache *pc, uint64_t pid, uint32_t blk)
{
    for (uint32_t i = home(pc, pid, blk);; i = (i + 1) & pc->mask) {
        uint32_t e = pc->table[i];
        if (e == NONE)
            return NONE;
        if (pc->e[e].pid == pid && pc->e[e].blk == blk)
            return i;
    }
}

static uint32_t find(const serve_pcache *pc, uint64_t pid, uint32_t blk)
{
    uint32_t i = find_slot(pc, pid, blk);
    return i == NONE ? NONE : pc->table[i];
}

static void table_insert(serve_pcache *pc, uint32_t e)
{
    uint32_t i = home(pc, pc->e[e].pid, pc->e[e].blk);
    while (pc->table[i] != NONE)
        i = (i + 1) & pc->mask;
    pc->table[i] = e;
}

/* Deletes slot i, shifting back the entries after it whose probe ran through it, so that
 * no tombstones are needed. */
static void table_erase(serve_pcache *pc, uint32_t i)
{
    for (;;) {
        pc->table[i] = NONE;
        uint32_t j = i;
        for (;;) {
            j = (j + 1) & pc->mask;
            uint32_t e = pc->table[j];
            if (e == NONE)
                return;
            uint32_t k = home(pc, pc->e[e].pid, pc->e[e].blk);
            /* The entry at j may fill the hole unless its home lies cyclically in (i, j]. */
            int between = i <= j ? (i < k && k <= j) : (i < k || k <= j);
            if (!between)
                break;
        }
        pc->table[i] = pc->table[j];
        i = j;
    }
}

/* --- the least-recently-used list of evictable entries ---------------------------------- */

static void lru_unlink(serve_pcache *pc, uint32_t e)
{
    if (pc->e[e].prev != NONE)
        pc->e[pc->e[e].prev].next = pc->e[e].next;
    else
        pc->lru_head = pc->e[e].next;
    if (pc->e[e].next != NONE)
        pc->e[pc->e[e].next].prev = pc->e[e].prev;
    else
        pc->lru_tail = pc->e[e].prev;
    pc->evictable--;
}

static void lru_push_tail(serve_pcache *pc, uint32_t e)
{
    pc->e[e].prev = pc->lru_tail;
    pc->e[e].next = NONE;
    if (pc->lru_tail != NONE)
        pc->e[pc->lru_tail].next = e;
    else
        pc->lru_head = e;
    pc->lru_tail = e;
    pc->evictable++;
}

/* --- the block manager ---------------------------------------------------------------- */

/* Replica r's CPU tier takes a copy of block (pid, blk) evicted from its GPU cache, as the
 * most recently used; a full tier evicts its least recently used block for it. */
static void cpu_store(serve_replica *r, uint64_t pid, uint32_t blk)
{
    serve_pcache *t = &r->cpu;
    uint32_t e = find(t, pid, blk);
    if (e != NONE) { /* stored already (it was loaded back, or computed again): renewed */
        lru_unlink(t, e);
        lru_push_tail(t, e);
        return;
    }
    if (t->free_head != NONE) {
        e = t->free_head;
        t->free_head = t->e[e].next;
    } else {
        e = t->lru_head;
        lru_unlink(t, e);
        table_erase(t, find_slot(t, t->e[e].pid, t->e[e].blk));
    }
    t->e[e].pid = pid;
    t->e[e].blk = blk;
    table_insert(t, e);
    lru_push_tail(t, e);
}

void serve_kv_evict(serve_sim *s, serve_replica *r, uint64_t n)
{
    (void)s;
    serve_pcache *pc = &r->pc;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t e = pc->lru_head;
        assert(e != NONE);
        lru_unlink(pc, e);
        table_erase(pc, find_slot(pc, pc->e[e].pid, pc->e[e].blk));
        if (r->cpu.n != 0)
            cpu_store(r, pc->e[e].pid, pc->e[e].blk);
        pc->e[e].next = pc->free_head;
        pc->free_head = e;
        r->free_blocks++;
        r->cnt.evictions++;
    }
}

/* Full cacheable blocks of q's computed tokens. */
static uint32_t cacheable_full(const serve_sim *s, const serve_slot *q)
{
    uint32_t upto = q->ctx < q->shared ? q->ctx : q->shared;
    return upto / s->cfg->block_size;
}

/* Caches block (pid, blk), held by the one request that computed it or brought it back,
 * in a free entry. One is free: entries in use are blocks in use or evictable, and this
 * block is in use (the caller took it) but not an entry. Returns the entry. */
static uint32_t hold_new(serve_pcache *pc, uint64_t pid, uint32_t blk)
{
    uint32_t e = pc->free_head;
    assert(e != NONE);
    pc->free_head = pc->e[e].next;
    pc->e[e].pid = pid;
    pc->e[e].blk = blk;
    pc->e[e].ref = 1;
    table_insert(pc, e);
    pc->held++;
    pc->refs++;
    return e;
}

void serve_kv_register(serve_sim *s, serve_replica *r, serve_slot *q)
{
    serve_pcache *pc = &r->pc;
    if (pc->n == 0 || q->pid == 0)
        return;
    uint32_t full = cacheable_full(s, q);
    while (q->reg < full && find(pc, q->pid, q->reg) == NONE) {
        q->ent[q->reg] = hold_new(pc, q->pid, q->reg);
        q->reg++;
    }
}

void serve_kv_release(serve_sim *s, serve_replica *r, serve_slot *q)
{
    serve_pcache *pc = &r->pc;
    serve_kv_register(s, r, q);
    /* The last block first, so that a prefix's tail is evicted before its head (as vLLM
     * frees a request's blocks in reverse order). */
    for (uint32_t j = q->reg; j-- > 0;) {
        uint32_t e = q->ent[j];
        assert(e != NONE && pc->e[e].ref > 0 && e == find(pc, q->pid, j));
        pc->refs--;
        if (--pc->e[e].ref == 0) {
            pc->held--;
            lru_push_tail(pc, e);
            s->met.kv_used--;
        }
    }
    uint32_t own = q->blocks - q->reg;
    r->free_blocks += own;
    s->met.kv_used -= own;
    q->blocks = q->reg = 0;
}

uint32_t serve_kv_hits(const serve_sim *s, const serve_replica *r, serve_slot *q,
                       uint32_t *idle, uint32_t *loaded)
{
    const serve_pcache *pc = &r->pc;
    *idle = *loaded = 0;
    if (pc->n == 0 || q->pid == 0 || q->target == 0)
        return 0;
    uint32_t cap = (q->target - 1) / s->cfg->block_size;
    uint32_t shared = q->shared / s->cfg->block_size;
    if (cap > shared)
        cap = shared;
    uint32_t *keep = q->ent_cap >= cap ? q->ent : NULL;
    uint32_t h = 0;
    for (; h < cap; h++) {
        uint32_t e = find(pc, q->pid, h);
        if (keep)
            keep[h] = e;
        if (e != NONE)
            *idle += pc->e[e].ref == 0;
        else if (r->cpu.n != 0 && find(&r->cpu, q->pid, h) != NONE)
            (*loaded)++;
        else
            break;
    }
    return h;
}

uint32_t serve_kv_cached_tokens(const serve_sim *s, const serve_replica *r, uint64_t pid,
                                uint32_t shared, uint32_t prompt)
{
    serve_slot probe = {.pid = pid, .shared = shared, .target = prompt};
    uint32_t idle, loaded;
    return serve_kv_hits(s, r, &probe, &idle, &loaded) * s->cfg->block_size;
}

void serve_kv_share(serve_sim *s, serve_replica *r, serve_slot *q, uint32_t h, uint32_t loaded)
{
    serve_pcache *pc = &r->pc;
    assert(q->blocks == 0 && q->ctx == 0 && q->ent_cap >= h);
    /* The blocks on the GPU are held first, so that taking blocks for the loaded ones
     * cannot evict them. */
    for (uint32_t j = 0; j < h; j++) {
        uint32_t e = q->ent[j];
        if (e == NONE)
            continue;
        if (pc->e[e].ref++ == 0) {
            lru_unlink(pc, e);
            pc->held++;
            s->met.kv_used++;
        }
        pc->refs++;
    }
    q->blocks = h - loaded;
    if (loaded > 0) {
        /* Blocks for the copies coming back from the CPU tier, cached as they arrive. */
        serve_kv_take(s, r, q, loaded);
        for (uint32_t j = 0; j < h; j++) {
            if (q->ent[j] != NONE)
                continue;
            q->ent[j] = hold_new(pc, q->pid, j);
        }
        r->load_blocks += loaded;
        r->cnt.loaded += loaded;
    }
    q->reg = h;
    uint32_t tokens = h * s->cfg->block_size;
    q->ctx = q->prefilled = tokens;
    r->outstanding_tokens -= tokens;
    if (q->index >= s->warm)
        r->cnt.saved += tokens;
    uint64_t used = serve_kv_used(s, r);
    if (used > s->res->max_blocks_used)
        s->res->max_blocks_used = used;
}

int serve_kv_slot_reserve(const serve_sim *s, const serve_replica *r, serve_slot *q)
{
    if (r->pc.n == 0 || q->pid == 0)
        return 0;
    uint32_t need = q->shared / s->cfg->block_size + 1;
    if (q->ent_cap >= need)
        return 0;
    uint32_t cap = need > 2 * q->ent_cap ? need : 2 * q->ent_cap;
    uint32_t *p = realloc(q->ent, (size_t)cap * sizeof *p);
    if (p == NULL)
        return -1;
    q->ent = p;
    q->ent_cap = cap;
    return 0;
}

void serve_kv_pc_reset(serve_replica *r)
{
    r->pc.n = r->cpu.n = 0;
    r->pc.evictable = r->pc.held = r->pc.refs = r->cpu.evictable = 0;
    r->load_blocks = 0;
}

/* Allocates (once) and empties a table of n entries. Returns 0, or -1 if out of memory. */
static int pcache_init(serve_pcache *pc, uint32_t n)
{
    if (pc->e == NULL) {
        uint32_t size = 1;
        while (size < 2 * n)
            size *= 2;
        pc->mask = size - 1;
        pc->e = malloc((size_t)n * sizeof *pc->e);
        pc->table = malloc((size_t)size * sizeof *pc->table);
        if (!pc->e || !pc->table)
            return -1;
    }
    pc->n = n;
    memset(pc->table, 0xff, ((size_t)pc->mask + 1) * sizeof *pc->table);
    for (uint32_t e = 0; e < n; e++) {
        pc->e[e].next = e + 1 < n ? e + 1 : NONE;
        pc->e[e].ref = 0;
    }
    pc->free_head = n ? 0 : NONE;
    pc->lru_head = pc->lru_tail = NONE;
    pc->evictable = pc->held = pc->refs = 0;
    return 0;
}

int serve_kv_pc_enable(serve_sim *s, serve_replica *r)
{
    if (r->pc.n != 0 || !s->cfg->prefix_caching || !s->sched->kv_grows)
        return 0; /* on already; or off, or static batching: nothing is cached */
    if (pcache_init(&r->pc, (uint32_t)s->cfg->kv_blocks) != 0)
        return -1;
    if (s->cfg->kv_offload_blocks == 0)
        return 0;
    return pcache_init(&r->cpu, (uint32_t)s->cfg->kv_offload_blocks);
}

static void pcache_free(serve_pcache *pc)
{
    free(pc->e);
    free(pc->table);
    memset(pc, 0, sizeof *pc);
}

void serve_kv_pc_free(serve_replica *r)
{
    pcache_free(&r->pc);
    pcache_free(&r->cpu);
}

/* --- decode stretches ------------------------------------------------------------------ */

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
    /* The decoders grow into free blocks, then evict cached ones. An eviction can change
     * what a waiting request would hit, and so whether it could be admitted (a token
     * budget below its prompt makes its chunk fixed while the cached blocks it would take
     * shrink): with requests waiting, a stretch ends before it would evict. With none
     * waiting (an arrival cuts the stretch), evictions at the stretch's end are the same
     * blocks, in the same order, as step by step. */
    uint64_t avail = r->waiting.len > 0 ? r->free_blocks : serve_kv_available(r);
    if (growth_blocks(s, r, k_max) <= avail)
        return k_max;
    uint32_t lo = 1, hi = k_max - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (growth_blocks(s, r, mid) <= avail)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

uint64_t serve_kv_used_at_step(const serve_sim *s, const serve_replica *r, uint32_t k, uint32_t j)
{
    /* In modular arithmetic this is the decoders' blocks at step j plus everyone else's,
     * today's formula, and it holds with shared blocks too. */
    uint64_t used = serve_kv_used(s, r);
    for (uint32_t i = 0; i < r->ndec; i++) {
        const serve_slot *q = &s->slots[r->dec_slot[i]];
        used -= q->blocks;
        used += serve_kv_blocks_for(s, q->ctx - k + j);
    }
    return used;
}

/* --- tests ----------------------------------------------------------------------------- */

void serve_kv_check(serve_sim *s, const serve_replica *r)
{
    const serve_pcache *pc = &r->pc;
    uint64_t own = 0, regs = 0;
    for (uint32_t i = 0; i < r->nrun; i++) {
        const serve_slot *q = &s->slots[r->run[i]];
        own += q->blocks - q->reg;
        regs += q->reg;
        if (q->blocks != s->sched->blocks_held(s, q) || q->gen > q->output ||
            q->prefilled > q->target || q->reg > q->blocks)
            s->res->invariant_violations++;
        for (uint32_t j = 0; j < q->reg; j++) {
            uint32_t e = find(pc, q->pid, j);
            if (e == NONE || pc->e[e].ref == 0 || q->ent[j] != e)
                s->res->invariant_violations++;
        }
    }
    if (own + pc->held + pc->evictable + r->free_blocks != s->cfg->kv_blocks ||
        r->free_blocks > s->cfg->kv_blocks || regs != pc->refs)
        s->res->invariant_violations++;
    /* The CPU tier: its LRU list holds every stored block once, each findable. */
    const serve_pcache *t = &r->cpu;
    uint64_t stored = 0;
    for (uint32_t e = t->n ? t->lru_head : NONE; e != NONE; e = t->e[e].next) {
        stored++;
        if (find(t, t->e[e].pid, t->e[e].blk) != e)
            s->res->invariant_violations++;
    }
    if (stored != t->evictable || stored > s->cfg->kv_offload_blocks)
        s->res->invariant_violations++;
}
