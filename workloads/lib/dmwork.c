// SPDX-License-Identifier: GPL-2.0
/* Shared pieces of the dmirror workloads; see dmwork.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/dmwork.h"
#include "lib/pattern.h"

#define HUGE_2M (2ull << 20)

enum dmirror_memtype dm_memtype(int devsel)
{
	return devsel == DM_DEV_COHERENT ? DMIRROR_COHERENT : DMIRROR_PRIVATE;
}

const char *dm_devtype(int devsel)
{
	return dmirror_type_name(dm_memtype(devsel));
}

bool dm_supported(int devsel, char *why, size_t len)
{
	enum dmirror_memtype t = dm_memtype(devsel);
	int m = dmirror_find(t, 0), fd;

	if (m < 0) {
		if (t == DMIRROR_COHERENT &&
		    dmirror_find(DMIRROR_PRIVATE, 0) >= 0)
			snprintf(why, len,
				 "no coherent test_hmm device: /dev/hmm_dmirror2,3 need test_hmm.spm_addr_dev0/1 (see 'cdmbench vm')");
		else
			snprintf(why, len,
				 "no /dev/hmm_dmirror* devices: kernel without CONFIG_TEST_HMM or module not loaded (try 'cdmbench vm run')");
		return false;
	}
	fd = dmirror_open(m);
	if (fd < 0) {
		snprintf(why, len, "/dev/hmm_dmirror%d: %s", m, strerror(-fd));
		return false;
	}
	close(fd);
	return true;
}

int dm_open(struct cdm_ctx *ctx, int devsel, int index)
{
	int m = dmirror_find(dm_memtype(devsel), index), fd;

	if (m < 0)
		return cdm_skip(ctx, "no %s device number %d", dm_devtype(devsel),
				index);
	fd = dmirror_open(m);
	if (fd < 0)
		return cdm_error(ctx, "/dev/hmm_dmirror%d: %s", m, strerror(-fd));
	cdm_info(ctx, "device", "/dev/hmm_dmirror%d (%s)", m,
		 dm_devtype(devsel));
	return fd;
}

int dm_buf_map(struct cdm_ctx *ctx, struct dm_buf *b, size_t len, bool thp)
{
	size_t align = thp ? HUGE_2M : cdm_page_size();
	uintptr_t start;

	memset(b, 0, sizeof(*b));
	/* over-map and trim to get a 2M-aligned range THP can back */
	b->map_len = len + align;
	b->map = mmap(NULL, b->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (b->map == MAP_FAILED) {
		b->map = NULL;
		return cdm_skip(ctx, "cannot map %zu bytes: %s", len,
				strerror(errno));
	}
	start = ((uintptr_t)b->map + align - 1) & ~(uintptr_t)(align - 1);
	b->p = (char *)start;
	b->len = len;
	b->npages = len / cdm_page_size();
	if (madvise(b->p, len, thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE) && thp)
		return cdm_skip(ctx, "madvise(MADV_HUGEPAGE): %s (kernel without THP?)",
				strerror(errno));
	return 0;
}

void dm_buf_unmap(struct dm_buf *b)
{
	if (b->map)
		munmap(b->map, b->map_len);
	memset(b, 0, sizeof(*b));
}

int dm_where(int fd, const struct dm_buf *b, uint8_t *snap,
	     struct dm_where *w)
{
	size_t i;
	int r;

	memset(w, 0, sizeof(*w));
	w->first_off_device = w->first_on_device = b->npages;
	r = dmirror_snapshot(fd, b->p, b->npages, snap);
	if (r)
		return r;
	for (i = 0; i < b->npages; i++) {
		uint8_t s = snap[i];
		uint8_t where = s & SNAP_WHERE_MASK;
		bool local = where == SNAP_PRIVATE_LOCAL ||
			     where == SNAP_COHERENT_LOCAL;

		if (local)
			w->local++;
		else if (snap_on_device(s))
			w->remote++;
		else if (s == SNAP_ERROR || !(s & (SNAP_READ | SNAP_WRITE)))
			w->none++;
		else
			w->system++;
		if (!local && w->first_off_device == b->npages) {
			w->first_off_device = i;
			w->first_off_byte = s;
		}
		if (snap_on_device(s) && w->first_on_device == b->npages) {
			w->first_on_device = i;
			w->first_on_byte = s;
		}
	}
	return 0;
}

int dm_check_where(struct cdm_ctx *ctx, int fd, const struct dm_buf *b,
		   enum dm_expect want, const char *phase, struct dm_where *out)
{
	uint8_t *snap = malloc(b->npages);
	struct dm_where w;
	char d[96];
	int r;

	if (!snap)
		return cdm_error(ctx, "out of memory for a snapshot");
	r = dm_where(fd, b, snap, &w);
	free(snap);
	if (r)
		return cdm_error(ctx, "%s: SNAPSHOT failed: %s", phase, strerror(-r));
	if (out)
		*out = w;
	if (want == DM_ON_DEVICE && w.local != b->npages)
		cdm_fail(ctx, "%s: %zu of %zu pages not on the device; first: page %zu (offset %zu) is %s",
			 phase, b->npages - w.local, b->npages,
			 w.first_off_device,
			 w.first_off_device * cdm_page_size(),
			 snap_describe(w.first_off_byte, d, sizeof(d)));
	if (want == DM_IN_SYSTEM && w.first_on_device != b->npages)
		cdm_fail(ctx, "%s: %zu of %zu pages still on a device; first: page %zu (offset %zu) is %s",
			 phase, w.local + w.remote, b->npages, w.first_on_device,
			 w.first_on_device * cdm_page_size(),
			 snap_describe(w.first_on_byte, d, sizeof(d)));
	return 0;
}

bool dm_check_data(struct cdm_ctx *ctx, const void *data, size_t len,
		   uint32_t gen, const char *phase)
{
	struct pat_err e;

	if (pat_check(data, len, cdm_seed(ctx), gen, &e))
		return true;
	cdm_fail(ctx, "%s: data differs at page %zu (offset %zu): expected 0x%016llx, got 0x%016llx; %s",
		 phase, e.page, e.offset, (unsigned long long)e.expected,
		 (unsigned long long)e.got, e.what);
	return false;
}

int dm_timed(int fd, unsigned long req, void *addr, void *ptr,
	     uint64_t npages, struct dmirror_cmd *cmd, uint64_t *ns)
{
	uint64_t t0 = cdm_now_ns();
	int r = dmirror_ioctl(fd, req, addr, ptr, npages, cmd);

	*ns = cdm_now_ns() - t0;
	return r;
}

int dm_corrupt_page(struct cdm_ctx *ctx, int fd, const struct dm_buf *b,
		    int64_t page)
{
	size_t pg = cdm_page_size();
	struct dmirror_cmd cmd;
	char *junk;
	int r;

	if (page < 0 || (size_t)page >= b->npages)
		return 0;
	junk = malloc(pg);
	if (!junk)
		return cdm_error(ctx, "out of memory");
	memset(junk, 0xa5, pg);
	r = dmirror_ioctl(fd, DMIRROR_WRITE, b->p + page * pg, junk, 1, &cmd);
	free(junk);
	if (r)
		return cdm_error(ctx, "dmirror WRITE for corrupt_page: %s",
				 strerror(-r));
	return 0;
}

const char *dm_placement(const struct dm_where *w, size_t npages, char *buf,
			 size_t len)
{
	if (w->local == npages)
		snprintf(buf, len, "device");
	else if (w->system == npages)
		snprintf(buf, len, "system");
	else
		snprintf(buf, len, "mixed (%zu device, %zu other device, %zu system, %zu unmapped)",
			 w->local, w->remote, w->system, w->none);
	return buf;
}
