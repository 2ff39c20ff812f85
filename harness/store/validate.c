// SPDX-License-Identifier: GPL-2.0
/*
 * Checking what a database says before believing it. Databases travel:
 * acceptance teams collect them from nodes and developers attach them to
 * reviews, so a row may have been edited by hand, by another tool or by
 * someone who wants cdmbench to crash. The readers size buffers from
 * summary counts, index tables by enumerations and look up options in the
 * parameter JSON; every such value is checked here first, and a bad one
 * is a one-line error naming the table and the row.
 *
 * The rules run over one run's rows before a reader loads that run (they
 * touch no samples, so they cost little), and over the whole file, with
 * the sample-level rules too, in `cdmbench db check`.
 */
#include <stdlib.h>
#include <string.h>

#include "core/job.h"
#include "store/db.h"

/*
 * Each rule selects (row, problem) for rows that break it. ?1 is the run
 * to check, or NULL for every run; ?2 is the most samples a metric may
 * hold.
 */
struct rule {
	const char *table;
	bool deep;		/* reads samples: `db check` only */
	const char *sql;
};

static const struct rule rules[] = {
	{ "summaries", false,
	  "SELECT 'metric_id ' || s.metric_id, 'n = ' || quote(s.n) || ', nonfinite = ' || quote(s.nonfinite) || ': expected whole numbers of samples, 0 .. ' || ?2 || ' together' "
	  "FROM summaries s JOIN metrics m ON m.id = s.metric_id JOIN cases c ON c.id = m.case_id "
	  "WHERE (?1 IS NULL OR c.run_id = ?1) AND NOT (typeof(s.n) = 'integer' AND typeof(s.nonfinite) = 'integer' "
	  "AND s.n BETWEEN 0 AND ?2 AND s.nonfinite BETWEEN 0 AND ?2 - s.n)" },
	{ "summaries", false,
	  "SELECT 'metric_id ' || s.metric_id, 'a statistic is ' || CASE WHEN typeof(s.min) NOT IN ('real', 'integer', 'null') THEN 'min' WHEN typeof(s.median) NOT IN ('real', 'integer', 'null') THEN 'median' WHEN typeof(s.mad) NOT IN ('real', 'integer', 'null') THEN 'mad' ELSE 'another column' END || ' not a number' "
	  "FROM summaries s JOIN metrics m ON m.id = s.metric_id JOIN cases c ON c.id = m.case_id "
	  "WHERE (?1 IS NULL OR c.run_id = ?1) AND (typeof(s.min) NOT IN ('real', 'integer', 'null') OR typeof(s.p5) NOT IN ('real', 'integer', 'null') "
	  "OR typeof(s.median) NOT IN ('real', 'integer', 'null') OR typeof(s.mean) NOT IN ('real', 'integer', 'null') OR typeof(s.p95) NOT IN ('real', 'integer', 'null') "
	  "OR typeof(s.p99) NOT IN ('real', 'integer', 'null') OR typeof(s.max) NOT IN ('real', 'integer', 'null') OR typeof(s.stddev) NOT IN ('real', 'integer', 'null') "
	  "OR typeof(s.mad) NOT IN ('real', 'integer', 'null'))" },
	{ "metrics", false,
	  "SELECT 'id ' || m.id, 'better = ' || quote(m.better) || ': expected ''lower'' or ''higher''' "
	  "FROM metrics m JOIN cases c ON c.id = m.case_id "
	  "WHERE (?1 IS NULL OR c.run_id = ?1) AND (typeof(m.better) != 'text' OR m.better NOT IN ('lower', 'higher'))" },
	{ "metrics", false,
	  "SELECT 'id ' || m.id, 'name = ' || quote(m.name) || ': expected a non-empty name' "
	  "FROM metrics m JOIN cases c ON c.id = m.case_id "
	  "WHERE (?1 IS NULL OR c.run_id = ?1) AND (typeof(m.name) != 'text' OR m.name = '' OR typeof(m.unit) != 'text')" },
	{ "cases", false,
	  "SELECT 'id ' || id, 'verdict = ' || quote(verdict) || ': expected pass, fail, skip, error, timeout, crash or interrupted' "
	  "FROM cases WHERE (?1 IS NULL OR run_id = ?1) AND (typeof(verdict) != 'text' OR verdict NOT IN ('pass', 'fail', 'skip', 'error', 'timeout', 'crash', 'interrupted'))" },
	{ "cases", false,
	  "SELECT 'id ' || id, 'seq = ' || quote(seq) || ', elapsed_ns = ' || quote(elapsed_ns) || ': expected whole numbers, not negative' "
	  "FROM cases WHERE (?1 IS NULL OR run_id = ?1) AND NOT (typeof(seq) = 'integer' AND seq BETWEEN 0 AND 2147483646 "
	  "AND typeof(elapsed_ns) = 'integer' AND elapsed_ns >= 0)" },
	{ "cases", false,
	  "SELECT 'id ' || id, 'params: not a JSON object' FROM cases "
	  "WHERE (?1 IS NULL OR run_id = ?1) AND NOT (typeof(params) = 'text' AND json_valid(params) AND json_type(params) = 'object')" },
	/* a case of a workload this cdmbench knows (?3) names its options;
	 * which ones depends on the version that wrote it, so only an empty
	 * set is certainly wrong (readers cope with any one missing) */
	{ "cases", false,
	  "SELECT 'id ' || id, 'params: no options (a case of workload ' || quote(workload) || ' records the value of each of its options)' FROM cases "
	  "WHERE (?1 IS NULL OR run_id = ?1) AND typeof(params) = 'text' AND json_valid(params) AND json_type(params) = 'object' "
	  "AND (SELECT count(*) FROM json_each(params)) = 0 AND workload IN (SELECT value FROM json_each(?3))" },
	{ "runs", false,
	  "SELECT 'id ' || id, 'status = ' || quote(status) || ': expected running, completed, interrupted or crashed' "
	  "FROM runs WHERE (?1 IS NULL OR id = ?1) AND (typeof(status) != 'text' OR status NOT IN ('running', 'completed', 'interrupted', 'crashed'))" },
	{ "runs", false,
	  "SELECT 'id ' || id, 'seed = ' || quote(seed) || ': expected a whole number' "
	  "FROM runs WHERE (?1 IS NULL OR id = ?1) AND typeof(seed) != 'integer'" },
	{ "hosts", false,
	  "SELECT 'id ' || h.id, 'cpus = ' || quote(h.cpus) || ', numa_nodes = ' || quote(h.numa_nodes) || ', mem_bytes = ' || quote(h.mem_bytes) || ': expected whole numbers, not negative' "
	  "FROM hosts h WHERE (?1 IS NULL OR h.id IN (SELECT host_id FROM runs WHERE id = ?1)) "
	  "AND NOT (typeof(h.cpus) = 'integer' AND h.cpus >= 0 AND typeof(h.numa_nodes) = 'integer' AND h.numa_nodes >= 0 "
	  "AND typeof(h.mem_bytes) = 'integer' AND h.mem_bytes >= 0)" },
	{ "kevents", false,
	  "SELECT 'id ' || id, 'level = ' || quote(level) || ', ts_usec = ' || quote(ts_usec) || ': expected a level 0 .. 7 and a time not negative' "
	  "FROM kevents WHERE (?1 IS NULL OR run_id = ?1) AND NOT (typeof(level) = 'integer' AND level BETWEEN 0 AND 7 "
	  "AND typeof(ts_usec) = 'integer' AND ts_usec >= 0 AND typeof(class) = 'text' AND typeof(text) = 'text')" },
	{ "summaries", true,
	  "SELECT 'metric_id ' || s.metric_id, 'n + nonfinite = ' || (s.n + s.nonfinite) || ', but the metric has ' || k.cnt || ' samples' "
	  "FROM summaries s JOIN (SELECT metric_id, count(*) AS cnt FROM samples GROUP BY metric_id) k ON k.metric_id = s.metric_id "
	  "WHERE ?1 IS NULL AND k.cnt != s.n + s.nonfinite" },
	{ "samples", true,
	  "SELECT 'metric_id ' || metric_id || ' seq ' || seq, 'value = ' || quote(substr(value, 1, 40)) || ': not a number' "
	  "FROM samples WHERE ?1 IS NULL AND typeof(value) NOT IN ('real', 'integer', 'null')" },
};

static void problem(struct db_problems *p, const char *table, const char *row,
		   const char *what)
{
	char *msg = xasprintf("%s row %s: %s", table, row, what);

	if (p->fn)
		p->fn(p->arg, msg);
	if (!p->first)
		p->first = msg;
	else
		free(msg);
	p->n++;
}

/* the workloads this cdmbench has, as a JSON array */
static char *known_workloads(void)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	sb_init(&sb);
	json_init(&j, &sb, false);
	json_arr_open(&j, NULL);
	for (i = 0; cdm_workloads[i]; i++)
		json_str(&j, NULL, cdm_workloads[i]->name);
	json_arr_close(&j);
	return sb_detach(&sb);
}

static int run_rule(struct cdm_db *d, const struct rule *ru, int64_t run_id,
		    struct db_problems *p)
{
	sqlite3_stmt *st = db_prepare(d, ru->sql);
	char *known;
	int r;

	if (!st)
		return -1;
	if (run_id)
		sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, CDM_MAX_METRIC_SAMPLES);
	if (sqlite3_bind_parameter_count(st) >= 3) {
		known = known_workloads();
		sqlite3_bind_text(st, 3, known, -1, SQLITE_TRANSIENT);
		free(known);
	}
	while ((r = db_step(d, st)) == SQLITE_ROW)
		problem(p, ru->table, col_text(st, 0), col_text(st, 1));
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

int db_validate(struct cdm_db *d, int64_t run_id, bool deep,
		struct db_problems *p)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(rules); i++) {
		if (rules[i].deep && (!deep || run_id))
			continue;
		if (run_rule(d, &rules[i], run_id, p))
			return -1;
	}
	return 0;
}

int db_validate_run(struct cdm_db *d, int64_t run_id)
{
	struct db_problems p = { 0 };
	int r = db_validate(d, run_id, false, &p);

	if (!r && p.n)
		r = cdm_err("%s: %s (run %lld; 'cdmbench db check' lists every problem)",
			    d->path, p.first, (long long)run_id);
	free(p.first);
	return r;
}
