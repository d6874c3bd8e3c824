#!/usr/bin/env bash
# bench_describe.sh CAPSIM [DIR]: streams traces of 10^5 and 10^6 rows through
# `capsim workload describe` and prints rows per second and peak resident memory, to show
# that reading is constant-memory. The traces are written by `capsim workload generate`
# (capsim CSV) into DIR (default: a temporary folder, removed afterwards).
# Not a test: it prints figures.
set -euo pipefail
capsim="$1"
dir="${2:-$(mktemp -d)}"
[ $# -ge 2 ] || trap 'rm -rf "$dir"' EXIT
for n in 100000 1000000; do
  "$capsim" workload generate poisson:rate=100 --requests "$n" --seed 1 --out "$dir/t$n.csv" >/dev/null
  best=""
  for run in 1 2 3; do
    line=$( { /usr/bin/time -f "RSS %M" "$capsim" workload describe "$dir/t$n.csv" | grep "read in"; } 2>&1 | tr '\n' ' ')
    echo "  $n rows, run $run: $line"
  done
done
