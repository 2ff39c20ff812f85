/* SPDX-License-Identifier: GPL-2.0 */
/* InfluxDB line protocol: escaping and points (cdmbench push). */
#ifndef CDM_FLEET_LINEPROTO_H
#define CDM_FLEET_LINEPROTO_H

#include <stdbool.h>
#include <stdint.h>

#include "util/util.h"

/*
 * v2: the InfluxDB 2.x rules, where "\\" is one backslash; else 1.x's,
 * where a backslash before an ordinary character is literal.
 */
/* escape for a measurement name: commas and spaces */
void lp_measurement(struct sbuf *sb, const char *s, bool v2);
/* escape for a tag key, tag value or field key: commas, '=' and spaces */
void lp_key(struct sbuf *sb, const char *s, bool v2);
/* ",key=value" for a tag; nothing for an empty value (not allowed) */
void lp_tag(struct sbuf *sb, const char *key, const char *value, bool v2);
/* " value=V,seq=Ni T\n": the fields and the timestamp of one sample */
void lp_fields(struct sbuf *sb, double value, int64_t seq, int64_t ts);
/* "2026-12-01T10:00:00.123Z" -> nanoseconds since the epoch; -1 bad */
int64_t lp_iso_ns(const char *iso);

#endif
