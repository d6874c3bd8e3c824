#!/usr/bin/env bash
# No function longer than 120 lines outside tests/ (STYLE.md; issue 11). A function is
# counted from the line of its opening brace, alone in column 0 as clang-format writes it,
# to its closing brace in column 0, both included.
# usage: check_functions.sh SOURCE_DIR [LIMIT]
set -u
src="$1"
limit="${2:-120}"
cd "$src" || exit 2
files=$(ls sim/*/*.c models/*.c workloads/*.c plots/*.c bench/*.c 2>/dev/null)
[ -n "$files" ] || { echo "FAIL: no sources under $src"; exit 1; }
# shellcheck disable=SC2086 # files is a list of paths without spaces
awk -v limit="$limit" '
    FNR == 1 { start = 0 }
    /^\{/ { start = FNR; name = prev }
    /^\}/ && start {
        n = FNR - start + 1
        functions++
        if (n > limit) { printf "FAIL: %s:%d: %s is %d lines (limit %d)\n", FILENAME, start, name, n, limit; bad++ }
        start = 0
    }
    /^[A-Za-z_].*\(/ { prev = $0 }
    END {
        printf "functions: %d checked, %d over %d lines\n", functions, bad, limit
        exit (bad > 0 || functions < 100) ? 1 : 0
    }' $files
