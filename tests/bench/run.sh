#!/bin/bash
# make bench: the harness's own costs, as figures (no pass/fail).
#  1. per-sample timing overhead (clock read + cdm_sample)
#  2. samples per second committed to SQLite (goal >= 1,000,000/s)
#  3. a syscall-bound operation as the harness measures it, end to end
#     (cdmbench run, forked case, pipe, SQLite), against a bare loop of the
#     same calls (goal: overhead <= 1%)
set -eu
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/cdm-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

"$TOP/build/bench" timing
"$TOP/build/bench" db "$TMP"

"$TOP/build/cdmbench" run -q --db "$TMP/b.db" -w selftest --set mode=syscall \
	--set samples=200 --set batch=2000 --set repeat=5 >/dev/null
harness=$(sqlite3 "$TMP/b.db" "select median from results where metric = 'getppid'")
bare=$("$TOP/build/bench" bare | sed -n 's/^bare: \([0-9.]*\) ns.*/\1/p')
awk -v h="$harness" -v b="$bare" 'BEGIN {
	printf "syscall: harness measures %.2f ns per getppid() (median of 1000 samples of 2000 calls), bare loop %.2f ns: overhead %+.2f%% (goal <= 1%%)\n", h, b, (h / b - 1) * 100
}'

# 4. compare, report and history at scale, on synthetic databases made in
#    SQL (tests/bench/mkdb.sh); best of three (goals: < 1 s, < 2 s, < 1 s)
CDM=$TOP/build/cdmbench
. "$TOP/tests/bench/mkdb.sh"
best_ms() {
	local best= i t0 t
	for i in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>&1 || true
		t=$((($(date +%s%N) - t0) / 1000000))
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}
mkdb_big "$TMP/big.db" 1000000
echo "compare: two runs of 1,000,000 samples each: $(best_ms "$CDM" compare --db "$TMP/big.db" 1 2) ms (goal < 1000 ms)"
mkdb_report "$TMP/rep.db" 100
echo "report: a 100-case run (300 metrics, 300,000 samples), HTML with charts: $(best_ms "$CDM" report --db "$TMP/rep.db" 2 -o "$TMP/rep.html") ms, $(($(stat -c %s "$TMP/rep.html") / 1024)) KiB (goal < 2000 ms)"
mkdb_history "$TMP/hist.db" 1000
echo "history: one metric over 1,000 runs with change-point detection: $(best_ms "$CDM" history --db "$TMP/hist.db" case3:to_sys_page) ms (goal < 1000 ms)"
