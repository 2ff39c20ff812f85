/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What every dmirror workload needs: pick a device by memory type, map a
 * buffer (with or without THP), ask where its pages live, and check data
 * and placement with messages that name the first bad page.
 */
#ifndef CDM_DMWORK_H
#define CDM_DMWORK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "lib/dmirror.h"
#include "core/workload.h"

/* the `device` option every dmirror workload has */
#define DM_DEVICE_CHOICES "private|coherent"
enum dm_devsel { DM_DEV_PRIVATE, DM_DEV_COHERENT };

#define DM_OPT_DEVICE(type, field)                                           \
	{ "device", CDM_T_ENUM, OPT_FIELD(type, field), "private", 0, 0,     \
	  DM_DEVICE_CHOICES, 0,                                              \
	  "device memory type: private (MEMORY_DEVICE_PRIVATE, minor 0) or " \
	  "coherent (MEMORY_DEVICE_COHERENT, minor 2)" }
#define DM_OPT_THP(type, field)                                              \
	{ "thp", CDM_T_BOOL, OPT_FIELD(type, field), "no", 0, 0, NULL, 0,    \
	  "back the buffer with transparent huge pages (MADV_HUGEPAGE, 2M aligned)" }

/* the largest buffer a coherent device can hold: one test_hmm chunk */
#define DM_COHERENT_BYTES (256ull << 20)

enum dmirror_memtype dm_memtype(int devsel);
const char *dm_devtype(int devsel);
/* for supported(): the device exists and can be opened, else why not */
bool dm_supported(int devsel, char *why, size_t len);
/* open the first device of the type (or the index-th); -1 after cdm_skip */
int dm_open(struct cdm_ctx *ctx, int devsel, int index);

struct dm_buf {
	char *p;
	size_t len;
	size_t npages;
	size_t map_len;		/* what was mapped, for munmap */
	char *map;
};
int dm_buf_map(struct cdm_ctx *ctx, struct dm_buf *b, size_t len, bool thp);
void dm_buf_unmap(struct dm_buf *b);

/* where a buffer's pages are, by SNAPSHOT */
struct dm_where {
	size_t local;		/* on the device asked */
	size_t remote;		/* on another device */
	size_t system;		/* in system RAM */
	size_t none;		/* not mapped or no mirror entry */
	size_t first_off_device;	/* first page not local, or npages */
	size_t first_on_device;		/* first page on any device, or npages */
	uint8_t first_off_byte;
	uint8_t first_on_byte;
};
int dm_where(int fd, const struct dm_buf *b, uint8_t *snap,
	     struct dm_where *w);

enum dm_expect { DM_ON_DEVICE, DM_IN_SYSTEM };
/*
 * SNAPSHOT the buffer and fail the case (naming the first misplaced page)
 * unless every page is where expected. Returns -1 on an ioctl error,
 * 0 otherwise; *w (if given) gets the counts.
 */
int dm_check_where(struct cdm_ctx *ctx, int fd, const struct dm_buf *b,
		   enum dm_expect want, const char *phase, struct dm_where *w);
/* check the pattern in data (npages pages), failing with page and offset */
bool dm_check_data(struct cdm_ctx *ctx, const void *data, size_t len,
		   uint32_t gen, const char *phase);

/* nanoseconds for one call, with the -errno it returned */
int dm_timed(int fd, unsigned long req, void *addr, void *ptr,
	     uint64_t npages, struct dmirror_cmd *cmd, uint64_t *ns);

/*
 * Write junk into one page through the device (dmirror WRITE), behind the
 * workload's back, so a later data check can prove it is live. page < 0 or
 * past the buffer: nothing. Returns 0, or -1 after cdm_error.
 */
int dm_corrupt_page(struct cdm_ctx *ctx, int fd, const struct dm_buf *b,
		    int64_t page);
/* "device", "system", or "mixed (N device, N system, ...)" for a where */
const char *dm_placement(const struct dm_where *w, size_t npages, char *buf,
			 size_t len);

#endif
