// SPDX-License-Identifier: GPL-2.0
/*
 * Acceptance expectations (grammar in expect.h). Checked when the job is
 * loaded, so a typo fails with file:line before anything runs; evaluated
 * by the runner after each case against its summaries, facts and kernel
 * log. The verdict of a stored run is store/accept.c's.
 */
#include <ctype.h>
#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/expect.h"
#include "core/kmsg.h"

#define MAX_CLAUSES 8
#define UNIT_LEN 24

enum { OP_LT, OP_LE, OP_GT, OP_GE, OP_EQ, OP_NE };
static const char *const op_names[] = { "<", "<=", ">", ">=", "==", "!=" };

enum {
	ST_MIN, ST_P5, ST_MEDIAN, ST_MEAN, ST_P95, ST_P99, ST_MAX, ST_STDDEV,
	ST_MAD, ST_N, ST_NONFINITE, ST_NOISE, ST_COUNT
};
static const char *const stat_names[ST_COUNT] = {
	"min", "p5", "median", "mean", "p95", "p99", "max", "stddev", "mad",
	"n", "nonfinite", "noise"
};

enum { K_METRIC, K_INFO, K_KMSG, K_VERDICT, K_INTEGRITY };
static const char *const key_names[] = { "metric.NAME", "info.KEY", "kmsg",
					 "verdict", "integrity" };

enum { E_PASS, E_FAIL, E_SKIP };
static const char *const status_names[] = { "pass", "fail", "skip" };

struct clause {
	int stat;
	int op;
	double value;
	char unit[UNIT_LEN];
};

/* unit families: a threshold converts to the metric's unit within one */
struct unit {
	const char *name;
	int family;
	double scale;
};

static const struct unit units[] = {
	{ "ns", 1, 1 }, { "us", 1, 1e3 }, { "ms", 1, 1e6 }, { "s", 1, 1e9 },
	{ "B/s", 2, 1 }, { "KB/s", 2, 1e3 }, { "MB/s", 2, 1e6 },
	{ "GB/s", 2, 1e9 }, { "TB/s", 2, 1e12 }, { "KiB/s", 2, 1024.0 },
	{ "MiB/s", 2, 1048576.0 }, { "GiB/s", 2, 1073741824.0 },
	{ "B", 3, 1 }, { "KB", 3, 1e3 }, { "MB", 3, 1e6 }, { "GB", 3, 1e9 },
	{ "KiB", 3, 1024.0 }, { "MiB", 3, 1048576.0 },
	{ "GiB", 3, 1073741824.0 }, { "%", 4, 1 },
};

static const struct unit *find_unit(const char *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(units); i++)
		if (!strcmp(units[i].name, u))
			return &units[i];
	return NULL;
}

/* metric units per `from` unit; NAN when they do not convert */
static double unit_factor(const char *from, const char *to)
{
	const struct unit *a, *b;

	if (!*from || !strcmp(from, to))
		return 1;
	a = find_unit(from);
	b = find_unit(to);
	if (!a || !b || a->family != b->family)
		return NAN;
	return a->scale / b->scale;
}

static const char *skip_ws(const char *s)
{
	while (isspace((unsigned char)*s))
		s++;
	return s;
}

static const char *parse_op(const char *s, int *op)
{
	static const struct { const char *text; int op; } ops[] = {
		{ "<=", OP_LE }, { ">=", OP_GE }, { "==", OP_EQ },
		{ "!=", OP_NE }, { "<", OP_LT }, { ">", OP_GT }, { "=", OP_EQ },
	};
	size_t i;

	for (i = 0; i < ARRAY_SIZE(ops); i++) {
		if (startswith(s, ops[i].text)) {
			*op = ops[i].op;
			return s + strlen(ops[i].text);
		}
	}
	return NULL;
}

static bool op_holds(int op, double a, double b)
{
	switch (op) {
	case OP_LT:
		return a < b;
	case OP_LE:
		return a <= b;
	case OP_GT:
		return a > b;
	case OP_GE:
		return a >= b;
	case OP_EQ:
		return a == b;
	default:
		return a != b;
	}
}

static int stat_find(const char *name)
{
	int i;

	for (i = 0; i < ST_COUNT; i++)
		if (!strcmp(stat_names[i], name))
			return i;
	return -1;
}

static double stat_value(const struct cdm_summary *s, int st)
{
	static const size_t off[] = {
		offsetof(struct cdm_summary, min),
		offsetof(struct cdm_summary, p5),
		offsetof(struct cdm_summary, median),
		offsetof(struct cdm_summary, mean),
		offsetof(struct cdm_summary, p95),
		offsetof(struct cdm_summary, p99),
		offsetof(struct cdm_summary, max),
		offsetof(struct cdm_summary, stddev),
		offsetof(struct cdm_summary, mad),
	};

	if (st == ST_N)
		return s->n;
	if (st == ST_NONFINITE)
		return s->nonfinite;
	if (st == ST_NOISE)
		return cdm_noise_pct(s->mad, s->median);
	return *(const double *)((const char *)s + off[st]);
}

/* "median >= 5 GB/s", "p99<2ms", "noise <= 3 %" */
static int parse_clause(const char *s, struct clause *c, char *err,
			size_t len)
{
	char word[32], *end;
	const char *p = skip_ws(s), *hint;
	size_t n = 0;

	while (isalnum((unsigned char)p[n]) && n < sizeof(word) - 1)
		n++;
	snprintf(word, sizeof(word), "%.*s", (int)n, p);
	c->stat = stat_find(word);
	if (c->stat < 0) {
		hint = nearest_name(word, stat_names, ST_COUNT);
		return cdm_set_err(err, len, "'%s' is not a statistic%s%s%s (one of min, p5, median, mean, p95, p99, max, stddev, mad, n, nonfinite, noise)",
				   word, hint ? "; did you mean '" : "",
				   hint ? hint : "", hint ? "'?" : "");
	}
	p = parse_op(skip_ws(p + n), &c->op);
	if (!p)
		return cdm_set_err(err, len, "expected an operator (<, <=, >, >=, ==, !=) after '%s'",
				   word);
	p = skip_ws(p);
	c->value = strtod(p, &end);
	if (end == p || !isfinite(c->value))
		return cdm_set_err(err, len, "expected a number after '%s %s'",
				   word, op_names[c->op]);
	p = skip_ws(end);
	n = strlen(p);
	while (n && isspace((unsigned char)p[n - 1]))
		n--;
	if (n >= UNIT_LEN || memchr(p, ' ', n))
		return cdm_set_err(err, len, "'%.*s' is not a unit", (int)n, p);
	snprintf(c->unit, sizeof(c->unit), "%.*s", (int)n, p);
	if (!strcmp(c->unit, "and"))
		return cdm_set_err(err, len, "a condition must follow 'and'");
	if ((c->stat == ST_N || c->stat == ST_NONFINITE) && n)
		return cdm_set_err(err, len, "%s is a count and takes no unit",
				   word);
	if (c->stat == ST_NOISE && n && strcmp(c->unit, "%"))
		return cdm_set_err(err, len, "noise is in %% of the median, not '%s'",
				   c->unit);
	return 0;
}

/* clauses joined by "and" */
static int parse_clauses(const char *v, struct clause *cl, int *ncl,
			 char *err, size_t len)
{
	char *copy = xstrdup(v), *p = copy, *and;
	int r = 0;

	*ncl = 0;
	do {
		and = strstr(p, " and ");
		if (and)
			*and = 0;
		if (*ncl == MAX_CLAUSES) {
			r = cdm_set_err(err, len, "more than %d conditions",
					MAX_CLAUSES);
			break;
		}
		r = parse_clause(p, &cl[(*ncl)++], err, len);
		p = and ? and + 5 : NULL;
	} while (!r && p);
	free(copy);
	return r;
}

static int key_kind(const char *key, const char **name)
{
	*name = key;
	if (startswith(key, "metric.")) {
		*name = key + 7;
		return K_METRIC;
	}
	if (startswith(key, "info.")) {
		*name = key + 5;
		return K_INFO;
	}
	if (!strcmp(key, "kmsg"))
		return K_KMSG;
	if (!strcmp(key, "verdict"))
		return K_VERDICT;
	if (!strcmp(key, "integrity"))
		return K_INTEGRITY;
	return -1;
}

/* pass|skip as a bit set of verdicts; -1 if it names anything else */
static int parse_verdicts(const char *v)
{
	char *copy = xstrdup(v), *tok, *save = NULL;
	int set = 0, bit;

	for (tok = strtok_r(copy, "|, ", &save); tok;
	     tok = strtok_r(NULL, "|, ", &save)) {
		bit = cdm_verdict_parse(tok);
		if (bit != CDM_PASS && bit != CDM_SKIP) {
			set = -1;
			break;
		}
		set |= 1 << bit;
	}
	free(copy);
	return set ? set : -1;
}

static int check_info(const char *v, char *err, size_t len)
{
	const char *p;
	char *end;
	int op;

	if (!strcmp(v, "present") || !strcmp(v, "absent"))
		return 0;
	p = parse_op(v, &op);
	if (!p || op == OP_EQ || op == OP_NE)
		return 0;	/* a glob, or == / != with text */
	p = skip_ws(p);
	if (!isfinite(strtod(p, &end)) || end == p || *skip_ws(end))
		return cdm_set_err(err, len, "expected a number after '%s'",
				   op_names[op]);
	return 0;
}

static int check_one(const char *key, const char *v, char *err, size_t len)
{
	struct clause cl[MAX_CLAUSES];
	const char *name, *hint;
	int n;

	switch (key_kind(key, &name)) {
	case K_METRIC:
		if (!*name)
			return cdm_set_err(err, len, "which metric? (expect.metric.NAME)");
		return parse_clauses(v, cl, &n, err, len);
	case K_INFO:
		if (!*name)
			return cdm_set_err(err, len, "which fact? (expect.info.KEY)");
		return check_info(v, err, len);
	case K_KMSG:
		if (strcmp(v, "clean"))
			return cdm_set_err(err, len, "expected 'clean' (no kernel warning, BUG, oops... during the case)");
		return 0;
	case K_VERDICT:
		if (parse_verdicts(v) < 0)
			return cdm_set_err(err, len, "expected pass, skip or pass|skip (a failing case is never accepted)");
		return 0;
	case K_INTEGRITY:
		if (strcmp(v, "ok"))
			return cdm_set_err(err, len, "expected 'ok'");
		return 0;
	}
	hint = nearest_name(key, key_names, ARRAY_SIZE(key_names));
	return cdm_set_err(err, len, "unknown expectation%s%s%s (expect.metric.NAME, expect.info.KEY, expect.kmsg, expect.verdict or expect.integrity)",
			   hint ? "; did you mean '" : "", hint ? hint : "",
			   hint ? "'?" : "");
}

int cdm_expect_check(const char *key, const char *value, char *err,
		     size_t len)
{
	char msg[384];

	if (!check_one(key, value, msg, sizeof(msg)))
		return 0;
	return cdm_set_err(err, len, "expect.%s = %s: %s", key, value, msg);
}

/* --- evaluation after a case --- */

struct eval {
	struct cdm_case_res *c;
	int verdict;		/* the case's verdict before expectations */
	char *out;
	size_t len;
};

static int detail(struct eval *e, int status, const char *fmt, ...)
	__printf(3, 4);
static int detail(struct eval *e, int status, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e->out, e->len, fmt, ap);
	va_end(ap);
	return status;
}

/* a missing metric or fact fails a passing case; otherwise it is moot */
static int missing(struct eval *e, const char *what)
{
	if (e->verdict == CDM_PASS)
		return detail(e, E_FAIL, "%s", what);
	return detail(e, E_SKIP, "not evaluated: the case ended %s",
		      cdm_verdict_name(e->verdict));
}

static const struct cdm_metric_res *find_metric(const struct cdm_case_res *c,
						const char *name)
{
	size_t i;

	for (i = 0; i < c->nmetrics; i++)
		if (c->metrics[i].name && !strcmp(c->metrics[i].name, name))
			return &c->metrics[i];
	return NULL;
}

static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	snprintf(buf, len, "%.6g%s%s", v, *unit ? " " : "", unit);
}

static int eval_clause(struct eval *e, const struct cdm_metric_res *m,
		       const struct clause *c, struct sbuf *passed)
{
	const char *unit = *c->unit ? c->unit : c->stat >= ST_N ? "" : m->unit;
	double f = c->stat >= ST_N ? 1 : unit_factor(c->unit, m->unit);
	double v = stat_value(&m->sum, c->stat);
	char got[64], want[64];

	if (c->stat == ST_NOISE)
		unit = "%";
	if (isnan(f))
		return detail(e, E_FAIL, "%s: unit '%s' does not convert to the metric's unit '%s'",
			      m->name, c->unit, m->unit);
	if (isnan(v))
		return detail(e, E_FAIL, "%s %s: no finite samples", m->name,
			      stat_names[c->stat]);
	/* shown in the unit the job file used */
	fmt_value(got, sizeof(got), v / f, unit);
	fmt_value(want, sizeof(want), c->value, unit);
	if (!op_holds(c->op, v, c->value * f))
		return detail(e, E_FAIL, "%s %s %s, expected %s %s", m->name,
			      stat_names[c->stat], got, op_names[c->op], want);
	sb_addf(passed, "%s%s %s %s %s", passed->len ? ", " : "",
		stat_names[c->stat], got, op_names[c->op], want);
	return E_PASS;
}

static int eval_metric(struct eval *e, const char *name, const char *v)
{
	const struct cdm_metric_res *m = find_metric(e->c, name);
	struct clause cl[MAX_CLAUSES];
	struct sbuf passed;
	char err[256];
	int n, i, r = E_PASS;

	if (e->verdict == CDM_SKIP)
		return detail(e, E_SKIP, "not evaluated: the case was skipped");
	if (!m)
		return missing(e, "the case reported no such metric");
	if (parse_clauses(v, cl, &n, err, sizeof(err)))
		return detail(e, E_FAIL, "%s", err);
	sb_init(&passed);
	for (i = 0; i < n && r == E_PASS; i++)
		r = eval_clause(e, m, &cl[i], &passed);
	if (r == E_PASS)
		detail(e, E_PASS, "%s %s", name, passed.buf);
	sb_free(&passed);
	return r;
}

static bool glob_any(const char *patterns, const char *value)
{
	char *copy = xstrdup(patterns), *tok, *save = NULL;
	bool hit = false;

	for (tok = strtok_r(copy, "|", &save); tok && !hit;
	     tok = strtok_r(NULL, "|", &save))
		hit = !fnmatch(strtrim(tok), value, 0);
	free(copy);
	return hit;
}

static int eval_info(struct eval *e, const char *key, const char *v)
{
	const char *got = kv_get(&e->c->info, key), *p;
	int op = OP_EQ;

	if (!strcmp(v, "absent"))
		return got ? detail(e, E_FAIL, "%s = %s, expected it absent", key, got) :
			     detail(e, E_PASS, "%s not reported", key);
	if (e->verdict == CDM_SKIP)
		return detail(e, E_SKIP, "not evaluated: the case was skipped");
	if (!got) {
		char what[300];

		snprintf(what, sizeof(what), "%s was not reported", key);
		return missing(e, what);
	}
	if (!strcmp(v, "present"))
		return detail(e, E_PASS, "%s = %s", key, got);
	p = parse_op(v, &op);
	if (p && op != OP_EQ && op != OP_NE) {
		char *end;
		double x = strtod(got, &end), want = strtod(skip_ws(p), NULL);

		if (end == got)
			return detail(e, E_FAIL, "%s = %s, not a number", key, got);
		if (!op_holds(op, x, want))
			return detail(e, E_FAIL, "%s = %s, expected %s", key, got, v);
		return detail(e, E_PASS, "%s = %s %s", key, got, v);
	}
	if (p)
		v = skip_ws(p);
	if (glob_any(v, got) == (op == OP_EQ))
		return detail(e, E_PASS, "%s = %s", key, got);
	return detail(e, E_FAIL, "%s = %s, expected %s%s", key, got,
		      op == OP_NE ? "anything but " : "", v);
}

static int eval_kmsg(struct eval *e)
{
	const struct cdm_kevents *k = &e->c->kev;
	size_t i, bad = 0, first = 0;

	for (i = 0; i < k->n; i++)
		if (kmsg_event_fails(&k->v[i]) && !bad++)
			first = i;
	if (!bad)
		return detail(e, E_PASS, "no kernel warnings (%zu log records)",
			      k->n);
	return detail(e, E_FAIL, "%zu kernel warning(s), first a %s: %.200s",
		      bad, cdm_kclass_name(k->v[first].cls), k->v[first].text);
}

static int eval_verdict(struct eval *e, const char *v)
{
	int set = parse_verdicts(v);
	const char *r = e->c->reason ? e->c->reason : "";

	if (set > 0 && (set & (1 << e->verdict)))
		return detail(e, E_PASS, "verdict %s",
			      cdm_verdict_name(e->verdict));
	return detail(e, E_FAIL, "verdict %s, expected %s%s%.200s",
		      cdm_verdict_name(e->verdict), v, *r ? ": " : "", r);
}

static int eval_integrity(struct eval *e)
{
	const char *got = kv_get(&e->c->info, "integrity");
	const char *r = e->c->reason ? e->c->reason : "";

	/* "ok" means a check ran and matched: a workload that checked
	 * nothing says "not checked", and so does silence */
	if (got)
		return detail(e, startswith(got, "ok") ? E_PASS : E_FAIL,
			      "integrity = %.300s", got);
	if (e->verdict == CDM_PASS)
		return detail(e, E_FAIL, "integrity not checked: the workload reported no data check");
	if (e->verdict == CDM_SKIP)
		return detail(e, E_SKIP, "not evaluated: the case was skipped");
	return detail(e, E_FAIL, "the case ended %s%s%.300s",
		      cdm_verdict_name(e->verdict), *r ? ": " : "", r);
}

static int eval_one(struct eval *e, const char *key, const char *v)
{
	const char *name;

	switch (key_kind(key, &name)) {
	case K_METRIC:
		return eval_metric(e, name, v);
	case K_INFO:
		return eval_info(e, name, v);
	case K_KMSG:
		return eval_kmsg(e);
	case K_VERDICT:
		return eval_verdict(e, v);
	case K_INTEGRITY:
		return eval_integrity(e);
	}
	/* job_expand() checked every key: this is a stale job text */
	return detail(e, E_FAIL, "unknown expectation");
}

void cdm_expect_eval(const struct cdm_kvlist *expect, struct cdm_case_res *c)
{
	struct eval e = { .c = c, .verdict = c->verdict };
	char out[600], *key, *val, *reason = NULL;
	size_t i;

	for (i = 0; i < expect->n; i++) {
		int st;

		e.out = out;
		e.len = sizeof(out);
		st = eval_one(&e, expect->v[i].key, expect->v[i].value);
		key = xasprintf("expect.%s", expect->v[i].key);
		val = xasprintf("%s: %s", status_names[st], out);
		kv_set(&c->info, key, val);
		if (st == E_FAIL && !reason)
			reason = xasprintf("%s failed: %s", key, out);
		free(key);
		free(val);
	}
	if (reason)
		case_res_verdict(c, CDM_FAIL, reason);
	free(reason);
}
