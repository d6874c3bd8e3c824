/*
 * precision: numeric formats (see precision.h).
 */
#include "models/precision.h"

#include <ctype.h>
#include <string.h>

typedef struct prec_info {
    const char *name;
    double weight_bytes;
    double kv_bytes;
    precision compute_path;
    const char *describe;
} prec_info;

static const prec_info INFO[PREC_COUNT] = {
    [PREC_FP16] = {"fp16", 2.0, 2.0, PREC_FP16,
                   "16-bit float weights and activations; FP16 tensor-core rate"},
    [PREC_BF16] = {"bf16", 2.0, 2.0, PREC_BF16,
                   "16-bit bfloat weights and activations; BF16 tensor-core rate"},
    [PREC_FP8] = {"fp8", 1.0, 1.0, PREC_FP8,
                  "8-bit float weights and activations (W8A8); FP8 rate (Hopper and later)"},
    [PREC_INT8] = {"int8", 1.0, 1.0, PREC_INT8,
                   "8-bit integer weights and activations (W8A8); INT8 tensor-core rate"},
    [PREC_INT4] = {"int4", 0.5, 0.0, PREC_FP16,
                   "4-bit integer weights only (W4A16); 16-bit arithmetic; not a KV format"},
};

const char *precision_name(precision p)
{
    return p < PREC_COUNT ? INFO[p].name : "?";
}

int precision_parse(const char *s, precision *out)
{
    char low[16];
    size_t n = strlen(s);
    if (n == 0 || n >= sizeof low)
        return -1;
    for (size_t i = 0; i <= n; i++)
        low[i] = (char)tolower((unsigned char)s[i]);
    for (int p = 0; p < PREC_COUNT; p++) {
        if (strcmp(low, INFO[p].name) == 0) {
            *out = (precision)p;
            return 0;
        }
    }
    return -1;
}

double precision_weight_bytes(precision p)
{
    return INFO[p].weight_bytes;
}

double precision_kv_bytes(precision p)
{
    return INFO[p].kv_bytes;
}

precision precision_compute_path(precision p)
{
    return INFO[p].compute_path;
}

const char *precision_describe(precision p)
{
    return INFO[p].describe;
}
