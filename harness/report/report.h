/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The run report: one self-contained HTML file (styles and SVG charts
 * inline, nothing fetched) or a Markdown summary. report.c gathers the
 * run from the database, report_html.c and report_md.c write it, and
 * report_svg.c draws the charts.
 */
#ifndef CDM_REPORT_H
#define CDM_REPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "analysis/compare.h"
#include "store/db.h"
#include "store/accept.h"
#include "analysis/history.h"
#include "analysis/nodes.h"
#include "core/result.h"

/* --- charts (report_svg.c) --- */

struct svg_series {
	const char *label;
	const char *color;	/* NULL: from the palette by index */
	const double *x;
	const double *y;
	size_t n;
};

struct svg_axis {
	const char *label;	/* with the unit: "median copy_bw (GB/s)" */
	bool log2;		/* sizes: ticks at powers of two */
	bool sizes;		/* tick labels as 4K, 2M, 1G */
	bool zero;		/* the range includes 0 */
	const char *const *names;	/* categorical ticks at x = 0, 1, ... */
	size_t nnames;
};

void svg_line_chart(struct sbuf *sb, const char *title,
		    const struct svg_axis *x, const struct svg_axis *y,
		    const struct svg_series *s, size_t ns, double mark_x);
void svg_bar_chart(struct sbuf *sb, const char *title, const char *ylabel,
		   const char *const *groups, size_t ng,
		   const struct svg_series *s, size_t ns);
void svg_histogram(struct sbuf *sb, const char *title, const char *xlabel,
		   const double *counts, size_t nbins, double lo, double hi,
		   double overflow, double median, double p99);
const char *svg_color(size_t i);
const char *svg_device_color(const char *device_type, size_t i);
/* 12.3k, 4.56M: tick labels that stay short */
void fmt_short(char *buf, size_t len, double v);

/* --- the run, as the writers see it --- */

struct rmetric {
	int64_t id;
	char *name;
	char *unit;
	bool higher;
	struct cdm_summary s;
	double *hist;		/* bin counts, NULL if too few samples */
	size_t nbins;
	double hlo, hhi;	/* histogram range: min .. p99 */
	double overflow;	/* samples above hhi */
	struct hist trend;	/* earlier runs of this case, if any */
};

struct rcase {
	int64_t id;
	int seq;
	char *name;
	char *workload;
	char *backend;
	char *device_type;
	char *params;
	char *match_key;
	char *verdict;
	char *reason;
	char *log;
	double seconds;
	struct cdm_kvlist param;	/* params, parsed */
	struct cdm_kvlist info;		/* facts, expectations included */
	struct rmetric *m;
	size_t nm;
};

struct rkevent {
	char *cls;
	double ts;		/* seconds since boot */
	char *case_name;	/* NULL between cases */
	char *text;
	int level;
};

struct rrun {
	int64_t id;
	struct cdm_kvlist ctx;	/* environment rows, in display order */
	struct cdm_kvlist tags;
	struct cdm_kvlist devices;	/* path -> "backend memory_type detail" */
	char *job_name;
	char *job_text;
	char *status;
	char *uuid;
	struct cdm_acceptance acc;
	struct rcase *c;
	size_t nc;
	struct rkevent *k;
	size_t nk;
	size_t nk_total;	/* events in the run, shown or not */
	bool have_cmp;
	struct cmp_result cmp;
	char **cmp_events;	/* per cmp row: kernel events line or NULL */
	char *baseline;
	/* the fleet this run is one node of (report_nodes.c), or NULL */
	struct nodes_result *nodes;
	struct nodes_opts nodes_opts;
	char *nodes_slurm, *nodes_job;
};

struct report_opts {
	const char *baseline;
	bool charts;		/* histograms and trends (HTML only) */
};

int report_load(struct cdm_db *d, int64_t run_id,
		const struct report_opts *o, struct rrun *r) __must_check;
void report_free(struct rrun *r);

void report_html(const struct rrun *r, struct sbuf *out);
void report_md(const struct rrun *r, struct sbuf *out);

/* the node view (report_nodes.c) */
int report_load_nodes(struct cdm_db *d, struct rrun *r) __must_check;
void report_free_nodes(struct rrun *r);
void report_html_nodes(const struct rrun *r, struct sbuf *sb);

/* kernel events beside timing changes (report_events.c) */
int report_events_load(struct cdm_db *d, struct rrun *r);
void report_events_free(struct rrun *r);
void report_events_html(const struct rrun *r, struct sbuf *sb);
void report_events_md(const struct rrun *r, struct sbuf *sb);

/* shared by both writers */
const char *report_param(const struct rcase *c, const char *key);
bool report_is_bandwidth(const char *unit);
/*
 * A numeric table cell between its writer's markup (mk[0] before, mk[1]
 * after): the value as fmt says, or "-" where it is missing (!have).
 */
void report_cell(struct sbuf *sb, const char *const mk[2], bool have,
		 const char *fmt, ...) __printf(4, 5);
/*
 * A comparison row's numbers in a writer's cell markup: the two medians,
 * their ratio, its confidence interval (ci formats lo and hi) and the
 * gain, flanked by star when the change is significant.
 */
void report_cmp_cells(struct sbuf *sb, const char *const mk[2],
		      const struct cmp_row *w, const char *ci,
		      const char *star);

#endif
