/*
 * reqsrc: synthetic and CSV-trace request sources (see reqsrc.h).
 */
#include "workloads/reqsrc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/rng.h"
#include "sim/base/util.h"
#include "workloads/prefix.h"
#include "workloads/traces.h"

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
    arrival_state arr;             /* the arrival stream */
    const reqsrc_pairs *pairs;     /* lengths from a trace instead of prompt/output, or NULL */
    const reqsrc_mix *mix;         /* classes, or NULL */
    const prefix_workload *prefix; /* shared prefixes, or NULL */
    prefix_chats chats;            /* sessions: each conversation's state */
    uint64_t sent;
    gsl_rng *rng_arr, *rng_len;
} synth;

static int synth_next(reqsrc *s, request *out, char *err, size_t errlen)
{
    (void)err;
    (void)errlen;
    synth *y = (synth *)s;
    if (y->left == 0)
        return 0;
    y->left--;
    out->arrival_s = arrival_next(y->arrivals, &y->arr, y->rng_arr);
    out->cls = 0;
    out->shared_tokens = 0;
    out->prefix_id = 0;
    if (y->mix) {
        reqsrc_mix_draw(y->mix, y->rng_len, out);
    } else if (y->pairs) {
        reqsrc_pairs_draw(y->pairs, y->rng_len, &out->prompt_tokens, &out->output_tokens);
    } else {
        out->prompt_tokens = reqsrc_tokens(dist_sample(y->prompt, y->rng_len));
        out->output_tokens = reqsrc_tokens(dist_sample(y->output, y->rng_len));
    }
    /* Shared prefixes replace the drawn prompt (the draw is kept so that the output
     * lengths are the same with and without them). */
    if (y->prefix && y->prefix->groups_on)
        prefix_group_draw(y->prefix, y->rng_len, out);
    else if (y->prefix && y->prefix->sessions_on)
        prefix_chat_next(y->prefix, &y->chats, (uint32_t)(y->sent % y->chats.n), y->rng_len, out);
    y->sent++;
    return 1;
}

static void synth_close(reqsrc *s)
{
    synth *y = (synth *)s;
    if (y->rng_arr)
        gsl_rng_free(y->rng_arr);
    if (y->rng_len)
        gsl_rng_free(y->rng_len);
    prefix_chats_fini(&y->chats);
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

void reqsrc_synthetic_use_pairs(reqsrc *s, const reqsrc_pairs *pairs)
{
    ((synth *)s)->pairs = pairs;
}

int reqsrc_synthetic_use_prefix(reqsrc *s, const prefix_workload *w)
{
    synth *y = (synth *)s;
    if (!prefix_on(w))
        return 0;
    if (w->sessions_on && prefix_chats_init(&y->chats, w->chats) != 0)
        return -1;
    y->prefix = w;
    return 0;
}

/* --- lengths from a trace ---------------------------------------------------------------- */

int reqsrc_pairs_load(const char *path, int joint, reqsrc_pairs *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->joint = joint;
    reqsrc *src = trace_open(path, NULL, err, errlen);
    if (src == NULL)
        return -1;
    size_t cap = 0;
    request rq;
    int rc;
    while ((rc = reqsrc_next(src, &rq, err, errlen)) == 1) {
        if (out->n == cap) {
            cap = cap ? 2 * cap : 1024;
            uint32_t *p = realloc(out->prompt, cap * sizeof *p);
            uint32_t *o = p ? realloc(out->output, cap * sizeof *o) : NULL;
            if (p)
                out->prompt = p;
            if (o == NULL) {
                util_errf(err, errlen, "out of memory");
                rc = -1;
                break;
            }
            out->output = o;
        }
        out->prompt[out->n] = rq.prompt_tokens;
        out->output[out->n] = rq.output_tokens;
        out->n++;
    }
    reqsrc_close(src);
    if (rc == 0 && out->n == 0) {
        util_errf(err, errlen, "%s: no requests to take lengths from", path);
        rc = -1;
    }
    if (rc != 0) {
        reqsrc_pairs_free(out);
        return -1;
    }
    return 0;
}

void reqsrc_pairs_free(reqsrc_pairs *p)
{
    free(p->prompt);
    free(p->output);
    p->prompt = p->output = NULL;
    p->n = 0;
}

void reqsrc_pairs_draw(const reqsrc_pairs *p, gsl_rng *r, uint32_t *prompt, uint32_t *output)
{
    size_t i = gsl_rng_uniform_int(r, p->n);
    size_t j = p->joint ? i : gsl_rng_uniform_int(r, p->n);
    *prompt = p->prompt[i];
    *output = p->output[j];
}

/* --- classes ---------------------------------------------------------------------------- */

int reqsrc_mix_parse(const char *text, reqsrc_mix *m, char *err, size_t errlen)
{
    memset(m, 0, sizeof *m);
    const char *form = "name:share,name:share (e.g. chat:0.7,document:0.3)";
    if (util_has_control(text)) {
        char shown[128];
        util_printable(text, shown, sizeof shown);
        util_errf(err, errlen, "'%s' has a control character (expected %s)", shown, form);
        return -1;
    }
    const char *p = text;
    double total = 0;
    while (*p) {
        const char *comma = strchr(p, ',');
        size_t len = comma ? (size_t)(comma - p) : strlen(p);
        const char *colon = memchr(p, ':', len);
        if (colon == NULL || colon == p || (size_t)(colon - p) >= sizeof m->name[0]) {
            util_errf(err, errlen, "'%s': '%.*s' is not name:share (expected %s)", text, (int)len,
                      p, form);
            return -1;
        }
        if (m->n == REQSRC_MAX_CLASSES) {
            util_errf(err, errlen, "'%s': more than %d classes", text, REQSRC_MAX_CLASSES);
            return -1;
        }
        char num[64];
        size_t nlen = len - (size_t)(colon + 1 - p);
        if (nlen >= sizeof num)
            nlen = sizeof num - 1;
        memcpy(num, colon + 1, nlen);
        num[nlen] = '\0';
        double share;
        if (util_parse_double(num, &share) != 0 || !(share > 0)) {
            util_errf(err, errlen,
                      "'%s': share of '%.*s' must be a number > 0, found '%s' "
                      "(expected %s)",
                      text, (int)(colon - p), p, num, form);
            return -1;
        }
        memcpy(m->name[m->n], p, (size_t)(colon - p));
        m->name[m->n][colon - p] = '\0';
        if (reqsrc_mix_find(m, m->name[m->n]) >= 0) { /* among the classes before it */
            util_errf(err, errlen, "'%s': class '%s' given twice", text, m->name[m->n]);
            return -1;
        }
        m->share[m->n++] = share;
        total += share;
        if (!comma)
            break;
        p = comma + 1;
    }
    if (m->n == 0) {
        util_errf(err, errlen, "'%s': no classes (expected %s)", text, form);
        return -1;
    }
    for (uint32_t i = 0; i < m->n; i++)
        m->share[i] /= total;
    return 0;
}

int reqsrc_mix_find(const reqsrc_mix *m, const char *name)
{
    for (uint32_t i = 0; i < m->n; i++)
        if (strcmp(m->name[i], name) == 0)
            return (int)i;
    return -1;
}

void reqsrc_mix_draw(const reqsrc_mix *m, gsl_rng *g, request *r)
{
    double u = gsl_rng_uniform(g), cum = 0;
    uint32_t c = m->n - 1;
    for (uint32_t i = 0; i < m->n; i++) {
        cum += m->share[i];
        if (u < cum) {
            c = i;
            break;
        }
    }
    r->cls = c;
    r->prompt_tokens = reqsrc_tokens(dist_sample(m->prompt[c], g));
    r->output_tokens = reqsrc_tokens(dist_sample(m->output[c], g));
}

void reqsrc_synthetic_use_mix(reqsrc *s, const reqsrc_mix *mix)
{
    ((synth *)s)->mix = mix;
}
