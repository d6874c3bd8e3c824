/*
 * stack: resolving --stack (see stack.h).
 */
#include "sim/plan/stack.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "models/kernels.h"
#include "sim/base/util.h"

const char *stack_names(void)
{
    return "vllm-0.19, vllm-0.14, splitwise-2023";
}

/* "vllm-0.19.0" -> "vllm-0.19": the release a profile file is named after. */
static void release_of(const char *folder, char *buf, size_t len)
{
    snprintf(buf, len, "%s", folder);
    char *first = strchr(buf, '.');
    char *second = first ? strchr(first + 1, '.') : NULL;
    if (second != NULL)
        *second = '\0';
}

/* Does request name the stack folder: "vllm-0.19" names "vllm-0.19.0", and a full folder
 * name names itself. */
static int names_folder(const char *request, const char *folder)
{
    size_t n = strlen(request);
    return strcmp(request, folder) == 0 ||
           (strncmp(request, folder, n) == 0 && folder[n] == '.');
}

/* The roofline profile of a vLLM release, models/profiles/<release>.csv; -1 with a message
 * when it does not ship. */
static int release_profile(const char *release, const char *gpu, const char *data_dir,
                           stack_choice *c, char *err, size_t errlen)
{
    snprintf(c->profile, sizeof c->profile, "%s/models/profiles/%s.csv", data_dir, release);
    if (access(c->profile, R_OK) == 0)
        return 0;
    util_errf(err, errlen,
              "--stack %s: no kernel tables of it for %s and no roofline profile %s (expected "
              "auto, %s)",
              release, gpu, c->profile, stack_names());
    return -1;
}

/* The newest vLLM profile that ships (models/profiles/vllm-*.csv), into release; 0 if any. */
static int newest_profile(const char *data_dir, char *release, size_t len)
{
    static const char *const known[] = {"vllm-0.19", "vllm-0.14"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/models/profiles/%s.csv", data_dir, known[i]);
        if (access(path, R_OK) == 0) {
            snprintf(release, len, "%s", known[i]);
            return 0;
        }
    }
    return -1;
}

static int splitwise(const char *gpu, const char *step_model, const char *data_dir,
                     stack_choice *c, char *err, size_t errlen)
{
    if (step_model != NULL && strcmp(step_model, "kernels") == 0) {
        util_errf(err, errlen,
                  "--step-model kernels: stack %s is the 2023 roofline profile and has no "
                  "kernel tables (use --stack vllm-0.19 or vllm-0.14 for %s)",
                  STACK_SPLITWISE, gpu);
        return -1;
    }
    snprintf(c->name, sizeof c->name, "%s", STACK_SPLITWISE);
    snprintf(c->profile, sizeof c->profile, "%s/models/profiles/default.csv", data_dir);
    return 0;
}

/* A GPU without kernel tables: the roofline with the requested (or newest) vLLM profile. */
static int untabled(const char *stack, const char *gpu, const char *step_model,
                    const char *data_dir, stack_choice *c, char *err, size_t errlen)
{
    char names[256];
    if (step_model != NULL && strcmp(step_model, "kernels") == 0) {
        util_errf(err, errlen,
                  "--step-model kernels: no kernel tables for GPU '%s' (tables exist for %s)",
                  gpu, kernels_gpu_names(names, sizeof names));
        return -1;
    }
    if (stack == NULL && newest_profile(data_dir, c->name, sizeof c->name) != 0) {
        if (splitwise(gpu, step_model, data_dir, c, err, errlen) != 0)
            return -1;
        snprintf(c->note, sizeof c->note,
                 "no kernel tables for %s and no vLLM roofline profile: the 2023 profile "
                 "prices its steps",
                 gpu);
        return 0;
    }
    if (stack != NULL)
        release_of(stack, c->name, sizeof c->name);
    return release_profile(c->name, gpu, data_dir, c, err, errlen);
}

int stack_resolve(const char *stack, const char *gpu, const char *step_model,
                  const char *data_dir, stack_choice *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    if (stack != NULL && strcmp(stack, "auto") == 0)
        stack = NULL;
    if (stack != NULL && strcmp(stack, STACK_SPLITWISE) == 0)
        return splitwise(gpu, step_model, data_dir, c, err, errlen);
    if (stack != NULL && strncmp(stack, "vllm-", 5) != 0) {
        util_errf(err, errlen, "--stack '%s': expected auto, %s", stack, stack_names());
        return -1;
    }
    const char *folder = kernels_gpu_folder(gpu);
    if (folder == NULL)
        return untabled(stack, gpu, step_model, data_dir, c, err, errlen);
    char dir[4096], stacks[KERNELS_MAX_STACKS][KERNELS_NAME_MAX];
    snprintf(dir, sizeof dir, "%s/models/kernels", data_dir);
    int n = kernels_stacks(dir, folder, stacks, KERNELS_MAX_STACKS), pick = -1;
    for (int i = 0; i < n; i++)
        if (stack == NULL ? i == n - 1 : names_folder(stack, stacks[i]))
            pick = i;
    int roofline = step_model != NULL && strcmp(step_model, "roofline") == 0;
    if (pick < 0 && (stack == NULL || !roofline)) {
        char have[512];
        kernels_stack_names(dir, folder, ", ", have, sizeof have);
        util_errf(err, errlen,
                  "--stack %s: not measured on %s (its kernel tables: %s; or --step-model "
                  "roofline for the stack's roofline profile)",
                  stack ? stack : "auto", gpu, n ? have : "none");
        return -1;
    }
    if (pick < 0) { /* the roofline of a stack not measured on this GPU */
        release_of(stack, c->name, sizeof c->name);
        return release_profile(c->name, gpu, data_dir, c, err, errlen);
    }
    snprintf(c->name, sizeof c->name, "%s", stacks[pick]);
    snprintf(c->kernel_stack, sizeof c->kernel_stack, "%s", stacks[pick]);
    c->kernels = !roofline;
    /* The roofline beside the kernels (it prices kernels outside the tables' grids, and the
     * steps of --step-model roofline) takes the release's profile, else the 2023 one. */
    char release[STACK_NAME_MAX];
    release_of(stacks[pick], release, sizeof release);
    if (release_profile(release, gpu, data_dir, c, err, errlen) != 0) {
        snprintf(c->profile, sizeof c->profile, "%s/models/profiles/default.csv", data_dir);
        if (roofline)
            snprintf(c->note, sizeof c->note,
                     "no roofline profile for %s ships: the roofline takes the 2023 profile",
                     release);
    }
    return 0;
}
