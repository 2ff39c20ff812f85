// SPDX-License-Identifier: GPL-2.0
/* Line protocol escaping and outlier nodes on synthetic fleets. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "tap.h"
#include "analysis/nodes.h"
#include "fleet/lineproto.h"

static char *esc(const char *s, bool v2)
{
	struct sbuf sb;

	sb_init(&sb);
	lp_tag(&sb, "k", s, v2);
	return sb_detach(&sb);
}

/* every character line protocol treats specially is escaped, per server */
TEST(lineproto_escaping)
{
	struct sbuf sb;
	char *e;

	e = esc("a b,c=d\"e", false);
	CHECK_STR(e, ",k=a\\ b\\,c\\=d\"e");
	free(e);
	e = esc("x\\y", false);	/* 1.x: a backslash before 'y' is literal */
	CHECK_STR(e, ",k=x\\y");
	free(e);
	e = esc("x\\y", true);	/* 2.x: doubled */
	CHECK_STR(e, ",k=x\\\\y");
	free(e);
	e = esc("tail\\", false);	/* must not escape the separator */
	CHECK_STR(e, ",k=tail\\\\ ");
	free(e);
	e = esc("tail\\", true);
	CHECK_STR(e, ",k=tail\\\\");
	free(e);
	e = esc("new\nline\r", false);
	CHECK_STR(e, ",k=new?line?");
	free(e);
	e = esc("", false);	/* empty tag values are not allowed: left out */
	CHECK_STR(e, "");
	free(e);
	sb_init(&sb);
	lp_measurement(&sb, "m e,a=s", false);
	lp_fields(&sb, 1.5, 3, 1700000000003LL);
	CHECK_STR(sb.buf, "m\\ e\\,a=s value=1.5,seq=3i 1700000000003\n");
	sb_free(&sb);
	CHECK(lp_iso_ns("2026-12-01T10:00:00.123Z") == 1796119200123000000LL,
	      "%lld", (long long)lp_iso_ns("2026-12-01T10:00:00.123Z"));
	CHECK(lp_iso_ns("garbage") == -1);
}

TEST(robust_z_values)
{
	CHECK(fabs(nodes_robust_z(13, 10, 2, 1) - 0.6745 * 1.5) < 1e-12);
	/* MAD 0: the mean absolute deviation scales */
	CHECK(fabs(nodes_robust_z(12, 10, 0, 1) - 2 / 1.253314) < 1e-9);
	CHECK(nodes_robust_z(10, 10, 0, 0) == 0);
	CHECK(isinf(nodes_robust_z(11, 10, 0, 0)));
}

static double gauss(uint64_t *s)
{
	double u = (splitmix64(s) >> 11) * 0x1p-53, v = (splitmix64(s) >> 11) * 0x1p-53;

	return sqrt(-2 * log(u + 1e-300)) * cos(2 * M_PI * v);
}

/*
 * A fleet of 60 nodes, 5 cases with a bandwidth (higher is better) and a
 * latency (lower is better), 3% noise. Planted: n07 at half the
 * bandwidth, n33 at 1.3x the latency, n50 twice as fast as the fleet
 * (not an outlier: better), n12 with a failed case. Fixed seed: the same
 * data every time, so the test cannot flake.
 */
static void make_fleet(struct cdm_db *d)
{
	struct sbuf sql;
	uint64_t seed = 42;
	int n, c, id = 0;

	sb_init(&sql);
	sb_adds(&sql, "BEGIN;");
	for (n = 0; n < 60; n++) {
		sb_addf(&sql, "INSERT INTO runs (id, uuid, started_at, status, harness_version, git_revision, job_name, job_text, seed, environment) VALUES (%d, 'u%d', '2026-12-01T00:00:00Z', 'completed', 'v', 'g', 'fleet', '', 1, 'bare-metal');", n + 1, n);
		sb_addf(&sql, "INSERT INTO run_nodes (run_id, node, slurm_job_id) VALUES (%d, 'n%02d', '77');", n + 1, n);
		for (c = 0; c < 5; c++) {
			double bw = 10 * exp(0.03 * gauss(&seed));
			double lat = 100 * exp(0.03 * gauss(&seed));

			if (n == 7)
				bw /= 2;
			if (n == 33)
				lat *= 1.3;
			if (n == 50)
				bw *= 2;
			id++;
			sb_addf(&sql, "INSERT INTO cases (id, run_id, seq, name, workload, backend, device_type, params, match_key, seed, started_at, ended_at, elapsed_ns, verdict, reason) VALUES (%d, %d, %d, 'case%d', 'w', 'cpu', 'none', '{}', 'k', 1, '', '', 0, '%s', '%s');",
				id, n + 1, c, c, n == 12 && c == 2 ? "fail" : "pass",
				n == 12 && c == 2 ? "data mismatch at page 3" : "");
			sb_addf(&sql, "INSERT INTO metrics (id, case_id, name, unit, better) VALUES (%d, %d, 'bw', 'GB/s', 'higher'), (%d, %d, 'lat', 'ns', 'lower');",
				2 * id, id, 2 * id + 1, id);
			sb_addf(&sql, "INSERT INTO summaries (metric_id, n, nonfinite, median) VALUES (%d, 5, 0, %.17g), (%d, 5, 0, %.17g);",
				2 * id, bw, 2 * id + 1, lat);
		}
	}
	sb_adds(&sql, "COMMIT;");
	REQUIRE(sqlite3_exec(d->db, sql.buf, NULL, NULL, NULL) == SQLITE_OK,
		"%s", sqlite3_errmsg(d->db));
	sb_free(&sql);
}

/* the planted slow nodes, and only they, are outliers; failures listed */
TEST(nodes_find_planted_outliers)
{
	char *path = xasprintf("%s/fleet.db", tap_tmpdir());
	struct nodes_opts o;
	struct nodes_result r;
	struct cdm_db d;
	size_t i, k, nout = 0;
	bool seen7 = false, seen33 = false;

	REQUIRE(db_open(&d, path, DB_WRITE) == 0);
	make_fleet(&d);
	nodes_opts_default(&o);
	REQUIRE(nodes_analyze(&d, &o, &r) == 0);
	CHECK(r.nn == 60 && r.nm == 10, "%zu nodes %zu metrics", r.nn, r.nm);
	for (i = 0; i < r.nn; i++) {
		for (k = 0; k < r.nm; k++) {
			if (!nodes_is_outlier(&r, &o, i, k))
				continue;
			nout++;
			seen7 |= !strcmp(r.node[i], "n07") && !strcmp(r.m[k].metric, "bw");
			seen33 |= !strcmp(r.node[i], "n33") && !strcmp(r.m[k].metric, "lat");
			CHECK(!strcmp(r.node[i], "n07") || !strcmp(r.node[i], "n33"),
			      "unexpected outlier %s %s:%s z %.1f", r.node[i],
			      r.m[k].case_name, r.m[k].metric, r.z[i * r.nm + k]);
		}
	}
	CHECK(seen7 && seen33);
	CHECK(nout == 10, "%zu outliers", nout);	/* 5 cases each */
	CHECK(r.noutlier_nodes == 2);
	CHECK(!strcmp(r.node[r.worst[0]], "n07") || !strcmp(r.node[r.worst[0]], "n33"));
	CHECK(r.nfailing_nodes == 1 && r.nf == 1 && !strcmp(r.node[r.f[0].node], "n12") &&
	      strstr(r.f[0].what, "data mismatch"), "%zu %s", r.nf, r.nf ? r.f[0].what : "");
	nodes_free(&r);
	o.slurm_job = "78";	/* no such job: nothing */
	REQUIRE(nodes_analyze(&d, &o, &r) == 0);
	CHECK(r.nn == 0);
	nodes_free(&r);
	db_close(&d);
	free(path);
}
