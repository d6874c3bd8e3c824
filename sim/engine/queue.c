/*
 * queue: G/G/c/K with bulk service on the event engine (see queue.h).
 *
 * Invariants while a replication runs:
 *   - if anyone waits, every server is busy (a free server takes waiting customers at
 *     once), so the waiting line is in arrival order and FCFS holds across servers;
 *   - n_in_system = waiting + customers in the batches in service <= capacity (if set).
 * A customer's wait and sojourn are known when its service starts (the service time is
 * drawn then), so departures only need the size of the batch that leaves.
 */
#include "sim/engine/queue.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine/engine.h"
#include "sim/base/histo.h"
#include "sim/base/ring.h"
#include "sim/base/rng.h"
#include "sim/base/util.h"

const char *const queue_metric_names[QM_COUNT] = {
    "mean_wait", "p50_wait",       "p90_wait",         "p99_wait",
    "prob_wait", "prob_wait_gt_t", "mean_sojourn",     "mean_in_system",
    "lambda_w",  "utilization",    "blocked_fraction", "throughput",
};

const char *const queue_metric_units[QM_COUNT] = {
    "s", "s",         "s",         "s",        "fraction", "fraction",
    "s", "customers", "customers", "fraction", "fraction", "customers/s",
};

enum { EV_ARRIVAL = 0, EV_DEPARTURE = 1 };

typedef struct waiting {
    double arrival_s;
    uint64_t index; /* arrival number within the replication */
} waiting;

/* State and accumulators of one replication. */
typedef struct rep {
    const queue_config *cfg;
    sim_engine eng;
    gsl_rng *rng_arrival, *rng_service;
    arrival_state arrival; /* the arrival stream of this replication */
    sim_ring waiting_line; /* of waiting, in arrival order */
    histo waits;
    uint64_t warm; /* customers with index < warm are warm-up */
    uint64_t n_in_system;
    uint32_t busy;         /* servers busy */
    double t_start, t_end; /* measurement window; +inf until known */
    double last_t;
    double area_n, area_busy;
    uint64_t n_arrived, n_entered, n_blocked, n_served, n_departed;
    uint64_t n_waited, n_waited_gt_t;
    double sum_wait, sum_sojourn;
} rep;

/* Adds the time since the last event, clipped to the measurement window, to the
 * time-average integrals. */
static void advance(rep *s, double now)
{
    double lo = s->last_t > s->t_start ? s->last_t : s->t_start;
    double hi = now < s->t_end ? now : s->t_end;
    if (hi > lo) {
        s->area_n += (double)s->n_in_system * (hi - lo);
        s->area_busy += (double)s->busy * (hi - lo);
    }
    s->last_t = now;
}

/* A free server takes up to `batch` customers from the head of the line. */
static int start_service(rep *s, double now)
{
    uint32_t b = 0;
    double service_s = dist_sample(s->cfg->service, s->rng_service);
    while (b < s->cfg->batch && s->waiting_line.len > 0) {
        waiting w = *(const waiting *)sim_ring_front(&s->waiting_line);
        sim_ring_pop(&s->waiting_line);
        b++;
        if (w.index < s->warm)
            continue;
        double wait = now - w.arrival_s;
        s->n_served++;
        s->sum_wait += wait;
        s->sum_sojourn += wait + service_s;
        s->n_waited += wait > 0.0;
        s->n_waited_gt_t += wait > s->cfg->tail_t_s;
        histo_add(&s->waits, wait);
    }
    s->busy++;
    return sim_engine_schedule(&s->eng, now + service_s, EV_DEPARTURE, b);
}

static int on_arrival(rep *s, double now)
{
    uint64_t idx = s->n_arrived++;
    if (idx == s->warm)
        s->t_start = now;
    if (idx == s->cfg->customers) {
        s->t_end = now; /* the arrival after the last customer closes the window */
        return 0;
    }
    if (sim_engine_schedule(&s->eng, arrival_next(s->cfg->arrivals, &s->arrival, s->rng_arrival),
                            EV_ARRIVAL, 0) != 0)
        return -1;
    uint64_t measured = idx >= s->warm;
    if (s->cfg->capacity != 0 && s->n_in_system >= s->cfg->capacity) {
        s->n_blocked += measured;
        return 0;
    }
    s->n_entered += measured;
    s->n_in_system++;
    waiting w = {now, idx};
    if (sim_ring_push(&s->waiting_line, &w, 0) != 0)
        return -1;
    if (s->busy < s->cfg->servers)
        return start_service(s, now);
    return 0;
}

static int on_departure(rep *s, double now, uint32_t batch)
{
    s->busy--;
    s->n_in_system -= batch;
    if (now >= s->t_start && now < s->t_end)
        s->n_departed += batch;
    if (s->waiting_line.len > 0)
        return start_service(s, now);
    return 0;
}

/* Runs replication r, writing its figures into out[QM_COUNT]. */
static int run_one(rep *s, const unsigned long *seeds, double *out)
{
    const queue_config *cfg = s->cfg;
    gsl_rng_set(s->rng_arrival, seeds[0]);
    gsl_rng_set(s->rng_service, seeds[1]);
    sim_engine_reset(&s->eng);
    sim_ring_clear(&s->waiting_line);
    histo_reset(&s->waits);
    s->warm = (uint64_t)floor(cfg->warmup_fraction * (double)cfg->customers);
    s->n_in_system = 0;
    s->busy = 0;
    s->t_start = s->t_end = INFINITY;
    s->last_t = 0.0;
    s->area_n = s->area_busy = 0.0;
    s->n_arrived = s->n_entered = s->n_blocked = s->n_served = s->n_departed = 0;
    s->n_waited = s->n_waited_gt_t = 0;
    s->sum_wait = s->sum_sojourn = 0.0;

    arrival_start(cfg->arrivals, &s->arrival, s->rng_arrival);
    if (sim_engine_schedule(&s->eng, arrival_next(cfg->arrivals, &s->arrival, s->rng_arrival),
                            EV_ARRIVAL, 0) != 0)
        return -1;
    sim_event ev;
    while (sim_engine_next(&s->eng, &ev)) {
        advance(s, ev.time_s);
        int rc =
            ev.kind == EV_ARRIVAL ? on_arrival(s, ev.time_s) : on_departure(s, ev.time_s, ev.id);
        if (rc != 0)
            return -1;
    }
    assert(s->n_in_system == 0 && s->busy == 0);

    double window = s->t_end - s->t_start;
    double served = (double)s->n_served;
    double offered = (double)(s->n_entered + s->n_blocked);
    out[QM_MEAN_WAIT] = served > 0 ? s->sum_wait / served : NAN;
    out[QM_P50_WAIT] = histo_quantile(&s->waits, 0.50);
    out[QM_P90_WAIT] = histo_quantile(&s->waits, 0.90);
    out[QM_P99_WAIT] = histo_quantile(&s->waits, 0.99);
    out[QM_PROB_WAIT] = served > 0 ? (double)s->n_waited / served : NAN;
    out[QM_PROB_WAIT_GT_T] = served > 0 ? (double)s->n_waited_gt_t / served : NAN;
    out[QM_MEAN_SOJOURN] = served > 0 ? s->sum_sojourn / served : NAN;
    out[QM_MEAN_IN_SYSTEM] = window > 0 ? s->area_n / window : NAN;
    out[QM_LAMBDA_W] =
        window > 0 && served > 0 ? (double)s->n_entered / window * (s->sum_sojourn / served) : NAN;
    out[QM_UTILIZATION] = window > 0 ? s->area_busy / (window * cfg->servers) : NAN;
    out[QM_BLOCKED] = offered > 0 ? (double)s->n_blocked / offered : NAN;
    out[QM_THROUGHPUT] = window > 0 ? (double)s->n_departed / window : NAN;
    return 0;
}

double queue_offered_load(const queue_config *cfg)
{
    return cfg->arrivals->rate_per_s * cfg->service->mean /
           ((double)cfg->servers * (double)cfg->batch);
}

static int check_config(const queue_config *cfg, char *err, size_t errlen)
{
    if (cfg->servers < 1 || cfg->batch < 1 || cfg->replications < 1) {
        util_errf(err, errlen, "servers, batch and replications must be at least 1");
        return -1;
    }
    if (cfg->capacity != 0 && cfg->capacity < cfg->servers) {
        util_errf(err, errlen,
                  "capacity %llu is below the %u servers (capacity counts customers in "
                  "service too)",
                  (unsigned long long)cfg->capacity, cfg->servers);
        return -1;
    }
    if (!(cfg->warmup_fraction >= 0.0 && cfg->warmup_fraction < 1.0)) {
        util_errf(err, errlen, "warm-up fraction %g is outside [0, 1)", cfg->warmup_fraction);
        return -1;
    }
    uint64_t warm = (uint64_t)floor(cfg->warmup_fraction * (double)cfg->customers);
    if (cfg->customers < 1 || warm >= cfg->customers) {
        util_errf(err, errlen, "no customers left to measure after the warm-up (%llu of %llu)",
                  (unsigned long long)warm, (unsigned long long)cfg->customers);
        return -1;
    }
    if (cfg->batch > UINT32_MAX / 2) {
        util_errf(err, errlen, "batch %u is too large", cfg->batch);
        return -1;
    }
    return 0;
}

int queue_run(const queue_config *cfg, queue_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (check_config(cfg, err, errlen) != 0)
        return -1;
    size_t reps = cfg->replications;
    res->n_seeds = reps * QUEUE_SOURCES;
    res->seeds = malloc(res->n_seeds * sizeof *res->seeds);
    res->per_rep = malloc(reps * QM_COUNT * sizeof *res->per_rep);
    rep s;
    memset(&s, 0, sizeof s);
    s.cfg = cfg;
    sim_ring_init(&s.waiting_line, sizeof(waiting));
    int ok = res->seeds && res->per_rep && sim_engine_init(&s.eng, 2u * cfg->servers + 4) == 0 &&
             histo_init(&s.waits) == 0 && (s.rng_arrival = sim_rng_create(1)) != NULL &&
             (s.rng_service = sim_rng_create(1)) != NULL &&
             sim_seeds_derive(cfg->seed, reps, QUEUE_SOURCES, res->seeds) == 0;
    double row[QM_COUNT];
    for (size_t r = 0; ok && r < reps; r++) {
        ok = run_one(&s, res->seeds + r * QUEUE_SOURCES, row) == 0;
        if (!ok)
            break;
        for (size_t m = 0; m < QM_COUNT; m++)
            res->per_rep[m * reps + r] = row[m];
        res->events += s.eng.n_events;
        res->customers_measured += s.n_entered + s.n_blocked;
    }
    sim_engine_fini(&s.eng);
    histo_fini(&s.waits);
    sim_ring_fini(&s.waiting_line);
    if (s.rng_arrival)
        gsl_rng_free(s.rng_arrival);
    if (s.rng_service)
        gsl_rng_free(s.rng_service);
    if (!ok) {
        queue_result_fini(res);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t m = 0; m < QM_COUNT; m++)
        res->metric[m] = stats_ci95(res->per_rep + m * reps, reps);
    res->little_checked = reps >= 2;
    res->little_ok = stats_ci_overlap(res->metric[QM_MEAN_IN_SYSTEM], res->metric[QM_LAMBDA_W]);
    return 0;
}

void queue_result_fini(queue_result *res)
{
    free(res->per_rep);
    free(res->seeds);
    res->per_rep = NULL;
    res->seeds = NULL;
}
