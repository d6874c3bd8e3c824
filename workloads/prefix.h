/*
 * prefix: synthetic workloads whose requests share prefixes (issue 13), filling the
 * prefix_id and shared_tokens of a request (workloads/reqsrc.h):
 *
 *  - shared-prefix groups, in the style of inference-perf's shared_prefix generator
 *    (--prefix groups=G,users=U,system=S,question=Q): G groups of U users; group g has a
 *    system prompt of S_g tokens, drawn once per group from a stream of its own (so the
 *    same seed gives the same groups); a request comes from one of the G x U users, drawn
 *    uniformly at random per request, and its prompt is S_g + Q tokens, of which the
 *    first S_g are the group's stream (prefix_id = PREFIX_GROUP_BASE + g + 1);
 *
 *  - multi-turn sessions (--session turns=T,message=M[,chats=C]): a user runs sessions of
 *    T turns (drawn per session); turn 1's prompt is M tokens, turn k's is turn k-1's
 *    prompt and answer followed by a new message of M tokens; every turn shares its whole
 *    prompt and answer with the session's stream (prefix_id = PREFIX_SESSION_BASE + n for
 *    the n-th session started, counting from 1), because the next turn repeats it. In
 *    an open workload the arrivals go to C conversations in turn (round robin).
 *
 * The two are exclusive: one request shares one stream, and a system prompt repeated at
 * the start of every session would be a second stream.
 */
#ifndef CAPSIM_PREFIX_H
#define CAPSIM_PREFIX_H

#include <stddef.h>
#include <stdint.h>

#include "sim/base/dist.h"
#include "workloads/reqsrc.h"

/* A prefix_id's leading decimal digit says which kind of stream it is (readable in a
 * trace), so group and session ids never collide and neither is 0: group g (from 0) is
 * PREFIX_GROUP_BASE + g + 1, the n-th session (from 1) PREFIX_SESSION_BASE + n. */
#define PREFIX_GROUP_BASE   UINT64_C(1000000000000)
#define PREFIX_SESSION_BASE UINT64_C(2000000000000)

#define PREFIX_MAX_GROUPS 1000000u

/* A parsed and resolved shared-prefix or session workload (immutable once made). */
typedef struct prefix_workload {
    int groups_on, sessions_on;
    /* groups */
    uint32_t groups, users_per_group;
    dist system, question;
    uint32_t *system_tokens; /* [groups], S_g */
    /* sessions */
    dist turns, message;
    uint32_t chats; /* open workloads: conversations the arrivals go to in turn */
    int have_system, have_question, have_turns, have_message;
} prefix_workload;

/* Parses --prefix (groups_text) and --session (session_text); either may be "" (off), not
 * both given. S, Q, T and M are distributions in capsim's spec syntax or a whole number
 * (fixed), e.g. groups=8,users=4,system=lognormal:mean=200,cv=0.5,question=400 (a value
 * runs to the next ",KEY=" of a known key). The group system prompts are drawn from a
 * stream derived from seed. Returns 0, or -1 with a one-line message; w must be released
 * with prefix_fini either way. */
int prefix_parse(const char *groups_text, const char *session_text, uint64_t seed,
                 prefix_workload *w, char *err, size_t errlen);
void prefix_fini(prefix_workload *w);

/* Whether w makes requests share anything. */
static inline int prefix_on(const prefix_workload *w)
{
    return w && (w->groups_on || w->sessions_on);
}

/* Groups: draws the user (so the group) and the question with r, and sets the request's
 * prompt_tokens, prefix_id and shared_tokens (output_tokens is left as it is). */
void prefix_group_draw(const prefix_workload *w, gsl_rng *r, request *rq);

/* Groups, knowing the sender: user u (of G x U) is in group u / U; draws the question. */
void prefix_group_user(const prefix_workload *w, uint32_t u, gsl_rng *r, request *rq);

/* Sessions: where each user is in its conversation. The caller owns the struct. */
typedef struct prefix_chat {
    uint64_t id;         /* the session's prefix_id */
    uint32_t turns_left; /* 0: the next request starts a new session */
    uint32_t context;    /* tokens of the conversation so far (prompt + answer) */
} prefix_chat;

typedef struct prefix_chats {
    prefix_chat *user;
    uint32_t n;
    uint64_t started; /* sessions started so far */
} prefix_chats;

int prefix_chats_init(prefix_chats *c, uint32_t n_users);
void prefix_chats_fini(prefix_chats *c);
/* Every user back to before its first session, the session count to 0. */
void prefix_chats_reset(prefix_chats *c);

/* Sessions: user u's next turn. rq->output_tokens must be set (its answer is part of what
 * the next turn repeats); sets prompt_tokens, prefix_id and shared_tokens, drawing the
 * session's turns and the message with r. */
void prefix_chat_next(const prefix_workload *w, prefix_chats *c, uint32_t u, gsl_rng *r,
                      request *rq);

#endif
