// SPDX-License-Identifier: GPL-2.0
/*
 * Where results go: the SQLite store, or a result stream that the host
 * side of a VM run replays into its store (see vm.c). Plus the text and
 * JSON renderings shown to the user.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "store/db.h"
#include "core/runner.h"
#include "core/wire.h"

/* --- SQLite --- */

static int dbs_run_begin(struct cdm_sink *s, const struct cdm_run_info *r)
{
	return db_run_begin(s->priv, r, &s->run_id);
}

static int dbs_case_done(struct cdm_sink *s, const struct cdm_case_res *c)
{
	return db_case(s->priv, s->run_id, c);
}

static int dbs_kevents(struct cdm_sink *s, const struct cdm_kevents *k)
{
	return db_kevents(s->priv, s->run_id, k);
}

static int dbs_run_end(struct cdm_sink *s, const char *status,
		       const char *reason)
{
	return db_run_end(s->priv, s->run_id, status, reason);
}

int sink_db_init(struct cdm_sink *s, const char *path)
{
	struct cdm_db *d = xcalloc(1, sizeof(*d));

	memset(s, 0, sizeof(*s));
	if (db_open(d, path, DB_WRITE)) {
		free(d);
		return -1;
	}
	s->priv = d;
	s->run_begin = dbs_run_begin;
	s->case_done = dbs_case_done;
	s->kevents = dbs_kevents;
	s->run_end = dbs_run_end;
	return 0;
}

/* --- result stream (guest side) --- */

struct stream_sink {
	int fd;
	char *path;
	struct sbuf sb;
};

static int stream_put(struct cdm_sink *s)
{
	struct stream_sink *ss = s->priv;
	int r;

	r = write_all(ss->fd, ss->sb.buf, ss->sb.len);
	/* each record must reach the host before the next case can crash us */
	if (!r)
		r = fdatasync(ss->fd);
	sb_reset(&ss->sb);
	if (r)
		return cdm_errno(errno, "%s: writing results failed", ss->path);
	return 0;
}

static int ss_run_begin(struct cdm_sink *s, const struct cdm_run_info *r)
{
	struct stream_sink *ss = s->priv;

	wire_put_run(&ss->sb, r);
	return stream_put(s);
}

static int ss_case_start(struct cdm_sink *s, int seq, const char *name)
{
	struct stream_sink *ss = s->priv;
	size_t start = wire_begin(&ss->sb, S_CASE_START);

	wire_u32(&ss->sb, seq);
	wire_str(&ss->sb, name);
	wire_end(&ss->sb, start);
	return stream_put(s);
}

static int ss_case_done(struct cdm_sink *s, const struct cdm_case_res *c)
{
	struct stream_sink *ss = s->priv;

	wire_put_case(&ss->sb, c);
	return stream_put(s);
}

static int ss_kevents(struct cdm_sink *s, const struct cdm_kevents *k)
{
	struct stream_sink *ss = s->priv;
	size_t i;

	if (!k->n)
		return 0;
	for (i = 0; i < k->n; i++)
		wire_put_kevent(&ss->sb, &k->v[i]);
	return stream_put(s);
}

static int ss_run_end(struct cdm_sink *s, const char *status,
		      const char *reason)
{
	struct stream_sink *ss = s->priv;
	size_t start = wire_begin(&ss->sb, S_END);

	wire_str(&ss->sb, status);
	wire_str(&ss->sb, reason);
	wire_end(&ss->sb, start);
	return stream_put(s);
}

int sink_stream_init(struct cdm_sink *s, const char *path)
{
	struct stream_sink *ss = xcalloc(1, sizeof(*ss));

	memset(s, 0, sizeof(*s));
	ss->fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (ss->fd < 0) {
		free(ss);
		return cdm_errno(errno, "--stream %s: cannot create", path);
	}
	ss->path = xstrdup(path);
	sb_init(&ss->sb);
	sb_add(&ss->sb, CDM_STREAM_MAGIC, strlen(CDM_STREAM_MAGIC));
	s->priv = ss;
	s->run_begin = ss_run_begin;
	s->case_start = ss_case_start;
	s->case_done = ss_case_done;
	s->kevents = ss_kevents;
	s->run_end = ss_run_end;
	return 0;
}

void sink_close(struct cdm_sink *s)
{
	if (s->run_begin == dbs_run_begin) {
		db_close(s->priv);
		free(s->priv);
	} else if (s->run_begin == ss_run_begin) {
		struct stream_sink *ss = s->priv;

		close(ss->fd);
		free(ss->path);
		sb_free(&ss->sb);
		free(ss);
	}
	s->priv = NULL;
}

/* --- rendering --- */

static void fmt_value(char *buf, size_t len, double v)
{
	double a = fabs(v);

	if (!isfinite(v))
		snprintf(buf, len, "-");
	else if (a != 0 && (a >= 1e6 || a < 1e-3))
		snprintf(buf, len, "%.3g", v);
	else if (a >= 100)
		snprintf(buf, len, "%.1f", v);
	else
		snprintf(buf, len, "%.3g", v);
}

void print_case_line(const struct cdm_case_res *c, int ncases)
{
	struct sbuf sb;
	size_t i, shown = 0;

	sb_init(&sb);
	if (c->seq < ncases)
		sb_addf(&sb, "[%*d/%d] ", ncases >= 10 ? 2 : 1, c->seq + 1,
			ncases);
	else	/* a sub-result of the case above (an upstream test) */
		sb_addf(&sb, "   %*s", ncases >= 10 ? 2 * 2 + 1 : 3, "");
	sb_addf(&sb, "%-5s %s (%s/%s) %.2fs", cdm_verdict_name(c->verdict),
		c->name, c->backend, c->device_type ? c->device_type : "?",
		c->elapsed_ns / 1e9);
	for (i = 0; i < c->nmetrics && shown < 3; i++) {
		const struct cdm_metric_res *m = &c->metrics[i];
		char med[32];

		if (!m->name || !m->sum.n)
			continue;
		fmt_value(med, sizeof(med), m->sum.median);
		sb_addf(&sb, "  %s %s %s", m->name, med, m->unit);
		if (m->sum.n > 1 && m->sum.median != 0)
			sb_addf(&sb, " +-%.1f%%",
				100.0 * m->sum.mad / fabs(m->sum.median));
		shown++;
	}
	if (c->verdict != CDM_PASS && c->reason && *c->reason)
		sb_addf(&sb, "\n        %s", c->reason);
	printf("%s\n", sb.buf);
	fflush(stdout);
	sb_free(&sb);
}

static void json_summary(struct json *j, const struct cdm_summary *s)
{
	json_int(j, "n", s->n);
	json_dbl(j, "min", s->min);
	json_dbl(j, "p5", s->p5);
	json_dbl(j, "median", s->median);
	json_dbl(j, "mean", s->mean);
	json_dbl(j, "p95", s->p95);
	json_dbl(j, "p99", s->p99);
	json_dbl(j, "max", s->max);
	json_dbl(j, "stddev", s->stddev);
	json_dbl(j, "mad", s->mad);
}

void print_run_json(const struct cdm_run_info *r, int64_t run_id,
		    const char *status, struct cdm_case_res *cases, size_t n)
{
	struct sbuf sb;
	struct json j;
	size_t i, m;

	sb_init(&sb);
	json_init(&j, &sb, true);
	json_obj_open(&j, NULL);
	json_int(&j, "run_id", run_id);
	json_str(&j, "uuid", r->uuid);
	json_str(&j, "status", status);
	json_int(&j, "seed", (long long)r->seed);
	json_str(&j, "environment", r->environment);
	json_str(&j, "kernel", r->kernel.release);
	json_arr_open(&j, "cases");
	for (i = 0; i < n; i++) {
		struct cdm_case_res *c = &cases[i];

		json_obj_open(&j, NULL);
		json_int(&j, "seq", c->seq);
		json_str(&j, "name", c->name);
		json_str(&j, "workload", c->workload);
		json_str(&j, "backend", c->backend);
		json_str(&j, "device_type", c->device_type);
		json_str(&j, "verdict", cdm_verdict_name(c->verdict));
		json_str(&j, "reason", c->reason);
		json_dbl(&j, "elapsed_s", c->elapsed_ns / 1e9);
		json_arr_open(&j, "metrics");
		for (m = 0; m < c->nmetrics; m++) {
			if (!c->metrics[m].name)
				continue;
			json_obj_open(&j, NULL);
			json_str(&j, "name", c->metrics[m].name);
			json_str(&j, "unit", c->metrics[m].unit);
			json_str(&j, "better",
				 c->metrics[m].better ? "higher" : "lower");
			json_summary(&j, &c->metrics[m].sum);
			json_obj_close(&j);
		}
		json_arr_close(&j);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	fputs(sb.buf, stdout);
	fflush(stdout);
	sb_free(&sb);
}
