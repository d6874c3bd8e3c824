/*
 * stretch: decode stretches (see stretch.h).
 */
#include "sim/serve/stretch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/serve/kvblocks.h"
#include "sim/serve/sched.h"

uint32_t serve_stretch_shape(const serve_sim *s, const serve_replica *r, step_shape *sh)
{
    memset(sh, 0, sizeof *sh);
    for (uint32_t k = 0; k < r->npre; k++) {
        const serve_slot *q = &s->slots[r->pre_slot[k]];
        double c = r->pre_chunk[k], before = q->ctx;
        sh->prefill_tokens += c;
        sh->prefill_seqs += 1;
        sh->prefill_attn += c * (before + (c + 1.0) / 2.0);
        sh->prefill_ctx_read += before;
    }
    if (step_model_prices_classes(s->cfg->step)) {
        /* step_shape_class_add, with the mask kept in a register, and the steps each
         * sequence stays in its class (step_shape_steps_in_class) from the class found:
         * this runs for every sequence of every step */
        uint32_t mask = 0;
        uint64_t in_class = UINT32_MAX;
        for (uint32_t k = 0; k < r->ndec; k++) {
            uint64_t c = (uint64_t)s->slots[r->dec_slot[k]].ctx + 1;
            int j = step_ctx_class(c);
            uint64_t left = j == STEP_CTX_CLASSES - 1 ? UINT32_MAX : ((uint64_t)2 << j) - 1 - c;
            in_class = left < in_class ? left : in_class;
            mask |= 1u << j;
            sh->class_seqs[j] += 1;
            sh->class_ctx[j] += c;
        }
        sh->decode_classes = mask;
        step_shape_class_totals(sh);
        return (uint32_t)in_class;
    }
    for (uint32_t k = 0; k < r->ndec; k++) {
        const serve_slot *q = &s->slots[r->dec_slot[k]];
        sh->decode_seqs += 1;
        sh->decode_ctx += (double)q->ctx + 1.0;
    }
    return UINT32_MAX;
}

uint32_t serve_stretch_bound(const serve_sim *s, const serve_replica *r)
{
    if (r->npre != 0 || r->ndec != r->nrun)
        return 1;
    uint32_t k_max = UINT32_MAX;
    for (uint32_t i = 0; i < r->ndec; i++) {
        const serve_slot *q = &s->slots[r->dec_slot[i]];
        uint32_t left = q->output - q->gen;
        if (left < k_max)
            k_max = left;
    }
    return k_max;
}

/* Draws the times of up to k_max decode steps into r->end_s, the first of them already
 * drawn (ending at t1), stopping with the step in which the next request arrives (it may
 * come here and join at the next boundary; stopping there is exact either way). Returns the
 * number drawn. */
static uint32_t draw(serve_sim *s, serve_replica *r, const step_shape *first, double t1,
                     uint32_t k_max)
{
    step_shape sh = *first;
    double next = s->have_next ? s->next_req.arrival_s : INFINITY;
    double t = t1;
    uint32_t j = 0;
    r->end_s[j++] = t;
    step_shape_advance_decode(&sh);
    while (j < k_max && t < next) {
        t += step_time_sample(s->cfg->step, &sh, r->noise);
        r->end_s[j++] = t;
        step_shape_advance_decode(&sh);
    }
    return j;
}

int serve_stretch_plan(serve_sim *s, serve_replica *r, const step_shape *sh, double now_s,
                       uint32_t k_max)
{
    r->k = 0;
    if (k_max < 2) {
        r->end_s_single = now_s + step_time_sample(s->cfg->step, sh, r->noise);
        return 0;
    }
    /* The generator is saved so that draws a shorter stretch does not use can be given
     * back: the noise stream then matches step-by-step simulation exactly. */
    gsl_rng_memcpy(r->noise_saved, r->noise);
    double t1 = now_s + step_time_sample(s->cfg->step, sh, r->noise);
    double next = s->have_next ? s->next_req.arrival_s : INFINITY;
    if (t1 < next) { /* only then can a second step follow: bound the stretch */
        uint32_t bound = serve_stretch_bound(s, r);
        k_max = bound < k_max ? bound : k_max;
    }
    if (t1 >= next || k_max < 2) {
        r->end_s_single = t1; /* one step: the draw step-by-step simulation makes */
        return 0;
    }
    if (r->end_cap < k_max) {
        uint32_t cap = k_max < 64 ? 64 : k_max;
        double *p = realloc(r->end_s, cap * sizeof *p);
        if (p == NULL)
            return -1;
        r->end_s = p;
        r->end_cap = cap;
    }
    uint32_t k = draw(s, r, sh, t1, k_max);
    uint32_t fit = s->sched->stretch_fit(s, r, k);
    if (fit < k) {
        gsl_rng_memcpy(r->noise, r->noise_saved);
        t1 = now_s + step_time_sample(s->cfg->step, sh, r->noise);
        k = draw(s, r, sh, t1, fit);
    }
    if (k >= 2)
        r->k = k;
    else
        r->end_s_single = r->end_s[0];
    return 0;
}

int serve_stretch_cut(serve_sim *s, serve_replica *r, double now_s)
{
    if (r->k == 0)
        return 0;
    uint32_t done = 0; /* steps ended by now */
    while (done < r->k && r->end_s[done] <= now_s)
        done++;
    uint32_t k = done + 1;
    if (k >= r->k)
        return 0;
    /* The generator is rewound and the used draws taken again, so that the noise stream
     * is exactly what step-by-step simulation consumes. */
    gsl_rng_memcpy(r->noise, r->noise_saved);
    step_shape sh;
    serve_stretch_shape(s, r, &sh);
    for (uint32_t j = 0; j < k; j++) {
        step_time_sample(s->cfg->step, &sh, r->noise);
        step_shape_advance_decode(&sh);
    }
    r->k = k;
    return 1;
}

uint64_t serve_stretch_steps_done(const serve_replica *r, double now_s)
{
    uint32_t lo = 0, hi = r->k;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (r->end_s[mid] <= now_s)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Step j (1-based) of the stretch attends over ctx + j tokens and needs a new block when
 * ctx + j - 1 is a multiple of the block size; step 1's was taken already. Each such
 * block counts from the start of step j in the time averages. c0 is the request's ctx
 * before the stretch. */
static void report_growth(serve_sim *s, const serve_replica *r, uint64_t c0, double now_s)
{
    uint32_t bs = s->cfg->block_size;
    const double *T = r->end_s;
    for (uint64_t j = bs - (c0 % bs) + 1; j <= r->k; j += bs) {
        if (j < 2)
            continue;
        serve_metrics_kv_held_late(&s->met, T[j - 2], now_s);
    }
}

/* The peak KV use of the stretch: occupancy only grows within it, so its largest
 * in-window value is at the start of the last step that starts inside the window. */
static void report_kv_peak(serve_sim *s, const serve_replica *r)
{
    const uint32_t k = r->k;
    for (uint32_t j = k; j >= 1; j--) {
        double start = j == 1 ? r->step_start_s : r->end_s[j - 2];
        if (serve_metrics_in_window(&s->met, start)) {
            double used = (double)serve_kv_used_at_step(s, r, k, j);
            serve_metrics_kv_peak_at(&s->met, start, used / (double)s->cfg->kv_blocks);
            break;
        }
    }
}

/* The invariant of a stretch's shapes (tests, check_invariants): the shape of its first step,
 * advanced to its last (k - 1 steps later), is the shape recomputed from the slots with each
 * context k - 1 tokens longer, the context classes' counts and sums included (the stretch
 * ended before any sequence changed class). Called before the slots are advanced. */
static void check_advanced_shape(serve_sim *s, const serve_replica *r)
{
    step_shape ahead, fresh = {0};
    serve_stretch_shape(s, r, &ahead);
    for (uint32_t j = 1; j < r->k; j++)
        step_shape_advance_decode(&ahead);
    for (uint32_t i = 0; i < r->ndec; i++) {
        uint64_t c = (uint64_t)s->slots[r->dec_slot[i]].ctx + r->k;
        if (step_model_prices_classes(s->cfg->step)) {
            step_shape_add_decode(&fresh, c);
        } else {
            fresh.decode_seqs += 1;
            fresh.decode_ctx += (double)c;
        }
    }
    int same = fresh.decode_seqs == ahead.decode_seqs && fresh.decode_ctx == ahead.decode_ctx &&
               fresh.decode_classes == ahead.decode_classes;
    for (uint32_t m = same ? fresh.decode_classes : 0; m != 0; m &= m - 1) {
        int j = step_class_lowest(m);
        same &=
            fresh.class_seqs[j] == ahead.class_seqs[j] && fresh.class_ctx[j] == ahead.class_ctx[j];
    }
    if (!same)
        s->res->invariant_violations++;
}

int serve_stretch_apply(serve_sim *s, serve_replica *r, double now_s)
{
    int any_done = 0;
    const uint32_t k = r->k;
    if (s->cfg->check_invariants)
        check_advanced_shape(s, r);
    const double *T = r->end_s;
    const int grows = s->sched->kv_grows;
    uint64_t measured = 0;
    for (uint32_t i = 0; i < r->ndec; i++) {
        serve_slot *q = &s->slots[r->dec_slot[i]];
        uint64_t meas = q->index >= s->warm ? 1u : 0u;
        measured += meas;
        serve_metrics_itl(&s->met, T[0] - q->last_s, meas);
        if (grows)
            report_growth(s, r, q->ctx, now_s);
        q->gen += k;
        q->ctx += k;
        q->last_s = T[k - 1];
        any_done |= q->gen == q->output;
        s->res->tokens_out += k;
        if (grows)
            serve_kv_take(s, r, q, serve_kv_blocks_for(s, q->ctx) - q->blocks);
    }
    for (uint32_t j = 0; j < k; j++) {
        if (j > 0)
            serve_metrics_itl(&s->met, T[j] - T[j - 1], measured);
        serve_metrics_tokens(&s->met, T[j], r->ndec, 1);
    }
    assert(r->outstanding_tokens >= (uint64_t)k * r->ndec);
    r->outstanding_tokens -= (uint64_t)k * r->ndec;
    s->steps += k - 1;
    if (grows)
        report_kv_peak(s, r);
    r->k = 0;
    return any_done;
}
