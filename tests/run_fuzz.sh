#!/bin/sh
# run_fuzz.sh BUILD_DIR [SECONDS]
#
# Builds one libFuzzer target per trace format (tests/fuzz_traces.c with
# -DFUZZ_FORMAT_NAME='"<format>"', plus auto-detection) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into BUILD_DIR, then runs each for SECONDS (default 20) on
# its seed corpus in tests/fuzz_corpus/<format>, if there is one (auto gets every
# format's seeds). Inputs the fuzzer finds go to BUILD_DIR/corpus_<format>, so the source
# tree is not written. Also builds and runs tests/fuzz_specs.c (the spec and scenario
# parsers) and one tests/fuzz_bench.c target per benchmark result format (plus
# auto-detection) on the seeds in tests/fuzz_corpus_bench/<format>, each for SECONDS too.
# The formats are those of the tables (workloads/trace_table.c, models/bench_table.c):
# a small program built from the same sources lists them, so a new format gets its target
# without an edit here.
# The fuzzer seed is FUZZ_SEED (default 1), so a CI run is repeatable.
# Exits non-zero if a target fails to build or any run finds a crash, leak, timeout or
# sanitizer report; the log of each run is BUILD_DIR/<target>.log.
#
# Self-contained: it compiles only the sources each target needs (workloads/trace*.c or
# models/bench*.c, with sim/base/csvin.c and sim/base/util.c), so it does not need the
# CMake build.
# Debian 12 packages: clang (14, with libclang-rt-14-dev for libFuzzer), libcsv-dev,
# libjson-c-dev, and libgsl-dev (for headers that workloads/reqsrc.h includes; nothing
# links GSL).
set -eu

if [ $# -lt 1 ]; then
    echo "usage: $0 BUILD_DIR [SECONDS]" >&2
    exit 2
fi
src=$(cd "$(dirname "$0")/.." && pwd)
out=$1
secs=${2:-20}
cc=${CC:-clang}
# The readers' sources: every file of the family, so a new format's file is picked up.
trace_src="$src/workloads/trace*.c"
bench_src="$src/models/bench*.c"
base_src="$src/sim/base/csvin.c $src/sim/base/util.c $src/sim/base/spool.c"
status=0

# fuzz NAME MAX_LEN SEED_DIRS...: runs BUILD_DIR/NAME for SECONDS on its seeds, keeping
# what it finds in BUILD_DIR/corpus_NAME; a failure prints the log's tail and sets status.
fuzz() {
    name=$1 maxlen=$2
    shift 2
    mkdir -p "$out/corpus_$name"
    if "$out/$name" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -timeout=20 -rss_limit_mb=2048 \
        -max_len="$maxlen" -print_final_stats=1 -artifact_prefix="$out/crash_${name}_" \
        "$out/corpus_$name" "$@" >"$out/$name.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/$name.log")
        echo "$name: ok, ${runs:-?} runs in ${secs} s"
    else
        echo "$name: FAILED (log: $out/$name.log)" >&2
        tail -n 40 "$out/$name.log" >&2
        status=1
    fi
}

# seeds CORPUS_ROOT FORMAT: the seed folders of a format (auto: every format's), if any
seeds() {
    if [ "$2" = auto ]; then
        for d in "$1"/*/; do printf '%s ' "$d"; done
    elif [ -d "$1/$2" ]; then
        printf '%s' "$1/$2"
    fi
}

cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
mkdir -p "$out"

# The format names, "auto" first, from the tables themselves.
cat >"$out/list_formats.c" <<'EOF'
#include <stdio.h>

#include "models/bench.h"
#include "workloads/traces.h"

int main(void)
{
    for (size_t i = 0; i <= trace_format_count(); i++)
        printf("trace %s\n", trace_format_name((trace_format)i));
    for (size_t i = 0; i <= bench_format_count(); i++)
        printf("bench %s\n", bench_format_name((bench_format)i));
    return 0;
}
EOF
# shellcheck disable=SC2086 # the source lists are globs
"$cc" -std=c11 -I"$src" "$out/list_formats.c" $trace_src $bench_src $base_src \
    -lcsv -ljson-c -lm -o "$out/list_formats"
formats=$("$out/list_formats" | sed -n 's/^trace //p')
bench_formats=$("$out/list_formats" | sed -n 's/^bench //p')

# The trace readers (workloads/trace*.c): one target per format.
for f in $formats; do
    # shellcheck disable=SC2086 # cflags is a list of flags, the sources globs
    "$cc" $cflags -I"$src" -DFUZZ_FORMAT_NAME="\"$f\"" \
        "$src/tests/fuzz_traces.c" $trace_src $base_src -lcsv -ljson-c -lm \
        -o "$out/fuzz_traces_$f"
done
for f in $formats; do
    # shellcheck disable=SC2046 # seed folders have no spaces
    fuzz "fuzz_traces_$f" 65536 $(seeds "$src/tests/fuzz_corpus" "$f")
done

# The spec and scenario parsers: one more target.
# shellcheck disable=SC2086
"$cc" $cflags -I"$src" \
    "$src/tests/fuzz_specs.c" "$src/sim/base/dist.c" "$src/sim/base/spec.c" "$src/sim/base/csvin.c" \
    "$src/sim/base/util.c" "$src/sim/base/spool.c" "$src/sim/base/rng.c" "$src/sim/plan/scenario.c" "$src/workloads/arrival.c" \
    "$src/workloads/reqsrc.c" "$src/workloads/prefix.c" $trace_src \
    -lcsv -ljson-c -linih -lgsl -lgslcblas -lm -o "$out/fuzz_specs"
fuzz fuzz_specs 4096 "$src/tests/fuzz_corpus_specs"

# The benchmark result readers (models/bench*.c): one target per format.
for f in $bench_formats; do
    # shellcheck disable=SC2086
    "$cc" $cflags -I"$src" -DFUZZ_FORMAT_NAME="\"$f\"" \
        "$src/tests/fuzz_bench.c" $bench_src $base_src -lcsv -ljson-c -lm \
        -o "$out/fuzz_bench_$f"
done
for f in $bench_formats; do
    # shellcheck disable=SC2046
    fuzz "fuzz_bench_$f" 65536 $(seeds "$src/tests/fuzz_corpus_bench" "$f")
done
exit $status
