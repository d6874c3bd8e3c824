#!/usr/bin/env bash
# Installing and the library: `cmake --install` into a fresh prefix puts the program, the
# library, the header, the pkg-config file and the data where they belong; the installed
# program finds its data beside itself; and the example program of the README ("The
# library"), taken from the README itself, builds with pkg-config against the installed
# library and prints the same p99 TTFT as `capsim run` with the same settings.
# usage: test_install.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -u
extra_cflags="${3:-}"
build="$(cd "$1" && pwd)"
src="$(cd "$2" && pwd)"
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
pass=0
fail=0
ok()  { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

prefix="$tmp/prefix"
cmake --install "$build" --prefix "$prefix" >"$tmp/install.log" 2>&1 && ok || bad "cmake --install: $(tail -3 "$tmp/install.log")"
for f in bin/capsim include/capsim.h share/capsim/models/catalog/models.csv \
         share/capsim/models/catalog/gpus.csv share/capsim/models/profiles/default.csv \
         share/capsim/workloads/chatbot.ini; do
    [ -f "$prefix/$f" ] && ok || bad "installed $f"
done
lib="$(find "$prefix" -name libcapsim.a | head -1)"
[ -n "$lib" ] && ok || bad "installed libcapsim.a"
pc="$(find "$prefix" -name capsim.pc | head -1)"
[ -n "$pc" ] && ok || bad "installed capsim.pc"

# The installed program reads the installed data, from any folder.
cd "$tmp"
ver="$(env -u CAPSIM_DATA_DIR -u CAPSIM_CATALOG_DIR "$prefix/bin/capsim" --version)"
echo "$ver" | grep -qx "data directory: $(cd "$prefix/share/capsim" && pwd -P)" && ok || bad "installed data directory: $ver"
env -u CAPSIM_DATA_DIR "$prefix/bin/capsim" list gpus | grep -q '^h100-sxm ' && ok || bad "installed capsim list gpus"
# CAPSIM_DATA_DIR wins, and a wrong one is named in the error.
CAPSIM_DATA_DIR="$tmp/nowhere" "$prefix/bin/capsim" list gpus >/dev/null 2>"$tmp/err"
[ $? -ne 0 ] && grep -q "$tmp/nowhere/models/catalog" "$tmp/err" && ok || bad "CAPSIM_DATA_DIR is read: $(cat "$tmp/err")"

# The README's example, exactly as printed there.
awk '/^<!-- example: p99.c -->$/ {on = 1; next} on && /^```c$/ {body = 1; next}
     body && /^```$/ {exit} body {print}' "$src/README.md" >"$tmp/p99.c"
[ "$(wc -l <"$tmp/p99.c")" -ge 20 ] && ok || bad "README example found ($(wc -l <"$tmp/p99.c") lines)"
flags="$(PKG_CONFIG_PATH="$(dirname "$pc")" pkg-config --cflags --libs capsim)"
# shellcheck disable=SC2086 # flags and extra_cflags are lists
cc -std=c11 -Wall -Wextra -Werror $extra_cflags "$tmp/p99.c" $flags -o "$tmp/p99" 2>"$tmp/cc.log" && ok || bad "example builds: $(head -5 "$tmp/cc.log")"
env -u CAPSIM_DATA_DIR "$tmp/p99" >"$tmp/p99.out" 2>&1 && ok || bad "example runs: $(cat "$tmp/p99.out")"
[ "$(wc -l <"$tmp/p99.out")" -eq 3 ] && ok || bad "example prints three rates: $(cat "$tmp/p99.out")"
# the rate-4 line against capsim run with the same settings (every other setting default)
CAPSIM_PLOTS=off "$prefix/bin/capsim" run --model llama-3.1-8b --gpu h100-sxm --requests 2000 \
    --arrival poisson:rate=4 --out "$tmp/run" >/dev/null 2>&1 && ok || bad "capsim run for the comparison"
want="$(python3 - "$tmp/run/summary.csv" <<'PY'
import csv, sys
row = next(csv.DictReader(open(sys.argv[1])))
print("poisson:rate=4: p99 TTFT %.1f ms +- %.1f" % (float(row["p99_ttft_ms"]), float(row["p99_ttft_ms_ci95"])))
PY
)"
grep -qxF "$want" "$tmp/p99.out" && ok || bad "example agrees with capsim run: want '$want', got: $(cat "$tmp/p99.out")"

echo "install: $pass passed, $fail failed"
[ "$fail" -eq 0 ] && [ "$pass" -gt 10 ]
