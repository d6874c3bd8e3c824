/*
 * test_api: the public interface of capsim.h, used as an outside program would use it.
 *
 * Known answers: an M/D/1-like check is not possible through the public keys alone, so the
 * checks here are the contract: errors name what is wrong and return the documented status;
 * a run conserves requests (offered = finished + refused); the same seed gives the same
 * figures and another seed different ones; a result outlives its scenario; every metric
 * has a name and a unit; and the figures are those of the serving simulation with the same
 * settings resolved through sim/plan (the route `capsim run` takes).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/api/capsim.h"
#include "sim/plan/runspec.h"
#include "sim/serve/serve.h"
#include "tests/check.h"

/* A small, fast scenario: the 1B model on one H100, 400 requests, 3 replications. */
static capsim_scenario *small(const char *seed)
{
    capsim_scenario *s = NULL;
    if (!CHECK_EQ_INT(capsim_scenario_open(NULL, &s), CAPSIM_OK))
        return s;
    CHECK_EQ_INT(capsim_scenario_set(s, "model", "llama-3.2-1b"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "gpu", "h100-sxm"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "arrival", "poisson:rate=20"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "requests", "400"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "replications", "3"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "seed", seed), CAPSIM_OK);
    return s;
}

static double metric(const capsim_result *r, const char *name)
{
    double m = NAN, ci = NAN;
    CHECK_EQ_INT(capsim_result_metric(r, name, &m, &ci), CAPSIM_OK);
    return m;
}

static void test_errors(void)
{
    capsim_scenario *s = NULL;
    CHECK_EQ_INT(capsim_scenario_open(NULL, &s), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "no_such_key", "1"), CAPSIM_EINVAL);
    CHECK_CONTAINS(capsim_scenario_error(s), "no_such_key");
    /* '-' and '_' both work, as in a flag and a scenario file */
    CHECK_EQ_INT(capsim_scenario_set(s, "max-num-seqs", "64"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "model", "no-such-model"), CAPSIM_OK);
    CHECK_EQ_INT(capsim_scenario_set(s, "gpu", "h100-sxm"), CAPSIM_OK);
    capsim_result *r = (capsim_result *)&r; /* must be reset to NULL on failure */
    CHECK_EQ_INT(capsim_run(s, &r), CAPSIM_EINVAL);
    CHECK(r == NULL);
    CHECK_CONTAINS(capsim_scenario_error(s), "no-such-model");
    capsim_scenario_free(s);

    CHECK_EQ_INT(capsim_scenario_open("/nonexistent/scenario.ini", &s), CAPSIM_EINVAL);
    CHECK_CONTAINS(capsim_scenario_error(s), "/nonexistent/scenario.ini");
    capsim_scenario_free(s);

    CHECK_CONTAINS(capsim_strerror(CAPSIM_ENOTFOUND), "metric");
    CHECK_CONTAINS(capsim_strerror(12345), "unknown");
    CHECK_CONTAINS(capsim_version(), "capsim ");
}

static void test_run_conserves_and_repeats(void)
{
    capsim_scenario *a = small("7"), *b = small("7"), *c = small("8");
    capsim_result *ra = NULL, *rb = NULL, *rc = NULL;
    CHECK_EQ_INT(capsim_run(a, &ra), CAPSIM_OK);
    CHECK_EQ_INT(capsim_run(b, &rb), CAPSIM_OK);
    CHECK_EQ_INT(capsim_run(c, &rc), CAPSIM_OK);
    /* a result outlives the scenario that made it */
    capsim_scenario_free(a);
    capsim_scenario_free(b);
    capsim_scenario_free(c);
    if (!CHECK(ra && rb && rc))
        goto out;
    unsigned long long offered, finished, refused;
    capsim_result_requests(ra, &offered, &finished, &refused);
    CHECK_EQ_U64(offered, 3 * 400);
    CHECK_EQ_U64(finished + refused, offered);
    CHECK_EQ_DBL(metric(ra, "p99_ttft_ms"), metric(rb, "p99_ttft_ms"));
    CHECK_EQ_DBL(metric(ra, "request_throughput"), metric(rb, "request_throughput"));
    CHECK(metric(ra, "p99_ttft_ms") != metric(rc, "p99_ttft_ms"));
    /* 20 req/s offered and carried: the 1B model on an H100 is far from saturation */
    CHECK_REL(metric(ra, "request_throughput"), 20.0, 0.25);
    CHECK(metric(ra, "mean_ttft_ms") > 0 && metric(ra, "mean_ttft_ms") < 1000);
    double m, ci;
    CHECK_EQ_INT(capsim_result_metric(ra, "ttft", &m, &ci), CAPSIM_ENOTFOUND);
    CHECK_NAN(m);
out:
    capsim_result_free(ra);
    capsim_result_free(rb);
    capsim_result_free(rc);
}

static void test_metric_table(void)
{
    capsim_scenario *s = small("1");
    capsim_result *r = NULL;
    if (!CHECK_EQ_INT(capsim_run(s, &r), CAPSIM_OK)) {
        capsim_scenario_free(s);
        return;
    }
    size_t n = capsim_result_metric_count(r);
    CHECK(n > 10);
    for (size_t i = 0; i < n; i++) {
        const char *name = capsim_result_metric_name(r, i);
        const char *unit = capsim_result_metric_unit(r, i);
        if (!CHECK(name && unit && *name && *unit))
            break;
        double mean, ci;
        CHECK_EQ_INT(capsim_result_metric(r, name, &mean, &ci), CAPSIM_OK);
    }
    CHECK(capsim_result_metric_name(r, n) == NULL);
    CHECK(capsim_result_metric_unit(r, n) == NULL);
    capsim_result_free(r);
    capsim_scenario_free(s);
}

/* The API's figures are the serving simulation's for the same settings, resolved the way
 * the command line resolves them. */
static void test_same_as_plan(void)
{
    capsim_scenario *s = small("3");
    capsim_result *r = NULL;
    CHECK_EQ_INT(capsim_run(s, &r), CAPSIM_OK);
    capsim_scenario_free(s);

    run_spec spec;
    run_defaults(&spec);
    char err[1024];
    const char *kv[][2] = {{"model", "llama-3.2-1b"}, {"gpu", "h100-sxm"},
                           {"arrival", "poisson:rate=20"}, {"requests", "400"},
                           {"replications", "3"}, {"seed", "3"}};
    for (size_t i = 0; i < sizeof kv / sizeof kv[0]; i++)
        for (int o = 0; o < OPT_COUNT; o++)
            if (strcmp(run_opt_key[o], kv[i][0]) == 0)
                CHECK_EQ_INT(run_set_value(&spec, (run_opt)o, kv[i][1], err, sizeof err), 0);
    resolved x;
    serve_result res;
    if (CHECK_EQ_INT(run_resolve(&spec, &x, err, sizeof err), 0) &&
        CHECK_EQ_INT(serve_run(&x.cfg, &res, err, sizeof err), 0)) {
        if (CHECK(r != NULL))
            for (size_t i = 0; i < SM_COUNT; i++) {
                double m, ci;
                capsim_result_metric(r, serve_metric_names[i], &m, &ci);
                if (isnan(m))
                    CHECK_NAN(res.metric[i].mean);
                else
                    CHECK_EQ_DBL(m, res.metric[i].mean);
            }
        serve_result_fini(&res);
    }
    run_resolved_fini(&x);
    capsim_result_free(r);
}

TEST_MAIN(TEST(test_errors), TEST(test_run_conserves_and_repeats), TEST(test_metric_table),
          TEST(test_same_as_plan))
