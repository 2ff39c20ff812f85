// SPDX-License-Identifier: GPL-2.0
/*
 * A run as the user watches it: one line per finished case, or the whole
 * run as JSON at the end. `run` hands these to the runner as callbacks
 * (core never prints results itself); `vm run` prints the guest's cases.
 */
#include <math.h>
#include <stdio.h>

#include "report/console.h"
#include "util/escape.h"

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
	/* names and reasons come from job files and workloads: escaped */
	sb_addf(&sb, "%-5s %s (%s/%s) %.2fs", cdm_verdict_name(c->verdict),
		tesc(c->name), tesc(c->backend),
		tesc(c->device_type ? c->device_type : "?"),
		c->elapsed_ns / 1e9);
	for (i = 0; i < c->nmetrics && shown < 3; i++) {
		const struct cdm_metric_res *m = &c->metrics[i];
		char med[32];

		if (!m->name || !m->sum.n)
			continue;
		fmt_value(med, sizeof(med), m->sum.median);
		sb_addf(&sb, "  %s %s %s", tesc(m->name), med, tesc(m->unit));
		if (m->sum.n > 1 && m->sum.median != 0)
			sb_addf(&sb, " +-%.1f%%",
				cdm_noise_pct(m->sum.mad, m->sum.median));
		shown++;
	}
	if (c->verdict != CDM_PASS && c->reason && *c->reason)
		sb_addf(&sb, "\n        %s", tesc(c->reason));
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

	json_doc(&j, &sb);
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
