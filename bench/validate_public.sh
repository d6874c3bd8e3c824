#!/bin/sh
# validate_public.sh: capsim's error against public serving measurements.
#
# For every row of tests/fixtures/validation/public_serving.csv (see the README
# next to it) capsim predicts the measured figure, and the table shows measured,
# predicted and the signed error; then the median |error| of each metric. This is
# done twice, under the BEFORE and the AFTER step-time model, whose capsim flags
# are the two variables below (or the environment variables of the same name).
#
# How a row is predicted:
#   static_batch rows       capsim estimate with --batch = concurrency: e2e is the
#                           prefill of the whole batch plus its decode steps (what
#                           vLLM's benchmark_latency measures), ttft the prefill,
#                           tpot the mean decode step
#   closed_loop rows        capsim run, closed loop: `concurrency` users, no think
#                           time, fixed lengths, seed $SEED, $REPLICATIONS
#                           replications; ttft is the mean TTFT, output_throughput
#                           the output tokens/s, tpot the mean TPOT. The serving
#                           TPOT includes the prefill chunks that share decode
#                           steps, as the measured ITL/TPOT does.
#   every tpot row also     capsim estimate alone (column "step", median line
#                           "tpot:step"): the mean decode step at batch =
#                           concurrency, context input to input + output (mean
#                           near input + output/2), without prefill interference
# A row capsim cannot price under a setting (e.g. no kernel tables for its GPU)
# prints n/a with capsim's message and is left out of that setting's medians.
#
# usage: bench/validate_public.sh [CAPSIM] [FIXTURE]
# The output is deterministic: estimate has no randomness and runs use fixed seeds.

: "${BEFORE_FLAGS=--stack splitwise-2023}"
: "${AFTER_FLAGS=}"
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
# Fields may be quoted and hold commas (capsim quotes distribution specs and
# notes), so each line is split by a small quote-aware scanner.
csv_field() {
    awk -v name="$2" '
        function split_csv(line, out,    n, i, ch, field, quoted) {
            n = 0; field = ""; quoted = 0
            for (i = 1; i <= length(line); i++) {
                ch = substr(line, i, 1)
                if (quoted) {
                    if (ch == "\"" && substr(line, i + 1, 1) == "\"") { field = field ch; i++ }
                    else if (ch == "\"") quoted = 0
                    else field = field ch
                } else if (ch == "\"") quoted = 1
                else if (ch == ",") { out[++n] = field; field = "" }
                else field = field ch
            }
            out[++n] = field
            return n
        }
        NR == 1 { n = split_csv($0, head); for (i = 1; i <= n; i++) if (head[i] == name) c = i; next }
        NR == 2 && c { split_csv($0, row); print row[c]; exit }' "$1"
}

# na_reason: "n/a: " and the gist of capsim's message, kept to one short line.
na_reason() {
    printf 'n/a: %s\n' "$(head -n 1 "$work/err" | sed -e 's/^capsim [a-z]*: //' -e 's/ (.*//')"
}

# The row variables (model, gpu, tp, prec, kv, conc, isl, osl, metric) are set by
# the main loop; kv 'auto' leaves capsim's 16-bit default.
kv_flag() { [ "$kv" = auto ] || echo "--kv-precision $kv"; }

# by_estimate FLAGS COLUMN: one static batch priced by capsim estimate; prints
# COLUMN of its CSV (ms or tok/s), or "n/a: reason".
by_estimate() {
    # shellcheck disable=SC2046,SC2086 # the flag strings are lists of words
    if ! "$capsim" estimate --model "$model" --gpu "$gpu" --tp "$tp" --precision "$prec" \
        $(kv_flag) --batch "$conc" --prompt "$isl" --output "$osl" --format csv $1 \
        >"$work/est.csv" 2>"$work/err"; then
        na_reason
        return
    fi
    csv_field "$work/est.csv" "$2"
}

# by_run FLAGS COLUMN: a closed-loop run at the row's concurrency; prints COLUMN
# of its summary.csv, or "n/a: reason".
by_run() {
    requests=$((conc * 20))
    [ "$requests" -ge 100 ] || requests=100
    rm -rf "$work/run"
    # shellcheck disable=SC2046,SC2086
    if ! "$capsim" run --model "$model" --gpu "$gpu" --tp "$tp" --precision "$prec" $(kv_flag) \
        --users "$conc" --think det:value=0 --prompt-len "fixed:value=$isl" \
        --output-len "fixed:value=$osl" --requests "$requests" \
        --replications "$REPLICATIONS" --seed "$SEED" --out "$work/run" $1 \
        >/dev/null 2>"$work/err"; then
        na_reason
        return
    fi
    csv_field "$work/run/summary.csv" "$2"
}

# predict FLAGS: the prediction for the row's metric and workload.
predict() {
    if [ "$workload" = static_batch ]; then
        case $metric in
        tpot) by_estimate "$1" tpot_ms ;;
        e2e) by_estimate "$1" e2el_ms ;;
        ttft) by_estimate "$1" ttft_ms ;;
        output_throughput) by_estimate "$1" output_throughput ;;
        esac
        return
    fi
    case $metric in
    tpot) by_run "$1" mean_tpot_ms ;;
    ttft) by_run "$1" mean_ttft_ms ;;
    output_throughput) by_run "$1" output_throughput ;;
    e2e) by_run "$1" mean_e2el_ms ;;
    esac
}

# error_pct PREDICTED MEASURED: the signed relative error in percent.
error_pct() { awk -v p="$1" -v m="$2" 'BEGIN { printf "%+.1f", (p - m) / m * 100 }'; }

# one_row FLAGS: the table line of one row; appends "metric error" lines to
# $work/errors for the medians.
one_row() {
    measured=$value
    [ "$unit" = s ] && measured=$(awk -v v="$value" 'BEGIN { printf "%.6g", v * 1000 }')
    predicted=$(predict "$1")
    case $predicted in
    n/a*)
        printf '%-28s %-17s %10s  %s\n' "$id" "$metric" "$measured" "$predicted"
        return ;;
    esac
    err=$(error_pct "$predicted" "$measured")
    echo "$metric $err" >>"$work/errors"
    step="-"
    step_err="-"
    if [ "$metric" = tpot ]; then
        step=$(by_estimate "$1" tpot_ms)
        case $step in
        n/a*) step="n/a" ;;
        *)
            step_err=$(error_pct "$step" "$measured")
            echo "tpot:step $step_err" >>"$work/errors"
            step=$(printf '%.5g' "$step") ;;
        esac
    fi
    printf '%-28s %-17s %10.5g %10.5g %8s %10s %8s\n' "$id" "$metric" "$measured" "$predicted" \
        "$err" "$step" "$step_err"
}

# print_medians SETTING: the median |error| of each metric in $work/errors.
print_medians() {
    for m in tpot tpot:step ttft output_throughput e2e; do
        total=$(tail -n +2 "$fixture" | awk -F, -v m="${m%%:*}" '$13 == m' | wc -l)
        [ "$total" -gt 0 ] || continue
        awk -v m="$m" -v total="$total" -v setting="$1" '
            $1 == m { v[n++] = $2 < 0 ? -$2 : $2 }
            END {
                for (i = 1; i < n; i++) for (j = i; j > 0 && v[j-1] > v[j]; j--) {
                    t = v[j]; v[j] = v[j-1]; v[j-1] = t }
                if (n == 0) { printf "median %-17s %-6s n/a (0/%d priced)\n", m, setting, total; exit }
                med = n % 2 ? v[(n-1)/2] : (v[n/2-1] + v[n/2]) / 2
                printf "median %-17s %-6s %6.1f%% (%d/%d priced)\n", m, setting, med, n, total
            }' "$work/errors"
    done
}

# one_setting NAME FLAGS: the table and the medians of one setting.
one_setting() {
    echo "== $1: capsim flags '${2}' (runs: seed $SEED, $REPLICATIONS replications)"
    printf '%-28s %-17s %10s %10s %8s %10s %8s\n' row metric measured predicted error% \
        step step_err%
    : >"$work/errors"
    tail -n +2 "$fixture" >"$work/rows"
    # engine, version and the source and notes (rest) are not needed to price a row
    while IFS=, read -r id _ _ gpu tp model prec kv workload conc isl osl metric value unit \
        _; do
        one_row "$2" </dev/null
    done <"$work/rows"
    echo "-- $1: median |error| per metric (rows priced / rows)"
    print_medians "$1"
    echo
}

one_setting BEFORE "$BEFORE_FLAGS"
one_setting AFTER "$AFTER_FLAGS"
