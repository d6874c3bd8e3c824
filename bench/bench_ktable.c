/*
 * bench_ktable: speed of the kernel-table look-ups (ns per look-up, on the shipped H100
 * vLLM 0.19 tables, at random points inside their grids), and, with --pruned DIR, the
 * accuracy cost of the pruning: every row that models/kernels/prune.py dropped (written to
 * DIR by its --write-pruned=DIR) predicted from the shipped rows. Prints figures; never part
 * of the tests.
 *
 * usage: bench_ktable [--kernels DIR] [--pruned DIR]
 *        (DIR of --kernels defaults to the source tree's models/kernels)
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "models/kernels_eval.h"
#include "models/ktable.h"

#define LOOKUPS 1000000

static double wall_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static double uniform(double lo, double hi, unsigned long long *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    return lo + (hi - lo) * (double)(*s >> 11) * 0x1.0p-53;
}

static ktable *load(const char *dir, ktable_kind kind)
{
    char path[1024], err[512];
    snprintf(path, sizeof path, "%s/h100_sxm/vllm-0.19.0/%s", dir, ktable_kind_file(kind));
    ktable *t = ktable_load(path, kind, err, sizeof err);
    if (t == NULL)
        fprintf(stderr, "bench_ktable: %s\n", err);
    return t;
}

/* Times LOOKUPS look-ups of one kind at random points (integers where the sizes are). */
static void time_kind(const ktable *t, ktable_kind kind, const char *label)
{
    unsigned long long s = 42;
    double sum = 0;
    unsigned extrapolated = 0;
    double t0 = wall_s();
    for (int i = 0; i < LOOKUPS; i++) {
        ktable_result r;
        double m = (double)(int)uniform(1, 8192, &s);
        switch (kind) {
        case KTABLE_GEMM:
            ktable_gemm(t, "bfloat16", m, 6144, 4096, &r);
            break;
        case KTABLE_PREFILL_ATTN:
            ktable_prefill_attn(t, 1, m, 32, 8, 128, "bfloat16", &r);
            break;
        case KTABLE_DECODE_ATTN:
            ktable_decode_attn(t, (double)(int)uniform(1, 32, &s), m, 32, 8, 128, "bfloat16", &r);
            break;
        case KTABLE_MOE: {
            const ktable_moe_shape sh = {4096, 14336, 2, 8, 1, 1};
            ktable_moe(t, "bfloat16", m, &sh, "balanced", &r);
            break;
        }
        default:
            ktable_allreduce(t, 2, m * 4096, "vllm_graph", &r);
            break;
        }
        sum += r.latency_ms;
        extrapolated += r.status != KTABLE_OK;
    }
    double dt = wall_s() - t0;
    printf("  %-44s %7.1f ns/lookup  (%u of %d extrapolated; checksum %.6g)\n", label,
           1e9 * dt / LOOKUPS, extrapolated, LOOKUPS, sum);
}

static int bench_speed(const char *dir)
{
    static const struct {
        ktable_kind kind;
        const char *label;
    } K[] = {
        {KTABLE_GEMM, "gemm bf16 m in 1..8192, n 6144, k 4096"},
        {KTABLE_PREFILL_ATTN, "prefill attn batch 1, isl 1..8192, 32/8 heads"},
        {KTABLE_DECODE_ATTN, "decode attn batch 1..32, ctx 1..8192"},
        {KTABLE_MOE, "moe mixtral-8x7b bf16, tokens 1..8192"},
        {KTABLE_CUSTOM_AR, "custom all-reduce graph, 2 GPUs"},
    };
    printf("look-up speed (h100_sxm/vllm-0.19.0, %d random look-ups each):\n", LOOKUPS);
    for (size_t i = 0; i < sizeof K / sizeof K[0]; i++) {
        ktable *t = load(dir, K[i].kind);
        if (t == NULL)
            return 1;
        time_kind(t, K[i].kind, K[i].label);
        ktable_free(t);
    }
    return 0;
}

/* Predicts the pruned rows of one table from the shipped one. */
static int pruned_one(const char *kernels, const char *pruned, const char *gpu,
                      const char *stack, ktable_kind kind)
{
    char kept_path[1024], gone_path[1024], err[512];
    snprintf(kept_path, sizeof kept_path, "%s/%s/%s/%s", kernels, gpu, stack, ktable_kind_file(kind));
    snprintf(gone_path, sizeof gone_path, "%s/%s/%s/%s", pruned, gpu, stack, ktable_kind_file(kind));
    if (access(gone_path, R_OK) != 0)
        return 0;
    ktable *gone = ktable_load(gone_path, kind, err, sizeof err);
    if (gone == NULL)
        return 0; /* nothing pruned (or only sliding-window rows, which are skipped) */
    ktable *kept = ktable_load(kept_path, kind, err, sizeof err);
    kernels_eval e;
    if (kept == NULL || kernels_eval_predict(kept, gone, NULL, &e) != 0) {
        fprintf(stderr, "bench_ktable: %s\n", kept == NULL ? err : "out of memory");
        ktable_free(gone);
        ktable_free(kept);
        return -1;
    }
    printf("  %-9s %-12s %-30s %7zu %7zu %6zu %6zu %7.2f %7.2f\n", gpu, stack,
           ktable_kind_file(kind), e.rows, e.inside, e.extrapolated, e.no_key, e.median_pct,
           e.p90_pct);
    ktable_free(gone);
    ktable_free(kept);
    return 0;
}

static int bench_pruned(const char *kernels, const char *pruned)
{
    printf("pruning cost: the pruned rows predicted from the shipped ones\n");
    printf("  %-9s %-12s %-30s %7s %7s %6s %6s %7s %7s\n", "gpu", "stack", "table", "pruned",
           "inside", "extrap", "nokey", "med%", "p90%");
    DIR *top = opendir(pruned);
    if (top == NULL) {
        fprintf(stderr, "bench_ktable: cannot open %s\n", pruned);
        return 1;
    }
    struct dirent *g;
    int rc = 0;
    while (rc == 0 && (g = readdir(top)) != NULL) {
        char gdir[1024];
        snprintf(gdir, sizeof gdir, "%s/%s", pruned, g->d_name);
        DIR *gd = g->d_name[0] != '.' ? opendir(gdir) : NULL;
        struct dirent *st;
        while (rc == 0 && gd != NULL && (st = readdir(gd)) != NULL)
            for (int k = 0; rc == 0 && k < KTABLE_NKINDS && st->d_name[0] != '.'; k++)
                rc = pruned_one(kernels, pruned, g->d_name, st->d_name, (ktable_kind)k);
        if (gd != NULL)
            closedir(gd);
    }
    closedir(top);
    return rc == 0 ? 0 : 1;
}

int main(int argc, char **argv)
{
    const char *kernels = CAPSIM_SOURCE_DIR "/models/kernels", *pruned = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--kernels") == 0 && i + 1 < argc)
            kernels = argv[++i];
        else if (strcmp(argv[i], "--pruned") == 0 && i + 1 < argc)
            pruned = argv[++i];
        else {
            fprintf(stderr, "usage: bench_ktable [--kernels DIR] [--pruned DIR]\n");
            return 2;
        }
    }
    if (pruned != NULL)
        return bench_pruned(kernels, pruned);
    return bench_speed(kernels);
}
