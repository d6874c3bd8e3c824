/*
 * heap: array binary min-heap of events (see heap.h for the invariant).
 *
 * Sifting moves a "hole" rather than swapping pairs, which halves the memory writes, and
 * picks the smaller child without a branch. Measured on the hold model (bench/) against a
 * branchy binary heap, a 4-ary heap and a bottom-up (Floyd) sift, this was the fastest.
 */
#include "sim/engine/heap.h"

#include <assert.h>
#include <stdlib.h>

int sim_heap_init(sim_heap *h, size_t cap_hint)
{
    h->cap = cap_hint < 16 ? 16 : cap_hint;
    h->len = 0;
    h->ev = malloc(h->cap * sizeof *h->ev);
    return h->ev ? 0 : -1;
}

void sim_heap_fini(sim_heap *h)
{
    free(h->ev);
    h->ev = NULL;
    h->len = h->cap = 0;
}

static void sift_down(sim_heap *h, size_t i, sim_event ev)
{
    sim_event *a = h->ev;
    size_t n = h->len;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= n)
            break;
        /* The smaller child, chosen without a branch. */
        c += (size_t)((c + 1 < n) & sim_event_before(&a[c + 1], &a[c]));
        if (!sim_event_before(&a[c], &ev))
            break;
        a[i] = a[c];
        i = c;
    }
    a[i] = ev;
}

int sim_heap_push(sim_heap *h, sim_event ev)
{
    if (h->len == h->cap) {
        size_t cap = h->cap * 2;
        sim_event *p = realloc(h->ev, cap * sizeof *p);
        if (p == NULL)
            return -1;
        h->ev = p;
        h->cap = cap;
    }
    sim_event *a = h->ev;
    size_t i = h->len++;
    while (i > 0) {
        size_t parent = (i - 1) / SIM_HEAP_ARITY;
        if (!sim_event_before(&ev, &a[parent]))
            break;
        a[i] = a[parent];
        i = parent;
    }
    a[i] = ev;
    return 0;
}

bool sim_heap_pop(sim_heap *h, sim_event *out)
{
    if (h->len == 0)
        return false;
    *out = h->ev[0];
    h->len--;
    if (h->len > 0)
        sift_down(h, 0, h->ev[h->len]);
    return true;
}

void sim_heap_replace_top(sim_heap *h, sim_event ev, sim_event *out)
{
    assert(h->len > 0);
    *out = h->ev[0];
    sift_down(h, 0, ev);
}

bool sim_heap_check(const sim_heap *h)
{
    for (size_t i = 1; i < h->len; i++)
        if (sim_event_before(&h->ev[i], &h->ev[(i - 1) / SIM_HEAP_ARITY]))
            return false;
    return true;
}
