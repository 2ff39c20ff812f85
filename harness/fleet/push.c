// SPDX-License-Identifier: GPL-2.0
/*
 * cdmbench push: every sample to InfluxDB in line protocol, through
 * libcurl, where the site's dashboards (Grafana) read it.
 *
 * Nothing is lost: what is still owed to a server is a row of push_spool
 * (schema/006_fleet.sql) per run and target, with a cursor at the first
 * point not yet acknowledged. The cursor moves, in its own transaction,
 * only after the server said 2xx, so a push killed, or stopped by an
 * outage, resumes at the batch it was sending. Sending a batch twice is
 * harmless: a point is keyed by its tags (run uuid, node, case, metric,
 * ...) and its timestamp, so the server overwrites it with itself. The
 * timestamp is the case's start plus the sample's index in milliseconds:
 * samples have no time of their own in the database, and a millisecond
 * apart keeps them distinct in stores that keep milliseconds only
 * (VictoriaMetrics, InfluxDB with precision=ms).
 *
 * Faults: connection errors, timeouts, 5xx and 429 are retried with a
 * doubling back-off; 413 splits the batch in two and sends the halves;
 * 400 is the server refusing points (InfluxDB 1.x keeps the rest of a
 * "partial write"): they are counted as rejected and not sent again; 401
 * and 403 stop at once (a wrong token does not get better by retrying).
 * TLS peers are always verified (--cacert names a private CA). The token
 * and password are read from the environment or a file, sent only in
 * headers, and never printed or stored: the spool's target names the URL,
 * database or bucket, nothing else.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "fleet/lineproto.h"
#include "fleet/push.h"

void push_opts_default(struct push_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->measurement = "cdmbench";
	o->batch = 5000;
	o->retries = 5;
	o->backoff = 0.5;
	o->timeout = 30;
	o->gzip = true;
}

#ifndef CDM_HAVE_CURL
int fleet_push(struct cdm_db *d __unused, const struct push_opts *o __unused,
	       struct push_stats *st)
{
	memset(st, 0, sizeof(*st));
	cdm_err("push: this cdmbench was built without libcurl (install libcurl4-openssl-dev and rebuild)");
	return 2;
}
#else
#include <curl/curl.h>

enum send_result { SEND_OK, SEND_STOP };

struct pusher {
	const struct push_opts *o;
	struct push_stats *st;
	struct cdm_db *d;
	CURL *curl;
	struct curl_slist *hdr;
	char *write_url;
	char *target;
	char *secret;		/* token or password: freed and wiped at the end */
	struct sbuf gz, resp;
	char err[CURL_ERROR_SIZE];
	char *fatal;		/* why we stopped */
};

static size_t on_body(char *p, size_t sz, size_t n, void *arg)
{
	struct sbuf *sb = arg;

	if (sb->len < 4096)
		sb_add(sb, p, sz * n);
	return sz * n;
}

/* the server's reply, one line, no control bytes, for a terminal */
static char *reply_line(const struct sbuf *resp)
{
	char *s = xmalloc(resp->len + 1);
	size_t i, k = 0;

	for (i = 0; i < resp->len && k < 300; i++) {
		unsigned char c = resp->buf[i];

		s[k++] = c < 0x20 || c == 0x7f ? ' ' : c;
	}
	s[k] = 0;
	return s;
}

static int gzip_body(const char *p, size_t n, struct sbuf *out)
{
	z_stream z = { 0 };
	int r;

	sb_reset(out);
	if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return -1;
	sb_grow(out, deflateBound(&z, n) + 16);
	z.next_in = (unsigned char *)p;
	z.avail_in = n;
	z.next_out = (unsigned char *)out->buf;
	z.avail_out = out->cap;
	r = deflate(&z, Z_FINISH);
	out->len = z.total_out;
	deflateEnd(&z);
	return r == Z_STREAM_END ? 0 : -1;
}

static bool retryable(CURLcode c)
{
	switch (c) {
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
		return true;
	default:
		return false;
	}
}

static void stop(struct pusher *p, char *why)
{
	free(p->fatal);
	p->fatal = why;
}

/* one POST with retries; *code is the HTTP status, 0 if none came */
static int post(struct pusher *p, const char *body, size_t len, long *code)
{
	const char *data = body;
	size_t dlen = len;
	int attempt;

	if (p->o->gzip) {
		if (gzip_body(body, len, &p->gz))
			return cdm_err("push: gzip failed"), -1;
		data = p->gz.buf;
		dlen = p->gz.len;
	}
	for (attempt = 0; ; attempt++) {
		CURLcode c;
		double wait;

		sb_reset(&p->resp);
		p->err[0] = 0;
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDS, data);
		curl_easy_setopt(p->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)dlen);
		c = curl_easy_perform(p->curl);
		p->st->requests++;
		*code = 0;
		if (c == CURLE_OK)
			curl_easy_getinfo(p->curl, CURLINFO_RESPONSE_CODE, code);
		if (c == CURLE_OK && *code < 500 && *code != 429)
			return 0;
		if (c != CURLE_OK && !retryable(c)) {
			stop(p, xasprintf("%s: %s%s", p->o->url,
					  p->err[0] ? p->err : curl_easy_strerror(c),
					  c == CURLE_PEER_FAILED_VERIFICATION ||
					  c == CURLE_SSL_CACERT_BADFILE ?
					  " (TLS verification is always on; --cacert FILE names a private CA)" : ""));
			return -1;
		}
		if (attempt >= p->o->retries) {
			char *r = reply_line(&p->resp);

			stop(p, c != CURLE_OK ?
			     xasprintf("%s: %s, %d attempts", p->o->url,
				       p->err[0] ? p->err : curl_easy_strerror(c),
				       attempt + 1) :
			     xasprintf("%s: HTTP %ld %s, %d attempts", p->o->url,
				       *code, r, attempt + 1));
			free(r);
			return -1;
		}
		wait = p->o->backoff * pow(2, attempt);
		wait = wait > 30 ? 30 : wait;
		p->st->retries++;
		if (!p->o->quiet)
			cdm_notice("push: %s; retrying in %.1f s",
				   c != CURLE_OK ? curl_easy_strerror(c) : "server error",
				   wait);
		usleep((useconds_t)(wait * 1e6));
	}
}

static long count_lines(const char *s, size_t n)
{
	long k = 0;
	size_t i;

	for (i = 0; i < n; i++)
		k += s[i] == '\n';
	return k;
}

/*
 * Send lines; 413 halves them at a line boundary. *rejected counts the
 * points the server refused (400) or that alone exceed its body limit.
 */
static int send_lines(struct pusher *p, const char *s, size_t n,
		      long long *rejected)
{
	long code, lines = count_lines(s, n);
	char *r;

	if (post(p, s, n, &code))
		return -1;
	if (code >= 200 && code < 300)
		return 0;
	if (code == 413 && lines > 1) {
		const char *mid = s + n / 2;

		while (mid > s && mid[-1] != '\n')
			mid--;
		if (mid == s)
			mid = memchr(s, '\n', n) + 1;
		p->st->splits++;
		return send_lines(p, s, mid - s, rejected) ||
		       send_lines(p, mid, n - (mid - s), rejected);
	}
	r = reply_line(&p->resp);
	if (code == 400 || code == 413) {
		const char *dropped = strstr(r, "dropped=");
		long k = dropped ? atol(dropped + 8) : lines;

		*rejected += k > 0 && k <= lines ? k : lines;
		cdm_warn("push: %s: the server refused %ld of %ld points (HTTP %ld: %s); they stay in the database",
			 p->o->url, k > 0 && k <= lines ? k : lines, lines, code, r);
		free(r);
		return 0;
	}
	if (code == 401 || code == 403)
		stop(p, xasprintf("%s: HTTP %ld %s: the server refused the credentials (%s); not retried",
				  p->o->url, code, r,
				  p->o->bucket ? (p->o->token_file ? "token from --token-file" : "token from $CDMBENCH_INFLUX_TOKEN") :
				  "user and password"));
	else if (code == 404)
		stop(p, xasprintf("%s: HTTP 404 %s (does the %s exist?)",
				  p->o->url, r, p->o->bucket ? "bucket" : "database"));
	else
		stop(p, xasprintf("%s: HTTP %ld %s", p->o->url, code, r));
	free(r);
	return -1;
}

/* --- the spool --- */

static int sexec(struct cdm_db *d, const char *sql)
{
	char *msg = NULL;

	if (sqlite3_exec(d->db, sql, NULL, NULL, &msg) == SQLITE_OK)
		return 0;
	cdm_err("push: %s: %s", d->path, msg ? msg : "");
	sqlite3_free(msg);
	return -1;
}

static int enqueue(struct pusher *p)
{
	const struct push_opts *o = p->o;
	sqlite3_stmt *st;
	int i, r = 0;

	st = db_prepare(p->d, o->force ?
		"INSERT INTO push_spool (target, run_id, state, updated_at) VALUES (?1, ?2, 'pending', strftime('%Y-%m-%dT%H:%M:%fZ', 'now')) ON CONFLICT (target, run_id) DO UPDATE SET state = 'pending', next_metric = 0, next_seq = 0, sent = 0, rejected = 0, last_error = ''" :
		"INSERT OR IGNORE INTO push_spool (target, run_id, state, updated_at) VALUES (?1, ?2, 'pending', strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))");
	if (!st)
		return -1;
	if (sexec(p->d, "BEGIN IMMEDIATE")) {
		sqlite3_finalize(st);
		return -1;
	}
	if (o->nruns) {
		for (i = 0; i < o->nruns && !r; i++) {
			int64_t id;

			if (db_resolve_run(p->d, o->runs[i], &id)) {
				r = -1;
				break;
			}
			sqlite3_bind_text(st, 1, p->target, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, id);
			r = db_step(p->d, st) < 0 ? -1 : 0;
			sqlite3_reset(st);
		}
	} else {
		sqlite3_stmt *all = db_prepare(p->d, "SELECT id FROM runs WHERE status <> 'running' ORDER BY id");
		int rc = -1;

		while (all && (rc = db_step(p->d, all)) == SQLITE_ROW && !r) {
			sqlite3_bind_text(st, 1, p->target, -1, SQLITE_STATIC);
			sqlite3_bind_int64(st, 2, sqlite3_column_int64(all, 0));
			r = db_step(p->d, st) < 0 ? -1 : 0;
			sqlite3_reset(st);
		}
		sqlite3_finalize(all);
		if (rc < 0)
			r = -1;
	}
	sqlite3_finalize(st);
	if (r) {
		sqlite3_exec(p->d->db, "ROLLBACK", NULL, NULL, NULL);
		return -1;
	}
	return sexec(p->d, "COMMIT");
}

static int spool_update(struct pusher *p, int64_t sid, int64_t metric,
			int64_t seq, long long sent, long long rejected,
			const char *state, const char *err)
{
	sqlite3_stmt *st = db_prepare(p->d, "UPDATE push_spool SET next_metric = ?2, next_seq = ?3, sent = sent + ?4, rejected = rejected + ?5, state = ?6, last_error = ?7, updated_at = strftime('%Y-%m-%dT%H:%M:%fZ', 'now') WHERE id = ?1");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, sid);
	sqlite3_bind_int64(st, 2, metric);
	sqlite3_bind_int64(st, 3, seq);
	sqlite3_bind_int64(st, 4, sent);
	sqlite3_bind_int64(st, 5, rejected);
	sqlite3_bind_text(st, 6, state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, err, -1, SQLITE_STATIC);
	r = db_step(p->d, st);
	sqlite3_finalize(st);
	return r < 0 ? -1 : 0;
}

/* --- points --- */

struct run_tags {
	char *uuid, *node, *job, *kernel, *host;
};

static int load_run_tags(struct cdm_db *d, int64_t run_id, struct run_tags *t)
{
	sqlite3_stmt *st = db_prepare(d, "SELECT r.uuid, coalesce((SELECT node FROM run_nodes WHERE run_id = r.id), (SELECT value FROM run_tags WHERE run_id = r.id AND key = 'node'), h.hostname, ''), r.job_name, coalesce(k.release, ''), coalesce(h.hostname, '') FROM runs r LEFT JOIN hosts h ON h.id = r.host_id LEFT JOIN kernels k ON k.id = r.kernel_id WHERE r.id = ?");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	r = db_step(d, st);
	if (r == SQLITE_ROW) {
		t->uuid = xstrdup(col_text(st, 0));
		t->node = xstrdup(col_text(st, 1));
		t->job = xstrdup(col_text(st, 2));
		t->kernel = xstrdup(col_text(st, 3));
		t->host = xstrdup(col_text(st, 4));
	}
	sqlite3_finalize(st);
	return r == SQLITE_ROW ? 0 : -1;
}

static void run_tags_free(struct run_tags *t)
{
	free(t->uuid);
	free(t->node);
	free(t->job);
	free(t->kernel);
	free(t->host);
}

/* measurement and tags of one metric: the same for all its samples */
static void series_key(struct pusher *p, const struct run_tags *t,
		       sqlite3_stmt *st, struct sbuf *key)
{
	bool v2 = p->o->bucket;

	sb_reset(key);
	lp_measurement(key, p->o->measurement, v2);
	/* sorted by key: the order InfluxDB stores them in */
	lp_tag(key, "backend", col_text(st, 5), v2);
	lp_tag(key, "case", col_text(st, 1), v2);
	lp_tag(key, "device_type", col_text(st, 6), v2);
	lp_tag(key, "host", t->host, v2);
	lp_tag(key, "job", t->job, v2);
	lp_tag(key, "kernel", t->kernel, v2);
	lp_tag(key, "metric", col_text(st, 2), v2);
	lp_tag(key, "node", t->node, v2);
	lp_tag(key, "run", t->uuid, v2);
	lp_tag(key, "unit", col_text(st, 3), v2);
}

struct batch {
	struct sbuf body;
	long n, skipped;	/* samples taken, NaN among them */
	int64_t metric, seq;	/* the cursor after this batch */
	int64_t metric0, seq0;	/* before it: kept if it is not acknowledged */
};

/* send what the batch holds and move the spool's cursor past it */
static int flush(struct pusher *p, int64_t sid, struct batch *b)
{
	long long rejected = 0;
	long sent;

	if (!b->n)
		return 0;
	if (b->body.len && send_lines(p, b->body.buf, b->body.len, &rejected)) {
		/* not acknowledged: the cursor stays where this batch began */
		spool_update(p, sid, b->metric0, b->seq0, 0, 0, "pending", p->fatal);
		return -1;
	}
	sent = b->n - b->skipped - rejected;
	if (spool_update(p, sid, b->metric, b->seq, sent, rejected, "pending", ""))
		return -1;
	p->st->sent += sent;
	p->st->rejected += rejected;
	p->st->skipped += b->skipped;
	if (!p->o->quiet && isatty(2))
		fprintf(stderr, "\rpush: %lld points", p->st->sent);
	sb_reset(&b->body);
	b->n = b->skipped = 0;
	b->metric0 = b->metric;
	b->seq0 = b->seq;
	return 0;
}

/*
 * Metric by metric, each read along its primary key (metric_id, seq) from
 * the cursor on: no sort, however many samples the run has.
 */
static int push_metric(struct pusher *p, int64_t sid, sqlite3_stmt *ms,
		       sqlite3_stmt *ss, const struct sbuf *key,
		       struct batch *b)
{
	int64_t mid = sqlite3_column_int64(ms, 0);
	int64_t base_ms = lp_iso_ns(col_text(ms, 4)) / 1000000;
	int rc;

	for (;;) {
		long got = 0;

		sqlite3_bind_int64(ss, 1, mid);
		sqlite3_bind_int64(ss, 2, b->seq);
		sqlite3_bind_int64(ss, 3, p->o->batch - b->n);
		while ((rc = db_step(p->d, ss)) == SQLITE_ROW) {
			int64_t seq = sqlite3_column_int64(ss, 0);

			got++;
			b->n++;
			b->seq = seq + 1;
			if (sqlite3_column_type(ss, 1) == SQLITE_NULL) {
				b->skipped++;
				continue;
			}
			sb_add(&b->body, key->buf, key->len);
			lp_fields(&b->body, sqlite3_column_double(ss, 1), seq,
				  base_ms + seq);
		}
		sqlite3_reset(ss);
		if (rc != SQLITE_DONE)
			return -1;
		if (b->n < p->o->batch)
			return 0;	/* this metric is done, the batch is not */
		if (flush(p, sid, b))
			return -1;
		if (!got)
			return 0;
	}
}

static int push_run(struct pusher *p, int64_t sid, int64_t run_id,
		    int64_t metric, int64_t seq)
{
	sqlite3_stmt *ms, *ss;
	struct run_tags t = { 0 };
	struct batch b = { .metric = metric, .seq = seq, .metric0 = metric,
			   .seq0 = seq };
	struct sbuf key;
	int r = -1, rc;

	if (load_run_tags(p->d, run_id, &t))
		return -1;
	ms = db_prepare(p->d, "SELECT m.id, c.name, m.name, m.unit, c.started_at, c.backend, c.device_type FROM metrics m JOIN cases c ON c.id = m.case_id WHERE c.run_id = ?1 AND m.id >= ?2 ORDER BY m.id");
	ss = db_prepare(p->d, "SELECT seq, value FROM samples WHERE metric_id = ?1 AND seq >= ?2 ORDER BY seq LIMIT ?3");
	sb_init(&b.body);
	sb_init(&key);
	if (!ms || !ss)
		goto out;
	sqlite3_bind_int64(ms, 1, run_id);
	sqlite3_bind_int64(ms, 2, metric);
	while ((rc = db_step(p->d, ms)) == SQLITE_ROW) {
		if (sqlite3_column_int64(ms, 0) != b.metric) {
			/* a new metric starts at its first sample */
			b.metric = sqlite3_column_int64(ms, 0);
			b.seq = 0;
		}
		series_key(p, &t, ms, &key);
		if (push_metric(p, sid, ms, ss, &key, &b))
			goto out;
	}
	if (rc != SQLITE_DONE || flush(p, sid, &b))
		goto out;
	r = spool_update(p, sid, b.metric, b.seq, 0, 0, "done", "");
out:
	sqlite3_finalize(ms);
	sqlite3_finalize(ss);
	sb_free(&b.body);
	sb_free(&key);
	run_tags_free(&t);
	return r;
}

/* --- set-up --- */

static char *read_secret(const char *file, const char *env, const char *what)
{
	char *s;

	if (file) {
		s = read_file(file, 65536, NULL);
		if (!s) {
			cdm_errno(errno, "push: %s %s", what, file);
			return NULL;
		}
		strtrim(s);
		if (!*s) {
			free(s);
			cdm_err("push: %s %s is empty", what, file);
			return NULL;
		}
		return s;
	}
	s = getenv(env);
	return s && *s ? xstrdup(s) : NULL;
}

static void wipe(char *s)
{
	if (s)
		memset(s, 0, strlen(s));
	free(s);
}

static int check_opts(const struct push_opts *o)
{
	const char *auth;

	if (!o->url)
		return cdm_err("push: --url URL is required (http://host:8086)");
	if (!startswith(o->url, "http://") && !startswith(o->url, "https://"))
		return cdm_err("push: --url %s: expected http:// or https://", o->url);
	auth = o->url + (startswith(o->url, "https://") ? 8 : 7);
	if (strcspn(auth, "/") > strcspn(auth, "@"))
		return cdm_err("push: --url: credentials do not belong in the URL (they would be stored and printed); use --user with $CDMBENCH_INFLUX_PASSWORD, or $CDMBENCH_INFLUX_TOKEN");
	if (!!o->database == !!o->bucket)
		return cdm_err("push: give --database DB (InfluxDB 1.x /write) or --bucket B with --org O (/api/v2/write)");
	if (o->bucket && !o->org)
		return cdm_err("push: --bucket needs --org");
	if (o->batch < 1)
		return cdm_err("push: --batch must be at least 1");
	return 0;
}

static int setup_curl(struct pusher *p)
{
	const struct push_opts *o = p->o;
	char *e1, *e2, *base;
	size_t l = strlen(o->url);

	p->curl = curl_easy_init();
	if (!p->curl)
		return cdm_err("push: libcurl initialisation failed");
	base = xasprintf("%.*s", (int)(l && o->url[l - 1] == '/' ? l - 1 : l), o->url);
	if (o->bucket) {
		e1 = curl_easy_escape(p->curl, o->org, 0);
		e2 = curl_easy_escape(p->curl, o->bucket, 0);
		p->write_url = xasprintf("%s/api/v2/write?org=%s&bucket=%s&precision=ms",
					 base, e1, e2);
		p->target = xasprintf("v2 %s org=%s bucket=%s", base, o->org, o->bucket);
		curl_free(e1);
		curl_free(e2);
		p->secret = read_secret(o->token_file, "CDMBENCH_INFLUX_TOKEN", "--token-file");
		if (o->token_file && !p->secret)
			goto fail;
		if (p->secret) {
			char *h = xasprintf("Authorization: Token %s", p->secret);

			p->hdr = curl_slist_append(p->hdr, h);
			wipe(h);
		}
	} else {
		e1 = curl_easy_escape(p->curl, o->database, 0);
		p->write_url = xasprintf("%s/write?db=%s&precision=ms", base, e1);
		p->target = xasprintf("v1 %s db=%s", base, o->database);
		curl_free(e1);
		if (o->user) {
			p->secret = read_secret(o->password_file, "CDMBENCH_INFLUX_PASSWORD",
						"--password-file");
			if (!p->secret) {
				if (!o->password_file)
					cdm_err("push: --user %s needs a password: $CDMBENCH_INFLUX_PASSWORD or --password-file FILE",
						o->user);
				goto fail;
			}
			curl_easy_setopt(p->curl, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
			curl_easy_setopt(p->curl, CURLOPT_USERNAME, o->user);
			curl_easy_setopt(p->curl, CURLOPT_PASSWORD, p->secret);
		}
	}
	free(base);
	p->hdr = curl_slist_append(p->hdr, "Content-Type: text/plain; charset=utf-8");
	if (o->gzip)
		p->hdr = curl_slist_append(p->hdr, "Content-Encoding: gzip");
	/* no "Expect: 100-continue" round trip before each batch */
	p->hdr = curl_slist_append(p->hdr, "Expect:");
	curl_easy_setopt(p->curl, CURLOPT_URL, p->write_url);
	curl_easy_setopt(p->curl, CURLOPT_HTTPHEADER, p->hdr);
	curl_easy_setopt(p->curl, CURLOPT_POST, 1L);
	curl_easy_setopt(p->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(p->curl, CURLOPT_WRITEDATA, &p->resp);
	curl_easy_setopt(p->curl, CURLOPT_ERRORBUFFER, p->err);
	curl_easy_setopt(p->curl, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(p->curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
	curl_easy_setopt(p->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->curl, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(p->curl, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(p->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->cacert)
		curl_easy_setopt(p->curl, CURLOPT_CAINFO, o->cacert);
	return 0;
fail:
	free(base);
	return -1;
}

int fleet_push(struct cdm_db *d, const struct push_opts *o,
	       struct push_stats *st)
{
	struct pusher p = { .o = o, .st = st, .d = d };
	sqlite3_stmt *q = NULL;
	uint64_t t0 = cdm_now_ns();
	int r = 2, rc;

	memset(st, 0, sizeof(*st));
	if (check_opts(o))
		return 2;
	if (o->cacert && access(o->cacert, R_OK)) {
		cdm_errno(errno, "push: --cacert %s", o->cacert);
		return 2;
	}
	curl_global_init(CURL_GLOBAL_DEFAULT);
	sb_init(&p.gz);
	sb_init(&p.resp);
	if (setup_curl(&p) || enqueue(&p))
		goto out;
	q = db_prepare(d, "SELECT id, run_id, next_metric, next_seq FROM push_spool WHERE target = ? AND state = 'pending' ORDER BY id");
	if (!q)
		goto out;
	sqlite3_bind_text(q, 1, p.target, -1, SQLITE_STATIC);
	r = 0;
	/* read the list first: push_run writes the spool between steps */
	{
		int64_t (*rows)[4] = NULL;
		size_t n = 0, i;

		while ((rc = db_step(d, q)) == SQLITE_ROW) {
			rows = xrealloc(rows, (n + 1) * sizeof(*rows));
			for (i = 0; i < 4; i++)
				rows[n][i] = sqlite3_column_int64(q, i);
			n++;
		}
		if (rc != SQLITE_DONE)
			r = 2;
		for (i = 0; i < n && !r; i++) {
			if (push_run(&p, rows[i][0], rows[i][1], rows[i][2], rows[i][3]))
				r = p.fatal ? 1 : 2;
			else
				st->runs++;
		}
		free(rows);
	}
	if (!o->quiet && isatty(2) && st->sent)
		fputc('\n', stderr);
	if (p.fatal)
		cdm_err("push: stopped: %s; %lld points sent, the rest stays in the spool for the next push",
			p.fatal, st->sent);
	if (!r && st->rejected)
		r = 1;
out:
	st->seconds = (cdm_now_ns() - t0) / 1e9;
	sqlite3_finalize(q);
	curl_slist_free_all(p.hdr);
	if (p.curl)
		curl_easy_cleanup(p.curl);
	wipe(p.secret);
	free(p.write_url);
	free(p.target);
	free(p.fatal);
	sb_free(&p.gz);
	sb_free(&p.resp);
	curl_global_cleanup();
	return r;
}
#endif /* CDM_HAVE_CURL */
