/*
 * rng: random number streams and their seeds.
 *
 * Every (replication, random source) pair gets its own GSL generator with a seed derived
 * from one master seed, so that runs are reproducible, replications are independent, and
 * changing one source (say, the service times) does not shift another (the arrivals).
 *
 * The generator is GSL's taus2 (L'Ecuyer's maximally equidistributed combined Tausworthe,
 * period 2^88): as good as MT19937 for simulation, faster per draw, and its state is
 * 24 bytes, so the serving simulation can save and restore it cheaply when it rewinds a
 * decode stretch (MT19937's is 5 KB). taus2 seeds from the low 32 bits of the seed and
 * maps 0 to a default, so derived seeds are checked to be non-zero and distinct in those
 * 32 bits; a clash is resolved by re-mixing, deterministically.
 *
 * Also here: the GSL error handler, so that a GSL failure is reported and returned as a
 * status rather than aborting the program.
 */
#ifndef CAPSIM_RNG_H
#define CAPSIM_RNG_H

#include <stddef.h>
#include <stdint.h>

#include <gsl/gsl_rng.h>

/* Fills seeds[rep * n_sources + src] for rep < n_reps, src < n_sources with seeds derived
 * from master. Every seed is in [1, 2^32 - 1] and all are distinct. Returns 0, or -1 if
 * the count exceeds what can be made distinct (more than 2^31 streams). */
int sim_seeds_derive(uint64_t master, size_t n_reps, size_t n_sources, unsigned long *seeds);

/* A seed for item index of a family (sweep point, ...) derived from master: well mixed,
 * the same whatever else is computed. */
uint64_t sim_seed_mix(uint64_t master, uint64_t index);

/* Creates a generator seeded with seed. Returns NULL if out of memory. Free with
 * gsl_rng_free(). */
gsl_rng *sim_rng_create(unsigned long seed);

/* Installs capsim's GSL error handler: it prints one line to stderr and returns, so the
 * GSL function reports its error code to its caller. Call once at program start. */
void sim_gsl_install_handler(void);

#endif
