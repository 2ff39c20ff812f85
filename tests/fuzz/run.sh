#!/bin/bash
# Run every fuzz target for SECONDS each, from the seed corpus, and print
# libFuzzer's figures. Exits non-zero if any target crashed, leaked, hung
# or could not run; the input that did it is kept under build/fuzz/.
#   tests/fuzz/run.sh SECONDS [TARGET...]
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
S=${1:-60}
shift || true
TARGETS=${*:-$(cd "$TOP/tests/fuzz" && ls fuzz_*.c | sed 's/^fuzz_//; s/\.c$//')}
OUT=$TOP/build/fuzz
rc=0
for t in $TARGETS; do
	bin=$OUT/fuzz-$t
	if [ ! -x "$bin" ]; then
		echo "fuzz $t: $bin is missing (make fuzz-build)"
		rc=1
		continue
	fi
	# new inputs go to a scratch corpus: the seeds in git stay as they are
	work=$OUT/corpus-$t
	mkdir -p "$work" "$OUT/crashes-$t"
	log=$OUT/fuzz-$t.log
	# the database target's inputs are lists of edits: let them be long
	# enough for several from the start (libFuzzer grows lengths slowly)
	extra=""
	[ "$t" = db ] && extra="-max_len=512 -len_control=0"
	# -rss_limit_mb: a unit that wants more than 2 GiB is a finding too;
	# -close_fd_mask=3: the targets' own error lines are not shown
	# (libFuzzer and the sanitizers still report on a copy of stderr)
	# leaks inside Debian's libraries are suppressed, each with its reason
	LSAN_OPTIONS="suppressions=$TOP/tests/fuzz/lsan.supp${LSAN_OPTIONS:+:$LSAN_OPTIONS}" \
	TMPDIR=${TMPDIR:-/tmp} "$bin" -max_total_time="$S" -timeout=10 \
		-rss_limit_mb=2048 -print_final_stats=1 -close_fd_mask=3 \
		-artifact_prefix="$OUT/crashes-$t/" $extra \
		"$work" "$TOP/tests/fuzz/corpus/$t" >"$log" 2>&1
	r=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	cov=$(grep -Eo 'cov: [0-9]+ ft: [0-9]+' "$log" | tail -n 1)
	rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	if [ $r -eq 0 ]; then
		echo "fuzz $t: ${S} s, ${execs:-?} execs (${rate:-?}/s), ${cov:-cov ?}, 0 crashes"
	else
		echo "fuzz $t: FAILED (exit $r) after ${execs:-?} execs; see $log and $OUT/crashes-$t/"
		grep -m 3 -E "ERROR|SUMMARY|runtime error" "$log" | sed 's/^/  /'
		rc=1
	fi
done
exit $rc
