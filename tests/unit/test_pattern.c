// SPDX-License-Identifier: GPL-2.0
/* Self-describing data: a check names the page, offset and whose data. */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/pattern.h"
#include "tap.h"

#define NP 16

static char *make(uint64_t seed, uint32_t gen)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	char *b = aligned_alloc(pg, NP * pg);

	pat_fill(b, NP * pg, seed, gen);
	return b;
}

TEST(pattern_intact)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	char *b = make(7, 1);
	struct pat_err e;

	CHECK(pat_check(b, NP * pg, 7, 1, &e));
	/* another seed or generation must not verify */
	CHECK(!pat_check(b, NP * pg, 8, 1, &e));
	CHECK(!pat_check(b, NP * pg, 7, 2, &e));
	free(b);
}

/* one flipped bit is found at its exact page and offset */
TEST(pattern_names_first_bad_page)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	char *b = make(42, 3);
	struct pat_err e;

	b[5 * pg + 808] ^= 0x10;
	b[9 * pg + 16] ^= 0x01;
	REQUIRE(!pat_check(b, NP * pg, 42, 3, &e));
	CHECK(e.page == 5, "page %zu", e.page);
	CHECK(e.offset == 5 * pg + 808, "offset %zu", e.offset);
	CHECK_CONTAINS(e.what, "payload corrupted");
	free(b);
}

/* swapped pages and stale generations are told apart */
TEST(pattern_explains_misplaced_and_stale)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	char *b = make(42, 3), *tmp = malloc(pg);
	struct pat_err e;

	memcpy(tmp, b + 2 * pg, pg);
	memcpy(b + 2 * pg, b + 11 * pg, pg);
	memcpy(b + 11 * pg, tmp, pg);
	REQUIRE(!pat_check(b, NP * pg, 42, 3, &e));
	CHECK(e.page == 2);
	CHECK_CONTAINS(e.what, "data of page 11");
	free(b);
	b = make(42, 3);
	pat_fill_page(b + 4 * pg, pg, 42, 4, 2);
	REQUIRE(!pat_check(b, NP * pg, 42, 3, &e));
	CHECK(e.page == 4);
	CHECK_CONTAINS(e.what, "generation 2");
	memset(b + 4 * pg, 0, pg);
	REQUIRE(!pat_check(b, NP * pg, 42, 3, &e));
	CHECK_CONTAINS(e.what, "no pattern header");
	free(b);
	free(tmp);
}
