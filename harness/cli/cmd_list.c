// SPDX-License-Identifier: GPL-2.0
/* `cdmbench list`: workloads, backends and options, from the option tables. */
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/job.h"

static void print_opts(const char *title, const struct cdm_opt *o)
{
	char range[96];

	printf("  %s\n", title);
	if (!o || !o->name) {
		printf("    (none)\n");
		return;
	}
	printf("    %-18s %-9s %-9s %-18s %s\n", "option", "type", "default",
	       "range", "help");
	for (; o->name; o++) {
		cdm_opt_range(o, range, sizeof(range));
		printf("    %-18s %-9s %-9s %-18s %s%s\n", o->name,
		       cdm_opt_type_name(o->type), o->def, range, o->help,
		       (o->flags & CDM_OF_PAGE_ALIGNED) ? " (page-aligned)" : "");
	}
}

static void json_opts(struct json *j, const char *key, const struct cdm_opt *o)
{
	char range[96];

	json_arr_open(j, key);
	for (; o && o->name; o++) {
		cdm_opt_range(o, range, sizeof(range));
		json_obj_open(j, NULL);
		json_str(j, "name", o->name);
		json_str(j, "type", cdm_opt_type_name(o->type));
		json_str(j, "default", o->def);
		json_str(j, "range", range);
		json_str(j, "help", o->help);
		json_bool(j, "page_aligned", o->flags & CDM_OF_PAGE_ALIGNED);
		json_obj_close(j);
	}
	json_arr_close(j);
}

/* what a workload verifies, and how a test proves the check is live */
static void json_verify(struct json *j, const struct cdm_workload *w)
{
	json_arr_open(j, "verifies");
	if (w->verifies & CDM_VERIFY_DATA)
		json_str(j, NULL, "data");
	if (w->verifies & CDM_VERIFY_PLACEMENT)
		json_str(j, NULL, "placement");
	json_arr_close(j);
	if (!w->tamper) {
		json_null(j, "tamper");
		return;
	}
	json_obj_open(j, "tamper");
	json_str(j, "option", w->tamper);
	json_str(j, "value", w->tamper_value);
	json_obj_close(j);
}

static void print_verify(const struct cdm_workload *w)
{
	printf("  verifies: %s%s%s", w->verifies ? "" : "nothing",
	       (w->verifies & CDM_VERIFY_DATA) ? "data" : "",
	       (w->verifies & CDM_VERIFY_PLACEMENT) ?
	       ((w->verifies & CDM_VERIFY_DATA) ? ", placement" : "placement") :
	       "");
	if (w->tamper)
		printf("; %s=%s must fail the case, naming the page",
		       w->tamper, w->tamper_value);
	printf("\n");
}

static void backends(const char **out, size_t *n)
{
	size_t i, k;

	*n = 0;
	for (i = 0; cdm_workloads[i]; i++) {
		for (k = 0; k < *n; k++)
			if (!strcmp(out[k], cdm_workloads[i]->backend))
				break;
		if (k == *n && *n < 16)
			out[(*n)++] = cdm_workloads[i]->backend;
	}
}

static int list_json(const char *only)
{
	const char *be[16];
	struct sbuf sb;
	struct json j;
	size_t i, nb;

	json_doc(&j, &sb);
	backends(be, &nb);
	json_arr_open(&j, "backends");
	for (i = 0; i < nb; i++)
		json_str(&j, NULL, be[i]);
	json_arr_close(&j);
	json_opts(&j, "common_options", cdm_common_opts);
	json_arr_open(&j, "workloads");
	for (i = 0; cdm_workloads[i]; i++) {
		const struct cdm_workload *w = cdm_workloads[i];

		if (only && strcmp(only, w->name))
			continue;
		json_obj_open(&j, NULL);
		json_str(&j, "name", w->name);
		json_str(&j, "backend", w->backend);
		json_str(&j, "summary", w->summary);
		json_opts(&j, "options", w->opts);
		json_verify(&j, w);
		json_obj_close(&j);
	}
	json_arr_close(&j);
	json_obj_close(&j);
	fputs(sb.buf, stdout);
	sb_free(&sb);
	return 0;
}

static void list_text(const char *only)
{
	const char *be[16];
	size_t i, nb;

	if (!only) {
		printf("Workloads:\n");
		for (i = 0; cdm_workloads[i]; i++)
			printf("  %-14s %-8s %s\n", cdm_workloads[i]->name,
			       cdm_workloads[i]->backend,
			       cdm_workloads[i]->summary);
		backends(be, &nb);
		printf("\nBackends:");
		for (i = 0; i < nb; i++)
			printf(" %s", be[i]);
		printf("  (hip and cuda: not built in this version)\n\n");
		print_opts("Options every case has:", cdm_common_opts);
		printf("  Limits: at most %lld samples per metric of one case (beyond that the\n"
		       "  case ends in error, keeping what it stored); repeat, warmup, duration\n"
		       "  and timeout as in the ranges above; job files of at most 16 MiB, lines\n"
		       "  of at most 4094 bytes, 100000 cases after expanding lists.\n",
		       (long long)CDM_MAX_METRIC_SAMPLES);
	}
	for (i = 0; cdm_workloads[i]; i++) {
		const struct cdm_workload *w = cdm_workloads[i];
		char title[160];

		if (only && strcmp(only, w->name))
			continue;
		snprintf(title, sizeof(title), "%s (%s): %s", w->name,
			 w->backend, w->summary);
		printf("\n");
		print_opts(title, w->opts);
		print_verify(w);
		if (only && w->help)
			printf("\n%s\n", w->help);
	}
}

struct list_args {
	bool json;
};

const struct cli_spec cli_list_spec = {
	.cmd = "list",
	.usage = "usage: cdmbench list [--json] [WORKLOAD]\n",
	.about =
	"Shows every workload with its backend and summary, the options all\n"
	"cases share, and each workload's options with type, default, range\n"
	"and help. The same table drives job files, --set and the stored\n"
	"configuration.\n",
	.opts = (const struct cli_opt[]) {
		CLI_OPT_JSON(struct list_args, json, "the same as JSON"),
		CLI_OPT_END
	},
};

int cmd_list(int argc, char **argv)
{
	struct list_args a = { 0 };
	const char *only = NULL;
	bool json;
	int r;

	r = cli_parse(&cli_list_spec, argc, argv, &a);
	if (r)
		return cli_parse_exit(r);
	json = a.json;
	if (optind < argc) {
		only = argv[optind];
		if (!cdm_find_workload(only)) {
			const char *hint = cdm_workload_hint(only);

			cdm_err("list: unknown workload '%s'%s%s%s", only,
				hint ? " (did you mean '" : "", hint ? hint : "",
				hint ? "'?)" : "");
			return CDM_EXIT_USAGE;
		}
	}
	if (json)
		return list_json(only);
	list_text(only);
	return 0;
}
