// SPDX-License-Identifier: GPL-2.0
/*
 * The files host and guest share: a writable 9p folder the guest mounts
 * as /run/cdmbench, holding the script the guest's init runs, a copy of
 * the job, and what comes back (result stream, console, exit status).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sendfile.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vm/node.h"

/*
 * The guest runs the harness from the host's root over 9p. By path, it
 * would run whatever the path holds when the guest gets there: after a
 * rebuild during a long `vm ab` (make while it runs), a new harness, or a
 * half-written one, under a session this process started. So the guest
 * runs a private copy of the file this process is running
 * (/proc/self/exe, whatever the path holds now), made beside it (the same
 * directory, so whatever it finds next to itself it still finds) and
 * removed with the share. Where that directory is read-only, the path.
 */
void vm_copy_self(struct vm *vm)
{
	char *dir = xstrdup(vm->self), *slash = strrchr(dir, '/');
	struct stat st;
	int in, out;
	off_t off = 0;
	bool ok = false;

	if (slash)
		*slash = 0;
	snprintf(vm->guest_self, sizeof(vm->guest_self),
		 "%s/.cdmbench-guest.XXXXXX", dir);
	free(dir);
	out = mkostemp(vm->guest_self, O_CLOEXEC);
	if (out < 0) {
		vm->guest_self[0] = 0;
		return;
	}
	in = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	if (in >= 0 && !fstat(in, &st)) {
		while (off < st.st_size &&
		       sendfile(out, in, &off, st.st_size - off) > 0)
			;
		ok = off == st.st_size && !fchmod(out, 0755);
	}
	if (in >= 0)
		close(in);
	if (close(out))
		ok = false;
	if (!ok) {
		unlink(vm->guest_self);
		vm->guest_self[0] = 0;
	}
}

static const char *guest_binary(const struct vm *vm)
{
	return vm->guest_self[0] ? vm->guest_self : vm->self;
}

char *vm_share_file(const struct vm *vm, const char *name)
{
	return xasprintf("%s/%s", vm->share, name);
}

int vm_make_share(struct vm *vm)
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

void vm_remove_share(struct vm *vm)
{
	static const char *const files[] = { "guest.sh", "guest.rc", "stream.bin",
		"console.log", "qemu.err", "exec.out", "kvm.rc" };
	size_t i;

	if (vm->guest_self[0]) {
		unlink(vm->guest_self);
		vm->guest_self[0] = 0;
	}
	if (vm->a->keep || !vm->share[0]) {
		if (vm->share[0])
			cdm_notice("vm: guest files kept in %s", vm->share);
		return;
	}
	for (i = 0; i < ARRAY_SIZE(files); i++) {
		char *f = vm_share_file(vm, files[i]);

		unlink(f);
		free(f);
	}
	if (vm->a->job_path) {
		const char *base = strrchr(vm->a->job_path, '/');
		char *f = vm_share_file(vm, base ? base + 1 : vm->a->job_path);

		unlink(f);
		free(f);
	}
	if (rmdir(vm->share))
		cdm_warn("vm: could not remove %s: %s", vm->share, strerror(errno));
}

int vm_write_script(const struct vm *vm, const char *body)
{
	char *path = vm_share_file(vm, "guest.sh");
	int r = write_file(path, body, strlen(body));

	free(path);
	return r ? cdm_errno(errno, "vm: cannot write guest.sh") : 0;
}

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

char *vm_guest_script(const struct vm *vm, const char *job_abs)
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
		sh_quote(&sb, guest_binary(vm));
		for (k = 0; k < a->exec_argc; k++) {
			sb_addc(&sb, ' ');
			sh_quote(&sb, a->exec_argv[k]);
		}
		sb_adds(&sb, " >/run/cdmbench/exec.out 2>&1\n");
		return sb_detach(&sb);
	}
	sb_adds(&sb, "exec ");
	sh_quote(&sb, guest_binary(vm));
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

/* same base name, so the job's default name is unchanged */
char *vm_copy_job(struct vm *vm)
{
	const char *base = strrchr(vm->a->job_path, '/');
	size_t len;
	char *text = read_file(vm->a->job_path, 16 << 20, &len), *dst;

	base = base ? base + 1 : vm->a->job_path;
	if (!text) {
		cdm_errno(errno, "%s", vm->a->job_path);
		return NULL;
	}
	dst = vm_share_file(vm, base);
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
