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
size_t utf8_len(const unsigned char *p)
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

/* what & < > " ' become in HTML and XML text and attributes */
static const char *const html_entity[256] = {
	['&'] = "&amp;", ['<'] = "&lt;", ['>'] = "&gt;", ['"'] = "&quot;",
	['\''] = "&#39;",
};

static void html_char(struct sbuf *sb, unsigned char c)
{
	if (html_entity[c])
		sb_adds(sb, html_entity[c]);
	else if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f)
		sb_adds(sb, REPLACEMENT);
	else
		sb_addc(sb, c);
}

/*
 * U+FFFE and U+FFFF, valid UTF-8 that XML forbids and HTML calls a parse
 * error, and the C1 controls U+0080..U+009F, which HTML also refuses and
 * XML discourages (U+009B is a CSI when the page ends up on a terminal).
 */
static bool nonchar(const unsigned char *p, size_t n)
{
	return (n == 3 && p[0] == 0xef && p[1] == 0xbf && p[2] >= 0xbe) ||
	       (n == 2 && p[0] == 0xc2 && p[1] < 0xa0);
}

/*
 * One character of a sink: p points at it and n is its UTF-8 length, 0
 * for a byte that starts no valid sequence (esc_walk then steps one byte).
 */
typedef void esc_char_fn(struct sbuf *sb, const unsigned char *p, size_t n);

static void esc_walk(struct sbuf *sb, const char *s, esc_char_fn *one)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");

	while (*p) {
		size_t n = utf8_len(p);

		one(sb, p, n);
		p += n ? n : 1;
	}
}

static void html_one(struct sbuf *sb, const unsigned char *p, size_t n)
{
	if (!n || nonchar(p, n))
		sb_adds(sb, REPLACEMENT);
	else if (n == 1)
		html_char(sb, *p);
	else
		sb_add(sb, p, n);
}

void esc_html(struct sbuf *sb, const char *s)
{
	esc_walk(sb, s, html_one);
}

void esc_html_n(struct sbuf *sb, const char *s, size_t max)
{
	const unsigned char *p = (const unsigned char *)(s ? s : "");
	size_t used = 0;

	while (*p) {
		size_t n = utf8_len(p), w = n ? n : 1;

		/* a character the page cannot show costs its bytes but is
		 * never the one that cuts */
		if (!nonchar(p, n) && used + w > max) {
			sb_adds(sb, "\xe2\x80\xa6");	/* ellipsis */
			return;
		}
		html_one(sb, p, n);
		used += w;
		p += w;
	}
}

static void xml_one(struct sbuf *sb, const unsigned char *p, size_t n)
{
	if (nonchar(p, n) ||
	    (n == 1 && *p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r'))
		return;		/* not a character XML 1.0 allows */
	html_one(sb, p, n);
}

void esc_xml(struct sbuf *sb, const char *s)
{
	esc_walk(sb, s, xml_one);
}

static void utf8_one(struct sbuf *sb, const unsigned char *p, size_t n)
{
	if (!n)
		sb_adds(sb, REPLACEMENT);
	else
		sb_add(sb, p, n);
}

void esc_utf8(struct sbuf *sb, const char *s)
{
	esc_walk(sb, s, utf8_one);
}

void esc_csv(struct sbuf *sb, const char *s)
{
	struct sbuf tmp;
	const char *p;

	sb_init(&tmp);
	esc_utf8(&tmp, s);
	p = tmp.buf ? tmp.buf : "";
	if (!strpbrk(p, ",\"\n\r")) {
		sb_adds(sb, p);
	} else {
		sb_addc(sb, '"');
		for (; *p; p++) {
			if (*p == '"')
				sb_addc(sb, '"');
			sb_addc(sb, *p);
		}
		sb_addc(sb, '"');
	}
	sb_free(&tmp);
}

/*
 * What a terminal must never receive raw: C0 controls and DEL (ESC starts
 * sequences that set the window title, clear the screen or remap keys),
 * C1 controls (U+0080..U+009F; 0x9b alone is a CSI on some terminals),
 * bytes that are not UTF-8, and the bidirectional overrides that make
 * text display in another order than it reads (U+202A..E, U+2066..9).
 * They are shown as \n, \t, \e, \xNN or \uNNNN instead.
 */
static void term_one(struct sbuf *sb, const unsigned char *p, size_t n)
{
	unsigned int cp = 0;

	if (n == 2)
		cp = (p[0] & 0x1f) << 6 | (p[1] & 0x3f);
	else if (n == 3)
		cp = (p[0] & 0x0f) << 12 | (p[1] & 0x3f) << 6 | (p[2] & 0x3f);
	if (!n) {
		sb_addf(sb, "\\x%02x", *p);
	} else if (n == 1 && (*p < 0x20 || *p == 0x7f)) {
		switch (*p) {
		case '\n': sb_adds(sb, "\\n"); break;
		case '\r': sb_adds(sb, "\\r"); break;
		case '\t': sb_adds(sb, "\\t"); break;
		case 0x1b: sb_adds(sb, "\\e"); break;
		default: sb_addf(sb, "\\x%02x", *p);
		}
	} else if ((cp >= 0x80 && cp <= 0x9f) ||
		   (cp >= 0x202a && cp <= 0x202e) ||
		   (cp >= 0x2066 && cp <= 0x2069)) {
		sb_addf(sb, "\\u%04x", cp);
	} else {
		sb_add(sb, p, n);
	}
}

void esc_term(struct sbuf *sb, const char *s)
{
	esc_walk(sb, s, term_one);
}

/* a ring of buffers, so several escaped strings fit in one printf */
#define TERM_RING 16

const char *tesc(const char *s)
{
	static __thread struct sbuf ring[TERM_RING];
	static __thread unsigned int next;
	struct sbuf *sb = &ring[next++ % TERM_RING];

	if (!sb->buf)
		sb_init(sb);
	sb_reset(sb);
	esc_term(sb, s);
	return sb->buf ? sb->buf : "";
}

/*
 * One line of a line-based markup: newlines become spaces and the
 * characters in special are backslashed, then the line goes through the
 * sink's own escaping.
 */
static void esc_line(struct sbuf *sb, const char *s, const char *special,
		     void (*then)(struct sbuf *, const char *))
{
	struct sbuf tmp;
	const char *p;

	sb_init(&tmp);
	for (p = s ? s : ""; *p; p++) {
		if (*p == '\n' || *p == '\r')
			sb_addc(&tmp, ' ');
		else if (strchr(special, *p))
			sb_addf(&tmp, "\\%c", *p);
		else
			sb_addc(&tmp, *p);
	}
	then(sb, tmp.buf ? tmp.buf : "");
	sb_free(&tmp);
}

void esc_md(struct sbuf *sb, const char *s)
{
	esc_line(sb, s, "\\`*_[]|~", esc_html);
}

/* a TAP consumer shows the line on a terminal: controls visible */
void esc_tap(struct sbuf *sb, const char *s)
{
	esc_line(sb, s, "#\\", esc_term);
}

static void md_code_one(struct sbuf *sb, const unsigned char *p, size_t n)
{
	if (!n || nonchar(p, n) || (n == 1 && (*p < 0x20 || *p == 0x7f)))
		sb_adds(sb, REPLACEMENT);
	else if (*p == '`')
		sb_addc(sb, '\'');
	else
		sb_add(sb, p, n);
}

/* inside a code span only a backtick ends it; controls and bad bytes
 * become U+FFFD, as in the rest of the page */
void esc_md_code(struct sbuf *sb, const char *s)
{
	esc_walk(sb, s, md_code_one);
}
