#!/usr/bin/env bash
# Rebuilds models/profiles/vllm-0.19.csv and vllm-0.14.csv (and their reports
# fit-vllm-0.19-report.md, fit-vllm-0.14-report.md): the roofline's coefficients refitted,
# per GPU with kernel tables, to the measured-kernel step model of that vLLM stack (its
# nearest stack where the GPU lacks it), and the GPUs without tables derived as
# derived-vllm.csv says (see bench/fit_kernels_roofline.c and README-vllm.md).
# Deterministic: the same tables, catalog and default.csv give the same bytes.
# usage: models/profiles/make_vllm.sh PATH/TO/build   (the CMake build directory)
set -euo pipefail
build="$1"
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# This tree's catalog, tables and default.csv, whatever the environment says.
export CAPSIM_DATA_DIR="$(cd "$here/../.." && pwd)"
unset CAPSIM_CATALOG_DIR
for stack in vllm-0.19 vllm-0.14; do
  "$build/fit_kernels_roofline" "$stack" "$here/derived-vllm.csv" "$here/$stack.csv" \
    "$here/fit-$stack-report.md"
  echo "wrote $here/$stack.csv and fit-$stack-report.md"
done
