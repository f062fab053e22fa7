#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Static checks over src/ and tools/; exits non-zero on any finding.
#   cppcheck     warning, performance and portability checks
#   scan-build   clang's static analyzer over a build of src/ and tools/
#   format       clang-format --dry-run -Werror against .clang-format
# Suppressions are inline only (cppcheck: `// cppcheck-suppress id` with the
# reason on the same line), never in this script.
# Usage: scripts/lint.sh [cppcheck|scan-build|format]...   (default: all)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
builddir=${LINT_BUILDDIR:-$root/build-lint}

# Files left out of the format check (globs), each with its reason.
format_exclude=(
)

run_cppcheck() {
	cppcheck --quiet --enable=warning,performance,portability --inline-suppr \
		--error-exitcode=1 --std=c11 -D_GNU_SOURCE -I include -I src src tools
}

run_scan_build() {
	rm -rf "$builddir"
	# src/ and tools/ only: cmocka's assertions are not marked noreturn, so
	# the analyzer would follow paths past a failed one in the tests.
	scan-build meson setup "$builddir" -Dtests=disabled -Dfuzz=false >/dev/null
	scan-build --status-bugs -o "$builddir/report" ninja -C "$builddir" >"$builddir/scan.log" 2>&1 || {
		grep -E 'warning:|error:' "$builddir/scan.log" >&2 || tail -20 "$builddir/scan.log" >&2
		return 1
	}
}

excluded() {
	local f=$1 pat
	for pat in "${format_exclude[@]}"; do
		# shellcheck disable=SC2053 # the pattern is meant to glob
		[[ $f == $pat ]] && return 0
	done
	return 1
}

run_format() {
	local files=() f
	while IFS= read -r f; do
		excluded "$f" || files+=("$f")
	done < <(git ls-files --cached --others --exclude-standard -- '*.c' '*.h' | sort)
	clang-format --dry-run -Werror "${files[@]}"
}

checks=("$@")
[ ${#checks[@]} -eq 0 ] && checks=(cppcheck scan-build format)
failed=0
for c in "${checks[@]}"; do
	case $c in
	cppcheck) fn=run_cppcheck ;;
	scan-build) fn=run_scan_build ;;
	format) fn=run_format ;;
	*) echo "lint: unknown check '$c' (cppcheck, scan-build, format)" >&2; exit 2 ;;
	esac
	if $fn; then
		echo "lint: $c: ok"
	else
		echo "lint: $c: FAILED" >&2
		failed=1
	fi
done
exit $failed
