# shellcheck shell=bash
# Large synthetic databases for the compare/history/report benchmarks and
# tests, made in SQL (generate_series) in a second or two rather than by
# running millions of samples through the harness. Values are in the
# ranges the device workloads produce: page migrations of 2-20 us, copy
# bandwidths of 2-15 GB/s. Source this file; each function takes the
# cdmbench binary in $CDM.

# a database with one real run: schema, host and kernel rows
mkdb_seed() {
	"$CDM" run -q --db "$1" -w selftest --set samples=10 --set repeat=1 >/dev/null 2>&1
}

# uniform in [0,1), and roughly normal (Irwin-Hall of 4), in SQL
MKDB_U="((abs(random()) % 1000000) / 1000000.0)"
MKDB_N="(($MKDB_U + $MKDB_U + $MKDB_U + $MKDB_U - 2.0) * 1.7)"

# mkdb_runs DB FIRST COUNT MINUTE0: COUNT completed runs from id FIRST
mkdb_runs() {
	sqlite3 "$1" "INSERT INTO runs (id, uuid, started_at, ended_at, status, harness_version, git_revision, job_name, job_text, seed, environment, host_id, kernel_id, cmdline)
		SELECT value, printf('%08x-0000-4000-8000-%012x', value * 2654435761 % 4294967296, value),
		strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', printf('+%d minutes', $4 + value)),
		strftime('%Y-%m-%dT%H:%M:%fZ', '2025-01-01', printf('+%d minutes', $4 + value + 1)),
		'completed', 'bench', 'bench', 'bench', '[a]', 1, 'qemu-kvm', 1, 1, 'console=ttyS0'
		FROM generate_series($2, $2 + $3 - 1)"
}

# mkdb_history DB NRUNS: NRUNS runs of 10 cases; case3:to_sys_page steps
# up 30% (a regression) from run 2 + NRUNS * 7 / 10 on
mkdb_history() {
	local db=$1 n=$2
	mkdb_seed "$db"
	mkdb_runs "$db" 2 "$n" 0
	sqlite3 "$db" "
	INSERT INTO cases (run_id, seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict)
		SELECT r.value, c.value, 'case' || c.value, 'migrate', 'dmirror', 'private',
		'{\"size\":\"2M\",\"c\":' || c.value || '}', '{\"workload\":\"migrate\",\"c\":' || c.value || '}',
		1, '', '', 1000000, 'pass'
		FROM generate_series(2, $n + 1) r, generate_series(0, 9) c;
	INSERT INTO metrics (case_id, name, unit, better)
		SELECT id, 'to_sys_page', 'ns', 'lower' FROM cases WHERE run_id > 1;
	INSERT INTO metrics (case_id, name, unit, better)
		SELECT id, 'to_dev_bw', 'GB/s', 'higher' FROM cases WHERE run_id > 1;
	INSERT INTO summaries (metric_id, n, nonfinite, min, p5, median, mean, p95, p99, max, stddev, mad)
		SELECT m.id, 200, 0, v * 0.9, v * 0.95, v, v, v * 1.05, v * 1.1, v * 1.3, v * 0.03, v * 0.02
		FROM (SELECT m.id AS id, CASE m.name
			WHEN 'to_sys_page' THEN 4000 * (1 + 0.02 * $MKDB_N) *
				(CASE WHEN c.seq = 3 AND c.run_id >= 2 + $n * 7 / 10 THEN 1.3 ELSE 1 END)
			ELSE 6 * (1 + 0.02 * $MKDB_N) END AS v
			FROM metrics m JOIN cases c ON c.id = m.case_id WHERE c.run_id > 1) m;"
}

# mkdb_big DB N: two runs whose one metric has N samples each, the
# candidate 10% slower
mkdb_big() {
	local db=$1 n=$2
	mkdb_seed "$db"
	"$CDM" run -q --db "$db" -w selftest --set samples=10 --set repeat=1 >/dev/null 2>&1
	sqlite3 "$db" "DELETE FROM samples;
	INSERT INTO samples SELECT 1, value, 4000 * (1 + 0.05 * $MKDB_N) FROM generate_series(0, $n - 1);
	INSERT INTO samples SELECT 2, value, 4400 * (1 + 0.05 * $MKDB_N) FROM generate_series(0, $n - 1);
	UPDATE summaries SET n = $n, nonfinite = 0;"
}

# mkdb_report DB NCASES: one run of NCASES migrate cases over sizes and
# both device types, three metrics of 1000 samples each, kernel events
mkdb_report() {
	local db=$1 n=$2
	mkdb_seed "$db"
	mkdb_runs "$db" 2 1 10
	sqlite3 "$db" "
	INSERT INTO devices (run_id, path, backend, memory_type) VALUES
		(2, '/dev/hmm_dmirror0', 'dmirror', 'private'), (2, '/dev/hmm_dmirror2', 'dmirror', 'coherent');
	INSERT INTO cases (run_id, seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict, reason)
		SELECT 2, value, printf('migrate[device=%s size=%dK rep=%d]', d, s, value / 10),
		'migrate', 'dmirror', d,
		printf('{\"device\":\"%s\",\"size\":\"%dK\",\"rep\":\"%d\"}', d, s, value / 10),
		printf('{\"workload\":\"migrate\",\"device\":\"%s\",\"size\":\"%dK\",\"rep\":\"%d\"}', d, s, value / 10),
		1, '2025-01-01T00:11:00Z', '2025-01-01T00:11:01Z', 250000000,
		CASE WHEN value = 7 THEN 'fail' ELSE 'pass' END,
		CASE WHEN value = 7 THEN 'expect.metric.to_sys_page failed' ELSE '' END
		FROM (SELECT value, CASE value % 2 WHEN 0 THEN 'private' ELSE 'coherent' END AS d,
			4 << ((value / 2) % 5 * 2) AS s FROM generate_series(0, $n - 1));
	INSERT INTO metrics (case_id, name, unit, better)
		SELECT id, 'to_dev_bw', 'GB/s', 'higher' FROM cases WHERE run_id = 2;
	INSERT INTO metrics (case_id, name, unit, better)
		SELECT id, 'to_sys_bw', 'GB/s', 'higher' FROM cases WHERE run_id = 2;
	INSERT INTO metrics (case_id, name, unit, better)
		SELECT id, 'to_sys_page', 'ns', 'lower' FROM cases WHERE run_id = 2;
	INSERT INTO samples (metric_id, seq, value)
		SELECT m.id, g.value, CASE m.name
			WHEN 'to_sys_page' THEN (CASE c.device_type WHEN 'private' THEN 9000 ELSE 5000 END) * exp(0.15 * $MKDB_N)
			ELSE (CASE c.device_type WHEN 'private' THEN 3 ELSE 7 END) * (1 + 0.06 * $MKDB_N) END
		FROM metrics m JOIN cases c ON c.id = m.case_id, generate_series(0, 999) g WHERE c.run_id = 2;
	INSERT INTO case_info (case_id, key, value)
		SELECT id, 'expect.metric.to_dev_bw', 'pass: to_dev_bw median 3 GB/s >= 1 GB/s' FROM cases WHERE run_id = 2;
	INSERT INTO kevents (run_id, case_id, seq, ts_usec, level, facility, class, text)
		SELECT 2, (SELECT id FROM cases WHERE run_id = 2 AND seq = 7), value, 1000000 + value, 4, 0,
		CASE value WHEN 0 THEN 'warning' ELSE 'other' END,
		CASE value WHEN 0 THEN 'WARNING: CPU: 1 PID: 77 at mm/migrate_device.c:123 <migrate_vma_pages>' ELSE 'dmirror: migrated page ' || value END
		FROM generate_series(0, 19);"
	# summaries from the samples, as the runner would have stored them
	sqlite3 "$db" "INSERT INTO summaries (metric_id, n, nonfinite, min, p5, median, mean, p95, p99, max, stddev, mad)
		SELECT metric_id, count(*), 0, min(value), min(value), avg(value), avg(value), max(value), max(value), max(value), 0, 0
		FROM samples WHERE metric_id > 1 GROUP BY metric_id"
}

# mkdb_shared_path DB: 8 runs of one migrate case (tag side=base for
# runs 2-5, side=cand for 6-9) with to_sys_bw, refault_bw and memcpy_bw,
# 60 samples each; a host drift of 10-25% between runs moves all three,
# and the candidate slows to_sys_bw and refault_bw by 20% (a kernel that
# slows a path both run through) while memcpy_bw, user space, holds
mkdb_shared_path() {
	local db=$1
	mkdb_seed "$db"
	mkdb_runs "$db" 2 8 10
	sqlite3 "$db" "
	INSERT INTO run_tags (run_id, key, value)
		SELECT value, 'side', CASE WHEN value < 6 THEN 'base' ELSE 'cand' END FROM generate_series(2, 9);
	INSERT INTO cases (run_id, seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict)
		SELECT value, 0, 'migrate[device=private]', 'migrate', 'dmirror', 'private', '{\"device\":\"private\"}',
		'{\"workload\":\"migrate\",\"device\":\"private\"}', 1, '', '', 1000000, 'pass'
		FROM generate_series(2, 9);
	INSERT INTO metrics (case_id, name, unit, better)
		SELECT c.id, n.value, 'GB/s', 'higher' FROM cases c, json_each('[\"to_sys_bw\",\"refault_bw\",\"memcpy_bw\"]') n
		WHERE c.run_id > 1;
	INSERT INTO samples (metric_id, seq, value)
		SELECT m.id, g.value,
			CASE m.name WHEN 'to_sys_bw' THEN 0.5 WHEN 'refault_bw' THEN 0.3 ELSE 2.0 END *
			json_extract('[1.0, 1.2, 0.85, 1.1, 1.15, 0.9, 1.25, 0.95]', printf('\$[%d]', c.run_id - 2)) *
			(CASE WHEN c.run_id >= 6 AND m.name != 'memcpy_bw' THEN 0.8 ELSE 1 END) *
			(1 + 0.01 * $MKDB_N)
		FROM metrics m JOIN cases c ON c.id = m.case_id, generate_series(0, 59) g WHERE c.run_id > 1;
	INSERT INTO summaries (metric_id, n, nonfinite, min, p5, median, mean, p95, p99, max, stddev, mad)
		SELECT metric_id, count(*), 0, min(value), min(value), avg(value), avg(value), max(value), max(value), max(value),
		0.01 * avg(value), 0.0067 * avg(value)
		FROM samples WHERE metric_id IN (SELECT m.id FROM metrics m JOIN cases c ON c.id = m.case_id WHERE c.run_id > 1)
		GROUP BY metric_id"
}
