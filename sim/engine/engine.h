/*
 * engine: the discrete-event core: a clock and a pending-event set.
 *
 * A model schedules events with sim_engine_schedule() and runs the loop
 *     while (sim_engine_next(&e, &ev)) handle(ev);
 * Invariants: the clock never goes backwards (an event may not be scheduled in the past),
 * and events with equal times fire in the order they were scheduled.
 *
 * The caller owns the sim_engine struct (init/fini). An engine holds no global state, so
 * any number of simulations can run side by side.
 */
#ifndef CAPSIM_ENGINE_H
#define CAPSIM_ENGINE_H

#include "sim/engine/heap.h"

typedef struct sim_engine {
    sim_heap pending;
    double now_s;      /* simulated time of the event being handled, seconds */
    uint64_t next_seq; /* sequence number for the next scheduled event */
    uint64_t n_events; /* events delivered so far */
} sim_engine;

/* Returns 0, or -1 if out of memory. cap_hint is the expected number of pending events. */
int sim_engine_init(sim_engine *e, size_t cap_hint);
void sim_engine_fini(sim_engine *e);

/* Back to time 0 with nothing pending and no events counted, keeping the memory: the
 * start of another replication. */
void sim_engine_reset(sim_engine *e);

/* Schedules an event at absolute time time_s >= now, with stamp 0. Returns 0, or -1 if
 * out of memory. */
int sim_engine_schedule(sim_engine *e, double time_s, uint32_t kind, uint32_t id);

/* The same with a stamp that the model reads back from the delivered event (for example
 * to recognise an event that a later one has replaced). */
int sim_engine_schedule_stamped(sim_engine *e, double time_s, uint32_t kind, uint32_t id,
                                uint32_t stamp);

/* Delivers the earliest pending event and advances the clock to it. Returns false when
 * nothing is pending. */
bool sim_engine_next(sim_engine *e, sim_event *out);

#endif
