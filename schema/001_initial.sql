-- cdmbench results store, schema version 1.
-- A shipped schema file is never edited: changes come as new numbered files,
-- applied in order under PRAGMA user_version (see harness/db.c).

-- The machine a run measured (for VM runs: the guest as it saw itself).
CREATE TABLE hosts (
	id		INTEGER PRIMARY KEY,
	hostname	TEXT NOT NULL,
	cpu_model	TEXT NOT NULL,
	arch		TEXT NOT NULL,
	cpus		INTEGER NOT NULL,	-- online logical CPUs
	numa_nodes	INTEGER NOT NULL,	-- nodes with memory
	mem_bytes	INTEGER NOT NULL,
	UNIQUE (hostname, cpu_model, arch, cpus, numa_nodes, mem_bytes)
);

CREATE TABLE kernels (
	id		INTEGER PRIMARY KEY,
	release		TEXT NOT NULL,		-- uname -r
	version		TEXT NOT NULL,		-- /proc/version
	config_digest	TEXT NOT NULL DEFAULT '',	-- sha256 of the config text; '' unknown
	UNIQUE (release, version, config_digest)
);

CREATE TABLE runs (
	id		INTEGER PRIMARY KEY,
	uuid		TEXT NOT NULL UNIQUE,
	started_at	TEXT NOT NULL,		-- ISO 8601, UTC
	ended_at	TEXT,
	status		TEXT NOT NULL CHECK (status IN
			('running', 'completed', 'interrupted', 'crashed')),
	status_reason	TEXT NOT NULL DEFAULT '',
	harness_version	TEXT NOT NULL,
	git_revision	TEXT NOT NULL,
	job_name	TEXT NOT NULL,
	job_text	TEXT NOT NULL,		-- the exact job, re-runnable
	seed		INTEGER NOT NULL,
	environment	TEXT NOT NULL,		-- bare-metal, qemu-tcg, qemu-kvm, vm:...
	host_id		INTEGER REFERENCES hosts(id),
	kernel_id	INTEGER REFERENCES kernels(id),
	cmdline		TEXT NOT NULL DEFAULT '',	-- kernel command line
	argv		TEXT NOT NULL DEFAULT '',	-- cdmbench command line
	kmsg_status	TEXT NOT NULL DEFAULT '',	-- 'ok' or 'unavailable: why'
	-- who owns a 'running' row, so a later open can tell a live run
	-- from one whose process died (kill -9, power loss)
	owner_host	TEXT NOT NULL DEFAULT '',
	owner_boot	TEXT NOT NULL DEFAULT '',
	owner_pid	INTEGER NOT NULL DEFAULT 0,
	owner_start	INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX runs_status ON runs(status);

CREATE TABLE run_tags (
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	key		TEXT NOT NULL,
	value		TEXT NOT NULL,
	PRIMARY KEY (run_id, key)
);
CREATE INDEX run_tags_kv ON run_tags(key, value);

-- Large texts kept with a run: guest console log, QEMU command line.
CREATE TABLE run_logs (
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	name		TEXT NOT NULL,
	text		TEXT NOT NULL,
	PRIMARY KEY (run_id, name)
);

CREATE TABLE devices (
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	path		TEXT NOT NULL,
	backend		TEXT NOT NULL,
	memory_type	TEXT NOT NULL,		-- private, coherent, gpu, unknown
	detail		TEXT NOT NULL DEFAULT '',
	PRIMARY KEY (run_id, path)
);

CREATE TABLE cases (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	seq		INTEGER NOT NULL,	-- position in the expanded job
	name		TEXT NOT NULL,
	workload	TEXT NOT NULL,
	backend		TEXT NOT NULL,
	device_type	TEXT NOT NULL,
	params		TEXT NOT NULL,		-- JSON object: every option's value
	match_key	TEXT NOT NULL,		-- identity for comparisons across runs
	seed		INTEGER NOT NULL,
	started_at	TEXT NOT NULL,
	ended_at	TEXT NOT NULL,
	elapsed_ns	INTEGER NOT NULL,
	verdict		TEXT NOT NULL CHECK (verdict IN ('pass', 'fail', 'skip',
			'error', 'timeout', 'crash', 'interrupted')),
	reason		TEXT NOT NULL DEFAULT '',
	log		TEXT NOT NULL DEFAULT '',
	UNIQUE (run_id, seq)
);
CREATE INDEX cases_match ON cases(match_key);

-- Facts a workload reports: counts, placements, partial migrations.
CREATE TABLE case_info (
	case_id		INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
	key		TEXT NOT NULL,
	value		TEXT NOT NULL,
	PRIMARY KEY (case_id, key)
);

CREATE TABLE metrics (
	id		INTEGER PRIMARY KEY,
	case_id		INTEGER NOT NULL REFERENCES cases(id) ON DELETE CASCADE,
	name		TEXT NOT NULL,
	unit		TEXT NOT NULL,
	better		TEXT NOT NULL CHECK (better IN ('lower', 'higher')),
	UNIQUE (case_id, name)
);

-- Every sample, in the order measured. NULL stands for NaN.
CREATE TABLE samples (
	metric_id	INTEGER NOT NULL REFERENCES metrics(id) ON DELETE CASCADE,
	seq		INTEGER NOT NULL,
	value		REAL,
	PRIMARY KEY (metric_id, seq)
) WITHOUT ROWID;

CREATE TABLE summaries (
	metric_id	INTEGER PRIMARY KEY REFERENCES metrics(id) ON DELETE CASCADE,
	n		INTEGER NOT NULL,
	nonfinite	INTEGER NOT NULL,
	min		REAL,
	p5		REAL,
	median		REAL,
	mean		REAL,
	p95		REAL,
	p99		REAL,
	max		REAL,
	stddev		REAL,
	mad		REAL
);

-- Every kernel log record seen during a run; case_id NULL between cases.
CREATE TABLE kevents (
	id		INTEGER PRIMARY KEY,
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	case_id		INTEGER REFERENCES cases(id) ON DELETE CASCADE,
	seq		INTEGER NOT NULL,	-- the kernel's record number
	ts_usec		INTEGER NOT NULL,	-- since boot
	level		INTEGER NOT NULL,	-- 0 emerg .. 7 debug
	facility	INTEGER NOT NULL,	-- 0 kernel, else user space via /dev/kmsg
	class		TEXT NOT NULL,		-- warning, bug, oops, bad_page, ...
	text		TEXT NOT NULL
);
CREATE INDEX kevents_run ON kevents(run_id, case_id);

-- One row per metric with its context: what most queries want.
CREATE VIEW results AS
SELECT r.id AS run_id, r.started_at, r.environment, k.release AS kernel,
       h.hostname, c.id AS case_id, c.name AS case_name, c.workload,
       c.backend, c.device_type, c.verdict, m.name AS metric, m.unit,
       m.better, s.n, s.min, s.median, s.mean, s.p95, s.p99, s.max,
       s.stddev, s.mad
FROM runs r
JOIN cases c ON c.run_id = r.id
JOIN metrics m ON m.case_id = c.id
JOIN summaries s ON s.metric_id = m.id
LEFT JOIN kernels k ON k.id = r.kernel_id
LEFT JOIN hosts h ON h.id = r.host_id;
