/*
 * stretch: decode stretches. When a step is pure decode and nothing can change the batch
 * for k steps (no request finishes, none can join, the KV cache suffices), the k step
 * times are drawn at once and the stretch is one event instead of k. Its tokens, gaps and
 * KV growth are applied when it ends, reported to the metrics collector with the times
 * they happened. The noise generator is saved at the start so that a stretch cut short
 * can give back the draws it did not use: results match step-by-step simulation exactly.
 */
#ifndef CAPSIM_SERVE_STRETCH_H
#define CAPSIM_SERVE_STRETCH_H

#include <stdint.h>

#include "models/steptime.h"
#include "sim/serve/state.h"

/* The shape of the replica's step in flight, for the step-time model, into *sh (the
 * decoding sequences' context classes too when the model prices them). Returns the steps
 * the batch can advance with every decoding sequence in its class (at least 1; UINT32_MAX
 * when the model does not price the classes): a decode stretch ends before a sequence would
 * change class, so that its steps are priced as step-by-step simulation prices them. */
uint32_t serve_stretch_shape(const serve_sim *s, const serve_replica *r, step_shape *sh);

/* Upper bound on a decode stretch: steps of the batch just composed that can follow
 * unchanged until the first request finishes (1 when this step is not pure decode, or
 * has a prefill pending). */
uint32_t serve_stretch_bound(const serve_sim *s, const serve_replica *r);

/* Draws the end of the step just composed at now_s, or of up to k_max >= 2 steps of it
 * (fewer when serve_stretch_bound says so; it is asked only when the first step ends before
 * the next arrival, the common case under load being a single step): sets r->k (0 for a
 * single step) and r->end_s or r->end_s_single. Returns 0, or -1 if out of memory. */
int serve_stretch_plan(serve_sim *s, serve_replica *r, const step_shape *sh, double now_s,
                       uint32_t k_max);

/* The end of what is in flight on r. */
static inline double serve_stretch_end(const serve_replica *r)
{
    return r->k ? r->end_s[r->k - 1] : r->end_s_single;
}

/* A request has joined replica r's line at now_s and could join at the next step
 * boundary: ends the stretch in flight (if any) with the step in progress. Returns 1 if
 * it was cut (the caller schedules the new end), else 0. */
int serve_stretch_cut(serve_sim *s, serve_replica *r, double now_s);

/* Steps of the stretch in flight on r finished by now_s (a stretch is applied at its end;
 * this is for the router, which must see the same counts as step-by-step simulation). */
uint64_t serve_stretch_steps_done(const serve_replica *r, double now_s);

/* Applies the stretch ending at now_s: tokens, gaps, KV growth and the metrics at the
 * times they happened. Returns 1 if a request finished. */
int serve_stretch_apply(serve_sim *s, serve_replica *r, double now_s);

#endif
