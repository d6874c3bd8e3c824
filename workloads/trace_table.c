/*
 * trace_table: the trace formats capsim reads. A new format is a file trace_<name>.c that
 * defines a trace_format_def, declared and listed here; --trace-format, detection, help
 * texts and messages all take the formats from this table.
 *
 * The order is that of trace_format in traces.h (its constants name the formats listed
 * first) and the order detection tries them in: a CSV header is given to the first format
 * whose detect_header takes it, and in a JSON file the earliest key of any format decides.
 */
#include "workloads/trace_reader.h"

extern const trace_format_def trace_format_capsim;
extern const trace_format_def trace_format_azure;
extern const trace_format_def trace_format_burstgpt;
extern const trace_format_def trace_format_mooncake;
extern const trace_format_def trace_format_vllm;

const trace_format_def *const trace_formats[] = {
    &trace_format_capsim,   &trace_format_azure, &trace_format_burstgpt,
    &trace_format_mooncake, &trace_format_vllm,  NULL,
};
