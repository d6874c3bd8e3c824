/*
 * capsim: the public library interface (see capsim.h), a thin layer over sim/plan's typed
 * scenario (runspec) and the serving simulation.
 *
 * A scenario owns its settings and the message of its last failure; a result owns a copy of
 * the metrics it reports, so it outlives the scenario that made it.
 */
#include "sim/api/capsim.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/rng.h"
#include "sim/plan/runspec.h"
#include "sim/serve/serve.h"

#ifndef CAPSIM_VERSION
#define CAPSIM_VERSION "0.1.0"
#endif

struct capsim_scenario {
    run_spec spec;
    char error[1024];
};

struct capsim_result {
    stats_ci metric[SM_COUNT];
    unsigned long long offered, finished, refused;
};

const char *capsim_version(void)
{
    return "capsim " CAPSIM_VERSION;
}

const char *capsim_strerror(int status)
{
    switch (status) {
    case CAPSIM_OK:
        return "success";
    case CAPSIM_EINVAL:
        return "a key, a value or a scenario file is not valid";
    case CAPSIM_ERUN:
        return "the simulation could not run";
    case CAPSIM_ENOMEM:
        return "out of memory";
    case CAPSIM_ENOTFOUND:
        return "no such metric";
    default:
        return "unknown status";
    }
}

static int fail(capsim_scenario *s, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
    return status;
}

int capsim_scenario_open(const char *path, capsim_scenario **out)
{
    /* GSL must report errors back to capsim rather than abort the host program. */
    sim_gsl_install_handler();
    capsim_scenario *s = calloc(1, sizeof *s);
    *out = s;
    if (s == NULL)
        return CAPSIM_ENOMEM;
    run_defaults(&s->spec);
    if (path != NULL &&
        run_load_ini(&s->spec, path, s->error, sizeof s->error) != 0)
        return CAPSIM_EINVAL;
    return CAPSIM_OK;
}

int capsim_scenario_set(capsim_scenario *s, const char *key, const char *value)
{
    s->error[0] = '\0';
    char name[64];
    size_t n = strlen(key);
    if (n == 0 || n >= sizeof name)
        return fail(s, CAPSIM_EINVAL, "key '%s': expected one of capsim run's options", key);
    for (size_t i = 0; i <= n; i++)
        name[i] = key[i] == '-' ? '_' : key[i];
    for (int o = 0; o < OPT_COUNT; o++)
        if (strcmp(name, run_opt_key[o]) == 0)
            return run_set_value(&s->spec, (run_opt)o, value, s->error, sizeof s->error) == 0
                       ? CAPSIM_OK
                       : CAPSIM_EINVAL;
    return fail(s, CAPSIM_EINVAL, "key '%s': not a setting (capsim run --help lists them)", key);
}

const char *capsim_scenario_error(const capsim_scenario *s)
{
    return s ? s->error : "out of memory";
}

int capsim_run(capsim_scenario *s, capsim_result **out)
{
    *out = NULL;
    s->error[0] = '\0';
    resolved x;
    if (run_resolve(&s->spec, &x, s->error, sizeof s->error) != 0) {
        run_resolved_fini(&x);
        return CAPSIM_EINVAL;
    }
    capsim_result *r = calloc(1, sizeof *r);
    if (r == NULL) {
        run_resolved_fini(&x);
        return fail(s, CAPSIM_ENOMEM, "out of memory");
    }
    serve_result res;
    if (serve_run(&x.cfg, &res, s->error, sizeof s->error) != 0) {
        run_resolved_fini(&x);
        free(r);
        return CAPSIM_ERUN;
    }
    memcpy(r->metric, res.metric, sizeof r->metric);
    r->offered = res.offered;
    r->finished = res.finished;
    r->refused = res.rejected;
    serve_result_fini(&res);
    run_resolved_fini(&x);
    *out = r;
    return CAPSIM_OK;
}

size_t capsim_result_metric_count(const capsim_result *r)
{
    (void)r;
    return SM_COUNT;
}

const char *capsim_result_metric_name(const capsim_result *r, size_t i)
{
    (void)r;
    return i < SM_COUNT ? serve_metric_names[i] : NULL;
}

const char *capsim_result_metric_unit(const capsim_result *r, size_t i)
{
    (void)r;
    return i < SM_COUNT ? serve_metric_units[i] : NULL;
}

int capsim_result_metric(const capsim_result *r, const char *name, double *mean, double *ci_half)
{
    for (size_t i = 0; i < SM_COUNT; i++)
        if (strcmp(name, serve_metric_names[i]) == 0) {
            *mean = r->metric[i].mean;
            *ci_half = r->metric[i].half_width;
            return CAPSIM_OK;
        }
    *mean = *ci_half = NAN;
    return CAPSIM_ENOTFOUND;
}

void capsim_result_requests(const capsim_result *r, unsigned long long *offered,
                            unsigned long long *finished, unsigned long long *refused)
{
    *offered = r->offered;
    *finished = r->finished;
    *refused = r->refused;
}

void capsim_result_free(capsim_result *r)
{
    free(r);
}

void capsim_scenario_free(capsim_scenario *s)
{
    free(s);
}
