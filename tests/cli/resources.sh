#!/bin/bash
# Bounded resources: a case process dies with cdmbench (kill -9 of the
# parent leaves nothing running), and the limits `list` states hold.
. "$(dirname "$0")/../lib.sh"

DB=$T_TMP/r.db
# kill -9 cdmbench while its case hangs: the case process (and a helper
# it forked) must not be reparented and live on
for mode in hang; do
	"$CDM" run -q --db "$DB" -w selftest --set mode=$mode --set timeout=10m >/dev/null 2>&1 &
	parent=$!
	kids=""
	for _ in $(seq 1 100); do
		kids=$(pgrep -P "$parent" | tr '\n' ' ')
		[ -n "$kids" ] && break
		sleep 0.1
	done
	# the case process group: the case and what it forked
	sleep 0.5
	group=$(pgrep -g "$(echo $kids | cut -d' ' -f1)" | tr '\n' ' ')
	kill -9 "$parent"
	wait "$parent" 2>/dev/null
	left=""
	for _ in $(seq 1 50); do
		left=""
		for p in $group; do
			[ -d "/proc/$p" ] && [ "$(cut -d' ' -f3 "/proc/$p/stat" 2>/dev/null)" != Z ] && left="$left $p"
		done
		[ -z "$left" ] && break
		sleep 0.1
	done
	if [ -z "$kids" ]; then
		fail "kill -9 of cdmbench ends the case ($mode)" "no case process seen"
	else
		[ -z "$left" ]
		check "kill -9 of cdmbench ends the case ($mode: processes $group)" $? "still running:$left $(ps -o pid,ppid,stat,cmd -p "${left# }" 2>/dev/null)"
	fi
	for p in $left; do kill -9 "$p" 2>/dev/null; done
done

expect_err "duration over the stated limit" 2 "duration.*168h|out of range|at most" "$CDM" run --db "$DB" -w selftest --set duration=100000h
expect_err "repeat over the stated limit" 2 "repeat" "$CDM" run --db "$DB" -w selftest --set repeat=100000001
"$CDM" list >"$T_TMP/list"
grep -q "at most 100000000 samples per metric" "$T_TMP/list"
check "list states the sample limit" $? "$(grep -i limit "$T_TMP/list")"
grep -qE "duration +duration +0 +0\.\.168h" "$T_TMP/list"
check "list states the duration limit" $? "$(grep duration "$T_TMP/list" | head -2)"
