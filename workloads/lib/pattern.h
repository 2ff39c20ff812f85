/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Self-describing test data. Every page starts with a header naming the
 * page it belongs to and the generation (phase) that wrote it; the rest is
 * a hash of (seed, page, word, generation). A check therefore names the
 * first bad page and offset, and can say whose data is there instead:
 * a stale generation means a lost write, another page's index means a
 * page landed in the wrong place.
 */
#ifndef CDM_PATTERN_H
#define CDM_PATTERN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pat_err {
	size_t page;		/* first page that differs */
	size_t offset;		/* byte offset in the buffer */
	uint64_t expected;
	uint64_t got;
	char what[160];		/* whose data is there, when recognisable */
};

uint64_t pat_word(uint64_t seed, uint64_t page, uint64_t word, uint32_t gen);
/* fill pages [first, first + len / pagesize) of buf */
void pat_fill(void *buf, size_t len, uint64_t seed, uint32_t gen);
void pat_fill_page(void *page, size_t pagesz, uint64_t seed, uint64_t index,
		   uint32_t gen);
/* true if intact; else e describes the first difference */
bool pat_check(const void *buf, size_t len, uint64_t seed, uint32_t gen,
	       struct pat_err *e);
bool pat_check_page(const void *page, size_t pagesz, uint64_t seed,
		    uint64_t index, uint32_t gen, struct pat_err *e);

#endif
