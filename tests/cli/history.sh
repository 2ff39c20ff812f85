#!/bin/bash
# history: a metric across runs in time order, and the run that introduced
# a step in it, named by id, uuid, kernel and time.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/bench/mkdb.sh"

DB=$T_TMP/h.db
mkdb_history "$DB" 60
# run 2 + 60 * 7 / 10 = 44 is the first with case3 30% slower
out=$("$CDM" history --db "$DB" case3:to_sys_page)
check "history exits 0" $? "$out"
[ "$(echo "$out" | grep -cE '^[ >] +[0-9]+ [0-9a-f]{8} ')" = 60 ]
check "one line per finished run, oldest first" $? "$out"
echo "$out" | grep -qE "^> +44 [0-9a-f]{8} .* step \+(2[6-9]|3[0-4])\.[0-9]% REGRESSION$"
check "the step is marked at the run that introduced it" $? "$out"
echo "$out" | grep -qE "^  run 44 \([0-9a-f]{8}, kernel [^,]+, 2025-01-01T00:44:00.000Z\) introduced a REGRESSION: [34][0-9.]+ -> 5[0-9.]+ ns \(\+(2[6-9]|3[0-4])\.[0-9]%\)$"
check "the run is named by id, uuid, kernel and time" $? "$(echo "$out" | tail -n 3)"
out=$("$CDM" history --db "$DB" case4:to_sys_page)
echo "$out" | grep -q "^0 steps"
check "a flat series has no step" $? "$(echo "$out" | tail -n 3)"
"$CDM" history --db "$DB" -o json case3:to_sys_page | python3 -c "
import json, sys
d = json.load(sys.stdin)
assert d['unit'] == 'ns' and d['better'] == 'lower' and len(d['runs']) == 60
s = d['steps']
assert len(s) == 1 and s[0]['run_id'] == 44 and s[0]['direction'] == 'regression', s
assert 26 < s[0]['change_pct'] < 34"
check "--output-format json: runs and steps" $? ""
# the newest run is listed whether or not it is marked: the series is
# random (SQLite's random() takes no seed), and on 10 runs of a flat one
# history marks a step at some run in about 1 in 20 (3 of 60 measured)
out=$("$CDM" history --db "$DB" --limit 10 case3:to_dev_bw)
[ "$(echo "$out" | grep -cE '^[ >] +[0-9]+ [0-9a-f]{8} ')" = 10 ] && echo "$out" | grep -qE "^[ >] +61 "
check "--limit keeps the newest runs" $? "$out"

# real runs: the newest case decides the parameters; others are counted
R=$T_TMP/r.db
for s in 1ms 1ms 2ms 2ms 2ms; do
	"$CDM" run -q --db "$R" --tag sleep=$s -w selftest --set mode=slow --set sleep=$s --set repeat=5 >/dev/null 2>&1
done
out=$("$CDM" history --db "$R" selftest:iteration)
echo "$out" | grep -q "^(2 older runs with a case of this name but other parameters" &&
	[ "$(echo "$out" | grep -cE '^[ >] +[0-9]+ [0-9a-f]{8} ')" = 3 ]
check "runs of the same name with other parameters are left out and counted" $? "$out"
out=$("$CDM" history --db "$R" --tag sleep=1ms --tag 'host=*' selftest:iteration)
[ "$(echo "$out" | grep -cE '^[ >] +[0-9]+ [0-9a-f]{8} ')" = 2 ]
check "--tag selects runs (tags, host=, globs)" $? "$out"

# bad input
expect_err "no metric given" 2 "history: 'case3': expected CASE:METRIC" "$CDM" history --db "$DB" case3
expect_err "an unknown case, with a hint" 2 "no case named 'cas3'.*did you mean 'case3'" "$CDM" history --db "$DB" cas3:to_sys_page
expect_err "an unknown metric lists the case's metrics" 2 "case 'case3' has no metric 'bw' \(it has: to_dev_bw, to_sys_page\)" "$CDM" history --db "$DB" case3:bw
expect_err "--tag matching nothing" 2 "no finished run has case 'case3' and matches --tag kernel=none" "$CDM" history --db "$DB" --tag kernel=none case3:to_sys_page
expect_err "bad --limit" 2 "--limit 0: expected a number" "$CDM" history --db "$DB" --limit 0 case3:to_sys_page
expect_err "bad --tag" 2 "--tag x: expected KEY=VALUE" "$CDM" history --db "$DB" --tag x case3:to_sys_page

# a thousand runs well within a second
H=$T_TMP/h1000.db
mkdb_history "$H" 1000
t0=$(date +%s%N)
"$CDM" history --db "$H" case3:to_sys_page >"$T_TMP/h1000.txt"
ms=$((($(date +%s%N) - t0) / 1000000))
echo "# history over 1000 runs: $ms ms"
# the time is printed (make bench holds the speed figures), not asserted
grep -qE "^  run 702 .* introduced a REGRESSION" "$T_TMP/h1000.txt"
check "history over 1000 runs: the step found" $? "$ms ms $(tail -n 2 "$T_TMP/h1000.txt")"

# --- a control the kernel moved: the migration and its refault control
# slowed alike from run 6 on (tests/bench/mkdb.sh), the memcpy not. The
# refault steps in units of the memcpy, and the migration, measured
# against the memcpy instead, shows its step ---
S=$T_TMP/shared.db
mkdb_shared_path "$S"
"$CDM" history --db "$S" -o json 'migrate[device=private]:to_sys_bw' >"$T_TMP/sh.json"
rc=$?
python3 - "$T_TMP/sh.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d['control'] == 'memcpy_bw' and d['control_passed_over'] == 'refault_bw', d
s = d['steps']
assert len(s) == 1 and s[0]['run_id'] == 6 and s[0]['direction'] == 'regression' and abs(s[0]['change_pct'] + 20) < 2, s
PY
[ $? = 0 ] && [ $rc = 0 ]
check "a control the kernel moved is passed over, the migration's step found" $? "rc=$rc $(head -c 2000 "$T_TMP/sh.json")"
out=$("$CDM" history --db "$S" 'migrate[device=private]:refault_bw' 2>&1)
echo "$out" | grep -q "normalized by the in-run control (memcpy_bw" &&
	echo "$out" | grep -qE "^>      6 .*step -(19|20)\.[0-9]% REGRESSION"
check "the refault, in units of the memcpy, steps at run 6" $? "$out"
