// SPDX-License-Identifier: GPL-2.0
/*
 * Read-side commands: runs, show, export, db check. They only read the
 * database (apart from marking dead 'running' runs interrupted on open).
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "store/db.h"
#include "report/export_ci.h"
#include "store/accept.h"
#include "util/escape.h"

struct read_args {
	const char *db;
	bool json;
	const char *format;
	const char *out;
	long limit;
	const char *run;
};

#define RD(f) offsetof(struct read_args, f)

const struct cli_spec cli_runs_spec = {
	.cmd = "runs",
	.usage = "usage: cdmbench runs [--db PATH] [--limit N] [--json]\n",
	.opts = (const struct cli_opt[]) {
		CLI_OPT_DB(struct read_args, db),
		{ .name = "limit", .key = 'l', .kind = CLI_COUNT, .off = RD(limit),
		  .arg = "N",
		  .help = "the newest N runs (default 50)" },
		CLI_OPT_JSON(struct read_args, json, "JSON instead of a table"),
		CLI_OPT_END
	},
};

const struct cli_spec cli_show_spec = {
	.cmd = "show",
	.usage = "usage: cdmbench show [--db PATH] [--json] RUN\n",
	.about = "RUN is a run id, 'last', or a prefix of the run's uuid.\n",
	.opts = (const struct cli_opt[]) {
		CLI_OPT_DB(struct read_args, db),
		CLI_OPT_JSON(struct read_args, json,
			     "the run as JSON, samples left out"),
		CLI_OPT_END
	},
};

const struct cli_spec cli_export_spec = {
	.cmd = "export",
	.usage = "usage: cdmbench export [--db PATH] --format json|csv|junit|tap [-O FILE] RUN\n",
	.about =
	"json: the run with its context, cases, metrics, summaries, samples and\n"
	"kernel events. csv: one row per sample (run, case, metric, seq, value).\n"
	"junit, tap: one test per case for CI systems (skips as skipped, crashes\n"
	"and timeouts as errors), each with its evaluated expectations; the\n"
	"run's acceptance verdict as a suite property (junit) or the last line\n"
	"(tap). The exit status is 0 whatever the verdict: the CI reads it.\n",
	.opts = (const struct cli_opt[]) {
		CLI_OPT_DB(struct read_args, db),
		{ .name = "format", .key = 'f', .kind = CLI_CHOICE,
		  .off = RD(format), .arg = "F",
		  .help = "json, csv, junit or tap (required)",
		  .choices = "json|csv|junit|tap" },
		{ .name = "output", .key = 'O', .kind = CLI_STR, .off = RD(out),
		  .arg = "FILE",
		  .help = "write FILE (default: standard output)" },
		CLI_OPT_END
	},
};

const struct cli_spec cli_db_spec = {
	.cmd = "db",
	.usage = "usage: cdmbench db check [--db PATH]\n",
	.about =
	"check: runs SQLite's integrity and foreign-key checks and prints the\n"
	"schema version. Exit status 1 if the database is damaged.\n",
	.opts = (const struct cli_opt[]) {
		CLI_OPT_DB(struct read_args, db),
		CLI_OPT_END
	},
};

/* CLI_PARSED, CLI_HELPED or -1 (reported) */
static int parse_read_args(const struct cli_spec *spec, int argc, char **argv,
			   struct read_args *a, bool want_run)
{
	int r;

	a->db = cli_default_db();
	a->limit = 50;
	r = cli_parse(spec, argc, argv, a);
	if (r)
		return r;
	if (want_run) {
		if (optind >= argc)
			return cdm_err("%s: which run? (an id, 'last' or a uuid prefix)",
				       spec->cmd);
		a->run = argv[optind++];
	}
	if (optind < argc)
		return cdm_err("%s: unexpected argument '%s'", spec->cmd,
			       argv[optind]);
	return 0;
}

/* a column for the terminal: control characters shown, not sent */
static const char *tcol(sqlite3_stmt *st, int i)
{
	return tesc(col_text(st, i));
}

static int open_read(struct cdm_db *d, const struct read_args *a,
		     int64_t *run_id)
{
	if (db_open(d, a->db, DB_READ))
		return -1;
	if (a->run && db_resolve_run(d, a->run, run_id)) {
		db_close(d);
		return -1;
	}
	return 0;
}

/* sql with its first parameter bound to id; NULL (reported) on error */
static sqlite3_stmt *prepare_id(struct cdm_db *d, const char *sql, int64_t id)
{
	sqlite3_stmt *st = db_prepare(d, sql);

	if (st)
		sqlite3_bind_int64(st, 1, id);
	return st;
}

static void json_col_dbl(struct json *j, const char *key, sqlite3_stmt *st,
			 int i)
{
	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		json_null(j, key);
	else
		json_dbl(j, key, sqlite3_column_double(st, i));
}

/*
 * Columns [from, to) of the row, each under its name (the SQL says AS
 * where the key is not the column's): INTEGER columns as numbers, NULL
 * as 0; REAL as numbers, NULL as null; the rest as text, NULL as "". An
 * expression has no declared type: its value's type decides.
 */
static void json_cols(struct json *j, sqlite3_stmt *st, int from, int to)
{
	int i;

	for (i = from; i < to; i++) {
		const char *key = sqlite3_column_name(st, i);
		const char *decl = sqlite3_column_decltype(st, i);
		int type = sqlite3_column_type(st, i);

		if (decl)
			type = !strcmp(decl, "INTEGER") ? SQLITE_INTEGER :
			       !strcmp(decl, "REAL") ? SQLITE_FLOAT : SQLITE_TEXT;
		if (type == SQLITE_INTEGER)
			json_int(j, key, sqlite3_column_int64(st, i));
		else if (type == SQLITE_FLOAT)
			json_col_dbl(j, key, st, i);
		else
			json_str(j, key, col_text(st, i));
	}
}

/* JSON on its way to f, written out a case (or 65536 samples) at a time */
struct out {
	FILE *f;
	struct sbuf sb;
	struct json j;
	bool samples;		/* export: every sample of every metric */
};

static void out_flush(struct out *o)
{
	fwrite(o->sb.buf, 1, o->sb.len, o->f);
	sb_reset(&o->sb);
}

/*
 * The rows of st as the array key: each an object of its columns [from,
 * to) (json_cols), then what more() adds from the row. st is finalized;
 * a NULL st is a failed prepare.
 */
static int json_rows(struct cdm_db *d, struct out *o, const char *key,
		     sqlite3_stmt *st, int from, int to,
		     int (*more)(struct cdm_db *d, struct out *o,
				 sqlite3_stmt *st))
{
	int r;

	if (!st)
		return -1;
	json_arr_open(&o->j, key);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		json_obj_open(&o->j, NULL);
		json_cols(&o->j, st, from, to);
		if (more && more(d, o, st)) {
			r = -1;
			break;
		}
		json_obj_close(&o->j);
	}
	json_arr_close(&o->j);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* --- runs --- */

int cmd_runs(int argc, char **argv)
{
	struct read_args a = { 0 };
	struct cdm_db d;
	sqlite3_stmt *st;
	int r;

	r = parse_read_args(&cli_runs_spec, argc, argv, &a, false);
	if (r || open_read(&d, &a, NULL))
		return cli_parse_exit(r);
	/* --json shows every column but the last, under its name */
	st = prepare_id(&d,
		"SELECT r.id, r.started_at, r.status, r.environment, "
		"coalesce(k.release, '?') AS kernel, coalesce(h.hostname, '?') AS host, r.job_name AS job, "
		"(SELECT count(*) FROM cases c WHERE c.run_id = r.id) AS cases, "
		"(SELECT count(*) FROM cases c WHERE c.run_id = r.id AND c.verdict = 'pass') AS passed, "
		"(SELECT count(*) FROM cases c WHERE c.run_id = r.id AND c.verdict IN ('fail', 'error', 'timeout', 'crash')) AS failed, "
		"(SELECT group_concat(key || '=' || value, ' ') FROM run_tags t WHERE t.run_id = r.id) AS tags, "
		"substr(r.uuid, 1, 8) "
		"FROM runs r LEFT JOIN kernels k ON k.id = r.kernel_id "
		"LEFT JOIN hosts h ON h.id = r.host_id ORDER BY r.id DESC LIMIT ?",
		a.limit);
	if (!st) {
		db_close(&d);
		return CDM_EXIT_FAIL;
	}
	if (a.json) {
		struct out o = { .f = stdout };

		sb_init(&o.sb);
		json_init(&o.j, &o.sb, true);
		r = json_rows(&d, &o, NULL, st, 0, 11, NULL) ? -1 : SQLITE_DONE;
		out_flush(&o);
		sb_free(&o.sb);
	} else {
		printf("%5s %-8s %-20s %-11s %-10s %-16s %-14s %s\n", "id",
		       "uuid", "started (UTC)", "status", "env", "kernel",
		       "job", "cases (pass/fail)  tags");
		while ((r = db_step(&d, st)) == SQLITE_ROW)
			printf("%5lld %-8s %-20.19s %-11s %-10s %-16.16s %-14.14s %d (%d/%d)  %s\n",
			       (long long)sqlite3_column_int64(st, 0),
			       tcol(st, 11), tcol(st, 1),
			       tcol(st, 2), tcol(st, 3),
			       tcol(st, 4), tcol(st, 6),
			       sqlite3_column_int(st, 7),
			       sqlite3_column_int(st, 8),
			       sqlite3_column_int(st, 9), tcol(st, 10));
		sqlite3_finalize(st);
	}
	db_close(&d);
	return r == SQLITE_DONE ? 0 : CDM_EXIT_FAIL;
}

/* --- show and export share one JSON writer --- */

static int json_run_header(struct cdm_db *d, int64_t id, struct json *j)
{
	sqlite3_stmt *st = prepare_id(d,
		"SELECT r.id AS run_id, r.uuid, r.started_at, r.ended_at, r.status, r.status_reason, "
		"r.harness_version, r.git_revision, r.job_name, r.job_text, r.seed, "
		"r.environment, r.cmdline AS kernel_cmdline, r.argv, r.kmsg_status AS kmsg, "
		"h.hostname, h.cpu_model, h.arch, h.cpus, h.numa_nodes, h.mem_bytes, "
		"k.release, k.version, k.config_digest "
		"FROM runs r LEFT JOIN hosts h ON h.id = r.host_id "
		"LEFT JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?", id);
	int r;

	if (!st)
		return -1;
	r = db_step(d, st);
	if (r == SQLITE_ROW) {
		json_cols(j, st, 0, 15);
		json_obj_open(j, "host");
		json_cols(j, st, 15, 21);
		json_obj_close(j);
		json_obj_open(j, "kernel");
		json_cols(j, st, 21, 24);
		json_obj_close(j);
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -1;
}

static int json_kv_query(struct cdm_db *d, struct json *j, const char *key,
			 const char *sql, int64_t id)
{
	sqlite3_stmt *st = prepare_id(d, sql, id);
	int r;

	if (!st)
		return -1;
	json_obj_open(j, key);
	while ((r = db_step(d, st)) == SQLITE_ROW)
		json_str(j, col_text(st, 0), col_text(st, 1));
	json_obj_close(j);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

static int json_devices(struct cdm_db *d, struct out *o, int64_t id)
{
	sqlite3_stmt *st = prepare_id(d, "SELECT path, backend, memory_type, detail FROM devices WHERE run_id = ? ORDER BY path", id);

	return json_rows(d, o, "devices", st, 0, 4, NULL);
}

static int json_kevents(struct cdm_db *d, struct out *o, int64_t run_id,
			int64_t case_id)
{
	sqlite3_stmt *st = prepare_id(d, case_id ?
		"SELECT seq, ts_usec, level, class, text FROM kevents WHERE run_id = ?1 AND case_id = ?2 ORDER BY id" :
		"SELECT seq, ts_usec, level, class, text FROM kevents WHERE run_id = ?1 AND case_id IS NULL ORDER BY id",
		run_id);

	if (st && case_id)
		sqlite3_bind_int64(st, 2, case_id);
	return json_rows(d, o, "kernel_events", st, 0, 5, NULL);
}

static int json_samples(struct cdm_db *d, struct out *o, int64_t mid)
{
	sqlite3_stmt *st = prepare_id(d, "SELECT value FROM samples WHERE metric_id = ? ORDER BY seq", mid);
	long n = 0;
	int r;

	if (!st)
		return -1;
	json_arr_open(&o->j, "samples");
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		json_col_dbl(&o->j, NULL, st, 0);
		if (++n % 65536 == 0)
			out_flush(o);
	}
	json_arr_close(&o->j);
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* a metric's summary, and its samples when o->samples */
static int metric_more(struct cdm_db *d, struct out *o, sqlite3_stmt *st)
{
	json_obj_open(&o->j, "summary");
	json_cols(&o->j, st, 4, 15);
	json_obj_close(&o->j);
	return o->samples ? json_samples(d, o, sqlite3_column_int64(st, 0)) : 0;
}

static int json_metrics(struct cdm_db *d, struct out *o, int64_t case_id)
{
	return json_rows(d, o, "metrics", prepare_id(d,
		"SELECT m.id, m.name, m.unit, m.better, s.n, s.nonfinite, s.min, s.p5, s.median, s.mean, s.p95, s.p99, s.max, s.stddev, s.mad "
		"FROM metrics m LEFT JOIN summaries s ON s.metric_id = m.id WHERE m.case_id = ? ORDER BY m.id", case_id),
		1, 4, metric_more);
}

/* a case's facts, metrics and kernel events; then it is written out */
static int case_more(struct cdm_db *d, struct out *o, sqlite3_stmt *st)
{
	int64_t cid = sqlite3_column_int64(st, 0);

	if (json_kv_query(d, &o->j, "info", "SELECT key, value FROM case_info WHERE case_id = ? ORDER BY key", cid) ||
	    json_metrics(d, o, cid) ||
	    json_kevents(d, o, sqlite3_column_int64(st, 14), cid))
		return -1;
	out_flush(o);
	return 0;
}

/* params is already a JSON object: it goes in as a string, to keep the
 * writer simple and the value byte-exact */
static int json_cases(struct cdm_db *d, struct out *o, int64_t run_id)
{
	return json_rows(d, o, "cases", prepare_id(d,
		"SELECT id, seq, name, workload, backend, device_type, params, seed, started_at, ended_at, elapsed_ns / 1e9 AS elapsed_s, verdict, reason, log, run_id "
		"FROM cases WHERE run_id = ? ORDER BY seq", run_id),
		1, 14, case_more);
}

static int write_json(struct cdm_db *d, int64_t id, FILE *f, bool samples)
{
	struct out o = { .f = f, .samples = samples };
	int r;

	json_doc(&o.j, &o.sb);
	r = json_run_header(d, id, &o.j);
	if (!r)
		r = json_kv_query(d, &o.j, "tags", "SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key", id);
	if (!r)
		r = json_devices(d, &o, id);
	if (!r)
		r = json_cases(d, &o, id);
	if (!r)
		r = json_kevents(d, &o, id, 0);
	json_obj_close(&o.j);
	out_flush(&o);
	sb_free(&o.sb);
	return r;
}

/* --- show (text) --- */

static void show_header(struct cdm_db *d, int64_t id)
{
	sqlite3_stmt *st = prepare_id(d,
		"SELECT r.uuid, r.started_at, coalesce(r.ended_at, '-'), r.status, r.status_reason, "
		"r.environment, r.job_name, r.seed, r.kmsg_status, r.harness_version, r.git_revision, "
		"coalesce(h.hostname, '?'), coalesce(h.cpu_model, '?'), coalesce(h.cpus, 0), coalesce(h.numa_nodes, 0), coalesce(h.mem_bytes, 0), "
		"coalesce(k.release, '?'), coalesce(k.config_digest, ''), r.cmdline, "
		"(SELECT group_concat(key || '=' || value, ' ') FROM run_tags t WHERE t.run_id = r.id), "
		"(SELECT group_concat(path || ' ' || memory_type, ', ') FROM devices v WHERE v.run_id = r.id) "
		"FROM runs r LEFT JOIN hosts h ON h.id = r.host_id LEFT JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?", id);

	if (!st)
		return;
	if (db_step(d, st) == SQLITE_ROW) {
		printf("run %lld  %s\n", (long long)id, tcol(st, 0));
		printf("  status       %s%s%s\n", tcol(st, 3),
		       *tcol(st, 4) ? ": " : "", tcol(st, 4));
		printf("  time         %s .. %s\n", tcol(st, 1), tcol(st, 2));
		printf("  job          %s (seed %lld)\n", tcol(st, 6),
		       (long long)sqlite3_column_int64(st, 7));
		printf("  environment  %s\n", tcol(st, 5));
		printf("  host         %s: %s, %d cpus, %d NUMA node(s), %.1f GiB\n",
		       tcol(st, 11), tcol(st, 12),
		       sqlite3_column_int(st, 13), sqlite3_column_int(st, 14),
		       sqlite3_column_int64(st, 15) / 1073741824.0);
		printf("  kernel       %s  config %.16s\n", tcol(st, 16),
		       *tcol(st, 17) ? tcol(st, 17) : "unknown");
		printf("  cmdline      %s\n", tcol(st, 18));
		printf("  devices      %s\n", *tcol(st, 20) ? tcol(st, 20) : "none");
		printf("  kmsg         %s\n", tcol(st, 8));
		printf("  tags         %s\n", tcol(st, 19));
		printf("  cdmbench     %s (git %s)\n", tcol(st, 9),
		       tcol(st, 10));
	}
	sqlite3_finalize(st);
}

static void show_cases(struct cdm_db *d, int64_t id)
{
	sqlite3_stmt *cs = db_prepare(d, "SELECT id, seq, name, backend, device_type, verdict, reason, elapsed_ns FROM cases WHERE run_id = ? ORDER BY seq");
	sqlite3_stmt *ms = db_prepare(d, "SELECT m.name, m.unit, m.better, s.n, s.median, s.p5, s.p95, s.p99, s.mad, s.nonfinite FROM metrics m JOIN summaries s ON s.metric_id = m.id WHERE m.case_id = ? ORDER BY m.id");

	if (!cs || !ms)
		goto out;
	sqlite3_bind_int64(cs, 1, id);
	printf("\ncases:\n");
	while (db_step(d, cs) == SQLITE_ROW) {
		printf("  %3d %-7s %s (%s/%s) %.2fs\n", sqlite3_column_int(cs, 1) + 1,
		       tcol(cs, 5), tcol(cs, 2), tcol(cs, 3),
		       tcol(cs, 4), sqlite3_column_int64(cs, 7) / 1e9);
		if (*tcol(cs, 6))
			printf("        reason: %s\n", tcol(cs, 6));
		sqlite3_reset(ms);
		sqlite3_bind_int64(ms, 1, sqlite3_column_int64(cs, 0));
		while (db_step(d, ms) == SQLITE_ROW) {
			if (!sqlite3_column_int(ms, 3)) {
				int bad = sqlite3_column_int(ms, 9);

				if (bad)
					printf("        %-22s no finite samples (%d NaN or infinite)\n",
					       tcol(ms, 0), bad);
				else
					printf("        %-22s no samples\n",
					       tcol(ms, 0));
				continue;
			}
			printf("        %-22s n=%-6d median %-12.6g p5 %-12.6g p95 %-12.6g p99 %-12.6g %s (%s is better)\n",
			       tcol(ms, 0), sqlite3_column_int(ms, 3),
			       sqlite3_column_double(ms, 4),
			       sqlite3_column_double(ms, 5),
			       sqlite3_column_double(ms, 6),
			       sqlite3_column_double(ms, 7), tcol(ms, 1),
			       tcol(ms, 2));
		}
	}
out:
	sqlite3_finalize(cs);
	sqlite3_finalize(ms);
}

static void show_kevents(struct cdm_db *d, int64_t id)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT e.class, e.ts_usec, coalesce(c.name, '(between cases)'), e.text FROM kevents e LEFT JOIN cases c ON c.id = e.case_id WHERE e.run_id = ? AND e.class != 'other' ORDER BY e.id LIMIT 50");
	sqlite3_stmt *cnt = db_prepare(d, "SELECT count(*) FROM kevents WHERE run_id = ?");
	int n = 0;

	if (!st || !cnt)
		goto out;
	sqlite3_bind_int64(cnt, 1, id);
	if (db_step(d, cnt) == SQLITE_ROW)
		n = sqlite3_column_int(cnt, 0);
	printf("\nkernel events: %d recorded", n);
	sqlite3_bind_int64(st, 1, id);
	n = 0;
	while (db_step(d, st) == SQLITE_ROW) {
		if (!n++)
			printf("; notable:\n");
		printf("  %-12s [%10.6f] %s: %s\n", tcol(st, 0),
		       sqlite3_column_int64(st, 1) / 1e6, tcol(st, 2),
		       tcol(st, 3));
	}
	if (!n)
		printf(", none notable\n");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(cnt);
}

int cmd_show(int argc, char **argv)
{
	struct read_args a = { 0 };
	struct cdm_db d;
	int64_t id;
	int r = 0;

	r = parse_read_args(&cli_show_spec, argc, argv, &a, true);
	if (r || open_read(&d, &a, &id))
		return cli_parse_exit(r);
	if (a.json) {
		r = write_json(&d, id, stdout, false);
	} else {
		show_header(&d, id);
		cdm_acceptance_print(&d, id, stdout);
		show_cases(&d, id);
		show_kevents(&d, id);
	}
	db_close(&d);
	return r ? CDM_EXIT_FAIL : 0;
}

/* --- export --- */

static void csv_field(FILE *f, const char *s)
{
	struct sbuf sb;

	sb_init(&sb);
	esc_csv(&sb, s);
	fputs(sb.buf ? sb.buf : "", f);
	sb_free(&sb);
}

static int write_csv(struct cdm_db *d, int64_t id, FILE *f)
{
	sqlite3_stmt *st = prepare_id(d,
		"SELECT c.seq, c.name, c.workload, c.backend, c.device_type, c.verdict, m.name, m.unit, s.seq, s.value "
		"FROM cases c JOIN metrics m ON m.case_id = c.id JOIN samples s ON s.metric_id = m.id "
		"WHERE c.run_id = ? ORDER BY c.seq, m.id, s.seq", id);
	int r, i;

	if (!st)
		return -1;
	fputs("run_id,case_seq,case,workload,backend,device_type,verdict,metric,unit,sample_seq,value\n", f);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		fprintf(f, "%lld,%d,", (long long)id, sqlite3_column_int(st, 0));
		for (i = 1; i <= 7; i++) {
			csv_field(f, col_text(st, i));
			fputc(',', f);
		}
		fprintf(f, "%lld,", (long long)sqlite3_column_int64(st, 8));
		if (sqlite3_column_type(st, 9) == SQLITE_NULL)
			fputs("nan\n", f);
		else
			fprintf(f, "%.17g\n", sqlite3_column_double(st, 9));
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

int cmd_export(int argc, char **argv)
{
	struct read_args a = { 0 };
	struct cdm_db d;
	FILE *f = stdout;
	int64_t id;
	int r;

	r = parse_read_args(&cli_export_spec, argc, argv, &a, true);
	if (r)
		return cli_parse_exit(r);
	if (!a.format) {
		cdm_err("export: --format json|csv|junit|tap is required");
		return CDM_EXIT_USAGE;
	}
	if (open_read(&d, &a, &id))
		return CDM_EXIT_USAGE;
	if (a.out && !(f = fopen(a.out, "w"))) {
		cdm_errno(errno, "export: -O %s", a.out);
		db_close(&d);
		return CDM_EXIT_USAGE;
	}
	r = !strcmp(a.format, "json") ? write_json(&d, id, f, true) :
	    !strcmp(a.format, "junit") ? cdm_export_junit(&d, id, f) :
	    !strcmp(a.format, "tap") ? cdm_export_tap(&d, id, f) :
		write_csv(&d, id, f);
	if (fflush(f) || ferror(f)) {
		cdm_errno(errno, "export: writing %s failed",
			  a.out ? a.out : "standard output");
		clearerr(f);	/* said once, here */
		r = -1;
	}
	if (f != stdout)
		fclose(f);
	db_close(&d);
	return r ? CDM_EXIT_FAIL : 0;
}

/* --- db check --- */

static void print_problem(void *arg, const char *msg)
{
	(void)arg;
	printf("value: %s\n", tesc(msg));
}

/* rows whose values cdmbench would refuse to load (validate.c) */
static int db_check_values(struct cdm_db *d)
{
	struct db_problems p = { .fn = print_problem };
	int r = db_validate(d, 0, true, &p);

	free(p.first);
	return r < 0 ? 1 : p.n;
}

/* "integrity: ..." for each row of PRAGMA integrity_check but "ok" */
static int integrity_problem(sqlite3_stmt *st)
{
	if (!strcmp(col_text(st, 0), "ok"))
		return 0;
	printf("integrity: %s\n", col_text(st, 0));
	return 1;
}

static int foreign_key_problem(sqlite3_stmt *st)
{
	printf("foreign key: %s row %lld refers to a missing %s\n",
	       col_text(st, 0), (long long)sqlite3_column_int64(st, 1),
	       col_text(st, 2));
	return 1;
}

/* the problems a check PRAGMA reports, each printed by problem(); -1 if
 * the check itself failed */
static int db_check_pragma(struct cdm_db *d, const char *sql,
			   int (*problem)(sqlite3_stmt *st))
{
	sqlite3_stmt *st = db_prepare(d, sql);
	int bad = 0, r;

	if (!st)
		return -1;
	while ((r = db_step(d, st)) == SQLITE_ROW)
		bad += problem(st);
	sqlite3_finalize(st);
	return r < 0 ? -1 : bad;
}

static int db_check(struct cdm_db *d)
{
	int integrity, fk;

	integrity = db_check_pragma(d, "PRAGMA integrity_check",
				    integrity_problem);
	if (integrity < 0)
		return -1;
	fk = db_check_pragma(d, "PRAGMA foreign_key_check",
			     foreign_key_problem);
	if (fk < 0)
		return -1;
	return integrity + fk + db_check_values(d);
}

static void db_counts(struct cdm_db *d)
{
	static const char *const tabs[] = { "runs", "cases", "metrics",
		"samples", "kevents" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(tabs); i++) {
		char sql[64];
		sqlite3_stmt *st;

		snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s", tabs[i]);
		st = db_prepare(d, sql);
		if (st && db_step(d, st) == SQLITE_ROW)
			printf("%-15s %lld\n", tabs[i],
			       (long long)sqlite3_column_int64(st, 0));
		sqlite3_finalize(st);
	}
}

int cmd_db(int argc, char **argv)
{
	struct read_args a = { 0 };
	struct cdm_db d;
	int bad, r;

	if (argc < 2 || strcmp(argv[1], "check")) {
		if (argc >= 2 && !strcmp(argv[1], "--help"))
			return cli_help("db");
		cdm_err("db: expected 'db check'%s%s", argc >= 2 ? ", not " : "",
			argc >= 2 ? argv[1] : "");
		return CDM_EXIT_USAGE;
	}
	if (argc >= 3 && !strcmp(argv[2], "--help"))
		return cli_help("db");
	r = parse_read_args(&cli_db_spec, argc - 1, argv + 1, &a, false);
	if (r || open_read(&d, &a, NULL))
		return cli_parse_exit(r);
	printf("%-15s %s\n", "database", d.path);
	printf("%-15s %d (this cdmbench: %d)\n", "schema version", d.version,
	       db_latest_version());
	db_counts(&d);
	bad = db_check(&d);
	if (bad == 0)
		printf("%-15s ok\n", "integrity");
	db_close(&d);
	return bad ? CDM_EXIT_FAIL : 0;
}
