// SPDX-License-Identifier: GPL-2.0
/* `cdmbench nodes`: the slow and the failing nodes of a fleet database. */
#include <stddef.h>
#include <unistd.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/nodes.h"
#include "cli/cli.h"
#include "core/opt.h"

struct nodes_args {
	const char *db;
	const char *format;
	bool json;
	long limit;
	double min_change_pct;
	struct nodes_opts o;
};

#define NA(f) offsetof(struct nodes_args, f)

static const struct cli_opt nodes_opts[] = {
	{ .name = "z", .kind = CLI_NUM, .off = NA(o.z), .arg = "Z",
	  .help = "outlier bound (default: 3.5, raised with the\nnumber of node-metrics so that noise alone\nflags one with 1% probability: 5.6 at\n10,000 nodes x 100 metrics)",
	  .min = 0.5, .max = 1e6 },
	{ .name = "min-change", .kind = CLI_NUM, .off = NA(min_change_pct),
	  .arg = "PCT", .help = "smallest difference that counts (default 5)",
	  .max = 1e6 },
	{ .name = "job", .kind = CLI_STR, .off = NA(o.job), .arg = "NAME",
	  .help = "only runs of this job" },
	{ .name = "slurm-job", .kind = CLI_STR, .off = NA(o.slurm_job),
	  .arg = "ID", .help = "only runs of this Slurm job" },
	{ .name = "limit", .kind = CLI_COUNT, .off = NA(limit), .arg = "N",
	  .help = "list at most N outliers (text)" },
	CLI_OPT_FORMAT(struct nodes_args, format),
	CLI_OPT_DB(struct nodes_args, db),
	CLI_OPT_END
};

const struct cli_spec cli_nodes_spec = {
	.cmd = "nodes",
	.usage = "usage: cdmbench nodes [OPTIONS]\n",
	.about =
	"For every case and metric of the runs that carry a node identity (a\n"
	"merged 'cdmbench cluster run', or runs under Slurm), compares each\n"
	"node's median with the fleet: a robust z-score, 0.6745 (x - median) /\n"
	"MAD across nodes (the mean absolute deviation where the MAD is 0), on\n"
	"the logarithms where all values are positive (metrics vary by factors),\n"
	"signed so that positive is worse for the metric. An outlier has z above\n"
	"the bound and differs from the fleet median by at least --min-change; a\n"
	"node faster than the fleet is not one. A failing node has a case that\n"
	"did not pass or skip, a failed expectation, or a run that did not\n"
	"complete (interrupted, crashed, timed out). Needs 3 nodes per metric.\n"
	"'cdmbench report' of such a run adds the node x metric view.\n",
	.opts = nodes_opts,
	.more = "Exit status: 0 no outlier and no failing node; 1 any; 2 bad input.\n",
};

static int parse(int argc, char **argv, struct nodes_args *a)
{
	int r;

	a->format = "text";
	a->min_change_pct = a->o.min_change * 100;
	r = cli_parse(&cli_nodes_spec, argc, argv, a);
	if (r)
		return r;
	a->o.min_change = a->min_change_pct / 100;
	a->json = !strcmp(a->format, "json");
	if (optind < argc)
		return cdm_err("nodes: unexpected argument '%s'", argv[optind]);
	return 0;
}

/* names come from job files and hosts: no control bytes to the terminal */
static const char *tty_safe(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = 0;
	return buf;
}

static void print_text(const struct nodes_result *r, const struct nodes_args *a)
{
	char b1[256], b2[256], b3[128];
	long shown = 0;
	size_t i, k, n;

	printf("%zu node%s, %zu case metric%s; outlier: robust z > %.2f%s and >= %.0f%% from the fleet median, on the worse side\n",
	       r->nn, r->nn == 1 ? "" : "s", r->nm, r->nm == 1 ? "" : "s",
	       r->zbound, a->o.z > 0 ? "" : " (auto: 1% false alarms over all node-metrics)",
	       a->o.min_change * 100);
	printf("\noutliers (worst nodes first):\n");
	for (n = 0; n < r->nn; n++) {
		i = r->worst[n];
		for (k = 0; k < r->nm; k++) {
			const struct nodes_metric *m = &r->m[k];

			if (!nodes_is_outlier(r, &a->o, i, k))
				continue;
			if (a->limit && shown >= a->limit) {
				shown++;
				continue;
			}
			shown++;
			printf("  %-12s %s:%s  %.4g %s vs median %.4g (z %+.1f, %+.0f%%)\n",
			       tty_safe(r->node[i], b1, sizeof(b1)),
			       tty_safe(m->case_name, b2, sizeof(b2)),
			       tty_safe(m->metric, b3, sizeof(b3)),
			       r->value[i * r->nm + k], m->unit, m->median,
			       r->z[i * r->nm + k],
			       100 * (r->value[i * r->nm + k] - m->median) / m->median);
		}
	}
	if (a->limit && shown > a->limit)
		printf("  ... %ld more (--limit)\n", shown - a->limit);
	if (!shown)
		printf("  none\n");
	printf("\nfailing nodes:\n");
	for (i = 0; i < r->nf; i++)
		printf("  %-12s %s\n", tty_safe(r->node[r->f[i].node], b1, sizeof(b1)),
		       tty_safe(r->f[i].what, b2, sizeof(b2)));
	if (!r->nf)
		printf("  none\n");
	printf("\n%zu outlier node%s, %zu failing node%s of %zu (analysed in %.2f s)\n",
	       r->noutlier_nodes, r->noutlier_nodes == 1 ? "" : "s",
	       r->nfailing_nodes, r->nfailing_nodes == 1 ? "" : "s", r->nn,
	       r->seconds);
}

static void print_json(const struct nodes_result *r, const struct nodes_args *a)
{
	struct sbuf sb;
	struct json j;
	size_t i, k;

	json_doc(&j, &sb);
	json_int(&j, "nodes", r->nn);
	json_int(&j, "metrics", r->nm);
	json_dbl(&j, "z", r->zbound);
	json_dbl(&j, "min_change", a->o.min_change);
	json_arr_open(&j, "outliers");
	for (i = 0; i < r->nn; i++) {
		for (k = 0; k < r->nm; k++) {
			if (!nodes_is_outlier(r, &a->o, i, k))
				continue;
			json_obj_open(&j, NULL);
			json_str(&j, "node", r->node[i]);
			json_str(&j, "case", r->m[k].case_name);
			json_str(&j, "metric", r->m[k].metric);
			json_str(&j, "unit", r->m[k].unit);
			json_dbl(&j, "value", r->value[i * r->nm + k]);
			json_dbl(&j, "median", r->m[k].median);
			json_dbl(&j, "mad", r->m[k].mad);
			json_dbl(&j, "z", r->z[i * r->nm + k]);
			json_obj_close(&j);
		}
	}
	json_arr_close(&j);
	json_arr_open(&j, "failures");
	for (i = 0; i < r->nf; i++) {
		json_obj_open(&j, NULL);
		json_str(&j, "node", r->node[r->f[i].node]);
		json_str(&j, "what", r->f[i].what);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_int(&j, "outlier_nodes", r->noutlier_nodes);
	json_int(&j, "failing_nodes", r->nfailing_nodes);
	json_obj_close(&j);
	fputs(sb.buf, stdout);
	fputc('\n', stdout);
	sb_free(&sb);
}

int cmd_nodes(int argc, char **argv)
{
	struct nodes_args a = { .db = cli_default_db() };
	struct nodes_result r;
	struct cdm_db d;
	int rc;

	nodes_opts_default(&a.o);
	rc = parse(argc, argv, &a);
	if (rc)
		return cli_parse_exit(rc);
	if (db_open(&d, a.db, DB_READ))
		return CDM_EXIT_USAGE;
	if (nodes_analyze(&d, &a.o, &r)) {
		db_close(&d);
		return CDM_EXIT_USAGE;
	}
	db_close(&d);
	if (!r.nn) {
		nodes_free(&r);
		cdm_err("nodes: %s: no run has a node identity (runs under Slurm, or merged with 'cdmbench merge')",
			a.db);
		return CDM_EXIT_USAGE;
	}
	if (a.json)
		print_json(&r, &a);
	else
		print_text(&r, &a);
	rc = r.noutlier_nodes || r.nfailing_nodes ? CDM_EXIT_FAIL : CDM_EXIT_OK;
	nodes_free(&r);
	return rc;
}
