// SPDX-License-Identifier: GPL-2.0
/*
 * InfluxDB line protocol, written by hand because it is a one-line
 * format with three escaping rules, and no Debian library writes it.
 *
 *   measurement,tag=v,tag=v value=1.5,seq=3i 1733000000003
 *
 * Measurement names escape commas and spaces; tag keys, tag values and
 * field keys also escape '='. Backslashes are where servers differ:
 * InfluxDB 1.x reads a backslash before any other character literally
 * and has no escape for a backslash, so a name's final backslash (which
 * would escape the separator after it) is written "\\ " and reads back
 * with a trailing space; the 2.x rules (and VictoriaMetrics) read "\\"
 * as one backslash, so there every backslash is doubled and every name
 * reads back exactly. Line protocol has no escape for a newline or other
 * control character: they are written as '?'. Tags with an empty value
 * are left out (the protocol forbids them).
 */
#include <math.h>
#include <string.h>
#include <time.h>

#include "fleet/lineproto.h"

static void lp_escape(struct sbuf *sb, const char *s, const char *special,
		      bool v2)
{
	for (; *s; s++) {
		unsigned char c = *s;

		if (c < 0x20 || c == 0x7f) {
			sb_addc(sb, '?');
			continue;
		}
		if (strchr(special, c) || (v2 && c == '\\'))
			sb_addc(sb, '\\');
		sb_addc(sb, c);
		/* 1.x: a final backslash would escape the separator */
		if (!v2 && c == '\\' && !s[1])
			sb_adds(sb, "\\ ");
	}
}

void lp_measurement(struct sbuf *sb, const char *s, bool v2)
{
	lp_escape(sb, s, ", ", v2);
}

void lp_key(struct sbuf *sb, const char *s, bool v2)
{
	lp_escape(sb, s, ",= ", v2);
}

void lp_tag(struct sbuf *sb, const char *key, const char *value, bool v2)
{
	if (!value || !*value)
		return;
	sb_addc(sb, ',');
	lp_key(sb, key, v2);
	sb_addc(sb, '=');
	lp_key(sb, value, v2);
}

void lp_fields(struct sbuf *sb, double value, int64_t seq, int64_t ts)
{
	sb_addf(sb, " value=%.17g,seq=%lldi %lld\n", value, (long long)seq,
		(long long)ts);
}

int64_t lp_iso_ns(const char *iso)
{
	struct tm tm = { 0 };
	const char *p = strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm);
	int64_t ns = 0, scale = 100000000;

	if (!p)
		return -1;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			ns += (*p - '0') * scale;
			scale /= 10;
		}
	}
	return (int64_t)timegm(&tm) * 1000000000 + ns;
}
