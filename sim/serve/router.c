/*
 * router: the routers and their table (see router.h).
 */
#include "sim/serve/router.h"

#include <string.h>

#include "sim/base/util.h"

#include "sim/serve/kvblocks.h"
#include "sim/serve/state.h"
#include "sim/serve/stretch.h"

uint64_t serve_router_queue_load(const serve_sim *s, uint32_t i)
{
    const serve_replica *r = &s->rep[i];
    return r->waiting.len + r->nrun;
}

uint64_t serve_router_token_load(const serve_sim *s, uint32_t i)
{
    const serve_replica *r = &s->rep[i];
    if (r->k == 0)
        return r->outstanding_tokens;
    /* A stretch is applied when it ends: subtract the steps done by now. */
    return r->outstanding_tokens - serve_stretch_steps_done(r, s->eng.now_s) * r->ndec;
}

/* The least loaded replica; ties go to the lowest index, so the choice is deterministic. */
static uint32_t least(const serve_sim *s, uint64_t (*load)(const serve_sim *, uint32_t))
{
    uint32_t best = 0;
    for (uint32_t i = 1; i < s->cfg->replicas; i++)
        if (load(s, i) < load(s, best))
            best = i;
    return best;
}

/* Round robin: each replica in turn. */
static uint32_t pick_rr(serve_sim *s)
{
    uint32_t i = s->rr_next;
    s->rr_next = (s->rr_next + 1) % s->cfg->replicas;
    return i;
}

/* A replica drawn uniformly. */
static uint32_t pick_random(serve_sim *s)
{
    return (uint32_t)gsl_rng_uniform_int(s->rng_route, s->cfg->replicas);
}

/* Join the shortest queue: fewest requests waiting and running. */
static uint32_t pick_jsq(serve_sim *s)
{
    return least(s, serve_router_queue_load);
}

/* Fewest tokens still to compute. */
static uint32_t pick_least_tokens(serve_sim *s)
{
    return least(s, serve_router_token_load);
}

/* Power of two choices: the shorter queue of two distinct replicas drawn at random (the
 * second uniformly among the others, so that the two are never the same one). */
static uint32_t pick_p2c(serve_sim *s)
{
    uint32_t n = s->cfg->replicas;
    uint32_t a = (uint32_t)gsl_rng_uniform_int(s->rng_route, n);
    if (n < 2)
        return a;
    uint32_t b = (uint32_t)gsl_rng_uniform_int(s->rng_route, n - 1);
    b += b >= a ? 1u : 0u;
    return serve_router_queue_load(s, b) < serve_router_queue_load(s, a) ? b : a;
}

/* Prefix-aware, in the spirit of llm-d's prefix-cache scorer balanced by a load scorer: among
 * the replicas not much busier than the least busy one (tokens still to compute at most
 * PREFIX_LOAD_RATIO x the least plus PREFIX_LOAD_SLACK tokens), the one holding the longest
 * cached prefix of the request; ties, and a request that no replica holds anything of, go to
 * the least busy (then the lowest index), as least-tokens would send them. The load bound
 * keeps a popular prefix from piling every request of its group onto one replica. */
#define PREFIX_LOAD_RATIO 1.25
#define PREFIX_LOAD_SLACK 4096.0

static uint32_t pick_prefix(serve_sim *s)
{
    uint32_t n = s->cfg->replicas, least_i = least(s, serve_router_token_load);
    const request *rq = s->routing;
    if (rq == NULL || rq->prefix_id == 0 || n < 2)
        return least_i;
    double bound = PREFIX_LOAD_RATIO * (double)serve_router_token_load(s, least_i) +
                   PREFIX_LOAD_SLACK;
    uint32_t best = least_i, best_hit = 0;
    uint64_t best_load = serve_router_token_load(s, least_i);
    for (uint32_t i = 0; i < n; i++) {
        uint64_t load = serve_router_token_load(s, i);
        if ((double)load > bound)
            continue;
        uint32_t hit = serve_kv_cached_tokens(s, &s->rep[i], rq->prefix_id, rq->shared_tokens,
                                              rq->prompt_tokens);
        if (hit > best_hit || (hit == best_hit && load < best_load)) {
            best = i;
            best_hit = hit;
            best_load = load;
        }
    }
    return best;
}

static const serve_router_ops RR = {"rr", pick_rr};
static const serve_router_ops RANDOM = {"random", pick_random};
static const serve_router_ops JSQ = {"jsq", pick_jsq};
static const serve_router_ops LEAST_TOKENS = {"least-tokens", pick_least_tokens};
static const serve_router_ops P2C = {"p2c", pick_p2c};
static const serve_router_ops PREFIX = {"prefix", pick_prefix};

/* The first is the default; the order is that of the help text. A router in a file of
 * its own is declared here (extern const serve_router_ops ...;) and listed below. */
static const serve_router_ops *const ROUTERS[] = {&RR,           &RANDOM, &JSQ,
                                                  &LEAST_TOKENS, &P2C,    &PREFIX};

#define N_ROUTERS (sizeof ROUTERS / sizeof ROUTERS[0])

size_t serve_router_count(void)
{
    return N_ROUTERS;
}

const serve_router_ops *serve_router_at(size_t i)
{
    return i < N_ROUTERS ? ROUTERS[i] : NULL;
}

const serve_router_ops *serve_router_find(const char *name)
{
    for (size_t i = 0; i < N_ROUTERS; i++)
        if (strcmp(ROUTERS[i]->name, name) == 0)
            return ROUTERS[i];
    return NULL;
}

void serve_router_names(char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t at = 0;
    for (size_t i = 0; i < N_ROUTERS; i++)
        util_list_append(buf, len, &at, i, N_ROUTERS, " or ", ROUTERS[i]->name);
}
