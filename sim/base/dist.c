/*
 * dist: the table of distribution kinds and the spec parser (see dist.h).
 */
#include "sim/base/dist.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_statistics_double.h>

#include "sim/base/csvin.h"
#include "sim/base/spec.h"
#include "sim/base/util.h"

/* --- samplers ------------------------------------------------------------------------- */

static double sample_exp(const dist *d, gsl_rng *r)
{
    return gsl_ran_exponential(r, d->mean);
}

static double sample_det(const dist *d, gsl_rng *r)
{
    (void)r;
    return d->mean;
}

static double sample_lognormal(const dist *d, gsl_rng *r)
{
    return gsl_ran_lognormal(r, d->p1, d->p2);
}

static double sample_gamma(const dist *d, gsl_rng *r)
{
    return gsl_ran_gamma(r, d->p1, d->p2);
}

static double sample_uniform(const dist *d, gsl_rng *r)
{
    return gsl_ran_flat(r, d->p1, d->p2);
}

static double sample_empirical(const dist *d, gsl_rng *r)
{
    return d->values[gsl_rng_uniform_int(r, d->n_values)];
}

static const dist_kind KIND_EXP = {"exp", "exp:mean=M", sample_exp};
static const dist_kind KIND_DET = {"det", "det:value=V", sample_det};
static const dist_kind KIND_LOGNORMAL = {"lognormal", "lognormal:mean=M,cv=C", sample_lognormal};
static const dist_kind KIND_GAMMA = {"gamma", "gamma:mean=M,cv=C", sample_gamma};
static const dist_kind KIND_EMPIRICAL = {"empirical", "empirical:file=F", sample_empirical};
static const dist_kind KIND_UNIFORM = {"uniform", "uniform:min=A,max=B", sample_uniform};

/* Sets the parameters of a kind from its mean and cv; the moments are stored so that
 * callers (stability checks, theory overlays) need not know the kind. */
static void set_moments(dist *d, const dist_kind *kind, double mean, double cv)
{
    d->kind = kind;
    d->mean = mean;
    if (kind == &KIND_EXP) {
        d->scv = 1.0;
    } else if (kind == &KIND_DET) {
        d->scv = 0.0;
    } else if (kind == &KIND_LOGNORMAL) {
        double s2 = log1p(cv * cv);
        d->p1 = log(mean) - s2 / 2.0;
        d->p2 = sqrt(s2);
        d->scv = cv * cv;
    } else if (kind == &KIND_GAMMA) {
        d->p1 = 1.0 / (cv * cv); /* shape */
        d->p2 = mean * cv * cv;  /* scale */
        d->scv = cv * cv;
    }
}

/* --- empirical: numbers from the first column of a CSV file ----------------------------- */

/* Refuses a spread or a value that makes the figures meaningless (see DIST_MAX_CV). For a
 * uniform the bounds are in d already. Returns 0, or -1 with the range that works. */
static int in_range(const char *text, const dist_kind *kind, double mean, double cv, const dist *d,
                    char *err, size_t errlen)
{
    double biggest = kind == &KIND_UNIFORM ? d->p2 : mean;
    if (biggest > DIST_MAX_VALUE) {
        util_errf(err, errlen,
                  "'%s': %g is beyond %g, the largest value a distribution may take (expected "
                  "%s)",
                  text, biggest, DIST_MAX_VALUE, kind->form);
        return -1;
    }
    if ((kind == &KIND_LOGNORMAL || kind == &KIND_GAMMA) && cv > DIST_MAX_CV) {
        util_errf(err, errlen,
                  "'%s': cv %g is too large: expected a cv in (0, %g] (a wider spread makes the "
                  "moments overflow or every draw 0 but a rare huge one)",
                  text, cv, DIST_MAX_CV);
        return -1;
    }
    return 0;
}

static int load_empirical(const char *path, dist *d, char *err, size_t errlen)
{
    csvin *in = csvin_open(path, err, errlen);
    if (in == NULL)
        return -1;
    size_t cap = 1024, n = 0;
    double *vals = malloc(cap * sizeof *vals);
    int rc = vals ? 0 : -1;
    if (rc != 0)
        util_errf(err, errlen, "empirical: out of memory");
    int got;
    while (rc == 0 && (got = csvin_next(in)) == 1) {
        const char *field = csvin_field(in, 0);
        double x;
        if (util_parse_double(field, &x) != 0 || x < 0) {
            if (csvin_line(in) == 1 && n == 0)
                continue; /* a header line */
            char shown[64];
            util_printable(field, shown, sizeof shown);
            util_errf(err, errlen, "%s:%ld: column 1: expected a number >= 0, found '%s'", path,
                      csvin_line(in), shown);
            rc = -1;
            break;
        }
        if (n == cap) {
            double *p = realloc(vals, 2 * cap * sizeof *p);
            if (p == NULL) {
                util_errf(err, errlen, "empirical: out of memory");
                rc = -1;
                break;
            }
            vals = p;
            cap *= 2;
        }
        vals[n++] = x;
    }
    if (rc == 0 && got < 0) {
        util_errf(err, errlen, "%s", csvin_error(in));
        rc = -1;
    }
    if (rc == 0 && n == 0) {
        util_errf(err, errlen, "%s: no numbers found (expected one value per line)", path);
        rc = -1;
    }
    csvin_close(in);
    if (rc == 0) {
        d->mean = gsl_stats_mean(vals, 1, n);
        if (!(d->mean > 0)) {
            util_errf(err, errlen, "%s: all values are zero (expected a positive mean)", path);
            rc = -1;
        }
    }
    if (rc != 0) {
        free(vals);
        return -1;
    }
    d->kind = &KIND_EMPIRICAL;
    d->values = vals;
    d->n_values = n;
    double var = n > 1 ? gsl_stats_variance_with_fixed_mean(vals, 1, n, d->mean) : 0.0;
    d->scv = var / (d->mean * d->mean);
    return 0;
}

/* --- parsing ------------------------------------------------------------------------------ */

static const dist_kind *const KINDS[] = {&KIND_EXP,   &KIND_DET,       &KIND_LOGNORMAL,
                                         &KIND_GAMMA, &KIND_EMPIRICAL, &KIND_UNIFORM};

/* Plain forms of a fixed value: "500", "fixed:500" or "det:500" stand for det:value=500, as
 * a user writes a fixed length. Returns 1 with the long form in out, or 0. */
static int plain_fixed(const char *text, char *out, size_t len)
{
    const char *num = text;
    if (strncmp(text, "fixed:", 6) == 0)
        num = text + 6;
    else if (strncmp(text, "det:", 4) == 0)
        num = text + 4;
    double v;
    if (*num == '\0' || strchr(num, '=') != NULL || util_parse_double(num, &v) != 0)
        return 0;
    for (const char *c = num; *c; c++) /* strtod would pass over leading spaces */
        if (!isgraph((unsigned char)*c))
            return 0;
    snprintf(out, len, "det:value=%s", num);
    return 1;
}

int dist_parse(const char *text, dist *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    char plain[96];
    if (strlen(text) < 64 && plain_fixed(text, plain, sizeof plain)) {
        /* Errors then name the value as given, with the long form expected. */
        if (dist_parse(plain, d, err, errlen) == 0)
            return 0;
        util_errf(err, errlen, "'%s': expected a fixed value >= 0 (a number, fixed:V or "
                               "det:value=V)", text);
        return -1;
    }
    spec s;
    const dist_kind *kind = NULL;
    char name[32];
    spec_name_of(text, name, sizeof name);
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(name, KINDS[i]->name) == 0)
            kind = KINDS[i];
    if (strcmp(name, "fixed") == 0)
        kind = &KIND_DET; /* fixed:value=V reads better for token lengths */
    if (spec_parse(text, &s, err, errlen) != 0) {
        spec_add_expected(err, errlen, kind ? kind->form : dist_forms());
        return -1;
    }
    if (kind == NULL) {
        util_errf(err, errlen,
                  "'%s': unknown distribution '%s' (expected one of %s)", text, s.name,
                  dist_forms());
        return -1;
    }
    static const char *const k_mean[] = {"mean", NULL};
    static const char *const k_value[] = {"value", NULL};
    static const char *const k_mean_cv[] = {"mean", "cv", NULL};
    static const char *const k_file[] = {"file", NULL};
    double mean = 0, cv = 0;
    int rc;
    if (kind == &KIND_EXP) {
        rc = spec_check_keys(&s, k_mean, k_mean, kind->form, err, errlen) ||
             spec_number(&s, "mean", SPEC_POSITIVE, 0, 0, &mean, kind->form, err, errlen);
    } else if (kind == &KIND_DET) {
        rc = spec_check_keys(&s, k_value, k_value, kind->form, err, errlen) ||
             spec_number(&s, "value", SPEC_NONNEG, 0, 0, &mean, kind->form, err, errlen);
    } else if (kind == &KIND_UNIFORM) {
        static const char *const k_minmax[] = {"min", "max", NULL};
        double lo = 0, hi = 0;
        rc = spec_check_keys(&s, k_minmax, k_minmax, kind->form, err, errlen) ||
             spec_number(&s, "min", SPEC_NONNEG, 0, 0, &lo, kind->form, err, errlen) ||
             spec_number(&s, "max", SPEC_POSITIVE, 0, 0, &hi, kind->form, err, errlen);
        if (rc == 0 && !(hi > lo)) {
            util_errf(err, errlen, "'%s': max must be greater than min (expected %s)", text,
                      kind->form);
            rc = -1;
        }
        if (rc == 0) {
            d->kind = kind;
            d->p1 = lo;
            d->p2 = hi;
            d->mean = (lo + hi) / 2;
            d->scv = (hi - lo) * (hi - lo) / 12.0 / (d->mean * d->mean);
        }
    } else if (kind == &KIND_EMPIRICAL) {
        rc = spec_check_keys(&s, k_file, k_file, kind->form, err, errlen) ||
             load_empirical(spec_string(&s, "file"), d, err, errlen);
    } else {
        rc = spec_check_keys(&s, k_mean_cv, k_mean_cv, kind->form, err, errlen) ||
             spec_number(&s, "mean", SPEC_POSITIVE, 0, 0, &mean, kind->form, err, errlen) ||
             spec_number(&s, "cv", SPEC_POSITIVE, 0, 0, &cv, kind->form, err, errlen);
    }
    if (rc != 0)
        return -1;
    if (kind != &KIND_EMPIRICAL && in_range(text, kind, mean, cv, d, err, errlen) != 0)
        return -1;
    if (kind != &KIND_EMPIRICAL && kind != &KIND_UNIFORM)
        set_moments(d, kind, mean, cv);
    snprintf(d->text, sizeof d->text, "%s", text);
    return 0;
}

int dist_make(const char *kind_name, double mean, double cv, dist *d, char *err, size_t errlen)
{
    memset(d, 0, sizeof *d);
    const dist_kind *kind = NULL;
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(kind_name, KINDS[i]->name) == 0 && KINDS[i] != &KIND_EMPIRICAL)
            kind = KINDS[i];
    int cv_needed = kind == &KIND_LOGNORMAL || kind == &KIND_GAMMA;
    if (kind == NULL || !isfinite(mean) || mean < 0 || (kind != &KIND_DET && mean == 0) ||
        (cv_needed && !(cv > 0 && isfinite(cv)))) {
        util_errf(err, errlen, "bad distribution %s(mean=%g, cv=%g)", kind_name, mean, cv);
        return -1;
    }
    char text[128];
    snprintf(text, sizeof text, "%s:mean=%g,cv=%g", kind_name, mean, cv);
    if (in_range(text, kind, mean, cv_needed ? cv : 0, d, err, errlen) != 0)
        return -1;
    set_moments(d, kind, mean, cv);
    if (kind == &KIND_EXP)
        snprintf(d->text, sizeof d->text, "exp:mean=%.17g", mean);
    else if (kind == &KIND_DET)
        snprintf(d->text, sizeof d->text, "det:value=%.17g", mean);
    else
        snprintf(d->text, sizeof d->text, "%s:mean=%.17g,cv=%.17g", kind->name, mean, cv);
    return 0;
}

void dist_fini(dist *d)
{
    free(d->values);
    d->values = NULL;
    d->n_values = 0;
}

const char *dist_forms(void)
{
    return "N (a fixed value) | exp:mean=M | det:value=V (or fixed:V) | lognormal:mean=M,cv=C | "
           "gamma:mean=M,cv=C | uniform:min=A,max=B | empirical:file=F";
}
