#!/bin/bash
# compare: A/A pairs of real CPU runs stay quiet, an A/B slowdown is
# flagged on the metric it slows and nowhere else, and bad input gets one
# clear line and exit status 2.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/c.db
cat >"$T_TMP/aa.ini" <<'EOF'
[global]
name = aa
repeat = 20
warmup = 2
[stream]
size = 1M
threads = 1
[sleep]
workload = selftest
mode = slow
sleep = 2ms
[syscall]
workload = selftest
mode = syscall
samples = 20
batch = 200
EOF

# --- A/A: the false-positive rate over several pairs of identical runs ---
PAIRS=8
for i in $(seq 1 $((2 * PAIRS))); do
	"$CDM" run -q --db "$DB" --tag aa=yes "$T_TMP/aa.ini" >/dev/null 2>&1
done
total=0 regress=0 sig=0 bad=0
for i in $(seq 1 2 $((2 * PAIRS))); do
	"$CDM" compare --db "$DB" -o json "$i" "$((i + 1))" >"$T_TMP/aa.json"
	rc=$?
	set -- $(python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
for m in d['metrics']:
    if m['change'] == 'regression':
        print('# A/A flagged: runs %s: %s:%s %.4g -> %.4g' % (sys.argv[2], m['case'], m['metric'], m['base']['median'], m['candidate']['median']), file=open(sys.argv[3], 'a'))
print(len(d['metrics']), d['regressions'], sum(m['significant'] for m in d['metrics']), d['exit_status'])
" "$T_TMP/aa.json" "$i/$((i + 1))" "$T_TMP/aa.flagged")
	total=$((total + $1)) regress=$((regress + $2)) sig=$((sig + $3))
	[ "$rc" = "$4" ] || bad=1
done
# Printed, not asserted: how often two runs of this machine differ is the
# machine's behaviour (a getppid() pair once came out -5.97% against the 5%
# threshold), and a bound on it would fail by luck. The verdict's own
# false-positive rate is asserted on synthetic data with fixed seeds
# (unit tests compare_aa_false_positives, drift_shared_aa, compare_drift_aa).
echo "# A/A: $regress regressions and $sig significant changes in $total metric comparisons over $PAIRS pairs of CPU runs"
cat "$T_TMP/aa.flagged" 2>/dev/null
[ "$total" = $((4 * PAIRS)) ]
check "A/A: every pair compared on all 4 metrics" $? "total $total"
check "exit status agrees with the JSON verdict" $bad ""

# --- A/B: one case slowed down, the others left alone ---
ab_job() {
	printf '[global]\nname = ab\nrepeat = 15\n[slowed]\nworkload = selftest\nmode = slow\nsleep = %s\n[steady]\nworkload = selftest\nmode = slow\nsleep = 2ms\n[syscall]\nworkload = selftest\nmode = syscall\nsamples = 20\nbatch = 200\n' "$1" >"$T_TMP/ab-$1.ini"
}
ab_job 2ms
ab_job 4ms
# interleaved, so that the machine drifting meanwhile is not the effect
for i in 1 2 3; do
	"$CDM" run -q --db "$DB" --tag ab=base "$T_TMP/ab-2ms.ini" >/dev/null 2>&1
	"$CDM" run -q --db "$DB" --tag ab=cand "$T_TMP/ab-4ms.ini" >/dev/null 2>&1
done
"$CDM" compare --db "$DB" --ignore sleep ab=base ab=cand >"$T_TMP/ab.txt"
rc=$?
[ $rc = 1 ]
check "A/B: a regression exits 1" $? "rc=$rc $(cat "$T_TMP/ab.txt")"
grep -qE "^slowed +iteration +ns +lower .*\*-[0-9.]+%\* .*REGRESSION$" "$T_TMP/ab.txt"
check "A/B: the slowed case is a REGRESSION, flanked by *" $? "$(cat "$T_TMP/ab.txt")"
! grep -E "^steady " "$T_TMP/ab.txt" | grep -q REGRESSION
check "A/B: the sleep it left alone is not flagged" $? "$(cat "$T_TMP/ab.txt")"
# Printed, not asserted: syscall is CPU-bound, and this machine's speed
# moved by a third between interleaved runs in one clean make test (the
# two CPUs are SMT siblings of a shared host), which compare rightly saw
grep -E "^( *syscall[ :])" "$T_TMP/ab.txt" | sed 's/^/# A\/B, left alone but CPU-bound: /'

grep -q "^base: *ab=base: 3 runs pooled (" "$T_TMP/ab.txt"
check "a selector matching several runs pools them and says so" $? "$(head -n 3 "$T_TMP/ab.txt")"
"$CDM" compare --db "$DB" -o json --ignore sleep ab=base ab=cand >"$T_TMP/ab.json"
python3 - "$T_TMP/ab.json" <<'EOF'
import json, sys
d = json.load(open(sys.argv[1]))
m = {r["case"]: r for r in d["metrics"] if r["metric"] == "iteration"}
s = m["slowed"]
assert s["change"] == "regression" and s["better"] == "lower", s
# a 2 ms sleep against 4 ms: each wake-up adds its latency to both, which
# on a loaded machine took the ratio to 1.896 (2.164 ms against 4.104)
assert 1.5 < s["ratio"] < 2.1 and s["ratio_ci95"][0] < s["ratio"] < s["ratio_ci95"][1], s
assert abs(s["gain_pct"] + 100 * (s["ratio"] - 1)) < 1e-6, s
assert s["q"] < 0.05 and s["base"]["n"] == 45, s
assert m["steady"]["change"] in ("same", "better", "worse"), m["steady"]
assert d["regressions"] >= 1 and d["exit_status"] == 1
assert d["base"]["pooled"] and len(d["candidate"]["runs"]) == 3
EOF
check "--output-format json: ratio, CI, q, direction, pooled runs" $? "$(head -c 1500 "$T_TMP/ab.json")"
# one row per measurement, what changed first; every measurement says the
# smallest change its runs could detect
"$CDM" compare --db "$DB" --ignore sleep --all ab=base ab=cand >"$T_TMP/all.txt"
grep -cE "^(slowed|steady|syscall) " "$T_TMP/all.txt" | grep -qx 3 &&
	[ "$(grep -cE "smallest detectable change, 3 runs a side: \+/-[0-9.]+%" "$T_TMP/all.txt")" = 3 ]
check "--all: every measurement in full, each with the smallest change 3 runs a side detect" $? "$(cat "$T_TMP/all.txt")"
"$CDM" compare --db "$DB" --ignore sleep --threshold 1000 ab=base ab=cand >"$T_TMP/fold.txt"
grep -q "^(no measurement changed)$" "$T_TMP/fold.txt" && grep -q "^unchanged: " "$T_TMP/fold.txt" &&
	[ "$(grep -cE "^  (slowed|steady|syscall):[a-z]+ .*3 runs a side: \+/-" "$T_TMP/fold.txt")" = 3 ] ||
	grep -qE "^slowed .*(worse|REGRESSION|\*)" "$T_TMP/fold.txt"
check "unchanged measurements fold to one line each" $? "$(cat "$T_TMP/fold.txt")"
"$CDM" compare --db "$DB" --ignore sleep --threshold 150 ab=base ab=cand >/dev/null
check "a threshold above the change: no regression, exit 0" $? ""
"$CDM" compare --db "$DB" --latest --ignore sleep ab=base ab=cand | grep -qE "^base: +run 21 "
check "--latest takes the newest matching run" $? ""

# --- a case that broke ---
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
ok_id=$(q "$DB" "select max(id) from runs")
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 --set mode=fail >/dev/null 2>&1
fail_id=$(q "$DB" "select max(id) from runs")
"$CDM" compare --db "$DB" --ignore mode "$ok_id" "$fail_id" >"$T_TMP/broke.txt"
rc=$?
[ $rc = 1 ] && grep -q "BROKE   selftest: pass -> fail: failing on request" "$T_TMP/broke.txt"
check "a case that passed and now fails is listed and exits 1" $? "rc=$rc $(cat "$T_TMP/broke.txt")"

# --- bad input: one line, exit 2, database untouched ---
BEFORE=$(db_digest "$DB")
expect_err "unknown run id" 2 "no run '999' \(see 'cdmbench runs'\)" "$CDM" compare --db "$DB" 1 999
expect_err "a selector matching nothing" 2 "no completed run matches 'kernel=0.0.0'" "$CDM" compare --db "$DB" kernel=0.0.0 1
expect_err "the same run twice" 2 "run 1 is on both sides" "$CDM" compare --db "$DB" 1 1
expect_err "one run given" 2 "expected BASE and CAND" "$CDM" compare --db "$DB" 1
expect_err "runs with nothing in common" 2 "compare: base 1 and candidate $ok_id have no case in common \(base: stream, sleep, syscall; candidate: selftest\)" "$CDM" compare --db "$DB" 1 "$ok_id"
expect_err "bad --threshold" 2 "--threshold lots: expected a number" "$CDM" compare --db "$DB" --threshold lots 1 2
expect_err "bad --alpha" 2 "--alpha 2: expected a number from" "$CDM" compare --db "$DB" --alpha 2 1 2
expect_err "bad --output-format" 2 "--output-format xml: expected text or json" "$CDM" compare --db "$DB" -o xml 1 2
expect_err "bad --ignore" 2 "--ignore a\"b: expected an option name" "$CDM" compare --db "$DB" --ignore 'a"b' 1 2
[ "$(db_digest "$DB")" = "$BEFORE" ]
check "bad input leaves the database as it was" $? ""

# an empty run, and one still being written (owned by another host, so it
# cannot be declared dead from here)
sqlite3 "$DB" "insert into runs (uuid, started_at, status, harness_version, git_revision, job_name, job_text, seed, environment)
	values ('e0e0e0e0-empty', '2030-01-01T00:00:00Z', 'completed', 't', 't', 'empty', '', 1, 'bare-metal');
	insert into runs (uuid, started_at, status, harness_version, git_revision, job_name, job_text, seed, environment, owner_host, owner_pid)
	values ('f0f0f0f0-live', '2030-01-01T00:00:00Z', 'running', 't', 't', 'aa', '', 1, 'bare-metal', 'elsewhere', 4242)"
expect_err "an empty run" 2 "compare: candidate e0e0e0e0 has no cases" "$CDM" compare --db "$DB" 1 e0e0e0e0
expect_err "a run still in progress is refused" 2 "run [0-9]+ is still in progress \(cdmbench pid 4242 on elsewhere\)" "$CDM" compare --db "$DB" 1 f0f0f0f0

# --- NaN and infinite samples ---
N=$T_TMP/nan.db
"$CDM" run -q --db "$N" -w selftest --set mode=nan --set samples=4 --set repeat=5 >/dev/null 2>&1
"$CDM" run -q --db "$N" -w selftest --set mode=nan --set samples=4 --set repeat=5 >/dev/null 2>&1
sqlite3 "$N" "update samples set value = 1e999 where metric_id = 2 and seq = 1"
out=$("$CDM" compare --db "$N" 1 2 2>&1)
rc=$?
[ $rc -le 1 ] && echo "$out" | grep -q "left out: 5 NaN or infinite samples in the base, 6 in the candidate"
check "NaN and infinite samples are counted and left out" $? "rc=$rc $out"
sqlite3 "$N" "update samples set value = null where metric_id = 2"
out=$("$CDM" compare --db "$N" -o json 1 2 2>&1)
[ $? = 0 ] && echo "$out" | python3 -c "
import json, sys
d = json.load(sys.stdin)
m = d['metrics'][0]
assert m['candidate']['n'] == 0 and m['candidate']['median'] is None and m['q'] is None
assert 'no finite samples in the candidate' in m['note']"
check "a side with only NaN: no statistics, a note, valid JSON" $? "$out"

# --- a million samples a side: correct, and memory bounded ---
B=$T_TMP/big.db
"$CDM" run -q --db "$B" -w selftest --set samples=10 --set repeat=1 >/dev/null 2>&1
"$CDM" run -q --db "$B" -w selftest --set samples=10 --set repeat=1 >/dev/null 2>&1
sqlite3 "$B" "delete from samples;
	insert into samples select 1, value, 1000 + (value % 1000) * 0.05 from generate_series(0, 999999);
	insert into samples select 2, value, 1100 + (value % 997) * 0.05 from generate_series(0, 999999);
	update summaries set n = 1000000, nonfinite = 0"
if [ -x /usr/bin/time ]; then
	/usr/bin/time -v "$CDM" compare --db "$B" 1 2 >"$T_TMP/big.txt" 2>"$T_TMP/big.time"
	rc=$?
	rss=$(sed -n 's/.*Maximum resident set size (kbytes): //p' "$T_TMP/big.time")
	secs=$(sed -n 's/.*Elapsed (wall clock) time (h:mm:ss or m:ss): //p' "$T_TMP/big.time")
	echo "# compare of 1,000,000 samples a side: $secs, max RSS $((rss / 1024)) MiB"
	# time and memory are printed (make bench holds those figures)
	[ $rc = 1 ] && grep -q "REGRESSION" "$T_TMP/big.txt"
	check "1,000,000 samples a side: flagged" $? "rc=$rc rss=${rss}k $(cat "$T_TMP/big.txt")"
else
	skip "1,000,000 samples a side" "/usr/bin/time not installed"
fi

# --- a control the kernel changed: a candidate that slows the migration
# and its refault control alike (a slower page allocator) must not pass
# as unchanged in units of refaults; the refault, in units of the copy,
# shows the change, and the migration is measured against the copy ---
. "$TOP/tests/bench/mkdb.sh"
S=$T_TMP/shared.db
mkdb_shared_path "$S"
"$CDM" compare --db "$S" -o json side=base side=cand >"$T_TMP/shared.json"
rc=$?
python3 - "$T_TMP/shared.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
m = {r['metric']: r for r in d['metrics']}
t, f = m['to_sys_bw'], m['refault_bw']
assert t['control'] == 'memcpy_bw' and t.get('control_passed_over') == 'refault_bw', t
assert t['change'] == 'regression' and abs(t['gain_pct'] + 20) < 2, t
assert f['control'] == 'memcpy_bw' and f['change'] == 'regression', f
assert m['memcpy_bw']['change'] == 'same', m['memcpy_bw']
PY
[ $? = 0 ] && [ $rc = 1 ]
check "a control the kernel changed is passed over: both slowdowns found (JSON)" $? "rc=$rc $(head -c 3000 "$T_TMP/shared.json")"
out=$("$CDM" compare --db "$S" side=base side=cand 2>&1)
echo "$out" | grep -q "not measured against refault_bw: it changed between the sides in units of memcpy_bw"
check "compare says which control it passed over, and why (text)" $? "$out"
"$CDM" compare --db "$S" --raw -o json side=base side=cand >"$T_TMP/shared-raw.json"
python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
assert not any('control_passed_over' in m for m in d['metrics'])" "$T_TMP/shared-raw.json"
check "--raw passes over nothing (no control is used)" $? ""
