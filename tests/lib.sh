# shellcheck shell=bash
# TAP helpers for the shell test scripts. Each script prints TAP lines;
# tests/run.sh counts them.
#   ok_if NAME CMD...          pass if CMD exits 0
#   expect_err NAME RC PATTERN CMD...
#                              CMD must exit RC and print exactly one line on
#                              stderr containing PATTERN (grep -E)
#   check NAME TEST-EXPR-RESULT MESSAGE   pass/fail from a prior [ ] result
#   skip NAME REASON
#   need_guest                 sets KERNEL to the guest kernel, or fails
#                              the script when it or QEMU is missing

set -u
TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CDM=${CDMBENCH:-$TOP/build/cdmbench}
T_PREFIX=${T_PREFIX:-$(basename "$0" .sh)}
T_TMP=$(mktemp -d /tmp/cdm-test.XXXXXX)
trap '[ -n "${KEEP_TMP:-}" ] || rm -rf "$T_TMP"' EXIT

pass() { echo "ok - $T_PREFIX: $1"; }

fail() {
	local name=$1
	shift
	echo "not ok - $T_PREFIX: $name"
	local l
	for l in "$@"; do
		printf '%s\n' "$l" | sed 's/^/# /'
	done
}

skip() { echo "ok - $T_PREFIX: $1 # SKIP $2"; }

# 'make test' builds the guest kernel and installs QEMU before the tests,
# so their absence is a failure of the set-up, not a reason to skip
need_guest() {
	KERNEL=$("$TOP/kernel/build.sh" --print-path 2>/dev/null) || {
		fail "guest kernel is built" "kernel/build.sh --print-path: not built (make test builds it)"
		exit 0
	}
	command -v qemu-system-x86_64 >/dev/null || {
		fail "qemu is installed" "qemu-system-x86_64 not found (make deps installs it)"
		exit 0
	}
}

ok_if() {
	local name=$1
	shift
	local out
	if out=$("$@" 2>&1); then
		pass "$name"
	else
		fail "$name" "command failed (rc=$?): $*" "$(printf '%s' "$out" | tail -n 5)"
	fi
}

# check NAME RESULT MSG: RESULT is the exit status of a test already run
check() {
	if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1" "$3"; fi
}

expect_err() {
	local name=$1 want_rc=$2 pattern=$3
	shift 3
	local rc=0
	"$@" >"$T_TMP/out" 2>"$T_TMP/err" || rc=$?
	local lines
	lines=$(wc -l <"$T_TMP/err")
	if [ "$rc" != "$want_rc" ]; then
		fail "$name" "exit status $rc, expected $want_rc: $*" "$(head -n 3 "$T_TMP/err")"
	elif [ "$lines" != 1 ]; then
		fail "$name" "expected one line on stderr, got $lines:" "$(head -n 5 "$T_TMP/err")"
	elif ! grep -qE -- "$pattern" "$T_TMP/err"; then
		fail "$name" "stderr lacks /$pattern/:" "$(cat "$T_TMP/err")"
	else
		pass "$name"
	fi
}

# sqlite3 one-value query
q() { sqlite3 -batch -noheader "$1" "$2"; }

# a digest of everything in a database, to prove it was left intact
db_digest() {
	sqlite3 -batch "$1" .dump 2>/dev/null | sha256sum | cut -d' ' -f1
}

# compare run 1 against run 2 of a database of real timings: whether they
# differ is the machine's business, so a verdict (exit 0 or 1 with its
# summary line) is what counts; exit 2 and up is an error. Prints compare's
# output, then "rc=N".
cmp_verdict() {
	local out rc

	out=$("$CDM" compare --db "$1" 1 2 2>&1)
	rc=$?
	printf '%s\nrc=%d\n' "$out" "$rc"
	[ $rc -le 1 ] && printf '%s\n' "$out" | grep -qE '^[0-9]+ regressions?, [0-9]+ improvements?, [0-9]+ cases? broke(; [0-9]+ unchanged measurements? could not have shown a [0-9.]+% change \(more runs a side would\))?$'
}
