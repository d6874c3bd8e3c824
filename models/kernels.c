/*
 * kernels: loading the kernel tables of one GPU and stack, and choosing the stack (see
 * kernels.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "models/kernels.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/base/util.h"

/* Catalog GPU name -> folder of the shipped tables. The catalog's a100-80gb, h200 and b200
 * are the SXM parts (models/catalog/gpus.csv), as are the measured ones. */
static const struct {
    const char *gpu, *folder;
} GPU_FOLDERS[] = {
    {"h100-sxm", "h100_sxm"}, {"h200", "h200_sxm"}, {"a100-80gb", "a100_sxm"},
    {"l40s", "l40s"},         {"b200", "b200_sxm"},
};

const char *kernels_gpu_folder(const char *gpu)
{
    for (size_t i = 0; i < sizeof GPU_FOLDERS / sizeof GPU_FOLDERS[0]; i++)
        if (strcmp(gpu, GPU_FOLDERS[i].gpu) == 0)
            return GPU_FOLDERS[i].folder;
    return NULL;
}

const char *kernels_gpu_names(char *buf, size_t len)
{
    size_t used = 0;
    if (len > 0)
        buf[0] = '\0';
    for (size_t i = 0; i < sizeof GPU_FOLDERS / sizeof GPU_FOLDERS[0] && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? ", " : "", GPU_FOLDERS[i].gpu);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return buf;
}

/* Compares the versions after the first '-' of a and b component by component. */
static int version_cmp(const char *a, const char *b)
{
    const char *pa = strchr(a, '-'), *pb = strchr(b, '-');
    pa = pa ? pa + 1 : a;
    pb = pb ? pb + 1 : b;
    while (*pa != '\0' || *pb != '\0') {
        char *ea, *eb;
        unsigned long va = strtoul(pa, &ea, 10), vb = strtoul(pb, &eb, 10);
        if (va != vb)
            return va < vb ? -1 : 1;
        if (ea == pa || eb == pb) /* not a number: compare the rest as text */
            return strcmp(pa, pb);
        pa = *ea == '.' ? ea + 1 : ea;
        pb = *eb == '.' ? eb + 1 : eb;
    }
    return 0;
}

static int cmp_name(const void *a, const void *b)
{
    return version_cmp((const char *)a, (const char *)b);
}

/* Folders of dir/gpu whose name starts with prefix, oldest version first. */
static int list_folders(const char *dir, const char *gpu, const char *prefix,
                        char names[][KERNELS_NAME_MAX], int max)
{
    char path[4096 + 256]; /* PATH_MAX and the names below it */
    snprintf(path, sizeof path, "%s/%s", dir, gpu);
    DIR *d = opendir(path);
    if (d == NULL)
        return 0;
    int n = 0;
    struct dirent *e;
    size_t plen = strlen(prefix);
    while ((e = readdir(d)) != NULL && n < max) {
        size_t len = strlen(e->d_name);
        if (strncmp(e->d_name, prefix, plen) == 0 && len < KERNELS_NAME_MAX)
            memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof names[0], cmp_name);
    return n;
}

int kernels_stacks(const char *dir, const char *gpu, char names[][KERNELS_NAME_MAX], int max)
{
    return list_folders(dir, gpu, "vllm-", names, max);
}

int kernels_stack_names(const char *dir, const char *gpu, const char *sep, char *buf,
                        size_t len)
{
    char names[KERNELS_MAX_STACKS][KERNELS_NAME_MAX];
    int n = kernels_stacks(dir, gpu, names, KERNELS_MAX_STACKS);
    size_t used = 0;
    if (len > 0)
        buf[0] = '\0';
    for (int i = 0; i < n && used + 1 < len; i++) {
        int w = snprintf(buf + used, len - used, "%s%s", i ? sep : "", names[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
    return n;
}

/* Loads dir/gpu/folder/<kind's file> into s->table[kind] when the file exists. */
static int load_kind(const char *dir, const char *folder, ktable_kind kind, kernels_set *s,
                     char *err, size_t errlen)
{
    char path[4096 + 256]; /* PATH_MAX and the names below it */
    snprintf(path, sizeof path, "%s/%s/%s/%s", dir, s->gpu, folder, ktable_kind_file(kind));
    if (access(path, R_OK) != 0)
        return 0;
    s->table[kind] = ktable_load(path, kind, err, errlen);
    return s->table[kind] != NULL ? 0 : -1;
}

int kernels_load(const char *dir, const char *gpu, const char *stack, kernels_set *out,
                 char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    char names[KERNELS_MAX_STACKS][KERNELS_NAME_MAX];
    int n = kernels_stacks(dir, gpu, names, KERNELS_MAX_STACKS), pick = -1;
    for (int i = 0; i < n; i++)
        if (stack == NULL ? i == n - 1 : strcmp(names[i], stack) == 0)
            pick = i;
    if (pick < 0 || strlen(gpu) >= KERNELS_NAME_MAX) {
        util_errf(err, errlen, "%s/%s: no kernel tables%s%s", dir, gpu, stack ? " for stack " : "",
                  stack ? stack : "");
        return -1;
    }
    snprintf(out->gpu, sizeof out->gpu, "%s", gpu);
    snprintf(out->stack, sizeof out->stack, "%s", names[pick]);
    int rc = 0;
    for (int k = 0; k < KTABLE_NKINDS && rc == 0; k++)
        if (k != KTABLE_NCCL)
            rc = load_kind(dir, out->stack, (ktable_kind)k, out, err, errlen);
    int nn = list_folders(dir, gpu, "nccl-", names, KERNELS_MAX_STACKS);
    if (rc == 0 && nn > 0) {
        snprintf(out->nccl, sizeof out->nccl, "%s", names[nn - 1]);
        rc = load_kind(dir, out->nccl, KTABLE_NCCL, out, err, errlen);
    }
    if (rc != 0)
        kernels_free(out);
    return rc;
}

void kernels_free(kernels_set *s)
{
    for (int k = 0; k < KTABLE_NKINDS; k++) {
        ktable_free(s->table[k]);
        s->table[k] = NULL;
    }
}
