/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The dmirror backend: the kernel's test_hmm driver (lib/test_hmm.c,
 * CONFIG_TEST_HMM) exposes /dev/hmm_dmirror0..3, a pretend device with
 * private (minors 0, 1) and, when given SPM ranges, coherent (minors 2, 3)
 * memory. Its ioctls let user space ask the "device" to read, write,
 * migrate and snapshot pages of the caller's address space.
 *
 * The uapi header (lib/test_hmm_uapi.h) is not exported to /usr/include,
 * so the ABI is restated here: five u64 fields and 'H' ioctls 0..7.
 */
#ifndef CDM_DMIRROR_H
#define CDM_DMIRROR_H

#include <linux/ioctl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define DMIRROR_NDEV 4

struct dmirror_cmd {
	uint64_t addr;		/* in: address the device accesses */
	uint64_t ptr;		/* in: buffer for data or snapshot bytes */
	uint64_t npages;	/* in */
	uint64_t cpages;	/* out: pages handled (unreliable for MIGRATE_TO_DEV on 6.1) */
	uint64_t faults;	/* out: device faults taken */
};

#define DMIRROR_READ		_IOWR('H', 0x00, struct dmirror_cmd)
#define DMIRROR_WRITE		_IOWR('H', 0x01, struct dmirror_cmd)
#define DMIRROR_MIGRATE_TO_DEV	_IOWR('H', 0x02, struct dmirror_cmd)
#define DMIRROR_MIGRATE_TO_SYS	_IOWR('H', 0x03, struct dmirror_cmd)
#define DMIRROR_SNAPSHOT	_IOWR('H', 0x04, struct dmirror_cmd)
#define DMIRROR_EXCLUSIVE	_IOWR('H', 0x05, struct dmirror_cmd)
#define DMIRROR_CHECK_EXCLUSIVE	_IOWR('H', 0x06, struct dmirror_cmd)
#define DMIRROR_RELEASE		_IOWR('H', 0x07, struct dmirror_cmd)

/* one SNAPSHOT byte per page */
enum {
	SNAP_ERROR = 0xff,
	SNAP_NONE = 0x00,
	SNAP_READ = 0x01,
	SNAP_WRITE = 0x02,
	SNAP_PMD = 0x04,
	SNAP_PUD = 0x08,
	SNAP_ZERO = 0x10,
	SNAP_PRIVATE_LOCAL = 0x20,
	SNAP_PRIVATE_REMOTE = 0x30,
	SNAP_COHERENT_LOCAL = 0x40,
	SNAP_COHERENT_REMOTE = 0x50,
	SNAP_WHERE_MASK = 0xf0,
};

enum dmirror_memtype {
	DMIRROR_UNKNOWN,
	DMIRROR_PRIVATE,
	DMIRROR_COHERENT,
};

const char *dmirror_path(int minor, char *buf, size_t len);
/* what the driver gives each minor: 0,1 private; 2,3 coherent */
enum dmirror_memtype dmirror_expected_type(int minor);
const char *dmirror_type_name(enum dmirror_memtype t);
/* first minor of a memory type that exists, or -1 */
int dmirror_find(enum dmirror_memtype t, int index);

int dmirror_open(int minor);		/* fd or -errno */
/*
 * Issue one command. EINTR is retried; EBUSY (pages briefly locked or under
 * migration) is retried with a short back-off up to a bound. Returns 0 or
 * -errno; *cmd holds the kernel's outputs.
 *
 * ptr: READ fills it and WRITE takes data from it (npages pages each);
 * MIGRATE_TO_DEV and EXCLUSIVE copy the range back into it through the
 * device for verification, so it must hold npages pages too; SNAPSHOT
 * writes npages bytes; MIGRATE_TO_SYS ignores it.
 */
int dmirror_ioctl(int fd, unsigned long req, void *addr, void *ptr,
		  uint64_t npages, struct dmirror_cmd *cmd);
/* snapshot npages at addr into snap (npages bytes) */
int dmirror_snapshot(int fd, void *addr, uint64_t npages, uint8_t *snap);
/* where a snapshot byte says a page lives: system, private, coherent */
enum dmirror_memtype snap_memtype(uint8_t b);
bool snap_on_device(uint8_t b);
const char *snap_describe(uint8_t b, char *buf, size_t len);
/*
 * Confirm a device's memory type by migrating one page to it and reading
 * the snapshot back. detail gets a human-readable account.
 */
enum dmirror_memtype dmirror_probe_type(int fd, char *detail, size_t len);

#endif
