// SPDX-License-Identifier: GPL-2.0
/*
 * `export --format junit|tap`: a run as test results for CI systems. One
 * test per case; its expectations and summaries go along as output, so a
 * failure in a CI dashboard says which threshold or invariant broke. The
 * run's acceptance verdict is the suite's outcome.
 */
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"
#include "report/export_ci.h"
#include "store/accept.h"

struct ci_case {
	int64_t id;
	const char *name;
	const char *workload;
	const char *backend;
	const char *device_type;
	const char *verdict;
	const char *reason;
	double seconds;
};

static void ci_case_row(sqlite3_stmt *st, struct ci_case *c)
{
	c->id = sqlite3_column_int64(st, 0);
	c->name = col_text(st, 1);
	c->workload = col_text(st, 2);
	c->backend = col_text(st, 3);
	c->device_type = col_text(st, 4);
	c->verdict = col_text(st, 5);
	c->reason = col_text(st, 6);
	c->seconds = sqlite3_column_int64(st, 7) / 1e9;
}

static sqlite3_stmt *ci_cases(struct cdm_db *d, int64_t run_id)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT id, name, workload, backend, device_type, verdict, reason, elapsed_ns FROM cases WHERE run_id = ? ORDER BY seq");

	if (st)
		sqlite3_bind_int64(st, 1, run_id);
	return st;
}

/* "expect.x: pass: detail" lines, then "metric: median ... unit" lines */
static int ci_details(struct cdm_db *d, int64_t case_id, struct sbuf *out,
		      bool metrics)
{
	sqlite3_stmt *e = db_prepare(d, "SELECT expectation, status, detail FROM expectations WHERE case_id = ? ORDER BY expectation");
	sqlite3_stmt *m = db_prepare(d, "SELECT m.name, m.unit, s.n, s.median, s.p5, s.p95, s.mad FROM metrics m JOIN summaries s ON s.metric_id = m.id WHERE m.case_id = ? ORDER BY m.id");
	int r = -1;

	if (!e || !m)
		goto out;
	sqlite3_bind_int64(e, 1, case_id);
	while ((r = db_step(d, e)) == SQLITE_ROW)
		sb_addf(out, "expect.%s: %s: %s\n", col_text(e, 0),
			col_text(e, 1), col_text(e, 2));
	if (r < 0 || !metrics)
		goto out;
	sqlite3_bind_int64(m, 1, case_id);
	while ((r = db_step(d, m)) == SQLITE_ROW) {
		if (!sqlite3_column_int(m, 2)) {
			sb_addf(out, "%s: no samples\n", col_text(m, 0));
			continue;
		}
		sb_addf(out, "%s: n=%d median %.6g p5 %.6g p95 %.6g mad %.6g %s\n",
			col_text(m, 0), sqlite3_column_int(m, 2),
			sqlite3_column_double(m, 3), sqlite3_column_double(m, 4),
			sqlite3_column_double(m, 5), sqlite3_column_double(m, 6),
			col_text(m, 1));
	}
out:
	sqlite3_finalize(e);
	sqlite3_finalize(m);
	return r == SQLITE_DONE ? 0 : -1;
}

/* --- JUnit XML --- */

static void xml_attr(struct sbuf *sb, const char *name, const char *val)
{
	sb_addf(sb, " %s=\"", name);
	esc_xml(sb, val);
	sb_addc(sb, '"');
}

static void xml_prop(struct sbuf *sb, const char *name, const char *val)
{
	sb_adds(sb, "      <property");
	xml_attr(sb, "name", name);
	xml_attr(sb, "value", val);
	sb_adds(sb, "/>\n");
}

static int junit_props(struct cdm_db *d, int64_t run_id, struct sbuf *sb,
		       const struct cdm_acceptance *a)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT r.uuid, r.status, r.environment, r.cmdline, coalesce(k.release, ''), coalesce(h.hostname, ''), r.git_revision FROM runs r LEFT JOIN kernels k ON k.id = r.kernel_id LEFT JOIN hosts h ON h.id = r.host_id WHERE r.id = ?");
	sqlite3_stmt *tg = db_prepare(d, "SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key");
	struct sbuf line;
	int r = -1;

	if (!st || !tg)
		goto out;
	sqlite3_bind_int64(st, 1, run_id);
	if (db_step(d, st) != SQLITE_ROW)
		goto out;
	sb_init(&line);
	cdm_acceptance_line(a, &line);
	sb_adds(sb, "    <properties>\n");
	xml_prop(sb, "acceptance", line.buf);
	xml_prop(sb, "run.uuid", col_text(st, 0));
	xml_prop(sb, "run.status", col_text(st, 1));
	xml_prop(sb, "environment", col_text(st, 2));
	xml_prop(sb, "kernel", col_text(st, 4));
	xml_prop(sb, "kernel.cmdline", col_text(st, 3));
	xml_prop(sb, "host", col_text(st, 5));
	xml_prop(sb, "cdmbench.git", col_text(st, 6));
	sb_free(&line);
	sqlite3_bind_int64(tg, 1, run_id);
	while ((r = db_step(d, tg)) == SQLITE_ROW) {
		char *k = xasprintf("tag.%s", col_text(tg, 0));

		xml_prop(sb, k, col_text(tg, 1));
		free(k);
	}
	sb_adds(sb, "    </properties>\n");
out:
	sqlite3_finalize(st);
	sqlite3_finalize(tg);
	return r == SQLITE_DONE ? 0 : -1;
}

static void junit_outcome(struct sbuf *sb, const struct ci_case *c,
			  const char *details)
{
	const char *tag = !strcmp(c->verdict, "fail") ? "failure" :
			  !strcmp(c->verdict, "skip") ? "skipped" : "error";

	if (!strcmp(c->verdict, "pass"))
		return;
	sb_addf(sb, "      <%s", tag);
	xml_attr(sb, "message", *c->reason ? c->reason : c->verdict);
	if (strcmp(tag, "skipped"))
		xml_attr(sb, "type", c->verdict);
	if (!*details || !strcmp(tag, "skipped")) {
		sb_adds(sb, "/>\n");
		return;
	}
	sb_adds(sb, ">");
	esc_xml(sb, details);
	sb_addf(sb, "</%s>\n", tag);
}

static int junit_case(struct cdm_db *d, const struct ci_case *c,
		      struct sbuf *sb)
{
	struct sbuf det, cls;

	sb_init(&det);
	sb_init(&cls);
	if (ci_details(d, c->id, &det, true)) {
		sb_free(&det);
		sb_free(&cls);
		return -1;
	}
	sb_addf(&cls, "cdmbench.%s.%s.%s", c->workload, c->backend,
		c->device_type);
	sb_adds(sb, "    <testcase");
	xml_attr(sb, "classname", cls.buf);
	xml_attr(sb, "name", c->name);
	sb_addf(sb, " time=\"%.3f\">\n", c->seconds);
	junit_outcome(sb, c, det.buf);
	/* a failure or error already carries the details */
	if (det.len && (!strcmp(c->verdict, "pass") ||
			!strcmp(c->verdict, "skip"))) {
		sb_adds(sb, "      <system-out>");
		esc_xml(sb, det.buf);
		sb_adds(sb, "</system-out>\n");
	}
	sb_adds(sb, "    </testcase>\n");
	sb_free(&det);
	sb_free(&cls);
	return 0;
}

/* run-level reasons (interrupted, no cases) as a test of their own */
static void junit_run_test(struct sbuf *sb, const struct cdm_acceptance *a)
{
	size_t i;

	for (i = 0; i < a->reasons.n; i++) {
		if (strcmp(a->reasons.v[i].key, "run"))
			continue;
		sb_adds(sb, "    <testcase classname=\"cdmbench.run\" name=\"run status\" time=\"0\">\n      <error type=\"run\"");
		xml_attr(sb, "message", a->reasons.v[i].value);
		sb_adds(sb, "/>\n    </testcase>\n");
	}
}

static void junit_counts(struct sbuf *sb, const struct cdm_acceptance *a,
			 double seconds)
{
	int fails = a->verdicts[CDM_FAIL], run = 0;
	int errs = a->cases - fails - a->verdicts[CDM_PASS] -
		   a->verdicts[CDM_SKIP];
	size_t i;

	for (i = 0; i < a->reasons.n; i++)
		run += !strcmp(a->reasons.v[i].key, "run");
	sb_addf(sb, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"%.3f\">\n",
		a->cases + run, fails, errs + run, a->verdicts[CDM_SKIP],
		seconds);
}

static int junit_suite_head(struct cdm_db *d, int64_t run_id,
			    struct sbuf *sb, const struct cdm_acceptance *a)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT r.job_name, r.started_at, coalesce(h.hostname, ''), (SELECT coalesce(sum(elapsed_ns), 0) FROM cases WHERE run_id = r.id) FROM runs r LEFT JOIN hosts h ON h.id = r.host_id WHERE r.id = ?");
	double seconds;
	char *name;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	if (db_step(d, st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return -1;
	}
	seconds = sqlite3_column_int64(st, 3) / 1e9;
	name = xasprintf("%s (run %lld)", col_text(st, 0), (long long)run_id);
	sb_adds(sb, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites name=\"cdmbench\"");
	junit_counts(sb, a, seconds);
	sb_adds(sb, "  <testsuite");
	xml_attr(sb, "name", name);
	sb_addf(sb, " id=\"%lld\"", (long long)run_id);
	xml_attr(sb, "timestamp", col_text(st, 1));
	xml_attr(sb, "hostname", col_text(st, 2));
	junit_counts(sb, a, seconds);
	free(name);
	sqlite3_finalize(st);
	return 0;
}

static int junit_head(struct cdm_db *d, int64_t run_id, struct sbuf *sb,
		      const struct cdm_acceptance *a)
{
	return junit_suite_head(d, run_id, sb, a) ||
	       junit_props(d, run_id, sb, a) ? -1 : 0;
}

static int junit_one(struct cdm_db *d, const struct ci_case *c,
		     int n __unused, struct sbuf *sb)
{
	return junit_case(d, c, sb);
}

static void junit_tail(struct sbuf *sb, const struct cdm_acceptance *a,
		       int n __unused)
{
	junit_run_test(sb, a);
	sb_adds(sb, "  </testsuite>\n</testsuites>\n");
}

/* --- TAP 13 --- */

static void tap_yaml_lines(struct sbuf *sb, const char *key,
			   const char *lines)
{
	const char *p = lines;

	if (!*lines)
		return;
	sb_addf(sb, "  %s:\n", key);
	while (*p) {
		size_t n = strcspn(p, "\n");
		char *line = xasprintf("%.*s", (int)n, p);

		sb_adds(sb, "    - ");
		json_escape(sb, line);	/* a JSON string is a YAML scalar */
		sb_addc(sb, '\n');
		free(line);
		p += n + (p[n] == '\n');
	}
}

static int tap_case(struct cdm_db *d, const struct ci_case *c, int n,
		    struct sbuf *sb)
{
	bool ok = !strcmp(c->verdict, "pass") || !strcmp(c->verdict, "skip");
	const char *const yaml[][2] = {
		{ "verdict", c->verdict }, { "reason", c->reason },
		{ "workload", c->workload }, { "device_type", c->device_type },
	};
	struct sbuf exp;
	size_t i;

	sb_init(&exp);
	if (ci_details(d, c->id, &exp, false)) {
		sb_free(&exp);
		return -1;
	}
	sb_addf(sb, "%sok %d - ", ok ? "" : "not ", n);
	esc_tap(sb, c->name);
	if (!strcmp(c->verdict, "skip")) {
		sb_adds(sb, " # SKIP ");
		esc_tap(sb, c->reason);
	}
	sb_adds(sb, "\n  ---\n");
	for (i = 0; i < ARRAY_SIZE(yaml); i++) {
		sb_addf(sb, "  %s: ", yaml[i][0]);
		json_escape(sb, yaml[i][1]);
		sb_addc(sb, '\n');
	}
	sb_addf(sb, "  duration_ms: %.1f\n", c->seconds * 1e3);
	tap_yaml_lines(sb, "expectations", exp.buf);
	sb_adds(sb, "  ...\n");
	sb_free(&exp);
	return 0;
}

static int tap_head(struct cdm_db *d __unused, int64_t run_id __unused,
		    struct sbuf *sb, const struct cdm_acceptance *a __unused)
{
	sb_adds(sb, "TAP version 13\n");
	return 0;
}

static void tap_tail(struct sbuf *sb, const struct cdm_acceptance *a, int n)
{
	size_t i;

	for (i = 0; i < a->reasons.n; i++) {
		if (strcmp(a->reasons.v[i].key, "run"))
			continue;
		sb_addf(sb, "not ok %d - run status: ", ++n);
		esc_tap(sb, a->reasons.v[i].value);
		sb_addc(sb, '\n');
	}
	sb_addf(sb, "1..%d\n# acceptance ", n);
	cdm_acceptance_line(a, sb);
	sb_addc(sb, '\n');
}

/* --- one driver for both --- */

struct ci_format {
	int (*head)(struct cdm_db *d, int64_t run_id, struct sbuf *sb,
		    const struct cdm_acceptance *a);
	int (*one)(struct cdm_db *d, const struct ci_case *c, int n,
		   struct sbuf *sb);
	void (*tail)(struct sbuf *sb, const struct cdm_acceptance *a, int n);
};

/* cases are written as they are read: a large run needs little memory */
static int ci_export(struct cdm_db *d, int64_t run_id, FILE *f,
		     const struct ci_format *fmt)
{
	struct cdm_acceptance a;
	sqlite3_stmt *st = NULL;
	struct sbuf sb;
	int r = -1, n = 0;

	sb_init(&sb);
	if (cdm_acceptance(d, run_id, &a) || fmt->head(d, run_id, &sb, &a))
		goto out;
	st = ci_cases(d, run_id);
	if (!st)
		goto out;
	while ((r = db_step(d, st)) == SQLITE_ROW) {
		struct ci_case c;

		ci_case_row(st, &c);
		if (fmt->one(d, &c, ++n, &sb)) {
			r = -1;
			break;
		}
		fwrite(sb.buf, 1, sb.len, f);
		sb_reset(&sb);
	}
	if (r != SQLITE_DONE)
		goto out;
	fmt->tail(&sb, &a, n);
	r = 0;
out:
	fwrite(sb.buf, 1, sb.len, f);
	sqlite3_finalize(st);
	sb_free(&sb);
	cdm_acceptance_free(&a);
	return r;
}

int cdm_export_junit(struct cdm_db *d, int64_t run_id, FILE *f)
{
	static const struct ci_format junit = {
		junit_head, junit_one, junit_tail
	};

	return ci_export(d, run_id, f, &junit);
}

int cdm_export_tap(struct cdm_db *d, int64_t run_id, FILE *f)
{
	static const struct ci_format tap = { tap_head, tap_case, tap_tail };

	return ci_export(d, run_id, f, &tap);
}
