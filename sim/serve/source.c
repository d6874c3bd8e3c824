/*
 * source: where a replication's requests come from (see source.h).
 */
#include "sim/serve/source.h"

#include <stdio.h>

#include "sim/base/util.h"
#include "workloads/prefix.h"
#include "workloads/resample.h"

/* The trace reading options, with the workload's request limit applied. */
static trace_options trace_opts(const serve_workload *w)
{
    trace_options o = w->trace_opt;
    if (w->requests && (o.max_requests == 0 || w->requests < o.max_requests))
        o.max_requests = w->requests;
    return o;
}

/* The trace as the user named it (a pipe is read through a copy). */
static const char *trace_name(const serve_workload *w)
{
    return w->trace_opt.name ? w->trace_opt.name : w->trace_path;
}

reqsrc *serve_source_open(const serve_config *c, const unsigned long *seeds,
                          uint64_t n_requests, char *err, size_t errlen)
{
    const serve_workload *w = &c->wl;
    if (w->trace_path) {
        trace_options o = trace_opts(w);
        if (w->trace_resample_block_s > 0)
            return resample_open(w->trace_path, &o, w->trace_resample_block_s, n_requests,
                                 seeds[SERVE_SRC_ARRIVALS], err, errlen);
        return trace_open(w->trace_path, &o, err, errlen);
    }
    reqsrc *src = reqsrc_synthetic(w->arrivals, w->prompt_len, w->output_len, w->requests,
                                   seeds[SERVE_SRC_ARRIVALS], seeds[SERVE_SRC_LENGTHS]);
    if (src && w->mix)
        reqsrc_synthetic_use_mix(src, w->mix);
    if (src && w->pairs)
        reqsrc_synthetic_use_pairs(src, w->pairs);
    if (src && reqsrc_synthetic_use_prefix(src, w->prefix) != 0) {
        reqsrc_close(src);
        src = NULL;
    }
    if (src == NULL)
        util_errf(err, errlen, "out of memory");
    return src;
}

int serve_source_count(const serve_config *c, uint64_t *n, serve_result *res, char *err,
                       size_t errlen)
{
    if (!c->wl.trace_path) {
        *n = c->wl.requests;
        return 0;
    }
    trace_options o = trace_opts(&c->wl);
    reqsrc *src = trace_open(c->wl.trace_path, &o, err, errlen);
    if (src == NULL)
        return -1;
    request rq;
    int rc;
    *n = 0;
    const trace_stats *ts = trace_get_stats(src);
    while ((rc = reqsrc_next(src, &rq, err, errlen)) == 1) {
        (*n)++;
        /* --over-length error names the trace row before anything is simulated. */
        request fit;
        if (serve_source_fit(c, &rq, &fit) < 0) {
            char where[1100];
            snprintf(where, sizeof where, "%s:%ld: request %llu", trace_name(&c->wl), ts->last_line,
                     (unsigned long long)*n);
            serve_source_over_error(c, &rq, where, err, errlen);
            rc = -1;
            break;
        }
    }
    res->trace_rows_bad = ts->rows_bad;
    res->trace_rows_reordered = ts->rows_reordered;
    snprintf(res->trace_first_bad, sizeof res->trace_first_bad, "%s", ts->first_bad[0]);
    reqsrc_close(src);
    if (rc < 0)
        return -1;
    if (*n == 0) {
        util_errf(err, errlen, "%s: no requests (after the header, window and filters)",
                  trace_name(&c->wl));
        return -1;
    }
    return 0;
}

int serve_source_fit(const serve_config *c, const request *rq, request *fit)
{
    uint32_t max = c->max_model_len;
    if (max == 0 || (uint64_t)rq->prompt_tokens + rq->output_tokens <= max)
        return 0;
    if (c->over_length == SERVE_OVER_ERROR)
        return -1;
    *fit = *rq;
    /* A limit of 1 leaves no room for a prompt token and an output token. */
    if (c->over_length == SERVE_OVER_REJECT || max < 2)
        return 1;
    if (fit->output_tokens > max - 1)
        fit->output_tokens = max - 1;
    if (fit->prompt_tokens > max - fit->output_tokens)
        fit->prompt_tokens = max - fit->output_tokens;
    if (fit->shared_tokens > fit->prompt_tokens)
        fit->shared_tokens = fit->prompt_tokens;
    return 2;
}

void serve_source_over_error(const serve_config *c, const request *rq, const char *what, char *err,
                             size_t errlen)
{
    util_errf(err, errlen,
              "%s: prompt %u + output %u tokens is longer than the max model length of %u "
              SERVE_OVER_LENGTH_ERROR_TAG " reject refuses such requests as vLLM does, truncate "
              "cuts them to fit)",
              what, rq->prompt_tokens, rq->output_tokens, c->max_model_len);
}

/* A closed-loop request's class and lengths, as without shared prefixes. */
static request draw_lengths(const serve_workload *w, gsl_rng *rng, double now_s)
{
    request rq = {.arrival_s = now_s, .cls = 0};
    if (w->mix) {
        reqsrc_mix_draw(w->mix, rng, &rq);
    } else if (w->pairs) {
        reqsrc_pairs_draw(w->pairs, rng, &rq.prompt_tokens, &rq.output_tokens);
    } else {
        rq.prompt_tokens = reqsrc_tokens(dist_sample(w->prompt_len, rng));
        rq.output_tokens = reqsrc_tokens(dist_sample(w->output_len, rng));
    }
    return rq;
}

request serve_source_closed_request(const serve_config *c, gsl_rng *rng, double now_s)
{
    const serve_workload *w = &c->wl;
    request rq = draw_lengths(w, rng, now_s);
    /* The sender is not known here, so a request's user (and so its group) is drawn at
     * random, as in an open workload: every user's group equally likely. */
    if (w->prefix && w->prefix->groups_on)
        prefix_group_draw(w->prefix, rng, &rq);
    return rq;
}

request serve_source_user_request(const serve_config *c, prefix_chats *chats, uint32_t u,
                                  gsl_rng *rng, double now_s)
{
    const prefix_workload *p = c->wl.prefix;
    if (!prefix_on(p))
        return serve_source_closed_request(c, rng, now_s);
    /* The lengths as without prefixes, then the prompt made of the shared stream. */
    request rq = draw_lengths(&c->wl, rng, now_s);
    if (p->groups_on)
        prefix_group_user(p, u, rng, &rq);
    else
        prefix_chat_next(p, chats, u, rng, &rq);
    return rq;
}
