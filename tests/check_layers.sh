#!/usr/bin/env bash
# The include graph of the layers (see README, "Architecture"): every #include "..." of a
# folder names a header of a folder that folder may use. A backward include fails here,
# before it has a chance to turn into a link error or a cycle.
# usage: check_layers.sh SOURCE_DIR
set -u
src="$1"
cd "$src" || exit 2
fail=0
checked=0
# folder: the folders it may include from (its own is always allowed)
allowed() {
    case "$1" in
        sim/base)   echo "sim/base" ;;
        models)     echo "sim/base models" ;;
        workloads)  echo "sim/base workloads" ;;
        plots)      echo "sim/base plots" ;;
        sim/engine) echo "sim/base workloads sim/engine" ;;
        sim/serve)  echo "sim/base models workloads sim/engine sim/serve" ;;
        sim/plan)   echo "sim/base models workloads plots sim/engine sim/serve sim/plan" ;;
        sim/api)    echo "sim/base models workloads plots sim/engine sim/serve sim/plan sim/api" ;;
        sim/cli)    echo "sim/base models workloads plots sim/engine sim/serve sim/plan sim/cli" ;;
        *) echo "" ;;
    esac
}
for dir in sim/base models workloads plots sim/engine sim/serve sim/plan sim/api sim/cli; do
    ok_dirs="$(allowed "$dir")"
    for f in "$dir"/*.c "$dir"/*.h; do
        [ -e "$f" ] || continue
        while IFS= read -r inc; do
            checked=$((checked + 1))
            idir="$(dirname "$inc")"
            good=0
            for a in $ok_dirs; do [ "$idir" = "$a" ] && good=1; done
            # the public header may be used by the layer that implements it
            [ "$inc" = capsim.h ] && good=1
            if [ $good -eq 0 ]; then
                echo "FAIL: $f includes \"$inc\", but $dir may include only from: $ok_dirs"
                fail=$((fail + 1))
            fi
        done < <(sed -n 's/^[[:space:]]*#[[:space:]]*include[[:space:]]*"\([^"]*\)".*/\1/p' "$f")
    done
done
# Nothing outside sim/ may reach into sim/ beyond sim/base (already covered above), and no
# file may sit directly in sim/ any more: it would belong to no layer.
for f in sim/*.c sim/*.h; do
    [ -e "$f" ] && { echo "FAIL: $f is in sim/ but in no layer (sim/base, engine, serve, plan, cli)"; fail=$((fail + 1)); }
done
echo "layers: $checked includes checked, $fail out of place"
[ "$checked" -gt 100 ] || { echo "FAIL: too few includes found ($checked): is $src the source tree?"; exit 1; }
[ $fail -eq 0 ]
