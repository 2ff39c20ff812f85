#!/bin/bash
# make bench, fleet part: figures, no pass/fail.
#  1. merge + outlier analysis of N synthetic node databases of 100 cases
#     each, N = 100, 1,000, 10,000 (goal: 10,000 in < 60 s on 2 cores)
#  2. push of 1,000,000 samples to a local influxd (goal: < 30 s)
# FLEET_NODES="100 1000" shortens it.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CDM=$TOP/build/cdmbench
T_TMP=$(mktemp -d /tmp/cdm-bench-fleet.XXXXXX)
. "$TOP/tests/fleet/services.sh"
svc_init "$T_TMP/svc"
PIN=$(command -v taskset >/dev/null && echo "taskset -c 0,1")

# one real node database: 100 cases of 10 samples (a matrix over the
# selftest's batch size), under a Slurm-like environment so it carries a
# node identity
{
	echo "[global]"
	echo "repeat = 10"
	echo "warmup = 0"
	echo "[c]"
	echo "workload = selftest"
	echo "samples = 1"
	printf 'batch = %s\n' "$(seq -s, 1 100)"
} >"$T_TMP/t.ini"
SLURMD_NODENAME=n0 SLURM_JOB_ID=1 SLURM_STEP_ID=0 \
	"$CDM" run -q --db "$T_TMP/template.db" "$T_TMP/t.ini" >/dev/null 2>&1
sqlite3 "$T_TMP/template.db" "PRAGMA wal_checkpoint(TRUNCATE)" >/dev/null
cases=$(sqlite3 "$T_TMP/template.db" "select count(*) from cases")
samples=$(sqlite3 "$T_TMP/template.db" "select count(*) from samples")
for n in ${FLEET_NODES-100 1000 10000}; do
	rm -rf "$T_TMP/nodes" "$T_TMP/m.db"*
	python3 "$TOP/tests/bench/mkfleet.py" "$T_TMP/template.db" "$T_TMP/nodes" "$n"
	# CPU seconds beside wall seconds: on a shared machine the wall time
	# says more about the neighbours than about cdmbench
	/usr/bin/time -f "%e %U %S" -o "$T_TMP/t1" $PIN "$CDM" merge -q -o "$T_TMP/m.db" "$T_TMP"/nodes/*.db
	/usr/bin/time -f "%e %U %S" -o "$T_TMP/t2" $PIN "$CDM" nodes --db "$T_TMP/m.db" --limit 3 >"$T_TMP/nodes.out"
	out=$(tail -n 1 "$T_TMP/nodes.out")
	read -r w1 u1 s1 < <(tail -n 1 "$T_TMP/t1")
	read -r w2 u2 s2 < <(tail -n 1 "$T_TMP/t2")
	awk -v n="$n" -v c="$cases" -v s="$samples" -v w1="$w1" -v c1="$(echo "$u1 + $s1" | bc)" \
	    -v w2="$w2" -v c2="$(echo "$u2 + $s2" | bc)" -v o="$out" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		printf "fleet: %d node databases (%d cases, %d samples each): merge %.1f s wall / %.1f s CPU (%.2f ms CPU per node), outlier analysis %.1f s wall / %.1f s CPU; total %.1f s wall (goal at 10,000: < 60 s; load average %s); %s\n",
			n, c, s, w1, c1, c1 * 1000 / n, w2, c2, w1 + w2, l, o }'
done
rm -rf "$T_TMP/nodes"

# 2. 1,000,000 samples to influxd on loopback
if [ -z "$(svc_missing influxd)" ] && influx_start 2>/dev/null; then
	curl -sf -XPOST "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode "q=CREATE DATABASE bench" >/dev/null
	"$CDM" run -q --db "$T_TMP/p.db" -w selftest --set samples=250000 --set repeat=4 --set warmup=0 >/dev/null 2>&1
	n=$(sqlite3 "$T_TMP/p.db" "select count(*) from samples where value is not null")
	t0=$(date +%s.%N)
	/usr/bin/time -f "%U %S" -o "$T_TMP/tp" "$CDM" push -q --db "$T_TMP/p.db" --url "http://127.0.0.1:$INFLUX_PORT" --database bench
	rc=$?
	t1=$(date +%s.%N)
	read -r pu ps < <(tail -n 1 "$T_TMP/tp")
	got=$(curl -sf -G "http://127.0.0.1:$INFLUX_PORT/query" --data-urlencode db=bench \
		--data-urlencode 'q=SELECT count(value) FROM cdmbench' | python3 -c 'import json,sys; print(json.load(sys.stdin)["results"][0]["series"][0]["values"][0][1])')
	awk -v n="$n" -v a="$t0" -v b="$t1" -v g="$got" -v rc="$rc" -v c="$(echo "$pu + $ps" | bc)" -v l="$(cut -d' ' -f1 /proc/loadavg)" 'BEGIN {
		printf "fleet: push %d samples to influxd 1.x on loopback: %.1f s wall, %.0f points/s (cdmbench itself %.1f s CPU; the rest is influxd), %s read back, exit %d (goal < 30 s; load average %s)\n",
			n, b - a, n / (b - a), c, g, rc, l }'
else
	echo "fleet: push benchmark skipped: influxd not installed or did not start"
fi
