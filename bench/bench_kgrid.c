/*
 * bench_kgrid: the measured-kernel step model (the default where a GPU has tables) against
 * the roofline of the same stack (models/profiles/vllm-0.19.csv for the H100), step by step
 * over a grid, per GPU: the ratio kernel time / roofline time of
 * decode steps (batch 1 to 256 at context 128 to 8K) and of prefill steps (one chunk of 128
 * to 8K tokens), for a small and a large dense model. Issue 12 asks for these figures;
 * prints them, never part of the tests. With --profile, the roofline takes its coefficients
 * from that profile CSV instead (models/profiles/default.csv, the 2023 profile, say); the
 * kernel model keeps the stack's profile for the kernels it prices off its tables, so that
 * its times stay the same whichever profile is compared.
 *
 * usage: bench_kgrid [--profile PATH]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/steptime.h"
#include "sim/plan/deploy.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Prints the median, minimum and maximum of the n ratios in r (sorted in place). */
static void print_ratios(const char *what, double *r, size_t n)
{
    if (n == 0) {
        printf("  %-8s (no steps)\n", what);
        return;
    }
    qsort(r, n, sizeof *r, cmp_double);
    printf("  %-8s median %.2f  min %.2f  max %.2f  (%zu steps)\n", what, r[n / 2], r[0],
           r[n - 1], n);
}

static int resolve(deploy *d, const char *model, const char *gpu, int tp, const char *sm,
                   const char *profile)
{
    deploy_options o;
    deploy_options_default(&o);
    o.profile = profile;
    o.model = model;
    o.gpu = gpu;
    o.tp = tp;
    o.step_model = sm ? sm : "roofline";
    char err[1024];
    if (deploy_resolve(&o, d, err, sizeof err) != 0) {
        printf("  %s on %d x %s (%s): %s\n", model, tp, gpu, sm ? sm : "roofline", err);
        return -1;
    }
    return 0;
}

static void one(const char *model, const char *gpu, int tp, const char *profile)
{
    static const double batches[] = {1, 4, 16, 32, 64, 128, 256};
    static const double contexts[] = {128, 512, 1024, 2048, 4096, 8192};
    static const double chunks[] = {128, 512, 1024, 2048, 4096, 8192};
    deploy roof, kern;
    if (resolve(&roof, model, gpu, tp, NULL, profile) != 0)
        return;
    if (resolve(&kern, model, gpu, tp, "kernels", NULL) != 0) {
        deploy_fini(&roof);
        return;
    }
    double dec[sizeof batches / sizeof batches[0] * sizeof contexts / sizeof contexts[0]];
    double pre[sizeof chunks / sizeof chunks[0]];
    size_t nd = 0, np = 0;
    for (size_t i = 0; i < sizeof batches / sizeof batches[0]; i++)
        for (size_t j = 0; j < sizeof contexts / sizeof contexts[0]; j++) {
            step_shape s = step_shape_decode(batches[i], contexts[j]);
            dec[nd++] = step_time_s(&kern.step, &s, NULL) / step_time_s(&roof.step, &s, NULL);
        }
    for (size_t i = 0; i < sizeof chunks / sizeof chunks[0]; i++) {
        step_shape s = step_shape_prefill(1, chunks[i]);
        pre[np++] = step_time_s(&kern.step, &s, NULL) / step_time_s(&roof.step, &s, NULL);
    }
    printf("%s on %d x %s\n", model, tp, gpu);
    print_ratios("decode", dec, nd);
    print_ratios("prefill", pre, np);
    deploy_fini(&kern);
    deploy_fini(&roof);
}

int main(int argc, char **argv)
{
    static const char *const gpus[] = {"h100-sxm", "h200", "a100-80gb", "l40s", "b200"};
    const char *profile = NULL;
    if (argc == 3 && strcmp(argv[1], "--profile") == 0) {
        profile = argv[2];
    } else if (argc != 1) {
        fprintf(stderr, "usage: bench_kgrid [--profile PATH]\n");
        return 2;
    }
    printf("step time, kernel model / roofline (%s), over decode steps of batch 1-256\n"
           "at context 128-8K and prefill steps of one 128-8K chunk\n\n",
           profile ? profile : "the stack's profile");
    for (size_t g = 0; g < sizeof gpus / sizeof gpus[0]; g++) {
        one("llama-3.1-8b", gpus[g], 1, profile);
        one("llama-3.1-70b", gpus[g], 4, profile);
    }
    return 0;
}
