// SPDX-License-Identifier: GPL-2.0
/* `cdmbench push`: samples to InfluxDB, through a durable spool. */
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "fleet/push.h"

static int number(const char *opt, const char *arg, double lo, double hi,
		  double *out)
{
	return cdm_parse_number_arg("push", opt, arg, lo, hi, out);
}

static int parse(int argc, char **argv, struct push_opts *o, const char **db)
{
	static const struct option lo[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "database", required_argument, NULL, 'D' },
		{ "user", required_argument, NULL, 'U' },
		{ "password-file", required_argument, NULL, 'P' },
		{ "org", required_argument, NULL, 'O' },
		{ "bucket", required_argument, NULL, 'B' },
		{ "token-file", required_argument, NULL, 'T' },
		{ "cacert", required_argument, NULL, 'C' },
		{ "measurement", required_argument, NULL, 'M' },
		{ "batch", required_argument, NULL, 'b' },
		{ "retries", required_argument, NULL, 'r' },
		{ "backoff", required_argument, NULL, 'k' },
		{ "timeout", required_argument, NULL, 't' },
		{ "no-gzip", no_argument, NULL, 'z' },
		{ "force", no_argument, NULL, 'f' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "db", required_argument, NULL, 'd' },
		{ 0 }
	};
	double v;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "q", lo, NULL)) != -1) {
		switch (c) {
		case 'u': o->url = optarg; break;
		case 'D': o->database = optarg; break;
		case 'U': o->user = optarg; break;
		case 'P': o->password_file = optarg; break;
		case 'O': o->org = optarg; break;
		case 'B': o->bucket = optarg; break;
		case 'T': o->token_file = optarg; break;
		case 'C': o->cacert = optarg; break;
		case 'M': o->measurement = optarg; break;
		case 'd': *db = optarg; break;
		case 'z': o->gzip = false; break;
		case 'f': o->force = true; break;
		case 'q': o->quiet = true; break;
		case 'b':
			if (number("--batch", optarg, 1, 1e7, &v))
				return -1;
			o->batch = (long)v;
			break;
		case 'r':
			if (number("--retries", optarg, 0, 1000, &v))
				return -1;
			o->retries = (int)v;
			break;
		case 'k':
			if (number("--backoff", optarg, 0, 60, &o->backoff))
				return -1;
			break;
		case 't':
			if (number("--timeout", optarg, 0.1, 3600, &o->timeout))
				return -1;
			break;
		default:
			return cdm_err("push: bad option (see 'cdmbench help push')");
		}
	}
	if (!*o->measurement)
		return cdm_err("push: --measurement must not be empty");
	o->runs = argv + optind;
	o->nruns = argc - optind;
	return 0;
}

int cmd_push(int argc, char **argv)
{
	const char *db = cli_default_db();
	struct push_opts o;
	struct push_stats st;
	struct cdm_db d;
	int r;

	push_opts_default(&o);
	if (parse(argc, argv, &o, &db))
		return CDM_EXIT_USAGE;
	if (db_open(&d, db, DB_UPDATE))
		return CDM_EXIT_USAGE;
	if (d.readonly) {
		db_close(&d);
		cdm_err("push: %s: read-only; the push spool needs to write", db);
		return CDM_EXIT_USAGE;
	}
	r = fleet_push(&d, &o, &st);
	db_close(&d);
	if (r != 2 && !o.quiet)
		printf("push: %ld run%s, %lld points sent, %lld refused by the server, %lld NaN samples not sendable; %ld requests, %ld retries, %ld splits; %.2f s\n",
		       st.runs, st.runs == 1 ? "" : "s", st.sent, st.rejected,
		       st.skipped, st.requests, st.retries, st.splits, st.seconds);
	return r;
}
