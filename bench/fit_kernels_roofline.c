/*
 * fit_kernels_roofline: refits the roofline's coefficients (mfu, mbu, t_fixed, t_layer,
 * comm_scale, attn_scale) per GPU to the measured-kernel step model of one vLLM stack, and
 * writes them as a profile CSV (the shape of models/profiles/default.csv), one row per catalog
 * GPU (issue 12, items 4 and 5). models/profiles/make_vllm.sh runs it once per stack.
 *
 * The "measurements" are step times priced by the kernel model (--step-model kernels) over a
 * grid: decode batches of 1 to 256 sequences at contexts of 128 to 8K tokens, fresh prefill
 * chunks of 128 to 8K tokens and four mixed steps (a chunk of 512 or 2048 tokens beside 16 or
 * 64 decoding sequences at context 1024), for dense catalog models of 1B to 70B parameters
 * (16 to 80 layers), each at the smallest tp of 1, 2, 4, 8 on which it fits and at twice that
 * (TP_SPAN says why). A step whose KV cache would not fit in the deployment is left out, and
 * so is a step the kernel model prices in part off its tables (those parts use the default
 * profile's roofline, so fitting to them would be circular). Chunks after earlier context
 * are left out too: kstep prices a chunk's attention by scaling the fresh chunk's time by
 * its attention pairs, which for a short chunk after a long context is a price of its own
 * making, not a measurement.
 *
 * The roofline of each deployment is fitted to these times with models/fit.h (robust least
 * squares on log ratios). The grid has nine times as many decode steps as others, so each
 * prefill and mixed step is counted as many times as makes the two groups weigh alike in
 * each deployment (the phases matter alike: TTFT and TPOT). models/fit holds t_fixed at its
 * starting value, so t_fixed is chosen here by a one-dimensional search around those fits (a
 * scan over 0 to 4 ms, then golden section), minimising the sum of squared log ratios.
 * attn_scale is held at 1 when the fit would put it below (fit_gpu says why). noise_cv is not
 * fitted (the kernel model has no noise): each row keeps that GPU's value of
 * models/profiles/default.csv.
 *
 * A GPU without tables of the stack but with tables of another stack is fitted to its
 * nearest stack (by version), and its basis says so. A GPU without any tables (and the '*'
 * row) is derived from a measured GPU named in a derivation CSV (gpu,from,reasoning): mbu
 * from that GPU's fit to its GEMV-regime steps alone (decode batches of at most 8 sequences
 * on one GPU), mfu from its fit to its large-GEMM steps alone (prefill chunks of 1024 tokens
 * and more on one GPU), each with the other coefficients held at the full fit, and the
 * overheads (t_fixed, t_layer, comm_scale, attn_scale) as the full fit's. Those two shares
 * are the properties of the kernels that should carry over to a GPU of another ridge point;
 * the full fit's shares also absorb the all-reduces and the roofline's sharp corner at the
 * measured GPU's own ridge. (One GPU: no all-reduce in those steps to blur them.)
 *
 * The output is deterministic: no random numbers, fixed grid and search, fixed order.
 * The report (markdown) gives per measured GPU the fitted coefficients and the distance of
 * the refitted roofline and of the default profile's roofline from the kernel model:
 * median and 90th percentile of |roofline / kernels - 1| over the grid, per kind of step.
 *
 * usage: fit_kernels_roofline STACK DERIVED.csv OUT.csv REPORT.md
 *        STACK: a vLLM stack prefix, e.g. vllm-0.19 (matches the folder vllm-0.19.0)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/fit.h"
#include "models/kernels.h"
#include "models/kstep.h"
#include "models/profile.h"
#include "sim/base/csvin.h"
#include "sim/base/csvout.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/deploy.h"

/* The dense models of the grid, small to large (layers 16 to 80). */
static const char *const MODELS[] = {"llama-3.2-1b", "llama-3.2-3b",  "llama-3.1-8b",
                                     "qwen2.5-14b",  "qwen2.5-32b",   "llama-3.1-70b"};
static const int TPS[] = {1, 2, 4, 8};
static const double BATCHES[] = {1, 2, 4, 8, 16, 32, 64, 128, 256};
static const double CONTEXTS[] = {128, 256, 512, 1024, 2048, 4096, 8192};
static const double CHUNKS[] = {128, 256, 512, 1024, 2048, 4096, 8192};
#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

/* Deployments: each model at the smallest tp on which it fits and at twice that, the ways it
 * is run; a small model on four or eight GPUs is not, and its eager all-reduces would pull
 * the one comm_scale away from the deployments that are run. */
#define TP_SPAN 2

/* Steps of the GEMV regime (for mbu) and of the large-GEMM regime (for mfu). */
#define GEMV_MAX_BATCH 8
#define GEMM_MIN_CHUNK 1024

enum { K_DECODE, K_PREFILL, K_MIXED, K_NKINDS, K_COPY = K_NKINDS };

#define MAX_POINTS 16384

typedef struct grid {
    fit_point *pts;
    int *kind;       /* K_* of each point */
    int *regime;     /* 1: GEMV regime, 2: large-GEMM regime, 0: neither */
    size_t n;
    size_t n_extrapolated; /* steps left out: priced in part off the tables */
    size_t n_too_big;      /* steps left out: their KV cache does not fit */
    size_t n_copies;       /* copies of prefill and mixed steps (balance) */
    int deployments;
    int tp_lo, tp_hi;      /* the smallest and largest tp of the deployments */
    step_coeffs old;       /* the default profile's row for the GPU */
} grid;

typedef struct gpu_fit {
    char stack[KERNELS_NAME_MAX]; /* the stack fitted to */
    step_coeffs c;                /* the full fit, noise_cv of the default profile */
    double mbu_gemv, mfu_gemm;    /* the regime fits */
    double dist_new[K_NKINDS][2], dist_old[K_NKINDS][2]; /* median, p90 of |ratio - 1| */
    size_t n_kind[K_NKINDS];
    fit_result res;
    int attn_held; /* 1: attn_scale held at 1 (fit_gpu says why) */
    int fitted;
} gpu_fit;

/* ---- choosing the stack ------------------------------------------------------------------ */

/* "vllm-0.14.0" -> 14000 + ... : the version as one number, components compared in order. */
static double version_key(const char *name)
{
    const char *p = strchr(name, '-');
    double key = 0;
    for (int i = 0; i < 3; i++) {
        double v = 0;
        if (p != NULL && *p != '\0') {
            char *end;
            v = strtod(p + 1, &end);
            p = *end == '.' ? end : NULL;
        }
        key = key * 1000.0 + v;
    }
    return key;
}

/* The stack of GPU folder `folder` matching prefix want ("vllm-0.19"), else the nearest by
 * version (the newer on a tie). Returns 1 if it matched, 0 if nearest, -1 if none. */
static int pick_stack(const char *kdir, const char *folder, const char *want, char *out)
{
    char names[KERNELS_MAX_STACKS][KERNELS_NAME_MAX];
    int n = kernels_stacks(kdir, folder, names, KERNELS_MAX_STACKS), best = -1;
    size_t len = strlen(want);
    for (int i = 0; i < n; i++)
        if (strncmp(names[i], want, len) == 0 && (names[i][len] == '\0' || names[i][len] == '.'))
            best = i;
    if (best >= 0) {
        snprintf(out, KERNELS_NAME_MAX, "%s", names[best]);
        return 1;
    }
    double target = version_key(want);
    for (int i = 0; i < n; i++)
        if (best < 0 || fabs(version_key(names[i]) - target) <=
                            fabs(version_key(names[best]) - target))
            best = i;
    if (best < 0)
        return -1;
    snprintf(out, KERNELS_NAME_MAX, "%s", names[best]);
    return 0;
}

/* ---- the grid ---------------------------------------------------------------------------- */

static int resolve(deploy *d, const char *model, const char *gpu, int tp, const char *stack)
{
    deploy_options o;
    deploy_options_default(&o);
    o.model = model;
    o.gpu = gpu;
    o.tp = tp;
    /* stack NULL: the 2023 default profile's roofline, to compare with */
    o.step_model = stack ? "kernels" : "roofline";
    o.stack = stack ? stack : "splitwise-2023";
    char err[1024];
    return deploy_resolve(&o, d, err, sizeof err);
}

/* A fresh prefill chunk of p tokens beside b decoding sequences of context c each. */
static step_shape mixed_shape(double p, double b, double c)
{
    step_shape s = step_shape_prefill(1, p);
    s.decode_seqs = b;
    s.decode_ctx = b * c;
    return s;
}

/* Adds one step to g if the kernel model prices it from its tables alone. */
static void add_step(grid *g, const deploy *rf, const deploy *kd, const step_shape *s, int kind,
                     int regime)
{
    double kv_tokens = s->decode_ctx + s->prefill_tokens + s->prefill_ctx_read;
    if (kv_tokens > (double)rf->mem.kv_tokens) {
        g->n_too_big++;
        return;
    }
    kstep_breakdown kb;
    double t = kstep_time_s(kd->kstep, s, &kb);
    if (kb.extrapolated != 0) {
        g->n_extrapolated++;
        return;
    }
    if (g->n >= MAX_POINTS)
        return;
    fit_point *p = &g->pts[g->n];
    memset(p, 0, sizeof *p);
    p->model = rf->step;
    p->shape = *s;
    p->measured_s = t;
    p->phase = kind == K_DECODE ? FIT_DECODE : FIT_PREFILL;
    g->kind[g->n] = kind;
    g->regime[g->n] = regime;
    g->n++;
}

/* Copies of the non-decode steps of g from index first on, so that the decode steps and the
 * others weigh alike in the fit (the grid has many more decode steps); the copies are
 * K_COPY, left out of the distances. */
static void balance(grid *g, size_t first)
{
    size_t nd = 0, end = g->n;
    for (size_t i = first; i < end; i++)
        nd += g->kind[i] == K_DECODE;
    if (end - first <= nd)
        return;
    long copies = lround((double)nd / (double)(end - first - nd)) - 1;
    for (size_t i = first; i < end; i++)
        for (long c = 0; g->kind[i] != K_DECODE && c < copies && g->n < MAX_POINTS; c++) {
            g->pts[g->n] = g->pts[i];
            g->kind[g->n] = K_COPY;
            g->regime[g->n] = 0;
            g->n_copies++;
            g->n++;
        }
}

/* The grid's steps of one deployment. */
static void add_deployment(grid *g, const deploy *rf, const deploy *kd)
{
    size_t first = g->n;
    for (size_t i = 0; i < N_OF(BATCHES); i++)
        for (size_t j = 0; j < N_OF(CONTEXTS); j++) {
            step_shape s = step_shape_decode(BATCHES[i], CONTEXTS[j]);
            int gemv = rf->tp == 1 && BATCHES[i] <= GEMV_MAX_BATCH;
            add_step(g, rf, kd, &s, K_DECODE, gemv ? 1 : 0);
        }
    for (size_t i = 0; i < N_OF(CHUNKS); i++) {
        step_shape s = step_shape_prefill(1, CHUNKS[i]);
        int big = rf->tp == 1 && CHUNKS[i] >= GEMM_MIN_CHUNK;
        add_step(g, rf, kd, &s, K_PREFILL, big ? 2 : 0);
    }
    static const double mixed_chunks[] = {512, 2048}, mixed_batches[] = {16, 64};
    for (size_t i = 0; i < N_OF(mixed_chunks); i++)
        for (size_t j = 0; j < N_OF(mixed_batches); j++) {
            step_shape s = mixed_shape(mixed_chunks[i], mixed_batches[j], 1024);
            add_step(g, rf, kd, &s, K_MIXED, 0);
        }
    balance(g, first);
}

/* Every deployment of the grid on gpu with the tables of stack. */
static void collect(grid *g, const char *gpu, const char *stack)
{
    for (size_t m = 0; m < N_OF(MODELS); m++) {
        int smallest = 0;
        for (size_t t = 0; t < N_OF(TPS); t++) {
            if (smallest > 0 && TPS[t] > TP_SPAN * smallest)
                break;
            deploy rf, kd;
            if (resolve(&rf, MODELS[m], gpu, TPS[t], NULL) != 0)
                continue;
            if (resolve(&kd, MODELS[m], gpu, TPS[t], stack) != 0) {
                deploy_fini(&rf);
                continue;
            }
            if (smallest == 0)
                smallest = TPS[t];
            g->old = rf.profile.c;
            g->deployments++;
            g->tp_lo = g->tp_lo == 0 || TPS[t] < g->tp_lo ? TPS[t] : g->tp_lo;
            g->tp_hi = TPS[t] > g->tp_hi ? TPS[t] : g->tp_hi;
            add_deployment(g, &rf, &kd);
            deploy_fini(&kd);
            deploy_fini(&rf);
        }
    }
}

/* ---- fitting ----------------------------------------------------------------------------- */

/* Sum of squared log ratios of the points whose regime is `regime` (-1: all) under c. */
static double sse(grid *g, const step_coeffs *c, int regime)
{
    double sum = 0;
    for (size_t i = 0; i < g->n; i++) {
        if (regime >= 0 && g->regime[i] != regime)
            continue;
        g->pts[i].model.c = *c;
        double r = log(fit_point_predict(&g->pts[i]) / g->pts[i].measured_s);
        sum += r * r;
    }
    return sum;
}

typedef double (*objective_fn)(void *ctx, double x);

/* The minimum of f over [a, b] by golden-section search (f assumed unimodal there). */
static double golden(objective_fn f, void *ctx, double a, double b, int iterations)
{
    const double phi = (sqrt(5.0) - 1.0) / 2.0;
    double x1 = b - phi * (b - a), x2 = a + phi * (b - a);
    double f1 = f(ctx, x1), f2 = f(ctx, x2);
    for (int i = 0; i < iterations; i++) {
        if (f1 <= f2) {
            b = x2;
            x2 = x1;
            f2 = f1;
            x1 = b - phi * (b - a);
            f1 = f(ctx, x1);
        } else {
            a = x1;
            x1 = x2;
            f1 = f2;
            x2 = a + phi * (b - a);
            f2 = f(ctx, x2);
        }
    }
    return f1 <= f2 ? x1 : x2;
}

typedef struct search {
    grid *g;
    step_coeffs start; /* starting values; t_fixed_s set per trial */
    fit_result res;    /* the last trial's fit */
    int regime;        /* regime fits: which points */
    unsigned held;     /* coefficients held at their starting values (models/fit.h) */
    int which;         /* regime fits: 0 mfu, 1 mbu */
    step_coeffs base;  /* regime fits: the other coefficients */
} search;

/* The full fit (models/fit) at t_fixed = x ms; returns its sum of squared log ratios. */
static double fit_at_fixed(void *ctx, double x_ms)
{
    search *s = ctx;
    step_coeffs start = s->start;
    start.t_fixed_s = x_ms / 1e3;
    char err[256];
    if (fit_run_held(s->g->pts, s->g->n, &start, s->held, &s->res, err, sizeof err) != 0)
        return HUGE_VAL;
    return sse(s->g, &s->res.coeffs, -1);
}

/* The regime's sum of squared log ratios with mfu (which 0) or mbu (1) = exp(x). */
static double regime_at(void *ctx, double x)
{
    search *s = ctx;
    step_coeffs c = s->base;
    if (s->which == 0)
        c.mfu = exp(x);
    else
        c.mbu = exp(x);
    return sse(s->g, &c, s->regime);
}

/* The full fit with t_fixed scanned over 0 to 4 ms in steps of 0.1 ms, then refined by
 * golden section within a step of the best; leaves the best fit in s->res. */
static int search_fixed(search *s)
{
    double best_x = 0, best_f = HUGE_VAL;
    for (int i = 0; i <= 40; i++) {
        double f = fit_at_fixed(s, 0.1 * i);
        if (f < best_f) {
            best_f = f;
            best_x = 0.1 * i;
        }
    }
    if (!(best_f < HUGE_VAL))
        return -1;
    double x = golden(fit_at_fixed, s, fmax(0, best_x - 0.1), best_x + 0.1, 20);
    if (fit_at_fixed(s, x) > best_f)
        fit_at_fixed(s, best_x);
    return 0;
}

/* The full fit, then the two regime fits. Attention runs at no better a share of peak than
 * the GEMMs (FlashAttention reaches less than cuBLAS), so an attn_scale fitted below 1 is
 * the roofline's one mfu making up for something else: it is then held at 1 and the rest
 * refitted. (It starts at 1, so when models/fit finds it driven towards 0 and reports it
 * not identified, it is left at 1 too.) */
static int fit_gpu(grid *g, double noise_cv, gpu_fit *out)
{
    search s = {.g = g,
                .start = {.mfu = 0.5, .mbu = 0.7, .t_layer_s = 20e-6, .comm_scale = 1.0,
                          .attn_scale = 1.0, .noise_cv = noise_cv}};
    if (search_fixed(&s) != 0)
        return -1;
    if (s.res.coeffs.attn_scale < 1.0) {
        s.start.attn_scale = 1.0;
        s.held = 1u << 4;
        out->attn_held = 1;
        if (search_fixed(&s) != 0)
            return -1;
    }
    out->attn_held = out->attn_held || s.res.not_identified[4];
    out->res = s.res;
    out->c = s.res.coeffs;
    out->c.noise_cv = noise_cv;
    s.base = out->c;
    s.regime = 1;
    s.which = 1;
    out->mbu_gemv = exp(golden(regime_at, &s, log(0.01), 0.0, 60));
    s.regime = 2;
    s.which = 0;
    out->mfu_gemm = exp(golden(regime_at, &s, log(0.01), 0.0, 60));
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Median and 90th percentile (nearest rank) of |roofline / kernels - 1| per kind under c. */
static void distances(grid *g, const step_coeffs *c, double dist[K_NKINDS][2],
                      size_t n_kind[K_NKINDS])
{
    double *v = malloc((g->n + 1) * sizeof *v);
    for (int k = 0; k < K_NKINDS; k++) {
        size_t m = 0;
        for (size_t i = 0; v != NULL && i < g->n; i++) {
            if (g->kind[i] != k)
                continue;
            g->pts[i].model.c = *c;
            v[m++] = fabs(fit_point_predict(&g->pts[i]) / g->pts[i].measured_s - 1.0);
        }
        n_kind[k] = m;
        if (m == 0) {
            dist[k][0] = dist[k][1] = NAN;
            continue;
        }
        qsort(v, m, sizeof *v, cmp_double);
        dist[k][0] = m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
        size_t r = (size_t)ceil(0.9 * (double)m);
        dist[k][1] = v[r > 0 ? r - 1 : 0];
    }
    free(v);
}

/* ---- output ------------------------------------------------------------------------------ */

typedef struct derivation {
    char gpu[32], from[32], reasoning[256];
} derivation;

static int read_derivation(csvin *in, const int *idx, void *item, char *err, size_t errlen)
{
    derivation *d = item;
    memset(d, 0, sizeof *d);
    const char *f[3] = {csvin_field(in, (size_t)idx[0]), csvin_field(in, (size_t)idx[1]),
                        csvin_field(in, (size_t)idx[2])};
    if (f[0][0] == '\0' || strlen(f[0]) >= sizeof d->gpu || strlen(f[1]) >= sizeof d->from ||
        strlen(f[2]) >= sizeof d->reasoning) {
        snprintf(err, errlen, "%s:%ld: a field is empty or too long", csvin_path(in),
                 csvin_line(in));
        return -1;
    }
    snprintf(d->gpu, sizeof d->gpu, "%s", f[0]);
    snprintf(d->from, sizeof d->from, "%s", f[1]);
    snprintf(d->reasoning, sizeof d->reasoning, "%s", f[2]);
    return 0;
}

static void write_row(csvout *c, const char *gpu, const step_coeffs *k, const char *basis,
                      const char *source)
{
    csvout_str(c, gpu);
    csvout_num(c, k->mfu);
    csvout_num(c, k->mbu);
    csvout_num(c, k->t_fixed_s * 1e3);
    csvout_num(c, k->t_layer_s * 1e3);
    csvout_num(c, k->comm_scale);
    csvout_num(c, k->attn_scale);
    csvout_num(c, k->noise_cv);
    csvout_str(c, basis);
    csvout_str(c, source);
    csvout_end_row(c);
}

/* The basis of a fitted row; returns -1 if it would not fit a profile row's basis. */
static int fitted_basis(char *buf, size_t len, const char *gpu, const char *want,
                        const gpu_fit *f, const grid *g)
{
    const char *folder = kernels_gpu_folder(gpu);
    char nearest[96] = "";
    if (strncmp(f->stack, want, strlen(want)) != 0)
        snprintf(nearest, sizeof nearest, "no %s tables for this GPU, so its nearest stack: ",
                 want);
    int n = snprintf(buf, len,
                     "%sfitted to the kernel model of %s/%s over %zu steps of %d deployments "
                     "(1B-70B, tp %d-%d); median |error| decode %.1f%%, prefill %.1f%%; noise_cv "
                     "as default.csv",
                     nearest, folder, f->stack, g->n - g->n_copies, g->deployments, g->tp_lo,
                     g->tp_hi,
                     100 * f->dist_new[K_DECODE][0], 100 * f->dist_new[K_PREFILL][0]);
    return n > 0 && (size_t)n < len && (size_t)n < sizeof((profile_row *)0)->basis ? 0 : -1;
}

/* A derived row: the shares of the regime fits and the overheads of the source's fit. */
/* The coefficients a GPU derived from src takes: the regime fits' shares, src's overheads. */
static step_coeffs derived_coeffs(const gpu_fit *src, double noise_cv)
{
    step_coeffs k = src->c;
    k.mfu = src->mfu_gemm;
    k.mbu = src->mbu_gemv;
    k.noise_cv = noise_cv;
    return k;
}

static int derived_row(csvout *c, const derivation *d, const char *src_gpu, const gpu_fit *src,
                       double noise_cv)
{
    step_coeffs k = derived_coeffs(src, noise_cv);
    char basis[512];
    int n = snprintf(basis, sizeof basis,
                     "derived from %s (%s): mbu of its GEMV fit, mfu of its big-GEMM fit, "
                     "overheads as its. %s",
                     src_gpu, src->stack, d->reasoning);
    if (n < 0 || (size_t)n >= sizeof((profile_row *)0)->basis) {
        fprintf(stderr, "fit_kernels_roofline: the basis of %s is too long (%d characters; at "
                        "most 255): shorten its reasoning\n", d->gpu, n);
        return -1;
    }
    write_row(c, d->gpu, &k, basis, "models/profiles/derived-vllm.csv");
    return 0;
}

typedef struct run {
    const char *want;         /* the stack asked for */
    gpu_list gpus;            /* the catalog's */
    profile_list old;         /* default.csv */
    derivation *der;
    size_t n_der;
    gpu_fit *fits;            /* per catalog GPU; fitted set for the measured ones */
    grid *grids;
} run;

static const derivation *find_derivation(const run *r, const char *gpu)
{
    for (size_t i = 0; i < r->n_der; i++)
        if (strcmp(r->der[i].gpu, gpu) == 0)
            return &r->der[i];
    return NULL;
}

static double old_noise(const run *r, const char *gpu)
{
    const profile_row *p = profile_list_find(&r->old, gpu);
    return p ? p->c.noise_cv : 0.0;
}

/* Writes one derived row for d, from its measured source. */
static int write_derived(const run *r, csvout *c, const derivation *d)
{
    for (size_t j = 0; j < r->gpus.n; j++)
        if (strcmp(r->gpus.items[j].name, d->from) == 0 && r->fits[j].fitted)
            return derived_row(c, d, d->from, &r->fits[j], old_noise(r, d->gpu));
    fprintf(stderr, "fit_kernels_roofline: %s is derived from %s, which has no kernel tables\n",
            d->gpu, d->from);
    return -1;
}

static int write_csv(const run *r, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        return -1;
    }
    csvout c;
    csvout_init(&c, fp);
    static const char *const cols[] = {"gpu",        "mfu",        "mbu",      "t_fixed_ms",
                                       "t_layer_ms", "comm_scale", "attn_scale", "noise_cv",
                                       "basis",      "source"};
    for (size_t i = 0; i < N_OF(cols); i++)
        csvout_str(&c, cols[i]);
    csvout_end_row(&c);
    char source[128];
    snprintf(source, sizeof source, "bench/fit_kernels_roofline %s (models/profiles/make_vllm.sh)",
             r->want);
    int rc = 0;
    for (size_t j = 0; j < r->gpus.n && rc == 0; j++) {
        const char *gpu = r->gpus.items[j].name;
        if (r->fits[j].fitted) {
            char basis[512];
            rc = fitted_basis(basis, sizeof basis, gpu, r->want, &r->fits[j], &r->grids[j]);
            if (rc != 0)
                fprintf(stderr, "fit_kernels_roofline: the basis of %s is too long\n", gpu);
            else
                write_row(&c, gpu, &r->fits[j].c, basis, source);
            continue;
        }
        const derivation *d = find_derivation(r, gpu);
        if (d == NULL) {
            fprintf(stderr, "fit_kernels_roofline: %s has no tables and no row in the "
                            "derivation file\n", gpu);
            rc = -1;
        } else {
            rc = write_derived(r, &c, d);
        }
    }
    const derivation *any = find_derivation(r, "*");
    if (rc == 0 && any == NULL) {
        fprintf(stderr, "fit_kernels_roofline: the derivation file has no '*' row\n");
        rc = -1;
    } else if (rc == 0) {
        rc = write_derived(r, &c, any);
    }
    if (fclose(fp) != 0)
        rc = -1;
    return rc;
}

static void print_pair(FILE *fp, const double d[2])
{
    fprintf(fp, " %.1f%% / %.1f%% |", 100 * d[0], 100 * d[1]);
}

/* Pairs of measured GPUs on which the derivation rule can be checked: the second's grid
 * priced with coefficients derived from the first, as a GPU without tables would be. */
static const char *const TRANSFERS[][2] = {{"h100-sxm", "h200"},  {"h200", "h100-sxm"},
                                           {"h100-sxm", "b200"},  {"l40s", "a100-80gb"},
                                           {"a100-80gb", "l40s"}, {"a100-80gb", "h100-sxm"}};

static size_t gpu_index(const run *r, const char *gpu)
{
    for (size_t j = 0; j < r->gpus.n; j++)
        if (strcmp(r->gpus.items[j].name, gpu) == 0 && r->fits[j].fitted)
            return j;
    return (size_t)-1;
}

/* The derivation rule checked on measured GPUs: the target's grid priced by the rule (regime
 * shares and overheads of the source) and, for comparison, by the source's full fit. */
static void write_transfer(const run *r, FILE *fp)
{
    fprintf(fp, "\nThe derivation rule checked where both GPUs are measured: the second GPU's "
                "grid priced with the first's coefficients, |roofline / kernels - 1| median / "
                "p90:\n\n| from | to | decode, rule | decode, full fit | prefill, rule | "
                "prefill, full fit | mixed, rule | mixed, full fit |\n"
                "|---|---|---|---|---|---|---|---|\n");
    for (size_t t = 0; t < N_OF(TRANSFERS); t++) {
        size_t a = gpu_index(r, TRANSFERS[t][0]), b = gpu_index(r, TRANSFERS[t][1]);
        if (a == (size_t)-1 || b == (size_t)-1)
            continue;
        double rule[K_NKINDS][2], full[K_NKINDS][2];
        size_t n[K_NKINDS];
        step_coeffs k = derived_coeffs(&r->fits[a], 0);
        distances(&r->grids[b], &k, rule, n);
        distances(&r->grids[b], &r->fits[a].c, full, n);
        fprintf(fp, "| %s | %s |", TRANSFERS[t][0], TRANSFERS[t][1]);
        for (int kind = 0; kind < K_NKINDS; kind++) {
            print_pair(fp, rule[kind]);
            print_pair(fp, full[kind]);
        }
        fprintf(fp, "\n");
    }
}

static int write_report(const run *r, const char *path)
{
    FILE *fp = fopen(path, "w");
    if (fp == NULL) {
        perror(path);
        return -1;
    }
    fprintf(fp, "Roofline refitted to the kernel model, stack %s (written by "
                "bench/fit_kernels_roofline; do not edit).\n\n", r->want);
    fprintf(fp, "| gpu | tables | mfu | mbu | t_fixed_ms | t_layer_ms | comm_scale | attn_scale "
                "| mbu (GEMV fit) | mfu (big-GEMM fit) | steps | left out (off-table, KV) | notes |\n"
                "|---|---|---|---|---|---|---|---|---|---|---|---|---|\n");
    for (size_t j = 0; j < r->gpus.n; j++) {
        const gpu_fit *f = &r->fits[j];
        if (!f->fitted)
            continue;
        fprintf(fp, "| %s | %s | %.3f | %.3f | %.4f | %.4f | %.3f | %.3f | %.3f | %.3f | %zu | "
                    "%zu, %zu | %s%s%s |\n",
                r->gpus.items[j].name, f->stack, f->c.mfu, f->c.mbu, f->c.t_fixed_s * 1e3,
                f->c.t_layer_s * 1e3, f->c.comm_scale, f->c.attn_scale, f->mbu_gemv, f->mfu_gemm,
                r->grids[j].n - r->grids[j].n_copies, r->grids[j].n_extrapolated, r->grids[j].n_too_big,
                f->attn_held ? "attn_scale held at 1" : "",
                f->attn_held && f->res.not_identified[2] ? "; " : "",
                f->res.not_identified[2] ? "t_layer not identified (left at its start)" : "");
    }
    fprintf(fp, "\n|roofline / kernels - 1|, median / p90 over the grid:\n\n"
                "| gpu | decode, refit | decode, default.csv | prefill, refit | prefill, "
                "default.csv | mixed, refit | mixed, default.csv |\n"
                "|---|---|---|---|---|---|---|\n");
    for (size_t j = 0; j < r->gpus.n; j++) {
        const gpu_fit *f = &r->fits[j];
        if (!f->fitted)
            continue;
        fprintf(fp, "| %s |", r->gpus.items[j].name);
        for (int k = 0; k < K_NKINDS; k++) {
            print_pair(fp, f->dist_new[k]);
            print_pair(fp, f->dist_old[k]);
        }
        fprintf(fp, "\n");
    }
    write_transfer(r, fp);
    return fclose(fp) == 0 ? 0 : -1;
}

/* Fits every measured GPU of the catalog. */
static int fit_all(run *r)
{
    char kdir[4096];
    snprintf(kdir, sizeof kdir, "%s/models/kernels", capsim_data_dir());
    for (size_t j = 0; j < r->gpus.n; j++) {
        const char *gpu = r->gpus.items[j].name, *folder = kernels_gpu_folder(gpu);
        gpu_fit *f = &r->fits[j];
        grid *g = &r->grids[j];
        if (folder == NULL || pick_stack(kdir, folder, r->want, f->stack) < 0)
            continue;
        g->pts = malloc(MAX_POINTS * sizeof *g->pts);
        g->kind = malloc(MAX_POINTS * sizeof *g->kind);
        g->regime = malloc(MAX_POINTS * sizeof *g->regime);
        if (!g->pts || !g->kind || !g->regime)
            return -1;
        collect(g, gpu, f->stack);
        if (fit_gpu(g, old_noise(r, gpu), f) != 0) {
            fprintf(stderr, "fit_kernels_roofline: the fit for %s failed\n", gpu);
            return -1;
        }
        distances(g, &f->c, f->dist_new, f->n_kind);
        distances(g, &g->old, f->dist_old, f->n_kind);
        f->fitted = 1;
        fprintf(stderr, "%s: %s, %zu steps of %d deployments\n", gpu, f->stack,
                g->n - g->n_copies, g->deployments);
    }
    return 0;
}

static void run_free(run *r)
{
    for (size_t j = 0; r->grids != NULL && j < r->gpus.n; j++) {
        free(r->grids[j].pts);
        free(r->grids[j].kind);
        free(r->grids[j].regime);
    }
    free(r->grids);
    free(r->fits);
    free(r->der);
    profile_list_free(&r->old);
    gpu_list_free(&r->gpus);
}

int main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: fit_kernels_roofline STACK DERIVED.csv OUT.csv REPORT.md\n");
        return 2;
    }
    run r = {.want = argv[1]};
    char err[1024], path[4096];
    model_list models = {0};
    static const char *const dcols[] = {"gpu", "from", "reasoning"};
    static const int dreq[] = {1, 1, 1};
    void *der = NULL;
    int rc = 1;
    if (catalog_load(catalog_default_dir(), &models, &r.gpus, err, sizeof err) != 0 ||
        profile_list_load(catalog_default_profile(path, sizeof path), &r.old, err, sizeof err) !=
            0 ||
        csvin_load_table(argv[2], dcols, dreq, 3, sizeof(derivation), read_derivation, &der,
                         &r.n_der, err, sizeof err) != 0) {
        fprintf(stderr, "fit_kernels_roofline: %s\n", err);
        goto done;
    }
    r.der = der;
    r.fits = calloc(r.gpus.n, sizeof *r.fits);
    r.grids = calloc(r.gpus.n, sizeof *r.grids);
    if (r.fits == NULL || r.grids == NULL || fit_all(&r) != 0)
        goto done;
    if (write_csv(&r, argv[3]) == 0 && write_report(&r, argv[4]) == 0)
        rc = 0;
done:
    model_list_free(&models);
    run_free(&r);
    return rc;
}
