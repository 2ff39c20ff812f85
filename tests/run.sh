#!/bin/bash
# Run every test and print one summary line: "N passed, N failed, N skipped".
# Unit tests (TAP from build/unit-tests), then the CLI scripts in
# tests/cli/, then the emulated-node tests in tests/vm/ (which SKIP with
# the reason when the node cannot be built or booted here).
#   tests/run.sh [PATTERN]   only scripts whose name contains PATTERN
set -u
TOP=$(cd "$(dirname "$0")/.." && pwd)
cd "$TOP" || exit 2
LOG=$TOP/build/test.log
: >"$LOG"
pattern=${1:-}

# a script that dies without saying 'not ok' still counts as a failure
tally_script() {
	local name=$1
	shift
	local out rc
	out=$("$@" 2>>"$LOG")
	rc=$?
	printf '%s\n' "$out" | count_lines
	if [ $rc -ne 0 ] && ! printf '%s\n' "$out" | grep -q "^not ok"; then
		echo "not ok - $name: exited with status $rc without reporting a failure" | count_lines
	fi
}

count_lines() {
	local line
	while IFS= read -r line; do
		[ -z "$line" ] && continue
		printf '%s\n' "$line" | tee -a "$LOG"
		case "$line" in
		"not ok"*) echo F ;;
		"ok"*"# SKIP"*) echo S ;;
		"ok"*) echo P ;;
		esac >>"$LOG.tally"
	done
}

rm -f "$LOG.tally"
if [ -z "$pattern" ] || [[ unit == *"$pattern"* ]]; then
	tally_script unit "$TOP/build/unit-tests"
fi
for t in tests/cli/*.sh tests/vm/*.sh; do
	[ -e "$t" ] || continue
	[ -n "$pattern" ] && [[ $t != *"$pattern"* ]] && continue
	echo "# $t" | tee -a "$LOG"
	tally_script "$t" bash "$t"
done
passed=$(grep -c P "$LOG.tally" 2>/dev/null)
failed=$(grep -c F "$LOG.tally" 2>/dev/null)
skipped=$(grep -c S "$LOG.tally" 2>/dev/null)
rm -f "$LOG.tally"
echo "${passed:-0} passed, ${failed:-0} failed, ${skipped:-0} skipped"
[ "${failed:-0}" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
