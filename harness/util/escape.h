/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Escaping for the text formats cdmbench writes from database strings:
 * HTML/XML (report, JUnit) and Markdown. Database text comes from kernel
 * logs, job files and workloads, so it is never trusted to be markup-free
 * or even valid UTF-8.
 */
#ifndef CDM_ESCAPE_H
#define CDM_ESCAPE_H

#include "util/util.h"

/*
 * Text or attribute value for HTML, SVG and XML: & < > " ' become
 * entities; control characters other than tab and newline, and bytes that
 * are not valid UTF-8, become U+FFFD, so the output is always well formed.
 */
void esc_html(struct sbuf *sb, const char *s);
/* at most max bytes of s (cut at a character boundary), then an ellipsis */
void esc_html_n(struct sbuf *sb, const char *s, size_t max);
/* a Markdown table cell or inline text: markup characters backslashed,
 * newlines as spaces, and HTML-escaped so no raw tags reach a renderer */
void esc_md(struct sbuf *sb, const char *s);
/* one line of TAP: newlines as spaces, '#' backslashed, and controls
 * shown as esc_term() shows them */
void esc_tap(struct sbuf *sb, const char *s);
/* the text of a Markdown code span: backticks as quotes, controls and
 * invalid UTF-8 as U+FFFD */
void esc_md_code(struct sbuf *sb, const char *s);
/* XML 1.0 text or attribute: like esc_html, but characters XML forbids
 * (C0 controls but tab, newline and CR; U+FFFE, U+FFFF) are dropped */
void esc_xml(struct sbuf *sb, const char *s);
/* s with invalid UTF-8 replaced by U+FFFD, nothing else changed */
void esc_utf8(struct sbuf *sb, const char *s);
/* one CSV field: RFC 4180 quoting, invalid UTF-8 as U+FFFD */
void esc_csv(struct sbuf *sb, const char *s);
/*
 * For a terminal: control characters, C1 controls, bidirectional
 * overrides and invalid UTF-8 shown visibly (\n, \e, \x9b, \u202e), so
 * that no stored string can move the cursor, retitle the window or break
 * a table row. tesc() returns it in one of 16 rotating buffers, for
 * printf arguments.
 */
void esc_term(struct sbuf *sb, const char *s);
const char *tesc(const char *s);
/* length of the valid UTF-8 sequence at p, or 0 if it is not one */
size_t utf8_len(const unsigned char *p);

#endif
