#!/bin/sh
# Checks the validation fixture of public serving measurements
# (tests/fixtures/validation/public_serving.csv) and that bench/validate_public.sh
# runs on it: every row parses, names a GPU and a model capsim knows, a known
# workload, metric and unit, a positive value, a source and quoted notes; the tool
# then prints a median line per metric for both settings. No error target is
# asserted here: the tool reports capsim's error, it does not judge it.
# usage: test_validation_fixture.sh PATH/TO/capsim SOURCE_DIR
capsim=$1
src=$2
fixture=$src/tests/fixtures/validation/public_serving.csv
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

header='source_id,engine,engine_version,gpu,tp,model,precision,kv_precision,workload,concurrency,input_tokens,output_tokens,metric,value,unit,source,notes'
[ "$(head -n 1 "$fixture")" = "$header" ] || bad "header is not: $header"

"$capsim" list gpus | awk 'NR > 1 && NF > 3 { print $1 }' >"$tmp/gpus"
"$capsim" list models | awk 'NR > 1 && NF > 3 { print $1 }' >"$tmp/models"
if [ ! -s "$tmp/gpus" ] || [ ! -s "$tmp/models" ]; then bad "capsim list printed no catalog"; fi

# is_count X: X is a positive whole number.
is_count() { case $1 in '' | *[!0-9]* | 0*) return 1 ;; esac; }

rows=0
line=1
tail -n +2 "$fixture" >"$tmp/rows"
while IFS= read -r row; do
    line=$((line + 1))
    rows=$((rows + 1))
    # The first sixteen fields hold no commas or quotes; the notes are one quoted field.
    plain=$(printf '%s\n' "$row" | cut -d, -f1-16)
    notes=$(printf '%s\n' "$row" | cut -d, -f17-)
    case $plain in *'"'*) bad "line $line: a quote before the notes column" ;; esac
    case $notes in '"'?*'"') ;; *) bad "line $line: notes missing or not one quoted field" ;; esac
    IFS=, read -r id engine version gpu tp model prec kv workload conc isl osl metric value unit source <<EOF
$plain
EOF
    for f in "$id" "$engine" "$version" "$source"; do
        [ -n "$f" ] || bad "line $line: an empty field among id, engine, version, source"
    done
    case $source in http://* | https://* | *@*:*) ;; *) bad "line $line: source '$source' is not a URL or repo@commit:path" ;; esac
    grep -qx -- "$gpu" "$tmp/gpus" || bad "line $line: GPU '$gpu' not in capsim list gpus"
    grep -qx -- "$model" "$tmp/models" || bad "line $line: model '$model' not in capsim list models"
    for n in "$tp" "$conc" "$isl" "$osl"; do
        is_count "$n" || bad "line $line: '$n' is not a positive count (tp, concurrency, input, output)"
    done
    case $prec in bf16 | fp16 | fp8 | int8 | int4) ;; *) bad "line $line: precision '$prec'" ;; esac
    case $kv in auto | bf16 | fp16 | fp8 | int8) ;; *) bad "line $line: kv_precision '$kv'" ;; esac
    case $workload in closed_loop | static_batch) ;; *) bad "line $line: workload '$workload'" ;; esac
    case $metric:$unit in tpot:ms | ttft:ms | e2e:ms | e2e:s | output_throughput:tok/s) ;;
    *) bad "line $line: metric and unit '$metric' '$unit'" ;; esac
    awk -v v="$value" 'BEGIN { exit !(v ~ /^[0-9]+(\.[0-9]+)?$/ && v + 0 > 0) }' ||
        bad "line $line: value '$value' is not a positive number"
    echo "$id" >>"$tmp/ids"
done <"$tmp/rows"
[ "$rows" -ge 15 ] || bad "only $rows rows"
dups=$(sort "$tmp/ids" | uniq -d)
[ -z "$dups" ] || bad "duplicate source_id: $dups"

"$src/bench/validate_public.sh" "$capsim" "$fixture" >"$tmp/out" 2>"$tmp/err" ||
    bad "validate_public.sh failed: $(cat "$tmp/err")"
for setting in BEFORE AFTER; do
    cut -d, -f13 "$tmp/rows" | sort -u >"$tmp/metrics"
    while IFS= read -r metric; do
        grep -Eq "^median $metric +$setting +([0-9.]+%|n/a)" "$tmp/out" ||
            bad "no median line for $metric under $setting"
    done <"$tmp/metrics"
    grep -Eq "^median tpot +$setting +[0-9.]+%" "$tmp/out" || bad "no per-token median under $setting"
done
# Same input, same output: estimate is exact and the runs use fixed seeds.
"$src/bench/validate_public.sh" "$capsim" "$fixture" >"$tmp/out2" 2>/dev/null
cmp -s "$tmp/out" "$tmp/out2" || bad "two runs of validate_public.sh differ"

if [ "$fail" -ne 0 ]; then
    echo "$fail check(s) failed"
    exit 1
fi
echo "validation fixture: $rows rows checked; validate_public.sh ran"
grep '^median' "$tmp/out"
