// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench history CASE:METRIC`: a metric across runs in time order, and
 * the runs that introduced a step in its level (analysis/history.c).
 */
#include <stddef.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/controls.h"
#include "analysis/events.h"
#include "analysis/history.h"
#include "cli/cli.h"
#include "util/escape.h"
#include "core/opt.h"

struct history_args {
	const char *db;
	struct sbuf sel;	/* --tag selectors joined by commas */
	long limit;
	double min_step;
	double alpha;
	const char *format;
	char *case_name;
	const char *metric;
};

/* --tag here selects runs, as compare's selectors do */
static int add_selector(void *args, const char *arg, const char *cmd)
{
	struct history_args *a = args;

	if (!strchr(arg, '=') || *arg == '=')
		return cdm_err("%s: --tag %s: expected KEY=VALUE (kernel=, host=, env=, job= or a run tag)",
			       cmd, arg);
	sb_addf(&a->sel, "%s%s", a->sel.len ? "," : "", arg);
	return 0;
}

#define HA(f) offsetof(struct history_args, f)

const struct cli_spec cli_history_spec = {
	.cmd = "history",
	.usage = "usage: cdmbench history [OPTIONS] CASE:METRIC\n",
	.about =
	"Lists METRIC of the case named CASE in every finished run, oldest\n"
	"first, with each run's kernel, host, median and noise, and finds the\n"
	"steps in its level: the runs that introduced a lasting change\n"
	"(binary segmentation on the per-run medians; a step must be at least\n"
	"--min-step and significant against the spread of the runs around\n"
	"their levels). The newest run alone may form a step: it is the one\n"
	"most worth flagging. Steps are looked for from 5 runs on. --alpha is\n"
	"the chance that a series of one kernel, nothing changed, is cut at\n"
	"all: on up to 64 runs the test's threshold comes from simulated\n"
	"noise of that many runs, beyond from a conservative bound.\n"
	"\n"
	"CASE is the case name as 'cdmbench show' prints it, matrix values\n"
	"included, and METRIC a metric of it, split at the last colon:\n"
	"  cdmbench history 'stream[size=4M threads=1]:copy_bw'\n"
	"Runs whose case of that name has other parameters, backend or device\n"
	"type than the newest one are left out (and counted).\n",
	.opts = (const struct cli_opt[]) {
		{ .name = "tag", .key = 't', .kind = CLI_CALL, .arg = "KEY=VALUE",
		  .help = "only runs matching (repeatable): kernel=,\nhost=, env=, job= or a run tag; globs allowed",
		  .call = add_selector },
		{ .name = "limit", .kind = CLI_COUNT, .off = HA(limit), .arg = "N",
		  .help = "only the newest N runs" },
		{ .name = "min-step", .kind = CLI_NUM, .off = HA(min_step),
		  .arg = "PCT",
		  .help = "smallest level shift reported (default 5)",
		  .max = 1000 },
		{ .name = "alpha", .kind = CLI_NUM, .off = HA(alpha), .arg = "A",
		  .help = "significance of a step (default 0.05)",
		  .min = 0.001, .max = 0.5 },
		CLI_OPT_FORMAT(struct history_args, format),
		CLI_OPT_DB(struct history_args, db),
		CLI_OPT_END
	},
};

static int parse_args(int argc, char **argv, struct history_args *a)
{
	const char *colon;
	int r;

	a->db = cli_default_db();
	a->min_step = 5;
	a->alpha = 0.05;
	a->format = "text";
	r = cli_parse(&cli_history_spec, argc, argv, a);
	if (r)
		return r;
	if (argc - optind != 1)
		return cdm_err("history: expected one CASE:METRIC, e.g. 'stream[size=4M threads=1]:copy_bw'");
	colon = strrchr(argv[optind], ':');
	if (!colon || colon == argv[optind] || !colon[1])
		return cdm_err("history: '%s': expected CASE:METRIC, e.g. 'stream[size=4M threads=1]:copy_bw'",
			       argv[optind]);
	a->case_name = xasprintf("%.*s", (int)(colon - argv[optind]),
				 argv[optind]);
	a->metric = colon + 1;
	return 0;
}

static const struct hist_step *step_at(const struct hist *h, size_t i)
{
	size_t k;

	for (k = 0; k < h->nsteps; k++)
		if (h->steps[k].index == i)
			return &h->steps[k];
	return NULL;
}

/* the harness's name for the control's kind: memcpy_bw is calib_bw */
static const char *ctrl_calib(const struct hist *h)
{
	return strcmp(h->ctrl_name, "memcpy_bw") ? h->ctrl_name : "bw";
}

static void print_text(const struct history_args *a, const struct hist *h)
{
	size_t i;

	printf("history of %s:%s (%s, %s is better): %zu run%s\n",
	       tesc(a->case_name), tesc(a->metric), tesc(h->unit),
	       h->higher_better ? "higher" : "lower", h->n, h->n == 1 ? "" : "s");
	if (h->other_params)
		printf("(%zu older run%s with a case of this name but other parameters, backend or device type left out)\n",
		       h->other_params, h->other_params == 1 ? "" : "s");
	if (h->normalized && h->ctrl_slope != 1)
		printf("steps are found on levels normalized by the in-run control (%s or calib_%s) to the power %.2f, the metric's slope on it over runs of one kernel and host, timed in the same runs: it drifted %.1f%% between runs, beyond its own noise of %.1f%%\n",
		       h->ctrl_name, ctrl_calib(h), h->ctrl_slope, h->ctrl_spread,
		       h->ctrl_noise);
	else if (h->normalized)
		printf("steps are found on levels normalized by the in-run control (%s or calib_%s), timed in the same runs: it drifted %.1f%% between runs, beyond its own noise of %.1f%%\n",
		       h->ctrl_name, ctrl_calib(h), h->ctrl_spread,
		       h->ctrl_noise);
	if (h->ctrl_passed)
		printf("not measured against %s: it stepped itself in units of %s over these runs, so the kernel may have moved it\n",
		       h->ctrl_passed, h->ctrl_name);
	if (!h->normalized && !isnan(h->ctrl_spread))
		printf("steps are found on raw medians: the in-run control held steady (%.1f%% between runs, its own noise %.1f%%)\n",
		       h->ctrl_spread, h->ctrl_noise);
	printf("\n  %6s %-8s %-20s %-18s %-12s %-7s %8s %12s %7s %12s\n", "run",
	       "uuid", "started (UTC)", "kernel", "host", "verdict", "n",
	       "median", "noise", h->normalized ? "normalized" : "");
	for (i = 0; i < h->n; i++) {
		const struct hist_point *p = &h->p[i];
		const struct hist_step *s = step_at(h, i);
		char med[32], noise[16], lvl[32] = "";

		snprintf(med, sizeof(med), isnan(p->median) ? "-" : "%.6g",
			 p->median);
		snprintf(noise, sizeof(noise), isnan(p->noise) ? "-" : "%.1f%%",
			 p->noise);
		if (h->normalized)
			snprintf(lvl, sizeof(lvl), isnan(p->level) ? "-" : "%.6g",
				 p->level);
		printf("%s %6lld %-8s %-20.19s %-18.18s %-12.12s %-7s %8zu %12s %7s %12s",
		       s ? ">" : " ", (long long)p->run_id, tesc(p->uuid),
		       tesc(p->started_at), tesc(p->kernel), tesc(p->host),
		       tesc(p->verdict), p->n, med,
		       noise, lvl);
		if (s)
			printf("  step %+.1f%% %s", s->change,
			       s->regression ? "REGRESSION" : "improvement");
		putchar('\n');
	}
	printf("\n%zu step%s (median level shifts of at least %g%%, significant at %g):\n",
	       h->nsteps, h->nsteps == 1 ? "" : "s", a->min_step, a->alpha);
	for (i = 0; i < h->nsteps; i++) {
		const struct hist_step *s = &h->steps[i];
		const struct hist_point *p = &h->p[s->index];

		printf("  run %lld (%s, kernel %s, %s) introduced %s: %.6g -> %.6g %s (%+.1f%%)\n",
		       (long long)p->run_id, tesc(p->uuid), tesc(p->kernel),
		       tesc(p->started_at),
		       s->regression ? "a REGRESSION" : "an improvement", s->before,
		       s->after, tesc(h->unit), s->change);
	}
}

static void print_json(const struct history_args *a, const struct hist *h)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	json_doc(&j, &sb);
	json_str(&j, "case", a->case_name);
	json_str(&j, "metric", a->metric);
	json_str(&j, "unit", h->unit);
	json_str(&j, "better", h->higher_better ? "higher" : "lower");
	json_int(&j, "other_params_left_out", h->other_params);
	json_bool(&j, "normalized", h->normalized);
	if (h->ctrl_kind < CDM_CONTROL_KINDS)
		json_str(&j, "control", h->ctrl_name);
	if (h->ctrl_passed)
		json_str(&j, "control_passed_over", h->ctrl_passed);
	json_dbl(&j, "control_spread_pct", h->ctrl_spread);
	json_dbl(&j, "control_noise_pct", h->ctrl_noise);
	json_dbl(&j, "control_slope", h->ctrl_slope);
	json_arr_open(&j, "runs");
	for (i = 0; i < h->n; i++) {
		const struct hist_point *p = &h->p[i];

		json_obj_open(&j, NULL);
		json_int(&j, "run_id", p->run_id);
		json_str(&j, "uuid", p->uuid);
		json_str(&j, "started_at", p->started_at);
		json_str(&j, "kernel", p->kernel);
		json_str(&j, "host", p->host);
		json_str(&j, "verdict", p->verdict);
		json_int(&j, "n", p->n);
		json_dbl(&j, "median", p->median);
		json_dbl(&j, "noise_pct", p->noise);
		json_dbl(&j, "control_median", p->ctrl);
		json_dbl(&j, "level", p->level);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_arr_open(&j, "steps");
	for (i = 0; i < h->nsteps; i++) {
		const struct hist_step *s = &h->steps[i];
		const struct hist_point *p = &h->p[s->index];

		json_obj_open(&j, NULL);
		json_int(&j, "run_id", p->run_id);
		json_str(&j, "uuid", p->uuid);
		json_str(&j, "kernel", p->kernel);
		json_str(&j, "started_at", p->started_at);
		json_dbl(&j, "before", s->before);
		json_dbl(&j, "after", s->after);
		json_dbl(&j, "change_pct", s->change);
		json_str(&j, "direction", s->regression ? "regression" :
			 "improvement");
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	sb_addc(&sb, '\n');
	fputs(sb.buf, stdout);
	sb_free(&sb);
}

int cmd_history(int argc, char **argv)
{
	struct history_args a = { 0 };
	struct hist_query q = { 0 };
	struct cdm_db d;
	struct hist h = { 0 };
	int rc = CDM_EXIT_USAGE;

	sb_init(&a.sel);
	rc = parse_args(argc, argv, &a);
	if (rc || db_open(&d, a.db, DB_READ)) {
		rc = cli_parse_exit(rc);
		goto out;
	}
	rc = CDM_EXIT_USAGE;
	q.case_name = a.case_name;
	q.metric = a.metric;
	q.selector = a.sel.len ? a.sel.buf : NULL;
	q.limit = a.limit;
	if (cdm_history_check(&d, a.case_name, a.metric) ||
	    cdm_history_load(&d, &q, &h)) {
		db_close(&d);
		goto out;
	}
	if (!h.n) {
		cdm_err("history: no finished run has case '%s'%s%s",
			a.case_name, a.sel.len ? " and matches --tag " : "",
			a.sel.buf);
	} else {
		cdm_history_steps(&h, a.alpha, a.min_step / 100);
		if (!strcmp(a.format, "json"))
			print_json(&a, &h);
		else
			print_text(&a, &h);
		if (strcmp(a.format, "json"))
			ev_print_history(&d, a.case_name, a.metric, &h, stdout);
		rc = fflush(stdout) || ferror(stdout) ? CDM_EXIT_FAIL : 0;
	}
	cdm_history_free(&h);
	db_close(&d);
out:
	sb_free(&a.sel);
	free(a.case_name);
	return rc;
}
