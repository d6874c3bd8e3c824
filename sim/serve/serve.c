/*
 * serve: the event loop of the serving simulation (see serve.h). Requests arrive (from a
 * workload, or from closed-loop users), are refused if they can never run or routed to a
 * replica; each replica runs one step (or one decode stretch) at a time, composed by its
 * scheduler. The policies live behind tables (sched.h, router.h), KV memory in
 * kvblocks.h, decode stretches in stretch.h, and every measurement in metrics.h; the
 * invariants of the state are stated in state.h.
 */
#include "sim/serve/serve.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"
#include "sim/serve/kvblocks.h"
#include "sim/serve/result.h"
#include "sim/serve/router.h"
#include "sim/serve/sched.h"
#include "sim/serve/source.h"
#include "sim/serve/state.h"
#include "sim/serve/stretch.h"

#define SERVE_NAME(name, unit) #name,
#define SERVE_UNIT(name, unit) unit,
const char *const serve_metric_names[SM_COUNT] = {SERVE_METRICS(SERVE_NAME)};
const char *const serve_metric_units[SM_COUNT] = {SERVE_METRICS(SERVE_UNIT)};
const char *const serve_prefix_names[SP_COUNT] = {SERVE_PREFIX_METRICS(SERVE_NAME)};
const char *const serve_prefix_units[SP_COUNT] = {SERVE_PREFIX_METRICS(SERVE_UNIT)};
#undef SERVE_NAME
#undef SERVE_UNIT

/* What an event does. A step end carries its replica as id and the replica's stamp at
 * scheduling as stamp: a cut stretch schedules a new end and leaves the old one stale. */
enum { EV_ARRIVAL, EV_STEP_END, EV_SAMPLE, EV_USER };

static int user_thinks(serve_sim *s, uint32_t u, double now);

/* --- request slots -------------------------------------------------------------------- */

static int slot_alloc(serve_sim *s, uint32_t *id)
{
    if (s->free_head != UINT32_MAX) {
        *id = s->free_head;
        s->free_head = s->slots[*id].next_free;
        return 0;
    }
    if (s->n_slots == s->slots_cap) {
        uint32_t cap = s->slots_cap ? 2 * s->slots_cap : 1024;
        serve_slot *p = realloc(s->slots, (size_t)cap * sizeof *p);
        if (p == NULL)
            return -1;
        memset(p + s->slots_cap, 0, (size_t)(cap - s->slots_cap) * sizeof *p);
        s->slots = p;
        s->slots_cap = cap;
    }
    *id = s->n_slots++;
    return 0;
}

static void slot_free(serve_sim *s, uint32_t id)
{
    s->slots[id].next_free = s->free_head;
    s->free_head = id;
}

/* --- steps ------------------------------------------------------------------------------ */

/* Keeps the largest shapes of the steps (serve_result's peaks). */
static void note_peaks(serve_sim *s, const serve_replica *r, const step_shape *sh)
{
    serve_result *res = s->res;
    if (sh->prefill_tokens > res->peak_prefill_tokens)
        res->peak_prefill_tokens = sh->prefill_tokens;
    for (uint32_t k = 0; k < r->npre; k++) {
        double before = s->slots[r->pre_slot[k]].ctx;
        if (before > res->peak_prefill_ctx)
            res->peak_prefill_ctx = before;
    }
    if ((double)r->ndec > res->peak_decode_seqs)
        res->peak_decode_seqs = r->ndec;
}

/* Starts replica ri's next step (or decode stretch) at now, if it is idle and has work. */
static int start_step(serve_sim *s, uint32_t ri, double now)
{
    serve_replica *r = &s->rep[ri];
    if (r->busy)
        return 0;
    r->npre = r->ndec = 0;
    if (s->sched->compose(s, r, now) != 0)
        return -1;
    if (r->npre + r->ndec == 0)
        return 0;
    step_shape sh;
    uint32_t in_class = serve_stretch_shape(s, r, &sh);
    note_peaks(s, r, &sh);
    if (serve_stretch_plan(s, r, &sh, now, s->jump_ok ? in_class : 1) != 0)
        return -1;
    if (r->load_blocks > 0) {
        /* Blocks coming back from the CPU tier: the step waits for them (a step that
         * prefills is never a stretch). */
        assert(r->k == 0);
        r->end_s_single += r->load_blocks * s->cfg->kv_load_s_per_block;
        r->load_blocks = 0;
    }
    r->busy = 1;
    r->step_start_s = now;
    s->met.busy_replicas++;
    serve_metrics_step_start(&s->met, now, (double)(r->npre + r->ndec), serve_kv_fraction(s, r));
    s->steps++;
    r->stamp++;
    return sim_engine_schedule_stamped(&s->eng, serve_stretch_end(r), EV_STEP_END, ri, r->stamp);
}

/* A request has joined replica ri's waiting line at now: if it could join at the next step
 * boundary, a stretch in flight ends with the step in progress. */
static int cut_stretch(serve_sim *s, uint32_t ri, double now)
{
    serve_replica *r = &s->rep[ri];
    if (r->k == 0 || !s->sched->joins_next_step(s, r) || !serve_stretch_cut(s, r, now))
        return 0;
    r->stamp++;
    return sim_engine_schedule_stamped(&s->eng, serve_stretch_end(r), EV_STEP_END, ri, r->stamp);
}

/* A token of request q appears at time now. */
static void produce(serve_sim *s, serve_slot *q, double now)
{
    q->gen++;
    s->res->tokens_out++;
    if (q->gen == 1) {
        q->first_s = now;
        serve_metrics_first_token(&s->met, now, q->prompt);
    } else {
        serve_metrics_itl(&s->met, now - q->last_s, q->index >= s->warm);
    }
    q->last_s = now;
}

/* Applies the single step of replica r ending now. Returns 1 if a request finished. */
static int apply_step(serve_sim *s, serve_replica *r, double now)
{
    uint64_t tokens_out = 0, tokens_in = 0;
    int any_done = 0;
    for (uint32_t k = 0; k < r->npre; k++) {
        serve_slot *q = &s->slots[r->pre_slot[k]];
        q->prefilled += r->pre_chunk[k];
        q->ctx += r->pre_chunk[k];
        tokens_in += r->pre_chunk[k];
        serve_kv_register(s, r, q);
        if (q->prefilled == q->target) {
            produce(s, q, now);
            tokens_out++;
            any_done |= q->gen == q->output;
        }
    }
    /* Decoders that produced a token when the previous step ended (most of them) share
     * one gap; count those once. */
    uint64_t shared = 0;
    double prev = r->step_start_s;
    for (uint32_t k = 0; k < r->ndec; k++) {
        serve_slot *q = &s->slots[r->dec_slot[k]];
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
    serve_metrics_itl(&s->met, now - prev, shared);
    assert(r->outstanding_tokens >= tokens_in + tokens_out);
    r->outstanding_tokens -= tokens_in + tokens_out;
    serve_metrics_tokens(&s->met, now, tokens_out, 0);
    return any_done;
}

/* Removes the requests of replica r that have every token, keeping admission order. */
static int finish_requests(serve_sim *s, serve_replica *r, double now)
{
    uint32_t keep = 0;
    for (uint32_t i = 0; i < r->nrun; i++) {
        uint32_t id = r->run[i];
        serve_slot *q = &s->slots[id];
        if (q->gen < q->output) {
            r->run[keep++] = id;
            continue;
        }
        if ((double)q->ctx > s->res->peak_decode_ctx) /* the longest context decoded */
            s->res->peak_decode_ctx = q->ctx;
        serve_kv_release(s, r, q);
        s->met.running_seqs--;
        s->met.in_system--;
        s->res->finished++;
        s->res->tokens_asked += q->output;
        serve_metrics_done(&s->met, q, now);
        if (q->user != UINT32_MAX && user_thinks(s, q->user, now) != 0)
            return -1;
        slot_free(s, id);
    }
    r->nrun = keep;
    return 0;
}

static int end_step(serve_sim *s, uint32_t ri, double now)
{
    serve_replica *r = &s->rep[ri];
    int any_done = r->k > 0 ? serve_stretch_apply(s, r, now) : apply_step(s, r, now);
    if (any_done && finish_requests(s, r, now) != 0)
        return -1;
    r->busy = 0;
    r->npre = r->ndec = 0;
    s->met.busy_replicas--;
    if (s->cfg->check_invariants)
        serve_kv_check(s, r);
    return start_step(s, ri, now);
}

/* --- arrivals ------------------------------------------------------------------------- */

/* Closed loop: user u thinks, then sends its next request. */
static int user_thinks(serve_sim *s, uint32_t u, double now)
{
    double think = dist_sample(s->cfg->wl.think, s->rng_think);
    return sim_engine_schedule(&s->eng, now + think, EV_USER, u);
}

static int pull_next(serve_sim *s, char *err, size_t errlen)
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
static int admit_request(serve_sim *s, const request *rq, uint32_t user, double now, char *err,
                         size_t errlen)
{
    uint64_t idx = s->n_arrived++;
    serve_metrics_arrival(&s->met, idx, s->n_total, now);
    s->res->offered++;
    request fit;
    int over = serve_source_fit(s->cfg, rq, &fit);
    if (over < 0) {
        char what[96];
        snprintf(what, sizeof what, "request %llu of replication %d", (unsigned long long)idx + 1,
                 s->met.rep_index + 1);
        serve_source_over_error(s->cfg, rq, what, err, errlen);
        return -1;
    }
    if (over > 0) {
        s->res->over_length++;
        s->res->over_length_refused += over == 1;
        rq = &fit;
    }
    if (over == 1 || s->sched->never_runs(s->cfg, rq->prompt_tokens, rq->output_tokens)) {
        serve_metrics_refused(&s->met, idx);
        s->res->rejected++;
        /* A closed-loop user whose request is refused thinks and tries again. */
        return user == UINT32_MAX ? 0 : user_thinks(s, user, now);
    }
    uint32_t id;
    if (slot_alloc(s, &id) != 0) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    s->routing = rq;
    uint32_t ri = s->router->pick(s);
    s->routing = NULL;
    serve_slot *q = &s->slots[id];
    uint32_t *ent = q->ent, ent_cap = q->ent_cap;
    memset(q, 0, sizeof *q);
    q->ent = ent;
    q->ent_cap = ent_cap;
    q->index = idx;
    q->arrival_s = now;
    q->prompt = rq->prompt_tokens;
    q->output = rq->output_tokens;
    q->target = rq->prompt_tokens;
    q->cls = rq->cls;
    q->pid = rq->prefix_id;
    q->shared = rq->prefix_id != 0 ? rq->shared_tokens : 0;
    q->replica = ri;
    q->user = user;
    serve_replica *r = &s->rep[ri];
    r->cnt.requests += idx >= s->warm;
    if (rq->prefix_id != 0 &&
        (serve_kv_pc_enable(s, r) != 0 || serve_kv_slot_reserve(s, r, q) != 0)) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    r->outstanding_tokens += (uint64_t)rq->prompt_tokens + rq->output_tokens;
    s->met.in_system++;
    if (serve_ring_push(&r->waiting, id, 0) != 0 || start_step(s, ri, now) != 0 ||
        cut_stretch(s, ri, now) != 0) {
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

static int on_arrival(serve_sim *s, double now, char *err, size_t errlen)
{
    request rq = s->next_req;
    if (admit_request(s, &rq, UINT32_MAX, now, err, errlen) != 0)
        return -1;
    return pull_next(s, err, errlen);
}

/* Closed loop: user u sends its next request (if any are left to send). */
static int on_user(serve_sim *s, uint32_t u, double now, char *err, size_t errlen)
{
    if (s->n_arrived >= s->n_total)
        return 0;
    request rq = serve_source_user_request(s->cfg, &s->chats, u, s->rng_len, now);
    return admit_request(s, &rq, u, now, err, errlen);
}

/* A time-series row, and the next one while anything is left to happen. */
static int on_sample(serve_sim *s, double now)
{
    uint64_t waiting = 0;
    for (uint32_t i = 0; i < s->cfg->replicas; i++)
        waiting += s->rep[i].waiting.len;
    serve_metrics_sample(&s->met, s->cfg->timeseries_out, now, waiting,
                         s->cfg->kv_blocks * s->cfg->replicas);
    int more = s->cfg->wl.users > 0 ? s->n_arrived < s->n_total : s->have_next;
    if (!more && s->met.in_system == 0)
        return 0;
    return sim_engine_schedule(&s->eng, now + s->cfg->sample_interval_s, EV_SAMPLE, 0);
}

/* --- a replication ---------------------------------------------------------------------- */

static int time_series_on(const serve_config *c, int rep_index)
{
    return rep_index == 0 && c->timeseries_out && c->sample_interval_s > 0;
}

static void reset(serve_sim *s, int rep_index)
{
    const serve_config *c = s->cfg;
    sim_engine_reset(&s->eng);
    for (uint32_t i = 0; i < c->replicas; i++) {
        serve_replica *r = &s->rep[i];
        sim_ring_clear(&r->waiting);
        r->nrun = r->npre = r->ndec = 0;
        r->free_blocks = c->kv_blocks;
        r->busy = 0;
        r->outstanding_tokens = 0;
        r->k = 0;
        memset(&r->cnt, 0, sizeof r->cnt);
        serve_kv_pc_reset(r);
    }
    prefix_chats_reset(&s->chats);
    s->n_slots = 0;
    s->free_head = UINT32_MAX;
    s->have_next = 0;
    s->n_arrived = 0;
    s->rr_next = 0;
    s->warm = (uint64_t)floor(c->warmup_fraction * (double)s->n_total);
    serve_metrics_reset(&s->met, s->warm, rep_index);
    /* Replication 0's time series samples mid-stretch, so it steps one by one. */
    s->jump_ok = c->jump && !time_series_on(c, rep_index);
}

/* Handles one event. */
static int dispatch(serve_sim *s, const sim_event *ev, char *err, size_t errlen)
{
    switch (ev->kind) {
    case EV_ARRIVAL:
        return on_arrival(s, ev->time_s, err, errlen);
    case EV_STEP_END:
        if (ev->stamp != s->rep[ev->id].stamp)
            return 0; /* a stretch end that a cut replaced */
        if (end_step(s, ev->id, ev->time_s) == 0)
            return 0;
        util_errf(err, errlen, "out of memory");
        return -1;
    case EV_SAMPLE:
        return on_sample(s, ev->time_s);
    case EV_USER:
        return on_user(s, ev->id, ev->time_s, err, errlen);
    default:
        assert(0);
        return 0;
    }
}

static int run_one(serve_sim *s, const unsigned long *seeds, int rep_index, double *m, char *err,
                   size_t errlen)
{
    const serve_config *c = s->cfg;
    reset(s, rep_index);
    /* The result's counters run over every replication: this one's are the increase. */
    const uint64_t offered0 = s->res->offered, finished0 = s->res->finished,
                   refused0 = s->res->rejected;
    gsl_rng_set(s->rng_route, seeds[SERVE_SRC_ROUTING]);
    for (uint32_t i = 0; i < c->replicas; i++)
        gsl_rng_set(s->rep[i].noise, seeds[SERVE_SRC_NOISE0 + i]);
    int rc = 0;
    if (c->wl.users > 0) {
        /* Closed loop: every user starts by thinking, so first requests spread out. */
        gsl_rng_set(s->rng_think, seeds[SERVE_SRC_ARRIVALS]);
        gsl_rng_set(s->rng_len, seeds[SERVE_SRC_LENGTHS]);
        for (uint32_t u = 0; rc == 0 && u < c->wl.users; u++)
            rc = user_thinks(s, u, 0.0);
    } else {
        if (c->source_open)
            s->src = c->source_open(c->source_arg, seeds);
        else
            s->src = serve_source_open(c, seeds, s->n_total, err, errlen);
        if (s->src == NULL) {
            if (c->source_open)
                util_errf(err, errlen, "the test source did not open");
            return -1;
        }
        rc = pull_next(s, err, errlen);
    }
    if (rc == 0 && time_series_on(c, rep_index))
        rc = sim_engine_schedule(&s->eng, 0.0, EV_SAMPLE, 0);
    sim_event ev;
    uint64_t before = (uint64_t)rep_index * s->n_total, all = c->replications * s->n_total;
    while (rc == 0 && sim_engine_next(&s->eng, &ev)) {
        serve_metrics_advance(&s->met, ev.time_s);
        rc = dispatch(s, &ev, err, errlen);
        if (c->progress && (s->eng.n_events & (SERVE_PROGRESS_EVENTS - 1)) == 0)
            c->progress(c->progress_arg, before + s->n_arrived, all);
    }
    if (s->src)
        reqsrc_close(s->src);
    s->src = NULL;
    if (rc != 0)
        return -1;
    serve_conservation cons = {.requests = s->n_total,
                               .offered = s->res->offered - offered0,
                               .finished = s->res->finished - finished0,
                               .refused = s->res->rejected - refused0,
                               .in_system = s->met.in_system,
                               .kv_blocks = s->met.kv_used};
    if (serve_result_check_conservation(&cons, rep_index, err, errlen) != 0)
        return -1;
    serve_metrics_fill(&s->met, m);
    return 0;
}

/* --- setting up and running every replication ------------------------------------------- */

/* The prefix figures (SERVE_PREFIX_METRICS) of a replica's counts, or of their sum. */
static void prefix_figures(const serve_replica_counts *k, double *out)
{
    out[SP_prefix_hit_rate] =
        k->prompt ? (double)(k->hit + k->hit_cpu) / (double)k->prompt : NAN;
    out[SP_prefix_hit_rate_cpu] = k->prompt ? (double)k->hit_cpu / (double)k->prompt : NAN;
    out[SP_prefill_tokens_saved] = (double)k->saved;
    out[SP_prefix_evictions] = (double)k->evictions;
    out[SP_kv_offload_loads] = (double)k->loaded;
}

/* Keeps replication r's prefix figures, overall (pre[m * reps + r]) and per replica
 * (per[(i * SP_COUNT + m) * reps + r]), and each replica's share of requests
 * (share[i * reps + r], %). */
static void keep_replica_figures(const serve_sim *s, size_t r, double *pre, double *per,
                                 double *share)
{
    const serve_config *c = s->cfg;
    size_t reps = c->replications;
    serve_replica_counts all = {0};
    double v[SP_COUNT];
    for (uint32_t i = 0; i < c->replicas; i++) {
        const serve_replica_counts *k = &s->rep[i].cnt;
        all.requests += k->requests;
        all.prompt += k->prompt;
        all.hit += k->hit;
        all.hit_cpu += k->hit_cpu;
        all.saved += k->saved;
        all.evictions += k->evictions;
        all.loaded += k->loaded;
        prefix_figures(k, v);
        for (size_t m = 0; m < SP_COUNT; m++)
            per[(i * SP_COUNT + m) * reps + r] = v[m];
    }
    for (uint32_t i = 0; i < c->replicas; i++)
        share[i * reps + r] =
            all.requests ? 100.0 * (double)s->rep[i].cnt.requests / (double)all.requests : NAN;
    prefix_figures(&all, v);
    for (size_t m = 0; m < SP_COUNT; m++)
        pre[m * reps + r] = v[m];
}

/* The per-replica intervals of keep_replica_figures' values. Returns 0, or -1 if out of
 * memory. */
static int summarise_replicas(const serve_config *c, const double *per, const double *share,
                              serve_result *res)
{
    size_t reps = c->replications, n = c->replicas;
    res->n_replicas = c->replicas;
    res->replica_share = malloc(n * sizeof *res->replica_share);
    res->replica_prefix = malloc(n * SP_COUNT * sizeof *res->replica_prefix);
    if (res->replica_share == NULL || res->replica_prefix == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        res->replica_share[i] = stats_ci95(share + i * reps, reps);
        for (size_t m = 0; m < SP_COUNT; m++)
            res->replica_prefix[i * SP_COUNT + m] = stats_ci95(per + (i * SP_COUNT + m) * reps, reps);
    }
    return 0;
}

/* Runs every replication, keeping each one's figures and class shares. Returns 0, or -1
 * with a message. */
static int run_all(serve_sim *s, serve_result *res, char *err, size_t errlen)
{
    const serve_config *c = s->cfg;
    size_t reps = c->replications;
    uint32_t ncls = c->wl.mix ? c->wl.mix->n : 0;
    double *row = malloc(SM_COUNT * sizeof *row);
    double *cls_att = malloc((ncls ? ncls : 1) * reps * sizeof *cls_att);
    double *cls_share = malloc((ncls ? ncls : 1) * reps * sizeof *cls_share);
    double *pre = malloc(SP_COUNT * reps * sizeof *pre);
    double *per = malloc((size_t)c->replicas * SP_COUNT * reps * sizeof *per);
    double *share = malloc((size_t)c->replicas * reps * sizeof *share);
    /* offered rates, carried shares, their noises and fill allowances */
    double *offered = malloc(4 * reps * sizeof *offered);
    int ok = row != NULL && cls_att && cls_share && pre && per && share && offered;
    if (!ok)
        util_errf(err, errlen, "out of memory");
    for (size_t r = 0; ok && r < reps; r++) {
        ok = run_one(s, res->seeds + r * res->n_sources, (int)r, row, err, errlen) == 0;
        if (!ok)
            break;
        for (size_t m = 0; m < SM_COUNT; m++)
            res->per_rep[m * reps + r] = row[m];
        const serve_metrics *met = &s->met;
        offered[r] = serve_metrics_offered_rate(met);
        offered[reps + r] =
            serve_metrics_carried_share(met, &offered[3 * reps + r], &offered[2 * reps + r]);
        keep_replica_figures(s, r, pre, per, share);
        for (uint32_t k = 0; k < ncls; k++) {
            cls_att[k * reps + r] =
                met->cls_done[k] ? 100.0 * (double)met->cls_met[k] / (double)met->cls_done[k] : NAN;
            cls_share[k * reps + r] =
                met->n_done ? 100.0 * (double)met->cls_done[k] / (double)met->n_done : NAN;
        }
        res->events += s->eng.n_events;
        res->requests_total += s->n_total;
    }
    res->steps = s->steps;
    res->n_classes = ncls;
    for (uint32_t k = 0; ok && k < ncls; k++) {
        res->class_attainment[k] = stats_ci95(cls_att + k * reps, reps);
        res->class_share[k] = stats_ci95(cls_share + k * reps, reps);
    }
    if (ok)
        serve_result_saturation(res, offered, offered + reps, offered + 3 * reps,
                                offered + 2 * reps, reps);
    res->prefix_on = serve_prefix_active(c);
    for (size_t m = 0; ok && m < SP_COUNT; m++)
        res->prefix[m] = stats_ci95(pre + m * reps, reps);
    if (ok && summarise_replicas(c, per, share, res) != 0) {
        util_errf(err, errlen, "out of memory");
        ok = 0;
    }
    free(offered);
    free(share);
    free(per);
    free(pre);
    free(row);
    free(cls_att);
    free(cls_share);
    return ok ? 0 : -1;
}

int serve_prefix_active(const serve_config *c)
{
    const serve_sched_ops *sched = c->sched ? c->sched : serve_sched_at(0);
    return c->prefix_caching && sched->kv_grows;
}

int serve_run(const serve_config *c, serve_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    if (serve_state_check_config(c, err, errlen) != 0)
        return -1;
    serve_sim s;
    memset(&s, 0, sizeof s);
    s.cfg = c;
    s.res = res;
    s.sched = c->sched ? c->sched : serve_sched_at(0);
    s.router = c->router ? c->router : serve_router_at(0);
    if (serve_source_count(c, &s.n_total, res, err, errlen) != 0)
        return -1;
    if ((uint64_t)floor(c->warmup_fraction * (double)s.n_total) >= s.n_total) {
        util_errf(err, errlen, "the warm-up deletes all %llu requests",
                  (unsigned long long)s.n_total);
        return -1;
    }
    size_t reps = c->replications;
    res->n_sources = SERVE_SRC_NOISE0 + c->replicas;
    res->n_seeds = reps * res->n_sources;
    res->seeds = malloc(res->n_seeds * sizeof *res->seeds);
    res->per_rep = malloc(reps * SM_COUNT * sizeof *res->per_rep);
    int ok = res->seeds && res->per_rep &&
             sim_seeds_derive(c->seed, reps, res->n_sources, res->seeds) == 0 &&
             serve_state_alloc(&s) == 0;
    if (!ok)
        util_errf(err, errlen, "out of memory");
    ok = ok && run_all(&s, res, err, errlen) == 0;
    serve_state_free(&s);
    if (!ok) {
        serve_result_fini(res);
        return -1;
    }
    serve_result_summarise(c, res);
    return 0;
}
