/*
 * arrival: the table of arrival processes and the spec parser (see arrival.h).
 *
 * Each kind is a setup (reads its keys from the parsed spec into the arrival_process), a
 * start (sets a stream's state at time 0) and a next (the time of the stream's next
 * arrival). The renewal kinds share one start and one next that add a draw of the
 * inter-arrival distribution to the clock, exactly as arrival_next_gap() does, so their
 * random streams are the ones they always were.
 *
 * The other kinds rely on the exponential distribution being memoryless: when a state
 * (mmpp) or a rate (steps) changes before the drawn arrival, the draw is discarded and a
 * fresh one made from the change. Diurnal arrivals are the candidates of a Poisson
 * process at the peak rate, each kept with probability rate(t) / peak (Lewis and
 * Shedler's thinning).
 */
#include "workloads/arrival.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "sim/base/spec.h"
#include "sim/base/util.h"

#define ARRIVAL_TWO_PI 6.283185307179586476925286766559

struct arrival_kind {
    const char *name;
    const char *form;            /* the expected text, for messages */
    const char *const *allowed;  /* keys, NULL-terminated */
    const char *const *required; /* keys that must be given, NULL-terminated */
    int (*setup)(const spec *s, arrival_process *a, char *err, size_t errlen);
    void (*start)(const arrival_process *a, arrival_state *st, gsl_rng *r);
    double (*next)(const arrival_process *a, arrival_state *st, gsl_rng *r);
};

/* --- renewal processes: poisson, deterministic, gamma, weibull ---------------------------- */

/* The start of every process whose state is only its clock. */
static void start_clock(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    (void)a;
    (void)r;
    memset(st, 0, sizeof *st);
}

static double next_renewal(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    st->t_s += dist_sample(&a->interarrival, r);
    return st->t_s;
}

/* Reads rate (and cv when has_cv) and makes the gap distribution of kind gap_kind. */
static int setup_dist(const spec *s, arrival_process *a, const char *gap_kind, int has_cv,
                      char *err, size_t errlen)
{
    const char *form = a->kind->form;
    double rate = 0, cv = 1;
    if (spec_number(s, "rate", SPEC_POSITIVE, 0, 0, &rate, form, err, errlen) != 0 ||
        (has_cv && spec_number(s, "cv", SPEC_POSITIVE, 0, 0, &cv, form, err, errlen) != 0))
        return -1;
    if (!(rate >= ARRIVAL_MIN_RATE && rate <= ARRIVAL_MAX_RATE)) {
        util_errf(err, errlen,
                  "'%s': rate %g req/s is outside the range that works, %g to %g "
                  "req/s (expected %s)",
                  s->text, rate, ARRIVAL_MIN_RATE, ARRIVAL_MAX_RATE, form);
        return -1;
    }
    if (dist_make(gap_kind, 1.0 / rate, cv, &a->interarrival, err, errlen) != 0)
        return -1;
    a->rate_per_s = rate;
    a->renewal = 1;
    return 0;
}

static int setup_poisson(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    return setup_dist(s, a, "exp", 0, err, errlen);
}

static int setup_deterministic(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    return setup_dist(s, a, "det", 0, err, errlen);
}

static int setup_gamma(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    return setup_dist(s, a, "gamma", 1, err, errlen);
}

/* Weibull gaps: p1 is the scale, p2 the shape. */
static double sample_weibull(const dist *d, gsl_rng *r)
{
    return gsl_ran_weibull(r, d->p1, d->p2);
}

static const dist_kind DIST_WEIBULL = {"weibull", "weibull:rate=R,shape=K", sample_weibull};

static int setup_weibull(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    const char *form = a->kind->form;
    double rate = 0, shape = 1;
    if (spec_number(s, "rate", SPEC_POSITIVE, 0, 0, &rate, form, err, errlen) != 0 ||
        spec_number(s, "shape", SPEC_POSITIVE, 0, 0, &shape, form, err, errlen) != 0)
        return -1;
    /* The mean gap is scale * Gamma(1 + 1/K); the second moment scale^2 Gamma(1 + 2/K).
     * Logarithms keep small shapes from overflowing until the moments themselves do. */
    double lg1 = lgamma(1.0 + 1.0 / shape), lg2 = lgamma(1.0 + 2.0 / shape);
    double scale = exp(-log(rate) - lg1);
    double scv = expm1(lg2 - 2.0 * lg1);
    if (!(isfinite(scale) && scale > 0 && isfinite(scv))) {
        util_errf(err, errlen,
                  "'%s': shape %g gives gaps too spread out to represent (expected %s with K "
                  "of about 0.01 or more)",
                  s->text, shape, form);
        return -1;
    }
    dist *d = &a->interarrival;
    d->kind = &DIST_WEIBULL;
    d->mean = 1.0 / rate;
    d->scv = scv;
    d->p1 = scale;
    d->p2 = shape;
    snprintf(d->text, sizeof d->text, "weibull:rate=%.17g,shape=%.17g", rate, shape);
    a->rate_per_s = rate;
    a->renewal = 1;
    return 0;
}

/* Describes the gaps of a process that is not renewal: mean from the long-run rate, scv
 * for reports, and no sampler. */
static void set_gap_moments(arrival_process *a, double scv)
{
    a->interarrival.kind = NULL;
    a->interarrival.mean = 1.0 / a->rate_per_s;
    a->interarrival.scv = scv;
}

/* --- mmpp: two-state Markov-modulated Poisson ---------------------------------------------- */

static int setup_mmpp(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    const char *form = a->kind->form;
    if (spec_number(s, "rate_on", SPEC_POSITIVE, 0, 0, &a->rate_on_per_s, form, err, errlen) ||
        spec_number(s, "rate_off", SPEC_NONNEG, 0, 0, &a->rate_off_per_s, form, err, errlen) ||
        spec_number(s, "mean_on", SPEC_POSITIVE, 0, 0, &a->mean_on_s, form, err, errlen) ||
        spec_number(s, "mean_off", SPEC_POSITIVE, 0, 0, &a->mean_off_s, form, err, errlen))
        return -1;
    double r1 = a->rate_on_per_s, r2 = a->rate_off_per_s;
    double t1 = a->mean_on_s, t2 = a->mean_off_s;
    double p_on = t1 / (t1 + t2);
    a->rate_per_s = p_on * r1 + (1.0 - p_on) * r2;
    /* The long-run gap's second moment follows from the mean time V from a random instant
     * to the next arrival: E[V] = rate E[gap^2] / 2 (Palm inversion). From state i, V
     * solves v_on = (1 + al v_off) / (r1 + al), v_off = (1 + be v_on) / (r2 + be) with
     * al = 1/T1 and be = 1/T2 the rates of leaving each state. */
    double al = 1.0 / t1, be = 1.0 / t2;
    double det = r1 * r2 + r1 * be + r2 * al;
    double v_on = (r2 + al + be) / det, v_off = (r1 + al + be) / det;
    double ev = p_on * v_on + (1.0 - p_on) * v_off;
    set_gap_moments(a, 2.0 * a->rate_per_s * ev - 1.0);
    return 0;
}

static void start_mmpp(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    memset(st, 0, sizeof *st);
    /* The stationary state, and then its residual time, which is exponential too. */
    st->on = gsl_rng_uniform(r) * (a->mean_on_s + a->mean_off_s) < a->mean_on_s;
    st->switch_s = gsl_ran_exponential(r, st->on ? a->mean_on_s : a->mean_off_s);
}

static double next_mmpp(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    double t = st->t_s;
    for (;;) {
        double rate = st->on ? a->rate_on_per_s : a->rate_off_per_s;
        double cand = rate > 0 ? t + gsl_ran_exponential(r, 1.0 / rate) : INFINITY;
        if (cand < st->switch_s) {
            st->t_s = cand;
            return cand;
        }
        t = st->switch_s;
        st->on = !st->on;
        st->switch_s = t + gsl_ran_exponential(r, st->on ? a->mean_on_s : a->mean_off_s);
    }
}

/* --- diurnal: sinusoidal rate by thinning ------------------------------------------------- */

static double diurnal_rate(const arrival_process *a, double t_s)
{
    double x = t_s / a->period_s + a->phase;
    x -= floor(x); /* keeps the argument of sin small over long runs */
    return a->rate_per_s * (1.0 + a->amplitude * sin(ARRIVAL_TWO_PI * x));
}

/* Expected arrivals in (t, t + y]: R (y + A P / (2 pi) (cos a - cos b)) with a, b the
 * angles at t and t + y, written as a product of sines so that it keeps its relative
 * accuracy for small y instead of cancelling (a long period would otherwise leave rounding
 * noise far above the tolerance of the integration below). */
static double diurnal_count(const arrival_process *a, double t_s, double y_s)
{
    double x = t_s / a->period_s + a->phase;
    x -= floor(x);
    double half_rad = ARRIVAL_TWO_PI / 2.0 * y_s / a->period_s; /* (b - a) / 2 */
    return a->rate_per_s * (y_s + a->amplitude * a->period_s / (ARRIVAL_TWO_PI / 2.0) *
                                      sin(ARRIVAL_TWO_PI * x + half_rad) * sin(half_rad));
}

/* Adaptive Simpson on exp(-diurnal_count(t, y)) over y in [lo, hi]; f_* are the integrand
 * at lo, mid, hi and whole the Simpson estimate over the interval. *budget bounds the
 * evaluations left, a guard against refining forever should rounding ever exceed tol. */
static double diurnal_simpson(const arrival_process *a, double t_s, double lo, double hi,
                              double f_lo, double f_mid, double f_hi, double whole, double tol,
                              long *budget)
{
    double mid = 0.5 * (lo + hi), h = hi - lo;
    double f_lm = exp(-diurnal_count(a, t_s, 0.5 * (lo + mid)));
    double f_mh = exp(-diurnal_count(a, t_s, 0.5 * (mid + hi)));
    double left = h / 12.0 * (f_lo + 4.0 * f_lm + f_mid);
    double right = h / 12.0 * (f_mid + 4.0 * f_mh + f_hi);
    *budget -= 2;
    if (*budget <= 0 || fabs(left + right - whole) <= 15.0 * tol)
        return left + right + (left + right - whole) / 15.0;
    return diurnal_simpson(a, t_s, lo, mid, f_lo, f_lm, f_mid, left, 0.5 * tol, budget) +
           diurnal_simpson(a, t_s, mid, hi, f_mid, f_mh, f_hi, right, 0.5 * tol, budget);
}

/* The long-run squared coefficient of variation of the gaps, 2 R E[V] - 1 (see
 * setup_mmpp), where V is the time from a uniformly random instant t to the next arrival:
 * E[V | t] = int_0^inf exp(-count(t, y)) dy. Whole periods add R P to the count, so that
 * integral is the one over the first period divided by 1 - exp(-R P).
 *
 * The average of E[V | t] over a period is a trapezoid rule, very accurate for a smooth
 * periodic integrand, after a change of variable that puts more points near the trough of
 * the rate: with A near 1 and a slow cycle, E[V | t] peaks there like 1 / rate(t) with a
 * core only (1 / (R P))^(1/3) periods wide. The map t = P (x_trough + u - c/(2 pi)
 * sin(2 pi u)), u in [-1/2, 1/2), is smooth and periodic; its slope 1 - c cos(2 pi u) is
 * 1 - c at the trough. */
static double diurnal_gap_scv(const arrival_process *a)
{
    if (a->amplitude == 0)
        return 1.0;
    enum { N_T = 256, N_PANELS = 8 };
    double p = a->period_s, tail = -expm1(-a->rate_per_s * p);
    double slope = fmin(1.0, fmax(cbrt(1.0 / (a->rate_per_s * p)), 1.0 - a->amplitude));
    double c = 1.0 - slope, x_trough = 0.75 - a->phase;
    double sum = 0;
    for (int i = 0; i < N_T; i++) {
        double u = (double)i / N_T - 0.5;
        double t = p * (x_trough + u - c / ARRIVAL_TWO_PI * sin(ARRIVAL_TWO_PI * u));
        double dt_du = 1.0 - c * cos(ARRIVAL_TWO_PI * u);
        /* Past 40 expected arrivals the integrand is below exp(-40): stop there. */
        double hi = 1.0 / a->peak_per_s;
        while (hi < p && diurnal_count(a, t, hi) < 40.0)
            hi *= 2.0;
        hi = fmin(hi, p);
        double step = hi / N_PANELS, inner = 0;
        long budget = 20000;
        for (int k = 0; k < N_PANELS; k++) {
            double lo = k * step, up = lo + step;
            double f_lo = exp(-diurnal_count(a, t, lo));
            double f_mid = exp(-diurnal_count(a, t, lo + 0.5 * step));
            double f_hi = exp(-diurnal_count(a, t, up));
            double whole = step / 6.0 * (f_lo + 4.0 * f_mid + f_hi);
            /* The tolerance scales with the width (the integrand is at most 1), so it stays
             * above the rounding error of the sums however far the halving goes. */
            inner += diurnal_simpson(a, t, lo, up, f_lo, f_mid, f_hi, whole, 1e-10 * step, &budget);
        }
        sum += inner / tail * dt_du;
    }
    return 2.0 * a->rate_per_s * (sum / N_T) - 1.0;
}

static int setup_diurnal(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    const char *form = a->kind->form;
    if (spec_number(s, "rate", SPEC_POSITIVE, 0, 0, &a->rate_per_s, form, err, errlen) ||
        spec_number(s, "amplitude", SPEC_NONNEG, 0, 0, &a->amplitude, form, err, errlen) ||
        spec_number(s, "period", SPEC_POSITIVE, 0, 0, &a->period_s, form, err, errlen) ||
        spec_number(s, "phase", SPEC_ANY, 1, 0, &a->phase, form, err, errlen))
        return -1;
    if (a->amplitude > 1) {
        util_errf(err, errlen,
                  "'%s': amplitude must be in [0, 1] so that the rate stays >= 0, found '%s' "
                  "(expected %s)",
                  s->text, spec_string(s, "amplitude"), form);
        return -1;
    }
    a->peak_per_s = a->rate_per_s * (1.0 + a->amplitude);
    set_gap_moments(a, diurnal_gap_scv(a));
    return 0;
}

static double next_diurnal(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    double t = st->t_s, mean_s = 1.0 / a->peak_per_s;
    do
        t += gsl_ran_exponential(r, mean_s);
    while (gsl_rng_uniform(r) * a->peak_per_s >= diurnal_rate(a, t));
    st->t_s = t;
    return t;
}

/* --- steps: piecewise-constant rate ------------------------------------------------------- */

/* Reads the '/'-separated numbers of key into a new array (*out, owned by the caller, NULL
 * when the key is absent), each >= 0, or > 0 when positive. */
static int parse_list(const spec *s, const char *key, int positive, double **out, size_t *n,
                      const char *form, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    const char *v = spec_string(s, key);
    if (v == NULL)
        return 0;
    size_t cap = 1;
    for (const char *p = v; *p; p++)
        cap += *p == '/';
    double *x = malloc(cap * sizeof *x);
    if (x == NULL) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    const char *p = v;
    for (size_t i = 0; i < cap; i++) {
        size_t len = strcspn(p, "/");
        char item[64] = "";
        int ok = len < sizeof item;
        if (ok) {
            memcpy(item, p, len);
            item[len] = '\0';
            ok = util_parse_double(item, &x[i]) == 0 && (positive ? x[i] > 0 : x[i] >= 0);
        }
        if (!ok) {
            util_errf(err, errlen,
                      "'%s': %s item %zu must be %s, found '%.*s' (expected %s, the items "
                      "separated by '/')",
                      s->text, key, i + 1, positive ? "a number > 0" : "a number >= 0", (int)len, p,
                      form);
            free(x);
            return -1;
        }
        p += len + (p[len] == '/');
    }
    *out = x;
    *n = cap;
    return 0;
}

static int setup_steps(const spec *s, arrival_process *a, char *err, size_t errlen)
{
    const char *form = a->kind->form;
    size_t n_times = 0;
    if (parse_list(s, "rates", 0, &a->step_rates_per_s, &a->n_steps, form, err, errlen) ||
        parse_list(s, "times", 1, &a->step_times_s, &n_times, form, err, errlen))
        return -1;
    if (n_times + 1 != a->n_steps) {
        util_errf(err, errlen,
                  "'%s': %zu rates need %zu times, found %zu (expected %s: one rate before "
                  "the first time, one after each)",
                  s->text, a->n_steps, a->n_steps - 1, n_times, form);
        return -1;
    }
    for (size_t i = 1; i < n_times; i++) {
        if (!(a->step_times_s[i] > a->step_times_s[i - 1])) {
            util_errf(err, errlen,
                      "'%s': times must increase, found %g after %g (expected %s with "
                      "T1 < T2 < ...)",
                      s->text, a->step_times_s[i], a->step_times_s[i - 1], form);
            return -1;
        }
    }
    a->rate_per_s = a->step_rates_per_s[a->n_steps - 1];
    if (!(a->rate_per_s > 0)) {
        util_errf(err, errlen,
                  "'%s': the last rate must be > 0, or arrivals would stop (expected %s)", s->text,
                  form);
        return -1;
    }
    /* In the long run this is a Poisson process at the last rate. */
    set_gap_moments(a, 1.0);
    return 0;
}

static double next_steps(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    double t = st->t_s;
    for (;;) {
        double rate = a->step_rates_per_s[st->step];
        double end = st->step + 1 < a->n_steps ? a->step_times_s[st->step] : INFINITY;
        double cand = rate > 0 ? t + gsl_ran_exponential(r, 1.0 / rate) : INFINITY;
        if (cand < end) {
            st->t_s = cand;
            return cand;
        }
        t = end;
        st->step++;
    }
}

/* --- the table ---------------------------------------------------------------------------- */

static const char *const K_RATE[] = {"rate", NULL};
static const char *const K_RATE_CV[] = {"rate", "cv", NULL};
static const char *const K_WEIBULL[] = {"rate", "shape", NULL};
static const char *const K_MMPP[] = {"rate_on", "rate_off", "mean_on", "mean_off", NULL};
static const char *const K_DIURNAL[] = {"rate", "amplitude", "period", "phase", NULL};
static const char *const K_DIURNAL_REQ[] = {"rate", "amplitude", "period", NULL};
static const char *const K_STEPS[] = {"rates", "times", NULL};
static const char *const K_STEPS_REQ[] = {"rates", NULL};

static const arrival_kind KINDS[] = {
    {"poisson", "poisson:rate=R", K_RATE, K_RATE, setup_poisson, start_clock, next_renewal},
    {"deterministic", "deterministic:rate=R", K_RATE, K_RATE, setup_deterministic, start_clock,
     next_renewal},
    {"gamma", "gamma:rate=R,cv=C", K_RATE_CV, K_RATE_CV, setup_gamma, start_clock, next_renewal},
    {"weibull", "weibull:rate=R,shape=K", K_WEIBULL, K_WEIBULL, setup_weibull, start_clock,
     next_renewal},
    {"mmpp", "mmpp:rate_on=R1,rate_off=R2,mean_on=T1,mean_off=T2", K_MMPP, K_MMPP, setup_mmpp,
     start_mmpp, next_mmpp},
    {"diurnal", "diurnal:rate=R,amplitude=A,period=P[,phase=F]", K_DIURNAL, K_DIURNAL_REQ,
     setup_diurnal, start_clock, next_diurnal},
    {"steps", "steps:rates=R1/.../Rn,times=T1/.../Tn-1", K_STEPS, K_STEPS_REQ, setup_steps,
     start_clock, next_steps},
};

/* Refuses a process whose figures would be meaningless or whose run would never end: a
 * long-run rate outside [ARRIVAL_MIN_RATE, ARRIVAL_MAX_RATE] (a time series sampled every
 * second across gaps of years; every request at one instant), gaps spread wider than a cv
 * of DIST_MAX_CV, or an on-off process switching faster than ARRIVAL_MIN_PERIOD_S. */
static int check_range(const char *text, const arrival_process *a, char *err, size_t errlen)
{
    double rate = a->rate_per_s;
    if (!(rate >= ARRIVAL_MIN_RATE && rate <= ARRIVAL_MAX_RATE)) {
        util_errf(err, errlen,
                  "'%s': a long-run rate of %g req/s is outside the range that works, %g to "
                  "%g req/s (expected %s)",
                  text, rate, ARRIVAL_MIN_RATE, ARRIVAL_MAX_RATE, a->kind->form);
        return -1;
    }
    if (!(a->interarrival.scv <= DIST_MAX_CV * DIST_MAX_CV)) {
        util_errf(err, errlen,
                  "'%s': gaps with a cv of %.3g are too spread out: expected a cv of at most "
                  "%g (%s)",
                  text, sqrt(a->interarrival.scv), DIST_MAX_CV, a->kind->form);
        return -1;
    }
    int on_off = strcmp(a->kind->name, "mmpp") == 0;
    if (on_off && !(a->mean_on_s >= ARRIVAL_MIN_PERIOD_S && a->mean_off_s >= ARRIVAL_MIN_PERIOD_S &&
                    a->mean_on_s <= DIST_MAX_VALUE && a->mean_off_s <= DIST_MAX_VALUE)) {
        util_errf(err, errlen, "'%s': mean_on and mean_off must be from %g to %g s (expected %s)",
                  text, ARRIVAL_MIN_PERIOD_S, DIST_MAX_VALUE, a->kind->form);
        return -1;
    }
    return 0;
}

int arrival_parse(const char *text, arrival_process *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    spec s;
    const arrival_kind *k = NULL;
    char name[32];
    spec_name_of(text, name, sizeof name);
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(name, KINDS[i].name) == 0)
            k = &KINDS[i];
    if (spec_parse(text, &s, err, errlen) != 0) {
        spec_add_expected(err, errlen, k ? k->form : arrival_forms());
        return -1;
    }
    if (k == NULL) {
        util_errf(err, errlen, "'%s': unknown arrival process '%s' (expected one of %s)", text,
                  s.name, arrival_forms());
        return -1;
    }
    a->kind = k;
    if (spec_check_keys(&s, k->allowed, k->required, k->form, err, errlen) != 0 ||
        k->setup(&s, a, err, errlen) != 0) {
        arrival_fini(a);
        memset(a, 0, sizeof *a);
        return -1;
    }
    if (check_range(text, a, err, errlen) != 0) {
        arrival_fini(a);
        memset(a, 0, sizeof *a);
        return -1;
    }
    snprintf(a->text, sizeof a->text, "%s", text);
    return 0;
}

void arrival_start(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    a->kind->start(a, st, r);
}

double arrival_next(const arrival_process *a, arrival_state *st, gsl_rng *r)
{
    return a->kind->next(a, st, r);
}

void arrival_fini(arrival_process *a)
{
    dist_fini(&a->interarrival);
    free(a->step_rates_per_s);
    free(a->step_times_s);
    a->step_rates_per_s = a->step_times_s = NULL;
    a->n_steps = 0;
}

const char *arrival_forms(void)
{
    return "poisson:rate=R | deterministic:rate=R | gamma:rate=R,cv=C | weibull:rate=R,shape=K "
           "| mmpp:rate_on=R1,rate_off=R2,mean_on=T1,mean_off=T2 | "
           "diurnal:rate=R,amplitude=A,period=P[,phase=F] | "
           "steps:rates=R1/.../Rn,times=T1/.../Tn-1";
}
