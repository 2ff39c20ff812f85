// SPDX-License-Identifier: GPL-2.0
/*
 * Option parsing. Sizes and durations are parsed here and nowhere else, so
 * "4K" means the same thing in a job file, on the command line and in a
 * stored configuration.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/opt.h"

static const char *const type_names[] = {
	[CDM_T_BOOL] = "bool", [CDM_T_INT] = "int", [CDM_T_SIZE] = "size",
	[CDM_T_DURATION] = "duration", [CDM_T_ENUM] = "enum",
	[CDM_T_STRING] = "string", [CDM_T_DOUBLE] = "float",
};

const char *cdm_opt_type_name(enum cdm_opt_type t)
{
	if ((unsigned int)t < ARRAY_SIZE(type_names) && type_names[t])
		return type_names[t];
	return "?";
}

/*
 * Digits only: strtoull accepts a leading '-' and wraps it, and spaces,
 * neither of which a user means.
 */
static int parse_digits(const char **sp, uint64_t *out)
{
	const char *s = *sp;
	uint64_t v = 0;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	for (; isdigit((unsigned char)*s); s++) {
		unsigned int d = *s - '0';

		if (v > (UINT64_MAX - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	*sp = s;
	*out = v;
	return 0;
}

/* a number with a unit: what it is called, and its units' multipliers */
struct unit {
	const char *sfx;
	uint64_t mul;
};

struct quantity {
	const char *name, *overflow, *examples, *known;
	const struct unit *units;
	size_t nunits;
};

static int parse_quantity(const struct quantity *q, const char *s,
			  uint64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	uint64_t v;
	size_t i;
	int r;

	if (*p == '-')
		return cdm_set_err(err, errlen, "%s '%s' is negative", q->name, s);
	r = parse_digits(&p, &v);
	if (r == -ERANGE)
		return cdm_set_err(err, errlen, "%s '%s' %s", q->name, s,
				   q->overflow);
	if (r)
		return cdm_set_err(err, errlen, "'%s' is not a %s (examples: %s)",
				   s, q->name, q->examples);
	for (i = 0; i < q->nunits; i++) {
		if (strcmp(p, q->units[i].sfx))
			continue;
		if (v > UINT64_MAX / q->units[i].mul)
			return cdm_set_err(err, errlen, "%s '%s' %s", q->name, s,
					   q->overflow);
		*out = v * q->units[i].mul;
		return 0;
	}
	return cdm_set_err(err, errlen, "%s '%s' has unknown unit '%s' (use %s)",
			   q->name, s, p, q->known);
}

static const struct unit size_units[] = {
	{ "", 1 }, { "B", 1 },
	{ "K", 1ull << 10 }, { "KB", 1ull << 10 }, { "KiB", 1ull << 10 },
	{ "k", 1ull << 10 },
	{ "M", 1ull << 20 }, { "MB", 1ull << 20 }, { "MiB", 1ull << 20 },
	{ "m", 1ull << 20 },
	{ "G", 1ull << 30 }, { "GB", 1ull << 30 }, { "GiB", 1ull << 30 },
	{ "g", 1ull << 30 },
	{ "T", 1ull << 40 }, { "TB", 1ull << 40 }, { "TiB", 1ull << 40 },
	{ "t", 1ull << 40 },
};

static const struct quantity size_quantity = {
	"size", "overflows 64 bits", "4096, 4K, 2M, 1G", "K, M, G or T",
	size_units, ARRAY_SIZE(size_units),
};

int cdm_parse_size(const char *s, uint64_t *out, char *err, size_t errlen)
{
	return parse_quantity(&size_quantity, s, out, err, errlen);
}

static const struct unit duration_units[] = {
	{ "ns", 1 }, { "us", 1000 }, { "ms", 1000000 },
	{ "s", 1000000000ull }, { "", 1000000000ull },
	{ "m", 60000000000ull }, { "min", 60000000000ull },
	{ "h", 3600000000000ull },
};

static const struct quantity duration_quantity = {
	"duration", "overflows", "500ms, 10s, 2m", "ns, us, ms, s, m, h",
	duration_units, ARRAY_SIZE(duration_units),
};

int cdm_parse_duration(const char *s, uint64_t *out, char *err, size_t errlen)
{
	return parse_quantity(&duration_quantity, s, out, err, errlen);
}

int cdm_parse_int(const char *s, int64_t *out, char *err, size_t errlen)
{
	const char *p = s;
	bool neg = false;
	uint64_t v;
	int r;

	if (*p == '-') {
		neg = true;
		p++;
	}
	r = parse_digits(&p, &v);
	if (!r && *p)
		r = -EINVAL;
	if (r == -ERANGE || (!r && v > (uint64_t)INT64_MAX))
		return cdm_set_err(err, errlen, "integer '%s' overflows", s);
	if (r)
		return cdm_set_err(err, errlen, "'%s' is not an integer", s);
	*out = neg ? -(int64_t)v : (int64_t)v;
	return 0;
}

int cdm_parse_bool(const char *s, bool *out, char *err, size_t errlen)
{
	static const char *const yes[] = { "1", "yes", "true", "on" };
	static const char *const no[] = { "0", "no", "false", "off" };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return cdm_set_err(err, errlen, "'%s' is not a boolean (yes/no)", s);
}

static int parse_double(const char *s, double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v))
		return cdm_set_err(err, errlen, "'%s' is not a finite number", s);
	*out = v;
	return 0;
}

static int enum_index(const char *choices, const char *val)
{
	const char *p = choices;
	size_t vl = strlen(val);
	int idx = 0;

	while (*p) {
		const char *bar = strchr(p, '|');
		size_t l = bar ? (size_t)(bar - p) : strlen(p);

		if (l == vl && !strncmp(p, val, l))
			return idx;
		idx++;
		if (!bar)
			break;
		p = bar + 1;
	}
	return -1;
}

static void enum_name(const char *choices, int idx, char *buf, size_t len)
{
	const char *p = choices;

	while (idx-- > 0 && p) {
		p = strchr(p, '|');
		if (p)
			p++;
	}
	if (!p) {
		snprintf(buf, len, "?");
		return;
	}
	snprintf(buf, len, "%.*s", (int)strcspn(p, "|"), p);
}

static int check_range(const struct cdm_opt *o, double v, const char *val,
		       char *err, size_t errlen)
{
	char r[96];

	if (o->min == 0 && o->max == 0)
		return 0;
	if (v >= o->min && v <= o->max)
		return 0;
	cdm_opt_range(o, r, sizeof(r));
	return cdm_set_err(err, errlen, "%s=%s is out of range %s", o->name,
			   val, r);
}

static int parse_size_opt(const struct cdm_opt *o, void *field,
			  const char *val, char *err, size_t errlen)
{
	uint64_t v;
	long pg = sysconf(_SC_PAGESIZE);

	if (cdm_parse_size(val, &v, err, errlen))
		return -1;
	if (v == 0 && o->min > 0)
		return cdm_set_err(err, errlen, "%s=%s: size must not be 0",
				   o->name, val);
	if (check_range(o, (double)v, val, err, errlen))
		return -1;
	if ((o->flags & CDM_OF_PAGE_ALIGNED) && v % pg)
		return cdm_set_err(err, errlen,
				   "%s=%s is not a multiple of the %ld-byte page size",
				   o->name, val, pg);
	*(uint64_t *)field = v;
	return 0;
}

int cdm_opt_parse(const struct cdm_opt *o, void *base, const char *val,
		  char *err, size_t errlen)
{
	void *field = (char *)base + o->off;
	uint64_t u = 0;
	int64_t i = 0;
	double d = 0;
	bool b;
	int e;

	switch (o->type) {
	case CDM_T_BOOL:
		if (cdm_parse_bool(val, &b, err, errlen))
			return -1;
		*(bool *)field = b;
		return 0;
	case CDM_T_INT:
		if (cdm_parse_int(val, &i, err, errlen) ||
		    check_range(o, (double)i, val, err, errlen))
			return -1;
		*(int64_t *)field = i;
		return 0;
	case CDM_T_SIZE:
		return parse_size_opt(o, field, val, err, errlen);
	case CDM_T_DURATION:
		if (cdm_parse_duration(val, &u, err, errlen) ||
		    check_range(o, (double)u, val, err, errlen))
			return -1;
		*(uint64_t *)field = u;
		return 0;
	case CDM_T_DOUBLE:
		if (parse_double(val, &d, err, errlen) ||
		    check_range(o, d, val, err, errlen))
			return -1;
		*(double *)field = d;
		return 0;
	case CDM_T_ENUM:
		e = enum_index(o->choices, val);
		if (e < 0)
			return cdm_set_err(err, errlen, "%s=%s: expected one of %s",
					   o->name, val, o->choices);
		*(int *)field = e;
		return 0;
	case CDM_T_STRING:
		if (o->check && o->check(val, err, errlen))
			return -1;
		free(*(char **)field);
		*(char **)field = xstrdup(val);
		return 0;
	}
	return cdm_set_err(err, errlen, "internal: bad option type");
}

void cdm_opt_defaults(const struct cdm_opt *tab, void *base)
{
	char err[256];

	for (; tab->name; tab++) {
		if (tab->type == CDM_T_STRING)
			*(char **)((char *)base + tab->off) = NULL;
		if (cdm_opt_parse(tab, base, tab->def ? tab->def : "", err,
				  sizeof(err))) {
			/* a bad default is a programming error: say so loudly */
			fprintf(stderr, "cdmbench: internal: default of %s: %s\n",
				tab->name, err);
			abort();
		}
	}
}

void cdm_opt_free(const struct cdm_opt *tab, void *base)
{
	for (; tab->name; tab++) {
		if (tab->type == CDM_T_STRING) {
			free(*(char **)((char *)base + tab->off));
			*(char **)((char *)base + tab->off) = NULL;
		}
	}
}

int cdm_parse_number_arg(const char *cmd, const char *opt, const char *arg,
			 double lo, double hi, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	if (end != arg && *end == '%')
		end++;
	if (end == arg || *end || errno || !isfinite(v) || v < lo || v > hi)
		return cdm_err("%s: %s %s: expected a number from %g to %g", cmd,
			       opt, arg, lo, hi);
	*out = v;
	return 0;
}

void cdm_format_size(uint64_t v, char *buf, size_t len)
{
	static const char sfx[] = "KMGT";
	int i;

	/* largest binary unit that divides exactly, so it parses back */
	for (i = 3; i >= 0; i--) {
		uint64_t unit = 1ull << (10 * (i + 1));

		if (v && v % unit == 0) {
			snprintf(buf, len, "%llu%c",
				 (unsigned long long)(v / unit), sfx[i]);
			return;
		}
	}
	snprintf(buf, len, "%llu", (unsigned long long)v);
}

void cdm_format_duration(uint64_t ns, char *buf, size_t len)
{
	static const struct {
		const char *sfx;
		uint64_t ns;
	} units[] = {
		{ "h", 3600000000000ull }, { "m", 60000000000ull },
		{ "s", 1000000000ull }, { "ms", 1000000 }, { "us", 1000 },
	};
	size_t i;

	if (!ns) {
		snprintf(buf, len, "0");
		return;
	}
	for (i = 0; i < ARRAY_SIZE(units); i++) {
		if (ns % units[i].ns == 0) {
			snprintf(buf, len, "%llu%s",
				 (unsigned long long)(ns / units[i].ns),
				 units[i].sfx);
			return;
		}
	}
	snprintf(buf, len, "%lluns", (unsigned long long)ns);
}

void cdm_opt_format(const struct cdm_opt *o, const void *base, char *buf,
		    size_t len)
{
	const void *field = (const char *)base + o->off;

	switch (o->type) {
	case CDM_T_BOOL:
		snprintf(buf, len, "%s", *(const bool *)field ? "yes" : "no");
		break;
	case CDM_T_INT:
		snprintf(buf, len, "%lld", (long long)*(const int64_t *)field);
		break;
	case CDM_T_SIZE:
		cdm_format_size(*(const uint64_t *)field, buf, len);
		break;
	case CDM_T_DURATION:
		cdm_format_duration(*(const uint64_t *)field, buf, len);
		break;
	case CDM_T_DOUBLE:
		snprintf(buf, len, "%g", *(const double *)field);
		break;
	case CDM_T_ENUM:
		enum_name(o->choices, *(const int *)field, buf, len);
		break;
	case CDM_T_STRING:
		snprintf(buf, len, "%s",
			 *(char *const *)field ? *(char *const *)field : "");
		break;
	}
}

const struct cdm_opt *cdm_opt_find(const struct cdm_opt *tab, const char *name)
{
	for (; tab && tab->name; tab++)
		if (!strcmp(tab->name, name))
			return tab;
	return NULL;
}

size_t cdm_opt_count(const struct cdm_opt *tab)
{
	size_t n = 0;

	while (tab && tab[n].name)
		n++;
	return n;
}

void cdm_opt_range(const struct cdm_opt *o, char *buf, size_t len)
{
	char a[32], b[32];

	if (o->type == CDM_T_ENUM) {
		snprintf(buf, len, "%s", o->choices);
		return;
	}
	if (o->min == 0 && o->max == 0) {
		snprintf(buf, len, "-");
		return;
	}
	switch (o->type) {
	case CDM_T_SIZE:
		cdm_format_size((uint64_t)o->min, a, sizeof(a));
		cdm_format_size((uint64_t)o->max, b, sizeof(b));
		break;
	case CDM_T_DURATION:
		cdm_format_duration((uint64_t)o->min, a, sizeof(a));
		cdm_format_duration((uint64_t)o->max, b, sizeof(b));
		break;
	default:
		snprintf(a, sizeof(a), "%.15g", o->min);
		snprintf(b, sizeof(b), "%.15g", o->max);
	}
	snprintf(buf, len, "%s..%s", a, b);
}
