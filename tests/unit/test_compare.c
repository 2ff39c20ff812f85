// SPDX-License-Identifier: GPL-2.0
/* compare: matching, significance, direction and pooling on synthetic runs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/compare.h"
#include "synth.h"

static int64_t ab_run(struct cdm_db *d, double slow, double fast,
		      uint64_t seed, int minute)
{
	const struct synth_metric m[] = {
		{ "to_sys_page", "ns", 0, 1000 * slow, 30 * slow, 300 },
		{ "to_dev_page", "ns", 0, 800, 24, 300 },
		{ "copy_bw", "GB/s", 1, 10 * fast, 0.3 * fast, 300 },
	};
	int64_t id = synth_begin(d, "6.1.192", NULL, minute);

	synth_case(d, id, 0, "migrate[device=private]", "private",
		   "{\"device\":\"private\"}", m, 3, seed);
	synth_end(d, id);
	return id;
}

/* A/B: what doubled is a regression, what got faster an improvement, and
 * what did not move is left alone, each in its own direction */
TEST(compare_ab_directions)
{
	struct cdm_db *d = synth_open("ab.db");
	struct cmp_result r;
	struct cmp_opts o;
	const struct cmp_row *x;

	ab_run(d, 1, 1, 1, 0);
	ab_run(d, 2, 1.2, 2, 1);
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "1", "2", &o, &r) == 0);
	CHECK(r.ncases == 1 && r.nrows == 3 && r.nonly == 0);
	x = synth_row(&r, "to_sys_page");
	REQUIRE(x);
	CHECK(x->mark == CMP_REGRESSION, "mark %d", x->mark);
	CHECK(fabs(x->ratio - 2) < 0.02, "ratio %g", x->ratio);
	CHECK(x->lo < 2 && x->hi > 2 && x->hi - x->lo < 0.05);
	CHECK(fabs(x->gain + 100) < 2, "gain %g", x->gain);
	CHECK(x->q < 1e-10);
	x = synth_row(&r, "to_dev_page");
	CHECK(x && x->mark == CMP_SAME, "mark %d q %g", x->mark, x->q);
	x = synth_row(&r, "copy_bw");
	CHECK(x && x->mark == CMP_IMPROVEMENT && x->gain > 15);
	CHECK(r.regressions == 1 && r.improvements == 1 && r.broke == 0);
	cdm_compare_free(&r);
	/* the other way round: the regression becomes an improvement */
	REQUIRE(cdm_compare(d, "2", "1", &o, &r) == 0);
	CHECK(r.regressions == 1 && r.improvements == 1);
	CHECK(synth_row(&r, "to_sys_page")->mark == CMP_IMPROVEMENT);
	cdm_compare_free(&r);
	/* a threshold above the change: significant, but no regression */
	o.threshold = 150;
	REQUIRE(cdm_compare(d, "1", "2", &o, &r) == 0);
	CHECK(r.regressions == 0 && synth_row(&r, "to_sys_page")->mark == CMP_WORSE);
	cdm_compare_free(&r);
	db_close(d);
}

/* A/A: many pairs from one distribution give next to no discoveries */
TEST(compare_aa_false_positives)
{
	struct cdm_db *d = synth_open("aa.db");
	const struct synth_metric m[] = {
		{ "a", "ns", 0, 1000, 50, 200 }, { "b", "ns", 0, 50, 5, 200 },
		{ "c", "GB/s", 1, 12, 0.5, 200 }, { "d", "GB/s", 1, 3, 0.3, 200 },
		{ "e", "us", 0, 7, 0.2, 200 },
	};
	struct cmp_result r;
	struct cmp_opts o;
	int pair, flagged = 0, regress = 0;

	cmp_opts_default(&o);
	for (pair = 0; pair < 20; pair++) {
		int64_t a = synth_begin(d, "6.1", NULL, 2 * pair);
		int64_t b;
		char sa[16], sb[16];
		size_t i;

		synth_case(d, a, 0, "x", "system", "{}", m, 5, 100 + 2 * pair);
		synth_end(d, a);
		b = synth_begin(d, "6.1", NULL, 2 * pair + 1);
		synth_case(d, b, 0, "x", "system", "{}", m, 5, 101 + 2 * pair);
		synth_end(d, b);
		snprintf(sa, sizeof(sa), "%lld", (long long)a);
		snprintf(sb, sizeof(sb), "%lld", (long long)b);
		REQUIRE(cdm_compare(d, sa, sb, &o, &r) == 0);
		for (i = 0; i < r.nrows; i++)
			flagged += r.rows[i].mark != CMP_SAME;
		regress += r.regressions;
		cdm_compare_free(&r);
	}
	/* 100 null comparisons at a 5% false discovery rate */
	CHECK(flagged <= 5, "%d of 100 flagged", flagged);
	CHECK(regress == 0, "%d regressions", regress);
	db_close(d);
}

/* cases match by identity, not name or position; the rest is listed */
TEST(compare_matching)
{
	struct cdm_db *d = synth_open("m.db");
	const struct synth_metric m[] = { { "t", "ns", 0, 100, 1, 20 } };
	const struct synth_metric mu[] = { { "t", "us", 0, 0.1, 0.001, 20 } };
	int64_t a = synth_begin(d, "6.1", NULL, 0), b;
	struct cmp_result r;
	struct cmp_opts o;
	size_t i;
	int only[2] = { 0, 0 };

	synth_case(d, a, 0, "one", "system", "{\"size\":\"1\"}", m, 1, 1);
	synth_case(d, a, 1, "two", "system", "{\"size\":\"2\"}", m, 1, 2);
	synth_case(d, a, 2, "units", "system", "{\"size\":\"9\"}", m, 1, 2);
	synth_end(d, a);
	b = synth_begin(d, "6.1", NULL, 1);
	synth_case(d, b, 0, "three", "system", "{\"size\":\"3\"}", m, 1, 3);
	synth_case(d, b, 1, "renamed", "system", "{\"size\":\"2\"}", m, 1, 4);
	synth_case(d, b, 2, "units", "system", "{\"size\":\"9\"}", mu, 1, 2);
	/* same parameters, other device type: a different case */
	synth_case(d, b, 3, "one", "private", "{\"size\":\"1\"}", m, 1, 5);
	synth_end(d, b);
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "1", "2", &o, &r) == 0);
	REQUIRE(r.ncases == 2);
	CHECK_STR(r.cases[0].name, "two");
	CHECK(r.nrows == 2 && r.rows[1].note && strstr(r.rows[1].note, "units differ"));
	for (i = 0; i < r.nonly; i++)
		only[r.only[i].side]++;
	CHECK(only[0] == 1 && only[1] == 2, "%d %d", only[0], only[1]);
	cdm_compare_free(&r);
	db_close(d);
}

/* a selector matching several runs pools their samples */
TEST(compare_selectors_pool)
{
	struct cdm_db *d = synth_open("p.db");
	const struct synth_metric m[] = { { "t", "ns", 0, 100, 1, 50 } };
	const struct synth_metric s[] = { { "t", "ns", 0, 130, 1, 50 } };
	struct cmp_result r;
	struct cmp_opts o;
	int i;

	for (i = 0; i < 3; i++) {
		int64_t id = synth_begin(d, "6.1.100", "old", i);

		synth_case(d, id, 0, "x", "system", "{}", m, 1, i);
		synth_end(d, id);
	}
	for (i = 0; i < 2; i++) {
		int64_t id = synth_begin(d, "6.1.192", "new", 10 + i);

		synth_case(d, id, 0, "x", "system", "{}", s, 1, 10 + i);
		synth_end(d, id);
	}
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "kernel=6.1.100", "build=new", &o, &r) == 0);
	CHECK(r.side[0].nruns == 3 && r.side[1].nruns == 2);
	CHECK(r.rows[0].s[0].n == 150 && r.rows[0].s[1].n == 100);
	CHECK(r.regressions == 1);
	CHECK_CONTAINS(r.side[0].label, "3 runs pooled (1, 2, 3)");
	cdm_compare_free(&r);
	o.latest = true;
	REQUIRE(cdm_compare(d, "kernel=6.1.10*", "kernel=6.1.192,host=node01", &o, &r) == 0);
	CHECK(r.side[0].nruns == 1 && r.side[0].runs[0] == 3);
	CHECK(r.rows[0].s[1].n == 50);
	cdm_compare_free(&r);
	db_close(d);
}

/*
 * "0 regressions" from runs too noisy to see the threshold is not a pass:
 * the tally counts the unchanged measurements that were blind to it.
 */
TEST(compare_blind_measurements)
{
	static const double wild[2][3] = { { 100, 140, 70 }, { 120, 80, 100 } };
	struct cdm_db *d = synth_open("blind.db");
	struct cmp_result r;
	struct cmp_opts o;
	char tally[256];
	int k, i;

	for (k = 0; k < 2; k++)
		for (i = 0; i < 3; i++) {
			const struct synth_metric m[] = {
				{ "steady", "ns", 0, 100, 1, 50 },
				{ "wild", "ns", 0, wild[k][i], 1, 50 },
			};
			int64_t id = synth_begin(d, k ? "6.1.192" : "6.1.100",
						 NULL, 10 * k + i);

			synth_case(d, id, 0, "x", "system", "{}", m, 2,
				   10 * k + i);
			synth_end(d, id);
		}
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "kernel=6.1.100", "kernel=6.1.192", &o, &r) == 0);
	REQUIRE(synth_row(&r, "wild") && synth_row(&r, "steady"));
	CHECK(synth_row(&r, "wild")->mde > 5, "wild mde %g",
	      synth_row(&r, "wild")->mde);
	CHECK(synth_row(&r, "steady")->mde < 5, "steady mde %g",
	      synth_row(&r, "steady")->mde);
	CHECK(r.regressions == 0 && r.blind == 1, "%d regressions, %zu blind",
	      r.regressions, r.blind);
	CHECK_CONTAINS(cmp_tally(&r, tally, sizeof(tally)),
		       "0 regressions, 0 improvements, 0 cases broke; 1 unchanged measurement could not have shown a 5% change");
	cdm_compare_free(&r);
	/* a threshold both could have seen: nothing blind, nothing said */
	o.threshold = 1000;
	REQUIRE(cdm_compare(d, "kernel=6.1.100", "kernel=6.1.192", &o, &r) == 0);
	CHECK(r.blind == 0, "%zu blind", r.blind);
	CHECK(!strstr(cmp_tally(&r, tally, sizeof(tally)), "could not"), "%s",
	      tally);
	cdm_compare_free(&r);
	db_close(d);
}

/* bad input: one line each, and no result */
TEST(compare_bad_input)
{
	struct cdm_db *d = synth_open("bad.db");
	const struct synth_metric m[] = { { "t", "ns", 0, 100, 1, 5 } };
	int64_t a = synth_begin(d, "6.1", NULL, 0), b, e;
	struct cmp_result r;
	struct cmp_opts o;
	char *err;

	synth_case(d, a, 0, "x", "system", "{\"k\":1}", m, 1, 1);
	synth_end(d, a);
	b = synth_begin(d, "6.1", NULL, 1);
	synth_case(d, b, 0, "y", "system", "{\"k\":2}", m, 1, 1);
	synth_end(d, b);
	e = synth_begin(d, "6.1", NULL, 2);
	synth_end(d, e);
	cmp_opts_default(&o);
	tap_capture_begin();
	CHECK(cdm_compare(d, "1", "2", &o, &r) < 0);
	cdm_compare_free(&r);
	CHECK(cdm_compare(d, "1", "3", &o, &r) < 0);
	cdm_compare_free(&r);
	CHECK(cdm_compare(d, "1", "9", &o, &r) < 0);
	cdm_compare_free(&r);
	CHECK(cdm_compare(d, "1", "nokey", &o, &r) < 0);
	cdm_compare_free(&r);
	CHECK(cdm_compare(d, "=x", "1", &o, &r) < 0);
	cdm_compare_free(&r);
	err = tap_capture_end();
	CHECK_CONTAINS(err, "compare: base 1 and candidate 2 have no case in common (base: x; candidate: y)");
	CHECK_CONTAINS(err, "compare: candidate 3 has no cases");
	CHECK_CONTAINS(err, "no run '9'");
	CHECK_CONTAINS(err, "selector '=x': expected KEY=VALUE");
	free(err);
	db_close(d);
}

/*
 * One run against one: a run landing in the other of two states seen
 * between identical runs is not a regression; a new kernel far beyond
 * that range is. The A/A range is the size of the jump between states.
 */
TEST(compare_one_run_each_aa_range)
{
	struct cdm_db *d = synth_open("aa1.db");
	struct cmp_result r;
	struct cmp_opts o;
	uint64_t st = 99;
	int64_t slow, fast = 0, other = 0, id;
	char a[16], b[16];
	int i;

	cmp_opts_default(&o);
	for (i = 0; i < 12; i++) {
		/* two states, 10 and 12.5 GB/s, at random */
		bool hi = i == 3 || (i != 4 && cdm_rand_unit(&st) < 0.4);
		const struct synth_metric m[] = {
			{ "bw", "GB/s", 1, hi ? 12.5 : 10, 0.05, 100 },
		};

		id = synth_begin(d, "6.1.100", NULL, i);
		synth_case(d, id, 0, "x", "system", "{}", m, 1, i);
		synth_end(d, id);
		if (i == 3)
			fast = id;
		if (i == 4)
			other = id;
	}
	{
		const struct synth_metric m[] = { { "bw", "GB/s", 1, 4, 0.05, 100 } };

		slow = synth_begin(d, "6.1.101", NULL, 20);
		synth_case(d, slow, 0, "x", "system", "{}", m, 1, 77);
		synth_end(d, slow);
	}
	snprintf(a, sizeof(a), "%lld", (long long)fast);
	snprintf(b, sizeof(b), "%lld", (long long)other);
	REQUIRE(cdm_compare(d, a, b, &o, &r) == 0);
	CHECK(r.rows[0].s[0].median > 12 && r.rows[0].s[1].median < 10.5);
	CHECK(r.rows[0].aa_pairs >= 10 && fabs(r.rows[0].aa_range - log(1.25)) < 0.03,
	      "range %g from %d pairs", r.rows[0].aa_range, r.rows[0].aa_pairs);
	CHECK(r.rows[0].mark != CMP_REGRESSION, "mark %d, q %g, range %g",
	      r.rows[0].mark, r.rows[0].q, r.rows[0].aa_range);
	cdm_compare_free(&r);
	snprintf(a, sizeof(a), "%lld", (long long)other);
	snprintf(b, sizeof(b), "%lld", (long long)slow);
	REQUIRE(cdm_compare(d, a, b, &o, &r) == 0);
	CHECK(r.rows[0].mark == CMP_REGRESSION, "mark %d, q %g, range %g",
	      r.rows[0].mark, r.rows[0].q, r.rows[0].aa_range);
	cdm_compare_free(&r);
	db_close(d);
}

/*
 * Two controls in a case: each run's drift moves the migration and the
 * refault together (a host's state moves kernel code), while the memcpy
 * holds steady. compare must divide by the refault, find the 25% step
 * that the drift (10-25% between runs) hides from the raw test, and find
 * the refault, in units of the copy, unchanged.
 */
static void two_control_run(struct cdm_db *d, double drift, double step,
			    bool shared, uint64_t seed, int minute)
{
	/* shared: the kernel's step slows the refault too, and the host's
	 * drift moves the user-space copy as well */
	const struct synth_metric m[] = {
		{ "to_sys_bw", "GB/s", 1, 0.5 * drift * step, 0.005, 60 },
		{ "refault_bw", "GB/s", 1, 0.3 * drift * (shared ? step : 1),
		  0.003, 60 },
		{ "memcpy_bw", "GB/s", 1, 2.0 * (shared ? drift : 1), 0.02, 60 },
	};
	int64_t id = synth_begin(d, step < 1 ? "6.1.193" : "6.1.192", NULL,
				 minute);

	synth_case(d, id, 0, "migrate[device=private]", "private",
		   "{\"device\":\"private\"}", m, 3, seed);
	synth_end(d, id);
}

TEST(compare_refault_control_preferred)
{
	static const double drift[8] = { 1.0, 1.2, 0.85, 1.1,
					  1.15, 0.9, 1.25, 0.95 };
	struct cdm_db *d = synth_open("two-controls.db");
	struct cmp_result r;
	struct cmp_opts o;
	const struct cmp_row *x;
	int i;

	for (i = 0; i < 8; i++)
		two_control_run(d, drift[i], i < 4 ? 1 : 0.8, false, 70 + i, i);
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "kernel=6.1.192", "kernel=6.1.193", &o, &r) == 0);
	x = synth_row(&r, "to_sys_bw");
	REQUIRE(x);
	CHECK(x->control && !strcmp(x->control, "refault_bw"), "control %s",
	      x->control ? x->control : "none");
	CHECK(x->normalized && x->mark == CMP_REGRESSION &&
	      fabs(x->gain + 20) < 2, "normalized %d mark %d gain %g q %g",
	      x->normalized, x->mark, x->gain, x->q);
	x = synth_row(&r, "memcpy_bw");
	CHECK(x && !x->control && !x->normalized && x->mark == CMP_SAME);
	/* the refault in units of the copy: unchanged */
	x = synth_row(&r, "refault_bw");
	REQUIRE(x);
	CHECK(x->control && !strcmp(x->control, "memcpy_bw") &&
	      !x->ctrl_passed && x->mark == CMP_SAME, "control %s mark %d",
	      x->control ? x->control : "none", x->mark);
	cdm_compare_free(&r);
	db_close(d);
}

/*
 * A host that runs the whole case 10% faster on one side (an A/A pair
 * taken at different moments: one emulated node's window did this) moves
 * the migration, its refault and the copy alike. The copy is noisy
 * enough to hold steady by its own test, so the refault's own verdict is
 * raw, where it moved; in units of the copy it did not. Whether the
 * kernel changed the refault must be asked in those units: passing it
 * over here leaves the migration raw, a false 10% improvement.
 */
static void host_shift_run(struct cdm_db *d, int i)
{
	/* the refault's run-to-run spread; the migration follows it */
	static const double e_ref[6] = { 1.0, 0.97, 1.04, 0.98, 0.96, 1.03 };
	double h = i % 2 ? 1.1 : 1;
	const struct synth_metric m[] = {
		{ "to_sys_bw", "GB/s", 1, 0.5 * h * e_ref[i], 0.0025, 60 },
		{ "refault_bw", "GB/s", 1, 0.3 * h * e_ref[i], 0.0009, 60 },
		/* noisy samples: its run medians spread by sampling alone */
		{ "memcpy_bw", "GB/s", 1, 2.0 * h, 0.55, 60 },
	};
	int64_t id = synth_begin(d, i % 2 ? "6.1.193" : "6.1.192", NULL, i);

	synth_case(d, id, 0, "migrate[device=private]", "private",
		   "{\"device\":\"private\"}", m, 3, 110 + i);
	synth_end(d, id);
}

TEST(compare_host_shift_keeps_refault)
{
	struct cdm_db *d = synth_open("host-shift.db");
	struct cmp_result r;
	struct cmp_opts o;
	const struct cmp_row *x;
	int i;

	for (i = 0; i < 6; i++)
		host_shift_run(d, i);
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "kernel=6.1.192", "kernel=6.1.193", &o, &r) == 0);
	/* the scenario: the refault's verdict raw, its raw change clear */
	x = synth_row(&r, "refault_bw");
	REQUIRE(x);
	CHECK(x->control && !strcmp(x->control, "memcpy_bw") &&
	      !x->normalized && x->p < 0.05 && x->p_moved > 0.5,
	      "control %s normalized %d (%s; slope %g) p %g p in units of the copy %g",
	      x->control ? x->control : "none", x->normalized, x->basis_why,
	      x->ctrl_slope, x->p, x->p_moved);
	x = synth_row(&r, "to_sys_bw");
	REQUIRE(x);
	CHECK(x->control && !strcmp(x->control, "refault_bw") &&
	      !x->ctrl_passed, "control %s, passed %s",
	      x->control ? x->control : "none",
	      x->ctrl_passed ? x->ctrl_passed : "none");
	CHECK(x->normalized && x->mark == CMP_SAME && fabs(x->gain) < 5,
	      "normalized %d mark %d gain %g q %g slope %g why %s raw %g", x->normalized, x->mark,
	      x->gain, x->q, x->ctrl_slope, x->basis_why, x->raw_gain);
	cdm_compare_free(&r);
	db_close(d);
}

/*
 * A kernel that slows what the refault runs through (the page allocator,
 * zeroing: init_on_free) slows the migration and its refault control
 * alike, so the migration in units of refaults hides the 20% step. The
 * host's drift moves all three, the user-space copy too. compare must
 * find the refault changed in units of the copy, pass it over for the
 * migration, and find the step against the copy.
 */
TEST(compare_control_changed_by_kernel)
{
	static const double drift[8] = { 1.0, 1.2, 0.85, 1.1,
					  1.15, 0.9, 1.25, 0.95 };
	struct cdm_db *d = synth_open("shared-path.db");
	struct cmp_result r;
	struct cmp_opts o;
	const struct cmp_row *x;
	int i;

	for (i = 0; i < 8; i++)
		two_control_run(d, drift[i], i < 4 ? 1 : 0.8, true, 90 + i, i);
	cmp_opts_default(&o);
	REQUIRE(cdm_compare(d, "kernel=6.1.192", "kernel=6.1.193", &o, &r) == 0);
	x = synth_row(&r, "refault_bw");
	REQUIRE(x);
	CHECK(x->control && !strcmp(x->control, "memcpy_bw") &&
	      x->normalized && x->mark == CMP_REGRESSION &&
	      fabs(x->gain + 20) < 2, "control %s normalized %d mark %d gain %g",
	      x->control ? x->control : "none", x->normalized, x->mark, x->gain);
	x = synth_row(&r, "to_sys_bw");
	REQUIRE(x);
	CHECK(x->control && !strcmp(x->control, "memcpy_bw") && x->ctrl_passed &&
	      !strcmp(x->ctrl_passed, "refault_bw"), "control %s, passed %s",
	      x->control ? x->control : "none",
	      x->ctrl_passed ? x->ctrl_passed : "none");
	CHECK(x->normalized && x->mark == CMP_REGRESSION &&
	      fabs(x->gain + 20) < 2, "normalized %d mark %d gain %g q %g",
	      x->normalized, x->mark, x->gain, x->q);
	x = synth_row(&r, "memcpy_bw");
	CHECK(x && !x->control && !x->normalized && x->mark == CMP_SAME);
	cdm_compare_free(&r);
	db_close(d);
}
