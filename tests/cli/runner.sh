#!/bin/bash
# Case isolation: whatever a workload does, its case ends with the right
# verdict and the run goes on; the parent alone writes the database.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/r.db
cat >"$T_TMP/mix.ini" <<'INI'
[global]
repeat = 3
timeout = 1s
[ok]
workload = selftest
[segv]
workload = selftest
mode = crash
[bus]
workload = selftest
mode = sigbus
[hang]
workload = selftest
mode = hang
[exit]
workload = selftest
mode = exit
[failing]
workload = selftest
mode = fail
[skipping]
workload = selftest
mode = skip
[erroring]
workload = selftest
mode = error
[helper-hangs]
workload = selftest
mode = fork-hang
[nan]
workload = selftest
mode = nan
samples = 4
[last]
workload = selftest
INI
start=$(date +%s)
"$CDM" run -q --db "$DB" "$T_TMP/mix.ini" >"$T_TMP/out" 2>&1
rc=$?
took=$(($(date +%s) - start))
[ $rc = 1 ]
check "a run with failures exits 1" $? "rc=$rc $(cat "$T_TMP/out")"
verdict() { q "$DB" "select verdict || '|' || reason from cases where name = '$1'"; }
want() {
	local got
	got=$(verdict "$1")
	case "$got" in $2) pass "$1 -> ${2%%|*}" ;; *) fail "$1 -> ${2%%|*}" "got: $got" ;; esac
}
want ok "pass|"
want segv "crash|killed by signal 11 (SIGSEGV)"
want bus "crash|killed by signal 7 (SIGBUS)"
want hang "timeout|deadline exceeded*"
want exit "error|case process exited with status 7*"
want failing "fail|failing on request*"
want skipping "skip|skipping on request*"
want erroring "error|erroring on request*"
want helper-hangs "pass|"
want last "pass|"
[ "$(q "$DB" "select count(*) from cases")" = 11 ]
check "the run went on after every failure" $? "$(q "$DB" "select name, verdict from cases")"
[ "$(q "$DB" "select count(*) from samples s join metrics m on m.id = s.metric_id join cases c on c.id = m.case_id where c.name = 'segv'")" = 3 ]
check "samples taken before a crash are kept" $? ""
[ "$(q "$DB" "select s.n || '/' || s.nonfinite from summaries s join metrics m on m.id = s.metric_id join cases c on c.id = m.case_id where c.name = 'nan'")" = "9/3" ]
check "NaN samples are stored and counted apart" $? "$(q "$DB" "select * from summaries")"
[ "$took" -lt 20 ]
check "hung cases are killed at their deadline (run took ${took}s)" $? ""
sleep 0.5
! pgrep -f "cdmbench run -q --db $DB" >/dev/null
check "no case process outlives the run" $? "$(pgrep -af cdmbench)"
[ "$(q "$DB" "select status from runs")" = completed ]
check "the run itself completed" $? ""

# kernel log: a user-space WARNING line is recorded with its class but,
# not being the kernel's, does not fail the case
if [ -w /dev/kmsg ]; then
	"$CDM" run -q --db "$DB" -w selftest --set mode=kmsg >/dev/null 2>&1
	r=$(q "$DB" "select c.verdict || '|' || e.class || '|' || e.facility from kevents e join cases c on c.id = e.case_id where e.text like '%cdmbench selftest%'")
	[ "$r" = "pass|warning|1" ]
	check "kernel log records land on their case, classified" $? "$r"
else
	skip "kernel log records land on their case" "/dev/kmsg not writable (not root)"
fi
if [ -r /dev/kmsg ]; then
	[ "$(q "$DB" "select kmsg_status from runs where id = 1")" = ok ]
	check "kmsg status recorded as ok" $? ""
else
	case "$(q "$DB" "select kmsg_status from runs where id = 1")" in unavailable:*) r=0 ;; *) r=1 ;; esac
	check "unreadable kmsg recorded as unavailable" $r ""
fi

# progress: on a terminal, case i/n with elapsed and ETA; off one, silent
if command -v script >/dev/null; then
	script -qec "'$CDM' run --db '$DB' -w selftest --set mode=slow --set sleep=400ms --set repeat=3" /dev/null >"$T_TMP/tty" 2>&1
	grep -qE "\[case 1/1\] selftest +elapsed 00:0[0-9] +ETA" "$T_TMP/tty"
	check "progress on a terminal: case i/n, elapsed, ETA" $? "$(tr '\r' '\n' <"$T_TMP/tty" | head -5)"
else
	skip "progress on a terminal" "script(1) not installed"
fi
"$CDM" run --db "$DB" -w selftest --set mode=slow --set sleep=400ms --set repeat=3 >"$T_TMP/notty" 2>&1
! grep -q $'\r' "$T_TMP/notty" && ! grep -q "ETA" "$T_TMP/notty"
check "no progress output when not on a terminal" $? "$(cat -A "$T_TMP/notty" | head -3)"
