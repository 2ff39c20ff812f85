#!/bin/bash
# Nothing recorded is lost: signals, kill -9 and concurrent writers.
. "$(dirname "$0")/../lib.sh"

cat >"$T_TMP/slow.ini" <<'INI'
[global]
repeat = 50
[fast]
workload = selftest
repeat = 2
[slow]
workload = selftest
mode = slow
sleep = 200ms
[never]
workload = selftest
INI

wait_cases() {	# DB N: until N cases are committed (10 s at most)
	local i
	for i in $(seq 100); do
		[ "$(q "$1" "select count(*) from cases" 2>/dev/null)" -ge "$2" ] 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

for sig in INT TERM; do
	DB=$T_TMP/$sig.db
	"$CDM" run -q --db "$DB" "$T_TMP/slow.ini" >/dev/null 2>&1 &
	pid=$!
	wait_cases "$DB" 1
	sleep 0.5
	kill -s $sig $pid
	wait $pid
	rc=$?
	want=$((128 + $(kill -l $sig)))
	[ $rc = $want ]
	check "SIG$sig: exit status $want" $? "rc=$rc"
	r=$(q "$DB" "select status || '|' || status_reason from runs")
	case "$r" in "interrupted|stopped by signal"*"SIG$sig"*) x=0 ;; *) x=1 ;; esac
	check "SIG$sig: run marked interrupted with the reason" $x "$r"
	r=$(q "$DB" "select group_concat(name || '=' || verdict, ',') from (select * from cases order by seq)")
	[ "$r" = "fast=pass,slow=interrupted" ]
	check "SIG$sig: finished case kept, current one recorded as interrupted" $? "$r"
	[ "$(q "$DB" "select count(*) from samples s join metrics m on m.id = s.metric_id join cases c on c.id = m.case_id where c.name = 'slow'")" -ge 1 ]
	check "SIG$sig: samples of the interrupted case kept" $? ""
done

# kill -9: the case in progress is lost, the finished one is not, and the
# next open of the database marks the run interrupted
DB=$T_TMP/kill.db
"$CDM" run -q --db "$DB" "$T_TMP/slow.ini" >/dev/null 2>&1 &
pid=$!
wait_cases "$DB" 1
sleep 0.3
kill -9 $pid
wait $pid 2>/dev/null
[ "$(q "$DB" "select status from runs")" = running ]
check "kill -9: the row still says running before any reopen" $? ""
"$CDM" runs --db "$DB" >/dev/null
r=$(q "$DB" "select status || '|' || status_reason from runs")
case "$r" in "interrupted|"*"killed"*) x=0 ;; *) x=1 ;; esac
check "kill -9: the next open marks the run interrupted" $x "$r"
[ "$(q "$DB" "select count(*) from cases where name = 'fast' and verdict = 'pass'")" = 1 ]
check "kill -9: the finished case survives" $? ""
out=$("$CDM" db check --db "$DB")
check "kill -9: database passes the integrity check" $? "$out"

# two writers at once on one database: both succeed, nothing lost
DB=$T_TMP/both.db
cat >"$T_TMP/many.ini" <<'INI'
[global]
repeat = 20
[many]
workload = selftest
samples = 2000, 2001, 2002, 2003, 2004, 2005, 2006, 2007
INI
"$CDM" run -q --db "$DB" --tag writer=a "$T_TMP/many.ini" >"$T_TMP/a.out" 2>&1 &
a=$!
"$CDM" run -q --db "$DB" --tag writer=b "$T_TMP/many.ini" >"$T_TMP/b.out" 2>&1 &
b=$!
wait $a
ra=$?
wait $b
rb=$?
[ $ra = 0 ] && [ $rb = 0 ]
check "two concurrent runs both succeed" $? "$(grep -hv '^\[' "$T_TMP/a.out" "$T_TMP/b.out" | head -5)"
want=$(( (2000+2001+2002+2003+2004+2005+2006+2007) * 20 * 2 ))
[ "$(q "$DB" "select count(*) from samples")" = $want ] && [ "$(q "$DB" "select count(*) from runs where status = 'completed'")" = 2 ]
check "concurrent runs: every sample of both is stored ($want)" $? "$(q "$DB" "select count(*) from samples")"

# many writers creating one new database at once: each sees either no
# database or a whole one, never a cdmbench file half made (it once read
# the id before, and the tables after, another run's creation), and none
# warns that WAL is unavailable because another was switching to it
cat >"$T_TMP/tiny.ini" <<'INI'
[one]
workload = selftest
samples = 5
INI
bad=0 why=
for i in $(seq 20); do
	DB=$T_TMP/new$i.db
	pids=
	for k in 1 2 3 4 5 6 7 8; do
		"$CDM" run -q --db "$DB" "$T_TMP/tiny.ini" >"$T_TMP/new$k.out" 2>&1 &
		pids="$pids $!"
	done
	for p in $pids; do
		wait $p || bad=$((bad + 1))
	done
	n=$(q "$DB" "select count(*) from runs where status = 'completed'")
	[ "$n" = 8 ] || { bad=$((bad + 1)); why="$why $DB: $n of 8 runs completed;"; }
	why="$why$(grep -h 'cdmbench:' "$T_TMP"/new?.out | head -2)"
done
[ $bad = 0 ] && [ -z "$why" ]
check "8 runs at once on a new database, 20 times: all complete, none warns" $? "$bad failed;$why"
