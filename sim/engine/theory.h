/*
 * theory.h - exact steady-state answers of classic queues, used to validate the simulator.
 *
 * Every number returned here is computed from a closed-form or exactly summed formula, so a
 * simulation run can be compared against it without any typed-in reference values.
 *
 * Conventions:
 *   - Rates (lambda, mu) are per unit time and times (t, d, mean_s) are in the same unit;
 *     the unit is whatever the caller uses (seconds by convention).
 *   - Waiting time Wq is the time from arrival until service starts; the sojourn time is
 *     Wq plus the customer's own service time.  Wait statistics are those of customers who
 *     enter the system (blocked arrivals of a finite-capacity queue are excluded).
 *   - Service is FCFS.  The time t at which the wait tail P(Wq > t) is evaluated must be
 *     finite and >= 0.
 *   - Functions returning int give 0 on success and -1 if a parameter is invalid or the
 *     queue is unstable; on failure *out is left untouched.
 *   - Nothing here keeps state between calls, so every function is safe to call from
 *     several threads at once.
 */
#ifndef CAPSIM_SIM_THEORY_H
#define CAPSIM_SIM_THEORY_H

typedef struct theory_answer {
    double mean_wait;      /* E[Wq] of customers who enter (not blocked) */
    double prob_wait;      /* P(Wq > 0) of entering customers */
    double prob_wait_gt_t; /* P(Wq > t) of entering customers at the t passed in; NAN where no
                              closed form is implemented */
    double mean_sojourn;   /* E[Wq] + E[S] */
    double utilization; /* time-average fraction of servers busy (bulk queue: fraction of time the
                           single server is busy) */
    double blocked_fraction; /* fraction of arrivals refused (0 without a capacity limit) */
    double throughput;       /* customers completed per unit time = lambda * (1 - blocked) */
    double mean_in_system;   /* L, time-average number in system (queue + service) */
} theory_answer;

/*
 * Erlang C: the probability that an arrival must wait in M/M/c with offered load
 * a = lambda / mu, 0 < a < c.  Returns NAN if c < 1 or a is outside (0, c).
 * Computed with the Erlang B recursion, which is stable for large c (thousands of servers).
 */
double theory_erlang_c(int c, double a);

/* M/M/c (c = 1 gives M/M/1).  Needs lambda > 0, mu > 0, c >= 1 and lambda < c mu. */
int theory_mmc(double lambda, double mu, int c, double t, theory_answer *out);

/*
 * M/M/c/K with K >= c the total capacity (in service plus waiting).  Stable for any
 * lambda > 0.  Arrivals finding K customers present are refused (blocked_fraction = p_K by
 * PASTA).
 */
int theory_mmck(double lambda, double mu, int c, int k, double t, theory_answer *out);

/*
 * M/D/1 with constant service time d.  Needs lambda > 0, d > 0 and lambda d < 1.  The wait
 * tail is exact and summed from positive terms only (Erlang's alternating formula loses all
 * precision as t / d grows); it costs O(t / d) and is NAN only when t / d exceeds 10^6.
 */
int theory_md1(double lambda, double d, double t, theory_answer *out);

/*
 * M/G/1 with service mean mean_s and squared coefficient of variation scv >= 0
 * (Pollaczek-Khinchine).  Needs lambda mean_s < 1.  prob_wait_gt_t is always NAN because the
 * tail depends on more than the first two moments of the service time.
 */
int theory_mg1(double lambda, double mean_s, double scv, double t, theory_answer *out);

/*
 * M/M^[K]/1 bulk service (the model of static batching): a single server takes up to K
 * waiting customers at once in FCFS order, a batch's service time is exponential with rate
 * mu whatever its size, an arrival to an empty idle system starts service alone at once, and
 * arrivals during a service wait for a later batch.  Needs lambda > 0, mu > 0, K >= 1 and
 * lambda < K mu.  K = 1 is exactly M/M/1.
 */
int theory_mm_bulk(double lambda, double mu, int k, double t, theory_answer *out);

#endif /* CAPSIM_SIM_THEORY_H */
