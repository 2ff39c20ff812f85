#!/bin/bash
# make bench: the harness's own costs, as figures (no pass/fail).
#  1. per-sample timing overhead (clock read + cdm_sample)
#  2. samples per second committed to SQLite (goal >= 1,000,000/s)
#  3. a syscall-bound operation as the harness measures it, end to end
#     (cdmbench run, forked case, pipe, SQLite), against a bare loop of the
#     same calls (goal: overhead <= 1%)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
TMP=$(mktemp -d /tmp/cdm-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

# goal NAME VALUE OP LIMIT (OP <= or >=): VALUE must be a number on the
# right side of LIMIT; anything else (a failed command) misses it
ngoals=0 nmissed=0 missed=
goal() {
	ngoals=$((ngoals + 1))
	if awk -v v="$2" -v op="$3" -v l="$4" 'BEGIN { exit !(v ~ /^[-+]?[0-9.]+$/ && (op == "<=" ? v + 0 <= l + 0 : v + 0 >= l + 0)) }'; then
		echo "  goal met: $1"
	else
		echo "  GOAL MISSED: $1 (measured: ${2:-nothing})"
		nmissed=$((nmissed + 1)) missed="$missed $1;"
	fi
}

"$TOP/build/bench" timing || exit 1
"$TOP/build/bench" db "$TMP" >"$TMP/db.out" || exit 1
cat "$TMP/db.out"
goal "samples committed to SQLite >= 1,000,000/s" \
	"$(sed -n 's/.* \([0-9.]*\) samples\/s.*/\1/p' "$TMP/db.out" | head -n 1)" ">=" 1000000

# alternate harness and bare loop five times: the machine's own drift
# between processes is larger than the overhead being measured
# both on one CPU: the two vCPUs of a shared VM differ by more than 1%
PIN=$(command -v taskset >/dev/null && echo "taskset -c 0")
ratios=""
for round in 1 2 3 4 5; do
	rm -f "$TMP/b.db"
	$PIN "$TOP/build/cdmbench" run -q --db "$TMP/b.db" -w selftest --set mode=syscall \
		--set samples=200 --set batch=2000 --set repeat=5 >/dev/null || exit 1
	harness=$(sqlite3 "$TMP/b.db" "select median from results where metric = 'getppid'")
	bare=$($PIN "$TOP/build/bench" bare | sed -n 's/^bare: \([0-9.]*\) ns.*/\1/p')
	ratios="$ratios $harness:$bare"
done
overhead=$(echo "$ratios" | tr ' ' '\n' | awk -F: 'NF == 2 {
	r[n++] = ($1 / $2 - 1) * 100; h[n - 1] = $1; b[n - 1] = $2
} END {
	for (i = 0; i < n; i++) for (j = i + 1; j < n; j++) if (r[j] < r[i]) {
		t = r[i]; r[i] = r[j]; r[j] = t; t = h[i]; h[i] = h[j]; h[j] = t; t = b[i]; b[i] = b[j]; b[j] = t }
	m = int(n / 2)
	printf "syscall: harness measures %.2f ns per getppid() (median of 1000 samples of 2000 calls) against a bare loop of %.2f ns: overhead %+.2f%% (median of %d alternating rounds; range %+.2f%% .. %+.2f%%; goal <= 1%%)\n", h[m], b[m], r[m], n, r[0], r[n - 1]
	printf "%.4f\n", r[m]
}')
echo "$overhead" | sed -n 1p
goal "harness overhead on a syscall-bound operation <= 1%" "$(echo "$overhead" | sed -n 2p)" "<=" 1

# 4. compare, report and history at scale, on synthetic databases made in
#    SQL (tests/bench/mkdb.sh); best of three (goals: < 1 s, < 2 s, < 1 s)
CDM=$TOP/build/cdmbench
. "$TOP/tests/bench/mkdb.sh"
# best of three, in ms; a command that fails (compare's 1, "a regression",
# is an answer, not a failure) is a missed goal, not a timing
best_ms() {
	local best= i t0 t rc
	for i in 1 2 3; do
		t0=$(date +%s%N)
		"$@" >/dev/null 2>"$TMP/err"
		rc=$?
		t=$((($(date +%s%N) - t0) / 1000000))
		if [ $rc -gt 1 ]; then
			echo "# $* exited $rc: $(head -n 2 "$TMP/err")" >&2
			echo failed
			return
		fi
		[ -z "$best" ] || [ "$t" -lt "$best" ] && best=$t
	done
	echo "$best"
}
mkdb_big "$TMP/big.db" 1000000
t=$(best_ms "$CDM" compare --db "$TMP/big.db" 1 2)
echo "compare: two runs of 1,000,000 samples each: $t ms (goal < 1000 ms)"
goal "compare of 1,000,000 samples a side < 1000 ms" "$t" "<=" 1000
mkdb_report "$TMP/rep.db" 100
t=$(best_ms "$CDM" report --db "$TMP/rep.db" 2 -o "$TMP/rep.html")
echo "report: a 100-case run (300 metrics, 300,000 samples), HTML with charts: $t ms, $(($(stat -c %s "$TMP/rep.html" 2>/dev/null || echo 0) / 1024)) KiB (goal < 2000 ms)"
goal "report of a 100-case run < 2000 ms" "$t" "<=" 2000
mkdb_history "$TMP/hist.db" 1000
t=$(best_ms "$CDM" history --db "$TMP/hist.db" case3:to_sys_page)
echo "history: one metric over 1,000 runs with change-point detection: $t ms (goal < 1000 ms)"
goal "history over 1,000 runs < 1000 ms" "$t" "<=" 1000
# the newest 64 runs with no minimum step: the test's threshold is
# simulated for that length on first use
t=$(best_ms "$CDM" history --db "$TMP/hist.db" --limit 64 --min-step 0 case4:to_sys_page)
echo "history: 64 runs, --min-step 0 (a simulated threshold): $t ms (goal < 1000 ms)"
goal "history over 64 runs, simulated threshold < 1000 ms" "$t" "<=" 1000
# false steps: flat synthetic series (2% noise) of 10 runs, 5 a database
cut=0 cut0=0
for i in $(seq 20); do
	rm -f "$TMP/flat.db"
	mkdb_history "$TMP/flat.db" 12
	for c in 0 1 2 4 5; do
		out=$("$CDM" history --db "$TMP/flat.db" --limit 10 case$c:to_dev_bw)
		echo "$out" | grep -q '^0 steps' || cut=$((cut + 1))
		out=$("$CDM" history --db "$TMP/flat.db" --limit 10 --min-step 0 case$c:to_dev_bw)
		echo "$out" | grep -q '^0 steps' || cut0=$((cut0 + 1))
	done
done
echo "history: 100 flat series of 10 runs: a step marked in $cut (default --min-step 5), $cut0 (--min-step 0; alpha 0.05 expects about 5)"
goal "history: flat 10-run series cut at --min-step 0 <= 15 of 100" "$cut0" "<=" 15

# 5. job files load in time linear in their keys (40,000 keys took 6.2 s
#    when each key was checked against every other)
for n in 10000 40000 160000; do
	{ echo "[a]"; echo "workload = selftest"
	  seq 1 $n | sed 's/.*/expect.info.k& = x/'; } >"$TMP/keys.ini"
	echo "job parse: $n keys in one section: $(best_ms "$CDM" run -n --db "$TMP/n.db" "$TMP/keys.ini") ms"
done

# every goal above, checked: the figures are the product, a missed goal
# makes `make bench` exit 1 so it is not read past
echo "goals: $((ngoals - nmissed)) of $ngoals met${missed:+; missed:$missed}"
[ "$nmissed" = 0 ]
