/*
 * memplan: weights, reserve and KV cache per replica (see memplan.h).
 */
#include "models/memplan.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/base/util.h"

double memplan_default_reserve(int tp)
{
    return MEMPLAN_RESERVE_BYTES + (tp > 1 ? MEMPLAN_RESERVE_TP_BYTES : 0.0);
}

static void compute(const model_arch *m, const gpu_spec *g, const memplan_config *cfg, memplan *p)
{
    memset(p, 0, sizeof *p);
    p->weight_bytes = model_weight_bytes(m, cfg->weights);
    p->weight_bytes_per_gpu = p->weight_bytes / cfg->tp;
    p->budget_bytes_per_gpu = g->memory_bytes * cfg->gpu_memory_utilization;
    p->kv_bytes_per_gpu =
        p->budget_bytes_per_gpu - p->weight_bytes_per_gpu - cfg->reserve_bytes_per_gpu;
    p->kv_bytes_per_token = model_kv_bytes_per_token(m, cfg->kv);
    p->kv_bytes_per_token_gpu = model_kv_bytes_per_token_per_gpu(m, cfg->kv, cfg->tp);
    double block_bytes = p->kv_bytes_per_token_gpu * cfg->block_size;
    double blocks = p->kv_bytes_per_gpu > 0 ? floor(p->kv_bytes_per_gpu / block_bytes) : 0.0;
    p->kv_blocks = (uint64_t)blocks;
    p->kv_tokens = p->kv_blocks * cfg->block_size;
}

int memplan_make(const model_arch *m, const gpu_spec *g, const memplan_config *cfg, memplan *out,
                 char *err, size_t errlen)
{
    if (cfg->tp < 1 || cfg->block_size < 1 || !(cfg->gpu_memory_utilization > 0) ||
        cfg->gpu_memory_utilization > 1 || precision_kv_bytes(cfg->kv) <= 0) {
        util_errf(err, errlen,
                  "bad memory plan settings (tp %d, block size %u, utilisation %g, "
                  "kv %s)",
                  cfg->tp, cfg->block_size, cfg->gpu_memory_utilization, precision_name(cfg->kv));
        return -1;
    }
    if (!(model_kv_bytes_per_token(m, cfg->kv) > 0) || !(m->params > 0)) {
        util_errf(err, errlen,
                  "%s: the architecture gives no KV cache or no weights "
                  "(layers %d, kv_heads %d, head_dim %d)",
                  m->name, m->layers, m->kv_heads, m->head_dim);
        return -1;
    }
    if (!(model_kv_bytes_per_token(m, cfg->kv) > 0) || !(m->params > 0)) {
        util_errf(err, errlen,
                  "%s: the architecture gives no KV cache or no weights (layers %d, kv_heads "
                  "%d, head_dim %d)",
                  m->name, m->layers, m->kv_heads, m->head_dim);
        return -1;
    }
    compute(m, g, cfg, out);
    if (out->kv_blocks > 0)
        return 0;
    /* Say what would fit: the smallest power-of-two tp up to 64 at this precision, and the
     * first lower weight precision at this tp. */
    char hint[256] = "";
    size_t used = 0;
    memplan trial;
    memplan_config c = *cfg;
    for (int tp = cfg->tp * 2; tp <= 64; tp *= 2) {
        if (m->heads % tp != 0 || (m->kv_heads % tp != 0 && tp % m->kv_heads != 0))
            continue; /* tensor parallelism must split the heads evenly */
        c.tp = tp;
        c.reserve_bytes_per_gpu = memplan_default_reserve(tp);
        compute(m, g, &c, &trial);
        if (trial.kv_blocks > 0) {
            used += (size_t)snprintf(hint + used, sizeof hint - used, "; fits with --tp %d", tp);
            break;
        }
    }
    c = *cfg;
    static const precision lower[] = {PREC_FP8, PREC_INT8, PREC_INT4};
    for (size_t i = 0; i < sizeof lower / sizeof lower[0] && used < sizeof hint; i++) {
        if (precision_weight_bytes(lower[i]) >= precision_weight_bytes(cfg->weights))
            continue;
        c.weights = lower[i];
        compute(m, g, &c, &trial);
        if (trial.kv_blocks > 0) {
            snprintf(hint + used, sizeof hint - used, "%s --precision %s",
                     used ? ", or" : "; fits with", precision_name(lower[i]));
            break;
        }
    }
    double usable = out->budget_bytes_per_gpu - cfg->reserve_bytes_per_gpu;
    util_errf(err, errlen,
              "%s at %s needs %.1f GB of weights (%.1f GB per GPU at tp %d); %d x %s gives "
              "%.1f GB usable per GPU (%.0f GB x %.2f utilisation - %.1f GB reserve), leaving "
              "no room for the KV cache%s",
              m->name, precision_name(cfg->weights), out->weight_bytes / 1e9,
              out->weight_bytes_per_gpu / 1e9, cfg->tp, cfg->tp, g->name, usable / 1e9,
              g->memory_bytes / 1e9, cfg->gpu_memory_utilization, cfg->reserve_bytes_per_gpu / 1e9,
              hint[0] ? hint
                      : "; no tp up to 64 or lower "
                        "precision fits either");
    return -1;
}

uint64_t memplan_max_batch(const memplan *p, uint32_t block_size, uint64_t context_tokens)
{
    if (context_tokens == 0)
        return p->kv_blocks; /* degenerate: one block per request at least */
    uint64_t blocks_per_req = (context_tokens + block_size - 1) / block_size;
    return p->kv_blocks / blocks_per_req;
}
