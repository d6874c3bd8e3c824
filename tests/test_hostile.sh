#!/usr/bin/env bash
# The hostile-input table: every case in tests/hostile/*.cases is one careless or unlucky use
# of capsim, with what it must do. The table is the project's own record that bad input never
# loses data, hangs, passes silently or leaves partial output behind.
#
# usage: test_hostile.sh PATH/TO/capsim SOURCE_DIR [FILTER]
#
# Case files hold one case per line, five fields separated by TABs (blank lines and lines
# starting with # are skipped):
#   id        unique name, e.g. merge-missing-shard
#   class     lost | hang | silent | partial | usage | ok   (what went wrong before the fix)
#   status    the exit status expected: a number, or "nonzero"
#   stderr    an extended regular expression stderr must match ("-" for no check)
#   command   a bash command line, run in a fresh empty directory with a 60 s timeout;
#             $CAPSIM is the binary, $SRC the source tree. An optional check runs after it:
#             write the command as "CMD ;; CHECK" and CHECK must exit 0 (e.g. no file left).
# Plots are off unless a case turns them on (CAPSIM_PLOTS=on).
set -u
capsim="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"
src="$(cd "$2" && pwd)"
filter="${3:-}"
export CAPSIM="$capsim" SRC="$src" CAPSIM_PLOTS=off
root="$(mktemp -d)"
trap 'rm -rf "$root"' EXIT
pass=0
fail=0
declare -A by_class_pass by_class_total

run_case() {
  local file="$1" id="$2" class="$3" want="$4" pattern="$5" cmdline="$6"
  local cmd="$cmdline" check=""
  if [[ "$cmdline" == *" ;; "* ]]; then
    cmd="${cmdline%% ;; *}"
    check="${cmdline#* ;; }"
  fi
  local dir="$root/$id"
  mkdir -p "$dir"
  (cd "$dir" && timeout -k 5 60 bash -c "$cmd" >"$root/$id.out" 2>"$root/$id.err")
  local got=$?
  local why=""
  if [ "$got" -eq 124 ] || [ "$got" -eq 137 ]; then
    why="timed out after 60 s"
  elif [ "$want" = "nonzero" ]; then
    [ "$got" -ne 0 ] || why="exit 0, expected non-zero"
  elif [ "$got" -ne "$want" ]; then
    why="exit $got, expected $want"
  fi
  if [ -z "$why" ] && [ "$pattern" != "-" ] && ! grep -Eq -- "$pattern" "$root/$id.err"; then
    why="stderr does not match /$pattern/"
  fi
  if [ -z "$why" ] && [ -n "$check" ]; then
    (cd "$dir" && bash -c "$check") >"$root/$id.check" 2>&1 || why="check failed: $check"
  fi
  by_class_total[$class]=$(( ${by_class_total[$class]:-0} + 1 ))
  if [ -z "$why" ]; then
    pass=$((pass + 1))
    by_class_pass[$class]=$(( ${by_class_pass[$class]:-0} + 1 ))
  else
    fail=$((fail + 1))
    echo "FAIL $id ($(basename "$file")): $why"
    echo "  command: $cmdline"
    sed 's/^/  stderr: /' "$root/$id.err" | head -5
  fi
  rm -rf "$dir"
}

declare -A seen
for file in "$src"/tests/hostile/*.cases; do
  [ -e "$file" ] || continue
  while IFS=$'\t' read -r id class want pattern cmdline; do
    [ -z "$id" ] && continue
    [[ "$id" == \#* ]] && continue
    if [ -n "${seen[$id]:-}" ]; then
      echo "FAIL duplicate case id $id in $(basename "$file") and ${seen[$id]}"
      fail=$((fail + 1)); continue
    fi
    seen[$id]="$(basename "$file")"
    if [ -z "${cmdline:-}" ]; then
      echo "FAIL $id ($(basename "$file")): malformed line (needs 5 TAB-separated fields)"
      fail=$((fail + 1)); continue
    fi
    [ -n "$filter" ] && [[ "$id" != *"$filter"* ]] && continue
    run_case "$file" "$id" "$class" "$want" "$pattern" "$cmdline"
  done <"$file"
done

echo "hostile cases by class (passed/total):"
for c in $(printf '%s\n' "${!by_class_total[@]}" | sort); do
  printf '  %-8s %d/%d\n' "$c" "${by_class_pass[$c]:-0}" "${by_class_total[$c]}"
done
echo "hostile: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
