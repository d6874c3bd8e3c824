/*
 * rng: seed derivation and the GSL error handler (see rng.h).
 */
#include "sim/base/rng.h"

#include <stdio.h>
#include <stdlib.h>

#include <gsl/gsl_errno.h>

/* SplitMix64 finaliser: a bijection on 64-bit words with good avalanche, so nearby
 * inputs (replication 3 and 4) give unrelated outputs. */
static uint64_t mix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct seed_slot {
    unsigned long seed;
    size_t index;
} seed_slot;

static int cmp_slot(const void *a, const void *b)
{
    const seed_slot *x = a, *y = b;
    if (x->seed != y->seed)
        return (x->seed > y->seed) - (x->seed < y->seed);
    return (x->index > y->index) - (x->index < y->index);
}

int sim_seeds_derive(uint64_t master, size_t n_reps, size_t n_sources, unsigned long *seeds)
{
    size_t n = n_reps * n_sources;
    if (n_sources != 0 && n / n_sources != n_reps)
        return -1;
    if (n > ((size_t)1 << 31))
        return -1;
    for (size_t rep = 0; rep < n_reps; rep++) {
        for (size_t src = 0; src < n_sources; src++) {
            uint64_t h = mix64(mix64(master) ^ mix64(((uint64_t)rep << 16) ^ (uint64_t)src));
            seeds[rep * n_sources + src] = (unsigned long)(h & 0xffffffffULL);
        }
    }
    /* Sort (seed, index) pairs; wherever a seed is zero or equals its predecessor, re-mix
     * the later stream (by index) and sort again, until all are distinct. Each pass is
     * O(n log n) and clashes are rare (birthday bound: about n^2 / 2^33), so this ends in
     * a pass or two. Earlier streams keep their seeds, so a run with more replications
     * reproduces the first ones unless a clash falls on them. */
    seed_slot *slot = malloc((n ? n : 1) * sizeof *slot);
    if (slot == NULL)
        return -1;
    for (int pass = 0;; pass++) {
        for (size_t i = 0; i < n; i++)
            slot[i] = (seed_slot){seeds[i], i};
        qsort(slot, n, sizeof *slot, cmp_slot);
        int clash = 0;
        for (size_t i = 0; i < n; i++) {
            if (slot[i].seed != 0 && (i == 0 || slot[i].seed != slot[i - 1].seed))
                continue;
            size_t k = slot[i].index;
            seeds[k] = (unsigned long)(mix64(seeds[k] + k + 1 + (uint64_t)pass) & 0xffffffffULL);
            clash = 1;
        }
        if (!clash)
            break;
    }
    free(slot);
    return 0;
}

uint64_t sim_seed_mix(uint64_t master, uint64_t index)
{
    return mix64(mix64(master) ^ mix64(index + 0x5eedULL)) >> 1; /* keep it below 2^63 */
}

gsl_rng *sim_rng_create(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_taus2);
    if (r != NULL)
        gsl_rng_set(r, seed);
    return r;
}

static void report_gsl_error(const char *reason, const char *file, int line, int gsl_errno)
{
    fprintf(stderr, "capsim: GSL error %d (%s) at %s:%d: %s\n", gsl_errno, gsl_strerror(gsl_errno),
            file, line, reason);
}

void sim_gsl_install_handler(void)
{
    gsl_set_error_handler(report_gsl_error);
}
