#!/usr/bin/env bash
# The shared library exports exactly the functions the public headers declare,
# all prefixed vfn_, and the version script lists the same set.
# Usage: check-exports.sh LIBVFN_SO INCLUDE_DIR MAP_FILE
set -euo pipefail
lib=$1 inc=$2 map=$3
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Functions the public headers declare for export (marked VFN_API): the
# identifier right before the declaration's first '('.
python3 - "$inc"/vfn/*.h >"$tmp/headers" <<'PY'
import re, sys
names = set()
for path in sys.argv[1:]:
    text = re.sub(r'/\*.*?\*/', ' ', open(path).read(), flags=re.S)
    text = re.sub(r'(?m)^\s*#.*$', ' ', text)
    for m in re.finditer(r'\bVFN_API\b([^;{]*?)\b(\w+)\s*\(', text):
        names.add(m.group(2))
print('\n'.join(sorted(names)))
PY
# Functions the version script exports.
sed -n '/global:/,/local:/p' "$map" | grep -oE '^\s*vfn_[a-z0-9_]+;' |
	tr -d ' \t;' | sort -u >"$tmp/map"
# Dynamic symbols the library defines.
nm -D --defined-only "$lib" | awk '$2 ~ /[TDBRVWiu]/ {print $3}' |
	sed 's/@.*//' | grep -v '^VFN_' | sort -u >"$tmp/lib"

n=0 fail=0
check() {
	n=$((n + 1))
	if [ -z "$2" ]; then echo "ok $n - $1"; else
		echo "not ok $n - $1"; printf '%s\n' "$2" | sed 's/^/# /'; fail=1; fi
}
check "every export is prefixed vfn_" "$(grep -v '^vfn_' "$tmp/lib" || true)"
check "every header function is exported" "$(comm -23 "$tmp/headers" "$tmp/lib")"
check "nothing beyond the headers is exported" "$(comm -13 "$tmp/headers" "$tmp/lib")"
check "the version script lists exactly the header functions" "$(diff "$tmp/headers" "$tmp/map" || true)"
check "the library has a soname" "$(readelf -d "$lib" | grep -q 'SONAME.*libvfn\.so\.' || echo missing)"
echo "1..$n"
exit $fail
