// SPDX-License-Identifier: GPL-2.0
/* Acceptance expectations: the grammar, unit conversion and evaluation. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/expect.h"
#include "tap.h"

static bool ok(const char *key, const char *val)
{
	char err[512];

	return cdm_expect_check(key, val, err, sizeof(err)) == 0;
}

static char *err_of(const char *key, const char *val)
{
	static char err[512];

	err[0] = 0;
	cdm_expect_check(key, val, err, sizeof(err));
	return err;
}

/* every documented form is accepted */
TEST(expect_grammar_accepts)
{
	CHECK(ok("metric.copy_bw", "median >= 5 GB/s"));
	CHECK(ok("metric.copy_bw", "median>=5GB/s"));
	CHECK(ok("metric.lat", "p99 < 2ms and median <= 500 us and n >= 10"));
	CHECK(ok("metric.lat", "noise < 5 %"));
	CHECK(ok("metric.lat", "nonfinite == 0"));
	CHECK(ok("metric.rate", "mean > 1e6 pages/s"));
	CHECK(ok("info.placement_after_pin", "system"));
	CHECK(ok("info.integrity", "ok*"));
	CHECK(ok("info.state", "a|b|c"));
	CHECK(ok("info.pages_failed", "<= 0"));
	CHECK(ok("info.x", "present"));
	CHECK(ok("info.x", "!= device"));
	CHECK(ok("kmsg", "clean"));
	CHECK(ok("verdict", "pass"));
	CHECK(ok("verdict", "pass|skip"));
	CHECK(ok("integrity", "ok"));
}

/* mistakes are named precisely, with the expectation quoted */
TEST(expect_grammar_rejects)
{
	CHECK_CONTAINS(err_of("metric.x", "medain > 1"), "did you mean 'median'");
	CHECK_CONTAINS(err_of("metric.x", "median 5"), "expected an operator");
	CHECK_CONTAINS(err_of("metric.x", "median > fast"), "expected a number");
	CHECK_CONTAINS(err_of("metric.x", "median > nan"), "expected a number");
	CHECK_CONTAINS(err_of("metric.x", "median > 5 GB per s"), "not a unit");
	CHECK_CONTAINS(err_of("metric.x", "n > 5 ms"), "takes no unit");
	CHECK_CONTAINS(err_of("metric.x", "noise < 5 ms"), "noise is in %");
	CHECK_CONTAINS(err_of("metric.", "median > 1"), "which metric");
	CHECK_CONTAINS(err_of("info.x", "> many"), "expected a number");
	CHECK_CONTAINS(err_of("kmsg", "quiet"), "expected 'clean'");
	CHECK_CONTAINS(err_of("verdict", "fail"), "never accepted");
	CHECK_CONTAINS(err_of("integrty", "ok"), "did you mean 'integrity'");
	CHECK_CONTAINS(err_of("metric.x", "median > 1"), "");
	CHECK(!ok("metric.x", "median > 1 and"));
	CHECK_CONTAINS(err_of("kmsg", "quiet"), "expect.kmsg = quiet: ");
}

static void make_case(struct cdm_case_res *c, int verdict)
{
	static const double v[5] = { 4, 5, 6, 7, 8 };
	struct cdm_metric_res *m;

	case_res_init(c);
	c->name = xstrdup("c");
	c->verdict = verdict;
	m = case_res_metric(c, 0);
	m->name = xstrdup("copy_bw");
	m->unit = xstrdup("GB/s");
	m->better = 1;
	metric_add_samples(m, v, 5);
	case_res_summarize(c);
	kv_add(&c->info, "placement", "system");
	kv_add(&c->info, "pages_failed", "3");
}

static const char *result(struct cdm_case_res *c, const char *key)
{
	static char k[128];

	snprintf(k, sizeof(k), "expect.%s", key);
	return kv_get(&c->info, k);
}

/* thresholds convert units; pass and fail both leave a detail */
TEST(expect_eval_metric)
{
	struct cdm_kvlist e = { 0 };
	struct cdm_case_res c;

	make_case(&c, CDM_PASS);
	kv_add(&e, "metric.copy_bw", "median >= 5500 MB/s and max <= 8 GB/s");
	kv_add(&e, "metric.missing", "median > 1");
	cdm_expect_eval(&e, &c);
	CHECK_STR(result(&c, "metric.copy_bw"),
		  "pass: copy_bw median 6000 MB/s >= 5500 MB/s, max 8 GB/s <= 8 GB/s");
	CHECK_CONTAINS(result(&c, "metric.missing"), "fail: ");
	CHECK(c.verdict == CDM_FAIL);
	CHECK_CONTAINS(c.reason, "expect.metric.missing failed");
	case_res_free(&c);
	kv_free(&e);

	make_case(&c, CDM_PASS);
	kv_add(&e, "metric.copy_bw", "median > 6 GB/s");
	cdm_expect_eval(&e, &c);
	CHECK_STR(result(&c, "metric.copy_bw"),
		  "fail: copy_bw median 6 GB/s, expected > 6 GB/s");
	case_res_free(&c);
	kv_free(&e);

	make_case(&c, CDM_PASS);
	kv_add(&e, "metric.copy_bw", "median > 6 ms");
	cdm_expect_eval(&e, &c);
	CHECK_CONTAINS(result(&c, "metric.copy_bw"), "does not convert");
	case_res_free(&c);
	kv_free(&e);
}

/* facts, verdicts and skipped cases */
TEST(expect_eval_info_verdict)
{
	struct cdm_kvlist e = { 0 };
	struct cdm_case_res c;

	make_case(&c, CDM_PASS);
	kv_add(&e, "info.placement", "device|system");
	kv_add(&e, "info.pages_failed", "<= 0");
	kv_add(&e, "info.absentee", "absent");
	kv_add(&e, "verdict", "pass");
	cdm_expect_eval(&e, &c);
	CHECK_STR(result(&c, "info.placement"), "pass: placement = system");
	CHECK_STR(result(&c, "info.pages_failed"),
		  "fail: pages_failed = 3, expected <= 0");
	CHECK_CONTAINS(result(&c, "info.absentee"), "pass: ");
	CHECK_STR(result(&c, "verdict"), "pass: verdict pass");
	CHECK(c.verdict == CDM_FAIL);
	case_res_free(&c);
	kv_free(&e);

	/* a skipped case: nothing to measure, but the verdict is checked */
	make_case(&c, CDM_SKIP);
	c.reason = xstrdup("no device");
	kv_add(&e, "metric.copy_bw", "median > 1");
	kv_add(&e, "verdict", "pass|skip");
	cdm_expect_eval(&e, &c);
	CHECK_CONTAINS(result(&c, "metric.copy_bw"), "skip: ");
	CHECK_CONTAINS(result(&c, "verdict"), "pass: ");
	CHECK(c.verdict == CDM_SKIP);
	kv_set(&e, "verdict", "pass");
	cdm_expect_eval(&e, &c);
	CHECK_STR(result(&c, "verdict"),
		  "fail: verdict skip, expected pass: no device");
	CHECK(c.verdict == CDM_FAIL);
	case_res_free(&c);
	kv_free(&e);
}

/* kernel warnings fail expect.kmsg even when kmsg_fail is off */
TEST(expect_eval_kmsg_integrity)
{
	struct cdm_kvlist e = { 0 };
	struct cdm_kevent ev = { .level = 4, .cls = CDM_K_WARNING,
				 .text = "WARNING: CPU: 0 at mm/migrate.c:1" };
	struct cdm_case_res c;

	make_case(&c, CDM_PASS);
	kv_add(&e, "kmsg", "clean");
	kv_add(&e, "integrity", "ok");
	cdm_expect_eval(&e, &c);
	CHECK_CONTAINS(result(&c, "kmsg"), "pass: no kernel warnings");
	/* silence is not a check: no integrity fact fails expect.integrity */
	CHECK_STR(result(&c, "integrity"), "fail: integrity not checked: the workload reported no data check");
	CHECK(c.verdict == CDM_FAIL);
	case_res_free(&c);
	make_case(&c, CDM_PASS);
	kv_add(&c.info, "integrity", "ok: 4 pages read back");
	cdm_expect_eval(&e, &c);
	CHECK_STR(result(&c, "integrity"), "pass: integrity = ok: 4 pages read back");
	CHECK(c.verdict == CDM_PASS);
	kv_set(&c.info, "integrity", "not checked: read-back skipped");
	cdm_expect_eval(&e, &c);
	CHECK_CONTAINS(result(&c, "integrity"), "fail: integrity = not checked");
	case_res_free(&c);
	make_case(&c, CDM_PASS);
	kev_add(&c.kev, &ev);
	kv_add(&c.info, "integrity", "corrupt: page 3");
	cdm_expect_eval(&e, &c);
	CHECK_CONTAINS(result(&c, "kmsg"), "fail: 1 kernel warning(s), first a warning: WARNING: CPU: 0");
	CHECK_STR(result(&c, "integrity"), "fail: integrity = corrupt: page 3");
	CHECK(c.verdict == CDM_FAIL);
	case_res_free(&c);
	kv_free(&e);
}

/* one verdict ranking: a worse verdict is never replaced by a milder one */
TEST(verdict_ranking)
{
	static const int order[] = { CDM_PASS, CDM_SKIP, CDM_FAIL, CDM_ERROR,
				     CDM_TIMEOUT, CDM_CRASH, CDM_INTERRUPTED };
	struct cdm_case_res c;
	size_t i;

	for (i = 1; i < sizeof(order) / sizeof(order[0]); i++)
		CHECK(cdm_verdict_rank(order[i - 1]) < cdm_verdict_rank(order[i]));
	CHECK(cdm_verdict_rank(cdm_verdict_parse("nonsense")) >
	      cdm_verdict_rank(CDM_INTERRUPTED));
	case_res_init(&c);
	case_res_verdict(&c, CDM_ERROR, "first");
	case_res_verdict(&c, CDM_FAIL, "milder");
	CHECK(c.verdict == CDM_ERROR && !strcmp(c.reason, "first"));
	case_res_verdict(&c, CDM_CRASH, "worse");
	CHECK(c.verdict == CDM_CRASH && !strcmp(c.reason, "worse"));
	case_res_free(&c);
}
