// SPDX-License-Identifier: GPL-2.0
/* Escaping and chart drawing: hostile text stays text, odd data still draws. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"
#include "report/report.h"
#include "synth.h"

static char *html(const char *s)
{
	struct sbuf sb;

	sb_init(&sb);
	esc_html(&sb, s);
	return sb_detach(&sb);
}

/* markup, quotes, control bytes and broken UTF-8 cannot leave the text */
TEST(escape_html)
{
	char *s = html("<a href='x'>\"&\"</a>");

	CHECK_STR(s, "&lt;a href=&#39;x&#39;&gt;&quot;&amp;&quot;&lt;/a&gt;");
	free(s);
	s = html("a\x01" "b\xff" "c\xc3\xa9\xe2\x82" "d\n");
	/* U+FFFD for the control byte, the stray 0xff and the cut sequence */
	CHECK_STR(s, "a\xef\xbf\xbd" "b\xef\xbf\xbd" "c\xc3\xa9\xef\xbf\xbd\xef\xbf\xbd" "d\n");
	free(s);
	s = html("\xed\xa0\x80 \xc0\xaf");	/* a surrogate, an overlong '/' */
	CHECK(!strstr(s, "\xed\xa0\x80") && !strstr(s, "\xc0"), "%s", s);
	free(s);
}

TEST(escape_cut_md_tap)
{
	struct sbuf sb;

	sb_init(&sb);
	esc_html_n(&sb, "\xc3\xa9\xc3\xa9\xc3\xa9<", 5);
	CHECK_STR(sb.buf, "\xc3\xa9\xc3\xa9\xe2\x80\xa6");
	sb_reset(&sb);
	esc_md(&sb, "a|b *c* <x>\nd");
	CHECK_STR(sb.buf, "a\\|b \\*c\\* &lt;x&gt; d");
	sb_reset(&sb);
	esc_tap(&sb, "x # y\nz");
	CHECK_STR(sb.buf, "x \\# y z");
	sb_free(&sb);
}

/* charts with no data, one point, NaN and flat data are still whole SVG */
TEST(svg_edge_cases)
{
	double x[3] = { 4096, 4096, 8192 }, y[3] = { NAN, 5, 5 };
	double counts[4] = { 0, 0, 0, 0 };
	struct svg_series s[2] = { { "a<b", NULL, x, y, 3 },
				   { "empty", NULL, x, y, 0 } };
	struct svg_axis xa = { .label = "size", .log2 = true, .sizes = true };
	struct svg_axis ya = { .label = "y", .zero = true };
	const char *groups[1] = { "g&1" };
	struct sbuf sb;

	sb_init(&sb);
	svg_line_chart(&sb, "t<1>", &xa, &ya, s, 2, NAN);
	svg_line_chart(&sb, "none", &xa, &ya, s + 1, 1, 0);
	svg_bar_chart(&sb, "bars", "y", groups, 1, s, 1);
	svg_histogram(&sb, "h", "x", counts, 4, 1, 1, 0, NAN, NAN);
	CHECK(!strstr(sb.buf, "nan") && !strstr(sb.buf, "inf"), "%.300s",
	      strstr(sb.buf, "nan") ? strstr(sb.buf, "nan") - 100 : sb.buf);
	CHECK_CONTAINS(sb.buf, "t&lt;1&gt;");
	CHECK_CONTAINS(sb.buf, "a&lt;b");
	CHECK_CONTAINS(sb.buf, "g&amp;1");
	CHECK_CONTAINS(sb.buf, ">4K</text>");
	CHECK(!strstr(sb.buf, "<b") && !strstr(sb.buf, "<1"));
	sb_free(&sb);
}

/* the loader and both writers on a run with a baseline and a history */
TEST(report_load_and_write)
{
	struct cdm_db *d = synth_open("r.db");
	const struct synth_metric m[] = {
		{ "to_sys_page", "ns", 0, 4000, 100, 200 },
		{ "to_dev_bw", "GB/s", 1, 3, 0.1, 200 },
	};
	struct report_opts o = { .baseline = "1", .charts = true };
	struct rrun r;
	struct sbuf sb;
	int i;

	for (i = 0; i < 6; i++) {
		int64_t id = synth_begin(d, "6.1.192", NULL, i);

		synth_case(d, id, 0, "migrate[device=private size=4K]", "private",
			   "{\"device\":\"private\",\"size\":\"4K\"}", m, 2, 10 * i);
		synth_case(d, id, 1, "migrate[device=coherent size=4K]", "coherent",
			   "{\"device\":\"coherent\",\"size\":\"4K\"}", m, 2, 10 * i + 1);
		synth_case(d, id, 2, "migrate[device=private size=2M]", "private",
			   "{\"device\":\"private\",\"size\":\"2M\"}", m, 2, 10 * i + 2);
		synth_end(d, id);
	}
	REQUIRE(report_load(d, 6, &o, &r) == 0);
	CHECK(r.nc == 3 && r.have_cmp && r.cmp.nrows == 6);
	CHECK(r.c[0].m[0].hist && r.c[0].m[0].trend.n == 6);
	sb_init(&sb);
	report_html(&r, &sb);
	CHECK_CONTAINS(sb.buf, "to_dev_bw against buffer size");
	CHECK_CONTAINS(sb.buf, "to_sys_page, private beside coherent");
	CHECK_CONTAINS(sb.buf, "in the last 6 runs of this job");
	CHECK_CONTAINS(sb.buf, "Comparison with the baseline");
	CHECK_CONTAINS(sb.buf, "</html>");
	sb_reset(&sb);
	report_md(&r, &sb);
	CHECK_CONTAINS(sb.buf, "## Comparison");
	sb_free(&sb);
	report_free(&r);
	db_close(d);
}
