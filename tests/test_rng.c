/*
 * test_rng: seed derivation and generator reproducibility.
 *
 * Derived seeds must be usable by the generator (non-zero, below 2^32), all distinct, a pure
 * function of the master seed, and stable when more replications are asked for: the seed
 * of (rep, src) must not depend on how many replications follow it.
 */
#include <stdlib.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>

#include "sim/base/rng.h"
#include "tests/check.h"

enum { REPS = 1000, SOURCES = 5, N_SEEDS = REPS * SOURCES };

static const uint64_t MASTERS[] = {0, 1, UINT64_MAX};
#define N_MASTERS (sizeof MASTERS / sizeof MASTERS[0])

static int cmp_ulong(const void *pa, const void *pb)
{
    unsigned long a = *(const unsigned long *)pa, b = *(const unsigned long *)pb;
    return (a > b) - (a < b);
}

/* Number of adjacent equal pairs in a sorted copy of s[0..n). */
static size_t count_duplicates(const unsigned long *s, size_t n)
{
    unsigned long *sorted = malloc(n * sizeof *sorted);
    memcpy(sorted, s, n * sizeof *sorted);
    qsort(sorted, n, sizeof *sorted, cmp_ulong);
    size_t dup = 0;
    for (size_t i = 1; i < n; i++)
        dup += sorted[i] == sorted[i - 1];
    free(sorted);
    return dup;
}

static void test_seeds_valid_and_distinct(void)
{
    unsigned long *s = malloc(N_SEEDS * sizeof *s);
    for (size_t m = 0; m < N_MASTERS; m++) {
        for (size_t i = 0; i < N_SEEDS; i++)
            s[i] = 0xdeadbeefUL; /* so an unwritten slot shows up as a duplicate */
        CHECK_EQ_INT(sim_seeds_derive(MASTERS[m], REPS, SOURCES, s), 0);
        size_t zero = 0, too_big = 0;
        for (size_t i = 0; i < N_SEEDS; i++) {
            zero += s[i] == 0;
            too_big += s[i] > 0xffffffffUL;
        }
        CHECK_EQ_U64(zero, 0);
        CHECK_EQ_U64(too_big, 0);
        CHECK_EQ_U64(count_duplicates(s, N_SEEDS), 0);
    }
    free(s);
}

static void test_seeds_deterministic(void)
{
    unsigned long *a = malloc(N_SEEDS * sizeof *a), *b = malloc(N_SEEDS * sizeof *b);
    for (size_t m = 0; m < N_MASTERS; m++) {
        sim_seeds_derive(MASTERS[m], REPS, SOURCES, a);
        sim_seeds_derive(MASTERS[m], REPS, SOURCES, b);
        CHECK(memcmp(a, b, N_SEEDS * sizeof *a) == 0);
    }
    free(a);
    free(b);
}

static void test_seeds_differ_between_masters(void)
{
    unsigned long *a = malloc(N_SEEDS * sizeof *a), *b = malloc(N_SEEDS * sizeof *b);
    /* Neighbouring masters and the extremes: no stream should coincide position by
     * position (a chance match has probability about 5000 / 2^32). */
    const uint64_t pairs[][2] = {{0, 1}, {1, 2}, {0, UINT64_MAX}, {41, 42}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        sim_seeds_derive(pairs[p][0], REPS, SOURCES, a);
        sim_seeds_derive(pairs[p][1], REPS, SOURCES, b);
        size_t same = 0;
        for (size_t i = 0; i < N_SEEDS; i++)
            same += a[i] == b[i];
        CHECK_EQ_U64(same, 0);
    }
    free(a);
    free(b);
}

static void test_seeds_prefix_stable(void)
{
    /* Re-mixing a clash only looks at earlier positions, so a prefix is the same whatever
     * the total count: asking for more replications never changes the first ones. */
    unsigned long *big = malloc(N_SEEDS * sizeof *big);
    unsigned long small[7 * SOURCES], one[SOURCES];
    for (size_t m = 0; m < N_MASTERS; m++) {
        sim_seeds_derive(MASTERS[m], REPS, SOURCES, big);
        sim_seeds_derive(MASTERS[m], 7, SOURCES, small);
        sim_seeds_derive(MASTERS[m], 1, SOURCES, one);
        CHECK(memcmp(big, small, sizeof small) == 0);
        CHECK(memcmp(big, one, sizeof one) == 0);
    }
    free(big);
}

static void test_seeds_depend_on_rep_and_source_only(void)
{
    /* With fewer sources per replication the layout changes, but the seed of (rep, src)
     * must not (no clash is expected among 100 seeds of 32 bits). */
    unsigned long five[20 * 5], two[20 * 2];
    for (size_t m = 0; m < N_MASTERS; m++) {
        sim_seeds_derive(MASTERS[m], 20, 5, five);
        sim_seeds_derive(MASTERS[m], 20, 2, two);
        size_t differ = 0;
        for (size_t rep = 0; rep < 20; rep++)
            for (size_t src = 0; src < 2; src++)
                differ += five[rep * 5 + src] != two[rep * 2 + src];
        CHECK_EQ_U64(differ, 0);
    }
}

static void test_seeds_too_many(void)
{
    unsigned long buf[4] = {0};
    CHECK_EQ_INT(sim_seeds_derive(1, ((size_t)1 << 31) + 1, 1, buf), -1);
    CHECK_EQ_INT(sim_seeds_derive(1, SIZE_MAX, 2, buf), -1); /* the product overflows */
    CHECK_EQ_INT(sim_seeds_derive(1, 0, 5, buf), 0);         /* nothing to do is fine */
}

/* Past about 65,000 streams some raw 32-bit seeds clash (birthday bound), so the clash
 * path runs: 400,000 streams must still come out distinct and non-zero, quickly. */
static void test_seeds_clash_resolved(void)
{
    size_t n = 400000;
    unsigned long *s = malloc(n * sizeof *s);
    CHECK_EQ_INT(sim_seeds_derive(7, n / 2, 2, s), 0);
    CHECK_EQ_U64(count_duplicates(s, n), 0);
    size_t zeros = 0, big = 0;
    for (size_t i = 0; i < n; i++) {
        zeros += s[i] == 0;
        big += s[i] > 0xffffffffUL;
    }
    CHECK_EQ_U64(zeros, 0);
    CHECK_EQ_U64(big, 0);
    free(s);
}

static void test_rng_reproducible(void)
{
    unsigned long seeds[2 * 3];
    sim_seeds_derive(7, 2, 3, seeds);
    for (size_t k = 0; k < 6; k++) {
        gsl_rng *a = sim_rng_create(seeds[k]), *b = sim_rng_create(seeds[k]);
        if (!CHECK(a != NULL && b != NULL))
            return;
        size_t differ = 0;
        for (int i = 0; i < 10000; i++)
            differ += gsl_rng_get(a) != gsl_rng_get(b);
        CHECK_EQ_U64(differ, 0);
        gsl_rng_free(a);
        gsl_rng_free(b);
    }
    /* Two different derived seeds give different streams. */
    gsl_rng *a = sim_rng_create(seeds[0]), *b = sim_rng_create(seeds[1]);
    size_t same = 0;
    for (int i = 0; i < 1000; i++)
        same += gsl_rng_get(a) == gsl_rng_get(b);
    CHECK_LE(same, 2);
    gsl_rng_free(a);
    gsl_rng_free(b);
}

static void test_gsl_handler_does_not_abort(void)
{
    /* GSL's default handler aborts; once capsim's is installed an invalid call reports
     * and returns its error instead. */
    sim_gsl_install_handler();
    fprintf(stderr, "(an expected GSL error message follows)\n");
    const double bad_probabilities[2] = {-1.0, 1.0};
    gsl_ran_discrete_t *t = gsl_ran_discrete_preproc(2, bad_probabilities);
    CHECK(t == NULL);
    if (t != NULL)
        gsl_ran_discrete_free(t);
}

TEST_MAIN(TEST(test_seeds_valid_and_distinct), TEST(test_seeds_deterministic),
          TEST(test_seeds_differ_between_masters), TEST(test_seeds_prefix_stable),
          TEST(test_seeds_depend_on_rep_and_source_only), TEST(test_seeds_too_many),
          TEST(test_rng_reproducible), TEST(test_gsl_handler_does_not_abort),
          TEST(test_seeds_clash_resolved))
