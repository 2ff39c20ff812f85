/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Synthetic runs for the compare, history and report tests: cases with
 * normally distributed samples of a chosen level and spread, written
 * through the same store API the runner uses.
 */
#ifndef CDM_TEST_SYNTH_H
#define CDM_TEST_SYNTH_H

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "stats/cstats.h"
#include "store/db.h"
#include "tap.h"

struct synth_metric {
	const char *name;
	const char *unit;
	int better;		/* 1: higher is better */
	double mu;
	double sd;
	size_t n;
};

static inline struct cdm_db *synth_open(const char *name)
{
	static struct cdm_db d;
	char *p = xasprintf("%s/%s", tap_tmpdir(), name);

	REQUIRE(db_open(&d, p, DB_WRITE) == 0);
	free(p);
	return &d;
}

/* a run started `minute` minutes after a fixed epoch, so order is known */
static inline int64_t synth_begin(struct cdm_db *d, const char *kernel,
				  const char *tag, int minute)
{
	static int serial;
	struct cdm_run_info r;
	int64_t id;

	memset(&r, 0, sizeof(r));
	snprintf(r.uuid, sizeof(r.uuid), "%08x-synth-%d", 0x1000 + serial,
		 serial);
	serial++;
	r.start_wall = (1700000000ULL + 60ULL * minute) * 1000000000ULL;
	r.harness_version = xstrdup("t");
	r.git_revision = xstrdup("t");
	r.job_name = xstrdup("synth");
	r.job_text = xstrdup("[a]\nworkload = selftest\n");
	r.environment = xstrdup("bare-metal");
	r.host.hostname = xstrdup("node01");
	r.host.cpu_model = xstrdup("cpu");
	r.host.arch = xstrdup("x86_64");
	r.kernel.release = xstrdup(kernel);
	r.kernel.version = xstrdup("#1");
	r.kernel.config_digest = xstrdup("");
	r.cmdline = xstrdup("console=ttyS0 init_on_free=1");
	r.argv = xstrdup("cdmbench run synth.ini");
	r.kmsg_status = xstrdup("ok");
	if (tag)
		kv_add(&r.tags, "build", tag);
	REQUIRE(db_run_begin(d, &r, &id) == 0);
	run_info_free(&r);
	return id;
}

static inline void synth_case(struct cdm_db *d, int64_t run, int seq,
			      const char *name, const char *device_type,
			      const char *params, const struct synth_metric *m,
			      size_t nm, uint64_t seed)
{
	struct cdm_case_res c;
	size_t i, k;

	case_res_init(&c);
	c.seq = seq;
	c.name = xstrdup(name);
	c.workload = xstrdup("synth");
	c.backend = xstrdup("cpu");
	c.device_type = xstrdup(device_type);
	c.params = xstrdup(params);
	c.match_key = xstrdup(params);
	c.verdict = CDM_PASS;
	c.elapsed_ns = 1000000;
	for (k = 0; k < nm; k++) {
		struct cdm_metric_res *mr = case_res_metric(&c, k);
		uint64_t st = mix64(seed, k + 1);

		mr->name = xstrdup(m[k].name);
		mr->unit = xstrdup(m[k].unit);
		mr->better = m[k].better;
		for (i = 0; i < m[k].n; i++) {
			double v = m[k].mu + m[k].sd * cdm_rand_normal(&st);

			metric_add_samples(mr, &v, 1);
		}
	}
	case_res_summarize(&c);
	REQUIRE(db_case(d, run, &c) == 0);
	case_res_free(&c);
}

static inline void synth_end(struct cdm_db *d, int64_t run)
{
	REQUIRE(db_run_end(d, run, "completed", "") == 0);
}

/* the row of a comparison that holds metric, or NULL */
static inline const struct cmp_row *synth_row(const struct cmp_result *r,
					      const char *metric)
{
	size_t i;

	for (i = 0; i < r->nrows; i++)
		if (!strcmp(r->rows[i].metric, metric))
			return &r->rows[i];
	return NULL;
}

#endif
