-- cdmbench results store, schema version 2: acceptance expectations, and
-- the index `history` needs. Never edited once shipped (see 001).

-- A job's expectations (expect.* keys) are evaluated by the runner right
-- after each case and kept with the case's other facts, as case_info rows
-- with the key 'expect.<name>' and the value '<pass|fail|skip>: <detail>'.
-- Going through case_info is deliberate: a run inside the emulated node
-- streams its facts to the host, and the expectations travel with them
-- without a format of their own. This view reads them back one per row.
CREATE VIEW expectations AS
SELECT c.run_id, i.case_id, c.seq AS case_seq, c.name AS case_name,
       substr(i.key, 8) AS expectation,
       CASE WHEN instr(i.value, ':') > 0
	    THEN substr(i.value, 1, instr(i.value, ':') - 1)
	    ELSE i.value END AS status,
       CASE WHEN instr(i.value, ':') > 0
	    THEN ltrim(substr(i.value, instr(i.value, ':') + 1))
	    ELSE '' END AS detail
FROM case_info i JOIN cases c ON c.id = i.case_id
WHERE i.key GLOB 'expect.*';

-- `history CASE:METRIC` finds a case by its name in every run
CREATE INDEX cases_name ON cases(name);
