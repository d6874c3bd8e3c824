#!/usr/bin/env bash
# End-to-end checks of the capsim command line: help, exit codes and one-line messages for
# bad input, nothing written on failure, byte-identical output for the same seed.
# usage: test_cli.sh PATH/TO/capsim SOURCE_DIR
set -u
capsim="$1"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
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

echo "test_cli: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
