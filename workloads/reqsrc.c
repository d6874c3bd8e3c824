/*
 * reqsrc: synthetic and CSV-trace request sources (see reqsrc.h).
 */
#include "workloads/reqsrc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

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
