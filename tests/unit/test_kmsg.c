// SPDX-License-Identifier: GPL-2.0
/* Kernel log classification: the records that fail a case. */
#include <stdlib.h>
#include <string.h>

#include "core/kmsg.h"
#include "core/runner.h"
#include "tap.h"

/* real message shapes from mm/, lib/ and kernel/ are classified right */
TEST(kmsg_classes)
{
	static const struct {
		const char *text;
		int cls;
	} cases[] = {
		{ "WARNING: CPU: 1 PID: 77 at mm/gup.c:1234 __gup_longterm_locked+0x1/0x2", CDM_K_WARNING },
		{ "pages[3] is NOT pinnable but pinned", CDM_K_NOT_PINNABLE },
		{ "BUG: Bad page state in process hmm  pfn:12345", CDM_K_BAD_PAGE },
		{ "BUG: soft lockup - CPU#0 stuck for 22s! [kworker/0:1:12]", CDM_K_SOFT_LOCKUP },
		{ "rcu: INFO: rcu_preempt detected stalls on CPUs/tasks:", CDM_K_RCU_STALL },
		{ "Oops: 0002 [#1] PREEMPT SMP NOPTI", CDM_K_OOPS },
		{ "kernel BUG at mm/migrate.c:300!", CDM_K_BUG },
		{ "BUG: unable to handle page fault for address: 0000", CDM_K_BUG },
		{ "Kernel panic - not syncing: Fatal exception", CDM_K_PANIC },
		{ "HMM test module loaded. This is only for testing HMM.", CDM_K_OTHER },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		CHECK(kmsg_classify(cases[i].text) == cases[i].cls,
		      "'%s' classified as %s", cases[i].text,
		      cdm_kclass_name(kmsg_classify(cases[i].text)));
	CHECK(!kmsg_class_fails(CDM_K_OTHER));
	CHECK(kmsg_class_fails(CDM_K_WARNING));
}

/* a /dev/kmsg record with dictionary lines parses to level, seq, text */
TEST(kmsg_record_parse)
{
	const char rec[] = "4,1234,5678901,-;WARNING: CPU: 0 PID: 1 at x\n SUBSYSTEM=foo\n";
	struct cdm_kevent e;

	REQUIRE(kmsg_parse(rec, strlen(rec), &e));
	CHECK(e.level == 4 && e.seq == 1234 && e.ts_usec == 5678901);
	CHECK_STR(e.text, "WARNING: CPU: 0 PID: 1 at x");
	CHECK(e.cls == CDM_K_WARNING);
	free(e.text);
	CHECK(!kmsg_parse("garbage", 7, &e));
}

/* a kernel WARNING during a case fails it, naming the record; the same
 * text from user space, or with kmsg_fail off, does not */
TEST(kmsg_verdict)
{
	struct cdm_kevent k = { .seq = 1, .level = 4, .facility = 0,
				.cls = CDM_K_WARNING,
				.text = "WARNING: CPU: 0 PID: 9 at mm/migrate.c:1" };
	struct cdm_common on = { .kmsg_fail = true }, off = { .kmsg_fail = false };
	struct cdm_case_res c;

	case_res_init(&c);
	kev_add(&c.kev, &k);
	cdm_kmsg_verdict(&off, &c);
	CHECK(c.verdict == CDM_PASS);
	cdm_kmsg_verdict(&on, &c);
	CHECK(c.verdict == CDM_FAIL);
	CHECK_CONTAINS(c.reason, "kernel warning during the case: WARNING: CPU: 0");
	case_res_free(&c);
	case_res_init(&c);
	k.facility = 1;
	kev_add(&c.kev, &k);
	cdm_kmsg_verdict(&on, &c);
	CHECK(c.verdict == CDM_PASS, "user-space record failed the case");
	case_res_free(&c);
	/* a worse verdict (a crash) is not softened to FAIL */
	case_res_init(&c);
	k.facility = 0;
	kev_add(&c.kev, &k);
	case_res_verdict(&c, CDM_CRASH, "killed by signal 11");
	cdm_kmsg_verdict(&on, &c);
	CHECK(c.verdict == CDM_CRASH);
	case_res_free(&c);
}
