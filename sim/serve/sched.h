/*
 * sched: the schedulers of a replica, behind one table of operations. A scheduler decides
 * which requests make up each step, how many KV blocks a running request holds, which
 * requests it can never run, and how far the step loop may jump over a stretch of
 * identical decode steps. Each lives in its own file (sched_continuous.c, sched_static.c)
 * and has one entry in the table in sched.c: adding one is a new file and a table entry.
 */
#ifndef CAPSIM_SERVE_SCHED_H
#define CAPSIM_SERVE_SCHED_H

#include <stddef.h>
#include <stdint.h>

#include "sim/serve/serve.h"

struct serve_sim;
struct serve_replica;
struct serve_slot;

struct serve_sched_ops {
    const char *name; /* as --scheduler spells it */
    /* Fills the replica's step (pre_slot/pre_chunk, dec_slot) from its waiting and
     * running requests at now_s, taking the KV blocks the step needs; the step is empty
     * when nothing can run. Returns 0, or -1 if out of memory. */
    int (*compose)(struct serve_sim *s, struct serve_replica *r, double now_s);
    /* Of a stretch of k_max identical decode steps of the step just composed, how many
     * can run before the KV cache runs out (at least 1). */
    uint32_t (*stretch_fit)(const struct serve_sim *s, const struct serve_replica *r,
                            uint32_t k_max);
    /* Whether the decoders' KV grows as they produce tokens (else every block was taken
     * at admission). */
    int kv_grows;
    /* The KV blocks a running request holds (checked by the invariant tests). */
    uint64_t (*blocks_held)(const struct serve_sim *s, const struct serve_slot *q);
    /* Whether a request of these lengths can never run, and is refused on arrival. */
    int (*never_runs)(const serve_config *c, uint64_t prompt_tokens, uint64_t output_tokens);
    /* Whether a request that has just joined the replica's waiting line could join at the
     * next step boundary, so that a decode stretch in flight must end there. */
    int (*joins_next_step)(const struct serve_sim *s, const struct serve_replica *r);
};

/* The scheduler called name, or NULL. */
const serve_sched_ops *serve_sched_find(const char *name);

/* The scheduler of the table's entry i < serve_sched_count(), the first being the
 * default. */
size_t serve_sched_count(void);
const serve_sched_ops *serve_sched_at(size_t i);

/* The names, for help and errors: "a, b or c". */
void serve_sched_names(char *buf, size_t len);

#endif
