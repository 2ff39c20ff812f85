// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench compare BASE CAND`: what got slower, faster or broke between
 * two runs (or two sets of runs), as an mmtests-style table or JSON, with
 * an exit status a CI job can gate on.
 */
#include <ctype.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "analysis/compare.h"

struct compare_args {
	const char *db;
	bool json;
	struct cmp_opts o;
};

static int add_ignore(struct cmp_opts *o, const char *key)
{
	const char *p;

	for (p = key; *p; p++)
		if (!isalnum((unsigned char)*p) && !strchr("_-.", *p))
			break;
	if (!*key || *p)
		return cdm_err("compare: --ignore %s: expected an option name, e.g. sleep",
			       key);
	o->ignore = xrealloc(o->ignore, (o->nignore + 1) * sizeof(char *));
	o->ignore[o->nignore++] = (char *)key;
	return 0;
}

static int parse_args(int argc, char **argv, struct compare_args *a)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "threshold", required_argument, NULL, 't' },
		{ "alpha", required_argument, NULL, 'a' },
		{ "output-format", required_argument, NULL, 'o' },
		{ "latest", no_argument, NULL, 'L' },
		{ "ignore", required_argument, NULL, 'i' },
		{ 0 }
	};
	int c;

	a->db = cli_default_db();
	cmp_opts_default(&a->o);
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 't':
			if (cdm_parse_number_arg("compare", "--threshold",
						 optarg, 0, 1000,
						 &a->o.threshold))
				return -1;
			break;
		case 'a':
			if (cdm_parse_number_arg("compare", "--alpha", optarg,
						 1e-12, 0.5, &a->o.alpha))
				return -1;
			break;
		case 'o':
			if (strcmp(optarg, "text") && strcmp(optarg, "json"))
				return cdm_err("compare: --output-format %s: expected text or json",
					       optarg);
			a->json = !strcmp(optarg, "json");
			break;
		case 'L':
			a->o.latest = true;
			break;
		case 'i':
			if (add_ignore(&a->o, optarg))
				return -1;
			break;
		default:
			return cli_usage_error("compare"), -1;
		}
	}
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
		const char *s = metric ? r->rows[i].metric :
			r->cases[r->rows[i].group].name;

		if (strlen(s) > w)
			w = strlen(s);
	}
	return w > 48 ? 48 : (int)w;
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
	printf("%-*.*s  %-*.*s  %-6.6s %-6s %11s %11s %7s %-17s %10s %8s %13s %6s  %s\n",
	       wc, wc, r->cases[row->group].name, wm, wm, row->metric,
	       row->unit, row->higher_better ? "higher" : "lower", b, c, ratio,
	       ci, gain, q, noise, rn, verdict[row->mark]);
	if (row->note)
		printf("%-*s  %s\n", wc, "", row->note);
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
		       c->broke ? "BROKE" : "", c->name, c->verdict[0],
		       c->verdict[1], *c->reason[1] ? ": " : "", c->reason[1]);
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
				       s ? "candidate" : "base", r->side[s].spec);
			printf("  %s (%s)\n", o->name, o->what);
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

static void print_text(const struct cmp_result *r)
{
	int wc = width(r, false), wm = width(r, true);
	size_t i;

	printf("base:       %s\n", r->side[0].label);
	printf("candidate:  %s\n", r->side[1].label);
	printf("%zu matched case%s, %zu metric%s; Mann-Whitney U, Benjamini-Hochberg at alpha %g; threshold %g%%\n\n",
	       r->ncases, r->ncases == 1 ? "" : "s", r->nrows,
	       r->nrows == 1 ? "" : "s", r->opts.alpha, r->opts.threshold);
	printf("%-*s  %-*s  %-6s %-6s %11s %11s %7s %-17s %10s %8s %13s %6s\n",
	       wc, "case", wm, "metric", "unit", "better", "base", "cand",
	       "ratio", "95% CI of ratio", "gain", "q", "noise b/c", "runs");
	for (i = 0; i < r->nrows; i++)
		print_row(r, &r->rows[i], wc, wm);
	print_changes(r);
	print_only(r);
	print_no_noise(r);
	printf("\n%d regression%s, %d improvement%s, %d case%s broke\n",
	       r->regressions, r->regressions == 1 ? "" : "s",
	       r->improvements, r->improvements == 1 ? "" : "s", r->broke,
	       r->broke == 1 ? "" : "s");
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
	if (row->note)
		json_str(j, "note", row->note);
	json_obj_close(j);
}

static void print_json(const struct cmp_result *r, int status)
{
	struct sbuf sb;
	struct json j;
	size_t i;

	sb_init(&sb);
	json_init(&j, &sb, true);
	json_obj_open(&j, NULL);
	json_side(&j, "base", &r->side[0]);
	json_side(&j, "candidate", &r->side[1]);
	json_dbl(&j, "alpha", r->opts.alpha);
	json_dbl(&j, "threshold_pct", r->opts.threshold);
	json_str(&j, "correction", "benjamini-hochberg");
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

	if (parse_args(argc, argv, &a)) {
		free(a.o.ignore);
		return CDM_EXIT_USAGE;
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
	if (a.json)
		print_json(&r, status);
	else
		print_text(&r);
	cdm_compare_free(&r);
	db_close(&d);
	free(a.o.ignore);
	if (fflush(stdout) || ferror(stdout))
		return CDM_EXIT_USAGE;
	return status;
}
