-- cdmbench results store: likwid topology kept with the host, and the
-- per-phase kernel events and hardware counters of every case. Never
-- edited once shipped (see 001).

-- What likwid saw of the machine a run measured (for VM runs: the guest):
-- sockets, cores_per_socket, threads_per_core, hw_threads, cache.L1d ...,
-- numa_domains, numa.N. A host without likwid has the row likwid =
-- 'unavailable: ...'.
CREATE TABLE host_topology (
	host_id		INTEGER NOT NULL REFERENCES hosts(id) ON DELETE CASCADE,
	key		TEXT NOT NULL,
	value		TEXT NOT NULL,
	PRIMARY KEY (host_id, key)
);

-- Counters travel as case facts, like expectations (002): a run inside the
-- emulated node streams them to the host with the case. Keys are
--   counters.<phase>.<source>:<event>   (value: the total over the phase)
--   counter_status.<source>             ('on: ...' or 'unavailable: why')
-- sources: phase (count, pages, ns), perf (software counters), trace (mm
-- tracepoints), vmstat (deltas of the counters that moved), likwid
-- (hardware counter group). A source that could not count has a status
-- row and no values: never a zero.
CREATE VIEW case_counters AS
WITH k AS (
	SELECT i.case_id, i.value, substr(i.key, 10) AS rest
	FROM case_info i WHERE i.key GLOB 'counters.*.*:*'
), p AS (
	SELECT case_id, value, substr(rest, 1, instr(rest, '.') - 1) AS phase,
	       substr(rest, instr(rest, '.') + 1) AS se
	FROM k
)
SELECT c.run_id, p.case_id, c.name AS case_name, p.phase,
       substr(p.se, 1, instr(p.se, ':') - 1) AS source,
       substr(p.se, instr(p.se, ':') + 1) AS event,
       CAST(p.value AS REAL) AS value
FROM p JOIN cases c ON c.id = p.case_id;

CREATE VIEW counter_status AS
SELECT c.run_id, i.case_id, c.name AS case_name,
       substr(i.key, 16) AS source, i.value AS status
FROM case_info i JOIN cases c ON c.id = i.case_id
WHERE i.key GLOB 'counter_status.*';
