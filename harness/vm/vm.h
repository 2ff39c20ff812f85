/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated device-memory node: what `cdmbench vm` asks of it. The
 * command line is cli/cmd_vm.c's; the rest of vm/ boots QEMU (qemu.c),
 * shares files with the guest (share.c), replays its result stream into
 * the database (replay.c) and runs the whole (vm.c).
 */
#ifndef CDM_VM_H
#define CDM_VM_H

#include <stdbool.h>
#include <stdint.h>

#include "core/result.h"

struct vm_args {
	const char *job_path;
	char **sets;
	int nsets;
	const char *kernel;
	const char *initrd;
	const char *append;
	uint64_t mem;
	int64_t cpus;
	uint64_t timeout;
	uint64_t spm_base;
	const char *db;
	const char *accel;	/* auto, kvm, tcg */
	bool keep;
	struct cdm_kvlist tags;
	bool seed_set;
	uint64_t seed;
	char **exec_argv;	/* vm exec: arguments for cdmbench in the guest */
	int exec_argc;
	const char *extra_append;	/* internal: test flags */
};

/* the defaults `cdmbench vm --help` documents */
void vm_args_init(struct vm_args *a, const char *db);
void vm_args_free(struct vm_args *a);
/*
 * vm run (a->job_path) or vm exec (a->exec_argv): load the job (a bad one
 * fails before anything boots), boot, run, store; the exit status.
 * argv_s is the host's command line, recorded with the run.
 */
int vm_main(struct vm_args *a, const char *argv_s);

#endif
