#!/usr/bin/env bash
# End-to-end checks of the capsim command line: help, exit codes and one-line messages for
# bad input, nothing written on failure, byte-identical output for the same seed.
# usage: test_cli.sh PATH/TO/capsim SOURCE_DIR
set -u
capsim="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
# Commands draw their plots after writing results; these tests check the results, and the
# plot cases below turn plotting back on where they check it.
export CAPSIM_PLOTS=off
pass=0
fail=0

ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# expect_status CODE DESCRIPTION -- command...   (stderr captured in $tmp/err)
expect_status() {
  local want="$1" what="$2"; shift 3
  "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -eq "$want" ]; then ok; else bad "$what: exit $got, expected $want; stderr: $(cat "$tmp/err")"; fi
}

# expect_usage_error DESCRIPTION 'text1' 'text2' ... -- args...: exit 2, exactly one stderr
# line, which contains every text.
expect_usage_error() {
  local what="$1"; shift
  local texts=()
  while [ "$1" != "--" ]; do texts+=("$1"); shift; done
  shift
  "$capsim" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  [ "$got" -eq 2 ] || { bad "$what: exit $got, expected 2"; return; }
  local lines
  lines=$(wc -l <"$tmp/err")
  [ "$lines" -eq 1 ] || { bad "$what: $lines lines on stderr, expected 1: $(cat "$tmp/err")"; return; }
  for t in "${texts[@]}"; do
    grep -qF -- "$t" "$tmp/err" || { bad "$what: message lacks '$t': $(cat "$tmp/err")"; return; }
  done
  ok
}

# --- help on every command
expect_status 0 "capsim --help" -- "$capsim" --help
grep -q "usage: capsim" "$tmp/out" && ok || bad "capsim --help prints usage"
expect_status 0 "queue --help" -- "$capsim" queue --help
grep -q -- "--servers" "$tmp/out" && ok || bad "queue --help lists --servers"
expect_status 0 "validate --help" -- "$capsim" validate --help
# every command has --help, exits 0 and prints a usage line
for c in run queue validate list estimate fit sweep merge capacity workload plot demo calibrate; do
  "$capsim" "$c" --help >"$tmp/out" 2>&1 && head -3 "$tmp/out" | grep -q "capsim $c" && ok || bad "$c --help"
done
expect_status 2 "no command" -- "$capsim"
expect_status 2 "unknown command" -- "$capsim" frobnicate

# --- bad options and specs: status 2 and one line naming option, value and expected form
expect_usage_error "negative rate" "--arrival" "rate" "-1" "gamma:rate=R,cv=C" -- queue --arrival gamma:rate=-1,cv=1
expect_usage_error "non-number mean" "--service" "abc" "exp:mean=M" -- queue --service exp:mean=abc
expect_usage_error "unknown distribution" "--service" "weibull" "expected one of" -- queue --service weibull:shape=2
expect_usage_error "unknown arrival" "--arrival" "burst" "poisson" -- queue --arrival burst:rate=1
expect_usage_error "missing key" "--service" "cv" "lognormal:mean=M,cv=C" -- queue --service lognormal:mean=1
expect_usage_error "unknown key" "--service" "scale" -- queue --service exp:mean=1,scale=2
expect_usage_error "no parameters" "--arrival" "poisson" -- queue --arrival poisson
expect_usage_error "servers zero" "--servers" "'0'" "whole number" -- queue --servers 0
expect_usage_error "servers text" "--servers" "'abc'" -- queue --servers abc
expect_usage_error "customers negative" "--customers" "'-5'" -- queue --customers -5
expect_usage_error "warmup 1" "--warmup" "'1'" "[0, 1)" -- queue --warmup 1
expect_usage_error "seed text" "--seed" "'x1'" -- queue --seed x1
expect_usage_error "missing value" "--servers" "needs a value" -- queue --servers
expect_usage_error "unknown option" "--bogus" "unknown option" -- queue --bogus
expect_usage_error "two scenario files" "unexpected argument" "b.ini" -- queue a.ini b.ini
expect_usage_error "missing scenario file" "nosuch.ini" "cannot open" -- queue "$tmp/nosuch.ini"
expect_usage_error "capacity below servers" "--capacity" "--servers" -- queue --servers 4 --capacity 2
expect_usage_error "validate bad scale" "--scale" -- validate --scale 0
expect_usage_error "validate unknown case" "no case matches" -- validate --case nosuchqueue

# rho >= 1 without a capacity is refused, unless asked for
expect_usage_error "unstable" "offered load" "2" "--allow-unstable" -- queue --arrival poisson:rate=2 --service exp:mean=1
expect_status 0 "unstable allowed" -- "$capsim" queue --arrival poisson:rate=2 --allow-unstable --customers 2000 --replications 2
expect_status 0 "overload with capacity is stable" -- "$capsim" queue --arrival poisson:rate=2 --capacity 5 --customers 2000 --replications 2

# empirical service times: a bad row names file and line
printf 'service_s\n1.0\n2.5\nfast\n' >"$tmp/svc.csv"
expect_usage_error "empirical bad row" "svc.csv:4" "column 1" "fast" -- queue --service "empirical:file=$tmp/svc.csv"
expect_usage_error "empirical missing file" "nosuch.csv" -- queue --service "empirical:file=$tmp/nosuch.csv"
printf 'service_s\r\n0.5\r\n1.5\r\n' >"$tmp/svc2.csv"
expect_status 0 "empirical ok" -- "$capsim" queue --service "empirical:file=$tmp/svc2.csv" --arrival poisson:rate=0.5 --customers 5000 --replications 3
grep -q "mean 1 s" "$tmp/out" && ok || bad "empirical mean is 1 s: $(grep service "$tmp/out")"

# --- nothing written on failure
expect_status 2 "bad spec with --out" -- "$capsim" queue --service exp:mean=abc --out "$tmp/never"
[ ! -e "$tmp/never" ] && ok || bad "--out directory created by a failed run"
mkdir -p "$tmp/keep" && echo old >"$tmp/keep/summary.csv"
expect_status 2 "failure keeps old output" -- "$capsim" queue --servers 0 --out "$tmp/keep"
[ "$(cat "$tmp/keep/summary.csv")" = old ] && ok || bad "old summary.csv overwritten by a failed run"
[ -z "$(ls -A "$tmp/keep" | grep -v '^summary.csv$')" ] && ok || bad "stray files left in --out: $(ls -A "$tmp/keep")"

# --- outputs: columns, determinism, seeds
run() { "$capsim" queue --arrival gamma:rate=1.5,cv=1.5 --service lognormal:mean=1,cv=0.8 --servers 2 \
          --customers 20000 --replications 4 "$@" >/dev/null 2>"$tmp/err"; }
run --seed 7 --out "$tmp/a" && ok || bad "run a: $(cat "$tmp/err")"
run --seed 7 --out "$tmp/b" && ok || bad "run b"
run --seed 8 --out "$tmp/c" && ok || bad "run c"
cmp -s "$tmp/a/summary.csv" "$tmp/b/summary.csv" && ok || bad "same seed gives different summary.csv"
cmp -s "$tmp/a/seeds.csv" "$tmp/b/seeds.csv" && ok || bad "same seed gives different seeds.csv"
cmp -s "$tmp/a/summary.csv" "$tmp/c/summary.csv" && bad "different seeds give identical summary.csv" || ok
header="$(head -n 1 "$tmp/a/summary.csv")"
for col in mean_wait p50_wait p90_wait p99_wait prob_wait mean_sojourn utilization blocked_fraction throughput; do
  echo ",$header," | grep -q ",$col," && echo ",$header," | grep -q ",${col}_ci95," && ok || bad "summary.csv lacks $col or ${col}_ci95"
done
echo ",$header," | grep -q ",seed," && ok || bad "summary.csv lacks the seed"
[ "$(wc -l <"$tmp/a/summary.csv")" -eq 2 ] && ok || bad "summary.csv should have a header and one row"
[ "$(wc -l <"$tmp/a/seeds.csv")" -eq 9 ] && ok || bad "seeds.csv should list 4 replications x 2 sources"
ls -A "$tmp/a" | grep -q tmp && bad "temporary files left in --out" || ok

# --- scenario files: reproduce a run byte for byte; flags win; bad lines named
cp "$tmp/a/scenario.ini" "$tmp/a.ini"
"$capsim" queue "$tmp/a.ini" --out "$tmp/d" >/dev/null 2>&1 && ok || bad "run from scenario.ini"
cmp -s "$tmp/a/summary.csv" "$tmp/d/summary.csv" && ok || bad "scenario.ini does not reproduce summary.csv"
cmp -s "$tmp/a/scenario.ini" "$tmp/d/scenario.ini" && ok || bad "scenario.ini not stable"
"$capsim" queue "$tmp/a.ini" --servers 3 --out "$tmp/e" >/dev/null 2>&1 && ok || bad "scenario plus flag"
grep -qx "servers = 3" "$tmp/e/scenario.ini" && ok || bad "a flag does not override the scenario file"
grep -qx "customers = 20000" "$tmp/e/scenario.ini" && ok || bad "scenario value lost when a flag is given"
printf '[queue]\nservers = 2\nreplications = many\n' >"$tmp/bad1.ini"
expect_usage_error "bad value in scenario" "bad1.ini:3" "replications" "'many'" -- queue "$tmp/bad1.ini"
printf '[queue]\n; comment\nspeed = 2\n' >"$tmp/bad2.ini"
expect_usage_error "unknown key in scenario" "bad2.ini:3" "unknown key 'speed'" -- queue "$tmp/bad2.ini"
printf '[run]\nservers = 2\n' >"$tmp/bad3.ini"
expect_usage_error "wrong section" "bad3.ini:2" "[queue]" -- queue "$tmp/bad3.ini"
printf '[queue]\nthis is not ini\n' >"$tmp/bad4.ini"
expect_usage_error "not ini" "bad4.ini:2" -- queue "$tmp/bad4.ini"
printf '[queue]\nservice = exp:mean=abc\n' >"$tmp/bad5.ini"
expect_usage_error "bad spec in scenario" "--service" "abc" -- queue "$tmp/bad5.ini"

# --- catalogs and estimates
expect_status 0 "list models" -- "$capsim" list models
grep -q "^llama-3.1-8b " "$tmp/out" && ok || bad "list models lacks llama-3.1-8b"
expect_status 0 "list gpus" -- "$capsim" list gpus
grep -q "^h100-sxm " "$tmp/out" && ok || bad "list gpus lacks h100-sxm"
expect_status 0 "list precisions" -- "$capsim" list precisions
grep -q "^int4 " "$tmp/out" && ok || bad "list precisions lacks int4"
expect_usage_error "list what" "expected models, gpus, precisions or stacks" -- list bogus
expect_status 0 "estimate --help" -- "$capsim" estimate --help
expect_usage_error "unknown model" "--model 'gpt-9'" "llama-3.1-8b" -- estimate --model gpt-9 --gpu h100-sxm
expect_usage_error "unknown gpu" "--gpu 'tpu9'" "h100-sxm" -- estimate --model llama-3.1-8b --gpu tpu9
expect_usage_error "bad precision" "--precision 'fp4'" -- estimate --model llama-3.1-8b --gpu h100-sxm --precision fp4
expect_usage_error "no fit" "llama-3.1-70b at fp16 needs 141.1 GB of weights" "1 x h100-sxm" "--tp 2" -- estimate --model llama-3.1-70b --gpu h100-sxm --precision fp16
expect_usage_error "bad tp split" "--tp 3" "heads" -- estimate --model llama-3.1-8b --gpu h100-sxm --tp 3
# csv_field FILE COLUMN: the value of COLUMN in the one data row of a two-line CSV
csv_field() { awk -F, -v c="$2" 'NR==1{for(i=1;i<=NF;i++) if($i==c) k=i} NR==2{print $k}' "$1"; }
"$capsim" estimate --model llama-3.2-1b --gpu h100-sxm --prompt 100 --output 64 --format csv >"$tmp/e1.csv" && ok || bad "estimate 1b"
"$capsim" estimate --model mistral-large-2407 --gpu h100-sxm --tp 4 --prompt 100 --output 64 --format csv >"$tmp/e100.csv" && ok || bad "estimate ~100b"
for col in ttft_ms tpot_ms e2el_ms output_throughput max_batch bound; do
  [ -n "$(csv_field "$tmp/e1.csv" $col)" ] && ok || bad "estimate csv lacks $col"
done
# The seed's story: a ~1B model answers a short question in a few hundred ms, a ~100B one in seconds.
awk -v x="$(csv_field "$tmp/e1.csv" e2el_ms)" 'BEGIN{exit !(x > 50 && x < 500)}' && ok || bad "1B end-to-end not in (50, 500) ms"
awk -v x="$(csv_field "$tmp/e100.csv" e2el_ms)" 'BEGIN{exit !(x > 1500 && x < 5000)}' && ok || bad "~100B end-to-end not in (1.5, 5) s"
[ "$(csv_field "$tmp/e100.csv" decode_bound)" != compute ] && ok || bad "~100B decode should not be compute-bound"
# Quantisation moves fewer bytes: int4 decodes faster than bf16 on the same GPU.
"$capsim" estimate --model llama-3.1-70b --gpu h100-sxm --tp 2 --format csv >"$tmp/b16.csv" && ok || bad "70b bf16"
"$capsim" estimate --model llama-3.1-70b --gpu h100-sxm --tp 2 --precision int4 --format csv >"$tmp/i4.csv" && ok || bad "70b int4"
awk -v a="$(csv_field "$tmp/i4.csv" tpot_ms)" -v b="$(csv_field "$tmp/b16.csv" tpot_ms)" 'BEGIN{exit !(a < b)}' && ok || bad "int4 TPOT not below bf16"
# Without tensor cores prefill is slower.
"$capsim" estimate --model llama-3.1-8b --gpu a100-80gb --prompt 2048 --tensor-cores off --format csv >"$tmp/notc.csv" && ok || bad "no tc"
"$capsim" estimate --model llama-3.1-8b --gpu a100-80gb --prompt 2048 --format csv >"$tmp/tc.csv" && ok || bad "tc"
awk -v a="$(csv_field "$tmp/notc.csv" ttft_ms)" -v b="$(csv_field "$tmp/tc.csv" ttft_ms)" 'BEGIN{exit !(a > 2 * b)}' && ok || bad "TTFT without tensor cores not > 2x"
"$capsim" estimate --model llama-3.1-8b --gpu a100-80gb --precision fp8 >"$tmp/out" 2>&1 && ok || bad "fp8 on a100"
grep -q "no fp8 tensor path" "$tmp/out" && ok || bad "fp8 on A100 does not say it falls back"
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --step-model linear:a=0.01,b=0.001 --format csv >"$tmp/lin.csv" && ok || bad "linear step model"
awk -v x="$(csv_field "$tmp/lin.csv" tpot_ms)" 'BEGIN{exit !(x > 10.999 && x < 11.001)}' && ok || bad "linear TPOT should be 11 ms"
"$capsim" estimate --model "$src/models/configs/Qwen2.5-7B-Instruct.json" --gpu l4 --format csv >"$tmp/hf.csv" && ok || bad "estimate from config.json"

# --- fit
expect_usage_error "fit needs data" "--data" -- fit --gpu h100-sxm
expect_usage_error "fit missing file" "nosuch.csv" -- fit --data "$tmp/nosuch.csv" --gpu h100-sxm
splitwise="$src/models/profiles/splitwise/splitwise-perf_model.csv"
if [ -f "$splitwise" ]; then
  "$capsim" fit --data "$splitwise" --gpu h100-sxm --out "$tmp/prof.csv" --points "$tmp/pts.csv" >"$tmp/out" 2>&1 && ok || bad "fit: $(cat "$tmp/out")"
  head -n 1 "$tmp/prof.csv" | grep -q "^gpu,mfu,mbu" && ok || bad "profile header"
  [ "$(wc -l <"$tmp/pts.csv")" -gt 100 ] && ok || bad "points table too short"
  "$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --profile "$tmp/prof.csv" --format csv >/dev/null && ok || bad "estimate with a fitted profile"
else
  bad "Splitwise data missing at $splitwise"
fi

# --- run: the serving simulation
expect_status 0 "run --help" -- "$capsim" run --help
grep -q -- "--max-num-seqs" "$tmp/out" && ok || bad "run --help lists --max-num-seqs"
runargs=(--model llama-3.1-8b --gpu h100-sxm --arrival poisson:rate=8 --requests 300 --replications 3 --slo ttft_p99=0.5,tpot_p99=0.05)
"$capsim" run "${runargs[@]}" --per-request --out "$tmp/r1" >"$tmp/out" 2>&1 && ok || bad "run: $(cat "$tmp/out")"
for f in summary.csv seeds.csv scenario.ini timeseries.csv requests.csv; do
  [ -s "$tmp/r1/$f" ] && ok || bad "run did not write $f"
done
header="$(head -n 1 "$tmp/r1/summary.csv")"
for col in request_throughput output_throughput mean_ttft_ms p99_ttft_ms mean_tpot_ms p99_tpot_ms mean_itl_ms p99_itl_ms mean_e2el_ms p99_e2el_ms goodput slo_attainment_pct; do
  echo ",$header," | grep -q ",$col," && echo ",$header," | grep -q ",${col}_ci95," && ok || bad "run summary lacks $col or ${col}_ci95"
done
# 3 replications x (300 - 30 warm-up) measured requests, plus the header
[ "$(wc -l <"$tmp/r1/requests.csv")" -eq 811 ] && ok || bad "requests.csv rows: $(wc -l <"$tmp/r1/requests.csv")"
grep -q "Little's law: .*agree" "$tmp/out" && ok || bad "run does not report Little's law agreeing"
"$capsim" run "$tmp/r1/scenario.ini" --out "$tmp/r2" >/dev/null 2>&1 && ok || bad "run from scenario.ini"
cmp -s "$tmp/r1/summary.csv" "$tmp/r2/summary.csv" && ok || bad "scenario.ini does not reproduce summary.csv"
cmp -s "$tmp/r1/requests.csv" "$tmp/r2/requests.csv" && ok || bad "scenario.ini does not reproduce requests.csv"
cmp -s "$tmp/r1/timeseries.csv" "$tmp/r2/timeseries.csv" && ok || bad "scenario.ini does not reproduce timeseries.csv"
"$capsim" run "${runargs[@]}" --seed 2 --out "$tmp/r3" >/dev/null 2>&1 && ok || bad "run seed 2"
cmp -s "$tmp/r1/summary.csv" "$tmp/r3/summary.csv" && bad "different seeds give the same summary" || ok
# flags win over the scenario file
"$capsim" run "$tmp/r1/scenario.ini" --replicas 2 --router jsq --out "$tmp/r4" >/dev/null 2>&1 && ok || bad "scenario + flags"
grep -qx "replicas = 2" "$tmp/r4/scenario.ini" && grep -qx "requests = 300" "$tmp/r4/scenario.ini" && ok || bad "flags do not win over scenario"
# a trace
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,10\n0.5,200,20\n1.0,50,5\n' >"$tmp/trace.csv"
"$capsim" run --model llama-3.2-1b --gpu l4 --trace "$tmp/trace.csv" --requests 0 --replications 2 --warmup 0 --per-request --out "$tmp/t1" >/dev/null 2>&1 && ok || bad "run a trace"
[ "$(wc -l <"$tmp/t1/requests.csv")" -eq 7 ] && ok || bad "trace: 2 x 3 requests expected"
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,10\n0.5,-3,20\n' >"$tmp/badtrace.csv"
expect_usage_error "bad trace row" "badtrace.csv:3" "prompt_tokens" "'-3'" -- run --model llama-3.2-1b --gpu l4 --trace "$tmp/badtrace.csv" --requests 0
printf 'arrival_s,prompt_tokens,output_tokens\n1,100,10\n0.5,30,20\n' >"$tmp/unordered.csv"
expect_usage_error "unordered trace, strict" "unordered.csv:3" -- run --model llama-3.2-1b --gpu l4 --trace "$tmp/unordered.csv" --requests 0 --strict-order on
expect_status 0 "unordered trace is reordered" -- "$capsim" run --model llama-3.2-1b --gpu l4 --trace "$tmp/unordered.csv" --requests 0 --replications 2 --warmup 0
grep -q "out of time order and have been sorted" "$tmp/err" && ok || bad "no warning for reordered rows"
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,10\n1,x,3\n2,50,5\n' >"$tmp/badrow.csv"
expect_status 0 "skip bad rows in a run" -- "$capsim" run --model llama-3.2-1b --gpu l4 --trace "$tmp/badrow.csv" --requests 0 --replications 2 --warmup 0 --skip-bad-rows on
grep -q "1 malformed trace rows skipped; the first: .*badrow.csv:3:2" "$tmp/err" && ok || bad "skipped rows not reported: $(cat "$tmp/err")"
printf 'time,prompt\n1,100\n' >"$tmp/wrong.csv"
expect_usage_error "unknown trace header" "wrong.csv:1" "unrecognised trace header" "arrival_s" -- run --model llama-3.2-1b --gpu l4 --trace "$tmp/wrong.csv"

# --- workload describe / generate
expect_status 0 "workload --help" -- "$capsim" workload --help
"$capsim" workload describe "$src/workloads/traces/AzureLLMInferenceTrace_conv.csv" >"$tmp/out" 2>&1 && ok || bad "describe azure conv"
grep -Eq "^  requests +19366$" "$tmp/out" && ok || bad "azure conv: 19366 requests expected"
grep -q "3501.722 s" "$tmp/out" && ok || bad "azure conv: 3501.722 s span expected"
grep -Eq "^  prompt +1154.70 +1020.0 .* 4142.0 " "$tmp/out" && ok || bad "azure conv prompt stats: $(grep prompt "$tmp/out")"
grep -Eq "^  output +211.13 +129.0 .* 601.0 " "$tmp/out" && ok || bad "azure conv output stats: $(grep output "$tmp/out")"
mooncake="$src/workloads/traces/mooncake/conversation_trace.jsonl"
"$capsim" workload describe "$mooncake" >"$tmp/out" 2>&1 && ok || bad "describe mooncake"
grep -Eq "^  requests +12031$" "$tmp/out" && ok || bad "mooncake: 12031 requests expected"
grep -Eq "^  prompt +12035.06 +6909.0 +27367.0 +85400.4 " "$tmp/out" && ok || bad "mooncake prompt stats: $(grep prompt "$tmp/out")"
"$capsim" workload generate poisson:rate=5 --requests 100 --seed 3 --out "$tmp/g1.csv" >/dev/null && ok || bad "generate"
"$capsim" workload generate poisson:rate=5 --requests 100 --seed 3 --out "$tmp/g2.csv" >/dev/null && ok || bad "generate again"
cmp -s "$tmp/g1.csv" "$tmp/g2.csv" && ok || bad "generate: same seed, different bytes"
"$capsim" workload generate poisson:rate=5 --requests 100 --seed 4 --out "$tmp/g3.csv" >/dev/null && ok || bad "generate seed 4"
cmp -s "$tmp/g1.csv" "$tmp/g3.csv" && bad "generate: different seeds, same bytes" || ok
[ "$(wc -l <"$tmp/g1.csv")" -eq 101 ] && ok || bad "generated trace should have 100 rows"
"$capsim" workload describe "$tmp/g1.csv" >"$tmp/out" 2>&1 && grep -q "format capsim" "$tmp/out" && ok || bad "describe a generated trace"
"$capsim" workload generate "$src/workloads/chatbot.ini" --requests 50 --out "$tmp/g4.csv" >/dev/null && ok || bad "generate from a workload file"
# What the intervals cover: replications of a trace replay the same requests, so their
# interval measures the step-time noise only; --trace-resample block:SECONDS resamples the
# trace per replication (same seed, same bytes; replications differ; the rate is kept).
az="$src/workloads/traces/AzureLLMInferenceTrace_conv.csv"
ci_covers() { python3 -c 'import csv,sys; print(next(csv.DictReader(open(sys.argv[1])))["ci_covers"])' "$1"; }
"$capsim" run --model llama-3.2-1b --gpu l4 --trace "$az" --requests 600 --replications 3 --out "$tmp/rs0" >"$tmp/out" 2>&1 && ok || bad "trace replay: $(cat "$tmp/out")"
[ "$(ci_covers "$tmp/rs0/summary.csv")" = "step-time noise" ] && ok || bad "a replayed trace's ci_covers is step-time noise: $(ci_covers "$tmp/rs0/summary.csv")"
grep -q "cover: step-time noise (every replication replays the same requests; --trace-resample" "$tmp/out" && ok || bad "the printed summary says what a replayed trace's intervals cover"
for d in rs1 rs2; do
  "$capsim" run --model llama-3.2-1b --gpu l4 --trace "$az" --requests 600 --replications 3 --trace-resample block:30 --per-request --sample-interval 0 --out "$tmp/$d" >"$tmp/out" 2>&1 && ok || bad "run --trace-resample: $(cat "$tmp/out")"
done
cmp -s "$tmp/rs1/requests.csv" "$tmp/rs2/requests.csv" && cmp -s "$tmp/rs1/summary.csv" "$tmp/rs2/summary.csv" && ok || bad "--trace-resample: the same seed writes the same bytes"
[ "$(ci_covers "$tmp/rs1/summary.csv")" = "trace blocks and step-time noise" ] && ok || bad "a resampled trace's ci_covers: $(ci_covers "$tmp/rs1/summary.csv")"
python3 - "$tmp/rs1/requests.csv" "$tmp/rs0/summary.csv" "$tmp/rs1/summary.csv" <<'PY' && ok || bad "--trace-resample: replications differ and keep the rate"
import csv, sys
from collections import defaultdict
reps = defaultdict(list)
for r in csv.DictReader(open(sys.argv[1])):
    reps[r["replication"]].append((r["arrival_s"], r["prompt_tokens"]))
assert len(reps) == 3 and len({tuple(v) for v in reps.values()}) == 3, "replications are alike"
plain = next(csv.DictReader(open(sys.argv[2])))
res = next(csv.DictReader(open(sys.argv[3])))
assert float(plain["request_throughput_ci95"]) < float(res["request_throughput_ci95"])
assert abs(float(res["request_throughput"]) / float(plain["request_throughput"]) - 1) < 0.2
PY
expect_usage_error "resample without a trace" "--trace-resample" -- run --model llama-3.2-1b --gpu l4 --trace-resample block:30
expect_usage_error "resample, bad form" "block:SECONDS" -- run --model llama-3.2-1b --gpu l4 --trace "$az" --trace-resample 30

# lengths from a trace: joint pairs keep prompt and output together, marginals do not
printf 'arrival_s,prompt_tokens,output_tokens\n0,100,1\n1,200,2\n2,300,3\n' >"$tmp/pairs.csv"
"$capsim" workload generate poisson:rate=5 --lengths-from "$tmp/pairs.csv" --requests 300 --out "$tmp/gj.csv" >/dev/null && ok || bad "generate with joint lengths"
[ "$(awk -F, 'NR>1 && $2 != $3*100' "$tmp/gj.csv" | wc -l)" -eq 0 ] && ok || bad "joint lengths split a pair"
"$capsim" workload generate poisson:rate=5 --lengths-from "$tmp/pairs.csv" --lengths-joint off --requests 300 --out "$tmp/gm.csv" >/dev/null && ok || bad "generate with marginal lengths"
[ "$(awk -F, 'NR>1 && $2 != $3*100' "$tmp/gm.csv" | wc -l)" -gt 100 ] && ok || bad "marginal lengths should mix pairs"
"$capsim" run --model llama-3.2-1b --gpu l4 --lengths-from "$src/workloads/traces/AzureLLMInferenceTrace_code.csv" --requests 200 --replications 2 >/dev/null 2>&1 && ok || bad "run with --lengths-from"
expect_usage_error "generate without out" "--out" -- workload generate poisson:rate=1
expect_usage_error "describe nothing" "no such file" -- workload describe nosuchfile
expect_usage_error "workload verb" "describe" -- workload frob
printf 'TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46.6805900,374,44\n2023-11-16 18:15:50.9951690,0,109\n' >"$tmp/az0.csv"
expect_usage_error "zero tokens" "az0.csv:3" "ContextTokens" -- workload describe "$tmp/az0.csv"
"$capsim" workload describe "$tmp/az0.csv" --skip-bad-rows >"$tmp/out" 2>&1 && grep -q "1 malformed" "$tmp/out" && ok || bad "skip-bad-rows: $(cat "$tmp/out")"
# the same seed gives the same requests from a generated trace as from the synthetic run
"$capsim" run --model llama-3.2-1b --gpu l4 --arrival poisson:rate=5 --requests 100 --seed 3 --replications 1 --warmup 0 --per-request --sample-interval 0 --out "$tmp/s1" >/dev/null 2>&1 && ok || bad "synthetic run"
"$capsim" run --model llama-3.2-1b --gpu l4 --trace "$tmp/g1.csv" --requests 0 --seed 3 --replications 1 --warmup 0 --per-request --sample-interval 0 --out "$tmp/s2" >/dev/null 2>&1 && ok || bad "trace run"
cmp -s <(sort "$tmp/s1/requests.csv") <(sort "$tmp/s2/requests.csv") && ok || bad "a generated trace does not replay as the synthetic run"
# impossible configurations: status 2, the knob and its bound, nothing in --out
expect_usage_error "max-num-seqs 0" "--max-num-seqs '0'" "from 1" -- run --model llama-3.1-8b --gpu h100-sxm --max-num-seqs 0 --out "$tmp/never2"
[ ! -e "$tmp/never2" ] && ok || bad "failed run left --out behind"
expect_usage_error "budget below a block" "--max-batched-tokens '8'" "16" -- run --model llama-3.1-8b --gpu h100-sxm --max-batched-tokens 8
expect_usage_error "unknown SLO metric" "--slo" "'foo_p99'" -- run --model llama-3.1-8b --gpu h100-sxm --slo foo_p99=1
expect_usage_error "model does not fit" "needs 141.1 GB" "--tp 2" -- run --model llama-3.1-70b --gpu h100-sxm --precision fp16
expect_usage_error "bad router" "--router 'fastest'" -- run --model llama-3.1-8b --gpu h100-sxm --router fastest
expect_usage_error "bad scheduler" "--scheduler 'lazy'" -- run --model llama-3.1-8b --gpu h100-sxm --scheduler lazy
expect_usage_error "bad prompt-len" "--prompt-len" "lognormal:mean=M,cv=C" -- run --model llama-3.1-8b --gpu h100-sxm --prompt-len lognormal:mean=5
"$capsim" run --model llama-3.2-1b --gpu l4 --users 8 --think exp:mean=1 --requests 200 --replications 2 >"$tmp/out" 2>&1 && ok || bad "closed loop run: $(cat "$tmp/out")"
grep -q "closed loop, 8 users" "$tmp/out" && ok || bad "closed loop not described"
expect_usage_error "users and trace" "--users and --trace" -- run --model llama-3.2-1b --gpu l4 --users 2 --trace "$tmp/trace.csv"
expect_usage_error "bad think" "--think" "exp:mean=M" -- run --model llama-3.2-1b --gpu l4 --users 2 --think exp:mean=-1
# request classes: shares, per-class lengths and SLOs, reproduced from scenario.ini
printf '[workload]\narrival = poisson:rate=2\nrequests = 2000\nclasses = chat:0.7,document:0.3\nslo = ttft_p99=0.5\n[class.chat]\nprompt_len = fixed:value=500\n[class.document]\nprompt_len = fixed:value=5000\nslo = ttft_p99=5\n' >"$tmp/mix.ini"
"$capsim" run "$tmp/mix.ini" --model llama-3.2-1b --gpu h100-sxm --replications 2 --per-request --out "$tmp/m1" >"$tmp/out" 2>&1 && ok || bad "run with classes: $(cat "$tmp/out")"
grep -q "class chat" "$tmp/out" && grep -q "class document" "$tmp/out" && ok || bad "per-class lines missing"
awk -F, 'NR>1{n[$3]++; if (($3==0 && $5!=500) || ($3==1 && $5!=5000)) bad++} END{f=n[0]/(n[0]+n[1]); exit !(bad==0 && f>0.65 && f<0.75)}' "$tmp/m1/requests.csv" && ok || bad "class shares or per-class lengths wrong"
head -n 1 "$tmp/m1/summary.csv" | grep -q "class_document_slo_attainment_pct" && ok || bad "summary lacks per-class columns"
"$capsim" run "$tmp/m1/scenario.ini" --out "$tmp/m2" >/dev/null 2>&1 && cmp -s "$tmp/m1/summary.csv" "$tmp/m2/summary.csv" && ok || bad "classes not reproduced from scenario.ini"
printf '[workload]\nclasses = chat:1\n[class.other]\nprompt_len = fixed:value=5\n' >"$tmp/mix2.ini"
expect_usage_error "unknown class section" "class.other" "no such class" -- run "$tmp/mix2.ini" --model llama-3.2-1b --gpu l4
expect_usage_error "bad class share" "--classes" "share of 'chat'" -- run --model llama-3.2-1b --gpu l4 --classes chat:0
# --- sweep and merge: rows independent of --jobs and of sharding; rows for points that cannot run
sweep=(--model llama-3.2-1b --gpu l4 --requests 200 --replications 2 --sweep rate=2:6:2 --sweep precision=bf16,fp8)
"$capsim" sweep "${sweep[@]}" --jobs 1 --out "$tmp/w1" >/dev/null 2>&1 && ok || bad "sweep jobs 1"
"$capsim" sweep "${sweep[@]}" --jobs 2 --out "$tmp/w2" >/dev/null 2>&1 && ok || bad "sweep jobs 2"
cmp -s "$tmp/w1/summary.csv" "$tmp/w2/summary.csv" && ok || bad "sweep rows depend on --jobs"
[ "$(wc -l <"$tmp/w1/summary.csv")" -eq 7 ] && ok || bad "sweep should have 6 points"
"$capsim" sweep "${sweep[@]}" --shard 1/2 --out "$tmp/s1" >/dev/null 2>&1 && ok || bad "shard 1/2"
"$capsim" sweep "${sweep[@]}" --shard 2/2 --out "$tmp/s2" >/dev/null 2>&1 && ok || bad "shard 2/2"
"$capsim" merge --out "$tmp/sm" "$tmp/s2" "$tmp/s1" >/dev/null 2>&1 && ok || bad "merge"
cmp -s "$tmp/w1/summary.csv" "$tmp/sm/summary.csv" && ok || bad "sharded + merged differs from unsharded"
expect_usage_error "merge twice" "both hold point" -- merge --out "$tmp/sm2" "$tmp/s1" "$tmp/s1"
"$capsim" sweep --model llama-3.1-70b --gpu h100-sxm --precision fp16 --requests 50 --replications 2 --sweep tp=1,2 --out "$tmp/w3" >/dev/null 2>&1 && ok || bad "sweep with an infeasible point"
grep -q '^0,error,"llama-3.1-70b at fp16 needs' "$tmp/w3/summary.csv" && grep -q "^1,ok," "$tmp/w3/summary.csv" && ok || bad "infeasible point not reported as a row"
expect_usage_error "sweep bad axis" "'colour'" -- sweep --model llama-3.2-1b --gpu l4 --sweep colour=red --out "$tmp/w4"
expect_usage_error "sweep bad range" "first:last:step" -- sweep --model llama-3.2-1b --gpu l4 --sweep rate=5:1:1 --out "$tmp/w4"
expect_usage_error "sweep needs out" "--out" -- sweep --model llama-3.2-1b --gpu l4 --sweep rate=1,2
expect_usage_error "tiny sample interval" "--sample-interval" "0.001" -- run --model llama-3.2-1b --gpu l4 --sample-interval 1e-20
"$capsim" workload generate poisson:rate=50 --requests 2500 --out "$tmp/big.csv" >/dev/null && ok || bad "generate 2500"
"$capsim" run --model llama-3.2-1b --gpu h100-sxm --trace "$tmp/big.csv" --replications 2 >"$tmp/out" 2>&1 && grep -q "x 2500 requests" "$tmp/out" && ok || bad "a trace is read whole by default: $(grep requests "$tmp/out" | head -2)"
"$capsim" workload describe "$src/workloads/api.ini" --requests 10 >"$tmp/out" 2>&1 && grep -Eq "^  requests +10$" "$tmp/out" && ok || bad "describe: flags should win over the workload file"
expect_usage_error "describe classes" "classes" -- workload describe "$tmp/mix.ini"
# --- capacity in the queueing mode: the fewest servers agrees with Erlang C
for args in "10 0.1 0.25" "4 0.5 0.08"; do
  set -- $args
  "$capsim" capacity servers --arrival poisson:rate=$1 --service exp:mean=1 --wait-t $2 --max-prob $3 --customers 50000 >"$tmp/out" 2>&1 && ok || bad "capacity servers $args"
  sim_c=$(sed -n 's/^  answer: \([0-9]*\) servers.*/\1/p' "$tmp/out")
  exact_c=$(sed -n 's/^  Erlang C (exact for M\/M\/c): \([0-9]*\) servers/\1/p' "$tmp/out")
  [ -n "$sim_c" ] && [ "$sim_c" = "$exact_c" ] && ok || bad "capacity $args: simulated '$sim_c' vs Erlang C '$exact_c'"
done
set -- "$capsim"
expect_usage_error "capacity what" "servers, rate, replicas or deploy" -- capacity fastest
expect_usage_error "capacity rate needs an SLO" "--slo" -- capacity rate --model llama-3.2-1b --gpu l4
expect_usage_error "capacity replicas needs a rate" "--rate" -- capacity replicas --model llama-3.2-1b --gpu l4 --slo ttft_p99=1
expect_usage_error "capacity rate refuses a closed loop" "--users" -- capacity rate --model llama-3.2-1b --gpu l4 --slo ttft_p99=1 --users 4
expect_usage_error "capacity needs two replications" "--replications 1" -- capacity rate --model llama-3.2-1b --gpu l4 --slo ttft_p99=1 --replications 1

# --- capacity on the serving model: a confirming run at the reported rate meets the SLOs,
# and one at the rate reported as failing, a little above, does not.
cap=(--model llama-3.1-8b --gpu h100-sxm --slo ttft_p99=0.5,tpot_p99=0.05 --replications 10 --requests 8000)
"$capsim" capacity rate "${cap[@]}" --out "$tmp/cap" >"$tmp/out" 2>&1 && ok || bad "capacity rate: $(tail -3 "$tmp/out")"
meets=$(awk -F, 'NR == 2 { print $1 }' "$tmp/cap/capacity.csv")
est=$(awk -F, 'NR == 2 { print $2 }' "$tmp/cap/capacity.csv")
fails=$(awk -F, 'NR == 2 { print $3 }' "$tmp/cap/capacity.csv")
awk -v m="$meets" -v e="$est" -v f="$fails" 'BEGIN { exit !(m > 0 && m <= e && e <= f && f <= 1.35 * m) }' \
  && ok || bad "capacity rate: meets $meets <= estimate $est <= fails $fails <= 1.35 x meets"
"$capsim" run "${cap[@]}" --arrival "poisson:rate=$meets" >"$tmp/out" 2>&1
[ "$(grep -c 'SLO .*: met' "$tmp/out")" -eq 2 ] && ok || bad "a run at the capacity rate $meets meets both SLOs: $(grep SLO "$tmp/out")"
"$capsim" run "${cap[@]}" --arrival "poisson:rate=$fails" >"$tmp/out" 2>&1
grep -q 'NOT met' "$tmp/out" && ok || bad "a run at the failing rate $fails misses an SLO: $(grep SLO "$tmp/out")"
# The search's own record of the confirming rate is the run's figure, to the digit.
want=$(awk -F, -v m="$meets" '$2 == m && $4 == "p99_ttft_ms" { print $5 }' "$tmp/cap/search.csv")
"$capsim" run "${cap[@]}" --arrival "poisson:rate=$meets" --out "$tmp/cap-run" >/dev/null 2>&1
col=$(head -1 "$tmp/cap-run/summary.csv" | tr ',' '\n' | grep -nx p99_ttft_ms | cut -d: -f1)
got=$(python3 -c "import csv,sys; r=list(csv.reader(open(sys.argv[1]))); print(r[1][int(sys.argv[2])-1])" "$tmp/cap-run/summary.csv" "$col" 2>/dev/null)
[ -n "$want" ] && [ "$want" = "$got" ] && ok || bad "search.csv p99 TTFT at $meets ('$want') equals the confirming run's ('$got')"
# replicas: the answer meets, one fewer does not
"$capsim" capacity replicas "${cap[@]}" --rate 30 --out "$tmp/rep" >"$tmp/out" 2>&1 && ok || bad "capacity replicas: $(tail -3 "$tmp/out")"
n=$(sed -n 's/^  answer: \([0-9]*\) replica.*/\1/p' "$tmp/out")
[ -n "$n" ] && [ "$n" -gt 1 ] && ok || bad "capacity replicas answer '$n'"
awk -F, -v n="$n" '$2 == n && $3 != "meets" { bad = 1 } $2 == n - 1 && $3 == "meets" { bad = 1 }
  $2 == n { seen = 1 } $2 == n - 1 { below = 1 } END { exit bad || !seen || !below }' "$tmp/rep/replicas.csv" \
  && ok || bad "replicas.csv: $n meets and $((n - 1)) does not"
# deploy: candidates that cannot fit are rows with the reason; one cheapest among the feasible
"$capsim" capacity deploy --model llama-3.1-8b --gpus l4,h100-sxm --precisions bf16,int4 --tps 1 \
  --slo ttft_p99=1,tpot_p99=0.1 --rate 20 --requests 2000 --replications 4 --jobs 2 --out "$tmp/dep" >"$tmp/out" 2>&1 && ok || bad "capacity deploy: $(tail -3 "$tmp/out")"
[ "$(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "cheapest") c = i } NR > 1 && $c == 1' "$tmp/dep/frontier.csv" | wc -l)" -eq 1 ] && ok || bad "deploy: exactly one cheapest"
[ "$(wc -l <"$tmp/dep/frontier.csv")" -eq 5 ] && ok || bad "deploy: 4 candidates in frontier.csv"
"$capsim" capacity deploy --model llama-3.1-8b --gpus l4,h100-sxm --precisions bf16,int4 --tps 1 \
  --slo ttft_p99=1,tpot_p99=0.1 --rate 20 --requests 2000 --replications 4 --jobs 1 --out "$tmp/dep1" >/dev/null 2>&1
cmp -s "$tmp/dep/frontier.csv" "$tmp/dep1/frontier.csv" && ok || bad "deploy: the same frontier.csv with --jobs 1 and 2"
expect_usage_error "capacity missing" "--max-prob" -- capacity servers --arrival poisson:rate=1 --service exp:mean=1
# --- a run with --out draws its plots unless CAPSIM_PLOTS=off
if command -v gnuplot >/dev/null; then
  CAPSIM_PLOTS=on "$capsim" run --model llama-3.2-1b --gpu h100-sxm --arrival poisson:rate=20 --requests 300 \
    --replications 2 --out "$tmp/rplot" >"$tmp/out" 2>&1 && ok || bad "run with plots: $(tail -2 "$tmp/out")"
  [ "$(head -c 4 "$tmp/rplot/plots/timeseries.png" | od -An -c | tr -d ' ')" = '211PNG' ] && grep -q "plots: $tmp/rplot/plots/" "$tmp/out" \
    && ok || bad "run --out draws plots/timeseries.png and says so"
fi
# --- the queueing mode's load curve lies on the exact M/M/2 curve
"$capsim" queue --arrival poisson:rate=1 --service exp:mean=1 --servers 2 --load 0.2:0.8:0.3 \
  --customers 50000 --out "$tmp/ql" >/dev/null 2>&1 && ok || bad "queue --load"
awk -F, 'NR > 1 { n++; d = $3 - $7; if (d < 0) d = -d; if (d > 4 * $4 || $7 == "") bad = 1
  d = $5 - $8; if (d < 0) d = -d; if (d > 4 * $6 + 0.01 * $8) bad = 1 }
  END { exit bad || n != 3 }' "$tmp/ql/load.csv" && ok || bad "load.csv agrees with Erlang C: $(cat "$tmp/ql/load.csv")"
expect_usage_error "load beyond 1" "--load" "below 1" -- queue --load 0.5:1.2:0.1
expect_usage_error "two targets for one figure" "--slo" "two targets for ttft" -- run --model llama-3.2-1b --gpu l4 --slo ttft_p99=0.05,ttft_p50=10
expect_usage_error "demo checks its GPUs first" "--larger-gpu" "'nosuch'" -- demo --larger-gpu nosuch --out "$tmp/demo-bad"
[ ! -e "$tmp/demo-bad" ] && ok || bad "a refused demo leaves no folder"
expect_usage_error "load curve checks capacity" "--capacity 2" -- queue --servers 4 --capacity 2 --load 0.1:0.5:0.2
expect_usage_error "load curve needs a rate" "--load" "rate=" -- queue --arrival mmpp:rate_on=2,rate_off=1,mean_on=1,mean_off=1 --load 0.1:0.5:0.2
expect_usage_error "validate needs out" "--out" -- calibrate --data "$tmp/x.csv" --model llama-3.2-1b --gpu l4 --validate
printf '[run]\nmodel = llama-3.1-8b\nbogus = 1\n' >"$tmp/bad.ini"
expect_usage_error "unknown scenario key" "bad.ini:3" "bogus" -- run "$tmp/bad.ini"

# --- capsim plot: help, a missing folder, a sweep drawn, and the same without gnuplot
expect_status 0 "plot --help" -- "$capsim" plot --help
expect_usage_error "plot a missing folder" "/nonexistent" -- plot /nonexistent
"$capsim" sweep --model llama-3.2-1b --gpu h100-sxm --requests 200 --replications 2 --sweep rate=5,20 \
  --out "$tmp/plotsw" >"$tmp/out" 2>&1 && ok || bad "sweep for plot: $(tail -3 "$tmp/out")"
expect_status 0 "plot a sweep" -- "$capsim" plot "$tmp/plotsw"
[ -s "$tmp/plotsw/plots/latency_vs_load.gp" ] && ok || bad "plot writes plots/latency_vs_load.gp"
if command -v gnuplot >/dev/null; then
  [ "$(head -c 8 "$tmp/plotsw/plots/latency_vs_load.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] \
    && ok || bad "plot draws plots/latency_vs_load.png (PNG magic bytes)"
fi
# Without gnuplot on PATH: still status 0, the scripts written, and one line saying so.
mkdir -p "$tmp/no-gnuplot-bin" "$tmp/plotsw-nognu"
cp "$tmp/plotsw/summary.csv" "$tmp/plotsw-nognu/"
capsim_abs="$(cd "$(dirname "$capsim")" && pwd)/$(basename "$capsim")"
PATH="$tmp/no-gnuplot-bin" "$capsim_abs" plot "$tmp/plotsw-nognu" >"$tmp/out" 2>&1
got=$?
[ "$got" -eq 0 ] && ok || bad "plot without gnuplot: exit $got, expected 0"
[ "$(wc -l <"$tmp/out")" -eq 1 ] && grep -q gnuplot "$tmp/out" && ok \
  || bad "plot without gnuplot prints one line about gnuplot: $(cat "$tmp/out")"
[ -s "$tmp/plotsw-nognu/plots/latency_vs_load.gp" ] && [ -s "$tmp/plotsw-nognu/plots/latency_vs_load.dat" ] \
  && [ ! -e "$tmp/plotsw-nognu/plots/latency_vs_load.png" ] && ok || bad "plot without gnuplot writes the .gp and .dat only"

# a resampling block as long as the trace would replay the same requests every time
"$capsim" run --model llama-3.1-8b --gpu h100-sxm --trace "$src/workloads/traces/AzureLLMInferenceTrace_conv.csv" \
  --trace-resample block:100000 --requests 100 >/dev/null 2>"$tmp/err"
got=$?
[ "$got" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "one block holds all of it" "$tmp/err" \
  && ok || bad "--trace-resample with one block is refused in one line: exit $got, $(cat "$tmp/err")"
# --mem-reserve: auto is 2 GiB (2.147483648 GB) at tp 1, and 10 GB takes exactly the KV
# blocks that 7.852516352 GB hold: llama-3.1-8b keeps 32 layers x 8 KV heads x 128 x 2 x 2
# bytes = 131072 bytes per token, 2097152 per 16-token block, so 3744 blocks fewer.
for mr in auto 2.147483648 10; do
  CAPSIM_PLOTS=off "$capsim" run --model llama-3.1-8b --gpu h100-sxm --mem-reserve "$mr" --requests 50 \
    --replications 2 --out "$tmp/mr-$mr" >/dev/null 2>&1 || bad "run --mem-reserve $mr"
done
python3 - "$tmp" <<'PY' && ok || bad "--mem-reserve changes the KV blocks by the hand-computed count"
import csv, sys
kv = {m: int(next(csv.DictReader(open(f"{sys.argv[1]}/mr-{m}/summary.csv")))["kv_blocks"])
      for m in ("auto", "2.147483648", "10")}
assert kv["auto"] == kv["2.147483648"], kv
assert kv["auto"] - kv["10"] == 3744, kv
PY
expect_status 2 "--mem-reserve -1" -- "$capsim" run --model llama-3.1-8b --gpu h100-sxm --mem-reserve -1

# --- the measured-kernel step model (opt-in): estimate says where a step's time goes, run
# uses it, GPUs without tables and MoE models are refused in one line
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --batch 40 --prompt 1000 --output 50 \
  --step-model kernels >"$tmp/ek.txt" 2>&1 || bad "estimate --step-model kernels"
for t in "measured kernels, models/kernels/h100_sxm/vllm-0.19.0" "GEMMs (QKV, O, gate/up, down)" \
         "decode attention" "outside the kernels" "roofline (same stack)" "(CUDA graph)" \
         "prefill step: GEMMs" "decode step: every kernel inside the measured tables"; do
  grep -qF "$t" "$tmp/ek.txt" && ok || bad "estimate --step-model kernels: no '$t'"
done
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --tp 2 --step-model kernels >"$tmp/ek2.txt" 2>&1 &&
  awk '$1 == "all-reduce" && $2 > 0 && $3 > 0 { f = 1 } END { exit !f }' "$tmp/ek2.txt" && ok ||
  bad "estimate --step-model kernels --tp 2: all-reduce time"
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --precision int4 --step-model kernels \
  2>&1 | grep -q "int4 weight-only GEMM kernels are not in the tables" && ok || bad "int4 note"
expect_usage_error "kernels on a GPU without tables" "no kernel tables for GPU 't4'" "h100-sxm, h200" -- \
  estimate --model llama-3.2-1b --gpu t4 --precision fp16 --step-model kernels
"$capsim" estimate --model mixtral-8x7b --gpu h100-sxm --tp 2 --step-model kernels 2>&1 |
  grep -q "MoE layer (router, experts)" && ok || bad "kernels on an MoE model: the MoE layer priced"
CAPSIM_PLOTS=off "$capsim" run --model llama-3.1-8b --gpu h100-sxm --requests 200 --replications 2 \
  --step-model kernels --out "$tmp/rk" >/dev/null 2>&1 && ok || bad "run --step-model kernels"
CAPSIM_PLOTS=off "$capsim" run --model llama-3.1-8b --gpu h100-sxm --requests 200 --replications 2 \
  --stack splitwise-2023 --out "$tmp/rr" >/dev/null 2>&1 && ok || bad "run --stack splitwise-2023"
CAPSIM_PLOTS=off "$capsim" run --model llama-3.1-8b --gpu h100-sxm --requests 200 --replications 2 \
  --out "$tmp/rd" >/dev/null 2>&1 && ok || bad "run with the default stack"
python3 - "$tmp" <<'PY' && ok || bad "the kernels (default) give a faster TPOT than the 2023 profile"
import csv, sys
rows = {m: next(csv.DictReader(open(f"{sys.argv[1]}/{m}/summary.csv"))) for m in ("rk", "rr", "rd")}
tpot = {m: float(r["mean_tpot_ms"]) for m, r in rows.items()}
assert 0 < tpot["rk"] < tpot["rr"], tpot
# the default is the measured kernels of the newest stack on the H100, named in the summary
assert tpot["rd"] == tpot["rk"], tpot
assert rows["rd"]["stack"] == rows["rd"]["stack_used"] == "vllm-0.19.0", rows["rd"]["stack"]
assert rows["rd"]["step_model"] == "kernels", rows["rd"]["step_model"]
assert rows["rd"]["step_data"] == "measured kernels, models/kernels/h100_sxm/vllm-0.19.0"
assert rows["rr"]["stack_used"] == "splitwise-2023" and rows["rr"]["step_model"] == "roofline"
assert rows["rr"]["step_data"] == "roofline, profile models/profiles/default.csv row h100-sxm"
PY
grep -q "^stack = vllm-0.19.0$" "$tmp/rd/scenario.ini" && grep -q "^step_model = kernels$" "$tmp/rd/scenario.ini" &&
  grep -q "^; Steps priced by: measured kernels, models/kernels/h100_sxm/vllm-0.19.0$" "$tmp/rd/scenario.ini" &&
  ok || bad "scenario.ini names the stack and step model as resolved"
"$capsim" list stacks >"$tmp/stacks.txt" 2>&1 || bad "list stacks"
grep -Eq "^h100-sxm +vllm-0.19.0 +kernels +vllm-0.14.0,vllm-0.19.0 " "$tmp/stacks.txt" &&
  grep -Eq "^a100-80gb +vllm-0.14.0 +kernels " "$tmp/stacks.txt" && ok || bad "list stacks: $(cat "$tmp/stacks.txt")"
# --stack: each name, the old profile one flag away, refusals in one line naming what exists
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --stack vllm-0.14 | grep -q "models/kernels/h100_sxm/vllm-0.14.0" &&
  ok || bad "--stack vllm-0.14 on h100"
"$capsim" estimate --model llama-3.1-8b --gpu a100-80gb | grep -q "stack: vllm-0.14.0" &&
  ok || bad "a100 defaults to its newest measured stack, vllm-0.14.0"
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 |
  grep -q "roofline, profile models/profiles/default.csv row h100-sxm" && ok || bad "--stack splitwise-2023"
expect_usage_error "stack not measured on the GPU" "--stack vllm-0.19: not measured on a100-80gb" "vllm-0.14.0" -- \
  estimate --model llama-3.1-8b --gpu a100-80gb --stack vllm-0.19
expect_usage_error "unknown stack" "--stack 'sglang'" "vllm-0.19, vllm-0.14, splitwise-2023" -- \
  estimate --model llama-3.1-8b --gpu h100-sxm --stack sglang
expect_usage_error "kernels of the 2023 profile" "stack splitwise-2023" "has no kernel tables" -- \
  estimate --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 --step-model kernels
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --precision int4 |
  grep -q "weight-only int8/int4 GEMMs are not in the kernel tables" && ok || bad "int4 falls back to the roofline, said"

echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
