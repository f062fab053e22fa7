#!/usr/bin/env bash
# Every installed header must compile on its own, as C and as C++, with the
# project's warnings as errors.  Usage: check-headers.sh INCLUDE_DIR [CC] [CXX]
set -euo pipefail
inc=$1
cc=${2:-cc}
cxx=${3:-c++}
fail=0
n=0
for h in "$inc"/vfn/*.h; do
	name=vfn/$(basename "$h")
	for lang in c c-inline c++; do
		n=$((n + 1))
		if [ "$lang" = c ]; then
			comp=("$cc" -x c -std=gnu11)
		elif [ "$lang" = c-inline ]; then
			comp=("$cc" -x c -std=gnu11 -O2 -DVFN_BLK_INLINE) # <vfn/blk-inline.h> through <vfn/blk.h>
		else
			comp=("$cxx" -x c++ -std=c++11)
		fi
		if printf '#include <%s>\nint vfn_header_check_dummy;\n' "$name" |
			"${comp[@]}" -fsyntax-only -Wall -Wextra -Werror -I "$inc" - 2>/tmp/vfn-hdr.$$; then
			echo "ok $n - $name ($lang)"
		else
			echo "not ok $n - $name ($lang)"
			sed 's/^/# /' /tmp/vfn-hdr.$$
			fail=1
		fi
	done
done
rm -f /tmp/vfn-hdr.$$
echo "1..$n"
exit $fail
