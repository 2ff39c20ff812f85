#!/bin/bash
# make bench: what the engine layer adds to a dmirror migration, in the
# emulated node. The engine-cost workload times the same round trip
# through the dmirror engine and as the bare test_hmm ioctl, alternating;
# the figure is the ratio of the medians (goal: at most +1%), per size and
# device type, with the number of samples behind each median.
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CDM=$TOP/build/cdmbench
DB=${1:-$(mktemp -d /tmp/cdm-bench.XXXXXX)/engine.db}
mkdir -p "$(dirname "$DB")"
kernel=$("$TOP/kernel/build.sh" --print-path 2>/dev/null) || {
	echo "engine: SKIP: guest kernel not built (make kernel)"
	exit 0
}
cat >"${DB%.db}.ini" <<'INI'
[global]
seed = 1
warmup = 5
repeat = 4000
kmsg_fail = no
[engine-cost]
device = private, coherent
size = 4K, 64K
INI
"$CDM" vm run -q --kernel "$kernel" --db "$DB" "${DB%.db}.ini" >/dev/null ||
	echo "engine: note: the run had failures (see: $CDM show --db $DB 1)"
q() { sqlite3 -batch -header -column "$DB" "$1"; }
echo "== the engine layer on a dmirror migration: engine / bare ioctl, medians in us ($(sqlite3 "$DB" "select environment from runs where id = 1"))"
q "WITH m AS (SELECT c.id, c.device_type AS dev, json_extract(c.params, '\$.size') AS size, c.verdict, x.name AS metric, s.median, s.n
	FROM cases c JOIN metrics x ON x.case_id = c.id JOIN summaries s ON s.metric_id = x.id WHERE c.run_id = 1 AND c.workload = 'engine-cost')
SELECT e.dev, e.size, e.verdict, replace(e.metric, 'engine_', '') AS move, e.n AS samples,
  printf('%.1f', e.median) AS engine_us, printf('%.1f', b.median) AS bare_us,
  printf('%+.2f%%', (e.median / b.median - 1) * 100) AS overhead
FROM m e JOIN m b ON b.id = e.id AND b.metric = replace(e.metric, 'engine_', 'bare_')
WHERE e.metric LIKE 'engine_%' ORDER BY e.dev, e.size, e.metric"
echo
echo "== paired: each iteration's engine round trip over the bare one next to it (median, its ~95% interval from MAD/sqrt(n))"
q "SELECT c.device_type AS dev, json_extract(c.params, '\$.size') AS size, replace(x.name, '_engine_over_bare_pct', '') AS move, s.n AS pairs,
  printf('%+.2f%%', s.median) AS overhead, printf('%+.2f%% .. %+.2f%%', s.median - 1.96 * 1.2533 * 1.4826 * s.mad / sqrt(s.n), s.median + 1.96 * 1.2533 * 1.4826 * s.mad / sqrt(s.n)) AS interval
FROM cases c JOIN metrics x ON x.case_id = c.id JOIN summaries s ON s.metric_id = x.id
WHERE c.run_id = 1 AND x.name LIKE '%_over_bare_pct' ORDER BY dev, size, move"
"$TOP/build/bench" engine
echo "engine: goal: overhead <= +1% on every row (the emulated node's noise bounds what a row can show: see the interval); database $DB"
