// SPDX-License-Identifier: GPL-2.0
/*
 * `cdmbench vm SUBCOMMAND`: the emulated device-memory node (vm/). Each
 * subcommand is a row of vm_subs[]; a new one is a function and a row.
 */
#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/opt.h"
#include "vm/vm.h"

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

/* vm run JOBFILE */
static int vm_sub_run(int argc, char **argv, struct vm_args *a)
{
	if (parse_vm_args(argc, argv, a, false))
		return -1;
	if (optind != argc - 1)
		return cdm_err("vm run: expected exactly one JOBFILE");
	a->job_path = argv[optind];
	return 0;
}

/* vm exec [OPTIONS] -- CDMBENCH-ARGS... */
static int vm_sub_exec(int argc, char **argv, struct vm_args *a)
{
	if (parse_vm_args(argc, argv, a, true))
		return -1;
	a->exec_argv = argv + optind;
	a->exec_argc = argc - optind;
	if (!a->exec_argc)
		return cdm_err("vm exec: which cdmbench command? e.g. 'cdmbench vm exec -- probe'");
	return 0;
}

static const struct {
	const char *name;
	/* parse argv (argv[0] is the subcommand) into a; -1 on bad input */
	int (*parse)(int argc, char **argv, struct vm_args *a);
} vm_subs[] = {
	{ "run", vm_sub_run },
	{ "exec", vm_sub_exec },
};

int cmd_vm(int argc, char **argv)
{
	struct vm_args a;
	char *argv_s;
	size_t i;
	int rc = CDM_EXIT_USAGE;

	for (i = 0; argc >= 2 && i < ARRAY_SIZE(vm_subs); i++)
		if (!strcmp(argv[1], vm_subs[i].name))
			break;
	if (argc < 2 || i == ARRAY_SIZE(vm_subs)) {
		if (argc >= 2 && !strcmp(argv[1], "--help"))
			return cli_help("vm");
		cdm_err("vm: expected 'vm run JOBFILE' or 'vm exec -- ARGS'");
		return CDM_EXIT_USAGE;
	}
	if (argc >= 3 && !strcmp(argv[2], "--help"))
		return cli_help("vm");
	vm_args_init(&a, cli_default_db());
	if (!vm_subs[i].parse(argc - 1, argv + 1, &a)) {
		argv_s = cli_join_argv(argc + 1, argv - 1);
		rc = vm_main(&a, argv_s);
		free(argv_s);
	}
	vm_args_free(&a);
	return rc;
}
