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

/* how a document marks up the list of events beside timing changes */
struct ev_markup {
	const char *head, *item, *mid, *end, *tail;
	void (*esc)(struct sbuf *sb, const char *s);
};

static void events_list(const struct rrun *r, struct sbuf *sb,
			const struct ev_markup *m)
{
	size_t i;

	if (!any(r))
		return;
	sb_adds(sb, m->head);
	for (i = 0; i < r->cmp.nrows; i++) {
		const struct cmp_row *w = &r->cmp.rows[i];

		if (!r->cmp_events[i])
			continue;
		sb_adds(sb, m->item);
		m->esc(sb, r->cmp.cases[w->group].name);
		sb_adds(sb, " ");
		m->esc(sb, w->metric);
		sb_addf(sb, " %+.1f%%%s", (w->ratio - 1) * 100, m->mid);
		m->esc(sb, r->cmp_events[i]);
		sb_adds(sb, m->end);
	}
	sb_adds(sb, m->tail);
}

void report_events_html(const struct rrun *r, struct sbuf *sb)
{
	static const struct ev_markup html = {
		.head = "<h3 id=\"events\">Kernel events beside each timing change</h3>\n"
			"<p class=\"muted\">Per page the phase moved (per entry where pages mean nothing), base &rarr; candidate: did the kernel do more work, or the same work more slowly?</p>\n<ul>\n",
		.item = "<li><strong>", .mid = "</strong>: ", .end = "</li>\n",
		.tail = "</ul>\n", .esc = esc_html,
	};

	events_list(r, sb, &html);
}

void report_events_md(const struct rrun *r, struct sbuf *sb)
{
	static const struct ev_markup md = {
		.head = "\n### Kernel events beside each timing change\n\nPer page the phase moved, base -> candidate:\n\n",
		.item = "- **", .mid = "**: ", .end = "\n", .tail = "",
		.esc = esc_md,
	};

	events_list(r, sb, &md);
}
