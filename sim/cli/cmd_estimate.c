/*
 * cmd_estimate: `capsim estimate`, the step-time model for one static batch, with the
 * breakdown that shows why: compute- or memory-bound, bytes moved per step, arithmetic
 * intensity against the ridge point.
 */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "sim/cli/cli.h"
#include "sim/base/csvout.h"
#include "models/kstep.h"
#include "sim/plan/deploy.h"
#include "sim/base/util.h"

static const char *CMD = "estimate";

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim estimate --model NAME --gpu NAME [OPTIONS]\n"
            "\n"
            "Estimates one static batch: B requests of P prompt tokens each are prefilled in\n"
            "one step (the time to first token), then decode O-1 more tokens in steps of the\n"
            "whole batch. Prints TTFT, TPOT, end-to-end latency, throughput, the largest\n"
            "batch that fits in memory, and what bounds each step.\n"
            "\n"
            "options:\n"
            "  --model NAME        catalog model (capsim list models) or a config.json path\n"
            "  --gpu NAME          catalog GPU (capsim list gpus)\n"
            "  --precision P       weights: fp16, bf16, fp8, int8, int4 (default bf16)\n"
            "  --kv-precision P    KV cache: fp16, bf16, fp8, int8 (default: 16-bit)\n"
            "  --tp N              GPUs per replica, tensor parallel (default 1)\n"
            "  --tensor-cores on|off  what-if without tensor cores (default on)\n"
            "  --prompt P          prompt tokens per request (default 512)\n"
            "  --output O          output tokens per request (default 128)\n"
            "  --batch B           requests in the batch (default 1)\n"
            "  --gpu-mem-util F    share of GPU memory the engine may use (default 0.9)\n"
            "  --mem-reserve GB    memory per GPU the engine keeps beside weights and KV\n"
            "                      (default auto: 2.15 GB, +0.4 GB at tp > 1)\n"
            "  --block-size N      tokens per KV block (default 16)\n"
            "  --profile FILE      roofline coefficients of your own (a calibration): the\n"
            "                      roofline with them (default: the stack's profile)\n"
            "  --stack NAME        software stack whose step times price the batch:\n"
            "                      vllm-0.19, vllm-0.14, splitwise-2023 (the 2023 profile),\n"
            "                      or auto (default: the newest measured on the GPU)\n"
            "  --step-model SPEC   auto (default: measured vLLM kernels on h100-sxm, h200,\n"
            "                      a100-80gb, l40s, b200, else the roofline), kernels,\n"
            "                      roofline, or linear:a=A,b=B (seconds)\n"
            "  --kernel-coeffs FILE  kernel_coeffs.csv from capsim calibrate: the measured-\n"
            "                      kernel model's class scales and outside terms for this\n"
            "                      GPU and stack (default: the defaults)\n"
            "  --max-model-len N   longest prompt + output accepted, tokens (default auto:\n"
            "                      the model's context, its max_position_embeddings)\n"
            "  --over-length M     a longer request: reject (default: estimated with a\n"
            "                      warning that vLLM would refuse it), truncate (the prompt\n"
            "                      cut to leave room for the output) or error (exit 2)\n"
            "  --format table|csv  output format (default table)\n"
            "  --catalog DIR       folder with models.csv and gpus.csv\n"
            "  -h, --help          show this help\n");
}

typedef struct estimate {
    double ttft_s, tpot_s, e2e_s, out_tok_per_s, total_tok_per_s;
    uint64_t max_batch;
    step_breakdown prefill, decode; /* decode: the step at the mean context */
} estimate;

static void compute(const deploy *d, double b, double p, double o, estimate *e)
{
    memset(e, 0, sizeof *e);
    step_shape pre = step_shape_prefill(b, p);
    e->ttft_s = step_time_s(&d->step, &pre, &e->prefill);
    /* The k-th decode step (k = 1 .. O-1) attends over p + k tokens. */
    double sum = 0;
    for (double k = 1; k < o; k++) {
        step_shape dec = step_shape_decode(b, p + k);
        sum += step_time_s(&d->step, &dec, NULL);
    }
    e->tpot_s = o > 1 ? sum / (o - 1) : NAN;
    step_shape mid = step_shape_decode(b, p + o / 2);
    step_time_s(&d->step, &mid, &e->decode);
    e->e2e_s = e->ttft_s + sum;
    e->out_tok_per_s = b * o / e->e2e_s;
    e->total_tok_per_s = b * (p + o) / e->e2e_s;
    e->max_batch = memplan_max_batch(&d->mem, d->mem_cfg.block_size, (uint64_t)(p + o));
}

static const char *bound_of(const step_breakdown *b)
{
    double body = fmax(b->t_compute_s, b->t_memory_s);
    if (b->t_fixed_s + b->t_comm_s > body)
        return "overhead";
    return b->compute_bound ? "compute" : "memory";
}

static void print_csv(const deploy *d, const deploy_options *o, double b, double p, double out,
                      const estimate *e)
{
    csvout c;
    csvout_init(&c, stdout);
    static const char *const head[] = {"model",
                                       "gpu",
                                       "precision",
                                       "kv_precision",
                                       "tp",
                                       "tensor_cores",
                                       "batch",
                                       "prompt_tokens",
                                       "output_tokens",
                                       "ttft_ms",
                                       "tpot_ms",
                                       "e2el_ms",
                                       "output_throughput",
                                       "total_token_throughput",
                                       "max_batch",
                                       "bound",
                                       "decode_bound",
                                       "weight_gb_per_gpu",
                                       "kv_bytes_per_token",
                                       "kv_tokens",
                                       "decode_intensity",
                                       "ridge_flops_per_byte",
                                       "stack",
                                       "step_data"};
    for (size_t i = 0; i < sizeof head / sizeof head[0]; i++)
        csvout_str(&c, head[i]);
    csvout_end_row(&c);
    csvout_str(&c, d->model.name);
    csvout_str(&c, d->gpu.name);
    csvout_str(&c, precision_name(d->weights));
    csvout_str(&c, precision_name(d->kv));
    csvout_u64(&c, (uint64_t)d->tp);
    csvout_str(&c, o->tensor_cores ? "on" : "off");
    csvout_num(&c, b);
    csvout_num(&c, p);
    csvout_num(&c, out);
    csvout_num(&c, 1e3 * e->ttft_s);
    csvout_num(&c, 1e3 * e->tpot_s);
    csvout_num(&c, 1e3 * e->e2e_s);
    csvout_num(&c, e->out_tok_per_s);
    csvout_num(&c, e->total_tok_per_s);
    csvout_u64(&c, e->max_batch);
    csvout_str(&c, bound_of(&e->prefill));
    csvout_str(&c, bound_of(&e->decode));
    csvout_num(&c, d->mem.weight_bytes_per_gpu / 1e9);
    csvout_num(&c, d->mem.kv_bytes_per_token);
    csvout_u64(&c, d->mem.kv_tokens);
    csvout_num(&c, e->decode.intensity);
    csvout_num(&c, e->decode.ridge);
    csvout_str(&c, d->stack.name);
    csvout_str(&c, d->step_data);
    csvout_end_row(&c);
}

/* One row of the kernel breakdown: the part's time in the prefill and mid decode steps. */
static void kernel_row(const char *name, double pre_s, double dec_s)
{
    printf("  %-28s %14.3f %14.3f\n", name, 1e3 * pre_s, 1e3 * dec_s);
}

/* Where a step's time goes under the measured-kernel model, for the prefill step and the
 * mid decode step, beside what the roofline of the same deployment says. */
static void print_kernels(const deploy *d, double b, double p, double o)
{
    step_shape pre = step_shape_prefill(b, p), mid = step_shape_decode(b, p + o / 2);
    kstep_breakdown k[2];
    kstep_time_s(d->kstep, &pre, &k[0]);
    kstep_time_s(d->kstep, &mid, &k[1]);
    step_model roof = d->step;
    roof.kind = STEP_ROOFLINE;
    printf("\n  %-28s %14s %14s\n", "one step, ms", "prefill", "decode (mid)");
    if (d->model.experts > 0) {
        /* An MoE model's MLP is the fused MoE layer, not dense GEMMs. */
        kernel_row("GEMMs (QKV, O)", k[0].gemm_s, k[1].gemm_s);
        kernel_row("MoE layer (router, experts)", k[0].moe_s, k[1].moe_s);
    } else {
        kernel_row("GEMMs (QKV, O, gate/up, down)", k[0].gemm_s, k[1].gemm_s);
    }
    kernel_row("LM head", k[0].lm_head_s, k[1].lm_head_s);
    kernel_row("prefill attention", k[0].prefill_attn_s, k[1].prefill_attn_s);
    kernel_row("decode attention", k[0].decode_attn_s, k[1].decode_attn_s);
    kernel_row("all-reduce", k[0].allreduce_s, k[1].allreduce_s);
    kernel_row("outside the kernels", k[0].outside_s, k[1].outside_s);
    kernel_row("step", k[0].t_step_s, k[1].t_step_s);
    kernel_row("roofline (same stack)", step_time_s(&roof, &pre, NULL),
               step_time_s(&roof, &mid, NULL));
    printf("  %-28s %14.0f %14.0f%s\n", "GEMM m (tokens, padded)", k[0].gemm_tokens,
           k[1].gemm_tokens, k[1].graph ? "  (CUDA graph)" : "");
    for (int i = 0; i < 2; i++) {
        char names[128];
        printf("  %s step: %s\n", i == 0 ? "prefill" : "decode",
               k[i].extrapolated ? kstep_extrapolated_names(k[i].extrapolated, names, sizeof names)
                                 : "every kernel inside the measured tables");
        if (k[i].extrapolated)
            printf("    (extrapolated: outside the tables' grid, priced by the roofline of that "
                   "kernel)\n");
    }
    const kstep_coeffs *c = kstep_get_coeffs(d->kstep);
    printf("\n  Kernel times are vLLM's, measured (models/kernels/%s). Outside the kernels:\n"
           "  %.3g ms per step, %.3g ms per layer, %.3g us per sequence and %.3g us per\n"
           "  token and layer (the element-wise kernels the tables lack, and host time the\n"
           "  engine does not overlap: models/catalog/SOURCES.md#step-overhead). Decode\n"
           "  attention prices each sequence at its own context (here all share one).\n",
           kstep_source(d->kstep), 1e3 * c->step_s, 1e3 * c->layer_s, 1e6 * c->seq_s,
           1e6 * c->token_layer_s);
}

static void print_table(const deploy *d, double b, double p, double o, const estimate *e)
{
    printf("capsim estimate: %s on %d x %s, weights %s, KV cache %s\n", d->model.name, d->tp,
           d->gpu.name, precision_name(d->weights), precision_name(d->kv));
    if (d->stack.name[0])
        printf("  stack: %s (choose with --stack: %s)\n", d->stack.name, stack_names());
    if (d->stack.note[0])
        printf("  note: %s\n", d->stack.note);
    if (d->note[0])
        printf("  note: %s\n", d->note);
    if (d->weights_note[0])
        printf("  note: %s\n", d->weights_note);
    if (d->step.kind == STEP_LINEAR)
        printf("  step-time model: %s\n", d->profile.basis);
    else if (d->step.kind == STEP_KERNELS)
        printf("  step-time model: %s; kernels\n"
               "    outside the tables priced by the roofline of profile %s (mfu %.3g, mbu %.3g)\n",
               d->step_data, d->profile.gpu, d->profile.c.mfu, d->profile.c.mbu);
    else
        printf("  step-time model: %s\n"
               "  profile %s: mfu %.3g, mbu %.3g, overhead %.3g ms per step, noise cv %.3g\n"
               "    (%s)\n",
               d->step_data, d->profile.gpu, d->profile.c.mfu, d->profile.c.mbu,
               1e3 * (d->profile.c.t_fixed_s + d->profile.c.t_layer_s * d->model.layers),
               d->profile.c.noise_cv, d->profile.basis);
    printf("  memory: weights %.2f GB (%.2f GB per GPU); KV %.0f bytes per token; room for "
           "%llu tokens of KV (%llu blocks of %u)\n",
           d->mem.weight_bytes / 1e9, d->mem.weight_bytes_per_gpu / 1e9, d->mem.kv_bytes_per_token,
           (unsigned long long)d->mem.kv_tokens, (unsigned long long)d->mem.kv_blocks,
           d->mem_cfg.block_size);
    printf("\n  batch of %g requests, %g prompt + %g output tokens each\n", b, p, o);
    printf("  %-28s %12.2f ms\n", "TTFT (prefill step)", 1e3 * e->ttft_s);
    printf("  %-28s %12.2f ms\n", "TPOT (mean decode step)", 1e3 * e->tpot_s);
    printf("  %-28s %12.2f ms\n", "end-to-end", 1e3 * e->e2e_s);
    printf("  %-28s %12.1f tokens/s\n", "output throughput", e->out_tok_per_s);
    printf("  %-28s %12llu requests at %g tokens of context\n", "largest batch that fits",
           (unsigned long long)e->max_batch, p + o);
    if (d->step.kind == STEP_LINEAR)
        return;
    if (d->step.kind == STEP_KERNELS) {
        print_kernels(d, b, p, o);
        return;
    }
    printf("\n  %-28s %14s %14s\n", "one step", "prefill", "decode (mid)");
    const step_breakdown *s[2] = {&e->prefill, &e->decode};
    printf("  %-28s %14.3g %14.3g\n", "FLOPs per GPU", s[0]->flops_per_gpu, s[1]->flops_per_gpu);
    printf("  %-28s %14.3f %14.3f\n", "weight GB read per GPU", s[0]->weight_bytes_per_gpu / 1e9,
           s[1]->weight_bytes_per_gpu / 1e9);
    printf("  %-28s %14.3f %14.3f\n", "KV GB read+written per GPU", s[0]->kv_bytes_per_gpu / 1e9,
           s[1]->kv_bytes_per_gpu / 1e9);
    printf("  %-28s %14.1f %14.1f\n", "FLOPs per byte", s[0]->intensity, s[1]->intensity);
    printf("  %-28s %14.1f %14.1f\n", "ridge point, FLOPs per byte", s[0]->ridge, s[1]->ridge);
    printf("  %-28s %14.3f %14.3f\n", "compute time, ms", 1e3 * s[0]->t_compute_s,
           1e3 * s[1]->t_compute_s);
    printf("  %-28s %14.3f %14.3f\n", "memory time, ms", 1e3 * s[0]->t_memory_s,
           1e3 * s[1]->t_memory_s);
    printf("  %-28s %14.3f %14.3f\n", "all-reduce time, ms", 1e3 * s[0]->t_comm_s,
           1e3 * s[1]->t_comm_s);
    printf("  %-28s %14.3f %14.3f\n", "overhead, ms", 1e3 * s[0]->t_fixed_s, 1e3 * s[1]->t_fixed_s);
    printf("  %-28s %14s %14s\n", "bound by", bound_of(s[0]), bound_of(s[1]));
    double bw = d->gpu.mem_bw_bytes_per_s * d->profile.c.mbu;
    printf("\n  Each decode step reads all %.2f GB of weights per GPU at %.0f GB/s achieved\n"
           "  bandwidth: %.2f ms per step however many requests share it (up to %g here),\n"
           "  while the arithmetic needs only %.1f FLOPs per byte against a ridge of %.0f.\n",
           s[1]->weight_bytes_per_gpu / 1e9, bw / 1e9, 1e3 * s[1]->weight_bytes_per_gpu / bw, b,
           s[1]->intensity, s[1]->ridge);
}

/* --max-model-len and --over-length, as capsim run reads them: a request longer than the
 * limit is estimated with a warning that vLLM would refuse it (reject), cut to fit
 * (truncate: the prompt shortened to leave room for the output), or refused (error).
 * Returns 0, or -1 after a usage error. */
static int fit_length(const deploy *d, const char *max_len, const char *over, uint64_t *prompt,
                      uint64_t *output)
{
    char err[512];
    uint64_t context = (uint64_t)(d->model.max_context > 0 ? d->model.max_context : 0), limit;
    limit = context;
    if (strcmp(max_len, "auto") != 0) {
        if (cli_parse_count("--max-model-len", max_len, 2, context, &limit, err, sizeof err) != 0) {
            cli_usage_error(CMD, "%s (at most %s's context)", err, d->model.name);
            return -1;
        }
    }
    int mode = strcmp(over, "reject") == 0     ? 0
               : strcmp(over, "truncate") == 0 ? 1
               : strcmp(over, "error") == 0    ? 2
                                               : -1;
    if (mode < 0) {
        cli_usage_error(CMD, "--over-length '%s': expected reject, truncate or error", over);
        return -1;
    }
    if (*prompt + *output <= limit)
        return 0;
    if (mode == 2) {
        cli_usage_error(CMD,
                        "%llu prompt + output tokens are longer than the max model length of "
                        "%llu (%s's context %llu; --over-length error)",
                        (unsigned long long)(*prompt + *output), (unsigned long long)limit,
                        d->model.name, (unsigned long long)context);
        return -1;
    }
    if (mode == 0) {
        fprintf(stderr,
                "capsim estimate: warning: %llu prompt + output tokens are longer than the max "
                "model length of %llu tokens (%s's context %llu): vLLM would reject this "
                "request; the figures are for a request it does not serve (--over-length "
                "truncate estimates it cut to fit)\n",
                (unsigned long long)(*prompt + *output), (unsigned long long)limit, d->model.name,
                (unsigned long long)context);
        return 0;
    }
    uint64_t p0 = *prompt, o0 = *output;
    if (*output > limit - 1)
        *output = limit - 1;
    if (*prompt > limit - *output)
        *prompt = limit - *output;
    fprintf(stderr,
            "capsim estimate: warning: %llu prompt + %llu output tokens cut to %llu + %llu to fit "
            "the max model length of %llu tokens (--over-length truncate)\n",
            (unsigned long long)p0, (unsigned long long)o0, (unsigned long long)*prompt,
            (unsigned long long)*output, (unsigned long long)limit);
    return 0;
}

/* estimate's options. */
static const struct option estimate_opts[] = {
    {"model", required_argument, NULL, 'm'},
    {"gpu", required_argument, NULL, 'g'},
    {"precision", required_argument, NULL, 'p'},
    {"kv-precision", required_argument, NULL, 'k'},
    {"tp", required_argument, NULL, 't'},
    {"tensor-cores", required_argument, NULL, 'T'},
    {"prompt", required_argument, NULL, 'P'},
    {"output", required_argument, NULL, 'O'},
    {"batch", required_argument, NULL, 'B'},
    {"gpu-mem-util", required_argument, NULL, 'u'},
    {"mem-reserve", required_argument, NULL, 'R'},
    {"block-size", required_argument, NULL, 'b'},
    {"profile", required_argument, NULL, 'f'},
    {"step-model", required_argument, NULL, 's'},
    {"stack", required_argument, NULL, 'S'},
    {"kernel-coeffs", required_argument, NULL, 'K'},
    {"format", required_argument, NULL, 'F'},
    {"max-model-len", required_argument, NULL, 'L'},
    {"over-length", required_argument, NULL, 'X'},
    {"catalog", required_argument, NULL, 'C'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cmd_estimate(int argc, char **argv)
{
    deploy_options o;
    deploy_options_default(&o);
    uint64_t prompt = 512, output = 128, batch = 1, v;
    int csv = 0;
    const char *max_len = "auto", *over = "reject";
    char err[2048];
    cli_warn_repeats(CMD, argc, argv, 1, estimate_opts, NULL);
    opterr = 0;
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, ":h", estimate_opts, NULL)) != -1) {
        int bad = 0;
        switch (ch) {
        case 'm':
            o.model = optarg;
            break;
        case 'g':
            o.gpu = optarg;
            break;
        case 'p':
            o.precision = optarg;
            o.precision_given = 1;
            break;
        case 'k':
            o.kv_precision = optarg;
            break;
        case 't':
            bad = cli_parse_count("--tp", optarg, 1, 64, &v, err, sizeof err);
            o.tp = (int)v;
            break;
        case 'T':
            bad = cli_parse_on_off("--tensor-cores", optarg, &o.tensor_cores, err, sizeof err);
            break;
        case 'P':
            bad = cli_parse_count("--prompt", optarg, 1, 10000000, &prompt, err, sizeof err);
            break;
        case 'O':
            bad = cli_parse_count("--output", optarg, 1, 10000000, &output, err, sizeof err);
            break;
        case 'B':
            bad = cli_parse_count("--batch", optarg, 1, 1000000, &batch, err, sizeof err);
            break;
        case 'u':
            bad = cli_parse_real("--gpu-mem-util", optarg, 0.01, 1, 0, &o.gpu_memory_utilization,
                                 err, sizeof err);
            break;
        case 'R':
            bad = deploy_parse_mem_reserve(optarg, &o.reserve_bytes_per_gpu, err, sizeof err);
            break;
        case 'b':
            bad = cli_parse_count("--block-size", optarg, 1, 4096, &v, err, sizeof err);
            o.block_size = (uint32_t)v;
            break;
        case 'f':
            o.profile = optarg;
            break;
        case 'C':
            o.catalog_dir = optarg;
            break;
        case 's':
            o.step_model = strcmp(optarg, "auto") ? optarg : NULL;
            break;
        case 'S':
            o.stack = optarg;
            break;
        case 'K':
            o.kernel_coeffs = optarg;
            break;
        case 'L':
            max_len = optarg;
            break;
        case 'X':
            over = optarg;
            break;
        case 'F':
            if (strcmp(optarg, "csv") == 0 || strcmp(optarg, "table") == 0)
                csv = strcmp(optarg, "csv") == 0;
            else
                bad =
                    (util_errf(err, sizeof err, "--format '%s': expected table or csv", optarg), 1);
            break;
        case 'h':
            usage(stdout);
            return CLI_EXIT_OK;
        default:
            return cli_bad_option(CMD, ch, argv[optind - 1]);
        }
        if (bad)
            return cli_usage_error(CMD, "%s", err);
    }
    if (optind < argc)
        return cli_usage_error(CMD, "unexpected argument '%s'", argv[optind]);
    deploy d;
    if (deploy_resolve(&o, &d, err, sizeof err) != 0)
        return cli_usage_error(CMD, "%s", err);
    if (fit_length(&d, max_len, over, &prompt, &output) != 0) {
        deploy_fini(&d);
        return CLI_EXIT_USAGE;
    }
    estimate e;
    compute(&d, (double)batch, (double)prompt, (double)output, &e);
    if (csv)
        print_csv(&d, &o, (double)batch, (double)prompt, (double)output, &e);
    else
        print_table(&d, (double)batch, (double)prompt, (double)output, &e);
    if (e.max_batch < batch)
        fprintf(stderr,
                "capsim estimate: warning: a batch of %llu at %llu tokens of context "
                "does not fit in the KV cache (at most %llu)\n",
                (unsigned long long)batch, (unsigned long long)(prompt + output),
                (unsigned long long)e.max_batch);
    deploy_fini(&d);
    return CLI_EXIT_OK;
}
