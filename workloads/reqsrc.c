/*
 * reqsrc: synthetic and CSV-trace request sources (see reqsrc.h).
 */
#include "workloads/reqsrc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/csvin.h"
#include "sim/rng.h"
#include "sim/util.h"

void reqsrc_close(reqsrc *s)
{
    if (s)
        s->ops->close(s);
}

/* --- synthetic ----------------------------------------------------------------------- */

typedef struct synth {
    reqsrc base;
    const arrival_process *arrivals;
    const dist *prompt, *output;
    uint64_t left;
    arrival_state arr; /* the arrival stream */
    gsl_rng *rng_arr, *rng_len;
} synth;

static uint32_t tokens_of(double x)
{
    double r = nearbyint(x);
    if (!(r >= 1))
        return 1;
    if (r > REQSRC_MAX_TOKENS)
        return REQSRC_MAX_TOKENS;
    return (uint32_t)r;
}

static int synth_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    synth *y = (synth *)s;
    if (y->left == 0)
        return 0;
    y->left--;
    out->arrival_s = arrival_next(y->arrivals, &y->arr, y->rng_arr);
    out->prompt_tokens = tokens_of(dist_sample(y->prompt, y->rng_len));
    out->output_tokens = tokens_of(dist_sample(y->output, y->rng_len));
    out->cls = 0;
    return 1;
}

static void synth_close(reqsrc *s)
{
    synth *y = (synth *)s;
    if (y->rng_arr)
        gsl_rng_free(y->rng_arr);
    if (y->rng_len)
        gsl_rng_free(y->rng_len);
    free(y);
}

static const reqsrc_ops SYNTH_OPS = {synth_next, synth_close};

reqsrc *reqsrc_synthetic(const arrival_process *arrivals, const dist *prompt_len,
                         const dist *output_len, uint64_t n, unsigned long seed_arrivals,
                         unsigned long seed_lengths)
{
    synth *y = calloc(1, sizeof *y);
    if (y == NULL)
        return NULL;
    y->base.ops = &SYNTH_OPS;
    y->arrivals = arrivals;
    y->prompt = prompt_len;
    y->output = output_len;
    y->left = n;
    y->rng_arr = sim_rng_create(seed_arrivals);
    y->rng_len = sim_rng_create(seed_lengths);
    if (!y->rng_arr || !y->rng_len) {
        synth_close(&y->base);
        return NULL;
    }
    arrival_start(arrivals, &y->arr, y->rng_arr);
    return &y->base;
}

/* --- capsim CSV trace -------------------------------------------------------------------- */

typedef struct trace {
    reqsrc base;
    csvin *in;
    int col[4];    /* arrival_s, prompt_tokens, output_tokens, class (-1 if absent) */
    uint64_t left; /* UINT64_MAX: no cap */
    double last_t;
} trace;

static int trace_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    trace *t = (trace *)s;
    if (t->left == 0)
        return 0;
    int rc = csvin_next(t->in);
    if (rc < 0) {
        util_errf(err, errlen, "%s", csvin_error(t->in));
        return -1;
    }
    if (rc == 0)
        return 0;
    double a, p, o, c = 0;
    if (csvin_number(t->in, t->col[0], "arrival_s", 0, 1e12, 0, 0, &a, err, errlen) ||
        csvin_number(t->in, t->col[1], "prompt_tokens", 1, REQSRC_MAX_TOKENS, 0, 0, &p, err,
                     errlen) ||
        csvin_number(t->in, t->col[2], "output_tokens", 1, REQSRC_MAX_TOKENS, 0, 0, &o, err,
                     errlen) ||
        (t->col[3] >= 0 && csvin_number(t->in, t->col[3], "class", 0, 1000, 1, 0, &c, err, errlen)))
        return -1;
    if (p != floor(p) || o != floor(o) || c != floor(c)) {
        util_errf(err, errlen, "%s:%ld: token counts and class must be whole numbers",
                  csvin_path(t->in), csvin_line(t->in));
        return -1;
    }
    if (a < t->last_t) {
        util_errf(err, errlen,
                  "%s:%ld: column 'arrival_s': %g is earlier than the previous row's %g "
                  "(expected arrival times in order)",
                  csvin_path(t->in), csvin_line(t->in), a, t->last_t);
        return -1;
    }
    t->last_t = a;
    if (t->left != UINT64_MAX)
        t->left--;
    out->arrival_s = a;
    out->prompt_tokens = (uint32_t)p;
    out->output_tokens = (uint32_t)o;
    out->cls = (uint32_t)c;
    return 1;
}

static void trace_close(reqsrc *s)
{
    trace *t = (trace *)s;
    csvin_close(t->in);
    free(t);
}

static const reqsrc_ops TRACE_OPS = {trace_next, trace_close};

reqsrc *reqsrc_trace_csv(const char *path, uint64_t max_requests, char *err, size_t errlen)
{
    trace *t = calloc(1, sizeof *t);
    if (t == NULL) {
        util_errf(err, errlen, "out of memory");
        return NULL;
    }
    t->base.ops = &TRACE_OPS;
    t->left = max_requests ? max_requests : UINT64_MAX;
    t->in = csvin_open(path, err, errlen);
    if (t->in == NULL) {
        free(t);
        return NULL;
    }
    int rc = csvin_read_header(t->in);
    if (rc != 1) {
        if (rc == 0)
            util_errf(err, errlen,
                      "%s: empty file (expected a header "
                      "arrival_s,prompt_tokens,output_tokens[,class])",
                      path);
        else
            util_errf(err, errlen, "%s", csvin_error(t->in));
        trace_close(&t->base);
        return NULL;
    }
    static const char *const names[4] = {"arrival_s", "prompt_tokens", "output_tokens", "class"};
    for (int i = 0; i < 4; i++) {
        t->col[i] = csvin_column(t->in, names[i]);
        if (t->col[i] < 0 && i < 3) {
            util_errf(err, errlen,
                      "%s:1: missing column '%s' (expected a header "
                      "arrival_s,prompt_tokens,output_tokens[,class])",
                      path, names[i]);
            trace_close(&t->base);
            return NULL;
        }
    }
    return &t->base;
}
