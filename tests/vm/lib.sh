# SPDX-License-Identifier: MIT
# shellcheck shell=sh
#
# Tiny TAP helpers for guest test scripts (POSIX sh, busybox ash).
#
#   . "$(dirname "$0")/lib.sh"
#   t_ok    NAME CMD [ARGS...]       ok if CMD exits 0
#   t_fail  NAME CMD [ARGS...]       ok if CMD exits non-zero (a crash,
#                                    i.e. killed by a signal, is not ok)
#   t_eq    NAME EXPECTED ACTUAL     ok if the strings are equal
#   t_match NAME REGEX TEXT          ok if TEXT matches REGEX (grep -E)
#   t_skip  NAME REASON              ok ... # SKIP REASON
#   t_run_cmocka NAME BINARY [ARGS...]
#                                    one TAP line per cmocka test, named
#                                    "NAME: test"; one not ok if the binary
#                                    crashes or reports no/missing results
#   t_diag  TEXT...                  diagnostic lines ("# TEXT")
#   t_err   NAME STATUS REGEX CMD...   CMD fails cleanly: exit STATUS, no stdout,
#                                    one stderr line matching REGEX
#   json_field KEY JSON              a value from flat JSON
#   t_bind_second NAME               the NVMe controller other than $VFN_BDF
#                                    into $B2, bound to vfio-pci, its IOMMU
#                                    group into $B2_GROUP
#   t_done                           print the plan (1..N); returns 1 if
#                                    anything failed: end with  t_done
#
# The plan is printed at the end, which TAP allows.

T_COUNT=0
T_FAILED=0

t_diag() {
	printf '%s\n' "$@" | sed 's/^/# /'
}

# Print one result line. t_result STATUS(0=ok) NAME [DIRECTIVE]
t_result() {
	T_COUNT=$((T_COUNT + 1))
	_t_name=$(printf '%s' "$2" | tr '\n#' ' _')
	if [ "$1" -eq 0 ]; then
		printf 'ok %d - %s%s\n' "$T_COUNT" "$_t_name" "${3:+ # $3}"
	else
		T_FAILED=$((T_FAILED + 1))
		printf 'not ok %d - %s%s\n' "$T_COUNT" "$_t_name" "${3:+ # $3}"
	fi
}

# True if an exit status means "killed by a signal" (as the shell reports it).
t_is_crash() {
	[ "$1" -gt 128 ] && [ "$1" -lt 193 ]
}

# Run CMD, leaving its output in $T_OUT and its status in $T_RC.
# (The braces make the shell's own "Segmentation fault" notice part of it.)
t_capture() {
	T_OUT=$({ "$@"; } 2>&1)
	T_RC=$?
}

t_ok() {
	_t_n=$1
	shift
	t_capture "$@"
	if [ "$T_RC" -eq 0 ]; then
		t_result 0 "$_t_n"
	else
		t_result 1 "$_t_n"
		t_diag "command: $*" "expected exit status 0, got $T_RC"
		[ -z "$T_OUT" ] || t_diag "$T_OUT"
	fi
}

t_fail() {
	_t_n=$1
	shift
	t_capture "$@"
	if [ "$T_RC" -ne 0 ] && ! t_is_crash "$T_RC"; then
		t_result 0 "$_t_n"
	else
		t_result 1 "$_t_n"
		if [ "$T_RC" -eq 0 ]; then
			t_diag "command: $*" "expected a non-zero exit status, got 0"
		else
			t_diag "command: $*" "expected a non-zero exit status, got $T_RC (killed by signal $((T_RC - 128)))"
		fi
		[ -z "$T_OUT" ] || t_diag "$T_OUT"
	fi
}

t_eq() {
	if [ "$2" = "$3" ]; then
		t_result 0 "$1"
	else
		t_result 1 "$1"
		t_diag "expected: '$2'" "     got: '$3'"
	fi
}

t_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then
		t_result 0 "$1"
	else
		t_result 1 "$1"
		t_diag "expected a match for: $2" "got:" "$3"
	fi
}

t_skip() {
	t_result 0 "$1" "SKIP${2:+ $2}"
}

# Renumber a cmocka binary's TAP output into ours. Its plan lines are
# dropped (we print ours at the end) and its other lines become diagnostics.
t_run_cmocka() {
	_t_n=$1
	shift
	_t_log=$(mktemp "${TMPDIR:-/tmp}/t_cmocka.XXXXXX") || {
		t_result 1 "$_t_n" && t_diag "mktemp failed"
		return
	}
	{ CMOCKA_MESSAGE_OUTPUT=TAP "$@"; } >"$_t_log" 2>&1
	_t_rc=$?
	_t_planned=0
	_t_seen=0
	_t_bad=0
	while IFS= read -r _t_line || [ -n "$_t_line" ]; do
		case $_t_line in
		"ok "* | "not ok "*)
			_t_status=0
			_t_rest=${_t_line#ok }
			case $_t_line in "not ok "*)
				_t_status=1
				_t_rest=${_t_line#not ok }
				;;
			esac
			_t_rest=${_t_rest#"${_t_rest%%[!0-9]*}"} # drop the number
			_t_rest=${_t_rest# }
			_t_dir=
			case $_t_rest in
			"# SKIP"*)
				# cmocka: "not ok 3 # SKIP name"
				_t_status=0
				_t_dir=SKIP
				_t_rest=${_t_rest#"# SKIP"}
				;;
			*" # SKIP"* | *" # TODO"*)
				_t_dir=${_t_rest##* # }
				_t_rest=${_t_rest% # *}
				;;
			esac
			_t_rest=${_t_rest#- }
			_t_rest=${_t_rest# }
			_t_seen=$((_t_seen + 1))
			[ "$_t_status" -eq 0 ] || _t_bad=$((_t_bad + 1))
			t_result "$_t_status" "$_t_n: $_t_rest" "$_t_dir"
			;;
		1..*)
			_t_p=${_t_line#1..}
			_t_p=${_t_p%%[!0-9]*}
			_t_planned=$((_t_planned + ${_t_p:-0}))
			;;
		"#"*) printf '%s\n' "$_t_line" ;;
		*) printf '# %s\n' "$_t_line" ;;
		esac
	done <"$_t_log"
	rm -f "$_t_log"

	if [ "$_t_seen" -eq 0 ]; then
		t_result 1 "$_t_n"
		t_diag "command: $*" "no TAP results (exit status $_t_rc)"
	elif t_is_crash "$_t_rc"; then
		t_result 1 "$_t_n: crashed"
		t_diag "command: $*" "killed by signal $((_t_rc - 128)) after $_t_seen results"
	elif [ "$_t_seen" -lt "$_t_planned" ]; then
		t_result 1 "$_t_n: incomplete"
		t_diag "command: $*" "planned $_t_planned results, got $_t_seen (exit status $_t_rc)"
	elif [ "$_t_rc" -ne 0 ] && [ "$_t_bad" -eq 0 ]; then
		t_result 1 "$_t_n: exit status"
		t_diag "command: $*" "all results ok but exit status $_t_rc"
	fi
}

# t_err NAME STATUS REGEX CMD...: CMD fails with exit STATUS (1: the device
# or the request is wrong, 2: the command line is) within 30 s, prints nothing
# on stdout and exactly one line on stderr, matching REGEX.
t_err() {
	_n=$1 _st=$2 _re=$3
	shift 3
	_out=$(timeout 30 "$@" 2>"${TMPDIR:-/tmp}/t_err.$$")
	_rc=$?
	_err=$(cat "${TMPDIR:-/tmp}/t_err.$$")
	rm -f "${TMPDIR:-/tmp}/t_err.$$"
	t_eq "$_n: exit status $_st" "$_st" "$_rc"
	t_eq "$_n: nothing on stdout" "" "$_out"
	t_eq "$_n: one line on stderr" 1 "$(printf '%s\n' "$_err" | wc -l)"
	t_match "$_n: says why and what to do" "$_re" "$_err"
}

# json_field KEY JSON: the value of "KEY" in flat JSON (strings unquoted).
json_field() {
	printf '%s\n' "$2" | tr ',{}' '\n\n\n' | sed -n "s/^ *\"$1\": *\"\{0,1\}\([^\"]*\)\"\{0,1\} *$/\1/p" | head -n 1
}

# t_bind_second NAME: finds the NVMe controller other than $VFN_BDF (the
# last in sysfs order) into $B2, binds it to vfio-pci with `vfn bind`, and
# waits up to 5 s for its /dev/vfio/$B2_GROUP.  Two TAP lines: "NAME ($B2)"
# and "vfn bind $B2"; the caller checks /dev/vfio/$B2_GROUP if it needs it.
t_bind_second() {
	B2=
	for _d in /sys/bus/pci/devices/*; do
		[ "$(cat "$_d/class")" = 0x010802 ] || continue
		[ "${_d##*/}" = "$VFN_BDF" ] && continue
		B2=${_d##*/}
	done
	t_ok "$1 ($B2)" test -n "$B2"
	t_ok "vfn bind $B2" vfn bind "$B2"
	B2_GROUP=$(basename "$(readlink "/sys/bus/pci/devices/$B2/iommu_group")")
	_i=0
	while [ ! -e "/dev/vfio/$B2_GROUP" ] && [ $_i -lt 50 ]; do
		sleep 0.1
		_i=$((_i + 1))
	done
}

t_done() {
	printf '1..%d\n' "$T_COUNT"
	if [ "$T_FAILED" -ne 0 ]; then
		t_diag "$T_FAILED of $T_COUNT failed"
		return 1
	fi
	return 0
}
