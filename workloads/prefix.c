/*
 * prefix: shared-prefix groups and multi-turn sessions (see prefix.h).
 */
#include "workloads/prefix.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sim/base/rng.h"
#include "sim/base/util.h"

#define GROUPS_FORM                                                                                \
    "groups=G,users=U,system=S,question=Q (S, Q: tokens, a number or a distribution)"
#define SESSION_FORM "turns=T,message=M[,chats=C] (T: turns, M: tokens; a number or a distribution)"

enum { MAX_KEYS = 4 };

/* Splits "k=v,k=v" where a value runs to the next ",KEY=" of a key in keys (so a value may be
 * a distribution with its own commas). vals[i] receives key i's value, or stays "" when
 * absent. */
static int split_keys(const char *opt, const char *text, const char *const *keys, size_t n_keys,
                      const char *form, char vals[][256], char *err, size_t errlen)
{
    for (size_t i = 0; i < n_keys; i++)
        vals[i][0] = '\0';
    if (util_has_control(text)) {
        util_errf(err, errlen, "%s: the value has a control character (expected %s)", opt, form);
        return -1;
    }
    const char *p = text;
    while (*p) {
        const char *eq = strchr(p, '=');
        size_t k = n_keys;
        for (size_t i = 0; eq && i < n_keys; i++)
            if (strlen(keys[i]) == (size_t)(eq - p) && strncmp(p, keys[i], (size_t)(eq - p)) == 0)
                k = i;
        if (k == n_keys) {
            util_errf(err, errlen, "%s '%s': unknown or missing key at '%.40s' (expected %s)", opt,
                      text, p, form);
            return -1;
        }
        if (vals[k][0]) {
            util_errf(err, errlen, "%s '%s': %s given twice", opt, text, keys[k]);
            return -1;
        }
        /* The value ends at the next ",KEY=" of a known key. */
        const char *v = eq + 1, *end = v + strlen(v);
        for (const char *c = strchr(v, ','); c; c = strchr(c + 1, ',')) {
            int next_key = 0;
            for (size_t i = 0; i < n_keys && !next_key; i++)
                next_key =
                    strncmp(c + 1, keys[i], strlen(keys[i])) == 0 && c[1 + strlen(keys[i])] == '=';
            if (next_key) {
                end = c;
                break;
            }
        }
        if (end == v || (size_t)(end - v) >= sizeof vals[0]) {
            util_errf(err, errlen, "%s '%s': %s needs a value of 1 to 255 characters (expected %s)",
                      opt, text, keys[k], form);
            return -1;
        }
        memcpy(vals[k], v, (size_t)(end - v));
        vals[k][end - v] = '\0';
        p = *end ? end + 1 : end;
    }
    return 0;
}

/* A length: a whole number (fixed) or a distribution. */
static int parse_len(const char *opt, const char *key, const char *text, dist *d, char *err,
                     size_t errlen)
{
    char buf[300], why[1024];
    uint64_t n;
    if (util_parse_u64(text, &n) == 0)
        snprintf(buf, sizeof buf, "fixed:value=%s", text);
    else
        snprintf(buf, sizeof buf, "%s", text);
    if (dist_parse(buf, d, why, sizeof why) != 0) {
        util_errf(err, errlen, "%s %s: %s", opt, key, why);
        return -1;
    }
    return 0;
}

static int parse_count(const char *opt, const char *key, const char *text, uint64_t max,
                       uint32_t *out, char *err, size_t errlen)
{
    uint64_t n;
    if (util_parse_u64(text, &n) != 0 || n < 1 || n > max) {
        util_errf(err, errlen, "%s %s: expected a whole number from 1 to %llu, found '%s'", opt,
                  key, (unsigned long long)max, text);
        return -1;
    }
    *out = (uint32_t)n;
    return 0;
}

static int parse_groups(const char *text, uint64_t seed, prefix_workload *w, char *err,
                        size_t errlen)
{
    static const char *const keys[] = {"groups", "users", "system", "question"};
    char v[MAX_KEYS][256];
    if (split_keys("--prefix", text, keys, 4, GROUPS_FORM, v, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < 4; i++)
        if (v[i][0] == '\0') {
            util_errf(err, errlen, "--prefix '%s': %s missing (expected %s)", text, keys[i],
                      GROUPS_FORM);
            return -1;
        }
    if (parse_count("--prefix", "groups", v[0], PREFIX_MAX_GROUPS, &w->groups, err, errlen) ||
        parse_count("--prefix", "users", v[1], PREFIX_MAX_GROUPS, &w->users_per_group, err, errlen))
        return -1;
    if ((uint64_t)w->groups * w->users_per_group > 100000000u) {
        util_errf(err, errlen, "--prefix '%s': groups x users above 10^8", text);
        return -1;
    }
    if (parse_len("--prefix", "system", v[2], &w->system, err, errlen) != 0)
        return -1;
    w->have_system = 1;
    if (parse_len("--prefix", "question", v[3], &w->question, err, errlen) != 0)
        return -1;
    w->have_question = 1;
    w->system_tokens = malloc(w->groups * sizeof *w->system_tokens);
    gsl_rng *r = sim_rng_create((unsigned long)(sim_seed_mix(seed, 0x50524546u) >> 32) | 1u);
    if (w->system_tokens == NULL || r == NULL) {
        if (r)
            gsl_rng_free(r);
        util_errf(err, errlen, "out of memory");
        return -1;
    }
    /* A system prompt leaves room for a question of at least one token. */
    for (uint32_t g = 0; g < w->groups; g++) {
        uint32_t s = reqsrc_tokens(dist_sample(&w->system, r));
        w->system_tokens[g] = s < REQSRC_MAX_TOKENS ? s : REQSRC_MAX_TOKENS - 1;
    }
    gsl_rng_free(r);
    w->groups_on = 1;
    return 0;
}

static int parse_session(const char *text, prefix_workload *w, char *err, size_t errlen)
{
    static const char *const keys[] = {"turns", "message", "chats"};
    char v[MAX_KEYS][256];
    if (split_keys("--session", text, keys, 3, SESSION_FORM, v, err, errlen) != 0)
        return -1;
    for (size_t i = 0; i < 2; i++)
        if (v[i][0] == '\0') {
            util_errf(err, errlen, "--session '%s': %s missing (expected %s)", text, keys[i],
                      SESSION_FORM);
            return -1;
        }
    if (parse_len("--session", "turns", v[0], &w->turns, err, errlen) != 0)
        return -1;
    w->have_turns = 1;
    if (parse_len("--session", "message", v[1], &w->message, err, errlen) != 0)
        return -1;
    w->have_message = 1;
    w->chats = 1;
    if (v[2][0] && parse_count("--session", "chats", v[2], 10000000u, &w->chats, err, errlen))
        return -1;
    w->sessions_on = 1;
    return 0;
}

int prefix_parse(const char *groups_text, const char *session_text, uint64_t seed,
                 prefix_workload *w, char *err, size_t errlen)
{
    memset(w, 0, sizeof *w);
    if (groups_text[0] && session_text[0]) {
        util_errf(err, errlen,
                  "--prefix and --session: a request shares one stream; give one or the other");
        return -1;
    }
    if (groups_text[0])
        return parse_groups(groups_text, seed, w, err, errlen);
    if (session_text[0])
        return parse_session(session_text, w, err, errlen);
    return 0;
}

void prefix_fini(prefix_workload *w)
{
    if (w->have_system)
        dist_fini(&w->system);
    if (w->have_question)
        dist_fini(&w->question);
    if (w->have_turns)
        dist_fini(&w->turns);
    if (w->have_message)
        dist_fini(&w->message);
    free(w->system_tokens);
    memset(w, 0, sizeof *w);
}

void prefix_group_draw(const prefix_workload *w, gsl_rng *r, request *rq)
{
    uint32_t user = (uint32_t)gsl_rng_uniform_int(r, (unsigned long)w->groups * w->users_per_group);
    prefix_group_user(w, user, r, rq);
}

void prefix_group_user(const prefix_workload *w, uint32_t u, gsl_rng *r, request *rq)
{
    uint32_t g = (u / w->users_per_group) % w->groups;
    uint32_t s = w->system_tokens[g];
    uint32_t q = reqsrc_tokens(dist_sample(&w->question, r));
    if (q > REQSRC_MAX_TOKENS - s)
        q = REQSRC_MAX_TOKENS - s;
    rq->prompt_tokens = s + q;
    rq->prefix_id = PREFIX_GROUP_BASE + g + 1;
    rq->shared_tokens = s;
}

int prefix_chats_init(prefix_chats *c, uint32_t n_users)
{
    memset(c, 0, sizeof *c);
    c->user = calloc(n_users ? n_users : 1, sizeof *c->user);
    c->n = n_users;
    return c->user ? 0 : -1;
}

void prefix_chats_reset(prefix_chats *c)
{
    if (c->user)
        memset(c->user, 0, (c->n ? c->n : 1) * sizeof *c->user);
    c->started = 0;
}

void prefix_chats_fini(prefix_chats *c)
{
    free(c->user);
    memset(c, 0, sizeof *c);
}

void prefix_chat_next(const prefix_workload *w, prefix_chats *c, uint32_t u, gsl_rng *r,
                      request *rq)
{
    prefix_chat *h = &c->user[c->n ? u % c->n : 0];
    uint32_t m = reqsrc_tokens(dist_sample(&w->message, r));
    /* A conversation that would outgrow a request's length limit ends early. */
    uint64_t grown = (uint64_t)h->context + m + rq->output_tokens;
    if (h->turns_left == 0 || grown > REQSRC_MAX_TOKENS) {
        h->id = PREFIX_SESSION_BASE + ++c->started;
        h->turns_left = reqsrc_tokens(dist_sample(&w->turns, r));
        h->context = 0;
    }
    h->turns_left--;
    rq->prompt_tokens = h->context + m;
    rq->prefix_id = h->id;
    rq->shared_tokens = rq->prompt_tokens + rq->output_tokens;
    h->context = rq->shared_tokens;
}
