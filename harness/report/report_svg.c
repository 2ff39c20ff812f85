// SPDX-License-Identifier: GPL-2.0
/*
 * Charts for the report, drawn as inline SVG: a report must open on an
 * air-gapped lab machine and in a review tool that blocks scripts, so no
 * plotting library, no JavaScript, no fonts fetched. Every string from
 * the database goes through esc_html() before it reaches the markup.
 *
 * Legibility rules kept here: axes with nice ticks and units, a legend
 * whenever there is more than one series, a colour-blind safe palette
 * (Okabe-Ito), and a <title> tooltip with the exact value on every mark.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util/escape.h"
#include "core/opt.h"
#include "report/report.h"

#define LEGEND_CHARS 26

static const char *const palette[] = {
	"#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9",
	"#000000", "#999999",
};

const char *svg_color(size_t i)
{
	return palette[i % ARRAY_SIZE(palette)];
}

/* the same device type has the same colour in every chart */
const char *svg_device_color(const char *device_type, size_t i)
{
	if (!strcmp(device_type, "coherent"))
		return palette[0];
	if (!strcmp(device_type, "private"))
		return palette[1];
	if (!strcmp(device_type, "system"))
		return palette[2];
	return palette[3 + i % (ARRAY_SIZE(palette) - 3)];
}

void fmt_short(char *buf, size_t len, double v)
{
	static const struct { double f; const char *sfx; } si[] = {
		{ 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e4, "k" },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(si); i++) {
		if (fabs(v) >= si[i].f) {
			snprintf(buf, len, "%.3g%s",
				 v / (si[i].f == 1e4 ? 1e3 : si[i].f), si[i].sfx);
			return;
		}
	}
	snprintf(buf, len, "%.4g", v);
}

/* --- scales --- */

struct scale {
	double lo, hi;		/* data range shown */
	double p0, p1;		/* pixel range */
	bool log2;
};

static double to_px(const struct scale *s, double v)
{
	double a = s->lo, b = s->hi;

	if (s->log2) {
		a = log2(a);
		b = log2(b);
		v = log2(v);
	}
	if (b == a)
		return (s->p0 + s->p1) / 2;
	return s->p0 + (v - a) / (b - a) * (s->p1 - s->p0);
}

static double nice_step(double range, int target)
{
	double raw = range / target, mag, f;

	if (!(raw > 0))
		return 1;
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f < 1.5 ? 1 : f < 3 ? 2 : f < 7 ? 5 : 10) * mag;
}

/* extend [lo, hi] to whole ticks; a flat range gets some room */
static void nice_range(double *lo, double *hi, bool zero, double *step)
{
	if (zero) {
		if (*lo > 0)
			*lo = 0;
		if (*hi < 0)
			*hi = 0;
	}
	if (*hi == *lo) {
		double pad = *hi != 0 ? fabs(*hi) * 0.1 : 1;

		*lo -= zero && *lo == 0 ? 0 : pad;
		*hi += pad;
	}
	*step = nice_step(*hi - *lo, 5);
	*lo = floor(*lo / *step) * *step;
	*hi = ceil(*hi / *step) * *step;
}

static void text(struct sbuf *sb, double x, double y, const char *anchor,
		 const char *cls, const char *s)
{
	sb_addf(sb, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"%s\"%s%s%s>",
		x, y, anchor, cls ? " class=\"" : "", cls ? cls : "",
		cls ? "\"" : "");
	esc_html(sb, s);
	sb_adds(sb, "</text>\n");
}

static void open_svg(struct sbuf *sb, int w, int h, const char *title)
{
	sb_addf(sb, "<svg class=\"chart\" viewBox=\"0 0 %d %d\" width=\"%d\" height=\"%d\" role=\"img\" aria-label=\"",
		w, h, w, h);
	esc_html(sb, title);
	sb_adds(sb, "\">\n<title>");
	esc_html(sb, title);
	sb_adds(sb, "</title>\n");
	sb_addf(sb, "<rect x=\"0\" y=\"0\" width=\"%d\" height=\"%d\" fill=\"#fff\"/>\n",
		w, h);
	text(sb, w / 2.0, 18, "middle", "ct", title);
}

static void y_axis(struct sbuf *sb, const struct scale *y, double step,
		   double x0, double x1, const char *label)
{
	double v;
	char buf[32];

	for (v = y->lo; v <= y->hi + step / 2; v += step) {
		double py = to_px(y, v);

		sb_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
			x0, py, x1, py);
		fmt_short(buf, sizeof(buf), fabs(v) < step / 1e6 ? 0 : v);
		text(sb, x0 - 6, py + 4, "end", NULL, buf);
	}
	sb_addf(sb, "<text transform=\"translate(14 %.1f) rotate(-90)\" text-anchor=\"middle\" class=\"al\">",
		(y->p0 + y->p1) / 2);
	esc_html(sb, label);
	sb_adds(sb, "</text>\n");
}

static void frame(struct sbuf *sb, double x0, double y0, double x1, double y1)
{
	sb_addf(sb, "<path d=\"M%.1f %.1fV%.1fH%.1f\" class=\"axis\"/>\n", x0, y0,
		y1, x1);
}

static void legend(struct sbuf *sb, double x, double y,
		   const struct svg_series *s, size_t ns, bool line)
{
	size_t i;

	for (i = 0; i < ns; i++, y += 18) {
		const char *c = s[i].color ? s[i].color : svg_color(i);

		if (line)
			sb_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" stroke-width=\"2\"/><circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"/>\n",
				x, y - 4, x + 18, y - 4, c, x + 9, y - 4, c);
		else
			sb_addf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"12\" height=\"12\" fill=\"%s\"/>\n",
				x + 3, y - 10, c);
		sb_addf(sb, "<text x=\"%.1f\" y=\"%.1f\">", x + 24, y);
		esc_html_n(sb, s[i].label, LEGEND_CHARS);
		sb_adds(sb, "<title>");
		esc_html(sb, s[i].label);
		sb_adds(sb, "</title></text>\n");
	}
}

/* --- line chart --- */

static void x_ticks(struct sbuf *sb, const struct svg_axis *ax,
		    const struct scale *x, double y0, double y1)
{
	char buf[48];
	double v, step;

	if (ax->names) {
		size_t i, every = ax->nnames > 10 ? (ax->nnames + 9) / 10 : 1;

		for (i = 0; i < ax->nnames; i += every) {
			double px = to_px(x, i);

			sb_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>\n",
				px, y1, px, y1 + 4);
			text(sb, px, y1 + 17, "middle", NULL, ax->names[i]);
		}
		return;
	}
	if (ax->log2) {
		int e, e0 = (int)floor(log2(x->lo)), e1 = (int)ceil(log2(x->hi));
		int every = e1 - e0 > 10 ? 2 : 1;

		for (e = e0; e <= e1; e += every) {
			double px;

			v = ldexp(1, e);
			if (v < x->lo * 0.999 || v > x->hi * 1.001)
				continue;
			px = to_px(x, v);
			if (ax->sizes)
				cdm_format_size((uint64_t)v, buf, sizeof(buf));
			else
				fmt_short(buf, sizeof(buf), v);
			sb_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>\n",
				px, y0, px, y1);
			text(sb, px, y1 + 17, "middle", NULL, buf);
		}
		return;
	}
	step = nice_step(x->hi - x->lo, 6);
	for (v = ceil(x->lo / step) * step; v <= x->hi + step / 1e6; v += step) {
		double px = to_px(x, v);

		fmt_short(buf, sizeof(buf), fabs(v) < step / 1e6 ? 0 : v);
		sb_addf(sb, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" class=\"tick\"/>\n",
			px, y1, px, y1 + 4);
		text(sb, px, y1 + 17, "middle", NULL, buf);
	}
}

static void data_range(const struct svg_series *s, size_t ns, bool wantx,
		       bool positive, double *lo, double *hi)
{
	size_t i, k;

	*lo = INFINITY;
	*hi = -INFINITY;
	for (i = 0; i < ns; i++) {
		for (k = 0; k < s[i].n; k++) {
			double v = wantx ? s[i].x[k] : s[i].y[k];

			if (!isfinite(v) || (positive && v <= 0))
				continue;
			*lo = fmin(*lo, v);
			*hi = fmax(*hi, v);
		}
	}
	if (*lo > *hi)
		*lo = *hi = positive ? 1 : 0;
}

static void series_path(struct sbuf *sb, const struct svg_series *s,
			const char *color, const struct scale *x,
			const struct scale *y, const struct svg_axis *xa)
{
	char xs[48], ys[48];
	bool pen = false;
	size_t k;

	sb_addf(sb, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"2\" d=\"",
		color);
	for (k = 0; k < s->n; k++) {
		if (!isfinite(s->y[k]) || (x->log2 && s->x[k] <= 0)) {
			pen = false;
			continue;
		}
		sb_addf(sb, "%s%.1f %.1f", pen ? "L" : "M", to_px(x, s->x[k]),
			to_px(y, s->y[k]));
		pen = true;
	}
	sb_adds(sb, "\"/>\n");
	for (k = 0; k < s->n; k++) {
		if (!isfinite(s->y[k]) || (x->log2 && s->x[k] <= 0))
			continue;
		if (xa->names && (size_t)s->x[k] < xa->nnames)
			snprintf(xs, sizeof(xs), "%s", xa->names[(size_t)s->x[k]]);
		else if (xa->sizes)
			cdm_format_size((uint64_t)s->x[k], xs, sizeof(xs));
		else
			snprintf(xs, sizeof(xs), "%.6g", s->x[k]);
		snprintf(ys, sizeof(ys), "%.6g", s->y[k]);
		sb_addf(sb, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"3.5\" fill=\"%s\"><title>",
			to_px(x, s->x[k]), to_px(y, s->y[k]), color);
		esc_html(sb, s->label);
		sb_adds(sb, ": ");
		esc_html(sb, xs);
		sb_adds(sb, " \xe2\x86\x92 ");
		esc_html(sb, ys);
		sb_adds(sb, "</title></circle>\n");
	}
}

void svg_line_chart(struct sbuf *sb, const char *title,
		    const struct svg_axis *xa, const struct svg_axis *ya,
		    const struct svg_series *s, size_t ns, double mark_x)
{
	const int W = 540, H = 300, L = 70, T = 34, B = 52;
	int R = ns > 1 ? 150 : 22;
	struct scale x = { .p0 = L, .p1 = W - R, .log2 = xa->log2 };
	struct scale y = { .p0 = H - B, .p1 = T };
	double step;
	size_t i;

	data_range(s, ns, true, xa->log2, &x.lo, &x.hi);
	data_range(s, ns, false, false, &y.lo, &y.hi);
	if (xa->names) {
		x.lo = 0;
		x.hi = xa->nnames > 1 ? xa->nnames - 1 : 1;
	}
	if (x.hi == x.lo) {
		x.lo = xa->log2 ? x.lo / 2 : x.lo - 1;
		x.hi = xa->log2 ? x.hi * 2 : x.hi + 1;
	}
	if (!ya->zero) {
		double pad = (y.hi - y.lo) * 0.08;

		y.lo -= pad;
		y.hi += pad;
	}
	nice_range(&y.lo, &y.hi, ya->zero, &step);
	open_svg(sb, W, H, title);
	y_axis(sb, &y, step, L, W - R, ya->label);
	x_ticks(sb, xa, &x, T, H - B);
	frame(sb, L, T, W - R, H - B);
	text(sb, (L + W - R) / 2.0, H - 14, "middle", "al", xa->label);
	if (isfinite(mark_x) && isfinite(to_px(&x, mark_x))) {
		double px = to_px(&x, mark_x);

		sb_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"mark\"/>\n",
			px, T, px, H - B);
		text(sb, px - 4, T + 12, "end", "note", "this run");
	}
	for (i = 0; i < ns; i++)
		series_path(sb, &s[i], s[i].color ? s[i].color : svg_color(i),
			    &x, &y, xa);
	if (ns > 1)
		legend(sb, W - R + 14, T + 12, s, ns, true);
	sb_adds(sb, "</svg>\n");
}

/* --- grouped bars --- */

void svg_bar_chart(struct sbuf *sb, const char *title, const char *ylabel,
		   const char *const *groups, size_t ng,
		   const struct svg_series *s, size_t ns)
{
	const int L = 70, T = 34, B = 76, R = 100, H = 320;
	int W = L + R + (int)fmax(292, ng * (ns * 16 + 14));
	struct scale y = { .p0 = H - B, .p1 = T };
	double gw = (double)(W - L - R) / (ng ? ng : 1), bw, step;
	size_t g, i;

	data_range(s, ns, false, false, &y.lo, &y.hi);
	nice_range(&y.lo, &y.hi, true, &step);
	bw = fmin(28, gw * 0.8 / (ns ? ns : 1));
	open_svg(sb, W, H, title);
	y_axis(sb, &y, step, L, W - R, ylabel);
	for (g = 0; g < ng; g++) {
		double gx = L + g * gw + (gw - bw * ns) / 2;

		for (i = 0; i < ns; i++) {
			double v = g < s[i].n ? s[i].y[g] : NAN;
			double top, base = to_px(&y, 0);
			char buf[40];

			if (!isfinite(v))
				continue;
			top = to_px(&y, v);
			snprintf(buf, sizeof(buf), "%.6g", v);
			sb_addf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"><title>",
				gx + i * bw, fmin(top, base), bw - 1,
				fabs(base - top),
				s[i].color ? s[i].color : svg_color(i));
			esc_html(sb, s[i].label);
			sb_adds(sb, ", ");
			esc_html(sb, groups[g]);
			sb_addf(sb, ": %s</title></rect>\n", buf);
		}
		sb_addf(sb, "<text transform=\"translate(%.1f %d) rotate(-25)\" text-anchor=\"end\">",
			L + g * gw + gw / 2, H - B + 14);
		esc_html_n(sb, groups[g], 22);
		sb_adds(sb, "<title>");
		esc_html(sb, groups[g]);
		sb_adds(sb, "</title></text>\n");
	}
	frame(sb, L, T, W - R, H - B);
	legend(sb, W - R + 14, T + 12, s, ns, false);
	sb_adds(sb, "</svg>\n");
}

/* --- histogram --- */

void svg_histogram(struct sbuf *sb, const char *title, const char *xlabel,
		   const double *counts, size_t nbins, double lo, double hi,
		   double overflow, double median, double p99)
{
	const int W = 460, H = 230, L = 62, R = 52, T = 34, B = 48;
	struct scale x = { .lo = lo, .hi = hi, .p0 = L, .p1 = W - R };
	struct scale y = { .p0 = H - B, .p1 = T };
	double bw = (double)(W - L - R) / nbins, step, top = 0;
	char buf[64];
	size_t i;

	for (i = 0; i < nbins; i++)
		top = fmax(top, counts[i]);
	y.lo = 0;
	y.hi = fmax(fmax(top, overflow), 5);
	nice_range(&y.lo, &y.hi, true, &step);
	/* counts: whole ticks only */
	if (step < 1) {
		step = 1;
		y.hi = ceil(y.hi);
	}
	open_svg(sb, W, H, title);
	y_axis(sb, &y, step, L, W - R, "samples");
	for (i = 0; i < nbins; i++) {
		double py = to_px(&y, counts[i]);

		if (!counts[i])
			continue;
		sb_addf(sb, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" class=\"bin\"><title>%.6g .. %.6g: %.0f</title></rect>\n",
			L + i * bw, py, fmax(bw - 0.5, 0.5), H - B - py,
			lo + (hi - lo) * i / nbins, lo + (hi - lo) * (i + 1) / nbins,
			counts[i]);
	}
	if (overflow > 0) {
		double py = to_px(&y, overflow);

		sb_addf(sb, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" class=\"over\"><title>above p99 (%.6g): %.0f</title></rect>\n",
			W - R + 10, py, 18, H - B - py, p99, overflow);
		text(sb, W - R + 19, H - B + 30, "middle", "note", ">p99");
	}
	x_ticks(sb, &(struct svg_axis){ 0 }, &x, T, H - B);
	if (isfinite(median) && median >= lo && median <= hi) {
		double px = to_px(&x, median);

		fmt_short(buf, sizeof(buf), median);
		sb_addf(sb, "<line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" class=\"med\"><title>median %s</title></line>\n",
			px, T, px, H - B, buf);
	}
	frame(sb, L, T, W - R, H - B);
	text(sb, (L + W - R) / 2.0, H - 10, "middle", "al", xlabel);
	sb_adds(sb, "</svg>\n");
}
