#!/bin/bash
# How certain is fleet-slurm.sh's "nodes names n4, and only n4"? One
# loopback cluster with n4 slowed, then TRIALS x (cluster run of the
# test's job + cdmbench nodes); prints per trial the exit status, the
# outlier nodes and the robust z of n4 (its smallest over the metrics)
# and of n1..n3 (their largest), then the totals. Not part of make test.
#   tests/fleet/slow-trials.sh [TRIALS]     (CDM_TEST_NO_CGROUP=1 works)
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CDM=${CDM:-$TOP/build/cdmbench}	# a copy, to rebuild while it runs
T_TMP=$(mktemp -d /tmp/cdm-slow-trials.XXXXXX)
. "$TOP/tests/fleet/services.sh"
svc_init "$T_TMP/svc"
slurm_start 4 n4 || { echo "slurm did not start"; exit 1; }
echo "n4 slowed by: $SLOW_HOW (certain: $SLOW_CERTAIN)"
sed -n "/^cat >\"\$T_TMP\/job.ini\"/,/^INI/p" "$TOP/tests/cli/fleet-slurm.sh" | sed '1d;$d' >"$T_TMP/job.ini"
fails=0
for t in $(seq "${1:-20}"); do
	rm -rf "$T_TMP/c"
	"$CDM" cluster run -q --out "$T_TMP/c" "$T_TMP/job.ini" -N4 >"$T_TMP/cl.out" 2>&1 || cat "$T_TMP/cl.out"
	"$CDM" nodes --db "$T_TMP/c/merged.db" >"$T_TMP/n.out" 2>&1
	rc=$?
	ok=no
	[ $rc = 1 ] && grep -qE '^  n4 ' "$T_TMP/n.out" && ! grep -qE '^  n[123] ' "$T_TMP/n.out" && ok=yes
	[ $ok = yes ] || fails=$((fails + 1))
	z=$(sqlite3 -separator ' ' "$T_TMP/c/merged.db" "select c.name || ':' || m.name, n.node, s.median from summaries s
		join metrics m on m.id = s.metric_id join cases c on c.id = m.case_id join run_nodes n on n.run_id = c.run_id" |
	python3 -c '
import math, statistics, sys
cols = {}
for line in sys.stdin:
    k, node, v = line.split()
    cols.setdefault(k, {})[node] = math.log(float(v))
z4, zo, slow, spread = [], [], [], []
for k, c in cols.items():
    good = [x for n, x in c.items() if n != "n4"]
    spread.append(math.exp(max(good) - min(good)))
    slow.append(math.exp(statistics.median(good) - c["n4"]))
    med = statistics.median(c.values())
    mad = statistics.median(abs(x - med) for x in c.values())
    for node, x in c.items():
        z = 0.6745 * (med - x) / mad if mad else float("inf")   # bandwidth: lower is worse
        (z4 if node == "n4" else zo).append(z)
print("%.1f %.1f %.1f  (n4 slower than the median by %.0fx at the least; n1..n3 within %.2fx of each other)" % (max(z4), max(zo), min(z4), min(slow), max(spread)))')
	echo "trial $t: nodes exit $rc, listed: $(grep -oE '^  n[0-9]+' "$T_TMP/n.out" | sort -u | tr -d ' ' | tr '\n' ' ')ok=$ok; z(n4) best metric, z(n1..n3) max, z(n4) worst metric: $z"
	echo "$z" >>"$T_TMP/z"
done
# n4 is listed when one of its metrics is beyond the bound: its best
# metric's z decides; its worst is printed too
awk -v f="$fails" -v n="${1:-20}" 'NR == 1 || $1 < a { a = $1 } NR == 1 || $2 > b { b = $2 } NR == 1 || $3 < c { c = $3 }
	END { printf "%d trials, %d failed; z(n4) on its best metric: min %.1f; z(n1..n3) max %.1f; z(n4) on its worst metric: min %.1f\n", n, f, a, b, c }' "$T_TMP/z"
