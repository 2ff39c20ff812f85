// SPDX-License-Identifier: GPL-2.0
/*
 * test_hmm device access shared by probe and the device workloads.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "lib/dmirror.h"

#define EBUSY_RETRIES 20

const char *dmirror_path(int minor, char *buf, size_t len)
{
	snprintf(buf, len, "/dev/hmm_dmirror%d", minor);
	return buf;
}

enum dmirror_memtype dmirror_expected_type(int minor)
{
	if (minor == 0 || minor == 1)
		return DMIRROR_PRIVATE;
	if (minor == 2 || minor == 3)
		return DMIRROR_COHERENT;
	return DMIRROR_UNKNOWN;
}

const char *dmirror_type_name(enum dmirror_memtype t)
{
	switch (t) {
	case DMIRROR_PRIVATE:
		return "private";
	case DMIRROR_COHERENT:
		return "coherent";
	default:
		return "unknown";
	}
}

int dmirror_find(enum dmirror_memtype t, int index)
{
	char path[64];
	int m;

	for (m = 0; m < DMIRROR_NDEV; m++) {
		if (dmirror_expected_type(m) != t)
			continue;
		if (access(dmirror_path(m, path, sizeof(path)), F_OK))
			continue;
		if (index-- == 0)
			return m;
	}
	return -1;
}

int dmirror_open(int minor)
{
	char path[64];
	int fd = open(dmirror_path(minor, path, sizeof(path)),
		      O_RDWR | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

int dmirror_ioctl(int fd, unsigned long req, void *addr, void *ptr,
		  uint64_t npages, struct dmirror_cmd *cmd)
{
	int busy = 0;

	for (;;) {
		memset(cmd, 0, sizeof(*cmd));
		cmd->addr = (uintptr_t)addr;
		cmd->ptr = (uintptr_t)ptr;
		cmd->npages = npages;
		if (ioctl(fd, req, cmd) == 0)
			return 0;
		if (errno == EINTR)
			continue;
		if (errno == EBUSY && busy++ < EBUSY_RETRIES) {
			usleep(busy < 10 ? 100 : 1000);
			continue;
		}
		return -errno;
	}
}

int dmirror_snapshot(int fd, void *addr, uint64_t npages, uint8_t *snap)
{
	struct dmirror_cmd cmd;

	return dmirror_ioctl(fd, DMIRROR_SNAPSHOT, addr, snap, npages, &cmd);
}

enum dmirror_memtype snap_memtype(uint8_t b)
{
	if (b == SNAP_ERROR)
		return DMIRROR_UNKNOWN;
	switch (b & SNAP_WHERE_MASK) {
	case SNAP_PRIVATE_LOCAL:
	case SNAP_PRIVATE_REMOTE:
		return DMIRROR_PRIVATE;
	case SNAP_COHERENT_LOCAL:
	case SNAP_COHERENT_REMOTE:
		return DMIRROR_COHERENT;
	}
	return DMIRROR_UNKNOWN;	/* system memory or not mapped */
}

bool snap_on_device(uint8_t b)
{
	return snap_memtype(b) != DMIRROR_UNKNOWN;
}

const char *snap_describe(uint8_t b, char *buf, size_t len)
{
	const char *where;

	if (b == SNAP_ERROR) {
		snprintf(buf, len, "0x%02x (no mirror entry)", b);
		return buf;
	}
	switch (b & SNAP_WHERE_MASK) {
	case SNAP_PRIVATE_LOCAL:
		where = "device-private (this device)";
		break;
	case SNAP_PRIVATE_REMOTE:
		where = "device-private (other device)";
		break;
	case SNAP_COHERENT_LOCAL:
		where = "device-coherent (this device)";
		break;
	case SNAP_COHERENT_REMOTE:
		where = "device-coherent (other device)";
		break;
	case SNAP_ZERO:
		where = "zero page";
		break;
	default:
		where = (b & (SNAP_READ | SNAP_WRITE)) ? "system RAM" :
			"not mapped";
	}
	snprintf(buf, len, "0x%02x (%s%s)", b, where,
		 (b & SNAP_WRITE) ? ", writable" : "");
	return buf;
}

enum dmirror_memtype dmirror_probe_type(int fd, char *detail, size_t len)
{
	size_t pg = sysconf(_SC_PAGESIZE);
	struct dmirror_cmd cmd;
	enum dmirror_memtype t = DMIRROR_UNKNOWN;
	uint8_t snap = 0;
	char d[96], *p;
	int r;

	/* page 0 migrates; page 1 receives the device's read-back copy */
	p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		snprintf(detail, len, "mmap failed: %s", strerror(errno));
		return t;
	}
	memset(p, 0x5a, 2 * pg);
	r = dmirror_ioctl(fd, DMIRROR_MIGRATE_TO_DEV, p, p + pg, 1, &cmd);
	if (r) {
		snprintf(detail, len, "MIGRATE_TO_DEV failed: %s", strerror(-r));
		goto out;
	}
	r = dmirror_snapshot(fd, p, 1, &snap);
	if (r) {
		snprintf(detail, len, "SNAPSHOT failed: %s", strerror(-r));
		goto out;
	}
	t = snap_memtype(snap);
	snprintf(detail, len, "1-page migration landed in %s",
		 snap_describe(snap, d, sizeof(d)));
	dmirror_ioctl(fd, DMIRROR_MIGRATE_TO_SYS, p, NULL, 1, &cmd);
out:
	munmap(p, 2 * pg);
	return t;
}
