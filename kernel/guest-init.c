/*
 * guest-init.c - PID 1 of the cdmbench guest VM.
 *
 * The guest boots from an initramfs holding only this program. It borrows
 * the host's root file system read-only over virtio-9p (tag "hostroot"), so
 * the guest runs the host's own harness build, and a writable 9p share (tag
 * "cdmout") for the script to run and its results. No network, no agent:
 * the host learns everything from that share and the serial console.
 *
 * Sequence: pseudo file systems, host root at /newroot, writable share at
 * /newroot/run/cdmbench, chroot, run "/bin/sh /run/cdmbench/guest.sh",
 * write its exit status to /run/cdmbench/guest.rc, power off. Any failure
 * before the script runs is one "cdmbench-init: ..." line on the console
 * followed by power-off, so the host never waits on a guest that cannot work.
 *
 * Kernel command line flags, for testing the host's crash and hang handling:
 *   cdmbench.panic_test=1  force a kernel panic (sysrq 'c') instead of the script
 *   cdmbench.hang_test=1   sleep forever instead of running the script
 *
 * Build: gcc -static -O2 -Wall -Wextra -Werror -o init guest-init.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define NEWROOT		"/newroot"
#define LOWER		"/hostroot"
#define RWDIR		"/rw"
#define OVERLAY_OPTS	"lowerdir=" LOWER ",upperdir=" RWDIR "/upper,workdir=" RWDIR "/work"
#define SHARE_DIR	"/run/cdmbench"
#define GUEST_SCRIPT	SHARE_DIR "/guest.sh"
#define GUEST_RC	SHARE_DIR "/guest.rc"
#define GUEST_PATH	"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

/*
 * 9p moves data in messages of at most msize bytes; the default (8 KiB on
 * older kernels) makes every binary load and result write crawl. 512000 is
 * the most the 6.1 virtio transport allows; newer kernels accept it too.
 */
#define P9_OPTS		"trans=virtio,version=9p2000.L"
#define P9_MSIZE	",msize=512000"

/* Seconds stray processes get between SIGTERM and SIGKILL at the end. */
#define STRAY_GRACE_S	2

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
	char buf[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, sizeof(buf) - 1, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n > sizeof(buf) - 2)
		n = sizeof(buf) - 2;
	buf[n++] = '\n';
	/* One write per line so it is not interleaved with kernel output. */
	if (write(STDERR_FILENO, "cdmbench-init: ", 15) < 0 ||
	    write(STDERR_FILENO, buf, n) < 0)
		return;
}

/*
 * PID 1 must never exit: the kernel would panic. Power off instead, and if
 * even that fails, halt; as a last resort sleep forever.
 */
static void __attribute__((noreturn)) power_off(void)
{
	sync();
	reboot(RB_POWER_OFF);
	say("reboot(RB_POWER_OFF) failed: %s", strerror(errno));
	reboot(RB_HALT_SYSTEM);
	for (;;)
		pause();
}

/*
 * The kernel gives PID 1 /dev/console as fds 0-2 only if the initramfs has
 * that node; when it was packed without root it may not, so take the
 * console from devtmpfs instead.
 */
static void open_console(void)
{
	int fd;

	if (fcntl(STDERR_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY);
	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
}

static int do_mount(const char *src, const char *dst, const char *type,
		    unsigned long flags, const char *opts)
{
	if (mount(src, dst, type, flags, opts) == 0)
		return 0;
	say("mount %s failed: %s", src, strerror(errno));
	return -1;
}

/* A 9p share, with the large msize if this kernel takes it, else without. */
static int mount_9p(const char *tag, const char *dst, unsigned long flags)
{
	int err;

	if (mount(tag, dst, "9p", flags, P9_OPTS P9_MSIZE) == 0)
		return 0;
	err = errno;
	if (mount(tag, dst, "9p", flags, P9_OPTS) == 0)
		return 0;
	say("mount %s failed: %s", tag, strerror(err));
	return -1;
}

static int make_dir(const char *path, mode_t mode)
{
	if (mkdir(path, mode) == 0 || errno == EEXIST)
		return 0;
	say("mkdir %s failed: %s", path, strerror(errno));
	return -1;
}

/* What the initramfs itself needs: /proc/cmdline and the console. */
static int mount_early(void)
{
	if (do_mount("proc", "/proc", "proc", 0, NULL) ||
	    do_mount("sysfs", "/sys", "sysfs", 0, NULL) ||
	    do_mount("devtmpfs", "/dev", "devtmpfs", 0, NULL))
		return -1;
	open_console();
	return 0;
}

/*
 * The guest's root: the host root (9p, read-only) under a tmpfs overlay, so
 * every host path is visible at its own name, /tmp included (a clone of
 * the project in /tmp, the job file, the binary), and writable without
 * touching the host. A kernel without OVERLAY_FS gets the read-only root
 * with a tmpfs on /tmp instead; paths under the host's /tmp then vanish.
 */
static int mount_root_layers(void)
{
	const unsigned long nodev = MS_NOSUID | MS_NODEV;

	if (make_dir(LOWER, 0755) || mount_9p("hostroot", LOWER, MS_RDONLY))
		return -1;
	if (make_dir(RWDIR, 0755) == 0 &&
	    do_mount("tmpfs", RWDIR, "tmpfs", 0, "mode=0755") == 0 &&
	    make_dir(RWDIR "/upper", 0755) == 0 &&
	    make_dir(RWDIR "/work", 0755) == 0 &&
	    mount("overlay", NEWROOT, "overlay", 0, OVERLAY_OPTS) == 0)
		return 0;
	say("no overlay (%s): host root read-only, tmpfs on /tmp",
	    strerror(errno));
	if (mount(LOWER, NEWROOT, NULL, MS_BIND | MS_REC, NULL)) {
		say("bind mount of the host root failed: %s", strerror(errno));
		return -1;
	}
	return do_mount("tmpfs", NEWROOT "/tmp", "tmpfs", nodev, "mode=1777");
}

/* the writable share sits in a /run tmpfs, where its mount point can be made */
static int mount_newroot(void)
{
	const unsigned long nodev = MS_NOSUID | MS_NODEV;

	if (mount_root_layers() ||
	    do_mount("tmpfs", NEWROOT "/run", "tmpfs", nodev, "mode=0755") ||
	    make_dir(NEWROOT SHARE_DIR, 0755) ||
	    mount_9p("cdmout", NEWROOT SHARE_DIR, 0) ||
	    do_mount("proc", NEWROOT "/proc", "proc", 0, NULL) ||
	    do_mount("sysfs", NEWROOT "/sys", "sysfs", 0, NULL) ||
	    do_mount("devtmpfs", NEWROOT "/dev", "devtmpfs", 0, NULL) ||
	    /* /sys/kernel/debug/gup_test lives here. */
	    do_mount("debugfs", NEWROOT "/sys/kernel/debug", "debugfs", 0, NULL))
		return -1;
	return 0;
}

/* Nice to have; a run that needs one of these checks for it itself. */
static void mount_optional(void)
{
	if (make_dir(NEWROOT "/dev/pts", 0755) == 0)
		do_mount("devpts", NEWROOT "/dev/pts", "devpts", MS_NOSUID,
			 "mode=0620,ptmxmode=0666");
	if (make_dir(NEWROOT "/dev/shm", 01777) == 0)
		do_mount("tmpfs", NEWROOT "/dev/shm", "tmpfs",
			 MS_NOSUID | MS_NODEV, "mode=1777");
	if (make_dir(NEWROOT "/dev/hugepages", 0755) == 0)
		do_mount("hugetlbfs", NEWROOT "/dev/hugepages", "hugetlbfs", 0,
			 NULL);
}

/* True if the kernel command line holds exactly the word @flag. */
static int cmdline_has(const char *flag)
{
	char buf[4096], *word, *save;
	ssize_t n;
	int fd;

	fd = open("/proc/cmdline", O_RDONLY);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	for (word = strtok_r(buf, " \t\n", &save); word;
	     word = strtok_r(NULL, " \t\n", &save))
		if (strcmp(word, flag) == 0)
			return 1;
	return 0;
}

/* The host's crash test: a real panic, exactly as a kernel bug would give. */
static void panic_test(void)
{
	int fd;

	say("panic_test: forcing a kernel panic through /proc/sysrq-trigger");
	sync();
	fd = open("/proc/sysrq-trigger", O_WRONLY);
	if (fd < 0 || write(fd, "c", 1) != 1)
		say("panic_test: sysrq-trigger failed: %s", strerror(errno));
	/* Only reached if sysrq is missing from the kernel. */
	power_off();
}

/* The host's hang test: a guest that never finishes. */
static void __attribute__((noreturn)) hang_test(void)
{
	say("hang_test: sleeping forever");
	for (;;)
		pause();
}

static void redirect_stdin(void)
{
	int fd = open("/dev/null", O_RDONLY);

	if (fd < 0)
		return;
	dup2(fd, STDIN_FILENO);
	if (fd != STDIN_FILENO)
		close(fd);
}

static pid_t start_script(void)
{
	pid_t pid = fork();

	if (pid < 0) {
		say("fork failed: %s", strerror(errno));
		return -1;
	}
	if (pid > 0)
		return pid;
	/* Own session: the script and its children form one group. */
	setsid();
	/* A script that reads stdin must not wait on the serial console. */
	redirect_stdin();
	execl("/bin/sh", "sh", GUEST_SCRIPT, (char *)NULL);
	say("exec /bin/sh %s failed: %s", GUEST_SCRIPT, strerror(errno));
	_exit(127);
}

/*
 * Waits for @pid. As PID 1 we inherit every orphan in the guest, so reap
 * whatever else exits meanwhile instead of leaving zombies.
 */
static int wait_script(pid_t pid)
{
	int status;
	pid_t got;

	for (;;) {
		got = waitpid(-1, &status, 0);
		if (got < 0) {
			if (errno == EINTR)
				continue;
			say("waitpid failed: %s", strerror(errno));
			return 255;
		}
		if (got != pid)
			continue;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		/* The shell's convention: 128 + signal number. */
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
	}
}

/*
 * Background processes the script left behind must not write to the share
 * after guest.rc says the run is over: ask them to stop, then make them.
 */
static void stop_strays(void)
{
	struct timespec tick = { 0, 100 * 1000 * 1000 };
	int i;

	if (kill(-1, SIGTERM) < 0)
		return;		/* ESRCH: nothing left */
	for (i = 0; i < STRAY_GRACE_S * 10; i++) {
		while (waitpid(-1, NULL, WNOHANG) > 0)
			;
		if (kill(-1, 0) < 0 && errno == ESRCH)
			return;
		nanosleep(&tick, NULL);
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

static void write_rc(int rc)
{
	char buf[16];
	int fd, n;

	n = snprintf(buf, sizeof(buf), "%d\n", rc);
	fd = open(GUEST_RC, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0) {
		say("open %s failed: %s", GUEST_RC, strerror(errno));
		return;
	}
	if (write(fd, buf, n) != n)
		say("write %s failed: %s", GUEST_RC, strerror(errno));
	fsync(fd);
	close(fd);
}

/* A clean slate: the kernel hands init its unknown boot parameters too. */
static void set_env(void)
{
	clearenv();
	setenv("PATH", GUEST_PATH, 1);
	setenv("HOME", "/tmp", 1);
	/* The host root is read-only; /tmp is the guest's own tmpfs. */
	setenv("TMPDIR", "/tmp", 1);
	setenv("TERM", "linux", 1);
}

int main(void)
{
	pid_t pid;
	int rc;

	if (getpid() != 1) {
		fprintf(stderr, "cdmbench-init: must run as PID 1 in the guest\n");
		return 1;
	}
	if (mount_early() || mount_newroot())
		power_off();
	mount_optional();
	if (chroot(NEWROOT) < 0 || chdir("/") < 0) {
		say("chroot %s failed: %s", NEWROOT, strerror(errno));
		power_off();
	}
	set_env();

	say("ready");
	if (cmdline_has("cdmbench.panic_test=1"))
		panic_test();
	if (cmdline_has("cdmbench.hang_test=1"))
		hang_test();

	pid = start_script();
	rc = pid < 0 ? 255 : wait_script(pid);
	stop_strays();
	write_rc(rc);
	say("done rc=%d", rc);
	power_off();
}
