// SPDX-License-Identifier: GPL-2.0
/*
 * `report --format md`: the run in a page of Markdown, for a pull-request
 * comment, a mailing-list reply or an acceptance ticket. Verdicts first,
 * then the comparison, then the numbers; no charts. Every database string
 * goes through esc_md(), which also HTML-escapes, since most Markdown
 * renderers pass raw HTML through.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"
#include "report/report.h"

static void md(struct sbuf *sb, const char *s)
{
	esc_md(sb, s);
}

/* one line per pair: pre KEY mid VALUE post, both escaped */
static void md_pairs(struct sbuf *sb, const struct cdm_kvlist *l,
		     const char *pre, const char *mid, const char *post)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		sb_adds(sb, pre);
		md(sb, l->v[i].key);
		sb_adds(sb, mid);
		md(sb, l->v[i].value);
		sb_adds(sb, post);
	}
}

/* a numeric cell's markup */
static const char *const cell_mk[2] = { " ", " |" };

static void cell_num(struct sbuf *sb, double v)
{
	report_cell(sb, cell_mk, !isnan(v), "%.5g", v);
}

static void summary(const struct rrun *r, struct sbuf *sb)
{
	struct sbuf line;

	sb_addf(sb, "# cdmbench run %lld: ", (long long)r->id);
	md(sb, r->job_name);
	sb_addf(sb, "\n\n**Acceptance: %s**, ", cdm_accept_name(r->acc.verdict));
	sb_init(&line);
	cdm_acceptance_line(&r->acc, &line);
	md(sb, strchr(line.buf, ':') ? strchr(line.buf, ':') + 2 : line.buf);
	sb_free(&line);
	sb_adds(sb, "\n\n");
	md_pairs(sb, &r->acc.reasons, "- **", "**: ", "\n");
	sb_adds(sb, "\n## Environment\n\n| | |\n|---|---|\n");
	md_pairs(sb, &r->ctx, "| ", " | ", " |\n");
	md_pairs(sb, &r->devices, "| device | ", ": ", " |\n");
	md_pairs(sb, &r->tags, "| tag ", " | ", " |\n");
}

static void comparison(const struct rrun *r, struct sbuf *sb)
{
	const struct cmp_result *cr = &r->cmp;
	size_t i, n, *m;
	char tally[256];

	if (!r->have_cmp)
		return;
	sb_adds(sb, "\n## Comparison\n\nBase: ");
	md(sb, cr->side[0].label);
	sb_adds(sb, "  \nCandidate: ");
	md(sb, cr->side[1].label);
	sb_addf(sb, "\n\n**%s** (Benjamini-Hochberg at %g, threshold %g%%; gain is the change in the better direction, \\*flanked\\* when significant)\n\n",
		cmp_tally(cr, tally, sizeof(tally)), cr->opts.alpha,
		cr->opts.threshold);
	/* what changed, largest first; the unchanged folded into one line */
	m = cmp_sorted_measurements(cr, &n);
	sb_adds(sb, "| case | metric | unit | base | candidate | ratio | 95% CI | gain | q | used | |\n|---|---|---|--:|--:|--:|--:|--:|--:|---|---|\n");
	for (i = 0; i < n && cr->rows[m[i]].mark != CMP_SAME; i++) {
		const struct cmp_row *w = &cr->rows[m[i]];

		sb_adds(sb, "| ");
		md(sb, cr->cases[w->group].name);
		sb_adds(sb, " | ");
		md(sb, w->metric);
		sb_adds(sb, " | ");
		md(sb, w->unit);
		sb_adds(sb, " |");
		report_cmp_cells(sb, cell_mk, w, "%.3f..%.3f", "\\*");
		cell_num(sb, w->q);
		sb_adds(sb, w->normalized ? " normalized by " : " raw");
		if (w->normalized) {
			md(sb, w->control);
			if (isfinite(w->ctrl_slope) && w->ctrl_slope != 1)
				sb_addf(sb, "^%.2f", w->ctrl_slope);
		}
		if (w->ctrl_passed) {
			sb_adds(sb, " (not ");
			md(sb, w->ctrl_passed);
			sb_adds(sb, ": it changed itself)");
		}
		sb_addf(sb, " | %s |\n", w->mark == CMP_REGRESSION ? "**REGRESSION**" :
			w->mark == CMP_IMPROVEMENT ? "improvement" : "");
	}
	if (!i)
		sb_adds(sb, "| no measurement changed | | | | | | | | | | |\n");
	if (i < n)
		sb_addf(sb, "\n%zu unchanged measurement%s:", n - i,
			n - i == 1 ? "" : "s");
	for (; i < n; i++) {
		const struct cmp_row *w = &cr->rows[m[i]];

		sb_adds(sb, " ");
		md(sb, cr->cases[w->group].name);
		sb_adds(sb, ":");
		md(sb, w->metric);
		if (!isnan(w->mde))
			sb_addf(sb, " (&plusmn;%.1f%%)", w->mde);
		sb_adds(sb, i + 1 < n ? "," : "\n");
	}
	free(m);
	report_events_md(r, sb);
}

static void cases(const struct rrun *r, struct sbuf *sb)
{
	size_t i, k;

	sb_adds(sb, "\n## Cases\n\n| # | case | device | verdict | medians | reason |\n|--:|---|---|---|---|---|\n");
	for (i = 0; i < r->nc; i++) {
		const struct rcase *c = &r->c[i];

		sb_addf(sb, "| %d | ", c->seq + 1);
		md(sb, c->name);
		sb_adds(sb, " | ");
		md(sb, c->device_type);
		sb_adds(sb, " | ");
		md(sb, c->verdict);
		sb_adds(sb, " | ");
		for (k = 0; k < c->nm; k++) {
			char buf[48];

			if (c->m[k].s.n)
				snprintf(buf, sizeof(buf), "%.4g", c->m[k].s.median);
			else
				snprintf(buf, sizeof(buf), "no samples");
			sb_adds(sb, k ? ", " : "");
			md(sb, c->m[k].name);
			sb_adds(sb, " ");
			md(sb, buf);
			sb_adds(sb, " ");
			md(sb, c->m[k].unit);
		}
		sb_adds(sb, " | ");
		md(sb, c->reason);
		sb_adds(sb, " |\n");
	}
	for (i = 0; i < r->nc; i++) {
		const struct rcase *c = &r->c[i];
		bool any = false;

		for (k = 0; k < c->info.n; k++) {
			if (!startswith(c->info.v[k].key, "expect."))
				continue;
			if (!any) {
				sb_adds(sb, any ? "" : "\n");
				sb_adds(sb, "Expectations of ");
				md(sb, c->name);
				sb_adds(sb, ":\n\n");
			}
			any = true;
			sb_adds(sb, "- `");
			esc_md_code(sb, c->info.v[k].key);
			sb_adds(sb, "` ");
			md(sb, c->info.v[k].value);
			sb_adds(sb, "\n");
		}
	}
}

static void kernel(const struct rrun *r, struct sbuf *sb)
{
	size_t i, notable = 0;

	for (i = 0; i < r->nk; i++)
		notable += strcmp(r->k[i].cls, "other") != 0;
	sb_addf(sb, "\n## Kernel events\n\n%zu record%s, %zu notable.\n",
		r->nk_total, r->nk_total == 1 ? "" : "s", notable);
	for (i = 0; i < r->nk && i < 50; i++) {
		const struct rkevent *k = &r->k[i];

		if (!strcmp(k->cls, "other"))
			continue;
		sb_adds(sb, "- **");
		md(sb, k->cls);
		sb_addf(sb, "** [%.6f] ", k->ts);
		md(sb, k->case_name ? k->case_name : "(between cases)");
		sb_adds(sb, ": ");
		md(sb, k->text);
		sb_adds(sb, "\n");
	}
}

void report_md(const struct rrun *r, struct sbuf *sb)
{
	summary(r, sb);
	comparison(r, sb);
	cases(r, sb);
	kernel(r, sb);
}
