#!/bin/bash
# What counting kernel events costs a migration (part of make bench; goal:
# at most 2%). One emulated-node run alternates migrate cases with
# counters = off and on (same size, same device), so both see the same
# boot and the same drift; the figures are the medians of each side's case
# medians, for the timed ioctl (to_dev_op, to_sys_op: the in-kernel cost
# of counting software events, and of tracepoints with tracepoints = yes)
# and, separately, what the
# two snapshots around a phase take outside the timed ioctl.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CDM=$TOP/build/cdmbench
TMP=$(mktemp -d /tmp/cdm-bench.XXXXXX)
trap 'rm -rf "$TMP"' EXIT
DB=$TMP/counters.db
kernel=$("$TOP/kernel/build.sh" --print-path 2>/dev/null) || {
	echo "counters: SKIP: guest kernel not built (make kernel)"
	exit 0
}
PAIRS=${PAIRS:-4}
{
	echo "[global]"
	echo "repeat = 10"
	echo "warmup = 2"
	for i in $(seq 1 "$PAIRS"); do
		for c in off on trace; do
			printf '[%s%d]\nworkload = migrate\ndevice = private, coherent\nsize = 4M\ncounters = %s\ntracepoints = %s\n' \
				"$c" "$i" "$([ $c = off ] && echo off || echo on)" "$([ $c = trace ] && echo yes || echo no)"
		done
	done
} >"$TMP/c.ini"
"$CDM" vm run -q --kernel "$kernel" --db "$DB" "$TMP/c.ini" >"$TMP/out" 2>&1 ||
	echo "counters: note: the run had failures: $(tail -n 3 "$TMP/out")"
q() { sqlite3 -batch -header -column "$DB" "$1"; }

echo "== counting on against off, migrate 4M, $PAIRS alternating pairs of cases, 10 iterations each ($(sqlite3 "$DB" "select environment from runs where id = 1"))"
q "WITH m AS (SELECT c.device_type AS dev, json_extract(c.params, '\$.counters') || CASE json_extract(c.params, '\$.tracepoints') WHEN 'yes' THEN '+trace' ELSE '' END AS cnt, x.name AS metric, s.median
	FROM cases c JOIN metrics x ON x.case_id = c.id JOIN summaries s ON s.metric_id = x.id
	WHERE c.verdict = 'pass' AND x.name IN ('to_dev_op', 'to_sys_op')),
med AS (SELECT dev, metric, cnt, median, row_number() OVER (PARTITION BY dev, metric, cnt ORDER BY median) AS k,
	count(*) OVER (PARTITION BY dev, metric, cnt) AS n FROM m),
mid AS (SELECT dev, metric, cnt, avg(median) AS v, min(median) AS lo, max(median) AS hi, max(n) AS n FROM med
	WHERE k IN ((n + 1) / 2, (n + 2) / 2) GROUP BY dev, metric, cnt),
sp AS (SELECT dev, metric, cnt, min(median) AS lo, max(median) AS hi FROM m GROUP BY dev, metric, cnt)
SELECT o.dev, o.metric, n.cnt AS counting, o.n AS cases, printf('%.1f', o.v) AS off_us, printf('%.1f', n.v) AS on_us,
	printf('%+.2f%%', (n.v / o.v - 1) * 100) AS counting_adds,
	printf('%.1f..%.1f', so.lo, so.hi) AS off_range_us, printf('%.1f..%.1f', sn.lo, sn.hi) AS on_range_us
FROM mid o JOIN mid n ON n.dev = o.dev AND n.metric = o.metric AND n.cnt != 'off'
JOIN sp so ON so.dev = o.dev AND so.metric = o.metric AND so.cnt = 'off'
JOIN sp sn ON sn.dev = o.dev AND sn.metric = o.metric AND sn.cnt = n.cnt
WHERE o.cnt = 'off' ORDER BY o.dev, o.metric, n.cnt"
echo
echo "== the two snapshots around a phase, outside the timed ioctl: 2 x (phase wall time per entry, which holds the end snapshot, minus the ioctl's mean)"
q "WITH p AS (SELECT k.case_id, k.phase, k.value AS ns FROM case_counters k WHERE k.source = 'phase' AND k.event = 'ns' AND k.phase IN ('to_dev', 'to_sys')),
cnt AS (SELECT k.case_id, k.phase, k.value AS n FROM case_counters k WHERE k.source = 'phase' AND k.event = 'count'),
op AS (SELECT x.case_id, substr(x.name, 1, 6) AS phase, avg(s.value) * 1000 AS ns FROM metrics x JOIN samples s ON s.metric_id = x.id WHERE x.name IN ('to_dev_op', 'to_sys_op') GROUP BY x.id)
SELECT c.device_type AS dev, p.phase, count(*) AS cases, printf('%.0f', 2 * avg(p.ns / cnt.n - op.ns)) AS snapshots_ns_per_phase,
	printf('%.3f%%', 2 * avg((p.ns / cnt.n - op.ns) / op.ns) * 100) AS of_the_migration
FROM p JOIN cnt ON cnt.case_id = p.case_id AND cnt.phase = p.phase JOIN op ON op.case_id = p.case_id AND op.phase = p.phase
JOIN cases c ON c.id = p.case_id GROUP BY c.device_type, p.phase ORDER BY 1, 2"
echo "counters: goal: counting adds at most 2% to a migration (TCG timing noise between identical cases is shown by the ranges)"
