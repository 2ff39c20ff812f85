// SPDX-License-Identifier: GPL-2.0
/* Self-describing data patterns; see pattern.h. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lib/pattern.h"
#include "util/util.h"

#define PAT_MAGIC 0xcd3bull
#define HDR_WORDS 2

static uint64_t header0(uint64_t index)
{
	return PAT_MAGIC << 48 | (index & 0xffffffffffffull);
}

static uint64_t header1(uint64_t seed, uint32_t gen)
{
	return (uint64_t)gen << 32 | (seed & 0xffffffffull);
}

uint64_t pat_word(uint64_t seed, uint64_t page, uint64_t word, uint32_t gen)
{
	if (word == 0)
		return header0(page);
	if (word == 1)
		return header1(seed, gen);
	return mix64(seed ^ ((uint64_t)gen << 40), page << 20 | word);
}

void pat_fill_page(void *page, size_t pagesz, uint64_t seed, uint64_t index,
		   uint32_t gen)
{
	uint64_t *w = page;
	size_t i, n = pagesz / 8;

	for (i = 0; i < n; i++)
		w[i] = pat_word(seed, index, i, gen);
}

void pat_fill(void *buf, size_t len, uint64_t seed, uint32_t gen)
{
	size_t pg = sysconf(_SC_PAGESIZE), i;

	for (i = 0; i < len / pg; i++)
		pat_fill_page((char *)buf + i * pg, pg, seed, i, gen);
}

static void explain(const uint64_t *w, uint64_t index, uint32_t gen,
		    uint64_t seed, struct pat_err *e)
{
	uint64_t h0 = w[0], h1 = w[1];

	if (h0 >> 48 != PAT_MAGIC) {
		snprintf(e->what, sizeof(e->what),
			 "page holds no pattern header (zeroed or foreign data)");
		return;
	}
	if ((h0 & 0xffffffffffffull) != (index & 0xffffffffffffull)) {
		snprintf(e->what, sizeof(e->what),
			 "page holds the data of page %llu (misplaced page)",
			 (unsigned long long)(h0 & 0xffffffffffffull));
		return;
	}
	if ((h1 & 0xffffffffull) != (seed & 0xffffffffull)) {
		snprintf(e->what, sizeof(e->what),
			 "page holds data of another seed (another buffer)");
		return;
	}
	if (h1 >> 32 != gen) {
		snprintf(e->what, sizeof(e->what),
			 "page holds generation %u, expected %u (lost or stale write)",
			 (unsigned int)(h1 >> 32), gen);
		return;
	}
	snprintf(e->what, sizeof(e->what),
		 "header intact, payload corrupted");
}

bool pat_check_page(const void *page, size_t pagesz, uint64_t seed,
		    uint64_t index, uint32_t gen, struct pat_err *e)
{
	const uint64_t *w = page;
	size_t i, n = pagesz / 8;

	for (i = 0; i < n; i++) {
		uint64_t want = pat_word(seed, index, i, gen);

		if (w[i] == want)
			continue;
		e->page = index;
		e->offset = index * pagesz + i * 8;
		e->expected = want;
		e->got = w[i];
		explain(w, index, gen, seed, e);
		return false;
	}
	return true;
}

bool pat_check(const void *buf, size_t len, uint64_t seed, uint32_t gen,
	       struct pat_err *e)
{
	size_t pg = sysconf(_SC_PAGESIZE), i;

	for (i = 0; i < len / pg; i++)
		if (!pat_check_page((const char *)buf + i * pg, pg, seed, i,
				    gen, e))
			return false;
	return true;
}
