#!/bin/sh
# run_fuzz.sh BUILD_DIR [SECONDS]
#
# Builds one libFuzzer target per trace format (tests/fuzz_traces.c with
# -DFUZZ_FORMAT=TRACE_<FORMAT>, plus auto-detection) with clang, AddressSanitizer and
# UndefinedBehaviorSanitizer into BUILD_DIR, then runs each for SECONDS (default 20) on
# its seed corpus in tests/fuzz_corpus/<format> (auto gets every format's seeds). Inputs
# the fuzzer finds go to BUILD_DIR/corpus_<format>, so the source tree is not written.
# Also builds and runs tests/fuzz_specs.c (the spec and scenario parsers).
# The fuzzer seed is FUZZ_SEED (default 1), so a CI run is repeatable.
# Exits non-zero if a target fails to build or any run finds a crash, leak, timeout or
# sanitizer report; the log of each run is BUILD_DIR/fuzz_<format>.log.
#
# Self-contained: it compiles only workloads/traces.c, sim/csvin.c and sim/util.c, so it
# does not need the CMake build. Debian 12 packages: clang (14, with
# libclang-rt-14-dev for libFuzzer), libcsv-dev, libjson-c-dev, and libgsl-dev (for
# headers that workloads/reqsrc.h includes; nothing links GSL).
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

mkdir -p "$out"
for f in $formats; do
    upper=$(echo "$f" | tr 'a-z' 'A-Z')
    "$cc" -std=c11 -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
        -I"$src" -DFUZZ_FORMAT="TRACE_$upper" \
        "$src/tests/fuzz_traces.c" "$src/workloads/traces.c" "$src/sim/csvin.c" \
        "$src/sim/util.c" -lcsv -ljson-c -lm -o "$out/fuzz_traces_$f"
done

status=0
for f in $formats; do
    mkdir -p "$out/corpus_$f"
    if [ "$f" = auto ]; then
        seeds=$(for d in "$src"/tests/fuzz_corpus/*/; do printf '%s ' "$d"; done)
    else
        seeds="$src/tests/fuzz_corpus/$f"
    fi
    # shellcheck disable=SC2086 # seeds is a list of directories without spaces
    if "$out/fuzz_traces_$f" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -timeout=20 -rss_limit_mb=2048 \
        -max_len=65536 -print_final_stats=1 -artifact_prefix="$out/crash_${f}_" \
        "$out/corpus_$f" $seeds >"$out/fuzz_$f.log" 2>&1; then
        runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz_$f.log")
        echo "fuzz_traces_$f: ok, ${runs:-?} runs in ${secs} s"
    else
        echo "fuzz_traces_$f: FAILED (log: $out/fuzz_$f.log)" >&2
        tail -n 40 "$out/fuzz_$f.log" >&2
        status=1
    fi
done

# The spec and scenario parsers: one more target.
"$cc" -std=c11 -g -O1 -fno-omit-frame-pointer \
    -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -I"$src" \
    "$src/tests/fuzz_specs.c" "$src/sim/dist.c" "$src/sim/spec.c" "$src/sim/csvin.c" \
    "$src/sim/util.c" "$src/sim/rng.c" "$src/sim/scenario.c" "$src/workloads/arrival.c" \
    "$src/workloads/reqsrc.c" "$src/workloads/traces.c" \
    -lcsv -ljson-c -linih -lgsl -lgslcblas -lm -o "$out/fuzz_specs"
mkdir -p "$out/corpus_specs"
if "$out/fuzz_specs" -max_total_time="$secs" -seed="${FUZZ_SEED:-1}" -timeout=20 -rss_limit_mb=2048 -max_len=4096 \
    -print_final_stats=1 -artifact_prefix="$out/crash_specs_" "$out/corpus_specs" \
    "$src/tests/fuzz_corpus_specs" >"$out/fuzz_specs.log" 2>&1; then
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$out/fuzz_specs.log")
    echo "fuzz_specs: ok, ${runs:-?} runs in ${secs} s"
else
    echo "fuzz_specs: FAILED (log: $out/fuzz_specs.log)" >&2
    tail -n 40 "$out/fuzz_specs.log" >&2
    status=1
fi
exit $status
