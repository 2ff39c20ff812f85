// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench vm`: the emulated Frontier-like node.
 *
 * Boots our kernel (kernel/build.sh) in QEMU with two NUMA nodes and 512 MiB
 * of guest RAM taken out of the memory map (memmap=SIZE$ADDR) and handed to
 * test_hmm as the special-purpose memory of its two coherent devices. The
 * guest borrows the host's root file system read-only over 9p and runs this
 * very binary; its runner writes a result stream into a second, writable
 * 9p share, which this side reads while the guest runs and replays into the
 * host's database. The guest never touches SQLite: SQLite over 9p (locks,
 * WAL shared memory) is not something to rely on.
 *
 * Why memmap= and not efi_fake_mem=: the latter needs an EFI boot and was
 * removed in Linux 6.11; a reserved e820 range works on every kernel we
 * build and is no longer System RAM, which is what test_hmm needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/cli.h"
#include "store/db.h"
#include "core/job.h"
#include "util/progress.h"
#include "core/runner.h"
#include "core/sysinfo.h"
#include "util/version.h"
#include "core/wire.h"

#define GIB (1ull << 30)
#define MIB (1ull << 20)
/* QEMU's pc machine keeps RAM below 3 GiB and puts the rest above 4 GiB */
#define LOWMEM (3ull * GIB)
#define HOLE_END (4ull * GIB)
#define SPM_CHUNK (256ull * MIB)	/* test_hmm maps one chunk per device */
#define SPM_TOTAL (2 * SPM_CHUNK)
#define KVM_PROBE_S 20
#define CONSOLE_TAIL 60

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

struct vm {
	struct vm_args *a;
	char share[PATH_MAX];
	char self[PATH_MAX];	/* this binary */
	char kernel[PATH_MAX];
	char initrd[PATH_MAX];
	char accel[8];
	char *append;
	char *qemu_cmdline;
	pid_t qemu;
	int qemu_status;
	bool qemu_exited;
};

/* --- locating things --- */

static int set_path(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return cdm_err("vm: path too long: %.80s...", src);
	memcpy(dst, src, n + 1);
	return 0;
}

static int self_path(char *buf, size_t len)
{
	ssize_t n = readlink("/proc/self/exe", buf, len - 1);

	if (n < 0)
		return cdm_errno(errno, "vm: cannot find this binary");
	buf[n] = 0;
	return 0;
}

/* build/cdmbench -> the repository root holding kernel/build.sh */
static char *repo_file(const char *self, const char *rel)
{
	char *dir = xstrdup(self), *p = strrchr(dir, '/'), *path;

	if (p)
		*p = 0;
	path = xasprintf("%s/../%s", dir, rel);
	free(dir);
	return path;
}

static int run_capture(char *const argv[], char *out, size_t len)
{
	int p[2], status;
	size_t got = 0;
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(p[1], STDOUT_FILENO);
		execvp(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	for (;;) {
		ssize_t n = read(p[0], out + got, len - 1 - got);

		if (n <= 0)
			break;
		got += n;
	}
	out[got] = 0;
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static int find_kernel(struct vm *vm)
{
	const char *k = vm->a->kernel ? vm->a->kernel : getenv("CDMBENCH_KERNEL");
	char out[PATH_MAX + 256], *script, *nl;
	char *argv[3];
	int r;

	if (k && *k) {
		if (access(k, R_OK))
			return cdm_errno(errno, "--kernel %s", k);
		return set_path(vm->kernel, sizeof(vm->kernel), k);
	}
	script = repo_file(vm->self, "kernel/build.sh");
	argv[0] = script;
	argv[1] = "--print-path";
	argv[2] = NULL;
	r = access(script, X_OK) ? -1 : run_capture(argv, out, sizeof(out));
	free(script);
	nl = strrchr(out, '\n');
	if (nl && !nl[1]) {
		*nl = 0;
		nl = strrchr(out, '\n');
	}
	if (r != 0)
		return cdm_err("vm: no guest kernel built yet: run 'make kernel' (about 4 minutes on 2 cores) or pass --kernel PATH");
	return set_path(vm->kernel, sizeof(vm->kernel), nl ? nl + 1 : out);
}

static int find_initrd(struct vm *vm)
{
	char *p;
	int r;

	if (vm->a->initrd) {
		if (access(vm->a->initrd, R_OK))
			return cdm_errno(errno, "--initrd %s", vm->a->initrd);
		return set_path(vm->initrd, sizeof(vm->initrd), vm->a->initrd);
	}
	p = repo_file(vm->self, "build/initramfs.cpio");
	if (access(p, R_OK)) {
		free(p);
		return cdm_err("vm: no guest initramfs: run 'make initramfs' or pass --initrd PATH");
	}
	r = set_path(vm->initrd, sizeof(vm->initrd), p);
	free(p);
	return r;
}

static bool have_qemu(void)
{
	char *path = getenv("PATH") ? xstrdup(getenv("PATH")) : xstrdup("/usr/bin");
	char *save = NULL, *d;
	bool found = false;

	for (d = strtok_r(path, ":", &save); d && !found;
	     d = strtok_r(NULL, ":", &save)) {
		char *f = xasprintf("%s/qemu-system-x86_64", d);

		found = access(f, X_OK) == 0;
		free(f);
	}
	free(path);
	return found;
}

/* --- checks before anything boots --- */

static int check_layout(const struct vm_args *a)
{
	char m[32], b[32];
	uint64_t high, end;

	cdm_format_size(a->mem, m, sizeof(m));
	if (a->mem < LOWMEM + SPM_TOTAL)
		return cdm_err("--mem %s: too small: the two coherent devices need 512M reserved above 4 GiB, and QEMU puts guest RAM beyond 3G there; use --mem 4G or more",
			       m);
	high = a->mem - LOWMEM;
	end = HOLE_END + high;
	snprintf(b, sizeof(b), "0x%llx", (unsigned long long)a->spm_base);
	if (a->spm_base % (2 * MIB))
		return cdm_err("--spm-base %s: not 2 MiB aligned (test_hmm maps the range with memremap_pages)",
			       b);
	if (a->spm_base < HOLE_END)
		return cdm_err("--spm-base %s: below 4 GiB, where the kernel, initramfs and firmware live; use 0x100000000 or above",
			       b);
	if (a->spm_base + SPM_TOTAL > end)
		return cdm_err("--spm-base %s: the 512M reservation ends at 0x%llx, past the guest RAM above 4 GiB (ends at 0x%llx with --mem %s)",
			       b, (unsigned long long)(a->spm_base + SPM_TOTAL),
			       (unsigned long long)end, m);
	if (a->cpus < 1 || a->cpus > 64 || (a->cpus > 1 && a->cpus % 2))
		return cdm_err("--cpus %lld: expected 1 or an even number up to 64 (the CPUs split evenly over two NUMA nodes, one socket each)",
			       (long long)a->cpus);
	if (a->append && (strstr(a->append, "memmap=") ||
			  strstr(a->append, "test_hmm.spm_addr")))
		return cdm_err("--append: memmap= and test_hmm.spm_addr_dev* are set by cdmbench; use --spm-base to move the reservation");
	return 0;
}

static char *make_append(const struct vm *vm)
{
	const struct vm_args *a = vm->a;
	unsigned long long b = a->spm_base;

	/*
	 * minor 2 uses spm_addr_dev1 and minor 3 spm_addr_dev0 (test_hmm
	 * swaps them): both chunks are in the one reserved range anyway.
	 * panic=-1 reboots at once on a panic and -no-reboot turns that
	 * into QEMU exiting, which is how a crash reaches us.
	 */
	return xasprintf("console=ttyS0 panic=-1 transparent_hugepage=madvise hugepages=8 "
			 "memmap=%lluM$0x%llx test_hmm.spm_addr_dev0=0x%llx test_hmm.spm_addr_dev1=0x%llx%s%s%s%s",
			 SPM_TOTAL / MIB, b, b, b + SPM_CHUNK,
			 a->append ? " " : "", a->append ? a->append : "",
			 a->extra_append ? " " : "",
			 a->extra_append ? a->extra_append : "");
}

/* --- QEMU --- */

static char **qemu_argv(struct vm *vm, const char *accel, const char *console,
			int *argc_out)
{
	const struct vm_args *a = vm->a;
	char **v = xcalloc(64, sizeof(char *));
	uint64_t half = a->mem / 2 / MIB;
	int n = 0, c0 = (a->cpus + 1) / 2;

	v[n++] = xstrdup("qemu-system-x86_64");
	v[n++] = xstrdup("-accel");
	v[n++] = xstrdup(accel);
	v[n++] = xstrdup("-cpu");
	v[n++] = xstrdup(!strcmp(accel, "kvm") ? "host" : "max");
	/*
	 * One socket per NUMA node: two cores of one socket in different
	 * nodes make the guest kernel WARN at boot (llc-sibling not on the
	 * same node), which would taint every run.
	 */
	v[n++] = xstrdup("-smp");
	v[n++] = xasprintf("%lld,sockets=%d,cores=%lld,threads=1",
			   (long long)a->cpus, a->cpus > 1 ? 2 : 1,
			   a->cpus > 1 ? (long long)a->cpus / 2 : 1);
	v[n++] = xstrdup("-m");
	v[n++] = xasprintf("%lluM", (unsigned long long)(a->mem / MIB));
	/* two NUMA nodes, half the RAM each, so move_pages has somewhere to go */
	v[n++] = xstrdup("-object");
	v[n++] = xasprintf("memory-backend-ram,id=m0,size=%lluM",
			   (unsigned long long)half);
	v[n++] = xstrdup("-object");
	v[n++] = xasprintf("memory-backend-ram,id=m1,size=%lluM",
			   (unsigned long long)(a->mem / MIB - half));
	v[n++] = xstrdup("-numa");
	v[n++] = xasprintf("node,nodeid=0,memdev=m0,cpus=0-%d", c0 - 1);
	v[n++] = xstrdup("-numa");
	if (a->cpus > 1)
		v[n++] = xasprintf("node,nodeid=1,memdev=m1,cpus=%d-%lld", c0,
				   (long long)a->cpus - 1);
	else
		v[n++] = xstrdup("node,nodeid=1,memdev=m1");
	v[n++] = xstrdup("-nodefaults");
	v[n++] = xstrdup("-display");
	v[n++] = xstrdup("none");
	v[n++] = xstrdup("-no-reboot");
	v[n++] = xstrdup("-serial");
	v[n++] = xasprintf("file:%s", console);
	v[n++] = xstrdup("-kernel");
	v[n++] = xstrdup(vm->kernel);
	v[n++] = xstrdup("-initrd");
	v[n++] = xstrdup(vm->initrd);
	v[n++] = xstrdup("-append");
	v[n++] = xstrdup(vm->append);
	v[n++] = xstrdup("-virtfs");
	/* remap: / spans several file systems whose inode numbers collide */
	v[n++] = xstrdup("local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap");
	v[n++] = xstrdup("-virtfs");
	v[n++] = xasprintf("local,path=%s,mount_tag=cdmout,security_model=none",
			   vm->share);
	*argc_out = n;
	return v;
}

static void free_argv(char **v)
{
	int i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

static char *join_shell(char **v)
{
	struct sbuf sb;
	int i;

	sb_init(&sb);
	for (i = 0; v[i]; i++) {
		if (i)
			sb_addc(&sb, ' ');
		if (strpbrk(v[i], " $'\"\\")) {
			const char *p;

			sb_addc(&sb, '\'');
			for (p = v[i]; *p; p++) {
				if (*p == '\'')
					sb_adds(&sb, "'\\''");
				else
					sb_addc(&sb, *p);
			}
			sb_addc(&sb, '\'');
		} else {
			sb_adds(&sb, v[i]);
		}
	}
	return sb_detach(&sb);
}

static pid_t spawn_qemu(char **argv, const char *errlog)
{
	pid_t pid;

	fflush(NULL);
	pid = fork();
	if (pid == 0) {
		int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		int nul = open("/dev/null", O_RDWR);

		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (nul >= 0)
			dup2(nul, STDIN_FILENO);
		if (fd >= 0) {
			dup2(fd, STDOUT_FILENO);
			dup2(fd, STDERR_FILENO);
		}
		execvp(argv[0], argv);
		fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	return pid;
}

static void stop_qemu(pid_t pid)
{
	int i;

	kill(pid, SIGTERM);
	for (i = 0; i < 50; i++) {
		if (waitpid(pid, NULL, WNOHANG) == pid)
			return;
		usleep(100000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static char *share_file(const struct vm *vm, const char *name)
{
	return xasprintf("%s/%s", vm->share, name);
}

static int make_share(struct vm *vm)
{
	const char *tmp = getenv("TMPDIR");

	snprintf(vm->share, sizeof(vm->share), "%s/cdmbench-vm.XXXXXX",
		 tmp && *tmp ? tmp : "/tmp");
	if (!mkdtemp(vm->share))
		return cdm_errno(errno, "vm: cannot create %s", vm->share);
	/* the guest runs as root but 9p maps to us: let it write */
	chmod(vm->share, 0777);
	return 0;
}

static void remove_share(struct vm *vm)
{
	static const char *const files[] = { "guest.sh", "guest.rc", "stream.bin",
		"console.log", "qemu.err", "exec.out", "kvm.rc" };
	size_t i;

	if (vm->a->keep || !vm->share[0]) {
		if (vm->share[0])
			cdm_notice("vm: guest files kept in %s", vm->share);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *f = share_file(vm, files[i]);

		unlink(f);
		free(f);
	}
	if (vm->a->job_path) {
		const char *base = strrchr(vm->a->job_path, '/');
		char *f = share_file(vm, base ? base + 1 : vm->a->job_path);

		unlink(f);
		free(f);
	}
	if (rmdir(vm->share))
		cdm_warn("vm: could not remove %s: %s", vm->share, strerror(errno));
}

/* --- KVM: used only when a short probe boots through to our init --- */

static char *kvm_cache_path(void)
{
	const char *c = getenv("CDMBENCH_CACHE"), *x = getenv("XDG_CACHE_HOME");
	const char *h = getenv("HOME");

	if (c && *c)
		return xasprintf("%s/kvm-probe", c);
	if (x && *x)
		return xasprintf("%s/cdmbench/kvm-probe", x);
	return xasprintf("%s/.cache/cdmbench/kvm-probe", h ? h : "/tmp");
}

static int write_script(const struct vm *vm, const char *body)
{
	char *path = share_file(vm, "guest.sh");
	int r = write_file(path, body, strlen(body));

	free(path);
	return r ? cdm_errno(errno, "vm: cannot write guest.sh") : 0;
}

/* boot once with a script that only says it ran; true if it did */
static bool kvm_boots(struct vm *vm)
{
	char *console = share_file(vm, "console.log");
	char *err = share_file(vm, "qemu.err");
	char *rc = share_file(vm, "kvm.rc");
	uint64_t deadline = cdm_now_ns() + KVM_PROBE_S * 1000000000ull;
	bool ok = false;
	char **argv;
	int argc;
	pid_t pid;

	if (write_script(vm, "#!/bin/sh\necho ok > /run/cdmbench/kvm.rc\n"))
		goto out;
	argv = qemu_argv(vm, "kvm", console, &argc);
	pid = spawn_qemu(argv, err);
	free_argv(argv);
	while (pid > 0 && cdm_now_ns() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			pid = 0;
			break;
		}
		usleep(100000);
	}
	if (pid > 0)
		stop_qemu(pid);
	ok = access(rc, F_OK) == 0;
	unlink(rc);
out:
	free(console);
	free(err);
	free(rc);
	return ok;
}

static void choose_accel(struct vm *vm)
{
	char *cache = kvm_cache_path(), *line, *boot;
	const char *want = vm->a->accel;
	bool ok;

	if (!strcmp(want, "tcg") || access("/dev/kvm", R_OK | W_OK)) {
		snprintf(vm->accel, sizeof(vm->accel), "tcg");
		goto out;
	}
	if (!strcmp(want, "kvm")) {
		snprintf(vm->accel, sizeof(vm->accel), "kvm");
		goto out;
	}
	/* the answer holds until the host reboots: probe once per boot */
	boot = read_line_file("/proc/sys/kernel/random/boot_id");
	line = read_line_file(cache);
	if (boot && line && startswith(line, boot)) {
		ok = strstr(line, " kvm") != NULL;
	} else {
		cdm_notice("vm: probing KVM (at most %d s)...", KVM_PROBE_S);
		ok = kvm_boots(vm);
		if (boot) {
			char *dir = xstrdup(cache), *slash = strrchr(dir, '/');
			char *txt = xasprintf("%s %s\n", boot, ok ? "kvm" : "tcg");

			if (slash)
				*slash = 0;
			mkdir(dir, 0755);
			write_file(cache, txt, strlen(txt));
			free(dir);
			free(txt);
		}
		if (!ok)
			cdm_notice("vm: KVM did not boot the guest; using TCG emulation");
	}
	snprintf(vm->accel, sizeof(vm->accel), "%s", ok ? "kvm" : "tcg");
	free(boot);
	free(line);
out:
	free(cache);
}

/* --- the guest's script --- */

static void sh_quote(struct sbuf *sb, const char *s)
{
	sb_addc(sb, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sb_adds(sb, "'\\''");
		else
			sb_addc(sb, *s);
	}
	sb_addc(sb, '\'');
}

static char *run_script(const struct vm *vm, const char *job_abs)
{
	const struct vm_args *a = vm->a;
	char cwd[PATH_MAX];
	struct sbuf sb;
	size_t i;
	int k;

	if (!getcwd(cwd, sizeof(cwd)))
		snprintf(cwd, sizeof(cwd), "/");
	sb_init(&sb);
	sb_adds(&sb, "#!/bin/sh\n# written by cdmbench vm on the host\ncd ");
	sh_quote(&sb, cwd);
	sb_addf(&sb, " || cd /\nexport CDMBENCH_ENVIRONMENT=qemu-%s\n", vm->accel);
	{
		char host[200] = "host";

		gethostname(host, sizeof(host) - 1);
		sb_adds(&sb, "export CDMBENCH_HOSTNAME=");
		sh_quote(&sb, host);
		sb_adds(&sb, "-guest\n");
	}
	{
		/* upstream selftests built from the same tree, next to bzImage */
		char *dir = xstrdup(vm->kernel), *slash = strrchr(dir, '/');
		char *st;

		if (slash)
			*slash = 0;
		st = xasprintf("%s/selftests", dir);
		if (access(st, X_OK) == 0) {
			sb_adds(&sb, "export CDMBENCH_SELFTESTS=");
			sh_quote(&sb, st);
			sb_addc(&sb, '\n');
		}
		free(st);
		free(dir);
	}
	if (a->exec_argc) {
		sb_adds(&sb, "exec ");
		sh_quote(&sb, vm->self);
		for (k = 0; k < a->exec_argc; k++) {
			sb_addc(&sb, ' ');
			sh_quote(&sb, a->exec_argv[k]);
		}
		sb_adds(&sb, " >/run/cdmbench/exec.out 2>&1\n");
		return sb_detach(&sb);
	}
	sb_adds(&sb, "exec ");
	sh_quote(&sb, vm->self);
	sb_adds(&sb, " run -q --stream /run/cdmbench/stream.bin");
	sb_addf(&sb, " --seed %llu", (unsigned long long)a->seed);
	for (i = 0; i < a->tags.n; i++) {
		char *t = xasprintf("%s=%s", a->tags.v[i].key, a->tags.v[i].value);

		sb_adds(&sb, " --tag ");
		sh_quote(&sb, t);
		free(t);
	}
	for (k = 0; k < a->nsets; k++) {
		sb_adds(&sb, " --set ");
		sh_quote(&sb, a->sets[k]);
	}
	sb_addc(&sb, ' ');
	sh_quote(&sb, job_abs);
	sb_addc(&sb, '\n');
	return sb_detach(&sb);
}

/* --- reading the guest's stream into the database --- */

struct replay {
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

static int replay_record(struct replay *rp, uint32_t type, struct wire_rd *rd)
{
	struct cdm_run_info info;
	struct cdm_case_res c;
	struct cdm_kevents kev = { 0 };
	struct cdm_kevent e;
	char *s;
	int r = 0;

	switch (type) {
	case S_RUN:
		if (wire_get_run(rd, &info))
			return cdm_err("vm: corrupt run record in the guest's stream");
		r = db_run_identity(rp->db, rp->run_id, &info);
		rp->ncases = info.ncases;
		rp->pg.ncases = info.ncases;
		rp->got_run = true;
		run_info_free(&info);
		break;
	case S_CASE_START:
		rp->cur_seq = wire_get_u32(rd);
		s = wire_get_str(rd);
		snprintf(rp->cur_name, sizeof(rp->cur_name), "%s", s);
		progress_case(&rp->pg, s);
		free(s);
		break;
	case S_CASE:
		if (wire_get_case(rd, &c)) {
			case_res_free(&c);
			return cdm_err("vm: corrupt case record in the guest's stream");
		}
		case_res_summarize(&c);
		r = db_case(rp->db, rp->run_id, &c);
		rp->verdicts[c.verdict]++;
		rp->cur_seq = -1;
		rp->pg.done++;
		progress_clear(&rp->pg);
		if (!rp->quiet_lines)
			print_case_line(&c, rp->ncases);
		case_res_free(&c);
		break;
	case S_KEVENT:
		if (wire_get_kevent(rd, &e))
			return cdm_err("vm: corrupt kernel event in the guest's stream");
		kev_add(&kev, &e);
		free(e.text);
		r = db_kevents(rp->db, rp->run_id, &kev);
		kev_free(&kev);
		break;
	case S_END:
		s = wire_get_str(rd);
		snprintf(rp->guest_status, sizeof(rp->guest_status), "%s", s);
		free(s);
		rp->got_end = true;
		break;
	}
	return r;
}

/* consume whatever complete records the guest has written so far */
static int replay_poll(struct replay *rp, const char *path)
{
	size_t mlen = strlen(CDM_STREAM_MAGIC), len;
	char *data = read_file(path, 0, &len);
	size_t off;

	if (!data)
		return 0;	/* not created yet */
	if (len <= rp->off) {
		free(data);
		return 0;
	}
	if (!rp->magic_ok) {
		if (len < mlen) {
			free(data);
			return 0;
		}
		if (memcmp(data, CDM_STREAM_MAGIC, mlen)) {
			free(data);
			return cdm_err("vm: %s is not a cdmbench result stream", path);
		}
		rp->magic_ok = true;
		rp->off = mlen;
	}
	off = rp->off;
	while (!rp->err) {
		struct wire_rd rd;
		uint32_t type;
		long used = wire_next((uint8_t *)data + off, len - off, &type, &rd);

		if (used < 0) {
			rp->err = cdm_err("vm: corrupt record at byte %zu of the guest's stream",
					  off);
			break;
		}
		if (used == 0)
			break;
		if (replay_record(rp, type, &rd))
			rp->err = -1;
		off += used;
	}
	rp->off = off;
	free(data);
	return rp->err;
}

/* --- verdicts on the guest as a whole --- */

static char *console_tail(const char *path, int lines)
{
	size_t len;
	char *s = read_file(path, 0, &len), *p;
	int n = 0;

	if (!s)
		return xstrdup("");
	for (p = s + len; p > s; p--) {
		if (p[-1] == '\n' && p != s + len && ++n > lines)
			break;
	}
	p = xstrdup(p);
	free(s);
	return p;
}

/* the first line naming why the guest kernel died, if any */
static char *crash_line(const char *console)
{
	static const char *const marks[] = { "Kernel panic", "Oops", "BUG:",
		"cdmbench-init: " };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(marks); i++) {
		const char *p = strstr(console, marks[i]);
		size_t l;

		if (!p)
			continue;
		if (i == 3 && (strstr(p, "cdmbench-init: ready") == p ||
			       strstr(p, "cdmbench-init: done") == p))
			continue;
		l = strcspn(p, "\r\n");
		return xasprintf("%.*s", (int)(l > 300 ? 300 : l), p);
	}
	return NULL;
}

struct outcome {
	const char *status;	/* completed, crashed, interrupted */
	char reason[512];
	int exit_code;
};

static void judge(struct vm *vm, struct replay *rp, bool timed_out,
		  struct outcome *o)
{
	char *cpath = share_file(vm, "console.log"), *epath = share_file(vm, "qemu.err");
	char *console = read_file(cpath, 0, NULL), *qerr = console_tail(epath, 5);
	char *why = console ? crash_line(console) : NULL;

	o->exit_code = CDM_EXIT_FAIL;
	if (cdm_stop_signal) {
		o->status = "interrupted";
		snprintf(o->reason, sizeof(o->reason),
			 "stopped by signal %d (SIG%s); the guest was shut down",
			 cdm_stop_signal, sigabbrev_np(cdm_stop_signal));
		o->exit_code = 128 + cdm_stop_signal;
	} else if (rp->got_end && !timed_out) {
		o->status = !strcmp(rp->guest_status, "completed") ?
			"completed" : "interrupted";
		o->reason[0] = 0;
		o->exit_code = rp->verdicts[CDM_FAIL] || rp->verdicts[CDM_ERROR] ||
			rp->verdicts[CDM_TIMEOUT] || rp->verdicts[CDM_CRASH] ?
			CDM_EXIT_FAIL : CDM_EXIT_OK;
	} else if (timed_out) {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason),
			 "guest hung: no end of run within --timeout %llus%s%s",
			 (unsigned long long)(vm->a->timeout / 1000000000ull),
			 why ? "; console: " : "", why ? why : "");
	} else if (why) {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason), "guest crashed: %s", why);
	} else if (vm->qemu_exited && WIFEXITED(vm->qemu_status) &&
		   WEXITSTATUS(vm->qemu_status)) {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason), "QEMU failed (exit %d): %s",
			 WEXITSTATUS(vm->qemu_status), strtrim(qerr));
	} else {
		o->status = "crashed";
		snprintf(o->reason, sizeof(o->reason),
			 "the guest stopped before the end of the run (no panic on the console; QEMU %s)",
			 vm->qemu_exited ? "exited" : "was killed");
	}
	free(why);
	free(console);
	free(qerr);
	free(cpath);
	free(epath);
}

/* the case a crashed guest was running is recorded, not forgotten */
static int record_lost_case(struct vm *vm, struct replay *rp,
			    const struct outcome *o)
{
	struct cdm_case_res c;
	char *cpath;
	char *tail;
	int r;

	if (rp->cur_seq < 0)
		return 0;
	cpath = share_file(vm, "console.log");
	tail = console_tail(cpath, CONSOLE_TAIL);
	case_res_init(&c);
	c.seq = rp->cur_seq;
	c.name = xstrdup(rp->cur_name);
	c.workload = xstrdup("?");
	c.backend = xstrdup("?");
	c.device_type = xstrdup("?");
	c.params = xstrdup("{}");
	c.match_key = xstrdup("");
	c.start_wall = c.end_wall = cdm_wall_ns();
	case_res_verdict(&c, !strcmp(o->status, "interrupted") ?
			 CDM_INTERRUPTED : CDM_CRASH, o->reason);
	sb_adds(&c.log, tail);
	r = db_case(rp->db, rp->run_id, &c);
	rp->verdicts[c.verdict]++;
	print_case_line(&c, rp->ncases);
	case_res_free(&c);
	free(tail);
	free(cpath);
	return r;
}

/* --- the run --- */

static void host_run_info(struct vm *vm, struct cdm_job *job,
			  struct cdm_run_info *r, const char *argv_s)
{
	memset(r, 0, sizeof(*r));
	make_uuid(r->uuid);
	r->start_wall = cdm_wall_ns();
	r->harness_version = xstrdup(CDM_VERSION);
	r->git_revision = xstrdup(CDM_GIT_REVISION);
	r->job_name = xstrdup(job->name);
	r->job_text = xstrdup(job->text);
	r->seed = job->seed;
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

static int wait_guest(struct vm *vm, struct replay *rp, const char *stream,
		      bool *timed_out)
{
	uint64_t deadline = cdm_now_ns() + vm->a->timeout;

	*timed_out = false;
	for (;;) {
		pid_t r = waitpid(vm->qemu, &vm->qemu_status, WNOHANG);

		if (rp && replay_poll(rp, stream))
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
		stop_qemu(vm->qemu);
	/* the last records may have landed just before QEMU exited */
	if (rp && !rp->err)
		replay_poll(rp, stream);
	if (rp)
		progress_clear(&rp->pg);
	return rp ? rp->err : 0;
}

static int boot(struct vm *vm)
{
	char *console = share_file(vm, "console.log"), *err = share_file(vm, "qemu.err");
	char **argv;
	int argc;

	argv = qemu_argv(vm, vm->accel, console, &argc);
	vm->qemu_cmdline = join_shell(argv);
	vm->qemu = spawn_qemu(argv, err);
	free_argv(argv);
	free(console);
	free(err);
	if (vm->qemu < 0)
		return cdm_errno(errno, "vm: cannot start QEMU");
	return 0;
}

static int store_logs(struct vm *vm, struct cdm_db *db, int64_t run_id)
{
	char *cpath = share_file(vm, "console.log");
	char *console = read_file(cpath, 64 << 20, NULL);
	int r;

	r = db_run_log(db, run_id, "console", console ? console : "") |
	    db_run_log(db, run_id, "qemu_cmdline", vm->qemu_cmdline);
	free(console);
	free(cpath);
	return r;
}

/* same base name, so the job's default name is unchanged */
static char *copy_job(struct vm *vm)
{
	const char *base = strrchr(vm->a->job_path, '/');
	size_t len;
	char *text = read_file(vm->a->job_path, 16 << 20, &len), *dst;

	base = base ? base + 1 : vm->a->job_path;
	if (!text) {
		cdm_errno(errno, "%s", vm->a->job_path);
		return NULL;
	}
	dst = share_file(vm, base);
	if (write_file(dst, text, len)) {
		cdm_errno(errno, "vm: cannot copy the job to %s", dst);
		free(dst);
		dst = NULL;
	}
	free(text);
	if (dst) {
		/* the guest sees the share as /run/cdmbench */
		char *g = xasprintf("/run/cdmbench/%s", base);

		free(dst);
		dst = g;
	}
	return dst;
}

static int vm_run_job(struct vm *vm, struct cdm_job *job, const char *argv_s)
{
	struct replay rp = { .cur_seq = -1 };
	struct cdm_run_info info;
	struct cdm_db db;
	struct outcome o;
	char *stream, *script, *abs_job;
	bool timed_out;
	int r;

	/* the guest reads a copy in the share: host paths need not be visible */
	abs_job = copy_job(vm);
	if (!abs_job)
		return CDM_EXIT_USAGE;
	if (strcmp(vm->a->db, CDM_DEFAULT_DB) == 0)
		mkdir("results", 0755);
	if (db_open(&db, vm->a->db, DB_WRITE)) {
		free(abs_job);
		return CDM_EXIT_USAGE;
	}
	script = run_script(vm, abs_job);
	r = write_script(vm, script);
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
	stream = share_file(vm, "stream.bin");
	wait_guest(vm, &rp, stream, &timed_out);
	free(stream);
	judge(vm, &rp, timed_out, &o);
	/* store what we know even if one of these fails: nothing is skipped */
	if (strcmp(o.status, "completed") && record_lost_case(vm, &rp, &o))
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
	char *script = run_script(vm, ""), *out, *rcs;
	char *opath = share_file(vm, "exec.out"), *rpath = share_file(vm, "guest.rc");
	struct replay rp;
	bool timed_out;
	int rc = CDM_EXIT_FAIL;

	if (write_script(vm, script)) {
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
		struct outcome o;

		judge(vm, &rp, timed_out, &o);
		cdm_err("vm exec: %s", o.reason[0] ? o.reason : "the guest did not finish");
	}
out:
	free(opath);
	free(rpath);
	return rc;
}

/* --- command line --- */

static int parse_vm_args(int argc, char **argv, struct vm_args *a, bool exec)
{
	static const struct option lo[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "append", required_argument, NULL, 'a' },
		{ "mem", required_argument, NULL, 'm' },
		{ "cpus", required_argument, NULL, 'c' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "spm-base", required_argument, NULL, 'b' },
		{ "db", required_argument, NULL, 'd' },
		{ "accel", required_argument, NULL, 'A' },
		{ "keep", no_argument, NULL, 'K' },
		{ "tag", required_argument, NULL, 't' },
		{ "seed", required_argument, NULL, 'S' },
		{ "set", required_argument, NULL, 's' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "test-flag", required_argument, NULL, 'F' },
		{ 0 }
	};
	char err[160], *end;
	int64_t v;
	int c;

	while ((c = getopt_long(argc, argv, exec ? "+qs:t:" : "qs:t:", lo,
				NULL)) != -1) {
		switch (c) {
		case 'k':
			a->kernel = optarg;
			break;
		case 'i':
			a->initrd = optarg;
			break;
		case 'a':
			a->append = optarg;
			break;
		case 'm':
			if (cdm_parse_size(optarg, &a->mem, err, sizeof(err)))
				return cdm_err("--mem: %s", err);
			break;
		case 'c':
			if (cdm_parse_int(optarg, &a->cpus, err, sizeof(err)))
				return cdm_err("--cpus: %s", err);
			break;
		case 'T':
			if (cdm_parse_duration(optarg, &a->timeout, err,
					       sizeof(err)) || !a->timeout)
				return cdm_err("--timeout: %s", err[0] ? err :
					       "must not be 0");
			break;
		case 'b':
			errno = 0;
			a->spm_base = strtoull(optarg, &end, 0);
			if (errno || *end || end == optarg)
				return cdm_err("--spm-base %s: expected an address such as 0x100000000",
					       optarg);
			break;
		case 'd':
			a->db = optarg;
			break;
		case 'A':
			if (strcmp(optarg, "auto") && strcmp(optarg, "kvm") &&
			    strcmp(optarg, "tcg"))
				return cdm_err("--accel %s: expected auto, kvm or tcg",
					       optarg);
			a->accel = optarg;
			break;
		case 'K':
			a->keep = true;
			break;
		case 't':
			end = strchr(optarg, '=');
			if (!end || end == optarg)
				return cdm_err("--tag %s: expected KEY=VALUE", optarg);
			*end = 0;
			kv_set(&a->tags, optarg, end + 1);
			*end = '=';
			break;
		case 'S':
			if (cdm_parse_int(optarg, &v, err, sizeof(err)) || v < 0)
				return cdm_err("--seed: %s", v < 0 ?
					       "must not be negative" : err);
			a->seed = v;
			a->seed_set = true;
			break;
		case 's':
			a->sets = xrealloc(a->sets, (a->nsets + 1) * sizeof(char *));
			a->sets[a->nsets++] = optarg;
			break;
		case 'q':
			cdm_quiet = true;
			break;
		case 'F':
			a->extra_append = optarg;
			break;
		default:
			return cli_usage_error("vm"), -1;
		}
	}
	return 0;
}

static int load_vm_job(struct vm_args *a, struct cdm_job *job)
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

static int prepare(struct vm *vm)
{
	if (!have_qemu())
		return cdm_err(getuid() == 0 ?
			       "vm: qemu-system-x86_64 not found: apt-get install -y qemu-system-x86 (or run 'make deps')" :
			       "vm: qemu-system-x86_64 not found; as root run: apt-get install -y qemu-system-x86");
	if (self_path(vm->self, sizeof(vm->self)) || find_kernel(vm) ||
	    find_initrd(vm) || check_layout(vm->a))
		return -1;
	vm->append = make_append(vm);
	return make_share(vm);
}

int cmd_vm(int argc, char **argv)
{
	struct vm_args a = {
		.mem = 4 * GIB, .cpus = 2, .timeout = 1800ull * 1000000000ull,
		.spm_base = HOLE_END, .db = cli_default_db(), .accel = "auto",
	};
	struct vm vm = { .a = &a };
	struct cdm_job job = { 0 };
	bool exec;
	char *argv_s = NULL;
	int rc = CDM_EXIT_USAGE;

	if (argc < 2 || (strcmp(argv[1], "run") && strcmp(argv[1], "exec"))) {
		if (argc >= 2 && !strcmp(argv[1], "--help"))
			return cli_help("vm");
		cdm_err("vm: expected 'vm run JOBFILE' or 'vm exec -- ARGS'");
		return CDM_EXIT_USAGE;
	}
	exec = !strcmp(argv[1], "exec");
	if (argc >= 3 && !strcmp(argv[2], "--help"))
		return cli_help("vm");
	if (parse_vm_args(argc - 1, argv + 1, &a, exec))
		goto out;
	optind++;	/* getopt ran on argv + 1 */
	if (exec) {
		a.exec_argv = argv + optind;
		a.exec_argc = argc - optind;
		if (!a.exec_argc) {
			cdm_err("vm exec: which cdmbench command? e.g. 'cdmbench vm exec -- probe'");
			goto out;
		}
	} else {
		if (optind != argc - 1) {
			cdm_err("vm run: expected exactly one JOBFILE");
			goto out;
		}
		a.job_path = argv[optind];
		/* bad job files fail here, before anything boots */
		if (load_vm_job(&a, &job))
			goto out;
	}
	if (prepare(&vm))
		goto out;
	cdm_install_stop_handlers();
	choose_accel(&vm);
	argv_s = cli_join_argv(argc + 1, argv - 1);
	rc = exec ? vm_exec(&vm) : vm_run_job(&vm, &job, argv_s);
out:
	remove_share(&vm);
	free(vm.append);
	free(vm.qemu_cmdline);
	free(argv_s);
	free(a.sets);
	kv_free(&a.tags);
	job_free(&job);
	return rc;
}
