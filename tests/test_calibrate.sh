#!/usr/bin/env bash
# capsim calibrate end to end.
#  1. Known coefficients: measurements are made by the simulator itself (closed-loop
#     benchmarks at 1, 4 and 16 users, with a profile of known coefficients and noise);
#     calibrating on them must recover every coefficient it fits within its 95% interval,
#     and the replay of the measured runs must agree with them within the noise.
#  2. The Splitwise per-step data reproduces the shipped default profile.
#  3. Bad input: one-line errors naming the file; a poor fit writes no profile.
# usage: test_calibrate.sh PATH/TO/capsim SOURCE_DIR
set -u
capsim="$1"
src="$2"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export CAPSIM_PLOTS=off
pass=0
fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# --- 1. recovering known coefficients
cat >"$tmp/truth.csv" <<'CSV'
gpu,mfu,mbu,t_fixed_ms,t_layer_ms,comm_scale,attn_scale,noise_cv,basis,source
h100-sxm,0.5,0.7,0,0.15,1,3,0.03,synthetic truth for the calibration test,tests/test_calibrate.sh
CSV
data=()
for u in 1 4 16; do
  "$capsim" run --model llama-3.1-8b --gpu h100-sxm --profile "$tmp/truth.csv" --users "$u" \
    --think exp:mean=1 --requests 800 --replications 1 --warmup 0 --per-request \
    --sample-interval 0 --seed "$u" --out "$tmp/u$u" >/dev/null 2>&1 && ok || bad "data at $u users"
  data+=(--data "$tmp/u$u/requests.csv")
done
# The truth's t_fixed is 0, as in the 2023 profile the fit starts from (it holds t_fixed).
"$capsim" calibrate "${data[@]}" --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 --validate --out "$tmp/cal" \
  >"$tmp/out" 2>&1 && ok || bad "calibrate on simulated data: $(tail -5 "$tmp/out")"
grep -q "good fit" "$tmp/out" && ok || bad "the fit on simulated data is good: $(grep -i fit "$tmp/out" | head -3)"
python3 - "$tmp/cal/coefficients.csv" <<'PY' && ok || bad "coefficients recovered: $(cat "$tmp/cal/coefficients.csv")"
import csv, sys
truth = {"mfu": 0.5, "mbu": 0.7, "t_layer_s": 0.15e-3, "attn_scale": 3.0}
rows = {r["coefficient"]: r for r in csv.DictReader(open(sys.argv[1]))}
fitted = 0
for name, want in truth.items():
    r = rows[name]
    if r["status"] != "fitted":
        continue
    fitted += 1
    lo, hi = float(r["ci95_low"]), float(r["ci95_high"])
    assert lo <= want <= hi, f"{name}: {want} not in [{lo}, {hi}]"
assert rows["mfu"]["status"] == "fitted" and rows["mbu"]["status"] == "fitted", "mfu and mbu fitted"
assert fitted >= 3, f"only {fitted} coefficients fitted"
noise = float(rows["noise_cv"]["value"])
assert rows["noise_cv"]["status"] == "fitted" and 0.015 <= noise <= 0.06, f"noise_cv {noise}"
PY
python3 - "$tmp/cal/replay.csv" <<'PY' && ok || bad "the replay agrees with the measurements: $(cat "$tmp/cal/replay.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 27, len(rows)
for r in rows:
    err = abs(float(r["error_pct"]))
    limit = 10.0 if r["figure"].startswith("p50") else 20.0 if r["figure"].startswith("p90") else 35.0
    assert err <= limit, f"{r['run']} {r['figure']}: {err:.1f}% > {limit}%"
PY
[ -s "$tmp/cal/profile.csv" ] && [ -s "$tmp/cal/fit.csv" ] && ok || bad "profile.csv and fit.csv written"
"$capsim" run --model llama-3.1-8b --gpu h100-sxm --profile "$tmp/cal/profile.csv" --requests 200 \
  --replications 2 >/dev/null 2>&1 && ok || bad "run accepts the calibrated profile"
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --profile "$tmp/cal/profile.csv" >/dev/null 2>&1 \
  && ok || bad "estimate accepts the calibrated profile"

# --- the same through vLLM's JSON, two results in one file (--append-result): closed-loop
# benchmarks at concurrency 1 and 8 without send times (the client's rule rebuilds them)
for c in 1 8; do
  "$capsim" run --model llama-3.1-8b --gpu h100-sxm --profile "$tmp/truth.csv" --users "$c" \
    --think det:value=1e-6 --requests 600 --replications 1 --warmup 0 --per-request \
    --sample-interval 0 --seed "$c" --out "$tmp/c$c" >/dev/null 2>&1 && ok || bad "data at concurrency $c"
done
python3 - "$tmp/c1/requests.csv" "$tmp/c8/requests.csv" "$tmp/c8.json" <<'PY' && ok || bad "vLLM JSON written"
import csv, json, sys
out = open(sys.argv[3], "w")
for path, conc in ((sys.argv[1], 1), (sys.argv[2], 8)):
    rows = sorted(csv.DictReader(open(path)), key=lambda r: int(r["request"]))
    res = {"date": "20261126-000000", "backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct",
           "request_rate": "inf", "burstiness": 1.0, "max_concurrency": conc, "completed": len(rows),
           "input_lens": [int(r["prompt_tokens"]) for r in rows],
           "output_lens": [int(r["output_tokens"]) for r in rows],
           "ttfts": [float(r["ttft_ms"]) / 1e3 for r in rows],
           "itls": [[float(r["tpot_ms"]) / 1e3] * (int(r["output_tokens"]) - 1) if r["tpot_ms"] else []
                    for r in rows],
           "errors": ["" for r in rows]}
    out.write(json.dumps(res) + "\n")
PY
"$capsim" calibrate --data "$tmp/c8.json" --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 --validate \
  --out "$tmp/cal8" >"$tmp/out" 2>"$tmp/err" && ok || bad "calibrate on vLLM JSON: $(tail -3 "$tmp/out") $(cat "$tmp/err")"
grep -q "good fit" "$tmp/out" && [ ! -s "$tmp/err" ] && ok || bad "vLLM JSON: a good fit, no warning: $(cat "$tmp/err")"
grep -q "closed loop at its concurrency" "$tmp/out" && ok || bad "the replay runs a closed loop"
python3 - "$tmp/cal8/coefficients.csv" "$tmp/cal8/replay.csv" <<'PY' && ok || bad "vLLM JSON: every coefficient recovered, replay within 8% at p50: $(cat "$tmp/cal8/coefficients.csv" "$tmp/cal8/replay.csv")"
import csv, sys
rows = {r["coefficient"]: r for r in csv.DictReader(open(sys.argv[1]))}
truth = {"mfu": 0.5, "mbu": 0.7, "t_layer_s": 0.15e-3, "attn_scale": 3.0}
# Without send times the timeline is rebuilt by the client's rule, which is close but not
# exact: each coefficient within its interval or within 4% of the truth.
for name, want in truth.items():
    r = rows[name]
    assert r["status"] == "fitted", r
    lo, hi, v = float(r["ci95_low"]), float(r["ci95_high"]), float(r["value"])
    assert lo <= want <= hi or abs(v / want - 1) <= 0.04, r
# The closed-loop replay draws the measured lengths at random: within 8% at the median.
for r in csv.DictReader(open(sys.argv[2])):
    if r["figure"].startswith("p50"):
        assert abs(float(r["error_pct"])) <= 8, r
PY
"$capsim" calibrate --data "$tmp/c8.json" --model llama-3.2-1b --gpu h100-sxm --out "$tmp/cal1b" \
  >/dev/null 2>"$tmp/err"
grep -q "c8.json: run .* measured model 'meta-llama/Llama-3.1-8B-Instruct', not --model llama-3.2-1b" "$tmp/err" \
  && ok || bad "a model other than the one measured is warned about: $(cat "$tmp/err")"

# The verdict reads the tails too: the p90 and p99 of the predictions, and of the replay.
grep -q "^tails, over the requests predicted:" "$tmp/out" && grep -q "p99 TPOT" "$tmp/out" \
  && ok || bad "the report shows the tails of the predictions: $(grep -A6 '^tails' "$tmp/out")"
grep -q "the p90 and p99 within" "$tmp/out" && grep -q "the replay's tails agree" "$tmp/out" \
  && ok || bad "the verdict and the replay's verdict name the tails: $(grep -i 'fit:\|tails' "$tmp/out")"

# --- runs without send times: vLLM's JSON of a Poisson benchmark written with request_rate
# inf and no start_times. capsim takes every request as sent at once; the refusal says so
# rather than blaming the model. The same run with its start_times fits.
"$capsim" run --model llama-3.1-8b --gpu h100-sxm --profile "$tmp/truth.csv" --arrival poisson:rate=8 \
  --requests 400 --replications 1 --warmup 0 --per-request --sample-interval 0 --seed 3 \
  --out "$tmp/p8" >/dev/null 2>&1 && ok || bad "data at a Poisson rate"
python3 - "$tmp/p8/requests.csv" "$tmp/inf.json" "$tmp/times.json" <<'PY' && ok || bad "vLLM JSON without send times written"
import csv, json, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: int(r["request"]))
res = {"backend": "vllm", "model_id": "meta-llama/Llama-3.1-8B-Instruct", "request_rate": "inf",
       "input_lens": [int(r["prompt_tokens"]) for r in rows],
       "output_lens": [int(r["output_tokens"]) for r in rows],
       "ttfts": [float(r["ttft_ms"]) / 1e3 for r in rows],
       "itls": [[float(r["tpot_ms"]) / 1e3] * (int(r["output_tokens"]) - 1) if r["tpot_ms"] else [] for r in rows],
       "errors": ["" for r in rows]}
open(sys.argv[2], "w").write(json.dumps(res) + "\n")
res["start_times"] = [float(r["arrival_s"]) for r in rows]
open(sys.argv[3], "w").write(json.dumps(res) + "\n")
PY
# On the measured kernels the fit is made and called poor; the verdict names the runs.
"$capsim" calibrate --data "$tmp/inf.json" --model llama-3.1-8b --gpu h100-sxm >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -ne 0 ] && grep -q "POOR FIT" "$tmp/out" && grep -q "The likely cause is the data, not the model" "$tmp/out" \
  && grep -q "no send times (no start_times) and a request rate of inf without a max_concurrency" "$tmp/out" \
  && ! grep -q "check that --model" "$tmp/out" \
  && ok || bad "a poor fit on runs without send times names them: exit $rc, $(grep -A2 'POOR FIT' "$tmp/out")"
# On the roofline the fit cannot be made at all; the refusal names them too.
"$capsim" calibrate --data "$tmp/inf.json" --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 \
  >"$tmp/out" 2>"$tmp/err"
rc=$?
[ "$rc" -ne 0 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -q "the likely cause: 1 run ('rate inf') gives no send times" "$tmp/err" \
  && ok || bad "a refused fit on runs without send times names them: exit $rc, $(cat "$tmp/err")"
"$capsim" calibrate --data "$tmp/times.json" --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 \
  >"$tmp/out" 2>"$tmp/err" && grep -q "good fit" "$tmp/out" && ! grep -q "likely cause" "$tmp/out" \
  && ok || bad "the same run with its send times fits: $(grep -i 'fit' "$tmp/out" | tail -2)"
# Tails the model does not explain: the slowest 5% of requests decode 3 times slower than
# the step times make them. The medians fit; the verdict says the p99 TPOT is off.
python3 - "$tmp/p8/requests.csv" "$tmp/tails.json" <<'PY' && ok || bad "vLLM JSON with slow tails written"
import csv, json, sys
rows = sorted(csv.DictReader(open(sys.argv[1])), key=lambda r: int(r["request"]))
tp = sorted(float(r["tpot_ms"]) for r in rows if r["tpot_ms"])
cut = tp[int(0.95 * len(tp))]
def itl(r):
    if not r["tpot_ms"]:
        return []
    t = float(r["tpot_ms"]) / 1e3 * (3 if float(r["tpot_ms"]) >= cut else 1)
    return [t] * (int(r["output_tokens"]) - 1)
res = {"backend": "vllm", "request_rate": "inf", "input_lens": [int(r["prompt_tokens"]) for r in rows],
       "output_lens": [int(r["output_tokens"]) for r in rows], "ttfts": [float(r["ttft_ms"]) / 1e3 for r in rows],
       "itls": [itl(r) for r in rows], "start_times": [float(r["arrival_s"]) for r in rows]}
open(sys.argv[2], "w").write(json.dumps(res) + "\n")
PY
"$capsim" calibrate --data "$tmp/tails.json" --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 \
  >"$tmp/out" 2>"$tmp/err"
grep -q "^TAILS OFF: the median errors are within 15% (TPOT) and 25% (TTFT), but the p99 TPOT is predicted" "$tmp/out" \
  && ! grep -q "good fit" "$tmp/out" && ok || bad "tails the model misses are called so: $(tail -2 "$tmp/out")"
# Too few usable latencies is a refusal; it names the runs without send times too.
python3 - "$tmp/inf.json" "$tmp/few.json" <<'PY'
import json, sys
res = json.loads(open(sys.argv[1]).readline())
for k in ("input_lens", "output_lens", "ttfts", "itls", "errors"):
    res[k] = res[k][:6]
open(sys.argv[2], "w").write(json.dumps(res) + "\n")
PY
"$capsim" calibrate --data "$tmp/few.json" --model llama-3.1-8b --gpu h100-sxm --stack splitwise-2023 \
  >"$tmp/out" 2>"$tmp/err"
grep -q "usable latencies" "$tmp/err" && grep -q "the likely cause: 1 run" "$tmp/err" \
  && ok || bad "a refusal on runs without send times names them: $(cat "$tmp/err")"

# --- 1b. on top of the measured kernels (the default step model on h100-sxm): benchmarks made
# with known kernel coefficients (GEMMs 1.2 times the tables, 1.5 ms per step outside the
# kernels, the rest at their defaults for llama-3.1-8b) are calibrated back; the confirming
# replay uses another seed than the data (11, 14, 26) and the calibration (7)
cat >"$tmp/ktruth.csv" <<'CSV'
gpu,stack,model,gemm_scale,attn_scale,moe_scale,comm_scale,step_ms,layer_ms,seq_ms,token_layer_ms,basis,source
h100-sxm,vllm-0.19.0,llama-3.1-8b,1.2,1,1,1,1.5,0.015,0.000574280597,6.7249403e-05,synthetic truth for the calibration test,tests/test_calibrate.sh
CSV
kdata=()
for u in 1 4 16; do
  "$capsim" run --model llama-3.1-8b --gpu h100-sxm --kernel-coeffs "$tmp/ktruth.csv" --users "$u" \
    --think exp:mean=1 --requests 500 --replications 1 --warmup 0 --per-request \
    --sample-interval 0 --seed $((u + 10)) --out "$tmp/k$u" >/dev/null 2>&1 && ok || bad "kernel data at $u users"
  kdata+=(--data "$tmp/k$u/requests.csv")
done
grep -q "calibrated by $tmp/ktruth.csv" "$tmp/k1/summary.csv" && ok || bad "summary.csv names the kernel coefficients"
"$capsim" calibrate "${kdata[@]}" --model llama-3.1-8b --gpu h100-sxm --seed 7 --validate --out "$tmp/kcal" \
  >"$tmp/out" 2>&1 && ok || bad "kernel calibrate on simulated data: $(tail -5 "$tmp/out")"
grep -q "good fit" "$tmp/out" && grep -q "fitting the coefficients on top of the kernels" "$tmp/out" \
  && grep -q "held: no all-reduces at tp 1" "$tmp/out" && grep -q "held: a dense model has no MoE layer" "$tmp/out" \
  && ok || bad "the kernel fit is good and says what it held: $(cat "$tmp/out")"
python3 - "$tmp/kcal/coefficients.csv" "$tmp/kcal/kernel_coeffs.csv" <<'PY' && ok || bad "kernel coefficients recovered: $(cat "$tmp/kcal/coefficients.csv")"
import csv, sys
rows = {r["coefficient"]: r for r in csv.DictReader(open(sys.argv[1]))}
truth = {"gemm_scale": 1.2, "attn_scale": 1.0, "moe_scale": 1.0, "comm_scale": 1.0, "step_ms": 1.5,
         "layer_ms": 0.015, "seq_ms": 0.000574280597, "token_layer_ms": 6.7249403e-05}
# What the data identify is fitted; the rest is held at its start, which is the truth here.
assert rows["moe_scale"]["status"] == "no data" and rows["comm_scale"]["status"] == "no data", rows
assert rows["layer_ms"]["status"] == "not identified", rows["layer_ms"]
for name in ("gemm_scale", "step_ms", "attn_scale"):
    assert rows[name]["status"] == "fitted", rows[name]
# The GEMM scale within 10% and the per-step time within 20%; attention and the
# per-token-layer time, whose TTFT points carry the rebuilt timeline's approximations, within
# 30% (about the half-widths of their intervals on this much data); held ones exactly.
for name, want in truth.items():
    v = float(rows[name]["value"])
    tol = {"gemm_scale": 0.10, "step_ms": 0.20}.get(name, 0.30) if rows[name]["status"] == "fitted" else 1e-6
    assert abs(v / want - 1) <= tol, f"{name}: {v} vs {want} (tolerance {tol})"
# and every fitted one within its 95% interval (the covariance's widened by the replay bootstrap)
for name in [n for n in truth if rows[n]["status"] == "fitted"]:
    lo, hi = float(rows[name]["ci95_low"]), float(rows[name]["ci95_high"])
    assert lo <= truth[name] <= hi, f"{name}: {truth[name]} not in [{lo}, {hi}]"
k = next(csv.DictReader(open(sys.argv[2])))
assert (k["gpu"], k["stack"], k["model"]) == ("h100-sxm", "vllm-0.19.0", "llama-3.1-8b"), k
assert abs(float(k["gemm_scale"]) - float(rows["gemm_scale"]["value"])) < 1e-9, k
PY
python3 - "$tmp/kcal/replay.csv" <<'PY' && ok || bad "the kernel replay agrees with the measurements: $(cat "$tmp/kcal/replay.csv")"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 27, len(rows)
for r in rows:
    err = abs(float(r["error_pct"]))
    limit = 5.0 if r["figure"].startswith("p50") else 10.0 if r["figure"].startswith("p90") else 20.0
    assert err <= limit, f"{r['run']} {r['figure']}: {err:.1f}% > {limit}%"
PY
"$capsim" run --model llama-3.1-8b --gpu h100-sxm --kernel-coeffs "$tmp/kcal/kernel_coeffs.csv" --requests 100 \
  --replications 1 >"$tmp/out" 2>&1 && grep -q "calibrated by $tmp/kcal/kernel_coeffs.csv" "$tmp/out" \
  && ok || bad "run takes the calibrated kernel coefficients: $(cat "$tmp/out")"
"$capsim" estimate --model llama-3.1-8b --gpu h100-sxm --kernel-coeffs "$tmp/kcal/kernel_coeffs.csv" --format csv \
  >"$tmp/out" 2>&1 && grep -q "calibrated by $tmp/kcal/kernel_coeffs.csv" "$tmp/out" \
  && ok || bad "estimate takes the calibrated kernel coefficients: $(cat "$tmp/out")"
# the roofline stays available on the same data
"$capsim" calibrate "${kdata[@]}" --model llama-3.1-8b --gpu h100-sxm --step-model roofline --out "$tmp/kroof" \
  >"$tmp/out" 2>&1; [ -s "$tmp/kroof/coefficients.csv" ] && [ ! -e "$tmp/kroof/kernel_coeffs.csv" ] \
  && grep -q "^mfu," "$tmp/kroof/coefficients.csv" && ok || bad "--step-model roofline calibrates the roofline: $(tail -3 "$tmp/out")"

# --- 2. the Splitwise per-step data reproduces the default profile
"$capsim" calibrate --data "$src/models/profiles/splitwise/splitwise-perf_model.csv" --gpu a100-80gb \
  --out "$tmp/sw" >"$tmp/out" 2>&1 && ok || bad "calibrate on Splitwise: $(tail -3 "$tmp/out")"
python3 - "$tmp/sw/profile.csv" "$src/models/profiles/default.csv" <<'PY' && ok || bad "Splitwise calibration equals the shipped a100-80gb row"
import csv, sys
got = next(csv.DictReader(open(sys.argv[1])))
want = next(r for r in csv.DictReader(open(sys.argv[2])) if r["gpu"] == "a100-80gb")
for k in ("mfu", "mbu", "t_fixed_ms", "t_layer_ms", "comm_scale", "attn_scale", "noise_cv"):
    a, b = float(got[k]), float(want[k])
    assert abs(a - b) <= 1e-6 * max(1.0, abs(b)), f"{k}: {a} vs {b}"
PY

# --- the plots of measured against predicted, from both kinds of fit
for d in cal sw; do
  "$capsim" plot "$tmp/$d" >/dev/null 2>&1 && grep -Eq "set xlabel 'measured \((ms|s), log scale\)'" "$tmp/$d/plots/calibration_fit.gp" \
    && grep -q "predicted = measured" "$tmp/$d/plots/calibration_fit.gp" && ok || bad "capsim plot draws calibration_fit from $d"
done

# --- 3. bad input
one_line_error() { # DESCRIPTION TEXT -- args...
  local what="$1" text="$2"; shift 3
  "$capsim" "$@" >"$tmp/out" 2>"$tmp/err"
  local rc=$?
  [ "$rc" -eq 2 ] && [ "$(wc -l <"$tmp/err")" -eq 1 ] && grep -qF -- "$text" "$tmp/err" \
    && ok || bad "$what: exit $rc, stderr: $(cat "$tmp/err")"
}
printf 'hello, world\nthis is not a benchmark\n' >"$tmp/junk.txt"
one_line_error "a file of the wrong format" "junk.txt" -- calibrate --data "$tmp/junk.txt" --model llama-3.1-8b --gpu h100-sxm
printf '{"input_lens": [100, 200], "output_lens": [10, 20], "ttfts": [0.05, 0.0' >"$tmp/trunc.json"
one_line_error "truncated JSON" "trunc.json" -- calibrate --data "$tmp/trunc.json" --model llama-3.1-8b --gpu h100-sxm
printf '{"input_lens": [], "output_lens": [], "ttfts": [], "itls": [], "request_rate": "inf"}\n' >"$tmp/empty.json"
one_line_error "zero requests" "empty.json" -- calibrate --data "$tmp/empty.json" --model llama-3.1-8b --gpu h100-sxm
one_line_error "no model" "--model" -- calibrate --data "$tmp/u1/requests.csv" --gpu h100-sxm
sed 's/^h100-sxm,/a100-80gb,/' "$tmp/ktruth.csv" >"$tmp/ka100.csv"
one_line_error "kernel coefficients of another GPU" "calibrated on a100-80gb with vllm-0.19.0, not on this deployment's h100-sxm" \
  -- run --model llama-3.1-8b --gpu h100-sxm --kernel-coeffs "$tmp/ka100.csv" --requests 10
one_line_error "kernel coefficients under the roofline" "the steps are priced by the roofline here (--step-model roofline)" \
  -- run --model llama-3.1-8b --gpu h100-sxm --step-model roofline --kernel-coeffs "$tmp/ktruth.csv" --requests 10
one_line_error "a kernel coefficient out of range" "gemm_scale" \
  -- run --model llama-3.1-8b --gpu h100-sxm --kernel-coeffs <(sed 's/,1.2,/,-1,/' "$tmp/ktruth.csv") --requests 10
# measurements of one model calibrated as another: a poor fit, and no profile
"$capsim" calibrate "${data[@]}" --model llama-3.1-70b --tp 4 --gpu h100-sxm --step-model roofline --out "$tmp/wrong" \
  >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -Eq "POOR FIT|cannot explain these measurements" "$tmp/out" && [ ! -e "$tmp/wrong/profile.csv" ] \
  && ok || bad "a poor fit exits 1 and writes no profile: exit $rc, $(grep -i fit "$tmp/out" | head -3)"

# --poor-fit moves the limits: data the model explains well is a poor fit under limits
# tighter than any real error
"$capsim" calibrate --data "$tmp/u1/requests.csv" --model llama-3.1-8b --gpu h100-sxm --step-model roofline \
  --poor-fit tpot=0.001,ttft=0.001 --out "$tmp/tight" >"$tmp/out" 2>&1
rc=$?
[ "$rc" -eq 1 ] && grep -q "POOR FIT: the median error of the time per output token is .* (a fit that explains the data stays under 0.001%)" "$tmp/out" \
  && [ ! -e "$tmp/tight/profile.csv" ] && ok || bad "--poor-fit tightens the limits: exit $rc, $(grep -i fit "$tmp/out" | head -3)"
one_line_error "a bad --poor-fit" "--poor-fit" -- calibrate --data "$tmp/u1/requests.csv" --model llama-3.1-8b --gpu h100-sxm --poor-fit tpot=abc

echo "test_calibrate: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
