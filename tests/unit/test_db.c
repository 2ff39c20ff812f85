// SPDX-License-Identifier: GPL-2.0
/* The results store: schema, identity checks, writes, stale runs. */
#include <math.h>
#include <sqlite3.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "fixture.h"
#include "tap.h"

static char *path_in_tmp(const char *name)
{
	return xasprintf("%s/%s", tap_tmpdir(), name);
}

static void fill_run(struct cdm_run_info *r)
{
	char uuid[32];

	snprintf(uuid, sizeof(uuid), "u-%d", rand());
	fixture_run(r, uuid);
}

static void fill_case(struct cdm_case_res *c, size_t nsamples)
{
	struct cdm_metric_res *m;
	size_t i;

	m = fixture_case(c, "a", "bw", "GB/s");
	m->better = 1;
	for (i = 0; i < nsamples; i++) {
		double v = i == 1 ? NAN : (double)i;

		metric_add_samples(m, &v, 1);
	}
	case_res_summarize(c);
}

static long long count(struct cdm_db *d, const char *sql)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	long long n = -1;

	if (st && sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* a new database gets every schema file, our application id, WAL */
TEST(db_create_and_write)
{
	char *p = path_in_tmp("a.db");
	struct cdm_run_info r;
	struct cdm_case_res c;
	struct cdm_db d;
	int64_t id;

	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	CHECK(d.version == db_latest_version());
	CHECK(count(&d, "PRAGMA application_id") == CDM_APPLICATION_ID);
	CHECK(count(&d, "SELECT journal_mode = 'wal' FROM pragma_journal_mode") == 1);
	fill_run(&r);
	REQUIRE(db_run_begin(&d, &r, &id) == 0);
	fill_case(&c, 100);
	REQUIRE(db_case(&d, id, &c) == 0);
	CHECK(db_run_end(&d, id, "completed", "") == 0);
	CHECK(count(&d, "SELECT count(*) FROM samples") == 100);
	/* NaN is stored as NULL and excluded from the summary */
	CHECK(count(&d, "SELECT count(*) FROM samples WHERE value IS NULL") == 1);
	CHECK(count(&d, "SELECT n FROM summaries") == 99);
	CHECK(count(&d, "SELECT count(*) FROM results WHERE metric = 'bw'") == 1);
	CHECK(count(&d, "SELECT status = 'completed' FROM runs") == 1);
	db_close(&d);
	/* reopening does not re-apply anything or lose data */
	REQUIRE(db_open(&d, p, DB_READ) == 0);
	CHECK(count(&d, "SELECT count(*) FROM samples") == 100);
	db_close(&d);
	case_res_free(&c);
	run_info_free(&r);
	free(p);
}

static char *open_err(const char *p, enum db_open_mode mode)
{
	struct cdm_db d;
	int r;

	tap_capture_begin();
	r = db_open(&d, p, mode);
	if (!r)
		db_close(&d);
	CHECK(r != 0, "%s opened but should not", p);
	return tap_capture_end();
}

/* an SQLite database another program made at p (by sql): refused, in words */
static void check_foreign(const char *p, const char *sql, const char *want)
{
	sqlite3 *raw;
	char *err;

	unlink(p);
	REQUIRE(sqlite3_open(p, &raw) == SQLITE_OK);
	REQUIRE(sqlite3_exec(raw, sql, 0, 0, 0) == SQLITE_OK);
	sqlite3_close(raw);
	err = open_err(p, DB_WRITE);
	CHECK_CONTAINS(err, want);
	free(err);
}

/* foreign files are refused before anything is written into them */
TEST(db_refuses_foreign_files)
{
	char *p = path_in_tmp("x.db"), *err, *before, *after;

	write_file(p, "hello, I am not a database at all, not even close\n", 50);
	before = read_file(p, 0, NULL);
	err = open_err(p, DB_WRITE);
	CHECK_CONTAINS(err, "not an SQLite database");
	after = read_file(p, 0, NULL);
	CHECK_STR(after, before);
	free(err);
	check_foreign(p, "CREATE TABLE t(x); PRAGMA user_version = 3",
		      "not a cdmbench one");
	check_foreign(p, "PRAGMA application_id = 1145258561; CREATE TABLE t(x)",
		      "another application");
	free(before);
	free(after);
	free(p);
}

/* a database from a newer cdmbench is refused, and left as it was */
TEST(db_refuses_newer_schema)
{
	char *p = path_in_tmp("n.db"), *err, sql[64];
	struct cdm_db d;
	sqlite3 *raw;
	int v = -1;

	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	db_close(&d);
	sqlite3_open(p, &raw);
	snprintf(sql, sizeof(sql), "PRAGMA user_version = %d",
		 db_latest_version() + 1);
	sqlite3_exec(raw, sql, 0, 0, 0);
	sqlite3_close(raw);
	err = open_err(p, DB_WRITE);
	CHECK_CONTAINS(err, "newer than this cdmbench supports");
	sqlite3_open(p, &raw);
	{
		sqlite3_stmt *st;

		sqlite3_prepare_v2(raw, "PRAGMA user_version", -1, &st, NULL);
		if (sqlite3_step(st) == SQLITE_ROW)
			v = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
	}
	sqlite3_close(raw);
	CHECK(v == db_latest_version() + 1);
	free(err);
	free(p);
}

TEST(db_bad_paths)
{
	char *p = xasprintf("%s/missing/dir/x.db", tap_tmpdir()), *err;

	err = open_err(p, DB_WRITE);
	CHECK_CONTAINS(err, "does not exist");
	free(err);
	err = open_err(tap_tmpdir(), DB_WRITE);
	CHECK_CONTAINS(err, "is a directory");
	free(err);
	free(p);
	p = path_in_tmp("absent.db");
	err = open_err(p, DB_READ);
	CHECK_CONTAINS(err, "no such database");
	CHECK(access(p, F_OK) != 0);
	free(err);
	free(p);
}

/* a 'running' run whose process is gone is marked interrupted on open;
 * one whose owner is alive is left alone */
TEST(db_marks_dead_runs_interrupted)
{
	char *p = path_in_tmp("s.db");
	struct cdm_run_info r;
	struct cdm_db d;
	int64_t live, dead;

	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	fill_run(&r);
	REQUIRE(db_run_begin(&d, &r, &live) == 0);
	snprintf(r.uuid, sizeof(r.uuid), "other");
	REQUIRE(db_run_begin(&d, &r, &dead) == 0);
	{
		sqlite3_stmt *st = db_prepare(&d, "UPDATE runs SET owner_pid = 999999999 WHERE id = ?");

		sqlite3_bind_int64(st, 1, dead);
		CHECK(sqlite3_step(st) == SQLITE_DONE);
		sqlite3_finalize(st);
	}
	db_close(&d);
	REQUIRE(db_open(&d, p, DB_READ) == 0);
	CHECK(count(&d, "SELECT count(*) FROM runs WHERE status = 'interrupted'") == 1);
	CHECK(count(&d, "SELECT count(*) FROM runs WHERE status = 'running'") == 1);
	CHECK(count(&d, "SELECT status_reason LIKE '%killed%' FROM runs WHERE status = 'interrupted'") == 1);
	db_close(&d);
	run_info_free(&r);
	free(p);
}

TEST(db_resolve_run_ids)
{
	char *p = path_in_tmp("r.db"), *err;
	struct cdm_run_info r;
	struct cdm_db d;
	int64_t id, got = 0;

	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	fill_run(&r);
	snprintf(r.uuid, sizeof(r.uuid), "deadbeef-1");
	REQUIRE(db_run_begin(&d, &r, &id) == 0);
	snprintf(r.uuid, sizeof(r.uuid), "deadbeef-2");
	REQUIRE(db_run_begin(&d, &r, &id) == 0);
	CHECK(db_resolve_run(&d, "last", &got) == 0 && got == id);
	CHECK(db_resolve_run(&d, "1", &got) == 0 && got == 1);
	CHECK(db_resolve_run(&d, "deadbeef-2", &got) == 0 && got == id);
	tap_capture_begin();
	CHECK(db_resolve_run(&d, "deadbeef", &got) != 0);
	CHECK(db_resolve_run(&d, "77", &got) != 0);
	CHECK(db_resolve_run(&d, "%", &got) != 0);
	err = tap_capture_end();
	CHECK_CONTAINS(err, "ambiguous");
	CHECK_CONTAINS(err, "no run '77'");
	free(err);
	db_close(&d);
	run_info_free(&r);
	free(p);
}

/*
 * Streamed samples: summarised from the TEMP table exactly as
 * cdm_summarize() summarises them in memory (bit for bit, with NaN,
 * infinities, ties and negative zero among them), and stored in order.
 */
TEST(db_spilled_samples_match_memory)
{
	char *p = path_in_tmp("spill.db");
	struct cdm_summary want;
	struct cdm_run_info r;
	struct cdm_case_res c;
	struct cdm_metric_res *m;
	struct cdm_db d;
	double *all;
	size_t n = 100003, i, chunk = 4096;
	uint64_t st = 42;
	int64_t id;

	all = xmalloc(n * sizeof(*all));
	for (i = 0; i < n; i++) {
		uint64_t x = splitmix64(&st);

		all[i] = (double)(x % 1000) / 7.0 - 50;	/* many ties */
		if (i % 997 == 0)
			all[i] = NAN;
		if (i % 1999 == 0)
			all[i] = (i & 1) ? INFINITY : -INFINITY;
		if (i % 1009 == 0)
			all[i] = -0.0;
	}
	cdm_summarize(all, n, &want);
	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	fill_run(&r);
	REQUIRE(db_run_begin(&d, &r, &id) == 0);
	fill_case(&c, 0);
	m = &c.metrics[0];
	for (i = 0; i < n; i += chunk) {
		metric_add_samples(m, all + i, i + chunk <= n ? chunk : n - i);
		if (i + chunk < n)	/* the last chunk stays in memory */
			REQUIRE(db_spill(&d, 0, m) == 0);
	}
	CHECK(m->spilled == n - n % chunk && m->n == n % chunk);
	REQUIRE(db_spill_summarize(&d, 0, m) == 0);
	CHECK(m->sum.n == want.n && m->sum.nonfinite == want.nonfinite,
	      "n %zu/%zu nonfinite %zu/%zu", m->sum.n, want.n,
	      m->sum.nonfinite, want.nonfinite);
	CHECK(!memcmp(&m->sum.min, &want.min,
		      sizeof(want) - offsetof(struct cdm_summary, min)),
	      "median %.17g/%.17g mad %.17g/%.17g mean %.17g/%.17g",
	      m->sum.median, want.median, m->sum.mad, want.mad,
	      m->sum.mean, want.mean);
	REQUIRE(db_case(&d, id, &c) == 0);
	CHECK(count(&d, "SELECT count(*) FROM samples") == (long long)n);
	CHECK(count(&d, "SELECT count(*) FROM samples WHERE seq = 4096 AND value IS NOT NULL") == 1);
	CHECK(count(&d, "SELECT max(seq) FROM samples") == (long long)n - 1);
	CHECK(count(&d, "SELECT n + nonfinite FROM summaries") == (long long)n);
	case_res_free(&c);
	run_info_free(&r);
	db_close(&d);
	free(all);
	free(p);
}

/* the same for the smallest and oddest metrics: 1..9 samples, all equal,
 * all NaN, one finite among infinities */
TEST(db_spilled_small_metrics)
{
	static const double sets[][9] = {
		{ 3 }, { 1, 2 }, { 2, 1, 3 }, { 5, 5, 5, 5 }, { 1, 9, 2, 8, 3 },
		{ NAN, NAN }, { INFINITY, 4, -INFINITY }, { -1, 0, 1, 2, 3, 4, 100, -50, 7 },
	};
	static const size_t lens[] = { 1, 2, 3, 4, 5, 2, 3, 9 };
	char *p = path_in_tmp("small.db");
	struct cdm_db d;
	size_t t;

	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	for (t = 0; t < ARRAY_SIZE(lens); t++) {
		struct cdm_summary want;
		struct cdm_case_res c;
		struct cdm_metric_res *m;

		cdm_summarize(sets[t], lens[t], &want);
		fill_case(&c, 0);
		m = &c.metrics[0];
		metric_add_samples(m, sets[t], 1);
		REQUIRE(db_spill(&d, 0, m) == 0);
		metric_add_samples(m, sets[t] + 1, lens[t] - 1);
		REQUIRE(db_spill_summarize(&d, 0, m) == 0);
		CHECK(m->sum.n == want.n && m->sum.nonfinite == want.nonfinite &&
		      !memcmp(&m->sum.min, &want.min,
			      sizeof(want) - offsetof(struct cdm_summary, min)),
		      "set %zu: median %g/%g mad %g/%g p99 %g/%g", t,
		      m->sum.median, want.median, m->sum.mad, want.mad,
		      m->sum.p99, want.p99);
		REQUIRE(db_spill_reset_metric(&d, 0) == 0);
		case_res_free(&c);
	}
	db_close(&d);
	free(p);
}
