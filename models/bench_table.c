/*
 * bench_table: the benchmark result formats capsim calibrate reads. A new format is a file
 * bench_<name>.c that defines a bench_format_def, declared and listed here; --format,
 * detection, help texts and messages all take the formats from this table.
 *
 * The order is that of bench_format in bench.h (its constants name the formats listed
 * first), of the lists in help texts and messages, and the order in which detection asks
 * the formats' detect functions once no JSON key has decided.
 */
#include "models/bench_reader.h"

extern const bench_format_def bench_format_vllm;
extern const bench_format_def bench_format_aiperf;
extern const bench_format_def bench_format_genai_perf;
extern const bench_format_def bench_format_guidellm;
extern const bench_format_def bench_format_csv;

const bench_format_def *const bench_formats[] = {
    &bench_format_vllm,     &bench_format_aiperf, &bench_format_genai_perf,
    &bench_format_guidellm, &bench_format_csv,    NULL,
};
