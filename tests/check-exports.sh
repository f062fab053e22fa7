#!/usr/bin/env bash
# The shared library exports exactly the functions the public headers
# declare, all prefixed vfn_, each marked VFN_API, and the version script
# lists the same set.  "Declare" means every function declaration in the
# headers, found in the compiler's own preprocessed output (macros expanded,
# comments and conditionals resolved), not only those marked VFN_API: a
# declared function the library does not export fails the test, as a
# program calling it would fail to link.
# Usage: check-exports.sh LIBVFN_SO INCLUDE_DIR MAP_FILE CC
set -euo pipefail
lib=$1 inc=$2 map=$3 cc=$4
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

for h in "$inc"/vfn/*.h; do
	printf '#include <vfn/%s>\n' "${h##*/}"
done >"$tmp/all.c"
"$cc" -E -I"$inc" "$tmp/all.c" >"$tmp/all.i"

# From the preprocessed text, the top-level declarations that come from the
# public headers (the line markers say which file each line is from):
# function declarations (not typedefs, not static inline definitions) go to
# "headers", those with VFN_API's visibility attribute also to "api".
python3 - "$inc" "$tmp/all.i" "$tmp/headers" "$tmp/api" <<'PY'
import os, re, sys
inc, src, out_all, out_api = os.path.realpath(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]

text, ours = [], False
for line in open(src):
    m = re.match(r'#\s*\d+\s+"([^"]+)"', line)
    if m:
        ours = os.path.realpath(m.group(1)).startswith(inc + os.sep)
    elif ours:
        text.append(line)
text = ''.join(text)

def strip_attributes(s):
    """Removes __attribute__((...)) groups (balanced parentheses)."""
    out, i = [], 0
    while True:
        j = s.find('__attribute__', i)
        if j < 0:
            return ''.join(out) + s[i:]
        out.append(s[i:j])
        k = s.index('(', j)
        depth = 0
        while True:
            depth += {'(': 1, ')': -1}.get(s[k], 0)
            k += 1
            if depth == 0:
                break
        i = k

# Top-level statements: brace contents dropped; a '{' right after ')' opens
# a function body, which ends the statement (a definition, not a declaration).
decls, cur, depth, body = [], [], 0, False
for c in text:
    if c == '{':
        if depth == 0:
            body = re.search(r'\)\s*$', strip_attributes(''.join(cur))) is not None
        depth += 1
    elif c == '}':
        depth -= 1
        if depth == 0 and body:
            cur, body = [], False
    elif depth == 0:
        if c == ';':
            decls.append(''.join(cur))
            cur = []
        else:
            cur.append(c)

names, api = set(), set()
for d in decls:
    d = ' '.join(d.split())
    if not d or re.match(r'(typedef|static|_Static_assert)\b', d):
        continue
    bare = strip_attributes(d)
    m = re.search(r'\b([A-Za-z_]\w*)\s*\(', bare)
    if not m:
        continue  # a variable, or a struct/enum/union declaration
    names.add(m.group(1))
    if re.search(r'visibility\s*\(\s*"default"\s*\)', d):
        api.add(m.group(1))
open(out_all, 'w').write(''.join(n + '\n' for n in sorted(names)))
open(out_api, 'w').write(''.join(n + '\n' for n in sorted(api)))
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
check "the headers declare functions" "$([ -s "$tmp/headers" ] || echo none found)"
check "every export is prefixed vfn_" "$(grep -v '^vfn_' "$tmp/lib" || true)"
check "every declared function is marked VFN_API" "$(comm -23 "$tmp/headers" "$tmp/api")"
check "every declared function is exported" "$(comm -23 "$tmp/headers" "$tmp/lib")"
check "nothing beyond the declarations is exported" "$(comm -13 "$tmp/headers" "$tmp/lib")"
check "the version script lists exactly the declared functions" "$(diff "$tmp/headers" "$tmp/map" || true)"
check "the library has a soname" "$(readelf -d "$lib" | grep -q 'SONAME.*libvfn\.so\.' || echo missing)"
echo "1..$n"
exit $fail
