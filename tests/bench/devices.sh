#!/bin/bash
# Device figures (part of make bench): one emulated-node run of
# configs/bench-devices.ini plus configs/smoke.ini, then tables from SQL:
#  - migration GB/s by size, private and coherent, beside the CPU memcpy of
#    the same size (as a ratio) and move_pages between NUMA nodes
#  - per-page migration latency p50 and p99 by size
#  - private against coherent for every workload's metrics
set -u
TOP=$(cd "$(dirname "$0")/../.." && pwd)
CDM=$TOP/build/cdmbench
DB=${1:-$(mktemp -d /tmp/cdm-bench.XXXXXX)/devices.db}
kernel=$("$TOP/kernel/build.sh" --print-path 2>/dev/null) || {
	echo "devices: SKIP: guest kernel not built (make kernel)"
	exit 0
}
"$CDM" vm run -q --kernel "$kernel" --db "$DB" "$TOP/configs/bench-devices.ini" >/dev/null || echo "devices: note: the bench run had failures (see: $CDM show --db $DB 1)"
"$CDM" vm run -q --kernel "$kernel" --db "$DB" "$TOP/configs/smoke.ini" >/dev/null || echo "devices: note: the smoke run had failures (see: $CDM show --db $DB 2)"
q() { sqlite3 -batch -header -column "$DB" "$1"; }
size_of="json_extract(params, '\$.size')"
bytes_of="(CASE WHEN $size_of LIKE '%K' THEN 1024 WHEN $size_of LIKE '%M' THEN 1048576 ELSE 1 END) * CAST($size_of AS INTEGER)"

echo "== migration bandwidth (GB/s, medians) beside memcpy and move_pages, $(q "select environment from runs where id = 1" | tail -n1)"
q "WITH m AS (SELECT c.id, c.device_type AS dev, $size_of AS size, $bytes_of AS bytes, x.name AS metric, s.median
	FROM cases c JOIN metrics x ON x.case_id = c.id JOIN summaries s ON s.metric_id = x.id WHERE c.run_id = 1)
SELECT p.size,
  printf('%.3f', p.median) AS priv_to_dev, printf('%.3f', (SELECT median FROM m WHERE dev = 'private' AND size = p.size AND metric = 'to_sys_bw')) AS priv_to_sys,
  printf('%.3f', (SELECT median FROM m WHERE dev = 'coherent' AND size = p.size AND metric = 'to_dev_bw')) AS coh_to_dev,
  printf('%.3f', (SELECT median FROM m WHERE dev = 'coherent' AND size = p.size AND metric = 'to_sys_bw')) AS coh_to_sys,
  printf('%.3f', (SELECT median FROM m WHERE dev = 'private' AND size = p.size AND metric = 'memcpy_bw')) AS memcpy,
  printf('%.3f', (SELECT median FROM m WHERE dev = 'system' AND size = p.size AND metric = 'move_bw_there')) AS move_pages,
  printf('%.3f', (SELECT median FROM m WHERE dev = 'private' AND size = p.size AND metric = 'to_sys_bw') / (SELECT median FROM m WHERE dev = 'private' AND size = p.size AND metric = 'memcpy_bw')) AS priv_sys_per_memcpy,
  printf('%.3f', (SELECT median FROM m WHERE dev = 'coherent' AND size = p.size AND metric = 'to_sys_bw') / (SELECT median FROM m WHERE dev = 'coherent' AND size = p.size AND metric = 'memcpy_bw')) AS coh_sys_per_memcpy
FROM m p WHERE p.dev = 'private' AND p.metric = 'to_dev_bw' ORDER BY p.bytes"
echo
echo "== per-page migration latency (ns): p50 / p99"
q "WITH m AS (SELECT c.device_type AS dev, $size_of AS size, $bytes_of AS bytes, x.name AS metric, s.median, s.p99
	FROM cases c JOIN metrics x ON x.case_id = c.id JOIN summaries s ON s.metric_id = x.id WHERE c.run_id = 1 AND c.workload = 'migrate')
SELECT size, dev, printf('%.0f / %.0f', max(CASE WHEN metric = 'to_dev_page' THEN median END), max(CASE WHEN metric = 'to_dev_page' THEN p99 END)) AS to_dev_page,
  printf('%.0f / %.0f', max(CASE WHEN metric = 'to_sys_page' THEN median END), max(CASE WHEN metric = 'to_sys_page' THEN p99 END)) AS to_sys_page
FROM m GROUP BY size, dev ORDER BY bytes, dev"
echo
echo "== private against coherent, every workload of the smoke run (medians)"
q "WITH m AS (SELECT c.workload, c.device_type AS dev, json_remove(c.params, '$.device', '$.repeat', '$.warmup', '$.duration', '$.timeout', '$.kmsg_fail', '$.corrupt_page', '$.instance') AS cell, x.name AS metric, x.unit, s.median
	FROM cases c JOIN metrics x ON x.case_id = c.id JOIN summaries s ON s.metric_id = x.id WHERE c.run_id = 2 AND c.device_type IN ('private', 'coherent'))
SELECT p.workload, replace(replace(replace(p.cell, char(34), ''), '{', ''), '}', '') AS params, p.metric, p.unit, printf('%.4g', p.median) AS private, printf('%.4g', c.median) AS coherent, printf('%.2f', c.median / p.median) AS coh_per_priv
FROM m p JOIN m c ON c.workload = p.workload AND c.metric = p.metric AND c.cell = p.cell AND c.dev = 'coherent'
WHERE p.dev = 'private' ORDER BY p.workload, p.cell, p.metric"
echo
echo "devices: database $DB"
