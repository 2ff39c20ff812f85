// SPDX-License-Identifier: GPL-2.0
/*
 * The report model: everything a reviewer of a kernel patch or an
 * acceptance ticket needs about one run (the environment, the verdicts and
 * why, per-case numbers and charts, the comparison with a baseline, the
 * kernel's own log), gathered from the database. report_html.c and
 * report_md.c write it; cli/cmd_report.c is the command.
 */
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"

#define HIST_BINS 40
#define HIST_MIN_SAMPLES 20
#define TREND_RUNS 30
#define TREND_METRICS 3
#define MAX_KEVENTS 500

const char *report_param(const struct rcase *c, const char *key)
{
	return kv_get(&c->param, key);
}

/* bytes per second in any scale: GB/s, MiB/s, B/s */
bool report_is_bandwidth(const char *unit)
{
	size_t n = strlen(unit);

	return n >= 3 && !strcmp(unit + n - 2, "/s") && unit[n - 3] == 'B';
}

void report_cell(struct sbuf *sb, const char *const mk[2], bool have,
		 const char *fmt, ...)
{
	va_list ap;

	sb_adds(sb, mk[0]);
	if (have) {
		va_start(ap, fmt);
		sb_vaddf(sb, fmt, ap);
		va_end(ap);
	} else {
		sb_addc(sb, '-');
	}
	sb_adds(sb, mk[1]);
}

void report_cmp_cells(struct sbuf *sb, const char *const mk[2],
		      const struct cmp_row *w, const char *ci,
		      const char *star)
{
	const char *flank = w->mark != CMP_SAME ? star : "";
	const double v[] = { w->s[0].median, w->s[1].median, w->ratio };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(v); i++)
		report_cell(sb, mk, !isnan(v[i]), "%.5g", v[i]);
	report_cell(sb, mk, !isnan(w->lo), ci, w->lo, w->hi);
	report_cell(sb, mk, !isnan(w->gain), "%s%+.2f%%%s", flank, w->gain,
		    flank);
}

static char *dup_col(sqlite3_stmt *st, int i)
{
	return xstrdup(col_text(st, i));
}

static double col_real(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? NAN :
	       sqlite3_column_double(st, i);
}

/* --- the run's context --- */

static void ctx(struct rrun *r, const char *key, const char *fmt, ...)
	__printf(3, 4);
static void ctx(struct rrun *r, const char *key, const char *fmt, ...)
{
	va_list ap;
	char *v;

	va_start(ap, fmt);
	v = xvasprintf(fmt, ap);
	va_end(ap);
	kv_add(&r->ctx, key, v);
	free(v);
}

static int load_header(struct cdm_db *d, struct rrun *r)
{
	sqlite3_stmt *st = db_prepare(d,
		"SELECT r.uuid, r.status, r.status_reason, r.job_name, r.seed, r.started_at, coalesce(r.ended_at, ''), r.environment, "
		"coalesce(h.hostname, '?'), coalesce(h.cpu_model, '?'), coalesce(h.cpus, 0), coalesce(h.numa_nodes, 0), coalesce(h.mem_bytes, 0), coalesce(h.arch, '?'), "
		"coalesce(k.release, '?'), coalesce(k.version, '?'), coalesce(k.config_digest, ''), r.cmdline, r.argv, r.kmsg_status, r.harness_version, r.git_revision, r.job_text "
		"FROM runs r LEFT JOIN hosts h ON h.id = r.host_id LEFT JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?");
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, r->id);
	rc = db_step(d, st);
	if (rc == SQLITE_ROW) {
		r->uuid = dup_col(st, 0);
		r->status = dup_col(st, 1);
		r->job_name = dup_col(st, 3);
		r->job_text = dup_col(st, 22);
		ctx(r, "run", "%lld (%s)", (long long)r->id, col_text(st, 0));
		ctx(r, "status", "%s%s%s", col_text(st, 1),
		    *col_text(st, 2) ? ": " : "", col_text(st, 2));
		ctx(r, "job", "%s (seed %lld)", col_text(st, 3),
		    (long long)sqlite3_column_int64(st, 4));
		ctx(r, "time (UTC)", "%s .. %s", col_text(st, 5),
		    *col_text(st, 6) ? col_text(st, 6) : "still running");
		ctx(r, "environment", "%s", col_text(st, 7));
		ctx(r, "host", "%s: %s, %s, %d CPUs, %d NUMA node(s) with memory, %.1f GiB",
		    col_text(st, 8), col_text(st, 9), col_text(st, 13),
		    sqlite3_column_int(st, 10), sqlite3_column_int(st, 11),
		    sqlite3_column_int64(st, 12) / 1073741824.0);
		ctx(r, "kernel", "%s", col_text(st, 14));
		ctx(r, "kernel version", "%s", col_text(st, 15));
		ctx(r, "kernel config", "%s", *col_text(st, 16) ?
		    col_text(st, 16) : "unknown");
		ctx(r, "kernel cmdline", "%s", col_text(st, 17));
		ctx(r, "kernel log", "%s", col_text(st, 19));
		ctx(r, "command", "%s", col_text(st, 18));
		ctx(r, "cdmbench", "%s (git %s)", col_text(st, 20),
		    col_text(st, 21));
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return cdm_err("%s: no run %lld", d->path, (long long)r->id);
	return rc == SQLITE_ROW ? 0 : -1;
}

static int load_kv(struct cdm_db *d, const char *sql, int64_t id,
		   struct cdm_kvlist *l)
{
	sqlite3_stmt *st = db_prepare(d, sql);
	int rc;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	while ((rc = db_step(d, st)) == SQLITE_ROW)
		kv_add(l, col_text(st, 0), col_text(st, 1));
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* --- cases --- */

static int load_params(struct cdm_db *d, sqlite3_stmt *st, struct rcase *c)
{
	int rc;

	sqlite3_reset(st);
	sqlite3_bind_text(st, 1, c->params, -1, SQLITE_STATIC);
	while ((rc = db_step(d, st)) == SQLITE_ROW)
		kv_add(&c->param, col_text(st, 0), col_text(st, 1));
	/* params that are not a JSON object just show as they are */
	return 0;
}

static int load_hist(struct cdm_db *d, sqlite3_stmt *st, struct rmetric *m)
{
	double lo = m->s.min, hi = m->s.p99, w;
	int rc;

	if (m->s.n < HIST_MIN_SAMPLES || !isfinite(lo) || !isfinite(hi))
		return 0;
	if (hi <= lo)
		hi = lo + fmax(fabs(lo) * 0.01, 1e-9);
	m->nbins = HIST_BINS;
	m->hist = xcalloc(HIST_BINS, sizeof(double));
	m->hlo = lo;
	m->hhi = hi;
	w = (hi - lo) / HIST_BINS;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, m->id);
	/* streamed: a million-sample metric costs 40 counters, not 8 MB */
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		double v;
		long b;

		if (sqlite3_column_type(st, 0) == SQLITE_NULL)
			continue;
		v = sqlite3_column_double(st, 0);
		if (!isfinite(v))
			continue;
		if (v > hi) {
			m->overflow++;
			continue;
		}
		b = (long)((v - lo) / w);
		m->hist[b < 0 ? 0 : b >= HIST_BINS ? HIST_BINS - 1 : b]++;
	}
	return rc == SQLITE_DONE ? 0 : -1;
}

static void load_summary(sqlite3_stmt *st, struct rmetric *m)
{
	m->id = sqlite3_column_int64(st, 0);
	m->name = dup_col(st, 1);
	m->unit = dup_col(st, 2);
	m->higher = !strcmp(col_text(st, 3), "higher");
	m->s.n = sqlite3_column_int64(st, 4);
	m->s.nonfinite = sqlite3_column_int64(st, 5);
	m->s.min = col_real(st, 6);
	m->s.p5 = col_real(st, 7);
	m->s.median = col_real(st, 8);
	m->s.mean = col_real(st, 9);
	m->s.p95 = col_real(st, 10);
	m->s.p99 = col_real(st, 11);
	m->s.max = col_real(st, 12);
	m->s.stddev = col_real(st, 13);
	m->s.mad = col_real(st, 14);
}

/* this case's metric in earlier runs of the same job: a trend, if any */
static int load_trend(struct cdm_db *d, const struct rrun *r,
		      const struct rcase *c, struct rmetric *m)
{
	struct hist_query q = {
		.match_key = c->match_key, .backend = c->backend,
		.device_type = c->device_type, .metric = m->name,
		.until_run = r->id, .limit = TREND_RUNS,
	};
	char *sel = xasprintf("job=%s", r->job_name);
	int rc;

	/* a job name with glob characters would select others too */
	q.selector = strpbrk(r->job_name, "*?[,=") ? NULL : sel;
	rc = cdm_history_load(d, &q, &m->trend);
	free(sel);
	if (rc)
		return -1;
	if (m->trend.n < 3)
		cdm_history_free(&m->trend);
	else
		cdm_history_steps(&m->trend, 0.05, 0.05);
	return 0;
}

struct case_stmts {
	sqlite3_stmt *params;
	sqlite3_stmt *metrics;
	sqlite3_stmt *samples;
	sqlite3_stmt *info;
};

static int load_metrics(struct cdm_db *d, struct case_stmts *s,
			const struct report_opts *o, struct rrun *r,
			struct rcase *c)
{
	int rc;

	sqlite3_reset(s->metrics);
	sqlite3_bind_int64(s->metrics, 1, c->id);
	while ((rc = db_step(d, s->metrics)) == SQLITE_ROW) {
		struct rmetric *m;

		c->m = xrealloc(c->m, (c->nm + 1) * sizeof(*c->m));
		m = &c->m[c->nm++];
		memset(m, 0, sizeof(*m));
		load_summary(s->metrics, m);
	}
	if (rc != SQLITE_DONE)
		return -1;
	for (size_t i = 0; o->charts && i < c->nm; i++) {
		if (load_hist(d, s->samples, &c->m[i]) ||
		    (i < TREND_METRICS && load_trend(d, r, c, &c->m[i])))
			return -1;
	}
	return 0;
}

static int load_case(struct cdm_db *d, struct case_stmts *s,
		     const struct report_opts *o, struct rrun *r,
		     sqlite3_stmt *st)
{
	struct rcase *c;
	int rc;

	r->c = xrealloc(r->c, (r->nc + 1) * sizeof(*r->c));
	c = &r->c[r->nc++];
	memset(c, 0, sizeof(*c));
	c->id = sqlite3_column_int64(st, 0);
	c->seq = sqlite3_column_int(st, 1);
	c->name = dup_col(st, 2);
	c->workload = dup_col(st, 3);
	c->backend = dup_col(st, 4);
	c->device_type = dup_col(st, 5);
	c->params = dup_col(st, 6);
	c->match_key = dup_col(st, 7);
	c->verdict = dup_col(st, 8);
	c->reason = dup_col(st, 9);
	c->log = dup_col(st, 10);
	c->seconds = sqlite3_column_int64(st, 11) / 1e9;
	load_params(d, s->params, c);
	sqlite3_reset(s->info);
	sqlite3_bind_int64(s->info, 1, c->id);
	while ((rc = db_step(d, s->info)) == SQLITE_ROW)
		kv_add(&c->info, col_text(s->info, 0), col_text(s->info, 1));
	if (rc != SQLITE_DONE)
		return -1;
	return load_metrics(d, s, o, r, c);
}

static int load_cases(struct cdm_db *d, const struct report_opts *o,
		      struct rrun *r)
{
	struct case_stmts s = {
		.params = db_prepare(d, "SELECT key, CASE type WHEN 'text' THEN value ELSE json_quote(value) END FROM json_each(CASE WHEN json_valid(?1) THEN ?1 ELSE '{}' END)"),
		.metrics = db_prepare(d, "SELECT m.id, m.name, m.unit, m.better, coalesce(s.n, 0), coalesce(s.nonfinite, 0), s.min, s.p5, s.median, s.mean, s.p95, s.p99, s.max, s.stddev, s.mad FROM metrics m LEFT JOIN summaries s ON s.metric_id = m.id WHERE m.case_id = ? ORDER BY m.id"),
		.samples = db_prepare(d, "SELECT value FROM samples WHERE metric_id = ?"),
		.info = db_prepare(d, "SELECT key, value FROM case_info WHERE case_id = ? ORDER BY key"),
	};
	sqlite3_stmt *st = db_prepare(d, "SELECT id, seq, name, workload, backend, device_type, params, match_key, verdict, reason, log, elapsed_ns FROM cases WHERE run_id = ? ORDER BY seq");
	int rc = -1;

	if (!st || !s.params || !s.metrics || !s.samples || !s.info)
		goto out;
	sqlite3_bind_int64(st, 1, r->id);
	while ((rc = db_step(d, st)) == SQLITE_ROW)
		if (load_case(d, &s, o, r, st)) {
			rc = -1;
			break;
		}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(s.params);
	sqlite3_finalize(s.metrics);
	sqlite3_finalize(s.samples);
	sqlite3_finalize(s.info);
	return rc == SQLITE_DONE ? 0 : -1;
}

/* notable records first: a warning must not hide behind 10,000 others */
static int load_kevents(struct cdm_db *d, struct rrun *r)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT e.class, e.ts_usec, c.name, e.text, e.level FROM kevents e LEFT JOIN cases c ON c.id = e.case_id WHERE e.run_id = ?1 ORDER BY e.class = 'other', e.id LIMIT ?2");
	sqlite3_stmt *cnt = db_prepare(d, "SELECT count(*) FROM kevents WHERE run_id = ?");
	int rc = -1;

	if (!st || !cnt)
		goto out;
	sqlite3_bind_int64(cnt, 1, r->id);
	if (db_step(d, cnt) == SQLITE_ROW)
		r->nk_total = sqlite3_column_int64(cnt, 0);
	sqlite3_bind_int64(st, 1, r->id);
	sqlite3_bind_int(st, 2, MAX_KEVENTS);
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		struct rkevent *k;

		r->k = xrealloc(r->k, (r->nk + 1) * sizeof(*r->k));
		k = &r->k[r->nk++];
		k->cls = dup_col(st, 0);
		k->ts = sqlite3_column_int64(st, 1) / 1e6;
		k->case_name = sqlite3_column_type(st, 2) == SQLITE_NULL ?
			       NULL : dup_col(st, 2);
		k->text = dup_col(st, 3);
		k->level = sqlite3_column_int(st, 4);
	}
out:
	sqlite3_finalize(st);
	sqlite3_finalize(cnt);
	return rc == SQLITE_DONE ? 0 : -1;
}

static int load_compare(struct cdm_db *d, const struct report_opts *o,
			struct rrun *r)
{
	struct cmp_opts co;
	char id[32];

	if (!o->baseline)
		return 0;
	cmp_opts_default(&co);
	snprintf(id, sizeof(id), "%lld", (long long)r->id);
	r->baseline = xstrdup(o->baseline);
	if (cdm_compare(d, o->baseline, id, &co, &r->cmp)) {
		cdm_compare_free(&r->cmp);
		return -1;
	}
	r->have_cmp = true;
	return report_events_load(d, r);
}

int report_load(struct cdm_db *d, int64_t run_id,
		const struct report_opts *o, struct rrun *r)
{
	memset(r, 0, sizeof(*r));
	r->id = run_id;
	if (load_header(d, r) ||
	    load_kv(d, "SELECT key, value FROM run_tags WHERE run_id = ? ORDER BY key", run_id, &r->tags) ||
	    load_kv(d, "SELECT path, backend || ' ' || memory_type || CASE detail WHEN '' THEN '' ELSE ': ' || detail END FROM devices WHERE run_id = ? ORDER BY path", run_id, &r->devices) ||
	    cdm_acceptance(d, run_id, &r->acc) || load_cases(d, o, r) ||
	    load_kevents(d, r) || load_compare(d, o, r) ||
	    report_load_nodes(d, r))
		return -1;
	return 0;
}

void report_free(struct rrun *r)
{
	size_t i, k;

	report_free_nodes(r);
	for (i = 0; i < r->nc; i++) {
		struct rcase *c = &r->c[i];

		for (k = 0; k < c->nm; k++) {
			free(c->m[k].name);
			free(c->m[k].unit);
			free(c->m[k].hist);
			cdm_history_free(&c->m[k].trend);
		}
		free(c->m);
		free(c->name);
		free(c->workload);
		free(c->backend);
		free(c->device_type);
		free(c->params);
		free(c->match_key);
		free(c->verdict);
		free(c->reason);
		free(c->log);
		kv_free(&c->param);
		kv_free(&c->info);
	}
	free(r->c);
	for (i = 0; i < r->nk; i++) {
		free(r->k[i].cls);
		free(r->k[i].case_name);
		free(r->k[i].text);
	}
	free(r->k);
	kv_free(&r->ctx);
	kv_free(&r->tags);
	kv_free(&r->devices);
	cdm_acceptance_free(&r->acc);
	report_events_free(r);
	if (r->have_cmp)
		cdm_compare_free(&r->cmp);
	free(r->baseline);
	free(r->job_name);
	free(r->job_text);
	free(r->status);
	free(r->uuid);
	memset(r, 0, sizeof(*r));
}
