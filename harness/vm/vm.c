// SPDX-License-Identifier: GPL-2.0
/*
 * The emulated Frontier-like node: one run, from boot to stored result.
 *
 * Boots our kernel (kernel/build.sh) in QEMU with two NUMA nodes and 512 MiB
 * of guest RAM taken out of the memory map (memmap=SIZE$ADDR) and handed to
 * test_hmm as the special-purpose memory of its two coherent devices. The
 * guest borrows the host's root file system read-only over 9p and runs this
 * very binary; its runner writes a result stream into a second, writable
 * 9p share, which this side reads while the guest runs and replays into the
 * host's database. The guest never touches SQLite: SQLite over 9p (locks,
 * WAL shared memory) is not something to rely on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/runner.h"
#include "core/sysinfo.h"
#include "util/version.h"
#include "vm/node.h"

/* --- the run --- */

static void host_run_info(struct vm *vm, struct cdm_job *job,
			  struct cdm_run_info *r, const char *argv_s)
{
	run_info_for_job(r, job);
	r->environment = xasprintf("qemu-%s", vm->accel);
	/* until the guest reports itself: the host, and the kernel file */
	sysinfo_host(&r->host);
	r->kernel.release = xasprintf("(guest) %s", vm->kernel);
	r->kernel.version = xstrdup("");
	r->kernel.config_digest = xstrdup("");
	r->cmdline = xstrdup(vm->append);
	r->argv = xstrdup(argv_s);
	r->kmsg_status = xstrdup("guest");
	kv_set(&r->tags, "vm.host", r->host.hostname);
}

static int wait_guest(struct vm *vm, struct vm_replay *rp, const char *stream,
		      bool *timed_out)
{
	uint64_t deadline = cdm_now_ns() + vm->a->timeout;

	*timed_out = false;
	for (;;) {
		pid_t r = waitpid(vm->qemu, &vm->qemu_status, WNOHANG);

		if (rp && vm_replay_poll(rp, stream))
			break;
		if (r == vm->qemu) {
			vm->qemu_exited = true;
			break;
		}
		if (cdm_stop_signal)
			break;
		if (cdm_now_ns() > deadline) {
			*timed_out = true;
			break;
		}
		if (rp)
			progress_draw(&rp->pg, false);
		usleep(200000);
	}
	if (!vm->qemu_exited)
		vm_stop_qemu(vm->qemu);
	/* the last records may have landed just before QEMU exited */
	if (rp && !rp->err)
		vm_replay_poll(rp, stream);
	if (rp)
		progress_clear(&rp->pg);
	return rp ? rp->err : 0;
}

static int boot(struct vm *vm)
{
	char *console = vm_share_file(vm, "console.log"), *err = vm_share_file(vm, "qemu.err");
	char **argv;
	int argc;

	argv = vm_qemu_argv(vm, vm->accel, console, &argc);
	vm->qemu_cmdline = vm_join_shell(argv);
	vm->qemu = vm_spawn_qemu(argv, err);
	vm_free_argv(argv);
	free(console);
	free(err);
	if (vm->qemu < 0)
		return cdm_errno(errno, "vm: cannot start QEMU");
	return 0;
}

static int store_logs(struct vm *vm, struct cdm_db *db, int64_t run_id)
{
	char *cpath = vm_share_file(vm, "console.log");
	char *console = read_file(cpath, 64 << 20, NULL);
	int r;

	r = db_run_log(db, run_id, "console", console ? console : "") |
	    db_run_log(db, run_id, "qemu_cmdline", vm->qemu_cmdline);
	free(console);
	free(cpath);
	return r;
}

static int vm_run_job(struct vm *vm, struct cdm_job *job, const char *argv_s)
{
	struct vm_replay rp = { .cur_seq = -1 };
	struct cdm_run_info info;
	struct cdm_db db;
	struct vm_outcome o;
	char *stream, *script, *abs_job;
	bool timed_out;
	int r;

	/* the guest reads a copy in the share: host paths need not be visible */
	abs_job = vm_copy_job(vm);
	if (!abs_job)
		return CDM_EXIT_USAGE;
	if (strcmp(vm->a->db, CDM_DEFAULT_DB) == 0)
		mkdir("results", 0755);
	if (db_open(&db, vm->a->db, DB_WRITE)) {
		free(abs_job);
		return CDM_EXIT_USAGE;
	}
	script = vm_guest_script(vm, abs_job);
	r = vm_write_script(vm, script);
	free(script);
	free(abs_job);
	if (r)
		goto fail_db;
	host_run_info(vm, job, &info, argv_s);
	r = db_run_begin(&db, &info, &rp.run_id);
	run_info_free(&info);
	if (r)
		goto fail_db;
	rp.db = &db;
	progress_init(&rp.pg, !cdm_quiet && isatty(STDERR_FILENO), job->ncases);
	rp.pg.phase = "boot";
	snprintf(rp.pg.name, sizeof(rp.pg.name), "emulated node (%s)", vm->accel);
	progress_draw(&rp.pg, true);
	if (boot(vm)) {
		if (db_run_end(&db, rp.run_id, "crashed", "QEMU could not be started"))
			cdm_warn("vm: could not mark run %lld crashed",
				 (long long)rp.run_id);
		goto fail_db;
	}
	stream = vm_share_file(vm, "stream.bin");
	wait_guest(vm, &rp, stream, &timed_out);
	free(stream);
	vm_judge(vm, &rp, timed_out, &o);
	/* store what we know even if one of these fails: nothing is skipped */
	if (strcmp(o.status, "completed") && vm_record_lost_case(vm, &rp, &o))
		o.exit_code = CDM_EXIT_FAIL;
	if (store_logs(vm, &db, rp.run_id) |
	    db_run_end(&db, rp.run_id, o.status, o.reason))
		o.exit_code = CDM_EXIT_FAIL;
	if (!cdm_quiet)
		fprintf(stderr, "cdmbench: vm: run %lld %s%s%s (environment qemu-%s) in %s\n",
			(long long)rp.run_id, o.status, o.reason[0] ? ": " : "",
			o.reason, vm->accel, vm->a->db);
	db_close(&db);
	sb_free(&rp.buf);
	return o.exit_code;
fail_db:
	db_close(&db);
	return CDM_EXIT_FAIL;
}

static int vm_exec(struct vm *vm)
{
	char *script = vm_guest_script(vm, ""), *out, *rcs;
	char *opath = vm_share_file(vm, "exec.out"), *rpath = vm_share_file(vm, "guest.rc");
	struct vm_replay rp;
	bool timed_out;
	int rc = CDM_EXIT_FAIL;

	if (vm_write_script(vm, script)) {
		free(script);
		goto out;
	}
	free(script);
	if (boot(vm))
		goto out;
	memset(&rp, 0, sizeof(rp));
	wait_guest(vm, NULL, NULL, &timed_out);
	out = read_file(opath, 0, NULL);
	if (out)
		fputs(out, stdout);
	fflush(stdout);
	free(out);
	rcs = read_line_file(rpath);
	if (rcs) {
		rc = atoi(rcs);
		free(rcs);
	} else {
		struct vm_outcome o;

		vm_judge(vm, &rp, timed_out, &o);
		cdm_err("vm exec: %s", o.reason[0] ? o.reason : "the guest did not finish");
	}
out:
	free(opath);
	free(rpath);
	return rc;
}

static int vm_load_job(struct vm_args *a, struct cdm_job *job)
{
	if (job_load_file(job, a->job_path) ||
	    job_add_overrides(job, a->sets, a->nsets))
		return -1;
	if (a->seed_set) {
		job->seed = a->seed;
		job->seed_set = job->seed_from_cli = true;
	}
	if (job_expand(job))
		return -1;
	/* the guest must expand the job with the seed recorded here */
	a->seed = job->seed;
	return 0;
}

static int vm_prepare(struct vm *vm)
{
	if (!vm_have_qemu())
		return cdm_err(getuid() == 0 ?
			       "vm: qemu-system-x86_64 not found: apt-get install -y qemu-system-x86 (or run 'make deps')" :
			       "vm: qemu-system-x86_64 not found; as root run: apt-get install -y qemu-system-x86");
	if (vm_self_path(vm->self, sizeof(vm->self)) || vm_find_kernel(vm) ||
	    vm_find_initrd(vm) || vm_check_layout(vm->a))
		return -1;
	vm->append = vm_make_append(vm);
	vm_copy_self(vm);
	return vm_make_share(vm);
}

void vm_args_init(struct vm_args *a, const char *db)
{
	memset(a, 0, sizeof(*a));
	a->mem = 4 * GIB;
	a->cpus = 2;
	a->timeout = 1800ull * 1000000000ull;
	a->spm_base = HOLE_END;
	a->db = db;
	a->accel = "auto";
}

void vm_args_free(struct vm_args *a)
{
	free(a->sets);
	kv_free(&a->tags);
}

int vm_main(struct vm_args *a, const char *argv_s)
{
	struct vm vm = { .a = a };
	struct cdm_job job = { 0 };
	int rc = CDM_EXIT_USAGE;

	/* bad job files fail here, before anything boots */
	if (!a->exec_argc && vm_load_job(a, &job))
		goto out;
	if (vm_prepare(&vm))
		goto out;
	cdm_install_stop_handlers();
	vm_choose_accel(&vm);
	rc = a->exec_argc ? vm_exec(&vm) : vm_run_job(&vm, &job, argv_s);
out:
	vm_remove_share(&vm);
	free(vm.append);
	free(vm.qemu_cmdline);
	job_free(&job);
	return rc;
}
