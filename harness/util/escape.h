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
/* one line of TAP: newlines as spaces and '#' backslashed */
void esc_tap(struct sbuf *sb, const char *s);

#endif
