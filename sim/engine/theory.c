/*
 * theory.c - exact steady-state answers of classic queues, used to validate the simulator.
 *
 * Every result is computed from a formula at run time (no tabulated reference numbers), so a
 * simulation can be checked against queues whose answers are known exactly: M/M/c, M/M/c/K,
 * M/D/1, M/G/1 (mean values only) and the bulk-service queue M/M^[K]/1.
 *
 * Conventions (see theory.h): rates are per unit time, times share the caller's unit
 * (seconds by convention), wait statistics are those of entering customers, service is FCFS,
 * functions return 0 on success and -1 on invalid or unstable parameters without touching
 * *out.  No function keeps state between calls and nothing here calls exit() or lets a
 * library error handler abort the program, which is why the Erlang tails below are summed by
 * hand instead of through GSL's special functions (GSL's default handler aborts on underflow).
 */
#include "sim/engine/theory.h"

#include <math.h>
#include <stddef.h>

/* Terms of the M/M/c/K birth-death chain are rescaled by this factor when they grow past it,
 * so that c and K in the thousands neither overflow nor need log-space arithmetic. */
#define THEORY_RESCALE 1e250

/* Poisson probabilities with mean below 1 underflow to zero well before this many terms
 * (1 / 170! is already below the smallest double), so M/D/1 sums stop here. */
#define THEORY_MD1_WINDOW 256

/* The M/D/1 tail costs O(floor(t / d) * window); beyond this many service times it is NAN. */
#define THEORY_MD1_MAX_LEVELS 1000000L

/* A time argument must be a finite non-negative number for the tail to mean anything. */
static int valid_time(double t)
{
    return isfinite(t) && t >= 0.0;
}

/* Rates and durations must be finite and strictly positive. */
static int valid_positive(double x)
{
    return isfinite(x) && x > 0.0;
}

/* Fill the fields every queue without a capacity limit shares, from the mean wait and mean
 * service time, using Little's law L = lambda * E[sojourn]. */
static void fill_unlimited(theory_answer *ans, double lambda, double mean_wait, double mean_service)
{
    ans->mean_wait = mean_wait;
    ans->mean_sojourn = mean_wait + mean_service;
    ans->blocked_fraction = 0.0;
    ans->throughput = lambda;
    ans->mean_in_system = lambda * ans->mean_sojourn;
}

double theory_erlang_c(int c, double a)
{
    if (c < 1 || !isfinite(a) || !(a > 0.0) || !(a < (double)c))
        return NAN;
    /* The Erlang B recursion keeps every intermediate in [0, 1], unlike the textbook
     * a^c / c! form which overflows long before c = 1000. */
    double b = 1.0;
    for (int k = 1; k <= c; k++)
        b = a * b / ((double)k + a * b);
    return (double)c * b / ((double)c - a * (1.0 - b));
}

int theory_mmc(double lambda, double mu, int c, double t, theory_answer *out)
{
    if (out == NULL || !valid_positive(lambda) || !valid_positive(mu) || c < 1 || !valid_time(t))
        return -1;
    /* The spare service rate is formed from the rates directly so that a load just below c
     * does not lose digits through a = lambda / mu. */
    double spare = (double)c * mu - lambda;
    if (!(spare > 0.0))
        return -1;
    double pw = theory_erlang_c(c, lambda / mu);
    if (isnan(pw))
        return -1;

    theory_answer ans;
    ans.prob_wait = pw;
    /* Given that it waits, an M/M/c customer waits an exponential time of rate c mu - lambda. */
    ans.prob_wait_gt_t = pw * exp(-spare * t);
    ans.utilization = lambda / ((double)c * mu);
    fill_unlimited(&ans, lambda, pw / spare, 1.0 / mu);
    *out = ans;
    return 0;
}

int theory_mmck(double lambda, double mu, int c, int k, double t, theory_answer *out)
{
    if (out == NULL || !valid_positive(lambda) || !valid_positive(mu) || c < 1 || k < c ||
        !valid_time(t))
        return -1;

    /*
     * One pass over n = 0..K with the unnormalised probability term = p_n / p_0, built by the
     * running product term *= lambda / (min(n, c) mu).  Every quantity needed is a linear sum
     * over the p_n, so the sums are accumulated directly and normalised at the end; when the
     * term would grow past THEORY_RESCALE the term and all sums are scaled down together, which
     * leaves every ratio unchanged.  Terms first rise and then fall, so anything that
     * underflows is negligible against the largest term.
     */
    double x = (double)c * mu * t; /* argument of the Erlang(m, c mu) tail at t */
    double log_x = x > 0.0 ? log(x) : 0.0;
    double term = 1.0;
    double sum_all = 0.0;   /* sum_{n=0}^{K} p_n */
    double sum_enter = 0.0; /* sum_{n=0}^{K-1} p_n: arrivals that are not blocked */
    double sum_n = 0.0;     /* sum n p_n */
    double sum_queue = 0.0; /* sum (n - c)^+ p_n = Lq (unnormalised) */
    double sum_wait = 0.0;  /* sum_{n=c}^{K-1} p_n: entering arrivals that must wait */
    double sum_tail = 0.0;  /* sum_{n=c}^{K-1} p_n Q(n - c + 1, x) */
    /*
     * An entering arrival that finds n >= c present waits for n - c + 1 departures at rate
     * c mu, i.e. an Erlang(m, c mu) time with m = n - c + 1, whose tail at t is the Poisson
     * CDF Q(m, x) = sum_{i<m} e^{-x} x^i / i!.  As n advances m grows by one, so Q is carried
     * forward by adding one Poisson term; the terms are all positive, so the sum keeps full
     * relative precision, and each term is formed in log space so e^{-x} cannot underflow
     * while x^i / i! is still huge.
     */
    double q_tail = 0.0;  /* Q(m, x) for the current m; Q(0, x) = 0 */
    double log_pois = -x; /* log(e^{-x} x^i / i!) for the next term i = m */

    for (int n = 0; n <= k; n++) {
        if (n > 0) {
            int busy = n < c ? n : c;
            double step = lambda / ((double)busy * mu);
            /* Rescale before multiplying so that even an absurd step cannot overflow. */
            while (term > THEORY_RESCALE / step) {
                term /= THEORY_RESCALE;
                sum_all /= THEORY_RESCALE;
                sum_enter /= THEORY_RESCALE;
                sum_n /= THEORY_RESCALE;
                sum_queue /= THEORY_RESCALE;
                sum_wait /= THEORY_RESCALE;
                sum_tail /= THEORY_RESCALE;
            }
            term *= step;
        }
        sum_all += term;
        sum_n += (double)n * term;
        if (n > c)
            sum_queue += (double)(n - c) * term;
        if (n == k)
            break;
        sum_enter += term;
        if (n >= c) {
            int m = n - c + 1;
            if (x > 0.0) {
                q_tail += exp(log_pois);
                log_pois += log_x - log((double)m);
            } else {
                q_tail = 1.0; /* An Erlang time is positive, so P(W > 0 | must wait) = 1. */
            }
            sum_wait += term;
            sum_tail += term * q_tail;
        }
    }

    double blocked = term / sum_all; /* term is p_K / p_0 after the loop */
    double entering = sum_enter / sum_all;
    double lambda_eff = lambda * entering;

    theory_answer ans;
    /* Little's law on the queue alone, restricted to customers that actually enter. */
    ans.mean_wait = sum_queue / (lambda * sum_enter);
    ans.prob_wait = sum_wait / sum_enter;
    ans.prob_wait_gt_t = fmin(sum_tail / sum_enter, 1.0);
    ans.mean_sojourn = ans.mean_wait + 1.0 / mu;
    ans.utilization = lambda_eff / ((double)c * mu);
    ans.blocked_fraction = blocked;
    ans.throughput = lambda_eff;
    ans.mean_in_system = sum_n / sum_all;
    *out = ans;
    return 0;
}

/* Mean values of M/G/1 by Pollaczek-Khinchine, shared by theory_md1 and theory_mg1. */
static int mg1_means(double lambda, double mean_s, double scv, theory_answer *ans)
{
    if (!valid_positive(lambda) || !valid_positive(mean_s) || !isfinite(scv) || scv < 0.0)
        return -1;
    double rho = lambda * mean_s;
    if (!(rho < 1.0))
        return -1;
    ans->prob_wait = rho; /* PASTA: an arrival waits iff it finds the server busy. */
    ans->prob_wait_gt_t = NAN;
    ans->utilization = rho;
    fill_unlimited(ans, lambda, rho * mean_s * (1.0 + scv) / (2.0 * (1.0 - rho)), mean_s);
    return 0;
}

/*
 * Upper tails of a Poisson(mean) distribution, mean < 1: tail[i] = P(A >= i) for
 * i = 0..THEORY_MD1_WINDOW, summed from the top down so that every entry, including
 * tail[1] = 1 - e^{-mean}, keeps full relative precision.  Returns the first index whose
 * tail is zero, which bounds every convolution below.
 */
static int poisson_tails(double mean, double tail[THEORY_MD1_WINDOW + 1])
{
    double pmf[THEORY_MD1_WINDOW + 1];
    pmf[0] = exp(-mean);
    for (int i = 1; i <= THEORY_MD1_WINDOW; i++)
        pmf[i] = pmf[i - 1] * mean / (double)i;
    double acc = 0.0;
    int width = 0;
    for (int i = THEORY_MD1_WINDOW; i >= 0; i--) {
        acc += pmf[i];
        tail[i] = acc;
        if (width == 0 && acc > 0.0)
            width = i + 1;
    }
    return width;
}

/*
 * P(Wq > t) for M/D/1 from a sum of positive terms only.
 *
 * Erlang's classical formula P(W <= t) = (1 - rho) sum_{k <= t/d} (lambda (k d - t))^k / k!
 * e^{-lambda (k d - t)} alternates in sign with a first term of e^{lambda t}: at rho = 0.7 and
 * t = 30.5 d it is off by a factor of ten even in long double.  Instead write t = k d + u with
 * 0 <= u < d and look at the time s = tau - (d - u) before the arrival instant tau.  With
 * deterministic service at most one departure falls in (s, tau], and working through the
 * cases shows that the arrival waits at most t exactly when
 *     N(s) = 0 and A <= k,   or   N(s) >= 1 and N(s) + A <= k + 1,
 * where N(s) is the number in system at s (time-stationary law p_n) and A ~ Poisson(lambda
 * (d - u)) counts arrivals in (s, tau), independent of N(s).  Hence
 *     P(W > t) = p_0 P(A >= k+1) + sum_{n=1}^{k+1} p_n P(A >= k+2-n) + P(N >= k+2).
 * p_n equals the departure-epoch distribution pi_n of the embedded chain, which level
 * crossing gives without subtraction (a_i = Poisson(rho) pmf, abar_i = P(Poisson(rho) >= i)):
 *     pi_0 = 1 - rho,   pi_n a_0 = pi_0 abar_n + sum_{j=1}^{n-1} pi_j abar_{n-j+1},
 * and summing those equations over n >= m gives the tail of N, again with positive terms:
 *     (1 - rho) P(N >= m) = pi_0 B_m + sum_{j=1}^{m-1} pi_j B_{m-j+1},  B_i = sum_{l>=i} abar_l.
 * abar_i vanishes for i beyond a few hundred, so only the last window of pi_n is kept, in a
 * ring buffer, and the cost is O(k * window) with no heap use.
 */
static double md1_tail(double lambda, double d, double t)
{
    double rho = lambda * d;
    double levels = floor(t / d);
    if (levels > (double)THEORY_MD1_MAX_LEVELS)
        return NAN;
    long k = (long)levels;
    /* Rounding in t - k d may leave u a hair outside [0, d); the formula is continuous in u,
     * so clamping is harmless. */
    double gap = fmin(fmax(d - (t - (double)k * d), 0.0), d); /* d - u */

    double abar[THEORY_MD1_WINDOW + 1], arr[THEORY_MD1_WINDOW + 1];
    double big_b[THEORY_MD1_WINDOW + 2];
    int width = poisson_tails(rho, abar); /* abar[i] == 0 for i >= width */
    int arr_width = poisson_tails(lambda * gap, arr);
    double acc = 0.0;
    big_b[THEORY_MD1_WINDOW + 1] = 0.0;
    for (int i = THEORY_MD1_WINDOW; i >= 0; i--) {
        acc += abar[i];
        big_b[i] = acc;
    }
    double a0 = exp(-rho);

    /* ring[n % RING] holds pi_n for the last RING levels; RING exceeds every width used. */
    enum { RING = THEORY_MD1_WINDOW + 2 };
    double ring[RING];
    double pi0 = 1.0 - rho;
    ring[0] = pi0;
    long zero_run = 0;
    for (long n = 1; n <= k + 1; n++) {
        double sum = n < width ? pi0 * abar[n] : 0.0;
        long j_lo = n - width + 2 > 1 ? n - width + 2 : 1; /* abar[n-j+1] == 0 below this */
        for (long j = j_lo; j <= n - 1; j++)
            sum += ring[j % RING] * abar[n - j + 1];
        double pin = sum / a0;
        ring[n % RING] = pin;
        /* Once a whole window of pi_n has underflowed, every later term is zero too, and so
         * is the tail. */
        zero_run = pin > 0.0 ? 0 : zero_run + 1;
        if (zero_run > width + 1)
            return 0.0;
    }

    long m = k + 2;
    double tail = k + 1 < arr_width ? pi0 * arr[k + 1] : 0.0;
    double queue = m < width + 1 ? pi0 * big_b[m] : 0.0;
    /* Below n_lo both B[m-n+1] and P(A >= m-n) vanish (the Poisson(lambda (d - u)) tails die
     * out no later than the Poisson(rho) ones), and every index used stays in range. */
    long n_lo = m - width + 1 > 1 ? m - width + 1 : 1;
    for (long n = n_lo; n <= k + 1; n++) {
        long ia = m - n;     /* index into P(A >= .) */
        long ib = m - n + 1; /* index into B */
        if (ia < arr_width)
            tail += ring[n % RING] * arr[ia];
        queue += ring[n % RING] * big_b[ib];
    }
    tail += queue / (1.0 - rho);
    return fmin(tail, 1.0);
}

int theory_md1(double lambda, double d, double t, theory_answer *out)
{
    if (out == NULL || !valid_time(t))
        return -1;
    theory_answer ans;
    if (mg1_means(lambda, d, 0.0, &ans) != 0)
        return -1;
    ans.prob_wait_gt_t = md1_tail(lambda, d, t);
    *out = ans;
    return 0;
}

int theory_mg1(double lambda, double mean_s, double scv, double t, theory_answer *out)
{
    if (out == NULL || !valid_time(t))
        return -1;
    theory_answer ans;
    if (mg1_means(lambda, mean_s, scv, &ans) != 0)
        return -1;
    *out = ans;
    return 0;
}

/*
 * g(r) = mu (r + r^2 + ... + r^K) - lambda, which is (mu r^{K+1} - (lambda + mu) r + lambda)
 * divided by (r - 1).  Dividing out the root r = 1 leaves a function that increases strictly
 * on [0, 1] from -lambda to K mu - lambda > 0, so bisection cannot land on the wrong root.
 * The geometric sum is r (1 - r^K) / (1 - r), with 1 - r^K taken through expm1 so that r
 * near 1 keeps its digits and the cost does not grow with K.
 */
static double bulk_g(double r, double lambda, double mu, int k)
{
    if (r <= 0.0)
        return -lambda;
    double u = 1.0 - r;
    double one_minus_rk = -expm1((double)k * log1p(-u));
    return mu * r * one_minus_rk / u - lambda;
}

int theory_mm_bulk(double lambda, double mu, int k, double t, theory_answer *out)
{
    if (out == NULL || !valid_positive(lambda) || !valid_positive(mu) || k < 1 || !valid_time(t))
        return -1;
    if (!(lambda < (double)k * mu))
        return -1;

    /*
     * Find r in (0, 1) with mu r^{K+1} - (lambda + mu) r + lambda = 0.  The loop halves the
     * bracket until no double lies strictly inside it, so r is as exact as a double allows
     * whether it is tiny (light load) or just below 1 (heavy load).
     */
    double lo = 0.0, hi = 1.0;
    for (;;) {
        double mid = lo + 0.5 * (hi - lo);
        if (!(mid > lo && mid < hi))
            break;
        if (bulk_g(mid, lambda, mu, k) < 0.0)
            lo = mid;
        else
            hi = mid;
    }
    double r = fabs(bulk_g(lo, lambda, mu, k)) <= fabs(bulk_g(hi, lambda, mu, k)) ? lo : hi;
    if (!(r > 0.0 && r < 1.0))
        return -1; /* Cannot happen for valid input, but never divide by 1 - r = 0. */
    double u = 1.0 - r;
    double one_minus_rk = -expm1((double)k * log1p(-u));

    /*
     * States: idle (probability p0) and busy with n waiting (q_n = q_0 r^n).  Balance of the
     * idle state gives lambda p0 = mu q_0, and p0 + q_0 / (1 - r) = 1, so the probability the
     * server is busy is q_0 / (1 - r) = lambda / (lambda + mu (1 - r)).  It is formed that way
     * rather than as 1 - p0 so that light loads keep their relative precision.
     */
    double busy = lambda / (lambda + mu * u);

    /*
     * By PASTA an arrival finding the server busy with n waiting is taken at the m-th next
     * completion, m = floor(n / K) + 1, so it waits Erlang(m, mu).  Grouping n into blocks
     * of K, m - 1 is geometric: P(m = j + 1 | busy) = (1 - s) s^j with s = r^K.  A geometric
     * number of exponential(mu) phases is exponential with rate mu (1 - s), so
     *     E[Wq] = busy / (mu (1 - r^K)),   P(Wq > t) = busy e^{-mu (1 - r^K) t}.
     * This is the closed form of sum_n q_n m / mu and sum_n q_n Q(m, mu t); using it avoids
     * a sum whose length grows like 1 / (1 - r) under heavy load.
     */
    double rate = mu * one_minus_rk;

    theory_answer ans;
    ans.prob_wait = busy;
    ans.prob_wait_gt_t = busy * exp(-rate * t);
    ans.utilization = busy;
    /* Little's law holds for the whole system whatever the batching: L = lambda E[sojourn],
     * and a customer's sojourn is its wait plus its batch's exponential(mu) service. */
    fill_unlimited(&ans, lambda, busy / rate, 1.0 / mu);
    *out = ans;
    return 0;
}
