// SPDX-License-Identifier: GPL-2.0
/*
 * The HTML report: one file, no external resource of any kind (a Content
 * Security Policy in the head makes the browser refuse to fetch one), so
 * it can be attached to a patch review or an acceptance ticket and read
 * offline years later. Every database string is escaped on the way out.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"
#include "core/opt.h"
#include "report/report.h"
#include "util/version.h"

#define MAX_SERIES 8
#define MAX_GROUPS 24

static const char css[] =
	"body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:#1b1f24;margin:0;background:#f6f7f9}"
	"main{max-width:1200px;margin:0 auto;padding:12px 24px 48px}"
	"h1{font-size:22px;margin:10px 0 4px}h2{font-size:18px;margin:30px 0 8px;border-bottom:2px solid #d0d7de;padding-bottom:4px}"
	"h3{font-size:15px;margin:22px 0 6px}nav a{margin-right:14px}"
	"table{border-collapse:collapse;margin:6px 0 12px;background:#fff}"
	"th,td{border:1px solid #d0d7de;padding:3px 8px;text-align:left;vertical-align:top}"
	"th{background:#eef1f4;font-weight:600}td.n{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}"
	"table.kv th{width:150px}td.wrap{max-width:760px;word-break:break-word}"
	".v{display:inline-block;padding:0 7px;border-radius:3px;color:#fff;font-size:12px;font-weight:600;background:#6e7781}"
	".v.pass,.v.PASS{background:#1a7f37}.v.fail,.v.FAIL,.v.error,.v.crash,.v.timeout,.v.interrupted{background:#cf222e}"
	".v.skip{background:#9a6700}.big{font-size:16px;padding:2px 12px}"
	"tr.regression td{background:#ffebe9}tr.improvement td{background:#dafbe1}tr.notable td{background:#fff8c5}"
	".charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}"
	"svg.chart{background:#fff;border:1px solid #d0d7de;max-width:100%;height:auto}"
	"svg text{font:12px system-ui,sans-serif;fill:#1b1f24}svg .ct{font-weight:600;font-size:13px}"
	"svg .al{fill:#3d444d}svg .note{font-size:11px;fill:#57606a}"
	"svg .grid{stroke:#e6e9ec}svg .axis{stroke:#57606a;fill:none}svg .tick{stroke:#57606a}"
	"svg .bin{fill:#0072B2}svg .over{fill:#D55E00}svg .med{stroke:#D55E00;stroke-width:2}"
	"svg .mark{stroke:#6e7781;stroke-dasharray:4 3}"
	"pre{background:#fff;border:1px solid #d0d7de;padding:8px;white-space:pre-wrap;word-break:break-all;max-height:420px;overflow:auto}"
	".muted{color:#57606a}.case{background:#fff;border:1px solid #d0d7de;border-radius:6px;padding:2px 14px 10px;margin:14px 0}"
	"ul.exp{padding-left:18px;margin:4px 0}summary{cursor:pointer}";

static void h(struct sbuf *sb, const char *s)
{
	esc_html(sb, s);
}

/* a verdict as a coloured label; the class only ever takes known words */
static void badge(struct sbuf *sb, const char *v, bool big)
{
	static const char *const known[] = { "pass", "fail", "skip", "error",
		"timeout", "crash", "interrupted", "PASS", "FAIL", "INCOMPLETE" };
	const char *cls = "other";
	size_t i;

	for (i = 0; i < ARRAY_SIZE(known); i++)
		if (!strcmp(v, known[i]))
			cls = known[i];
	sb_addf(sb, "<span class=\"v %s%s\">", cls, big ? " big" : "");
	h(sb, v);
	sb_adds(sb, "</span>");
}

/* a numeric cell's markup */
static const char *const num_mk[2] = { "<td class=\"n\">", "</td>" };

static void num(struct sbuf *sb, double v)
{
	report_cell(sb, num_mk, !isnan(v), "%.5g", v);
}

/* where a case ran: "backend / device type" */
static void h_where(struct sbuf *sb, const struct rcase *c)
{
	h(sb, c->backend);
	sb_adds(sb, " / ");
	h(sb, c->device_type);
}

static void td(struct sbuf *sb, const char *s)
{
	sb_adds(sb, "<td>");
	h(sb, s);
	sb_adds(sb, "</td>");
}

static void kv_row(struct sbuf *sb, const char *k, const char *v)
{
	sb_adds(sb, "<tr><th>");
	h(sb, k);
	sb_adds(sb, "</th><td class=\"wrap\">");
	h(sb, v);
	sb_adds(sb, "</td></tr>\n");
}

/* --- head and environment --- */

static void head(const struct rrun *r, struct sbuf *sb)
{
	struct sbuf line;

	sb_adds(sb, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		"<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
		"<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>cdmbench run ");
	sb_addf(sb, "%lld: ", (long long)r->id);
	h(sb, r->job_name);
	sb_addf(sb, "</title>\n<style>%s</style>\n</head>\n<body>\n<main>\n", css);
	sb_addf(sb, "<h1>cdmbench run %lld: ", (long long)r->id);
	h(sb, r->job_name);
	sb_adds(sb, "</h1>\n<p>");
	badge(sb, cdm_accept_name(r->acc.verdict), true);
	sb_init(&line);
	cdm_acceptance_line(&r->acc, &line);
	sb_adds(sb, " ");
	/* the badge already says PASS or FAIL */
	h(sb, strchr(line.buf, ':') ? strchr(line.buf, ':') + 2 : line.buf);
	sb_free(&line);
	sb_adds(sb, "</p>\n");
	if (!strcmp(r->status, "running"))
		sb_adds(sb, "<p><strong>This run is still in progress:</strong> the report shows the cases finished so far.</p>\n");
	sb_adds(sb, "<nav><a href=\"#env\">Environment</a><a href=\"#verdicts\">Verdicts</a>");
	if (r->nodes)
		sb_adds(sb, "<a href=\"#nodes\">Nodes</a>");
	if (r->have_cmp)
		sb_adds(sb, "<a href=\"#compare\">Comparison</a>");
	sb_adds(sb, "<a href=\"#charts\">Charts</a><a href=\"#cases\">Cases</a><a href=\"#kernel\">Kernel events</a></nav>\n");
}

static void environment(const struct rrun *r, struct sbuf *sb)
{
	size_t i;

	sb_adds(sb, "<h2 id=\"env\">Environment</h2>\n<table class=\"kv\">\n");
	for (i = 0; i < r->ctx.n; i++)
		kv_row(sb, r->ctx.v[i].key, r->ctx.v[i].value);
	for (i = 0; i < r->tags.n; i++) {
		char *k = xasprintf("tag %s", r->tags.v[i].key);

		kv_row(sb, k, r->tags.v[i].value);
		free(k);
	}
	sb_adds(sb, "</table>\n<h3>Devices</h3>\n");
	if (!r->devices.n)
		sb_adds(sb, "<p class=\"muted\">No device-memory devices were found for this run.</p>\n");
	else
		sb_adds(sb, "<table><tr><th>device</th><th>backend, memory type</th></tr>\n");
	for (i = 0; i < r->devices.n; i++) {
		sb_adds(sb, "<tr>");
		td(sb, r->devices.v[i].key);
		td(sb, r->devices.v[i].value);
		sb_adds(sb, "</tr>\n");
	}
	if (r->devices.n)
		sb_adds(sb, "</table>\n");
	sb_adds(sb, "<details><summary>Job file (re-runnable as is)</summary><pre>");
	h(sb, r->job_text);
	sb_adds(sb, "</pre></details>\n");
}

/* --- verdicts --- */

static void expectations_count(const struct rcase *c, int *met, int *failed)
{
	size_t i;

	*met = *failed = 0;
	for (i = 0; i < c->info.n; i++) {
		if (!startswith(c->info.v[i].key, "expect."))
			continue;
		if (startswith(c->info.v[i].value, "pass"))
			++*met;
		else if (startswith(c->info.v[i].value, "fail"))
			++*failed;
	}
}

static void verdicts(const struct rrun *r, struct sbuf *sb)
{
	size_t i;

	sb_adds(sb, "<h2 id=\"verdicts\">Verdicts</h2>\n");
	if (r->acc.reasons.n) {
		sb_adds(sb, "<p>Not accepted because:</p><ul>\n");
		for (i = 0; i < r->acc.reasons.n; i++) {
			sb_adds(sb, "<li><strong>");
			h(sb, r->acc.reasons.v[i].key);
			sb_adds(sb, "</strong>: ");
			h(sb, r->acc.reasons.v[i].value);
			sb_adds(sb, "</li>\n");
		}
		sb_adds(sb, "</ul>\n");
	}
	sb_adds(sb, "<table><tr><th>#</th><th>case</th><th>workload</th><th>backend / device</th><th>verdict</th><th>expectations</th><th>time</th><th>reason</th></tr>\n");
	for (i = 0; i < r->nc; i++) {
		const struct rcase *c = &r->c[i];
		int met, failed;

		expectations_count(c, &met, &failed);
		sb_addf(sb, "<tr><td class=\"n\">%d</td><td><a href=\"#case-%d\">",
			c->seq + 1, c->seq + 1);
		h(sb, c->name);
		sb_adds(sb, "</a></td>");
		td(sb, c->workload);
		sb_adds(sb, "<td>");
		h_where(sb, c);
		sb_adds(sb, "</td><td>");
		badge(sb, c->verdict, false);
		if (met + failed)
			sb_addf(sb, "</td><td>%d met, %d failed</td>", met, failed);
		else
			sb_adds(sb, "</td><td class=\"muted\">none</td>");
		sb_addf(sb, "<td class=\"n\">%.2f s</td><td class=\"wrap\">",
			c->seconds);
		h(sb, c->reason);
		sb_adds(sb, "</td></tr>\n");
	}
	sb_adds(sb, "</table>\n");
}

/* --- comparison --- */

static void cmp_row(const struct cmp_result *cr, const struct cmp_row *w,
		    struct sbuf *sb)
{
	static const char *const what[] = {
		[CMP_SAME] = "", [CMP_BETTER] = "better (within threshold)",
		[CMP_WORSE] = "worse (within threshold)",
		[CMP_IMPROVEMENT] = "improvement", [CMP_REGRESSION] = "REGRESSION",
	};
	sb_addf(sb, "<tr class=\"%s\">", w->mark == CMP_REGRESSION ? "regression" :
		w->mark == CMP_IMPROVEMENT ? "improvement" : "");
	td(sb, cr->cases[w->group].name);
	td(sb, w->metric);
	td(sb, w->unit);
	report_cmp_cells(sb, num_mk, w, "[%.3f, %.3f]", "*");
	report_cell(sb, num_mk, !isnan(w->q), "%.2g", w->q);
	sb_addf(sb, "<td class=\"n\">%.1f%% / %.1f%%</td>", w->s[0].noise,
		w->s[1].noise);
	report_cell(sb, num_mk, !isnan(w->run_noise), "%.1f%%",
		    100 * expm1(w->run_noise));
	sb_adds(sb, "<td>");
	if (w->normalized) {
		sb_adds(sb, "normalized by ");
		h(sb, w->control);
		if (isfinite(w->ctrl_slope) && w->ctrl_slope != 1)
			sb_addf(sb, "<sup>%.2f</sup>", w->ctrl_slope);
		sb_addf(sb, " (raw %+.1f%%)", w->raw_gain);
	} else {
		sb_adds(sb, "raw");
	}
	if (w->ctrl_passed) {
		sb_adds(sb, " (not ");
		h(sb, w->ctrl_passed);
		sb_adds(sb, ": it changed itself)");
	}
	sb_adds(sb, "</td>");
	if (isnan(w->mde))
		sb_addf(sb, "<td class=\"n\">- (%d + %d runs)</td>", w->runs[0],
			w->runs[1]);
	else
		sb_addf(sb, "<td class=\"n\">&plusmn;%.1f%% (%d + %d runs)</td>",
			w->mde, w->runs[0], w->runs[1]);
	sb_adds(sb, "<td>");
	h(sb, w->note ? w->note : what[w->mark]);
	if (w->aliases) {
		sb_adds(sb, w->note || *what[w->mark] ? "; " : "");
		sb_adds(sb, "same measurement: ");
		h(sb, w->aliases);
	}
	sb_adds(sb, "</td></tr>\n");
}

#define CMP_HEAD "<tr><th>case</th><th>metric</th><th>unit</th><th>base median</th><th>candidate median</th><th>ratio</th><th>95% CI</th><th>gain</th><th>q</th><th>noise b / c</th><th>run noise</th><th>used</th><th>detectable</th><th></th></tr>\n"

static void comparison(const struct rrun *r, struct sbuf *sb)
{
	const struct cmp_result *cr = &r->cmp;
	size_t i, n, *m, shown;
	char tally[256];

	if (!r->have_cmp)
		return;
	sb_adds(sb, "<h2 id=\"compare\">Comparison with the baseline</h2>\n<p>Base: ");
	h(sb, cr->side[0].label);
	sb_adds(sb, "<br>Candidate: ");
	h(sb, cr->side[1].label);
	sb_addf(sb, "</p>\n<p><strong>%s</strong> "
		"(%zu measurements, %zu metrics, in %zu matched cases; per-run t test, normalized by the in-run control where it drifted, and Mann-Whitney U; Benjamini-Hochberg over measurements at %g; threshold %g%%).</p>\n",
		cmp_tally(cr, tally, sizeof(tally)), cr->measurements,
		cr->nrows, cr->ncases, cr->opts.alpha, cr->opts.threshold);
	if (cr->mod_n)
		sb_addf(sb, "<p>Run-level spreads moderated across %zu measurements: prior spread %.1f%% between runs, worth %.1f runs' degrees of freedom.</p>\n",
			cr->mod_n, 100 * expm1(cr->mod_s0), cr->mod_d0);
	/* what changed first, by size; the unchanged folded below */
	m = cmp_sorted_measurements(cr, &n);
	for (shown = 0; shown < n && cr->rows[m[shown]].mark != CMP_SAME;)
		shown++;
	sb_adds(sb, "<table>" CMP_HEAD);
	for (i = 0; i < shown; i++)
		cmp_row(cr, &cr->rows[m[i]], sb);
	if (!shown)
		sb_adds(sb, "<tr><td colspan=\"14\">no measurement changed</td></tr>\n");
	sb_adds(sb, "</table>\n");
	if (shown < n) {
		sb_addf(sb, "<details><summary>%zu unchanged measurement%s</summary>\n<table>",
			n - shown, n - shown == 1 ? "" : "s");
		sb_adds(sb, CMP_HEAD);
		for (i = shown; i < n; i++)
			cmp_row(cr, &cr->rows[m[i]], sb);
		sb_adds(sb, "</table></details>\n");
	}
	free(m);
	sb_adds(sb, "<p class=\"muted\">One row per measurement (a time shown as GB/s, ns per page and us per call is one measurement, tested once). "
		"used: the change the verdict rests on, normalized by the control timed in the same run (memcpy of the same buffer) when the control drifted beyond its own noise, else raw; "
		"detectable: the smallest change these runs could find (alpha, 80%% power). "
		"gain: change in the better direction of each metric, *flanked* when significant (q &lt; alpha, as mmtests marks it); "
		"REGRESSION and improvement are significant changes beyond the threshold. run noise: the spread of the median between runs of one configuration; "
		"where it is unknown (-, fewer than 3 such runs) significance reflects the spread within a run only.</p>\n");
	report_events_html(r, sb);
	for (i = 0; i < cr->ncases; i++) {
		const struct cmp_case *c = &cr->cases[i];

		if (!strcmp(c->verdict[0], c->verdict[1]))
			continue;
		sb_adds(sb, "<p>Verdict changed: <strong>");
		h(sb, c->name);
		sb_adds(sb, "</strong> ");
		badge(sb, c->verdict[0], false);
		sb_adds(sb, " &rarr; ");
		badge(sb, c->verdict[1], false);
		sb_adds(sb, " ");
		h(sb, c->reason[1]);
		sb_adds(sb, "</p>\n");
	}
	for (i = 0; i < cr->nonly; i++) {
		sb_addf(sb, "<p class=\"muted\">Only in the %s: ",
			cr->only[i].side ? "candidate" : "base");
		h(sb, cr->only[i].name);
		sb_adds(sb, " (");
		h(sb, cr->only[i].what);
		sb_adds(sb, ")</p>\n");
	}
}

/* --- charts across cases --- */

/*
 * Parameters that tell the cases of a workload apart, other than skip
 * (size, the x axis) and those that only restate the device type.
 */
static bool varies(const struct rrun *r, const size_t *idx, size_t n,
		   const char *key, const char *skip)
{
	const char *first;
	bool device = true, differ = false;
	size_t i;

	if (skip && !strcmp(key, skip))
		return false;
	first = report_param(&r->c[idx[0]], key);
	for (i = 0; i < n; i++) {
		const char *v = report_param(&r->c[idx[i]], key);

		if (!v || !first || strcmp(v, first))
			differ = true;
		if (!v || strcmp(v, r->c[idx[i]].device_type))
			device = false;
	}
	return differ && !device;
}

static char *label_of(const struct rrun *r, const size_t *idx, size_t n,
		      size_t which, const char *skip, bool with_device)
{
	const struct rcase *c = &r->c[idx[which]];
	struct sbuf sb;
	size_t k;

	sb_init(&sb);
	if (with_device)
		sb_adds(&sb, c->device_type);
	for (k = 0; k < c->param.n; k++) {
		const char *key = c->param.v[k].key;

		if (!varies(r, idx, n, key, skip))
			continue;
		sb_addf(&sb, "%s%s=%s", sb.len ? " " : "", key,
			c->param.v[k].value);
	}
	if (!sb.len)
		sb_adds(&sb, "all");
	return sb_detach(&sb);
}

static const struct rmetric *metric_of(const struct rcase *c,
				       const char *name)
{
	size_t i;

	for (i = 0; i < c->nm; i++)
		if (!strcmp(c->m[i].name, name))
			return &c->m[i];
	return NULL;
}

struct pts {
	char *label;
	const char *color;
	double *x, *y;
	size_t n;
};

static struct pts *pts_get(struct pts **p, size_t *n, const char *label)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (!strcmp((*p)[i].label, label))
			return &(*p)[i];
	*p = xrealloc(*p, (*n + 1) * sizeof(**p));
	memset(&(*p)[*n], 0, sizeof(**p));
	(*p)[*n].label = xstrdup(label);
	return &(*p)[(*n)++];
}

static void pts_add(struct pts *p, double x, double y)
{
	p->x = xrealloc(p->x, (p->n + 1) * sizeof(double));
	p->y = xrealloc(p->y, (p->n + 1) * sizeof(double));
	p->x[p->n] = x;
	p->y[p->n++] = y;
}

static void pts_sort(struct pts *p)
{
	size_t i, j;

	/* few points: insertion sort by x keeps the pairs together */
	for (i = 1; i < p->n; i++)
		for (j = i; j > 0 && p->x[j - 1] > p->x[j]; j--) {
			double t = p->x[j];

			p->x[j] = p->x[j - 1];
			p->x[j - 1] = t;
			t = p->y[j];
			p->y[j] = p->y[j - 1];
			p->y[j - 1] = t;
		}
}

static void pts_free(struct pts *p, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(p[i].label);
		free(p[i].x);
		free(p[i].y);
	}
	free(p);
}

static bool has_name(char **names, size_t n, const char *s)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(names[i], s))
			return true;
	return false;
}

/* metric names of the cases, in order of first appearance */
static char **metric_names(const struct rrun *r, const size_t *idx, size_t n,
			   bool bandwidth, size_t *out)
{
	char **names = NULL;
	size_t i, k;

	*out = 0;
	for (i = 0; i < n; i++) {
		const struct rcase *c = &r->c[idx[i]];

		for (k = 0; k < c->nm; k++) {
			if (bandwidth && !report_is_bandwidth(c->m[k].unit))
				continue;
			if (has_name(names, *out, c->m[k].name))
				continue;
			names = xrealloc(names, (*out + 1) * sizeof(char *));
			names[(*out)++] = c->m[k].name;
		}
	}
	return names;
}

/*
 * Device types keep their colours when each has one series; when other
 * parameters split them further, every series needs its own colour.
 */
static int draw_series(struct sbuf *sb, const char *title,
		       const struct svg_axis *x, const struct svg_axis *y,
		       struct pts *p, size_t n)
{
	struct svg_series s[MAX_SERIES];
	size_t i, k, ns = n < MAX_SERIES ? n : MAX_SERIES;
	bool shared = false;
	char *t = n > ns ? xasprintf("%s (first %zu of %zu series)", title,
				     ns, n) : xstrdup(title);

	for (i = 0; i < n; i++)
		for (k = 0; k < i; k++)
			shared |= p[i].color == p[k].color;
	for (i = 0; i < ns; i++) {
		pts_sort(&p[i]);
		s[i] = (struct svg_series){ p[i].label,
			shared ? svg_color(i) : p[i].color, p[i].x, p[i].y,
			p[i].n };
	}
	svg_line_chart(sb, t, x, y, s, ns, NAN);
	free(t);
	return 1;
}

static int size_chart(const struct rrun *r, const size_t *idx, size_t n,
		      const char *metric, struct sbuf *sb)
{
	struct svg_axis x = { .label = "buffer size (log scale)", .log2 = true,
			      .sizes = true };
	struct svg_axis y = { .zero = true };
	struct pts *p = NULL;
	const char *unit = "";
	size_t i, np = 0;
	double xmin = INFINITY, xmax = -INFINITY;
	char *title;
	int drawn = 0;

	for (i = 0; i < n; i++) {
		const struct rcase *c = &r->c[idx[i]];
		const struct rmetric *m = metric_of(c, metric);
		const char *size = report_param(c, "size");
		char err[64], *label;
		uint64_t bytes;
		struct pts *s;

		if (!m || isnan(m->s.median) || !size ||
		    cdm_parse_size(size, &bytes, err, sizeof(err)))
			continue;
		unit = m->unit;
		label = label_of(r, idx, n, i, "size", true);
		s = pts_get(&p, &np, label);
		free(label);
		if (!s->color)
			s->color = svg_device_color(c->device_type, np - 1);
		pts_add(s, (double)bytes, m->s.median);
		xmin = fmin(xmin, (double)bytes);
		xmax = fmax(xmax, (double)bytes);
	}
	if (xmax > xmin) {
		char *yl = xasprintf("median %s (%s)", metric, unit);

		y.label = yl;
		title = xasprintf("%s: %s against buffer size", r->c[idx[0]].workload,
				  metric);
		drawn = draw_series(sb, title, &x, &y, p, np);
		free(title);
		free(yl);
	}
	pts_free(p, np);
	return drawn;
}

static int bandwidth_charts(const struct rrun *r, const size_t *idx, size_t n,
			    struct sbuf *sb)
{
	size_t nm, k;
	char **names = metric_names(r, idx, n, true, &nm);
	int drawn = 0;

	for (k = 0; k < nm; k++)
		drawn += size_chart(r, idx, n, names[k], sb);
	free(names);
	return drawn;
}

/* one metric: a group per parameter set, a bar per device type */
static int device_chart(const struct rrun *r, const size_t *idx, size_t n,
			const char *metric, struct sbuf *sb)
{
	static const char *const types[] = { "private", "coherent" };
	char *groups[MAX_GROUPS];
	double vals[2][MAX_GROUPS];
	struct svg_series s[2];
	size_t ng = 0, i, g, t;
	const char *unit = "";
	bool pair = false;
	int drawn = 0;

	for (i = 0; i < n; i++) {
		const struct rcase *c = &r->c[idx[i]];
		const struct rmetric *m = metric_of(c, metric);
		char *label = label_of(r, idx, n, i, NULL, false);

		t = !strcmp(c->device_type, "coherent");
		for (g = 0; g < ng && strcmp(groups[g], label); g++)
			;
		if (g == ng && ng < MAX_GROUPS) {
			groups[ng] = label;
			vals[0][ng] = vals[1][ng] = NAN;
			ng++;
		} else {
			free(label);
		}
		if (g < ng && m) {
			vals[t][g] = m->s.median;
			unit = m->unit;
		}
	}
	for (g = 0; g < ng; g++)
		pair |= !isnan(vals[0][g]) && !isnan(vals[1][g]);
	if (pair) {
		char *title = xasprintf("%s: %s, private beside coherent",
					r->c[idx[0]].workload, metric);
		char *yl = xasprintf("median %s (%s)", metric, unit);

		for (t = 0; t < 2; t++)
			s[t] = (struct svg_series){ types[t],
				svg_device_color(types[t], t), NULL, vals[t], ng };
		svg_bar_chart(sb, title, yl, (const char *const *)groups, ng, s, 2);
		free(title);
		free(yl);
		drawn = 1;
	}
	for (g = 0; g < ng; g++)
		free(groups[g]);
	return drawn;
}

static int device_charts(const struct rrun *r, const size_t *idx, size_t n,
			 struct sbuf *sb)
{
	size_t *dev = xmalloc(n * sizeof(*dev)), nd = 0, nm, i;
	bool priv = false, coh = false;
	char **names;
	int drawn = 0;

	for (i = 0; i < n; i++) {
		const char *t = r->c[idx[i]].device_type;

		if (strcmp(t, "private") && strcmp(t, "coherent"))
			continue;
		priv |= !strcmp(t, "private");
		coh |= !strcmp(t, "coherent");
		dev[nd++] = idx[i];
	}
	if (priv && coh) {
		names = metric_names(r, dev, nd, false, &nm);
		for (i = 0; i < nm; i++)
			drawn += device_chart(r, dev, nd, names[i], sb);
		free(names);
	}
	free(dev);
	return drawn;
}

static void charts(const struct rrun *r, struct sbuf *sb)
{
	size_t *idx = xmalloc((r->nc ? r->nc : 1) * sizeof(*idx)), i, k, n;
	char **done = NULL;
	size_t ndone = 0;
	int drawn = 0;

	sb_adds(sb, "<h2 id=\"charts\">Charts</h2>\n<div class=\"charts\">\n");
	for (i = 0; i < r->nc; i++) {
		if (has_name(done, ndone, r->c[i].workload))
			continue;
		done = xrealloc(done, (ndone + 1) * sizeof(char *));
		done[ndone++] = r->c[i].workload;
		for (k = i, n = 0; k < r->nc; k++)
			if (!strcmp(r->c[k].workload, r->c[i].workload))
				idx[n++] = k;
		drawn += bandwidth_charts(r, idx, n, sb);
		drawn += device_charts(r, idx, n, sb);
	}
	sb_adds(sb, "</div>\n");
	if (!drawn)
		sb_adds(sb, "<p class=\"muted\">No cross-case chart applies: no workload ran at several sizes, or on both private and coherent devices. Per-case distributions and trends are with each case below.</p>\n");
	free(done);
	free(idx);
}

/* --- per case --- */

static void case_tables(const struct rcase *c, struct sbuf *sb)
{
	size_t i;

	sb_adds(sb, "<p class=\"muted\">parameters: ");
	for (i = 0; i < c->param.n; i++) {
		sb_adds(sb, i ? ", " : "");
		h(sb, c->param.v[i].key);
		sb_adds(sb, "=");
		h(sb, c->param.v[i].value);
	}
	sb_adds(sb, "</p>\n");
	if (c->nm) {
		sb_adds(sb, "<table><tr><th>metric</th><th>unit</th><th>better</th><th>n</th><th>median</th><th>p5</th><th>p95</th><th>p99</th><th>min</th><th>max</th><th>MAD</th><th>noise</th><th>NaN/inf</th></tr>\n");
		for (i = 0; i < c->nm; i++) {
			const struct rmetric *m = &c->m[i];
			double noise = cdm_noise_pct(m->s.mad, m->s.median);

			sb_adds(sb, "<tr>");
			td(sb, m->name);
			td(sb, m->unit);
			td(sb, m->higher ? "higher" : "lower");
			if (!m->s.n) {
				sb_adds(sb, "<td colspan=\"10\">no samples</td></tr>\n");
				continue;
			}
			sb_addf(sb, "<td class=\"n\">%zu</td>", m->s.n);
			num(sb, m->s.median);
			num(sb, m->s.p5);
			num(sb, m->s.p95);
			num(sb, m->s.p99);
			num(sb, m->s.min);
			num(sb, m->s.max);
			num(sb, m->s.mad);
			report_cell(sb, num_mk, !isnan(noise), "%.1f%%", noise);
			sb_addf(sb, "<td class=\"n\">%zu</td></tr>\n",
				m->s.nonfinite);
		}
		sb_adds(sb, "</table>\n");
	}
}

static void case_facts(const struct rcase *c, struct sbuf *sb)
{
	size_t i;
	int n = 0;

	for (i = 0; i < c->info.n; i++) {
		const struct cdm_kv *kv = &c->info.v[i];
		const char *colon = strchr(kv->value, ':');

		if (!startswith(kv->key, "expect."))
			continue;
		if (!n++)
			sb_adds(sb, "<p>Expectations:</p><ul class=\"exp\">\n");
		sb_adds(sb, "<li>");
		if (colon) {
			char *st = xasprintf("%.*s", (int)(colon - kv->value),
					     kv->value);

			badge(sb, !strcmp(st, "pass") ? "pass" :
			      !strcmp(st, "fail") ? "fail" : "skip", false);
			free(st);
		}
		sb_adds(sb, " <code>");
		h(sb, kv->key);
		sb_adds(sb, "</code> ");
		h(sb, colon ? colon + 1 : kv->value);
		sb_adds(sb, "</li>\n");
	}
	if (n)
		sb_adds(sb, "</ul>\n");
	for (i = 0, n = 0; i < c->info.n; i++) {
		/* per-phase counters are many: the comparison and the
		 * case_counters view show them; their status stays here */
		if (startswith(c->info.v[i].key, "expect.") ||
		    startswith(c->info.v[i].key, "counters."))
			continue;
		if (!n++)
			sb_adds(sb, "<table class=\"kv\"><tr><th colspan=\"2\">facts the case reported</th></tr>\n");
		kv_row(sb, c->info.v[i].key, c->info.v[i].value);
	}
	if (n)
		sb_adds(sb, "</table>\n");
}

static void trend_chart(const struct rcase *c, const struct rmetric *m,
			struct sbuf *sb)
{
	const struct hist *t = &m->trend;
	char **names = xmalloc(t->n * sizeof(char *));
	double *x = xmalloc(t->n * sizeof(double));
	double *y = xmalloc(t->n * sizeof(double));
	struct svg_axis xa = { .label = "run (oldest first)" }, ya = { 0 };
	struct svg_series s = { .label = m->name, .x = x, .y = y, .n = t->n };
	char *title, *yl;
	size_t i;

	for (i = 0; i < t->n; i++) {
		names[i] = xasprintf("%lld", (long long)t->p[i].run_id);
		x[i] = i;
		y[i] = t->p[i].median;
	}
	xa.names = (const char *const *)names;
	xa.nnames = t->n;
	title = xasprintf("%s: %s in the last %zu runs of this job", c->name,
			  m->name, t->n);
	yl = xasprintf("median %s (%s)", m->name, m->unit);
	ya.label = yl;
	svg_line_chart(sb, title, &xa, &ya, &s, 1, t->n - 1);
	for (i = 0; i < t->nsteps; i++) {
		const struct hist_step *st = &t->steps[i];

		sb_addf(sb, "<p class=\"muted\">step at run %lld: %.4g &rarr; %.4g (%+.1f%%, %s)</p>\n",
			(long long)t->p[st->index].run_id, st->before, st->after,
			st->change, st->regression ? "regression" : "improvement");
	}
	for (i = 0; i < t->n; i++)
		free(names[i]);
	free(names);
	free(x);
	free(y);
	free(title);
	free(yl);
}

static void case_charts(const struct rcase *c, struct sbuf *sb)
{
	size_t i;
	bool open = false;

	for (i = 0; i < c->nm; i++) {
		const struct rmetric *m = &c->m[i];
		char *title, *xl;

		if (!m->hist && !m->trend.n)
			continue;
		if (!open)
			sb_adds(sb, "<div class=\"charts\">\n");
		open = true;
		if (m->hist) {
			char med[32];

			fmt_short(med, sizeof(med), m->s.median);
			title = xasprintf("%s: %zu samples, median %s %s (red)",
					  m->name, m->s.n, med, m->unit);
			xl = xasprintf("%s (%s)", m->name, m->unit);
			svg_histogram(sb, title, xl, m->hist, m->nbins, m->hlo,
				      m->hhi, m->overflow, m->s.median, m->s.p99);
			free(title);
			free(xl);
		}
		if (m->trend.n)
			trend_chart(c, m, sb);
	}
	if (open)
		sb_adds(sb, "</div>\n");
}

static void cases(const struct rrun *r, struct sbuf *sb)
{
	size_t i;

	sb_adds(sb, "<h2 id=\"cases\">Cases</h2>\n");
	if (!r->nc)
		sb_adds(sb, "<p class=\"muted\">No case finished in this run.</p>\n");
	for (i = 0; i < r->nc; i++) {
		const struct rcase *c = &r->c[i];

		sb_addf(sb, "<section class=\"case\" id=\"case-%d\"><h3>%d. ",
			c->seq + 1, c->seq + 1);
		h(sb, c->name);
		sb_adds(sb, " ");
		badge(sb, c->verdict, false);
		sb_adds(sb, "</h3>\n<p>");
		h(sb, c->workload);
		sb_adds(sb, " on ");
		h_where(sb, c);
		sb_addf(sb, ", %.2f s", c->seconds);
		if (*c->reason) {
			sb_adds(sb, "<br><strong>reason:</strong> ");
			h(sb, c->reason);
		}
		sb_adds(sb, "</p>\n");
		case_tables(c, sb);
		case_facts(c, sb);
		case_charts(c, sb);
		if (*c->log) {
			sb_adds(sb, "<details><summary>case log</summary><pre>");
			h(sb, c->log);
			sb_adds(sb, "</pre></details>\n");
		}
		sb_adds(sb, "</section>\n");
	}
}

/* --- kernel events --- */

static void kernel(const struct rrun *r, struct sbuf *sb)
{
	size_t i;

	sb_addf(sb, "<h2 id=\"kernel\">Kernel events</h2>\n<p>%zu kernel log record%s during the run",
		r->nk_total, r->nk_total == 1 ? "" : "s");
	if (r->nk < r->nk_total)
		sb_addf(sb, "; the first %zu shown, warnings and errors first", r->nk);
	sb_adds(sb, ".</p>\n");
	if (!r->nk)
		return;
	sb_adds(sb, "<table><tr><th>class</th><th>time (s since boot)</th><th>case</th><th>message</th></tr>\n");
	for (i = 0; i < r->nk; i++) {
		const struct rkevent *k = &r->k[i];

		sb_addf(sb, "<tr class=\"%s\">", strcmp(k->cls, "other") ? "notable" : "");
		td(sb, k->cls);
		sb_addf(sb, "<td class=\"n\">%.6f</td>", k->ts);
		td(sb, k->case_name ? k->case_name : "(between cases)");
		sb_adds(sb, "<td class=\"wrap\"><code>");
		esc_html_n(sb, k->text, 2000);
		sb_adds(sb, "</code></td></tr>\n");
	}
	sb_adds(sb, "</table>\n");
}

void report_html(const struct rrun *r, struct sbuf *sb)
{
	char now[40];

	head(r, sb);
	environment(r, sb);
	verdicts(r, sb);
	report_html_nodes(r, sb);
	comparison(r, sb);
	charts(r, sb);
	cases(r, sb);
	kernel(r, sb);
	fmt_iso_time(now, sizeof(now), cdm_wall_ns());
	sb_addf(sb, "<p class=\"muted\">Written by cdmbench %s (git %s) at %s. Self-contained: no scripts, fonts or images are loaded from anywhere.</p>\n</main>\n</body>\n</html>\n",
		CDM_VERSION, CDM_GIT_REVISION, now);
}
