/*
 * resample: a trace resampled in blocks of time (a block bootstrap), as a request source.
 *
 * Replications of a trace replay the same requests, so their spread measures the step-time
 * noise only. Resampling the trace per replication, with a seed per replication, makes the
 * spread cover the traffic too: the trace's time line is cut into equal blocks of about
 * block_s seconds (the span divided into a whole number of them), and a new time line is built from blocks drawn uniformly with replacement, slot
 * after slot, each keeping its requests' offsets within the block (so bursts shorter than a
 * block survive). Blocks with no request leave their slot empty, as the trace's quiet
 * spells do.
 *
 * The source gives exactly `requests` requests (the serving simulation counts them ahead),
 * so the number of requests is the trace's and the time the resampled trace spans varies
 * around the trace's span; the mean rate is the trace's.
 */
#ifndef CAPSIM_RESAMPLE_H
#define CAPSIM_RESAMPLE_H

#include <stddef.h>
#include <stdint.h>

#include "workloads/reqsrc.h"
#include "workloads/traces.h"

/* "block:SECONDS" -> *block_s; "off" -> 0. Returns 0, or -1 with a message. */
int resample_parse(const char *text, double *block_s, char *err, size_t errlen);

/* Reads the trace at path (with opt) and returns a source of `requests` requests drawn
 * from it in blocks of block_s seconds with the given seed; NULL with a message on
 * failure. The caller frees it with reqsrc_close(). */
reqsrc *resample_open(const char *path, const trace_options *opt, double block_s,
                      uint64_t requests, uint64_t seed, char *err, size_t errlen);

#endif
