// SPDX-License-Identifier: GPL-2.0
/*
 * cdmbench cluster run: the suite on every node of a Slurm allocation.
 *
 * Slurm launches, we do not: srun starts one `cdmbench cluster task` per
 * node (--ntasks-per-node=1), and the task runs `cdmbench run` into a
 * database of that node's own, OUT/nodes/NODE.db. Why a file per node and
 * not a stream back through srun: each file has exactly one writer, so no
 * SQLite locking crosses nodes (unreliable on network file systems); a
 * node that dies keeps every case it committed (one transaction per
 * case); nothing funnels 10,000 nodes' samples through srun's stdio or
 * the launcher, and a launcher that dies loses nothing. The merge at the
 * end reads the files (cdmbench merge), and can be rerun at any time.
 *
 * The task owns the node's deadline (--timeout): it sends the run SIGTERM,
 * which finishes the case boundary and marks the run interrupted, then
 * writes why into the run's reason. A run killed outright (the node's
 * process died) is found 'running' with its process gone and marked the
 * same way when the task or the merge next opens the file.
 */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "fleet/cluster.h"
#include "fleet/merge.h"
#include "store/db.h"

static volatile sig_atomic_t child_pid;
static volatile sig_atomic_t got_signal;

static void forward(int sig)
{
	got_signal = sig;
	if (child_pid > 0)
		kill(child_pid, sig);
}

static char *self_exe(void)
{
	char buf[4096];
	ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

	if (n <= 0)
		return xstrdup("cdmbench");
	buf[n] = 0;
	return xstrdup(buf);
}

static int mkdir_p(const char *path)
{
	char *p = xstrdup(path), *s;
	int r = 0;

	for (s = p + 1; ; s++) {
		if (*s == '/' || !*s) {
			char c = *s;

			*s = 0;
			if (mkdir(p, 0777) && errno != EEXIST)
				r = cdm_errno(errno, "cluster: cannot create %s", p);
			*s = c;
			if (r || !c)
				break;
		}
	}
	free(p);
	return r;
}

static void push_arg(char ***v, int *n, const char *a)
{
	*v = xrealloc(*v, (*n + 2) * sizeof(char *));
	(*v)[(*n)++] = (char *)a;
	(*v)[*n] = NULL;
}

static pid_t spawn(char **argv)
{
	pid_t pid = fork();

	if (pid == 0) {
		signal(SIGTERM, SIG_DFL);
		signal(SIGINT, SIG_DFL);
		execvp(argv[0], argv);
		fprintf(stderr, "cdmbench: cluster: cannot run %s: %s\n",
			argv[0], strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		cdm_errno(errno, "cluster: fork");
	return pid;
}

/*
 * Wait for the child; past the deadline send SIGTERM, and SIGKILL 10 s
 * later. Returns the wait status; *timed_out says whether we killed it.
 */
static int wait_deadline(pid_t pid, uint64_t timeout_ns, bool *timed_out)
{
	uint64_t start = cdm_now_ns(), term_at = 0;
	int status = 0;

	*timed_out = false;
	for (;;) {
		pid_t r = waitpid(pid, &status, timeout_ns ? WNOHANG : 0);
		uint64_t now;

		if (r == pid)
			return status;
		if (r < 0 && errno != EINTR)
			return -1;
		if (!timeout_ns)
			continue;
		now = cdm_now_ns();
		if (!*timed_out && now - start >= timeout_ns) {
			*timed_out = true;
			term_at = now;
			kill(pid, SIGTERM);
		} else if (*timed_out && now - term_at > 10000000000ull) {
			kill(pid, SIGKILL);
		}
		usleep(20000);
	}
}

/* the newest run of this file gets the reason the node stopped */
static int annotate(const char *db_path, const char *node, const char *why)
{
	struct cdm_db d;
	sqlite3_stmt *st;
	int r;

	/* opening marks a run whose process died (killed) interrupted; the
	 * reason is a write, so not a read-only open */
	if (db_open(&d, db_path, DB_UPDATE))
		return -1;
	st = db_prepare(&d, "UPDATE runs SET status = CASE status WHEN 'completed' THEN status ELSE 'interrupted' END, status_reason = ?1 || CASE status_reason WHEN '' THEN '' ELSE '; ' || status_reason END WHERE id = (SELECT max(id) FROM runs) AND status <> 'completed'");
	if (!st) {
		db_close(&d);
		return -1;
	}
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	r = db_step(&d, st);
	sqlite3_finalize(st);
	db_close(&d);
	(void)node;
	return r < 0 ? -1 : 0;
}

int fleet_cluster_task(const struct cluster_opts *o)
{
	const char *node = getenv("SLURMD_NODENAME");
	char *exe = self_exe(), *db, *why = NULL, **argv = NULL;
	struct sigaction sa = { .sa_handler = forward };
	bool timed_out;
	int i, n = 0, status, rc;
	pid_t pid;

	if (!node || !*node) {
		free(exe);
		return cdm_err("cluster task: SLURMD_NODENAME is not set: run under srun (cdmbench cluster run)");
	}
	if (mkdir_p(o->out)) {
		free(exe);
		return -1;
	}
	db = xasprintf("%s/%s.db", o->out, node);
	push_arg(&argv, &n, exe);
	push_arg(&argv, &n, "run");
	push_arg(&argv, &n, "-q");
	push_arg(&argv, &n, "--db");
	push_arg(&argv, &n, db);
	for (i = 0; i < o->nsets; i++) {
		push_arg(&argv, &n, "--set");
		push_arg(&argv, &n, o->sets[i]);
	}
	push_arg(&argv, &n, o->job);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	pid = spawn(argv);
	if (pid < 0) {
		rc = 2;
		goto out;
	}
	child_pid = pid;
	status = wait_deadline(pid, o->timeout_ns, &timed_out);
	child_pid = 0;
	if (timed_out) {
		char t[32];

		fmt_hms(t, sizeof(t), o->timeout_ns / 1e9);
		why = xasprintf("node %s: cluster --timeout %s expired mid-run; finished cases kept",
				node, t);
	} else if (got_signal) {
		why = xasprintf("node %s: the Slurm step was cancelled (signal %d); finished cases kept",
				node, got_signal);
	} else if (WIFSIGNALED(status)) {
		why = xasprintf("node %s: cdmbench run died of signal %d mid-run; finished cases kept",
				node, WTERMSIG(status));
	}
	if (why)
		annotate(db, node, why);
	/* as 'cdmbench run': 0 all passed, 1 anything failed, 2 bad input */
	rc = WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (why || (rc != 0 && rc != 2))
		rc = 1;
	if (!o->quiet || rc)
		fprintf(stderr, "cdmbench: cluster: %s: %s (exit %d)\n", node,
			why ? why : "finished", rc);
out:
	free(why);
	free(argv);
	free(db);
	free(exe);
	return rc;
}

/* srun's command line; the strings it owns are kept in own[] */
static void task_command(const struct cluster_opts *o, const char *nodes_dir,
			 char ***argv, int *n, char *own[2])
{
	int i;

	own[0] = self_exe();
	own[1] = xasprintf("%llums",
			   (unsigned long long)(o->timeout_ns / 1000000));
	push_arg(argv, n, o->srun ? o->srun : "srun");
	push_arg(argv, n, "--ntasks-per-node=1");
	push_arg(argv, n, "--kill-on-bad-exit=0");
	push_arg(argv, n, "--job-name=cdmbench");
	for (i = 0; i < o->nsrun_args; i++)
		push_arg(argv, n, o->srun_args[i]);
	push_arg(argv, n, own[0]);
	push_arg(argv, n, "cluster");
	push_arg(argv, n, "task");
	push_arg(argv, n, "--out");
	push_arg(argv, n, nodes_dir);
	if (o->quiet)
		push_arg(argv, n, "-q");
	if (o->timeout_ns) {
		push_arg(argv, n, "--timeout");
		push_arg(argv, n, own[1]);
	}
	for (i = 0; i < o->nsets; i++) {
		push_arg(argv, n, "--set");
		push_arg(argv, n, o->sets[i]);
	}
	push_arg(argv, n, o->job);
}

/* the node databases, sorted: the merge order (and ids) stay stable */
static int list_dbs(const char *dir, char ***out, int *n)
{
	struct dirent **ents;
	int k, m = scandir(dir, &ents, NULL, alphasort);

	*out = NULL;
	*n = 0;
	if (m < 0)
		return cdm_errno(errno, "cluster: %s", dir);
	for (k = 0; k < m; k++) {
		size_t l = strlen(ents[k]->d_name);

		if (l > 3 && !strcmp(ents[k]->d_name + l - 3, ".db")) {
			*out = xrealloc(*out, (*n + 1) * sizeof(char *));
			(*out)[(*n)++] = xasprintf("%s/%s", dir,
						   ents[k]->d_name);
		}
		free(ents[k]);
	}
	free(ents);
	return 0;
}

int fleet_cluster_run(const struct cluster_opts *o)
{
	char *nodes_dir, *own[2], **argv = NULL, **dbs = NULL;
	int n = 0, ndb = 0, status, rc, i;
	struct merge_stats ms;
	bool timed_out;
	pid_t pid;

	if (access(o->job, R_OK))
		return cdm_errno(errno, "cluster run: %s", o->job), 2;
	nodes_dir = xasprintf("%s/nodes", o->out);
	if (mkdir_p(nodes_dir)) {
		free(nodes_dir);
		return 2;
	}
	task_command(o, nodes_dir, &argv, &n, own);
	if (!o->quiet) {
		fprintf(stderr, "cdmbench: cluster: ");
		for (i = 0; i < n; i++)
			fprintf(stderr, "%s%s", i ? " " : "", argv[i]);
		fputc('\n', stderr);
	}
	pid = spawn(argv);
	status = pid < 0 ? -1 : wait_deadline(pid, 0, &timed_out);
	rc = status < 0 ? 2 : WIFEXITED(status) ? WEXITSTATUS(status) : 1;
	if (rc)
		cdm_warn("cluster run: srun exited with status %d (a node failed, or srun itself; its message is above)",
			 rc);
	/* the nodes' results decide; srun's status only says one failed */
	rc = rc ? 1 : 0;
	if (list_dbs(nodes_dir, &dbs, &ndb) || !ndb) {
		if (!ndb)
			cdm_err("cluster run: no node wrote a database into %s",
				nodes_dir);
		rc = 2;
		goto out;
	}
	if (fleet_merge_file(o->merged, dbs, ndb, false, &ms))
		rc = 2;
	printf("cluster: %d node database%s in %s merged into %s: %ld runs, %lld samples, %ld unfinished\n",
	       ndb, ndb == 1 ? "" : "s", nodes_dir, o->merged,
	       ms.runs_added + ms.runs_replaced, ms.samples,
	       ms.runs_unfinished);
out:
	for (i = 0; i < ndb; i++)
		free(dbs[i]);
	free(dbs);
	free(argv);
	free(own[0]);
	free(own[1]);
	free(nodes_dir);
	return rc;
}
