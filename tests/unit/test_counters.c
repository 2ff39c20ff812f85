// SPDX-License-Identifier: GPL-2.0
/* Per-phase counters: parsing /proc/vmstat, phase names, likwid checks,
 * and which phase a metric belongs to. */
#include <stdlib.h>
#include <string.h>

#include "analysis/events.h"
#include "core/counters.h"
#include "core/lwk.h"
#include "core/workload.h"
#include "tap.h"

/* /proc/vmstat text becomes names and values in file order */
TEST(counters_vmstat_parse)
{
	static const char text[] = "nr_free_pages 1021\npgmigrate_success 512\nthp_fault_alloc 0\n";
	char *names[8] = { 0 }, **np = names;
	uint64_t v[8];
	int n = cnt_vmstat_parse(text, &np, v, 8), i;

	REQUIRE(n == 3, "n = %d", n);
	CHECK_STR(names[1], "pgmigrate_success");
	CHECK_EQ_U64(v[0], 1021);
	CHECK_EQ_U64(v[1], 512);
	CHECK_EQ_U64(v[2], 0);
	CHECK(cnt_vmstat_parse("garbage\n", NULL, v, 8) < 0);
	for (i = 0; i < n; i++)
		free(names[i]);
}

/* a phase name is part of a case_info key: no dots, colons or spaces */
TEST(counters_phase_names)
{
	CHECK(cnt_phase_name_ok("to_sys"));
	CHECK(cnt_phase_name_ok("touch_device"));
	CHECK(!cnt_phase_name_ok(""));
	CHECK(!cnt_phase_name_ok("to.sys"));
	CHECK(!cnt_phase_name_ok("a:b"));
	CHECK(!cnt_phase_name_ok("To_Sys"));
	CHECK(!cnt_phase_name_ok("a_name_that_is_far_too_long_for_a_key"));
}

/* an unknown group names itself and lists every group that exists */
TEST(counters_group_unknown_lists_groups)
{
	char *groups[] = { "MEM", "L3", "TLB_DATA" };
	char err[256] = "";

	CHECK(lwk_group_in("L3", groups, 3, err, sizeof(err)) == 0);
	CHECK(lwk_group_in("MEMX", groups, 3, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "likwid_group=MEMX");
	CHECK_CONTAINS(err, "MEM L3 TLB_DATA");
	CHECK(!strchr(err, '\n'));
}

/* auto, none and the empty value need no group list */
TEST(counters_group_keywords)
{
	char err[256] = "";

	CHECK(lwk_check_group("auto", err, sizeof(err)) == 0, "%s", err);
	CHECK(lwk_check_group("none", err, sizeof(err)) == 0, "%s", err);
	CHECK(lwk_check_group("", err, sizeof(err)) == 0, "%s", err);
}

/* a pin expression this machine cannot satisfy names itself and the domains */
TEST(counters_cpus_bad_expression)
{
	char err[512] = "";
	int cpus[8];

#ifndef CDM_HAVE_LIKWID
	tap_skip("built without likwid");
#endif
	CHECK(lwk_cpus("S0:0-4095", cpus, 8, err, sizeof(err)) < 0);
	CHECK_CONTAINS(err, "cpus=S0:0-4095");
	CHECK_CONTAINS(err, "domains: N:0-");
	CHECK(lwk_cpus("N:0", cpus, 8, err, sizeof(err)) == 1, "%s", err);
	CHECK(cpus[0] >= 0);
}

/* metrics map to the longest phase they start with, else "run" */
TEST(counters_metric_phase)
{
	char *ph[] = { "to_dev", "to_sys", "run", "move" };

	CHECK_STR(ev_phase_of("to_sys_page", ph, 4), "to_sys");
	CHECK_STR(ev_phase_of("to_dev_bw", ph, 4), "to_dev");
	CHECK_STR(ev_phase_of("move_bw_there", ph, 4), "move");
	CHECK_STR(ev_phase_of("memcpy_bw", ph, 4), "run");
	CHECK_STR(ev_phase_of("to_system", ph, 4), "run");
}
