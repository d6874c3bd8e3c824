/*
 * ring: a growable FIFO of fixed-size items (a ring buffer that doubles when full), with
 * push at either end. Used for waiting lines. The caller owns the struct; sim_ring_fini()
 * frees the buffer.
 */
#ifndef CAPSIM_RING_H
#define CAPSIM_RING_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

typedef struct sim_ring {
    unsigned char *buf;
    size_t elem; /* bytes per item */
    size_t cap, head, len;
} sim_ring;

static inline void sim_ring_init(sim_ring *q, size_t elem)
{
    q->buf = NULL;
    q->elem = elem;
    q->cap = q->head = q->len = 0;
}

static inline void sim_ring_fini(sim_ring *q)
{
    free(q->buf);
    q->buf = NULL;
    q->cap = q->head = q->len = 0;
}

static inline void sim_ring_clear(sim_ring *q)
{
    q->head = q->len = 0;
}

/* Appends (or, with front, prepends) a copy of item. Returns 0, or -1 if out of memory. */
static inline int sim_ring_push(sim_ring *q, const void *item, int front)
{
    if (q->len == q->cap) {
        size_t cap = q->cap ? 2 * q->cap : 64;
        unsigned char *p = malloc(cap * q->elem);
        if (p == NULL)
            return -1;
        for (size_t i = 0; i < q->len; i++)
            memcpy(p + i * q->elem, q->buf + ((q->head + i) % q->cap) * q->elem, q->elem);
        free(q->buf);
        q->buf = p;
        q->cap = cap;
        q->head = 0;
    }
    size_t at;
    if (front) {
        q->head = (q->head + q->cap - 1) % q->cap;
        at = q->head;
    } else {
        at = (q->head + q->len) % q->cap;
    }
    memcpy(q->buf + at * q->elem, item, q->elem);
    q->len++;
    return 0;
}

/* The first item; the ring must not be empty. */
static inline void *sim_ring_front(const sim_ring *q)
{
    return q->buf + q->head * q->elem;
}

static inline void sim_ring_pop(sim_ring *q)
{
    q->head = (q->head + 1) % q->cap;
    q->len--;
}

#endif
