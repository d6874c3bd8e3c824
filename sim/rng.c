/*
 * rng: seed derivation and the GSL error handler (see rng.h).
 */
#include "sim/rng.h"

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

static int cmp_ulong(const void *a, const void *b)
{
    unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;
    return (x > y) - (x < y);
}

/* True if seeds[0..n) already holds s. Linear, but only used on the rare clash path. */
static int seen(const unsigned long *seeds, size_t n, unsigned long s)
{
    for (size_t i = 0; i < n; i++)
        if (seeds[i] == s)
            return 1;
    return 0;
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
    /* Check distinctness on a sorted copy; only if a clash or a zero exists, walk the
     * seeds in order and re-mix the offenders until each is new. */
    unsigned long *sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (sorted == NULL)
        return -1;
    for (size_t i = 0; i < n; i++)
        sorted[i] = seeds[i];
    qsort(sorted, n, sizeof *sorted, cmp_ulong);
    int clash = n > 0 && sorted[0] == 0;
    for (size_t i = 1; i < n && !clash; i++)
        clash = sorted[i] == sorted[i - 1];
    free(sorted);
    if (clash) {
        for (size_t i = 0; i < n; i++) {
            uint64_t h = seeds[i];
            while (seeds[i] == 0 || seen(seeds, i, seeds[i])) {
                h = mix64(h + i + 1);
                seeds[i] = (unsigned long)(h & 0xffffffffULL);
            }
        }
    }
    return 0;
}

gsl_rng *sim_rng_create(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
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
