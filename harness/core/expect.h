/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Acceptance expectations: what a case must show, beyond not failing, for
 * a run to be accepted. Written in job files as expect.* keys:
 *
 *   expect.metric.NAME = STAT OP NUMBER [UNIT] [and STAT OP NUMBER [UNIT]...]
 *       STAT: min p5 median mean p95 p99 max stddev mad n nonfinite noise
 *       (noise = MAD / median in %); OP: < <= > >= == !=. A unit converts
 *       within its family (ns us ms s; B/s KB/s MB/s GB/s KiB/s ...; B KiB
 *       ...); any other unit must equal the metric's.
 *   expect.info.KEY = PATTERN[|PATTERN...]   a fact the case reported
 *       matches one glob (placement_after_pin = system, integrity = ok*)
 *   expect.info.KEY = OP NUMBER              numeric fact (<, <=, >, >=)
 *   expect.info.KEY = present | absent
 *   expect.kmsg = clean        no kernel warning, BUG, oops... in the case
 *   expect.verdict = pass | pass|skip | skip   verdicts that are accepted
 *       (without it a SKIP is accepted: a missing device is not a failure)
 *   expect.integrity = ok      the case's data checks ran and found no
 *       corruption: its `integrity` fact starts with "ok"; a workload that
 *       checked nothing reports "not checked" (or nothing), which fails
 *
 * The runner evaluates them after each case; each result is stored as the
 * case fact expect.KEY = "pass|fail|skip: detail" (view `expectations`),
 * and a failed one FAILs the case with its detail as the reason. The
 * run's verdict from them is store/accept.h's.
 */
#ifndef CDM_EXPECT_H
#define CDM_EXPECT_H

#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

/* check one expectation at job-load time; key is without "expect." */
int cdm_expect_check(const char *key, const char *value, char *err,
		     size_t len);

/* evaluate a finished, summarized case's expectations (key = value pairs) */
void cdm_expect_eval(const struct cdm_kvlist *expect, struct cdm_case_res *c);

#endif
