// SPDX-License-Identifier: GPL-2.0
/* `cdmbench push`: samples to InfluxDB, through a durable spool. */
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "fleet/push.h"

struct push_args {
	struct push_opts o;
	const char *db;
	double batch, retries;
	bool no_gzip;
};

#define PA(f) offsetof(struct push_args, f)

static const struct cli_opt push_opts[] = {
	{ .name = "url", .kind = CLI_STR, .off = PA(o.url), .arg = "URL",
	  .help = "http(s)://host:port of the server" },
	{ .name = "database", .kind = CLI_STR, .off = PA(o.database),
	  .arg = "DB", .help = "InfluxDB 1.x: POST /write?db=DB" },
	{ .name = "user", .kind = CLI_STR, .off = PA(o.user), .arg = "NAME",
	  .help = "1.x basic auth; the password from\n$CDMBENCH_INFLUX_PASSWORD or --password-file" },
	{ .name = "password-file", .kind = CLI_STR, .off = PA(o.password_file),
	  .arg = "FILE", .help = "1.x password: the file's content, trimmed" },
	{ .name = "org", .kind = CLI_STR, .off = PA(o.org), .arg = "O",
	  .help = "InfluxDB 2.x API: POST /api/v2/write, with\n--bucket; the token from\n$CDMBENCH_INFLUX_TOKEN or --token-file\n(never printed or stored)" },
	{ .name = "bucket", .kind = CLI_STR, .off = PA(o.bucket), .arg = "B",
	  .help = "2.x bucket" },
	{ .name = "token-file", .kind = CLI_STR, .off = PA(o.token_file),
	  .arg = "FILE", .help = "2.x token: the file's content, trimmed" },
	{ .name = "cacert", .kind = CLI_STR, .off = PA(o.cacert), .arg = "FILE",
	  .help = "CA bundle for https (verification is always on)" },
	{ .name = "batch", .kind = CLI_NUM, .off = PA(batch), .arg = "N",
	  .help = "points per request (default 5000)", .min = 1, .max = 1e7 },
	{ .name = "retries", .kind = CLI_NUM, .off = PA(retries), .arg = "N",
	  .help = "per request (default 5)", .max = 1000 },
	{ .name = "backoff", .kind = CLI_NUM, .off = PA(o.backoff), .arg = "S",
	  .help = "first wait before a retry, doubling (0.5)", .max = 60 },
	{ .name = "timeout", .kind = CLI_NUM, .off = PA(o.timeout), .arg = "S",
	  .help = "per request (default 30)", .min = 0.1, .max = 3600 },
	{ .name = "no-gzip", .kind = CLI_FLAG, .off = PA(no_gzip),
	  .help = "send plain text" },
	{ .name = "measurement", .kind = CLI_STR, .off = PA(o.measurement),
	  .arg = "M", .help = "measurement name (default cdmbench)" },
	{ .name = "force", .kind = CLI_FLAG, .off = PA(o.force),
	  .help = "send runs already pushed to this target again" },
	CLI_OPT_DB(struct push_args, db),
	CLI_OPT_QUIET_FLAG(struct push_args, o.quiet, "no summary line"),
	CLI_OPT_END
};

const struct cli_spec cli_push_spec = {
	.cmd = "push",
	.usage = "usage: cdmbench push [OPTIONS] --url URL (--database DB | --org O --bucket B) [RUN...]\n",
	.about =
	"Sends every sample of the RUNs (default: every finished run) as one\n"
	"point each: measurement 'cdmbench', tags backend, case, device_type,\n"
	"host, job, kernel, metric, node, run (uuid) and unit, fields value and\n"
	"seq, timestamp = the case's start + the sample's index in ms. Pushing a\n"
	"run again overwrites its points, never duplicates them. NaN samples\n"
	"cannot be written in line protocol and are counted, not sent.\n"
	"\n"
	"What is still to be sent is kept in the database (push_spool, per run\n"
	"and target) and advanced only after the server acknowledged a batch:\n"
	"after a crash, a kill or an outage, the next push resumes there.\n"
	"Connection errors, timeouts, HTTP 5xx and 429 are retried with a\n"
	"doubling back-off; HTTP 413 splits the batch; points the server\n"
	"refuses (HTTP 400, a 'partial write') are counted and not resent;\n"
	"HTTP 401/403 stop at once.\n",
	.opts = push_opts,
	.more =
	"Exit status: 0 all sent; 1 stopped by a fault (the rest is spooled) or\n"
	"points refused; 2 bad input.\n",
};

static int parse(int argc, char **argv, struct push_args *a)
{
	struct push_opts *o = &a->o;
	int r;

	a->batch = o->batch;
	a->retries = o->retries;
	r = cli_parse(&cli_push_spec, argc, argv, a);
	if (r)
		return r;
	o->batch = (long)a->batch;
	o->retries = (int)a->retries;
	if (a->no_gzip)
		o->gzip = false;
	if (!*o->measurement)
		return cdm_err("push: --measurement must not be empty");
	o->runs = argv + optind;
	o->nruns = argc - optind;
	return 0;
}

int cmd_push(int argc, char **argv)
{
	struct push_args a = { .db = cli_default_db() };
	struct push_opts *o = &a.o;
	struct push_stats st;
	struct cdm_db d;
	int r;

	push_opts_default(o);
	r = parse(argc, argv, &a);
	if (r)
		return cli_parse_exit(r);
	if (db_open(&d, a.db, DB_UPDATE))
		return CDM_EXIT_USAGE;
	if (d.readonly) {
		db_close(&d);
		cdm_err("push: %s: read-only; the push spool needs to write", a.db);
		return CDM_EXIT_USAGE;
	}
	r = fleet_push(&d, o, &st);
	db_close(&d);
	if (r != 2 && !o->quiet)
		printf("push: %ld run%s, %lld points sent, %lld refused by the server, %lld NaN samples not sendable; %ld requests, %ld retries, %ld splits; %.2f s\n",
		       st.runs, st.runs == 1 ? "" : "s", st.sent, st.rejected,
		       st.skipped, st.requests, st.retries, st.splits, st.seconds);
	return r;
}
