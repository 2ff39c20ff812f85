// SPDX-License-Identifier: GPL-2.0
/* `cdmbench nodes`: the slow and the failing nodes of a fleet database. */
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/nodes.h"
#include "cli/cli.h"
#include "core/opt.h"

struct nodes_args {
	const char *db;
	bool json;
	long limit;
	struct nodes_opts o;
};

/* names come from job files and hosts: no control bytes to the terminal */
static const char *tty_safe(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++)
		buf[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
	buf[i] = 0;
	return buf;
}

static int parse(int argc, char **argv, struct nodes_args *a)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "job", required_argument, NULL, 'j' },
		{ "slurm-job", required_argument, NULL, 'J' },
		{ "z", required_argument, NULL, 'z' },
		{ "min-change", required_argument, NULL, 'm' },
		{ "limit", required_argument, NULL, 'l' },
		{ "output-format", required_argument, NULL, 'o' },
		{ 0 }
	};
	double v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "o:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'j':
			a->o.job = optarg;
			break;
		case 'J':
			a->o.slurm_job = optarg;
			break;
		case 'z':
			if (cdm_parse_number_arg("nodes", "--z", optarg, 0.5, 1e6, &a->o.z))
				return -1;
			break;
		case 'm':
			if (cdm_parse_number_arg("nodes", "--min-change", optarg, 0, 1e6, &v))
				return -1;
			a->o.min_change = v / 100;
			break;
		case 'l':
			if (cdm_parse_number_arg("nodes", "--limit", optarg, 1, 1e9, &v))
				return -1;
			a->limit = (long)v;
			break;
		case 'o':
			if (!strcmp(optarg, "json"))
				a->json = true;
			else if (strcmp(optarg, "text"))
				return cdm_err("nodes: -o %s: expected text or json", optarg);
			break;
		default:
			return cdm_err("nodes: bad option (see 'cdmbench help nodes')");
		}
	}
	if (optind < argc)
		return cdm_err("nodes: unexpected argument '%s'", argv[optind]);
	return 0;
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

	sb_init(&sb);
	json_init(&j, &sb, true);
	json_obj_open(&j, NULL);
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
	if (parse(argc, argv, &a))
		return CDM_EXIT_USAGE;
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
