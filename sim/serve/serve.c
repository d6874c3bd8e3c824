/*
 * serve: replicas, schedulers and routing on the event engine (see serve.h).
 *
 * Invariants of a replica while a replication runs:
 *   - free_blocks + sum of blocks held by its running requests = kv_blocks;
 *   - a running request holds ceil(ctx / block_size) blocks (continuous batching), or the
 *     blocks of its whole sequence (static batching), where ctx counts the tokens whose KV
 *     is cached;
 *   - at most one step is in flight; its composition (prefill chunks and decodes) is fixed
 *     when it starts and applied when it ends.
 * Requests live in a pool of slots, reused after completion, so the hot path allocates
 * only when the number of requests in the system reaches a new high.
 */
#include "sim/serve/serve.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/engine/engine.h"
#include "sim/base/histo.h"
#include "sim/base/ring.h"
#include "sim/base/rng.h"
#include "sim/base/util.h"
#include "workloads/resample.h"

#define SERVE_NAME(name, unit) #name,
#define SERVE_UNIT(name, unit) unit,
const char *const serve_metric_names[SM_COUNT] = {SERVE_METRICS(SERVE_NAME)};
const char *const serve_metric_units[SM_COUNT] = {SERVE_METRICS(SERVE_UNIT)};
#undef SERVE_NAME
#undef SERVE_UNIT

const char *const serve_router_names[ROUTER_COUNT] = {"rr", "random", "jsq", "least-tokens", "p2c"};

enum { EV_ARRIVAL = 0, EV_STEP_END = 1, EV_SAMPLE = 2, EV_USER = 3 };
enum { SRC_ARRIVALS = 0, SRC_LENGTHS = 1, SRC_ROUTING = 2, SRC_NOISE0 = 3 };

typedef struct slot {
    uint64_t index; /* arrival order within the replication */
    double arrival_s, sched_s, first_s, last_s;
    uint32_t prompt, output;
    uint32_t gen;       /* output tokens produced so far */
    uint32_t ctx;       /* tokens whose KV is cached */
    uint32_t target;    /* tokens to prefill in this attempt: prompt + gen at admission */
    uint32_t prefilled; /* of target, done */
    uint32_t blocks;    /* KV blocks held */
    uint32_t cls, preemptions, replica;
    uint32_t user; /* closed loop: the user who sent it; UINT32_MAX in an open workload */
    uint32_t next_free;
} slot;

typedef struct replica {
    sim_ring waiting; /* slot ids; preempted requests go back to the front */
    uint32_t *run;    /* running slot ids in admission order (newest last) */
    uint32_t nrun;
    uint64_t free_blocks;
    int busy;
    double step_start_s;
    uint32_t *pre_slot, *pre_chunk, npre; /* prefill chunks of the step in flight */
    uint32_t *dec_slot, ndec;             /* decodes of the step in flight */
    uint64_t outstanding_tokens; /* tokens still to compute: prefill left plus output left */
    gsl_rng *noise;
    /* A decode stretch in flight: k steps of the same batch ending at end_s[0..k). */
    uint32_t k; /* 0: a single step is in flight */
    double *end_s;
    uint32_t end_cap;
    gsl_rng *noise_saved; /* the noise generator as it was when the stretch began */
    uint32_t stamp;       /* tags the step-end event that is current */
    double end_s_single;  /* end of the single step in flight */
} replica;

/* What is accumulated over the measurement window. */
typedef struct window_acc {
    double area_in_system, area_busy, area_running, area_kv; /* time integrals */
    uint64_t done, out_tokens, in_tokens;                    /* completions and tokens */
} window_acc;

typedef struct sim {
    const serve_config *cfg;
    sim_engine eng;
    replica *rep;
    slot *slots;
    uint32_t n_slots, slots_cap, free_head;
    reqsrc *src;
    request next_req;
    int have_next;
    uint64_t n_arrived, warm, n_total;
    gsl_rng *rng_think, *rng_len; /* closed loop: think times and lengths */
    gsl_rng *rng_route;
    uint32_t rr_next;
    /* window and time averages */
    /* The measurement window runs from the first measured arrival to the last completion,
     * so it holds every measured request whole: throughput is meaningful for a batch
     * that arrives at once, and Little's law holds over it. t_end stays infinite while
     * running (time averages after the last completion add nothing: the system is
     * empty); t_last_done closes the window. */
    double t_start, t_end, last_t, t_last_done, t_last_arrival;
    int snap_taken;
    int window_mode; /* -1 undecided, 0 to the last completion, 1 to the last arrival */
    uint64_t in_system, busy_replicas, running_seqs, kv_used;
    window_acc acc;  /* since the first measured arrival */
    window_acc snap; /* the same, at the last arrival */
    double max_batch, max_kv;
    /* counters in the window */
    /* per measured request */
    histo h_ttft, h_tpot, h_itl, h_e2e, h_queue;
    double sum_ttft, sum_tpot, sum_itl, sum_e2e, sum_queue;
    uint64_t n_done, n_tpot, n_itl, n_slo_met, n_rejected, n_preempt, n_measured_arrived;
    uint64_t cls_done[REQSRC_MAX_CLASSES], cls_met[REQSRC_MAX_CLASSES];
    uint64_t steps;
    serve_result *res; /* conservation counters go straight here */
    int jump_ok;       /* stretches allowed in this replication */
    /* time series (replication 0) */
    uint64_t ts_done, ts_tokens;
    int rep_index;
} sim;

static int user_thinks(sim *s, uint32_t u, double now);

/* --- small containers ----------------------------------------------------------------- */

static int ring_push(sim_ring *q, uint32_t v, int front)
{
    return sim_ring_push(q, &v, front);
}

static uint32_t ring_peek(const sim_ring *q)
{
    return *(const uint32_t *)sim_ring_front(q);
}

static int slot_alloc(sim *s, uint32_t *id)
{
    if (s->free_head != UINT32_MAX) {
        *id = s->free_head;
        s->free_head = s->slots[*id].next_free;
        return 0;
    }
    if (s->n_slots == s->slots_cap) {
        uint32_t cap = s->slots_cap ? 2 * s->slots_cap : 1024;
        slot *p = realloc(s->slots, (size_t)cap * sizeof *p);
        if (p == NULL)
            return -1;
        s->slots = p;
        s->slots_cap = cap;
    }
    *id = s->n_slots++;
    return 0;
}

static void slot_free(sim *s, uint32_t id)
{
    s->slots[id].next_free = s->free_head;
    s->free_head = id;
}

static uint32_t blocks_for(const sim *s, uint64_t tokens)
{
    return (uint32_t)((tokens + s->cfg->block_size - 1) / s->cfg->block_size);
}

/* --- time averages --------------------------------------------------------------------- */

static void advance(sim *s, double now)
{
    double lo = s->last_t > s->t_start ? s->last_t : s->t_start;
    double hi = now < s->t_end ? now : s->t_end;
    if (hi > lo) {
        double dt = hi - lo;
        s->acc.area_in_system += (double)s->in_system * dt;
        s->acc.area_busy += (double)s->busy_replicas * dt;
        s->acc.area_running += (double)s->running_seqs * dt;
        s->acc.area_kv += (double)s->kv_used * dt;
    }
    s->last_t = now;
}

static int in_window(const sim *s, double t)
{
    return t >= s->t_start && t <= s->t_end;
}

/* --- request completion ------------------------------------------------------------------ */

static void write_request_row(const sim *s, const slot *q, double ttft, double tpot, double e2e,
                              double queue, int met)
{
    FILE *fp = s->cfg->requests_out;
    fprintf(fp, "%d,%llu,%u,%.9g,%u,%u,%u,%.9g,%.9g,", s->rep_index, (unsigned long long)q->index,
            q->cls, q->arrival_s, q->prompt, q->output, q->replica, 1e3 * queue, 1e3 * ttft);
    if (isfinite(tpot))
        fprintf(fp, "%.9g", 1e3 * tpot);
    fprintf(fp, ",%.9g,%u,%d\n", 1e3 * e2e, q->preemptions, met);
}

static void record_done(sim *s, const slot *q)
{
    if (q->index < s->warm)
        return;
    double ttft = q->first_s - q->arrival_s;
    double e2e = q->last_s - q->arrival_s;
    double queue = q->sched_s - q->arrival_s;
    double tpot = q->output > 1 ? (e2e - ttft) / (q->output - 1) : NAN;
    s->n_done++;
    s->sum_ttft += ttft;
    s->sum_e2e += e2e;
    s->sum_queue += queue;
    histo_add(&s->h_ttft, ttft);
    histo_add(&s->h_e2e, e2e);
    histo_add(&s->h_queue, queue);
    if (isfinite(tpot)) {
        s->n_tpot++;
        s->sum_tpot += tpot;
        histo_add(&s->h_tpot, tpot);
        /* The gaps between a request's tokens add up to last - first token. */
        s->n_itl += q->output - 1;
        s->sum_itl += q->last_s - q->first_s;
    }
    const serve_slo *slo = &s->cfg->slo;
    const reqsrc_mix *mix = s->cfg->wl.mix;
    if (mix && s->cfg->class_slo && q->cls < mix->n)
        slo = &s->cfg->class_slo[q->cls];
    int met = (slo->limit_s[SLO_TTFT] <= 0 || ttft <= slo->limit_s[SLO_TTFT]) &&
              (slo->limit_s[SLO_E2EL] <= 0 || e2e <= slo->limit_s[SLO_E2EL]) &&
              (slo->limit_s[SLO_TPOT] <= 0 || !isfinite(tpot) || tpot <= slo->limit_s[SLO_TPOT]);
    s->n_slo_met += (uint64_t)met;
    if (q->cls < REQSRC_MAX_CLASSES) {
        s->cls_done[q->cls]++;
        s->cls_met[q->cls] += (uint64_t)met;
    }
    s->n_preempt += q->preemptions;
    if (s->cfg->requests_out)
        write_request_row(s, q, ttft, tpot, e2e, queue, met);
}

/* --- scheduling ----------------------------------------------------------------------------- */

static void remove_running(replica *r, uint32_t pos)
{
    memmove(&r->run[pos], &r->run[pos + 1], (r->nrun - pos - 1) * sizeof *r->run);
    r->nrun--;
}

/* Preemption by recompute: the request drops its KV cache and goes back to the front of
 * the waiting line; when admitted again it prefills its prompt and the tokens it has
 * already produced. */
static int preempt(sim *s, replica *r, uint32_t pos)
{
    uint32_t id = r->run[pos];
    slot *q = &s->slots[id];
    /* Its remaining work grows by what must be computed again. */
    r->outstanding_tokens += (uint64_t)q->prompt + q->gen - (q->target - q->prefilled);
    r->free_blocks += q->blocks;
    s->kv_used -= q->blocks;
    q->blocks = 0;
    q->ctx = 0;
    q->prefilled = 0;
    q->target = q->prompt + q->gen;
    q->preemptions++;
    s->res->preemptions++;
    remove_running(r, pos);
    s->running_seqs--;
    return ring_push(&r->waiting, id, 1);
}

static void take_blocks(sim *s, replica *r, slot *q, uint32_t n)
{
    assert(r->free_blocks >= n);
    r->free_blocks -= n;
    q->blocks += n;
    s->kv_used += n;
    uint64_t used = s->cfg->kv_blocks - r->free_blocks;
    if (used > s->res->max_blocks_used)
        s->res->max_blocks_used = used;
}

/* Admits waiting requests while sequences, token budget and KV blocks allow. *budget is
 * the token budget left. */
static int admit(sim *s, replica *r, uint32_t *budget, double now)
{
    const serve_config *c = s->cfg;
    while (r->waiting.len > 0 && r->nrun<c->max_num_seqs && * budget> 0) {
        uint32_t id = ring_peek(&r->waiting);
        slot *q = &s->slots[id];
        uint32_t want = q->target - q->prefilled;
        uint32_t chunk = want;
        if (c->chunked_prefill) {
            if (chunk > *budget)
                chunk = *budget;
        } else if (chunk > *budget && r->npre > 0) {
            break; /* does not fit in this step's budget; it goes first next step */
        }
        uint32_t need = blocks_for(s, (uint64_t)q->ctx + chunk) - q->blocks;
        if (need > r->free_blocks)
            break;
        sim_ring_pop(&r->waiting);
        take_blocks(s, r, q, need);
        if (q->preemptions == 0 && q->prefilled == 0)
            q->sched_s = now; /* first scheduled; a preempted request keeps its time */
        r->run[r->nrun++] = id;
        s->running_seqs++;
        r->pre_slot[r->npre] = id;
        r->pre_chunk[r->npre++] = chunk;
        *budget = chunk >= *budget ? 0 : *budget - chunk;
    }
    return 0;
}

/* Adds every running request in decode phase to the step, growing its KV by a block when
 * it crosses a block boundary; when blocks run out, the newest running request is
 * preempted (possibly the one being added). */
static int add_decodes(sim *s, replica *r, uint32_t *budget)
{
    for (uint32_t i = 0; i < r->nrun; i++) {
        uint32_t id = r->run[i];
        slot *q = &s->slots[id];
        if (q->prefilled < q->target)
            continue;
        /* It holds ceil(ctx / block) blocks; one more only when ctx fills them. */
        uint32_t need = (uint64_t)q->blocks * s->cfg->block_size == q->ctx ? 1u : 0u;
        int self_preempted = 0;
        while (need > r->free_blocks) {
            uint32_t last = r->nrun - 1;
            if (preempt(s, r, last) != 0)
                return -1;
            if (last == i) {
                self_preempted = 1;
                break;
            }
        }
        if (self_preempted)
            break;
        take_blocks(s, r, q, need);
        r->dec_slot[r->ndec++] = id;
        if (*budget > 0)
            (*budget)--;
    }
    return 0;
}

/* Continues prefills that earlier steps left unfinished (chunked prefill). */
static void add_prefill_chunks(sim *s, replica *r, uint32_t *budget)
{
    for (uint32_t i = 0; i<r->nrun && * budget> 0; i++) {
        uint32_t id = r->run[i];
        slot *q = &s->slots[id];
        if (q->prefilled >= q->target)
            continue; /* decoding; no prefill chunk is in this step yet (called first) */
        uint32_t chunk = q->target - q->prefilled;
        if (chunk > *budget)
            chunk = *budget;
        uint32_t need = blocks_for(s, (uint64_t)q->ctx + chunk) - q->blocks;
        if (need > r->free_blocks)
            break;
        take_blocks(s, r, q, need);
        r->pre_slot[r->npre] = id;
        r->pre_chunk[r->npre++] = chunk;
        *budget -= chunk;
    }
}

static int compose_continuous(sim *s, replica *r, double now)
{
    uint32_t budget = s->cfg->max_batched_tokens;
    if (s->cfg->chunked_prefill) {
        if (add_decodes(s, r, &budget) != 0)
            return -1;
        add_prefill_chunks(s, r, &budget);
        return admit(s, r, &budget, now);
    }
    /* Without chunked prefill a step is either prefills (new requests first, as vLLM's
     * default scheduler does) or decodes. */
    if (admit(s, r, &budget, now) != 0)
        return -1;
    if (r->npre > 0)
        return 0;
    return add_decodes(s, r, &budget);
}

/* Static batching: an idle replica takes up to max_num_seqs waiting requests whose whole
 * sequence fits in the KV cache, prefills them together, then decodes until every one is
 * done; nothing joins a batch in progress. */
static int compose_static(sim *s, replica *r, double now)
{
    if (r->nrun == 0) {
        while (r->waiting.len > 0 && r->nrun < s->cfg->max_num_seqs) {
            uint32_t id = ring_peek(&r->waiting);
            slot *q = &s->slots[id];
            uint32_t need = blocks_for(s, (uint64_t)q->prompt + q->output);
            if (need > r->free_blocks)
                break;
            sim_ring_pop(&r->waiting);
            take_blocks(s, r, q, need);
            q->sched_s = now;
            r->run[r->nrun++] = id;
            s->running_seqs++;
            r->pre_slot[r->npre] = id;
            r->pre_chunk[r->npre++] = q->target;
        }
        return 0;
    }
    for (uint32_t i = 0; i < r->nrun; i++)
        r->dec_slot[r->ndec++] = r->run[i];
    return 0;
}

static step_shape shape_of(const sim *s, const replica *r)
{
    step_shape sh = {0};
    for (uint32_t k = 0; k < r->npre; k++) {
        const slot *q = &s->slots[r->pre_slot[k]];
        double c = r->pre_chunk[k], before = q->ctx;
        sh.prefill_tokens += c;
        sh.prefill_seqs += 1;
        sh.prefill_attn += c * (before + (c + 1.0) / 2.0);
        sh.prefill_ctx_read += before;
    }
    for (uint32_t k = 0; k < r->ndec; k++) {
        const slot *q = &s->slots[r->dec_slot[k]];
        sh.decode_seqs += 1;
        sh.decode_ctx += (double)q->ctx + 1.0;
    }
    return sh;
}

/* Upper bound on a decode stretch: steps of the batch just composed that can follow
 * unchanged until the first request finishes (1 when this step is not pure decode, or
 * has a prefill pending). */
static uint32_t stretch_bound(const sim *s, const replica *r)
{
    if (r->npre != 0 || r->ndec != r->nrun)
        return 1;
    uint32_t k_max = UINT32_MAX;
    for (uint32_t i = 0; i < r->ndec; i++) {
        const slot *q = &s->slots[r->dec_slot[i]];
        uint32_t left = q->output - q->gen;
        if (left < k_max)
            k_max = left;
    }
    return k_max;
}

/* KV blocks the decoders need, beyond those held, to run k steps (continuous batching). */
static uint64_t growth_blocks(const sim *s, const replica *r, uint32_t k)
{
    uint64_t need = 0;
    for (uint32_t i = 0; i < r->ndec; i++) {
        const slot *q = &s->slots[r->dec_slot[i]];
        need += blocks_for(s, (uint64_t)q->ctx + k) - q->blocks;
    }
    return need;
}

/* Largest k <= k_max whose block growth fits in the free blocks; need grows with k. */
static uint32_t kv_limited(const sim *s, const replica *r, uint32_t k_max)
{
    if (s->cfg->sched == SERVE_STATIC || growth_blocks(s, r, k_max) <= r->free_blocks)
        return k_max; /* static batching reserved every block up front */
    uint32_t lo = 1, hi = k_max - 1;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo + 1) / 2;
        if (growth_blocks(s, r, mid) <= r->free_blocks)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

/* Draws the times of up to k_max decode steps into r->end_s, stopping with the step in
 * which the next request arrives (it may come here and join at the next boundary;
 * stopping there is exact either way). Returns the number drawn. */
static uint32_t draw_stretch(sim *s, replica *r, step_shape sh, double now, uint32_t k_max)
{
    double next = s->have_next ? s->next_req.arrival_s : INFINITY;
    double t = now;
    uint32_t j = 0;
    while (j < k_max) {
        t += step_time_sample(s->cfg->step, &sh, r->noise);
        r->end_s[j++] = t;
        sh.decode_ctx += sh.decode_seqs;
        if (t >= next)
            break;
    }
    return j;
}

static int start_step(sim *s, uint32_t ri, double now)
{
    replica *r = &s->rep[ri];
    if (r->busy)
        return 0;
    r->npre = r->ndec = 0;
    int rc =
        s->cfg->sched == SERVE_STATIC ? compose_static(s, r, now) : compose_continuous(s, r, now);
    if (rc != 0)
        return -1;
    if (r->npre + r->ndec == 0)
        return 0;
    step_shape sh = shape_of(s, r);
    uint32_t k_max = s->jump_ok ? stretch_bound(s, r) : 1;
    r->k = 0;
    if (k_max >= 2) {
        if (r->end_cap < k_max) {
            uint32_t cap = k_max < 64 ? 64 : k_max;
            double *p = realloc(r->end_s, cap * sizeof *p);
            if (p == NULL)
                return -1;
            r->end_s = p;
            r->end_cap = cap;
        }
        /* The generator is saved so that draws a shorter stretch does not use can be
         * given back: the noise stream then matches step-by-step simulation exactly. */
        gsl_rng_memcpy(r->noise_saved, r->noise);
        uint32_t k = draw_stretch(s, r, sh, now, k_max);
        uint32_t fit = kv_limited(s, r, k);
        if (fit < k) {
            gsl_rng_memcpy(r->noise, r->noise_saved);
            k = draw_stretch(s, r, sh, now, fit);
        }
        if (k >= 2)
            r->k = k;
        else
            r->end_s_single = r->end_s[0];
    } else {
        r->end_s_single = now + step_time_sample(s->cfg->step, &sh, r->noise);
    }
    r->busy = 1;
    r->step_start_s = now;
    s->busy_replicas++;
    double batch = (double)(r->npre + r->ndec);
    if (in_window(s, now) && batch > s->max_batch)
        s->max_batch = batch;
    double kv = 1.0 - (double)r->free_blocks / (double)s->cfg->kv_blocks;
    if (in_window(s, now) && kv > s->max_kv)
        s->max_kv = kv;
    s->steps++;
    r->stamp++;
    double end = r->k ? r->end_s[r->k - 1] : r->end_s_single;
    return sim_engine_schedule(&s->eng, end, EV_STEP_END | (r->stamp << 2), ri);
}

/* An arrival has joined replica ri's waiting line while a stretch is in flight: if it
 * could be admitted at the next step boundary, the stretch ends at the end of the step
 * in progress. The generator is rewound and the used draws taken again, so that the
 * noise stream is exactly what step-by-step simulation consumes. */
static int cut_stretch(sim *s, uint32_t ri, double now)
{
    replica *r = &s->rep[ri];
    if (r->k == 0 || r->nrun >= s->cfg->max_num_seqs || r->waiting.len != 1)
        return 0;
    uint32_t done = 0; /* steps ended by now */
    while (done < r->k && r->end_s[done] <= now)
        done++;
    uint32_t k = done + 1;
    if (k >= r->k)
        return 0;
    gsl_rng_memcpy(r->noise, r->noise_saved);
    step_shape sh = shape_of(s, r);
    for (uint32_t j = 0; j < k; j++) {
        step_time_sample(s->cfg->step, &sh, r->noise);
        sh.decode_ctx += sh.decode_seqs;
    }
    r->k = k;
    r->stamp++;
    return sim_engine_schedule(&s->eng, r->end_s[k - 1], EV_STEP_END | (r->stamp << 2), ri);
}

/* Steps of replica r finished by time now (a stretch is applied at its end; this is for
 * the router, which must see the same counts as step-by-step simulation). */
static uint64_t steps_done(const replica *r, double now)
{
    uint32_t lo = 0, hi = r->k;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r->end_s[mid] <= now)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* A token of request q appears at time now. */
static void produce(sim *s, slot *q, double now)
{
    q->gen++;
    s->res->tokens_out++;
    if (q->gen == 1) {
        q->first_s = now;
        /* Its prompt counts once for throughput, whatever was recomputed. */
        if (in_window(s, now))
            s->acc.in_tokens += q->prompt;
    } else if (q->index >= s->warm)
        histo_add(&s->h_itl, now - q->last_s);
    q->last_s = now;
}

/* Tests: free blocks plus blocks held add up to the cache; each running request holds
 * the blocks its cached tokens need (continuous) or its whole sequence (static). */
static void check_replica(sim *s, const replica *r)
{
    uint64_t held = 0;
    for (uint32_t i = 0; i < r->nrun; i++) {
        const slot *q = &s->slots[r->run[i]];
        held += q->blocks;
        uint32_t want = s->cfg->sched == SERVE_STATIC
                            ? blocks_for(s, (uint64_t)q->prompt + q->output)
                            : blocks_for(s, q->ctx);
        if (q->blocks != want || q->gen > q->output || q->prefilled > q->target)
            s->res->invariant_violations++;
    }
    if (held + r->free_blocks != s->cfg->kv_blocks || r->free_blocks > s->cfg->kv_blocks)
        s->res->invariant_violations++;
}

/* Applies the k steps of a decode stretch ending now: tokens, gaps, KV growth, and the
 * time-average corrections for blocks that step-by-step simulation would have taken at
 * each step's start. */
static int apply_stretch(sim *s, replica *r, double now)
{
    int any_done = 0;
    const uint32_t k = r->k;
    const double *T = r->end_s;
    const double t0 = r->step_start_s;
    uint64_t measured = 0;
    double lo_w = s->t_start, hi_w = s->t_end;
    /* Static batching reserved every block at admission: nothing grows. */
    int grows = s->cfg->sched != SERVE_STATIC;
    for (uint32_t i = 0; i < r->ndec; i++) {
        slot *q = &s->slots[r->dec_slot[i]];
        int meas = q->index >= s->warm;
        measured += meas ? 1u : 0u;
        if (meas)
            histo_add(&s->h_itl, T[0] - q->last_s);
        /* Step j (1-based) attends over ctx + j tokens and needs a new block when
         * ctx + j - 1 is a multiple of the block size; step 1's was taken already. The
         * block counts from the start of step j, in the time averages (and in the
         * snapshot taken at the last arrival, if the step started before it). */
        uint32_t bs = s->cfg->block_size;
        uint64_t c0 = q->ctx;
        uint64_t j = bs - (c0 % bs) + 1;
        for (; grows && j <= k; j += bs) {
            if (j < 2)
                continue;
            double a = T[j - 2] > lo_w ? T[j - 2] : lo_w;
            double b = now < hi_w ? now : hi_w;
            if (b > a)
                s->acc.area_kv += b - a;
            double bs_end = s->snap_taken && s->t_last_arrival < hi_w ? s->t_last_arrival : b;
            if (s->snap_taken && bs_end > a)
                s->snap.area_kv += bs_end - a;
        }
        q->gen += k;
        q->ctx += k;
        q->last_s = T[k - 1];
        any_done |= q->gen == q->output;
        s->res->tokens_out += k;
        if (grows) {
            uint32_t need = blocks_for(s, q->ctx) - q->blocks;
            take_blocks(s, r, q, need);
        }
    }
    uint64_t in_win = 0;
    for (uint32_t j = 0; j < k; j++) {
        if (j > 0 && measured)
            histo_add_n(&s->h_itl, T[j] - T[j - 1], measured);
        in_win += in_window(s, T[j]) ? 1u : 0u;
        /* Steps that ended before the last arrival belong in its snapshot too. */
        if (s->snap_taken && in_window(s, T[j]) && T[j] <= s->t_last_arrival)
            s->snap.out_tokens += r->ndec;
    }
    s->acc.out_tokens += in_win * r->ndec;
    assert(r->outstanding_tokens >= (uint64_t)k * r->ndec);
    r->outstanding_tokens -= (uint64_t)k * r->ndec;
    s->steps += k - 1;
    /* Occupancy only grows within a stretch: its largest in-window value is at the start
     * of the last step that starts inside the window. */
    for (uint32_t j = k; grows && j >= 1; j--) {
        double start = j == 1 ? t0 : T[j - 2];
        if (in_window(s, start)) {
            uint64_t used = 0;
            for (uint32_t i = 0; i < r->ndec; i++) {
                const slot *q = &s->slots[r->dec_slot[i]];
                used += blocks_for(s, q->ctx - k + j);
            }
            uint64_t others = s->cfg->kv_blocks - r->free_blocks;
            for (uint32_t i = 0; i < r->ndec; i++)
                others -= s->slots[r->dec_slot[i]].blocks;
            double kv = (double)(used + others) / (double)s->cfg->kv_blocks;
            if (kv > s->max_kv)
                s->max_kv = kv;
            break;
        }
    }
    r->k = 0;
    return any_done;
}

static int end_step(sim *s, uint32_t ri, double now)
{
    replica *r = &s->rep[ri];
    uint64_t tokens_out = 0, tokens_in = 0;
    int any_done = 0;
    if (r->k > 0) {
        any_done = apply_stretch(s, r, now);
    } else {
        for (uint32_t k = 0; k < r->npre; k++) {
            slot *q = &s->slots[r->pre_slot[k]];
            q->prefilled += r->pre_chunk[k];
            q->ctx += r->pre_chunk[k];
            tokens_in += r->pre_chunk[k];
            if (q->prefilled == q->target) {
                produce(s, q, now);
                tokens_out++;
                any_done |= q->gen == q->output;
            }
        }
        /* Decoders that produced a token when the previous step ended (most of them)
         * share one gap; count those once. */
        uint64_t shared = 0;
        double prev = r->step_start_s;
        for (uint32_t k = 0; k < r->ndec; k++) {
            slot *q = &s->slots[r->dec_slot[k]];
            q->ctx++;
            if (q->last_s == prev && q->gen >= 1) {
                q->gen++;
                shared += q->index >= s->warm;
                q->last_s = now;
            } else {
                produce(s, q, now);
                s->res->tokens_out--; /* counted below with the shared ones */
            }
            any_done |= q->gen == q->output;
            tokens_out++;
        }
        s->res->tokens_out += r->ndec;
        if (shared)
            histo_add_n(&s->h_itl, now - prev, shared);
        assert(r->outstanding_tokens >= tokens_in + tokens_out);
        r->outstanding_tokens -= tokens_in + tokens_out;
        if (in_window(s, now))
            s->acc.out_tokens += tokens_out;
        s->ts_tokens += tokens_out;
    }
    /* Completions: compact the running list in place, keeping admission order. */
    uint32_t keep = 0;
    for (uint32_t i = 0; any_done && i < r->nrun; i++) {
        uint32_t id = r->run[i];
        slot *q = &s->slots[id];
        if (q->gen < q->output) {
            r->run[keep++] = id;
            continue;
        }
        r->free_blocks += q->blocks;
        s->kv_used -= q->blocks;
        s->running_seqs--;
        s->in_system--;
        if (in_window(s, now))
            s->acc.done++;
        s->ts_done++;
        s->res->finished++;
        s->res->tokens_asked += q->output;
        s->t_last_done = now;
        record_done(s, q);
        if (q->user != UINT32_MAX && user_thinks(s, q->user, now) != 0)
            return -1;
        slot_free(s, id);
    }
    if (any_done)
        r->nrun = keep;
    r->busy = 0;
    r->npre = r->ndec = 0;
    s->busy_replicas--;
    if (s->cfg->check_invariants)
        check_replica(s, r);
    return start_step(s, ri, now);
}

/* --- arrivals and routing ------------------------------------------------------------------ */

static uint64_t load_of(const sim *s, uint32_t i)
{
    const replica *r = &s->rep[i];
    if (s->cfg->router == ROUTER_LEAST_TOKENS) {
        if (r->k == 0)
            return r->outstanding_tokens;
        return r->outstanding_tokens - steps_done(r, s->eng.now_s) * r->ndec;
    }
    return r->waiting.len + r->nrun;
}

static uint32_t route(sim *s)
{
    uint32_t n = s->cfg->replicas;
    switch (s->cfg->router) {
    case ROUTER_RR: {
        uint32_t i = s->rr_next;
        s->rr_next = (s->rr_next + 1) % n;
        return i;
    }
    case ROUTER_RANDOM:
        return (uint32_t)gsl_rng_uniform_int(s->rng_route, n);
    case ROUTER_P2C: {
        uint32_t a = (uint32_t)gsl_rng_uniform_int(s->rng_route, n);
        uint32_t b = (uint32_t)gsl_rng_uniform_int(s->rng_route, n);
        return load_of(s, b) < load_of(s, a) ? b : a;
    }
    case ROUTER_JSQ:
    case ROUTER_LEAST_TOKENS:
    default: {
        /* Ties go to the lowest index, so the choice is deterministic. */
        uint32_t best = 0;
        for (uint32_t i = 1; i < n; i++)
            if (load_of(s, i) < load_of(s, best))
                best = i;
        return best;
    }
    }
}

/* Closed loop: user u thinks, then sends its next request. */
static int user_thinks(sim *s, uint32_t u, double now)
{
    double think = dist_sample(s->cfg->wl.think, s->rng_think);
    return sim_engine_schedule(&s->eng, now + think, EV_USER, u);
}

static int pull_next(sim *s, char *err, size_t errlen)
{
    int rc = reqsrc_next(s->src, &s->next_req, err, errlen);
    if (rc < 0)
        return -1;
    s->have_next = rc == 1;
    if (!s->have_next)
        return 0;
    double t = s->next_req.arrival_s < s->eng.now_s ? s->eng.now_s : s->next_req.arrival_s;
    return sim_engine_schedule(&s->eng, t, EV_ARRIVAL, 0);
}

/* Brings a request into the system at time now: refused if it can never run, else
 * routed to a replica's waiting line. user is the closed-loop user (UINT32_MAX if none). */
static int admit_request(sim *s, const request *rq, uint32_t user, double now, char *err,
                         size_t errlen)
{
    uint64_t idx = s->n_arrived++;
    if (idx == s->warm)
        s->t_start = now;
    if (idx + 1 == s->n_total) {
        s->t_last_arrival = now;
        s->snap = s->acc; /* advance() has brought acc up to now */
        s->snap_taken = 1;
    }
    const serve_config *c = s->cfg;
    int measured = idx >= s->warm;
    s->n_measured_arrived += (uint64_t)measured;
    s->res->offered++;
    /* A request that can never run is refused: its whole sequence exceeds the KV cache
     * (static batching reserves it all), or its prompt exceeds the token budget without
     * chunked prefill. */
    uint64_t seq_blocks = blocks_for(s, (uint64_t)rq->prompt_tokens + rq->output_tokens);
    int never = seq_blocks > c->kv_blocks || (c->sched == SERVE_CONTINUOUS && !c->chunked_prefill &&
                                              rq->prompt_tokens > c->max_batched_tokens);
    if (never) {
        s->n_rejected += (uint64_t)measured;
        s->res->rejected++;
        /* A closed-loop user whose request is refused thinks and tries again. */
        return user == UINT32_MAX ? 0 : user_thinks(s, user, now);
    }
    uint32_t id;
    if (slot_alloc(s, &id) != 0) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    uint32_t ri = route(s);
    slot *q = &s->slots[id];
    memset(q, 0, sizeof *q);
    q->index = idx;
    q->arrival_s = now;
    q->prompt = rq->prompt_tokens;
    q->output = rq->output_tokens;
    q->target = rq->prompt_tokens;
    q->cls = rq->cls;
    q->replica = ri;
    q->user = user;
    replica *r = &s->rep[ri];
    r->outstanding_tokens += (uint64_t)rq->prompt_tokens + rq->output_tokens;
    s->in_system++;
    if (ring_push(&r->waiting, id, 0) != 0 || start_step(s, ri, now) != 0 ||
        (c->sched == SERVE_CONTINUOUS && cut_stretch(s, ri, now) != 0)) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int on_arrival(sim *s, double now, char *err, size_t errlen)
{
    request rq = s->next_req;
    if (admit_request(s, &rq, UINT32_MAX, now, err, errlen) != 0)
        return -1;
    return pull_next(s, err, errlen);
}

/* Closed loop: user u sends its next request (if any are left to send). */
static int on_user(sim *s, uint32_t u, double now, char *err, size_t errlen)
{
    if (s->n_arrived >= s->n_total)
        return 0;
    const serve_workload *w = &s->cfg->wl;
    request rq = {.arrival_s = now, .cls = 0};
    if (w->mix) {
        reqsrc_mix_draw(w->mix, s->rng_len, &rq);
    } else if (w->pairs) {
        reqsrc_pairs_draw(w->pairs, s->rng_len, &rq.prompt_tokens, &rq.output_tokens);
    } else {
        rq.prompt_tokens = reqsrc_tokens(dist_sample(w->prompt_len, s->rng_len));
        rq.output_tokens = reqsrc_tokens(dist_sample(w->output_len, s->rng_len));
    }
    return admit_request(s, &rq, u, now, err, errlen);
}

/* --- time series ----------------------------------------------------------------------- */

static int on_sample(sim *s, double now)
{
    FILE *fp = s->cfg->timeseries_out;
    uint64_t waiting = 0;
    for (uint32_t i = 0; i < s->cfg->replicas; i++)
        waiting += s->rep[i].waiting.len;
    double kv = (double)s->kv_used / ((double)s->cfg->kv_blocks * s->cfg->replicas);
    double iv = s->cfg->sample_interval_s;
    fprintf(fp, "%.9g,%llu,%llu,%llu,%.6g,%.9g,%.9g\n", now, (unsigned long long)waiting,
            (unsigned long long)s->running_seqs, (unsigned long long)s->busy_replicas, kv,
            (double)s->ts_done / iv, (double)s->ts_tokens / iv);
    s->ts_done = s->ts_tokens = 0;
    int more = s->cfg->wl.users > 0 ? s->n_arrived < s->n_total : s->have_next;
    if (!more && s->in_system == 0)
        return 0;
    return sim_engine_schedule(&s->eng, now + iv, EV_SAMPLE, 0);
}

/* --- a replication ---------------------------------------------------------------------- */

static int open_source(sim *s, const unsigned long *seeds, char *err, size_t errlen)
{
    const serve_workload *w = &s->cfg->wl;
    if (w->trace_path) {
        trace_options o = w->trace_opt;
        if (w->requests && (o.max_requests == 0 || w->requests < o.max_requests))
            o.max_requests = w->requests;
        if (w->trace_resample_block_s > 0)
            s->src = resample_open(w->trace_path, &o, w->trace_resample_block_s, s->n_total,
                                   seeds[SRC_ARRIVALS], err, errlen);
        else
            s->src = trace_open(w->trace_path, &o, err, errlen);
        return s->src ? 0 : -1;
    }
    s->src = reqsrc_synthetic(w->arrivals, w->prompt_len, w->output_len, w->requests,
                              seeds[SRC_ARRIVALS], seeds[SRC_LENGTHS]);
    if (s->src && w->mix)
        reqsrc_synthetic_use_mix(s->src, w->mix);
    if (s->src && w->pairs)
        reqsrc_synthetic_use_pairs(s->src, w->pairs);
    if (s->src == NULL)
        util_errf(err, errlen, "out of memory");
    return s->src ? 0 : -1;
}

/* Number of requests the workload will offer (a trace is counted by reading it once). */
static int count_requests(const serve_config *c, uint64_t *n, serve_result *res, char *err,
                          size_t errlen)
{
    if (!c->wl.trace_path) {
        *n = c->wl.requests;
        return 0;
    }
    trace_options o = c->wl.trace_opt;
    if (c->wl.requests && (o.max_requests == 0 || c->wl.requests < o.max_requests))
        o.max_requests = c->wl.requests;
    reqsrc *src = trace_open(c->wl.trace_path, &o, err, errlen);
    if (src == NULL)
        return -1;
    request rq;
    int rc;
    *n = 0;
    while ((rc = reqsrc_next(src, &rq, err, errlen)) == 1)
        (*n)++;
    const trace_stats *ts = trace_get_stats(src);
    res->trace_rows_bad = ts->rows_bad;
    res->trace_rows_reordered = ts->rows_reordered;
    snprintf(res->trace_first_bad, sizeof res->trace_first_bad, "%s", ts->first_bad[0]);
    reqsrc_close(src);
    if (rc < 0)
        return -1;
    if (*n == 0) {
        util_errf(err, errlen, "%s: no requests (after the header, window and filters)",
                  c->wl.trace_path);
        return -1;
    }
    return 0;
}

static void reset(sim *s, int rep_index)
{
    const serve_config *c = s->cfg;
    s->eng.now_s = 0.0;
    s->eng.next_seq = 0;
    s->eng.pending.len = 0;
    s->eng.n_events = 0;
    for (uint32_t i = 0; i < c->replicas; i++) {
        replica *r = &s->rep[i];
        sim_ring_clear(&r->waiting);
        r->nrun = r->npre = r->ndec = 0;
        r->free_blocks = c->kv_blocks;
        r->busy = 0;
        r->outstanding_tokens = 0;
        r->k = 0;
    }
    s->n_slots = 0;
    s->free_head = UINT32_MAX;
    s->have_next = 0;
    s->n_arrived = 0;
    s->rr_next = 0;
    s->warm = (uint64_t)floor(c->warmup_fraction * (double)s->n_total);
    s->t_start = s->t_end = INFINITY;
    s->t_last_done = 0;
    s->last_t = 0;
    s->in_system = s->busy_replicas = s->running_seqs = s->kv_used = 0;
    memset(&s->acc, 0, sizeof s->acc);
    memset(&s->snap, 0, sizeof s->snap);
    s->t_last_arrival = 0;
    s->snap_taken = 0;
    s->max_batch = s->max_kv = 0;
    histo_reset(&s->h_ttft);
    histo_reset(&s->h_tpot);
    histo_reset(&s->h_itl);
    histo_reset(&s->h_e2e);
    histo_reset(&s->h_queue);
    s->sum_ttft = s->sum_tpot = s->sum_itl = s->sum_e2e = s->sum_queue = 0;
    s->n_done = s->n_tpot = s->n_itl = s->n_slo_met = s->n_rejected = s->n_preempt = 0;
    s->n_measured_arrived = 0;
    memset(s->cls_done, 0, sizeof s->cls_done);
    memset(s->cls_met, 0, sizeof s->cls_met);
    s->ts_done = s->ts_tokens = 0;
    s->rep_index = rep_index;
    /* Replication 0's time series samples mid-stretch, so it steps one by one. */
    s->jump_ok = c->jump && !(rep_index == 0 && c->timeseries_out && c->sample_interval_s > 0);
}

/* The mean and p50, p90, p95, p99, p99.9 of a latency, in ms, into m[first..first+5]
 * (the metric list keeps them in that order). */
static void fill_latency(double *m, serve_metric first, double sum_s, uint64_t n, const histo *h)
{
    static const double q[5] = {0.50, 0.90, 0.95, 0.99, 0.999};
    m[first] = n ? 1e3 * sum_s / (double)n : NAN;
    for (unsigned i = 0; i < 5; i++)
        m[(unsigned)first + 1 + i] = 1e3 * histo_quantile(h, q[i]);
}

static void fill_metrics(sim *s, double *m)
{
    const serve_config *c = s->cfg;
    /* Steady state: from the first measured arrival to the last arrival, as the queueing
     * mode does. When the arrivals take less than half the time to the last completion
     * (a batch sent at once, a short trace), the window runs to the last completion
     * instead, so that throughput is the batch's (vLLM's benchmark measures to the last
     * completion too). */
    double to_arrival = s->t_last_arrival - s->t_start;
    double to_done = s->t_last_done - s->t_start;
    /* Decided on the first replication and kept, so every replication measures the same
     * kind of window. */
    if (s->window_mode < 0)
        s->window_mode = to_arrival >= 0.5 * to_done;
    int steady = s->window_mode;
    const window_acc *a = steady ? &s->snap : &s->acc;
    double window = steady ? to_arrival : to_done;
    double w = window > 0 ? window : NAN;
    m[SM_request_throughput] = (double)a->done / w;
    m[SM_output_throughput] = (double)a->out_tokens / w;
    m[SM_total_token_throughput] = (double)(a->out_tokens + a->in_tokens) / w;
    fill_latency(m, SM_mean_ttft_ms, s->sum_ttft, s->n_done, &s->h_ttft);
    fill_latency(m, SM_mean_tpot_ms, s->sum_tpot, s->n_tpot, &s->h_tpot);
    fill_latency(m, SM_mean_itl_ms, s->sum_itl, s->n_itl, &s->h_itl);
    fill_latency(m, SM_mean_e2el_ms, s->sum_e2e, s->n_done, &s->h_e2e);
    fill_latency(m, SM_mean_queue_ms, s->sum_queue, s->n_done, &s->h_queue);
    /* Goodput: completions per second that met every SLO. Attainment: the share of
     * requests that met every SLO, counting refused requests as misses. */
    double met_of_done = s->n_done ? (double)s->n_slo_met / (double)s->n_done : NAN;
    uint64_t asked = s->n_done + s->n_rejected;
    m[SM_goodput] = m[SM_request_throughput] * met_of_done;
    m[SM_slo_attainment_pct] = asked ? 100.0 * (double)s->n_slo_met / (double)asked : NAN;
    m[SM_gpu_utilization] = a->area_busy / (w * c->replicas);
    m[SM_mean_running_batch] = a->area_busy > 0 ? a->area_running / a->area_busy : 0.0;
    m[SM_max_running_batch] = s->max_batch;
    m[SM_mean_kv_occupancy] = a->area_kv / (w * (double)c->kv_blocks * c->replicas);
    m[SM_max_kv_occupancy] = s->max_kv;
    m[SM_preemptions_per_request] = s->n_done ? (double)s->n_preempt / (double)s->n_done : NAN;
    m[SM_rejected_fraction] =
        s->n_measured_arrived ? (double)s->n_rejected / (double)s->n_measured_arrived : NAN;
    double cost_per_s = c->price_usd_per_gpu_hour * c->gpus_per_replica * c->replicas / 3600.0;
    m[SM_cost_per_million_output_tokens] = cost_per_s / m[SM_output_throughput] * 1e6;
    m[SM_mean_in_system] = a->area_in_system / w;
    m[SM_lambda_w] = s->n_done ? (double)(s->n_measured_arrived - s->n_rejected) / w *
                                     (s->sum_e2e / (double)s->n_done)
                               : NAN;
}

static int run_one(sim *s, const unsigned long *seeds, int rep_index, double *m, char *err,
                   size_t errlen)
{
    const serve_config *c = s->cfg;
    reset(s, rep_index);
    gsl_rng_set(s->rng_route, seeds[SRC_ROUTING]);
    for (uint32_t i = 0; i < c->replicas; i++)
        gsl_rng_set(s->rep[i].noise, seeds[SRC_NOISE0 + i]);
    int rc = 0;
    if (c->wl.users > 0) {
        /* Closed loop: every user starts by thinking, so first requests spread out. */
        gsl_rng_set(s->rng_think, seeds[SRC_ARRIVALS]);
        gsl_rng_set(s->rng_len, seeds[SRC_LENGTHS]);
        for (uint32_t u = 0; rc == 0 && u < c->wl.users; u++)
            rc = user_thinks(s, u, 0.0);
    } else {
        if (open_source(s, seeds, err, errlen) != 0)
            return -1;
        rc = pull_next(s, err, errlen);
    }
    if (rc == 0 && rep_index == 0 && c->timeseries_out && c->sample_interval_s > 0)
        rc = sim_engine_schedule(&s->eng, 0.0, EV_SAMPLE, 0);
    sim_event ev;
    while (rc == 0 && sim_engine_next(&s->eng, &ev)) {
        advance(s, ev.time_s);
        switch (ev.kind & 3u) {
        case EV_ARRIVAL:
            rc = on_arrival(s, ev.time_s, err, errlen);
            break;
        case EV_STEP_END:
            if ((ev.kind >> 2) != (s->rep[ev.id].stamp & 0x3fffffffu))
                break; /* a stretch end that a cut replaced */
            rc = end_step(s, ev.id, ev.time_s);
            if (rc != 0)
                util_errf(err, errlen, "out of memory");
            break;
        case EV_SAMPLE:
            rc = on_sample(s, ev.time_s);
            break;
        case EV_USER:
            rc = on_user(s, ev.id, ev.time_s, err, errlen);
            break;
        default:
            assert(0);
        }
    }
    if (s->src)
        reqsrc_close(s->src);
    s->src = NULL;
    if (rc != 0)
        return -1;
    assert(s->in_system == 0 && s->kv_used == 0);
    fill_metrics(s, m);
    return 0;
}

static int check_config(const serve_config *c, char *err, size_t errlen)
{
    if (c->replicas < 1 || c->replicas > 100000) {
        util_errf(err, errlen, "replicas %u: expected 1 to 100000", c->replicas);
        return -1;
    }
    if (c->max_num_seqs < 1) {
        util_errf(err, errlen, "max-num-seqs %u: expected at least 1", c->max_num_seqs);
        return -1;
    }
    if (c->max_batched_tokens < c->block_size) {
        util_errf(err, errlen,
                  "max-batched-tokens %u is smaller than one KV block (%u tokens): expected "
                  "at least %u",
                  c->max_batched_tokens, c->block_size, c->block_size);
        return -1;
    }
    if (c->kv_blocks < 1 || c->block_size < 1) {
        util_errf(err, errlen, "no KV cache blocks");
        return -1;
    }
    if (c->wl.users > 0 &&
        (c->wl.think == NULL || c->wl.trace_path != NULL ||
         (c->wl.pairs == NULL && (c->wl.prompt_len == NULL || c->wl.output_len == NULL)))) {
        util_errf(err, errlen,
                  "a closed loop needs a think time and length distributions, "
                  "and no trace");
        return -1;
    }
    if (c->replications < 1 || !(c->warmup_fraction >= 0 && c->warmup_fraction < 1)) {
        util_errf(err, errlen, "replications must be >= 1 and warm-up in [0, 1)");
        return -1;
    }
    return 0;
}

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

int serve_run(const serve_config *c, serve_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (check_config(c, err, errlen) != 0)
        return -1;
    sim s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.res = res;
    s.window_mode = -1;
    if (count_requests(c, &s.n_total, res, err, errlen) != 0)
        return -1;
    if ((uint64_t)floor(c->warmup_fraction * (double)s.n_total) >= s.n_total) {
        util_errf(err, errlen, "the warm-up deletes all %llu requests",
                  (unsigned long long)s.n_total);
        return -1;
    }
    size_t reps = c->replications;
    res->n_sources = SRC_NOISE0 + c->replicas;
    res->n_seeds = reps * res->n_sources;
    res->seeds = malloc(res->n_seeds * sizeof *res->seeds);
    res->per_rep = malloc(reps * SM_COUNT * sizeof *res->per_rep);
    s.rep = calloc(c->replicas, sizeof *s.rep);
    int ok = res->seeds && res->per_rep && s.rep &&
             sim_seeds_derive(c->seed, reps, res->n_sources, res->seeds) == 0 &&
             sim_engine_init(&s.eng, 2u * c->replicas + 8) == 0 &&
             (s.rng_route = sim_rng_create(1)) != NULL &&
             (s.rng_think = sim_rng_create(1)) != NULL && (s.rng_len = sim_rng_create(1)) != NULL &&
             histo_init(&s.h_ttft) == 0 && histo_init(&s.h_tpot) == 0 &&
             histo_init(&s.h_itl) == 0 && histo_init(&s.h_e2e) == 0 && histo_init(&s.h_queue) == 0;
    size_t per = c->max_num_seqs;
    for (uint32_t i = 0; ok && i < c->replicas; i++) {
        replica *r = &s.rep[i];
        sim_ring_init(&r->waiting, sizeof(uint32_t));
        r->run = malloc(per * sizeof *r->run);
        r->pre_slot = malloc(per * sizeof *r->pre_slot);
        r->pre_chunk = malloc(per * sizeof *r->pre_chunk);
        r->dec_slot = malloc(per * sizeof *r->dec_slot);
        r->noise = sim_rng_create(1);
        r->noise_saved = sim_rng_create(1);
        ok = r->run && r->pre_slot && r->pre_chunk && r->dec_slot && r->noise && r->noise_saved;
    }
    if (!ok)
        util_errf(err, errlen, "out of memory");
    double *row = malloc(SM_COUNT * sizeof *row);
    uint32_t ncls = c->wl.mix ? c->wl.mix->n : 0;
    double *cls_att = malloc((ncls ? ncls : 1) * reps * sizeof *cls_att);
    double *cls_share = malloc((ncls ? ncls : 1) * reps * sizeof *cls_share);
    ok = ok && row != NULL && cls_att && cls_share;
    for (size_t r = 0; ok && r < reps; r++) {
        ok = run_one(&s, res->seeds + r * res->n_sources, (int)r, row, err, errlen) == 0;
        if (!ok)
            break;
        for (size_t m = 0; m < SM_COUNT; m++)
            res->per_rep[m * reps + r] = row[m];
        for (uint32_t k = 0; k < ncls; k++) {
            cls_att[k * reps + r] =
                s.cls_done[k] ? 100.0 * (double)s.cls_met[k] / (double)s.cls_done[k] : NAN;
            cls_share[k * reps + r] =
                s.n_done ? 100.0 * (double)s.cls_done[k] / (double)s.n_done : NAN;
        }
        res->events += s.eng.n_events;
        res->requests_total += s.n_total;
    }
    res->steps = s.steps;
    free(row);
    res->n_classes = ncls;
    for (uint32_t k = 0; ok && k < ncls; k++) {
        res->class_attainment[k] = stats_ci95(cls_att + k * reps, reps);
        res->class_share[k] = stats_ci95(cls_share + k * reps, reps);
    }
    free(cls_att);
    free(cls_share);
    for (uint32_t i = 0; s.rep && i < c->replicas; i++) {
        sim_ring_fini(&s.rep[i].waiting);
        free(s.rep[i].run);
        free(s.rep[i].pre_slot);
        free(s.rep[i].pre_chunk);
        free(s.rep[i].dec_slot);
        if (s.rep[i].noise)
            gsl_rng_free(s.rep[i].noise);
        if (s.rep[i].noise_saved)
            gsl_rng_free(s.rep[i].noise_saved);
        free(s.rep[i].end_s);
    }
    free(s.rep);
    free(s.slots);
    sim_engine_fini(&s.eng);
    if (s.rng_route)
        gsl_rng_free(s.rng_route);
    if (s.rng_think)
        gsl_rng_free(s.rng_think);
    if (s.rng_len)
        gsl_rng_free(s.rng_len);
    histo_fini(&s.h_ttft);
    histo_fini(&s.h_tpot);
    histo_fini(&s.h_itl);
    histo_fini(&s.h_e2e);
    histo_fini(&s.h_queue);
    if (!ok) {
        serve_result_fini(res);
        return -1;
    }
    for (size_t m = 0; m < SM_COUNT; m++)
        res->metric[m] = stats_ci95(res->per_rep + m * reps, reps);
    res->little_checked = reps >= 2;
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
    return 0;
}

void serve_result_fini(serve_result *res)
{
    free(res->per_rep);
    free(res->seeds);
    res->per_rep = NULL;
    res->seeds = NULL;
}
