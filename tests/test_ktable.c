/*
 * test_ktable: the kernel-table reader and interpolator (models/ktable), on a small hand-made
 * table (exact at every grid point, monotone between them, extrapolation flagged, errors that
 * name file:line:column) and on the shipped tables (leave-out accuracy: 10% of each table's
 * rows held out at random with a fixed seed, predicted from the rest).
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "models/kernels.h"
#include "models/kernels_eval.h"
#include "models/ktable.h"
#include "tests/check.h"

#define KERNELS CAPSIM_SOURCE_DIR "/models/kernels"

/* The hand-made GEMM grid: latency grows with m, n and k (and is not a pure power law, so
 * that interpolating it is not trivially exact). */
static const double HM_N[] = {64, 256, 1024, 4096};
static const double HM_K[] = {128, 512, 2048};
static const double HM_M[] = {1, 4, 16, 64, 256};

static double hm_latency(double m, double n, double k)
{
    return 0.005 + 2e-9 * m * n * k / (1.0 + m / 64.0) + 1e-7 * n * k / 64.0;
}

static int write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return -1;
    fputs(text, f);
    return fclose(f);
}

/* Writes the hand-made table (rows in a shuffled order, with one duplicated point and one
 * sliding-window row that must be skipped) and loads it. */
static ktable *hand_made(char *path, size_t len)
{
    snprintf(path, len, "/tmp/test_ktable_%ld.csv", (long)getpid());
    FILE *f = fopen(path, "w");
    if (f == NULL)
        return NULL;
    fprintf(f, "gemm_dtype,m,n,k,latency,window_size\n");
    for (int mi = 4; mi >= 0; mi--)
        for (int ni = 0; ni < 4; ni++)
            for (int ki = 2; ki >= 0; ki--)
                fprintf(f, "bfloat16,%g,%g,%g,%.17g,0\n", HM_M[mi], HM_N[ni], HM_K[ki],
                        hm_latency(HM_M[mi], HM_N[ni], HM_K[ki]));
    fprintf(f, "bfloat16,4,64,128,%.17g,0\n", hm_latency(4, 64, 128));
    fprintf(f, "bfloat16,4,64,128,99,128\n");
    fclose(f);
    char err[512];
    ktable *t = ktable_load(path, KTABLE_GEMM, err, sizeof err);
    if (t == NULL)
        fprintf(stderr, "%s\n", err);
    remove(path);
    return t;
}

static void test_exact_at_grid_points(void)
{
    char path[128];
    ktable *t = hand_made(path, sizeof path);
    if (!CHECK(t != NULL))
        return;
    CHECK_EQ_U64(ktable_nrows(t), 60);
    for (int mi = 0; mi < 5; mi++)
        for (int ni = 0; ni < 4; ni++)
            for (int ki = 0; ki < 3; ki++) {
                ktable_result r;
                double want = hm_latency(HM_M[mi], HM_N[ni], HM_K[ki]);
                CHECK_EQ_INT(ktable_gemm(t, "bfloat16", HM_M[mi], HM_N[ni], HM_K[ki], &r),
                             KTABLE_OK);
                CHECK_REL(r.latency_ms, want, 1e-12);
            }
    /* GEMM axes are linear: halfway between two grid points on one axis is the mean. */
    ktable_result r;
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 10, 256, 512, &r), KTABLE_OK);
    CHECK_REL(r.latency_ms, 0.5 * (hm_latency(4, 256, 512) + hm_latency(16, 256, 512)), 1e-12);
    /* A shape between rows (n = 640, k = 1280) blends its four enclosing shapes, never
     * reads the nearest one. */
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 16, 640, 1280, &r), KTABLE_OK);
    double c = 0.25 * (hm_latency(16, 256, 512) + hm_latency(16, 256, 2048) +
                       hm_latency(16, 1024, 512) + hm_latency(16, 1024, 2048));
    CHECK_REL(r.latency_ms, c, 1e-12);
    ktable_free(t);
}

/* Prefill attention's prompt-length axis is the one log-log axis: halfway in log space
 * between two prompt lengths is the geometric mean; batch is linear. */
static void test_prefill_log_log_axis(void)
{
    char path[128], err[512];
    snprintf(path, sizeof path, "/tmp/test_ktable_pf_%ld.csv", (long)getpid());
    const char *text = "batch_size,isl,num_heads,num_key_value_heads,head_dim,kv_cache_dtype,latency\n"
                       "1,16,8,8,128,bfloat16,0.010\n1,64,8,8,128,bfloat16,0.040\n"
                       "4,16,8,8,128,bfloat16,0.020\n4,64,8,8,128,bfloat16,0.160\n";
    if (!CHECK(write_file(path, text) == 0))
        return;
    ktable *t = ktable_load(path, KTABLE_PREFILL_ATTN, err, sizeof err);
    remove(path);
    if (!CHECK(t != NULL))
        return;
    ktable_result r;
    CHECK_EQ_INT(ktable_prefill_attn(t, 1, 32, 8, 8, 128, "bfloat16", &r), KTABLE_OK);
    CHECK_REL(r.latency_ms, 0.020, 1e-12);
    CHECK_EQ_INT(ktable_prefill_attn(t, 2.5, 64, 8, 8, 128, "bfloat16", &r), KTABLE_OK);
    CHECK_REL(r.latency_ms, 0.100, 1e-12);
    CHECK_EQ_INT(ktable_prefill_attn(t, 4, 64, 8, 8, 128, "bfloat16", &r), KTABLE_OK);
    CHECK_REL(r.latency_ms, 0.160, 1e-12);
    CHECK_EQ_INT(ktable_prefill_attn(t, 4, 64, 8, 8, 64, "bfloat16", &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_U64(r.extrapolated_axes, 1u << 0);
    CHECK(strcmp(ktable_axis_name(t, 0), "head_dim") == 0);
    CHECK_EQ_INT(ktable_prefill_attn(t, 4, 64, 8, 8, 128, "fp8", &r), KTABLE_NO_KEY);
    ktable_free(t);
}

static double uniform_log(double lo, double hi, unsigned *s)
{
    *s = *s * 1103515245u + 12345u;
    double u = (double)(*s >> 8) / (double)(1u << 24);
    return exp(log(lo) + u * (log(hi) - log(lo)));
}

static void test_monotone_between_grid_points(void)
{
    char path[128];
    ktable *t = hand_made(path, sizeof path);
    if (!CHECK(t != NULL))
        return;
    unsigned s = 12345;
    int bad = 0, probes = 0;
    for (int i = 0; i < 3000; i++) {
        double p[3] = {uniform_log(1, 256, &s), uniform_log(64, 4096, &s),
                       uniform_log(128, 2048, &s)};
        int axis = i % 3;
        double q[3] = {p[0], p[1], p[2]};
        q[axis] = fmin(q[axis] * uniform_log(1.0, 1.5, &s), axis == 0 ? 256 : axis == 1 ? 4096 : 2048);
        ktable_result a, b;
        if (ktable_gemm(t, "bfloat16", p[0], p[1], p[2], &a) != KTABLE_OK ||
            ktable_gemm(t, "bfloat16", q[0], q[1], q[2], &b) != KTABLE_OK) {
            bad++;
            continue;
        }
        probes++;
        if (b.latency_ms < a.latency_ms * (1 - 1e-12))
            bad++;
    }
    CHECK_EQ_INT(bad, 0);
    CHECK_EQ_INT(probes, 3000);
    ktable_free(t);
}

static void test_extrapolation_flagged(void)
{
    char path[128];
    ktable *t = hand_made(path, sizeof path);
    if (!CHECK(t != NULL))
        return;
    ktable_result r;
    /* Axis order of a GEMM table: m (0), n (1), k (2). */
    CHECK(strcmp(ktable_axis_name(t, 0), "m") == 0);
    CHECK(strcmp(ktable_axis_name(t, 2), "k") == 0);
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 512, 256, 512, &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_U64(r.extrapolated_axes, 1u << 0);
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 0.5, 256, 512, &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_U64(r.extrapolated_axes, 1u << 0);
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 16, 8192, 512, &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_U64(r.extrapolated_axes, 1u << 1);
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 16, 256, 64, &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_U64(r.extrapolated_axes, 1u << 2);
    /* The edge value comes with the flag, never alone. */
    CHECK_REL(r.latency_ms, hm_latency(16, 256, 128), 1e-12);
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 3, 256, 100000, &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_U64(r.extrapolated_axes, 1u << 2);
    CHECK_EQ_INT(ktable_gemm(t, "bfloat16", 0, 256, 512, &r), KTABLE_EXTRAPOLATED);
    CHECK_EQ_INT(ktable_gemm(t, "fp8", 16, 256, 512, &r), KTABLE_NO_KEY);
    CHECK_NAN(r.latency_ms);
    ktable_free(t);
}

static void check_load_error(const char *text, ktable_kind kind, const char *want)
{
    char path[128], err[512] = "";
    snprintf(path, sizeof path, "/tmp/test_ktable_bad_%ld.csv", (long)getpid());
    if (!CHECK(write_file(path, text) == 0))
        return;
    ktable *t = ktable_load(path, kind, err, sizeof err);
    CHECK(t == NULL);
    ktable_free(t);
    char whole[256];
    snprintf(whole, sizeof whole, "%s%s", path, want);
    CHECK_CONTAINS(err, whole);
    remove(path);
}

static void test_errors_name_file_line_column(void)
{
    check_load_error("gemm_dtype,m,n,k,latency\nfp8,1,64,64,0.01\nfp8,2,64,64,abc\n", KTABLE_GEMM,
                     ":3:5: column 'latency'");
    check_load_error("gemm_dtype,m,n,k,latency\nfp8,1,64,64,0.01\nfp8,0,64,64,0.02\n", KTABLE_GEMM,
                     ":3:2: column 'm'");
    check_load_error("gemm_dtype,m,n,k,latency\nfp8,1,64,64,-1\n", KTABLE_GEMM,
                     ":2:5: column 'latency'");
    check_load_error("gemm_dtype,m,n,latency\nfp8,1,64,0.01\n", KTABLE_GEMM, ":1:1: no column 'k'");
    check_load_error("num_gpus,message_size,latency,backend\n2,128,0.01,vllm_graph\n",
                     KTABLE_CUSTOM_AR, ":1:1: no column 'allreduce_dtype'");
    check_load_error("gemm_dtype,m,n,k,latency\n", KTABLE_GEMM, ": no rows");
}

/* Calls fn(path, kind, gpu, stack) on every table of models/kernels/<gpu>/<stack>/. */
typedef void (*table_fn)(const char *path, ktable_kind kind, const char *gpu, const char *stack);

static int for_each_table(table_fn fn)
{
    int count = 0;
    DIR *top = opendir(KERNELS);
    if (top == NULL)
        return 0;
    struct dirent *g;
    while ((g = readdir(top)) != NULL) {
        char gdir[512];
        snprintf(gdir, sizeof gdir, "%s/%s", KERNELS, g->d_name);
        DIR *gd = g->d_name[0] != '.' ? opendir(gdir) : NULL;
        struct dirent *st;
        while (gd != NULL && (st = readdir(gd)) != NULL) {
            for (int k = 0; k < KTABLE_NKINDS && st->d_name[0] != '.'; k++) {
                char path[1024];
                snprintf(path, sizeof path, "%s/%s/%s", gdir, st->d_name,
                         ktable_kind_file((ktable_kind)k));
                if (access(path, R_OK) != 0)
                    continue;
                fn(path, (ktable_kind)k, g->d_name, st->d_name);
                count++;
            }
        }
        if (gd != NULL)
            closedir(gd);
    }
    closedir(top);
    return count;
}

/* Tables that miss the 3% target, each with its limit and why (models/kernels/README.md):
 * the L40S prefill latencies are less regular along batch than the other GPUs' (bridging
 * one held-out batch size errs by about 3% at every batch size, against 1.4-2.5% on the
 * H100), so the table misses by about 0.2 points; bridging along another axis instead (a
 * different axis order) does worse on the other GPUs. */
static const struct {
    const char *gpu, *stack;
    ktable_kind kind;
    double limit_pct;
} LEAVE_OUT_EXCEPTIONS[] = {
    {"l40s", "vllm-0.14.0", KTABLE_PREFILL_ATTN, 3.5},
};

static double leave_out_limit(const char *gpu, const char *stack, ktable_kind kind)
{
    for (size_t i = 0; i < sizeof LEAVE_OUT_EXCEPTIONS / sizeof LEAVE_OUT_EXCEPTIONS[0]; i++)
        if (strcmp(gpu, LEAVE_OUT_EXCEPTIONS[i].gpu) == 0 &&
            strcmp(stack, LEAVE_OUT_EXCEPTIONS[i].stack) == 0 && kind == LEAVE_OUT_EXCEPTIONS[i].kind)
            return LEAVE_OUT_EXCEPTIONS[i].limit_pct;
    return 3.0;
}

/* GEMM and attention tables must predict held-out rows to a median of 3%. */
static void leave_out_one(const char *path, ktable_kind kind, const char *gpu, const char *stack)
{
    char err[512];
    ktable *t = ktable_load(path, kind, err, sizeof err);
    if (!CHECK(t != NULL)) {
        fprintf(stderr, "%s\n", err);
        return;
    }
    kernels_eval e;
    CHECK(kernels_eval_leave_out(t, 0.10, 20261204, &e) == 0);
    printf("  %-9s %-13s %-30s %7zu %6zu %6zu %7.2f %7.2f\n", gpu, stack, ktable_kind_file(kind),
           ktable_nrows(t), e.rows, e.extrapolated, e.median_pct, e.p90_pct);
    if (kind == KTABLE_GEMM || kind == KTABLE_PREFILL_ATTN || kind == KTABLE_DECODE_ATTN) {
        double limit = leave_out_limit(gpu, stack, kind);
        if (limit > 3.0)
            printf("  (documented exception above: median limit %.1f%%)\n", limit);
        CHECK_LE(e.median_pct, limit);
    }
    CHECK(e.inside > 0);
    ktable_free(t);
}

static void test_leave_out_accuracy_of_shipped_tables(void)
{
    printf("  leave-out: 10%% of rows held out (seed 20261204), predicted from the rest\n");
    printf("  %-9s %-13s %-30s %7s %6s %6s %7s %7s\n", "gpu", "stack", "table", "rows", "held",
           "extrap", "med%", "p90%");
    CHECK(for_each_table(leave_out_one) >= 40);
}

/* The stack choice: the newest vLLM of a GPU by default (0.19.0 over 0.14.0), a named one
 * on request, NCCL from the GPU's folder; and a look-up through the loaded set for a catalog
 * model's shape (Llama-3.1-8B on one H100: QKV 6144 x 4096 at 40 tokens). */
static void test_kernel_sets_and_stacks(void)
{
    char names[KERNELS_MAX_STACKS][KERNELS_NAME_MAX], err[512];
    CHECK_EQ_INT(kernels_stacks(KERNELS, "h100_sxm", names, KERNELS_MAX_STACKS), 2);
    CHECK(strcmp(names[0], "vllm-0.14.0") == 0 && strcmp(names[1], "vllm-0.19.0") == 0);
    CHECK(strcmp(kernels_gpu_folder("h100-sxm"), "h100_sxm") == 0);
    CHECK(strcmp(kernels_gpu_folder("a100-80gb"), "a100_sxm") == 0);
    CHECK(kernels_gpu_folder("t4") == NULL);
    kernels_set s;
    if (!CHECK(kernels_load(KERNELS, "h100_sxm", NULL, &s, err, sizeof err) == 0))
        return;
    CHECK(strcmp(s.stack, "vllm-0.19.0") == 0);
    CHECK(strcmp(s.nccl, "nccl-2.29.2") == 0);
    for (int k = 0; k < KTABLE_NKINDS; k++)
        CHECK(s.table[k] != NULL);
    ktable_result r;
    CHECK_EQ_INT(ktable_gemm(s.table[KTABLE_GEMM], "bfloat16", 40, 6144, 4096, &r), KTABLE_OK);
    CHECK(r.latency_ms > 0.005 && r.latency_ms < 0.5);
    kernels_free(&s);
    CHECK(kernels_load(KERNELS, "l40s", "vllm-0.14.0", &s, err, sizeof err) == 0);
    CHECK(strcmp(s.nccl, "nccl-2.27.3") == 0);
    kernels_free(&s);
    CHECK(kernels_load(KERNELS, "l40s", "vllm-0.19.0", &s, err, sizeof err) == -1);
    CHECK_CONTAINS(err, "no kernel tables for stack vllm-0.19.0");
    CHECK(kernels_load(KERNELS, "t4", NULL, &s, err, sizeof err) == -1);
}

TEST_MAIN(TEST(test_exact_at_grid_points), TEST(test_prefill_log_log_axis),
          TEST(test_monotone_between_grid_points),
          TEST(test_extrapolation_flagged), TEST(test_errors_name_file_line_column),
          TEST(test_kernel_sets_and_stacks), TEST(test_leave_out_accuracy_of_shipped_tables))
