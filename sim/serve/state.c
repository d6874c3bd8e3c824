/*
 * state: checking a configuration, and allocating and freeing the state of a simulation
 * built from it (see state.h).
 */
#include "sim/serve/state.h"

#include "sim/serve/kvblocks.h"

#include <stdlib.h>

#include "sim/base/util.h"

int serve_state_check_config(const serve_config *c, char *err, size_t errlen)
{
    if (c->replicas < 1 || c->replicas > 100000) {
        util_errf(err, errlen, "replicas %u: expected 1 to 100000", c->replicas);
        return -1;
    }
    if (c->prefix_caching && c->kv_blocks >= (1u << 30)) {
        util_errf(err, errlen, "prefix caching: %llu KV blocks per replica: expected fewer than 2^30",
                  (unsigned long long)c->kv_blocks);
        return -1;
    }
    if (c->max_num_seqs < 1) {
        util_errf(err, errlen, "max-num-seqs %u: expected at least 1", c->max_num_seqs);
        return -1;
    }
    if (c->max_batched_tokens < c->block_size) {
        util_errf(err, errlen,
                  "max-batched-tokens %u is smaller than one KV block (%u tokens): expected "
                  "at least %u",
                  c->max_batched_tokens, c->block_size, c->block_size);
        return -1;
    }
    if (c->kv_blocks < 1 || c->block_size < 1) {
        util_errf(err, errlen, "no KV cache blocks");
        return -1;
    }
    if (c->wl.users > 0 &&
        (c->wl.think == NULL || c->wl.trace_path != NULL ||
         (c->wl.pairs == NULL && (c->wl.prompt_len == NULL || c->wl.output_len == NULL)))) {
        util_errf(err, errlen,
                  "a closed loop needs a think time and length distributions, "
                  "and no trace");
        return -1;
    }
    if (c->replications < 1 || !(c->warmup_fraction >= 0 && c->warmup_fraction < 1)) {
        util_errf(err, errlen, "replications must be >= 1 and warm-up in [0, 1)");
        return -1;
    }
    return 0;
}

int serve_state_alloc(serve_sim *s)
{
    const serve_config *c = s->cfg;
    s->rep = calloc(c->replicas, sizeof *s->rep);
    int ok = s->rep && sim_engine_init(&s->eng, 2u * c->replicas + 8) == 0 &&
             (s->rng_route = sim_rng_create(1)) != NULL &&
             (s->rng_think = sim_rng_create(1)) != NULL &&
             (s->rng_len = sim_rng_create(1)) != NULL && serve_metrics_init(&s->met, c) == 0 &&
             prefix_chats_init(&s->chats, c->wl.users) == 0;
    size_t per = c->max_num_seqs;
    for (uint32_t i = 0; ok && i < c->replicas; i++) {
        serve_replica *r = &s->rep[i];
        sim_ring_init(&r->waiting, sizeof(uint32_t));
        r->run = malloc(per * sizeof *r->run);
        r->pre_slot = malloc(per * sizeof *r->pre_slot);
        r->pre_chunk = malloc(per * sizeof *r->pre_chunk);
        r->dec_slot = malloc(per * sizeof *r->dec_slot);
        r->noise = sim_rng_create(1);
        r->noise_saved = sim_rng_create(1);
        ok = r->run && r->pre_slot && r->pre_chunk && r->dec_slot && r->noise && r->noise_saved;
    }
    return ok ? 0 : -1;
}

static void rng_free(gsl_rng *g)
{
    if (g)
        gsl_rng_free(g);
}

void serve_state_free(serve_sim *s)
{
    for (uint32_t i = 0; s->rep && i < s->cfg->replicas; i++) {
        sim_ring_fini(&s->rep[i].waiting);
        free(s->rep[i].run);
        free(s->rep[i].pre_slot);
        free(s->rep[i].pre_chunk);
        free(s->rep[i].dec_slot);
        rng_free(s->rep[i].noise);
        rng_free(s->rep[i].noise_saved);
        free(s->rep[i].end_s);
        serve_kv_pc_free(&s->rep[i]);
    }
    free(s->rep);
    for (uint32_t i = 0; i < s->slots_cap; i++)
        free(s->slots[i].ent);
    free(s->slots);
    prefix_chats_fini(&s->chats);
    sim_engine_fini(&s->eng);
    rng_free(s->rng_route);
    rng_free(s->rng_think);
    rng_free(s->rng_len);
    serve_metrics_fini(&s->met);
}
