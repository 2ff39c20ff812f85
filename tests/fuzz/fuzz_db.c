// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the database loaders. A database of two runs of two
 * cases is made once; each input is a list of edits to it (set a column
 * of some row to an integer, real, text, blob or NULL; delete a row; set
 * the schema version or application id), past the CHECK constraints as
 * another tool would. Then everything that reads a run reads it: run
 * resolution and validation, `db check`, report (HTML and Markdown, with
 * a baseline), compare, history, JUnit and TAP export. Each must load or
 * refuse with a message; none may crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analysis/compare.h"
#include "analysis/history.h"
#include "core/expect.h"
#include "report/export_ci.h"
#include "core/job.h"
#include "report/report.h"
#include "store/db.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

static const struct { const char *table, *column; } cols[] = {
	{ "runs", "status" }, { "runs", "status_reason" }, { "runs", "seed" },
	{ "runs", "job_name" }, { "runs", "job_text" }, { "runs", "started_at" },
	{ "runs", "ended_at" }, { "runs", "environment" }, { "runs", "host_id" },
	{ "runs", "kernel_id" }, { "runs", "owner_pid" }, { "runs", "owner_host" },
	{ "runs", "uuid" }, { "runs", "argv" }, { "runs", "kmsg_status" },
	{ "hosts", "hostname" }, { "hosts", "cpus" }, { "hosts", "numa_nodes" },
	{ "hosts", "mem_bytes" }, { "kernels", "release" },
	{ "run_tags", "key" }, { "run_tags", "value" },
	{ "devices", "path" }, { "devices", "memory_type" },
	{ "cases", "seq" }, { "cases", "name" }, { "cases", "workload" },
	{ "cases", "backend" }, { "cases", "device_type" }, { "cases", "params" },
	{ "cases", "match_key" }, { "cases", "seed" }, { "cases", "elapsed_ns" },
	{ "cases", "verdict" }, { "cases", "reason" }, { "cases", "log" },
	{ "cases", "run_id" }, { "cases", "started_at" },
	{ "case_info", "key" }, { "case_info", "value" },
	{ "metrics", "name" }, { "metrics", "unit" }, { "metrics", "better" },
	{ "metrics", "case_id" },
	{ "summaries", "n" }, { "summaries", "nonfinite" }, { "summaries", "min" },
	{ "summaries", "p5" }, { "summaries", "median" }, { "summaries", "mean" },
	{ "summaries", "p95" }, { "summaries", "p99" }, { "summaries", "max" },
	{ "summaries", "stddev" }, { "summaries", "mad" },
	{ "samples", "value" }, { "samples", "seq" }, { "samples", "metric_id" },
	{ "kevents", "level" }, { "kevents", "ts_usec" }, { "kevents", "class" },
	{ "kevents", "text" }, { "kevents", "case_id" }, { "kevents", "facility" },
};
#define NCOLS (sizeof(cols) / sizeof(cols[0]))

static char *tmpl;		/* the database file, as bytes */
static size_t tmpl_len;
static char path[256];

/* a reader over the fuzz input */
struct in {
	const uint8_t *p;
	size_t n;
};

static int take(struct in *in, void *out, size_t n)
{
	if (in->n < n)
		return -1;
	memcpy(out, in->p, n);
	in->p += n;
	in->n -= n;
	return 0;
}

static int bind_value(sqlite3_stmt *st, int i, struct in *in)
{
	uint8_t kind, len;
	int64_t v;
	double d;
	int8_t small;

	if (take(in, &kind, 1))
		return -1;
	switch (kind % 6) {
	case 0:
		return sqlite3_bind_null(st, i);
	case 1:
		if (take(in, &v, 8))
			return -1;
		return sqlite3_bind_int64(st, i, v);
	case 2:
		if (take(in, &d, 8))
			return -1;
		return sqlite3_bind_double(st, i, d);
	case 3:
	case 5:
		if (take(in, &len, 1) || in->n < len)
			return -1;
		if (kind % 6 == 3)
			sqlite3_bind_text(st, i, (const char *)in->p, len,
					  SQLITE_TRANSIENT);
		else
			sqlite3_bind_blob(st, i, in->p, len, SQLITE_TRANSIENT);
		in->p += len;
		in->n -= len;
		return 0;
	default:
		if (take(in, &small, 1))
			return -1;
		return sqlite3_bind_int64(st, i, small);
	}
}

static const char *row_of(const char *table)
{
	return strcmp(table, "samples") ? "rowid IN (SELECT rowid FROM %s LIMIT 1 OFFSET ?)" :
		"(metric_id, seq) IN (SELECT metric_id, seq FROM %s LIMIT 1 OFFSET ?)";
}

/* one edit; -1 when the input is used up */
static int edit(sqlite3 *db, struct in *in)
{
	uint8_t op, row;
	char sql[512], where[160];
	sqlite3_stmt *st = NULL;
	int32_t v;

	if (take(in, &op, 1) || take(in, &row, 1))
		return -1;
	if (op == 255 || op == 254) {
		if (take(in, &v, 4))
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA %s = %d",
			 op == 255 ? "user_version" : "application_id", v);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		return 0;
	}
	if (op >= 2 * NCOLS) {
		snprintf(where, sizeof(where), row_of(cols[op % NCOLS].table),
			 cols[op % NCOLS].table);
		snprintf(sql, sizeof(sql), "DELETE FROM %s WHERE %s",
			 cols[op % NCOLS].table, where);
		if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int(st, 1, row % 8);
			sqlite3_step(st);
		}
		sqlite3_finalize(st);
		return 0;
	}
	op %= NCOLS;
	snprintf(where, sizeof(where), row_of(cols[op].table), cols[op].table);
	snprintf(sql, sizeof(sql), "UPDATE %s SET %s = ?1 WHERE %s",
		 cols[op].table, cols[op].column, where);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		return 0;
	if (bind_value(st, 1, in)) {
		sqlite3_finalize(st);
		return -1;
	}
	/* ?2 in the subquery: bind by index after ?1 */
	sqlite3_bind_int(st, 2, row % 8);
	sqlite3_step(st);
	sqlite3_finalize(st);
	return 0;
}

static int write_edited(const uint8_t *data, size_t size)
{
	struct in in = { data, size };
	sqlite3 *db;
	unsigned char *img, *out;
	sqlite3_int64 len;
	int r = -1;

	if (sqlite3_open(":memory:", &db) != SQLITE_OK)
		return -1;
	img = sqlite3_malloc64(tmpl_len);
	memcpy(img, tmpl, tmpl_len);
	if (sqlite3_deserialize(db, "main", img, tmpl_len, tmpl_len,
				SQLITE_DESERIALIZE_FREEONCLOSE |
				SQLITE_DESERIALIZE_RESIZEABLE) != SQLITE_OK)
		goto out;
	sqlite3_exec(db, "PRAGMA ignore_check_constraints = 1", NULL, NULL, NULL);
	while (edit(db, &in) == 0)
		;
	out = sqlite3_serialize(db, "main", &len, 0);
	if (out) {
		r = write_file(path, (const char *)out, len);
		sqlite3_free(out);
	}
out:
	sqlite3_close(db);
	return r;
}

static void read_everything(void)
{
	struct report_opts ro = { .baseline = "2", .charts = true };
	struct cmp_opts co;
	struct cmp_result cr;
	struct hist_query hq = { .case_name = "a[size=4K]", .metric = "copy" };
	struct db_problems p = { 0 };
	struct cdm_db d;
	struct rrun rr;
	struct hist h;
	struct sbuf sb;
	int64_t id;
	FILE *null;

	if (db_open(&d, path, DB_READ))
		return;
	if (db_validate(&d, 0, true, &p) == 0)
		free(p.first);
	if (!db_resolve_run(&d, "1", &id)) {
		memset(&rr, 0, sizeof(rr));
		if (!report_load(&d, id, &ro, &rr)) {
			sb_init(&sb);
			report_html(&rr, &sb);
			report_md(&rr, &sb);
			sb_free(&sb);
		}
		report_free(&rr);
		null = fopen("/dev/null", "w");
		(void)cdm_export_junit(&d, id, null);
		(void)cdm_export_tap(&d, id, null);
		fclose(null);
	}
	cmp_opts_default(&co);
	co.reps = 20;
	(void)cdm_compare(&d, "1", "2", &co, &cr);
	cdm_compare_free(&cr);
	memset(&h, 0, sizeof(h));
	if (!cdm_history_load(&d, &hq, &h))
		cdm_history_steps(&h, 0.05, 0.01);
	cdm_history_free(&h);
	db_close(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char side[300];

	if (write_edited(data, size) == 0)
		read_everything();
	unlink(path);
	snprintf(side, sizeof(side), "%s-wal", path);
	unlink(side);
	snprintf(side, sizeof(side), "%s-shm", path);
	unlink(side);
	return 0;
}

/* --- the template: two runs of a two-case stream job --- */

static void fake_case(const struct cdm_case_spec *cs, int seq, double scale,
		      struct cdm_case_res *c)
{
	static const char *const names[] = { "copy", "triad" };
	double v[16];
	size_t m, i;

	case_res_init(c);
	c->seq = seq;
	c->name = xstrdup(cs->name);
	c->workload = xstrdup(cs->wl->name);
	c->backend = xstrdup("cpu");
	c->device_type = xstrdup("system");
	c->params = xstrdup(cs->params_json);
	c->match_key = xstrdup(cs->match_key);
	c->elapsed_ns = 1000000;
	for (m = 0; m < 2; m++) {
		struct cdm_metric_res *mr = case_res_metric(c, m);

		mr->name = xstrdup(names[m]);
		mr->unit = xstrdup("GB/s");
		mr->better = 1;
		for (i = 0; i < 16; i++)
			v[i] = scale * (10 + (double)((i * 7) % 13) / 10);
		metric_add_samples(mr, v, 16);
	}
	kv_add(&c->info, "expect.metric.copy", "pass: fine");
	kv_add(&c->info, "pages", "12");
	{
		struct cdm_kevent e = { .seq = 7, .ts_usec = 99, .level = 4,
					.cls = CDM_K_WARNING,
					.text = "WARNING: at mm/memory.c" };

		kev_add(&c->kev, &e);
	}
	case_res_summarize(c);
}

static int make_template(void)
{
	static const char job_text[] = "[a]\nworkload = stream\nsize = 4K, 8K\n";
	struct cdm_run_info ri;
	struct cdm_job job;
	struct cdm_db d;
	int64_t run_id;
	int run, i;

	memset(&job, 0, sizeof(job));
	if (job_parse_text(&job, "t.ini", job_text, strlen(job_text)) ||
	    job_expand(&job) || db_open(&d, path, DB_WRITE))
		return -1;
	for (run = 0; run < 2; run++) {
		memset(&ri, 0, sizeof(ri));
		snprintf(ri.uuid, sizeof(ri.uuid), "0000000%d-aaaa-bbbb-cccc-dddddddddddd", run);
		ri.harness_version = xstrdup("fuzz");
		ri.git_revision = xstrdup("fuzz");
		ri.job_name = xstrdup("t");
		ri.job_text = xstrdup(job_text);
		ri.environment = xstrdup("bare-metal");
		ri.host.hostname = xstrdup("h");
		ri.host.cpu_model = xstrdup("cpu");
		ri.host.arch = xstrdup("x86_64");
		ri.host.cpus = 2;
		ri.kernel.release = xstrdup("6.1");
		ri.kernel.version = xstrdup("#1");
		ri.kernel.config_digest = xstrdup("");
		ri.cmdline = xstrdup("");
		ri.argv = xstrdup("cdmbench run");
		ri.kmsg_status = xstrdup("ok");
		kv_add(&ri.tags, "team", "mm");
		if (db_run_begin(&d, &ri, &run_id))
			return -1;
		for (i = 0; i < (int)job.ncases; i++) {
			struct cdm_case_res c;

			fake_case(&job.cases[i], i, 1 + run * 0.1, &c);
			if (db_case(&d, run_id, &c))
				return -1;
			case_res_free(&c);
		}
		if (db_run_end(&d, run_id, "completed", ""))
			return -1;
		run_info_free(&ri);
	}
	job_free(&job);
	/* one file, no WAL beside it: the template is its bytes */
	sqlite3_exec(d.db, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL);
	db_close(&d);
	tmpl = read_file(path, 0, &tmpl_len);
	unlink(path);
	return tmpl ? 0 : -1;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	const char *dir = getenv("TMPDIR");

	(void)argc;
	(void)argv;
	snprintf(path, sizeof(path), "%s/cdm-fuzz-db-%d.db",
		 dir ? dir : "/tmp", (int)getpid());
	if (make_template()) {
		fprintf(stderr, "fuzz-db: cannot make the template database\n");
		exit(1);
	}
	return 0;
}
