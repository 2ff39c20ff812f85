// SPDX-License-Identifier: GPL-2.0
/* Record framing and codecs; see wire.h for where they travel. */
#include <errno.h>
#include <stddef.h>
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

/*
 * A record's plain fields in wire order: strings, ints (sent as u32) and
 * u64s. One table serves both directions, so what is written is what is
 * read back.
 */
struct wire_field {
	enum { WF_STR, WF_INT, WF_U64 } type;
	size_t off;
};

#define W_STR(T, f) { WF_STR, offsetof(T, f) }
#define W_INT(T, f) { WF_INT, offsetof(T, f) }
#define W_U64(T, f) { WF_U64, offsetof(T, f) }

static void put_fields(struct sbuf *sb, const void *base,
		       const struct wire_field *f, size_t n)
{
	for (; n--; f++) {
		const char *p = (const char *)base + f->off;

		if (f->type == WF_STR)
			wire_str(sb, *(char *const *)p);
		else if (f->type == WF_INT)
			wire_u32(sb, *(const int *)p);
		else
			wire_u64(sb, *(const uint64_t *)p);
	}
}

/* the strings are overwritten, not freed: base holds none yet */
static void get_fields(struct wire_rd *rd, void *base,
		       const struct wire_field *f, size_t n)
{
	for (; n--; f++) {
		char *p = (char *)base + f->off;

		if (f->type == WF_STR)
			*(char **)p = wire_get_str(rd);
		else if (f->type == WF_INT)
			*(int *)p = wire_get_u32(rd);
		else
			*(uint64_t *)p = wire_get_u64(rd);
	}
}

#define RUN(k, f) W_##k(struct cdm_run_info, f)
static const struct wire_field run_fields[] = {
	RUN(U64, start_wall), RUN(STR, harness_version),
	RUN(STR, git_revision), RUN(STR, job_name), RUN(STR, job_text),
	RUN(U64, seed), RUN(STR, environment), RUN(STR, host.hostname),
	RUN(STR, host.cpu_model), RUN(STR, host.arch), RUN(INT, host.cpus),
	RUN(INT, host.numa_nodes), RUN(U64, host.mem_bytes),
	RUN(STR, kernel.release), RUN(STR, kernel.version),
	RUN(STR, kernel.config_digest), RUN(STR, cmdline), RUN(STR, argv),
	RUN(STR, kmsg_status),
};

static const struct wire_field dev_fields[] = {
	W_STR(struct cdm_device, path), W_STR(struct cdm_device, backend),
	W_STR(struct cdm_device, memory_type),
	W_STR(struct cdm_device, detail),
};

void wire_put_run(struct sbuf *sb, const struct cdm_run_info *r)
{
	size_t start = wire_begin(sb, S_RUN), i;

	wire_str(sb, r->uuid);
	put_fields(sb, r, run_fields, ARRAY_SIZE(run_fields));
	put_kvs(sb, &r->tags);
	wire_u32(sb, r->ndevs);
	for (i = 0; i < r->ndevs; i++)
		put_fields(sb, &r->devs[i], dev_fields, ARRAY_SIZE(dev_fields));
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
	get_fields(rd, r, run_fields, ARRAY_SIZE(run_fields));
	get_kvs(rd, &r->tags);
	n = wire_get_u32(rd);
	if (n > 1024)
		rd->bad = true;
	for (i = 0; i < n && !rd->bad; i++) {
		r->devs = xrealloc(r->devs, (i + 1) * sizeof(*r->devs));
		get_fields(rd, &r->devs[i], dev_fields, ARRAY_SIZE(dev_fields));
		r->ndevs = i + 1;
	}
	r->ncases = wire_get_u32(rd);
	get_kvs(rd, &r->host.topo);
	return rd->bad ? -1 : 0;
}

#define KEV(k, f) W_##k(struct cdm_kevent, f)
static const struct wire_field kevent_fields[] = {
	KEV(U64, seq), KEV(U64, ts_usec), KEV(INT, level), KEV(INT, facility),
	KEV(INT, cls), KEV(STR, text),
};

void wire_put_kevent(struct sbuf *sb, const struct cdm_kevent *e)
{
	size_t start = wire_begin(sb, S_KEVENT);

	put_fields(sb, e, kevent_fields, ARRAY_SIZE(kevent_fields));
	wire_end(sb, start);
}

int wire_get_kevent(struct wire_rd *rd, struct cdm_kevent *e)
{
	get_fields(rd, e, kevent_fields, ARRAY_SIZE(kevent_fields));
	return rd->bad ? -1 : 0;
}

#define CASE(k, f) W_##k(struct cdm_case_res, f)
static const struct wire_field case_fields[] = {
	CASE(INT, seq), CASE(STR, name), CASE(STR, workload),
	CASE(STR, backend), CASE(STR, device_type), CASE(STR, params),
	CASE(STR, match_key), CASE(U64, seed), CASE(U64, start_wall),
	CASE(U64, end_wall), CASE(U64, elapsed_ns), CASE(INT, verdict),
	CASE(STR, reason),
};

void wire_put_case(struct sbuf *sb, const struct cdm_case_res *c)
{
	size_t start = wire_begin(sb, S_CASE), i;

	put_fields(sb, c, case_fields, ARRAY_SIZE(case_fields));
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
		put_fields(sb, &c->kev.v[i], kevent_fields,
			   ARRAY_SIZE(kevent_fields));
	wire_end(sb, start);
}

int wire_get_case(struct wire_rd *rd, struct cdm_case_res *c)
{
	uint32_t i, n;
	char *log;

	case_res_init(c);
	free(c->reason);	/* case_res_init's "", read again below */
	get_fields(rd, c, case_fields, ARRAY_SIZE(case_fields));
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

		get_fields(rd, &e, kevent_fields, ARRAY_SIZE(kevent_fields));
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
