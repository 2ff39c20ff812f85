/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one option table type. A workload describes its knobs once, here, and
 * that description drives the job-file parser, --set on the command line,
 * `cdmbench list` and the configuration stored with each case.
 */
#ifndef CDM_OPT_H
#define CDM_OPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/util.h"

enum cdm_opt_type {
	CDM_T_BOOL,		/* bool */
	CDM_T_INT,		/* int64_t */
	CDM_T_SIZE,		/* uint64_t bytes: 4K, 2M, 1G */
	CDM_T_DURATION,		/* uint64_t nanoseconds: 500ms, 10s */
	CDM_T_ENUM,		/* int: index into choices */
	CDM_T_STRING,		/* char *, owned by the config */
	CDM_T_DOUBLE,		/* double */
};

enum {
	CDM_OF_PAGE_ALIGNED = 1 << 0,	/* size must be a multiple of the page size */
	CDM_OF_NOMATCH = 1 << 1,	/* not part of a case's identity (repeat, timeout) */
	CDM_OF_NOLIST = 1 << 2,		/* commas are part of the value, no matrix */
	/* in a case's identity only when set away from the default: an
	 * option added later leaves older results comparable */
	CDM_OF_KEY_IF_SET = 1 << 3,
};

struct cdm_opt {
	const char *name;
	enum cdm_opt_type type;
	size_t off;		/* offsetof() the field in the config struct */
	const char *def;	/* default, written as a user would write it */
	double min;		/* inclusive range for numeric types */
	double max;
	const char *choices;	/* CDM_T_ENUM: "a|b|c" */
	unsigned int flags;
	const char *help;
	/* CDM_T_STRING: validate a value (a likwid-pin expression, a group) */
	int (*check)(const char *val, char *err, size_t errlen);
};

#define CDM_OPT_END { .name = NULL }

const char *cdm_opt_type_name(enum cdm_opt_type t);

/*
 * Parse one value for opt into the config struct at base. On error a
 * message without location is written to err; callers prefix the
 * file:line or the option that was being parsed.
 */
int cdm_opt_parse(const struct cdm_opt *o, void *base, const char *val,
		  char *err, size_t errlen) __must_check;
/* apply every default in the table */
void cdm_opt_defaults(const struct cdm_opt *tab, void *base);
void cdm_opt_free(const struct cdm_opt *tab, void *base);
/* canonical text form of a field: what `list`, the DB and reports show */
void cdm_opt_format(const struct cdm_opt *o, const void *base, char *buf,
		    size_t len);
const struct cdm_opt *cdm_opt_find(const struct cdm_opt *tab, const char *name);
size_t cdm_opt_count(const struct cdm_opt *tab);
/* range text for `list`, e.g. "4K..256M" */
void cdm_opt_range(const struct cdm_opt *o, char *buf, size_t len);

/* the central unit parsers: every size and duration goes through these */
int cdm_parse_size(const char *s, uint64_t *out, char *err, size_t errlen);
int cdm_parse_duration(const char *s, uint64_t *out_ns, char *err,
		       size_t errlen);
int cdm_parse_int(const char *s, int64_t *out, char *err, size_t errlen);
int cdm_parse_bool(const char *s, bool *out, char *err, size_t errlen);
/* a command-line number in [lo, hi], a trailing % allowed: "5", "2.5%" */
int cdm_parse_number_arg(const char *cmd, const char *opt, const char *arg,
			 double lo, double hi, double *out) __must_check;
void cdm_format_size(uint64_t v, char *buf, size_t len);
void cdm_format_duration(uint64_t ns, char *buf, size_t len);

#define OPT_FIELD(type, field) \
	.off = offsetof(type, field)

#endif
