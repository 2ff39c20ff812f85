/* SPDX-License-Identifier: GPL-2.0 */
/* Between the files of vm/: one booted guest and what it shares. */
#ifndef CDM_VM_NODE_H
#define CDM_VM_NODE_H

#include <limits.h>
#include <sys/types.h>

#include "core/job.h"
#include "store/db.h"
#include "util/progress.h"
#include "vm/vm.h"

#define GIB (1ull << 30)
#define MIB (1ull << 20)
/* QEMU's pc machine keeps RAM below 3 GiB and puts the rest above 4 GiB */
#define LOWMEM (3ull * GIB)
#define HOLE_END (4ull * GIB)
#define SPM_CHUNK (256ull * MIB)	/* test_hmm maps one chunk per device */
#define SPM_TOTAL (2 * SPM_CHUNK)
#define KVM_PROBE_S 20
#define CONSOLE_TAIL 60

struct vm {
	struct vm_args *a;
	char share[PATH_MAX];
	char self[PATH_MAX];	/* this binary */
	char guest_self[PATH_MAX];	/* the copy the guest runs, or "" */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char accel[8];
	char *append;
	char *qemu_cmdline;
	pid_t qemu;
	int qemu_status;
	bool qemu_exited;
};

/* qemu.c: finding the pieces, QEMU's command line, KVM or TCG */
int vm_self_path(char *buf, size_t len);
int vm_find_kernel(struct vm *vm);
int vm_find_initrd(struct vm *vm);
bool vm_have_qemu(void);
int vm_check_layout(const struct vm_args *a);
char *vm_make_append(const struct vm *vm);
char **vm_qemu_argv(struct vm *vm, const char *accel, const char *console,
		    int *argc_out);
void vm_free_argv(char **v);
char *vm_join_shell(char **v);
pid_t vm_spawn_qemu(char **argv, const char *errlog);
void vm_stop_qemu(pid_t pid);
void vm_choose_accel(struct vm *vm);

/* share.c: the writable 9p share the guest sees as /run/cdmbench */
char *vm_share_file(const struct vm *vm, const char *name);
int vm_make_share(struct vm *vm);
void vm_remove_share(struct vm *vm);
void vm_copy_self(struct vm *vm);
int vm_write_script(const struct vm *vm, const char *body);
char *vm_guest_script(const struct vm *vm, const char *job_abs);
char *vm_copy_job(struct vm *vm);

/* replay.c: the guest's result stream into the database, and its fate */
struct vm_replay {
	struct cdm_db *db;
	int64_t run_id;
	struct sbuf buf;
	size_t off;		/* bytes of the file consumed */
	bool magic_ok;
	bool got_run;
	bool got_end;
	char guest_status[32];
	int ncases;
	int cur_seq;		/* case started but not finished, or -1 */
	char cur_name[256];
	int verdicts[CDM_NVERDICTS];
	struct cdm_progress pg;
	bool quiet_lines;
	int err;
};

struct vm_outcome {
	const char *status;	/* completed, crashed, interrupted */
	char reason[512];
	int exit_code;
};

int vm_replay_poll(struct vm_replay *rp, const char *path);
void vm_judge(struct vm *vm, struct vm_replay *rp, bool timed_out,
	      struct vm_outcome *o);
int vm_record_lost_case(struct vm *vm, struct vm_replay *rp,
			const struct vm_outcome *o);

#endif
