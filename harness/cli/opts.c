// SPDX-License-Identifier: GPL-2.0
/*
 * The one command-line parser (opts.h): getopt_long underneath, the
 * option's kind decides how its argument is checked and stored, and
 * --help is printed from the same table.
 */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/opts.h"
#include "core/opt.h"

#define HELP_COL 24

static void *field(void *args, const struct cli_opt *o)
{
	return (char *)args + o->off;
}

static bool choice_ok(const char *choices, const char *v)
{
	size_t n = strlen(v);
	const char *p = choices;

	while (*p) {
		size_t l = strcspn(p, "|");

		if (l == n && !strncmp(p, v, n))
			return true;
		p += l + (p[l] == '|');
	}
	return false;
}

/* "text|json" -> "text or json"; "a|b|c" -> "a, b or c" */
static char *choice_list(const char *choices)
{
	struct sbuf sb;
	const char *p = choices;

	sb_init(&sb);
	while (*p) {
		size_t l = strcspn(p, "|");

		if (p != choices)
			sb_adds(&sb, strchr(p, '|') ? ", " : " or ");
		sb_add(&sb, p, l);
		p += l + (p[l] == '|');
	}
	return sb_detach(&sb);
}

static int parse_tag(struct cdm_kvlist *tags, const char *cmd,
		     const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *k;

	if (!eq || eq == arg)
		return cdm_err("%s: --tag %s: expected KEY=VALUE", cmd, arg);
	k = xasprintf("%.*s", (int)(eq - arg), arg);
	kv_set(tags, k, eq + 1);
	free(k);
	return 0;
}

static int parse_seed(struct cli_seed *s, const char *cmd, const char *arg)
{
	char err[128];
	int64_t v;

	if (cdm_parse_int(arg, &v, err, sizeof(err)))
		return cdm_err("%s: --seed: %s", cmd, err);
	if (v < 0)
		return cdm_err("%s: --seed %s: must not be negative", cmd, arg);
	s->v = v;
	s->set = true;
	return 0;
}

/* a whole number from 1, e.g. --limit 50 */
static int parse_count(long *out, const char *cmd, const char *opt,
		       const char *arg)
{
	double v;

	if (cdm_parse_number_arg(cmd, opt, arg, 1, 1e9, &v))
		return -1;
	if (v != (long)v || strchr(arg, '%'))
		return cdm_err("%s: %s %s: expected a whole number", cmd, opt,
			       arg);
	*out = v;
	return 0;
}

static int parse_one(const char *cmd, const struct cli_opt *o, void *args,
		     const char *arg)
{
	char err[160], opt[64];
	struct cli_list *l;
	char *choices;

	snprintf(opt, sizeof(opt), "--%s", o->name);
	switch (o->kind) {
	case CLI_FLAG:
		*(bool *)field(args, o) = true;
		return 0;
	case CLI_STR:
		*(const char **)field(args, o) = arg;
		return 0;
	case CLI_CHOICE:
		if (choice_ok(o->choices, arg)) {
			*(const char **)field(args, o) = arg;
			return 0;
		}
		choices = choice_list(o->choices);
		cdm_err("%s: %s %s: expected %s", cmd, opt, arg, choices);
		free(choices);
		return -1;
	case CLI_NUM:
		return cdm_parse_number_arg(cmd, opt, arg, o->min, o->max,
					    field(args, o));
	case CLI_COUNT:
		return parse_count(field(args, o), cmd, opt, arg);
	case CLI_INT:
		if (cdm_parse_int(arg, field(args, o), err, sizeof(err)))
			return cdm_err("%s: %s: %s", cmd, opt, err);
		return 0;
	case CLI_SIZE:
		if (cdm_parse_size(arg, field(args, o), err, sizeof(err)))
			return cdm_err("%s: %s: %s", cmd, opt, err);
		return 0;
	case CLI_DURATION:
		if (cdm_parse_duration(arg, field(args, o), err, sizeof(err)))
			return cdm_err("%s: %s: %s", cmd, opt, err);
		if (!*(uint64_t *)field(args, o))
			return cdm_err("%s: %s: must not be 0", cmd, opt);
		return 0;
	case CLI_LIST:
		l = field(args, o);
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(char *));
		l->v[l->n++] = (char *)arg;
		return 0;
	case CLI_TAG:
		return parse_tag(field(args, o), cmd, arg);
	case CLI_SEED:
		return parse_seed(field(args, o), cmd, arg);
	case CLI_QUIET:
		cdm_quiet = true;
		return 0;
	case CLI_CALL:
		return o->call(args, arg, cmd);
	}
	return -1;
}

/* getopt_long's tables from ours; the index of a row is its val + 256 */
static void build(const struct cli_spec *spec, struct option **lo,
		  struct sbuf *so)
{
	const struct cli_opt *o;
	size_t n = 0, i;

	for (o = spec->opts; o && o->name; o++)
		n++;
	*lo = xcalloc(n + 2, sizeof(**lo));
	sb_init(so);
	if (spec->in_order)
		sb_addc(so, '+');
	for (i = 0; i < n; i++) {
		o = &spec->opts[i];
		(*lo)[i].name = o->name;
		(*lo)[i].has_arg = o->arg ? required_argument : no_argument;
		(*lo)[i].val = 256 + i;
		if (o->key) {
			sb_addc(so, o->key);
			if (o->arg)
				sb_addc(so, ':');
		}
	}
	(*lo)[n].name = "help";
	(*lo)[n].val = 'h' + 1024;
	sb_addc(so, 'h');
}

static const struct cli_opt *by_key(const struct cli_spec *spec, int c)
{
	const struct cli_opt *o;

	if (c >= 256 && c < 1024)
		return &spec->opts[c - 256];
	for (o = spec->opts; o && o->name; o++)
		if (o->key && o->key == c)
			return o;
	return NULL;
}

int cli_parse(const struct cli_spec *spec, int argc, char **argv, void *args)
{
	const char *cmd = spec->cmd;
	const struct cli_opt *o;
	struct option *lo;
	struct sbuf so;
	int c, r = CLI_PARSED;

	build(spec, &lo, &so);
	/* 0: glibc starts afresh, honouring a leading + of in_order */
	optind = 0;
	while (r == CLI_PARSED &&
	       (c = getopt_long(argc, argv, so.buf, lo, NULL)) != -1) {
		if (c == 'h' + 1024 || c == 'h') {
			cli_help(cmd);
			r = CLI_HELPED;
		} else if (!(o = by_key(spec, c))) {
			cli_usage_error(cmd);
			r = -1;
		} else if (parse_one(cmd, o, args, optarg)) {
			r = -1;
		}
	}
	free(lo);
	sb_free(&so);
	return r;
}

int cli_parse_exit(int r)
{
	return r == CLI_HELPED ? CDM_EXIT_OK : CDM_EXIT_USAGE;
}

static void print_opt(FILE *f, const struct cli_opt *o)
{
	char left[64];
	const char *h = o->help ? o->help : "";

	snprintf(left, sizeof(left), "%s%c%s--%s%s%s", o->key ? "-" : " ",
		 o->key ? o->key : ' ', o->key ? ", " : "  ", o->name,
		 o->arg ? " " : "", o->arg ? o->arg : "");
	if (strlen(left) >= HELP_COL)
		fprintf(f, "  %s\n%*s", left, HELP_COL + 2, "");
	else
		fprintf(f, "  %-*s", HELP_COL, left);
	for (;;) {
		size_t l = strcspn(h, "\n");

		fprintf(f, "%.*s\n", (int)l, h);
		if (!h[l])
			break;
		h += l + 1;
		fprintf(f, "%*s", HELP_COL + 2, "");
	}
}

void cli_print_help(FILE *f, const struct cli_spec *spec)
{
	const struct cli_opt *o;

	fputs(spec->usage, f);
	if (spec->about)
		fprintf(f, "\n%s", spec->about);
	if (spec->opts && spec->opts->name) {
		fputc('\n', f);
		for (o = spec->opts; o->name; o++)
			print_opt(f, o);
	}
	if (spec->more)
		fprintf(f, "\n%s", spec->more);
}

void cli_list_free(struct cli_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}
