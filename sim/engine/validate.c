/*
 * validate: known-answer cases for the queueing mode (see validate.h).
 *
 * Every exact value comes from sim/engine/theory.c at run time; nothing here is a typed-in
 * expected number. Each case names the queue in Kendall notation, its parameters and the
 * threshold t of the tail check P(W > t).
 */
#include "sim/engine/validate.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/engine/queue.h"
#include "sim/base/stats.h"
#include "sim/engine/theory.h"
#include "sim/base/progress.h"
#include "sim/base/util.h"

typedef enum model { M_MMC, M_MD1, M_MG1_GAMMA, M_MMCK, M_BULK } model;

typedef struct vcase {
    const char *name;
    model kind;
    double lambda; /* arrivals per second */
    double mean_s; /* mean service time per service, seconds */
    double scv;    /* squared cv of service (M/G/1) */
    int servers;
    int capacity; /* M/M/c/K: K */
    int batch;    /* bulk: K */
    double t;     /* tail threshold, seconds */
    uint64_t customers;
    uint32_t replications;
} vcase;

/* Run lengths are chosen so that every interval is a few percent of its figure: heavy
 * traffic (rho 0.9) needs longer runs because waits are strongly autocorrelated. */
static const vcase CASES[] = {
    {"M/M/1 rho=0.5", M_MMC, 0.5, 1.0, 1.0, 1, 0, 1, 1.0, 200000, 20},
    {"M/M/1 rho=0.9", M_MMC, 0.9, 1.0, 1.0, 1, 0, 1, 5.0, 1000000, 20},
    {"M/M/2 rho=0.8", M_MMC, 1.6, 1.0, 1.0, 2, 0, 1, 1.0, 200000, 20},
    {"M/M/8 rho=0.85", M_MMC, 6.8, 1.0, 1.0, 8, 0, 1, 0.5, 400000, 20},
    {"M/M/32 rho=0.9", M_MMC, 28.8, 1.0, 1.0, 32, 0, 1, 0.1, 1000000, 20},
    {"M/D/1 rho=0.7", M_MD1, 0.7, 1.0, 0.0, 1, 0, 1, 1.0, 200000, 20},
    {"M/G/1 gamma cv2=4 rho=0.7", M_MG1_GAMMA, 0.7, 1.0, 4.0, 1, 0, 1, NAN, 400000, 20},
    {"M/G/1 gamma cv2=0.25 rho=0.7", M_MG1_GAMMA, 0.7, 1.0, 0.25, 1, 0, 1, NAN, 200000, 20},
    {"M/M/3/6 a=3", M_MMCK, 3.0, 1.0, 1.0, 3, 6, 1, 0.5, 200000, 20},
    {"M/M^[4]/1 rho=0.75", M_BULK, 3.0, 1.0, 1.0, 1, 0, 4, 1.0, 200000, 20},
};

static int exact_answer(const vcase *c, theory_answer *a)
{
    double mu = 1.0 / c->mean_s;
    switch (c->kind) {
    case M_MMC:
        return theory_mmc(c->lambda, mu, c->servers, c->t, a);
    case M_MD1:
        return theory_md1(c->lambda, c->mean_s, c->t, a);
    case M_MG1_GAMMA:
        return theory_mg1(c->lambda, c->mean_s, c->scv, 0.0, a);
    case M_MMCK:
        return theory_mmck(c->lambda, mu, c->servers, c->capacity, c->t, a);
    case M_BULK:
        return theory_mm_bulk(c->lambda, mu, c->batch, c->t, a);
    }
    return -1;
}

static int service_of(const vcase *c, dist *d, char *err, size_t errlen)
{
    switch (c->kind) {
    case M_MD1:
        return dist_make("det", c->mean_s, 0, d, err, errlen);
    case M_MG1_GAMMA:
        return dist_make("gamma", c->mean_s, sqrt(c->scv), d, err, errlen);
    default:
        return dist_make("exp", c->mean_s, 0, d, err, errlen);
    }
}

typedef struct check {
    const char *metric;
    queue_metric m;
    double exact;
} check;

static void print_check(FILE *out, const char *name, const check *k, stats_ci sim, int pass)
{
    fprintf(out, "%-30s %-16s %12.6g %12.6g %11.3g  %s\n", name, k->metric, k->exact, sim.mean,
            sim.half_width, pass ? "PASS" : "FAIL");
}

int validate_run(const validate_options *opt, FILE *out, validate_summary *sum, char *err,
                 size_t errlen)
{
    memset(sum, 0, sizeof *sum);
    fprintf(out,
            "capsim validate: simulated queues against exact queueing theory "
            "(master seed %llu)\n",
            (unsigned long long)opt->seed);
    fprintf(out, "PASS when the exact value lies in the simulation's 99.9%% Student-t "
                 "interval; the table shows the 95%% half-width.\n\n");
    fprintf(out, "%-30s %-16s %12s %12s %11s  %s\n", "case", "metric", "exact", "simulated",
            "+-95% CI", "verdict");
    fflush(out); /* the head before the work, and each case's rows as it ends */
    uint64_t n_cases = 0;
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++)
        n_cases += !opt->only || strstr(CASES[i].name, opt->only) != NULL;
    progress pr;
    progress_start(&pr, "capsim validate", "cases", n_cases);
    for (size_t i = 0; i < sizeof CASES / sizeof CASES[0]; i++) {
        const vcase *c = &CASES[i];
        if (opt->only && strstr(c->name, opt->only) == NULL)
            continue;
        theory_answer exact;
        if (exact_answer(c, &exact) != 0) {
            util_errf(err, errlen, "case %s: theory rejected its parameters", c->name);
            return -1;
        }
        char spec_text[64];
        snprintf(spec_text, sizeof spec_text, "poisson:rate=%.17g", c->lambda);
        arrival_process arr;
        dist service;
        if (arrival_parse(spec_text, &arr, err, errlen) != 0)
            return -1;
        if (service_of(c, &service, err, errlen) != 0)
            return -1;
        uint64_t customers = (uint64_t)((double)c->customers * opt->scale);
        queue_config cfg = {
            .arrivals = &arr,
            .service = &service,
            .servers = (uint32_t)c->servers,
            .capacity = (uint64_t)c->capacity,
            .batch = (uint32_t)c->batch,
            .customers = customers < 1000 ? 1000 : customers,
            .replications = c->replications,
            .warmup_fraction = 0.1,
            .tail_t_s = isfinite(c->t) ? c->t : 0.0,
            /* Each case gets its own master seed so that adding a case does not change the
             * streams of the others. */
            .seed = opt->seed * 1000003u + i,
        };
        queue_result res;
        int rc = queue_run(&cfg, &res, err, errlen);
        arrival_fini(&arr);
        dist_fini(&service);
        if (rc != 0)
            return -1;
        check checks[6];
        char tail_label[32];
        int n = 0;
        checks[n++] = (check){"mean_wait", QM_MEAN_WAIT, exact.mean_wait};
        checks[n++] = (check){"prob_wait", QM_PROB_WAIT, exact.prob_wait};
        if (isfinite(c->t) && isfinite(exact.prob_wait_gt_t)) {
            snprintf(tail_label, sizeof tail_label, "P(W>%g)", c->t);
            checks[n++] = (check){tail_label, QM_PROB_WAIT_GT_T, exact.prob_wait_gt_t};
        }
        checks[n++] = (check){"utilization", QM_UTILIZATION, exact.utilization};
        checks[n++] = (check){"mean_in_system", QM_MEAN_IN_SYSTEM, exact.mean_in_system};
        if (c->kind == M_MMCK)
            checks[n++] = (check){"blocked_fraction", QM_BLOCKED, exact.blocked_fraction};
        double widen = stats_t_critical(0.999, (double)c->replications - 1) /
                       stats_t_critical(0.95, (double)c->replications - 1);
        for (int k = 0; k < n; k++) {
            stats_ci sim = res.metric[checks[k].m];
            int pass =
                isfinite(sim.mean) && fabs(sim.mean - checks[k].exact) <= sim.half_width * widen;
            print_check(out, c->name, &checks[k], sim, pass);
            sum->n_checks++;
            sum->n_failed += !pass;
        }
        queue_result_fini(&res);
        sum->n_cases++;
        fflush(out);
        progress_show(&pr, (uint64_t)sum->n_cases);
    }
    progress_finish(&pr);
    fprintf(out, "\n%d cases, %d checks: %d passed, %d failed\n", sum->n_cases, sum->n_checks,
            sum->n_checks - sum->n_failed, sum->n_failed);
    return 0;
}
