// SPDX-License-Identifier: GPL-2.0
/*
 * The report's node view, for a run that is one node of a fleet: a node x
 * metric heatmap of robust z-scores and, per metric, a strip of every
 * node's z. Legible at 10,000 nodes by construction: the heatmap shows
 * the worst nodes only (ranked by their largest z; the count of the rest
 * is said), and each strip bins all nodes into a histogram, drawing only
 * the outliers as labelled marks. Nothing grows with the node count but
 * the numbers in the labels.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/escape.h"

#define HEAT_ROWS 40
#define HEAT_COLS 60
#define STRIPS 12
#define ZMAX 10.0

int report_load_nodes(struct cdm_db *d, struct rrun *r)
{
	sqlite3_stmt *st;
	char *slurm = NULL, *job = NULL;
	int rc;

	if (sqlite3_table_column_metadata(d->db, NULL, "run_nodes", "node", NULL,
					  NULL, NULL, NULL, NULL) != SQLITE_OK)
		return 0;
	st = db_prepare(d, "SELECT n.slurm_job_id, r.job_name FROM run_nodes n JOIN runs r ON r.id = n.run_id WHERE n.run_id = ?");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, r->id);
	rc = db_step(d, st);
	if (rc == SQLITE_ROW) {
		slurm = xstrdup(col_text(st, 0));
		job = xstrdup(col_text(st, 1));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return rc < 0 ? -1 : 0;
	r->nodes = xcalloc(1, sizeof(*r->nodes));
	nodes_opts_default(&r->nodes_opts);
	/* the fleet is this Slurm job's runs, else this job's runs */
	if (*slurm)
		r->nodes_opts.slurm_job = r->nodes_slurm = slurm;
	else
		free(slurm);
	r->nodes_opts.job = r->nodes_job = job;
	if (nodes_analyze(d, &r->nodes_opts, r->nodes))
		return -1;
	if (r->nodes->nn < 2) {
		nodes_free(r->nodes);
		free(r->nodes);
		r->nodes = NULL;
	}
	return 0;
}

void report_free_nodes(struct rrun *r)
{
	if (r->nodes)
		nodes_free(r->nodes);
	free(r->nodes);
	free(r->nodes_slurm);
	free(r->nodes_job);
	r->nodes = NULL;
}

/* white at z <= 0 (as good as the fleet or better), red from 3.5 up */
static void heat_color(double z, char *buf, size_t len)
{
	double t;

	if (isnan(z)) {
		snprintf(buf, len, "#eeeeee");
		return;
	}
	t = z <= 0 ? 0 : z >= ZMAX ? 1 : z / ZMAX;
	snprintf(buf, len, "rgb(255,%d,%d)", (int)(255 - 200 * t),
		 (int)(255 - 230 * t));
}

static void metric_label(struct sbuf *sb, const struct nodes_metric *m)
{
	esc_html(sb, m->case_name);
	sb_adds(sb, ":");
	esc_html(sb, m->metric);
}

/* columns: metrics with outliers first, most outliers first */
static const struct nodes_result *col_ctx;

static int by_outliers(const void *a, const void *b)
{
	size_t ia = *(const size_t *)a, ib = *(const size_t *)b;
	size_t oa = col_ctx->m[ia].noutliers, ob = col_ctx->m[ib].noutliers;

	if (oa != ob)
		return oa < ob ? 1 : -1;
	return ia < ib ? -1 : 1;
}

static size_t *column_order(const struct nodes_result *n)
{
	size_t *idx = xmalloc((n->nm + 1) * sizeof(size_t)), i;

	for (i = 0; i < n->nm; i++)
		idx[i] = i;
	col_ctx = n;
	qsort(idx, n->nm, sizeof(size_t), by_outliers);
	col_ctx = NULL;
	return idx;
}

static void heatmap(const struct rrun *r, const size_t *cols, struct sbuf *sb)
{
	const struct nodes_result *n = r->nodes;
	size_t rows = n->nn < HEAT_ROWS ? n->nn : HEAT_ROWS;
	size_t nc = n->nm < HEAT_COLS ? n->nm : HEAT_COLS, i, k;
	int cw = 14, ch = 14, left = 120, top = 10;
	char col[32];

	sb_addf(sb, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%zu\" height=\"%zu\" role=\"img\" aria-label=\"node by metric heatmap\">\n",
		left + nc * cw + 10, top + rows * ch + 10);
	for (i = 0; i < rows; i++) {
		size_t node = n->worst[i];

		sb_addf(sb, "<text x=\"%d\" y=\"%zu\" font-size=\"11\" text-anchor=\"end\">",
			left - 4, top + i * ch + 11);
		esc_html_n(sb, n->node[node], 18);
		sb_adds(sb, "</text>\n");
		for (k = 0; k < nc; k++) {
			size_t m = cols[k];
			double z = n->z[node * n->nm + m];
			bool out = nodes_is_outlier(n, &r->nodes_opts, node, m);

			heat_color(z, col, sizeof(col));
			sb_addf(sb, "<rect x=\"%zu\" y=\"%zu\" width=\"%d\" height=\"%d\" fill=\"%s\"%s><title>",
				left + k * cw, top + i * ch, cw - 1, ch - 1, col,
				out ? " stroke=\"#000\" stroke-width=\"1.5\"" : "");
			esc_html(sb, n->node[node]);
			sb_adds(sb, " ");
			metric_label(sb, &n->m[m]);
			if (isnan(z))
				sb_adds(sb, ": no value");
			else
				sb_addf(sb, ": %.4g, fleet median %.4g, z %+.1f%s",
					n->value[node * n->nm + m], n->m[m].median,
					z, out ? " (outlier)" : "");
			sb_adds(sb, "</title></rect>\n");
		}
	}
	sb_adds(sb, "</svg><figcaption>");
	sb_addf(sb, "The %zu worst of %zu nodes (rows, by their largest z) against %zu of %zu case metrics (columns, most outliers first; hover for names and values). White: as good as the fleet median or better; red: worse, full red at z &ge; %.0f; outlined: outlier.",
		rows, n->nn, nc, n->nm, ZMAX);
	sb_adds(sb, "</figcaption></figure>\n");
}

/* every node as one count in a histogram of z; outliers as named ticks */
static void strip(const struct rrun *r, size_t m, struct sbuf *sb)
{
	const struct nodes_result *n = r->nodes;
	enum { BINS = 40, W = 520, H = 70, L = 10 };
	double cnt[BINS] = { 0 }, maxc = 1;
	size_t i, labels = 0;
	int b;

	for (i = 0; i < n->nn; i++) {
		double z = n->z[i * n->nm + m];

		if (isnan(z))
			continue;
		z = z < -ZMAX ? -ZMAX : z > ZMAX ? ZMAX : z;
		b = (int)((z + ZMAX) / (2 * ZMAX) * BINS);
		cnt[b >= BINS ? BINS - 1 : b]++;
	}
	for (b = 0; b < BINS; b++)
		if (cnt[b] > maxc)
			maxc = cnt[b];
	sb_adds(sb, "<figure><svg xmlns=\"http://www.w3.org/2000/svg\" width=\"540\" height=\"110\" role=\"img\">\n<text x=\"10\" y=\"12\" font-size=\"12\">");
	metric_label(sb, &n->m[m]);
	sb_addf(sb, " (%zu nodes, median %.4g ", n->m[m].nnodes, n->m[m].median);
	esc_html(sb, n->m[m].unit);
	sb_adds(sb, ")</text>\n");
	for (b = 0; b < BINS; b++) {
		double h = cnt[b] ? 2 + (H - 22) * log1p(cnt[b]) / log1p(maxc) : 0;

		if (!cnt[b])
			continue;
		sb_addf(sb, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#999\"><title>%.0f nodes with z in [%.1f, %.1f)</title></rect>\n",
			L + b * W / BINS, 20 + H - h, W / BINS - 1, h, cnt[b],
			-ZMAX + b * 2 * ZMAX / BINS, -ZMAX + (b + 1) * 2 * ZMAX / BINS);
	}
	sb_addf(sb, "<line x1=\"%d\" y1=\"20\" x2=\"%d\" y2=\"%d\" stroke=\"#000\" stroke-dasharray=\"2,2\"/>\n",
		L + W / 2, L + W / 2, 20 + H);
	sb_addf(sb, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%d\" stroke=\"#D55E00\"/>\n",
		L + (r->nodes->zbound + ZMAX) / (2 * ZMAX) * W,
		L + (r->nodes->zbound + ZMAX) / (2 * ZMAX) * W, 20 + H);
	for (i = 0; i < n->nn; i++) {
		size_t node = n->worst[i];
		double z = n->z[node * n->nm + m], x;

		if (!nodes_is_outlier(n, &r->nodes_opts, node, m))
			continue;
		x = L + ((z > ZMAX ? ZMAX : z) + ZMAX) / (2 * ZMAX) * W;
		sb_addf(sb, "<line x1=\"%.1f\" y1=\"20\" x2=\"%.1f\" y2=\"%d\" stroke=\"#D55E00\" stroke-width=\"2\"><title>",
			x, x, 20 + H);
		esc_html(sb, n->node[node]);
		sb_addf(sb, ": z %+.1f</title></line>\n", z);
		if (labels++ < 4) {
			sb_addf(sb, "<text x=\"%.1f\" y=\"%zu\" font-size=\"10\" text-anchor=\"end\" fill=\"#D55E00\">",
				x - 3, 30 + (labels - 1) * 11);
			esc_html_n(sb, n->node[node], 18);
			sb_adds(sb, "</text>\n");
		}
	}
	sb_addf(sb, "<text x=\"%d\" y=\"105\" font-size=\"10\">z -%.0f</text><text x=\"%d\" y=\"105\" font-size=\"10\" text-anchor=\"middle\">0 (fleet median)</text><text x=\"%d\" y=\"105\" font-size=\"10\" text-anchor=\"end\">+%.0f worse</text>\n",
		L, ZMAX, L + W / 2, L + W, ZMAX);
	sb_adds(sb, "</svg></figure>\n");
}

void report_html_nodes(const struct rrun *r, struct sbuf *sb)
{
	const struct nodes_result *n = r->nodes;
	size_t *cols, i, shown = 0;

	if (!n)
		return;
	sb_addf(sb, "<h2 id=\"nodes\">Nodes</h2>\n<p>This run is one of %zu nodes of ",
		n->nn);
	if (r->nodes_slurm) {
		sb_adds(sb, "Slurm job ");
		esc_html(sb, r->nodes_slurm);
	} else {
		sb_adds(sb, "job ");
		esc_html(sb, r->nodes_job);
	}
	sb_addf(sb, ". Robust z-score per case and metric: 0.6745 (x &minus; median) / MAD across nodes, positive = worse. <b>%zu outlier node%s</b> (z &gt; %.1f and &ge; %.0f%% from the median), <b>%zu failing node%s</b>; 'cdmbench nodes' lists them.</p>\n",
		n->noutlier_nodes, n->noutlier_nodes == 1 ? "" : "s",
		n->zbound, r->nodes_opts.min_change * 100,
		n->nfailing_nodes, n->nfailing_nodes == 1 ? "" : "s");
	cols = column_order(n);
	heatmap(r, cols, sb);
	sb_adds(sb, "<div class=\"charts\">\n");
	for (i = 0; i < n->nm && i < STRIPS; i++)
		strip(r, cols[i], sb);
	sb_adds(sb, "</div>\n");
	if (n->nm > STRIPS)
		sb_addf(sb, "<p class=\"muted\">Strips for the %d metrics with the most outliers; %zu more.</p>\n",
			STRIPS, n->nm - STRIPS);
	if (n->nf) {
		sb_adds(sb, "<table><tr><th>node</th><th>failure</th></tr>\n");
		for (i = 0; i < n->nf && shown < 100; i++, shown++) {
			sb_adds(sb, "<tr><td>");
			esc_html(sb, n->node[n->f[i].node]);
			sb_adds(sb, "</td><td class=\"wrap\">");
			esc_html_n(sb, n->f[i].what, 500);
			sb_adds(sb, "</td></tr>\n");
		}
		sb_adds(sb, "</table>\n");
		if (n->nf > shown)
			sb_addf(sb, "<p class=\"muted\">%zu more failures.</p>\n",
				n->nf - shown);
	}
	free(cols);
}
