/*
 * dist: random variates from a text spec, for service times, think times, token lengths
 * and the step-time noise.
 *
 *   exp:mean=M                  exponential, mean M
 *   det:value=V                 always V
 *   lognormal:mean=M,cv=C       lognormal with mean M and coefficient of variation C
 *   gamma:mean=M,cv=C           gamma with mean M and coefficient of variation C
 *   empirical:file=F            resampled uniformly from the numbers in the first column
 *                               of CSV file F (an optional header line is skipped)
 *
 * Each kind is one row of a table of function pointers (dist.c), so a new distribution
 * is one setup function, one sampler and one row.
 *
 * The caller owns the dist struct; dist_parse() may allocate (empirical values), which
 * dist_fini() frees. A dist is read-only after parsing, so several simulations may sample
 * it at once, each with its own generator.
 */
#ifndef CAPSIM_DIST_H
#define CAPSIM_DIST_H

#include <stddef.h>

#include <gsl/gsl_rng.h>

typedef struct dist dist;

/* The widest spread and the largest value a spec may give. A lognormal or gamma with a cv
 * beyond DIST_MAX_CV has moments that overflow (cv^2 past 1e308 for cv ~ 1e154) or draws
 * that are all 0 but for rare huge ones (a gamma of shape 1/cv^2), so that every figure
 * drawn from it is meaningless; values beyond DIST_MAX_VALUE (seconds or tokens) are not
 * what any workload means and make times overflow. Both are refused at parse time. */
#define DIST_MAX_CV    100.0
#define DIST_MAX_VALUE 1e12

typedef struct dist_kind {
    const char *name;
    const char *form; /* the expected text, for messages: "gamma:mean=M,cv=C" */
    double (*sample)(const dist *d, gsl_rng *r);
} dist_kind;

struct dist {
    const dist_kind *kind;
    double mean;    /* mean of the distribution */
    double scv;     /* squared coefficient of variation, variance / mean^2 */
    double p1, p2;  /* kind-specific parameters (lognormal mu and sigma, gamma shape and scale) */
    double *values; /* empirical: the sample, owned */
    size_t n_values;
    char text[256]; /* the spec as given, for output */
};

/* Parses text into *d. On failure returns -1 with a one-line message naming the bad part
 * and the expected form, and *d holds nothing to free. */
int dist_parse(const char *text, dist *d, char *err, size_t errlen);

/* Builds a distribution directly (no text): kind "exp", "det", "lognormal" or "gamma"
 * with the given mean and cv (cv ignored for exp and det). Returns -1 on bad parameters. */
int dist_make(const char *kind, double mean, double cv, dist *d, char *err, size_t errlen);

static inline double dist_sample(const dist *d, gsl_rng *r)
{
    return d->kind->sample(d, r);
}

void dist_fini(dist *d);

/* The forms of every kind, one per line, for --help. */
const char *dist_forms(void);

#endif
