-- cdmbench results store: fleets of nodes (issue 13). Never edited once
-- shipped (see 001).

-- Where a run ran, for runs under Slurm or merged from another database.
-- The runner fills node and the Slurm ids when it runs inside a Slurm
-- step; `cdmbench merge` fills source (the file the run came from) and
-- merged_at, and a node name for runs that lack one. One row per run, so
-- "every run of node n17" is one index lookup.
CREATE TABLE run_nodes (
	run_id		INTEGER PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
	node		TEXT NOT NULL,		-- SLURMD_NODENAME, else hostname
	slurm_job_id	TEXT NOT NULL DEFAULT '',
	slurm_step_id	TEXT NOT NULL DEFAULT '',
	source		TEXT NOT NULL DEFAULT '',	-- merged from ('' here)
	merged_at	TEXT
);
CREATE INDEX run_nodes_node ON run_nodes(node);

-- What `cdmbench push` still owes a time-series server. One row per run
-- and target (URL, database or bucket; never a credential). Points go out
-- in (metric id, seq) order and next_metric/next_seq is the first point
-- not yet acknowledged, so a push killed or cut off resumes there; a
-- point sent twice overwrites itself (same tags, same timestamp).
CREATE TABLE push_spool (
	id		INTEGER PRIMARY KEY,
	target		TEXT NOT NULL,
	run_id		INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
	state		TEXT NOT NULL CHECK (state IN ('pending', 'done')),
	next_metric	INTEGER NOT NULL DEFAULT 0,
	next_seq	INTEGER NOT NULL DEFAULT 0,
	sent		INTEGER NOT NULL DEFAULT 0,	-- points acknowledged
	rejected	INTEGER NOT NULL DEFAULT 0,	-- points the server refused (400)
	last_error	TEXT NOT NULL DEFAULT '',
	updated_at	TEXT NOT NULL,
	UNIQUE (target, run_id)
);
