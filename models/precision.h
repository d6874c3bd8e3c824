/*
 * precision: numeric formats for weights, activations and the KV cache.
 *
 *   fp16, bf16   16-bit weights and activations, computed on the FP16/BF16 tensor path
 *   fp8          8-bit float weights and activations (W8A8), on the FP8 tensor path
 *   int8         8-bit integer weights and activations (W8A8), on the INT8 tensor path
 *   int4         4-bit integer weights only (W4A16): half the bytes of int8 to read, but
 *                the arithmetic runs at the 16-bit rate after dequantisation
 *
 * The KV cache has its own precision (fp16, bf16, fp8 or int8).
 */
#ifndef CAPSIM_PRECISION_H
#define CAPSIM_PRECISION_H

typedef enum precision {
    PREC_FP16,
    PREC_BF16,
    PREC_FP8,
    PREC_INT8,
    PREC_INT4,
    PREC_COUNT
} precision;

const char *precision_name(precision p);

/* Parses "fp16", "bf16", "fp8", "int8" or "int4" (case-insensitive). Returns 0 or -1. */
int precision_parse(const char *s, precision *out);

/* Bytes of one weight stored at precision p (0.5 for int4). */
double precision_weight_bytes(precision p);

/* Bytes of one KV-cache element at precision p; int4 is not a KV format (returns 0). */
double precision_kv_bytes(precision p);

/* The tensor-core path whose peak rate the arithmetic of precision p uses when the
 * hardware has it: itself, except int4 weight-only, which computes at 16-bit. */
precision precision_compute_path(precision p);

/* One line per precision for `capsim list precisions`. */
const char *precision_describe(precision p);

#endif
