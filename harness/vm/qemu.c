// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU for the emulated node: the kernel and initramfs to boot, the memory
 * layout (two NUMA nodes, 512 MiB reserved with memmap= for test_hmm's
 * coherent devices), QEMU's command line, and KVM when it really boots.
 *
 * Why memmap= and not efi_fake_mem=: the latter needs an EFI boot and was
 * removed in Linux 6.11; a reserved e820 range works on every kernel we
 * build and is no longer System RAM, which is what test_hmm needs.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "vm/node.h"

/* --- locating things --- */

static int set_path(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		return cdm_err("vm: path too long: %.80s...", src);
	memcpy(dst, src, n + 1);
	return 0;
}

int vm_self_path(char *buf, size_t len)
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
	read_fd_rest(p[0], out, len, 0);
	close(p[0]);
	if (waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int vm_find_kernel(struct vm *vm)
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

int vm_find_initrd(struct vm *vm)
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
		return cdm_err("vm: no guest initramfs: run 'make' (it builds build/initramfs.cpio) or pass --initrd PATH");
	}
	r = set_path(vm->initrd, sizeof(vm->initrd), p);
	free(p);
	return r;
}

bool vm_have_qemu(void)
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

int vm_check_layout(const struct vm_args *a)
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

char *vm_make_append(const struct vm *vm)
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

char **vm_qemu_argv(struct vm *vm, const char *accel, const char *console,
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

void vm_free_argv(char **v)
{
	int i;

	for (i = 0; v && v[i]; i++)
		free(v[i]);
	free(v);
}

char *vm_join_shell(char **v)
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

pid_t vm_spawn_qemu(char **argv, const char *errlog)
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

void vm_stop_qemu(pid_t pid)
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

/* boot once with a script that only says it ran; true if it did */
static bool kvm_boots(struct vm *vm)
{
	char *console = vm_share_file(vm, "console.log");
	char *err = vm_share_file(vm, "qemu.err");
	char *rc = vm_share_file(vm, "kvm.rc");
	uint64_t deadline = cdm_now_ns() + KVM_PROBE_S * 1000000000ull;
	bool ok = false;
	char **argv;
	int argc;
	pid_t pid;

	if (vm_write_script(vm, "#!/bin/sh\necho ok > /run/cdmbench/kvm.rc\n"))
		goto out;
	argv = vm_qemu_argv(vm, "kvm", console, &argc);
	pid = vm_spawn_qemu(argv, err);
	vm_free_argv(argv);
	while (pid > 0 && cdm_now_ns() < deadline) {
		if (waitpid(pid, NULL, WNOHANG) == pid) {
			pid = 0;
			break;
		}
		usleep(100000);
	}
	if (pid > 0)
		vm_stop_qemu(pid);
	ok = access(rc, F_OK) == 0;
	unlink(rc);
out:
	free(console);
	free(err);
	free(rc);
	return ok;
}

void vm_choose_accel(struct vm *vm)
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
