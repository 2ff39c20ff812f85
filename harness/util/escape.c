// SPDX-License-Identifier: GPL-2.0
/*
 * Escaping database text for HTML, XML, Markdown and TAP. The report and
 * the CI exports put kernel log lines and job-file strings into documents
 * that browsers and CI servers parse: one stray '<' or invalid byte must
 * not change their structure.
 */
#include <string.h>

#include "util/escape.h"

#define REPLACEMENT "\xef\xbf\xbd"	/* U+FFFD */

/* length of the valid UTF-8 sequence at p, or 0 if it is not one */
static size_t utf8_len(const unsigned char *p)
{
	unsigned int c = p[0], min, n, i, cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf) {
		n = 2;
		min = 0x80;
	} else if (c >= 0xe0 && c <= 0xef) {
		n = 3;
		min = 0x800;
	} else if (c >= 0xf0 && c <= 0xf4) {
		n = 4;
		min = 0x10000;
	} else {
		return 0;
	}
	cp = c & (0x7f >> n);
	for (i = 1; i < n; i++) {
		if ((p[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (p[i] & 0x3f);
	}
	if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return n;
}

static void html_char(struct sbuf *sb, unsigned char c)
{
	switch (c) {
	case '&':
		sb_adds(sb, "&amp;");
		break;
	case '<':
		sb_adds(sb, "&lt;");
		break;
	case '>':
		sb_adds(sb, "&gt;");
		break;
	case '"':
		sb_adds(sb, "&quot;");
		break;
	case '\'':
		sb_adds(sb, "&#39;");
		break;
	default:
		if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
			sb_adds(sb, REPLACEMENT);
		else
			sb_addc(sb, c);
	}
}

static void html_n(struct sbuf *sb, const char *s, size_t max, bool cut)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t used = 0;

	while (*p) {
		size_t n = utf8_len(p);

		if (cut && used + (n ? n : 1) > max) {
			sb_adds(sb, "\xe2\x80\xa6");	/* ellipsis */
			return;
		}
		used += n ? n : 1;
		if (!n) {
			sb_adds(sb, REPLACEMENT);
			p++;
		} else if (n == 1) {
			html_char(sb, *p++);
		} else {
			sb_add(sb, p, n);
			p += n;
		}
	}
}

void esc_html(struct sbuf *sb, const char *s)
{
	html_n(sb, s, 0, false);
}

void esc_html_n(struct sbuf *sb, const char *s, size_t max)
{
	html_n(sb, s, max, true);
}

void esc_md(struct sbuf *sb, const char *s)
{
	struct sbuf tmp;
	const char *p;

	sb_init(&tmp);
	for (p = s ? s : ""; *p; p++) {
		if (*p == '\n' || *p == '\r')
			sb_addc(&tmp, ' ');
		else if (strchr("\\`*_[]|~", *p))
			sb_addf(&tmp, "\\%c", *p);
		else
			sb_addc(&tmp, *p);
	}
	esc_html(sb, tmp.buf ? tmp.buf : "");
	sb_free(&tmp);
}

void esc_tap(struct sbuf *sb, const char *s)
{
	const char *p;

	for (p = s ? s : ""; *p; p++) {
		if (*p == '\n' || *p == '\r')
			sb_addc(sb, ' ');
		else if (*p == '#' || *p == '\\')
			sb_addf(sb, "\\%c", *p);
		else
			sb_addc(sb, *p);
	}
}
