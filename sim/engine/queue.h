/*
 * queue: the G/G/c/K queueing mode, with optional bulk service (each server takes up to
 * `batch` waiting customers at once and serves them together in one service time, the
 * queueing model of static batching).
 *
 * Customers are served first come, first served. A customer who finds `capacity`
 * customers in the system (waiting plus in service) is blocked and lost. Each replication
 * starts empty, offers `customers` arrivals, deletes the first warmup_fraction of them
 * from every statistic (the warm-up), and drains. Time-average figures (utilisation,
 * number in system, throughput) cover the window from the first measured arrival to the
 * arrival after the last customer.
 *
 * Random sources per replication: 0 = arrivals, 1 = service times; their seeds come from
 * sim_seeds_derive(seed, replications, 2).
 */
#ifndef CAPSIM_QUEUE_H
#define CAPSIM_QUEUE_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/dist.h"
#include "sim/base/stats.h"
#include "workloads/arrival.h"

#define QUEUE_SOURCES 2

typedef struct queue_config {
    const arrival_process *arrivals; /* borrowed */
    const dist *service;             /* seconds per service (per batch); borrowed */
    uint32_t servers;                /* c >= 1 */
    uint64_t capacity;               /* K: most customers in the system; 0 = unlimited */
    uint32_t batch;                  /* most customers served together; 1 = ordinary queue */
    uint64_t customers;              /* arrivals per replication, warm-up included */
    uint32_t replications;           /* independent replications, >= 1 */
    double warmup_fraction;          /* share of arrivals deleted as warm-up, in [0, 1) */
    double tail_t_s;                 /* threshold t of the tail probability P(W > t) */
    uint64_t seed;                   /* master seed */
} queue_config;

/* Figures reported per replication and summarised with a 95% CI. The names are the
 * summary.csv column names. */
typedef enum queue_metric {
    QM_MEAN_WAIT, /* mean time in queue of entering customers, s */
    QM_P50_WAIT,  /* percentiles of time in queue, s */
    QM_P90_WAIT,
    QM_P99_WAIT,
    QM_PROB_WAIT,      /* fraction of entering customers who wait at all */
    QM_PROB_WAIT_GT_T, /* fraction who wait longer than tail_t_s */
    QM_MEAN_SOJOURN,   /* mean time in system (queue + service), s */
    QM_MEAN_IN_SYSTEM, /* L: time-average number in system */
    QM_LAMBDA_W,       /* lambda * W: entering rate times mean sojourn (Little's law) */
    QM_UTILIZATION,    /* time-average fraction of servers busy */
    QM_BLOCKED,        /* fraction of arrivals refused */
    QM_THROUGHPUT,     /* completions per second */
    QM_COUNT
} queue_metric;

extern const char *const queue_metric_names[QM_COUNT];
extern const char *const queue_metric_units[QM_COUNT];

typedef struct queue_result {
    stats_ci metric[QM_COUNT];
    double *per_rep;      /* per_rep[m * replications + r]; owned */
    unsigned long *seeds; /* seeds[r * QUEUE_SOURCES + source]; owned */
    size_t n_seeds;
    int little_checked;          /* 1 if Little's law could be checked (2+ replications) */
    int little_ok;               /* 1 if L and lambda*W agree within their CIs */
    uint64_t events;             /* events processed over all replications */
    uint64_t customers_measured; /* over all replications */
} queue_result;

/* Offered load per server slot: lambda E[S] / (servers * batch). Below 1 a queue without
 * a capacity limit is stable. */
double queue_offered_load(const queue_config *cfg);

/* Runs every replication. Returns 0 and fills *res (free with queue_result_fini), or -1
 * with a message (bad configuration, out of memory); then *res holds nothing to free. */
int queue_run(const queue_config *cfg, queue_result *res, char *err, size_t errlen);

void queue_result_fini(queue_result *res);

#endif
