// SPDX-License-Identifier: GPL-2.0
/* In-memory results: small containers and their bookkeeping. */
#include <stdlib.h>
#include <string.h>

#include "core/result.h"

static const char *const verdict_names[CDM_NVERDICTS] = {
	[CDM_PASS] = "pass",
	[CDM_FAIL] = "fail",
	[CDM_SKIP] = "skip",
	[CDM_ERROR] = "error",
	[CDM_TIMEOUT] = "timeout",
	[CDM_CRASH] = "crash",
	[CDM_INTERRUPTED] = "interrupted",
};

/* how bad a verdict is; a worse one is never overwritten by a milder one */
static const int verdict_rank[CDM_NVERDICTS] = {
	[CDM_PASS] = 0,
	[CDM_SKIP] = 1,
	[CDM_FAIL] = 2,
	[CDM_ERROR] = 3,
	[CDM_TIMEOUT] = 4,
	[CDM_CRASH] = 5,
	[CDM_INTERRUPTED] = 6,
};

const char *cdm_verdict_name(enum cdm_verdict v)
{
	return (unsigned int)v < CDM_NVERDICTS ? verdict_names[v] : "?";
}

int cdm_verdict_rank(int v)
{
	return (unsigned int)v < CDM_NVERDICTS ? verdict_rank[v] :
	       CDM_NVERDICTS;
}

int cdm_verdict_parse(const char *s)
{
	int i;

	for (i = 0; i < CDM_NVERDICTS; i++)
		if (!strcmp(s, verdict_names[i]))
			return i;
	return -1;
}

static const char *const kclass_names[CDM_NKCLASS] = {
	[CDM_K_OTHER] = "other",
	[CDM_K_WARNING] = "warning",
	[CDM_K_BUG] = "bug",
	[CDM_K_OOPS] = "oops",
	[CDM_K_BAD_PAGE] = "bad_page",
	[CDM_K_NOT_PINNABLE] = "not_pinnable",
	[CDM_K_SOFT_LOCKUP] = "soft_lockup",
	[CDM_K_RCU_STALL] = "rcu_stall",
	[CDM_K_PANIC] = "panic",
};

const char *cdm_kclass_name(enum cdm_kclass c)
{
	return (unsigned int)c < CDM_NKCLASS ? kclass_names[c] : "other";
}

void kv_add(struct cdm_kvlist *l, const char *key, const char *value)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 8;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n].key = xstrdup(key);
	l->v[l->n].value = xstrdup(value);
	l->n++;
}

void kv_set(struct cdm_kvlist *l, const char *key, const char *value)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		if (!strcmp(l->v[i].key, key)) {
			free(l->v[i].value);
			l->v[i].value = xstrdup(value);
			return;
		}
	}
	kv_add(l, key, value);
}

const char *kv_get(const struct cdm_kvlist *l, const char *key)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (!strcmp(l->v[i].key, key))
			return l->v[i].value;
	return NULL;
}

void kv_free(struct cdm_kvlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].key);
		free(l->v[i].value);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void kev_add(struct cdm_kevents *l, const struct cdm_kevent *e)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 16;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n] = *e;
	l->v[l->n].text = xstrdup(e->text);
	l->n++;
}

void kev_free(struct cdm_kevents *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].text);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

void case_res_init(struct cdm_case_res *c)
{
	memset(c, 0, sizeof(*c));
	c->verdict = CDM_PASS;
	c->reason = xstrdup("");
	sb_init(&c->log);
}

void case_res_free(struct cdm_case_res *c)
{
	size_t i;

	free(c->name);
	free(c->workload);
	free(c->backend);
	free(c->device_type);
	free(c->params);
	free(c->match_key);
	free(c->reason);
	for (i = 0; i < c->nmetrics; i++) {
		free(c->metrics[i].name);
		free(c->metrics[i].unit);
		free(c->metrics[i].v);
	}
	free(c->metrics);
	kv_free(&c->info);
	kev_free(&c->kev);
	sb_free(&c->log);
	for (i = 0; i < c->nsubs; i++)
		case_res_free(&c->subs[i]);
	free(c->subs);
	memset(c, 0, sizeof(*c));
}

struct cdm_metric_res *case_res_metric(struct cdm_case_res *c, size_t idx)
{
	if (idx >= c->nmetrics) {
		c->metrics = xrealloc(c->metrics, (idx + 1) * sizeof(*c->metrics));
		memset(c->metrics + c->nmetrics, 0,
		       (idx + 1 - c->nmetrics) * sizeof(*c->metrics));
		c->nmetrics = idx + 1;
	}
	return &c->metrics[idx];
}

void metric_add_samples(struct cdm_metric_res *m, const double *v, size_t n)
{
	if (!n)
		return;		/* m->v may still be NULL */
	if (m->n + n > m->cap) {
		size_t cap = m->cap ? m->cap : 256;

		while (cap < m->n + n)
			cap *= 2;
		m->v = xrealloc(m->v, cap * sizeof(*m->v));
		m->cap = cap;
	}
	memcpy(m->v + m->n, v, n * sizeof(*v));
	m->n += n;
}

void case_res_summarize(struct cdm_case_res *c)
{
	size_t i;

	/* a metric whose samples went to the sink is summarised there */
	for (i = 0; i < c->nmetrics; i++)
		if (!c->metrics[i].spilled)
			cdm_summarize(c->metrics[i].v, c->metrics[i].n,
				      &c->metrics[i].sum);
}

void case_res_verdict(struct cdm_case_res *c, int verdict, const char *reason)
{
	if ((unsigned int)verdict >= CDM_NVERDICTS)
		verdict = CDM_ERROR;
	if (cdm_verdict_rank(verdict) < cdm_verdict_rank(c->verdict))
		return;
	/* the same verdict again keeps the first reason: it came first */
	if (verdict == c->verdict && c->reason && *c->reason)
		return;
	c->verdict = verdict;
	free(c->reason);
	c->reason = xstrdup(reason ? reason : "");
}

size_t case_res_nsamples(const struct cdm_case_res *c)
{
	size_t i, n = 0;

	for (i = 0; i < c->nmetrics; i++)
		n += c->metrics[i].spilled + c->metrics[i].n;
	return n;
}

void case_res_drop_samples(struct cdm_case_res *c)
{
	size_t i;

	for (i = 0; i < c->nmetrics; i++) {
		free(c->metrics[i].v);
		c->metrics[i].v = NULL;
		c->metrics[i].spilled += c->metrics[i].n;
		c->metrics[i].n = c->metrics[i].cap = 0;
	}
}

void run_info_free(struct cdm_run_info *r)
{
	size_t i;

	free(r->harness_version);
	free(r->git_revision);
	free(r->job_name);
	free(r->job_text);
	free(r->environment);
	free(r->host.hostname);
	free(r->host.cpu_model);
	free(r->host.arch);
	kv_free(&r->host.topo);
	free(r->kernel.release);
	free(r->kernel.version);
	free(r->kernel.config_digest);
	free(r->cmdline);
	free(r->argv);
	free(r->kmsg_status);
	kv_free(&r->tags);
	for (i = 0; i < r->ndevs; i++) {
		free(r->devs[i].path);
		free(r->devs[i].backend);
		free(r->devs[i].memory_type);
		free(r->devs[i].detail);
	}
	free(r->devs);
	memset(r, 0, sizeof(*r));
}
