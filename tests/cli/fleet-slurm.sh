#!/bin/bash
# cdmbench cluster run on a 4-node Slurm cluster on loopback (munged,
# slurmctld, slurmd n1..n4 as our children, stopped by the EXIT trap): one
# merged database with every node's identity, an outlier listing naming the
# node we slowed (a CPU quota on its slurmd), a report with the node view,
# and nodes that fail or time out mid-run keeping their finished cases.
. "$(dirname "$0")/../lib.sh"
. "$TOP/tests/fleet/services.sh"

missing=$(svc_missing munged slurmctld slurmd srun sinfo scontrol python3 curl)
if [ -n "$missing" ]; then
	skip "4-node Slurm cluster on loopback" "not installed:$missing (harness/setup.sh installs them)"
	exit 0
fi
svc_init "$T_TMP/svc"
if ! slurm_start 4 n4 2>"$T_TMP/slurm.err"; then
	fail "start munged, slurmctld and 4 slurmds on loopback" "$(cat "$T_TMP/slurm.err")" \
		"$(tail -n 5 "$SVC_DIR"/slurm/log/*.log 2>/dev/null)"
	exit 1
fi
pass "munged, slurmctld and slurmd n1..n4 up on loopback (n4 slowed: $SLOW_HOW)"

# samples of 2.5 to 6 ms of CPU each: longer than n4's 1 ms quota, so
# every one of n4's crosses a 100 ms throttle (tests/fleet/slow-trials.sh
# measures how certain the listing is)
cat >"$T_TMP/job.ini" <<'INI'
[global]
name = fleet-test
repeat = 15
warmup = 1
[stream]
size = 32M, 48M
threads = 1
INI
C=$T_TMP/c
"$CDM" cluster run -q --out "$C" "$T_TMP/job.ini" -N4 >"$T_TMP/cluster.out" 2>&1
rc=$?
check "cluster run on 4 nodes exits 0" $rc "rc=$rc: $(tail -n 5 "$T_TMP/cluster.out")"
M=$C/merged.db
[ "$(q "$M" "select count(distinct n.node) || '/' || count(*) from run_nodes n join runs r on r.id = n.run_id where n.slurm_job_id <> '' and n.slurm_step_id <> '' and r.status = 'completed'")" = 4/4 ]
check "one merged database: 4 completed runs, each with its node, Slurm job and step" $? \
	"$(q "$M" "select * from run_nodes")"
[ "$(q "$M" "select group_concat(node, ',') from (select node from run_nodes order by node)")" = n1,n2,n3,n4 ]
check "the nodes are n1..n4 (SLURMD_NODENAME, not the shared hostname)" $? "$(q "$M" "select node from run_nodes")"
sum=0
for f in "$C"/nodes/*.db; do sum=$((sum + $(q "$f" "select count(*) from samples"))); done
[ "$(q "$M" "select count(*) from samples")" = "$sum" ] && [ "$sum" -gt 0 ]
check "the merged database holds every node's samples ($sum)" $? "merged $(q "$M" "select count(*) from samples") != $sum"

"$CDM" nodes --db "$M" >"$T_TMP/nodes.out" 2>&1
rc=$?
sed 's/^/# /' "$T_TMP/nodes.out"
if [ "$SLOW_CERTAIN" = 1 ]; then
	[ $rc = 1 ] && grep -qE '^  n4 ' "$T_TMP/nodes.out" && ! grep -qE '^  n[123] ' "$T_TMP/nodes.out"
	check "nodes exits 1 and names the slowed node n4, and only n4" $? "rc=$rc"
else
	skip "nodes names the slowed node n4, and only n4" \
		"n4 $SLOW_HOW (cgroup v1 cpu or v2 cpu.max)"
fi

run=$(q "$M" "select run_id from run_nodes where node = 'n1'")
ok_if "report of a node's run" "$CDM" report --db "$M" -o "$T_TMP/r.html" "$run"
grep -q '<h2 id="nodes">Nodes</h2>' "$T_TMP/r.html" && grep -q 'aria-label="node by metric heatmap"' "$T_TMP/r.html" &&
	grep -q '<title>n4 stream' "$T_TMP/r.html" &&
	{ [ "$SLOW_CERTAIN" != 1 ] || grep -q '1 outlier node' "$T_TMP/r.html"; }
rc=$?
what="the report has the node view: heatmap, strips"
[ "$SLOW_CERTAIN" = 1 ] && what="$what, the outlier n4"
check "$what" $rc "$(grep -c svg "$T_TMP/r.html") svg lines"

# the fleet's samples where the dashboards read them: influxd on loopback
if [ -z "$(svc_missing influxd)" ] && "$CDM" --version | grep -q 'libcurl .*push' &&
   influx_start 2>"$T_TMP/influx.err"; then
	IURL=http://127.0.0.1:$INFLUX_PORT
	curl -sf -XPOST "$IURL/query" --data-urlencode "q=CREATE DATABASE fleet" >/dev/null
	"$CDM" push -q --db "$M" --url "$IURL" --database fleet
	rc=$?
	per_node=$(curl -sf -G "$IURL/query" --data-urlencode db=fleet \
		--data-urlencode 'q=SELECT count(value) FROM cdmbench GROUP BY node' | python3 -c '
import json, sys
for s in sorted(json.load(sys.stdin)["results"][0]["series"], key=lambda s: s["tags"]["node"]):
    print("%s %d" % (s["tags"]["node"], s["values"][0][1]))')
	want=$(q "$M" "select n.node || ' ' || count(*) from samples s join metrics m on m.id = s.metric_id join cases c on c.id = m.case_id join run_nodes n on n.run_id = c.run_id where s.value is not null group by n.node order by n.node")
	[ $rc = 0 ] && [ "$per_node" = "$want" ]
	check "every point readable back from InfluxDB, per node counts equal the database's" $? \
		"rc=$rc influx: $per_node; db: $want"
else
	skip "push the fleet to InfluxDB" "influxd or libcurl missing: $(cat "$T_TMP/influx.err" 2>/dev/null)"
fi

# a node whose run dies mid-run (kill -9 of its cdmbench on n3)
cat >"$T_TMP/slow.ini" <<'INI'
[global]
name = fleet-slow
[a]
workload = selftest
repeat = 2
[b]
workload = selftest
mode = slow
sleep = 200ms
repeat = 40
INI
C2=$T_TMP/c2
"$CDM" cluster run -q --out "$C2" "$T_TMP/slow.ini" -N4 >"$T_TMP/c2.out" 2>&1 &
cpid=$!
victim=""
for i in $(seq 100); do
	[ "$(q "$C2/nodes/n3.db" "select count(*) from cases" 2>/dev/null)" -ge 1 ] 2>/dev/null && break
	sleep 0.1
done
# the runner itself (its parent is the cluster task), not a case's child
for p in $(pgrep -f "cdmbench run " | sed 's#^#/proc/#'); do
	{
		tr '\0' '\n' <"$p/environ" | grep -qx SLURMD_NODENAME=n3 &&
		tr '\0' ' ' <"$p/cmdline" | grep -q "cdmbench run " &&
		pp=$(awk '/^PPid:/ {print $2}' "$p/status") &&
		tr '\0' ' ' <"/proc/$pp/cmdline" | grep -q "cdmbench cluster task" &&
		victim=${p#/proc/}
	} 2>/dev/null
done
[ -n "$victim" ] && kill -KILL "$victim"
wait $cpid
rc=$?
r=$(q "$C2/merged.db" "select r.status || '|' || r.status_reason || '|' || (select count(*) from cases c where c.run_id = r.id) from runs r join run_nodes n on n.run_id = r.id where n.node = 'n3'")
case "$r" in interrupted*"died of signal 9"*"|"[1-9]*) true ;; *) false ;; esac
check "a node killed mid-run keeps its finished cases, marked interrupted with why (pid $victim)" $? "$r"
[ $rc = 1 ] && [ "$(q "$C2/merged.db" "select count(*) from runs where status = 'completed'")" = 3 ]
check "the other nodes complete; cluster run exits 1" $? "rc=$rc"
"$CDM" nodes --db "$C2/merged.db" >"$T_TMP/n2.out" 2>&1
rc=$?
[ $rc = 1 ] && grep -qE '^  n3 +run .* interrupted' "$T_TMP/n2.out"
check "nodes lists n3 as failing" $? "rc=$rc $(cat "$T_TMP/n2.out")"

# every node past its deadline: stopped, finished cases kept and marked
# (n1..n3: the throttled n4 may not finish even the first case in time)
C3=$T_TMP/c3
"$CDM" cluster run -q --timeout 1500ms --out "$C3" "$T_TMP/slow.ini" -N3 --exclude=n4 >"$T_TMP/c3.out" 2>&1
rc=$?
r=$(q "$C3/merged.db" "select count(*) from runs r where r.status = 'interrupted' and r.status_reason like '%timeout%expired%' and (select count(*) from cases c where c.run_id = r.id) >= 1")
[ $rc = 1 ] && [ "$r" = 3 ]
check "--timeout stops every node, keeps its finished cases, marks the run" $? "rc=$rc, $r of 4: $(q "$C3/merged.db" "select status, status_reason from runs")"

# nothing of ours left running: daemons, slurmstepd, tasks, the cgroup
pids=("${SVC_PIDS[@]}")
svc_stop_all
left=$(svc_strays)
for p in "${pids[@]}"; do kill -0 "$p" 2>/dev/null && left="$left $p"; done
[ -z "$left" ] && { [ -z "$SVC_CGROUP" ] || [ ! -d "$SVC_CGROUP" ]; }
check "stopped: every daemon, step and task of the test cluster, and its cgroup" $? "left: $left $SVC_CGROUP"
