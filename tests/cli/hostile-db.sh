#!/bin/bash
# Crafted database content: every value a reader sizes a buffer from,
# indexes a table with or looks up is checked first. Each edit below gives
# a one-line error naming the table and row (exit 2), never a crash, and
# `db check` lists it (exit 1).
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/good.db
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
"$CDM" run -q --db "$DB" -w selftest --set repeat=3 >/dev/null 2>&1
[ "$(q "$DB" 'SELECT count(*) FROM runs')" = 2 ]
check "two runs to tamper with" $? "setup runs failed"

# crafted NAME SQL: a copy of the good database with SQL applied
crafted() {
	cp "$DB" "$T_TMP/$1.db"
	sqlite3 "$T_TMP/$1.db" "$2"
	echo "$T_TMP/$1.db"
}

# db check must list the row and exit 1
listed() {
	local rc=0
	"$CDM" db check --db "$2" >"$T_TMP/check" 2>&1 || rc=$?
	if [ $rc = 1 ] && grep -qE -- "$3" "$T_TMP/check"; then
		pass "$1: db check lists it"
	else
		fail "$1: db check lists it" "rc=$rc" "$(cat "$T_TMP/check")"
	fi
}

B=$(crafted bign "UPDATE summaries SET n = 2305843009213693953")
expect_err "n = 2^61+1: compare" 2 "summaries row metric_id [0-9]+: n = 2305843009213693953" "$CDM" compare --db "$B" 1 2
expect_err "n = 2^61+1: report --baseline" 2 "summaries row metric_id [0-9]+: n = 2305843009213693953" "$CDM" report --db "$B" --baseline 1 -o "$T_TMP/r.html" 2
expect_err "n = 2^61+1: compare by selector" 2 "summaries row metric_id" "$CDM" compare --db "$B" job=selftest 2
listed "n = 2^61+1" "$B" "summaries row metric_id 1: n = 2305843009213693953"
B=$(crafted negn "UPDATE summaries SET nonfinite = -5")
expect_err "nonfinite = -5: show" 2 "summaries row metric_id [0-9]+: .*nonfinite = -5" "$CDM" show --db "$B" 1
B=$(crafted textn "UPDATE summaries SET n = 'lots'")
expect_err "n = 'lots': export" 2 "summaries row metric_id [0-9]+: n = 'lots'" "$CDM" export --db "$B" --format json 1

for v in -1000 -1 -2147483648; do
	B=$(crafted uv "PRAGMA user_version = $v")
	expect_err "user_version $v: runs" 2 "user_version $v is not a schema version" "$CDM" runs --db "$B"
	expect_err "user_version $v: db check" 2 "user_version $v is not a schema version" "$CDM" db check --db "$B"
	expect_err "user_version $v: run" 2 "user_version $v is not a schema version" "$CDM" run --db "$B" -w selftest
done

B=$(crafted params "UPDATE cases SET params = '{}'")
expect_err "params = {}: report" 2 "cases row id 1: params: no options" "$CDM" report --db "$B" -o "$T_TMP/r.html" 1
listed "params = {}" "$B" "cases row id 1: params: no options"
B=$(crafted params2 "UPDATE cases SET params = '[1,2'")
expect_err "params not JSON: report" 2 "cases row id 1: params: not a JSON object" "$CDM" report --db "$B" -o "$T_TMP/r.html" 1
# a case written by another version may lack an option: shown, not refused
B=$(crafted params3 "UPDATE cases SET params = json_remove(params, '\$.mode'), workload = 'stream'")
ok_if "params lacking an option: report still works" "$CDM" report --db "$B" -o "$T_TMP/r.html" 1

# enumerations, past the CHECK constraints (another tool need not keep them)
B=$(crafted verdict "PRAGMA ignore_check_constraints = 1; UPDATE cases SET verdict = 'bogus' WHERE run_id = 1")
expect_err "verdict = bogus: export junit" 2 "cases row id 1: verdict = 'bogus'" "$CDM" export --db "$B" --format junit 1
listed "verdict = bogus" "$B" "cases row id 1: verdict = 'bogus'"
B=$(crafted better "PRAGMA ignore_check_constraints = 1; UPDATE metrics SET better = 'sideways'")
expect_err "better = sideways: compare" 2 "metrics row id [0-9]+: better = 'sideways'" "$CDM" compare --db "$B" 1 2
B=$(crafted status "PRAGMA ignore_check_constraints = 1; UPDATE runs SET status = 'weird' WHERE id = 2")
expect_err "status = weird: show" 2 "runs row id 2: status = 'weird'" "$CDM" show --db "$B" 2
B=$(crafted seq "UPDATE cases SET seq = -7 WHERE run_id = 1")
expect_err "seq = -7: report" 2 "cases row id 1: seq = -7" "$CDM" report --db "$B" -o "$T_TMP/r.html" 1
B=$(crafted kev "INSERT INTO kevents (run_id, case_id, seq, ts_usec, level, facility, class, text) VALUES (1, NULL, 1, 5, 99, 0, 'oops', 'x')")
expect_err "kevent level 99: report" 2 "kevents row id 1: level = 99" "$CDM" report --db "$B" -o "$T_TMP/r.html" 1
B=$(crafted samp "UPDATE samples SET value = 'x' WHERE seq = 0")
listed "a sample that is text" "$B" "samples row metric_id 1 seq 0: value = 'x'"
B=$(crafted cnt "DELETE FROM samples WHERE seq = 2")
listed "fewer samples than the summary says" "$B" "n \\+ nonfinite = 3, but the metric has 2 samples"

# the untouched database is clean, and its readers are unaffected
ok_if "db check on a good database" "$CDM" db check --db "$DB"
out=$(cmp_verdict "$DB")
check "compare on a good database gives a verdict (exit 0 or 1)" $? "$out"
