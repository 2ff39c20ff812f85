#!/bin/bash
# The device workloads in the emulated node: configs/smoke.ini runs every
# workload on both device types with every verdict PASS on the stock
# kernel, and verification is live: data changed behind a workload's back
# (a dmirror WRITE between phases) is caught and reported naming the page.
. "$(dirname "$0")/../lib.sh"

KERNEL=$("$TOP/kernel/build.sh" --print-path 2>/dev/null) || {
	fail "guest kernel is built" "kernel/build.sh --print-path: not built (make test builds it)"
	exit 0
}
DB=$T_TMP/d.db

"$CDM" vm run -q --kernel "$KERNEL" --db "$DB" "$TOP/configs/smoke.ini" >"$T_TMP/smoke.out" 2>&1
rc=$?
check "smoke.ini in the emulated node exits 0" $rc "$(grep -vE '^ +pass|^\[.*\] pass' "$T_TMP/smoke.out" | tail -n 12)"
bad=$(q "$DB" "select name || ': ' || verdict || ' ' || reason from cases where verdict != 'pass'")
[ -z "$bad" ]
check "smoke.ini: every verdict PASS" $? "$bad"
for w in stream numa-migrate migrate fault-back pin-longterm fork-cow concurrent atomics teardown stress selftests; do
	want=2
	case $w in stream|numa-migrate) want=1 ;; selftests) want=1 ;; esac
	n=$(q "$DB" "select count(distinct device_type) from cases where workload = '$w' and verdict = 'pass' and seq < (select count(*) from cases where name not like '%/%')")
	[ "$n" -ge "$want" ]
	check "smoke.ini: $w passed ($n device type(s))" $? ""
done
for t in private coherent; do
	[ "$(q "$DB" "select count(distinct workload) from cases where device_type = '$t' and verdict = 'pass'")" -ge 9 ]
	check "smoke.ini: nine or more workloads pass on $t memory" $? "$(q "$DB" "select distinct workload from cases where device_type = '$t'")"
done
up=$(q "$DB" "select count(*) from cases where name like 'upstream/%' and verdict = 'pass'")
[ "$up" -ge 58 ]
check "upstream hmm-tests and gup_test recorded test by test ($up passed)" $? "$(q "$DB" "select name, verdict from cases where name like 'upstream/%' and verdict != 'pass'")"
[ "$(q "$DB" "select count(*) from expectations where run_id = 1 and status != 'pass'")" = 0 ] &&
	[ "$(q "$DB" "select count(*) from expectations where run_id = 1")" -ge 40 ]
check "smoke.ini: every expectation met" $? "$(q "$DB" "select case_name, expectation, status, detail from expectations where run_id = 1 and status != 'pass' limit 5")"

# verification is live: a device write behind each workload's back
cat >"$T_TMP/tamper.ini" <<'INI'
[global]
repeat = 1
warmup = 0
kmsg_fail = no
[migrate]
device = private, coherent
size = 256K
corrupt_page = 37
[fault-back]
device = private, coherent
size = 256K
corrupt_page = 21
[fork-cow]
device = private, coherent
size = 256K
corrupt_page = 9
[atomics]
device = private, coherent
size = 256K
corrupt_page = 7
[teardown]
device = private, coherent
size = 256K
duration = 1s
corrupt_page = 0
[concurrent]
device = private, coherent
size = 256K
duration = 1s
corrupt_page = 5
INI
"$CDM" vm run -q --kernel "$KERNEL" --db "$DB" "$T_TMP/tamper.ini" >"$T_TMP/t.out" 2>&1
rc=$?
[ $rc = 1 ]
check "tampered data makes vm run exit 1" $? "rc=$rc"
run=$(q "$DB" "select max(id) from runs")
while IFS='|' read -r name verdict page reason; do
	case "$verdict|$reason" in
	"fail|"*"page $page "*|"fail|"*"page $page"[!0-9]*) pass "tampering caught: $name names page $page" ;;
	*) fail "tampering caught: $name names page $page" "$verdict: $reason" ;;
	esac
done < <(q "$DB" "select name, verdict, json_extract(params, '\$.corrupt_page'), reason from cases where run_id = $run order by seq")
