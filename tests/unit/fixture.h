/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A made-up run and case for the tests and benchmarks that store or
 * encode results: every field a writer needs, so none trips on NULL.
 */
#ifndef CDM_TEST_FIXTURE_H
#define CDM_TEST_FIXTURE_H

#include <stdio.h>
#include <string.h>

#include "core/result.h"

static inline void fixture_run(struct cdm_run_info *r, const char *uuid)
{
	memset(r, 0, sizeof(*r));
	snprintf(r->uuid, sizeof(r->uuid), "%s", uuid);
	r->harness_version = xstrdup("t");
	r->git_revision = xstrdup("t");
	r->job_name = xstrdup("job");
	r->job_text = xstrdup("[a]\nworkload = stream\n");
	r->environment = xstrdup("bare-metal");
	r->host.hostname = xstrdup("h");
	r->host.cpu_model = xstrdup("cpu");
	r->host.arch = xstrdup("x86_64");
	r->kernel.release = xstrdup("6.1");
	r->kernel.version = xstrdup("#1");
	r->kernel.config_digest = xstrdup("");
	r->cmdline = xstrdup("");
	r->argv = xstrdup("");
	r->kmsg_status = xstrdup("ok");
}

/* a stream case on the CPU with metric 0 named metric, in unit */
static inline struct cdm_metric_res *
fixture_case(struct cdm_case_res *c, const char *name, const char *metric,
	     const char *unit)
{
	struct cdm_metric_res *m;

	case_res_init(c);
	c->name = xstrdup(name);
	c->workload = xstrdup("stream");
	c->backend = xstrdup("cpu");
	c->device_type = xstrdup("system");
	c->params = xstrdup("{}");
	c->match_key = xstrdup("{}");
	m = case_res_metric(c, 0);
	m->name = xstrdup(metric);
	m->unit = xstrdup(unit);
	return m;
}

#endif
