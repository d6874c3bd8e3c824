#!/bin/sh
# validate_public.sh: capsim's error against public serving measurements.
#
# For every row of tests/fixtures/validation/public_serving.csv (see the README
# next to it) capsim predicts the measured figure, and the table shows measured,
# predicted and the signed error; then the median |error| of each metric. This is
# done twice, under the BEFORE and the AFTER step-time model, whose capsim flags
# are the two variables below (or the environment variables of the same name).
#
# How each metric is predicted:
#   tpot (TPOT or ITL)      capsim estimate: the mean decode step of a batch of
#                           `concurrency` requests, input + output tokens each (the
#                           context runs from input to input + output, so the mean
#                           step sits near input + output/2)
#   e2e  (static batch)     capsim estimate: prefill of the whole batch plus the
#                           decode steps (what vLLM's benchmark_latency measures)
#   ttft, output_throughput capsim run, closed loop: `concurrency` users, no think
#                           time, fixed lengths, seed $SEED, $REPLICATIONS
#                           replications (mean TTFT and output tokens/s); a static
#                           batch row uses estimate instead
# A row capsim cannot price under a setting (e.g. no kernel tables for its GPU)
# prints n/a with capsim's message and is left out of that setting's medians.
#
# usage: bench/validate_public.sh [CAPSIM] [FIXTURE]
# The output is deterministic: estimate has no randomness and runs use fixed seeds.

: "${BEFORE_FLAGS=}"
: "${AFTER_FLAGS=--step-model kernels}"
SEED=1
REPLICATIONS=3

here=$(cd "$(dirname "$0")" && pwd)
capsim=${1:-$here/../build/capsim}
fixture=${2:-$here/../tests/fixtures/validation/public_serving.csv}
[ -x "$capsim" ] || { echo "validate_public: no capsim at $capsim" >&2; exit 2; }
[ -r "$fixture" ] || { echo "validate_public: cannot read $fixture" >&2; exit 2; }

work=$(mktemp -d) || exit 2
trap 'rm -rf "$work"' EXIT INT TERM

# csv_field FILE NAME: the value of column NAME in the first data row of FILE.
csv_field() {
    awk -F, -v name="$2" 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == name) c = i; next }
                          NR == 2 && c { print $c; exit }' "$1"
}

# na_reason: "n/a: " and the gist of capsim's message, kept to one short line.
na_reason() {
    printf 'n/a: %s\n' "$(head -n 1 "$work/err" | sed -e 's/^capsim [a-z]*: //' -e 's/ (.*//')"
}

# predict FLAGS: prints the prediction (ms or tok/s) for the row in the row
# variables, or "n/a: reason"; the row variables are set by the main loop.
predict() {
    flags=$1
    kvflag=""
    [ "$kv" = auto ] || kvflag="--kv-precision $kv"
    if [ "$metric" = tpot ] || [ "$metric" = e2e ] || [ "$workload" = static_batch ]; then
        # shellcheck disable=SC2086 # the flag strings are lists of words
        if ! "$capsim" estimate --model "$model" --gpu "$gpu" --tp "$tp" --precision "$prec" \
            $kvflag --batch "$conc" --prompt "$isl" --output "$osl" --format csv $flags \
            >"$work/est.csv" 2>"$work/err"; then
            na_reason
            return
        fi
        case $metric in
        tpot) csv_field "$work/est.csv" tpot_ms ;;
        e2e) csv_field "$work/est.csv" e2el_ms ;;
        ttft) csv_field "$work/est.csv" ttft_ms ;;
        output_throughput) csv_field "$work/est.csv" output_throughput ;;
        esac
        return
    fi
    requests=$((conc * 20))
    [ "$requests" -ge 100 ] || requests=100
    rm -rf "$work/run"
    # shellcheck disable=SC2086
    if ! "$capsim" run --model "$model" --gpu "$gpu" --tp "$tp" --precision "$prec" $kvflag \
        --users "$conc" --think det:value=0 --prompt-len "fixed:value=$isl" \
        --output-len "fixed:value=$osl" --requests "$requests" \
        --replications "$REPLICATIONS" --seed "$SEED" --out "$work/run" $flags \
        >/dev/null 2>"$work/err"; then
        na_reason
        return
    fi
    case $metric in
    ttft) csv_field "$work/run/summary.csv" mean_ttft_ms ;;
    output_throughput) csv_field "$work/run/summary.csv" output_throughput ;;
    esac
}

# one_setting NAME FLAGS: the table and the medians of one setting.
one_setting() {
    echo "== $1: capsim flags '${2}' (runs: seed $SEED, $REPLICATIONS replications)"
    printf '%-26s %-17s %11s %11s %8s\n' row metric measured predicted error%
    : >"$work/errors"
    tail -n +2 "$fixture" | while IFS=, read -r id engine version gpu tp model prec kv workload \
        conc isl osl metric value unit rest; do
        measured=$value
        [ "$unit" = s ] && measured=$(awk -v v="$value" 'BEGIN { printf "%.6g", v * 1000 }')
        predicted=$(predict "$2")
        case $predicted in
        n/a*)
            printf '%-26s %-17s %11s %11s\n' "$id" "$metric" "$measured" "$predicted"
            continue ;;
        esac
        err=$(awk -v p="$predicted" -v m="$measured" 'BEGIN { printf "%+.1f", (p - m) / m * 100 }')
        printf '%-26s %-17s %11.5g %11.5g %8s\n' "$id" "$metric" "$measured" "$predicted" "$err"
        echo "$metric $err" >>"$work/errors"
    done
    echo "-- $1: median |error| per metric (rows priced / rows)"
    for m in tpot ttft output_throughput e2e; do
        total=$(tail -n +2 "$fixture" | awk -F, -v m="$m" '$13 == m' | wc -l)
        [ "$total" -gt 0 ] || continue
        awk -v m="$m" -v total="$total" -v setting="$1" '
            $1 == m { e = $2 < 0 ? -$2 : $2; v[n++] = e }
            END {
                for (i = 1; i < n; i++) for (j = i; j > 0 && v[j-1] > v[j]; j--) {
                    t = v[j]; v[j] = v[j-1]; v[j-1] = t }
                if (n == 0) { printf "median %-17s %-6s n/a (0/%d priced)\n", m, setting, total; exit }
                med = n % 2 ? v[(n-1)/2] : (v[n/2-1] + v[n/2]) / 2
                printf "median %-17s %-6s %6.1f%% (%d/%d priced)\n", m, setting, med, n, total
            }' "$work/errors"
    done
    echo
}

one_setting BEFORE "$BEFORE_FLAGS"
one_setting AFTER "$AFTER_FLAGS"
