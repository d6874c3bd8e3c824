/*
 * state: the state of one serving simulation, shared by the files of sim/serve (the event
 * loop, the schedulers, the routers, the KV block manager, decode stretches and the
 * metrics collector). Not part of the library's interface.
 *
 * Invariants of a replica while a replication runs:
 *   - free_blocks + evictable cached blocks + distinct blocks held by its running requests
 *     = kv_blocks (a cached block shared by several requests counts once; kvblocks.h);
 *   - a running request holds the blocks its scheduler says it needs (the scheduler's
 *     blocks_held operation): ceil(ctx / block_size) under continuous batching, where ctx
 *     counts the tokens whose KV is cached, or its whole sequence under static batching;
 *   - at most one step is in flight; its composition (prefill chunks and decodes) is fixed
 *     when it starts and applied when it ends.
 * Requests live in a pool of slots, reused after completion, so the hot path allocates
 * only when the number of requests in the system reaches a new high.
 */
#ifndef CAPSIM_SERVE_STATE_H
#define CAPSIM_SERVE_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/ring.h"
#include "sim/base/rng.h"
#include "sim/engine/engine.h"
#include "sim/serve/metrics.h"
#include "sim/serve/serve.h"
#include "workloads/prefix.h"

/* A request in the system. */
typedef struct serve_slot {
    uint64_t index; /* arrival order within the replication */
    double arrival_s, sched_s, first_s, last_s;
    uint32_t prompt, output;
    uint32_t gen;       /* output tokens produced so far */
    uint32_t ctx;       /* tokens whose KV is cached */
    uint32_t target;    /* tokens to prefill in this attempt: prompt + gen at admission */
    uint32_t prefilled; /* of target, done */
    uint32_t blocks;    /* KV blocks held, shared ones included */
    uint32_t reg;       /* of those, the leading ones held through the prefix cache */
    uint32_t shared;    /* leading tokens of the content stream pid (request.shared_tokens) */
    uint64_t pid;       /* the shared content stream (request.prefix_id); 0: none */
    uint32_t cls, preemptions, replica;
    uint32_t user; /* closed loop: the user who sent it; UINT32_MAX in an open workload */
    uint32_t next_free;
    /* The prefix-cache entries of blocks 0 .. reg - 1, so that sharing and letting go need
     * no lookups (kvblocks.c); kept, with its room, when the slot is used again. */
    uint32_t *ent, ent_cap;
} serve_slot;

/* A replica's prefix cache (kvblocks.h): an entry per KV block whose content is cached,
 * keyed by (prefix id, block index in the stream), found through an open-addressing table
 * and, while no request holds it, on an intrusive least-recently-used list. Entries not
 * in use are chained through next. n = 0: prefix caching is off. */
/* An entry of a prefix cache: a cached block, its key and its place on a list; kept
 * together so that one cache line serves a lookup, a reference and a list move. */
typedef struct serve_pc_entry {
    uint64_t pid;        /* key: the stream */
    uint32_t blk;        /* key: block index within the stream */
    uint32_t ref;        /* running requests holding it (always 0 in the CPU tier) */
    uint32_t prev, next; /* the LRU list; next also chains free entries */
} serve_pc_entry;

typedef struct serve_pcache {
    uint32_t n;          /* entries: the replica's KV blocks (the CPU tier's blocks) */
    serve_pc_entry *e;
    uint32_t lru_head, lru_tail, free_head;
    uint32_t *table; /* entry ids; UINT32_MAX empty */
    uint32_t mask;   /* table size - 1 (a power of two >= 2n) */
    uint64_t evictable; /* entries on the LRU list (cached, held by no request; in the CPU
                         * tier, every block stored) */
    uint64_t held;      /* entries held by some request (ref > 0) */
    uint64_t refs;      /* sum of ref */
} serve_pcache;

/* What one replica did in a replication (measured requests at their first admission,
 * except evictions and loads, which count everything). */
typedef struct serve_replica_counts {
    uint64_t requests;           /* measured requests routed here */
    uint64_t prompt, hit, hit_cpu; /* their prompt tokens, and those served by each tier */
    uint64_t saved;              /* prefill tokens every admission took from the cache */
    uint64_t evictions, loaded; /* blocks evicted from the GPU; blocks loaded from the CPU */
} serve_replica_counts;

typedef struct serve_replica {
    sim_ring waiting; /* slot ids; preempted requests go back to the front */
    uint32_t *run;    /* running slot ids in admission order (newest last) */
    uint32_t nrun;
    uint64_t free_blocks; /* blocks with no content: neither held nor cached */
    serve_pcache pc;
    serve_pcache cpu;     /* the CPU tier (kv_offload_blocks > 0): blocks evicted from pc */
    uint32_t load_blocks; /* blocks the step being composed brings back from the CPU tier */
    serve_replica_counts cnt; /* this replication's figures of this replica */
    int busy;
    double step_start_s;
    uint32_t *pre_slot, *pre_chunk, npre; /* prefill chunks of the step in flight */
    uint32_t *dec_slot, ndec;             /* decodes of the step in flight */
    uint64_t outstanding_tokens; /* tokens still to compute: prefill left plus output left */
    gsl_rng *noise;
    /* A decode stretch in flight: k steps of the same batch ending at end_s[0..k). */
    uint32_t k; /* 0: a single step is in flight */
    double *end_s;
    uint32_t end_cap;
    gsl_rng *noise_saved; /* the noise generator as it was when the stretch began */
    uint32_t stamp;       /* tags the step-end event that is current */
    double end_s_single;  /* end of the single step in flight */
} serve_replica;

typedef struct serve_sim {
    const serve_config *cfg;
    const serve_sched_ops *sched;
    const serve_router_ops *router;
    sim_engine eng;
    serve_replica *rep;
    serve_slot *slots;
    uint32_t n_slots, slots_cap, free_head;
    reqsrc *src;
    request next_req;
    int have_next;
    uint64_t n_arrived, warm, n_total;
    gsl_rng *rng_think, *rng_len; /* closed loop: think times and lengths */
    prefix_chats chats;           /* closed loop with sessions: where each user is */
    gsl_rng *rng_route;
    uint32_t rr_next;  /* round-robin: the next replica */
    const request *routing; /* the request the router is placing (during pick only) */
    serve_metrics met; /* what is measured */
    uint64_t steps;
    serve_result *res; /* conservation counters go straight here */
    int jump_ok;       /* stretches allowed in this replication */
} serve_sim;

/* Checks what serve_run() would otherwise trip on. Returns 0, or -1 with a message. */
int serve_state_check_config(const serve_config *c, char *err, size_t errlen);

/* Allocates what every replication of s->cfg reuses (s zeroed but for cfg and res).
 * Returns 0, or -1 if out of memory; free with serve_state_free() either way. */
int serve_state_alloc(serve_sim *s);
void serve_state_free(serve_sim *s);

static inline int serve_ring_push(sim_ring *q, uint32_t v, int front)
{
    return sim_ring_push(q, &v, front);
}

static inline uint32_t serve_ring_peek(const sim_ring *q)
{
    return *(const uint32_t *)sim_ring_front(q);
}

#endif
