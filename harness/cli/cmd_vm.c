// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench vm SUBCOMMAND`: the emulated device-memory node (vm/). Each
 * subcommand is a row of vm_subs[]; a new one is a function and a row.
 */
#include <errno.h>
#include <stddef.h>
#include <unistd.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "vm/vm.h"

/* what the command line fills: the node's arguments, and the shared
 * --seed and --set as every command parses them */
struct vm_cli {
	struct vm_args a;
	struct cli_seed seed;
	struct cli_list sets;
	const char *accel;
};

static int parse_spm_base(void *args, const char *arg, const char *cmd)
{
	struct vm_cli *v = args;
	char *end;

	errno = 0;
	v->a.spm_base = strtoull(arg, &end, 0);
	if (errno || *end || end == arg)
		return cdm_err("%s: --spm-base %s: expected an address such as 0x100000000",
			       cmd, arg);
	return 0;
}

#define VA(f) offsetof(struct vm_cli, a.f)

static const struct cli_opt vm_opts[] = {
	{ .name = "kernel", .kind = CLI_STR, .off = VA(kernel),
	  .arg = "PATH",
	  .help = "bzImage (default: $CDMBENCH_KERNEL, else the one\n'make kernel' built, see kernel/build.sh)" },
	{ .name = "initrd", .kind = CLI_STR, .off = VA(initrd),
	  .arg = "PATH",
	  .help = "guest initramfs (default build/initramfs.cpio)" },
	{ .name = "append", .kind = CLI_STR, .off = VA(append),
	  .arg = "ARGS",
	  .help = "extra kernel command line, e.g.\n'init_on_alloc=1 init_on_free=1'" },
	{ .name = "mem", .kind = CLI_SIZE, .off = VA(mem), .arg = "SIZE",
	  .help = "guest RAM (default 4G; at least 3584M: RAM past\n3G sits above 4 GiB, where the reservation goes)" },
	{ .name = "cpus", .kind = CLI_INT, .off = VA(cpus), .arg = "N",
	  .help = "guest CPUs, split over the two nodes (default 2)" },
	{ .name = "spm-base", .kind = CLI_CALL, .arg = "ADDR",
	  .help = "start of the 512M reservation (default\n0x100000000; 2M-aligned, above 4 GiB, inside RAM);\ndevice 3 uses ADDR, device 2 ADDR+256M",
	  .call = parse_spm_base },
	{ .name = "timeout", .kind = CLI_DURATION, .off = VA(timeout),
	  .arg = "T",
	  .help = "kill a guest that has not finished (default 30m)" },
	{ .name = "accel", .kind = CLI_CHOICE,
	  .off = offsetof(struct vm_cli, accel), .arg = "A",
	  .help = "auto (KVM if a 20 s probe boots, else TCG), kvm, tcg",
	  .choices = "auto|kvm|tcg" },
	CLI_OPT_DB(struct vm_cli, a.db),
	CLI_OPT_TAG(struct vm_cli, a.tags),
	CLI_OPT_SEED(struct vm_cli, seed),
	CLI_OPT_SET(struct vm_cli, sets),
	CLI_OPT_QUIET,
	{ .name = "keep", .kind = CLI_FLAG, .off = VA(keep),
	  .help = "keep the guest's files (console log, stream)" },
	{ .name = "test-flag", .kind = CLI_STR, .off = VA(extra_append),
	  .arg = "ARG",
	  .help = "extra kernel argument for cdmbench's own tests\n(cdmbench.panic_test=1, cdmbench.hang_test=1)" },
	CLI_OPT_END
};

const struct cli_spec cli_vm_spec = {
	.cmd = "vm",
	.usage =
	"usage: cdmbench vm run JOBFILE [OPTIONS]\n"
	"       cdmbench vm exec [OPTIONS] -- CDMBENCH-ARGS...\n"
	"       cdmbench vm ab --base KERNEL --cand KERNEL [--base-append ARGS]\n"
	"                      [--cand-append ARGS] [--runs N] [OPTIONS] JOBFILE\n",
	.about =
	"Boots the cdmbench guest kernel (built by 'make kernel': Debian's\n"
	"linux-source-6.1 with CONFIG_TEST_HMM and friends) in QEMU with two\n"
	"NUMA nodes and 512M of guest RAM reserved (memmap=) as the special-\n"
	"purpose memory of test_hmm's coherent devices: /dev/hmm_dmirror0,1\n"
	"are MEMORY_DEVICE_PRIVATE, 2,3 MEMORY_DEVICE_COHERENT. The guest runs\n"
	"this very binary from the host's root (9p, read-only) and streams its\n"
	"results back; they land in the host's database as one run with the\n"
	"guest kernel's identity, its command line, environment qemu-tcg or\n"
	"qemu-kvm, and the full console log. A guest panic, hang past\n"
	"--timeout or QEMU failure is recorded as a crashed run (the case in\n"
	"progress as crash) and the command exits 1.\n"
	"\n"
	"vm exec runs any cdmbench command in the guest and prints its output,\n"
	"e.g. 'cdmbench vm exec -- probe'.\n"
	"\n"
	"vm ab boots base, cand, base, cand... (N runs a side, default 3),\n"
	"tags them ab=base / ab=cand with a session tag of their own, and ends\n"
	"with 'compare' of the two sides: its table and its exit status (1 on a\n"
	"regression or a case that broke). Other options go to every vm run.\n",
	.opts = vm_opts,
	.more =
	"On a real node with test_hmm or a GPU driver providing the devices,\n"
	"use 'cdmbench run' directly; see the README for the modprobe line.\n",
};

/* vm exec stops at the first argument: the rest is the guest's */
static const struct cli_spec vm_exec_spec = {
	.cmd = "vm", .opts = vm_opts, .in_order = true,
};

static int parse_vm_args(int argc, char **argv, struct vm_cli *v,
			 bool in_order)
{
	int r = cli_parse(in_order ? &vm_exec_spec : &cli_vm_spec, argc, argv,
			  v);

	if (r)
		return r;
	v->a.accel = v->accel;
	v->a.seed_set = v->seed.set;
	v->a.seed = v->seed.v;
	v->a.sets = v->sets.v;
	v->a.nsets = v->sets.n;
	return 0;
}

/* vm run JOBFILE */
static int vm_sub_run(int argc, char **argv, struct vm_args *a)
{
	if (optind != argc - 1)
		return cdm_err("vm run: expected exactly one JOBFILE");
	a->job_path = argv[optind];
	return 0;
}

/* vm exec [OPTIONS] -- CDMBENCH-ARGS... */
static int vm_sub_exec(int argc, char **argv, struct vm_args *a)
{
	a->exec_argv = argv + optind;
	a->exec_argc = argc - optind;
	if (!a->exec_argc)
		return cdm_err("vm exec: which cdmbench command? e.g. 'cdmbench vm exec -- probe'");
	return 0;
}

static const struct {
	const char *name;
	bool in_order;	/* options end at the first argument */
	/* the arguments after the options (from optind): 0, or -1 on bad
	 * input */
	int (*args)(int argc, char **argv, struct vm_args *a);
} vm_subs[] = {
	{ "run", false, vm_sub_run },
	{ "exec", true, vm_sub_exec },
};

int cmd_vm(int argc, char **argv)
{
	struct vm_cli v = { 0 };
	char *argv_s;
	size_t i;
	int rc;

	if (argc >= 2 && !strcmp(argv[1], "ab"))
		return cmd_vm_ab(argc - 1, argv + 1);
	for (i = 0; argc >= 2 && i < ARRAY_SIZE(vm_subs); i++)
		if (!strcmp(argv[1], vm_subs[i].name))
			break;
	if (argc < 2 || i == ARRAY_SIZE(vm_subs)) {
		if (argc >= 2 && !strcmp(argv[1], "--help"))
			return cli_help("vm");
		cdm_err("vm: expected 'vm run JOBFILE', 'vm ab --base K --cand K JOBFILE' or 'vm exec -- ARGS'");
		return CDM_EXIT_USAGE;
	}
	if (argc >= 3 && !strcmp(argv[2], "--help"))
		return cli_help("vm");
	vm_args_init(&v.a, cli_default_db());
	v.accel = v.a.accel;
	rc = parse_vm_args(argc - 1, argv + 1, &v, vm_subs[i].in_order);
	if (!rc)
		rc = vm_subs[i].args(argc - 1, argv + 1, &v.a);
	if (!rc) {
		argv_s = cli_join_argv(argc + 1, argv - 1);
		rc = vm_main(&v.a, argv_s);
		free(argv_s);
	} else {
		rc = cli_parse_exit(rc);
	}
	v.a.sets = NULL;
	cli_list_free(&v.sets);
	vm_args_free(&v.a);
	return rc;
}
