#!/usr/bin/env bash
# Checks that every source the catalogs cite can be found in the repository:
# - each "SOURCES.md#ID" in models/catalog/*.csv and *.md names an entry of
#   models/catalog/SOURCES.md (an '<a id="ID"></a>' anchor), and so does each "(#ID)" link
#   inside SOURCES.md;
# - "SOURCES.md" is never cited without an entry id;
# - each models/configs/*.json file cited exists;
# - nothing cites a file outside the repository (the facts file or the ../shared folder that
#   the catalogs were first written against).
# usage: check_sources.sh SOURCE_DIR
set -u
src="$1"
cat_dir="$src/models/catalog"
sources="$cat_dir/SOURCES.md"
fail=0
bad() { fail=$((fail + 1)); echo "FAIL: $*"; }

[ -f "$sources" ] || { echo "FAIL: $sources is missing"; exit 1; }

# The files that cite entries: the catalogs and the notes beside them (SOURCES.md's own links
# are checked as "(#ID)").
citing=()
for f in "$cat_dir"/*.csv "$cat_dir"/*.md; do
  [ "$f" = "$sources" ] || citing+=("$f")
done

# One "file:ID" line per citation of an entry.
cited="$(grep -o 'SOURCES\.md#[A-Za-z0-9_-]*' "${citing[@]}" | sed 's/SOURCES\.md#//; s#^.*/##')"
internal="$(grep -o '](#[A-Za-z0-9_-]*)' "$sources" | sed 's/^](#//; s/)$//; s/^/SOURCES.md:/')"
csv_ids="$(cd "$cat_dir" && grep -o 'SOURCES\.md#[A-Za-z0-9_-]*' ./*.csv | wc -l)"
[ "$csv_ids" -gt 0 ] || bad "no catalog row cites SOURCES.md: the check would be empty"

n=0
while IFS= read -r line; do
  [ -n "$line" ] || continue
  file="${line%%:*}"
  id="${line#*:}"
  n=$((n + 1))
  if [ -z "$id" ]; then
    bad "$file cites SOURCES.md# without an id"
  elif ! grep -q "<a id=\"$id\"></a>" "$sources"; then
    bad "$file cites SOURCES.md#$id, which SOURCES.md does not define"
  fi
done <<EOF
$cited
$internal
EOF

# "SOURCES.md" must always come with "#ID" in the catalogs (prose in the notes may name the
# file itself).
if (cd "$cat_dir" && grep -no 'SOURCES\.md.\{0,2\}' ./*.csv | grep -v 'SOURCES\.md#[A-Za-z0-9]'); then
  bad "the citations above name SOURCES.md without an entry id"
fi

# Cited config files exist.
while IFS= read -r path; do
  [ -n "$path" ] || continue
  n=$((n + 1))
  [ -f "$src/$path" ] || bad "a catalog cites $path, which is not in the repository"
done <<EOF
$(grep -oh 'models/configs/[A-Za-z0-9._-]*\.json' "${citing[@]}" | sort -u)
EOF

# No citation of files that live outside the repository.
if grep -n 'FACTS\|shared/' "${citing[@]}" "$sources"; then
  bad "the lines above cite a file outside the repository"
fi

echo "$n citations checked, $fail failed"
[ "$fail" -eq 0 ]
