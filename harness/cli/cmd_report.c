// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench report RUN`: one run as one self-contained HTML page, or a
 * Markdown summary (the model is report/report.c), written whole or not
 * at all.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli/cli.h"
#include "report/report.h"

struct report_args {
	const char *db;
	const char *out;
	const char *format;
	struct report_opts o;
	const char *run;
};

static int parse_args(int argc, char **argv, struct report_args *a)
{
	static const struct option lo[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "baseline", required_argument, NULL, 'b' },
		{ "output", required_argument, NULL, 'o' },
		{ "format", required_argument, NULL, 'f' },
		{ 0 }
	};
	int c;

	a->db = cli_default_db();
	a->format = "html";
	while ((c = getopt_long(argc, argv, "b:o:f:", lo, NULL)) != -1) {
		switch (c) {
		case 'd':
			a->db = optarg;
			break;
		case 'b':
			a->o.baseline = optarg;
			break;
		case 'o':
			a->out = optarg;
			break;
		case 'f':
			if (strcmp(optarg, "html") && strcmp(optarg, "md"))
				return cdm_err("report: --format %s: expected html or md",
					       optarg);
			a->format = optarg;
			break;
		default:
			return cli_usage_error("report"), -1;
		}
	}
	if (argc - optind != 1)
		return cdm_err("report: which run? (an id, 'last' or a uuid prefix)");
	a->run = argv[optind];
	a->o.charts = !strcmp(a->format, "html");
	return 0;
}

/* mkdir -p of the file's directory: reports/ need not exist yet */
static int make_parents(const char *path)
{
	char *dir = xstrdup(path), *p;
	int r = 0;

	for (p = dir + 1; *p && !r; p++) {
		if (*p != '/')
			continue;
		*p = 0;
		if (mkdir(dir, 0755) && errno != EEXIST)
			r = cdm_errno(errno, "report: -o %s: cannot create directory %s",
				      path, dir);
		*p = '/';
	}
	free(dir);
	return r;
}

/* whole or nothing: a failed write never leaves half a report behind */
static int write_out(const char *path, const struct sbuf *sb)
{
	char *tmp;
	int r;

	if (!path || !strcmp(path, "-")) {
		if (fwrite(sb->buf, 1, sb->len, stdout) != sb->len ||
		    fflush(stdout))
			return cdm_errno(errno, "report: writing standard output failed");
		return 0;
	}
	if (make_parents(path))
		return -1;
	tmp = xasprintf("%s.tmp%ld", path, (long)getpid());
	r = write_file(tmp, sb->buf, sb->len);
	if (r || rename(tmp, path)) {
		r = cdm_errno(errno, "report: -o %s: cannot write", path);
		unlink(tmp);
	}
	free(tmp);
	return r;
}

int cmd_report(int argc, char **argv)
{
	struct report_args a = { 0 };
	struct cdm_db d;
	struct rrun r;
	struct sbuf sb;
	int64_t id;
	int rc = CDM_EXIT_USAGE;

	if (parse_args(argc, argv, &a) || db_open(&d, a.db, DB_READ))
		return CDM_EXIT_USAGE;
	if (db_resolve_run(&d, a.run, &id)) {
		db_close(&d);
		return CDM_EXIT_USAGE;
	}
	sb_init(&sb);
	if (!report_load(&d, id, &a.o, &r)) {
		if (!strcmp(a.format, "md"))
			report_md(&r, &sb);
		else
			report_html(&r, &sb);
		rc = write_out(a.out, &sb) ? CDM_EXIT_FAIL : 0;
		if (!rc && a.out && strcmp(a.out, "-"))
			cdm_notice("report of run %lld written to %s (%zu KiB)",
				   (long long)id, a.out, sb.len / 1024);
	}
	report_free(&r);
	sb_free(&sb);
	db_close(&d);
	return rc;
}
