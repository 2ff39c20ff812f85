// SPDX-License-Identifier: GPL-2.0
/* The HIP engine's rule for when an AMD GPU can migrate pages by faulting. */
#include "engine/hip/hip_xnack.h"
#include "tap.h"

/* MI200 with XNACK on: migration allowed, whatever HSA_XNACK says */
TEST(hip_xnack_on)
{
	char why[256] = "";

	CHECK(cdm_hip_xnack_ok("gfx90a:sramecc+:xnack+", "1", "0", why, sizeof(why)) == 1);
	CHECK(cdm_hip_xnack_ok("gfx90a:sramecc+:xnack+", NULL, "-1", why, sizeof(why)) == 1);
	CHECK(cdm_hip_xnack_ok("gfx90a", "1", NULL, why, sizeof(why)) == 1,
	      "a target ID without the feature trusts HSA_XNACK=1");
}

/* MI200 with HSA_XNACK off: the reason names the target and HSA_XNACK */
TEST(hip_xnack_off_on_mi200)
{
	char why[256] = "";

	CHECK(cdm_hip_xnack_ok("gfx90a:sramecc+:xnack-", "0", "0", why, sizeof(why)) == 0);
	CHECK(strstr(why, "gfx90a:sramecc+:xnack-: XNACK is off (HSA_XNACK=0)") != NULL, "why: %s", why);
	CHECK(strstr(why, "run with HSA_XNACK=1") != NULL, "why: %s", why);
	CHECK(cdm_hip_xnack_ok("gfx90a:sramecc+:xnack-", NULL, NULL, why, sizeof(why)) == 0);
	CHECK(strstr(why, "HSA_XNACK=unset") != NULL, "why: %s", why);
	CHECK(cdm_hip_xnack_ok("gfx90a", NULL, NULL, why, sizeof(why)) == 0);
	CHECK(strstr(why, "does not report xnack+") != NULL, "why: %s", why);
}

/* amdgpu noretry=1 wins over xnack+: no retry faults, no migration */
TEST(hip_xnack_noretry)
{
	char why[256] = "";

	CHECK(cdm_hip_xnack_ok("gfx90a:sramecc+:xnack+", "1", "1", why, sizeof(why)) == 0);
	CHECK(strstr(why, "noretry=1") != NULL, "why: %s", why);
}
