// SPDX-License-Identifier: GPL-2.0
/*
 * A stored run's acceptance: its case verdicts and evaluated expectations
 * (core/expect.c) read back, for `show`, `export --format junit|tap` and
 * the report.
 */
#include <stdlib.h>
#include <string.h>

#include "store/accept.h"
#include "util/escape.h"

const char *cdm_accept_name(enum cdm_accept v)
{
	return v == CDM_ACCEPT_PASS ? "PASS" :
	       v == CDM_ACCEPT_FAIL ? "FAIL" : "INCOMPLETE";
}

static bool verdict_fails(int v)
{
	return v != CDM_PASS && v != CDM_SKIP && v >= 0;
}

static int accept_cases(struct cdm_db *d, int64_t run_id,
			struct cdm_acceptance *a)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT c.name, c.verdict, c.reason, EXISTS (SELECT 1 FROM metrics m JOIN summaries s ON s.metric_id = m.id WHERE m.case_id = c.id AND s.n > 0) OR EXISTS (SELECT 1 FROM case_info i WHERE i.case_id = c.id AND i.key NOT LIKE 'expect.%') FROM cases c WHERE c.run_id = ? ORDER BY c.seq");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		int v = cdm_verdict_parse(col_text(st, 1));
		char *why;

		a->cases++;
		if (v >= 0)
			a->verdicts[v]++;
		if (v == CDM_PASS && sqlite3_column_int(st, 3))
			a->measured++;
		if (!verdict_fails(v))
			continue;
		why = xasprintf("%s%s%s", col_text(st, 1),
				*col_text(st, 2) ? ": " : "", col_text(st, 2));
		kv_add(&a->reasons, col_text(st, 0), why);
		free(why);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

static int accept_expectations(struct cdm_db *d, int64_t run_id,
			       struct cdm_acceptance *a)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT status, count(*) FROM expectations WHERE run_id = ? GROUP BY status");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		const char *s = col_text(st, 0);
		int n = sqlite3_column_int(st, 1);

		if (!strcmp(s, "pass"))
			a->expect_pass += n;
		else if (!strcmp(s, "skip"))
			a->expect_skip += n;
		else
			a->expect_fail += n;
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

int cdm_acceptance(struct cdm_db *d, int64_t run_id, struct cdm_acceptance *a)
{
	sqlite3_stmt *st;
	char *status = NULL, *reason = NULL;
	int r;

	memset(a, 0, sizeof(*a));
	st = db_prepare(d, "SELECT status, status_reason FROM runs WHERE id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	r = db_step(d, st);
	if (r == SQLITE_ROW) {
		status = xstrdup(col_text(st, 0));
		reason = xstrdup(col_text(st, 1));
	}
	sqlite3_finalize(st);
	if (r != SQLITE_ROW) {
		if (r == SQLITE_DONE)
			cdm_err("%s: no run %lld", d->path, (long long)run_id);
		return -1;
	}
	r = accept_cases(d, run_id, a) || accept_expectations(d, run_id, a);
	if (!strcmp(status, "running")) {
		kv_add(&a->reasons, "run", "still in progress");
	} else if (strcmp(status, "completed")) {
		char *why = xasprintf("%s%s%s", status, *reason ? ": " : "",
				      reason);

		kv_add(&a->reasons, "run", why);
		free(why);
	} else if (!a->cases) {
		kv_add(&a->reasons, "run", "no cases ran");
	} else if (!a->measured) {
		/* all skipped proves nothing about the node */
		kv_add(&a->reasons, "run", "no case passed with a measurement (every case skipped or failed, or recorded no sample and no fact)");
	}
	a->verdict = !strcmp(status, "running") ? CDM_ACCEPT_INCOMPLETE :
		     a->reasons.n ? CDM_ACCEPT_FAIL : CDM_ACCEPT_PASS;
	free(status);
	free(reason);
	return r ? -1 : 0;
}

void cdm_acceptance_free(struct cdm_acceptance *a)
{
	kv_free(&a->reasons);
}

void cdm_acceptance_line(const struct cdm_acceptance *a, struct sbuf *sb)
{
	int bad = a->cases - a->verdicts[CDM_PASS] - a->verdicts[CDM_SKIP];

	sb_addf(sb, "%s: %d case%s: %d passed, %d skipped, %d failed",
		cdm_accept_name(a->verdict), a->cases, a->cases == 1 ? "" : "s",
		a->verdicts[CDM_PASS], a->verdicts[CDM_SKIP], bad);
	if (a->expect_pass + a->expect_fail + a->expect_skip)
		sb_addf(sb, "; expectations: %d met, %d failed, %d not evaluated",
			a->expect_pass, a->expect_fail, a->expect_skip);
}

void cdm_acceptance_print(struct cdm_db *d, int64_t run_id, FILE *f)
{
	struct cdm_acceptance a;
	struct sbuf sb;
	size_t i;

	if (cdm_acceptance(d, run_id, &a)) {
		cdm_acceptance_free(&a);
		return;
	}
	sb_init(&sb);
	cdm_acceptance_line(&a, &sb);
	fprintf(f, "  acceptance   %s\n", tesc(sb.buf));
	for (i = 0; i < a.reasons.n; i++)
		fprintf(f, "               %s: %s\n", tesc(a.reasons.v[i].key),
			tesc(a.reasons.v[i].value));
	sb_free(&sb);
	cdm_acceptance_free(&a);
}
