/*
 * router: how an arriving request picks a replica, behind one table of operations. The
 * built-in routers are the functions of router.c, one each, listed in its table; a new
 * one is a file of its own defining a serve_router_ops, and an entry in that table.
 * Routing draws come from the simulation's routing generator only, so a router never
 * disturbs other random streams.
 */
#ifndef CAPSIM_SERVE_ROUTER_H
#define CAPSIM_SERVE_ROUTER_H

#include <stddef.h>
#include <stdint.h>

#include "sim/serve/serve.h"

struct serve_sim;

struct serve_router_ops {
    const char *name; /* as --router spells it */
    /* The replica (< cfg->replicas) for the request arriving now. */
    uint32_t (*pick)(struct serve_sim *s);
};

/* The router called name, or NULL. */
const serve_router_ops *serve_router_find(const char *name);

/* The router of the table's entry i < serve_router_count(), the first being the
 * default. */
size_t serve_router_count(void);
const serve_router_ops *serve_router_at(size_t i);

/* The names, for help and errors: "a, b or c". */
void serve_router_names(char *buf, size_t len);

/* Load measures the routers compare, as step-by-step simulation would see them now:
 * requests waiting and running on replica i, and tokens it has still to compute. */
uint64_t serve_router_queue_load(const struct serve_sim *s, uint32_t i);
uint64_t serve_router_token_load(const struct serve_sim *s, uint32_t i);

#endif
