// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench report RUN`: one run as one self-contained HTML page, or a
 * Markdown summary (the model is report/report.c), written whole or not
 * at all.
 */
#include <errno.h>
#include <stddef.h>
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

#define RA(f) offsetof(struct report_args, f)

const struct cli_spec cli_report_spec = {
	.cmd = "report",
	.usage = "usage: cdmbench report [OPTIONS] [-o FILE] RUN\n",
	.about =
	"Writes everything about RUN (an id, 'last' or a uuid prefix) in one\n"
	"file: the environment (host, kernel, command line, devices), the\n"
	"acceptance verdict and each case's verdict and expectations, per-case\n"
	"tables with latency distributions, bandwidth against buffer size,\n"
	"private beside coherent devices, trends over earlier runs of the same\n"
	"job, the comparison with a baseline, and the kernel log. The HTML has\n"
	"its styles and SVG charts inline and loads nothing from anywhere, so\n"
	"it can be attached to a review or a ticket and opened offline.\n",
	.opts = (const struct cli_opt[]) {
		{ .name = "output", .key = 'o', .kind = CLI_STR, .off = RA(out),
		  .arg = "FILE",
		  .help = "write FILE (directories are created; '-' or\nno -o: standard output)" },
		{ .name = "baseline", .key = 'b', .kind = CLI_STR,
		  .off = RA(o.baseline), .arg = "RUN",
		  .help = "add a comparison with RUN or a selector, as\n'cdmbench compare RUN' this run would give" },
		{ .name = "format", .key = 'f', .kind = CLI_CHOICE,
		  .off = RA(format), .arg = "F",
		  .help = "html (default) or md: a Markdown summary",
		  .choices = "html|md" },
		CLI_OPT_DB(struct report_args, db),
		CLI_OPT_END
	},
	.more = "Example: cdmbench report last -o reports/last.html\n",
};

static int parse_args(int argc, char **argv, struct report_args *a)
{
	int r;

	a->db = cli_default_db();
	a->format = "html";
	r = cli_parse(&cli_report_spec, argc, argv, a);
	if (r)
		return r;
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
		    fflush(stdout)) {
			cdm_errno(errno, "report: writing standard output failed");
			clearerr(stdout);	/* said once, here */
			return -1;
		}
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

	rc = parse_args(argc, argv, &a);
	if (rc || db_open(&d, a.db, DB_READ))
		return cli_parse_exit(rc);
	rc = CDM_EXIT_USAGE;
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
