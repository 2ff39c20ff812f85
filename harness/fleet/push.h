/* SPDX-License-Identifier: GPL-2.0 */
/* cdmbench push: samples to InfluxDB (v1 /write, v2 /api/v2/write). */
#ifndef CDM_FLEET_PUSH_H
#define CDM_FLEET_PUSH_H

#include <stdbool.h>
#include <stdint.h>

#include "store/db.h"

struct push_opts {
	const char *url;	/* http(s)://host:port, no credentials */
	const char *database;	/* v1 */
	const char *user;	/* v1 basic auth; password from the env/file */
	const char *org, *bucket;	/* v2 */
	const char *token_file;	/* else $CDMBENCH_INFLUX_TOKEN */
	const char *password_file;	/* else $CDMBENCH_INFLUX_PASSWORD */
	const char *cacert;
	const char *measurement;
	long batch;		/* points per request (5000) */
	int retries;		/* per batch, on 5xx and connection errors (5) */
	double backoff;		/* first wait, seconds, doubling (0.5) */
	double timeout;		/* per request, seconds (30) */
	bool gzip;
	bool force;		/* push runs already pushed again */
	bool quiet;
	char **runs;		/* RUN specs; none: every finished run */
	int nruns;
};

struct push_stats {
	long runs;
	long long sent;		/* points acknowledged */
	long long rejected;	/* points the server refused (400) */
	long long skipped;	/* NaN samples: line protocol has no NaN */
	long requests, retries, splits;
	double seconds;
};

void push_opts_default(struct push_opts *o);
/* 0 everything pushed; 1 a fault stopped it (the spool keeps the rest);
 * 2 bad input */
int fleet_push(struct cdm_db *d, const struct push_opts *o,
	       struct push_stats *st);

#endif
