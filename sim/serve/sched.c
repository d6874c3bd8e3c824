/*
 * sched: the table of schedulers (see sched.h).
 */
#include "sim/serve/sched.h"

#include <string.h>

#include "sim/base/util.h"


extern const serve_sched_ops serve_sched_continuous; /* sched_continuous.c */
extern const serve_sched_ops serve_sched_static;     /* sched_static.c */

/* The first is the default. */
static const serve_sched_ops *const SCHEDULERS[] = {
    &serve_sched_continuous,
    &serve_sched_static,
};

#define N_SCHEDULERS (sizeof SCHEDULERS / sizeof SCHEDULERS[0])

size_t serve_sched_count(void)
{
    return N_SCHEDULERS;
}

const serve_sched_ops *serve_sched_at(size_t i)
{
    return i < N_SCHEDULERS ? SCHEDULERS[i] : NULL;
}

const serve_sched_ops *serve_sched_find(const char *name)
{
    for (size_t i = 0; i < N_SCHEDULERS; i++)
        if (strcmp(SCHEDULERS[i]->name, name) == 0)
            return SCHEDULERS[i];
    return NULL;
}

void serve_sched_names(char *buf, size_t len)
{
    if (len == 0)
        return;
    buf[0] = '\0';
    size_t at = 0;
    for (size_t i = 0; i < N_SCHEDULERS; i++)
        util_list_append(buf, len, &at, i, N_SCHEDULERS, " or ", SCHEDULERS[i]->name);
}
