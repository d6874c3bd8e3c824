#!/usr/bin/env bash
# End-to-end checks of shared-prefix and session workloads on the command line (issue 13):
# the perfect-cache share `capsim workload describe` prints against known answers, the
# trace `workload generate` writes (with prefix_id and shared_tokens columns only when
# requests share) read back to the same figures, and the one-line errors of run.
# usage: test_prefix.sh PATH/TO/capsim
set -u
capsim="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
export CAPSIM_PLOTS=off
pass=0
fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

# served OUTFILE: the "prompt tokens a perfect cache serves" figure, "N of TOTAL".
served() { sed -n 's/^  prompt tokens a perfect cache serves *//p' "$1"; }

# G = 8 groups, N = 2000 requests, S = 256: (N - G) x S = 509952 tokens served.
"$capsim" workload describe poisson:rate=8 --requests 2000 \
  --prefix groups=8,users=4,system=256,question=lognormal:mean=400,cv=1 >"$tmp/d1" 2>&1
case "$(served "$tmp/d1")" in "509952 of "*) ok ;; *) bad "groups known answer: $(cat "$tmp/d1")" ;; esac
grep -q "in 8 streams" "$tmp/d1" && ok || bad "groups: 8 streams"
grep -q "floor((prompt-1)/B)" "$tmp/d1" && ok || bad "the formula is printed"

# S = 200 (not a multiple of 16): (N - G) x 192 = 95424 for N = 500, G = 3; with
# --block-size 8 all 200 tokens: 99400.
"$capsim" workload describe poisson:rate=8 --requests 500 \
  --prefix groups=3,users=2,system=200,question=exp:mean=100 >"$tmp/d2" 2>&1
case "$(served "$tmp/d2")" in "95424 of "*) ok ;; *) bad "S=200: $(cat "$tmp/d2")" ;; esac
"$capsim" workload describe poisson:rate=8 --requests 500 --block-size 8 \
  --prefix groups=3,users=2,system=200,question=exp:mean=100 >"$tmp/d3" 2>&1
case "$(served "$tmp/d3")" in "99400 of "*) ok ;; *) bad "S=200, B=8: $(cat "$tmp/d3")" ;; esac

# A generated trace carries the columns and describes to the same figures.
"$capsim" workload generate poisson:rate=8 --requests 500 --out "$tmp/g.csv" \
  --prefix groups=3,users=2,system=200,question=exp:mean=100 >/dev/null 2>&1 && ok || bad "generate --prefix"
[ "$(head -1 "$tmp/g.csv")" = "arrival_s,prompt_tokens,output_tokens,prefix_id,shared_tokens" ] && ok ||
  bad "generated header: $(head -1 "$tmp/g.csv")"
"$capsim" workload describe "$tmp/g.csv" >"$tmp/d4" 2>&1
[ "$(served "$tmp/d4")" = "$(served "$tmp/d2")" ] && ok || bad "round trip: $(served "$tmp/d4") vs $(served "$tmp/d2")"
diff <(sed -n '/^  requests  /,/^  output /p' "$tmp/d2") <(sed -n '/^  requests  /,/^  output /p' "$tmp/d4") >/dev/null &&
  ok || bad "round trip: the lengths differ"

# Without shared prefixes nothing changes: no columns, no cache lines.
"$capsim" workload generate poisson:rate=8 --requests 5 --out "$tmp/p.csv" >/dev/null 2>&1
[ "$(head -1 "$tmp/p.csv")" = "arrival_s,prompt_tokens,output_tokens" ] && ok || bad "plain header"
"$capsim" workload describe poisson:rate=8 --requests 50 >"$tmp/d5" 2>&1
grep -q "perfect" "$tmp/d5" && bad "plain describe mentions the cache" || ok

# A 10-turn chat: 20 sessions of exactly 10 turns, 2 at a time.
"$capsim" workload describe poisson:rate=1 --requests 200 --output-len fixed:value=100 \
  --session turns=10,message=50,chats=2 >"$tmp/d6" 2>&1
grep -q "200 of 200, in 20 streams" "$tmp/d6" && ok || bad "sessions: $(cat "$tmp/d6")"
# Turn k (from 1) has prompt 150k - 100 and is served floor(150(k-1)/16) x 16 tokens.
want=0; total=0
for k in 1 2 3 4 5 6 7 8 9 10; do
  want=$((want + 20 * (150 * (k - 1) / 16 * 16))); total=$((total + 20 * (150 * k - 100)))
done
[ "$(served "$tmp/d6")" = "$want of $total" ] && ok || bad "sessions: $(served "$tmp/d6"), expected $want of $total"

# ... and its generated trace reads back to the same figures.
"$capsim" workload generate poisson:rate=1 --requests 200 --output-len fixed:value=100 \
  --session turns=10,message=50,chats=2 --out "$tmp/s.csv" >/dev/null 2>&1 && ok || bad "generate --session"
"$capsim" workload describe "$tmp/s.csv" >"$tmp/d7" 2>&1
[ "$(served "$tmp/d7")" = "$want of $total" ] && ok || bad "session round trip: $(served "$tmp/d7")"

# One-line errors.
expect_error() {
  local what="$1" text="$2"; shift 2
  "$capsim" "$@" >"$tmp/out" 2>"$tmp/err"
  local got=$?
  if [ "$got" -ne 2 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -qF -- "$text" "$tmp/err"; then
    bad "$what: exit $got: $(cat "$tmp/err")"
  else ok; fi
}
expect_error "prefix and session" "one or the other" workload describe poisson:rate=1 \
  --prefix groups=1,users=1,system=1,question=1 --session turns=1,message=1
expect_error "prefix on a trace" "is a trace" workload describe "$tmp/g.csv" --prefix groups=1,users=1,system=1,question=1
expect_error "run: users must match" "--users must be 32" run --model llama-3.2-1b --gpu h100-sxm \
  --users 5 --prefix groups=8,users=4,system=200,question=400
# prefix-aware routing: 8 groups whose system prompts (8 x 4000 tokens) do not fit one
# replica's cache (24912 tokens): round robin makes every replica hold every group and evict,
# --router prefix keeps each group where it is cached
for rt in rr prefix; do
  CAPSIM_PLOTS=off "$capsim" run --model llama-3.1-8b --gpu h100-sxm --gpu-mem-util 0.25 --replicas 2 \
    --router "$rt" --arrival poisson:rate=4 --prefix groups=8,users=2,system=4000,question=200 \
    --output-len fixed:value=50 --requests 400 --replications 2 --out "$tmp/route-$rt" >/dev/null 2>&1 ||
    bad "run --router $rt"
done
python3 - "$tmp" <<'PY' && ok || bad "--router prefix serves more from the cache than rr, with a shorter TTFT"
import csv, sys
r = {k: next(csv.DictReader(open(f"{sys.argv[1]}/route-{k}/summary.csv"))) for k in ("rr", "prefix")}
hit = {k: float(v["prefix_hit_rate"]) for k, v in r.items()}
ttft = {k: float(v["mean_ttft_ms"]) for k, v in r.items()}
assert hit["prefix"] > hit["rr"] + 0.1 and hit["prefix"] <= 4000 / 4200, hit  # at most the system prompt
assert ttft["prefix"] < ttft["rr"], ttft
PY
# closed-loop users run sessions: each user's next turn repeats its conversation, so most
# prompt tokens are served from the cache
CAPSIM_PLOTS=off "$capsim" run --model llama-3.2-1b --gpu h100-sxm --users 5 --think exp:mean=1 \
  --session turns=5,message=100 --output-len fixed:value=50 --requests 200 --replications 2 \
  --out "$tmp/cls" >/dev/null 2>&1 &&
  python3 -c "import csv,sys; r=next(csv.DictReader(open(sys.argv[1]))); assert float(r['prefix_hit_rate']) > 0.5, r['prefix_hit_rate']" \
    "$tmp/cls/summary.csv" && ok || bad "run: closed-loop sessions hit the cache"
expect_error "run: prefix with a trace" "a --trace brings its own" run --model llama-3.2-1b \
  --gpu h100-sxm --trace "$tmp/g.csv" --prefix groups=8,users=4,system=200,question=400
"$capsim" run --help | grep -q -- "--prefix .*groups=G,users=U,system=S,question=Q" && ok || bad "run --help: --prefix"
"$capsim" run --help | grep -q -- "--session .*turns=T,message=M" && ok || bad "run --help: --session"
"$capsim" workload --help | grep -q -- "--block-size B" && ok || bad "workload --help: --block-size"

# run: open loop with groups and sessions, closed loop with groups, the same bytes twice.
for a in "--prefix groups=8,users=4,system=200,question=400" "--session turns=10,message=100,chats=8" \
         "--users 32 --prefix groups=8,users=4,system=200,question=400"; do
  # shellcheck disable=SC2086 # a holds several words
  "$capsim" run --model llama-3.2-1b --gpu h100-sxm --requests 200 --replications 2 $a \
    --out "$tmp/r1" >/dev/null 2>&1 &&
  "$capsim" run --model llama-3.2-1b --gpu h100-sxm --requests 200 --replications 2 $a \
    --out "$tmp/r2" >/dev/null 2>&1 && cmp -s "$tmp/r1/summary.csv" "$tmp/r2/summary.csv" && ok ||
    bad "run $a"
  rm -rf "$tmp/r1" "$tmp/r2"
done

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
