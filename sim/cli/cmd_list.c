/*
 * cmd_list: `capsim list models|gpus|precisions|stacks`, the catalogs as tables.
 */
#include <stdio.h>
#include <string.h>

#include "models/kernels.h"
#include "models/precision.h"
#include "sim/plan/catalog_paths.h"
#include "sim/plan/stack.h"
#include "sim/cli/cli.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: capsim list models|gpus|precisions|stacks [--catalog DIR]\n"
            "\n"
            "Lists the model catalog, the accelerator catalog, the precisions, or the\n"
            "software stacks whose step times each GPU can be priced with (--stack), with\n"
            "units in the column names. The catalogs are CSV files in %s\n"
            "(or DIR), each row with its source.\n",
            catalog_default_dir());
}

/* Per GPU: the default stack and step model, the stacks with kernel tables, the roofline
 * profile the default uses. */
static void list_stacks(const gpu_list *gpus)
{
    printf("%-10s %-15s %-10s %-26s %s\n", "gpu", "default_stack", "step_model",
           "kernel_stacks", "roofline_profile");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/models/kernels", capsim_data_dir());
    size_t root = strlen(capsim_data_dir()) + 1;
    for (size_t i = 0; i < gpus->n; i++) {
        const char *name = gpus->items[i].name, *folder = kernels_gpu_folder(name);
        char joined[256] = "-", err[512];
        if (folder != NULL && kernels_stack_names(dir, folder, ",", joined, sizeof joined) == 0)
            snprintf(joined, sizeof joined, "-");
        stack_choice c;
        if (stack_resolve(NULL, name, NULL, capsim_data_dir(), &c, err, sizeof err) != 0) {
            printf("%-10s %s\n", name, err);
            continue;
        }
        printf("%-10s %-15s %-10s %-26s %s\n", name, c.name, c.kernels ? "kernels" : "roofline",
               joined, strlen(c.profile) > root ? c.profile + root : c.profile);
    }
    printf("(--stack NAME picks another: %s; splitwise-2023 is the 2023 roofline profile)\n",
           stack_names());
}

static void fmt_rate(char *buf, size_t len, double flops)
{
    if (flops > 0)
        snprintf(buf, len, "%.0f", flops / 1e12);
    else
        snprintf(buf, len, "-");
}

int cmd_list(int argc, char **argv)
{
    const char *what = NULL, *dir = catalog_default_dir();
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return CLI_EXIT_OK;
        } else if (strcmp(argv[i], "--catalog") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (what == NULL && argv[i][0] != '-') {
            what = argv[i];
        } else {
            return cli_usage_error("list", "unexpected argument '%s'", argv[i]);
        }
    }
    if (what == NULL)
        return cli_usage_error("list",
                               "what to list? expected models, gpus, precisions or stacks");
    if (strcmp(what, "precisions") == 0) {
        printf("%-6s %12s %12s  %s\n", "name", "weight_bytes", "kv_bytes", "meaning");
        for (int p = 0; p < PREC_COUNT; p++)
            printf("%-6s %12g %12g  %s\n", precision_name((precision)p),
                   precision_weight_bytes((precision)p), precision_kv_bytes((precision)p),
                   precision_describe((precision)p));
        return CLI_EXIT_OK;
    }
    if (strcmp(what, "models") != 0 && strcmp(what, "gpus") != 0 && strcmp(what, "stacks") != 0)
        return cli_usage_error("list", "'%s': expected models, gpus, precisions or stacks",
                               what);
    model_list models;
    gpu_list gpus;
    char err[1024];
    if (catalog_load(dir, &models, &gpus, err, sizeof err) != 0) {
        fprintf(stderr, "capsim list: %s\n", err);
        return CLI_EXIT_FAIL;
    }
    if (strcmp(what, "stacks") == 0) {
        list_stacks(&gpus);
    } else if (strcmp(what, "models") == 0) {
        printf("%-20s %10s %10s %6s %6s %5s %8s %7s %8s %9s %10s  %s\n", "name", "params_b",
               "active_b", "layers", "hidden", "heads", "kv_heads", "experts", "vocab", "context",
               "kv_kib_tok", "hugging_face_ids");
        for (size_t i = 0; i < models.n; i++) {
            const model_arch *m = &models.items[i];
            printf("%-20s %10.2f %10.2f %6d %6d %5d %8d %7d %8d %9d %10.0f  %s\n", m->name,
                   m->params / 1e9, m->active_params / 1e9, m->layers, m->hidden, m->heads,
                   m->kv_heads, m->experts, m->vocab, m->max_context,
                   model_kv_bytes_per_token(m, PREC_BF16) / 1024, m->hf_id[0] ? m->hf_id : "-");
        }
        printf("(kv_kib_tok: KV cache per token at 16-bit, KiB; --model takes the name, any "
               "Hugging Face id listed, with or without its organisation, or a config.json; "
               "sources in models.csv)\n");
    } else {
        printf("%-10s %7s %7s %8s %8s %8s %8s %8s %9s %8s %6s %8s\n", "name", "mem_gb", "bw_tbs",
               "fp16_tf", "bf16_tf", "fp8_tf", "int8_to", "int4_to", "no_tc_tf", "link_gbs",
               "tdp_w", "usd_hr");
        for (size_t i = 0; i < gpus.n; i++) {
            const gpu_spec *g = &gpus.items[i];
            char r[5][16];
            for (int p = 0; p < 5; p++)
                fmt_rate(r[p], sizeof r[p], g->peak_flops[p]);
            printf("%-10s %7.1f %7.2f %8s %8s %8s %8s %8s %9.1f %8.0f %6.0f %8.3f\n", g->name,
                   g->memory_bytes / 1e9, g->mem_bw_bytes_per_s / 1e12, r[0], r[1], r[2], r[3],
                   r[4], g->fp16_flops_no_tc / 1e12, g->link_bw_bytes_per_s / 1e9, g->tdp_w,
                   g->price_usd_per_hour);
        }
        printf("(dense tensor-core rates in TFLOPS/TOPS, '-' where the part has no such path; "
               "mem_gb = 1e9 bytes; link per direction; sources in gpus.csv)\n");
    }
    model_list_free(&models);
    gpu_list_free(&gpus);
    return CLI_EXIT_OK;
}
