/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The binary record format used on two links:
 *  - case child -> runner parent (a pipe): metrics, samples, facts, verdict
 *  - guest runner -> host (a file on a 9p share): whole runs and cases
 * Each record is: u32 type, u32 payload length, payload. Both ends are the
 * same binary on the same architecture, so fields are in native order; a
 * magic header and version on the stream guard against anything else.
 */
#ifndef CDM_WIRE_H
#define CDM_WIRE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"
#include "util/util.h"

#define CDM_STREAM_MAGIC "CDMSTRM1"

enum cdm_wire_type {
	/* child -> parent */
	W_METRIC = 1,
	W_SAMPLES,
	W_INFO,
	W_LOG,
	W_DEVTYPE,
	W_VERDICT,
	W_DONE,
	W_SUBCASE,
	/* guest -> host stream */
	S_RUN = 100,
	S_CASE_START,
	S_CASE,
	S_KEVENT,
	S_END,
};

#define WIRE_HDR 8u
#define WIRE_MAX_RECORD (1u << 30)

/* writing: frame a record in an sbuf */
size_t wire_begin(struct sbuf *sb, uint32_t type);
void wire_end(struct sbuf *sb, size_t start);
void wire_u32(struct sbuf *sb, uint32_t v);
void wire_u64(struct sbuf *sb, uint64_t v);
void wire_f64(struct sbuf *sb, double v);
void wire_str(struct sbuf *sb, const char *s);

/* reading: a cursor over one record's payload */
struct wire_rd {
	const uint8_t *p;
	size_t len;
	size_t off;
	bool bad;		/* set on any overrun; values read as 0/"" */
};
uint32_t wire_get_u32(struct wire_rd *r);
uint64_t wire_get_u64(struct wire_rd *r);
double wire_get_f64(struct wire_rd *r);
char *wire_get_str(struct wire_rd *r);	/* malloc'd */
/* a pointer into the payload for n doubles, or NULL on overrun */
const void *wire_get_raw(struct wire_rd *r, size_t n);

/*
 * Split the next complete record off buf. Returns the bytes consumed, 0 if
 * the record is not complete yet, -1 if the framing is corrupt.
 */
long wire_next(const uint8_t *buf, size_t len, uint32_t *type,
	       struct wire_rd *payload);

/* whole-object codecs for the stream */
void wire_put_run(struct sbuf *sb, const struct cdm_run_info *r);
int wire_get_run(struct wire_rd *rd, struct cdm_run_info *r);
void wire_put_case(struct sbuf *sb, const struct cdm_case_res *c);
int wire_get_case(struct wire_rd *rd, struct cdm_case_res *c);
void wire_put_kevent(struct sbuf *sb, const struct cdm_kevent *e);
int wire_get_kevent(struct wire_rd *rd, struct cdm_kevent *e);

/* write all of sb to fd, retrying short writes and EINTR */
int write_all(int fd, const void *p, size_t n);

#endif
