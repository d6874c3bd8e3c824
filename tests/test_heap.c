/*
 * test_heap: the pending-event heap and the engine built on it.
 *
 * The heap must give back events in (time, seq) order whatever the push order, keep its
 * invariant after every operation, and treat replace_top exactly as pop followed by push.
 * The engine must never move its clock backwards and must fire equal times in scheduling
 * order. Every random test uses a fixed GSL seed and compares against a simple reference
 * (qsort, or a linear scan for the minimum).
 */
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "sim/engine/engine.h"
#include "sim/engine/heap.h"
#include "tests/check.h"

static gsl_rng *make_rng(unsigned long seed)
{
    gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
    gsl_rng_set(r, seed);
    return r;
}

static sim_event ev_at(double time_s, uint64_t seq, uint32_t kind, uint32_t id)
{
    return (sim_event){.time_s = time_s, .seq = seq, .kind = kind, .id = id};
}

/* The reference order, written on the doubles directly rather than through
 * sim_event_before (which compares bit patterns). */
static bool ref_before(const sim_event *a, const sim_event *b)
{
    return a->time_s < b->time_s || (a->time_s == b->time_s && a->seq < b->seq);
}

static int cmp_event(const void *pa, const void *pb)
{
    const sim_event *a = pa, *b = pb;
    return ref_before(a, b) ? -1 : ref_before(b, a) ? 1 : 0;
}

static bool same_event(const sim_event *a, const sim_event *b)
{
    return a->time_s == b->time_s && a->seq == b->seq && a->kind == b->kind && a->id == b->id;
}

/* A random time from a small set, so that many events share a time and the sequence
 * number has to break the tie. */
static double coarse_time(gsl_rng *r)
{
    return (double)gsl_rng_uniform_int(r, 200) * 0.25;
}

static void test_heap_matches_qsort(void)
{
    enum { N = 5000 };
    gsl_rng *r = make_rng(12345);
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 64) == 0))
        return;
    /* Sequence numbers are a shuffled permutation, so push order is not (time, seq) order
     * even among equal times. */
    uint64_t *seqs = malloc(N * sizeof *seqs);
    sim_event *ref = malloc(N * sizeof *ref);
    for (uint64_t i = 0; i < N; i++)
        seqs[i] = i;
    gsl_ran_shuffle(r, seqs, N, sizeof *seqs);
    for (uint32_t i = 0; i < N; i++) {
        sim_event ev = ev_at(coarse_time(r), seqs[i], i % 3, i);
        ref[i] = ev;
        CHECK(sim_heap_push(&h, ev) == 0);
    }
    CHECK_EQ_U64(sim_heap_len(&h), N);
    CHECK(sim_heap_check(&h));
    qsort(ref, N, sizeof *ref, cmp_event);

    size_t mismatches = 0, order_breaks = 0;
    sim_event prev = ev_at(0, 0, 0, 0), ev;
    for (size_t i = 0; i < N; i++) {
        if (!CHECK(sim_heap_pop(&h, &ev)))
            break;
        mismatches += !same_event(&ev, &ref[i]);
        if (i > 0 && !ref_before(&prev, &ev))
            order_breaks++;
        prev = ev;
    }
    CHECK_EQ_U64(mismatches, 0);
    CHECK_EQ_U64(order_breaks, 0);
    CHECK_EQ_U64(sim_heap_len(&h), 0);
    CHECK(!sim_heap_pop(&h, &ev));
    CHECK(sim_heap_peek(&h) == NULL);
    free(seqs);
    free(ref);
    sim_heap_fini(&h);
    gsl_rng_free(r);
}

/* Times across the whole range of non-negative doubles (zero, subnormals, tiny and huge
 * values), so an ordering that compares bit patterns is checked against the doubles. */
static void test_heap_wide_time_range(void)
{
    enum { N = 5000 };
    gsl_rng *r = make_rng(31);
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 16) == 0))
        return;
    sim_event *ref = malloc(N * sizeof *ref);
    const double specials[] = {0.0, 4.9e-324, 2.2250738585072014e-308, 1e-300,
                               1.0, 1e300,    1.7976931348623157e308};
    for (uint32_t i = 0; i < N; i++) {
        double t =
            i % 7 == 0 ? specials[gsl_rng_uniform_int(r, 7)] : gsl_ran_lognormal(r, 0.0, 100.0);
        ref[i] = ev_at(t, i, 0, i);
        sim_heap_push(&h, ref[i]);
    }
    qsort(ref, N, sizeof *ref, cmp_event);
    size_t mismatches = 0;
    sim_event ev;
    for (size_t i = 0; i < N && sim_heap_pop(&h, &ev); i++)
        mismatches += !same_event(&ev, &ref[i]);
    CHECK_EQ_U64(mismatches, 0);
    CHECK_EQ_U64(sim_heap_len(&h), 0);
    free(ref);
    sim_heap_fini(&h);
    gsl_rng_free(r);
}

static void test_heap_peek_is_next_pop(void)
{
    gsl_rng *r = make_rng(7);
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 16) == 0))
        return;
    for (uint32_t i = 0; i < 300; i++)
        sim_heap_push(&h, ev_at(coarse_time(r), i, 0, i));
    size_t bad = 0;
    while (sim_heap_len(&h) > 0) {
        sim_event peeked = *sim_heap_peek(&h), popped;
        sim_heap_pop(&h, &popped);
        bad += !same_event(&peeked, &popped);
    }
    CHECK_EQ_U64(bad, 0);
    sim_heap_fini(&h);
    gsl_rng_free(r);
}

static void test_heap_equal_times_fifo(void)
{
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 4) == 0))
        return;
    /* 100 events at one time, pushed in scheduling order, then 100 at an earlier time
     * pushed with later sequence numbers: the earlier time comes first, and within each
     * time the sequence order holds. */
    for (uint32_t i = 0; i < 100; i++)
        sim_heap_push(&h, ev_at(2.0, i, 0, i));
    for (uint32_t i = 100; i < 200; i++)
        sim_heap_push(&h, ev_at(1.0, i, 0, i));
    size_t bad = 0;
    sim_event ev;
    for (uint32_t k = 0; k < 200; k++) {
        sim_heap_pop(&h, &ev);
        uint32_t want_id = k < 100 ? 100 + k : k - 100;
        double want_t = k < 100 ? 1.0 : 2.0;
        bad += ev.id != want_id || ev.time_s != want_t;
    }
    CHECK_EQ_U64(bad, 0);

    /* Same again with sequence numbers pushed in reverse: the seq order still wins. */
    for (uint32_t i = 0; i < 50; i++)
        sim_heap_push(&h, ev_at(3.0, 49 - i, 0, 49 - i));
    bad = 0;
    for (uint32_t k = 0; k < 50; k++) {
        sim_heap_pop(&h, &ev);
        bad += ev.seq != k;
    }
    CHECK_EQ_U64(bad, 0);
    sim_heap_fini(&h);
}

/* The minimum of ref[0..n) under (time, seq), by linear scan. */
static size_t ref_min(const sim_event *ref, size_t n)
{
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (ref_before(&ref[i], &ref[best]))
            best = i;
    return best;
}

static void test_heap_random_mix_invariant(void)
{
    enum { OPS = 20000, MAXN = 4000 };
    gsl_rng *r = make_rng(2024);
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 16) == 0))
        return;
    sim_event *ref = malloc(MAXN * sizeof *ref);
    size_t n = 0, check_fails = 0, pop_mismatch = 0, len_mismatch = 0;
    uint64_t seq = 0;
    for (int op = 0; op < OPS; op++) {
        /* Pushes slightly favoured, so the heap grows and shrinks through many sizes. */
        int do_push = n == 0 || (n < MAXN && gsl_rng_uniform(r) < 0.55);
        if (do_push) {
            sim_event ev = ev_at(coarse_time(r), seq++, 1, (uint32_t)op);
            sim_heap_push(&h, ev);
            ref[n++] = ev;
        } else {
            sim_event got;
            size_t m = ref_min(ref, n);
            if (!sim_heap_pop(&h, &got) || !same_event(&got, &ref[m]))
                pop_mismatch++;
            ref[m] = ref[--n];
        }
        check_fails += !sim_heap_check(&h);
        len_mismatch += sim_heap_len(&h) != n;
    }
    CHECK_EQ_U64(check_fails, 0);
    CHECK_EQ_U64(pop_mismatch, 0);
    CHECK_EQ_U64(len_mismatch, 0);
    free(ref);
    sim_heap_fini(&h);
    gsl_rng_free(r);
}

/* sim_heap_check must be able to fail, or the tests above prove nothing. */
static void test_heap_check_detects_violation(void)
{
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 16) == 0))
        return;
    for (uint32_t i = 0; i < 20; i++)
        sim_heap_push(&h, ev_at((double)i, i, 0, i));
    CHECK(sim_heap_check(&h));
    sim_event tmp = h.ev[0];
    h.ev[0] = h.ev[h.len - 1];
    h.ev[h.len - 1] = tmp;
    CHECK(!sim_heap_check(&h));
    h.ev[h.len - 1] = h.ev[0];
    h.ev[0] = tmp;
    CHECK(sim_heap_check(&h));
    /* Equal times with the sequence order inverted between parent and child. */
    h.len = 0;
    sim_heap_push(&h, ev_at(1.0, 5, 0, 0));
    sim_heap_push(&h, ev_at(1.0, 6, 0, 0));
    CHECK(sim_heap_check(&h));
    h.ev[1].seq = 4;
    CHECK(!sim_heap_check(&h));
    sim_heap_fini(&h);
}

static void test_heap_replace_top_is_pop_push(void)
{
    enum { FILL = 1000, STEPS = 10000 };
    gsl_rng *r = make_rng(99);
    sim_heap a, b;
    if (!CHECK(sim_heap_init(&a, 16) == 0) || !CHECK(sim_heap_init(&b, 16) == 0))
        return;
    uint64_t seq = 0;
    for (int i = 0; i < FILL; i++) {
        sim_event ev = ev_at(coarse_time(r), seq++, 0, (uint32_t)i);
        sim_heap_push(&a, ev);
        sim_heap_push(&b, ev);
    }
    size_t out_mismatch = 0, check_fails = 0;
    for (int i = 0; i < STEPS; i++) {
        /* New times sometimes before the current top, sometimes equal, mostly later. */
        double t = sim_heap_peek(&a)->time_s + (double)gsl_rng_uniform_int(r, 40) * 0.25 - 1.0;
        if (t < 0)
            t = 0;
        sim_event ev = ev_at(t, seq++, 2, (uint32_t)(FILL + i));
        sim_event out_a, out_b;
        sim_heap_replace_top(&a, ev, &out_a);
        sim_heap_pop(&b, &out_b);
        sim_heap_push(&b, ev);
        out_mismatch += !same_event(&out_a, &out_b);
        check_fails += !sim_heap_check(&a);
    }
    CHECK_EQ_U64(out_mismatch, 0);
    CHECK_EQ_U64(check_fails, 0);
    CHECK_EQ_U64(sim_heap_len(&a), FILL);
    CHECK_EQ_U64(sim_heap_len(&b), FILL);
    size_t drain_mismatch = 0;
    sim_event ea, eb;
    while (sim_heap_pop(&a, &ea)) {
        if (!sim_heap_pop(&b, &eb) || !same_event(&ea, &eb))
            drain_mismatch++;
    }
    CHECK_EQ_U64(drain_mismatch, 0);
    CHECK_EQ_U64(sim_heap_len(&b), 0);

    /* A replacement earlier than everything is the next event out. */
    sim_heap_push(&a, ev_at(5.0, 1, 0, 1));
    sim_heap_push(&a, ev_at(6.0, 2, 0, 2));
    sim_event out;
    sim_heap_replace_top(&a, ev_at(0.5, 3, 0, 3), &out);
    CHECK_EQ_U64(out.id, 1);
    CHECK_EQ_U64(sim_heap_peek(&a)->id, 3);
    sim_heap_fini(&a);
    sim_heap_fini(&b);
    gsl_rng_free(r);
}

static void test_heap_growth(void)
{
    enum { N = 10000 };
    sim_heap h;
    if (!CHECK(sim_heap_init(&h, 0) == 0))
        return;
    CHECK_GE(h.cap, 16);
    size_t initial_cap = h.cap;
    /* Descending times: every push sifts to the root, the worst case for the array. */
    for (uint32_t i = 0; i < N; i++)
        CHECK(sim_heap_push(&h, ev_at((double)(N - i), i, 0, i)) == 0);
    CHECK_EQ_U64(sim_heap_len(&h), N);
    CHECK(h.cap >= N);
    CHECK(h.cap > initial_cap);
    CHECK(sim_heap_check(&h));
    size_t bad = 0;
    sim_event ev;
    for (uint32_t k = 0; k < N; k++) {
        sim_heap_pop(&h, &ev);
        bad += ev.time_s != (double)(k + 1);
    }
    CHECK_EQ_U64(bad, 0);
    sim_heap_fini(&h);
}

static void test_engine_clock_and_count(void)
{
    enum { TARGET = 50000 };
    gsl_rng *r = make_rng(4242);
    sim_engine e;
    if (!CHECK(sim_engine_init(&e, 8) == 0))
        return;
    CHECK_EQ_DBL(e.now_s, 0.0);
    for (uint32_t i = 0; i < 10; i++)
        sim_engine_schedule(&e, gsl_ran_exponential(r, 1.0), 0, i);
    sim_event ev, prev = ev_at(0, 0, 0, 0);
    uint64_t delivered = 0, scheduled = 10;
    size_t clock_back = 0, now_mismatch = 0, order_breaks = 0;
    while (sim_engine_next(&e, &ev)) {
        delivered++;
        clock_back += ev.time_s < prev.time_s;
        now_mismatch += e.now_s != ev.time_s;
        /* (time, seq) strictly increases: equal times come out in scheduling order. */
        order_breaks += delivered > 1 && !ref_before(&prev, &ev);
        prev = ev;
        if (scheduled < TARGET) {
            /* One event in five is scheduled at the current time, a tie with whatever is
             * already pending now. */
            double delay = gsl_rng_uniform(r) < 0.2 ? 0.0 : gsl_ran_exponential(r, 1.0);
            sim_engine_schedule(&e, e.now_s + delay, 1, (uint32_t)scheduled);
            scheduled++;
        }
    }
    CHECK_EQ_U64(delivered, TARGET);
    CHECK_EQ_U64(e.n_events, TARGET);
    CHECK_EQ_U64(clock_back, 0);
    CHECK_EQ_U64(now_mismatch, 0);
    CHECK_EQ_U64(order_breaks, 0);
    /* An empty engine delivers nothing and leaves clock and count alone. */
    double now = e.now_s;
    CHECK(!sim_engine_next(&e, &ev));
    CHECK_EQ_DBL(e.now_s, now);
    CHECK_EQ_U64(e.n_events, TARGET);
    sim_engine_fini(&e);
    gsl_rng_free(r);
}

static void test_engine_ties_fifo(void)
{
    sim_engine e;
    if (!CHECK(sim_engine_init(&e, 2) == 0))
        return;
    for (uint32_t i = 0; i < 5; i++)
        sim_engine_schedule(&e, 1.0, 0, i);
    for (uint32_t i = 10; i < 13; i++)
        sim_engine_schedule(&e, 0.5, 0, i);
    /* Expected order: the three at 0.5, the five at 1.0, then the one scheduled at 1.0
     * while handling the first event at 1.0 (it is the latest scheduled). */
    const uint32_t want[] = {10, 11, 12, 0, 1, 2, 3, 4, 99};
    size_t n = 0;
    sim_event ev;
    while (sim_engine_next(&e, &ev)) {
        if (n < sizeof want / sizeof want[0])
            CHECK_EQ_U64(ev.id, want[n]);
        if (ev.id == 0)
            sim_engine_schedule(&e, e.now_s, 0, 99);
        n++;
    }
    CHECK_EQ_U64(n, sizeof want / sizeof want[0]);
    CHECK_EQ_U64(e.n_events, n);
    CHECK_EQ_DBL(e.now_s, 1.0);
    sim_engine_fini(&e);
}

static void test_engine_negative_zero(void)
{
    /* -0.0 equals 0.0, so an event scheduled at -0.0 is a tie with those at 0.0 and must
     * fire in scheduling order, not after every other event. */
    sim_engine e;
    if (!CHECK(sim_engine_init(&e, 4) == 0))
        return;
    sim_engine_schedule(&e, 0.0, 0, 0);
    sim_engine_schedule(&e, -0.0, 0, 1);
    sim_engine_schedule(&e, 1.0, 0, 3);
    sim_engine_schedule(&e, 0.0, 0, 2);
    sim_event ev;
    for (uint32_t want = 0; want < 4 && sim_engine_next(&e, &ev); want++)
        CHECK_EQ_U64(ev.id, want);
    CHECK_EQ_U64(e.n_events, 4);
    sim_engine_fini(&e);
}

/* A reset engine is a fresh one: time 0, nothing pending, nothing counted, and the
 * sequence numbers start again (so ties resolve as in a fresh engine). Stamps come back
 * with their events. */
static void test_engine_reset_and_stamps(void)
{
    sim_engine e;
    if (!CHECK(sim_engine_init(&e, 4) == 0))
        return;
    sim_event ev;
    CHECK_EQ_INT(sim_engine_schedule_stamped(&e, 2.0, 1, 7, 42), 0);
    CHECK_EQ_INT(sim_engine_schedule(&e, 3.0, 1, 8), 0);
    CHECK(sim_engine_next(&e, &ev));
    CHECK_EQ_U64(ev.stamp, 42);
    CHECK_EQ_U64(ev.id, 7);
    sim_engine_reset(&e);
    CHECK_EQ_U64(e.n_events, 0);
    CHECK_EQ_U64(e.next_seq, 0);
    CHECK_EQ_U64(sim_heap_len(&e.pending), 0);
    CHECK(e.now_s == 0.0);
    CHECK_EQ_INT(sim_engine_schedule(&e, 1.0, 0, 1), 0); /* earlier than before the reset */
    CHECK_EQ_INT(sim_engine_schedule_stamped(&e, 1.0, 0, 2, 9), 0);
    CHECK(sim_engine_next(&e, &ev));
    CHECK_EQ_U64(ev.id, 1);
    CHECK_EQ_U64(ev.stamp, 0);
    CHECK(sim_engine_next(&e, &ev));
    CHECK_EQ_U64(ev.id, 2);
    CHECK_EQ_U64(ev.stamp, 9);
    CHECK(!sim_engine_next(&e, &ev));
    CHECK_EQ_U64(e.n_events, 2);
    sim_engine_fini(&e);
}

TEST_MAIN(TEST(test_heap_matches_qsort), TEST(test_heap_wide_time_range),
          TEST(test_heap_peek_is_next_pop), TEST(test_heap_equal_times_fifo),
          TEST(test_heap_random_mix_invariant), TEST(test_heap_check_detects_violation),
          TEST(test_heap_replace_top_is_pop_push), TEST(test_heap_growth),
          TEST(test_engine_clock_and_count), TEST(test_engine_ties_fifo),
          TEST(test_engine_negative_zero), TEST(test_engine_reset_and_stamps))
