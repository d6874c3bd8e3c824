/*
 * resample: the block bootstrap of a trace (see resample.h).
 *
 * Invariants: req holds the trace in arrival order; block b holds the requests
 * first[b] .. first[b + 1] - 1, those with arrival in [t0 + b block_s, t0 + (b + 1)
 * block_s); the source hands out the requests of the block drawn for slot `slot`, shifted
 * to start at t0 + slot block_s, until `limit` requests are out.
 */
#include "workloads/resample.h"

#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/util.h"

typedef struct resample {
    reqsrc base;
    request *req;
    size_t n;
    size_t *first; /* n_blocks + 1 entries */
    size_t n_blocks;
    double t0, block_s;
    gsl_rng *rng;
    uint64_t limit, given;
    uint64_t slot;   /* the slot of the block being handed out */
    int started;     /* a block has been drawn (slot 0 is filled) */
    size_t cur, end; /* what is left of the block being handed out */
    double shift;    /* added to the block's arrival times */
} resample;

int resample_parse(const char *text, double *block_s, char *err, size_t errlen)
{
    *block_s = 0;
    if (strcmp(text, "off") == 0)
        return 0;
    double v;
    if (strncmp(text, "block:", 6) != 0 || util_parse_double(text + 6, &v) != 0 || !(v > 0)) {
        util_errf(err, errlen,
                  "--trace-resample '%s': expected off or block:SECONDS with SECONDS > 0", text);
        return -1;
    }
    *block_s = v;
    return 0;
}

static int resample_next(reqsrc *base, request *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    resample *s = (resample *)base;
    if (s->given >= s->limit)
        return 0;
    /* Each draw fills the next slot; an empty block leaves its slot empty. The trace has a
     * request, so this ends. */
    while (s->cur == s->end) {
        if (s->started)
            s->slot++;
        s->started = 1;
        size_t b = (size_t)gsl_rng_uniform_int(s->rng, (unsigned long)s->n_blocks);
        s->cur = s->first[b];
        s->end = s->first[b + 1];
        s->shift = (double)s->slot * s->block_s - (double)b * s->block_s;
    }
    *out = s->req[s->cur++];
    out->arrival_s += s->shift;
    s->given++;
    return 1;
}

static void resample_close(reqsrc *base)
{
    resample *s = (resample *)base;
    gsl_rng_free(s->rng);
    free(s->req);
    free(s->first);
    free(s);
}

static const reqsrc_ops RESAMPLE_OPS = {resample_next, resample_close};

/* Reads every request of the trace into s->req. */
static int read_all(resample *s, const char *path, const trace_options *opt, char *err,
                    size_t errlen)
{
    reqsrc *src = trace_open(path, opt, err, errlen);
    if (src == NULL)
        return -1;
    size_t cap = 0;
    request rq;
    int rc;
    while ((rc = reqsrc_next(src, &rq, err, errlen)) == 1) {
        if (s->n == cap) {
            size_t nc = cap ? 2 * cap : 1024;
            request *grown = realloc(s->req, nc * sizeof *grown);
            if (grown == NULL) {
                util_errf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            s->req = grown;
            cap = nc;
        }
        s->req[s->n++] = rq;
    }
    reqsrc_close(src);
    if (rc == 0 && s->n == 0) {
        util_errf(err, errlen, "%s: no requests to resample", path);
        rc = -1;
    }
    return rc;
}

reqsrc *resample_open(const char *path, const trace_options *opt, double block_s,
                      uint64_t requests, uint64_t seed, char *err, size_t errlen)
{
    resample *s = calloc(1, sizeof *s);
    if (s == NULL) {
        util_errf(err, errlen, "out of memory");
        return NULL;
    }
    s->base.ops = &RESAMPLE_OPS;
    s->block_s = block_s;
    s->limit = requests;
    if (read_all(s, path, opt, err, errlen) != 0) {
        free(s->req);
        free(s);
        return NULL;
    }
    s->t0 = s->req[0].arrival_s;
    double span = s->req[s->n - 1].arrival_s - s->t0;
    /* Equal blocks that tile the trace's span: a last, partial block would hold few
     * requests yet take a whole slot, and lower the rate. */
    s->n_blocks = (size_t)floor(span / block_s + 0.5);
    if (s->n_blocks < 2) {
        /* One block is the trace itself: every replication would replay the same requests
         * while claiming an interval over the traffic. */
        util_errf(err, errlen,
                  "--trace-resample block:%g: %s spans %.4g s, so one block holds all of it "
                  "and every replication would replay the same requests; expected a block of "
                  "at most %.4g s (e.g. block:%.3g)",
                  block_s, path, span, span / 1.5, span / 10);
        free(s->req);
        free(s);
        return NULL;
    }
    if (span > 0)
        s->block_s = span / (double)s->n_blocks;
    s->first = calloc(s->n_blocks + 1, sizeof *s->first);
    s->rng = gsl_rng_alloc(gsl_rng_taus2);
    if (s->first == NULL || s->rng == NULL) {
        util_errf(err, errlen, "out of memory");
        if (s->rng)
            gsl_rng_free(s->rng);
        free(s->first);
        free(s->req);
        free(s);
        return NULL;
    }
    /* taus2 takes the low 32 bits of its seed and maps 0 to a default. */
    gsl_rng_set(s->rng, (unsigned long)(seed & 0xffffffffu));
    size_t i = 0;
    for (size_t b = 0; b < s->n_blocks; b++) {
        double lo = s->t0 + (double)b * s->block_s;
        while (i < s->n && s->req[i].arrival_s < lo)
            i++;
        s->first[b] = i;
    }
    s->first[s->n_blocks] = s->n;
    return &s->base;
}
