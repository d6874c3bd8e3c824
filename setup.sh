#!/usr/bin/env bash
# setup.sh: the one entry point on a fresh Debian 12 machine.
#
#   ./setup.sh demo   install what is missing, build, run the default demo (results/demo/)
#   ./setup.sh test   install what is missing, build (plain and with ASan/UBSan), run every test
#
# Packages are installed with apt-get when run as root. As another user, a missing package
# stops the script with the exact command to run, rather than a compiler error later.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

mode="${1:-}"
case "$mode" in
  demo|test) ;;
  -h|--help|"")
    echo "usage: ./setup.sh demo|test"
    echo "  demo  install missing packages, build, run the demo: capacity, what-ifs, plots, REPORT.md (results/demo/)"
    echo "  test  install missing packages, build plain and with ASan/UBSan, run all tests"
    [ -n "$mode" ] && exit 0 || exit 2 ;;
  *) echo "setup.sh: unknown mode '$mode' (expected demo or test)" >&2; exit 2 ;;
esac

# Build and run time needs.
packages=(build-essential cmake pkg-config libgsl-dev libcsv-dev libinih-dev libjson-c-dev gnuplot-nox)
# The tests also need valgrind (memory checks under ctest), clang with libFuzzer
# (the parsers' fuzz targets), python3 (the end-to-end tests read CSV with it), pandas and
# matplotlib (the README's python examples run as printed) and procps (pgrep: the
# interruption tests check that no worker outlives its parent).
[ "$mode" = test ] && packages+=(valgrind clang libclang-rt-14-dev python3 python3-pandas
                                 python3-matplotlib procps)

missing=()
for p in "${packages[@]}"; do
  status="$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)"
  [ "$status" = installed ] || missing+=("$p")
done

if [ "${#missing[@]}" -gt 0 ]; then
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "setup.sh: missing packages: ${missing[*]}; this script knows apt-get (Debian 12)." >&2
    echo "Install the equivalents of these packages with your system's package manager." >&2
    exit 1
  fi
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup.sh: capsim needs these Debian packages, which are not installed: ${missing[*]}" >&2
    echo "Install them (as root) with:" >&2
    echo "  sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
    echo "then run ./setup.sh $mode again." >&2
    exit 1
  fi
  echo "setup.sh: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

jobs="$(nproc 2>/dev/null || echo 2)"

build() { # build DIR [cmake args...]
  local dir="$1"; shift
  cmake -S . -B "$dir" -DCAPSIM_WERROR=ON "$@" >/dev/null
  cmake --build "$dir" -j "$jobs"
}

if [ "$mode" = demo ]; then
  build build -DCMAKE_BUILD_TYPE=Release
  # The default scenario: the story of model size on one GPU type. A ~1B and a 123B model
  # serve a chat workload under an interactive SLO; capacity, load sweeps, what-ifs, plots
  # and REPORT.md land in results/demo/.
  ./build/capsim demo --out results/demo
  echo
  echo "Open results/demo/REPORT.md; the plots are in results/demo/*/plots/."
  echo "Try ./build/capsim --help, or ./build/capsim capacity rate --model llama-3.1-8b --gpu h100-sxm --slo ttft_p99=0.5,tpot_p99=0.05"
  exit 0
fi

echo "== build (Release, warnings are errors)"
build build -DCMAKE_BUILD_TYPE=Release
echo "== tests (Release)"
(cd build && ctest --output-on-failure -j "$jobs")
echo "== build (Debug with AddressSanitizer and UndefinedBehaviorSanitizer)"
build build-asan -DCMAKE_BUILD_TYPE=Debug -DCAPSIM_SANITIZE=ON
echo "== tests (ASan/UBSan)"
(cd build-asan && ctest --output-on-failure -j "$jobs" -LE slow)
echo "== fuzzing the parsers: traces, specs, benchmark results (libFuzzer, 10 s per target)"
CC=clang tests/run_fuzz.sh build-fuzz 10
