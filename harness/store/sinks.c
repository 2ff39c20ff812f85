// SPDX-License-Identifier: GPL-2.0
/*
 * Where results go: the SQLite store, or a result stream that the host
 * side of a VM run replays into its store (see vm/replay.c). What the
 * user sees of a run is report/console.c's.
 */
#include <errno.h>
#include <fcntl.h>
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
	int r = db_case(s->priv, s->run_id, c);
	size_t i;

	/* the streamed samples are in the case's rows now, or its
	 * transaction failed: either way the next case starts afresh */
	for (i = 0; i < c->nmetrics; i++)
		if (c->metrics[i].spilled &&
		    db_spill_reset_metric(s->priv, i))
			r = -1;
	return r;
}

static int dbs_samples(struct cdm_sink *s, struct cdm_case_res *c, size_t idx)
{
	return db_spill(s->priv, idx, &c->metrics[idx]);
}

static int dbs_summarize(struct cdm_sink *s, struct cdm_case_res *c)
{
	size_t i;

	for (i = 0; i < c->nmetrics; i++)
		if (c->metrics[i].spilled &&
		    db_spill_summarize(s->priv, i, &c->metrics[i]))
			return -1;
	return 0;
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

static void dbs_close(struct cdm_sink *s)
{
	db_close(s->priv);
	free(s->priv);
}

static const struct cdm_sink_ops db_sink_ops = {
	.run_begin = dbs_run_begin,
	.case_done = dbs_case_done,
	.samples = dbs_samples,
	.summarize = dbs_summarize,
	.kevents = dbs_kevents,
	.run_end = dbs_run_end,
	.close = dbs_close,
};

int sink_db_init(struct cdm_sink *s, const char *path)
{
	struct cdm_db *d = xcalloc(1, sizeof(*d));

	memset(s, 0, sizeof(*s));
	if (db_open(d, path, DB_WRITE)) {
		free(d);
		return -1;
	}
	s->priv = d;
	s->ops = &db_sink_ops;
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

static void ss_close(struct cdm_sink *s)
{
	struct stream_sink *ss = s->priv;

	close(ss->fd);
	free(ss->path);
	sb_free(&ss->sb);
	free(ss);
}

static const struct cdm_sink_ops stream_sink_ops = {
	.run_begin = ss_run_begin,
	.case_start = ss_case_start,
	.case_done = ss_case_done,
	.kevents = ss_kevents,
	.run_end = ss_run_end,
	.close = ss_close,
};

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
	s->ops = &stream_sink_ops;
	return 0;
}

void sink_close(struct cdm_sink *s)
{
	if (s->ops)
		s->ops->close(s);
	s->ops = NULL;
	s->priv = NULL;
}
