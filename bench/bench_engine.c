/*
 * bench_engine: speed of the event engine. Prints figures; never part of the tests.
 *
 *  (a) the hold model: a heap kept at N pending events; each step removes the earliest
 *      and schedules a new one an exponential time later (Vaucher & Duval's classic
 *      benchmark of pending-event sets). Reports events per second of wall time.
 *  (b) an M/M/8 queue at offered load 0.9 with 10^6 customers through the queueing mode,
 *      with all its statistics. Reports events and customers per second.
 *
 * usage: bench_engine [--pending N] [--hold-events M] [--customers C]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <gsl/gsl_randist.h>

#include "sim/engine/engine.h"
#include "sim/engine/queue.h"
#include "sim/base/rng.h"

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int bench_hold(size_t pending, uint64_t steps)
{
    sim_engine e;
    gsl_rng *r = sim_rng_create(12345);
    if (r == NULL || sim_engine_init(&e, pending) != 0)
        return -1;
    for (size_t i = 0; i < pending; i++)
        sim_engine_schedule(&e, gsl_ran_exponential(r, 1.0), 0, (uint32_t)i);
    double t0 = wall_s();
    sim_event ev;
    for (uint64_t k = 0; k < steps; k++) {
        /* Pop and push in one sift, as a model does when an event schedules its successor. */
        sim_event next = {.time_s = e.pending.ev[0].time_s + gsl_ran_exponential(r, 1.0),
                          .seq = e.next_seq++,
                          .kind = 0,
                          .id = e.pending.ev[0].id};
        sim_heap_replace_top(&e.pending, next, &ev);
        e.now_s = ev.time_s;
    }
    double dt = wall_s() - t0;
    printf("hold model: %zu pending, %llu events in %.3f s: %.3g events/s\n", pending,
           (unsigned long long)steps, dt, (double)steps / dt);

    /* Where the time goes: the heap alone (increments drawn beforehand, cycled) and the
     * exponential variate alone. */
    size_t n_inc = 1u << 16;
    double *inc = malloc(n_inc * sizeof *inc);
    if (inc == NULL)
        return -1;
    for (size_t i = 0; i < n_inc; i++)
        inc[i] = gsl_ran_exponential(r, 1.0);
    t0 = wall_s();
    for (uint64_t k = 0; k < steps; k++) {
        sim_event next = {.time_s = e.pending.ev[0].time_s + inc[k & (n_inc - 1)],
                          .seq = e.next_seq++,
                          .kind = 0,
                          .id = e.pending.ev[0].id};
        sim_heap_replace_top(&e.pending, next, &ev);
    }
    dt = wall_s() - t0;
    free(inc);
    printf("  of which the heap alone: %.1f ns/event (%.3g events/s)\n", 1e9 * dt / (double)steps,
           (double)steps / dt);
    double acc = 0;
    t0 = wall_s();
    for (uint64_t k = 0; k < steps; k++)
        acc += gsl_ran_exponential(r, 1.0);
    dt = wall_s() - t0;
    printf("  and gsl_ran_exponential (taus2) alone: %.1f ns/variate (sum %.6g)\n",
           1e9 * dt / (double)steps, acc);

    /* The same through the general pop + push path, for comparison. */
    t0 = wall_s();
    for (uint64_t k = 0; k < steps; k++) {
        sim_engine_next(&e, &ev);
        sim_engine_schedule(&e, ev.time_s + gsl_ran_exponential(r, 1.0), 0, ev.id);
    }
    dt = wall_s() - t0;
    printf("hold model (pop then push): %zu pending, %llu events in %.3f s: %.3g events/s\n",
           pending, (unsigned long long)steps, dt, (double)steps / dt);
    sim_engine_fini(&e);
    gsl_rng_free(r);
    return 0;
}

static int bench_mm8(uint64_t customers)
{
    char err[256];
    arrival_process arr;
    dist svc;
    if (arrival_parse("poisson:rate=7.2", &arr, err, sizeof err) != 0 ||
        dist_parse("exp:mean=1", &svc, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    queue_config cfg = {.arrivals = &arr,
                        .service = &svc,
                        .servers = 8,
                        .batch = 1,
                        .customers = customers,
                        .replications = 1,
                        .warmup_fraction = 0.1,
                        .tail_t_s = 1.0,
                        .seed = 1};
    queue_result res;
    double t0 = wall_s();
    if (queue_run(&cfg, &res, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    double dt = wall_s() - t0;
    printf("M/M/8 rho=0.9: %llu customers, %llu events in %.3f s: %.3g events/s, "
           "%.3g customers/s (mean wait %.4g s)\n",
           (unsigned long long)customers, (unsigned long long)res.events, dt,
           (double)res.events / dt, (double)customers / dt, res.metric[QM_MEAN_WAIT].mean);
    queue_result_fini(&res);
    arrival_fini(&arr);
    dist_fini(&svc);
    return 0;
}

int main(int argc, char **argv)
{
    size_t pending = 1000;
    uint64_t steps = 20000000, customers = 1000000;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (strcmp(argv[i], "--pending") == 0)
            pending = (size_t)strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--hold-events") == 0)
            steps = strtoull(argv[i + 1], NULL, 10);
        else if (strcmp(argv[i], "--customers") == 0)
            customers = strtoull(argv[i + 1], NULL, 10);
    }
    sim_gsl_install_handler();
    if (bench_hold(pending, steps) != 0 || bench_mm8(customers) != 0)
        return 1;
    return 0;
}
