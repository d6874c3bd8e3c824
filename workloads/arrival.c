/*
 * arrival: renewal arrival processes (see arrival.h).
 */
#include "workloads/arrival.h"

#include <stdio.h>
#include <string.h>

#include "sim/spec.h"
#include "sim/util.h"

typedef struct arrival_kind {
    const char *name;
    const char *form;
    const char *gap_kind; /* distribution of inter-arrival times */
    int has_cv;
} arrival_kind;

static const arrival_kind KINDS[] = {
    {"poisson", "poisson:rate=R", "exp", 0},
    {"deterministic", "deterministic:rate=R", "det", 0},
    {"gamma", "gamma:rate=R,cv=C", "gamma", 1},
};

int arrival_parse(const char *text, arrival_process *a, char *err, size_t errlen)
{
    memset(a, 0, sizeof *a);
    spec s;
    const arrival_kind *k = NULL;
    char name[32];
    spec_name_of(text, name, sizeof name);
    for (size_t i = 0; i < sizeof KINDS / sizeof KINDS[0]; i++)
        if (strcmp(name, KINDS[i].name) == 0)
            k = &KINDS[i];
    if (spec_parse(text, &s, err, errlen) != 0) {
        spec_add_expected(err, errlen, k ? k->form : arrival_forms());
        return -1;
    }
    if (k == NULL) {
        util_errf(err, errlen, "'%s': unknown arrival process '%s' (expected one of %s)", text,
                  s.name, arrival_forms());
        return -1;
    }
    static const char *const k_rate[] = {"rate", NULL};
    static const char *const k_rate_cv[] = {"rate", "cv", NULL};
    const char *const *keys = k->has_cv ? k_rate_cv : k_rate;
    double rate = 0, cv = 1;
    if (spec_check_keys(&s, keys, keys, k->form, err, errlen) != 0 ||
        spec_number(&s, "rate", SPEC_POSITIVE, 0, 0, &rate, k->form, err, errlen) != 0 ||
        (k->has_cv && spec_number(&s, "cv", SPEC_POSITIVE, 0, 0, &cv, k->form, err, errlen) != 0))
        return -1;
    if (dist_make(k->gap_kind, 1.0 / rate, cv, &a->interarrival, err, errlen) != 0)
        return -1;
    a->rate_per_s = rate;
    snprintf(a->text, sizeof a->text, "%s", text);
    return 0;
}

void arrival_fini(arrival_process *a)
{
    dist_fini(&a->interarrival);
}

const char *arrival_forms(void)
{
    return "poisson:rate=R | deterministic:rate=R | gamma:rate=R,cv=C";
}
