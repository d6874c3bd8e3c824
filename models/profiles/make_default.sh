#!/usr/bin/env bash
# Rebuilds models/profiles/default.csv (and the fit reports fit-GPU-report.txt and
# fit-GPU-points.csv, measured against predicted per setting): fits the A100 80GB and H100 SXM rows to the
# Splitwise measurements (power-capped rows left out), then adds one row per GPU of
# derived.csv, copying the coefficients of its 'from' row with the reasoning as its basis.
# usage: models/profiles/make_default.sh PATH/TO/capsim PATH/TO/splitwise-perf_model.csv
set -euo pipefail
capsim="$1"
data="$2"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
for gpu in a100-80gb h100-sxm; do
  "$capsim" fit --data "$data" --gpu "$gpu" --out "$tmp/$gpu.csv" \
    --points "$here/fit-$gpu-points.csv" >"$here/fit-$gpu-report.txt"
done
{
  head -n 1 "$tmp/a100-80gb.csv"
  tail -n 1 "$tmp/a100-80gb.csv"
  tail -n 1 "$tmp/h100-sxm.csv"
  # Derived rows: coefficients of the 'from' row, basis = reasoning, source = derived.csv.
  tail -n +2 "$here/derived.csv" | while IFS=, read -r gpu from reasoning; do
    row="$(tail -n 1 "$tmp/$from.csv")"
    coeffs="$(echo "$row" | cut -d, -f2-8)"
    reasoning="${reasoning//\"/\"\"}"
    echo "$gpu,$coeffs,\"derived from $from: $reasoning\",models/profiles/derived.csv"
  done
} >"$tmp/default.csv"
mv "$tmp/default.csv" "$here/default.csv"
echo "wrote $here/default.csv"
