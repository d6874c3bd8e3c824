/*
 * test_rfit: the roofline profiles refitted to the measured-kernel model per vLLM stack
 * (models/profiles/vllm-0.19.csv and vllm-0.14.csv, written by models/profiles/make_vllm.sh):
 * they load, every catalog GPU has a row of its own (and there is a '*' row), every
 * coefficient is in a sane range, noise_cv is the default profile's, and on an H100 SXM the
 * refitted roofline is within 25% of the kernel model of the same stack on two hand-picked
 * steps (Llama-3.1-8B: decode of 32 sequences at context 1024, a prefill of 2048 tokens).
 * The fit has no random seed; these checks read only the shipped files.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "models/profile.h"
#include "models/steptime.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/deploy.h"
#include "tests/check.h"

#define PROFILES CAPSIM_SOURCE_DIR "/models/profiles"

static const char *const STACKS[][2] = {{"vllm-0.19.csv", "vllm-0.19.0"},
                                        {"vllm-0.14.csv", "vllm-0.14.0"}};

/* The row of exactly gpu (not the '*' fallback), or NULL. */
static const profile_row *own_row(const profile_list *l, const char *gpu)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcasecmp(l->items[i].gpu, gpu) == 0)
            return &l->items[i];
    return NULL;
}

static void check_row(const profile_row *r, const profile_list *old)
{
    CHECK(r->c.mfu > 0 && r->c.mfu <= 1);
    CHECK(r->c.mbu > 0 && r->c.mbu <= 1);
    CHECK_GE(r->c.t_fixed_s, 0);
    CHECK_GE(r->c.t_layer_s, 0);
    CHECK_LE(r->c.t_fixed_s, 5e-3);
    CHECK_LE(r->c.t_layer_s, 1e-3);
    CHECK(r->c.comm_scale >= 0 && r->c.comm_scale <= 100);
    CHECK(r->c.attn_scale >= 1 && r->c.attn_scale <= 100);
    /* The basis says how the row was made, and was not cut to fit the row. */
    CHECK(strncmp(r->basis, "derived from ", 13) == 0 || strstr(r->basis, "fitted to the kernel"));
    CHECK_LE(strlen(r->basis), sizeof r->basis - 2);
    const profile_row *o = profile_list_find(old, r->gpu);
    if (CHECK(o != NULL))
        CHECK_EQ_DBL(r->c.noise_cv, o->c.noise_cv);
}

static void test_every_gpu_has_a_sane_row(void)
{
    char err[1024], path[4096];
    model_list models;
    gpu_list gpus;
    profile_list old;
    if (!CHECK_EQ_INT(catalog_load(catalog_default_dir(), &models, &gpus, err, sizeof err), 0))
        return;
    CHECK_EQ_INT(profile_list_load(PROFILES "/default.csv", &old, err, sizeof err), 0);
    for (size_t s = 0; s < sizeof STACKS / sizeof STACKS[0]; s++) {
        profile_list l;
        snprintf(path, sizeof path, "%s/%s", PROFILES, STACKS[s][0]);
        if (!CHECK_EQ_INT(profile_list_load(path, &l, err, sizeof err), 0)) {
            printf("  %s\n", err);
            continue;
        }
        CHECK_EQ_U64(l.n, gpus.n + 1);
        for (size_t g = 0; g < gpus.n; g++) {
            const profile_row *r = own_row(&l, gpus.items[g].name);
            if (CHECK(r != NULL))
                check_row(r, &old);
        }
        const profile_row *any = own_row(&l, "*");
        if (CHECK(any != NULL))
            check_row(any, &old);
        profile_list_free(&l);
    }
    profile_list_free(&old);
    model_list_free(&models);
    gpu_list_free(&gpus);
}

/* The step time of llama-3.1-8b on one H100 SXM under the profile (stack NULL) or under the
 * kernel model of stack. */
static double step_s(const char *profile, const char *stack, const step_shape *s)
{
    deploy_options o;
    deploy_options_default(&o);
    o.model = "llama-3.1-8b";
    o.gpu = "h100-sxm";
    o.profile = profile;
    o.step_model = stack ? "kernels" : "roofline";
    o.stack = stack;
    deploy d;
    char err[1024];
    if (!CHECK_EQ_INT(deploy_resolve(&o, &d, err, sizeof err), 0)) {
        printf("  %s\n", err);
        return NAN;
    }
    double t = step_time_s(&d.step, s, NULL);
    deploy_fini(&d);
    return t;
}

static void test_h100_close_to_the_kernels(void)
{
    const step_shape shapes[] = {step_shape_decode(32, 1024), step_shape_prefill(1, 2048)};
    char path[4096];
    for (size_t s = 0; s < sizeof STACKS / sizeof STACKS[0]; s++) {
        snprintf(path, sizeof path, "%s/%s", PROFILES, STACKS[s][0]);
        for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
            double roof = step_s(path, NULL, &shapes[i]);
            double kern = step_s(path, STACKS[s][1], &shapes[i]);
            if (!CHECK_LE(fabs(roof / kern - 1.0), 0.25))
                printf("  %s, step %zu: roofline %.3f ms, kernels %.3f ms\n", STACKS[s][0], i,
                       1e3 * roof, 1e3 * kern);
        }
    }
}

TEST_MAIN(TEST(test_every_gpu_has_a_sane_row), TEST(test_h100_close_to_the_kernels))
