#!/bin/sh
# run_fuzz.sh BUILD_DIR [SECONDS]
#
# Builds one libFuzzer target per trace format (tests/fuzz_traces.c with
# -DFUZZ_FORMAT=TRACE_<FORMAT>, plus auto-detection) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into BUILD_DIR, then runs each for SECONDS (default 20) on
# its seed corpus in tests/fuzz_corpus/<format> (auto gets every format's seeds). Inputs
# the fuzzer finds go to BUILD_DIR/corpus_<format>, so the source tree is not written.
# Also builds and runs tests/fuzz_specs.c (the spec and scenario parsers) and one
# tests/fuzz_bench.c target per benchmark result format (-DFUZZ_FORMAT=BENCH_<FORMAT>, plus
# auto-detection) on the seeds in tests/fuzz_corpus_bench/<format>, each for SECONDS too.
# The fuzzer seed is FUZZ_SEED (default 1), so a CI run is repeatable.
# Exits non-zero if a target fails to build or any run finds a crash, leak, timeout or
# sanitizer report; the log of each run is BUILD_DIR/<target>.log.
#
# Self-contained: it compiles only the sources each target needs (workloads/traces.c or
# models/bench.c, with sim/base/csvin.c and sim/base/util.c), so it does not need the CMake build.
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
formats="auto capsim azure burstgpt mooncake vllm"
bench_formats="auto vllm aiperf genai-perf guidellm csv"
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

# seeds CORPUS_ROOT FORMAT: the seed folders of a format (auto: every format's)
seeds() {
    if [ "$2" = auto ]; then
        for d in "$1"/*/; do printf '%s ' "$d"; done
    else
        printf '%s' "$1/$2"
    fi
}

cflags="-std=c11 -g -O1 -fno-omit-frame-pointer -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all"
mkdir -p "$out"

# The trace readers (workloads/traces.c): one target per format.
for f in $formats; do
    upper=$(echo "$f" | tr 'a-z' 'A-Z')
    # shellcheck disable=SC2086 # cflags is a list of flags
    "$cc" $cflags -I"$src" -DFUZZ_FORMAT="TRACE_$upper" \
        "$src/tests/fuzz_traces.c" "$src/workloads/traces.c" "$src/sim/base/csvin.c" \
        "$src/sim/base/util.c" -lcsv -ljson-c -lm -o "$out/fuzz_traces_$f"
done
for f in $formats; do
    # shellcheck disable=SC2046 # seed folders have no spaces
    fuzz "fuzz_traces_$f" 65536 $(seeds "$src/tests/fuzz_corpus" "$f")
done

# The spec and scenario parsers: one more target.
# shellcheck disable=SC2086
"$cc" $cflags -I"$src" \
    "$src/tests/fuzz_specs.c" "$src/sim/base/dist.c" "$src/sim/base/spec.c" "$src/sim/base/csvin.c" \
    "$src/sim/base/util.c" "$src/sim/base/rng.c" "$src/sim/plan/scenario.c" "$src/workloads/arrival.c" \
    "$src/workloads/reqsrc.c" "$src/workloads/traces.c" \
    -lcsv -ljson-c -linih -lgsl -lgslcblas -lm -o "$out/fuzz_specs"
fuzz fuzz_specs 4096 "$src/tests/fuzz_corpus_specs"

# The benchmark result readers (models/bench.c): one target per format.
for f in $bench_formats; do
    upper=$(echo "$f" | tr 'a-z-' 'A-Z_')
    # shellcheck disable=SC2086
    "$cc" $cflags -I"$src" -DFUZZ_FORMAT="BENCH_$upper" \
        "$src/tests/fuzz_bench.c" "$src/models/bench.c" "$src/sim/base/csvin.c" \
        "$src/sim/base/util.c" -lcsv -ljson-c -lm -o "$out/fuzz_bench_$f"
done
for f in $bench_formats; do
    # shellcheck disable=SC2046
    fuzz "fuzz_bench_$f" 65536 $(seeds "$src/tests/fuzz_corpus_bench" "$f")
done
exit $status
