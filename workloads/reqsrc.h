/*
 * reqsrc: the one interface through which every workload reaches the simulator: a stream
 * of requests in arrival order (arrival time, prompt tokens, output tokens, class).
 *
 * Sources: synthetic (an arrival process with prompt and output length distributions,
 * below) and traces in every format workloads/traces.h reads. Each is a small table of
 * function pointers, so a new format is one file and one constructor. A source
 * reads lazily, in constant memory, and is freed with reqsrc_close().
 */
#ifndef CAPSIM_REQSRC_H
#define CAPSIM_REQSRC_H

#include <math.h>
#include <stddef.h>
#include <stdint.h>

#include "sim/base/dist.h"
#include "workloads/arrival.h"

#define REQSRC_MAX_TOKENS 10000000u

/*
 * What a request shares with others (prefix caching, issue 13): the first shared_tokens
 * tokens of its sequence (prompt, then answer) are the tokens [0, shared_tokens) of the
 * content stream prefix_id, which other requests with the same prefix_id share (a system
 * prompt of a group; a conversation so far, whose next turn repeats it); the rest is its
 * own. prefix_id 0 (the default of every source that does not know): nothing is shared.
 */
typedef struct request {
    double arrival_s;
    uint32_t prompt_tokens; /* >= 1 */
    uint32_t output_tokens; /* >= 1 */
    uint32_t cls;           /* class index; 0 when the workload has none */
    uint32_t shared_tokens; /* leading tokens of the stream prefix_id; 0 with prefix_id 0 */
    uint64_t prefix_id;     /* the shared content stream; 0: none */
} request;

/* A drawn length as a token count: rounded to the nearest whole number, at least 1, at
 * most REQSRC_MAX_TOKENS. */
static inline uint32_t reqsrc_tokens(double x)
{
    double r = nearbyint(x);
    if (!(r >= 1))
        return 1;
    if (r > REQSRC_MAX_TOKENS)
        return REQSRC_MAX_TOKENS;
    return (uint32_t)r;
}

typedef struct reqsrc reqsrc;

typedef struct reqsrc_ops {
    /* 1 with *out filled, 0 at the end, -1 with a message on bad input. */
    int (*next)(reqsrc *s, request *out, char *err, size_t errlen);
    void (*close)(reqsrc *s);
} reqsrc_ops;

struct reqsrc {
    const reqsrc_ops *ops;
};

static inline int reqsrc_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    return s->ops->next(s, out, err, errlen);
}

void reqsrc_close(reqsrc *s);

/* Lengths taken from the requests of a trace (any format workloads/traces.h reads): either
 * whole (prompt, output) pairs, keeping how they go together (joint), or each length
 * drawn from its own column independently (marginals). The caller owns the struct;
 * reqsrc_pairs_load() allocates and reqsrc_pairs_free() frees. */
typedef struct reqsrc_pairs {
    uint32_t *prompt, *output;
    size_t n;
    int joint;
} reqsrc_pairs;

int reqsrc_pairs_load(const char *path, int joint, reqsrc_pairs *out, char *err, size_t errlen);
void reqsrc_pairs_free(reqsrc_pairs *p);

/* One draw of (prompt, output) tokens. */
void reqsrc_pairs_draw(const reqsrc_pairs *p, gsl_rng *r, uint32_t *prompt, uint32_t *output);

/* n requests from an arrival process and length distributions (tokens are rounded to the
 * nearest whole number, at least 1). Random streams: arrivals from seed_arrivals, lengths
 * from seed_lengths. The distributions are borrowed and must outlive the source. */
reqsrc *reqsrc_synthetic(const arrival_process *arrivals, const dist *prompt_len,
                         const dist *output_len, uint64_t n, unsigned long seed_arrivals,
                         unsigned long seed_lengths);

/* Makes a synthetic source draw its lengths from pairs (borrowed) instead of the
 * distributions. */
void reqsrc_synthetic_use_pairs(reqsrc *s, const reqsrc_pairs *pairs);

/* Makes a synthetic source's requests share prefixes (workloads/prefix.h; borrowed):
 * groups replace each drawn prompt; sessions send the arrivals to the workload's
 * conversations in turn. Returns 0, or -1 when out of memory. */
struct prefix_workload;
int reqsrc_synthetic_use_prefix(reqsrc *s, const struct prefix_workload *w);

/* Request classes mixed in given shares (chat:0.7,document:0.3), each with its own length
 * distributions. A request's class is drawn first, then its lengths from that class. */
#define REQSRC_MAX_CLASSES 16

typedef struct reqsrc_mix {
    uint32_t n; /* classes; 0 = none */
    char name[REQSRC_MAX_CLASSES][32];
    double share[REQSRC_MAX_CLASSES];       /* normalised to sum to 1 */
    const dist *prompt[REQSRC_MAX_CLASSES]; /* borrowed */
    const dist *output[REQSRC_MAX_CLASSES];
} reqsrc_mix;

/* Parses "name:share,name:share" (shares > 0, normalised). Distributions are left NULL
 * for the caller to fill. Returns -1 with a message on bad input. */
int reqsrc_mix_parse(const char *text, reqsrc_mix *m, char *err, size_t errlen);

/* Index of class name in m, or -1. */
int reqsrc_mix_find(const reqsrc_mix *m, const char *name);

/* Draws a class and its lengths into r (cls, prompt_tokens, output_tokens). */
void reqsrc_mix_draw(const reqsrc_mix *m, gsl_rng *g, request *r);

/* Makes a synthetic source draw classes and lengths from mix (borrowed). */
void reqsrc_synthetic_use_mix(reqsrc *s, const reqsrc_mix *mix);

#endif
