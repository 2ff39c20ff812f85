/* SPDX-License-Identifier: GPL-2.0 */
/* The command table and what every subcommand shares. */
#ifndef CDM_CLI_H
#define CDM_CLI_H

#include "cli/opts.h"
#include "util/util.h"

struct cdm_cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	const struct cli_spec *spec;	/* its options and --help */
};

extern const struct cdm_cmd cdm_cmds[];
/* each command's options and help, beside its code */
extern const struct cli_spec cli_run_spec, cli_list_spec, cli_probe_spec,
	cli_runs_spec, cli_show_spec, cli_export_spec, cli_compare_spec,
	cli_history_spec, cli_report_spec, cli_db_spec, cli_vm_spec,
	cli_cluster_spec, cli_merge_spec, cli_nodes_spec, cli_push_spec;

int cli_help(const char *cmd);
int cli_usage_error(const char *cmd);
/* --db default: $CDMBENCH_DB or results/cdmbench.db */
const char *cli_default_db(void);
char *cli_join_argv(int argc, char **argv);

int cdm_main(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_vm(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_cluster(int argc, char **argv);
int cmd_nodes(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_vm_ab(int argc, char **argv);	/* vm ab: interleaved A/B */

#endif
