/*
 * engine: clock plus pending-event heap (see engine.h).
 */
#include "sim/engine/engine.h"

#include <assert.h>

int sim_engine_init(sim_engine *e, size_t cap_hint)
{
    e->now_s = 0.0;
    e->next_seq = 0;
    e->n_events = 0;
    return sim_heap_init(&e->pending, cap_hint);
}

void sim_engine_reset(sim_engine *e)
{
    e->now_s = 0.0;
    e->next_seq = 0;
    e->n_events = 0;
    sim_heap_clear(&e->pending);
}

void sim_engine_fini(sim_engine *e)
{
    sim_heap_fini(&e->pending);
}

int sim_engine_schedule_stamped(sim_engine *e, double time_s, uint32_t kind, uint32_t id,
                                uint32_t stamp)
{
    assert(time_s >= e->now_s); /* also false for NaN */
    /* Adding +0.0 turns -0.0 into +0.0, whose bit pattern orders correctly. */
    sim_event ev = {
        .time_s = time_s + 0.0, .seq = e->next_seq++, .kind = kind, .id = id, .stamp = stamp};
    return sim_heap_push(&e->pending, ev);
}

int sim_engine_schedule(sim_engine *e, double time_s, uint32_t kind, uint32_t id)
{
    return sim_engine_schedule_stamped(e, time_s, kind, id, 0);
}

bool sim_engine_next(sim_engine *e, sim_event *out)
{
    if (!sim_heap_pop(&e->pending, out))
        return false;
    assert(out->time_s >= e->now_s);
    e->now_s = out->time_s;
    e->n_events++;
    return true;
}
