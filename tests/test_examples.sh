#!/usr/bin/env bash
# The README's pandas example (tests/examples/sweep_pandas.py) on a small sweep: run as it
# is printed when pandas and matplotlib are installed; otherwise the columns it reads are
# checked with python's csv module (numeric offered_rate for every row, p99_ttft_ms and its
# CI, saturated 0 or 1, the swept precision).
#
# usage: test_examples.sh PATH/TO/capsim SOURCE_DIR
set -eu
capsim="$1"
src="$2"
dir="$(mktemp -d)"
trap 'rm -rf "$dir"' EXIT
CAPSIM_PLOTS=off "$capsim" sweep --model llama-3.2-1b --gpu h100-sxm --requests 6000 \
  --replications 2 --arrival gamma:rate=1,cv=1.5 --sweep rate=1,4,300 \
  --sweep precision=bf16,fp8 --jobs 2 --out "$dir/sweep" >/dev/null
if python3 -c 'import pandas, matplotlib' 2>/dev/null; then
  python3 "$src/tests/examples/sweep_pandas.py" "$dir/sweep" >"$dir/out.txt"
  test -s "$dir/sweep/p99_ttft.png"
  grep -q offered_rate "$dir/out.txt"
  echo "examples: the pandas example ran"
else
  python3 - "$dir/sweep/summary.csv" <<'PY'
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["status"] == "ok"]
assert len(rows) == 6, len(rows)
rates = sorted({float(r["offered_rate"]) for r in rows})
assert rates == [1.0, 4.0, 300.0], rates
assert {r["precision"] for r in rows} == {"bf16", "fp8"}
for r in rows:
    float(r["p99_ttft_ms"]), float(r["p99_ttft_ms_ci95"])
    assert r["saturated"] == ("1" if float(r["offered_rate"]) == 300 else "0"), r["saturated"]
PY
  echo "examples: pandas not installed; the columns the example reads are checked"
fi
