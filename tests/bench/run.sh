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
