/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Command-line options, one table per command, as workloads declare theirs
 * (core/opt.h): the table drives getopt_long, the checks and messages on
 * bad input, and the command's --help. The options several commands share
 * (--db, -o/--output-format, --tag, --seed, --set, -q, -j/--json) are
 * declared once, below, so they parse and read the same everywhere.
 */
#ifndef CDM_CLI_OPTS_H
#define CDM_CLI_OPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/result.h"

enum cli_kind {
	CLI_FLAG,	/* bool: true when given */
	CLI_STR,	/* const char *: the argument */
	CLI_CHOICE,	/* const char *: one of .choices, "text|json" */
	CLI_NUM,	/* double in [min, max]; a trailing % is allowed */
	CLI_COUNT,	/* long, a whole number from 1 to 1e9 */
	CLI_INT,	/* int64_t */
	CLI_SIZE,	/* uint64_t bytes: 4G, 3584M */
	CLI_DURATION,	/* uint64_t nanoseconds, not 0: 30m, 90s */
	CLI_LIST,	/* struct cli_list: every argument, in order */
	CLI_TAG,	/* struct cdm_kvlist: KEY=VALUE, repeatable */
	CLI_SEED,	/* struct cli_seed */
	CLI_QUIET,	/* cdm_quiet; no field */
	CLI_CALL,	/* .call(args, arg, cmd): the command's own check */
};

struct cli_list {
	char **v;
	int n;
};

struct cli_seed {
	bool set;
	uint64_t v;
};

struct cli_opt {
	const char *name;	/* long name, without the dashes */
	int key;		/* short option letter, or 0 */
	enum cli_kind kind;
	size_t off;		/* offsetof() the field in the command's args */
	const char *arg;	/* placeholder in --help; NULL for flags */
	const char *help;	/* '\n' starts another line of help */
	const char *choices;	/* CLI_CHOICE */
	double min, max;	/* CLI_NUM */
	int (*call)(void *args, const char *arg, const char *cmd);
};

#define CLI_OPT_END { .name = NULL }

/* the shared options; T is the command's args struct, f its field */
#define CLI_OPT_DB(T, f) \
	{ .name = "db", .kind = CLI_STR, .off = offsetof(T, f), \
	  .arg = "PATH", \
	  .help = "database (default $CDMBENCH_DB or\nresults/cdmbench.db)" }
#define CLI_OPT_FORMAT(T, f) \
	{ .name = "output-format", .key = 'o', .kind = CLI_CHOICE, \
	  .off = offsetof(T, f), .arg = "F", \
	  .help = "text (default) or json", \
	  .choices = "text|json" }
#define CLI_OPT_TAG(T, f) \
	{ .name = "tag", .key = 't', .kind = CLI_TAG, .off = offsetof(T, f), \
	  .arg = "KEY=VALUE", \
	  .help = "label the run (repeatable), e.g. node=n01" }
#define CLI_OPT_SEED(T, f) \
	{ .name = "seed", .kind = CLI_SEED, .off = offsetof(T, f), \
	  .arg = "N", \
	  .help = "seed for data patterns and random mixes\n(default: [global] seed, else random)" }
#define CLI_OPT_SET(T, f) \
	{ .name = "set", .key = 's', .kind = CLI_LIST, .off = offsetof(T, f), \
	  .arg = "KEY=VALUE", \
	  .help = "set an option; repeatable; a comma list\n(size=4K,2M) runs every value. With a job\nfile it overrides every case that has KEY" }
#define CLI_OPT_QUIET \
	{ .name = "quiet", .key = 'q', .kind = CLI_QUIET, \
	  .help = "no progress, no notices" }
/* -q for a command that quiets only its own output (help says what) */
#define CLI_OPT_QUIET_FLAG(T, f, h) \
	{ .name = "quiet", .key = 'q', .kind = CLI_FLAG, \
	  .off = offsetof(T, f), .help = h }
/* -j/--json where the command has no --output-format (help says what) */
#define CLI_OPT_JSON(T, f, h) \
	{ .name = "json", .key = 'j', .kind = CLI_FLAG, \
	  .off = offsetof(T, f), .help = h }

/* what --help prints: usage, about, the table, more */
struct cli_spec {
	const char *cmd;	/* the command it belongs to: "run" */
	const char *usage;	/* "usage: cdmbench run [OPTIONS] JOBFILE\n" */
	const char *about;	/* what the command does, or NULL */
	const struct cli_opt *opts;
	const char *more;	/* exit statuses, examples..., or NULL */
	bool in_order;		/* stop at the first argument (vm exec) */
};

enum {
	CLI_PARSED = 0,
	CLI_HELPED = 1,		/* --help was printed: exit 0 */
};

/*
 * Parse argv[1..] (argv[0] is the command) into args by spec->opts;
 * optind is left at the first argument. CLI_PARSED, CLI_HELPED, or -1
 * with one line on stderr naming the option.
 */
int cli_parse(const struct cli_spec *spec, int argc, char **argv, void *args);
/* the exit status for cli_parse's answer: 0 after help, 2 on bad input */
int cli_parse_exit(int r);
void cli_print_help(FILE *f, const struct cli_spec *spec);
void cli_list_free(struct cli_list *l);

#endif
