// SPDX-License-Identifier: GPL-2.0
/* Record framing and codecs; see wire.h for where they travel. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/wire.h"

size_t wire_begin(struct sbuf *sb, uint32_t type)
{
	size_t start = sb->len;
	uint32_t zero = 0;

	sb_add(sb, &type, 4);
	sb_add(sb, &zero, 4);
	return start;
}

void wire_end(struct sbuf *sb, size_t start)
{
	uint32_t len = sb->len - start - WIRE_HDR;

	memcpy(sb->buf + start + 4, &len, 4);
}

void wire_u32(struct sbuf *sb, uint32_t v)
{
	sb_add(sb, &v, 4);
}

void wire_u64(struct sbuf *sb, uint64_t v)
{
	sb_add(sb, &v, 8);
}

void wire_f64(struct sbuf *sb, double v)
{
	sb_add(sb, &v, 8);
}

void wire_str(struct sbuf *sb, const char *s)
{
	uint32_t n = s ? strlen(s) : 0;

	sb_add(sb, &n, 4);
	if (n)
		sb_add(sb, s, n);
}

const void *wire_get_raw(struct wire_rd *r, size_t n)
{
	const void *p;

	if (r->bad || n > r->len - r->off) {
		r->bad = true;
		return NULL;
	}
	p = r->p + r->off;
	r->off += n;
	return p;
}

/* n bytes into v, left as it is (0) past the end of the record */
static void get_n(struct wire_rd *r, void *v, size_t n)
{
	const void *p = wire_get_raw(r, n);

	if (p)
		memcpy(v, p, n);
}

uint32_t wire_get_u32(struct wire_rd *r)
{
	uint32_t v = 0;

	get_n(r, &v, sizeof(v));
	return v;
}

uint64_t wire_get_u64(struct wire_rd *r)
{
	uint64_t v = 0;

	get_n(r, &v, sizeof(v));
	return v;
}

double wire_get_f64(struct wire_rd *r)
{
	double v = 0;

	get_n(r, &v, sizeof(v));
	return v;
}

char *wire_get_str(struct wire_rd *r)
{
	uint32_t n = wire_get_u32(r);
	const char *p = wire_get_raw(r, n);
	char *s;

	if (!p)
		return xstrdup("");
	s = xmalloc(n + 1);
	memcpy(s, p, n);
	s[n] = 0;
	return s;
}

long wire_next(const uint8_t *buf, size_t len, uint32_t *type,
	       struct wire_rd *payload)
{
	uint32_t plen;

	if (len < WIRE_HDR)
		return 0;
	memcpy(type, buf, 4);
	memcpy(&plen, buf + 4, 4);
	if (plen > WIRE_MAX_RECORD)
		return -1;
	if (len - WIRE_HDR < plen)
		return 0;
	payload->p = buf + WIRE_HDR;
	payload->len = plen;
	payload->off = 0;
	payload->bad = false;
	return WIRE_HDR + plen;
}

static void put_kvs(struct sbuf *sb, const struct cdm_kvlist *l)
{
	size_t i;

	wire_u32(sb, l->n);
	for (i = 0; i < l->n; i++) {
		wire_str(sb, l->v[i].key);
		wire_str(sb, l->v[i].value);
	}
}

static void get_kvs(struct wire_rd *rd, struct cdm_kvlist *l)
{
	uint32_t n = wire_get_u32(rd), i;

	for (i = 0; i < n && !rd->bad; i++) {
		char *k = wire_get_str(rd), *v = wire_get_str(rd);

		kv_add(l, k, v);
		free(k);
		free(v);
	}
}

void wire_put_run(struct sbuf *sb, const struct cdm_run_info *r)
{
	size_t start = wire_begin(sb, S_RUN), i;

	wire_str(sb, r->uuid);
	wire_u64(sb, r->start_wall);
	wire_str(sb, r->harness_version);
	wire_str(sb, r->git_revision);
	wire_str(sb, r->job_name);
	wire_str(sb, r->job_text);
	wire_u64(sb, r->seed);
	wire_str(sb, r->environment);
	wire_str(sb, r->host.hostname);
	wire_str(sb, r->host.cpu_model);
	wire_str(sb, r->host.arch);
	wire_u32(sb, r->host.cpus);
	wire_u32(sb, r->host.numa_nodes);
	wire_u64(sb, r->host.mem_bytes);
	wire_str(sb, r->kernel.release);
	wire_str(sb, r->kernel.version);
	wire_str(sb, r->kernel.config_digest);
	wire_str(sb, r->cmdline);
	wire_str(sb, r->argv);
	wire_str(sb, r->kmsg_status);
	put_kvs(sb, &r->tags);
	wire_u32(sb, r->ndevs);
	for (i = 0; i < r->ndevs; i++) {
		wire_str(sb, r->devs[i].path);
		wire_str(sb, r->devs[i].backend);
		wire_str(sb, r->devs[i].memory_type);
		wire_str(sb, r->devs[i].detail);
	}
	wire_u32(sb, r->ncases);
	put_kvs(sb, &r->host.topo);
	wire_end(sb, start);
}

int wire_get_run(struct wire_rd *rd, struct cdm_run_info *r)
{
	char *uuid;
	uint32_t i, n;

	memset(r, 0, sizeof(*r));
	uuid = wire_get_str(rd);
	snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
	free(uuid);
	r->start_wall = wire_get_u64(rd);
	r->harness_version = wire_get_str(rd);
	r->git_revision = wire_get_str(rd);
	r->job_name = wire_get_str(rd);
	r->job_text = wire_get_str(rd);
	r->seed = wire_get_u64(rd);
	r->environment = wire_get_str(rd);
	r->host.hostname = wire_get_str(rd);
	r->host.cpu_model = wire_get_str(rd);
	r->host.arch = wire_get_str(rd);
	r->host.cpus = wire_get_u32(rd);
	r->host.numa_nodes = wire_get_u32(rd);
	r->host.mem_bytes = wire_get_u64(rd);
	r->kernel.release = wire_get_str(rd);
	r->kernel.version = wire_get_str(rd);
	r->kernel.config_digest = wire_get_str(rd);
	r->cmdline = wire_get_str(rd);
	r->argv = wire_get_str(rd);
	r->kmsg_status = wire_get_str(rd);
	get_kvs(rd, &r->tags);
	n = wire_get_u32(rd);
	if (n > 1024)
		rd->bad = true;
	for (i = 0; i < n && !rd->bad; i++) {
		r->devs = xrealloc(r->devs, (i + 1) * sizeof(*r->devs));
		r->devs[i].path = wire_get_str(rd);
		r->devs[i].backend = wire_get_str(rd);
		r->devs[i].memory_type = wire_get_str(rd);
		r->devs[i].detail = wire_get_str(rd);
		r->ndevs = i + 1;
	}
	r->ncases = wire_get_u32(rd);
	get_kvs(rd, &r->host.topo);
	return rd->bad ? -1 : 0;
}

static void put_kevent_body(struct sbuf *sb, const struct cdm_kevent *e)
{
	wire_u64(sb, e->seq);
	wire_u64(sb, e->ts_usec);
	wire_u32(sb, e->level);
	wire_u32(sb, e->facility);
	wire_u32(sb, e->cls);
	wire_str(sb, e->text);
}

static void get_kevent_body(struct wire_rd *rd, struct cdm_kevent *e)
{
	e->seq = wire_get_u64(rd);
	e->ts_usec = wire_get_u64(rd);
	e->level = wire_get_u32(rd);
	e->facility = wire_get_u32(rd);
	e->cls = wire_get_u32(rd);
	e->text = wire_get_str(rd);
}

void wire_put_kevent(struct sbuf *sb, const struct cdm_kevent *e)
{
	size_t start = wire_begin(sb, S_KEVENT);

	put_kevent_body(sb, e);
	wire_end(sb, start);
}

int wire_get_kevent(struct wire_rd *rd, struct cdm_kevent *e)
{
	get_kevent_body(rd, e);
	return rd->bad ? -1 : 0;
}

void wire_put_case(struct sbuf *sb, const struct cdm_case_res *c)
{
	size_t start = wire_begin(sb, S_CASE), i;

	wire_u32(sb, c->seq);
	wire_str(sb, c->name);
	wire_str(sb, c->workload);
	wire_str(sb, c->backend);
	wire_str(sb, c->device_type);
	wire_str(sb, c->params);
	wire_str(sb, c->match_key);
	wire_u64(sb, c->seed);
	wire_u64(sb, c->start_wall);
	wire_u64(sb, c->end_wall);
	wire_u64(sb, c->elapsed_ns);
	wire_u32(sb, c->verdict);
	wire_str(sb, c->reason);
	wire_str(sb, c->log.buf);
	wire_u32(sb, c->nmetrics);
	for (i = 0; i < c->nmetrics; i++) {
		const struct cdm_metric_res *m = &c->metrics[i];

		wire_str(sb, m->name);
		wire_str(sb, m->unit);
		wire_u32(sb, m->better);
		wire_u64(sb, m->n);
		sb_add(sb, m->v, m->n * sizeof(double));
	}
	put_kvs(sb, &c->info);
	wire_u32(sb, c->kev.n);
	for (i = 0; i < c->kev.n; i++)
		put_kevent_body(sb, &c->kev.v[i]);
	wire_end(sb, start);
}

int wire_get_case(struct wire_rd *rd, struct cdm_case_res *c)
{
	uint32_t i, n;
	char *log;

	case_res_init(c);
	c->seq = wire_get_u32(rd);
	c->name = wire_get_str(rd);
	c->workload = wire_get_str(rd);
	c->backend = wire_get_str(rd);
	c->device_type = wire_get_str(rd);
	c->params = wire_get_str(rd);
	c->match_key = wire_get_str(rd);
	c->seed = wire_get_u64(rd);
	c->start_wall = wire_get_u64(rd);
	c->end_wall = wire_get_u64(rd);
	c->elapsed_ns = wire_get_u64(rd);
	c->verdict = wire_get_u32(rd);
	free(c->reason);
	c->reason = wire_get_str(rd);
	log = wire_get_str(rd);
	sb_adds(&c->log, log);
	free(log);
	n = wire_get_u32(rd);
	for (i = 0; i < n && !rd->bad; i++) {
		struct cdm_metric_res *m = case_res_metric(c, i);
		uint64_t ns;
		const void *raw;

		m->name = wire_get_str(rd);
		m->unit = wire_get_str(rd);
		m->better = wire_get_u32(rd);
		ns = wire_get_u64(rd);
		if (ns > (rd->len - rd->off) / sizeof(double)) {
			rd->bad = true;
			break;
		}
		raw = wire_get_raw(rd, ns * sizeof(double));
		if (raw)
			metric_add_samples(m, raw, ns);
	}
	get_kvs(rd, &c->info);
	n = wire_get_u32(rd);
	for (i = 0; i < n && !rd->bad; i++) {
		struct cdm_kevent e;

		get_kevent_body(rd, &e);
		kev_add(&c->kev, &e);
		free(e.text);
	}
	if (c->verdict >= CDM_NVERDICTS)
		rd->bad = true;
	return rd->bad ? -1 : 0;
}

int write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -1;
		c += w;
		n -= w;
	}
	return 0;
}
