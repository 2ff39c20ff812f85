// SPDX-License-Identifier: GPL-2.0
/*
 * Outlier nodes across a fleet (cdmbench nodes, and the report's node
 * view). Per case and metric every node contributes its median (the
 * median of its runs' medians if it ran the case more than once); the
 * fleet's median and MAD of those give each node a robust z-score,
 * 0.6745 (x - median) / MAD, the modified z of Iglewicz and Hoaglin, for
 * which 3.5 is the usual outlier bound. Where more than half of the nodes
 * agree exactly (MAD 0) the mean absolute deviation scales instead
 * (x - median) / (1.2533 MeanAD). The sign is turned so that positive is
 * worse (slower, lower bandwidth): a node faster than the fleet is not a
 * failing node. Where every node's value is positive the scores are taken
 * on the logarithms: times and bandwidths vary by factors, not by
 * amounts, so a node 10x slower is as far out as one 10x faster, and a
 * few noisy nodes at +30% do not hide it (with 4 nodes, the MAD on the
 * raw values is half made of the outlier itself). A z-score alone flags differences too small to matter on
 * very quiet metrics, so an outlier must also differ from the median by
 * min_change (5%).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/nodes.h"
#include "stats/stats.h"

void nodes_opts_default(struct nodes_opts *o)
{
	memset(o, 0, sizeof(*o));
	o->z = 0;		/* auto */
	o->min_change = 0.05;
	o->min_nodes = 3;
}

double nodes_robust_z(double x, double median, double mad, double meanad)
{
	if (mad > 0)
		return 0.6745 * (x - median) / mad;
	if (meanad > 0)
		return (x - median) / (1.253314 * meanad);
	return x == median ? 0 : (x > median ? INFINITY : -INFINITY);
}

static const char *const filter =
	" FROM run_nodes n JOIN runs r ON r.id = n.run_id"
	" WHERE (?1 IS NULL OR r.job_name = ?1) AND (?2 IS NULL OR n.slurm_job_id = ?2)";

static sqlite3_stmt *prep(struct cdm_db *d, const struct nodes_opts *o,
			  const char *head, const char *tail)
{
	char *sql = xasprintf("%s%s%s", head, filter, tail);
	sqlite3_stmt *st = db_prepare(d, sql);

	free(sql);
	if (st) {
		if (o->job)
			sqlite3_bind_text(st, 1, o->job, -1, SQLITE_STATIC);
		if (o->slurm_job)
			sqlite3_bind_text(st, 2, o->slurm_job, -1, SQLITE_STATIC);
	}
	return st;
}

static int load_nodes(struct cdm_db *d, const struct nodes_opts *o,
		      struct nodes_result *r)
{
	sqlite3_stmt *st = prep(d, o, "SELECT DISTINCT n.node", " ORDER BY n.node");
	int rc;

	if (!st)
		return -1;
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		r->node = xrealloc(r->node, (r->nn + 1) * sizeof(char *));
		r->node[r->nn++] = xstrdup(col_text(st, 0));
	}
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : -1;
}

static long find_node(const struct nodes_result *r, const char *name)
{
	size_t lo = 0, hi = r->nn;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = strcmp(r->node[mid], name);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static double median_of(double *v, size_t n)
{
	cdm_sort_doubles(v, n);
	return cdm_percentile_sorted(v, n, 50);
}

/* one case and metric: the node values are in val[node], NAN if absent */
static void score_metric(struct nodes_result *r, const struct nodes_opts *o,
			 size_t mi, double *val, double *scratch)
{
	struct nodes_metric *m = &r->m[mi];
	double meanad = 0, lmed = 0;
	size_t i, n = 0;

	for (i = 0; i < r->nn; i++)
		if (!isnan(val[i]))
			scratch[n++] = val[i];
	m->nnodes = n;
	m->median = m->mad = NAN;
	for (i = 0; i < r->nn; i++) {
		r->value[i * r->nm + mi] = val[i];
		r->z[i * r->nm + mi] = NAN;
	}
	if (!n)
		return;
	m->median = median_of(scratch, n);
	/* scratch is sorted: all positive if the smallest is */
	m->logscale = scratch[0] > 0;
	for (i = 0; m->logscale && i < n; i++)
		scratch[i] = log(scratch[i]);
	/* the logarithm keeps the order: the median of the logs */
	lmed = scratch[(n - 1) / 2] / 2 + scratch[n / 2] / 2;
	for (i = 0; i < n; i++) {
		scratch[i] = fabs(scratch[i] - lmed);
		meanad += scratch[i];
	}
	meanad /= n;
	m->mad = median_of(scratch, n);
	if ((int)n < o->min_nodes)
		return;
	for (i = 0; i < r->nn; i++) {
		double z;

		if (isnan(val[i]))
			continue;
		z = nodes_robust_z(m->logscale ? log(val[i]) : val[i], lmed,
				   m->mad, meanad);
		r->z[i * r->nm + mi] = m->higher ? -z : z;
		if (nodes_is_outlier(r, o, i, mi))
			m->noutliers++;
	}
}

/*
 * The bound for "auto": 3.5, raised so that pure noise (normal scores)
 * puts an outlier anywhere among all node-metric cells with probability
 * 1% at most (Bonferroni): at 10,000 nodes x 100 metrics a fixed 3.5
 * would flag some 2,000 healthy cells, and the command's exit status
 * would say nothing.
 */
static double auto_bound(size_t cells)
{
	double p = 0.01 / (cells ? cells : 1), lo = 0, hi = 40;
	int i;

	for (i = 0; i < 100; i++) {
		double mid = (lo + hi) / 2;

		if (0.5 * erfc(mid / M_SQRT2) > p)
			lo = mid;
		else
			hi = mid;
	}
	return lo > 3.5 ? lo : 3.5;
}

bool nodes_is_outlier(const struct nodes_result *r, const struct nodes_opts *o,
		      size_t node, size_t mi)
{
	double z = r->z[node * r->nm + mi];
	double x = r->value[node * r->nm + mi], med = r->m[mi].median;

	(void)o;
	if (isnan(z) || z <= r->zbound)
		return false;
	return med == 0 ? x != 0 : fabs(x - med) / fabs(med) >= o->min_change;
}

/*
 * Rows come sorted by case, metric and node: one pass fills a metric's
 * column, scores it and moves on, so memory is the matrix and one column.
 */
static int load_metrics(struct cdm_db *d, const struct nodes_opts *o,
			struct nodes_result *r)
{
	sqlite3_stmt *st;
	double *val = NULL, *scratch = NULL, *dup = NULL;
	size_t cap = 0, ndup = 0, dcap = 16, mi, i;
	long cur_node = -1;
	int rc;

	/* first the list of case:metric columns, to size the matrix */
	st = prep(d, o, "SELECT c.name, m.name, min(m.unit), min(m.better) FROM cases c JOIN metrics m ON m.case_id = c.id WHERE c.run_id IN (SELECT n.run_id",
		  ") GROUP BY c.name, m.name ORDER BY c.name, m.name");
	if (!st)
		return -1;
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		struct nodes_metric *m;

		if (r->nm == cap) {
			cap = cap ? 2 * cap : 64;
			r->m = xrealloc(r->m, cap * sizeof(*r->m));
		}
		m = &r->m[r->nm++];
		memset(m, 0, sizeof(*m));
		m->case_name = xstrdup(col_text(st, 0));
		m->metric = xstrdup(col_text(st, 1));
		m->unit = xstrdup(col_text(st, 2));
		m->higher = !strcmp(col_text(st, 3), "higher");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return -1;
	r->zbound = o->z > 0 ? o->z : auto_bound(r->nn * r->nm);
	r->z = xcalloc(r->nn * r->nm + 1, sizeof(double));
	r->value = xcalloc(r->nn * r->nm + 1, sizeof(double));
	val = xmalloc((r->nn + 1) * sizeof(double));
	scratch = xmalloc((r->nn + 1) * sizeof(double));
	dup = xmalloc(dcap * sizeof(double));
	st = prep(d, o, "SELECT c.name, m.name, s.median, x.node FROM cases c JOIN metrics m ON m.case_id = c.id JOIN summaries s ON s.metric_id = m.id JOIN (SELECT n.run_id, n.node",
		  ") x ON x.run_id = c.run_id WHERE s.median IS NOT NULL ORDER BY c.name, m.name, x.node");
	if (!st)
		goto fail;
	mi = 0;
	for (i = 0; i < r->nn; i++)
		val[i] = NAN;
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		const char *cn = col_text(st, 0), *mn = col_text(st, 1);
		long node;

		/* the columns are in the same order: advance to this one */
		while (mi < r->nm && (strcmp(r->m[mi].case_name, cn) ||
				      strcmp(r->m[mi].metric, mn))) {
			if (ndup)
				val[cur_node] = median_of(dup, ndup);
			ndup = 0;
			cur_node = -1;
			score_metric(r, o, mi++, val, scratch);
			for (i = 0; i < r->nn; i++)
				val[i] = NAN;
		}
		node = find_node(r, col_text(st, 3));
		if (mi >= r->nm || node < 0)
			continue;
		if (node != cur_node) {
			if (ndup)
				val[cur_node] = median_of(dup, ndup);
			ndup = 0;
			cur_node = node;
		}
		if (ndup == dcap) {
			dcap *= 2;
			dup = xrealloc(dup, dcap * sizeof(double));
		}
		dup[ndup++] = sqlite3_column_double(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		goto fail;
	for (; mi < r->nm; mi++) {
		if (ndup)
			val[cur_node] = median_of(dup, ndup);
		ndup = 0;
		score_metric(r, o, mi, val, scratch);
		for (i = 0; i < r->nn; i++)
			val[i] = NAN;
	}
	free(val);
	free(scratch);
	free(dup);
	return 0;
fail:
	free(val);
	free(scratch);
	free(dup);
	return -1;
}

static int load_failures(struct cdm_db *d, const struct nodes_opts *o,
			 struct nodes_result *r)
{
	sqlite3_stmt *st;
	bool *failing = xcalloc(r->nn + 1, sizeof(bool));
	int rc;

	st = prep(d, o,
		"SELECT x.node, w FROM (SELECT c.run_id, 'case ' || c.name || ': ' || c.verdict || CASE c.reason WHEN '' THEN '' ELSE ': ' || c.reason END AS w, c.seq AS k FROM cases c WHERE c.verdict NOT IN ('pass', 'skip')"
		" UNION ALL SELECT e.run_id, 'expectation ' || e.expectation || ' of ' || e.case_name || ' failed: ' || e.detail, e.case_seq FROM expectations e WHERE e.status = 'fail'"
		" UNION ALL SELECT r2.id, 'run ' || substr(r2.uuid, 1, 8) || ' ' || r2.status || CASE r2.status_reason WHEN '' THEN '' ELSE ': ' || r2.status_reason END, -1 FROM runs r2 WHERE r2.status <> 'completed'"
		") f JOIN (SELECT n.run_id, n.node",
		") x ON x.run_id = f.run_id ORDER BY x.node, f.run_id, f.k");
	if (!st) {
		free(failing);
		return -1;
	}
	while ((rc = db_step(d, st)) == SQLITE_ROW) {
		long node = find_node(r, col_text(st, 0));

		if (node < 0)
			continue;
		r->f = xrealloc(r->f, (r->nf + 1) * sizeof(*r->f));
		r->f[r->nf].node = node;
		r->f[r->nf++].what = xstrdup(col_text(st, 1));
		if (!failing[node])
			r->nfailing_nodes++;
		failing[node] = true;
	}
	sqlite3_finalize(st);
	free(failing);
	return rc == SQLITE_DONE ? 0 : -1;
}

static const struct nodes_result *sort_ctx;

static int by_worst(const void *a, const void *b)
{
	double za = sort_ctx->worst_z[*(const size_t *)a];
	double zb = sort_ctx->worst_z[*(const size_t *)b];

	if (za != zb)
		return za < zb ? 1 : -1;
	return *(const size_t *)a < *(const size_t *)b ? -1 : 1;
}

static void rank(struct nodes_result *r, const struct nodes_opts *o)
{
	size_t i, k;

	r->worst = xmalloc((r->nn + 1) * sizeof(size_t));
	r->worst_z = xmalloc((r->nn + 1) * sizeof(double));
	for (i = 0; i < r->nn; i++) {
		bool out = false;

		r->worst[i] = i;
		r->worst_z[i] = -INFINITY;
		for (k = 0; k < r->nm; k++) {
			double z = r->z[i * r->nm + k];

			if (!isnan(z) && z > r->worst_z[i])
				r->worst_z[i] = z;
			out |= nodes_is_outlier(r, o, i, k);
		}
		r->noutlier_nodes += out;
	}
	sort_ctx = r;
	qsort(r->worst, r->nn, sizeof(size_t), by_worst);
	sort_ctx = NULL;
}

int nodes_analyze(struct cdm_db *d, const struct nodes_opts *o,
		  struct nodes_result *r)
{
	uint64_t t0 = cdm_now_ns();

	memset(r, 0, sizeof(*r));
	if (sqlite3_table_column_metadata(d->db, NULL, "run_nodes", "node", NULL,
					  NULL, NULL, NULL, NULL) != SQLITE_OK)
		return cdm_err("%s: no node identity in this database (merge node databases with 'cdmbench merge' first)",
			       d->path);
	if (load_nodes(d, o, r) || load_metrics(d, o, r) ||
	    load_failures(d, o, r)) {
		nodes_free(r);
		return -1;
	}
	rank(r, o);
	r->seconds = (cdm_now_ns() - t0) / 1e9;
	return 0;
}

void nodes_free(struct nodes_result *r)
{
	size_t i;

	for (i = 0; i < r->nn; i++)
		free(r->node[i]);
	for (i = 0; i < r->nm; i++) {
		free(r->m[i].case_name);
		free(r->m[i].metric);
		free(r->m[i].unit);
	}
	for (i = 0; i < r->nf; i++)
		free(r->f[i].what);
	free(r->node);
	free(r->m);
	free(r->z);
	free(r->value);
	free(r->f);
	free(r->worst);
	free(r->worst_z);
	memset(r, 0, sizeof(*r));
}
