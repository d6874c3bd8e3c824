/*
 * measure: measurement tables for fitting, read into fit points.
 *
 * The Splitwise profiling format (models/profiles/splitwise/): one row per repeated run of a
 * static batch, columns model, hardware, prompt_size, batch_size, token_size,
 * prompt_time (ms, the prefill of the whole batch), token_time (ms per decode step),
 * tensor_parallel. Repeats of a setting are merged into their median; each setting gives
 * one prefill point and one decode point (at the mean context, prompt + tokens / 2). The
 * spread of prefill repeats estimates the step-time noise.
 */
#ifndef CAPSIM_MEASURE_H
#define CAPSIM_MEASURE_H

#include <stddef.h>

#include "models/fit.h"
#include "models/gpu.h"
#include "models/model.h"

typedef struct measure_options {
    const char *hardware;     /* keep only rows of this hardware column value; NULL = all */
    int include_power_capped; /* keep rows whose hardware ends in "-pcap" */
    int tensor_cores;         /* 1 unless the measurements ran without them */
    precision weights, kv;    /* what the measured runs used (Splitwise: fp16) */
} measure_options;

typedef struct measure_set {
    fit_point *pts; /* owned */
    size_t n;
    double noise_cv; /* pooled coefficient of variation of prefill repeats */
    char gpu[32];    /* catalog GPU of the kept rows (the last seen) */
} measure_set;

/* Maps a Splitwise hardware name to the catalog (h100-80gb -> h100-sxm). */
const char *measure_splitwise_gpu(const char *hardware);

int measure_load_splitwise(const char *path, const model_list *models, const gpu_list *gpus,
                           const measure_options *opt, measure_set *out, char *err, size_t errlen);
void measure_set_free(measure_set *s);

#endif
