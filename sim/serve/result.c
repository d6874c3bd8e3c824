/*
 * result: the figures of every replication summarised into a serve_result (see result.h).
 */
#include "sim/serve/result.h"

#include <math.h>
#include <stdlib.h>

#include "sim/base/util.h"

serve_metric serve_slo_target_metric(serve_slo_metric k, double pct)
{
    static const serve_metric base[SLO_COUNT] = {SM_mean_ttft_ms, SM_mean_tpot_ms, SM_mean_e2el_ms};
    /* mean, p50, p90, p95, p99, p99.9 follow each other in the metric list */
    unsigned off = pct == 0    ? 0u
                   : pct == 50 ? 1u
                   : pct == 90 ? 2u
                   : pct == 95 ? 3u
                   : pct == 99 ? 4u
                               : 5u;
    return (serve_metric)((unsigned)base[k] + off);
}

void serve_result_summarise(const serve_config *c, serve_result *res)
{
    size_t reps = c->replications;
    for (size_t m = 0; m < SM_COUNT; m++)
        res->metric[m] = stats_ci95(res->per_rep + m * reps, reps);
    /* Little's law is compared only where both sides have an interval: lambda*W has no
     * value in a replication where no measured request finished (all refused, say). */
    res->little_checked = reps >= 2 && res->metric[SM_lambda_w].n >= 2 &&
                          res->metric[SM_mean_in_system].n >= 2;
    res->little_ok = stats_ci_overlap(res->metric[SM_mean_in_system], res->metric[SM_lambda_w]);
    for (int k = 0; k < SLO_COUNT; k++) {
        if (c->slo.limit_s[k] <= 0) {
            res->slo_met[k] = -1;
            continue;
        }
        serve_metric m = serve_slo_target_metric((serve_slo_metric)k, c->slo.pct[k]);
        res->slo_met[k] = res->metric[m].mean <= 1e3 * c->slo.limit_s[k];
    }
    res->cost_per_hour_usd = c->price_usd_per_gpu_hour * c->gpus_per_replica * c->replicas;
}

void serve_result_saturation(serve_result *res, const double *offered, const double *share,
                             const double *allowance, const double *noise, size_t reps)
{
    res->offered_rate = stats_ci95(offered, reps);
    res->carried_share = stats_ci95(share, reps);
    /* Judged only when every replication is: an interval over the ones left would be drawn
     * from the replications that happened to be long enough. */
    if (res->carried_share.n < reps || reps == 0) {
        res->carried_share = stats_ci95(share, 0);
        res->saturated = -1;
        return;
    }
    /* The share with each replication's fill allowance, and an interval over the
     * replications never narrower than the noise a stable system's share has within one
     * (SERVE_SATURATED_NOISE_SIZES of it, averaged over the replications). */
    double allow = 0, floor_hw = 0;
    for (size_t r = 0; r < reps; r++) {
        allow += allowance[r];
        floor_hw += noise[r];
    }
    allow /= (double)reps;
    floor_hw = SERVE_SATURATED_NOISE_SIZES * floor_hw / (double)reps;
    double hw = res->carried_share.half_width;
    if (!isfinite(hw) || hw < floor_hw)
        hw = floor_hw;
    double upper = res->carried_share.mean + allow + hw;
    res->saturated = upper < SERVE_SATURATED_SHARE;
}

int serve_result_check_conservation(const serve_conservation *c, int rep_index, char *err,
                                    size_t errlen)
{
    if (c->offered == c->requests && c->finished + c->refused == c->offered && c->in_system == 0 &&
        c->kv_blocks == 0)
        return 0;
    util_errf(err, errlen,
              "internal error: requests not conserved in replication %d: %llu requests, "
              "%llu offered, %llu finished + %llu refused, %llu still in the system, %llu KV "
              "blocks still held",
              rep_index, (unsigned long long)c->requests, (unsigned long long)c->offered,
              (unsigned long long)c->finished, (unsigned long long)c->refused,
              (unsigned long long)c->in_system, (unsigned long long)c->kv_blocks);
    return -1;
}

void serve_result_fini(serve_result *res)
{
    free(res->per_rep);
    free(res->seeds);
    free(res->replica_share);
    free(res->replica_prefix);
    res->per_rep = NULL;
    res->seeds = NULL;
    res->replica_share = res->replica_prefix = NULL;
}
