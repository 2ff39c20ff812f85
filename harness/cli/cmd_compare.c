// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench compare BASE CAND`: what got slower, faster or broke between
 * two runs (or two sets of runs), as an mmtests-style table or JSON, with
 * an exit status a CI job can gate on.
 */
#include <ctype.h>
#include <stddef.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/escape.h"
#include "core/opt.h"
#include "analysis/compare.h"
#include "stats/drift.h"
#include "analysis/events.h"

struct compare_args {
	const char *db;
	const char *format;
	bool all;		/* list unchanged measurements in full */
	struct cmp_opts o;
};

static int add_ignore(void *args, const char *key, const char *cmd)
{
	struct cmp_opts *o = &((struct compare_args *)args)->o;
	const char *p;

	for (p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			break;
	if (!*key || *p)
		return cdm_err("%s: --ignore %s: expected an option name, e.g. sleep",
			       cmd, key);
	o->ignore = xrealloc(o->ignore, (o->nignore + 1) * sizeof(char *));
	o->ignore[o->nignore++] = (char *)key;
	return 0;
}

#define CA(f) offsetof(struct compare_args, f)

const struct cli_spec cli_compare_spec = {
	.cmd = "compare",
	.usage = "usage: cdmbench compare [OPTIONS] BASE CAND\n",
	.about =
	"Matches the cases of BASE and CAND by workload, parameters, backend and\n"
	"device type (not by position) and compares every metric both have:\n"
	"the two medians, their ratio with a 95% bootstrap confidence interval,\n"
	"a Mann-Whitney U test, and each side's noise (MAD / median). Cases and\n"
	"metrics only one side has are listed.\n"
	"\n"
	"BASE and CAND are each a run id, 'last', a uuid prefix, or a selector\n"
	"KEY=VALUE[,KEY=VALUE...] over completed runs: kernel= (release), host=,\n"
	"env=, job= or any run tag (run --tag); values may be globs\n"
	"(kernel=6.1.*). When a selector matches several runs, their samples\n"
	"are pooled per case (the header lists the runs); --latest takes only\n"
	"the newest. A run still in progress is refused.\n",
	.opts = (const struct cli_opt[]) {
		{ .name = "threshold", .kind = CLI_NUM, .off = CA(o.threshold),
		  .arg = "PCT",
		  .help = "smallest change that counts (default 5)",
		  .max = 1000 },
		{ .name = "alpha", .kind = CLI_NUM, .off = CA(o.alpha), .arg = "A",
		  .help = "false discovery rate (default 0.05)",
		  .min = 1e-12, .max = 0.5 },
		{ .name = "latest", .kind = CLI_FLAG, .off = CA(o.latest),
		  .help = "a selector takes its newest run, no pooling" },
		{ .name = "ignore", .kind = CLI_CALL, .arg = "KEY",
		  .help = "leave option KEY out of the case identity, to\ncompare cases differing in it (repeatable)",
		  .call = add_ignore },
		{ .name = "all", .kind = CLI_FLAG, .off = CA(all),
		  .help = "list unchanged measurements in full too" },
		{ .name = "raw", .kind = CLI_FLAG, .off = CA(o.raw),
		  .help = "never normalize by the in-run control" },
		{ .name = "no-moderation", .kind = CLI_FLAG,
		  .off = CA(o.no_moderation),
		  .help = "test each measurement on its own runs' spread\nalone, not moderated across measurements" },
		CLI_OPT_FORMAT(struct compare_args, format),
		CLI_OPT_DB(struct compare_args, db),
		CLI_OPT_END
	},
	.more =
	"Drift: a run's conditions move everything in it together, so each\n"
	"device case times controls beside its kernel operation: a refault (the\n"
	"region given back with MADV_DONTNEED and faulted in again: kernel paths\n"
	"a migration or fault shares) and a memcpy; migrate's are of its own\n"
	"buffer (refault_bw, memcpy_bw), other cases get fixed ones the harness\n"
	"interleaves (calib_refault_bw, calib_bw). The refault is the control\n"
	"where both sides have it (kernel code drifts with the host more than a\n"
	"copy does), else the memcpy; controls themselves are compared raw.\n"
	"With 2 runs a side or more, the change is tested on per-run\n"
	"medians (a t test, runs being the replicates), normalized by the\n"
	"control when the control moved beyond its own noise or shares the\n"
	"metric's noise iteration by iteration. A run's normalized value is the\n"
	"median over iterations of metric / control, each pair timed side by\n"
	"side, so a neighbour that slows part of a run cancels. The metric need\n"
	"not move one for one with its control (under a slow TCG host, to_sys\n"
	"moved 1.5x while memcpy moved 1.25x): its slope on the control is\n"
	"fitted over run medians inside each kernel, command line, environment\n"
	"and host (the sides and other runs of the case in the database, never\n"
	"the difference between the sides), and the normalized value is\n"
	"metric / control^slope. With few runs it stays 1 unless it clearly\n"
	"differs. Other runs of one kernel, command line, environment and host\n"
	"also lend their spread of normalized values to the test; a run 8\n"
	"robust SDs from its set (or its side's median) is left out as a gross\n"
	"outlier, and the line under the change says so. The 'used' column\n"
	"and the line under each change say which, with the raw change and the\n"
	"smallest change the runs could detect ('3 runs a side: +/-4.1%').\n"
	"With a few runs a side and no other runs of the configuration, each\n"
	"measurement's between-run spread rests on 3-4 degrees of freedom; the\n"
	"spreads of all measurements of the comparison (8 or more) then give a\n"
	"prior (empirical Bayes, as limma does for microarrays): its degrees of\n"
	"freedom, estimated from how much the spreads differ beyond sampling,\n"
	"join each test's, and a spread below it is raised towards it (one\n"
	"above it is kept: that measurement may be noisier in truth). The\n"
	"header says when it applied; --no-moderation turns it off.\n"
	"Metrics that are one measurement in other units (to_sys_bw,\n"
	"to_sys_page, to_sys_op) are tested once. The table leads with what\n"
	"changed, largest first; unchanged measurements are folded to a line.\n"
	"\n"
	"Samples of one run share its conditions (placement, page sizes,\n"
	"neighbours), so a change must also beat the spread between runs of one\n"
	"configuration in the database: each side's runs, and other runs of\n"
	"the case with the same kernel, command line, environment, host and\n"
	"tags (a t test on run medians, from 3 such runs); one run against one,\n"
	"it must also exceed 95% of the differences seen between two such runs\n"
	"(from 5). Run each side a few times for verdicts you can trust.\n"
	"\n"
	"The p-values of all measurements are adjusted together (Benjamini-\n"
	"Hochberg), so the share of false alarms stays at alpha however many\n"
	"measurements a job has. A regression is a change that is significant (q < alpha) and worse\n"
	"than the threshold in the metric's direction (lower or higher is\n"
	"better); the text table *flanks* significant gains, as mmtests does.\n"
	"The verdict line counts the unchanged measurements whose smallest\n"
	"detectable change is above the threshold (or unknown): \"0 regressions\"\n"
	"says nothing about those; add runs a side (six on a fresh database of\n"
	"the emulated node) until it no longer counts any you care about.\n"
	"\n"
	"Exit status: 0 no regression; 1 a significant regression beyond the\n"
	"threshold, or a case that passed in BASE fails in CAND; 2 bad input\n"
	"(unknown run, run in progress, no cases, no case in common).\n",
};

static int parse_args(int argc, char **argv, struct compare_args *a)
{
	int r;

	a->db = cli_default_db();
	a->format = "text";
	cmp_opts_default(&a->o);
	r = cli_parse(&cli_compare_spec, argc, argv, a);
	if (r)
		return r;
	if (argc - optind != 2)
		return cdm_err("compare: expected BASE and CAND (run ids, 'last', uuid prefixes or selectors like kernel=6.1.192), got %d argument%s",
			       argc - optind, argc - optind == 1 ? "" : "s");
	return 0;
}

/* --- text --- */

static void fmt_num(char *buf, size_t len, double v)
{
	if (isnan(v))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.5g", v);
}

static void fmt_gain(char *buf, size_t len, const struct cmp_row *r)
{
	bool sig = r->mark != CMP_SAME;

	if (isnan(r->gain))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%s%+.2f%%%s", sig ? "*" : " ", r->gain,
			 sig ? "*" : " ");
}

static void fmt_q(char *buf, size_t len, double q)
{
	if (isnan(q))
		snprintf(buf, len, "-");
	else if (q < 1e-4)
		snprintf(buf, len, "<0.0001");
	else
		snprintf(buf, len, "%.4f", q);
}

static void fmt_noise(char *buf, size_t len, const struct cmp_row *r)
{
	char a[16], b[16];

	snprintf(a, sizeof(a), isnan(r->s[0].noise) ? "-" : "%.1f%%",
		 r->s[0].noise);
	snprintf(b, sizeof(b), isnan(r->s[1].noise) ? "-" : "%.1f%%",
		 r->s[1].noise);
	snprintf(buf, len, "%s/%s", a, b);
}

static int width(const struct cmp_result *r, bool metric)
{
	size_t i, w = metric ? 6 : 4;

	for (i = 0; i < r->nrows; i++) {
		/* as printed: escaped for the terminal */
		const char *s = tesc(metric ? r->rows[i].metric :
				     r->cases[r->rows[i].group].name);

		if (strlen(s) > w)
			w = strlen(s);
	}
	return w > 48 ? 48 : (int)w;
}

/* "3 runs a side: +/-4.1%" */
static void fmt_mde(char *buf, size_t len, const struct cmp_row *row)
{
	char runs[40], v[32];

	if (row->runs[0] == row->runs[1])
		snprintf(runs, sizeof(runs), "%d run%s a side", row->runs[0],
			 row->runs[0] == 1 ? "" : "s");
	else
		snprintf(runs, sizeof(runs), "%d + %d runs", row->runs[0],
			 row->runs[1]);
	snprintf(v, sizeof(v), isnan(row->mde) ? "unknown (too few runs)" :
		 "+/-%.1f%%", row->mde);
	snprintf(buf, len, "%s: %s", runs, v);
}

/* " to the power 1.52 (...)" and the runs left out, or "" */
static const char *slope_txt(const struct cmp_row *row)
{
	static char buf[256];
	int o = 0;

	buf[0] = 0;
	if (row->ctrl_slope != 1 && !isnan(row->ctrl_slope))
		o = snprintf(buf, sizeof(buf), " to the power %.2f (the slope of run medians on it, %d degrees of freedom)",
			     row->ctrl_slope, row->slope_df);
	if (row->outliers + row->other_outliers && o >= 0 &&
	    o < (int)sizeof(buf))
		snprintf(buf + o, sizeof(buf) - o, ", %d compared and %d other runs left out as gross outliers (beyond %g robust SDs)",
			 row->outliers, row->other_outliers, DRIFT_OUTLIER_SD);
	return buf;
}

/* what decided the row: raw or normalized, why, and what it can see */
static void print_basis(const struct cmp_row *row, int wc)
{
	char mde[96];

	if (row->aliases)
		printf("%-*s  same measurement: %s\n", wc, "", tesc(row->aliases));
	fmt_mde(mde, sizeof(mde), row);
	if (row->control && row->normalized)
		printf("%-*s  normalized by %s%s (%s: it changed %+.1f%%, runs spread %.1f%%); raw %+.2f%%; smallest detectable change, %s\n",
		       wc, "", tesc(row->control), slope_txt(row), row->basis_why,
		       row->ctrl_change, row->ctrl_spread, row->raw_gain, mde);
	else if (row->control)
		printf("%-*s  raw (control %s: %s); smallest detectable change, %s\n",
		       wc, "", tesc(row->control), row->basis_why, mde);
	else
		printf("%-*s  raw (%s); smallest detectable change, %s\n", wc,
		       "", row->basis_why, mde);
	if (row->ctrl_passed)
		printf("%-*s  not measured against %s: it changed between the sides in units of %s, so the kernel may have changed it too\n",
		       wc, "", tesc(row->ctrl_passed), tesc(row->control));
}

static void print_row(const struct cmp_result *r, const struct cmp_row *row,
		      int wc, int wm)
{
	static const char *const verdict[] = {
		[CMP_SAME] = "", [CMP_BETTER] = "", [CMP_WORSE] = "",
		[CMP_IMPROVEMENT] = "improvement",
		[CMP_REGRESSION] = "REGRESSION",
	};
	char b[32], c[32], ratio[16], ci[40], gain[24], q[16], noise[40];
	char rn[16];

	fmt_num(b, sizeof(b), row->s[0].median);
	fmt_num(c, sizeof(c), row->s[1].median);
	snprintf(ratio, sizeof(ratio), isnan(row->ratio) ? "-" : "%.3f",
		 row->ratio);
	if (isnan(row->lo))
		snprintf(ci, sizeof(ci), "-");
	else
		snprintf(ci, sizeof(ci), "[%.3f, %.3f]", row->lo, row->hi);
	fmt_gain(gain, sizeof(gain), row);
	fmt_q(q, sizeof(q), row->q);
	fmt_noise(noise, sizeof(noise), row);
	snprintf(rn, sizeof(rn), isnan(row->run_noise) ? "-" : "%.1f%%",
		 100 * expm1(row->run_noise));
	printf("%-*.*s  %-*.*s  %-6.6s %-6s %11s %11s %7s %-17s %10s %8s %13s %6s %-4s %s\n",
	       wc, wc, tesc(r->cases[row->group].name), wm, wm,
	       tesc(row->metric), tesc(row->unit), row->higher_better ? "higher" : "lower", b, c, ratio,
	       ci, gain, q, noise, rn, row->normalized ? "norm" : "raw",
	       verdict[row->mark]);
	if (row->note)
		printf("%-*s  %s\n", wc, "", tesc(row->note));
	print_basis(row, wc);
	if (row->s[0].nonfinite || row->s[1].nonfinite)
		printf("%-*s  left out: %zu NaN or infinite sample%s in the base, %zu in the candidate\n",
		       wc, "", row->s[0].nonfinite,
		       row->s[0].nonfinite == 1 ? "" : "s", row->s[1].nonfinite);
}

static void print_changes(const struct cmp_result *r)
{
	size_t i;
	int n = 0;

	for (i = 0; i < r->ncases; i++) {
		const struct cmp_case *c = &r->cases[i];

		if (!strcmp(c->verdict[0], c->verdict[1]))
			continue;
		if (!n++)
			printf("\nverdict changes:\n");
		printf("  %-7s %s: %s -> %s%s%s\n",
		       c->broke ? "BROKE" : "", tesc(c->name), c->verdict[0],
		       c->verdict[1], *c->reason[1] ? ": " : "",
		       tesc(c->reason[1]));
	}
}

static void print_only(const struct cmp_result *r)
{
	size_t i;
	int s;

	for (s = 0; s < 2; s++) {
		int n = 0;

		for (i = 0; i < r->nonly; i++) {
			const struct cmp_only *o = &r->only[i];

			if (o->side != s)
				continue;
			if (!n++)
				printf("\nonly in the %s (%s):\n",
				       s ? "candidate" : "base",
				       tesc(r->side[s].spec));
			printf("  %s (%s)\n", tesc(o->name), tesc(o->what));
		}
	}
}

/*
 * Without replicate runs only the samples' spread is known, and runs of
 * one configuration often differ by more than that: say so, loudly.
 */
static void print_no_noise(const struct cmp_result *r)
{
	size_t i, n = 0;

	for (i = 0; i < r->nrows; i++)
		n += !r->rows[i].noise_df && !isnan(r->rows[i].p_samples);
	if (!n)
		return;
	printf("\nnote: for %zu of %zu metrics the database holds fewer than 3 runs of one\n"
	       "configuration, so the spread between runs is unknown ('-' under runs) and\n"
	       "their significance reflects the spread within a run only. Runs often differ\n"
	       "by more: run each side 3 times or more (run --tag side=a; compare side=a side=b).\n",
	       n, r->nrows);
}

/* unchanged measurements, one line each: the change and what was visible */
static void print_folded(const struct cmp_result *r, const size_t *m,
			 size_t n, size_t from)
{
	char mde[96], gain[24];
	size_t i;

	if (from == n)
		return;
	printf("\nunchanged: %zu measurement%s (gain; the smallest change these runs could detect; --all shows them in full):\n",
	       n - from, n - from == 1 ? "" : "s");
	for (i = from; i < n; i++) {
		const struct cmp_row *row = &r->rows[m[i]];

		fmt_mde(mde, sizeof(mde), row);
		snprintf(gain, sizeof(gain), isnan(row->gain) ? "-" : "%+.1f%%",
			 row->gain);
		printf("  %s:%s  %s  %s%s%s", tesc(r->cases[row->group].name),
		       tesc(row->metric), gain, mde, row->note ? "; " : "",
		       row->note ? tesc(row->note) : "");
		if (row->s[0].nonfinite || row->s[1].nonfinite)
			printf("; left out: %zu NaN or infinite sample%s in the base, %zu in the candidate",
			       row->s[0].nonfinite,
			       row->s[0].nonfinite == 1 ? "" : "s",
			       row->s[1].nonfinite);
		printf("\n");
	}
}

static void print_text(const struct cmp_result *r, bool all)
{
	int wc = width(r, false), wm = width(r, true);
	size_t n, *m = cmp_sorted_measurements(r, &n), shown;
	char tally[256];

	printf("base:       %s\n", tesc(r->side[0].label));
	printf("candidate:  %s\n", tesc(r->side[1].label));
	printf("%zu matched case%s, %zu measurement%s (%zu metric%s); per-run t test (normalized by the in-run control where it drifted) and Mann-Whitney U, Benjamini-Hochberg over measurements at alpha %g; threshold %g%%\n",
	       r->ncases, r->ncases == 1 ? "" : "s", r->measurements,
	       r->measurements == 1 ? "" : "s", r->nrows,
	       r->nrows == 1 ? "" : "s", r->opts.alpha, r->opts.threshold);
	if (r->mod_n)
		printf("run-level spreads moderated across %zu measurements: prior spread %.1f%% between runs, worth %.1f runs' degrees of freedom\n",
		       r->mod_n, 100 * expm1(r->mod_s0), r->mod_d0);
	putchar('\n');
	printf("%-*s  %-*s  %-6s %-6s %11s %11s %7s %-17s %10s %8s %13s %6s %-4s\n",
	       wc, "case", wm, "metric", "unit", "better", "base", "cand",
	       "ratio", "95% CI of ratio", "gain", "q", "noise b/c", "runs",
	       "used");
	/* what changed first, largest first; the rest folded */
	for (shown = 0; shown < n; shown++) {
		if (!all && r->rows[m[shown]].mark == CMP_SAME)
			break;
		print_row(r, &r->rows[m[shown]], wc, wm);
	}
	if (!shown)
		printf("(no measurement changed)\n");
	print_folded(r, m, n, shown);
	free(m);
	print_changes(r);
	print_only(r);
	print_no_noise(r);
	printf("\n%s\n", cmp_tally(r, tally, sizeof(tally)));
	printf("base/cand: medians; gain: change in the better direction (negative is worse), *flanked* when\n"
	       "significant (q < alpha); REGRESSION/improvement: significant and beyond the threshold;\n"
	       "noise: MAD / median of each side's samples; runs: spread of the median between runs of one\n"
	       "configuration (each side's runs; other runs with the same kernel, cmdline, environment,\n"
	       "host and tags), which a change must beat too (t test), '-' when fewer than 3 such runs;\n"
	       "q: the larger p, Benjamini-Hochberg adjusted; CI: bootstrap, 2000 replicates, fixed seed.\n"
	       "One run against one: a regression must also exceed 95%% of the differences between two\n"
	       "other runs of one configuration (from 5 such runs on).\n");
}

/* --- JSON --- */

static void json_side(struct json *j, const char *key,
		      const struct cdm_runset *s)
{
	size_t i;

	json_obj_open(j, key);
	json_str(j, "spec", s->spec);
	json_str(j, "label", s->label);
	json_arr_open(j, "runs");
	for (i = 0; i < s->nruns; i++)
		json_int(j, NULL, s->runs[i]);
	json_arr_close(j);
	json_bool(j, "pooled", s->nruns > 1);
	json_obj_close(j);
}

static void json_stat(struct json *j, const char *key,
		      const struct cmp_stat *s)
{
	json_obj_open(j, key);
	json_int(j, "n", s->n);
	json_int(j, "nonfinite", s->nonfinite);
	json_dbl(j, "median", s->median);
	json_dbl(j, "noise_pct", s->noise);
	json_obj_close(j);
}

static void json_row(struct json *j, const struct cmp_result *r,
		     const struct cmp_row *row)
{
	const struct cmp_case *c = &r->cases[row->group];

	json_obj_open(j, NULL);
	json_str(j, "case", c->name);
	json_str(j, "workload", c->workload);
	json_str(j, "backend", c->backend);
	json_str(j, "device_type", c->device_type);
	json_str(j, "metric", row->metric);
	json_str(j, "unit", row->unit);
	json_str(j, "better", row->higher_better ? "higher" : "lower");
	json_stat(j, "base", &row->s[0]);
	json_stat(j, "candidate", &row->s[1]);
	json_dbl(j, "ratio", row->ratio);
	json_arr_open(j, "ratio_ci95");
	json_dbl(j, NULL, row->lo);
	json_dbl(j, NULL, row->hi);
	json_arr_close(j);
	json_dbl(j, "gain_pct", row->gain);
	json_dbl(j, "p_samples", row->p_samples);
	json_dbl(j, "run_noise_pct", 100 * expm1(row->run_noise));
	json_int(j, "run_noise_runs", row->noise_runs);
	json_int(j, "run_noise_df", row->noise_df);
	json_dbl(j, "aa_range_pct", 100 * expm1(row->aa_range));
	json_int(j, "aa_pairs", row->aa_pairs);
	json_dbl(j, "p_runs", row->p_runs);
	json_dbl(j, "p", row->p);
	json_dbl(j, "q", row->q);
	json_str(j, "test", row->exact ? "mann-whitney-u exact" :
		 "mann-whitney-u normal, tie-corrected");
	json_bool(j, "significant", row->mark != CMP_SAME);
	json_str(j, "change", cmp_mark_name(row->mark));
	json_str(j, "measurement", r->rows[row->measure].metric);
	if (row->aliases)
		json_str(j, "same_measurement", row->aliases);
	json_str(j, "basis", row->normalized ? "normalized" : "raw");
	json_bool(j, "moderated", row->moderated);
	json_str(j, "basis_reason", row->basis_why ? row->basis_why : "");
	if (row->control) {
		json_str(j, "control", row->control);
		if (row->ctrl_passed)
			json_str(j, "control_passed_over", row->ctrl_passed);
		json_dbl(j, "control_change_pct", row->ctrl_change);
		json_dbl(j, "control_run_spread_pct", row->ctrl_spread);
		json_dbl(j, "control_slope", row->ctrl_slope);
		json_int(j, "control_slope_df", row->slope_df);
		json_int(j, "outlier_runs", row->outliers);
		json_int(j, "other_outlier_runs", row->other_outliers);
	}
	json_dbl(j, "raw_ratio", row->raw_ratio);
	json_dbl(j, "raw_gain_pct", row->raw_gain);
	json_dbl(j, "detectable_change_pct", row->mde);
	json_arr_open(j, "runs");
	json_int(j, NULL, row->runs[0]);
	json_int(j, NULL, row->runs[1]);
	json_arr_close(j);
	if (row->note)
		json_str(j, "note", row->note);
	json_obj_close(j);
}

static void print_json(const struct cmp_result *r, int status)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	json_doc(&j, &sb);
	json_side(&j, "base", &r->side[0]);
	json_side(&j, "candidate", &r->side[1]);
	json_dbl(&j, "alpha", r->opts.alpha);
	json_dbl(&j, "threshold_pct", r->opts.threshold);
	json_str(&j, "correction", "benjamini-hochberg");
	json_int(&j, "measurements", r->measurements);
	json_obj_open(&j, "moderation");
	json_int(&j, "measurements", r->mod_n);
	json_dbl(&j, "prior_df", r->mod_d0);
	json_dbl(&j, "prior_spread_pct", r->mod_n ? 100 * expm1(r->mod_s0) : NAN);
	json_obj_close(&j);
	json_arr_open(&j, "metrics");
	for (i = 0; i < r->nrows; i++)
		json_row(&j, r, &r->rows[i]);
	json_arr_close(&j);
	json_arr_open(&j, "cases");
	for (i = 0; i < r->ncases; i++) {
		const struct cmp_case *c = &r->cases[i];

		json_obj_open(&j, NULL);
		json_str(&j, "case", c->name);
		json_str(&j, "params", c->params);
		json_str(&j, "base_verdict", c->verdict[0]);
		json_str(&j, "candidate_verdict", c->verdict[1]);
		json_str(&j, "candidate_reason", c->reason[1]);
		json_bool(&j, "broke", c->broke);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_arr_open(&j, "unmatched");
	for (i = 0; i < r->nonly; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "side", r->only[i].side ? "candidate" : "base");
		json_str(&j, "name", r->only[i].name);
		json_str(&j, "what", r->only[i].what);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_int(&j, "regressions", r->regressions);
	json_int(&j, "improvements", r->improvements);
	json_int(&j, "blind_measurements", r->blind);
	json_int(&j, "broke", r->broke);
	json_int(&j, "exit_status", status);
	json_obj_close(&j);
	sb_addc(&sb, '\n');
	fputs(sb.buf, stdout);
	sb_free(&sb);
}

int cmd_compare(int argc, char **argv)
{
	struct compare_args a = { 0 };
	struct cmp_result r;
	struct cdm_db d;
	int status;

	status = parse_args(argc, argv, &a);
	if (status) {
		free(a.o.ignore);
		return cli_parse_exit(status);
	}
	if (db_open(&d, a.db, DB_READ)) {
		free(a.o.ignore);
		return CDM_EXIT_USAGE;
	}
	if (cdm_compare(&d, argv[optind], argv[optind + 1], &a.o, &r)) {
		cdm_compare_free(&r);
		db_close(&d);
		free(a.o.ignore);
		return CDM_EXIT_USAGE;
	}
	status = r.regressions || r.broke ? CDM_EXIT_FAIL : CDM_EXIT_OK;
	if (!strcmp(a.format, "json"))
		print_json(&r, status);
	else
		print_text(&r, a.all);
	if (strcmp(a.format, "json"))
		ev_print_compare(&d, &r, stdout);
	cdm_compare_free(&r);
	db_close(&d);
	free(a.o.ignore);
	if (fflush(stdout) || ferror(stdout))
		return CDM_EXIT_USAGE;
	return status;
}
