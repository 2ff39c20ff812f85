// SPDX-License-Identifier: GPL-2.0
/* The engine layer without a device: lookup and the host's pagemap placement. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/fixture.h"
#include "tap.h"

/* dmirror is built in; an unknown engine says how to get it, in one line */
TEST(engine_lookup)
{
	char why[512] = "";

	CHECK(cdm_engine_get("dmirror", why, sizeof(why)) == &cdm_engine_dmirror);
	CHECK(cdm_engine_dmirror.abi_version == CDM_ENGINE_ABI_VERSION);
	setenv(CDM_ENGINE_DIR_ENV, "/nonexistent", 1);
	CHECK(!cdm_engine_get("hip", why, sizeof(why)));
	CHECK_CONTAINS(why, "engine hip is not built: /nonexistent/hip.so");
	CHECK_CONTAINS(why, "hipcc");
	CHECK(!strchr(why, '\n'));
	unsetenv(CDM_ENGINE_DIR_ENV);
}

static uint64_t pfn_of(const void *p)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	uint64_t e = 0;
	int fd = open("/proc/self/pagemap", O_RDONLY);

	if (fd >= 0 && pread(fd, &e, 8, (uintptr_t)p / pg * 8) != 8)
		e = 0;
	if (fd >= 0)
		close(fd);
	return e & ((1ull << 55) - 1);
}

/* touched pages are system RAM, untouched ones unmapped, a PFN range local */
TEST(engine_pagemap_where)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 4 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint8_t loc[4];
	uint64_t range[1][2];

	CHECK(p != MAP_FAILED);
	p[0] = 1;
	p[2 * pg] = 1;
	CHECK(cdm_engine_host.pagemap_where(p, 4, NULL, 0, NULL, 0, loc) == 0);
	CHECK(cdm_pg_loc(loc[0]) == CDM_LOC_SYSTEM);
	CHECK(cdm_pg_loc(loc[1]) == CDM_LOC_NONE);
	CHECK(cdm_pg_loc(loc[2]) == CDM_LOC_SYSTEM);
	CHECK(cdm_pg_loc(loc[3]) == CDM_LOC_NONE);
	range[0][0] = pfn_of(p + 2 * pg);
	range[0][1] = range[0][0] + 1;
	if (range[0][0]) {
		/* with PFNs visible (root): the page in the range is the device's */
		CHECK(cdm_engine_host.pagemap_where(p, 4, range, 1, NULL, 0, loc) == 0);
		CHECK(cdm_pg_loc(loc[2]) == CDM_LOC_LOCAL && (loc[2] & CDM_PG_COHERENT));
		CHECK(cdm_pg_loc(loc[0]) == CDM_LOC_SYSTEM);
	} else {
		/* without them the helper says it could not tell */
		CHECK(cdm_engine_host.pagemap_where(p, 4, range, 1, NULL, 0, loc) == -EPERM);
	}
	munmap(p, 4 * pg);
}
