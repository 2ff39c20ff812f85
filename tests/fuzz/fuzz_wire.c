// SPDX-License-Identifier: GPL-2.0
/*
 * libFuzzer target: the guest's result stream (core/wire.c), as the host
 * reads it back from a VM run. Every record is framed and decoded; a case
 * that decodes is summarised, encoded again and decoded again, and must
 * come back the same.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/wire.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip_case(struct cdm_case_res *c)
{
	struct cdm_case_res back;
	struct wire_rd rd;
	struct sbuf sb;
	uint32_t type;
	size_t i;

	sb_init(&sb);
	wire_put_case(&sb, c);
	if (wire_next((const uint8_t *)sb.buf, sb.len, &type, &rd) !=
	    (long)sb.len || type != S_CASE || wire_get_case(&rd, &back))
		abort();
	if (back.nmetrics != c->nmetrics || back.seq != c->seq ||
	    strcmp(back.name, c->name) || back.info.n != c->info.n ||
	    back.kev.n != c->kev.n)
		abort();
	for (i = 0; i < c->nmetrics; i++)
		if (back.metrics[i].n != c->metrics[i].n ||
		    (c->metrics[i].n && memcmp(back.metrics[i].v, c->metrics[i].v,
					      c->metrics[i].n * sizeof(double))))
			abort();
	case_res_free(&back);
	sb_free(&sb);
}

static void record(uint32_t type, struct wire_rd *rd)
{
	struct cdm_run_info info;
	struct cdm_case_res c;
	struct cdm_kevent e;
	char *s;

	switch (type) {
	case S_RUN:
		(void)wire_get_run(rd, &info);
		run_info_free(&info);
		break;
	case S_CASE_START:
		(void)wire_get_u32(rd);
		free(wire_get_str(rd));
		break;
	case S_CASE:
		if (!wire_get_case(rd, &c)) {
			case_res_summarize(&c);
			roundtrip_case(&c);
		}
		case_res_free(&c);
		break;
	case S_KEVENT:
		memset(&e, 0, sizeof(e));
		(void)wire_get_kevent(rd, &e);
		free(e.text);
		break;
	case S_END:
		s = wire_get_str(rd);
		free(s);
		free(wire_get_str(rd));
		break;
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t mlen = strlen(CDM_STREAM_MAGIC), off = mlen;

	if (size < mlen || memcmp(data, CDM_STREAM_MAGIC, mlen))
		return 0;
	while (off < size) {
		struct wire_rd rd;
		uint32_t type;
		long used = wire_next(data + off, size - off, &type, &rd);

		if (used <= 0)
			break;
		record(type, &rd);
		off += used;
	}
	return 0;
}
