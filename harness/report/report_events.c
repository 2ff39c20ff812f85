// SPDX-License-Identifier: GPL-2.0
/*
 * The report's kernel events beside each timing change of the comparison
 * with the baseline (analysis/events.c), in HTML and Markdown. Loaded with
 * the comparison, so the writers need no database.
 */
#include <math.h>
#include <stdlib.h>

#include "analysis/events.h"
#include "report/report.h"
#include "util/escape.h"

int report_events_load(struct cdm_db *d, struct rrun *r)
{
	size_t i;

	if (!r->have_cmp)
		return 0;
	r->cmp_events = xcalloc(r->cmp.nrows ? r->cmp.nrows : 1,
				sizeof(char *));
	for (i = 0; i < r->cmp.nrows; i++)
		if (ev_row_wanted(&r->cmp, i))
			r->cmp_events[i] = ev_compare_row(d, &r->cmp,
							  &r->cmp.rows[i]);
	return 0;
}

void report_events_free(struct rrun *r)
{
	size_t i;

	for (i = 0; r->cmp_events && i < r->cmp.nrows; i++)
		free(r->cmp_events[i]);
	free(r->cmp_events);
	r->cmp_events = NULL;
}

static bool any(const struct rrun *r)
{
	size_t i;

	for (i = 0; r->cmp_events && i < r->cmp.nrows; i++)
		if (r->cmp_events[i])
			return true;
	return false;
}

void report_events_html(const struct rrun *r, struct sbuf *sb)
{
	size_t i;

	if (!any(r))
		return;
	sb_adds(sb, "<h3 id=\"events\">Kernel events beside each timing change</h3>\n"
		"<p class=\"muted\">Per page the phase moved (per entry where pages mean nothing), base &rarr; candidate: did the kernel do more work, or the same work more slowly?</p>\n<ul>\n");
	for (i = 0; i < r->cmp.nrows; i++) {
		const struct cmp_row *w = &r->cmp.rows[i];

		if (!r->cmp_events[i])
			continue;
		sb_adds(sb, "<li><strong>");
		esc_html(sb, r->cmp.cases[w->group].name);
		sb_adds(sb, " ");
		esc_html(sb, w->metric);
		sb_addf(sb, " %+.1f%%</strong>: ", (w->ratio - 1) * 100);
		esc_html(sb, r->cmp_events[i]);
		sb_adds(sb, "</li>\n");
	}
	sb_adds(sb, "</ul>\n");
}

void report_events_md(const struct rrun *r, struct sbuf *sb)
{
	size_t i;

	if (!any(r))
		return;
	sb_adds(sb, "\n### Kernel events beside each timing change\n\nPer page the phase moved, base -> candidate:\n\n");
	for (i = 0; i < r->cmp.nrows; i++) {
		const struct cmp_row *w = &r->cmp.rows[i];

		if (!r->cmp_events[i])
			continue;
		sb_adds(sb, "- **");
		esc_md(sb, r->cmp.cases[w->group].name);
		sb_adds(sb, " ");
		esc_md(sb, w->metric);
		sb_addf(sb, " %+.1f%%**: ", (w->ratio - 1) * 100);
		esc_md(sb, r->cmp_events[i]);
		sb_adds(sb, "\n");
	}
}
